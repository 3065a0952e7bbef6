-- Version 7: work in progress on this device (a patrol half answered, a hazard or an activity
-- being written), saved at every answer so that an app killed or a phone restarted loses
-- nothing. Not derived from the log and never synced: a draft becomes ops when submitted.
-- Activities gain publicity's channel (宣传"五进"), training's attendance and photos; no
-- activity had them before, so the defaults are what a fold would write.
-- Released: never edit; a change is a new version.
CREATE TABLE drafts (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('patrol', 'hazard', 'activity')),
    place_id TEXT,
    started_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX drafts_user ON drafts (user_id, updated_at);
ALTER TABLE activities ADD COLUMN channel TEXT;
ALTER TABLE activities ADD COLUMN attendees TEXT NOT NULL DEFAULT '[]';
ALTER TABLE activities ADD COLUMN photos TEXT NOT NULL DEFAULT '[]';
