-- Version 8: the registers beside patrols and hazards. Fires (火灾情况) and signed letters
-- (责任书、承诺书、防火公约), each written once from its op; a training's grid workers by
-- account, with their assessment (考核), as JSON. No op of these kinds existed before, so the
-- tables start empty and the defaults are what a fold would write.
-- Released: never edit; a change is a new version.
CREATE TABLE fires (
    id TEXT PRIMARY KEY,
    grid_id TEXT NOT NULL,
    place_id TEXT,
    address TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    occurred_on INTEGER NOT NULL,
    cause TEXT NOT NULL,
    deaths INTEGER NOT NULL,
    injuries INTEGER NOT NULL,
    loss_yuan INTEGER NOT NULL,
    brigade_attended INTEGER NOT NULL,
    note TEXT NOT NULL,
    photos TEXT NOT NULL,
    user_id TEXT NOT NULL
);
CREATE INDEX fires_grid ON fires (grid_id, occurred_on);
CREATE INDEX fires_place ON fires (place_id);
CREATE TABLE letters (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    org_id TEXT NOT NULL,
    place_id TEXT,
    signed_on INTEGER NOT NULL,
    signed_by TEXT NOT NULL,
    note TEXT NOT NULL,
    photos TEXT NOT NULL,
    user_id TEXT NOT NULL
);
CREATE INDEX letters_org ON letters (org_id, signed_on);
CREATE INDEX letters_place ON letters (place_id, signed_on);
ALTER TABLE activities ADD COLUMN trainees TEXT NOT NULL DEFAULT '[]';
