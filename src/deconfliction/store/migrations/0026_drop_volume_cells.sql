-- The index rows now live in volume_slots (migration 25, which filed every row of this table there).
DROP TABLE volume_cells
