-- A digest of a day not yet over (in its time zone) is a preview: it may be mailed when asked for,
-- but it is never recorded as sent, so the full digest of that day still goes out once the day is
-- over. Rows built before this column were complete days (the send step rebuilds a preview anyway).
ALTER TABLE digests ADD COLUMN preview boolean NOT NULL DEFAULT false;
-- Why the send step last decided not to mail this digest (e.g. "no articles in the window"), so the
-- digests list can say it; cleared when the digest is mailed.
ALTER TABLE digests ADD COLUMN unsent_reason text;
