//! The storage for a county or a province: any number of server instances over one PostgreSQL
//! database, sharing nothing else but the photo folder. PostgreSQL holds everything that must
//! survive: the op log (`log`), accounts, device tokens and refused ops (`accounts`), and the
//! compaction horizon. ADR 0008 tells how positions stay a prefix of what is committed.

mod accounts;
mod log;

use std::path::PathBuf;
use std::time::Duration;

use postgres::{NoTls, Transaction};
use r2d2_postgres::PostgresConnectionManager;

pub use accounts::PgAccounts;
pub use log::PgLog;

use super::Result;
use crate::blobs::FsBlobs;
use crate::service::Service;

/// The PostgreSQL-backed server: `PgBackend::open(url, connections, photos, max_photo_bytes)`.
pub type PgBackend = Service<PgAccounts, PgLog>;

type Pool = r2d2::Pool<PostgresConnectionManager<NoTls>>;
type Conn = r2d2::PooledConnection<PostgresConnectionManager<NoTls>>;

/// Taken by every transaction that appends to or deletes from the log.
const WRITE_LOCK: i64 = 0x4750_5752_4954_4531;
/// Taken while the schema is migrated, so instances starting together migrate once.
const MIGRATE_LOCK: i64 = 0x4750_4d49_4752_4154;

/// The schema, one step per version; a step is never edited once released.
const MIGRATIONS: &[&str] = &[
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
];

fn migrate(c: &mut postgres::Client) -> std::result::Result<(), Box<dyn std::error::Error>> {
    let mut tx = c.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_LOCK])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")?;
    let found: i32 = tx
        .query_opt("SELECT version FROM schema_version", &[])?
        .map_or(Ok(0), |r| r.try_get(0))?;
    let found = usize::try_from(found).unwrap_or(0);
    if found > MIGRATIONS.len() {
        return Err(format!(
            "数据库结构版本 {found} 比本程序新 / the database schema (version {found}) is newer than this server supports ({})",
            MIGRATIONS.len()
        )
        .into());
    }
    for step in &MIGRATIONS[found..] {
        tx.batch_execute(step)?;
    }
    let version = i32::try_from(MIGRATIONS.len())?;
    tx.execute("DELETE FROM schema_version", &[])?;
    tx.execute(
        "INSERT INTO schema_version (version) VALUES ($1)",
        &[&version],
    )?;
    tx.commit()?;
    Ok(())
}

fn write_locked(tx: &mut Transaction) -> Result<()> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])?;
    Ok(())
}

impl PgBackend {
    /// Connects to `url` with up to `connections` connections, migrates the schema, adds the
    /// built-in checklist library to the log when missing and folds the log. Photos are kept
    /// in `blob_dir` (shared by every instance) and refused above `max_photo_bytes`.
    pub fn open(
        url: &str,
        connections: u32,
        blob_dir: PathBuf,
        max_photo_bytes: u64,
    ) -> std::result::Result<Self, Box<dyn std::error::Error>> {
        let manager = PostgresConnectionManager::new(url.parse()?, NoTls);
        let pool = r2d2::Pool::builder()
            .max_size(connections.max(2))
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(15))
            .build(manager)?;
        migrate(&mut *pool.get()?)?;
        Ok(Service::new(
            PgAccounts::new(pool.clone()),
            PgLog::open(pool)?,
            FsBlobs::open(blob_dir, max_photo_bytes)?,
        ))
    }
}
