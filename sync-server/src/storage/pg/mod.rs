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
pub(crate) use log::append_at;
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
        super::schema::migrate_postgres(&mut *pool.get()?)?;
        Ok(Service::new(
            PgAccounts::new(pool.clone()),
            PgLog::open(pool)?,
            FsBlobs::open(blob_dir, max_photo_bytes)?,
        )?)
    }
}
