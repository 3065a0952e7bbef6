-- A sync server accounts.db as the releases from 567d58a (refused ops for the console) to the
-- migration runner made it: passwords, meta, refused ops, device tokens; no version of any kind.
-- Frozen: never edit; add a new file for each released shape.
CREATE TABLE IF NOT EXISTS passwords (
                 user_id TEXT PRIMARY KEY,
                 hash TEXT NOT NULL
             );
CREATE TABLE IF NOT EXISTS meta (
                 key TEXT PRIMARY KEY,
                 value INTEGER NOT NULL
             );
CREATE TABLE IF NOT EXISTS refused_ops (
                 op_id TEXT PRIMARY KEY,
                 at_ms INTEGER NOT NULL,
                 user_id TEXT NOT NULL,
                 device_id TEXT NOT NULL,
                 kind TEXT NOT NULL,
                 entity TEXT NOT NULL,
                 grids TEXT NOT NULL,
                 code TEXT NOT NULL,
                 zh TEXT NOT NULL,
                 en TEXT NOT NULL
             );
CREATE INDEX IF NOT EXISTS refused_ops_at ON refused_ops (at_ms);
CREATE TABLE IF NOT EXISTS tokens (
                 token_hash TEXT PRIMARY KEY,
                 user_id TEXT NOT NULL,
                 device_id TEXT NOT NULL,
                 issued_at INTEGER NOT NULL,
                 revoked_at INTEGER
             );
INSERT INTO passwords VALUES ('w1', '$argon2id$v=19$m=19456,t=2,p=1$ZnJvemVu$ZnJvemVuZnJvemVuZnJvemVuZnJvemVu');
INSERT INTO meta VALUES ('horizon', 116156871475200010);
INSERT INTO refused_ops VALUES ('01a222f0-4b0d-7777-8038-4fbd25dad5a9', 1772413200000, 'w3', '01a222f0-4b04-74e5-b334-6f34e72991e7', 'place', 'place:01a222f0-4b0c-7311-bd8d-dc04436e7587', 'g1', 'out_of_scope', '超出负责范围', 'outside your scope');
INSERT INTO tokens VALUES ('3f1a0c5b9d2e4f6a8b7c1d0e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a', 'w1', '01a222f0-4b04-74e5-b334-6f34e72991e7', 1772413200000, NULL);
