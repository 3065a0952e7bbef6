//! Fires (火灾情况): the base of 定期分析火灾形势 and of the year-end report. A village leader,
//! the township or the brigade records each fire once: when and where (a registered place, or
//! an address in a grid), the cause, deaths, injuries, direct loss and whether the brigade
//! attended. A fire at a registered place is read with that place's patrols and hazards (was
//! it patrolled, were hazards open?) in `Store::fires`. A fire recorded twice (the leader and
//! the brigade both entered it) or in error is withdrawn (撤销) with a reason by the village or
//! the township: it leaves the figures and the lists, and stays in the log.

use rusqlite::{params, Transaction};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::{Day, Hlc, MS_PER_DAY};
use crate::error::{self, Field, InvalidInput, Problem, Result};
use crate::op::OpBody;
use crate::org::{self, Actor};
use crate::store::Store;
use crate::vocab::vocabulary;

/// 起火原因, as the year-end report groups them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FireCause {
    Electrical,
    CarelessUse,
    Smoking,
    Playing,
    Spontaneous,
    Arson,
    Other,
    Unknown,
}

vocabulary!(FireCause, Field::FireCause, {
    Electrical => ("electrical", "电气"),
    CarelessUse => ("careless_use", "用火不慎"),
    Smoking => ("smoking", "吸烟"),
    Playing => ("playing", "玩火"),
    Spontaneous => ("spontaneous", "自燃"),
    Arson => ("arson", "放火"),
    Other => ("other", "其他"),
    Unknown => ("unknown", "不明"),
});

/// The most deaths or injuries, and the largest direct loss (元), one fire may claim.
pub const MAX_CASUALTIES: u32 = 1_000;
pub const MAX_LOSS_YUAN: u64 = 10_000_000_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fire {
    pub id: Uuid,
    pub grid_id: String,
    /// The registered place that burned, if it is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place_id: Option<Uuid>,
    pub address: String,
    /// When the fire broke out (ms since the epoch).
    pub occurred_at: i64,
    pub cause: FireCause,
    pub deaths: u32,
    pub injuries: u32,
    pub loss_yuan: u64,
    pub brigade_attended: bool,
    #[serde(default)]
    pub note: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub photos: Vec<String>,
}

impl Fire {
    /// What a fire record may hold, the same on the phone and the server; `at` is the op's
    /// clock (a fire is recorded after it broke out, give or take a phone's clock error).
    pub(crate) fn check(&self, at: Hlc) -> std::result::Result<(), InvalidInput> {
        org::check_code(Field::Grid, &self.grid_id)?;
        let latest = at.wall_ms().saturating_add(MS_PER_DAY);
        if !(crate::rules::EARLIEST_MS..=latest).contains(&self.occurred_at) {
            return Err(InvalidInput::new(
                Field::Date,
                Problem::OutOfRange {
                    min: Day::from_ms(crate::rules::EARLIEST_MS).to_string(),
                    max: Day::from_ms(latest).to_string(),
                },
            ));
        }
        let range = |max: u64| Problem::OutOfRange {
            min: "0".into(),
            max: max.to_string(),
        };
        if self.deaths > MAX_CASUALTIES || self.injuries > MAX_CASUALTIES {
            return Err(InvalidInput::new(
                Field::Count,
                range(MAX_CASUALTIES.into()),
            ));
        }
        if self.loss_yuan > MAX_LOSS_YUAN {
            return Err(InvalidInput::new(Field::Loss, range(MAX_LOSS_YUAN)));
        }
        error::text(Field::Address, &self.address, 200)?;
        error::optional_text(Field::Note, &self.note, 500)?;
        super::check_photos(&self.photos)
    }
}

/// What a person types to record a fire. The address may be left empty for a registered
/// place (the place's own is used).
#[derive(Debug, Clone, PartialEq)]
pub struct NewFire {
    pub grid_id: String,
    pub place_id: Option<Uuid>,
    pub address: String,
    pub occurred_at: i64,
    pub cause: FireCause,
    pub deaths: u32,
    pub injuries: u32,
    pub loss_yuan: u64,
    pub brigade_attended: bool,
    pub note: String,
    pub photos: Vec<String>,
}

/// A fire taken back, with why: entered twice or in error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FireWithdrawal {
    pub fire_id: Uuid,
    pub reason: String,
}

impl FireWithdrawal {
    pub(crate) fn check(&self) -> std::result::Result<(), InvalidInput> {
        error::text(Field::Reason, &self.reason, 200).map(|_| ())
    }
}

/// Folds a fire's ops: the first record wins (the same record sent again is no conflict, any
/// other is), the first withdrawal after it withdraws it, and a withdrawal with no fire before
/// it is a conflict.
pub(crate) fn fold(
    tx: &Transaction,
    ops: &[crate::op::Op],
) -> Result<Vec<(Uuid, crate::hazard::lifecycle::Rejection)>> {
    use crate::hazard::lifecycle::Rejection;
    let mut conflicts = Vec::new();
    let mut fire: Option<(&Fire, &str)> = None;
    let mut withdrawn: Option<&str> = None;
    for op in ops {
        match (&op.body, fire) {
            (OpBody::Fire(f), None) => fire = Some((f, &op.actor_id)),
            (OpBody::Fire(f), Some((first, _))) if first != f => {
                conflicts.push((op.id, Rejection::AlreadyExists));
            }
            (OpBody::FireWithdrawn(_), None) => conflicts.push((op.id, Rejection::NotCreated)),
            (OpBody::FireWithdrawn(w), Some(_)) if withdrawn.is_none() => {
                withdrawn = Some(&w.reason);
            }
            _ => {}
        }
    }
    if let Some((f, by)) = fire {
        // The winner or its withdrawal may have changed (an op arrived late): write it again.
        tx.execute("DELETE FROM fires WHERE id = ?1", [f.id.to_string()])?;
        put_fire(tx, f, by, withdrawn)?;
    }
    Ok(conflicts)
}

pub(crate) fn put_fire(
    tx: &Transaction,
    f: &Fire,
    by: &str,
    withdrawn: Option<&str>,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO fires (id, grid_id, place_id, address, occurred_at, occurred_on, cause,
                            deaths, injuries, loss_yuan, brigade_attended, note, photos, user_id,
                            withdrawn_reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?
    .execute(params![
        f.id.to_string(),
        f.grid_id,
        f.place_id.map(|p| p.to_string()),
        f.address,
        f.occurred_at,
        Day::from_ms(f.occurred_at).0,
        f.cause.code(),
        f.deaths,
        f.injuries,
        // Bounded by MAX_LOSS_YUAN, far inside SQLite's 64 bits.
        i64::try_from(f.loss_yuan).unwrap_or(i64::MAX),
        f.brigade_attended,
        f.note,
        serde_json::to_string(&f.photos)?,
        by,
        withdrawn,
    ])?;
    Ok(())
}

impl Store {
    /// Records a fire; its id.
    pub fn record_fire(&self, actor: &Actor, new: NewFire) -> Result<Uuid> {
        if new.occurred_at > self.now_ms() {
            return Err(super::after_today(self.today()));
        }
        self.write(|tx| {
            let mut address = new.address.trim().to_string();
            if let Some(place) = new.place_id {
                // A fire at a registered place is in that place's grid.
                if super::place_grid(tx, &place)? != new.grid_id {
                    return Err(crate::hazard::lifecycle::Rejection::NotAsRecorded.into());
                }
                if address.is_empty() {
                    address = crate::place::load_place(tx, place, self.today())?
                        .place
                        .address;
                }
            }
            let fire = Fire {
                id: Uuid::now_v7(),
                grid_id: new.grid_id,
                place_id: new.place_id,
                address,
                occurred_at: new.occurred_at,
                cause: new.cause,
                deaths: new.deaths,
                injuries: new.injuries,
                loss_yuan: new.loss_yuan,
                brigade_attended: new.brigade_attended,
                note: new.note.trim().to_string(),
                photos: new.photos,
            };
            fire.check(Hlc::new(self.now_ms(), 0))?;
            let (id, grid) = (fire.id, fire.grid_id.clone());
            let body = OpBody::Fire(fire);
            crate::sync::authz::require_writer(actor, &body)?;
            // Named a grid, and one wholly the actor's.
            org::ancestors_of_grid(tx, &grid)?;
            org::require_whole(tx, actor, &grid)?;
            self.commit_local(tx, actor, body)?;
            Ok(id)
        })
    }
}

/// What the place's own records said when a fire broke out there: the question every fire
/// raises (was it patrolled, were hazards open?).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FireHistory {
    /// The last patrol that ended before the fire.
    pub last_patrol_at: Option<i64>,
    /// Patrols in the year before the fire.
    pub patrols_in_year: u32,
    /// Cases reported before the fire and not closed by then (label, category, status now).
    pub open_hazards: Vec<(String, String, String)>,
}

/// A fire as a list or a ledger shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FireRow {
    pub fire: Fire,
    pub village: String,
    pub grid: String,
    pub place_name: Option<String>,
    pub place_type: Option<String>,
    pub recorded_by: String,
    /// For a fire at a registered place.
    pub history: Option<FireHistory>,
}

fn history_at(c: &rusqlite::Connection, place: &Uuid, at: i64) -> Result<FireHistory> {
    let id = place.to_string();
    let (last_patrol_at, patrols_in_year) = c
        .prepare_cached(
            "SELECT max(ended_at), count(*) FROM patrols
             WHERE place_id = ?1 AND ended_at < ?2 AND ended_at >= ?3",
        )?
        .query_row(params![id, at, at - 365 * MS_PER_DAY], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    // An earlier patrol than a year still answers "when was it last patrolled".
    let last_patrol_at: Option<i64> = match last_patrol_at {
        Some(ms) => Some(ms),
        None => c
            .prepare_cached(
                "SELECT max(ended_at) FROM patrols WHERE place_id = ?1 AND ended_at < ?2",
            )?
            .query_row(params![id, at], |r| r.get(0))?,
    };
    let open_hazards = c
        .prepare_cached(
            "SELECT id, case_number, category, status FROM hazards
             WHERE place_id = ?1 AND reported_at < ?2 AND status <> 'withdrawn'
             AND (closed_at IS NULL OR closed_at > ?2) ORDER BY reported_at, id",
        )?
        .query_map(params![id, at], |r| {
            let hid: String = r.get(0)?;
            let number: Option<String> = r.get(1)?;
            let status: String = r.get(3)?;
            let label = crate::hazard::case_label(
                number.as_deref(),
                &Uuid::parse_str(&hid).unwrap_or_default(),
            );
            let status = status
                .parse::<crate::hazard::HazardStatus>()
                .map_or(status, |s| s.zh().to_string());
            let category = crate::checklist::library()
                .category_zh(&r.get::<_, String>(2)?)
                .to_string();
            Ok((label, category, status))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(FireHistory {
        last_patrol_at,
        patrols_in_year,
        open_hazards,
    })
}

/// The fires in `grids` from `from` to `to` (inclusive), in the order they broke out.
pub(crate) fn fire_rows(
    c: &rusqlite::Connection,
    grids: &[String],
    from: Day,
    to: Day,
) -> Result<Vec<FireRow>> {
    let mut stmt = c.prepare_cached(
        "SELECT f.id, f.grid_id, f.place_id, f.address, f.occurred_at, f.cause, f.deaths,
                f.injuries, f.loss_yuan, f.brigade_attended, f.note, f.photos,
                coalesce(v.name, ''), coalesce(g.name, f.grid_id), p.name, p.place_type, f.user_id
         FROM fires f LEFT JOIN org_nodes g ON g.id = f.grid_id
         LEFT JOIN org_nodes v ON v.id = g.parent_id LEFT JOIN places p ON p.id = f.place_id
         WHERE f.grid_id = ?1 AND f.occurred_on >= ?2 AND f.occurred_on <= ?3
             AND f.withdrawn_reason IS NULL",
    )?;
    let bad = super::unreadable;
    let mut out = Vec::new();
    for grid in grids {
        let rows = stmt.query_map(params![grid, from.0, to.0], |r| {
            let id: String = r.get(0)?;
            let place: Option<String> = r.get(2)?;
            let cause: String = r.get(5)?;
            let photos: String = r.get(11)?;
            let fire = Fire {
                id: Uuid::parse_str(&id).map_err(|e| bad(0, &e))?,
                grid_id: r.get(1)?,
                place_id: place
                    .map(|p| Uuid::parse_str(&p).map_err(|e| bad(2, &e)))
                    .transpose()?,
                address: r.get(3)?,
                occurred_at: r.get(4)?,
                cause: cause.parse().map_err(|e| bad(5, &e))?,
                deaths: r.get(6)?,
                injuries: r.get(7)?,
                loss_yuan: u64::try_from(r.get::<_, i64>(8)?).unwrap_or(0),
                brigade_attended: r.get(9)?,
                note: r.get(10)?,
                photos: serde_json::from_str(&photos).map_err(|e| bad(11, &e))?,
            };
            Ok((
                fire,
                r.get(12)?,
                r.get(13)?,
                r.get(14)?,
                r.get(15)?,
                r.get(16)?,
            ))
        })?;
        for row in rows {
            let (fire, village, grid, place_name, place_type, by): (
                Fire,
                String,
                String,
                Option<String>,
                Option<String>,
                String,
            ) = row?;
            let history = match fire.place_id {
                Some(p) => Some(history_at(c, &p, fire.occurred_at)?),
                None => None,
            };
            out.push(FireRow {
                recorded_by: crate::report::export::person_name(c, &by)?,
                fire,
                village,
                grid,
                place_name,
                place_type,
                history,
            });
        }
    }
    out.sort_by_key(|r| (r.fire.occurred_at, r.fire.id));
    Ok(out)
}

impl Store {
    /// Withdraws a fire entered twice or in error (village leader or township officer of its
    /// grid), saying why.
    pub fn withdraw_fire(&self, actor: &Actor, fire_id: Uuid, reason: &str) -> Result<()> {
        let w = FireWithdrawal {
            fire_id,
            reason: reason.trim().to_string(),
        };
        w.check()?;
        self.write(|tx| {
            let grid: String = rusqlite::OptionalExtension::optional(
                tx.prepare_cached("SELECT grid_id FROM fires WHERE id = ?1")?
                    .query_row([fire_id.to_string()], |r| r.get(0)),
            )?
            .ok_or(crate::hazard::lifecycle::Rejection::NotCreated)?;
            let body = OpBody::FireWithdrawn(w);
            crate::sync::authz::require_writer(actor, &body)?;
            org::require_whole(tx, actor, &grid)?;
            self.commit_local(tx, actor, body)?;
            Ok(())
        })
    }

    /// The fires under `scope_id` from `from` to `to`, each at a registered place with what
    /// that place's records said when it broke out.
    pub fn fires(&self, scope_id: &str, from: Day, to: Day) -> Result<Vec<FireRow>> {
        crate::report::check_period(from, to)?;
        self.read(|c| fire_rows(c, &org::grids_under(c, scope_id)?, from, to))
    }
}
