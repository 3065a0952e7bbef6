//! The demo township's registers for the year so far: fires, signed letters and pacts, the
//! brigade's quarterly training of grid workers with its assessment, each village's micro
//! station with its equipment, monthly checks and drills, and the committees with their
//! meetings, dated from January to the demo's start, as an office entering its year's paper
//! records would.

use chrono::Datelike;

use super::{photo, text, Cast, Rng};
use crate::activity::{ActivityKind, NewActivity, Trainee};
use crate::clock::Day;
use crate::error::Result;
use crate::registers::fire::{FireCause, NewFire};
use crate::registers::group::{Equipment, Group, GroupKind, ItemCheck, Member};
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
                group_id: None,
            },
        )?;
        trainings += 1;
    }
    let (groups, checks, held) = stations_and_committees(store, cast, rng, jan1)?;
    Ok(format!(
        "  补录今年台账：防火公约 {pacts} 份，责任书/承诺书 {letters} 份，火灾 {fires} 起，网格员培训考核 {trainings} 次，消防站与委员会 {groups} 个，器材检查 {checks} 次，演练与会议 {held} 次 / entered the year's records: {pacts} pacts, {letters} letters, {fires} fires, {trainings} trainings with assessment, {groups} stations and committees, {checks} equipment checks, {held} drills and meetings"
    ))
}

/// A micro station in every village (a volunteer team too in the second), checked every month
/// but the last and drilled each quarter; the township's committee and each village's leading
/// group, meeting each quarter. Returns how many groups, checks and drills or meetings.
fn stations_and_committees(
    store: &Store,
    cast: &Cast,
    rng: &mut Rng,
    jan1: Day,
) -> Result<(u32, u32, u32)> {
    let today = store.today();
    let item = |key: &str, kind: &str, count, every, expires: Option<Day>| Equipment {
        key: key.into(),
        kind: text(kind),
        count,
        check_every_days: every,
        expires_on: expires,
    };
    let member = |name: &str, user: Option<&str>, duty: &str| Member {
        name: text(name),
        user_id: user.map(Into::into),
        duty: text(duty),
    };
    let (mut groups, mut checks, mut held) = (0, 0, 0);
    let hold = |who: &crate::org::Actor,
                kind,
                org: &str,
                group,
                day: Day,
                title: &str,
                people: Vec<String>| {
        store.log_activity(
            who,
            NewActivity {
                kind,
                org_id: org.into(),
                held_on: day,
                title: text(title),
                audience: people.len() as u32 + 2,
                note: String::new(),
                channel: None,
                attendees: people,
                photos: Vec::new(),
                trainees: Vec::new(),
                group_id: Some(group),
            },
        )
    };
    for (i, (leader, village)) in cast.leaders.iter().enumerate() {
        let l = store.actor(leader)?;
        let village_name = store.org_node(village)?.name;
        let mut kinds = vec![GroupKind::MicroStation, GroupKind::LeadingGroup];
        if i == 1 {
            kinds.push(GroupKind::VolunteerTeam);
        }
        for kind in kinds {
            let station = kind.keeps_equipment();
            let group = Group {
                id: uuid::Uuid::now_v7(),
                kind,
                org_id: village.clone(),
                name: format!("{village_name}{}", kind.zh()),
                members: vec![
                    member(
                        "村主任",
                        Some(leader),
                        if station { "站长" } else { "组长" },
                    ),
                    member("王队员", None, if station { "队员" } else { "组员" }),
                    member("李队员", None, if station { "队员" } else { "组员" }),
                    member("赵队员", None, if station { "队员" } else { "组员" }),
                ],
                roster: if station {
                    text("每日 8:00—20:00 两人轮流值班，夜间电话值守")
                } else {
                    String::new()
                },
                equipment: if station {
                    vec![
                        item(
                            "extinguisher",
                            "手提式干粉灭火器",
                            20,
                            30,
                            Some(today.plus(120 + 60 * i as i32)),
                        ),
                        item("hose", "消防水带", 4, 90, None),
                        item("pump", "手抬机动消防泵", 1, 30, None),
                        item("tools", "破拆工具组", 2, 180, None),
                    ]
                } else {
                    Vec::new()
                },
                active: true,
            };
            let id = group.id;
            store.put_group(&l, group)?;
            groups += 1;
            for quarter in 0..4 {
                let day = jan1.plus(quarter * 91 + 40 + rng.below(20) as i32);
                if day >= today {
                    break;
                }
                let (kind, title) = if station {
                    (ActivityKind::Drill, "初起火灾扑救及疏散演练")
                } else {
                    (ActivityKind::Meeting, "村消防安全工作例会")
                };
                hold(
                    &l,
                    kind,
                    village,
                    id,
                    day,
                    title,
                    vec![text("王队员"), text("李队员")],
                )?;
                held += 1;
            }
            if !station {
                continue;
            }
            // Checked every month but the last, so some items fall due.
            let mut day = jan1.plus(10);
            while day.plus(60) < today {
                let items = ["extinguisher", "hose", "pump", "tools"]
                    .iter()
                    .map(|k| ItemCheck {
                        key: (*k).into(),
                        ok: !rng.chance(5),
                        note: String::new(),
                    })
                    .collect();
                store.check_equipment(&l, id, day, items, vec![photo(rng.below(1 << 40))])?;
                checks += 1;
                day = day.plus(30);
            }
        }
    }
    let officer = store.actor(&cast.officers[0])?;
    let committee = Group {
        id: uuid::Uuid::now_v7(),
        kind: GroupKind::SafetyCommittee,
        org_id: super::TOWNSHIP.into(),
        name: text("镇消防安全委员会"),
        members: vec![
            member("镇长", None, "主任"),
            member("分管副镇长", Some(&cast.officers[0]), "副主任"),
            member("派出所所长", None, "委员"),
            member("消防救援站站长", Some(&cast.advisor), "委员"),
        ],
        roster: String::new(),
        equipment: Vec::new(),
        active: true,
    };
    let id = committee.id;
    store.put_group(&officer, committee)?;
    groups += 1;
    for quarter in 0..4 {
        let day = jan1.plus(quarter * 91 + 25);
        if day >= today {
            break;
        }
        hold(
            &officer,
            ActivityKind::Meeting,
            super::TOWNSHIP,
            id,
            day,
            "镇消防安全委员会季度会议",
            vec![text("镇长"), text("派出所所长")],
        )?;
        held += 1;
    }
    Ok((groups, checks, held))
}
