//! Signed papers (签订): a place's fire-safety responsibility letter (消防安全责任书) or pledge
//! (承诺书), which a grid worker collects at the place, and a village's fire pact (防火公约),
//! which the village leader records. Each is the signed date, who signed and a photo of the
//! paper. Letters are signed year by year, so one counts for `VALID_DAYS` from its signing:
//! a place without one in force is flagged in its file, and 责任书签订率 counts the places
//! with one.

use rusqlite::{params, Transaction};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::{Day, Hlc};
use crate::error::{self, Field, InvalidInput, Problem, Result};
use crate::op::OpBody;
use crate::org::{self, Actor, OrgLevel};
use crate::store::Store;
use crate::vocab::vocabulary;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LetterKind {
    Responsibility,
    Pledge,
    VillagePact,
}

vocabulary!(LetterKind, Field::Letter, {
    Responsibility => ("responsibility", "消防安全责任书"),
    Pledge => ("pledge", "消防安全承诺书"),
    VillagePact => ("village_pact", "防火公约"),
});

impl LetterKind {
    /// Whether this paper is signed by a place (rather than adopted by a village).
    pub fn of_place(self) -> bool {
        self != LetterKind::VillagePact
    }
}

/// How long a signed letter counts: a year, as they are signed year by year.
pub const VALID_DAYS: i32 = 365;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Letter {
    pub id: Uuid,
    /// Named `letter` on the wire: `kind` is the op's own tag.
    #[serde(rename = "letter")]
    pub kind: LetterKind,
    /// The place's grid, or the village of a pact.
    pub org_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place_id: Option<Uuid>,
    pub signed_on: Day,
    /// Who signed (the place's responsible person, or the village committee).
    pub signed_by: String,
    #[serde(default)]
    pub note: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub photos: Vec<String>,
}

impl Letter {
    /// What a letter may hold, the same on the phone and the server (`at`: the op's clock).
    pub(crate) fn check(&self, at: Hlc) -> std::result::Result<(), InvalidInput> {
        org::check_code(Field::Grid, &self.org_id)?;
        if self.kind.of_place() != self.place_id.is_some() {
            return Err(InvalidInput::new(Field::Letter, Problem::Malformed));
        }
        if self.signed_on > at.day().plus(1)
            || self.signed_on.start_ms() < crate::rules::EARLIEST_MS
        {
            return Err(InvalidInput::new(Field::Date, Problem::Malformed));
        }
        error::text(Field::Name, &self.signed_by, 50)?;
        error::optional_text(Field::Note, &self.note, 500)?;
        super::check_photos(&self.photos)
    }

    /// The day from which the letter no longer counts.
    pub fn lapses_on(&self) -> Day {
        self.signed_on.plus(VALID_DAYS)
    }
}

/// What a person types to record a signed paper: a place's letter (`place_id`), or a village's
/// pact (`village_id`).
#[derive(Debug, Clone, PartialEq)]
pub struct NewLetter {
    pub kind: LetterKind,
    pub place_id: Option<Uuid>,
    pub village_id: Option<String>,
    pub signed_on: Day,
    pub signed_by: String,
    pub note: String,
    pub photos: Vec<String>,
}

pub(crate) fn put_letter(tx: &Transaction, l: &Letter, by: &str) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO letters (id, kind, org_id, place_id, signed_on, signed_by, note, photos,
                              user_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        l.id.to_string(),
        l.kind.code(),
        l.org_id,
        l.place_id.map(|p| p.to_string()),
        l.signed_on.0,
        l.signed_by,
        l.note,
        serde_json::to_string(&l.photos)?,
        by,
    ])?;
    Ok(())
}

impl Store {
    /// Records a signed letter, pledge or village pact; its id.
    pub fn record_letter(&self, actor: &Actor, new: NewLetter) -> Result<Uuid> {
        if new.signed_on > self.today() {
            return Err(super::after_today(self.today()));
        }
        self.write(|tx| {
            let org_id = match (new.place_id, &new.village_id) {
                (Some(place), None) => super::place_grid(tx, &place)?,
                (None, Some(village)) if org::node(tx, village)?.level == OrgLevel::Village => {
                    village.clone()
                }
                _ => return Err(InvalidInput::new(Field::Letter, Problem::Malformed).into()),
            };
            let letter = Letter {
                id: Uuid::now_v7(),
                kind: new.kind,
                org_id,
                place_id: new.place_id,
                signed_on: new.signed_on,
                signed_by: new.signed_by.trim().to_string(),
                note: new.note.trim().to_string(),
                photos: new.photos,
            };
            letter.check(Hlc::new(self.now_ms(), 0))?;
            let (id, org_id) = (letter.id, letter.org_id.clone());
            let body = OpBody::Letter(letter);
            crate::sync::authz::require_writer(actor, &body)?;
            org::require_whole(tx, actor, &org_id)?;
            self.commit_local(tx, actor, body)?;
            Ok(id)
        })
    }
}

/// A signed paper as a list or a ledger shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LetterRow {
    pub letter: Letter,
    /// The village (a pact's own), and the grid of a place's letter.
    pub village: String,
    pub grid: String,
    pub place_name: Option<String>,
    pub address: Option<String>,
    pub recorded_by: String,
}

/// The papers signed from `from` to `to` (inclusive) for areas at or below `scope_id`, in the
/// order they were signed.
pub(crate) fn letter_rows(
    c: &rusqlite::Connection,
    scope_id: &str,
    from: Day,
    to: Day,
) -> Result<Vec<LetterRow>> {
    let mut stmt = c.prepare_cached(
        "WITH RECURSIVE sub(id) AS (
            SELECT ?1 UNION ALL SELECT o.id FROM org_nodes o JOIN sub ON o.parent_id = sub.id)
         SELECT l.id, l.kind, l.org_id, l.place_id, l.signed_on, l.signed_by, l.note, l.photos,
                n.level, coalesce(n.name, l.org_id), coalesce(up.name, ''), p.name, p.address,
                l.user_id
         FROM letters l LEFT JOIN org_nodes n ON n.id = l.org_id
         LEFT JOIN org_nodes up ON up.id = n.parent_id LEFT JOIN places p ON p.id = l.place_id
         WHERE l.signed_on >= ?2 AND l.signed_on <= ?3 AND l.org_id IN sub
         ORDER BY l.signed_on, l.id",
    )?;
    let bad = super::unreadable;
    let rows = stmt
        .query_map(params![scope_id, from.0, to.0], |r| {
            let id: String = r.get(0)?;
            let kind: String = r.get(1)?;
            let place: Option<String> = r.get(3)?;
            let photos: String = r.get(7)?;
            let letter = Letter {
                id: Uuid::parse_str(&id).map_err(|e| bad(0, &e))?,
                kind: kind.parse().map_err(|e| bad(1, &e))?,
                org_id: r.get(2)?,
                place_id: place
                    .map(|p| Uuid::parse_str(&p).map_err(|e| bad(3, &e)))
                    .transpose()?,
                signed_on: Day(r.get(4)?),
                signed_by: r.get(5)?,
                note: r.get(6)?,
                photos: serde_json::from_str(&photos).map_err(|e| bad(7, &e))?,
            };
            let level: Option<String> = r.get(8)?;
            let (own, parent): (String, String) = (r.get(9)?, r.get(10)?);
            // A pact names its village; a place's letter names the place's grid.
            let (village, grid) = if level.as_deref() == Some("village") {
                (own, String::new())
            } else {
                (parent, own)
            };
            Ok((
                letter,
                village,
                grid,
                r.get(11)?,
                r.get(12)?,
                r.get::<_, String>(13)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(letter, village, grid, place_name, address, by)| {
            Ok(LetterRow {
                recorded_by: crate::report::export::person_name(c, &by)?,
                letter,
                village,
                grid,
                place_name,
                address,
            })
        })
        .collect()
}

/// The day the place's latest letter or pledge was signed, on or before `on`.
pub(crate) fn latest_signed(c: &rusqlite::Connection, place: &str, on: Day) -> Result<Option<Day>> {
    Ok(c.prepare_cached(
        "SELECT max(signed_on) FROM letters WHERE place_id = ?1 AND signed_on <= ?2",
    )?
    .query_row(params![place, on.0], |r| r.get::<_, Option<i32>>(0))?
    .map(Day))
}

/// Whether a letter signed on `signed` is in force on `on`.
pub fn in_force(signed: Option<Day>, on: Day) -> bool {
    signed.is_some_and(|d| d <= on && on < d.plus(VALID_DAYS))
}

impl Store {
    /// The papers signed in a period under `scope_id` (see `letter_rows`).
    pub fn letters(&self, scope_id: &str, from: Day, to: Day) -> Result<Vec<LetterRow>> {
        crate::report::check_period(from, to)?;
        self.read(|c| {
            org::node(c, scope_id)?;
            letter_rows(c, scope_id, from, to)
        })
    }

    /// When the place's latest letter or pledge was signed, up to today: the place's file
    /// flags a place whose letter is missing or no longer `in_force`.
    pub fn letter_signed_on(&self, place: Uuid) -> Result<Option<Day>> {
        let today = self.today();
        self.read(|c| latest_signed(c, &place.to_string(), today))
    }
}

impl Store {
    /// The active places under `scope_id` with no letter or pledge in force on `on`, each with
    /// its last signing (a lapsed letter) if any: the places 责任书签订率 counts as unsigned.
    pub fn places_without_letter(
        &self,
        scope_id: &str,
        on: Day,
    ) -> Result<Vec<(crate::place::PlaceRow, Option<Day>)>> {
        let today = self.today();
        self.read(|c| {
            let grids = org::grids_under(c, scope_id)?;
            let mut out = Vec::new();
            for p in crate::place::places_in(c, &grids, today)? {
                let signed = latest_signed(c, &p.place.id.to_string(), on)?;
                if !in_force(signed, on) {
                    out.push((p, signed));
                }
            }
            Ok(out)
        })
    }
}
