-- Version 8: the registers beside patrols and hazards. Fires (火灾情况) and signed letters
-- (责任书、承诺书、防火公约), each written once from its op; a training's grid workers by
-- account, with their assessment (考核), as JSON; the station or committee a drill or meeting
-- was held by; stations, teams and committees (last writer wins, as JSON) and each item of an
-- equipment check. No op of these kinds existed before, so the
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
    user_id TEXT NOT NULL,
    withdrawn_reason TEXT
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
ALTER TABLE activities ADD COLUMN group_id TEXT;
CREATE TABLE fire_groups (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    org_id TEXT NOT NULL,
    active INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX fire_groups_org ON fire_groups (org_id);
CREATE TABLE equipment_checks (
    check_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    item_key TEXT NOT NULL,
    checked_on INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (check_id, item_key)
);
CREATE INDEX equipment_checks_item ON equipment_checks (group_id, item_key, checked_on);
