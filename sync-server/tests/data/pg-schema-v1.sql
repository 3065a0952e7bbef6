-- A GridPatrol PostgreSQL database at schema_version 1, as servers before the migration runner
-- made it (MIGRATIONS in sync-server/src/pg.rs at 4b85e60), with a little data. Frozen: never
-- edit; add a new file for each version.

    CREATE SEQUENCE op_position;
    CREATE TABLE ops (
        pos BIGINT PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        device_id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        hlc BIGINT NOT NULL,
        wall_ms BIGINT NOT NULL,
        actor_id TEXT NOT NULL,
        actor_role TEXT NOT NULL,
        kind TEXT NOT NULL,
        entity TEXT NOT NULL,
        body TEXT NOT NULL,
        -- The grids the op touched when it was stored, so a page reads only its reader's.
        grids TEXT[] NOT NULL,
        UNIQUE (device_id, seq)
    );
    CREATE INDEX ops_entity ON ops (entity, hlc, id);
    CREATE TABLE passwords (
        user_id TEXT PRIMARY KEY,
        hash TEXT NOT NULL
    );
    CREATE TABLE tokens (
        token_hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        issued_at BIGINT NOT NULL,
        revoked_at BIGINT
    );
    CREATE INDEX tokens_user ON tokens (user_id) WHERE revoked_at IS NULL;
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value BIGINT NOT NULL
    );
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version (version) VALUES (1);

INSERT INTO ops VALUES (nextval('op_position'), '01a222f0-4b06-7486-95fe-64483e58e92c', '01a222f0-4b04-74e5-b334-6f34e72991e7', 1, 116156871475200000, 1772413200000, 'system', 'township_officer', 'org_node', 'org:c1', '{"kind":"org_node","id":"c1","level":"county","parent_id":null,"name":"节点c1"}', '{}');
INSERT INTO passwords VALUES ('w1', '$argon2id$v=19$m=19456,t=2,p=1$ZnJvemVu$ZnJvemVuZnJvemVuZnJvemVuZnJvemVu');
INSERT INTO tokens VALUES ('3f1a0c5b9d2e4f6a8b7c1d0e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a', 'w1', '01a222f0-4b04-74e5-b334-6f34e72991e7', 1772413200000, NULL);
INSERT INTO meta VALUES ('horizon', 116156871475200010);
