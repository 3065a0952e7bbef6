//! Places (巡查对象): the registry a grid worker patrols. A place is created once and then
//! changed field by field; each field is last-writer-wins by (HLC, op id), so two people who
//! edit different fields offline both keep their edit and two who edit the same field end on
//! the same value everywhere. When a place was last patrolled is read from the patrols
//! themselves (an index walk), so there is no cached copy to keep right.

use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::checklist::library;
use crate::clock::Day;
use crate::error::{self, Entity, Error, Field, InvalidInput, Problem, Result};
use crate::hazard::lifecycle::Rejection;
use crate::op::{Op, OpBody};
use crate::org::{self, Actor, Role};
use crate::store::Store;
use crate::vocab::{unknown, vocabulary};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    High,
    Medium,
    Low,
}

vocabulary!(RiskLevel, Field::RiskLevel, {
    High => ("high", "高风险"),
    Medium => ("medium", "中风险"),
    Low => ("low", "低风险"),
});

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    pub lat: f64,
    pub lon: f64,
}

impl RiskLevel {
    /// The level a person means by `text`: its code, its Chinese name, or that name without
    /// 风险 (高, 中, 低).
    pub fn named(text: &str) -> Result<RiskLevel, InvalidInput> {
        let text = text.trim();
        RiskLevel::ALL
            .into_iter()
            .find(|r| r.code() == text || r.zh() == text || r.zh().trim_end_matches("风险") == text)
            .ok_or_else(|| crate::vocab::unknown(Field::RiskLevel, text))
    }
}

impl GeoPoint {
    pub fn validated(self) -> Result<Self, InvalidInput> {
        let range = |field, lim: f64, v: f64| {
            if v.is_finite() && v.abs() <= lim {
                Ok(())
            } else {
                Err(InvalidInput::new(
                    field,
                    Problem::OutOfRange {
                        min: format!("-{lim}"),
                        max: format!("{lim}"),
                    },
                ))
            }
        };
        range(Field::Latitude, 90.0, self.lat)?;
        range(Field::Longitude, 180.0, self.lon)?;
        Ok(self)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Place {
    pub id: Uuid,
    pub place_type: String,
    pub name: String,
    pub address: String,
    pub location: Option<GeoPoint>,
    pub grid_id: String,
    pub responsible_name: String,
    pub responsible_phone: Option<String>,
    pub risk_level: RiskLevel,
    /// Overrides the place type × risk rule when set.
    pub patrol_every_days: Option<u32>,
    #[serde(default)]
    pub archived: bool,
}

/// A change to some fields of a place; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlaceChanges {
    pub place_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<GeoPoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responsible_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responsible_phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_level: Option<RiskLevel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patrol_every_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived: Option<bool>,
    /// `Some(true)`: the village or township confirms a place a grid worker registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed: Option<bool>,
}

/// What a person types to register a place.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPlace {
    pub place_type: String,
    pub name: String,
    pub address: String,
    pub location: Option<GeoPoint>,
    pub grid_id: String,
    pub responsible_name: String,
    pub responsible_phone: Option<String>,
    pub risk_level: RiskLevel,
    pub patrol_every_days: Option<u32>,
}

fn check_cycle(days: Option<u32>) -> Result<Option<u32>, InvalidInput> {
    match days {
        Some(d) if !(1..=366).contains(&d) => Err(InvalidInput::new(
            Field::PatrolEveryDays,
            Problem::OutOfRange {
                min: "1".into(),
                max: "366".into(),
            },
        )),
        d => Ok(d),
    }
}

impl Place {
    /// The place as the rules for a new one allow it (type from the library, bounded texts, a
    /// real location and phone number, a sane cycle), trimmed; the same rules for a place made
    /// here and one received, so an invalid one is refused at its position in the fold.
    pub fn validated(self) -> Result<Self, InvalidInput> {
        library().place_type(&self.place_type)?;
        Ok(Place {
            name: error::text(Field::Name, &self.name, 60)?,
            address: error::optional_text(Field::Address, &self.address, 120)?,
            location: self.location.map(GeoPoint::validated).transpose()?,
            responsible_name: error::optional_text(
                Field::ResponsibleParty,
                &self.responsible_name,
                40,
            )?,
            responsible_phone: self
                .responsible_phone
                .as_deref()
                .map(org::check_phone)
                .transpose()?,
            patrol_every_days: check_cycle(self.patrol_every_days)?,
            ..self
        })
    }
}

impl PlaceChanges {
    pub(crate) fn validated(mut self) -> Result<Self, InvalidInput> {
        self.name = self
            .name
            .map(|n| error::text(Field::Name, &n, 60))
            .transpose()?;
        self.address = self
            .address
            .map(|a| error::optional_text(Field::Address, &a, 120))
            .transpose()?;
        self.location = self.location.map(GeoPoint::validated).transpose()?;
        self.responsible_name = self
            .responsible_name
            .map(|n| error::optional_text(Field::ResponsibleParty, &n, 40))
            .transpose()?;
        self.responsible_phone = self
            .responsible_phone
            .as_deref()
            .map(org::check_phone)
            .transpose()?;
        self.patrol_every_days = check_cycle(self.patrol_every_days)?;
        Ok(self)
    }

    /// The fields of `new` that differ from `held`, as a change (`None`: nothing differs).
    pub fn between(held: &Place, new: &Place) -> Option<PlaceChanges> {
        fn differs<T: PartialEq + Clone>(a: &T, b: &T) -> Option<T> {
            (a != b).then(|| b.clone())
        }
        let c = PlaceChanges {
            place_id: held.id,
            name: differs(&held.name, &new.name),
            address: differs(&held.address, &new.address),
            location: differs(&held.location, &new.location).flatten(),
            grid_id: differs(&held.grid_id, &new.grid_id),
            responsible_name: differs(&held.responsible_name, &new.responsible_name),
            responsible_phone: differs(&held.responsible_phone, &new.responsible_phone).flatten(),
            risk_level: differs(&held.risk_level, &new.risk_level),
            patrol_every_days: differs(&held.patrol_every_days, &new.patrol_every_days).flatten(),
            archived: differs(&held.archived, &new.archived),
            confirmed: None,
        };
        (c != PlaceChanges {
            place_id: held.id,
            ..PlaceChanges::default()
        })
        .then_some(c)
    }

    /// Whether a grid worker may make this change: the place's description and responsible
    /// person, never its grid, risk level, cycle, archiving or confirmation, which the village
    /// or township keeps.
    pub fn grid_worker_may(&self) -> bool {
        self.grid_id.is_none()
            && self.risk_level.is_none()
            && self.patrol_every_days.is_none()
            && self.archived.is_none()
            && self.confirmed.is_none()
    }

    fn apply_to(&self, p: &mut Place) {
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = &self.$f { p.$f = v.clone().into(); } )* };
        }
        set!(
            name,
            address,
            grid_id,
            responsible_name,
            risk_level,
            archived
        );
        if let Some(l) = self.location {
            p.location = Some(l);
        }
        if let Some(ph) = &self.responsible_phone {
            p.responsible_phone = (!ph.is_empty()).then(|| ph.clone());
        }
        if let Some(d) = self.patrol_every_days {
            p.patrol_every_days = Some(d);
        }
    }
}

/// The ops of a record that make no sense where they fall, and why.
type Conflicts = Vec<(Uuid, Rejection)>;

/// Folds a place's ops (sorted by HLC, op id) into its state, and whether it awaits
/// confirmation (registered by a grid worker, not yet confirmed by someone above); ops that make
/// no sense at their position (an update before any create, a second create) come back as
/// conflicts.
pub(crate) fn fold(ops: &[Op]) -> (Option<(Place, bool)>, Conflicts) {
    let mut place: Option<(Place, bool)> = None;
    let mut conflicts = Vec::new();
    for op in ops {
        match (&op.body, &mut place) {
            (OpBody::PlaceCreate(p), None) => match p.clone().validated() {
                Ok(p) => place = Some((p, op.actor_role == Role::GridWorker)),
                Err(input) => conflicts.push((op.id, Rejection::Invalid { input })),
            },
            (OpBody::PlaceCreate(_), Some(_)) => conflicts.push((op.id, Rejection::AlreadyExists)),
            (OpBody::PlaceUpdate(c), Some((p, pending))) => match c.clone().validated() {
                Ok(c) => {
                    c.apply_to(p);
                    if c.confirmed == Some(true) && op.actor_role != Role::GridWorker {
                        *pending = false;
                    }
                }
                Err(input) => conflicts.push((op.id, Rejection::Invalid { input })),
            },
            (_, _) => conflicts.push((op.id, Rejection::NotCreated)),
        }
    }
    (place, conflicts)
}

pub(crate) fn put_place(tx: &Transaction, p: &Place, pending: bool) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO places (id, place_type, name, address, lat, lon, grid_id, responsible_name,
             responsible_phone, risk_level, patrol_every_days, archived, pending)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
         ON CONFLICT(id) DO UPDATE SET place_type = excluded.place_type, name = excluded.name,
             address = excluded.address, lat = excluded.lat, lon = excluded.lon,
             grid_id = excluded.grid_id, responsible_name = excluded.responsible_name,
             responsible_phone = excluded.responsible_phone, risk_level = excluded.risk_level,
             patrol_every_days = excluded.patrol_every_days, archived = excluded.archived,
             pending = excluded.pending",
    )?
    .execute(params![
        p.id.to_string(),
        p.place_type,
        p.name,
        p.address,
        p.location.map(|l| l.lat),
        p.location.map(|l| l.lon),
        p.grid_id,
        p.responsible_name,
        p.responsible_phone,
        p.risk_level.code(),
        p.patrol_every_days,
        p.archived,
        pending,
    ])?;
    Ok(())
}

/// A place as read back, with its patrol schedule worked out for today.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlaceRow {
    pub place: Place,
    pub last_patrol_at: Option<i64>,
    pub cycle_days: u32,
    /// The day the next patrol is due; today when never patrolled.
    pub next_due: Day,
    /// Registered by a grid worker, not yet confirmed by the village or township (新增).
    pub pending: bool,
}

impl PlaceRow {
    pub fn days_overdue(&self, today: Day) -> i32 {
        today.days_since(self.next_due).max(0)
    }
}

const PLACE_COLUMNS: &str = "id, place_type, name, address, lat, lon, grid_id, responsible_name,
    responsible_phone, risk_level, patrol_every_days, archived,
    (SELECT max(ended_at) FROM patrols WHERE patrols.place_id = places.id), pending";

fn place_row(r: &Row<'_>, today: Day) -> rusqlite::Result<PlaceRow> {
    let id: String = r.get(0)?;
    let risk: String = r.get(9)?;
    let lat: Option<f64> = r.get(4)?;
    let lon: Option<f64> = r.get(5)?;
    let place = Place {
        id: Uuid::parse_str(&id).unwrap_or_default(),
        place_type: r.get(1)?,
        name: r.get(2)?,
        address: r.get(3)?,
        location: lat.zip(lon).map(|(lat, lon)| GeoPoint { lat, lon }),
        grid_id: r.get(6)?,
        responsible_name: r.get(7)?,
        responsible_phone: r.get(8)?,
        risk_level: risk.parse().unwrap_or(RiskLevel::Medium),
        patrol_every_days: r.get(10)?,
        archived: r.get(11)?,
    };
    let last: Option<i64> = r.get(12)?;
    let cycle = place
        .patrol_every_days
        .unwrap_or_else(|| library().patrol_every_days(&place.place_type, place.risk_level));
    let next_due = match last {
        Some(ms) => Day::from_ms(ms).plus(cycle as i32),
        None => today,
    };
    Ok(PlaceRow {
        place,
        last_patrol_at: last,
        cycle_days: cycle,
        next_due,
        pending: r.get(13)?,
    })
}

pub(crate) fn load_place(conn: &Connection, id: Uuid, today: Day) -> Result<PlaceRow> {
    conn.prepare_cached(&format!("SELECT {PLACE_COLUMNS} FROM places WHERE id = ?1"))?
        .query_row([id.to_string()], |r| place_row(r, today))
        .optional()?
        .ok_or_else(|| Error::not_found(Entity::Place, id.to_string()))
}

/// Places in a set of grids, active only.
pub(crate) fn places_in(conn: &Connection, grids: &[String], today: Day) -> Result<Vec<PlaceRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {PLACE_COLUMNS} FROM places WHERE grid_id = ?1 AND NOT archived ORDER BY name, id"
    ))?;
    let mut out = Vec::new();
    for g in grids {
        for row in stmt.query_map([g], |r| place_row(r, today))? {
            out.push(row?);
        }
    }
    Ok(out)
}

impl Store {
    pub fn create_place(&self, actor: &Actor, p: NewPlace) -> Result<Uuid> {
        let place = Place {
            id: Uuid::now_v7(),
            place_type: p.place_type,
            name: p.name,
            address: p.address,
            location: p.location,
            grid_id: p.grid_id,
            responsible_name: p.responsible_name,
            responsible_phone: p.responsible_phone,
            risk_level: p.risk_level,
            patrol_every_days: p.patrol_every_days,
            archived: false,
        };
        let id = place.id;
        self.add_place(actor, place)?;
        Ok(id)
    }

    /// Records `place` as a new place under the id it carries (an import keys places by a
    /// stable id of its own, so the same file imported again finds them).
    pub fn add_place(&self, actor: &Actor, place: Place) -> Result<()> {
        let place = place.validated()?;
        self.write(|tx| {
            require_grid_in_scope(tx, actor, &place.grid_id)?;
            self.commit_local(tx, actor, OpBody::PlaceCreate(place))?;
            Ok(())
        })
    }

    pub fn update_place(&self, actor: &Actor, changes: PlaceChanges) -> Result<()> {
        let changes = changes.validated()?;
        self.write(|tx| {
            if actor.role == Role::GridWorker && !changes.grid_worker_may() {
                return Err(Rejection::RoleNotAllowed {
                    event: "place_update".into(),
                    role: actor.role,
                }
                .into());
            }
            let current = load_place(tx, changes.place_id, self.today())?;
            require_grid_in_scope(tx, actor, &current.place.grid_id)?;
            if let Some(g) = &changes.grid_id {
                require_grid_in_scope(tx, actor, g)?;
            }
            self.commit_local(tx, actor, OpBody::PlaceUpdate(changes))?;
            Ok(())
        })
    }

    /// Resolves a place id typed by a person: the full id or a unique tail of 6+ characters.
    pub fn find_place(&self, id_or_tail: &str) -> Result<Uuid> {
        self.resolve_id("places", id_or_tail, Entity::Place)
    }

    pub fn place(&self, id: Uuid) -> Result<PlaceRow> {
        self.read(|c| load_place(c, id, self.today()))
    }

    /// The actor's places, with the ones due for a patrol first (most overdue at the top).
    pub fn places(&self, actor: &Actor) -> Result<Vec<PlaceRow>> {
        let today = self.today();
        self.read(|c| places_in(c, &actor.grids, today))
    }

    /// Places due or overdue for a patrol today, most overdue first, after the grids' patrol
    /// plans (see `plan`) have said who goes where how often.
    pub fn due_patrols(&self, actor: &Actor) -> Result<Vec<PlaceRow>> {
        let today = self.today();
        let (rows, plans) = self.read(|c| {
            Ok((
                places_in(c, &actor.grids, today)?,
                crate::plan::plans_in(c, &actor.grids)?,
            ))
        })?;
        let worker = (actor.role == Role::GridWorker).then_some(actor.user_id.as_str());
        let mut due: Vec<PlaceRow> = crate::plan::apply_plans(rows, &plans, worker, today)
            .into_iter()
            .filter(|p| p.next_due <= today)
            .collect();
        due.sort_by_key(|p| (p.next_due, p.place.risk_level, p.place.id));
        Ok(due)
    }
}

/// A grid that exists, and that the actor works in.
pub(crate) fn require_grid_in_scope(conn: &Connection, actor: &Actor, grid_id: &str) -> Result<()> {
    let n = org::node(conn, grid_id)?;
    if n.level != org::OrgLevel::Grid {
        return Err(unknown(Field::Grid, grid_id).into());
    }
    if !actor.covers(grid_id) {
        return Err(Rejection::OutOfScope.into());
    }
    Ok(())
}
