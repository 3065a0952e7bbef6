//! Patrols (巡查): one visit to one place, with the checklist answers, an optional GPS sample and
//! the hazards raised from failed items. A patrol is recorded as one op, together with its
//! hazards, in one transaction: the visit is either all there or not there at all. The template
//! version used is stored with the answers, and pass/fail is judged against that version.

use std::sync::Arc;

use rusqlite::{params, Connection, Transaction};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::checklist::{self, AnswerValue, Item, Template};
use crate::clock::Day;
use crate::error::{self, Field, InvalidInput, Problem, Result};
use crate::hazard::{self, HazardSource, NewHazard, Severity};
use crate::op::OpBody;
use crate::org::Actor;
use crate::place::{self, GeoPoint, PlaceRow};
use crate::store::Store;

/// A GPS fix as the phone gave it. Every part is optional: a poor fix never blocks a patrol.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct GpsSample {
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub accuracy_m: Option<f64>,
    /// The OS said the location came from a mock provider.
    #[serde(default)]
    pub mock: bool,
}

impl GpsSample {
    pub(crate) fn validated(self) -> Result<Self, InvalidInput> {
        if let (Some(lat), Some(lon)) = (self.lat, self.lon) {
            GeoPoint { lat, lon }.validated()?;
        } else if self.lat.is_some() != self.lon.is_some() {
            return Err(InvalidInput::new(Field::Latitude, Problem::Malformed));
        }
        if let Some(a) = self.accuracy_m {
            if !(a.is_finite() && (0.0..=100_000.0).contains(&a)) {
                return Err(InvalidInput::new(
                    Field::Accuracy,
                    Problem::OutOfRange {
                        min: "0".into(),
                        max: "100000".into(),
                    },
                ));
            }
        }
        Ok(self)
    }
    pub fn point(&self) -> Option<GeoPoint> {
        Some(GeoPoint {
            lat: self.lat?,
            lon: self.lon?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub key: String,
    pub value: AnswerValue,
    /// Left out of the op when false: most answers pass, and every byte of the log is carried
    /// on every sync.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub failed: bool,
}

/// The op body of a recorded patrol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatrolRecord {
    pub id: Uuid,
    pub place_id: Uuid,
    pub grid_id: String,
    pub worker_id: String,
    pub template_id: String,
    pub template_version: u32,
    pub started_at: i64,
    pub ended_at: i64,
    #[serde(default)]
    pub gps: GpsSample,
    pub answers: Vec<Answer>,
    #[serde(default)]
    pub note: String,
}

/// A hazard to raise from a failed item; description and photos default from the item.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RaiseHazard {
    pub item_key: String,
    pub description: Option<String>,
    pub severity: Option<Severity>,
    pub photos: Vec<String>,
}

impl RaiseHazard {
    /// The failed items to raise, each with its photos (`(item key, photo hash)`); a photo of
    /// an item not listed raises it too (it merges into its category's hazard).
    pub fn with_photos(items: Vec<String>, photos: Vec<(String, String)>) -> Vec<RaiseHazard> {
        let mut raise: Vec<RaiseHazard> = items
            .into_iter()
            .map(|item_key| RaiseHazard {
                item_key,
                ..RaiseHazard::default()
            })
            .collect();
        for (key, photo) in photos {
            match raise.iter_mut().find(|r| r.item_key == key) {
                Some(r) => r.photos.push(photo),
                None => raise.push(RaiseHazard {
                    item_key: key,
                    photos: vec![photo],
                    ..RaiseHazard::default()
                }),
            }
        }
        raise
    }
}

/// What a worker submits at the end of a visit.
#[derive(Debug, Clone, PartialEq)]
pub struct PatrolInput {
    pub place_id: Uuid,
    /// When the visit began, as this device's clock read it (Unix ms).
    pub started_at: i64,
    pub gps: GpsSample,
    pub answers: Vec<(String, AnswerValue)>,
    pub raise: Vec<RaiseHazard>,
    pub note: String,
}

/// The form a worker sees when starting a visit: the checklist in force for the place's type,
/// and which items failed at the last visit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatrolForm {
    pub place: PlaceRow,
    pub template: Template,
    pub failed_last_time: Vec<String>,
    /// What the place's last patrol answered, item by item (to show beside each item).
    pub last_answers: Vec<(String, AnswerValue)>,
    /// Items the patrol plan asks to look at first.
    pub focus_items: Vec<String>,
}

/// A hazard the app proposes from a failed item, prefilled for the worker to confirm or edit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HazardProposal {
    pub item_key: String,
    pub category: String,
    pub severity: Severity,
    pub description: String,
    pub suggested_deadline: Day,
    pub fixable_on_spot: bool,
    pub photo_required: bool,
    pub legal_basis: Option<String>,
}

impl HazardProposal {
    fn from_item(template_id: &str, item: &Item, today: Day) -> Self {
        HazardProposal {
            item_key: item.key.clone(),
            category: item.category.clone(),
            severity: item.severity,
            description: checklist::library().failure_wording(template_id, item),
            suggested_deadline: today.plus(item.deadline_days as i32),
            fixable_on_spot: item.fixable_on_spot,
            photo_required: item.photo_on_fail,
            legal_basis: item.legal_basis.clone(),
        }
    }

    /// Takes in another failed item of the same category: one hazard, named by both.
    fn absorb(&mut self, other: HazardProposal) {
        if !self.description.contains(&other.description) {
            self.description = format!("{}；{}", self.description, other.description);
        }
        if other.severity == Severity::Major {
            self.severity = Severity::Major;
        }
        self.suggested_deadline = self.suggested_deadline.min(other.suggested_deadline);
        self.fixable_on_spot &= other.fixable_on_spot;
        self.photo_required |= other.photo_required;
        self.legal_basis = self.legal_basis.take().or(other.legal_basis);
    }
}

/// One proposal per hazard category among the failed answers, in checklist order: a missing
/// extinguisher that fails both the yes/no item and the count item is one hazard, not two.
fn proposals(t: &Template, answers: &[Answer], today: Day) -> Vec<HazardProposal> {
    let mut out: Vec<HazardProposal> = Vec::new();
    for item in answers
        .iter()
        .filter(|a| a.failed)
        .filter_map(|a| t.item(&a.key).ok())
    {
        let p = HazardProposal::from_item(&t.id, item, today);
        match out.iter_mut().find(|x| x.category == p.category) {
            Some(first) => first.absorb(p),
            None => out.push(p),
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatrolOutcome {
    pub patrol_id: Uuid,
    pub hazard_ids: Vec<Uuid>,
    /// Proposals for failed items the worker did not raise a hazard for.
    pub unraised: Vec<HazardProposal>,
}

fn judge_all(t: &Template, answers: &[(String, AnswerValue)]) -> Result<Vec<Answer>> {
    let mut out: Vec<Answer> = Vec::with_capacity(answers.len());
    for (key, value) in answers {
        let item = t.item(key)?;
        if out.iter().any(|a| &a.key == key) {
            return Err(InvalidInput::new(Field::Answer, Problem::Malformed).into());
        }
        let failed = item.judge(value)?;
        out.push(Answer {
            key: key.clone(),
            value: value.clone(),
            failed,
        });
    }
    Ok(out)
}

pub(crate) fn put_patrol(tx: &Transaction, p: &PatrolRecord) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO patrols (id, place_id, grid_id, worker_id, template_id, template_version,
             started_at, ended_at, lat, lon, accuracy_m, mock, note)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        p.id.to_string(),
        p.place_id.to_string(),
        p.grid_id,
        p.worker_id,
        p.template_id,
        p.template_version,
        p.started_at,
        p.ended_at,
        p.gps.lat,
        p.gps.lon,
        p.gps.accuracy_m,
        p.gps.mock,
        p.note,
    ])?;
    let mut stmt = tx.prepare_cached(
        "INSERT INTO patrol_answers (patrol_id, item_key, value, failed) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let pid = p.id.to_string();
    for a in &p.answers {
        stmt.execute(params![
            pid,
            a.key,
            serde_json::to_string(&a.value)?,
            a.failed
        ])?;
    }
    Ok(())
}

/// The answers of the place's last patrol, in item order, each with whether it failed.
fn last_answers(conn: &Connection, place_id: Uuid) -> Result<Vec<(String, AnswerValue, bool)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.item_key, a.value, a.failed FROM patrol_answers a WHERE a.patrol_id =
            (SELECT id FROM patrols WHERE place_id = ?1 ORDER BY ended_at DESC LIMIT 1)
         ORDER BY a.item_key",
    )?;
    let rows = stmt
        .query_map([place_id.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, bool>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(key, value, failed)| Ok((key, serde_json::from_str(&value)?, failed)))
        .collect()
}

impl Store {
    /// The place and the checklist in force for its type.
    pub(crate) fn place_and_template(
        &self,
        c: &Connection,
        place_id: Uuid,
        today: Day,
    ) -> Result<(PlaceRow, Arc<Template>)> {
        let place = place::load_place(c, place_id, today)?;
        let tid = &checklist::library()
            .place_type(&place.place.place_type)?
            .template;
        Ok((place, self.templates().latest(c, tid)?))
    }
}

/// A patrol as listed in a place's file (一户一档).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatrolSummary {
    pub id: Uuid,
    pub worker_id: String,
    pub ended_at: i64,
    pub template: String,
    pub failed_items: u32,
    pub answered_items: u32,
}

/// A place's file: the place, its visits and its hazards, newest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlaceFile {
    pub place: PlaceRow,
    pub patrols: Vec<PatrolSummary>,
    pub hazards: Vec<hazard::HazardRow>,
}

impl Store {
    pub fn patrol_form(&self, place_id: Uuid) -> Result<PatrolForm> {
        let today = self.today();
        self.read(|c| {
            let (place, template) = self.place_and_template(c, place_id, today)?;
            let last = last_answers(c, place_id)?;
            Ok(PatrolForm {
                failed_last_time: last
                    .iter()
                    .filter(|(_, _, failed)| *failed)
                    .map(|(key, _, _)| key.clone())
                    .collect(),
                last_answers: last
                    .into_iter()
                    .map(|(key, value, _)| (key, value))
                    .collect(),
                focus_items: crate::plan::focus_items(c, &place.place, today)?,
                place,
                template: Template::clone(&template),
            })
        })
    }

    /// Proposals for every failed answer, for the worker to confirm before finishing.
    pub fn propose_hazards(
        &self,
        form: &PatrolForm,
        answers: &[(String, AnswerValue)],
    ) -> Result<Vec<HazardProposal>> {
        let judged = judge_all(&form.template, answers)?;
        Ok(proposals(&form.template, &judged, self.today()))
    }

    /// Records a finished visit and the hazards the worker chose to raise, in one transaction.
    /// The checklist is read inside that transaction too, so the answers are judged against
    /// exactly the template version that is stored with them.
    pub fn record_patrol(&self, actor: &Actor, input: PatrolInput) -> Result<PatrolOutcome> {
        self.write(|tx| self.record_patrol_in(tx, actor, input))
    }

    /// `record_patrol` within a running transaction (a submitted draft is deleted in it too).
    pub(crate) fn record_patrol_in(
        &self,
        tx: &Transaction,
        actor: &Actor,
        input: PatrolInput,
    ) -> Result<PatrolOutcome> {
        let gps = input.gps.validated()?;
        let note = error::optional_text(Field::Note, &input.note, 500)?;
        let now = self.now_ms();
        let today = self.today();
        // The app read the start off the device's clock; correct it the way `now` is corrected.
        // A start before any phone ran this app (a clock reset to 1970, an app that did not
        // say) is no start at all: the visit is dated by its end, never refused for it.
        let started_at = Some(input.started_at + (now - self.device_wall_ms()))
            .filter(|t| *t >= crate::rules::EARLIEST_MS)
            .unwrap_or(now);
        if started_at > now {
            return Err(InvalidInput::new(Field::Date, Problem::Malformed).into());
        }
        {
            let (place, template) = self.place_and_template(tx, input.place_id, today)?;
            place::require_grid_in_scope(tx, actor, &place.place.grid_id)?;
            let record = PatrolRecord {
                id: Uuid::now_v7(),
                place_id: input.place_id,
                grid_id: place.place.grid_id.clone(),
                worker_id: actor.user_id.clone(),
                template_id: template.id.clone(),
                template_version: template.version,
                started_at,
                ended_at: now,
                gps,
                answers: judge_all(&template, &input.answers)?,
                note,
            };
            // The chosen items, one hazard per category (as the proposals are), each worded
            // as the person wrote it or by the item's failure wording.
            let all = proposals(&template, &record.answers, today);
            let mut raised: Vec<NewHazard> = Vec::with_capacity(input.raise.len());
            // Whether each raised hazard takes in an item that asks for a photo when it fails.
            let mut needs_photo: Vec<bool> = Vec::with_capacity(input.raise.len());
            for r in &input.raise {
                let answer = record.answers.iter().find(|a| a.key == r.item_key);
                if !answer.is_some_and(|a| a.failed) {
                    return Err(InvalidInput::new(Field::Answer, Problem::Malformed).into());
                }
                let item = template.item(&r.item_key)?;
                let description = r
                    .description
                    .clone()
                    .unwrap_or_else(|| checklist::library().failure_wording(&template.id, item));
                let severity = r.severity.unwrap_or(item.severity);
                if let Some(at) = raised.iter().position(|h| h.category == item.category) {
                    needs_photo[at] |= item.photo_on_fail;
                    let h = &mut raised[at];
                    if !h.description.contains(&description) {
                        h.description = format!("{}；{description}", h.description);
                    }
                    if severity == Severity::Major {
                        h.severity = Severity::Major;
                    }
                    h.photos.extend(r.photos.iter().cloned());
                    continue;
                }
                raised.push(NewHazard {
                    place_id: input.place_id,
                    category: item.category.clone(),
                    severity,
                    description,
                    photos: r.photos.clone(),
                    location: gps.point(),
                    source: Some(HazardSource {
                        patrol_id: record.id,
                        template_id: record.template_id.clone(),
                        template_version: record.template_version,
                        item_key: item.key.clone(),
                    }),
                    legal_basis: item.legal_basis.clone(),
                });
                needs_photo.push(item.photo_on_fail);
            }
            // The checklist asks for a photo of these failures: the hazard is not raised on a
            // word alone.
            if raised
                .iter()
                .zip(&needs_photo)
                .any(|(h, needs)| *needs && h.photos.is_empty())
            {
                return Err(InvalidInput::new(Field::Photo, Problem::Empty).into());
            }
            let unraised = all
                .into_iter()
                .filter(|p| !raised.iter().any(|h| h.category == p.category))
                .collect();
            let patrol_id = record.id;
            self.commit_local(tx, actor, OpBody::Patrol(record))?;
            let mut hazard_ids = Vec::with_capacity(raised.len());
            for h in raised {
                let (id, body) = hazard::report_body(tx, &place.place, h)?;
                self.commit_local(tx, actor, body)?;
                hazard_ids.push(id);
            }
            Ok(PatrolOutcome {
                patrol_id,
                hazard_ids,
                unraised,
            })
        }
    }

    /// The place's file (一户一档): its record, every visit and every hazard.
    pub fn place_file(&self, place_id: Uuid) -> Result<PlaceFile> {
        let today = self.today();
        let place = self.place(place_id)?;
        let patrols = self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT p.id, p.worker_id, p.ended_at, p.template_id || ' v' || p.template_version,
                    (SELECT count(*) FROM patrol_answers a WHERE a.patrol_id = p.id AND a.failed),
                    (SELECT count(*) FROM patrol_answers a WHERE a.patrol_id = p.id)
                 FROM patrols p WHERE p.place_id = ?1 ORDER BY p.ended_at DESC, p.id",
            )?;
            let rows = stmt
                .query_map([place_id.to_string()], |r| {
                    Ok(PatrolSummary {
                        id: Uuid::parse_str(&r.get::<_, String>(0)?).unwrap_or_default(),
                        worker_id: r.get(1)?,
                        ended_at: r.get(2)?,
                        template: r.get(3)?,
                        failed_items: r.get(4)?,
                        answered_items: r.get(5)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })?;
        let hazards = self.hazards_at_place(place_id, today)?;
        Ok(PlaceFile {
            place,
            patrols,
            hazards,
        })
    }
}
