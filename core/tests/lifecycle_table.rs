//! Every hazard event, tried by every role, in every status: the state machine's guards as one
//! table. Each cell lists the roles that may do the event there (G grid worker, V village
//! leader, T township officer, B brigade advisor); everyone else must be refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use gridpatrol_core::clock::{Day, Hlc};
use gridpatrol_core::hazard::lifecycle::{fold, step, Ctx, LoggedEvent, Rejection};
use gridpatrol_core::hazard::{
    EscalationReason, Hazard, HazardEvent, HazardReport, HazardStatus, Level, Severity,
};
use gridpatrol_core::org::Role;
use uuid::Uuid;

const DAY_MS: i64 = 86_400_000;
/// 2026-03-02 09:00 China time.
const T0: i64 = 1_772_413_200_000;

fn today() -> Day {
    Day::from_ms(T0)
}

fn photo(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

fn report(severity: Severity) -> HazardEvent {
    HazardEvent::Report(Box::new(HazardReport {
        place_id: Uuid::nil(),
        place_type: "small_shop".into(),
        grid_id: "g1".into(),
        village_id: "v1".into(),
        township_id: "t1".into(),
        category: "extinguisher".into(),
        severity,
        description: "灭火器过期".into(),
        source: None,
        legal_basis: None,
        photos: vec![],
        location: None,
    }))
}

fn ev(name: &str) -> HazardEvent {
    let d = |n| today().plus(n);
    match name {
        "notify" => HazardEvent::Notify {
            responsible_party: "店主".into(),
            deadline: d(3),
            note: String::new(),
        },
        "start" => HazardEvent::StartRectification {
            note: String::new(),
        },
        "submit" => HazardEvent::SubmitRectification {
            note: String::new(),
            photos: vec![photo(1)],
        },
        "fix_on_spot" => HazardEvent::FixOnSpot {
            note: String::new(),
            before_photo: Some(photo(2)),
            after_photo: Some(photo(3)),
        },
        "review_pass" => HazardEvent::Review {
            passed: true,
            note: String::new(),
            new_deadline: None,
        },
        "review_fail" => HazardEvent::Review {
            passed: false,
            note: String::new(),
            new_deadline: Some(d(3)),
        },
        "request_extension" => HazardEvent::RequestExtension {
            reason: "等电工".into(),
            proposed_deadline: d(30),
            interim_measures: "断电".into(),
        },
        "decide_extension" => HazardEvent::DecideExtension {
            approved: true,
            basis: "属实".into(),
        },
        "escalate_village" => HazardEvent::Escalate {
            to: Level::Village,
            reason: EscalationReason::OwnerRefuses,
            note: String::new(),
        },
        "escalate_township" => HazardEvent::Escalate {
            to: Level::Township,
            reason: EscalationReason::BeyondPower,
            note: String::new(),
        },
        "hand_back" => HazardEvent::HandBack {
            to: Level::Grid,
            guidance: "请跟进".into(),
            deadline: d(5),
        },
        "joint_enforcement" => HazardEvent::JointEnforcement {
            departments: "派出所".into(),
            note: String::new(),
            deadline: None,
        },
        "refer" => HazardEvent::Refer {
            department: "消防救援大队".into(),
            case_number: "A-1".into(),
            note: String::new(),
            deadline: None,
        },
        "record_outcome" => HazardEvent::RecordOutcome {
            outcome: "已处理".into(),
        },
        "supervise" => HazardEvent::Supervise {
            note: String::new(),
            deadline: None,
        },
        "withdraw" => HazardEvent::Withdraw {
            reason: "重复".into(),
        },
        other => panic!("unknown event {other}"),
    }
}

const EVENTS: [&str; 16] = [
    "notify",
    "start",
    "submit",
    "fix_on_spot",
    "review_pass",
    "review_fail",
    "request_extension",
    "decide_extension",
    "escalate_village",
    "escalate_township",
    "hand_back",
    "joint_enforcement",
    "refer",
    "record_outcome",
    "supervise",
    "withdraw",
];

/// Who each role letter is when trying an event: never the reporter (w1) nor anyone who
/// submitted in the setup paths (w1, o1), so separation of duties does not hide a role guard.
fn tryer(letter: char) -> (&'static str, Role) {
    match letter {
        'G' => ("w2", Role::GridWorker),
        'V' => ("l1", Role::VillageLeader),
        'T' => ("o2", Role::TownshipOfficer),
        _ => ("b1", Role::BrigadeAdvisor),
    }
}

/// A setup path: (actor, role, event) from the report on.
fn path(state: &str) -> (Severity, Vec<(&'static str, Role, &'static str)>) {
    use Role::*;
    let g = |e| ("w1", GridWorker, e);
    let t = |e| ("o1", TownshipOfficer, e);
    match state {
        "reported" => (Severity::General, vec![]),
        "reported_major" => (Severity::Major, vec![]),
        "notified" => (Severity::General, vec![g("notify")]),
        "notified_pending" => (Severity::General, vec![g("notify"), g("request_extension")]),
        "notified_pending_major" => (Severity::Major, vec![g("notify"), g("request_extension")]),
        "rectifying" => (Severity::General, vec![g("notify"), g("start")]),
        "awaiting_review" => (Severity::General, vec![g("notify"), g("submit")]),
        "fixed_on_spot" => (Severity::General, vec![g("fix_on_spot")]),
        "escalated_village" => (Severity::General, vec![g("escalate_village")]),
        "escalated_township" => (Severity::General, vec![g("escalate_township")]),
        "escalated_township_major" => (Severity::Major, vec![g("escalate_township")]),
        "joint_enforcement" => (
            Severity::General,
            vec![g("escalate_township"), t("joint_enforcement")],
        ),
        "referred" => (Severity::General, vec![g("escalate_township"), t("refer")]),
        "township_review" => (
            Severity::General,
            vec![g("escalate_township"), t("refer"), t("record_outcome")],
        ),
        "closed" => (
            Severity::General,
            vec![
                g("notify"),
                g("submit"),
                ("l1", VillageLeader, "review_pass"),
            ],
        ),
        "withdrawn" => (Severity::General, vec![("l1", VillageLeader, "withdraw")]),
        other => panic!("unknown state {other}"),
    }
}

/// (state, expected status, [allowed roles per event in EVENTS order]).
#[rustfmt::skip]
const TABLE: &[(&str, HazardStatus, [&str; 16])] = &[
    //                                  notify start  submit fix    pass   fail   req    decide escV   escT   hback  joint  refer  outc   superv withdr
    ("reported",                 HazardStatus::Reported,         ["GVT", "",    "",    "GVT", "",    "",    "",    "",    "GVT", "GVT", "",    "",    "",    "",    "",    "VT"]),
    ("reported_major",           HazardStatus::Reported,         ["GVT", "",    "",    "",    "",    "",    "",    "",    "GVT", "GVT", "",    "",    "",    "",    "",    "VT"]),
    ("notified",                 HazardStatus::Notified,         ["",    "GVT", "GVT", "",    "",    "",    "GVT", "",    "GVT", "GVT", "",    "",    "",    "",    "",    "VT"]),
    ("notified_pending",         HazardStatus::Notified,         ["",    "GVT", "GVT", "",    "",    "",    "",    "VT",  "GVT", "GVT", "",    "",    "",    "",    "",    "VT"]),
    ("notified_pending_major",   HazardStatus::Notified,         ["",    "GVT", "GVT", "",    "",    "",    "",    "T",   "GVT", "GVT", "",    "",    "",    "",    "",    "VT"]),
    ("rectifying",               HazardStatus::Rectifying,       ["",    "",    "GVT", "",    "",    "",    "GVT", "",    "GVT", "GVT", "",    "",    "",    "",    "",    "VT"]),
    ("awaiting_review",          HazardStatus::AwaitingReview,   ["",    "",    "",    "",    "VT",  "VT",  "",    "",    "GVT", "GVT", "",    "",    "",    "",    "",    "VT"]),
    ("fixed_on_spot",            HazardStatus::FixedOnSpot,      ["",    "",    "",    "",    "VT",  "VT",  "",    "",    "",    "",    "",    "",    "",    "",    "",    "VT"]),
    ("escalated_village",        HazardStatus::Escalated,        ["",    "",    "",    "",    "",    "",    "",    "",    "",    "VT",  "VT",  "",    "",    "",    "",    "VT"]),
    ("escalated_township",       HazardStatus::Escalated,        ["",    "",    "",    "",    "",    "",    "",    "",    "",    "",    "T",   "T",   "T",   "",    "",    "VT"]),
    ("escalated_township_major", HazardStatus::Escalated,        ["",    "",    "",    "",    "",    "",    "",    "",    "",    "",    "T",   "T",   "T",   "",    "T",   "VT"]),
    ("joint_enforcement",        HazardStatus::JointEnforcement, ["",    "",    "",    "",    "",    "",    "",    "",    "",    "",    "",    "",    "T",   "T",   "",    "VT"]),
    ("referred",                 HazardStatus::Referred,         ["",    "",    "",    "",    "",    "",    "",    "",    "",    "",    "",    "",    "",    "T",   "",    "VT"]),
    ("township_review",          HazardStatus::AwaitingReview,   ["",    "",    "",    "",    "T",   "T",   "",    "",    "",    "",    "",    "",    "",    "",    "",    "VT"]),
    ("closed",                   HazardStatus::Closed,           ["",    "",    "",    "",    "",    "",    "",    "",    "",    "",    "",    "",    "",    "",    "",    ""]),
    ("withdrawn",                HazardStatus::Withdrawn,        ["",    "",    "",    "",    "",    "",    "",    "",    "",    "",    "",    "",    "",    "",    "",    ""]),
];

fn build(state: &str) -> Hazard {
    let (severity, steps) = path(state);
    let id = Uuid::nil();
    let mut h = step(
        id,
        None,
        Ctx {
            actor_id: "w1",
            role: Role::GridWorker,
            at: Hlc::new(T0, 0),
        },
        &report(severity),
    )
    .expect("report");
    for (i, (actor, role, name)) in steps.into_iter().enumerate() {
        let ctx = Ctx {
            actor_id: actor,
            role,
            at: Hlc::new(T0 + 1 + i as i64, 0),
        };
        h = step(id, Some(&h), ctx, &ev(name)).unwrap_or_else(|e| panic!("{state}: {name}: {e}"));
    }
    h
}

#[test]
fn every_event_by_every_role_in_every_status() {
    let mut cells = 0;
    for (state, status, allowed) in TABLE {
        let h = build(state);
        assert_eq!(h.status, *status, "{state}");
        for (event, roles) in EVENTS.iter().zip(allowed) {
            for letter in ['G', 'V', 'T', 'B'] {
                let (actor, role) = tryer(letter);
                let ctx = Ctx {
                    actor_id: actor,
                    role,
                    at: Hlc::new(T0 + 100, 0),
                };
                let out = step(Uuid::nil(), Some(&h), ctx, &ev(event));
                let expected = roles.contains(letter);
                assert_eq!(
                    out.is_ok(),
                    expected,
                    "{state} × {event} × {role}: expected {}, got {out:?}",
                    if expected { "allowed" } else { "refused" }
                );
                cells += 1;
            }
        }
    }
    assert_eq!(cells, TABLE.len() * EVENTS.len() * 4);
}

#[test]
fn report_only_once_and_nothing_before_it() {
    let ctx = Ctx {
        actor_id: "w1",
        role: Role::GridWorker,
        at: Hlc::new(T0, 0),
    };
    assert_eq!(
        step(Uuid::nil(), None, ctx, &ev("notify")).unwrap_err(),
        Rejection::NotReported
    );
    let h = build("reported");
    assert_eq!(
        step(Uuid::nil(), Some(&h), ctx, &report(Severity::General)).unwrap_err(),
        Rejection::AlreadyExists
    );
    let b = Ctx {
        actor_id: "b1",
        role: Role::BrigadeAdvisor,
        at: Hlc::new(T0, 0),
    };
    assert!(matches!(
        step(Uuid::nil(), None, b, &report(Severity::General)),
        Err(Rejection::RoleNotAllowed { .. })
    ));
}

#[test]
fn separation_of_duties() {
    // The village leader who submitted cannot verify; the other verifier can.
    let mut h = build("notified");
    let l1 = Ctx {
        actor_id: "l1",
        role: Role::VillageLeader,
        at: Hlc::new(T0 + 10, 0),
    };
    h = step(Uuid::nil(), Some(&h), l1, &ev("submit")).unwrap();
    assert_eq!(
        step(Uuid::nil(), Some(&h), l1, &ev("review_pass")).unwrap_err(),
        Rejection::SeparationOfDuties
    );
    let o2 = Ctx {
        actor_id: "o2",
        role: Role::TownshipOfficer,
        at: Hlc::new(T0 + 11, 0),
    };
    assert_eq!(
        step(Uuid::nil(), Some(&h), o2, &ev("review_pass"))
            .unwrap()
            .status,
        HazardStatus::Closed
    );
}

#[test]
fn on_spot_fix_with_both_photos_may_be_closed_by_its_fixer_only() {
    let h = build("fixed_on_spot");
    let w1 = Ctx {
        actor_id: "w1",
        role: Role::GridWorker,
        at: Hlc::new(T0 + 10, 0),
    };
    let closed = step(Uuid::nil(), Some(&h), w1, &ev("review_pass")).unwrap();
    assert_eq!(closed.status, HazardStatus::Closed);
    assert_eq!(closed.closed_on_time, Some(true));
    // Without an after photo, the fixer needs someone else to verify.
    let r = step(Uuid::nil(), None, w1, &report(Severity::General)).unwrap();
    let one_photo = HazardEvent::FixOnSpot {
        note: String::new(),
        before_photo: Some(photo(2)),
        after_photo: None,
    };
    let fixed = step(Uuid::nil(), Some(&r), w1, &one_photo).unwrap();
    assert!(matches!(
        step(Uuid::nil(), Some(&fixed), w1, &ev("review_pass")),
        Err(Rejection::RoleNotAllowed { .. })
    ));
    let l1 = Ctx {
        actor_id: "l1",
        role: Role::VillageLeader,
        at: Hlc::new(T0 + 11, 0),
    };
    assert!(step(Uuid::nil(), Some(&fixed), l1, &ev("review_pass")).is_ok());
}

#[test]
fn extension_moves_the_deadline_only_when_approved() {
    let h = build("notified_pending");
    let before = h.deadline;
    assert!(h.pending_extension.is_some());
    let l1 = Ctx {
        actor_id: "l1",
        role: Role::VillageLeader,
        at: Hlc::new(T0 + 10, 0),
    };
    let rejected = step(
        Uuid::nil(),
        Some(&h),
        l1,
        &HazardEvent::DecideExtension {
            approved: false,
            basis: "不同意".into(),
        },
    )
    .unwrap();
    assert_eq!(rejected.deadline, before);
    assert!(rejected.pending_extension.is_none());
    let approved = step(Uuid::nil(), Some(&h), l1, &ev("decide_extension")).unwrap();
    assert_eq!(approved.deadline, Some(today().plus(30)));
    assert_eq!(approved.extensions_granted, 1);
}

#[test]
fn bad_content_is_refused_with_a_typed_reason() {
    let h = build("reported");
    let w1 = Ctx {
        actor_id: "w1",
        role: Role::GridWorker,
        at: Hlc::new(T0, 0),
    };
    let past = HazardEvent::Notify {
        responsible_party: "店主".into(),
        deadline: today().plus(-1),
        note: String::new(),
    };
    let e = step(Uuid::nil(), Some(&h), w1, &past).unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    assert!(e.to_string().contains("整改期限不能早于今天"), "{e}");
    let empty = HazardEvent::Withdraw {
        reason: "  ".into(),
    };
    let l1 = Ctx {
        actor_id: "l1",
        role: Role::VillageLeader,
        at: Hlc::new(T0, 0),
    };
    assert!(step(Uuid::nil(), Some(&h), l1, &empty).is_err());
    let fail_without_deadline = HazardEvent::Review {
        passed: false,
        note: String::new(),
        new_deadline: None,
    };
    let waiting = build("awaiting_review");
    assert!(step(Uuid::nil(), Some(&waiting), l1, &fail_without_deadline).is_err());
}

#[test]
fn rework_and_on_time_are_tracked() {
    let mut h = build("awaiting_review");
    let l1 = |t| Ctx {
        actor_id: "l1",
        role: Role::VillageLeader,
        at: Hlc::new(T0 + t, 0),
    };
    h = step(Uuid::nil(), Some(&h), l1(10), &ev("review_fail")).unwrap();
    assert_eq!((h.status, h.rework_count), (HazardStatus::Rectifying, 1));
    let w1 = Ctx {
        actor_id: "w1",
        role: Role::GridWorker,
        at: Hlc::new(T0 + 20, 0),
    };
    h = step(Uuid::nil(), Some(&h), w1, &ev("submit")).unwrap();
    // Verified 10 days later, past the 3-day deadline: closed, but not on time.
    h = step(Uuid::nil(), Some(&h), l1(10 * DAY_MS), &ev("review_pass")).unwrap();
    assert_eq!(h.closed_on_time, Some(false));
    assert!(!h.escalated);
}

#[test]
fn derived_figures_are_computed_for_a_day() {
    let h = build("notified");
    assert_eq!(h.days_overdue(today().plus(3)), None);
    assert_eq!(h.days_overdue(today().plus(5)), Some(2));
    assert_eq!(h.escalation_due(today().plus(5)), None);
    assert_eq!(
        h.escalation_due(today().plus(12)),
        Some(EscalationReason::Overdue)
    );
    assert_eq!(
        build("reported_major").escalation_due(today()),
        Some(EscalationReason::Major)
    );
    assert_eq!(
        build("awaiting_review").days_overdue(today().plus(30)),
        None
    );
}

#[test]
fn fold_keeps_going_past_a_conflict() {
    let id = Uuid::nil();
    let r = report(Severity::General);
    let submit = ev("submit");
    let notify = ev("notify");
    let events = [
        LoggedEvent {
            op_id: Uuid::from_u128(1),
            ctx: Ctx {
                actor_id: "w1",
                role: Role::GridWorker,
                at: Hlc::new(T0, 0),
            },
            event: &r,
        },
        LoggedEvent {
            op_id: Uuid::from_u128(2),
            ctx: Ctx {
                actor_id: "w1",
                role: Role::GridWorker,
                at: Hlc::new(T0 + 1, 0),
            },
            event: &submit,
        },
        LoggedEvent {
            op_id: Uuid::from_u128(3),
            ctx: Ctx {
                actor_id: "w1",
                role: Role::GridWorker,
                at: Hlc::new(T0 + 2, 0),
            },
            event: &notify,
        },
    ];
    let (state, conflicts) = fold(id, &events);
    assert_eq!(state.unwrap().status, HazardStatus::Notified);
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].0, Uuid::from_u128(2));
}
