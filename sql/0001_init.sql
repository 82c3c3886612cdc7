-- 0001_init: the article base.
-- Forward-only: once applied anywhere, this file never changes; later changes go in 0002_… files.
-- `monitor db migrate` records each applied file with a checksum in schema_migrations.

-- Where news comes from: RSS/Atom feeds (polled) and the inbox folder (one row, kind = 'inbox').
CREATE TABLE sources (
    id               bigserial PRIMARY KEY,
    kind             text NOT NULL CHECK (kind IN ('feed', 'inbox')),
    url              text NOT NULL UNIQUE,
    name             text NOT NULL,
    interval_minutes integer NOT NULL DEFAULT 30 CHECK (interval_minutes > 0),
    full_text        boolean NOT NULL DEFAULT false,
    enabled          boolean NOT NULL DEFAULT true,
    -- Validators of the last good response, sent back as If-None-Match / If-Modified-Since.
    etag             text,
    last_modified    text,
    last_fetched_at  timestamptz,
    last_success_at  timestamptz,
    last_status      integer,
    -- Consecutive failures; drives the exponential backoff of next_fetch_at. Reset by a success.
    error_count      integer NOT NULL DEFAULT 0,
    last_error       text,
    next_fetch_at    timestamptz NOT NULL DEFAULT now(),
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sources_due ON sources (next_fetch_at) WHERE enabled AND kind = 'feed';

-- One row per fetch attempt, so an operator can see why a feed is quiet.
CREATE TABLE fetch_log (
    id              bigserial PRIMARY KEY,
    source_id       bigint NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    fetched_at      timestamptz NOT NULL DEFAULT now(),
    outcome         text NOT NULL CHECK (outcome IN ('ok', 'not_modified', 'partial', 'error')),
    http_status     integer,
    items_seen      integer NOT NULL DEFAULT 0,
    items_new       integer NOT NULL DEFAULT 0,
    items_duplicate integer NOT NULL DEFAULT 0,
    bytes           integer,
    duration_ms     integer,
    error           text
);
CREATE INDEX fetch_log_source ON fetch_log (source_id, fetched_at DESC);

CREATE TABLE articles (
    id                bigserial PRIMARY KEY,
    source_id         bigint REFERENCES sources (id) ON DELETE SET NULL,
    origin            text NOT NULL CHECK (origin IN ('feed', 'inbox', 'page')),
    origin_ref        text NOT NULL,          -- feed URL or inbox file name (with line for .jsonl)
    guid              text,
    url               text,
    canonical_url     text,                   -- URL without tracking parameters, for dedupe
    title             text NOT NULL,
    raw               text NOT NULL,          -- verbatim as it arrived: nothing is lost if processing fails
    raw_format        text NOT NULL CHECK (raw_format IN ('html', 'text', 'seed')),
    source_name       text,
    author            text,
    declared_language text,
    published_at      timestamptz,
    -- The digest window is on first_seen_at: every article lands in exactly one daily digest,
    -- even when its publication date is late, missing or wrong.
    first_seen_at     timestamptz NOT NULL DEFAULT now(),
    raw_hash          text NOT NULL,
    status            text NOT NULL DEFAULT 'new'
                      CHECK (status IN ('new', 'processed', 'duplicate', 'failed')),
    duplicate_of      bigint REFERENCES articles (id),
    clean_text        text,
    language          text,
    content_hash      text,
    taxonomy_version  text,
    processed_at      timestamptz,
    error             text,
    search            tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', coalesce(title, '')), 'A')
        || setweight(to_tsvector('simple', coalesce(clean_text, '')), 'B')
    ) STORED
);
-- Exact duplicates at ingest: these unique indexes are what `ON CONFLICT DO NOTHING` relies on, so a
-- re-delivered item never becomes a second article (it becomes a sighting of the first).
CREATE UNIQUE INDEX articles_canonical_url ON articles (canonical_url) WHERE canonical_url IS NOT NULL;
CREATE UNIQUE INDEX articles_source_guid ON articles (source_id, guid) WHERE guid IS NOT NULL;
CREATE UNIQUE INDEX articles_raw_hash ON articles (raw_hash);
-- Duplicates found after cleaning (same text under another URL): one processed copy per content hash.
CREATE UNIQUE INDEX articles_processed_content ON articles (content_hash) WHERE status = 'processed';
CREATE INDEX articles_pending ON articles (id) WHERE status = 'new';
CREATE INDEX articles_first_seen ON articles (first_seen_at);
CREATE INDEX articles_duplicate_of ON articles (duplicate_of) WHERE duplicate_of IS NOT NULL;
CREATE INDEX articles_search ON articles USING gin (search);

-- Every arrival of an article, including re-deliveries and syndicated copies found at ingest.
CREATE TABLE article_sightings (
    article_id  bigint NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    source_id   bigint REFERENCES sources (id) ON DELETE SET NULL,
    origin_ref  text NOT NULL,
    matched_on  text NOT NULL CHECK (matched_on IN ('first', 'url', 'guid', 'raw_hash')),
    seen_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (article_id, origin_ref)
);

CREATE TABLE article_topics (
    article_id       bigint NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    topic_id         text NOT NULL,
    label            text NOT NULL,
    score            double precision NOT NULL,
    evidence         jsonb NOT NULL,          -- [{term, count, weight}]: why the tag applies
    taxonomy_version text NOT NULL,
    PRIMARY KEY (article_id, topic_id)
);
CREATE INDEX article_topics_topic ON article_topics (topic_id);

CREATE TABLE entities (
    id      text PRIMARY KEY,                 -- "KZ", "geonames:1526273", "org:osce", "person:…"
    type    text NOT NULL CHECK (type IN ('country', 'place', 'organisation', 'person')),
    name    text NOT NULL,
    country text
);

CREATE TABLE article_entities (
    article_id bigint NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    entity_id  text NOT NULL REFERENCES entities (id),
    count      integer NOT NULL,
    mentions   jsonb NOT NULL,                -- surface forms as written
    title      text,                          -- a person's title or role in this article
    PRIMARY KEY (article_id, entity_id)
);
CREATE INDEX article_entities_entity ON article_entities (entity_id);

CREATE TABLE digests (
    digest_date   date NOT NULL,
    timezone      text NOT NULL,
    window_start  timestamptz NOT NULL,
    window_end    timestamptz NOT NULL,
    article_count integer NOT NULL,
    subject       text NOT NULL,
    html          text NOT NULL,
    text          text NOT NULL,
    built_at      timestamptz NOT NULL DEFAULT now(),
    -- Set once the e-mail went out; a retried send checks it first, so a date is mailed once.
    sent_at       timestamptz,
    sent_to       text,
    PRIMARY KEY (digest_date, timezone)
);

-- Inputs that could not be used (or were used with a warning), with the reason. Never silent.
CREATE TABLE rejects (
    id         bigserial PRIMARY KEY,
    origin     text NOT NULL,                 -- 'inbox', 'feed', 'process'
    ref        text NOT NULL,                 -- file name, file:line, feed URL, article id
    severity   text NOT NULL CHECK (severity IN ('rejected', 'warning')),
    reason     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (origin, ref, reason)
);
