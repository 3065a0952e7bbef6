//! The figures DOMAIN.md defines, each on a small story counted by hand: what was wrong with
//! them before (a case with no deadline counted on time, overdue ignoring the period, coverage
//! ignoring the patrol plans, a worker's township-wide training) and the rules that keep the
//! data honest (how far a deadline may go, a visit with nothing checked, one hazard per failed
//! category, the township's judgement of severity, a conflict marked handled).

#![allow(clippy::unwrap_used)]

mod common;

use common::{empty_store, photo, town, Town, T0};
use gridpatrol_core::activity::{ActivityKind, NewActivity};
use gridpatrol_core::checklist::AnswerValue;
use gridpatrol_core::clock::{Day, MS_PER_DAY};
use gridpatrol_core::error::{Field, Problem};
use gridpatrol_core::hazard::Severity;
use gridpatrol_core::hazard::{EscalationReason, HazardEvent, HazardStatus, Level, NewHazard};
use gridpatrol_core::org::Actor;
use gridpatrol_core::patrol::{GpsSample, PatrolInput, RaiseHazard};
use gridpatrol_core::place::RiskLevel;
use gridpatrol_core::plan::PatrolPlan;
use gridpatrol_core::Error;
use uuid::Uuid;

/// Day 0 of these stories, a week after the town was set up.
const BASE: i64 = T0 + 7 * MS_PER_DAY;

fn at_day(t: &Town, day: i64) {
    t.store.clock().set_ms(BASE + day * MS_PER_DAY);
}

fn d(n: i32) -> Day {
    Day::from_ms(BASE).plus(n)
}

fn raise(t: &Town, who: &Actor, place: Uuid, severity: Severity) -> Uuid {
    t.store
        .report_hazard(
            who,
            NewHazard {
                photos: vec![photo(7)],
                ..NewHazard::new(place, "wiring", severity, "电线私拉乱接")
            },
        )
        .unwrap()
}

fn act(t: &Town, who: &str, h: Uuid, e: HazardEvent) {
    t.store.hazard_event(&t.actor(who), h, e).unwrap();
}

fn notify(deadline: Day) -> HazardEvent {
    HazardEvent::Notify {
        responsible_party: "店主".into(),
        deadline,
        note: String::new(),
    }
}

fn submit() -> HazardEvent {
    HazardEvent::SubmitRectification {
        note: String::new(),
        photos: vec![photo(1)],
    }
}

fn pass() -> HazardEvent {
    HazardEvent::Review {
        passed: true,
        note: String::new(),
        new_deadline: None,
    }
}

fn invalid_field(e: Error) -> (Field, Problem) {
    match e {
        Error::Invalid(i) => (i.field, i.problem),
        Error::Rejected(gridpatrol_core::hazard::lifecycle::Rejection::Invalid { input }) => {
            (input.field, input.problem)
        }
        other => panic!("not an input error: {other:?}"),
    }
}

/// 按期整改率 by hand, for the township over days 0–20:
///
/// | case | story                                                          | on time  |
/// |------|----------------------------------------------------------------|----------|
/// | A    | deadline d5, closed d3                                         | yes      |
/// | B    | deadline d2, closed d6                                         | no       |
/// | C    | fixed on the spot, closed d1                                   | yes      |
/// | D    | major, escalated, referred with 办结期限 d15, closed d12         | yes      |
/// | E    | major, escalated, referred with no 办结期限 (an old op), closed   | data gap |
/// | F    | major, escalated, joint enforcement by d8, still open on d20   | overdue  |
///
/// On time 3 of the 4 with a deadline or fixed on the spot (75%), one gap; F is overdue by
/// 12 days on d20, and was not overdue on d8 (a report for days 0–8 counts none).
#[test]
fn on_time_counts_only_cases_with_a_deadline_and_the_township_holds_one() {
    let t = town();
    let (w1, w3) = (t.actor("w1"), t.actor("w3"));
    at_day(&t, 0);
    let a = raise(&t, &w1, t.place_g1, Severity::General);
    let b = raise(&t, &w1, t.place_g1, Severity::General);
    let c = raise(&t, &w1, t.place_g1, Severity::General);
    let dd = raise(&t, &w3, t.place_g3, Severity::Major);
    let e = raise(&t, &w3, t.place_g3, Severity::Major);
    let f = raise(&t, &w3, t.place_g3, Severity::Major);
    act(&t, "w1", a, notify(d(5)));
    act(&t, "w1", b, notify(d(2)));
    for h in [dd, e, f] {
        act(
            &t,
            "w3",
            h,
            HazardEvent::Escalate {
                to: Level::Township,
                reason: EscalationReason::Major,
                note: String::new(),
            },
        );
    }
    let refer = |deadline| HazardEvent::Refer {
        department: "县消防救援大队".into(),
        case_number: "2026-9".into(),
        note: String::new(),
        deadline,
    };
    act(&t, "o1", dd, refer(Some(d(15))));
    act(&t, "o1", e, refer(None));
    act(
        &t,
        "o1",
        f,
        HazardEvent::JointEnforcement {
            departments: "派出所".into(),
            note: String::new(),
            deadline: Some(d(8)),
        },
    );
    at_day(&t, 1);
    act(
        &t,
        "w1",
        c,
        HazardEvent::FixOnSpot {
            note: String::new(),
            before_photo: Some(photo(2)),
            after_photo: Some(photo(3)),
        },
    );
    act(&t, "w1", c, pass());
    at_day(&t, 3);
    act(&t, "w1", a, submit());
    act(&t, "l1", a, pass());
    at_day(&t, 6);
    act(&t, "w1", b, submit());
    act(&t, "l1", b, pass());
    at_day(&t, 12);
    for h in [dd, e] {
        act(
            &t,
            "o1",
            h,
            HazardEvent::RecordOutcome {
                outcome: "已查处".into(),
            },
        );
        act(&t, "o2", h, pass());
    }
    at_day(&t, 20);

    let r = t.store.report("t1", d(0), d(20)).unwrap();
    assert_eq!(r.closed, 5);
    assert_eq!((r.closed_on_time, r.closed_without_deadline), (3, 1));
    assert_eq!(r.on_time_rate, Some(0.75));
    assert_eq!(r.overdue_count, 1);
    assert_eq!(r.overdue[0].id, f);
    assert_eq!(r.overdue[0].status, HazardStatus::JointEnforcement);
    assert_eq!(r.overdue[0].days_overdue, Some(12));
    assert!(r
        .to_text()
        .contains("无整改期限（数据缺失）closed without a deadline: 1"));

    // Days 0–8: at the end of day 8 nothing had passed its deadline yet but B (deadline d2,
    // submitted d6: no longer running); F's 办结期限 is d8 itself.
    let early = t.store.report("t1", d(0), d(8)).unwrap();
    assert_eq!(early.overdue_count, 0, "{:?}", early.overdue);
    // Days 0–4: B was overdue by 2 days at the end of day 4, though it has been closed since.
    let first = t.store.report("t1", d(0), d(4)).unwrap();
    assert_eq!(first.overdue_count, 1);
    assert_eq!(
        (first.overdue[0].id, first.overdue[0].days_overdue),
        (b, Some(2))
    );
    // A period before anything was reported has nothing overdue at its end.
    let before = t.store.report("t1", d(-5), d(-1)).unwrap();
    assert_eq!((before.hazards_reported, before.overdue_count), (0, 0));
}

#[test]
fn a_deadline_goes_no_further_than_the_role_may_give() {
    let t = town();
    at_day(&t, 0);
    let h = raise(&t, &t.actor("w1"), t.place_g1, Severity::General);
    let far = t
        .store
        .hazard_event(&t.actor("w1"), h, notify(d(31)))
        .unwrap_err();
    let (field, problem) = invalid_field(far);
    assert_eq!(field, Field::Deadline);
    assert_eq!(
        problem,
        Problem::OutOfRange {
            min: d(0).to_string(),
            max: d(30).to_string()
        }
    );
    // The village may give up to 90 days; the worker a month.
    assert!(t
        .store
        .hazard_event(&t.actor("l1"), h, notify(d(91)))
        .is_err());
    act(&t, "l1", h, notify(d(90)));
    let h2 = raise(&t, &t.actor("w1"), t.place_g1, Severity::General);
    act(&t, "w1", h2, notify(d(30)));
    // An extension the village approves is held to the village's reach as well.
    act(
        &t,
        "w1",
        h2,
        HazardEvent::RequestExtension {
            reason: "材料未到".into(),
            proposed_deadline: d(200),
            interim_measures: "临时断电".into(),
        },
    );
    assert!(t
        .store
        .hazard_event(
            &t.actor("l1"),
            h2,
            HazardEvent::DecideExtension {
                approved: true,
                basis: "同意".into(),
            },
        )
        .is_err());
}

#[test]
fn the_township_judges_severity_and_supervises_with_a_deadline() {
    let t = town();
    at_day(&t, 0);
    let h = raise(&t, &t.actor("w3"), t.place_g3, Severity::General);
    let to_major = HazardEvent::Reclassify {
        severity: Severity::Major,
        reason: "三合一场所，住人".into(),
    };
    assert!(t
        .store
        .hazard_event(&t.actor("l2"), h, to_major.clone())
        .is_err());
    act(&t, "o1", h, to_major.clone());
    let (field, problem) = invalid_field(
        t.store
            .hazard_event(&t.actor("o1"), h, to_major)
            .unwrap_err(),
    );
    assert_eq!((field, problem), (Field::Severity, Problem::Unchanged));
    act(
        &t,
        "w3",
        h,
        HazardEvent::Escalate {
            to: Level::Township,
            reason: EscalationReason::Major,
            note: String::new(),
        },
    );
    act(
        &t,
        "o1",
        h,
        HazardEvent::Supervise {
            note: "挂牌督办".into(),
            deadline: Some(d(60)),
        },
    );
    let now = t.store.hazard(h).unwrap().hazard;
    assert_eq!(now.severity, Severity::Major);
    assert!(now.supervised);
    assert_eq!(now.deadline, Some(d(60)));
    let r = t.store.report("t1", d(0), d(0)).unwrap();
    assert_eq!((r.major_reported, r.supervised), (1, 1));
}

/// Coverage as the phone's due list sees it. g1's shop (small_shop, medium: a 15-day cycle
/// by its type) was patrolled on day 0. On day 10 it is covered by its type's rule; with a
/// 7-day plan on g1 it is due on w1's phone and not covered on any page, the report's figure
/// and the coverage rows agreeing.
#[test]
fn coverage_applies_the_plans_the_due_list_applies() {
    let t = town();
    let w1 = t.actor("w1");
    at_day(&t, 0);
    common::visit(&t.store, &w1, t.place_g1);
    common::visit(&t.store, &t.actor("w3"), t.place_g3);
    at_day(&t, 10);
    let covered = |t: &Town| {
        let r = t.store.report("t1", d(0), d(10)).unwrap();
        let rows = t.store.coverage("t1").unwrap();
        let total: u32 = rows.iter().map(|r| r.count.covered).sum();
        let places: u32 = rows.iter().map(|r| r.count.places).sum();
        assert_eq!(
            r.coverage_rate(),
            Some(f64::from(total) / f64::from(places)),
            "the report and the coverage page count the same places"
        );
        total
    };
    assert_eq!(covered(&t), 2);
    assert!(t.store.due_patrols(&w1).unwrap().is_empty());
    t.store
        .put_plan(
            &t.actor("l1"),
            PatrolPlan {
                id: Uuid::now_v7(),
                grid_id: "g1".into(),
                worker_id: None,
                place_types: vec![],
                risk_levels: vec![RiskLevel::Medium],
                every_days: Some(7),
                focus_items: vec![],
                active: true,
                note: String::new(),
                starts_on: None,
                ends_on: None,
            },
        )
        .unwrap();
    assert_eq!(t.store.due_patrols(&w1).unwrap().len(), 1);
    assert_eq!(covered(&t), 1, "g1's shop is due under the plan");
    let g1 = t
        .store
        .coverage("g1")
        .unwrap()
        .into_iter()
        .find(|r| r.risk == RiskLevel::Medium)
        .unwrap();
    assert_eq!(
        (
            g1.count.places,
            g1.count.covered,
            g1.count.due,
            g1.count.overdue
        ),
        (1, 0, 1, 1)
    );
}

#[test]
fn an_activity_is_logged_for_an_area_wholly_the_loggers() {
    let t = town();
    let log = |who: &str, kind, org: &str| {
        t.store.log_activity(
            &t.actor(who),
            NewActivity {
                kind,
                org_id: org.into(),
                held_on: t.today(),
                title: "消防培训".into(),
                audience: 500,
                note: String::new(),
                channel: None,
                attendees: Vec::new(),
                photos: Vec::new(),
                trainees: Vec::new(),
                group_id: None,
            },
        )
    };
    assert!(log("w1", ActivityKind::Training, "t1").is_err());
    assert!(log("w1", ActivityKind::Training, "v1").is_err());
    assert!(log("w1", ActivityKind::Training, "g1").is_ok());
    assert!(log("l1", ActivityKind::Publicity, "t1").is_err());
    assert!(log("l1", ActivityKind::Publicity, "v1").is_ok());
    // The brigade trains, and logs its own sessions; it does not log publicity.
    assert!(log("b1", ActivityKind::Training, "t1").is_ok());
    // The server's rule is the one the phone applied: it accepts the brigade's session too.
    let session = t.store.ops().unwrap().pop().unwrap();
    let grids = ["g1".to_string(), "g2".to_string(), "g3".to_string()];
    assert!(
        gridpatrol_core::sync::authz::authorize_write(&t.actor("b1"), &session, &grids).is_ok()
    );
    assert!(log("b1", ActivityKind::Publicity, "t1").is_err());
    assert!(log("o1", ActivityKind::Training, "nowhere").is_err());
    let r = t.store.report("t1", t.today(), t.today()).unwrap();
    assert_eq!(
        (r.training_events, r.training_audience),
        (2, 1000),
        "w1's grid session and the brigade's"
    );
    assert_eq!((r.publicity_events, r.publicity_audience), (1, 500));
}

#[test]
fn a_visit_with_nothing_checked_is_refused_and_failed_items_become_one_hazard_per_category() {
    let t = town();
    let w1 = t.actor("w1");
    let input = |answers: Vec<(&str, AnswerValue)>, raise: Vec<&str>| PatrolInput {
        place_id: t.place_g1,
        started_at: t.store.device_wall_ms() - 60_000,
        gps: GpsSample::default(),
        answers: answers
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        raise: raise
            .into_iter()
            .map(|k| RaiseHazard {
                item_key: k.into(),
                photos: vec![photo(4)],
                ..RaiseHazard::default()
            })
            .collect(),
        note: String::new(),
    };
    let (field, problem) = invalid_field(
        t.store
            .record_patrol(&w1, input(vec![], vec![]))
            .unwrap_err(),
    );
    assert_eq!((field, problem), (Field::Answer, Problem::Empty));
    assert_eq!(t.store.due_patrols(&w1).unwrap().len(), 1, "still due");
    // The extinguisher item asks for a photo when it fails: raised without one, refused.
    let mut bare = input(
        vec![("extinguisher", AnswerValue::Fail)],
        vec!["extinguisher"],
    );
    bare.raise[0].photos.clear();
    let (field, problem) = invalid_field(t.store.record_patrol(&w1, bare).unwrap_err());
    assert_eq!((field, problem), (Field::Photo, Problem::Empty));
    // Not raising it records the failure and proposes the hazard, to report with its photo.
    let unraised = t
        .store
        .record_patrol(
            &w1,
            input(vec![("extinguisher", AnswerValue::Fail)], vec![]),
        )
        .unwrap();
    assert!(unraised.hazard_ids.is_empty());
    assert!(unraised.unraised[0].photo_required);

    let out = t
        .store
        .record_patrol(
            &w1,
            input(
                vec![
                    ("extinguisher", AnswerValue::Fail),
                    ("extinguisher_count", AnswerValue::Number(0.0)),
                    ("no_colour_steel", AnswerValue::Fail),
                ],
                vec!["extinguisher", "extinguisher_count", "no_colour_steel"],
            ),
        )
        .unwrap();
    assert_eq!(
        out.hazard_ids.len(),
        2,
        "one missing extinguisher, one hazard"
    );
    assert!(out.unraised.is_empty());
    let descriptions: Vec<String> = out
        .hazard_ids
        .iter()
        .map(|h| t.store.hazard(*h).unwrap().hazard.report.description)
        .collect();
    assert_eq!(
        descriptions,
        [
            "灭火器缺失、数量不足、未放在显眼处或已过期；灭火器数量不足（每层应不少于2具）",
            "用可燃夹芯彩钢板违规搭建",
        ]
    );
    assert!(t.store.due_patrols(&w1).unwrap().is_empty());
}

/// Two people act on one case offline: the village leader withdraws it on one device while
/// the grid worker notifies it on another. The notice conflicts (the case was withdrawn
/// first); the leader looks, marks it handled, and it leaves the list but not the history.
#[test]
fn a_conflict_marked_handled_leaves_the_list_and_stays_in_the_history() {
    let t = town();
    let (other, _dir) = empty_store();
    for op in t.store.ops().unwrap() {
        other.apply_remote(&op).unwrap();
    }
    let h = raise(&t, &t.actor("w1"), t.place_g1, Severity::General);
    for op in t.store.ops().unwrap() {
        other.apply_remote(&op).unwrap();
    }
    act(
        &t,
        "l1",
        h,
        HazardEvent::Withdraw {
            reason: "重复上报".into(),
        },
    );
    other.clock().set_ms(t.store.device_wall_ms() + 60_000);
    other
        .hazard_event(
            &other.actor("w1").unwrap(),
            h,
            notify(other.today().plus(3)),
        )
        .unwrap();
    for op in other.ops().unwrap() {
        t.store.apply_remote(&op).unwrap();
    }
    let l1 = t.actor("l1");
    let listed = t.store.conflicts(&l1).unwrap();
    assert_eq!(listed.len(), 1);
    let op_id = listed[0].event.op_id;
    // A grid worker does not mark the village's conflicts handled.
    assert!(t
        .store
        .hazard_event(
            &t.actor("w1"),
            h,
            HazardEvent::SettleConflict {
                op_id,
                note: "已核实".into(),
            },
        )
        .is_err());
    act(
        &t,
        "l1",
        h,
        HazardEvent::SettleConflict {
            op_id,
            note: "已电话核实，重复上报，撤销有效".into(),
        },
    );
    assert!(t.store.conflicts(&l1).unwrap().is_empty());
    let all = t.store.conflicts_in_scope(&l1).unwrap();
    assert_eq!((all.len(), all[0].settled), (1, true));
    let detail = t.store.hazard(h).unwrap();
    assert_eq!(detail.hazard.status, HazardStatus::Withdrawn);
}

#[test]
fn the_hazard_list_finds_words_literally_and_sorts_by_deadline() {
    use gridpatrol_core::hazard::HazardFilter;
    let t = town();
    let w1 = t.actor("w1");
    at_day(&t, 0);
    let raise = |what: &str| {
        t.store
            .report_hazard(
                &w1,
                NewHazard {
                    photos: vec![photo(7)],
                    ..NewHazard::new(t.place_g1, "wiring", Severity::General, what)
                },
            )
            .unwrap()
    };
    let (a, b, c) = (
        raise("电线老化"),
        raise("灭火器过期"),
        raise("负荷100%_超标"),
    );
    act(&t, "w1", a, notify(d(9)));
    act(&t, "w1", c, notify(d(3)));
    let list = |search: Option<&str>, by_deadline: bool| {
        t.store
            .hazard_list(&HazardFilter {
                grids: vec!["g1".into()],
                search: search.map(String::from),
                by_deadline,
                limit: 10,
                ..HazardFilter::default()
            })
            .unwrap()
            .1
            .into_iter()
            .map(|h| h.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(list(Some("灭火器"), false), [b]);
    assert_eq!(list(Some("%"), false), [c], "a % typed is a % found");
    assert_eq!(list(Some("_"), false), [c]);
    assert_eq!(list(Some("  "), false).len(), 3, "blank finds everything");
    assert_eq!(
        list(None, true),
        [c, a, b],
        "nearest deadline first, none last"
    );
    let rows = t
        .store
        .hazard_list(&HazardFilter {
            grids: vec!["g1".into()],
            limit: 10,
            ..HazardFilter::default()
        })
        .unwrap()
        .1;
    assert!(rows.iter().any(|h| h.description == "灭火器过期"));
}
