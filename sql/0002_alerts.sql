-- 0002_alerts: spikes of a topic or a country against its trailing baseline (what EMM calls breaking
-- news). One row per (day, time zone, kind, key); `sent_at` records an immediate alert e-mail.
CREATE TABLE alerts (
    id          bigserial PRIMARY KEY,
    alert_date  date NOT NULL,
    timezone    text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('topic', 'country')),
    key         text NOT NULL,                -- topic id or ISO country code
    label       text NOT NULL,
    count       integer NOT NULL,             -- articles that day
    baseline    double precision NOT NULL,    -- mean articles per day over the trailing window
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz,
    UNIQUE (alert_date, timezone, kind, key)
);
