-- The digest as the workbench page shows it (the same template as the mail, with the chart inlined
-- as a data: URL, article titles linking to the article pages and the navigation bar), stored when
-- the digest is built. NULL for rows built before this column: the page falls back to `html`.
ALTER TABLE digests ADD COLUMN page_html text;
