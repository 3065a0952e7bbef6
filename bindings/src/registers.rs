//! The registers beside patrols and hazards, from the phone: fires (火灾情况), which a village
//! leader, the township or the brigade records and which are read back with what the place's
//! own records said when it broke out; and signed papers (责任书、承诺书、防火公约), with whether
//! a place's letter is in force so its file can flag one that is missing or lapsed. Who may
//! write and what an entry may hold are the core's rules (`gridpatrol_core::registers`), the
//! same the server applies; reads are refused outside the user's scope as `report` is.

use gridpatrol_core::op::OpBody;
use gridpatrol_core::registers::fire::{self, FireRow, NewFire};
use gridpatrol_core::registers::letter::{self, LetterRow, NewLetter};
use gridpatrol_core::{Day, Error};

use crate::error::GridPatrolError;
use crate::records::place_type_zh;
use crate::store::{id, PatrolStore};

type Result<T> = std::result::Result<T, GridPatrolError>;

/// 起火原因, as the year-end report groups them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum FireCause {
    /// 电气
    Electrical,
    /// 用火不慎
    CarelessUse,
    /// 吸烟
    Smoking,
    /// 玩火
    Playing,
    /// 自燃
    Spontaneous,
    /// 放火
    Arson,
    /// 其他
    Other,
    /// 不明
    Unknown,
}

impl From<FireCause> for fire::FireCause {
    fn from(c: FireCause) -> Self {
        use fire::FireCause as C;
        match c {
            FireCause::Electrical => C::Electrical,
            FireCause::CarelessUse => C::CarelessUse,
            FireCause::Smoking => C::Smoking,
            FireCause::Playing => C::Playing,
            FireCause::Spontaneous => C::Spontaneous,
            FireCause::Arson => C::Arson,
            FireCause::Other => C::Other,
            FireCause::Unknown => C::Unknown,
        }
    }
}

impl From<fire::FireCause> for FireCause {
    fn from(c: fire::FireCause) -> Self {
        use fire::FireCause as C;
        match c {
            C::Electrical => FireCause::Electrical,
            C::CarelessUse => FireCause::CarelessUse,
            C::Smoking => FireCause::Smoking,
            C::Playing => FireCause::Playing,
            C::Spontaneous => FireCause::Spontaneous,
            C::Arson => FireCause::Arson,
            C::Other => FireCause::Other,
            C::Unknown => FireCause::Unknown,
        }
    }
}

/// A cause the fire entry screen offers.
#[derive(Debug, Clone, uniffi::Record)]
pub struct FireCauseChoice {
    pub cause: FireCause,
    pub code: String,
    pub zh: String,
}

/// A fire as the entry screen collects it.
#[derive(Debug, Clone, uniffi::Record)]
pub struct FireInput {
    /// The grid it broke out in (a registered place's own grid).
    pub grid_id: String,
    /// The registered place that burned; None for an address only.
    pub place_id: Option<String>,
    /// May be left empty for a registered place: the place's own address is used.
    pub address: String,
    /// When it broke out (Unix ms).
    pub occurred_at_ms: i64,
    pub cause: FireCause,
    pub deaths: u32,
    pub injuries: u32,
    /// 直接财产损失（元）
    pub loss_yuan: u64,
    /// 消防救援队伍到场
    pub brigade_attended: bool,
    pub note: String,
    /// Photos by the SHA-256 of their original files.
    pub photos: Vec<String>,
}

/// A case that was open at a place when it burned.
#[derive(Debug, Clone, uniffi::Record)]
pub struct OpenHazardAtFire {
    pub case_label: String,
    pub category_zh: String,
    /// Where the case stands now (it may have closed since).
    pub status_zh: String,
}

/// What a registered place's own records said when it burned.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PlaceRecordAtFire {
    /// The last patrol that ended before the fire (Unix ms).
    pub last_patrol_ms: Option<i64>,
    /// Patrols in the year before the fire.
    pub patrols_in_year: u32,
    pub open_hazards: Vec<OpenHazardAtFire>,
}

/// A fire as the register lists it.
#[derive(Debug, Clone, uniffi::Record)]
pub struct FireEntry {
    pub fire_id: String,
    pub grid_id: String,
    pub grid_name: String,
    pub village_name: String,
    pub place_id: Option<String>,
    pub place_name: Option<String>,
    pub place_type_zh: Option<String>,
    pub address: String,
    pub occurred_at_ms: i64,
    /// The day it broke out (`YYYY-MM-DD`, China time).
    pub occurred_on: String,
    pub cause: FireCause,
    pub cause_zh: String,
    pub deaths: u32,
    pub injuries: u32,
    pub loss_yuan: u64,
    pub brigade_attended: bool,
    pub note: String,
    pub photos: Vec<String>,
    /// The name of the person who recorded it.
    pub recorded_by: String,
    /// For a fire at a registered place.
    pub history: Option<PlaceRecordAtFire>,
}

/// A signed paper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LetterKind {
    /// 消防安全责任书, signed by a place.
    Responsibility,
    /// 消防安全承诺书, signed by a place.
    Pledge,
    /// 防火公约, adopted by a village.
    VillagePact,
}

impl From<LetterKind> for letter::LetterKind {
    fn from(k: LetterKind) -> Self {
        match k {
            LetterKind::Responsibility => letter::LetterKind::Responsibility,
            LetterKind::Pledge => letter::LetterKind::Pledge,
            LetterKind::VillagePact => letter::LetterKind::VillagePact,
        }
    }
}

impl From<letter::LetterKind> for LetterKind {
    fn from(k: letter::LetterKind) -> Self {
        match k {
            letter::LetterKind::Responsibility => LetterKind::Responsibility,
            letter::LetterKind::Pledge => LetterKind::Pledge,
            letter::LetterKind::VillagePact => LetterKind::VillagePact,
        }
    }
}

/// A kind of paper the entry screen offers.
#[derive(Debug, Clone, uniffi::Record)]
pub struct LetterKindChoice {
    pub kind: LetterKind,
    pub code: String,
    pub zh: String,
    /// Signed by a place (`LetterInput.place_id`), rather than adopted by a village.
    pub of_place: bool,
}

/// A signed paper as the entry screen collects it: a place's letter names `place_id`, a
/// village's pact `village_id`.
#[derive(Debug, Clone, uniffi::Record)]
pub struct LetterInput {
    pub kind: LetterKind,
    pub place_id: Option<String>,
    pub village_id: Option<String>,
    /// `YYYY-MM-DD`, today or earlier.
    pub signed_on: String,
    /// Who signed: the place's responsible person, or the village committee.
    pub signed_by: String,
    pub note: String,
    /// Photos of the signed paper, by SHA-256.
    pub photos: Vec<String>,
}

/// A signed paper as the register lists it.
#[derive(Debug, Clone, uniffi::Record)]
pub struct LetterEntry {
    pub letter_id: String,
    pub kind: LetterKind,
    pub kind_zh: String,
    /// The place's grid, or the village of a pact.
    pub org_id: String,
    pub village_name: String,
    /// Empty for a village's pact.
    pub grid_name: String,
    pub place_id: Option<String>,
    pub place_name: Option<String>,
    pub address: Option<String>,
    pub signed_on: String,
    /// The day from which it no longer counts (`YYYY-MM-DD`).
    pub lapses_on: String,
    pub signed_by: String,
    pub note: String,
    pub photos: Vec<String>,
    /// The name of the person who recorded it.
    pub recorded_by: String,
}

/// A place's letter as its file shows it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PlaceLetter {
    pub place_id: String,
    /// The latest letter or pledge signed, up to today (`YYYY-MM-DD`).
    pub signed_on: Option<String>,
    pub lapses_on: Option<String>,
    pub in_force: bool,
    /// 已签订, 未签订 or 已过期.
    pub state_zh: String,
}

pub(crate) fn day(text: &str) -> Result<Day> {
    Ok(text.parse::<Day>().map_err(Error::from)?)
}

fn fire_entry(r: FireRow) -> FireEntry {
    let f = r.fire;
    FireEntry {
        fire_id: f.id.to_string(),
        grid_id: f.grid_id,
        grid_name: r.grid,
        village_name: r.village,
        place_id: f.place_id.map(|p| p.to_string()),
        place_name: r.place_name,
        place_type_zh: r.place_type.as_deref().map(place_type_zh),
        address: f.address,
        occurred_at_ms: f.occurred_at,
        occurred_on: Day::from_ms(f.occurred_at).to_string(),
        cause: f.cause.into(),
        cause_zh: f.cause.zh().into(),
        deaths: f.deaths,
        injuries: f.injuries,
        loss_yuan: f.loss_yuan,
        brigade_attended: f.brigade_attended,
        note: f.note,
        photos: f.photos,
        recorded_by: r.recorded_by,
        history: r.history.map(|h| PlaceRecordAtFire {
            last_patrol_ms: h.last_patrol_at,
            patrols_in_year: h.patrols_in_year,
            open_hazards: h
                .open_hazards
                .into_iter()
                .map(|(case_label, category_zh, status_zh)| OpenHazardAtFire {
                    case_label,
                    category_zh,
                    status_zh,
                })
                .collect(),
        }),
    }
}

fn letter_entry(r: LetterRow) -> LetterEntry {
    let l = r.letter;
    LetterEntry {
        letter_id: l.id.to_string(),
        kind: l.kind.into(),
        kind_zh: l.kind.zh().into(),
        lapses_on: l.lapses_on().to_string(),
        org_id: l.org_id,
        village_name: r.village,
        grid_name: r.grid,
        place_id: l.place_id.map(|p| p.to_string()),
        place_name: r.place_name,
        address: r.address,
        signed_on: l.signed_on.to_string(),
        signed_by: l.signed_by,
        note: l.note,
        photos: l.photos,
        recorded_by: r.recorded_by,
    }
}

#[uniffi::export]
impl PatrolStore {
    /// The causes a fire can be recorded with, in the report's order.
    pub fn fire_causes(&self) -> Vec<FireCauseChoice> {
        fire::FireCause::ALL
            .iter()
            .map(|&c| FireCauseChoice {
                cause: c.into(),
                code: c.code().into(),
                zh: c.zh().into(),
            })
            .collect()
    }

    /// Whether the user's role records fires at all (village leaders, the township, the
    /// brigade), so the app offers 火灾登记 only to them: the core's rule, asked of a fire.
    pub fn may_record_fire(&self, user_id: String) -> Result<bool> {
        let actor = self.actor(&user_id)?;
        // `writers` decides by the kind of op alone for a fire, so any fire will do.
        let any = OpBody::Fire(fire::Fire {
            id: uuid::Uuid::nil(),
            grid_id: String::new(),
            place_id: None,
            address: String::new(),
            occurred_at: 0,
            cause: fire::FireCause::Unknown,
            deaths: 0,
            injuries: 0,
            loss_yuan: 0,
            brigade_attended: false,
            note: String::new(),
            photos: Vec::new(),
        });
        Ok(gridpatrol_core::sync::authz::writers(&any).contains(&actor.role))
    }

    /// 火灾登记: records a fire in one of the user's grids (village leaders, the township and
    /// the brigade; a grid worker is refused); returns its id.
    pub fn record_fire(&self, user_id: String, fire: FireInput) -> Result<String> {
        let actor = self.actor(&user_id)?;
        let new = NewFire {
            grid_id: fire.grid_id,
            place_id: fire.place_id.as_deref().map(id).transpose()?,
            address: fire.address,
            occurred_at: fire.occurred_at_ms,
            cause: fire.cause.into(),
            deaths: fire.deaths,
            injuries: fire.injuries,
            loss_yuan: fire.loss_yuan,
            brigade_attended: fire.brigade_attended,
            note: fire.note,
            photos: fire.photos,
        };
        Ok(self.store.record_fire(&actor, new)?.to_string())
    }

    /// 火灾台账: the fires under `scope_id` that broke out `from`..=`to` (`YYYY-MM-DD`), in
    /// the order they broke out.
    pub fn fires(
        &self,
        user_id: String,
        scope_id: String,
        from: String,
        to: String,
    ) -> Result<Vec<FireEntry>> {
        self.store
            .require_scope(&self.actor(&user_id)?, &scope_id)?;
        let rows = self.store.fires(&scope_id, day(&from)?, day(&to)?)?;
        Ok(rows.into_iter().map(fire_entry).collect())
    }

    /// The kinds of paper, places' first.
    pub fn letter_kinds(&self) -> Vec<LetterKindChoice> {
        letter::LetterKind::ALL
            .iter()
            .map(|&k| LetterKindChoice {
                kind: k.into(),
                code: k.code().into(),
                zh: k.zh().into(),
                of_place: k.of_place(),
            })
            .collect()
    }

    /// 责任书签订: records a place's signed letter or pledge (its grid worker, the village or
    /// the township), or a village's pact (the village or the township); returns its id.
    pub fn record_letter(&self, user_id: String, letter: LetterInput) -> Result<String> {
        let actor = self.actor(&user_id)?;
        let new = NewLetter {
            kind: letter.kind.into(),
            place_id: letter.place_id.as_deref().map(id).transpose()?,
            village_id: letter.village_id,
            signed_on: day(&letter.signed_on)?,
            signed_by: letter.signed_by,
            note: letter.note,
            photos: letter.photos,
        };
        Ok(self.store.record_letter(&actor, new)?.to_string())
    }

    /// 责任书台账: the papers signed `from`..=`to` under `scope_id`, in the order signed.
    pub fn letters(
        &self,
        user_id: String,
        scope_id: String,
        from: String,
        to: String,
    ) -> Result<Vec<LetterEntry>> {
        self.store
            .require_scope(&self.actor(&user_id)?, &scope_id)?;
        let rows = self.store.letters(&scope_id, day(&from)?, day(&to)?)?;
        Ok(rows.into_iter().map(letter_entry).collect())
    }

    /// A place's letter for its file: a place with none in force is flagged (未签订, 已过期).
    pub fn place_letter(&self, user_id: String, place_id: String) -> Result<PlaceLetter> {
        let actor = self.actor(&user_id)?;
        let place = id(&place_id)?;
        if !actor.covers(&self.store.place(place)?.place.grid_id) {
            return Err(crate::store::out_of_scope());
        }
        let signed = self.store.letter_signed_on(place)?;
        let in_force = letter::in_force(signed, self.store.today());
        let state_zh = match (signed, in_force) {
            (_, true) => "已签订",
            (None, false) => "未签订",
            (Some(_), false) => "已过期",
        };
        Ok(PlaceLetter {
            place_id: place.to_string(),
            signed_on: signed.map(|d| d.to_string()),
            lapses_on: signed.map(|d| d.plus(letter::VALID_DAYS).to_string()),
            in_force,
            state_zh: state_zh.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::testing::{demo, refused};

    #[test]
    fn every_cause_and_kind_crosses_both_ways() {
        for c in fire::FireCause::ALL {
            assert_eq!(fire::FireCause::from(FireCause::from(c)), c);
        }
        for k in letter::LetterKind::ALL {
            assert_eq!(letter::LetterKind::from(LetterKind::from(k)), k);
        }
    }

    #[test]
    fn a_place_letter_is_missing_then_lapsed_then_in_force() {
        let d = demo("letter");
        let s = &d.store;
        let place = s.due_patrols("w01".into()).unwrap()[0].place_id.clone();
        let state = |who: &str| s.place_letter(who.into(), place.clone());
        assert_eq!(state("w01").unwrap().state_zh, "未签订");
        let sign = |on: &str| LetterInput {
            kind: LetterKind::Responsibility,
            place_id: Some(place.clone()),
            village_id: None,
            signed_on: on.into(),
            signed_by: "店主".into(),
            note: String::new(),
            photos: Vec::new(),
        };
        s.record_letter("w01".into(), sign("2025-08-31")).unwrap();
        let lapsed = state("w01").unwrap();
        assert_eq!(
            (lapsed.in_force, lapsed.state_zh.as_str()),
            (false, "已过期")
        );
        assert_eq!(lapsed.lapses_on.as_deref(), Some("2026-08-31"));
        s.record_letter("w01".into(), sign("2026-09-01")).unwrap();
        let signed = state("w01").unwrap();
        assert_eq!(signed.signed_on.as_deref(), Some("2026-09-01"));
        assert_eq!(
            (signed.in_force, signed.state_zh.as_str()),
            (true, "已签订")
        );
        assert_eq!(refused(state("w04").unwrap_err()), "out_of_scope");

        let listed = |who: &str| {
            s.letters(
                who.into(),
                "v01".into(),
                "2025-01-01".into(),
                "2026-09-01".into(),
            )
        };
        let both = listed("l01").unwrap();
        assert_eq!(both.len(), 2);
        assert_eq!(both[1].kind_zh, "消防安全责任书");
        assert_eq!(refused(listed("w01").unwrap_err()), "out_of_scope");
        // A pact names a village, not a place; a grid worker does not adopt one.
        let pact = LetterInput {
            kind: LetterKind::VillagePact,
            place_id: None,
            village_id: Some("v01".into()),
            ..sign("2026-09-01")
        };
        assert_eq!(
            refused(s.record_letter("w01".into(), pact.clone()).unwrap_err()),
            "role_not_allowed"
        );
        s.record_letter("l01".into(), pact).unwrap();
        let err = s.record_letter("w01".into(), sign("明天")).unwrap_err();
        assert!(matches!(err, GridPatrolError::InvalidInput { ref field, .. } if field == "date"));
    }

    #[test]
    fn a_fire_is_recorded_by_the_village_and_read_with_the_place_history() {
        let d = demo("fire");
        let s = &d.store;
        let places = s.places("l01".into()).unwrap();
        assert!(places
            .iter()
            .all(|p| ["g01", "g02", "g03"].contains(&p.grid_id.as_str())));
        let at = places.iter().find(|p| p.grid_id == "g01").unwrap();
        let fire = FireInput {
            grid_id: "g01".into(),
            place_id: Some(at.place_id.clone()),
            address: String::new(),
            occurred_at_ms: gridpatrol_core::demo::START_MS - 3_600_000,
            cause: FireCause::Electrical,
            deaths: 0,
            injuries: 1,
            loss_yuan: 12_000,
            brigade_attended: true,
            note: String::new(),
            photos: Vec::new(),
        };
        assert!(!s.may_record_fire("w01".into()).unwrap());
        assert!(
            s.may_record_fire("l01".into()).unwrap() && s.may_record_fire("b01".into()).unwrap()
        );
        let err = s.record_fire("w01".into(), fire.clone()).unwrap_err();
        assert_eq!(refused(err), "role_not_allowed");
        let id = s.record_fire("l01".into(), fire.clone()).unwrap();
        let wrong_grid = FireInput {
            grid_id: "g02".into(),
            ..fire
        };
        assert!(s.record_fire("l01".into(), wrong_grid).is_err());

        let (from, to) = ("2026-08-01".to_string(), "2026-09-01".to_string());
        let listed = s
            .fires("l01".into(), "v01".into(), from.clone(), to.clone())
            .unwrap();
        let [entry] = listed.as_slice() else {
            panic!("one fire: {listed:?}")
        };
        assert_eq!(entry.fire_id, id);
        assert_eq!((entry.cause_zh.as_str(), entry.injuries), ("电气", 1));
        assert_eq!(entry.address, at.address, "the place's own address");
        assert_eq!(entry.occurred_on, "2026-09-01");
        assert!(
            entry.history.is_some(),
            "a registered place's records at the time"
        );
        let err = s.fires("w01".into(), "t01".into(), from, to).unwrap_err();
        assert_eq!(refused(err), "out_of_scope");
        assert_eq!(s.fire_causes().len(), fire::FireCause::ALL.len());
        assert_eq!(s.fire_causes()[0].zh, "电气");
    }
}
