-- Version 9: the epoch of the sync server as this device last knew it. Every server from before
-- epochs is in epoch 0, and so is every device that synced with one. A server restored from a
-- backup starts a new epoch; a device that finds it changed sends its own ops again and starts
-- again from a snapshot. Kept with the device, not the session: signing out and in again must
-- not make a device forget which epoch its acknowledged work was sent in.
-- Released: never edit; a change is a new version.
ALTER TABLE device ADD COLUMN server_epoch INTEGER NOT NULL DEFAULT 0;
