-- A cell index of the DSS's references and subscriptions, on the cells of the operations' index
-- (docs/index.md): a search reads the rows filed under the cells its box may meet, not every row of its
-- time range (which grew with everything the DSS holds). ``kind`` is 'intent', 'constraint' or
-- 'subscription'. Rows written before this migration are filed by its data step (store/sql/backfills.py).
CREATE TABLE dss_cells (
    kind TEXT NOT NULL,
    cell BIGINT NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (kind, cell, id)
);
CREATE INDEX dss_cells_id ON dss_cells (id, kind)
