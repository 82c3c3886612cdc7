-- 0007_display_html: the source's HTML made safe (allow-list sanitiser, see
-- monitor.extract.sanitize), for reading an article with its own formatting in the UI. Only feed
-- HTML has it; text and page articles are shown from clean_text. The raw input stays verbatim in
-- `raw` and is never shown.
ALTER TABLE articles ADD COLUMN display_html text;
