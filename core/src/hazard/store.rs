//! What the store does with hazards: the `hazards` table (a cache of the fold, rewritten whole
//! by apply), the commands that record lifecycle events, and the queries. Overdue, days overdue,
//! escalation due and repeat are worked out when read, never stored, so they cannot conflict
//! between devices.

use rusqlite::types::ToSql;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row, Transaction};
use serde::Serialize;
use uuid::Uuid;

use super::derived::overdue_sql;
use super::lifecycle::Rejection;
use super::{
    EscalationReason, Hazard, HazardEvent, HazardReport, HazardSource, HazardStatus, Level,
    Severity,
};
use crate::clock::{Day, Hlc};
use crate::error::{Entity, Error, Result};
use crate::op::{Op, OpBody};
use crate::org::{Actor, Role};
use crate::place::{self, GeoPoint, Place};
use crate::store::Store;

/// Writes the folded state into the `hazards` cache (or removes it when nothing valid remains).
pub(crate) fn put_hazard(tx: &Transaction, id: Uuid, h: Option<&Hazard>) -> Result<()> {
    let Some(h) = h else {
        tx.execute("DELETE FROM hazards WHERE id = ?1", [id.to_string()])?;
        return Ok(());
    };
    let (id, place_id) = (h.id.to_string(), h.report.place_id.to_string());
    let (severity, status, level) = (h.severity.code(), h.status.code(), h.level.code());
    let body = serde_json::to_string(h)?;
    // What the report fixes (?1-?8), then what lifecycle events change (?9-?18).
    let report: [&dyn ToSql; 8] = [
        &id,
        &place_id,
        &h.report.grid_id,
        &h.report.village_id,
        &h.report.township_id,
        &h.report.place_type,
        &h.report.category,
        &h.reported_at,
    ];
    let deadline = h.deadline.map(|d| d.0);
    let changing: [&dyn ToSql; 11] = [
        &severity,
        &status,
        &level,
        &deadline,
        &h.closed_at,
        &h.closed_on_time,
        &h.escalated,
        &h.rework_count,
        &h.supervised,
        &body,
        &h.case_number,
    ];
    // An upsert rewrites only the columns a lifecycle event can change, so the indexes over a
    // hazard's place, grid and report time are left alone on every event after the report.
    tx.prepare_cached(
        "INSERT INTO hazards (id, place_id, grid_id, village_id, township_id, place_type,
             category, reported_at, severity, status, level, deadline, closed_at,
             closed_on_time, escalated, rework_count, supervised, body, case_number)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
             ?19)
         ON CONFLICT (id) DO UPDATE SET severity = excluded.severity, status = excluded.status,
             level = excluded.level, deadline = excluded.deadline,
             closed_at = excluded.closed_at, closed_on_time = excluded.closed_on_time,
             escalated = excluded.escalated, rework_count = excluded.rework_count,
             supervised = excluded.supervised, body = excluded.body,
             case_number = excluded.case_number",
    )?
    .execute(params_from_iter(report.iter().chain(changing.iter())))?;
    // A different report can win the fold only when a rival report for the same id arrives
    // with an earlier HLC; then the report's own columns move too.
    tx.prepare_cached(
        "UPDATE hazards SET place_id = ?2, grid_id = ?3, village_id = ?4, township_id = ?5,
             place_type = ?6, category = ?7, reported_at = ?8
         WHERE id = ?1 AND (place_id <> ?2 OR grid_id <> ?3 OR village_id <> ?4
             OR township_id <> ?5 OR place_type <> ?6 OR category <> ?7 OR reported_at <> ?8)",
    )?
    .execute(params_from_iter(report.iter()))?;
    Ok(())
}

/// A hazard in a list: the columns a list shows, plus what is derived for today.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HazardRow {
    pub id: Uuid,
    pub place_id: Uuid,
    pub grid_id: String,
    pub category: String,
    pub severity: Severity,
    pub status: HazardStatus,
    pub level: Level,
    pub deadline: Option<Day>,
    pub reported_at: i64,
    pub days_overdue: Option<i32>,
    /// The server's short number; `None` (待编号) until the case has reached it.
    pub case_number: Option<String>,
    pub description: String,
}

const ROW_COLUMNS: &str = "id, place_id, grid_id, category, severity, status, level, deadline,
    reported_at, case_number, coalesce(json_extract(body, '$.report.description'), '')";

fn hazard_row(r: &Row<'_>, today: Day) -> rusqlite::Result<HazardRow> {
    let id: String = r.get(0)?;
    let place: String = r.get(1)?;
    let status: String = r.get(5)?;
    let status = status.parse().unwrap_or(HazardStatus::Reported);
    let severity: String = r.get(4)?;
    let deadline = r.get::<_, Option<i32>>(7)?.map(Day);
    let days_overdue = super::days_overdue(status, deadline, today);
    Ok(HazardRow {
        id: Uuid::parse_str(&id).unwrap_or_default(),
        place_id: Uuid::parse_str(&place).unwrap_or_default(),
        grid_id: r.get(2)?,
        category: r.get(3)?,
        severity: severity.parse().unwrap_or(Severity::General),
        status,
        level: r.get::<_, String>(6)?.parse().unwrap_or(Level::Grid),
        deadline,
        reported_at: r.get(8)?,
        days_overdue,
        case_number: r.get(9)?,
        description: r.get(10)?,
    })
}

/// One event of a hazard's history, with its conflict mark if it did not apply.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventRow {
    pub op_id: Uuid,
    pub hlc: Hlc,
    pub device_wall_ms: i64,
    pub actor_id: String,
    pub actor_role: Role,
    pub event: HazardEvent,
    pub conflict: Option<Rejection>,
}

impl EventRow {
    /// The hazard and event row of a hazard op; `None` for other ops.
    pub(crate) fn from_op(op: Op, conflict: Option<Rejection>) -> Option<(Uuid, EventRow)> {
        let OpBody::Hazard { hazard_id, event } = op.body else {
            return None;
        };
        Some((
            hazard_id,
            EventRow {
                op_id: op.id,
                hlc: op.hlc,
                device_wall_ms: op.wall_ms,
                actor_id: op.actor_id,
                actor_role: op.actor_role,
                event,
                conflict,
            },
        ))
    }
}

/// Everything about one hazard: its state, what is derived today, and its full history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HazardDetail {
    pub hazard: Hazard,
    pub days_overdue: Option<i32>,
    pub escalation_due: Option<EscalationReason>,
    /// Same place and category closed within `REPEAT_WINDOW_DAYS` before this report.
    pub repeat_of: Vec<Uuid>,
    pub events: Vec<EventRow>,
}

pub const REPEAT_WINDOW_DAYS: i64 = 180;

/// What a person fills in to raise a hazard at a place.
#[derive(Debug, Clone, PartialEq)]
pub struct NewHazard {
    pub place_id: Uuid,
    pub category: String,
    pub severity: Severity,
    pub description: String,
    pub photos: Vec<String>,
    pub location: Option<GeoPoint>,
    pub source: Option<HazardSource>,
    pub legal_basis: Option<String>,
}

/// The report op for a new hazard at `place`, with the place's grid, village, township and type
/// copied in.
impl NewHazard {
    /// A hazard at a place with no photos, location, checklist source or legal basis yet: set
    /// those with struct update syntax where they are known.
    pub fn new(place_id: Uuid, category: &str, severity: Severity, description: &str) -> Self {
        NewHazard {
            place_id,
            category: category.to_string(),
            severity,
            description: description.to_string(),
            photos: Vec::new(),
            location: None,
            source: None,
            legal_basis: None,
        }
    }
}

pub(crate) fn report_body(
    conn: &Connection,
    place: &Place,
    h: NewHazard,
) -> Result<(Uuid, OpBody)> {
    let (village_id, township_id) = crate::org::ancestors_of_grid(conn, &place.grid_id)?;
    let id = Uuid::now_v7();
    let report = HazardReport {
        place_id: place.id,
        place_type: place.place_type.clone(),
        grid_id: place.grid_id.clone(),
        village_id,
        township_id,
        category: h.category,
        severity: h.severity,
        description: h.description,
        source: h.source,
        legal_basis: h.legal_basis,
        photos: h.photos,
        location: h.location,
    };
    let body = OpBody::Hazard {
        hazard_id: id,
        event: HazardEvent::Report(Box::new(report)),
    };
    Ok((id, body))
}

/// The grid a hazard belongs to, from its indexed column (no need to decode the state).
pub(crate) fn grid_of_hazard(conn: &Connection, id: Uuid) -> Result<String> {
    conn.prepare_cached("SELECT grid_id FROM hazards WHERE id = ?1")?
        .query_row([id.to_string()], |r| r.get(0))
        .optional()?
        .ok_or_else(|| Error::not_found(Entity::Hazard, id.to_string()))
}

pub(crate) fn load_hazard(conn: &Connection, id: Uuid) -> Result<Hazard> {
    stored_state(conn, id)?.ok_or_else(|| Error::not_found(Entity::Hazard, id.to_string()))
}

/// The case as its row holds it (the fold of its ops), if it has one.
pub(crate) fn stored_state(conn: &Connection, id: Uuid) -> Result<Option<Hazard>> {
    let body: Option<String> = conn
        .prepare_cached("SELECT body FROM hazards WHERE id = ?1")?
        .query_row([id.to_string()], |r| r.get(0))
        .optional()?;
    Ok(body.map(|b| serde_json::from_str(&b)).transpose()?)
}

impl Store {
    /// Raises a hazard at a place in the actor's grids.
    pub fn report_hazard(&self, actor: &Actor, h: NewHazard) -> Result<Uuid> {
        self.write(|tx| self.report_hazard_in(tx, actor, h))
    }

    /// `report_hazard` within a running transaction (a submitted draft is deleted in it too).
    pub(crate) fn report_hazard_in(
        &self,
        tx: &Transaction,
        actor: &Actor,
        h: NewHazard,
    ) -> Result<Uuid> {
        let place = place::load_place(tx, h.place_id, Day(0))?.place;
        place::require_grid_in_scope(tx, actor, &place.grid_id)?;
        let (id, body) = report_body(tx, &place, h)?;
        self.commit_local(tx, actor, body)?;
        Ok(id)
    }

    /// Records one lifecycle event. The event is checked by the same state machine that folds
    /// the log; a rejection comes back as an error and nothing is stored.
    pub fn hazard_event(&self, actor: &Actor, hazard_id: Uuid, event: HazardEvent) -> Result<()> {
        if matches!(event, HazardEvent::Report(_)) {
            return Err(Rejection::AlreadyExists.into());
        }
        self.write(|tx| {
            if !actor.covers(&grid_of_hazard(tx, hazard_id)?) {
                return Err(Rejection::OutOfScope.into());
            }
            self.commit_local(tx, actor, OpBody::Hazard { hazard_id, event })?;
            Ok(())
        })
    }

    /// What `actor` may do next on a hazard (verbs, as `HazardEvent::verb` names them): nothing
    /// outside their scope.
    pub fn allowed_transitions(&self, actor: &Actor, hazard_id: Uuid) -> Result<Vec<&'static str>> {
        let h = self.read(|c| load_hazard(c, hazard_id))?;
        if !actor.covers(&h.report.grid_id) {
            return Ok(Vec::new());
        }
        Ok(super::derived::allowed_next(
            &h,
            &actor.user_id,
            actor.role,
            Hlc::new(self.now_ms(), 0),
        ))
    }

    pub fn hazard(&self, id: Uuid) -> Result<HazardDetail> {
        let today = self.today();
        self.read(|c| {
            let hazard = load_hazard(c, id)?;
            let mut repeat = c.prepare_cached(
                "SELECT id FROM hazards WHERE place_id = ?1 AND category = ?2 AND status = 'closed'
                 AND id <> ?3 AND closed_at BETWEEN ?4 AND ?5 ORDER BY closed_at",
            )?;
            let repeat_of = repeat
                .query_map(
                    params![
                        hazard.report.place_id.to_string(),
                        hazard.report.category,
                        id.to_string(),
                        hazard.reported_at - REPEAT_WINDOW_DAYS * crate::clock::MS_PER_DAY,
                        hazard.reported_at,
                    ],
                    |r| r.get::<_, String>(0),
                )?
                .filter_map(|r| r.ok().and_then(|s| Uuid::parse_str(&s).ok()))
                .collect();
            let events = crate::apply::entity_ops(c, &format!("hazard:{id}"))?
                .into_iter()
                .filter_map(|(op, conflict)| EventRow::from_op(op, conflict).map(|(_, e)| e))
                .collect();
            Ok(HazardDetail {
                days_overdue: hazard.days_overdue(today),
                escalation_due: hazard.escalation_due(today),
                repeat_of,
                events,
                hazard,
            })
        })
    }

    /// Open hazards of one grid, oldest first.
    pub fn open_hazards(&self, grid_id: &str) -> Result<Vec<HazardRow>> {
        let today = self.today();
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {ROW_COLUMNS} FROM hazards
                 WHERE grid_id = ?1 AND status NOT IN ('closed', 'withdrawn')
                 ORDER BY reported_at, id"
            ))?;
            let rows = stmt
                .query_map([grid_id], |r| hazard_row(r, today))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }

    /// Overdue hazards of a township, most overdue first, at most `limit`, with the full count.
    pub fn overdue_hazards(
        &self,
        township_id: &str,
        limit: usize,
    ) -> Result<(usize, Vec<HazardRow>)> {
        let today = self.today();
        self.read(|c| {
            // A grid, a village or a typing slip is not a township with nothing overdue.
            let node = crate::org::node(c, township_id)?;
            if node.level != crate::org::OrgLevel::Township {
                return Err(
                    crate::vocab::unknown(crate::error::Field::Township, township_id).into(),
                );
            }
            overdue_in(c, "township_id", township_id, today, limit)
        })
    }

    /// Hazards in the actor's grids, newest first, optionally only those in one status.
    pub fn hazards(&self, actor: &Actor, status: Option<HazardStatus>) -> Result<Vec<HazardRow>> {
        let today = self.today();
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {ROW_COLUMNS} FROM hazards WHERE grid_id = ?1 AND (?2 IS NULL OR status = ?2)
                 ORDER BY reported_at DESC, id"
            ))?;
            let mut out = Vec::new();
            for g in &actor.grids {
                for r in stmt.query_map(params![g, status.map(|s| s.code())], |r| hazard_row(r, today))? {
                    out.push(r?);
                }
            }
            out.sort_by(|a, b| b.reported_at.cmp(&a.reported_at).then(a.id.cmp(&b.id)));
            Ok(out)
        })
    }

    /// Resolves a hazard id typed by a person: the full id, or a unique tail of at least 6
    /// characters (the tail of a UUIDv7 is random, its head is a timestamp).
    pub fn find_hazard(&self, id_or_tail: &str) -> Result<Uuid> {
        self.resolve_id("hazards", id_or_tail, Entity::Hazard)
    }

    /// Every hazard ever raised at a place, newest first.
    pub fn hazards_at_place(&self, place_id: Uuid, today: Day) -> Result<Vec<HazardRow>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {ROW_COLUMNS} FROM hazards WHERE place_id = ?1 ORDER BY reported_at DESC, id"
            ))?;
            let rows = stmt
                .query_map([place_id.to_string()], |r| hazard_row(r, today))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }
}

/// Overdue list for one org column (`grid_id`, `village_id` or `township_id`).
pub(crate) fn overdue_in(
    c: &Connection,
    column: &str,
    node_id: &str,
    today: Day,
    limit: usize,
) -> Result<(usize, Vec<HazardRow>)> {
    let filter = format!("{column} = ?1 AND {}", overdue_sql("?2"));
    let count: i64 = c
        .prepare_cached(&format!("SELECT count(*) FROM hazards WHERE {filter}"))?
        .query_row(params![node_id, today.0], |r| r.get(0))?;
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {ROW_COLUMNS} FROM hazards WHERE {filter} ORDER BY deadline, id LIMIT ?3"
    ))?;
    let rows = stmt
        .query_map(params![node_id, today.0, limit as i64], |r| {
            hazard_row(r, today)
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((count as usize, rows))
}

/// What was overdue in one org column at the end of `day`: as `overdue_in` when `day` is today
/// or later (then as of today); for a day past, each case that was open then is folded from its
/// events up to that day's end, so a case closed or extended since counts as it stood.
pub(crate) fn overdue_at(
    c: &Connection,
    column: &str,
    node_id: &str,
    day: Day,
    today: Day,
    limit: usize,
) -> Result<(usize, Vec<HazardRow>)> {
    if day >= today {
        return overdue_in(c, column, node_id, today, limit);
    }
    let end = day.plus(1).start_ms();
    let candidates = c
        .prepare_cached(&format!(
            "SELECT {ROW_COLUMNS} FROM hazards WHERE {column} = ?1 AND reported_at < ?2
             AND (closed_at IS NULL OR closed_at >= ?2)"
        ))?
        .query_map(params![node_id, end], |r| hazard_row(r, day))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut out = Vec::new();
    for mut row in candidates {
        let ops: Vec<Op> = crate::apply::entity_ops(c, &format!("hazard:{}", row.id))?
            .into_iter()
            .map(|(op, _)| op)
            .filter(|op| op.hlc.wall_ms() < end)
            .collect();
        let Some(h) = super::lifecycle::fold_ops(row.id, &ops).0 else {
            continue;
        };
        if let Some(days) = h.days_overdue(day) {
            (row.status, row.level, row.deadline) = (h.status, h.level, h.deadline);
            row.days_overdue = Some(days);
            out.push(row);
        }
    }
    out.sort_by_key(|h| (h.deadline, h.id));
    let n = out.len();
    out.truncate(limit);
    Ok((n, out))
}

/// What a hazard list shows: the hazards in `grids` (the reader's scope) that match every
/// filter given. `overdue` keeps only hazards past their deadline and not yet submitted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HazardFilter {
    pub grids: Vec<String>,
    pub status: Option<HazardStatus>,
    pub severity: Option<Severity>,
    pub level: Option<Level>,
    pub village_id: Option<String>,
    pub grid_id: Option<String>,
    pub place_type: Option<String>,
    pub overdue: bool,
    /// Words to find in the case number or the description.
    pub search: Option<String>,
    /// Oldest first rather than newest first (a queue rather than a list).
    pub oldest_first: bool,
    /// By deadline, the nearest first (cases without one last), instead of by report time.
    pub by_deadline: bool,
    /// How many matches to pass over, in that order (for paging).
    pub offset: usize,
    pub limit: usize,
}

impl Store {
    /// Hazards matching `f`, newest first (oldest first with `f.oldest_first`), at most
    /// `f.limit` after the first `f.offset`, with how many match in all.
    pub fn hazard_list(&self, f: &HazardFilter) -> Result<(usize, Vec<HazardRow>)> {
        use rusqlite::types::Value;
        let today = self.today();
        let filter = format!(
            "grid_id IN (SELECT value FROM json_each(?1))
            AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR severity = ?3)
            AND (?4 IS NULL OR level = ?4) AND (?5 IS NULL OR village_id = ?5)
            AND (?6 IS NULL OR grid_id = ?6) AND (?7 IS NULL OR place_type = ?7)
            AND (NOT ?8 OR {})
            AND (?10 IS NULL OR coalesce(case_number, '') LIKE ?10 ESCAPE '\\'
                 OR json_extract(body, '$.report.description') LIKE ?10 ESCAPE '\\')",
            overdue_sql("?9")
        );
        // The words as typed, matched anywhere, with LIKE's own characters taken literally.
        let search = f
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                let escaped = s
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                format!("%{escaped}%")
            });
        let text = |s: Option<&str>| s.map_or(Value::Null, |s| Value::Text(s.to_string()));
        let mut args: Vec<Value> = vec![
            Value::Text(serde_json::to_string(&f.grids)?),
            text(f.status.map(|s| s.code())),
            text(f.severity.map(|s| s.code())),
            text(f.level.map(|l| l.code())),
            text(f.village_id.as_deref()),
            text(f.grid_id.as_deref()),
            text(f.place_type.as_deref()),
            Value::Integer(i64::from(f.overdue)),
            Value::Integer(i64::from(today.0)),
            text(search.as_deref()),
        ];
        let order = match (f.by_deadline, f.oldest_first) {
            (true, _) => "deadline IS NULL, deadline, reported_at",
            (false, true) => "reported_at ASC",
            (false, false) => "reported_at DESC",
        };
        self.read(|c| {
            let total: i64 = c
                .prepare_cached(&format!("SELECT count(*) FROM hazards WHERE {filter}"))?
                .query_row(params_from_iter(&args), |r| r.get(0))?;
            args.push(Value::Integer(i64::try_from(f.limit).unwrap_or(i64::MAX)));
            args.push(Value::Integer(i64::try_from(f.offset).unwrap_or(i64::MAX)));
            let rows = c
                .prepare_cached(&format!(
                    "SELECT {ROW_COLUMNS} FROM hazards WHERE {filter}
                     ORDER BY {order}, id LIMIT ?11 OFFSET ?12"
                ))?
                .query_map(params_from_iter(&args), |r| hazard_row(r, today))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok((usize::try_from(total).unwrap_or(0), rows))
        })
    }
}
