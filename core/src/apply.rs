//! The one apply function. Local and remote ops both enter here: the op is appended to the log
//! (idempotently: a known op id, or a known device + sequence, is a duplicate), then the record
//! it belongs to is folded again from all of its ops in (HLC, op id) order and its derived row
//! rewritten. Because state is always a fold over the full set of a record's ops, the same set of
//! ops gives the same state in any arrival order, with any duplicates.
//!
//! What a fold finds invalid at its position is written to `ops.conflict` and stays in the log.
//! In `Mode::Local` such an op is refused instead (the caller's transaction rolls back), so a
//! person sees the reason as an error at the moment they act.

use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use uuid::Uuid;

use crate::activity;
use crate::checklist;
use crate::clock::Hlc;
use crate::error::{Error, Result};
use crate::hazard::{self, lifecycle};
use crate::op::{Op, OpBody};
use crate::org;
use crate::patrol;
use crate::place;
use crate::plan;
use crate::registers;
use crate::store::InterruptScope;
use lifecycle::Rejection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Local,
    Remote,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Applied,
    Duplicate,
}

pub(crate) fn apply_op(tx: &Transaction, op: &Op, mode: Mode) -> Result<Applied> {
    if append(tx, op, mode)? == Applied::Duplicate {
        return Ok(Applied::Duplicate);
    }
    // A record this device has just created under a fresh UUIDv7 has no other ops anywhere.
    let fresh = mode == Mode::Local && op.body.creates_record();
    let conflicts = refold(tx, &op.body.entity(), Some((op, fresh)))?;
    if mode == Mode::Local {
        if let Some((_, why)) = conflicts.into_iter().find(|(id, _)| *id == op.id) {
            return Err(Error::Rejected(why));
        }
    }
    Ok(Applied::Applied)
}

/// Appends `op` to the log without folding its record (see `apply_op`): a caller appending
/// many ops of one record folds it once afterwards with `refold_entity`.
pub(crate) fn append(tx: &Transaction, op: &Op, mode: Mode) -> Result<Applied> {
    let entity = op.body.entity();
    let inserted = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO ops (id, device_id, seq, hlc, wall_ms, actor_id, actor_role,
                 kind, entity, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?
        .execute(params![
            op.id.to_string(),
            op.device_id.to_string(),
            op.seq,
            op.hlc.0,
            op.wall_ms,
            op.actor_id,
            op.actor_role.code(),
            op.body.kind(),
            entity,
            serde_json::to_string(&op.body)?,
        ])?;
    if inserted == 0 {
        // Ignored: either this op is already here (a duplicate, harmless), or another op holds
        // its device and sequence number, as when a phone's database was copied or restored
        // from an old backup. That one must never pass for a duplicate: it would be lost.
        let known: bool = tx
            .prepare_cached("SELECT count(*) FROM ops WHERE id = ?1")?
            .query_row([op.id.to_string()], |r| r.get::<_, i64>(0))?
            > 0;
        if known {
            return Ok(Applied::Duplicate);
        }
        return Err(Error::SequenceClash {
            device_id: op.device_id,
            seq: op.seq,
        });
    }
    crate::photo::record_refs(tx, op, mode == Mode::Local)?;
    Ok(Applied::Applied)
}

/// Folds `entity` again from all of its ops (after `append`, or after its ops were re-dated),
/// returning the conflicts found.
pub(crate) fn refold_entity(tx: &Transaction, entity: &str) -> Result<Vec<(Uuid, Rejection)>> {
    refold(tx, entity, None)
}

/// Takes `op` out of the log again, inside the transaction that appended it (a pushed op the
/// server refuses after folding its record); the caller folds the record again.
#[cfg(feature = "server")]
pub(crate) fn unappend(tx: &Transaction, op: &Op) -> Result<()> {
    tx.prepare_cached("DELETE FROM photo_refs WHERE op_id = ?1")?
        .execute([op.id.to_string()])?;
    tx.prepare_cached("DELETE FROM ops WHERE id = ?1")?
        .execute([op.id.to_string()])?;
    Ok(())
}

pub(crate) const OP_COLUMNS: &str =
    "id, device_id, seq, hlc, wall_ms, actor_id, actor_role, body, conflict";

pub(crate) fn op_row(r: &Row<'_>) -> rusqlite::Result<(Op, Option<String>, String)> {
    op_row_at(r, 0)
}

/// An op read from `OP_COLUMNS` starting at column `at`, with its conflict mark and raw body.
pub(crate) fn op_row_at(r: &Row<'_>, at: usize) -> rusqlite::Result<(Op, Option<String>, String)> {
    let id: String = r.get(at)?;
    let device: String = r.get(at + 1)?;
    let role: String = r.get(at + 6)?;
    let bad = |i: usize, e: &dyn std::fmt::Display| {
        rusqlite::Error::FromSqlConversionFailure(
            at + i,
            rusqlite::types::Type::Text,
            e.to_string().into(),
        )
    };
    let body: String = r.get(at + 7)?;
    let op = Op {
        id: Uuid::parse_str(&id).map_err(|e| bad(0, &e))?,
        device_id: Uuid::parse_str(&device).map_err(|e| bad(1, &e))?,
        seq: r.get(at + 2)?,
        hlc: Hlc(r.get(at + 3)?),
        wall_ms: r.get(at + 4)?,
        actor_id: r.get(at + 5)?,
        actor_role: role.parse().map_err(|e| bad(6, &e))?,
        body: serde_json::from_str(&body).map_err(|e| bad(7, &e))?,
    };
    Ok((op, r.get(at + 8)?, body))
}

fn parse_conflict(c: Option<String>) -> Option<Rejection> {
    c.and_then(|s| serde_json::from_str(&s).ok())
}

/// Why the fold found op `id` invalid at its position, if it did.
#[cfg(feature = "server")]
pub(crate) fn conflict_of(conn: &Connection, id: &Uuid) -> Result<Option<Rejection>> {
    let c: Option<Option<String>> = conn
        .prepare_cached("SELECT conflict FROM ops WHERE id = ?1")?
        .query_row([id.to_string()], |r| r.get(0))
        .optional()?;
    Ok(parse_conflict(c.flatten()))
}

/// All ops of one record, in fold order, each with its conflict mark.
pub(crate) fn entity_ops(conn: &Connection, entity: &str) -> Result<Vec<(Op, Option<Rejection>)>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {OP_COLUMNS} FROM ops WHERE entity = ?1 ORDER BY hlc, id"
    ))?;
    let rows = stmt
        .query_map([entity], op_row)?
        .map(|r| r.map(|(op, c, _)| (op, parse_conflict(c))))
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub(crate) fn all_ops(conn: &Connection) -> Result<Vec<Op>> {
    let mut stmt = conn.prepare(&format!("SELECT {OP_COLUMNS} FROM ops ORDER BY hlc, id"))?;
    let rows = stmt
        .query_map([], op_row)?
        .map(|r| r.map(|(op, _, _)| op))
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub(crate) fn conflicted_ops(conn: &Connection) -> Result<Vec<(Op, Rejection)>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {OP_COLUMNS} FROM ops WHERE conflict IS NOT NULL ORDER BY hlc, id"
    ))?;
    let rows = stmt
        .query_map([], op_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows
        .into_iter()
        .filter_map(|(op, c, _)| parse_conflict(c).map(|r| (op, r)))
        .collect())
}

/// Loads the ops of `entity` in fold order. When `just_added` is the only one (the common case
/// of a new record), it is used as it is instead of being read back and decoded.
fn load_for_fold(
    tx: &Transaction,
    entity: &str,
    just_added: Option<(&Op, bool)>,
) -> Result<Vec<Op>> {
    if let Some((op, fresh)) = just_added {
        // An op that creates a record is usually its only op; an event on a record never is.
        let alone = fresh
            || op.body.creates_record()
                && tx
                    .prepare_cached("SELECT count(*) FROM ops WHERE entity = ?1 AND id <> ?2")?
                    .query_row(params![entity, op.id.to_string()], |r| r.get::<_, i64>(0))?
                    == 0;
        if alone {
            return Ok(vec![op.clone()]);
        }
    }
    Ok(entity_ops(tx, entity)?
        .into_iter()
        .map(|(op, _)| op)
        .collect())
}

/// Folds one record from its ops, rewrites its derived rows and its ops' conflict marks, and
/// returns the conflicts.
/// `just_added` is the op that triggered the refold, and whether it is known to be the
/// record's only op.
fn refold(
    tx: &Transaction,
    entity: &str,
    just_added: Option<(&Op, bool)>,
) -> Result<Vec<(Uuid, Rejection)>> {
    if let Some((op, _)) = just_added {
        if let Some(conflicts) = step_case(tx, entity, op)? {
            return Ok(conflicts);
        }
    }
    let ops = load_for_fold(tx, entity, just_added)?;
    let Some(first) = ops.first() else {
        return Ok(Vec::new());
    };
    let conflicts = match &first.body {
        OpBody::Hazard { hazard_id, .. } => {
            let id = *hazard_id;
            let (state, conflicts) = lifecycle::fold_ops(id, &ops);
            hazard::put_hazard(tx, id, state.as_ref())?;
            conflicts
        }
        OpBody::PlaceCreate(_) | OpBody::PlaceUpdate(_) => {
            let (state, conflicts) = place::fold(&ops);
            if let Some((p, pending)) = state {
                place::put_place(tx, &p, pending)?;
            }
            conflicts
        }
        OpBody::OrgNode(_) => {
            if let Some(OpBody::OrgNode(n)) = ops.last().map(|o| &o.body) {
                org::put_node(tx, n)?;
            }
            Vec::new()
        }
        OpBody::User(_) => {
            if let Some(OpBody::User(u)) = ops.last().map(|o| &o.body) {
                org::put_user(tx, u)?;
            }
            Vec::new()
        }
        OpBody::Plan(_) => {
            if let Some(OpBody::Plan(p)) = ops.last().map(|o| &o.body) {
                plan::put_plan(tx, p)?;
            }
            Vec::new()
        }
        OpBody::Campaign(_) => {
            if let Some(OpBody::Campaign(x)) = ops.last().map(|o| &o.body) {
                crate::campaign::put_campaign(tx, x)?;
            }
            Vec::new()
        }
        OpBody::Fire(_) | OpBody::FireWithdrawn(_) => registers::fire::fold(tx, &ops)?,
        OpBody::Group(_) => {
            if let Some(OpBody::Group(g)) = ops.last().map(|o| &o.body) {
                registers::group::put_group(tx, g)?;
            }
            Vec::new()
        }
        OpBody::Template(_)
        | OpBody::Patrol(_)
        | OpBody::Activity(_)
        | OpBody::Photo(_)
        | OpBody::Letter(_)
        | OpBody::EquipmentCheck(_) => write_once(tx, &ops)?,
    };
    mark_conflicts(tx, entity, &conflicts, ops.len() > 1)?;
    Ok(conflicts)
}

/// A case's event that sorts after every op the case already has (the usual way a case moves
/// on: its number, a notice, a rectification) steps the stored state forward instead of folding
/// the case's whole history again. The fold is a left fold in (HLC, op id) order and the stored
/// row is its result, so one more step gives what the whole fold would, and no earlier op's
/// conflict mark can change; reading the case back costs one row, not every op with its report.
/// `None` when the event sorts before another op of the case (it arrived late), or is a report.
fn step_case(tx: &Transaction, entity: &str, op: &Op) -> Result<Option<Vec<(Uuid, Rejection)>>> {
    let OpBody::Hazard { hazard_id, event } = &op.body else {
        return Ok(None);
    };
    if op.body.creates_record() {
        return Ok(None);
    }
    let last: bool = tx
        .prepare_cached(
            "SELECT NOT EXISTS (SELECT 1 FROM ops WHERE entity = ?1 AND (hlc, id) > (?2, ?3))",
        )?
        .query_row(params![entity, op.hlc.0, op.id.to_string()], |r| r.get(0))?;
    if !last {
        return Ok(None);
    }
    let stored = hazard::stored_state(tx, *hazard_id)?;
    let ctx = lifecycle::Ctx::of(op);
    Ok(Some(
        match lifecycle::step(*hazard_id, stored.as_ref(), ctx, event) {
            Ok(next) => {
                hazard::put_hazard(tx, *hazard_id, Some(&next))?;
                Vec::new()
            }
            Err(why) => {
                let conflicts = vec![(op.id, why)];
                mark_conflicts(tx, entity, &conflicts, false)?;
                conflicts
            }
        },
    ))
}

/// Records written once (templates, patrols, activities, photos, fires, letters): the first op in fold order wins; any
/// other op with the same record id is a conflict.
fn write_once(tx: &Transaction, ops: &[Op]) -> Result<Vec<(Uuid, Rejection)>> {
    let Some(first) = ops.first() else {
        return Ok(Vec::new());
    };
    if ops.len() > 1 {
        // The winner may have changed (an earlier op arrived late): replace what is stored.
        forget_written(tx, &first.body)?;
    }
    match &first.body {
        OpBody::Patrol(p) => patrol::put_patrol(tx, p)?,
        OpBody::Activity(a) => activity::put_activity(tx, a, &first.actor_id)?,
        OpBody::Photo(c) => crate::photo::put_capture(tx, c, &first.actor_id)?,
        OpBody::Template(t) => checklist::put_template(tx, t)?,
        OpBody::Letter(l) => registers::letter::put_letter(tx, l, &first.actor_id)?,
        OpBody::EquipmentCheck(c) => registers::group::put_check(tx, c, &first.actor_id)?,
        _ => {}
    }
    // The same record sent again with the same content is not a conflict; anything else is.
    Ok(ops[1..]
        .iter()
        .filter(|op| op.body != first.body)
        .map(|op| (op.id, Rejection::AlreadyExists))
        .collect())
}

/// Deletes the derived rows of a write-once record, to be written again.
pub(crate) fn forget_written(tx: &Transaction, body: &OpBody) -> Result<()> {
    match body {
        OpBody::Patrol(p) => {
            let id = p.id.to_string();
            tx.execute("DELETE FROM patrol_answers WHERE patrol_id = ?1", [&id])?;
            tx.execute("DELETE FROM patrols WHERE id = ?1", [&id])?;
        }
        OpBody::Activity(a) => {
            tx.execute("DELETE FROM activities WHERE id = ?1", [a.id.to_string()])?;
        }
        OpBody::Photo(c) => {
            tx.execute("DELETE FROM photos WHERE id = ?1", [c.id.to_string()])?;
        }
        OpBody::Letter(l) => {
            tx.execute("DELETE FROM letters WHERE id = ?1", [l.id.to_string()])?;
        }
        OpBody::EquipmentCheck(c) => {
            tx.execute(
                "DELETE FROM equipment_checks WHERE check_id = ?1",
                [c.id.to_string()],
            )?;
        }
        OpBody::Template(t) => {
            tx.execute(
                "DELETE FROM templates WHERE id = ?1 AND version = ?2",
                params![t.id, t.version],
            )?;
        }
        _ => {}
    }
    Ok(())
}

fn mark_conflicts(
    tx: &Transaction,
    entity: &str,
    conflicts: &[(Uuid, Rejection)],
    had_others: bool,
) -> Result<()> {
    if had_others {
        tx.prepare_cached(
            "UPDATE ops SET conflict = NULL WHERE entity = ?1 AND conflict IS NOT NULL",
        )?
        .execute([entity])?;
    }
    let mut stmt = tx.prepare_cached("UPDATE ops SET conflict = ?2 WHERE id = ?1")?;
    for (id, why) in conflicts {
        stmt.execute(params![id.to_string(), serde_json::to_string(why)?])?;
    }
    Ok(())
}

/// Refolds every record from the log (after a repair, or to check that derived state matches).
pub(crate) fn rebuild(tx: &Transaction, scope: &InterruptScope<'_>) -> Result<()> {
    tx.execute_batch(
        "DELETE FROM hazards; DELETE FROM patrol_answers; DELETE FROM patrols;
         DELETE FROM places; DELETE FROM activities; DELETE FROM templates;
         DELETE FROM patrol_plans; DELETE FROM photos; DELETE FROM fires; DELETE FROM letters;
         DELETE FROM fire_groups; DELETE FROM equipment_checks;
         DELETE FROM user_orgs; DELETE FROM users; DELETE FROM org_nodes;",
    )?;
    crate::photo::rebuild_refs(tx)?;
    // Reference data first, so records that point at it find it.
    let entities: Vec<String> = tx
        .prepare(
            "SELECT entity FROM ops GROUP BY entity
             ORDER BY CASE substr(entity, 1, instr(entity, ':') - 1)
                WHEN 'org' THEN 0 WHEN 'user' THEN 1 WHEN 'template' THEN 2 WHEN 'place' THEN 3
                WHEN 'group' THEN 3 ELSE 4 END, min(hlc)",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for e in entities {
        scope.check()?;
        refold(tx, &e, None)?;
    }
    Ok(())
}

/// Refolds every record of one kind (`hazard`, `place`, ...) from the log, after an upgrade
/// that changed how that kind folds.
pub(crate) fn refold_kind(tx: &Transaction, kind: &str) -> Result<()> {
    let entities: Vec<String> = tx
        .prepare("SELECT DISTINCT entity FROM ops WHERE entity >= ?1 AND entity < ?2")?
        .query_map([format!("{kind}:"), format!("{kind};")], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for e in entities {
        refold(tx, &e, None)?;
    }
    Ok(())
}

/// The op with this id, if the log has it.
pub(crate) fn op_by_id(conn: &Connection, id: &str) -> Result<Option<Op>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {OP_COLUMNS} FROM ops WHERE id = ?1"))?
        .query_row([id], op_row)
        .optional()?
        .map(|(op, _, _)| op))
}
