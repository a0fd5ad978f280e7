-- The owner of each volume on its index rows, so that the candidate query leaves the asking party's own
-- volumes out before it joins them to their geometry (a party's operations never conflict with each
-- other; a drone service supplier or a convoy team filing many operations in one city had all of them
-- read, joined and dropped by every check of one more). Rows of an operation that no longer exists get
-- '' (they never join).
ALTER TABLE volume_cells ADD COLUMN owner_id TEXT NOT NULL DEFAULT '';
UPDATE volume_cells SET owner_id = COALESCE((SELECT o.owner_id FROM operations o WHERE o.id = volume_cells.op_id), '')
