-- Incidents reported by parties, for inquiries (deconfliction.domain.incident).
CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    reporter_id TEXT NOT NULL REFERENCES parties (id),
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX incidents_reporter ON incidents (reporter_id);
