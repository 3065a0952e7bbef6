//! The default backend: everyone's ops in a core `Store` (its op log in insertion order is the
//! server's sequence, and the same apply function folds them as on the devices), and accounts
//! and device tokens in a separate SQLite file. Passwords are argon2 hashes; a token is 244
//! random bits shown to the device once and kept only as its SHA-256.

use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use gridpatrol_core::apply::Applied;
use gridpatrol_core::op::Op;
use gridpatrol_core::org::Actor;
use gridpatrol_core::sync::authz;
use gridpatrol_core::sync::protocol::{PullResponse, PushOutcome, PushResult, SnapshotPage};
use gridpatrol_core::sync::server::{FeedItem, FeedQuery};
use gridpatrol_core::{Clock, Store};
use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::backend::{ApiError, Backend, FailureLimit, Session};
use crate::blobs::{BlobStore, FsBlobs};
use crate::cursor::{self, Cursor};

/// Failed logins allowed per user within `LOGIN_WINDOW` before further tries are refused.
const LOGIN_FAILURES: u32 = 5;
const LOGIN_WINDOW: Duration = Duration::from_secs(60);

/// The most ops one pull or snapshot page reads.
const MAX_PAGE: usize = 5000;

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

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn db_error(_: rusqlite::Error) -> ApiError {
    ApiError::internal()
}

/// A new password must be 8 to 256 characters.
pub fn check_password(password: &str) -> Result<(), ApiError> {
    let n = password.chars().count();
    if (8..=256).contains(&n) {
        Ok(())
    } else {
        Err(ApiError::new(
            400,
            "weak_password",
            "密码长度须为 8 到 256 个字符",
            "a password must be 8 to 256 characters long",
        ))
    }
}

impl SqliteBackend {
    /// Opens (creating) the databases and the photo folder in `dir`; photos larger than
    /// `max_photo_bytes` are refused.
    pub fn open(dir: &Path, max_photo_bytes: u64) -> Result<Self, Box<dyn std::error::Error>> {
        std::fs::create_dir_all(dir)?;
        let store = Store::open(dir.join("ops.db"), Clock::System)?;
        // The same built-in library every device installs (identical ops, so never conflicting).
        store.install_library()?;
        let accounts = Connection::open(dir.join("accounts.db"))?;
        accounts.pragma_update(None, "journal_mode", "WAL")?;
        accounts.execute_batch(
            "CREATE TABLE IF NOT EXISTS passwords (
                 user_id TEXT PRIMARY KEY,
                 hash TEXT NOT NULL
             );
             CREATE TABLE IF NOT EXISTS meta (
                 key TEXT PRIMARY KEY,
                 value INTEGER NOT NULL
             );
             CREATE TABLE IF NOT EXISTS tokens (
                 token_hash TEXT PRIMARY KEY,
                 user_id TEXT NOT NULL,
                 device_id TEXT NOT NULL,
                 issued_at INTEGER NOT NULL,
                 revoked_at INTEGER
             );",
        )?;
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

    /// Seeds the demo township (org tree, users, places) unless users exist, and gives every
    /// user `password`.
    pub fn seed_demo(&self, password: &str) -> Result<(), Box<dyn std::error::Error>> {
        if self.store.users()?.is_empty() {
            gridpatrol_core::demo::seed(&self.store)?;
        }
        for (id, _, _) in self.store.users()? {
            self.set_password(&id, password)?;
        }
        Ok(())
    }

    /// Pull cursors below this position are refused: ops they would have needed are compacted.
    fn horizon(&self) -> i64 {
        self.horizon.load(Ordering::SeqCst)
    }

    /// Deletes superseded whole-record ops older than the retention window and raises the
    /// horizon over them (kept in the accounts database, so it survives a restart).
    pub fn compact(&self, retention: Duration) -> Result<usize, ApiError> {
        let window = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
        let (n, highest) = self
            .store
            .compact_superseded(self.now_ms().saturating_sub(window))?;
        if let Some(h) = highest.filter(|h| *h > self.horizon()) {
            lock(&self.accounts)
                .execute(
                    "INSERT INTO meta (key, value) VALUES ('horizon', ?1)
                     ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    [h],
                )
                .map_err(db_error)?;
            self.horizon.store(h, Ordering::SeqCst);
        }
        Ok(n)
    }

    /// Sets a user's password (the user must exist in the org records).
    pub fn set_password(&self, user_id: &str, password: &str) -> Result<(), ApiError> {
        self.store.actor(user_id)?;
        // 16 random bytes from the OS, by way of a v4 UUID.
        let salt =
            SaltString::encode_b64(Uuid::new_v4().as_bytes()).map_err(|_| ApiError::internal())?;
        let hash = Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map_err(|_| ApiError::internal())?
            .to_string();
        lock(&self.accounts)
            .execute(
                "INSERT INTO passwords (user_id, hash) VALUES (?1, ?2)
                 ON CONFLICT(user_id) DO UPDATE SET hash = excluded.hash",
                params![user_id, hash],
            )
            .map_err(db_error)?;
        Ok(())
    }

    /// Revokes every live token of a user; returns how many.
    pub fn revoke_user(&self, user_id: &str) -> Result<usize, ApiError> {
        lock(&self.accounts)
            .execute(
                "UPDATE tokens SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
                params![user_id, self.now_ms()],
            )
            .map_err(db_error)
    }
}

fn scope_changed() -> ApiError {
    ApiError::resync_required(
        "您负责的范围已变更",
        "your area of responsibility has changed",
    )
}

/// A cursor this server cannot read (another version's, or damaged) is not the device's
/// fault: it starts again from a snapshot and loses nothing.
fn unreadable_cursor() -> ApiError {
    ApiError::resync_required("无法识别的同步位置", "unrecognised sync cursor")
}

/// The ops of `items` that `user` may read; reference data (no grid) goes to everyone.
fn visible(user: &Actor, items: Vec<FeedItem>) -> Vec<Op> {
    items
        .into_iter()
        .filter(|i| i.grids.is_empty() || i.grids.iter().any(|g| authz::may_read(user, g)))
        .map(|i| i.op)
        .collect()
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
        let ok = hash.is_some_and(|h| {
            PasswordHash::new(&h).is_ok_and(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
        });
        if !ok {
            self.failures.failed(user_id.to_string());
            return Err(ApiError::bad_credentials());
        }
        self.failures.forget(&user_id.to_string());
        let token = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
        lock(&self.accounts)
            .execute(
                "INSERT INTO tokens (token_hash, user_id, device_id, issued_at) VALUES (?1, ?2, ?3, ?4)",
                params![token_hash(&token), user_id, device_id.to_string(), self.now_ms()],
            )
            .map_err(db_error)?;
        Ok(token)
    }

    fn authenticate(&self, token: &str) -> Result<Session, ApiError> {
        let row: Option<(String, String)> = lock(&self.accounts)
            .query_row(
                "SELECT user_id, device_id FROM tokens WHERE token_hash = ?1 AND revoked_at IS NULL",
                [token_hash(token)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db_error)?;
        let (user_id, device) = row.ok_or_else(ApiError::unauthorized)?;
        let device_id = Uuid::parse_str(&device).map_err(|_| ApiError::unauthorized())?;
        // Scope comes from the server's records as they are now, never from the client.
        let user = self
            .store
            .actor(&user_id)
            .map_err(|_| ApiError::unauthorized())?;
        Ok(Session { user, device_id })
    }

    fn revoke(&self, token: &str) -> Result<(), ApiError> {
        lock(&self.accounts)
            .execute(
                "UPDATE tokens SET revoked_at = ?2 WHERE token_hash = ?1 AND revoked_at IS NULL",
                params![token_hash(token), self.now_ms()],
            )
            .map_err(db_error)?;
        Ok(())
    }

    fn push(&self, session: &Session, ops: Vec<Op>) -> Result<Vec<PushResult>, ApiError> {
        let outcomes = self
            .store
            .accept_pushed(&session.user, session.device_id, &ops)?;
        Ok(ops
            .iter()
            .zip(outcomes)
            .map(|(op, outcome)| PushResult {
                op_id: op.id,
                outcome: match outcome {
                    Ok(Applied::Applied) => PushOutcome::Applied,
                    Ok(Applied::Duplicate) => PushOutcome::Duplicate,
                    Err(e) => {
                        let e = ApiError::from(e);
                        PushOutcome::Rejected {
                            code: e.code,
                            zh: e.zh,
                            en: e.en,
                        }
                    }
                },
            })
            .collect())
    }

    fn pull(
        &self,
        session: &Session,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<PullResponse, ApiError> {
        let scope = cursor::scope_of(&session.user);
        let after = match cursor.filter(|c| !c.is_empty()).map(Cursor::parse) {
            None => 0,
            Some(Ok(Cursor::Pull { after, scope: s })) if s == scope => after,
            Some(Ok(Cursor::Pull { .. })) => return Err(scope_changed()),
            Some(_) => return Err(unreadable_cursor()),
        };
        if after < self.horizon() {
            return Err(ApiError::resync_required(
                "离线时间超过服务器保留期限",
                "offline for longer than the server keeps history",
            ));
        }
        let feed = self.store.feed(&FeedQuery {
            after,
            limit: limit.clamp(1, MAX_PAGE),
            skip_device: Some(session.device_id),
            ..FeedQuery::default()
        })?;
        Ok(PullResponse {
            ops: visible(&session.user, feed.items),
            cursor: Cursor::Pull {
                after: feed.last_position,
                scope,
            }
            .to_string(),
            more: feed.full,
            server_time_ms: self.now_ms(),
        })
    }

    fn snapshot(
        &self,
        session: &Session,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<SnapshotPage, ApiError> {
        let scope = cursor::scope_of(&session.user);
        let (upto, after) = match cursor.filter(|c| !c.is_empty()).map(Cursor::parse) {
            None => (self.store.last_position()?, 0),
            Some(Ok(Cursor::Snapshot {
                upto,
                after,
                scope: s,
            })) if s == scope => (upto, after),
            Some(Ok(Cursor::Snapshot { .. })) => return Err(scope_changed()),
            Some(_) => return Err(unreadable_cursor()),
        };
        let feed = self.store.feed(&FeedQuery {
            after,
            limit: limit.clamp(1, MAX_PAGE),
            upto: Some(upto),
            skip_device: None,
            compact: true,
        })?;
        let more = feed.full && feed.last_position < upto;
        Ok(SnapshotPage {
            ops: visible(&session.user, feed.items),
            cursor: Cursor::Snapshot {
                upto,
                after: feed.last_position,
                scope: scope.clone(),
            }
            .to_string(),
            more,
            pull_cursor: (!more).then(|| Cursor::Pull { after: upto, scope }.to_string()),
            server_time_ms: self.now_ms(),
        })
    }

    fn photo_access(&self, session: &Session, hash: &str) -> Result<(), ApiError> {
        gridpatrol_core::checklist::check_photo_ref(hash)
            .map_err(|_| ApiError::bad_request("photo hash"))?;
        let grids = self.store.photo_grids(hash)?;
        if grids.is_empty() {
            return Err(ApiError::new(
                404,
                "photo_not_cited",
                "没有记录引用这张照片，请先同步数据",
                "no record cites this photo; sync the data first",
            ));
        }
        if grids.iter().any(|g| authz::may_read(&session.user, g)) {
            Ok(())
        } else {
            Err(ApiError::new(
                403,
                "out_of_scope",
                "不在您负责的范围内",
                "outside your area of responsibility",
            ))
        }
    }

    fn blobs(&self) -> &dyn BlobStore {
        &self.blobs
    }

    fn now_ms(&self) -> i64 {
        self.store.device_wall_ms()
    }
}
