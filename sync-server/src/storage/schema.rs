//! The server's own schemas: `accounts.db` beside the SQLite backend's op log (the op log is a
//! core `Store`, migrated by core), and the PostgreSQL database of the many-instance backend.
//! Each is a list of numbered SQL steps run by the workspace's one migration runner
//! (`gridpatrol-migrate`), which keeps their history in the database. A released step is never
//! edited: a change is a new step.
//!
//! Both databases existed before the runner. `accounts.db` had no version at all (its tables
//! were created when missing), so the tables a file has say which release made it. PostgreSQL
//! had a `schema_version` table with the number of steps run; the runner records those steps
//! as applied and keeps `schema_version` current, so a server from before the runner, started
//! beside new ones, still refuses a schema newer than its own (ADR 0008: many instances).

use gridpatrol_migrate::{sqlite, Error, Outcome, Step};
use rusqlite::Connection;

/// `accounts.db`. The DDL is kept as released, `IF NOT EXISTS` included, so a migrated file and
/// a new one hold the same table definitions.
const ACCOUNTS: &[Step] = &[
    // Passwords are argon2 hashes; a device token is kept only as its SHA-256.
    Step::new(
        1,
        "passwords_and_tokens",
        "CREATE TABLE IF NOT EXISTS passwords (
             user_id TEXT PRIMARY KEY,
             hash TEXT NOT NULL
         );
         CREATE TABLE IF NOT EXISTS tokens (
             token_hash TEXT PRIMARY KEY,
             user_id TEXT NOT NULL,
             device_id TEXT NOT NULL,
             issued_at INTEGER NOT NULL,
             revoked_at INTEGER
         );",
    ),
    // Server values that must survive a restart: the compaction horizon.
    Step::new(
        2,
        "meta",
        "CREATE TABLE IF NOT EXISTS meta (
             key TEXT PRIMARY KEY,
             value INTEGER NOT NULL
         );",
    ),
    // Ops the server refused, with who and why, for the township console (kept for the
    // retention window).
    Step::new(
        3,
        "refused_ops",
        "CREATE TABLE IF NOT EXISTS refused_ops (
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
         CREATE INDEX IF NOT EXISTS refused_ops_at ON refused_ops (at_ms);",
    ),
    // Issue 14 (trust). `devices`: each device id belongs to the user who first signed in
    // with it (or to the server, for its own devices), so nobody uses up another's sequence
    // numbers; the devices of tokens already issued are bound to whoever signed in first.
    // `tokens.kind`: a console sign-in is never a phone's, and the other way round.
    // `tokens.renewed_at`: a phone token lapses when unused for its lifetime; tokens already
    // issued start theirs at the upgrade, so an upgrade signs nobody out.
    // `sign_in_attempts`: the sign-in limits, one counter per key and window.
    Step::new(
        4,
        "devices_token_kinds_and_sign_in_attempts",
        "CREATE TABLE devices (
             device_id TEXT PRIMARY KEY,
             user_id TEXT NOT NULL,
             bound_at_ms INTEGER NOT NULL
         );
         INSERT OR IGNORE INTO devices (device_id, user_id, bound_at_ms)
             SELECT device_id, user_id, issued_at FROM tokens ORDER BY issued_at, token_hash;
         ALTER TABLE tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'phone';
         ALTER TABLE tokens ADD COLUMN renewed_at INTEGER NOT NULL DEFAULT 0;
         UPDATE tokens SET renewed_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000;
         CREATE TABLE sign_in_attempts (
             key TEXT PRIMARY KEY,
             since_ms INTEGER NOT NULL,
             attempts INTEGER NOT NULL
         );
         CREATE INDEX sign_in_attempts_since ON sign_in_attempts (since_ms);",
    ),
    // Issue 15 (a township's own people). A first password, printed once at an import, must
    // be changed at the first sign-in.
    Step::new(
        5,
        "first_passwords",
        "ALTER TABLE passwords ADD COLUMN must_change INTEGER NOT NULL DEFAULT 0;",
    ),
];

/// The PostgreSQL database: the op log with each op's grids, accounts, tokens, devices, sign-in
/// attempts, the horizon, and refused ops. Steps 1 and 2 are the `MIGRATIONS` the server ran
/// before the runner.
const POSTGRES: &[Step] = &[
    Step::new(
        1,
        "log_and_accounts",
        "
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
",
    ),
    Step::new(
        2,
        "refused_ops",
        "
    CREATE TABLE refused_ops (
        op_id TEXT PRIMARY KEY,
        at_ms BIGINT NOT NULL,
        user_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        entity TEXT NOT NULL,
        grids TEXT[] NOT NULL,
        code TEXT NOT NULL,
        zh TEXT NOT NULL,
        en TEXT NOT NULL
    );
    CREATE INDEX refused_ops_at ON refused_ops (at_ms);
",
    ),
    // The same as accounts step 4 (see there): devices bound to users, token kinds and
    // renewal, and the sign-in limits, here shared by every instance.
    Step::new(
        3,
        "devices_token_kinds_and_sign_in_attempts",
        "
    CREATE TABLE devices (
        device_id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        bound_at_ms BIGINT NOT NULL
    );
    INSERT INTO devices (device_id, user_id, bound_at_ms)
        SELECT DISTINCT ON (device_id) device_id, user_id, issued_at FROM tokens
        ORDER BY device_id, issued_at, token_hash;
    ALTER TABLE tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'phone';
    ALTER TABLE tokens ADD COLUMN renewed_at BIGINT NOT NULL DEFAULT 0;
    UPDATE tokens SET renewed_at = (extract(epoch FROM now()) * 1000)::bigint;
    CREATE TABLE sign_in_attempts (
        key TEXT PRIMARY KEY,
        since_ms BIGINT NOT NULL,
        attempts INTEGER NOT NULL
    );
    CREATE INDEX sign_in_attempts_since ON sign_in_attempts (since_ms);
",
    ),
    // The same as accounts step 5 (see there).
    Step::new(
        4,
        "first_passwords",
        "ALTER TABLE passwords ADD COLUMN must_change BOOLEAN NOT NULL DEFAULT FALSE;",
    ),
];

/// The version table of servers from before the runner: one row, the number of steps run.
const PG_VERSION_TABLE: &str = "schema_version";

/// Creates or upgrades `accounts.db`; refuses one made by a newer server, changing nothing.
pub fn migrate_accounts(conn: &mut Connection) -> Result<Outcome, Error> {
    sqlite::migrate(conn, ACCOUNTS, accounts_before_the_runner, |_, _| Ok(()))
}

/// The version of an `accounts.db` without history: each release added a table, so the newest
/// table present names it.
fn accounts_before_the_runner(c: &Connection) -> rusqlite::Result<i32> {
    let mut version = sqlite::user_version(c)?;
    for (table, added_in) in [("passwords", 1), ("meta", 2), ("refused_ops", 3)] {
        if sqlite::table_exists(c, table)? {
            version = version.max(added_in);
        }
    }
    Ok(version)
}

/// Creates or upgrades the PostgreSQL schema, once however many instances start together;
/// refuses one made by a newer server, changing nothing.
pub fn migrate_postgres(client: &mut postgres::Client) -> Result<Outcome, Error> {
    gridpatrol_migrate::postgres::migrate(
        client,
        POSTGRES,
        |tx| {
            if !gridpatrol_migrate::postgres::table_exists(tx, PG_VERSION_TABLE)? {
                return Ok(0);
            }
            tx.query_opt(&format!("SELECT version FROM {PG_VERSION_TABLE}"), &[])?
                .map_or(Ok(0), |r| r.try_get(0))
        },
        |tx, outcome| {
            if outcome.found != outcome.version {
                tx.batch_execute(&format!(
                    "CREATE TABLE IF NOT EXISTS {PG_VERSION_TABLE} (version INTEGER NOT NULL);
                     DELETE FROM {PG_VERSION_TABLE};"
                ))
                .map_err(Error::from)?;
                tx.execute(
                    &format!("INSERT INTO {PG_VERSION_TABLE} (version) VALUES ($1)"),
                    &[&outcome.version],
                )
                .map_err(Error::from)?;
            }
            Ok(())
        },
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// Released steps are frozen: each checksum is what installed databases have recorded.
    /// A failure here means a released step was edited; make the change a new step instead.
    #[test]
    fn released_steps_are_unchanged() {
        let sums =
            |steps: &[Step]| -> Vec<u64> { steps.iter().map(|s| s.checksum().unwrap()).collect() };
        assert_eq!(sums(ACCOUNTS)[..ACCOUNTS_RELEASED.len()], ACCOUNTS_RELEASED);
        assert_eq!(sums(POSTGRES)[..POSTGRES_RELEASED.len()], POSTGRES_RELEASED);
    }

    const ACCOUNTS_RELEASED: [u64; 4] = [
        7583535518856505084,
        15135463340397458699,
        5552246899538563355,
        20976781415856590,
    ];
    const POSTGRES_RELEASED: [u64; 3] =
        [603029039375026339, 8456153095474132238, 9553318993386772424];
}
