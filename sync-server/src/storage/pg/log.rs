//! The op log in PostgreSQL. A log position comes from a sequence taken while holding one
//! transaction-scoped advisory lock (`WRITE_LOCK`) that every writer of the log takes first, so
//! writers commit one after another in position order and the committed log is always a prefix
//! of the positions handed out: a pull can never step over an op that another instance is
//! still committing (ADR 0008).
//!
//! Each instance keeps a fold of the log (`Records`, in a throwaway SQLite file), applied by the
//! same function as on a phone. It judges pushes (authorisation as of the op, duplicates,
//! sequence clashes), tells which grids an op touches and who a user is. It is rebuilt from the
//! log when the instance starts and caught up before each use, and a push is committed to
//! PostgreSQL before the fold commits it (`Records::accept_pushed_then`), so the fold never
//! holds an op the database lacks.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use gridpatrol_core::apply::Applied;
use gridpatrol_core::op::Op;
use gridpatrol_core::org::Actor;
use gridpatrol_core::server::{Feed, FeedItem, FeedQuery, Records};
use gridpatrol_core::{Clock, Hlc, Store};
use postgres::{GenericClient, IsolationLevel, Row, Transaction};
use uuid::Uuid;

use super::{write_locked, Conn, Pool};
use crate::storage::{OpLog, Result, StorageError};

/// A reader of more grids than this reads every op (see `feed`).
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

/// Grid ids joined for `string_to_array` (the unit separator never appears in an id).
const GRID_SEP: &str = "\u{1f}";

pub struct PgLog {
    pool: Pool,
    fold: Records,
    /// The position of the last log op applied to `fold`; held while the fold catches up or
    /// takes a push, so that only one of them moves it at a time.
    folded: Mutex<i64>,
    _fold_dir: tempfile::TempDir,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The op in `OP_COLUMNS` starting at column `at`.
fn op_at(r: &Row, at: usize) -> Result<Op> {
    let text = |i: usize| r.try_get::<_, &str>(at + i);
    let int = |i: usize| r.try_get::<_, i64>(at + i);
    let uuid = |i: usize| -> Result<Uuid> {
        Uuid::parse_str(text(i)?).map_err(|_| StorageError::Unreadable("op id"))
    };
    Ok(Op {
        id: uuid(0)?,
        device_id: uuid(1)?,
        seq: int(2)?,
        hlc: Hlc(int(3)?),
        wall_ms: int(4)?,
        actor_id: text(5)?.to_string(),
        actor_role: text(6)?
            .parse()
            .map_err(|_| StorageError::Unreadable("role"))?,
        body: serde_json::from_str(text(7)?).map_err(|_| StorageError::Unreadable("op body"))?,
    })
}

/// Appends `ops`, each with the grids it touches, to the log in order (an op id already there
/// is skipped); returns the highest position given. The caller holds `WRITE_LOCK`.
fn append(tx: &mut Transaction, ops: &[(&Op, &[String])]) -> Result<Option<i64>> {
    append_at(tx, ops, &[])
}

/// `append`, each op at the position `positions` gives it (a log moved here whole, whose
/// phones' cursors name its positions), or at the next one when `positions` is empty.
pub(crate) fn append_at(
    tx: &mut Transaction,
    ops: &[(&Op, &[String])],
    positions: &[i64],
) -> Result<Option<i64>> {
    if ops.is_empty() {
        return Ok(None);
    }
    let positions: Vec<Option<i64>> = (0..ops.len()).map(|i| positions.get(i).copied()).collect();
    let grids: Vec<String> = ops.iter().map(|(_, g)| g.join(GRID_SEP)).collect();
    let ops: Vec<&Op> = ops.iter().map(|(op, _)| *op).collect();
    let col = |f: &dyn Fn(&Op) -> String| ops.iter().map(|op| f(op)).collect::<Vec<String>>();
    let num = |f: &dyn Fn(&Op) -> i64| ops.iter().map(|op| f(op)).collect::<Vec<i64>>();
    let bodies = ops
        .iter()
        .map(|op| serde_json::to_string(&op.body))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|_| StorageError::Unreadable("op body"))?;
    let row = tx.query_one(
        "WITH added AS (
             INSERT INTO ops (pos, id, device_id, seq, hlc, wall_ms, actor_id, actor_role,
                 kind, entity, body, grids)
             SELECT coalesce(pos, nextval('op_position')), id, device_id, seq, hlc, wall_ms,
                 actor_id, actor_role, kind, entity, body, string_to_array(grids, chr(31))
             FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[], $5::int8[],
                 $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],
                 $12::int8[])
                 AS batch (id, device_id, seq, hlc, wall_ms, actor_id, actor_role, kind,
                     entity, body, grids, pos)
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
            &positions,
        ],
    )?;
    Ok(row.try_get(0)?)
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

impl PgLog {
    /// Adds the built-in checklist library to the log when missing (the same ops every device
    /// installs, never conflicting) and folds the log.
    pub(super) fn open(pool: Pool) -> std::result::Result<PgLog, Box<dyn std::error::Error>> {
        let fold_dir = tempfile::tempdir()?;
        let log = PgLog {
            pool,
            fold: Records::open(fold_dir.path().join("fold.db"), Clock::System)?,
            folded: Mutex::new(0),
            _fold_dir: fold_dir,
        };
        let mut c = log.conn()?;
        let mut tx = c.transaction()?;
        write_locked(&mut tx)?;
        let library = gridpatrol_core::checklist::builtin_template_ops();
        let reference: Vec<(&Op, &[String])> = library.iter().map(|op| (op, &[][..])).collect();
        append(&mut tx, &reference)?;
        tx.commit()?;
        drop(c);
        log.records()?;
        Ok(log)
    }

    fn conn(&self) -> Result<Conn> {
        Ok(self.pool.get()?)
    }

    /// Applies to the fold every op of the log after `*folded`, as `c` sees the log.
    fn meta(&self, key: &str) -> Result<Option<i64>> {
        let row = self
            .conn()?
            .query_opt("SELECT value FROM meta WHERE key = $1", &[&key])?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    fn catch_up(&self, c: &mut impl GenericClient, folded: &mut i64) -> Result<()> {
        loop {
            let rows = c.query(
                &format!("SELECT pos, {OP_COLUMNS} FROM ops WHERE pos > $1 ORDER BY pos LIMIT $2"),
                &[&*folded, &CATCH_UP_PAGE],
            )?;
            let Some(last) = rows.last() else {
                return Ok(());
            };
            let last: i64 = last.try_get(0)?;
            let ops = rows
                .iter()
                .map(|r| op_at(r, 1))
                .collect::<Result<Vec<_>>>()?;
            self.fold.fold_logged(&ops)?;
            *folded = last;
            if (rows.len() as i64) < CATCH_UP_PAGE {
                return Ok(());
            }
        }
    }
}

impl OpLog for PgLog {
    fn records(&self) -> Result<&Records> {
        let mut folded = lock(&self.folded);
        self.catch_up(&mut *self.conn()?, &mut folded)?;
        Ok(&self.fold)
    }

    /// Under the write lock: the fold catches up with the log, judges the batch, and the
    /// applied ops are committed to PostgreSQL before the fold commits them.
    fn accept(
        &self,
        user: &Actor,
        device_id: Uuid,
        ops: &[Op],
    ) -> Result<Vec<gridpatrol_core::Result<Applied>>> {
        let mut folded = lock(&self.folded);
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        write_locked(&mut tx)?;
        self.catch_up(&mut tx, &mut folded)?;
        let mut stored: Result<Option<i64>> = Ok(None);
        let mut numbers = Vec::new();
        let outcomes =
            self.fold
                .accept_pushed_then(user, device_id, ops, |outcomes, touched, numbered| {
                    let applied: Vec<(&Op, &[String])> = ops
                        .iter()
                        .zip(outcomes)
                        .zip(touched)
                        .filter(|((_, o), _)| matches!(o, Ok(Applied::Applied)))
                        .map(|((op, _), grids)| (op, &grids[..]))
                        .chain(numbered.iter().map(|(op, grids)| (op, &grids[..])))
                        .collect();
                    numbers = numbered.iter().map(|(op, _)| op.clone()).collect();
                    stored = append(&mut tx, &applied).and_then(|last| {
                        slow_commit_for_tests();
                        tx.commit()?;
                        Ok(last)
                    });
                    // The fold must not keep what the database did not take.
                    stored
                        .as_ref()
                        .map(|_| ())
                        .map_err(|_| gridpatrol_core::Error::Interrupted)
                });
        let last = stored?;
        let outcomes = outcomes?;
        if let Some(last) = last {
            *folded = last.max(*folded);
        }
        // Were this to fail, the numbers are appended again by the next `author`, which the
        // log takes once (by op id).
        self.fold.mark_logged(&numbers)?;
        Ok(outcomes)
    }

    /// The fold's own ops not yet in the log (what `f` made, and any left by an earlier
    /// failure) are appended under the write lock, then marked logged in the fold.
    fn author<T>(&self, f: impl FnOnce(&Store) -> gridpatrol_core::Result<T>) -> Result<T> {
        let mut folded = lock(&self.folded);
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        write_locked(&mut tx)?;
        self.catch_up(&mut tx, &mut folded)?;
        // Ops `f` made before failing are stored all the same: the fold already holds them.
        let out = f(self.fold.store());
        let made = self.fold.unlogged()?;
        let grids = made
            .iter()
            .map(|op| self.fold.grids_touched(&op.body))
            .collect::<gridpatrol_core::Result<Vec<_>>>()?;
        let with_grids: Vec<(&Op, &[String])> = made
            .iter()
            .zip(&grids)
            .map(|(op, g)| (op, &g[..]))
            .collect();
        let last = append(&mut tx, &with_grids)?;
        tx.commit()?;
        if let Some(last) = last {
            *folded = last.max(*folded);
        }
        self.fold.mark_logged(&made)?;
        Ok(out?)
    }

    /// Reads only ops stored with one of the reader's grids, or with none (reference data); a
    /// reader of very many grids (a county's advisor) reads everything, which costs less than
    /// comparing their list with every row.
    fn feed(&self, q: &FeedQuery, reader: &Actor) -> Result<Feed> {
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
            .start()?;
        // A page walks the log in position order and stops at its limit. Told that the grid
        // filter keeps few rows, the planner would rather scan and sort the whole table for
        // every page (a township's bootstrap at a million ops went from 5 s to 45 s).
        tx.batch_execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off")?;
        let rows = tx.query(
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
        )?;
        let full = rows.len() == q.limit;
        let mut last_position = q.after;
        let mut ops = Vec::with_capacity(rows.len());
        for r in &rows {
            let position: i64 = r.try_get(0)?;
            last_position = position;
            if !r.try_get::<_, bool>(1)? {
                ops.push(FeedItem {
                    position,
                    grids: r.try_get(2)?,
                    op: op_at(r, 3)?,
                });
            }
        }
        if !full {
            let end: i64 = tx
                .query_one("SELECT coalesce(max(pos), 0) FROM ops", &[])?
                .try_get(0)?;
            last_position = last_position.max(end.min(upto));
        }
        tx.commit()?;
        Ok(Feed {
            items: ops,
            last_position,
            full,
        })
    }

    fn last_position(&self) -> Result<i64> {
        Ok(self
            .conn()?
            .query_one("SELECT coalesce(max(pos), 0) FROM ops", &[])?
            .try_get(0)?)
    }

    fn horizon(&self) -> Result<i64> {
        let row = self
            .conn()?
            .query_opt("SELECT value FROM meta WHERE key = 'horizon'", &[])?;
        Ok(row.map(|r| r.try_get(0)).transpose()?.unwrap_or(0))
    }

    fn epoch(&self) -> Result<i64> {
        Ok(self.meta(super::super::EPOCH_KEY)?.unwrap_or(0))
    }

    fn begin_epoch(&self, backup_ms: Option<i64>) -> Result<i64> {
        let epoch = super::super::next_epoch(self.epoch()?);
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        let set = "INSERT INTO meta (key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value";
        tx.execute(set, &[&super::super::EPOCH_KEY, &epoch])?;
        if let Some(at) = backup_ms {
            tx.execute(set, &[&super::super::RESTORED_FROM_KEY, &at])?;
        }
        tx.commit()?;
        Ok(epoch)
    }

    fn restored_from(&self) -> Result<Option<i64>> {
        self.meta(super::super::RESTORED_FROM_KEY)
    }

    fn compact(&self, before_ms: i64) -> Result<usize> {
        let before = Hlc::new(before_ms, 0).0;
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        write_locked(&mut tx)?;
        // The newest row stays, as in the SQLite log, so the horizon never reaches the end.
        let gone = tx.query(
            &format!(
                "DELETE FROM ops WHERE pos IN (SELECT pos FROM ops WHERE hlc < $1
                     AND pos < (SELECT max(pos) FROM ops) AND {SUPERSEDED})
                 RETURNING pos"
            ),
            &[&before],
        )?;
        let highest = gone
            .iter()
            .filter_map(|r| r.try_get::<_, i64>(0).ok())
            .max();
        if let Some(h) = highest {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('horizon', $1)
                 ON CONFLICT (key) DO UPDATE SET value = greatest(meta.value, excluded.value)",
                &[&h],
            )?;
        }
        tx.commit()?;
        Ok(gone.len())
    }

    fn import_into_empty(&self, items: &[FeedItem]) -> Result<bool> {
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        write_locked(&mut tx)?;
        if tx
            .query_opt("SELECT 1 FROM ops WHERE kind = 'user' LIMIT 1", &[])?
            .is_some()
        {
            return Ok(false);
        }
        let with_grids: Vec<(&Op, &[String])> =
            items.iter().map(|i| (&i.op, &i.grids[..])).collect();
        append(&mut tx, &with_grids)?;
        tx.commit()?;
        drop(c);
        self.records()?;
        Ok(true)
    }

    fn now_ms(&self) -> i64 {
        self.fold.now_ms()
    }

    fn ping(&self) -> Result<()> {
        // Not the pool's usual wait for a connection (15 s): with the database gone, every
        // new connection fails, and readiness must say so while a balancer still asks.
        let mut c = self.pool.get_timeout(Duration::from_secs(2))?;
        c.simple_query("SELECT 1")?;
        Ok(())
    }
}
