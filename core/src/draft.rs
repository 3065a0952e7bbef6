//! Drafts (草稿): work in progress on this device (a patrol half answered, a hazard or an
//! activity being written), written to the database at every change, so an app killed in the
//! middle of a checklist or a phone restarted loses nothing. A draft belongs to its author on
//! this device: it is never synced and not derived from the log (a rebuild keeps it).
//! Submitting turns it into the very ops a finished form makes, in the transaction that deletes
//! it, so a draft is submitted once or not at all; it goes otherwise only when discarded.

use std::collections::BTreeMap;

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::activity::{ActivityKind, Channel, NewActivity};
use crate::checklist::AnswerValue;
use crate::clock::Day;
use crate::error::{self, Entity, Error, Field, InvalidInput, Problem, Result};
use crate::hazard::{NewHazard, Severity};
use crate::org::Actor;
use crate::patrol::{GpsSample, PatrolInput, PatrolOutcome, RaiseHazard};
use crate::place;
use crate::store::Store;

/// The most a draft keeps per list (photos of one hazard, hazards of one patrol): a form, not a
/// dump.
const MOST: usize = 50;

/// What a draft holds, by kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DraftBody {
    Patrol(PatrolDraft),
    Hazard(HazardDraft),
    Activity(ActivityDraft),
}

/// A visit in progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatrolDraft {
    pub place_id: Uuid,
    /// When the visit began, by this device's clock (Unix ms), as `PatrolInput` takes it.
    pub started_at: i64,
    #[serde(default)]
    pub gps: GpsSample,
    /// The answers so far, by item key.
    #[serde(default)]
    pub answers: BTreeMap<String, AnswerValue>,
    /// The failed items to raise, each with its own wording and photos.
    #[serde(default)]
    pub raise: Vec<DraftHazard>,
    #[serde(default)]
    pub note: String,
}

/// A hazard to raise from a failed item; no description means the item's failure wording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DraftHazard {
    pub item_key: String,
    pub description: Option<String>,
    #[serde(default)]
    pub photos: Vec<String>,
}

/// A hazard report in progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HazardDraft {
    pub place_id: Uuid,
    pub category: String,
    pub severity: Severity,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub photos: Vec<String>,
    #[serde(default)]
    pub gps: GpsSample,
}

/// A publicity or training log in progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityDraft {
    pub activity: ActivityKind,
    pub org_id: String,
    pub held_on: Day,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub audience: u32,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub channel: Option<Channel>,
    #[serde(default)]
    pub attendees: Vec<String>,
    #[serde(default)]
    pub photos: Vec<String>,
    #[serde(default)]
    pub trainees: Vec<crate::activity::Trainee>,
    /// A drill's station or a meeting's committee.
    #[serde(default)]
    pub group_id: Option<Uuid>,
}

impl DraftBody {
    pub fn kind(&self) -> &'static str {
        match self {
            DraftBody::Patrol(_) => "patrol",
            DraftBody::Hazard(_) => "hazard",
            DraftBody::Activity(_) => "activity",
        }
    }

    fn place_id(&self) -> Option<Uuid> {
        match self {
            DraftBody::Patrol(p) => Some(p.place_id),
            DraftBody::Hazard(h) => Some(h.place_id),
            DraftBody::Activity(_) => None,
        }
    }

    /// Refuses what no form would send, before it is written: over-long text, endless lists, a
    /// GPS fix off the globe. Whether it makes a whole record is judged at submission.
    fn check(&self) -> Result<()> {
        let list = |v: usize| {
            if v > MOST {
                Err(InvalidInput::new(
                    Field::Photo,
                    Problem::TooLong { max: MOST },
                ))
            } else {
                Ok(())
            }
        };
        match self {
            DraftBody::Patrol(p) => {
                p.gps.validated()?;
                error::optional_text(Field::Note, &p.note, 500)?;
                list(p.raise.len())?;
                for r in &p.raise {
                    list(r.photos.len())?;
                    if let Some(d) = &r.description {
                        error::optional_text(Field::Description, d, 500)?;
                    }
                }
            }
            DraftBody::Hazard(h) => {
                h.gps.validated()?;
                error::optional_text(Field::Category, &h.category, 40)?;
                error::optional_text(Field::Description, &h.description, 500)?;
                list(h.photos.len())?;
            }
            DraftBody::Activity(a) => {
                error::optional_text(Field::Name, &a.title, 100)?;
                error::optional_text(Field::Note, &a.note, 500)?;
                list(a.photos.len())?;
                if a.attendees.len() > crate::activity::MAX_ATTENDEES {
                    return Err(InvalidInput::new(
                        Field::Name,
                        Problem::TooLong {
                            max: crate::activity::MAX_ATTENDEES,
                        },
                    )
                    .into());
                }
            }
        }
        Ok(())
    }
}

/// A draft as kept.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Draft {
    pub id: Uuid,
    pub user_id: String,
    pub started_at: i64,
    pub updated_at: i64,
    pub body: DraftBody,
}

/// A line of the home screen's 续填 list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DraftRow {
    pub id: Uuid,
    pub kind: String,
    pub place_id: Option<Uuid>,
    pub place_name: Option<String>,
    pub started_at: i64,
    pub updated_at: i64,
    /// Items answered so far (a patrol), or 0.
    pub answered: u32,
}

/// What a submitted draft became.
#[derive(Debug, Clone, PartialEq)]
pub enum Submitted {
    Patrol(PatrolOutcome),
    Hazard(Uuid),
    Activity(Uuid),
}

fn load(conn: &Connection, actor: &Actor, id: Uuid) -> Result<Draft> {
    let row: Option<(String, i64, i64, String)> = conn
        .prepare_cached(
            "SELECT user_id, started_at, updated_at, body FROM drafts WHERE id = ?1 AND user_id = ?2",
        )?
        .query_row(params![id.to_string(), actor.user_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    // Another person's draft on a shared phone is as good as none.
    let (user_id, started_at, updated_at, body) =
        row.ok_or_else(|| Error::not_found(Entity::Draft, id.to_string()))?;
    Ok(Draft {
        id,
        user_id,
        started_at,
        updated_at,
        body: serde_json::from_str(&body)?,
    })
}

fn uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|_| Error::not_found(Entity::Draft, s))
}

fn store_body(tx: &Transaction, id: Uuid, body: &DraftBody, now: i64) -> Result<()> {
    tx.prepare_cached("UPDATE drafts SET body = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![id.to_string(), serde_json::to_string(body)?, now])?;
    Ok(())
}

impl PatrolDraft {
    fn into_input(self) -> PatrolInput {
        PatrolInput {
            place_id: self.place_id,
            started_at: self.started_at,
            gps: self.gps,
            answers: self.answers.into_iter().collect(),
            raise: self
                .raise
                .into_iter()
                .map(|r| RaiseHazard {
                    item_key: r.item_key,
                    description: r.description,
                    severity: None,
                    photos: r.photos,
                })
                .collect(),
            note: self.note,
        }
    }
}

impl Store {
    /// Starts a draft for `actor`; a patrol or hazard only at a place in their area.
    pub fn start_draft(&self, actor: &Actor, body: DraftBody) -> Result<Uuid> {
        self.insert_draft(actor, body, |_| Ok(None))
    }

    /// Writes a new draft unless `existing` (asked in the same transaction) names one.
    fn insert_draft(
        &self,
        actor: &Actor,
        body: DraftBody,
        existing: impl FnOnce(&Transaction) -> Result<Option<Uuid>>,
    ) -> Result<Uuid> {
        body.check()?;
        let id = Uuid::now_v7();
        let now = self.device_wall_ms();
        self.write(|tx| {
            if let Some(found) = existing(tx)? {
                return Ok(found);
            }
            if let Some(place_id) = body.place_id() {
                let p = place::load_place(tx, place_id, Day(0))?.place;
                place::require_grid_in_scope(tx, actor, &p.grid_id)?;
            }
            tx.prepare_cached(
                "INSERT INTO drafts (id, user_id, kind, place_id, started_at, updated_at, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
            )?
            .execute(params![
                id.to_string(),
                actor.user_id,
                body.kind(),
                body.place_id().map(|p| p.to_string()),
                now,
                serde_json::to_string(&body)?,
            ])?;
            Ok(id)
        })
    }

    /// The visit `actor` has begun at `place_id`, or a new one begun now with whatever fix the
    /// phone had (none is fine): one visit in progress per person and place, however often the
    /// screen is opened or the button tapped.
    pub fn start_patrol_draft(
        &self,
        actor: &Actor,
        place_id: Uuid,
        gps: GpsSample,
    ) -> Result<Uuid> {
        let begun = |c: &Connection| -> Result<Option<Uuid>> {
            let id: Option<String> = c
                .prepare_cached(
                    "SELECT id FROM drafts WHERE user_id = ?1 AND kind = 'patrol' AND place_id = ?2
                     ORDER BY started_at LIMIT 1",
                )?
                .query_row(params![actor.user_id, place_id.to_string()], |r| r.get(0))
                .optional()?;
            id.as_deref().map(uuid).transpose()
        };
        if let Some(id) = self.read(begun)? {
            return Ok(id);
        }
        let body = DraftBody::Patrol(PatrolDraft {
            place_id,
            started_at: self.device_wall_ms(),
            gps,
            answers: BTreeMap::new(),
            raise: Vec::new(),
            note: String::new(),
        });
        // Asked again where it is written: two taps at once still make one visit.
        self.insert_draft(actor, body, |tx| begun(tx))
    }

    /// `actor`'s draft `id`.
    pub fn draft(&self, actor: &Actor, id: Uuid) -> Result<Draft> {
        self.read(|c| load(c, actor, id))
    }

    /// `actor`'s drafts on this device, the last touched first.
    pub fn drafts(&self, actor: &Actor) -> Result<Vec<DraftRow>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT d.id, d.kind, d.place_id, p.name, d.started_at, d.updated_at, d.body
                 FROM drafts d LEFT JOIN places p ON p.id = d.place_id
                 WHERE d.user_id = ?1 ORDER BY d.updated_at DESC, d.id DESC",
            )?;
            let rows = stmt.query_map([&actor.user_id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, String>(6)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (id, kind, place_id, place_name, started_at, updated_at, body) = row?;
                let answered = match serde_json::from_str(&body)? {
                    DraftBody::Patrol(p) => u32::try_from(p.answers.len()).unwrap_or(u32::MAX),
                    _ => 0,
                };
                out.push(DraftRow {
                    id: uuid(&id)?,
                    kind,
                    place_id: place_id.as_deref().map(uuid).transpose()?,
                    place_name,
                    started_at,
                    updated_at,
                    answered,
                });
            }
            Ok(out)
        })
    }

    /// Changes `actor`'s draft `id` by `f` and writes it at once; a change refused by `f` or by
    /// the draft's limits leaves the draft as it was. The kind and place stay as started.
    pub fn edit_draft(
        &self,
        actor: &Actor,
        id: Uuid,
        f: impl FnOnce(&mut DraftBody) -> Result<()>,
    ) -> Result<Draft> {
        let now = self.device_wall_ms();
        self.write(|tx| {
            let mut d = load(tx, actor, id)?;
            let (kind, place) = (d.body.kind(), d.body.place_id());
            f(&mut d.body)?;
            if d.body.kind() != kind || d.body.place_id() != place {
                return Err(InvalidInput::new(Field::Id, Problem::Malformed).into());
            }
            d.body.check()?;
            store_body(tx, id, &d.body, now)?;
            d.updated_at = now;
            Ok(d)
        })
    }

    /// Sets (or with `None` clears) the answer to `item_key` in a patrol draft. The item must
    /// be on the place's checklist.
    pub fn save_draft_answer(
        &self,
        actor: &Actor,
        id: Uuid,
        item_key: &str,
        answer: Option<AnswerValue>,
    ) -> Result<Draft> {
        let DraftBody::Patrol(p) = self.draft(actor, id)?.body else {
            return Err(InvalidInput::new(Field::Answer, Problem::Malformed).into());
        };
        // Clearing needs no item: one the checklist has since dropped can still be cleared.
        if answer.is_some() {
            let today = self.today();
            let (_, template) = self.read(|c| self.place_and_template(c, p.place_id, today))?;
            template.item(item_key)?;
        }
        self.edit_draft(actor, id, |body| {
            if let DraftBody::Patrol(p) = body {
                match answer {
                    Some(a) => p.answers.insert(item_key.to_string(), a),
                    None => p.answers.remove(item_key),
                };
            }
            Ok(())
        })
    }

    /// Submits `actor`'s draft `id`: the same ops the finished form makes, and the draft gone,
    /// in one transaction. Refused, the draft stays as it was, to correct and submit again.
    pub fn submit_draft(&self, actor: &Actor, id: Uuid) -> Result<Submitted> {
        self.write(|tx| {
            let d = load(tx, actor, id)?;
            let out = match d.body {
                DraftBody::Patrol(mut p) => {
                    // A checklist updated since the visit began has dropped some items: their
                    // answers cannot be judged and would refuse the whole visit, so they go.
                    // Read in this transaction, as `record_patrol_in` reads it.
                    let (_, template) = self.place_and_template(tx, p.place_id, self.today())?;
                    let kept = |k: &String| template.item(k).is_ok();
                    p.answers.retain(|k, _| kept(k));
                    p.raise.retain(|r| kept(&r.item_key));
                    Submitted::Patrol(self.record_patrol_in(tx, actor, p.into_input())?)
                }
                DraftBody::Hazard(h) => {
                    let new = NewHazard {
                        photos: h.photos,
                        location: h.gps.point(),
                        ..NewHazard::new(h.place_id, &h.category, h.severity, &h.description)
                    };
                    Submitted::Hazard(self.report_hazard_in(tx, actor, new)?)
                }
                DraftBody::Activity(a) => Submitted::Activity(self.log_activity_in(
                    tx,
                    actor,
                    NewActivity {
                        kind: a.activity,
                        org_id: a.org_id,
                        held_on: a.held_on,
                        title: a.title,
                        audience: a.audience,
                        note: a.note,
                        channel: a.channel,
                        attendees: a.attendees,
                        photos: a.photos,
                        trainees: a.trainees,
                        group_id: a.group_id,
                    },
                )?),
            };
            tx.prepare_cached("DELETE FROM drafts WHERE id = ?1")?
                .execute([id.to_string()])?;
            Ok(out)
        })
    }

    /// Throws `actor`'s draft `id` away (the person chose to).
    pub fn discard_draft(&self, actor: &Actor, id: Uuid) -> Result<()> {
        self.write(|tx| {
            load(tx, actor, id)?;
            tx.prepare_cached("DELETE FROM drafts WHERE id = ?1")?
                .execute([id.to_string()])?;
            Ok(())
        })
    }
}
