//! Moving a township from its SQLite data folder to PostgreSQL (`migrate`), with the server
//! stopped, into an empty database: the op log with every op at the position it had, each op
//! with its grids as the records tell now (what the SQLite server serves it with), every row
//! of every accounts table, and the photos.
//!
//! Positions and tokens are what let phones carry on as if nothing happened: a phone's pull
//! cursor (`p.<position>.<scope>`) names a position in the log, so each op keeps its SQLite
//! `rowid` as its `pos` and the `op_position` sequence is set past the last (ADR 0008); the
//! device tokens, devices and `meta` (the compaction horizon, and any other server value kept
//! there, such as the server's epoch) are copied as they are, so no phone signs in again. Any
//! accounts table this program does not know is refused rather than left behind.
//!
//! Everything is written in one PostgreSQL transaction, which holds the tables locked: a move
//! that fails leaves the database as empty as it was, and can simply be run again.

use std::path::Path;

use gridpatrol_core::op::Op;
use gridpatrol_core::server::{FeedQuery, Records};
use gridpatrol_core::Clock;
use postgres::{NoTls, Transaction};
use rusqlite::Connection;

use crate::backup::DATABASES;
use crate::storage::pg::append_at;
use crate::storage::StorageError;

/// Ops read from the SQLite log and written to PostgreSQL at a time.
const PAGE: usize = 2000;

/// The accounts tables this program copies; the runner's history is the target's own.
const ACCOUNTS_TABLES: [&str; 6] = [
    "passwords",
    "tokens",
    "devices",
    "sign_in_attempts",
    "refused_ops",
    "meta",
];

/// The grid list of a refused op is kept comma-joined in SQLite, as an array in PostgreSQL.
fn split_grids(joined: &str) -> Vec<String> {
    joined
        .split(',')
        .filter(|g| !g.is_empty())
        .map(Into::into)
        .collect()
}

/// A failure of the move, told in zh-CN and English; a database's failure by its code only
/// (`StorageError`: a message can quote a row).
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("{zh} / {en}")]
    Fault { zh: String, en: String },
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Schema(#[from] gridpatrol_migrate::Error),
    #[error("读写失败 / input or output failed: {0}")]
    Io(#[from] std::io::Error),
}

impl From<postgres::Error> for MigrateError {
    fn from(e: postgres::Error) -> Self {
        MigrateError::Storage(e.into())
    }
}

impl From<rusqlite::Error> for MigrateError {
    fn from(e: rusqlite::Error) -> Self {
        MigrateError::Storage(e.into())
    }
}

impl From<gridpatrol_core::Error> for MigrateError {
    fn from(e: gridpatrol_core::Error) -> Self {
        MigrateError::Storage(e.into())
    }
}

fn fault(zh: String, en: String) -> MigrateError {
    MigrateError::Fault { zh, en }
}

/// What was moved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Moved {
    pub ops: u64,
    /// The log's last position, where the PostgreSQL log goes on from.
    pub last_position: i64,
    pub passwords: u64,
    pub tokens: u64,
    pub devices: u64,
    pub sign_in_attempts: u64,
    pub refused_ops: u64,
    pub meta: u64,
    /// Photos copied to the new photo folder, and those it held already (all of them when
    /// the folder stays where it was).
    pub photos_copied: u64,
    pub photos_there: u64,
}

impl Moved {
    pub fn zh(&self) -> String {
        format!(
            "已迁移 {} 条操作记录（最后位置 {}），{} 个密码，{} 个设备登录，{} 台设备，{} 条登录尝试，\
             {} 条被拒操作，{} 项服务器设置；照片复制 {} 个，已在位 {} 个",
            self.ops,
            self.last_position,
            self.passwords,
            self.tokens,
            self.devices,
            self.sign_in_attempts,
            self.refused_ops,
            self.meta,
            self.photos_copied,
            self.photos_there
        )
    }

    pub fn en(&self) -> String {
        format!(
            "moved {} ops (last position {}), {} passwords, {} device tokens, {} devices, \
             {} sign-in counters, {} refused ops, {} server values; photos: {} copied, {} already there",
            self.ops,
            self.last_position,
            self.passwords,
            self.tokens,
            self.devices,
            self.sign_in_attempts,
            self.refused_ops,
            self.meta,
            self.photos_copied,
            self.photos_there
        )
    }
}

/// Moves the SQLite data folder `from` (its server stopped) into the empty PostgreSQL
/// database at `url`, and its photos into `photos_to/photos` (nothing to copy when that is
/// `from` itself). Refused, changing nothing, when the database holds anything already.
pub fn migrate(from: &Path, url: &str, photos_to: &Path) -> Result<Moved, MigrateError> {
    for name in DATABASES {
        if !from.join(name).is_file() {
            return Err(fault(
                format!("{} 中没有 {name}：不是服务器的数据目录", from.display()),
                format!(
                    "{} holds no {name}: not a server's data folder",
                    from.display()
                ),
            ));
        }
    }
    // Brought to this server's schema, as its own start would: the rows below are read by
    // this version's columns.
    let mut accounts = Connection::open(from.join("accounts.db"))?;
    crate::storage::schema::migrate_accounts(&mut accounts)?;
    refuse_unknown_tables(&accounts)?;
    let records = Records::open(from.join("ops.db"), Clock::System)?;

    // A connection's failure says nothing of any row: its text (refused, no such database,
    // authentication) is what whoever moves the township needs to see.
    let mut pg = postgres::Client::connect(url, NoTls).map_err(|e| {
        let why = match std::error::Error::source(&e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        };
        fault(
            format!("无法连接目标 PostgreSQL 数据库：{why}"),
            format!("cannot connect to the target PostgreSQL database: {why}"),
        )
    })?;
    crate::storage::schema::migrate_postgres(&mut pg)?;
    let mut tx = pg.transaction()?;
    // No server may start on the database while it fills: a server's start appends the
    // checklist library, which would take positions the log's own ops must have.
    tx.batch_execute(&format!(
        "LOCK TABLE ops, {} IN ACCESS EXCLUSIVE MODE",
        ACCOUNTS_TABLES.join(", ")
    ))?;
    refuse_non_empty(&mut tx)?;

    let mut moved = Moved::default();
    copy_log(&records, &mut tx, &mut moved)?;
    drop(records);
    // One read transaction: the accounts as of one moment.
    let snapshot = accounts.transaction()?;
    copy_accounts(&snapshot, &mut tx, &mut moved)?;
    drop(snapshot);
    copy_photos(&from.join("photos"), &photos_to.join("photos"), &mut moved)?;
    tx.commit()?;
    tracing::info!(
        ops = moved.ops,
        last_position = moved.last_position,
        photos_copied = moved.photos_copied,
        "moved to PostgreSQL"
    );
    Ok(moved)
}

fn refuse_unknown_tables(accounts: &Connection) -> Result<(), MigrateError> {
    let tables: Vec<String> = accounts
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
             ORDER BY name",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let unknown: Vec<&str> = tables
        .iter()
        .map(String::as_str)
        .filter(|t| !ACCOUNTS_TABLES.contains(t) && *t != gridpatrol_migrate::HISTORY_TABLE)
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(fault(
        format!(
            "accounts.db 中有本程序不会迁移的表 {}，未做任何更改",
            unknown.join("、")
        ),
        format!(
            "accounts.db holds tables this program does not move ({}); nothing changed",
            unknown.join(", ")
        ),
    ))
}

fn refuse_non_empty(tx: &mut Transaction) -> Result<(), MigrateError> {
    let mut held = Vec::new();
    for table in std::iter::once("ops").chain(ACCOUNTS_TABLES) {
        let any: bool = tx
            .query_one(&format!("SELECT EXISTS (SELECT 1 FROM {table})"), &[])?
            .try_get(0)?;
        if any {
            held.push(table);
        }
    }
    if held.is_empty() {
        return Ok(());
    }
    Err(fault(
        format!(
            "目标数据库不是空的（{} 中已有数据），未做任何更改：请迁移到新建的空数据库，且迁移前不要在其上启动服务器",
            held.join("、")
        ),
        format!(
            "the target database is not empty ({} hold rows); nothing changed: move into a new, \
             empty database, and start no server on it before the move",
            held.join(", ")
        ),
    ))
}

/// Every op of the log in log order at its own position, with its grids.
fn copy_log(
    records: &Records,
    tx: &mut Transaction,
    moved: &mut Moved,
) -> Result<(), MigrateError> {
    let mut after = 0;
    loop {
        let page = records.feed(&FeedQuery {
            after,
            limit: PAGE,
            ..FeedQuery::default()
        })?;
        insert_ops(tx, &page.items)?;
        moved.ops += page.items.len() as u64;
        after = page.last_position;
        if !page.full {
            break;
        }
    }
    moved.last_position = after;
    // The next op a server stores goes after every moved one (`setval` makes the next value
    // one more than this).
    if after > 0 {
        tx.execute("SELECT setval('op_position', $1)", &[&after])?;
    }
    Ok(())
}

/// The moved ops, each at its own position (`pg::append_at`, the log's own append).
fn insert_ops(
    tx: &mut Transaction,
    items: &[gridpatrol_core::server::FeedItem],
) -> Result<(), MigrateError> {
    let ops: Vec<(&Op, &[String])> = items.iter().map(|i| (&i.op, &i.grids[..])).collect();
    let positions: Vec<i64> = items.iter().map(|i| i.position).collect();
    append_at(tx, &ops, &positions)?;
    Ok(())
}

/// Copies every row of `table` read by `select` (its columns in the order `insert` takes
/// them), each converted by `row` to PostgreSQL values; returns how many.
fn copy_rows<T>(
    from: &Connection,
    tx: &mut Transaction,
    select: &str,
    insert: &str,
    read: impl Fn(&rusqlite::Row) -> rusqlite::Result<T>,
    write: impl Fn(&mut Transaction, &postgres::Statement, &T) -> Result<u64, postgres::Error>,
) -> Result<u64, MigrateError> {
    let rows: Vec<T> = from
        .prepare(select)?
        .query_map([], |r| read(r))?
        .collect::<rusqlite::Result<_>>()?;
    let statement = tx.prepare(insert)?;
    for r in &rows {
        write(tx, &statement, r)?;
    }
    Ok(rows.len() as u64)
}

fn copy_accounts(
    from: &Connection,
    tx: &mut Transaction,
    moved: &mut Moved,
) -> Result<(), MigrateError> {
    moved.passwords = copy_rows(
        from,
        tx,
        "SELECT user_id, hash, must_change <> 0 FROM passwords",
        "INSERT INTO passwords (user_id, hash, must_change) VALUES ($1, $2, $3)",
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, bool>(2)?,
            ))
        },
        |tx, s, (user, hash, must_change)| tx.execute(s, &[user, hash, must_change]),
    )?;
    moved.tokens = copy_rows(
        from,
        tx,
        "SELECT token_hash, user_id, device_id, issued_at, revoked_at, kind, renewed_at
         FROM tokens",
        "INSERT INTO tokens (token_hash, user_id, device_id, issued_at, revoked_at, kind,
             renewed_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        |r| {
            Ok((
                [r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(5)?],
                r.get::<_, i64>(3)?,
                r.get::<_, Option<i64>>(4)?,
                r.get::<_, i64>(6)?,
            ))
        },
        |tx, s, ([hash, user, device, kind], issued, revoked, renewed)| {
            tx.execute(s, &[hash, user, device, issued, revoked, kind, renewed])
        },
    )?;
    moved.devices = copy_rows(
        from,
        tx,
        "SELECT device_id, user_id, bound_at_ms FROM devices",
        "INSERT INTO devices (device_id, user_id, bound_at_ms) VALUES ($1, $2, $3)",
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        },
        |tx, s, (device, user, at)| tx.execute(s, &[device, user, at]),
    )?;
    moved.sign_in_attempts = copy_rows(
        from,
        tx,
        "SELECT key, since_ms, attempts FROM sign_in_attempts",
        "INSERT INTO sign_in_attempts (key, since_ms, attempts) VALUES ($1, $2, $3)",
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i32>(2)?,
            ))
        },
        |tx, s, (key, since, attempts)| tx.execute(s, &[key, since, attempts]),
    )?;
    moved.refused_ops = copy_rows(
        from,
        tx,
        "SELECT op_id, at_ms, user_id, device_id, kind, entity, grids, code, zh, en
         FROM refused_ops",
        "INSERT INTO refused_ops (op_id, at_ms, user_id, device_id, kind, entity, grids, code,
             zh, en) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        |r| {
            let text = |i| r.get::<_, String>(i);
            Ok((
                [text(0)?, text(2)?, text(3)?, text(4)?, text(5)?],
                r.get::<_, i64>(1)?,
                split_grids(&text(6)?),
                [text(7)?, text(8)?, text(9)?],
            ))
        },
        |tx, s, ([op, user, device, kind, entity], at, grids, [code, zh, en])| {
            tx.execute(
                s,
                &[op, at, user, device, kind, entity, grids, code, zh, en],
            )
        },
    )?;
    // Every key, whatever it is: what the server keeps here must survive the move.
    moved.meta = copy_rows(
        from,
        tx,
        "SELECT key, value FROM meta",
        "INSERT INTO meta (key, value) VALUES ($1, $2)",
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
        |tx, s, (key, value)| tx.execute(s, &[key, value]),
    )?;
    Ok(())
}

/// Copies the complete photos of `from` into `to` unless they are the same folder; a photo
/// already there (by name, which says what it is) is left as it is.
fn copy_photos(from: &Path, to: &Path, moved: &mut Moved) -> Result<(), MigrateError> {
    std::fs::create_dir_all(to)?;
    let same = std::fs::canonicalize(from).ok() == Some(std::fs::canonicalize(to)?);
    let Ok(entries) = std::fs::read_dir(from) else {
        return Ok(());
    };
    for e in entries {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        if !e.file_type()?.is_file() || name.starts_with('.') || name.ends_with(".part") {
            continue;
        }
        let target = to.join(&name);
        if same || target.exists() {
            moved.photos_there += 1;
            continue;
        }
        // Copied under a temporary name and renamed, so a cut copy is never taken for a photo.
        let tmp = to.join(format!(".{name}.moving"));
        std::fs::copy(e.path(), &tmp)?;
        std::fs::File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, &target)?;
        moved.photos_copied += 1;
    }
    Ok(())
}
