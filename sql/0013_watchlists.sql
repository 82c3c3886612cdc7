-- Watch-lists: an analyst's saved search (words, as typed in the search box) and/or entity ids;
-- processed articles that match raise an alert, mailed at most once per watch-list per interval.
CREATE TABLE watchlists (
    id               bigserial PRIMARY KEY,
    name             text NOT NULL UNIQUE,
    query            text NOT NULL DEFAULT '',        -- search-box text ('' = entities only)
    entity_ids       text[] NOT NULL DEFAULT '{}',    -- any of these in an article matches
    recipients       text[] NOT NULL DEFAULT '{}',    -- '{}' = the alert recipients of the settings
    interval_minutes integer NOT NULL DEFAULT 60 CHECK (interval_minutes > 0),
    created_by       text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- Articles processed from starts_at on are watched. checked_until: the last check's end. Each
    -- check looks back a margin before it (a batch's processed_at is its transaction's start, and
    -- it may commit after a check ran); watch_hits' key makes a second look harmless. processed_at,
    -- not the id: ids follow ingestion, and a batch may process a younger article before an older.
    starts_at        timestamptz NOT NULL DEFAULT now(),
    checked_until    timestamptz NOT NULL DEFAULT now(),
    last_mailed_at   timestamptz,
    CHECK (query <> '' OR cardinality(entity_ids) > 0)
);

CREATE TABLE watch_hits (
    watchlist_id bigint NOT NULL REFERENCES watchlists (id) ON DELETE CASCADE,
    article_id   bigint NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    matched_at   timestamptz NOT NULL DEFAULT now(),
    mailed_at    timestamptz,                         -- NULL: not in an alert mail yet
    PRIMARY KEY (watchlist_id, article_id)             -- a reprocessed article is not a second hit
);
CREATE INDEX watch_hits_unmailed ON watch_hits (watchlist_id) WHERE mailed_at IS NULL;
CREATE INDEX articles_processed_at ON articles (processed_at) WHERE status = 'processed';
