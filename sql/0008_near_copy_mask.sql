-- 0008_near_copy_mask: for a syndicated copy, the MinHash positions where it differed from the copy it
-- matched (dedupe.near.NearDuplicateIndex.copy_mask, 16 bytes). Story assignment puts the window's
-- stored copies back into its index with it, instead of searching for their match again. Copies
-- assigned before this column existed have none and are searched for (same result, slower).
ALTER TABLE articles ADD COLUMN near_copy_mask bytea;
