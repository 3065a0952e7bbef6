//! Reminders over a simulated month, day by day, against a table written by hand from the
//! story below; then the rules for when the phone speaks (one summary a day, quiet evenings,
//! an alert on a deadline's day) and a phone whose clock is days off.
//!
//! The story, in g1 (w1's grid; l1 leads its village), from day 0 at 09:00:
//!
//! | day | what happens                                                              |
//! |-----|---------------------------------------------------------------------------|
//! | 0   | w1 visits the shop (九小场所, medium: every 15 days, so due again day 15)   |
//! | 0   | w1 reports H1 there and notifies it, deadline day 10                      |
//! | 4   | w1 reports H2, deadline day 6                                             |
//! | 5   | H2 rectified and submitted: it waits for l1's re-inspection               |
//! | 8   | w1 asks to extend H1 to day 20                                            |
//! | 9   | l1 approves: H1's deadline is day 20                                      |
//! | 12  | l1 re-inspects H2: closed                                                 |
//! | 22  | w1 visits the shop again (due day 37)                                     |

#![allow(clippy::unwrap_used)]

mod common;

use common::{photo, town, Town, T0};
use gridpatrol_core::checklist::AnswerValue;
use gridpatrol_core::clock::{Day, MS_PER_DAY};
use gridpatrol_core::hazard::{HazardEvent, NewHazard, Severity};
use gridpatrol_core::patrol::{GpsSample, PatrolInput};
use gridpatrol_core::reminders::Reminders;
use uuid::Uuid;

/// Day 0 of the story, 09:00 China time, a week after the town was set up.
const BASE: i64 = T0 + 7 * MS_PER_DAY;
const HOUR: i64 = 3_600_000;

fn at_day(t: &Town, day: i64) {
    t.store.clock().set_ms(BASE + day * MS_PER_DAY);
}

fn d(n: i32) -> Day {
    Day::from_ms(BASE).plus(n)
}

fn visit(t: &Town) {
    let form = t.store.patrol_form(t.place_g1).unwrap();
    let first = &form.template.items[0].key;
    t.store
        .record_patrol(
            &t.actor("w1"),
            PatrolInput {
                place_id: t.place_g1,
                started_at: t.store.now_ms(),
                gps: GpsSample::default(),
                answers: vec![(first.clone(), AnswerValue::Pass)],
                raise: Vec::new(),
                note: String::new(),
            },
        )
        .unwrap();
}

fn report(t: &Town, deadline: i32) -> Uuid {
    let w1 = t.actor("w1");
    let h = t
        .store
        .report_hazard(
            &w1,
            NewHazard {
                photos: vec![photo(1)],
                ..NewHazard::new(t.place_g1, "wiring", Severity::General, "电线私拉乱接")
            },
        )
        .unwrap();
    act(
        t,
        "w1",
        h,
        HazardEvent::Notify {
            responsible_party: "店主".into(),
            deadline: d(deadline),
            note: String::new(),
        },
    );
    h
}

fn act(t: &Town, who: &str, h: Uuid, e: HazardEvent) {
    t.store.hazard_event(&t.actor(who), h, e).unwrap();
}

/// One row of the table: what w1 and l1 are reminded of on a day.
#[derive(Debug, PartialEq)]
struct Seen {
    due: u32,
    overdue_places: u32,
    soon: Vec<&'static str>,
    late: Vec<&'static str>,
    reviews: Vec<&'static str>,
    extensions: Vec<&'static str>,
}

fn seen(r: &Reminders, names: &[(Uuid, &'static str)]) -> Seen {
    let name = |v: &[gridpatrol_core::hazard::HazardRow]| -> Vec<&'static str> {
        v.iter()
            .map(|h| names.iter().find(|(id, _)| *id == h.id).unwrap().1)
            .collect()
    };
    Seen {
        due: r.patrols_due,
        overdue_places: r.patrols_overdue,
        soon: name(&r.deadlines_soon),
        late: name(&r.cases_overdue),
        reviews: name(&r.reviews),
        extensions: name(&r.extensions),
    }
}

/// The hand-written table: for w1 and for l1, by day.
fn expected(day: i32) -> (Seen, Seen) {
    let h = |v: &[&'static str]| v.to_vec();
    let w1 = Seen {
        due: u32::from(day == 15),
        overdue_places: u32::from((16..=21).contains(&day)),
        soon: match day {
            4 => h(&["H2"]),
            7 | 8 => h(&["H1"]),
            17..=20 => h(&["H1"]),
            _ => h(&[]),
        },
        late: if day >= 21 { h(&["H1"]) } else { h(&[]) },
        reviews: h(&[]),
        extensions: h(&[]),
    };
    let l1 = Seen {
        due: 0,
        overdue_places: 0,
        soon: h(&[]),
        late: h(&[]),
        reviews: if (5..12).contains(&day) {
            h(&["H2"])
        } else {
            h(&[])
        },
        extensions: if day == 8 { h(&["H1"]) } else { h(&[]) },
    };
    (w1, l1)
}

#[test]
fn a_month_of_reminders_matches_the_hand_table() {
    let t = town();
    let mut names: Vec<(Uuid, &'static str)> = Vec::new();
    for day in 0..30 {
        at_day(&t, i64::from(day));
        match day {
            0 => {
                visit(&t);
                names.push((report(&t, 10), "H1"));
            }
            4 => names.push((report(&t, 6), "H2")),
            5 => {
                let h2 = names[1].0;
                act(
                    &t,
                    "w1",
                    h2,
                    HazardEvent::StartRectification {
                        note: String::new(),
                    },
                );
                act(
                    &t,
                    "w1",
                    h2,
                    HazardEvent::SubmitRectification {
                        note: "已整改".into(),
                        photos: vec![photo(2)],
                    },
                );
            }
            8 => act(
                &t,
                "w1",
                names[0].0,
                HazardEvent::RequestExtension {
                    reason: "需购置配件".into(),
                    proposed_deadline: d(20),
                    interim_measures: "断电停用".into(),
                },
            ),
            9 => act(
                &t,
                "l1",
                names[0].0,
                HazardEvent::DecideExtension {
                    approved: true,
                    basis: "情况属实".into(),
                },
            ),
            12 => act(
                &t,
                "l1",
                names[1].0,
                HazardEvent::Review {
                    passed: true,
                    note: "复查合格".into(),
                    new_deadline: None,
                },
            ),
            22 => visit(&t),
            _ => {}
        }
        let w1 = seen(&t.store.reminders(&t.actor("w1")).unwrap(), &names);
        let l1 = seen(&t.store.reminders(&t.actor("l1")).unwrap(), &names);
        assert_eq!((w1, l1), expected(day), "day {day}");
    }
    // The brigade advisor reads everything and is reminded of nothing.
    assert!(t.store.reminders(&t.actor("b1")).unwrap().is_empty());
}

#[test]
fn the_phone_speaks_once_a_day_in_daytime_and_on_a_deadline_day() {
    let t = town();
    at_day(&t, 0);
    let h1 = report(&t, 2);
    let w1 = t.actor("w1");
    // 09:00 on day 0: the summary now, and an alert at 09:00 on day 2.
    let n = t.store.notices(&w1, None).unwrap();
    assert_eq!(n.len(), 2, "{n:?}");
    assert_eq!(n[0].key, format!("summary:{}", d(0)));
    assert_eq!(n[0].at_ms, BASE);
    assert!(n[0].body.contains("待巡查 1 处"), "{}", n[0].body);
    assert!(n[0].body.contains("3 天内到期隐患 1 条"), "{}", n[0].body);
    assert_eq!(n[1].key, format!("deadline:{h1}:{}", d(2)));
    assert_eq!(n[1].at_ms, BASE + 2 * MS_PER_DAY);
    assert_eq!(n[1].hazard_id, Some(h1));
    // The summary already given today is not given again; the alert is (same key: replaced).
    let again = t.store.notices(&w1, Some(d(0))).unwrap();
    assert_eq!(
        again.iter().map(|n| n.key.as_str()).collect::<Vec<_>>(),
        [n[1].key.as_str()]
    );
    // 06:00: the summary waits for 08:30.
    t.store.clock().set_ms(BASE + MS_PER_DAY - 3 * HOUR);
    let early = t.store.notices(&w1, Some(d(0))).unwrap();
    assert_eq!(early[0].key, format!("summary:{}", d(1)));
    assert_eq!(early[0].at_ms, d(1).start_ms() + 8 * HOUR + 30 * 60_000);
    // 10:00 on the deadline day: the day's summary at once, the 09:00 alert not again.
    t.store.clock().set_ms(BASE + 2 * MS_PER_DAY + HOUR);
    let late = t.store.notices(&w1, Some(d(1))).unwrap();
    assert_eq!(late.len(), 1, "{late:?}");
    assert_eq!(late[0].key, format!("summary:{}", d(2)));
    assert_eq!(late[0].at_ms, BASE + 2 * MS_PER_DAY + HOUR);
    // 21:00 on the deadline day: nothing more today.
    t.store.clock().set_ms(BASE + 2 * MS_PER_DAY + 12 * HOUR);
    assert!(t.store.notices(&w1, Some(d(1))).unwrap().is_empty());
}

#[test]
fn a_phone_clock_days_off_reminds_on_the_right_morning_once_it_has_synced() {
    let t = town();
    at_day(&t, 0);
    let h1 = report(&t, 5);
    let w1 = t.actor("w1");
    let true_now = BASE + MS_PER_DAY;
    // The phone's clock runs four days fast: unsynced, it believes day 5.
    t.store.clock().set_ms(true_now + 4 * MS_PER_DAY);
    assert_eq!(t.store.reminders(&w1).unwrap().today, d(5));
    // A sync tells it the server's time: day 1 again, and the alert for day 5 at 09:00 true
    // time is scheduled four days later on the phone's own clock.
    t.store.learn_server_time(true_now).unwrap();
    let r = t.store.reminders(&w1).unwrap();
    assert_eq!(r.today, d(1));
    assert_eq!(r.deadlines_soon.len(), 0, "day 5 is four days off");
    t.store
        .clock()
        .set_ms(true_now + 2 * MS_PER_DAY + 4 * MS_PER_DAY);
    let n = t.store.notices(&w1, Some(d(3))).unwrap();
    assert_eq!(n.len(), 1, "{n:?}");
    assert_eq!(n[0].key, format!("deadline:{h1}:{}", d(5)));
    assert_eq!(n[0].at_ms, BASE + 5 * MS_PER_DAY + 4 * MS_PER_DAY);
}
