-- 0015_digest_sent_count: how many articles a digest had when it was mailed. A digest rebuilt after
-- it was sent (a rerun of the digest DAG, `monitor digest --date`) replaces its counts and keeps
-- sent_at, so the digests list showed the rebuilt count beside "sent" (21 when the mail had 15).
ALTER TABLE digests ADD COLUMN sent_article_count integer;
-- Digests sent before this migration: known only where nothing was rebuilt after the sending.
UPDATE digests SET sent_article_count = article_count WHERE sent_at IS NOT NULL AND built_at <= sent_at;

-- Whoever records the sending (store.digests.mark_sent today), the count mailed is kept with it.
CREATE FUNCTION digests_keep_sent_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.sent_article_count := NEW.article_count;
    RETURN NEW;
END
$$;
CREATE TRIGGER digests_keep_sent_count BEFORE UPDATE OF sent_at ON digests
    FOR EACH ROW WHEN (NEW.sent_at IS NOT NULL AND NEW.sent_at IS DISTINCT FROM OLD.sent_at)
    EXECUTE FUNCTION digests_keep_sent_count();
