-- Version 4: photo captures, photo references and the photo upload queue. `photo_refs` is
-- derived from the log: the step is flagged so the store fills it after migrating; nothing was
-- queued before.
-- Released: never edit; a change is a new version.
-- Photo captures: which file (by hash) was taken when, where, by whom, for which place and
-- hazard and as what (before, after, notice, document). Derived from the log, written once.
CREATE TABLE photos (
    id TEXT PRIMARY KEY,
    hash TEXT NOT NULL,
    place_id TEXT NOT NULL,
    hazard_id TEXT,
    role TEXT NOT NULL,
    taken_at INTEGER NOT NULL,
    lat REAL,
    lon REAL,
    accuracy_m REAL,
    mock INTEGER NOT NULL,
    user_id TEXT NOT NULL
);
CREATE INDEX photos_hazard ON photos (hazard_id) WHERE hazard_id IS NOT NULL;
CREATE TABLE photo_refs (
    hash TEXT NOT NULL,
    op_id TEXT NOT NULL,
    PRIMARY KEY (hash, op_id)
) WITHOUT ROWID;
CREATE TABLE photo_uploads (
    hash TEXT NOT NULL,
    variant TEXT NOT NULL DEFAULT 'original',
    sent INTEGER NOT NULL DEFAULT 0,
    size INTEGER,
    done INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    PRIMARY KEY (hash, variant)
);
