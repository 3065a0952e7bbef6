//! Publicity (宣传), training (培训), drills (演练) and committee meetings (会议): simple records
//! that count in reports. Each entry is one op and is never edited, so there is nothing to
//! merge. A drill or a meeting names the station or committee that held it.

use rusqlite::{params, Transaction};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::Day;
use crate::error::{self, Field, InvalidInput, Problem, Result};
use crate::op::OpBody;
use crate::org::{self, Actor};
use crate::store::Store;
use crate::vocab::vocabulary;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    Publicity,
    Training,
    Drill,
    Meeting,
}

vocabulary!(ActivityKind, Field::Activity, {
    Publicity => ("publicity", "消防宣传"),
    Training => ("training", "消防培训"),
    Drill => ("drill", "消防演练"),
    Meeting => ("meeting", "会议"),
});

impl ActivityKind {
    /// Whether a list of who came is kept (not for publicity, counted by head).
    pub fn keeps_attendance(self) -> bool {
        self != ActivityKind::Publicity
    }

    /// Whether it is held by a station or committee (`Activity::group_id`).
    pub fn held_by_group(self) -> bool {
        matches!(self, ActivityKind::Drill | ActivityKind::Meeting)
    }
}

/// Where publicity went (宣传"五进").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Enterprises,
    Villages,
    Communities,
    Schools,
    Families,
}

vocabulary!(Channel, Field::Activity, {
    Enterprises => ("enterprises", "进企业"),
    Villages => ("villages", "进农村"),
    Communities => ("communities", "进社区"),
    Schools => ("schools", "进学校"),
    Families => ("families", "进家庭"),
});

/// The most names a training's attendance list holds, and photos an activity keeps.
pub const MAX_ATTENDEES: usize = 500;
pub const MAX_PHOTOS: usize = 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    pub id: Uuid,
    /// Named `activity` on the wire: `kind` is the op's own tag.
    #[serde(rename = "activity")]
    pub kind: ActivityKind,
    /// The grid, village or township the activity was held for.
    pub org_id: String,
    pub held_on: Day,
    pub title: String,
    pub audience: u32,
    #[serde(default)]
    pub note: String,
    /// Publicity only: where it went.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// Training only: who attended (签到), by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attendees: Vec<String>,
    /// Photos of the event, by hash.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub photos: Vec<String>,
    /// Training only: who attended by account (grid workers, above all), each with their
    /// assessment (考核) where one was held.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trainees: Vec<Trainee>,
    /// Drills and meetings: the station, team or committee that held it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<Uuid>,
}

/// One person with an account at a training, and how their assessment went (`None`: not
/// assessed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trainee {
    pub user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passed: Option<bool>,
}

impl Activity {
    /// A training's trainees are accounts assigned within the area it was held for, so a
    /// training logged for a grid names that grid's people, and the township's figures count
    /// nobody a worker could not have trained.
    pub(crate) fn check_trainees(&self, c: &rusqlite::Connection) -> Result<()> {
        if self.trainees.is_empty() {
            return Ok(());
        }
        let area = org::grids_under(c, &self.org_id)?;
        for t in &self.trainees {
            if !org::load_actor(c, &t.user_id)?.works_within(&area) {
                return Err(crate::hazard::lifecycle::Rejection::OutOfScope.into());
            }
        }
        Ok(())
    }

    /// The rules for what an activity record may hold, the same on the phone and the server.
    pub(crate) fn check_evidence(&self) -> std::result::Result<(), InvalidInput> {
        if self.channel.is_some() && self.kind != ActivityKind::Publicity {
            return Err(InvalidInput::new(Field::Activity, Problem::Malformed));
        }
        if !self.attendees.is_empty() && !self.kind.keeps_attendance()
            || !self.trainees.is_empty() && self.kind != ActivityKind::Training
        {
            return Err(InvalidInput::new(Field::Name, Problem::Malformed));
        }
        if self.group_id.is_some() != self.kind.held_by_group() {
            return Err(InvalidInput::new(Field::Group, Problem::Malformed));
        }
        if self.attendees.len() > MAX_ATTENDEES || self.trainees.len() > MAX_ATTENDEES {
            return Err(InvalidInput::new(
                Field::Name,
                Problem::TooLong { max: MAX_ATTENDEES },
            ));
        }
        for name in &self.attendees {
            error::text(Field::Name, name, 20)?;
        }
        let mut accounts: Vec<&str> = self.trainees.iter().map(|t| t.user_id.as_str()).collect();
        for id in &accounts {
            crate::org::check_code(Field::Id, id)?;
        }
        accounts.sort_unstable();
        if accounts.windows(2).any(|w| w[0] == w[1]) {
            return Err(InvalidInput::new(Field::Id, Problem::Malformed));
        }
        // The lists of who came are a floor under the head count.
        if (self.audience as usize) < self.attendees.len() + self.trainees.len() {
            return Err(InvalidInput::new(Field::Count, Problem::Malformed));
        }
        if self.photos.len() > MAX_PHOTOS {
            return Err(InvalidInput::new(
                Field::Photo,
                Problem::TooLong { max: MAX_PHOTOS },
            ));
        }
        for h in &self.photos {
            crate::checklist::check_photo_ref(h)?;
        }
        Ok(())
    }
}

/// What a person types to log an activity.
#[derive(Debug, Clone, PartialEq)]
pub struct NewActivity {
    pub kind: ActivityKind,
    pub org_id: String,
    pub held_on: Day,
    pub title: String,
    pub audience: u32,
    pub note: String,
    pub channel: Option<Channel>,
    pub attendees: Vec<String>,
    pub photos: Vec<String>,
    pub trainees: Vec<Trainee>,
    pub group_id: Option<Uuid>,
}

pub(crate) fn put_activity(tx: &Transaction, a: &Activity, by: &str) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO activities (id, kind, org_id, held_on, title, audience, note, user_id,
                                 channel, attendees, photos, trainees, group_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        a.id.to_string(),
        a.kind.code(),
        a.org_id,
        a.held_on.0,
        a.title,
        a.audience,
        a.note,
        by,
        a.channel.map(Channel::code),
        serde_json::to_string(&a.attendees)?,
        serde_json::to_string(&a.photos)?,
        serde_json::to_string(&a.trainees)?,
        a.group_id.map(|g| g.to_string()),
    ])?;
    Ok(())
}

impl Store {
    pub fn log_activity(&self, actor: &Actor, new: NewActivity) -> Result<Uuid> {
        self.write(|tx| self.log_activity_in(tx, actor, new))
    }

    /// `log_activity` within a running transaction (a submitted draft is deleted in it too).
    pub(crate) fn log_activity_in(
        &self,
        tx: &Transaction,
        actor: &Actor,
        new: NewActivity,
    ) -> Result<Uuid> {
        let NewActivity {
            kind,
            org_id,
            held_on,
            title,
            audience,
            note,
            channel,
            attendees,
            photos,
            trainees,
            group_id,
        } = new;
        let org_id = org_id.as_str();
        if held_on > self.today() {
            return Err(InvalidInput::new(Field::Date, Problem::Malformed).into());
        }
        if audience > 100_000 {
            return Err(InvalidInput::new(
                Field::Count,
                Problem::OutOfRange {
                    min: "0".into(),
                    max: "100000".into(),
                },
            )
            .into());
        }
        let a = Activity {
            id: Uuid::now_v7(),
            kind,
            org_id: org_id.to_string(),
            held_on,
            title: error::text(Field::Name, &title, 100)?,
            audience,
            note: error::optional_text(Field::Note, &note, 500)?,
            channel,
            attendees: attendees.iter().map(|n| n.trim().to_string()).collect(),
            photos,
            trainees,
            group_id,
        };
        a.check_evidence()?;
        a.check_trainees(tx)?;
        if let Some(g) = a.group_id {
            crate::registers::group::require_held_by(tx, &g, a.kind, Some(org_id))?;
        }
        let id = a.id;
        let body = OpBody::Activity(a);
        crate::sync::authz::require_writer(actor, &body)?;
        org::node(tx, org_id)?;
        org::require_whole(tx, actor, org_id)?;

        self.commit_local(tx, actor, body)?;
        Ok(id)
    }
}
