-- Requests between parties (deconfliction.domain.request): to enter a zone, cross a line, pass a site.
CREATE TABLE requests (
    id TEXT PRIMARY KEY,
    requester_id TEXT NOT NULL REFERENCES parties (id),
    owner_id TEXT NOT NULL REFERENCES parties (id),
    state TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX requests_requester ON requests (requester_id, id);
CREATE INDEX requests_owner ON requests (owner_id, id);
