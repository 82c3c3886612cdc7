-- The clean text when ingestion already had to compute it from the raw input (the main text of a
-- web page: ingestion checks that a page has one). Processing takes it instead of running the
-- extraction a second time, and clears it (clean_text then holds the text); it is the same function
-- of `raw`, so reprocessing from raw gives the same text.
ALTER TABLE articles ADD COLUMN ingest_text text;
