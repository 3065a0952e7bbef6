//! Judging a push: every op a phone sends is judged against the records the server holds
//! before it is stored (ADR 0011): its fields (`rules`), its claims about where its record
//! belongs and whether it exists, its clock, and the pusher's scope as of the op. A refused op
//! is undone alone and never holds back the ops behind it; events on a case are folded once
//! per push.

use std::collections::{BTreeSet, HashMap};

use rusqlite::{params, Connection, OptionalExtension};
use uuid::Uuid;

use super::{grid_of, grids_touched, Records};
use crate::apply::{self, Applied};
use crate::clock::Hlc;
use crate::error::Result;
use crate::hazard::lifecycle::Rejection;
use crate::hazard::HazardEvent;
use crate::op::{Op, OpBody};
use crate::org;
use crate::org::Actor;
use crate::sync::authz;
use crate::sync::protocol::{MAX_AHEAD_MS, MAX_OPS_PER_RECORD};

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
            // A hazard raised from an item that asks for a photo when it fails brings one.
            if let (Some(src), true) = (&r.source, r.photos.is_empty()) {
                let asks =
                    crate::checklist::load_template(c, &src.template_id, src.template_version)
                        .ok()
                        .and_then(|t| t.item(&src.item_key).ok().map(|i| i.photo_on_fail))
                        .unwrap_or(false);
                if asks {
                    return Err(Rejection::from(crate::error::InvalidInput::new(
                        crate::error::Field::Photo,
                        crate::error::Problem::Empty,
                    ))
                    .into());
                }
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
        // A training's trainees are people with accounts here.
        OpBody::Activity(a) => {
            if a.check_trainees(c).is_err() {
                return Err(Rejection::NotAsRecorded.into());
            }
            if let Some(g) = &a.group_id {
                if crate::registers::group::require_held_by(c, g, a.kind, None).is_err() {
                    return Err(Rejection::NotAsRecorded.into());
                }
            }
        }
        // A group belongs to an area of the org tree with grids, and its members with
        // accounts have them here.
        OpBody::Group(g)
            if org::grids_under(c, &g.org_id)?.is_empty()
                || g.members
                    .iter()
                    .filter_map(|m| m.user_id.as_deref())
                    .any(|u| org::user_in(c, u).is_err()) =>
        {
            return Err(Rejection::NotAsRecorded.into());
        }
        // A check is of a group here. Its items are not judged against the list as it stands
        // now: a leader may have retyped it since the check was made offline, and an item no
        // longer listed is simply never read.
        OpBody::EquipmentCheck(x)
            if crate::registers::group::load_group(c, &x.group_id)?.is_none() =>
        {
            return Err(Rejection::NotAsRecorded.into());
        }
        // A withdrawal is of a fire here.
        OpBody::FireWithdrawn(w) if grid_of(c, "fires", &w.fire_id)?.is_none() => {
            return Err(Rejection::NotCreated.into());
        }
        // A fire is in a grid, and at a place of that grid when it names one.
        OpBody::Fire(f) => {
            org::ancestors_of_grid(c, &f.grid_id)?;
            if let Some(place) = &f.place_id {
                place_grid(place, &f.grid_id)?;
            }
        }
        // A place's letter is of a place of its grid; a pact is a village's.
        OpBody::Letter(l) => match &l.place_id {
            Some(place) => place_grid(place, &l.org_id)?,
            None if org::node(c, &l.org_id)?.level == org::OrgLevel::Village => {}
            None => return Err(Rejection::NotAsRecorded.into()),
        },
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

impl Records {
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
        self.accept_pushed_then(user, device_id, ops, |_, _, _| Ok(()))
    }

    /// `accept_pushed`, with `commit` called inside the transaction once every op has its
    /// answer and before anything is committed here; an error from it undoes the whole batch.
    /// `commit` also gets the grids each op touched when it was authorised (none for a refused
    /// one), and the ops that numbered the cases the batch reported, with their grids: a case
    /// is numbered in the transaction that stores its report, so none is ever stored without
    /// a number. A server whose log lives elsewhere (PostgreSQL) commits the applied ops and
    /// the numbers there in `commit`, so this store, its fold of that log, never holds an op
    /// the log lacks.
    pub fn accept_pushed_then(
        &self,
        user: &Actor,
        device_id: Uuid,
        ops: &[Op],
        commit: impl FnOnce(&[Result<Applied>], &[Vec<String>], &[(Op, Vec<String>)]) -> Result<()>,
    ) -> Result<Vec<Result<Applied>>> {
        let now = self.now_ms();
        let authorize = |tx: &Connection, op: &Op| -> Result<Vec<String>> {
            if op.device_id != device_id {
                return Err(Rejection::WrongDevice.into());
            }
            // A known op is a duplicate, and one whose sequence number another op holds is a
            // clash (a device restored from an old backup): the log answers both, more
            // precisely than a judgement of their content would. A duplicate was authorised
            // when it was stored; judged again as its sender stands now (sent again after a
            // restore, by a user since moved), it would be refused though it is here.
            let (stored, clash): (bool, bool) = tx
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM ops WHERE id = ?1),
                         EXISTS (SELECT 1 FROM ops WHERE device_id = ?2 AND seq = ?3)",
                )?
                .query_row(
                    params![op.id.to_string(), op.device_id.to_string(), op.seq],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
            if stored {
                return Ok(Vec::new());
            }
            if !clash {
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
            let reported: Vec<Uuid> = ops
                .iter()
                .zip(&out)
                .filter_map(|(op, outcome)| match (&op.body, outcome) {
                    (
                        OpBody::Hazard {
                            hazard_id,
                            event: HazardEvent::Report(_),
                        },
                        Ok(Applied::Applied),
                    ) => Some(*hazard_id),
                    _ => None,
                })
                .collect();
            let mut numbered = Vec::with_capacity(reported.len());
            for op in self.store.number_in(tx, &reported)? {
                let grids = grids_touched(tx, &op.body)?;
                numbered.push((op, grids));
            }
            commit(&out, &touched, &numbered)?;
            Ok(out)
        })
    }
}
