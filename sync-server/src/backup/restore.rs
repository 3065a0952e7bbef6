//! Putting a backup back (`restore`): on SQLite the whole data folder, its databases beginning
//! a new epoch (ADR 0016) before they move into place; on PostgreSQL, whose database comes back
//! by `pg_restore`, the photos, the epoch then begun by the server's storage.

use std::path::Path;

use super::{fault, unpack, Result, Summary};
use crate::storage::sqlite::begin_epoch_in;

/// When the backup was made, from its manifest (ms since the epoch of the clock).
pub fn made_ms(summary: &Summary) -> Result<i64> {
    chrono::DateTime::parse_from_rfc3339(&summary.created_at)
        .map(|at| at.timestamp_millis())
        .map_err(|_| {
            fault(
                "备份清单中的时间无法识别",
                "the backup's manifest has an unreadable time",
            )
        })
}

/// Restores a SQLite backup into the empty `data_dir`; returns what came back and the new
/// epoch. A backup of a PostgreSQL server's photos is refused once its photos are back.
pub fn restore_sqlite(from: &Path, data_dir: &Path) -> Result<(Summary, i64)> {
    let mut epoch = None;
    // Called only for a backup with databases (`unpack`).
    let summary = unpack(from, data_dir, |staged, summary| {
        let accounts = rusqlite::Connection::open(staged.join("accounts.db"))?;
        epoch = Some(begin_epoch_in(&accounts, Some(made_ms(summary)?))?);
        Ok(())
    })?;
    let epoch = epoch.ok_or_else(|| {
        fault(
            "这份备份只有照片：请先用 pg_restore 恢复数据库，并加上 --database-url",
            "this backup holds photos only: restore the database with pg_restore first and give \
             --database-url",
        )
    })?;
    Ok((summary, epoch))
}

/// Puts a PostgreSQL server's photos back into `data_dir`; returns what came back and when
/// the backup was made, for the new epoch.
pub fn restore_photos(from: &Path, data_dir: &Path) -> Result<(Summary, i64)> {
    let summary = unpack(from, data_dir, |_, _| Ok(()))?;
    let made = made_ms(&summary)?;
    Ok((summary, made))
}
