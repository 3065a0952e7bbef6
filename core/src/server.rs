//! The server's copy of the state (feature `server`; the phone library leaves it out). A sync
//! server keeps everyone's ops in a core `Store` used as a fold, wrapped here as `Records`: it
//! judges pushed ops (the grids an op touches, authorised as of the op), reads the log forward
//! from a position with each op's grids (to serve pulls by scope), folds ops the server's own
//! log holds, and compacts superseded history. The log's row order is the fold's own sequence:
//! ops are only ever appended, so a position never moves backwards.

use std::collections::{BTreeSet, HashMap};

use rusqlite::{params, Connection, OptionalExtension};
use uuid::Uuid;

use crate::apply::{self, op_row_at, Applied, OP_COLUMNS};
use crate::clock::Clock;
use crate::clock::Hlc;
use crate::error::Result;
use crate::hazard::lifecycle::Rejection;
use crate::hazard::HazardEvent;
use crate::op::{Op, OpBody};
use crate::org;
use crate::org::Actor;
use crate::store::Store;
use crate::sync::authz;
use crate::sync::protocol::{PushOutcome, PushResult, MAX_AHEAD_MS, MAX_OPS_PER_RECORD};

/// What to read of the log: see `Records::feed`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedQuery {
    pub after: i64,
    pub limit: usize,
    pub upto: Option<i64>,
    pub skip_device: Option<Uuid>,
    pub compact: bool,
}

/// A stretch of the log read forward: the ops to consider, where reading stopped, and whether
/// it stopped at the limit (more may follow).
#[derive(Debug, Clone, PartialEq)]
pub struct Feed {
    pub items: Vec<FeedItem>,
    pub last_position: i64,
    pub full: bool,
}

/// One op of the feed with its server position and the grids it belongs to (empty: reference
/// data every device receives).
#[derive(Debug, Clone, PartialEq)]
pub struct FeedItem {
    pub position: i64,
    pub op: Op,
    pub grids: Vec<String>,
}

/// Where a photo belongs (see `Records::photo_home`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoHome {
    /// The device that made the first op citing the photo: the one that took it.
    pub device_id: Uuid,
    pub user_id: String,
    /// The grids of that op's record as held now: who may read the photo.
    pub grids: Vec<String>,
}

fn grid_of(c: &Connection, table: &str, id: &Uuid) -> Result<Option<String>> {
    Ok(
        c.prepare_cached(&format!("SELECT grid_id FROM {table} WHERE id = ?1"))?
            .query_row([id.to_string()], |r| r.get(0))
            .optional()?,
    )
}

/// The grids `body` touches, as far as the records held here tell: where a place is now and
/// where it moves to, the grid of a hazard (from its report when it is the report), the grids
/// under an activity's org node. Reference data touches none.
pub(crate) fn grids_touched(c: &Connection, body: &OpBody) -> Result<Vec<String>> {
    let mut grids: Vec<String> = match body {
        OpBody::OrgNode(_) | OpBody::User(_) | OpBody::Template(_) => Vec::new(),
        OpBody::PlaceCreate(p) => vec![p.grid_id.clone()],
        OpBody::PlaceUpdate(ch) => grid_of(c, "places", &ch.place_id)?
            .into_iter()
            .chain(ch.grid_id.clone())
            .collect(),
        OpBody::Patrol(p) => vec![p.grid_id.clone()],
        // A plan, like a place, touches the grid it is in now as well as the one it names.
        OpBody::Plan(p) => grid_of(c, "patrol_plans", &p.id)?
            .into_iter()
            .chain([p.grid_id.clone()])
            .collect(),
        OpBody::Photo(c) => vec![c.grid_id.clone()],
        OpBody::Activity(a) => org::grids_under(c, &a.org_id)?,
        OpBody::Hazard { hazard_id, event } => match event {
            HazardEvent::Report(r) => vec![r.grid_id.clone()],
            _ => grid_of(c, "hazards", hazard_id)?.into_iter().collect(),
        },
    };
    grids.sort();
    grids.dedup();
    Ok(grids)
}

/// Refuses a pushed op that would create a record already here under another op (a forged
/// report could otherwise take over a case by an earlier HLC), or whose claims about where its
/// record belongs (grid, village, township, place type) are not what the records here say of
/// its place. A place's claimed grid may be any grid the place has been in, so work done
/// offline before a place moved still arrives.
fn judge_claims(c: &Connection, op: &Op) -> Result<()> {
    if op.body.creates_record() {
        // Ids a phone makes are UUIDv7; one chosen otherwise could take the id of a record the
        // server is about to make (an import keys its places by a name-based id).
        if op
            .body
            .record_id()
            .is_some_and(|id| id.get_version_num() != 7)
        {
            return Err(Rejection::NotAsRecorded.into());
        }
        let taken: bool = c
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM ops WHERE entity = ?1)")?
            .query_row([op.body.entity()], |r| r.get(0))?;
        if taken {
            return Err(Rejection::AlreadyExists.into());
        }
    }
    let place_grid = |place: &Uuid, grid: &str| -> Result<()> {
        let was_there = c
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM places WHERE id = ?1 AND grid_id = ?2)
                     OR EXISTS (SELECT 1 FROM ops WHERE entity = 'place:' || ?1
                         AND json_extract(body, '$.grid_id') = ?2)",
            )?
            .query_row(params![place.to_string(), grid], |r| r.get::<_, bool>(0))?;
        if was_there {
            return Ok(());
        }
        match grid_of(c, "places", place)? {
            Some(_) => Err(Rejection::NotAsRecorded.into()),
            None => Err(Rejection::NoSuchPlace.into()),
        }
    };
    match &op.body {
        OpBody::Hazard {
            event: HazardEvent::Report(r),
            ..
        } => {
            place_grid(&r.place_id, &r.grid_id)?;
            let place_type: Option<String> = c
                .prepare_cached("SELECT place_type FROM places WHERE id = ?1")?
                .query_row([r.place_id.to_string()], |row| row.get(0))
                .optional()?;
            let (village, township) = org::ancestors_of_grid(c, &r.grid_id)?;
            if place_type.as_deref() != Some(r.place_type.as_str())
                || village != r.village_id
                || township != r.township_id
            {
                return Err(Rejection::NotAsRecorded.into());
            }
        }
        OpBody::Patrol(p) => {
            place_grid(&p.place_id, &p.grid_id)?;
            // A visit is its maker's, by the checklist it was made with.
            if p.worker_id != op.actor_id {
                return Err(Rejection::ActorMismatch.into());
            }
            let known: bool = c
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM templates WHERE id = ?1 AND version = ?2)",
                )?
                .query_row(params![p.template_id, p.template_version], |r| r.get(0))?;
            if !known {
                return Err(Rejection::NotAsRecorded.into());
            }
        }
        OpBody::Photo(p) => {
            place_grid(&p.place_id, &p.grid_id)?;
            // A photo of a case is of a case at that place's grid.
            if let Some(h) = p.hazard_id {
                let grid = grid_of(c, "hazards", &h)?;
                if grid.as_deref() != Some(p.grid_id.as_str()) {
                    return Err(Rejection::NotAsRecorded.into());
                }
            }
        }
        // A checklist version, once published, is never replaced (patrols keep theirs), and
        // versions follow each other.
        OpBody::Template(t) => {
            let (held, latest): (bool, Option<u32>) = c
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM templates WHERE id = ?1 AND version = ?2),
                         (SELECT max(version) FROM templates WHERE id = ?1)",
                )?
                .query_row(params![t.id, t.version], |r| Ok((r.get(0)?, r.get(1)?)))?;
            if held {
                return Err(Rejection::AlreadyExists.into());
            }
            if t.version == 0 || t.version > latest.unwrap_or(0).saturating_add(1) {
                return Err(Rejection::NotAsRecorded.into());
            }
        }
        // A place belongs to a grid of the org tree, in a village of a township.
        OpBody::PlaceCreate(p) => {
            org::ancestors_of_grid(c, &p.grid_id)?;
        }
        _ => {}
    }
    Ok(())
}

/// Refuses a pushed op the fold found invalid in itself (a text too long, a date or a photo
/// reference malformed): checked by the same rules as the local command, it is no offline race
/// to keep and show, and must not reach every phone in scope. An op the fold found in conflict
/// with the record's state (two people acting offline) is kept, as on every device.
fn refuse_invalid(c: &Connection, op: &Op) -> Result<()> {
    match crate::apply::conflict_of(c, &op.id)? {
        Some(why @ Rejection::Invalid { .. }) => Err(why.into()),
        _ => Ok(()),
    }
}

/// Judges an op by its clock: no later than `MAX_AHEAD_MS` past the server's `now` (an op
/// dated years ahead would carry every device's clock with it), and after every op its device
/// has stored, in time and in sequence (a device's HLC rises with its sequence, so a device
/// that has once written after a reassignment cannot date a later op before it, nor fill a gap
/// in its sequence with one). An earlier op dated past `now` (held from before the bound) is
/// taken as dated `now`. One device fills no record past `MAX_OPS_PER_RECORD` ops.
fn judge_clock(c: &Connection, op: &Op, now: i64) -> Result<()> {
    if op.hlc.wall_ms() > now.saturating_add(MAX_AHEAD_MS) {
        return Err(Rejection::ClockAhead.into());
    }
    // The device's last op by sequence is its latest in time too: every op stored since this
    // rule was judged by it (read through the (device, seq) index, never the device's history).
    let last: Option<(i64, i64)> = c
        .prepare_cached("SELECT hlc, seq FROM ops WHERE device_id = ?1 ORDER BY seq DESC LIMIT 1")?
        .query_row([op.device_id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let count: u32 = c
        // By the record (a few ops), never by the device (its whole history).
        .prepare_cached(
            "SELECT count(*) FROM ops INDEXED BY ops_entity WHERE entity = ?1 AND device_id = ?2",
        )?
        .query_row(params![op.body.entity(), op.device_id.to_string()], |r| {
            r.get(0)
        })?;
    let (before, last_seq) = (last.map(|(h, _)| h), last.map(|(_, s)| s));
    let before = before.map(|b| b.min(Hlc::new(now, 0).0));
    if before.is_some_and(|b| op.hlc.0 <= b) || last_seq.is_some_and(|s| op.seq < s) {
        return Err(Rejection::ClockBackwards.into());
    }
    if count >= MAX_OPS_PER_RECORD {
        return Err(Rejection::TooManyOps {
            max: MAX_OPS_PER_RECORD,
        }
        .into());
    }
    Ok(())
}

/// Folds each case that `deferred` ops of the batch were appended to, once, and refuses those
/// the fold found invalid in themselves (as `refuse_invalid` does for an op folded at once):
/// they leave the log, and their case is folded again without them, until none is left.
fn fold_deferred(
    tx: &rusqlite::Transaction,
    ops: &[Op],
    deferred: &[usize],
    out: &mut [Result<Applied>],
    touched: &mut [Vec<String>],
) -> Result<()> {
    let mut live = deferred.to_vec();
    let mut dirty: BTreeSet<String> = live.iter().map(|&i| ops[i].body.entity()).collect();
    while !dirty.is_empty() {
        let mut invalid: HashMap<Uuid, Rejection> = HashMap::new();
        for entity in std::mem::take(&mut dirty) {
            for (id, why) in apply::refold_entity(tx, &entity)? {
                if matches!(why, Rejection::Invalid { .. }) {
                    invalid.insert(id, why);
                }
            }
        }
        let mut kept = Vec::with_capacity(live.len());
        for i in live {
            match invalid.remove(&ops[i].id) {
                Some(why) => {
                    apply::unappend(tx, &ops[i])?;
                    dirty.insert(ops[i].body.entity());
                    out[i] = Err(why.into());
                    touched[i].clear();
                }
                None => kept.push(i),
            }
        }
        live = kept;
    }
    Ok(())
}

/// `user_id` as their record stood at `hlc` (the last version of it not after then), with the
/// grids under the org nodes it named.
fn actor_as_of(c: &Connection, user_id: &str, hlc: Hlc) -> Result<Option<Actor>> {
    let body: Option<String> = c
        .prepare_cached(
            "SELECT body FROM ops WHERE entity = 'user:' || ?1 AND hlc <= ?2
             ORDER BY hlc DESC, id DESC LIMIT 1",
        )?
        .query_row(params![user_id, hlc.0], |r| r.get(0))
        .optional()?;
    let Some(OpBody::User(u)) = body.map(|b| serde_json::from_str(&b)).transpose()? else {
        return Ok(None);
    };
    let mut grids = Vec::new();
    for org in &u.org_ids {
        grids.extend(org::grids_under(c, org)?);
    }
    grids.sort();
    grids.dedup();
    Ok(Some(Actor {
        user_id: u.id,
        role: u.role,
        grids,
    }))
}

/// Everyone's records as the server holds them: a fold of the server's log, and what only a
/// server does with it. Reads of the state (people, places, hazards, reports) go through
/// `store()`, the same functions a phone uses.
pub struct Records {
    store: Store,
}

impl Records {
    /// Opens (creating) the fold at `path` with the built-in checklist library every device
    /// installs (identical ops, so never conflicting).
    pub fn open(path: impl AsRef<std::path::Path>, clock: Clock) -> Result<Records> {
        let store = Store::open(path, clock)?;
        store.install_library()?;
        Ok(Records { store })
    }

    /// Records over a store opened elsewhere (tests, the demo's scratch database).
    pub fn new(store: Store) -> Records {
        Records { store }
    }

    /// The state, read and written through the same functions as on a phone; what the server
    /// records there itself (account changes, the console's actions) it records as its own
    /// device.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The server's wall clock: a server has no server to correct its clock against.
    pub fn now_ms(&self) -> i64 {
        self.store.device_wall_ms()
    }

    /// The grids an op touches, for authorising it (see `sync::authz`).
    pub fn grids_touched(&self, body: &OpBody) -> Result<Vec<String>> {
        self.store.read(|c| grids_touched(c, body))
    }

    /// Folds ops that the server's log already holds (read back from it, or imported), in
    /// log order, in one transaction.
    pub fn fold_logged(&self, ops: &[Op]) -> Result<()> {
        self.store.write(|tx| {
            for op in ops {
                self.store.apply_remote_in(tx, op)?;
            }
            Ok(())
        })
    }

    /// Ops recorded here as the server's own device that are not yet marked as in the
    /// server's log (what the console or an account command just recorded, and any left by a
    /// failure before they were stored), in sequence order.
    pub fn unlogged(&self) -> Result<Vec<Op>> {
        self.store.outbox_batch(usize::MAX >> 1)
    }

    /// Marks `ops`, stored in the server's log, as logged.
    pub fn mark_logged(&self, ops: &[Op]) -> Result<()> {
        let stored: Vec<PushResult> = ops
            .iter()
            .map(|op| PushResult {
                op_id: op.id,
                outcome: PushOutcome::Applied,
            })
            .collect();
        self.store.acknowledge(&stored)?;
        Ok(())
    }

    /// Stores a batch pushed by `user` from `device_id` in one transaction, answering each op.
    /// Each is authorised (`authz::authorize_write`) against the grids it touches as of the ops
    /// before it in the batch (a report and its notification may arrive together). An op made
    /// before the user was reassigned is judged by the assignment they had when they made it
    /// (by its HLC), so work done offline in a grid that has since left their scope still
    /// arrives. An op refused, by authorisation or by the log, is undone alone by its
    /// savepoint and never holds back the ops behind it. Only a storage failure fails the
    /// whole batch, which then changes nothing.
    pub fn accept_pushed(
        &self,
        user: &Actor,
        device_id: Uuid,
        ops: &[Op],
    ) -> Result<Vec<Result<Applied>>> {
        self.accept_pushed_then(user, device_id, ops, |_, _| Ok(()))
    }

    /// `accept_pushed`, with `commit` called inside the transaction once every op has its
    /// answer and before anything is committed here; an error from it undoes the whole batch.
    /// `commit` also gets the grids each op touched when it was authorised (none for a refused
    /// one). A server whose log lives elsewhere (PostgreSQL) commits the applied ops there in
    /// `commit`, so this store, its fold of that log, never holds an op the log lacks.
    pub fn accept_pushed_then(
        &self,
        user: &Actor,
        device_id: Uuid,
        ops: &[Op],
        commit: impl FnOnce(&[Result<Applied>], &[Vec<String>]) -> Result<()>,
    ) -> Result<Vec<Result<Applied>>> {
        let now = self.now_ms();
        let authorize = |tx: &Connection, op: &Op| -> Result<Vec<String>> {
            if op.device_id != device_id {
                return Err(Rejection::WrongDevice.into());
            }
            // A known op is a duplicate, and one whose sequence number another op holds is a
            // clash (a device restored from an old backup): the log answers both, more
            // precisely than a judgement of their content would.
            let known: bool = tx
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM ops WHERE id = ?1)
                         OR EXISTS (SELECT 1 FROM ops WHERE device_id = ?2 AND seq = ?3)",
                )?
                .query_row(
                    params![op.id.to_string(), op.device_id.to_string(), op.seq],
                    |r| r.get(0),
                )?;
            if !known {
                crate::rules::check(op).map_err(Rejection::from)?;
                judge_claims(tx, op)?;
                judge_clock(tx, op, now)?;
            }
            let grids = grids_touched(tx, &op.body)?;
            match authz::authorize_write(user, op, &grids) {
                Err(Rejection::OutOfScope) => match actor_as_of(tx, &user.user_id, op.hlc)? {
                    Some(then) => authz::authorize_write(&then, op, &grids)?,
                    None => return Err(Rejection::OutOfScope.into()),
                },
                other => other?,
            }
            Ok(grids)
        };
        self.store.write(|tx| {
            let mut out = Vec::with_capacity(ops.len());
            let mut touched = Vec::with_capacity(ops.len());
            // Events on an existing case are appended now and their case folded once at the
            // end: folding it after each of n events would cost n² (nothing an event changes
            // decides whether a later op of the batch is authorised: a case's grid is its
            // report's).
            let mut deferred: Vec<usize> = Vec::new();
            for (i, op) in ops.iter().enumerate() {
                tx.execute_batch("SAVEPOINT pushed_op")?;
                let defer = matches!(&op.body, OpBody::Hazard { event, .. }
                    if !matches!(event, HazardEvent::Report(_)));
                let one = authorize(tx, op).and_then(|grids| {
                    let applied = if defer {
                        let applied = apply::append(tx, op, apply::Mode::Remote)?;
                        if applied == Applied::Applied {
                            deferred.push(i);
                        }
                        applied
                    } else {
                        let applied = self.store.apply_remote_in(tx, op)?;
                        refuse_invalid(tx, op)?;
                        applied
                    };
                    Ok((applied, grids))
                });
                match one {
                    Ok((applied, grids)) => {
                        tx.execute_batch("RELEASE pushed_op")?;
                        out.push(Ok(applied));
                        touched.push(grids);
                    }
                    Err(e) if e.refuses_input() => {
                        tx.execute_batch("ROLLBACK TO pushed_op; RELEASE pushed_op")?;
                        out.push(Err(e));
                        touched.push(Vec::new());
                    }
                    Err(e) => return Err(e),
                }
            }
            fold_deferred(tx, ops, &deferred, &mut out, &mut touched)?;
            // Events folded late move this store's clock as any applied op does, so what the
            // console records next sorts after them.
            let latest = deferred
                .iter()
                .filter(|&&i| out[i].is_ok())
                .map(|&i| ops[i].hlc.0)
                .max();
            if let Some(hlc) = latest {
                tx.prepare_cached("UPDATE device SET hlc = max(hlc, ?1) WHERE id = 1")?
                    .execute([hlc])?;
            }
            commit(&out, &touched)?;
            Ok(out)
        })
    }

    /// A stretch of the log in the order it was stored here: up to `limit` rows after
    /// `q.after` (and not after `q.upto`), each with its grids, leaving out ops made on
    /// `q.skip_device` (a device has its own ops already) and, when `q.compact`, whole-record
    /// ops (org nodes, users, plans) that a later op of the same record supersedes.
    pub fn feed(&self, q: &FeedQuery) -> Result<Feed> {
        self.store.read(|c| {
            let skip_device = q.skip_device.map(|d| d.to_string()).unwrap_or_default();
            let rows: Vec<(i64, Option<Op>)> = c
                .prepare_cached(&format!(
                    "SELECT rowid, device_id = ?3 OR (?5 AND kind IN ('org_node', 'user', 'plan')
                         AND EXISTS (SELECT 1 FROM ops later WHERE later.entity = ops.entity
                             AND (later.hlc, later.id) > (ops.hlc, ops.id))),
                         {OP_COLUMNS}
                     FROM ops WHERE rowid > ?1 AND rowid <= ?4 ORDER BY rowid LIMIT ?2"
                ))?
                .query_map(
                    params![
                        q.after,
                        q.limit as i64,
                        skip_device,
                        q.upto.unwrap_or(i64::MAX),
                        q.compact
                    ],
                    |r| {
                        let skip: bool = r.get(1)?;
                        let op = if skip { None } else { Some(op_row_at(r, 2)?.0) };
                        Ok((r.get(0)?, op))
                    },
                )?
                .collect::<rusqlite::Result<_>>()?;
            let full = rows.len() == q.limit;
            let last_position = rows.last().map_or(q.after, |(p, _)| *p);
            let mut items = Vec::with_capacity(rows.len());
            for (position, op) in rows {
                if let Some(op) = op {
                    let grids = grids_touched(c, &op.body)?;
                    items.push(FeedItem {
                        position,
                        op,
                        grids,
                    });
                }
            }
            Ok(Feed {
                items,
                last_position,
                full,
            })
        })
    }

    /// Where photo `hash` belongs: the op that first cited it in this log (its capture, or
    /// the record it was sent with), the device that made that op, and the grids of its
    /// record as held here now (`None`: nothing here cites it). A hash is learnt only from a
    /// record already here, so the first citation is the photo's own; a later op citing the
    /// same hash, from whoever, changes neither who sent the photo nor who may read it.
    pub fn photo_home(&self, hash: &str) -> Result<Option<PhotoHome>> {
        self.store.read(|c| {
            let first = c
                .prepare_cached(&format!(
                    "SELECT {OP_COLUMNS} FROM ops
                     WHERE id IN (SELECT op_id FROM photo_refs WHERE hash = ?1)
                     ORDER BY rowid LIMIT 1"
                ))?
                .query_row([hash], |r| op_row_at(r, 0))
                .optional()?;
            let Some((op, _, _)) = first else {
                return Ok(None);
            };
            Ok(Some(PhotoHome {
                grids: grids_touched(c, &op.body)?,
                device_id: op.device_id,
                user_id: op.actor_id,
            }))
        })
    }

    /// Whether an op made on `device_id`, or by `user_id`, cites photo `hash` (they have it
    /// to send).
    pub fn photo_cited_on(&self, hash: &str, device_id: Uuid, user_id: &str) -> Result<bool> {
        self.store.read(|c| {
            Ok(c.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM ops WHERE (device_id = ?2 OR actor_id = ?3)
                     AND id IN (SELECT op_id FROM photo_refs WHERE hash = ?1))",
            )?
            .query_row(params![hash, device_id.to_string(), user_id], |r| r.get(0))?)
        })
    }

    /// The photos that `user_id`'s ops cite (what their storage quota is counted over).
    pub fn photos_cited_by(&self, user_id: &str) -> Result<Vec<String>> {
        self.store.read(|c| {
            Ok(c.prepare_cached(
                "SELECT DISTINCT r.hash FROM photo_refs r JOIN ops o ON o.id = r.op_id
                     WHERE o.actor_id = ?1",
            )?
            .query_map([user_id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?)
        })
    }

    /// The position of the newest op stored here (0 when there is none).
    pub fn last_position(&self) -> Result<i64> {
        self.store
            .read(|c| Ok(c.query_row("SELECT coalesce(max(rowid), 0) FROM ops", [], |r| r.get(0))?))
    }

    /// Deletes whole-record ops (org nodes, users, plans) that a later op of the same record
    /// supersedes and whose HLC is older than `before_ms`. State does not change: the fold of
    /// such a record reads only its last op. Returns how many went and the highest position
    /// removed, below which a pull cursor can no longer be served incrementally.
    pub fn compact_superseded(&self, before_ms: i64) -> Result<(usize, Option<i64>)> {
        let before = crate::clock::Hlc::new(before_ms, 0).0;
        self.store.write(|tx| {
            // The newest row is never deleted: SQLite gives the next insert max(rowid) + 1,
            // and a reused position would hide that insert from cursors already past it.
            let doomed = "SELECT rowid FROM ops WHERE kind IN ('org_node', 'user', 'plan')
                AND hlc < ?1 AND conflict IS NULL AND rowid < (SELECT max(rowid) FROM ops)
                AND EXISTS (SELECT 1 FROM ops later WHERE later.entity = ops.entity
                    AND (later.hlc, later.id) > (ops.hlc, ops.id))";
            let highest: Option<i64> = tx.query_row(
                &format!("SELECT max(rowid) FROM ({doomed})"),
                [before],
                |r| r.get(0),
            )?;
            let n = tx.execute(
                &format!("DELETE FROM ops WHERE rowid IN ({doomed})"),
                [before],
            )?;
            Ok((n, highest))
        })
    }
}
