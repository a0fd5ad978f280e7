-- The chase of a notification (deconfliction.domain.notification): when the danger it is about starts,
-- so each escalation step's deadline is computed again from the time then left; which newer notification
-- took its chase over (state 'superseded'); and the index that finds a party's earlier notifications
-- about the same thing (one conflict version, one chase). Rows written before have no danger time: their
-- later steps get the default length, as before.
ALTER TABLE notifications ADD COLUMN starts_at BIGINT;
ALTER TABLE notifications ADD COLUMN superseded_by TEXT;
CREATE INDEX notifications_subject ON notifications (subject_id, party_id)
