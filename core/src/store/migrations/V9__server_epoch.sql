-- Version 9: the epoch of the sync server as this device last learnt it (NULL until told). A
-- server restored from a backup starts a new one; a device that finds it changed sends its own
-- ops again and starts again from a snapshot.
-- Released: never edit; a change is a new version.
ALTER TABLE sync_session ADD COLUMN server_epoch INTEGER;
