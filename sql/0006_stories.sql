-- 0006_stories: near-duplicates across sources and stories (articles about the same event).
-- A story's id is the id of its first article, so it never changes as articles arrive.
ALTER TABLE articles ADD COLUMN signature bytea;              -- MinHash of the clean text (dedupe.near)
ALTER TABLE articles ADD COLUMN near_duplicate_of bigint REFERENCES articles (id);
ALTER TABLE articles ADD COLUMN story_id bigint;
CREATE INDEX articles_story ON articles (story_id) WHERE story_id IS NOT NULL;
-- Processed articles still waiting for the (single, ordered) story assignment.
CREATE INDEX articles_unassigned ON articles (first_seen_at, id) WHERE status = 'processed' AND story_id IS NULL;

CREATE TABLE stories (
    id            bigint PRIMARY KEY,
    title         text NOT NULL,
    first_seen    timestamptz NOT NULL,
    last_seen     timestamptz NOT NULL,
    article_count integer NOT NULL,
    source_count  integer NOT NULL
);
CREATE INDEX stories_last_seen ON stories (last_seen);

-- The digest counts and lists each story once and leaves syndicated copies out: the window index
-- carries both columns so those queries stay index-only.
DROP INDEX articles_processed_window;
CREATE INDEX articles_processed_window ON articles (first_seen_at)
    INCLUDE (id, near_duplicate_of, story_id) WHERE status = 'processed';
