-- Version 2: no outbox table beside the op log (the outbox is ops above device.acked_seq), no
-- cached places.last_patrol_at; the publicity and training log, patrol plans, the overdue index,
-- refused pushes and the sync session. Nothing was acknowledged by a server in version 1, so every
-- local op stays pending.
-- Released: never edit; a change is a new version.
DROP TABLE outbox;
ALTER TABLE device ADD COLUMN acked_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE device ADD COLUMN clock_offset_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE device ADD COLUMN pull_cursor TEXT;
ALTER TABLE places DROP COLUMN last_patrol_at;
CREATE INDEX hazards_township_overdue ON hazards (township_id, deadline)
    WHERE status IN ('notified', 'rectifying');
CREATE TABLE activities (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    org_id TEXT NOT NULL,
    held_on INTEGER NOT NULL,
    title TEXT NOT NULL,
    audience INTEGER NOT NULL,
    note TEXT NOT NULL,
    user_id TEXT NOT NULL
);
CREATE INDEX activities_org ON activities (org_id, held_on);
-- Patrol plans, folded last-writer-wins as whole records.
CREATE TABLE patrol_plans (
    id TEXT PRIMARY KEY,
    grid_id TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX patrol_plans_grid ON patrol_plans (grid_id);
-- Local ops the server refused, with its reason; they stay in the log and in front of people.
CREATE TABLE push_rejections (
    op_id TEXT PRIMARY KEY REFERENCES ops (id),
    code TEXT NOT NULL,
    zh TEXT NOT NULL,
    en TEXT NOT NULL
);
-- The server this device syncs with, who signed in on it, and the device token (a secret the
-- server keeps only as a hash).
CREATE TABLE sync_session (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    server TEXT NOT NULL,
    user_id TEXT NOT NULL,
    token TEXT NOT NULL,
    last_sync_ms INTEGER
);
