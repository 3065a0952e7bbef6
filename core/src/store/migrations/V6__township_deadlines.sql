-- Version 6: a case the township holds in joint enforcement or referral runs to its 办结期限,
-- so it can be overdue as well; and a case closed with no deadline is no longer counted on time.
-- The overdue index covers the new statuses; the hazards are refolded (`refills_derived_state`)
-- so every stored case is judged by the rules of this version.
-- Released: never edit; a change is a new version.
DROP INDEX hazards_township_overdue;
CREATE INDEX hazards_township_overdue ON hazards (township_id, deadline)
    WHERE status IN ('notified', 'rectifying', 'joint_enforcement', 'referred');
-- A case's short number (编号), given by the server when the case first reaches it.
ALTER TABLE hazards ADD COLUMN case_number TEXT;
CREATE INDEX hazards_unnumbered ON hazards (reported_at) WHERE case_number IS NULL;
