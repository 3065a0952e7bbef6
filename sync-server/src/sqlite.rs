//! The default backend: everyone's ops in a core `Store` (its op log in insertion order is the
//! server's sequence, and the same apply function folds them as on the devices), and accounts
//! and device tokens in a separate SQLite file. Passwords are argon2 hashes; a token is 244
//! random bits shown to the device once and kept only as its SHA-256.

use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use gridpatrol_core::op::Op;
use gridpatrol_core::org::Actor;
use gridpatrol_core::sync::protocol::{PullResponse, PushResult, SnapshotPage};
use gridpatrol_core::sync::server::{Feed, FeedItem, FeedQuery};
use gridpatrol_core::{Clock, Store};
use rusqlite::{params, Connection, OptionalExtension};
use uuid::Uuid;

use crate::backend::{
    Admin, ApiError, Backend, FailureLimit, Refusal, Session, LOGIN_FAILURES, LOGIN_WINDOW,
};
use crate::blobs::{BlobStore, FsBlobs};
use crate::serve::{self, token_hash, Log};

pub struct SqliteBackend {
    store: Store,
    blobs: FsBlobs,
    horizon: AtomicI64,
    accounts: Mutex<Connection>,
    failures: FailureLimit<String>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn db_error(_: rusqlite::Error) -> ApiError {
    ApiError::internal()
}

impl SqliteBackend {
    /// Opens (creating) the databases and the photo folder in `dir`; photos larger than
    /// `max_photo_bytes` are refused.
    pub fn open(dir: &Path, max_photo_bytes: u64) -> Result<Self, Box<dyn std::error::Error>> {
        std::fs::create_dir_all(dir)?;
        let store = Store::open(dir.join("ops.db"), Clock::System)?;
        // The same built-in library every device installs (identical ops, so never conflicting).
        store.install_library()?;
        let mut accounts = Connection::open(dir.join("accounts.db"))?;
        accounts.pragma_update(None, "journal_mode", "WAL")?;
        crate::schema::migrate_accounts(&mut accounts)?;
        let horizon: i64 = accounts
            .query_row("SELECT value FROM meta WHERE key = 'horizon'", [], |r| {
                r.get(0)
            })
            .optional()?
            .unwrap_or(0);
        Ok(SqliteBackend {
            store,
            blobs: FsBlobs::open(dir.join("photos"), max_photo_bytes)?,
            horizon: AtomicI64::new(horizon),
            accounts: Mutex::new(accounts),
            failures: FailureLimit::new(LOGIN_FAILURES, LOGIN_WINDOW),
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }
}

impl Admin for SqliteBackend {
    fn author<T>(
        &self,
        f: impl FnOnce(&Store) -> gridpatrol_core::Result<T>,
    ) -> Result<T, ApiError> {
        Ok(f(&self.store)?)
    }

    /// Deletes superseded whole-record ops older than the retention window and raises the
    /// horizon over them (kept in the accounts database, so it survives a restart).
    fn compact(&self, retention: Duration) -> Result<usize, ApiError> {
        let window = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
        let (n, highest) = self
            .store
            .compact_superseded(Backend::now_ms(self).saturating_sub(window))?;
        if let Some(h) = highest.filter(|h| *h > self.horizon.load(Ordering::SeqCst)) {
            lock(&self.accounts)
                .execute(
                    "INSERT INTO meta (key, value) VALUES ('horizon', ?1)
                     ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    [h],
                )
                .map_err(db_error)?;
            self.horizon.store(h, Ordering::SeqCst);
        }
        lock(&self.accounts)
            .execute(
                "DELETE FROM refused_ops WHERE at_ms < ?1",
                [Backend::now_ms(self).saturating_sub(window)],
            )
            .map_err(db_error)?;
        Ok(n)
    }

    fn set_password(&self, user_id: &str, password: &str) -> Result<(), ApiError> {
        self.store.actor(user_id)?;
        let hash = serve::hash_password(password)?;
        lock(&self.accounts)
            .execute(
                "INSERT INTO passwords (user_id, hash) VALUES (?1, ?2)
                 ON CONFLICT(user_id) DO UPDATE SET hash = excluded.hash",
                params![user_id, hash],
            )
            .map_err(db_error)?;
        Ok(())
    }

    /// One process owns a data folder, so nothing can come between the check and the import.
    fn import_into_empty(&self, ops: &[FeedItem]) -> Result<bool, ApiError> {
        if !self.store.users()?.is_empty() {
            return Ok(false);
        }
        let ops: Vec<Op> = ops.iter().map(|i| i.op.clone()).collect();
        self.store.apply_pulled(&ops, "", Backend::now_ms(self))?;
        Ok(true)
    }

    fn revoke_user(&self, user_id: &str) -> Result<usize, ApiError> {
        lock(&self.accounts)
            .execute(
                "UPDATE tokens SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
                params![user_id, Backend::now_ms(self)],
            )
            .map_err(db_error)
    }
}

impl Log for SqliteBackend {
    fn feed(&self, q: &FeedQuery, _: &Actor) -> Result<Feed, ApiError> {
        Ok(self.store.feed(q)?)
    }
    fn last_position(&self) -> Result<i64, ApiError> {
        Ok(self.store.last_position()?)
    }
    fn horizon(&self) -> Result<i64, ApiError> {
        Ok(self.horizon.load(Ordering::SeqCst))
    }
}

impl Backend for SqliteBackend {
    fn login(&self, user_id: &str, password: &str, device_id: Uuid) -> Result<String, ApiError> {
        self.failures.check(&user_id.to_string())?;
        let hash: Option<String> = lock(&self.accounts)
            .query_row(
                "SELECT hash FROM passwords WHERE user_id = ?1",
                [user_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_error)?;
        if !serve::password_matches(hash.as_deref(), password) {
            self.failures.failed(user_id.to_string());
            return Err(ApiError::bad_credentials());
        }
        self.failures.forget(&user_id.to_string());
        let (token, hash) = serve::new_token();
        lock(&self.accounts)
            .execute(
                "INSERT INTO tokens (token_hash, user_id, device_id, issued_at) VALUES (?1, ?2, ?3, ?4)",
                params![hash, user_id, device_id.to_string(), Backend::now_ms(self)],
            )
            .map_err(db_error)?;
        Ok(token)
    }

    fn authenticate(&self, token: &str) -> Result<Session, ApiError> {
        let row: Option<(String, String, i64)> = lock(&self.accounts)
            .query_row(
                "SELECT user_id, device_id, issued_at FROM tokens
                 WHERE token_hash = ?1 AND revoked_at IS NULL",
                [token_hash(token)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(db_error)?;
        let (user_id, device, issued_at) = row.ok_or_else(ApiError::unauthorized)?;
        Session::of(&self.store, &user_id, &device, issued_at)
    }

    fn revoke(&self, token: &str) -> Result<(), ApiError> {
        lock(&self.accounts)
            .execute(
                "UPDATE tokens SET revoked_at = ?2 WHERE token_hash = ?1 AND revoked_at IS NULL",
                params![token_hash(token), Backend::now_ms(self)],
            )
            .map_err(db_error)?;
        Ok(())
    }

    fn push(&self, session: &Session, ops: Vec<Op>) -> Result<Vec<PushResult>, ApiError> {
        let outcomes = self
            .store
            .accept_pushed(&session.user, session.device_id, &ops)?;
        let results = serve::push_results(&ops, outcomes);
        let refused = serve::refusals(&self.store, session, &ops, &results, Backend::now_ms(self));
        if !refused.is_empty() {
            let mut accounts = lock(&self.accounts);
            let tx = accounts.transaction().map_err(db_error)?;
            for r in &refused {
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
                )
                .map_err(db_error)?;
            }
            tx.commit().map_err(db_error)?;
        }
        Ok(results)
    }

    fn pull(
        &self,
        session: &Session,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<PullResponse, ApiError> {
        serve::pull(self, session, cursor, limit)
    }

    fn snapshot(
        &self,
        session: &Session,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<SnapshotPage, ApiError> {
        serve::snapshot(self, session, cursor, limit)
    }

    fn photo_access(&self, session: &Session, hash: &str) -> Result<(), ApiError> {
        serve::photo_access(session, hash, || Ok(self.store.photo_grids(hash)?))
    }

    fn blobs(&self) -> &dyn BlobStore {
        &self.blobs
    }

    fn now_ms(&self) -> i64 {
        self.store.device_wall_ms()
    }

    fn records(&self) -> Result<&Store, ApiError> {
        Ok(&self.store)
    }

    fn act(
        &self,
        f: &mut dyn FnMut(&Store) -> gridpatrol_core::Result<()>,
    ) -> Result<(), ApiError> {
        self.author(f)
    }

    fn refusals(&self, limit: usize) -> Result<Vec<Refusal>, ApiError> {
        let accounts = lock(&self.accounts);
        let mut stmt = accounts
            .prepare(
                "SELECT at_ms, op_id, user_id, device_id, kind, entity, grids, code, zh, en
                 FROM refused_ops ORDER BY at_ms DESC, op_id LIMIT ?1",
            )
            .map_err(db_error)?;
        let rows = stmt
            .query_map([limit as i64], |r| {
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
            })
            .map_err(db_error)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db_error)?;
        Ok(rows)
    }
}
