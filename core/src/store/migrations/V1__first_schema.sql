-- Version 1, the first released device schema (as in core/tests/data/schema-v1.sql).
-- Released: never edit; a change is a new version.

CREATE TABLE device (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    device_id TEXT NOT NULL,
    next_seq INTEGER NOT NULL,
    hlc INTEGER NOT NULL
);

CREATE TABLE ops (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    hlc INTEGER NOT NULL,
    wall_ms INTEGER NOT NULL,
    actor_id TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    kind TEXT NOT NULL,
    entity TEXT NOT NULL,
    body TEXT NOT NULL,
    conflict TEXT,
    UNIQUE (device_id, seq)
);
CREATE INDEX ops_entity ON ops (entity, hlc, id);
CREATE INDEX ops_conflicted ON ops (entity) WHERE conflict IS NOT NULL;

CREATE TABLE outbox (
    op_id TEXT PRIMARY KEY REFERENCES ops (id),
    seq INTEGER NOT NULL
);

CREATE TABLE org_nodes (
    id TEXT PRIMARY KEY,
    level TEXT NOT NULL,
    parent_id TEXT,
    name TEXT NOT NULL
);
CREATE INDEX org_nodes_parent ON org_nodes (parent_id);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    phone TEXT,
    role TEXT NOT NULL
);

CREATE TABLE user_orgs (
    user_id TEXT NOT NULL,
    org_id TEXT NOT NULL,
    PRIMARY KEY (user_id, org_id)
);

CREATE TABLE templates (
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (id, version)
);

CREATE TABLE places (
    id TEXT PRIMARY KEY,
    place_type TEXT NOT NULL,
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    lat REAL,
    lon REAL,
    grid_id TEXT NOT NULL,
    responsible_name TEXT NOT NULL,
    responsible_phone TEXT,
    risk_level TEXT NOT NULL,
    patrol_every_days INTEGER,
    archived INTEGER NOT NULL DEFAULT 0,
    last_patrol_at INTEGER
);
CREATE INDEX places_grid ON places (grid_id);

CREATE TABLE patrols (
    id TEXT PRIMARY KEY,
    place_id TEXT NOT NULL,
    grid_id TEXT NOT NULL,
    worker_id TEXT NOT NULL,
    template_id TEXT NOT NULL,
    template_version INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER NOT NULL,
    lat REAL,
    lon REAL,
    accuracy_m REAL,
    mock INTEGER NOT NULL DEFAULT 0,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX patrols_place ON patrols (place_id, ended_at);
CREATE INDEX patrols_grid ON patrols (grid_id, ended_at);

CREATE TABLE patrol_answers (
    patrol_id TEXT NOT NULL,
    item_key TEXT NOT NULL,
    value TEXT NOT NULL,
    failed INTEGER NOT NULL,
    PRIMARY KEY (patrol_id, item_key)
) WITHOUT ROWID;

CREATE TABLE hazards (
    id TEXT PRIMARY KEY,
    place_id TEXT NOT NULL,
    grid_id TEXT NOT NULL,
    village_id TEXT NOT NULL,
    township_id TEXT NOT NULL,
    place_type TEXT NOT NULL,
    category TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL,
    level TEXT NOT NULL,
    deadline INTEGER,
    reported_at INTEGER NOT NULL,
    closed_at INTEGER,
    closed_on_time INTEGER,
    escalated INTEGER NOT NULL,
    rework_count INTEGER NOT NULL,
    supervised INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX hazards_open_by_grid ON hazards (grid_id, reported_at)
    WHERE status NOT IN ('closed', 'withdrawn');
CREATE INDEX hazards_place ON hazards (place_id, category);
CREATE INDEX hazards_grid_reported ON hazards (grid_id, reported_at);
CREATE INDEX hazards_village_reported ON hazards (village_id, reported_at);
CREATE INDEX hazards_township_reported ON hazards (township_id, reported_at);
