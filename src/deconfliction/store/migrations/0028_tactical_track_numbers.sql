-- The elected cycle reads the changed rows' numbers apart from their text (docs/tactical.md, The
-- incremental picture): each track row gets a number of its own, given by the batch that first writes it
-- (its change number times 2^24 plus its place in the batch: unique without a sequence, portable) and
-- kept by every later report; and the change number of the last change of its text columns (callsign,
-- source, affiliation, reporter, which nearly never change), so that the text is read only for new or
-- changed tracks. The rows already stored are numbered by this migration's data step
-- (store/sql/backfills.py); the epoch advances, so that a cycle reads its picture whole again.
ALTER TABLE tactical_tracks ADD COLUMN track_no BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tactical_tracks ADD COLUMN meta_seq BIGINT NOT NULL DEFAULT 0;
UPDATE tactical_changes SET epoch = epoch + 1;
