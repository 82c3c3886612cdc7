-- The e-mail's HTML (the digest with its chart's inline image referenced) is built and stored with
-- the digest, so the send step mails exactly what was built instead of building it again. NULL for
-- digests built before this column: the send step builds those first.
ALTER TABLE digests ADD COLUMN mail_html text;
