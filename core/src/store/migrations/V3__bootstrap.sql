-- Version 3: bootstrap (where an unfinished snapshot resumes).
-- Released: never edit; a change is a new version.
ALTER TABLE device ADD COLUMN snapshot_cursor TEXT;
