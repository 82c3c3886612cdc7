-- 0017_window_language: the digest counts the window's articles in languages the monitor does not
-- read (no taxonomy terms: stored and searchable, but no topics), so it needs each article's language.
-- Adding it to the window index keeps that count index-only, like the others (article rows are wide).
DROP INDEX articles_processed_window;
CREATE INDEX articles_processed_window ON articles (first_seen_at)
    INCLUDE (id, near_duplicate_of, story_id, language) WHERE status = 'processed';
