//! The backend for a county or a province: any number of server instances over one PostgreSQL
//! database, sharing nothing else but the photo folder.
//!
//! PostgreSQL holds everything that must survive: the op log, accounts and device tokens, and
//! the compaction horizon. A log position comes from a sequence taken while holding one
//! transaction-scoped advisory lock (`WRITE_LOCK`) that every writer of the log takes first, so
//! writers commit one after another in position order and the committed log is always a prefix
//! of the positions handed out: a pull can never step over an op that another instance is
//! still committing (ADR 0008).
//!
//! Each instance keeps a fold of the log in a throwaway core `Store`, applied by the same
//! function as on a phone. It judges pushes (authorisation as of the op, duplicates, sequence
//! clashes) and tells which grids an op touches and who a user is. It is rebuilt from the log
//! when the instance starts and caught up before each use, and a push is committed to
//! PostgreSQL before the fold commits it (`Store::accept_pushed_then`), so the fold never holds
//! an op the database lacks and an instance holds nothing the database does not.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use gridpatrol_core::apply::Applied;
use gridpatrol_core::op::Op;
use gridpatrol_core::org::Actor;
use gridpatrol_core::sync::protocol::{PullResponse, PushOutcome, PushResult, SnapshotPage};
use gridpatrol_core::sync::server::{Feed, FeedItem, FeedQuery};
use gridpatrol_core::{Clock, Hlc, Store};
use postgres::{GenericClient, IsolationLevel, NoTls, Row, Transaction};
use r2d2_postgres::PostgresConnectionManager;
use uuid::Uuid;

use crate::backend::{
    Admin, ApiError, Backend, FailureLimit, Refusal, Session, LOGIN_FAILURES, LOGIN_WINDOW,
};
use crate::blobs::{BlobStore, FsBlobs};
use crate::serve::{self, token_hash, Log};

type Pool = r2d2::Pool<PostgresConnectionManager<NoTls>>;
type Conn = r2d2::PooledConnection<PostgresConnectionManager<NoTls>>;

/// Taken by every transaction that appends to or deletes from the log.
const WRITE_LOCK: i64 = 0x4750_5752_4954_4531;

/// A reader of more grids than this reads every op (see `Log::feed`).
const MAX_GRID_FILTER: usize = 64;

/// Ops read from the log per query when the fold catches up.
const CATCH_UP_PAGE: i64 = 5000;

const OP_COLUMNS: &str = "id, device_id, seq, hlc, wall_ms, actor_id, actor_role, body";

/// Whole-record ops (org nodes, users, plans) a later op of the same record supersedes: left
/// out of snapshots, and deleted by compaction once old. Such records never hold conflicts
/// (their fold reads only the last op), so none is lost from an officer's list.
const SUPERSEDED: &str = "kind IN ('org_node', 'user', 'plan')
    AND EXISTS (SELECT 1 FROM ops later WHERE later.entity = ops.entity
        AND (later.hlc, later.id) > (ops.hlc, ops.id))";

pub struct PgBackend {
    pool: Pool,
    fold: Store,
    /// The position of the last log op applied to `fold`; held while the fold catches up or
    /// takes a push, so that only one of them moves it at a time.
    folded: Mutex<i64>,
    blobs: FsBlobs,
    failures: FailureLimit<String>,
    _fold_dir: tempfile::TempDir,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Logs the failure by its SQLSTATE only (a message can quote a row: names, phone numbers).
fn db_error(e: postgres::Error) -> ApiError {
    let code = e.code().map_or("connection", |c| c.code());
    eprintln!("错误 / error: PostgreSQL {code}");
    ApiError::internal()
}

fn pool_error(_: r2d2::Error) -> ApiError {
    eprintln!("错误 / error: no PostgreSQL connection available");
    ApiError::internal()
}

fn decode_error(what: &str) -> ApiError {
    eprintln!("错误 / error: unreadable {what} in the PostgreSQL log");
    ApiError::internal()
}

/// The op in `OP_COLUMNS` starting at column `at`.
fn op_at(r: &Row, at: usize) -> Result<Op, ApiError> {
    let text = |i: usize| r.try_get::<_, &str>(at + i).map_err(db_error);
    let int = |i: usize| r.try_get::<_, i64>(at + i).map_err(db_error);
    let uuid = |i: usize| Uuid::parse_str(text(i)?).map_err(|_| decode_error("op id"));
    Ok(Op {
        id: uuid(0)?,
        device_id: uuid(1)?,
        seq: int(2)?,
        hlc: Hlc(int(3)?),
        wall_ms: int(4)?,
        actor_id: text(5)?.to_string(),
        actor_role: text(6)?.parse().map_err(|_| decode_error("role"))?,
        body: serde_json::from_str(text(7)?).map_err(|_| decode_error("op body"))?,
    })
}

/// Grid ids joined for `string_to_array` (the unit separator never appears in an id).
const GRID_SEP: &str = "\u{1f}";

/// Appends `ops`, each with the grids it touches, to the log in order (an op id already there
/// is skipped); returns the highest position given. The caller holds `WRITE_LOCK`.
fn append(tx: &mut Transaction, ops: &[(&Op, &[String])]) -> Result<Option<i64>, ApiError> {
    if ops.is_empty() {
        return Ok(None);
    }
    let grids: Vec<String> = ops.iter().map(|(_, g)| g.join(GRID_SEP)).collect();
    let ops: Vec<&Op> = ops.iter().map(|(op, _)| *op).collect();
    let col = |f: &dyn Fn(&Op) -> String| ops.iter().map(|op| f(op)).collect::<Vec<String>>();
    let num = |f: &dyn Fn(&Op) -> i64| ops.iter().map(|op| f(op)).collect::<Vec<i64>>();
    let bodies = ops
        .iter()
        .map(|op| serde_json::to_string(&op.body))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ApiError::internal())?;
    let row = tx
        .query_one(
            "WITH added AS (
                 INSERT INTO ops (pos, id, device_id, seq, hlc, wall_ms, actor_id, actor_role,
                     kind, entity, body, grids)
                 SELECT nextval('op_position'), id, device_id, seq, hlc, wall_ms, actor_id,
                     actor_role, kind, entity, body, string_to_array(grids, chr(31))
                 FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[], $5::int8[],
                     $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
                     AS batch (id, device_id, seq, hlc, wall_ms, actor_id, actor_role, kind,
                         entity, body, grids)
                 ON CONFLICT (id) DO NOTHING
                 RETURNING pos)
             SELECT max(pos) FROM added",
            &[
                &col(&|op| op.id.to_string()),
                &col(&|op| op.device_id.to_string()),
                &num(&|op| op.seq),
                &num(&|op| op.hlc.0),
                &num(&|op| op.wall_ms),
                &col(&|op| op.actor_id.clone()),
                &col(&|op| op.actor_role.code().to_string()),
                &col(&|op| op.body.kind().to_string()),
                &col(&|op| op.body.entity()),
                &bodies,
                &grids,
            ],
        )
        .map_err(db_error)?;
    row.try_get(0).map_err(db_error)
}

/// Widens the moment between taking positions and committing them by a random time up to
/// `GRIDPATROL_TEST_COMMIT_DELAY_MS`, so that the multi-instance test would see a pull step
/// over an uncommitted op if positions could become visible out of order.
fn slow_commit_for_tests() {
    static DELAY: std::sync::OnceLock<Option<Duration>> = std::sync::OnceLock::new();
    let delay = DELAY.get_or_init(|| {
        std::env::var("GRIDPATROL_TEST_COMMIT_DELAY_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map(Duration::from_millis)
    });
    if let Some(d) = delay {
        let share = f64::from(Uuid::new_v4().as_u128() as u16) / f64::from(u16::MAX);
        std::thread::sleep(d.mul_f64(share));
    }
}

fn write_locked(tx: &mut Transaction) -> Result<(), ApiError> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])
        .map_err(db_error)?;
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
    ) -> Result<Self, Box<dyn std::error::Error>> {
        let manager = PostgresConnectionManager::new(url.parse()?, NoTls);
        let pool = r2d2::Pool::builder()
            .max_size(connections.max(2))
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(15))
            .build(manager)?;
        crate::schema::migrate_postgres(&mut *pool.get()?)?;
        let fold_dir = tempfile::tempdir()?;
        let backend = PgBackend {
            pool,
            fold: Store::open(fold_dir.path().join("fold.db"), Clock::System)?,
            folded: Mutex::new(0),
            blobs: FsBlobs::open(blob_dir, max_photo_bytes)?,
            failures: FailureLimit::new(LOGIN_FAILURES, LOGIN_WINDOW),
            _fold_dir: fold_dir,
        };
        // The same built-in library every device installs (identical ops, never conflicting).
        let mut c = backend.conn()?;
        let mut tx = c.transaction().map_err(db_error)?;
        write_locked(&mut tx)?;
        let library = gridpatrol_core::checklist::builtin_template_ops();
        let reference: Vec<(&Op, &[String])> = library.iter().map(|op| (op, &[][..])).collect();
        append(&mut tx, &reference)?;
        tx.commit().map_err(db_error)?;
        drop(c);
        backend.caught_up()?;
        Ok(backend)
    }

    fn conn(&self) -> Result<Conn, ApiError> {
        self.pool.get().map_err(pool_error)
    }

    /// Applies to the fold every op of the log after `*folded`, as `c` sees the log.
    fn catch_up(&self, c: &mut impl GenericClient, folded: &mut i64) -> Result<(), ApiError> {
        loop {
            let rows = c
                .query(
                    &format!(
                        "SELECT pos, {OP_COLUMNS} FROM ops WHERE pos > $1 ORDER BY pos LIMIT $2"
                    ),
                    &[&*folded, &CATCH_UP_PAGE],
                )
                .map_err(db_error)?;
            let Some(last) = rows.last() else {
                return Ok(());
            };
            let last: i64 = last.try_get(0).map_err(db_error)?;
            let ops = rows
                .iter()
                .map(|r| op_at(r, 1))
                .collect::<Result<Vec<_>, _>>()?;
            self.fold
                .apply_pulled(&ops, &last.to_string(), self.fold.device_wall_ms())?;
            *folded = last;
            if (rows.len() as i64) < CATCH_UP_PAGE {
                return Ok(());
            }
        }
    }

    /// The fold, caught up with the log as it is now.
    fn caught_up(&self) -> Result<&Store, ApiError> {
        let mut folded = lock(&self.folded);
        self.catch_up(&mut *self.conn()?, &mut folded)?;
        Ok(&self.fold)
    }
}

impl Admin for PgBackend {
    /// The fold's own ops not yet in the log (what `f` made, and any left by an earlier
    /// failure) are appended under the write lock, then acknowledged in the fold.
    fn author<T>(
        &self,
        f: impl FnOnce(&Store) -> gridpatrol_core::Result<T>,
    ) -> Result<T, ApiError> {
        let mut folded = lock(&self.folded);
        let mut c = self.conn()?;
        let mut tx = c.transaction().map_err(db_error)?;
        write_locked(&mut tx)?;
        self.catch_up(&mut tx, &mut folded)?;
        // Ops `f` made before failing are stored all the same: the fold already holds them.
        let out = f(&self.fold);
        let made = self.fold.outbox_batch(1 << 40)?;
        let grids = made
            .iter()
            .map(|op| self.fold.grids_touched(&op.body))
            .collect::<Result<Vec<_>, _>>()?;
        let with_grids: Vec<(&Op, &[String])> = made
            .iter()
            .zip(&grids)
            .map(|(op, g)| (op, &g[..]))
            .collect();
        let last = append(&mut tx, &with_grids)?;
        tx.commit().map_err(db_error)?;
        if let Some(last) = last {
            *folded = last.max(*folded);
        }
        let acks: Vec<PushResult> = made
            .iter()
            .map(|op| PushResult {
                op_id: op.id,
                outcome: PushOutcome::Applied,
            })
            .collect();
        self.fold.acknowledge(&acks)?;
        Ok(out?)
    }

    fn compact(&self, retention: Duration) -> Result<usize, ApiError> {
        let window = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
        let before = Hlc::new(Backend::now_ms(self).saturating_sub(window), 0).0;
        let mut c = self.conn()?;
        c.execute(
            "DELETE FROM refused_ops WHERE at_ms < $1",
            &[&Backend::now_ms(self).saturating_sub(window)],
        )
        .map_err(db_error)?;
        let mut tx = c.transaction().map_err(db_error)?;
        write_locked(&mut tx)?;
        // The newest row stays, as in the SQLite backend, so the horizon never reaches the end.
        let gone = tx
            .query(
                &format!(
                    "DELETE FROM ops WHERE pos IN (SELECT pos FROM ops WHERE hlc < $1
                         AND pos < (SELECT max(pos) FROM ops) AND {SUPERSEDED})
                     RETURNING pos"
                ),
                &[&before],
            )
            .map_err(db_error)?;
        let highest = gone
            .iter()
            .filter_map(|r| r.try_get::<_, i64>(0).ok())
            .max();
        if let Some(h) = highest {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('horizon', $1)
                 ON CONFLICT (key) DO UPDATE SET value = greatest(meta.value, excluded.value)",
                &[&h],
            )
            .map_err(db_error)?;
        }
        tx.commit().map_err(db_error)?;
        Ok(gone.len())
    }

    fn set_password(&self, user_id: &str, password: &str) -> Result<(), ApiError> {
        self.caught_up()?.actor(user_id)?;
        let hash = serve::hash_password(password)?;
        self.conn()?
            .execute(
                "INSERT INTO passwords (user_id, hash) VALUES ($1, $2)
                 ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash",
                &[&user_id, &hash],
            )
            .map_err(db_error)?;
        Ok(())
    }

    fn import_into_empty(&self, ops: &[FeedItem]) -> Result<bool, ApiError> {
        let mut c = self.conn()?;
        let mut tx = c.transaction().map_err(db_error)?;
        write_locked(&mut tx)?;
        if tx
            .query_opt("SELECT 1 FROM ops WHERE kind = 'user' LIMIT 1", &[])
            .map_err(db_error)?
            .is_some()
        {
            return Ok(false);
        }
        let with_grids: Vec<(&Op, &[String])> = ops.iter().map(|i| (&i.op, &i.grids[..])).collect();
        append(&mut tx, &with_grids)?;
        tx.commit().map_err(db_error)?;
        drop(c);
        self.caught_up()?;
        Ok(true)
    }

    fn revoke_user(&self, user_id: &str) -> Result<usize, ApiError> {
        let n = self
            .conn()?
            .execute(
                "UPDATE tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
                &[&user_id, &Backend::now_ms(self)],
            )
            .map_err(db_error)?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }
}

impl Log for PgBackend {
    /// Reads only ops stored with one of the reader's grids, or with none (reference data); a
    /// reader of very many grids (a county's advisor) reads everything, which costs less than
    /// comparing their list with every row.
    fn feed(&self, q: &FeedQuery, reader: &Actor) -> Result<Feed, ApiError> {
        let skip_device = q.skip_device.map(|d| d.to_string()).unwrap_or_default();
        let upto = q.upto.unwrap_or(i64::MAX);
        let by_grid = reader.grids.len() <= MAX_GRID_FILTER;
        let mut c = self.conn()?;
        // One snapshot for the page and the end of the log, so a short page can say where
        // the log ended as it read it (committed positions form a prefix: ADR 0008).
        let mut tx = c
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(db_error)?;
        // A page walks the log in position order and stops at its limit. Told that the grid
        // filter keeps few rows, the planner would rather scan and sort the whole table for
        // every page (a township's bootstrap at a million ops went from 5 s to 45 s).
        tx.batch_execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off")
            .map_err(db_error)?;
        let rows = tx
            .query(
                &format!(
                    "SELECT pos, device_id = $3 OR ($5 AND {SUPERSEDED}), grids, {OP_COLUMNS}
                     FROM ops WHERE pos > $1 AND pos <= $4
                         AND (NOT $6 OR cardinality(grids) = 0 OR grids && $7::text[])
                     ORDER BY pos LIMIT $2"
                ),
                &[
                    &q.after,
                    &i64::try_from(q.limit).unwrap_or(i64::MAX),
                    &skip_device,
                    &upto,
                    &q.compact,
                    &by_grid,
                    &reader.grids,
                ],
            )
            .map_err(db_error)?;
        let full = rows.len() == q.limit;
        let mut last_position = q.after;
        let mut ops = Vec::with_capacity(rows.len());
        for r in &rows {
            let position: i64 = r.try_get(0).map_err(db_error)?;
            last_position = position;
            if !r.try_get::<_, bool>(1).map_err(db_error)? {
                ops.push(FeedItem {
                    position,
                    grids: r.try_get(2).map_err(db_error)?,
                    op: op_at(r, 3)?,
                });
            }
        }
        if !full {
            let end: i64 = tx
                .query_one("SELECT coalesce(max(pos), 0) FROM ops", &[])
                .and_then(|r| r.try_get(0))
                .map_err(db_error)?;
            last_position = last_position.max(end.min(upto));
        }
        tx.commit().map_err(db_error)?;
        Ok(Feed {
            items: ops,
            last_position,
            full,
        })
    }

    fn last_position(&self) -> Result<i64, ApiError> {
        self.conn()?
            .query_one("SELECT coalesce(max(pos), 0) FROM ops", &[])
            .and_then(|r| r.try_get(0))
            .map_err(db_error)
    }

    fn horizon(&self) -> Result<i64, ApiError> {
        let row = self
            .conn()?
            .query_opt("SELECT value FROM meta WHERE key = 'horizon'", &[])
            .map_err(db_error)?;
        row.map_or(Ok(0), |r| r.try_get(0).map_err(db_error))
    }
}

impl Backend for PgBackend {
    fn login(&self, user_id: &str, password: &str, device_id: Uuid) -> Result<String, ApiError> {
        self.failures.check(&user_id.to_string())?;
        let mut c = self.conn()?;
        let hash: Option<String> = c
            .query_opt("SELECT hash FROM passwords WHERE user_id = $1", &[&user_id])
            .map_err(db_error)?
            .map(|r| r.try_get(0))
            .transpose()
            .map_err(db_error)?;
        if !serve::password_matches(hash.as_deref(), password) {
            self.failures.failed(user_id.to_string());
            return Err(ApiError::bad_credentials());
        }
        self.failures.forget(&user_id.to_string());
        let (token, hash) = serve::new_token();
        c.execute(
            "INSERT INTO tokens (token_hash, user_id, device_id, issued_at)
             VALUES ($1, $2, $3, $4)",
            &[
                &hash,
                &user_id,
                &device_id.to_string(),
                &Backend::now_ms(self),
            ],
        )
        .map_err(db_error)?;
        Ok(token)
    }

    fn authenticate(&self, token: &str) -> Result<Session, ApiError> {
        let row = self
            .conn()?
            .query_opt(
                "SELECT user_id, device_id, issued_at FROM tokens
                 WHERE token_hash = $1 AND revoked_at IS NULL",
                &[&token_hash(token)],
            )
            .map_err(db_error)?
            .ok_or_else(ApiError::unauthorized)?;
        let user_id: &str = row.try_get(0).map_err(db_error)?;
        let device: &str = row.try_get(1).map_err(db_error)?;
        let issued_at: i64 = row.try_get(2).map_err(db_error)?;
        // Caught up, so a reassignment made through another instance applies here at once.
        Session::of(self.caught_up()?, user_id, device, issued_at)
    }

    fn revoke(&self, token: &str) -> Result<(), ApiError> {
        self.conn()?
            .execute(
                "UPDATE tokens SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL",
                &[&token_hash(token), &Backend::now_ms(self)],
            )
            .map_err(db_error)?;
        Ok(())
    }

    /// Under the write lock: the fold catches up with the log, judges the batch, and the
    /// applied ops are committed to PostgreSQL before the fold commits them.
    fn push(&self, session: &Session, ops: Vec<Op>) -> Result<Vec<PushResult>, ApiError> {
        let mut folded = lock(&self.folded);
        let mut c = self.conn()?;
        let mut tx = c.transaction().map_err(db_error)?;
        write_locked(&mut tx)?;
        self.catch_up(&mut tx, &mut folded)?;
        let mut stored: Result<Option<i64>, ApiError> = Ok(None);
        let outcomes = self.fold.accept_pushed_then(
            &session.user,
            session.device_id,
            &ops,
            |outcomes, touched| {
                let applied: Vec<(&Op, &[String])> = ops
                    .iter()
                    .zip(outcomes)
                    .zip(touched)
                    .filter(|((_, o), _)| matches!(o, Ok(Applied::Applied)))
                    .map(|((op, _), grids)| (op, &grids[..]))
                    .collect();
                stored = append(&mut tx, &applied).and_then(|last| {
                    slow_commit_for_tests();
                    tx.commit().map_err(db_error).map(|()| last)
                });
                // The fold must not keep what the database did not take.
                stored
                    .as_ref()
                    .map(|_| ())
                    .map_err(|_| gridpatrol_core::Error::Interrupted)
            },
        );
        let last = stored?;
        let outcomes = outcomes?;
        if let Some(last) = last {
            *folded = last.max(*folded);
        }
        drop(folded);
        let results = serve::push_results(&ops, outcomes);
        let refused = serve::refusals(&self.fold, session, &ops, &results, Backend::now_ms(self));
        if !refused.is_empty() {
            let mut tx = c.transaction().map_err(db_error)?;
            for r in &refused {
                tx.execute(
                    "INSERT INTO refused_ops (op_id, at_ms, user_id, device_id, kind, entity,
                         grids, code, zh, en)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                     ON CONFLICT (op_id) DO NOTHING",
                    &[
                        &r.op_id.to_string(),
                        &r.at_ms,
                        &r.user_id,
                        &r.device_id.to_string(),
                        &r.kind,
                        &r.entity,
                        &r.grids,
                        &r.code,
                        &r.zh,
                        &r.en,
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
        serve::photo_access(session, hash, || Ok(self.caught_up()?.photo_grids(hash)?))
    }

    fn blobs(&self) -> &dyn BlobStore {
        &self.blobs
    }

    fn now_ms(&self) -> i64 {
        self.fold.device_wall_ms()
    }

    fn records(&self) -> Result<&Store, ApiError> {
        self.caught_up()
    }

    fn act(
        &self,
        f: &mut dyn FnMut(&Store) -> gridpatrol_core::Result<()>,
    ) -> Result<(), ApiError> {
        self.author(f)
    }

    fn refusals(&self, limit: usize) -> Result<Vec<Refusal>, ApiError> {
        let rows = self
            .conn()?
            .query(
                "SELECT at_ms, op_id, user_id, device_id, kind, entity, grids, code, zh, en
                 FROM refused_ops ORDER BY at_ms DESC, op_id LIMIT $1",
                &[&i64::try_from(limit).unwrap_or(i64::MAX)],
            )
            .map_err(db_error)?;
        rows.iter()
            .map(|r| {
                Ok(Refusal {
                    at_ms: r.try_get(0)?,
                    op_id: r.try_get::<_, String>(1)?.parse().unwrap_or_default(),
                    user_id: r.try_get(2)?,
                    device_id: r.try_get::<_, String>(3)?.parse().unwrap_or_default(),
                    kind: r.try_get(4)?,
                    entity: r.try_get(5)?,
                    grids: r.try_get(6)?,
                    code: r.try_get(7)?,
                    zh: r.try_get(8)?,
                    en: r.try_get(9)?,
                })
            })
            .collect::<Result<Vec<_>, postgres::Error>>()
            .map_err(db_error)
    }
}
