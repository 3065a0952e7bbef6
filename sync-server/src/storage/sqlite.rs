//! The default storage: everyone's ops in a core store (`ops.db`; its log in insertion order is
//! the server's sequence, folded by the same apply function as on the devices), and accounts,
//! device tokens and devices, sign-in attempts, refused ops and the compaction horizon in
//! `accounts.db`. One process owns a data folder.

use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use gridpatrol_core::apply::Applied;
use gridpatrol_core::op::Op;
use gridpatrol_core::org::Actor;
use gridpatrol_core::server::{Feed, FeedItem, FeedQuery, Records};
use gridpatrol_core::{Clock, Store};
use rusqlite::{params, Connection, OptionalExtension};
use uuid::Uuid;

use super::{AccountStore, Attempts, OpLog, Refusal, Result, TokenKind, TokenRecord};
use super::{RefusalQuery, StorageError};
use crate::blobs::FsBlobs;
use crate::service::Service;

/// The SQLite-backed server: `SqliteBackend::open(dir, max_photo_bytes)`.
pub type SqliteBackend = Service<SqliteAccounts, SqliteLog>;

type Shared = Arc<Mutex<Connection>>;

fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Accounts, tokens and refused ops in `accounts.db`.
pub struct SqliteAccounts {
    db: Shared,
}

/// The log in `ops.db`; the horizon is kept in `accounts.db`, so it survives a restart.
pub struct SqliteLog {
    records: Records,
    db: Shared,
    horizon: AtomicI64,
}

impl SqliteBackend {
    /// Opens (creating) the databases and the photo folder in `dir`; photos larger than
    /// `max_photo_bytes` are refused.
    pub fn open(
        dir: &Path,
        max_photo_bytes: u64,
    ) -> std::result::Result<Self, Box<dyn std::error::Error>> {
        std::fs::create_dir_all(dir)?;
        let records = Records::open(dir.join("ops.db"), Clock::System)?;
        let mut accounts = Connection::open(dir.join("accounts.db"))?;
        accounts.pragma_update(None, "journal_mode", "WAL")?;
        super::schema::migrate_accounts(&mut accounts)?;
        let horizon: i64 = accounts
            .query_row("SELECT value FROM meta WHERE key = 'horizon'", [], |r| {
                r.get(0)
            })
            .optional()?
            .unwrap_or(0);
        let db = Arc::new(Mutex::new(accounts));
        Ok(Service::new(
            SqliteAccounts { db: db.clone() },
            SqliteLog {
                records,
                db,
                horizon: AtomicI64::new(horizon),
            },
            FsBlobs::open(dir.join("photos"), max_photo_bytes)?,
        )?)
    }
}

impl AccountStore for SqliteAccounts {
    fn password_hash(&self, user_id: &str) -> Result<Option<String>> {
        Ok(lock(&self.db)
            .query_row(
                "SELECT hash FROM passwords WHERE user_id = ?1",
                [user_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn set_password_hash(&self, user_id: &str, hash: &str) -> Result<()> {
        lock(&self.db).execute(
            "INSERT INTO passwords (user_id, hash) VALUES (?1, ?2)
             ON CONFLICT(user_id) DO UPDATE SET hash = excluded.hash, must_change = 0",
            params![user_id, hash],
        )?;
        Ok(())
    }

    fn require_password_change(&self, user_id: &str) -> Result<()> {
        lock(&self.db).execute(
            "UPDATE passwords SET must_change = 1 WHERE user_id = ?1",
            [user_id],
        )?;
        Ok(())
    }

    fn must_change_password(&self, user_id: &str) -> Result<bool> {
        Ok(lock(&self.db)
            .query_row(
                "SELECT must_change <> 0 FROM passwords WHERE user_id = ?1",
                [user_id],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(false))
    }

    fn remove_password(&self, user_id: &str) -> Result<()> {
        lock(&self.db).execute("DELETE FROM passwords WHERE user_id = ?1", [user_id])?;
        Ok(())
    }

    fn add_token(&self, token_hash: &str, t: &TokenRecord) -> Result<()> {
        lock(&self.db).execute(
            "INSERT INTO tokens (token_hash, user_id, device_id, kind, issued_at, renewed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                token_hash,
                t.user_id,
                t.device_id,
                t.kind.code(),
                t.issued_at_ms,
                t.renewed_at_ms
            ],
        )?;
        Ok(())
    }

    fn live_token(&self, token_hash: &str) -> Result<Option<TokenRecord>> {
        let row = lock(&self.db)
            .query_row(
                "SELECT user_id, device_id, kind, issued_at, renewed_at FROM tokens
                 WHERE token_hash = ?1 AND revoked_at IS NULL",
                [token_hash],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get::<_, String>(2)?,
                        r.get(3)?,
                        r.get(4)?,
                    ))
                },
            )
            .optional()?;
        row.map(|(user_id, device_id, kind, issued_at_ms, renewed_at_ms)| {
            Ok(TokenRecord {
                user_id,
                device_id,
                kind: TokenKind::parse(&kind)?,
                issued_at_ms,
                renewed_at_ms,
            })
        })
        .transpose()
    }

    fn renew_token(&self, token_hash: &str, at_ms: i64) -> Result<()> {
        lock(&self.db).execute(
            "UPDATE tokens SET renewed_at = max(renewed_at, ?2)
             WHERE token_hash = ?1 AND revoked_at IS NULL",
            params![token_hash, at_ms],
        )?;
        Ok(())
    }

    fn bind_device(&self, device_id: &str, user_id: &str, at_ms: i64) -> Result<String> {
        Ok(lock(&self.db).query_row(
            "INSERT INTO devices (device_id, user_id, bound_at_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT(device_id) DO UPDATE SET user_id = user_id
             RETURNING user_id",
            params![device_id, user_id, at_ms],
            |r| r.get(0),
        )?)
    }

    fn device_bound_at(&self, device_id: &str) -> Result<Option<i64>> {
        Ok(lock(&self.db)
            .query_row(
                "SELECT bound_at_ms FROM devices WHERE device_id = ?1",
                [device_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn claim_device(&self, device_id: &str, owner: &str, at_ms: i64) -> Result<()> {
        let mut db = lock(&self.db);
        let tx = db.transaction()?;
        tx.execute(
            "INSERT INTO devices (device_id, user_id, bound_at_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT(device_id) DO UPDATE SET user_id = excluded.user_id,
                 bound_at_ms = excluded.bound_at_ms
             WHERE devices.user_id <> excluded.user_id",
            params![device_id, owner, at_ms],
        )?;
        tx.execute(
            "UPDATE tokens SET revoked_at = ?2 WHERE device_id = ?1 AND revoked_at IS NULL",
            params![device_id, at_ms],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn count_attempt(&self, key: &str, now_ms: i64, window_ms: i64) -> Result<Attempts> {
        let mut db = lock(&self.db);
        let tx = db.transaction()?;
        let stale = now_ms.saturating_sub(window_ms);
        tx.execute("DELETE FROM sign_in_attempts WHERE since_ms <= ?1", [stale])?;
        let counted = tx.query_row(
            "INSERT INTO sign_in_attempts (key, since_ms, attempts) VALUES (?1, ?2, 1)
             ON CONFLICT(key) DO UPDATE SET attempts = attempts + 1
             RETURNING attempts, since_ms",
            params![key, now_ms],
            |r| {
                Ok(Attempts {
                    count: r.get(0)?,
                    since_ms: r.get(1)?,
                })
            },
        )?;
        tx.commit()?;
        Ok(counted)
    }

    fn forget_attempts(&self, key: &str) -> Result<()> {
        lock(&self.db).execute("DELETE FROM sign_in_attempts WHERE key = ?1", [key])?;
        Ok(())
    }

    fn revoke_token(&self, token_hash: &str, at_ms: i64) -> Result<()> {
        lock(&self.db).execute(
            "UPDATE tokens SET revoked_at = ?2 WHERE token_hash = ?1 AND revoked_at IS NULL",
            params![token_hash, at_ms],
        )?;
        Ok(())
    }

    fn revoke_user(&self, user_id: &str, at_ms: i64) -> Result<usize> {
        Ok(lock(&self.db).execute(
            "UPDATE tokens SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
            params![user_id, at_ms],
        )?)
    }

    fn keep_refusals(&self, refused: &[Refusal]) -> Result<()> {
        let mut db = lock(&self.db);
        let tx = db.transaction()?;
        for r in refused {
            tx.execute(
                "INSERT OR IGNORE INTO refused_ops (op_id, at_ms, user_id, device_id, kind,
                     entity, grids, code, zh, en)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    r.op_id.to_string(),
                    r.at_ms,
                    r.user_id,
                    r.device_id.to_string(),
                    r.kind,
                    r.entity,
                    r.grids.join(","),
                    r.code,
                    r.zh,
                    r.en
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn refusals(&self, q: &RefusalQuery) -> Result<Vec<Refusal>> {
        let db = lock(&self.db);
        // `grids` is kept comma-joined: a grid matches when `,<grid>,` is in `,<grids>,`.
        let mut stmt = db.prepare_cached(
            "SELECT at_ms, op_id, user_id, device_id, kind, entity, grids, code, zh, en
             FROM refused_ops
             WHERE (?1 IS NULL
                    OR EXISTS (SELECT 1 FROM json_each(?1) g
                        WHERE instr(',' || grids || ',', ',' || g.value || ',') > 0)
                    OR (?2 AND grids = ''))
               AND (?3 IS NULL OR at_ms < ?3 OR (at_ms = ?3 AND op_id > ?4))
             ORDER BY at_ms DESC, op_id LIMIT ?5",
        )?;
        let grids = q
            .grids
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|_| StorageError::Unreadable("grids"))?;
        let args = params![
            grids,
            q.ungridded,
            q.after.map(|k| k.at_ms),
            q.after.map(|k| k.op_id.to_string()),
            i64::try_from(q.limit).unwrap_or(i64::MAX),
        ];
        let rows = stmt
            .query_map(args, |r| {
                let grids: String = r.get(6)?;
                Ok(Refusal {
                    at_ms: r.get(0)?,
                    op_id: r.get::<_, String>(1)?.parse().unwrap_or_default(),
                    user_id: r.get(2)?,
                    device_id: r.get::<_, String>(3)?.parse().unwrap_or_default(),
                    kind: r.get(4)?,
                    entity: r.get(5)?,
                    grids: grids
                        .split(',')
                        .filter(|g| !g.is_empty())
                        .map(Into::into)
                        .collect(),
                    code: r.get(7)?,
                    zh: r.get(8)?,
                    en: r.get(9)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn forget_refusals_before(&self, at_ms: i64) -> Result<()> {
        lock(&self.db).execute("DELETE FROM refused_ops WHERE at_ms < ?1", [at_ms])?;
        Ok(())
    }
}

fn meta_value(accounts: &Connection, key: &str) -> rusqlite::Result<Option<i64>> {
    accounts
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()
}

/// `OpLog::begin_epoch` on an `accounts.db`: also what `restore` runs on the copy it puts back,
/// before the copy is moved into place, so no server ever opens the restored data in the old
/// epoch.
pub fn begin_epoch_in(accounts: &Connection, backup_ms: Option<i64>) -> rusqlite::Result<i64> {
    let epoch = super::next_epoch(meta_value(accounts, super::EPOCH_KEY)?.unwrap_or(0));
    let mut set = accounts.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    )?;
    set.execute(params![super::EPOCH_KEY, epoch])?;
    if let Some(at) = backup_ms {
        set.execute(params![super::RESTORED_FROM_KEY, at])?;
    }
    Ok(epoch)
}

impl OpLog for SqliteLog {
    fn records(&self) -> Result<&Records> {
        Ok(&self.records)
    }

    fn accept(
        &self,
        user: &Actor,
        device_id: Uuid,
        ops: &[Op],
    ) -> Result<Vec<gridpatrol_core::Result<Applied>>> {
        Ok(self.records.accept_pushed(user, device_id, ops)?)
    }

    /// The fold is the log: what `f` records is stored as it is recorded.
    fn author<T>(&self, f: impl FnOnce(&Store) -> gridpatrol_core::Result<T>) -> Result<T> {
        Ok(f(self.records.store())?)
    }

    fn feed(&self, q: &FeedQuery, _: &Actor) -> Result<Feed> {
        Ok(self.records.feed(q)?)
    }

    fn last_position(&self) -> Result<i64> {
        Ok(self.records.last_position()?)
    }

    fn horizon(&self) -> Result<i64> {
        Ok(self.horizon.load(Ordering::SeqCst))
    }

    fn epoch(&self) -> Result<i64> {
        Ok(meta_value(&lock(&self.db), super::EPOCH_KEY)?.unwrap_or(0))
    }

    fn begin_epoch(&self, backup_ms: Option<i64>) -> Result<i64> {
        Ok(begin_epoch_in(&lock(&self.db), backup_ms)?)
    }

    fn restored_from(&self) -> Result<Option<i64>> {
        Ok(meta_value(&lock(&self.db), super::RESTORED_FROM_KEY)?)
    }

    fn compact(&self, before_ms: i64) -> Result<usize> {
        let (n, highest) = self.records.compact_superseded(before_ms)?;
        if let Some(h) = highest.filter(|h| *h > self.horizon.load(Ordering::SeqCst)) {
            lock(&self.db).execute(
                "INSERT INTO meta (key, value) VALUES ('horizon', ?1)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [h],
            )?;
            self.horizon.store(h, Ordering::SeqCst);
        }
        Ok(n)
    }

    /// One process owns a data folder, so nothing can come between the check and the import.
    fn import_into_empty(&self, items: &[FeedItem]) -> Result<bool> {
        if !self.records.store().users()?.is_empty() {
            return Ok(false);
        }
        let ops: Vec<Op> = items.iter().map(|i| i.op.clone()).collect();
        self.records.fold_logged(&ops)?;
        Ok(true)
    }

    fn now_ms(&self) -> i64 {
        self.records.now_ms()
    }

    fn ping(&self) -> Result<()> {
        // Both files: the log's, and the accounts' (which the horizon is kept in).
        self.records.last_position()?;
        lock(&self.db).query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }
}
