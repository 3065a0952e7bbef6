//! Weeks of ordinary work after the scripted paths: each worker visits the places due that
//! day, and open cases move on the way a township's people would move them.

use uuid::Uuid;

use super::{photo, review, text, Cast, Rng};
use crate::checklist::{AnswerValue, ItemKind};
use crate::clock::Day;
use crate::error::Result;
use crate::hazard::{EscalationReason, HazardEvent, HazardStatus, Level, Severity};
use crate::org::Actor;
use crate::patrol::{GpsSample, PatrolInput, RaiseHazard};
use crate::store::Store;

/// Simulates `days` of daily patrols and case handling from the store's clock on (each worker
/// visits up to three due places a day; cases move on the way people would move them).
pub fn simulate(store: &Store, cast: &Cast, days: i32, seed: u64) -> Result<()> {
    let scope = store.interrupt_scope();
    let rng = &mut Rng(seed);
    for _ in 0..days {
        scope.check()?;
        store
            .clock()
            .set_ms(Day::from_ms(store.now_ms()).plus(1).start_ms() + 9 * 3_600_000);
        for (worker, _) in &cast.workers {
            let actor = store.actor(worker)?;
            for place in store.due_patrols(&actor)?.into_iter().take(3) {
                patrol_once(store, &actor, place.place.id, rng)?;
                store.clock().advance_ms(40 * 60_000);
            }
        }
        store.clock().advance_ms(3_600_000);
        progress(store, cast, rng)?;
    }
    Ok(())
}

fn patrol_once(store: &Store, actor: &Actor, place: Uuid, rng: &mut Rng) -> Result<()> {
    let form = store.patrol_form(place)?;
    let mut answers = Vec::new();
    for item in &form.template.items {
        let v = match item.kind {
            ItemKind::PassFail
                if rng.chance(if item.severity == Severity::Major {
                    1
                } else {
                    4
                }) =>
            {
                AnswerValue::Fail
            }
            ItemKind::PassFail if rng.chance(3) => AnswerValue::NotApplicable,
            ItemKind::PassFail => AnswerValue::Pass,
            ItemKind::Number => {
                let base = item.min.or(item.max).unwrap_or(1.0);
                AnswerValue::Number(if rng.chance(5) {
                    (base - 1.0).max(0.0) + if item.max.is_some() { 2.0 } else { 0.0 }
                } else {
                    base
                })
            }
            ItemKind::Select => AnswerValue::Choice(item.options[0].clone()),
            ItemKind::Text | ItemKind::Photo => continue,
        };
        answers.push((item.key.clone(), v));
    }
    let proposals = store.propose_hazards(&form, &answers)?;
    let raise = proposals
        .iter()
        .take(2)
        .map(|p| RaiseHazard {
            item_key: p.item_key.clone(),
            photos: vec![photo(rng.next())],
            ..RaiseHazard::default()
        })
        .collect();
    store.record_patrol(
        actor,
        PatrolInput {
            place_id: place,
            started_at: store.device_wall_ms() - 20 * 60_000,
            gps: GpsSample {
                lat: form.place.place.location.map(|l| l.lat),
                lon: form.place.place.location.map(|l| l.lon),
                accuracy_m: Some(8.0 + rng.below(40) as f64),
                mock: false,
            },
            answers,
            raise,
            note: String::new(),
        },
    )?;
    Ok(())
}

/// Moves open cases on, the way a township's people would over a day.
fn progress(store: &Store, cast: &Cast, rng: &mut Rng) -> Result<()> {
    let officer = store.actor(&cast.officers[0])?;
    let today = store.today();
    let open: Vec<_> = store
        .hazards(&officer, None)?
        .into_iter()
        .filter(|h| !h.status.is_final())
        .collect();
    for row in open {
        let h = store.hazard(row.id)?.hazard;
        let worker = cast.worker_of(&h.report.grid_id).to_string();
        let leader = cast.leader_of(&h.report.village_id).to_string();
        let act = |user: &str, ev: HazardEvent| -> Result<()> {
            let actor = store.actor(user)?;
            store.hazard_event(&actor, h.id, ev)
        };
        use HazardStatus as S;
        match h.status {
            S::Reported if h.severity == Severity::Major => act(
                &worker,
                HazardEvent::Escalate {
                    to: Level::Township,
                    reason: EscalationReason::Major,
                    note: String::new(),
                },
            )?,
            S::Reported if rng.chance(25) => {
                act(
                    &worker,
                    HazardEvent::FixOnSpot {
                        note: text("当场整改"),
                        before_photo: Some(photo(rng.next())),
                        after_photo: Some(photo(rng.next())),
                    },
                )?;
                act(&worker, review(true, String::new(), None))?;
            }
            S::Reported => act(
                &worker,
                HazardEvent::Notify {
                    responsible_party: text("负责人"),
                    deadline: today.plus(7),
                    note: String::new(),
                },
            )?,
            S::Notified | S::Rectifying if row.days_overdue.unwrap_or(0) > 7 && rng.chance(50) => {
                act(
                    &worker,
                    HazardEvent::Escalate {
                        to: Level::Village,
                        reason: EscalationReason::Overdue,
                        note: String::new(),
                    },
                )?
            }
            S::Notified if rng.chance(35) => act(
                &worker,
                HazardEvent::StartRectification {
                    note: String::new(),
                },
            )?,
            S::Rectifying if rng.chance(25) => act(
                &worker,
                HazardEvent::SubmitRectification {
                    note: text("已整改"),
                    photos: vec![photo(rng.next())],
                },
            )?,
            S::AwaitingReview if h.level == Level::Township => {
                act(&cast.officers[1], review(true, String::new(), None))?
            }
            S::AwaitingReview if rng.chance(50) => {
                let passed = rng.chance(85);
                act(
                    &leader,
                    HazardEvent::Review {
                        passed,
                        note: String::new(),
                        new_deadline: (!passed).then(|| today.plus(5)),
                    },
                )?
            }
            S::Escalated if h.level == Level::Village => act(
                &leader,
                HazardEvent::HandBack {
                    to: Level::Grid,
                    guidance: text("村里已约谈，请跟进"),
                    deadline: today.plus(7),
                },
            )?,
            S::Escalated if rng.chance(50) => act(
                &cast.officers[0],
                HazardEvent::Refer {
                    department: text("县消防救援大队"),
                    case_number: format!("QS-2026-{:03}", rng.below(1000)),
                    note: String::new(),
                    deadline: Some(today.plus(30)),
                },
            )?,
            S::Referred if rng.chance(30) => act(
                &cast.officers[0],
                HazardEvent::RecordOutcome {
                    outcome: text("已依法处理"),
                },
            )?,
            _ => {}
        }
    }
    Ok(())
}
