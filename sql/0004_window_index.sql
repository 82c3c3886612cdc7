-- 0004_window_index: the digest and trend queries select the processed articles of a time window
-- and join them to topics and entities. Article rows are wide (raw and clean text), so scanning the
-- table costs ~0.5 GB per 300k articles; this narrow index lets them read only ids (index-only scan).
CREATE INDEX articles_processed_window ON articles (first_seen_at) INCLUDE (id) WHERE status = 'processed';
