-- 0003_full_pages: whole web pages as raw input ('page': an inbox .html file, or the article page
-- fetched for a summary-only feed), and the feed's summary kept beside the fetched page.
ALTER TABLE articles DROP CONSTRAINT articles_raw_format_check;
ALTER TABLE articles ADD CONSTRAINT articles_raw_format_check
    CHECK (raw_format IN ('html', 'text', 'seed', 'page'));
ALTER TABLE articles ADD COLUMN summary text;
