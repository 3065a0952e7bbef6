-- A sync server accounts.db as the first server release made it (5bbe162): passwords and device
-- tokens, no version of any kind. Frozen: never edit; add a new file for each released shape.
CREATE TABLE IF NOT EXISTS passwords (
                 user_id TEXT PRIMARY KEY,
                 hash TEXT NOT NULL
             );
CREATE TABLE IF NOT EXISTS tokens (
                 token_hash TEXT PRIMARY KEY,
                 user_id TEXT NOT NULL,
                 device_id TEXT NOT NULL,
                 issued_at INTEGER NOT NULL,
                 revoked_at INTEGER
             );
INSERT INTO passwords VALUES ('w1', '$argon2id$v=19$m=19456,t=2,p=1$ZnJvemVu$ZnJvemVuZnJvemVuZnJvemVuZnJvemVu');
INSERT INTO tokens VALUES ('3f1a0c5b9d2e4f6a8b7c1d0e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a', 'w1', '01a222f0-4b04-74e5-b334-6f34e72991e7', 1772413200000, NULL);
