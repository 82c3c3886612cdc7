-- 0005_daily_counts: articles per topic and per country for each complete local day, computed once.
-- The spike baseline reads 28 of these days instead of re-scanning four weeks of articles every time.
CREATE TABLE daily_counts (
    day      date NOT NULL,
    timezone text NOT NULL,
    kind     text NOT NULL CHECK (kind IN ('topic', 'country')),
    key      text NOT NULL,
    label    text NOT NULL,
    n        integer NOT NULL,
    PRIMARY KEY (day, timezone, kind, key)
);
-- A day whose counts are stored (also when it had no articles at all).
CREATE TABLE daily_counts_done (
    day         date NOT NULL,
    timezone    text NOT NULL,
    computed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (day, timezone)
);
