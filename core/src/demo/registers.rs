//! The demo township's registers for the year so far: fires, signed letters and pacts, and the
//! brigade's quarterly training of grid workers with its assessment, dated from January to
//! the demo's start, as an office entering its year's paper records would.

use chrono::Datelike;

use super::{photo, text, Cast, Rng};
use crate::activity::{ActivityKind, NewActivity, Trainee};
use crate::clock::Day;
use crate::error::Result;
use crate::registers::fire::{FireCause, NewFire};
use crate::registers::letter::{LetterKind, NewLetter};
use crate::store::Store;

/// Where the year's fires broke out: grid, cause, and whether at a registered place.
const FIRES: [(&str, FireCause, bool); 8] = [
    ("g02", FireCause::Electrical, true),
    ("g05", FireCause::CarelessUse, false),
    ("g01", FireCause::Smoking, false),
    ("g07", FireCause::Electrical, true),
    ("g04", FireCause::Playing, false),
    ("g08", FireCause::Spontaneous, false),
    ("g03", FireCause::Electrical, true),
    ("g06", FireCause::Unknown, false),
];

/// Records the year's registers from 1 January to the day before today. Returns what was
/// recorded, for the demo's log.
pub(super) fn backfill(store: &Store, cast: &Cast, rng: &mut Rng) -> Result<String> {
    let today = store.today();
    let jan1 = Day::from_date(
        chrono::NaiveDate::from_ymd_opt(today.date().year(), 1, 1).unwrap_or(today.date()),
    );
    let span = (today.0 - jan1.0).max(1);
    let day_in = |rng: &mut Rng, from: i32, to: i32| {
        jan1.plus(from + rng.below((to - from).max(1) as u64) as i32)
    };
    let officer = store.actor(&cast.officers[0])?;
    let advisor = store.actor(&cast.advisor)?;

    // Each village adopts its pact in January; most places sign their letter by March.
    let (mut letters, mut pacts) = (0, 0);
    for (leader, village) in &cast.leaders {
        let l = store.actor(leader)?;
        store.record_letter(
            &l,
            NewLetter {
                kind: LetterKind::VillagePact,
                place_id: None,
                village_id: Some(village.clone()),
                signed_on: day_in(rng, 5, 30),
                signed_by: text("村民代表大会"),
                note: String::new(),
                photos: vec![photo(rng.below(1 << 40))],
            },
        )?;
        pacts += 1;
    }
    for (worker, _) in &cast.workers {
        let w = store.actor(worker)?;
        for p in store.places(&w)? {
            if !rng.chance(80) {
                continue;
            }
            store.record_letter(
                &w,
                NewLetter {
                    kind: if rng.chance(70) {
                        LetterKind::Responsibility
                    } else {
                        LetterKind::Pledge
                    },
                    place_id: Some(p.place.id),
                    village_id: None,
                    signed_on: day_in(rng, 10, 90),
                    signed_by: p.place.responsible_name.clone(),
                    note: String::new(),
                    photos: vec![photo(rng.below(1 << 40))],
                },
            )?;
            letters += 1;
        }
    }

    // A fire about every month, spread over the year so far.
    let mut fires = 0;
    for (i, (grid, cause, at_place)) in FIRES.iter().enumerate() {
        let day = jan1.plus((span * i as i32) / FIRES.len() as i32 + rng.below(20) as i32);
        if day >= today {
            break;
        }
        let place = if *at_place {
            store
                .places(&officer)?
                .into_iter()
                .find(|p| p.place.grid_id == *grid)
                .map(|p| p.place.id)
        } else {
            None
        };
        let serious = rng.chance(15);
        store.record_fire(
            &officer,
            NewFire {
                grid_id: (*grid).into(),
                place_id: place,
                address: if place.is_some() {
                    String::new()
                } else {
                    text("村道旁柴草堆")
                },
                occurred_at: day.start_ms() + (10 + rng.below(10) as i64) * 3_600_000,
                cause: *cause,
                deaths: 0,
                injuries: u32::from(serious),
                loss_yuan: 500 + rng.below(200) * 100 + if serious { 80_000 } else { 0 },
                brigade_attended: serious || rng.chance(50),
                note: String::new(),
                photos: vec![photo(rng.below(1 << 40))],
            },
        )?;
        fires += 1;
    }

    // The brigade trains every grid worker each quarter, with an assessment.
    let mut trainings = 0;
    for quarter in 0..4 {
        let day = jan1.plus(quarter * 91 + 20);
        if day >= today {
            break;
        }
        let mut trainees = Vec::new();
        for (w, _) in &cast.workers {
            if rng.chance(85) {
                trainees.push(Trainee {
                    user_id: w.clone(),
                    passed: Some(rng.chance(88)),
                });
            }
        }
        store.log_activity(
            &advisor,
            NewActivity {
                kind: ActivityKind::Training,
                org_id: super::TOWNSHIP.into(),
                held_on: day,
                title: text("网格员消防业务培训及考核"),
                audience: trainees.len() as u32 + 4,
                note: String::new(),
                channel: None,
                attendees: vec![text("村消防志愿者甲"), text("村消防志愿者乙")],
                photos: vec![photo(rng.below(1 << 40))],
                trainees,
            },
        )?;
        trainings += 1;
    }
    Ok(format!(
        "  补录今年台账：防火公约 {pacts} 份，责任书/承诺书 {letters} 份，火灾 {fires} 起，网格员培训考核 {trainings} 次 / entered the year's records: {pacts} pacts, {letters} letters, {fires} fires, {trainings} trainings with assessment"
    ))
}
