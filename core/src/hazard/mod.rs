//! Hazards (隐患): what a hazard is, the events of its lifecycle, and the commands and queries
//! over them. The state machine itself is in `lifecycle`. The `hazards` table is a cache of the
//! fold, rewritten whole by apply; overdue, days overdue, escalation due and repeat are worked
//! out when read, never stored, so they cannot conflict between devices.

pub mod lifecycle;

use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::{Day, Hlc};
use crate::error::{Entity, Error, Result};
use crate::op::OpBody;
use crate::org::{Actor, Role};
use crate::place::{self, GeoPoint, Place};
use crate::store::Store;
use lifecycle::{Ctx, Rejection};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    General,
    Major,
}

impl Severity {
    pub fn code(self) -> &'static str {
        match self {
            Severity::General => "general",
            Severity::Major => "major",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            Severity::General => "一般隐患",
            Severity::Major => "重大隐患",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HazardStatus {
    Reported,
    Notified,
    Rectifying,
    AwaitingReview,
    FixedOnSpot,
    Escalated,
    JointEnforcement,
    Referred,
    Closed,
    Withdrawn,
}

impl HazardStatus {
    pub const ALL: [HazardStatus; 10] = [
        HazardStatus::Reported,
        HazardStatus::Notified,
        HazardStatus::Rectifying,
        HazardStatus::AwaitingReview,
        HazardStatus::FixedOnSpot,
        HazardStatus::Escalated,
        HazardStatus::JointEnforcement,
        HazardStatus::Referred,
        HazardStatus::Closed,
        HazardStatus::Withdrawn,
    ];
    pub fn code(self) -> &'static str {
        match self {
            HazardStatus::Reported => "reported",
            HazardStatus::Notified => "notified",
            HazardStatus::Rectifying => "rectifying",
            HazardStatus::AwaitingReview => "awaiting_review",
            HazardStatus::FixedOnSpot => "fixed_on_spot",
            HazardStatus::Escalated => "escalated",
            HazardStatus::JointEnforcement => "joint_enforcement",
            HazardStatus::Referred => "referred",
            HazardStatus::Closed => "closed",
            HazardStatus::Withdrawn => "withdrawn",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            HazardStatus::Reported => "已上报",
            HazardStatus::Notified => "已下发整改通知",
            HazardStatus::Rectifying => "整改中",
            HazardStatus::AwaitingReview => "待复查",
            HazardStatus::FixedOnSpot => "当场整改",
            HazardStatus::Escalated => "已上报上级",
            HazardStatus::JointEnforcement => "联合执法",
            HazardStatus::Referred => "已移交监督执法部门",
            HazardStatus::Closed => "已销号",
            HazardStatus::Withdrawn => "已撤销",
        }
    }
    pub fn is_final(self) -> bool {
        matches!(self, HazardStatus::Closed | HazardStatus::Withdrawn)
    }
    pub fn parse(s: &str) -> Option<HazardStatus> {
        HazardStatus::ALL.into_iter().find(|x| x.code() == s)
    }
}

/// The level that holds a case: it starts in the grid and moves up by escalation, down by 交办.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Grid,
    Village,
    Township,
}

impl Level {
    pub fn code(self) -> &'static str {
        match self {
            Level::Grid => "grid",
            Level::Village => "village",
            Level::Township => "township",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            Level::Grid => "网格",
            Level::Village => "村（社区）",
            Level::Township => "乡镇（街道）",
        }
    }
    fn parse(s: &str) -> Level {
        match s {
            "village" => Level::Village,
            "township" => Level::Township,
            _ => Level::Grid,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationReason {
    BeyondPower,
    Major,
    NeedsEnforcement,
    OwnerRefuses,
    ReworkTwice,
    Overdue,
    ImminentDanger,
}

impl EscalationReason {
    pub fn zh(self) -> &'static str {
        match self {
            EscalationReason::BeyondPower => "超出本级权限",
            EscalationReason::Major => "重大隐患",
            EscalationReason::NeedsEnforcement => "需要执法",
            EscalationReason::OwnerRefuses => "责任人拒不整改",
            EscalationReason::ReworkTwice => "两次复查未通过",
            EscalationReason::Overdue => "逾期未整改",
            EscalationReason::ImminentDanger => "存在紧急危险",
        }
    }
}

/// Where a hazard came from when it was raised from a checklist item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HazardSource {
    pub patrol_id: Uuid,
    pub template_id: String,
    pub template_version: u32,
    pub item_key: String,
}

/// The report event's content. The place's grid, village, township and type are copied in when
/// the hazard is raised, so folding a hazard never needs to look anything else up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HazardReport {
    pub place_id: Uuid,
    pub place_type: String,
    pub grid_id: String,
    pub village_id: String,
    pub township_id: String,
    pub category: String,
    pub severity: Severity,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<HazardSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub photos: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<GeoPoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HazardEvent {
    Report(Box<HazardReport>),
    Notify {
        responsible_party: String,
        deadline: Day,
        #[serde(default)]
        note: String,
    },
    StartRectification {
        #[serde(default)]
        note: String,
    },
    SubmitRectification {
        #[serde(default)]
        note: String,
        #[serde(default)]
        photos: Vec<String>,
    },
    FixOnSpot {
        #[serde(default)]
        note: String,
        before_photo: Option<String>,
        after_photo: Option<String>,
    },
    Review {
        passed: bool,
        #[serde(default)]
        note: String,
        new_deadline: Option<Day>,
    },
    RequestExtension {
        reason: String,
        proposed_deadline: Day,
        interim_measures: String,
    },
    DecideExtension {
        approved: bool,
        basis: String,
    },
    Escalate {
        to: Level,
        reason: EscalationReason,
        #[serde(default)]
        note: String,
    },
    HandBack {
        to: Level,
        guidance: String,
        deadline: Day,
    },
    JointEnforcement {
        departments: String,
        #[serde(default)]
        note: String,
    },
    Refer {
        department: String,
        case_number: String,
        #[serde(default)]
        note: String,
    },
    RecordOutcome {
        outcome: String,
    },
    Supervise {
        #[serde(default)]
        note: String,
    },
    Withdraw {
        reason: String,
    },
}

impl HazardEvent {
    /// The event's verb, as named in rejections and the CLI.
    pub fn verb(&self) -> &'static str {
        match self {
            HazardEvent::Report(_) => "report",
            HazardEvent::Notify { .. } => "notify",
            HazardEvent::StartRectification { .. } => "start_rectification",
            HazardEvent::SubmitRectification { .. } => "submit_rectification",
            HazardEvent::FixOnSpot { .. } => "fix_on_spot",
            HazardEvent::Review { .. } => "review",
            HazardEvent::RequestExtension { .. } => "request_extension",
            HazardEvent::DecideExtension { .. } => "decide_extension",
            HazardEvent::Escalate { .. } => "escalate",
            HazardEvent::HandBack { .. } => "hand_back",
            HazardEvent::JointEnforcement { .. } => "joint_enforcement",
            HazardEvent::Refer { .. } => "refer",
            HazardEvent::RecordOutcome { .. } => "record_outcome",
            HazardEvent::Supervise { .. } => "supervise",
            HazardEvent::Withdraw { .. } => "withdraw",
        }
    }
    /// The op kind in the log.
    pub fn kind(&self) -> &'static str {
        match self {
            HazardEvent::Report(_) => "hazard.report",
            HazardEvent::Notify { .. } => "hazard.notify",
            HazardEvent::StartRectification { .. } => "hazard.start_rectification",
            HazardEvent::SubmitRectification { .. } => "hazard.submit_rectification",
            HazardEvent::FixOnSpot { .. } => "hazard.fix_on_spot",
            HazardEvent::Review { .. } => "hazard.review",
            HazardEvent::RequestExtension { .. } => "hazard.request_extension",
            HazardEvent::DecideExtension { .. } => "hazard.decide_extension",
            HazardEvent::Escalate { .. } => "hazard.escalate",
            HazardEvent::HandBack { .. } => "hazard.hand_back",
            HazardEvent::JointEnforcement { .. } => "hazard.joint_enforcement",
            HazardEvent::Refer { .. } => "hazard.refer",
            HazardEvent::RecordOutcome { .. } => "hazard.record_outcome",
            HazardEvent::Supervise { .. } => "hazard.supervise",
            HazardEvent::Withdraw { .. } => "hazard.withdraw",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingExtension {
    pub requested_by: String,
    pub proposed_deadline: Day,
    pub reason: String,
    pub interim_measures: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnSpotFix {
    pub by: String,
    pub with_before_and_after_photos: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referral {
    pub department: String,
    pub case_number: String,
}

/// The folded state of one hazard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hazard {
    pub id: Uuid,
    pub report: HazardReport,
    pub reporter_id: String,
    pub reporter_role: Role,
    pub reported_at: i64,
    pub status: HazardStatus,
    pub level: Level,
    pub severity: Severity,
    pub deadline: Option<Day>,
    pub responsible_party: Option<String>,
    pub rework_count: u32,
    /// Ever escalated out of the grid: such a case never counts as closed in the grid.
    pub escalated: bool,
    pub supervised: bool,
    pub pending_extension: Option<PendingExtension>,
    pub extensions_granted: u32,
    pub submitted_by: Option<String>,
    pub on_spot: Option<OnSpotFix>,
    pub referral: Option<Referral>,
    pub closed_at: Option<i64>,
    pub closed_on_time: Option<bool>,
    pub withdrawn_reason: Option<String>,
    pub last_event_at: i64,
}

impl Hazard {
    fn reported(id: Uuid, r: HazardReport, ctx: Ctx<'_>) -> Hazard {
        Hazard {
            id,
            severity: r.severity,
            report: HazardReport {
                description: r.description.trim().to_string(),
                ..r
            },
            reporter_id: ctx.actor_id.to_string(),
            reporter_role: ctx.role,
            reported_at: ctx.at.wall_ms(),
            status: HazardStatus::Reported,
            level: Level::Grid,
            deadline: None,
            responsible_party: None,
            rework_count: 0,
            escalated: false,
            supervised: false,
            pending_extension: None,
            extensions_granted: 0,
            submitted_by: None,
            on_spot: None,
            referral: None,
            closed_at: None,
            closed_on_time: None,
            withdrawn_reason: None,
            last_event_at: ctx.at.wall_ms(),
        }
    }
}

/// Writes the folded state into the `hazards` cache (or removes it when nothing valid remains).
pub(crate) fn put_hazard(tx: &Transaction, id: Uuid, h: Option<&Hazard>) -> Result<()> {
    let Some(h) = h else {
        tx.execute("DELETE FROM hazards WHERE id = ?1", [id.to_string()])?;
        return Ok(());
    };
    tx.prepare_cached(
        "INSERT OR REPLACE INTO hazards (id, place_id, grid_id, village_id, township_id,
             place_type, category, severity, status, level, deadline, reported_at, closed_at,
             closed_on_time, escalated, rework_count, supervised, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
    )?
    .execute(params![
        h.id.to_string(),
        h.report.place_id.to_string(),
        h.report.grid_id,
        h.report.village_id,
        h.report.township_id,
        h.report.place_type,
        h.report.category,
        h.severity.code(),
        h.status.code(),
        h.level.code(),
        h.deadline.map(|d| d.0),
        h.reported_at,
        h.closed_at,
        h.closed_on_time,
        h.escalated,
        h.rework_count,
        h.supervised,
        serde_json::to_string(h)?,
    ])?;
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
}

const ROW_COLUMNS: &str =
    "id, place_id, grid_id, category, severity, status, level, deadline, reported_at";

fn hazard_row(r: &Row<'_>, today: Day) -> rusqlite::Result<HazardRow> {
    let id: String = r.get(0)?;
    let place: String = r.get(1)?;
    let status: String = r.get(5)?;
    let status = HazardStatus::parse(&status).unwrap_or(HazardStatus::Reported);
    let severity: String = r.get(4)?;
    let deadline = r.get::<_, Option<i32>>(7)?.map(Day);
    let days_overdue = match (status, deadline) {
        (HazardStatus::Notified | HazardStatus::Rectifying, Some(d)) if today > d => {
            Some(today.days_since(d))
        }
        _ => None,
    };
    Ok(HazardRow {
        id: Uuid::parse_str(&id).unwrap_or_default(),
        place_id: Uuid::parse_str(&place).unwrap_or_default(),
        grid_id: r.get(2)?,
        category: r.get(3)?,
        severity: if severity == "major" {
            Severity::Major
        } else {
            Severity::General
        },
        status,
        level: Level::parse(&r.get::<_, String>(6)?),
        deadline,
        reported_at: r.get(8)?,
        days_overdue,
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

pub(crate) fn load_hazard(conn: &Connection, id: Uuid) -> Result<Hazard> {
    let body: String = conn
        .prepare_cached("SELECT body FROM hazards WHERE id = ?1")?
        .query_row([id.to_string()], |r| r.get(0))
        .optional()?
        .ok_or_else(|| Error::not_found(Entity::Hazard, id.to_string()))?;
    Ok(serde_json::from_str(&body)?)
}

impl Store {
    /// Raises a hazard at a place in the actor's grids.
    pub fn report_hazard(&self, actor: &Actor, h: NewHazard) -> Result<Uuid> {
        self.write(|tx| {
            let place = place::load_place(tx, h.place_id, Day(0))?.place;
            place::require_grid_in_scope(tx, actor, &place.grid_id)?;
            let (id, body) = report_body(tx, &place, h)?;
            self.commit_local(tx, actor, body)?;
            Ok(id)
        })
    }

    /// Records one lifecycle event. The event is checked by the same state machine that folds
    /// the log; a rejection comes back as an error and nothing is stored.
    pub fn hazard_event(&self, actor: &Actor, hazard_id: Uuid, event: HazardEvent) -> Result<()> {
        if matches!(event, HazardEvent::Report(_)) {
            return Err(Rejection::AlreadyExists.into());
        }
        self.write(|tx| {
            let h = load_hazard(tx, hazard_id)?;
            if !actor.covers(&h.report.grid_id) {
                return Err(Rejection::OutOfScope.into());
            }
            self.commit_local(tx, actor, OpBody::Hazard { hazard_id, event })?;
            Ok(())
        })
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
                .filter_map(|(op, conflict)| match op.body {
                    OpBody::Hazard { event, .. } => Some(EventRow {
                        op_id: op.id,
                        hlc: op.hlc,
                        device_wall_ms: op.wall_ms,
                        actor_id: op.actor_id,
                        actor_role: op.actor_role,
                        event,
                        conflict,
                    }),
                    _ => None,
                })
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
        self.read(|c| overdue_in(c, "township_id", township_id, today, limit))
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
        resolve_id(self, "hazards", id_or_tail, Entity::Hazard)
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

    /// Conflicted hazard events in the actor's grids: each needs a person to look at it.
    pub fn conflicts(&self, actor: &Actor) -> Result<Vec<(Uuid, EventRow)>> {
        let all = self.read(crate::apply::conflicted_ops)?;
        let mut out = Vec::new();
        for (op, conflict) in all {
            if let OpBody::Hazard { hazard_id, event } = op.body {
                let grid = self.read(|c| load_hazard(c, hazard_id).map(|h| h.report.grid_id));
                if grid.as_deref().is_ok_and(|g| actor.covers(g)) || grid.is_err() {
                    out.push((
                        hazard_id,
                        EventRow {
                            op_id: op.id,
                            hlc: op.hlc,
                            device_wall_ms: op.wall_ms,
                            actor_id: op.actor_id,
                            actor_role: op.actor_role,
                            event,
                            conflict: Some(conflict),
                        },
                    ));
                }
            }
        }
        Ok(out)
    }
}

pub(crate) fn resolve_id(
    store: &Store,
    table: &str,
    id_or_tail: &str,
    what: Entity,
) -> Result<Uuid> {
    let s = id_or_tail.trim().to_ascii_lowercase();
    if let Ok(id) = Uuid::parse_str(&s) {
        return Ok(id);
    }
    let not_found = || Error::not_found(what, id_or_tail.chars().take(40).collect::<String>());
    if s.len() < 6 || !s.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(not_found());
    }
    let ids: Vec<String> = store.read(|c| {
        let mut stmt = c.prepare(&format!(
            "SELECT id FROM {table} WHERE id LIKE '%' || ?1 LIMIT 2"
        ))?;
        let ids = stmt
            .query_map([&s], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(ids)
    })?;
    match ids.as_slice() {
        [one] => Uuid::parse_str(one).map_err(|_| not_found()),
        _ => Err(not_found()),
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
    let filter =
        format!("{column} = ?1 AND status IN ('notified', 'rectifying') AND deadline < ?2");
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
