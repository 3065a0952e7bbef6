//! Every role × scope × op kind cell of the sync authorization rule, writes and reads. The
//! table below is the specification: the roles that may make each op kind at all; scope is the
//! user's grids (w1: g1; l1: village v1 = g1, g2; o1 and b1: the whole township).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use gridpatrol_core::activity::{Activity, ActivityKind};
use gridpatrol_core::checklist::library;
use gridpatrol_core::clock::{Day, Hlc};
use gridpatrol_core::hazard::{EscalationReason, HazardEvent, HazardReport, Level, Severity};
use gridpatrol_core::op::{Op, OpBody};
use gridpatrol_core::org::{Actor, OrgLevel, OrgNode, Role, User};
use gridpatrol_core::patrol::{GpsSample, PatrolRecord};
use gridpatrol_core::place::{Place, PlaceChanges, RiskLevel};
use gridpatrol_core::plan::PatrolPlan;
use gridpatrol_core::sync::authz::{authorize_write, may_read};
use uuid::Uuid;

fn day() -> Day {
    Day::from_ms(common::T0).plus(3)
}

fn hazard(event: HazardEvent) -> OpBody {
    OpBody::Hazard {
        hazard_id: Uuid::nil(),
        event,
    }
}

/// (kind, who may make it, a sample body)
fn kinds(grid: &str) -> Vec<(&'static str, &'static str, OpBody)> {
    let p = || "ab".repeat(32);
    vec![
        (
            "org_node",
            "",
            OpBody::OrgNode(OrgNode {
                id: "x".into(),
                level: OrgLevel::Grid,
                parent_id: Some("v1".into()),
                name: "x".into(),
            }),
        ),
        (
            "user",
            "",
            OpBody::User(User {
                id: "x".into(),
                name: "x".into(),
                phone: None,
                role: Role::GridWorker,
                org_ids: vec![grid.into()],
            }),
        ),
        (
            "template",
            "T",
            OpBody::Template(library().templates[0].clone()),
        ),
        (
            "plan",
            "VT",
            OpBody::Plan(PatrolPlan {
                id: Uuid::nil(),
                grid_id: grid.into(),
                worker_id: None,
                place_types: vec![],
                risk_levels: vec![],
                every_days: Some(7),
                focus_items: vec![],
                active: true,
                note: String::new(),
                starts_on: None,
                ends_on: None,
            }),
        ),
        (
            "place_create",
            "GVT",
            OpBody::PlaceCreate(Place {
                id: Uuid::nil(),
                place_type: "small_shop".into(),
                name: "店".into(),
                address: String::new(),
                location: None,
                grid_id: grid.into(),
                responsible_name: String::new(),
                responsible_phone: None,
                risk_level: RiskLevel::Low,
                patrol_every_days: None,
                archived: false,
            }),
        ),
        (
            "place_update",
            "GVT",
            OpBody::PlaceUpdate(PlaceChanges {
                place_id: Uuid::nil(),
                name: Some("新名".into()),
                ..Default::default()
            }),
        ),
        (
            "patrol",
            "GVT",
            OpBody::Patrol(PatrolRecord {
                id: Uuid::nil(),
                place_id: Uuid::nil(),
                grid_id: grid.into(),
                worker_id: "w1".into(),
                template_id: "nine_small".into(),
                template_version: 1,
                started_at: 0,
                ended_at: 1,
                gps: GpsSample::default(),
                answers: vec![gridpatrol_core::patrol::Answer {
                    key: "extinguisher".into(),
                    value: gridpatrol_core::checklist::AnswerValue::NotApplicable,
                    failed: false,
                }],
                note: String::new(),
            }),
        ),
        (
            "activity",
            "GVT",
            OpBody::Activity(Activity {
                id: Uuid::nil(),
                kind: ActivityKind::Publicity,
                org_id: grid.into(),
                held_on: day(),
                title: "宣传".into(),
                audience: 10,
                note: String::new(),
                channel: None,
                attendees: Vec::new(),
                photos: Vec::new(),
                trainees: Vec::new(),
                group_id: None,
            }),
        ),
        (
            "photo",
            "GVT",
            OpBody::Photo(gridpatrol_core::photo::PhotoCapture {
                id: Uuid::nil(),
                hash: "0".repeat(64),
                bytes: 1,
                taken_at: 0,
                gps: GpsSample::default(),
                place_id: Uuid::nil(),
                grid_id: grid.into(),
                hazard_id: None,
                role: gridpatrol_core::photo::PhotoRole::Before,
            }),
        ),
        (
            "hazard.report",
            "GVT",
            hazard(HazardEvent::Report(Box::new(HazardReport {
                place_id: Uuid::nil(),
                place_type: "small_shop".into(),
                grid_id: grid.into(),
                village_id: "v1".into(),
                township_id: "t1".into(),
                category: "wiring".into(),
                severity: Severity::General,
                description: "电线".into(),
                source: None,
                legal_basis: None,
                photos: vec![],
                location: None,
            }))),
        ),
        (
            "hazard.notify",
            "GVT",
            hazard(HazardEvent::Notify {
                responsible_party: "店主".into(),
                deadline: day(),
                note: String::new(),
            }),
        ),
        (
            "hazard.start_rectification",
            "GVT",
            hazard(HazardEvent::StartRectification {
                note: String::new(),
            }),
        ),
        (
            "hazard.submit_rectification",
            "GVT",
            hazard(HazardEvent::SubmitRectification {
                note: String::new(),
                photos: vec![p()],
            }),
        ),
        (
            "hazard.fix_on_spot",
            "GVT",
            hazard(HazardEvent::FixOnSpot {
                note: String::new(),
                before_photo: Some(p()),
                after_photo: Some(p()),
            }),
        ),
        (
            "hazard.review",
            "GVT",
            hazard(HazardEvent::Review {
                passed: true,
                note: String::new(),
                new_deadline: None,
            }),
        ),
        (
            "hazard.request_extension",
            "GVT",
            hazard(HazardEvent::RequestExtension {
                reason: "r".into(),
                proposed_deadline: day(),
                interim_measures: "m".into(),
            }),
        ),
        (
            "hazard.decide_extension",
            "VT",
            hazard(HazardEvent::DecideExtension {
                approved: true,
                basis: "b".into(),
            }),
        ),
        (
            "hazard.escalate",
            "GVT",
            hazard(HazardEvent::Escalate {
                to: Level::Township,
                reason: EscalationReason::Major,
                note: String::new(),
            }),
        ),
        (
            "hazard.hand_back",
            "VT",
            hazard(HazardEvent::HandBack {
                to: Level::Grid,
                guidance: "g".into(),
                deadline: day(),
            }),
        ),
        (
            "hazard.joint_enforcement",
            "T",
            hazard(HazardEvent::JointEnforcement {
                departments: "派出所".into(),
                note: String::new(),
                deadline: None,
            }),
        ),
        (
            "hazard.refer",
            "T",
            hazard(HazardEvent::Refer {
                department: "大队".into(),
                case_number: "1".into(),
                note: String::new(),
                deadline: None,
            }),
        ),
        (
            "hazard.record_outcome",
            "T",
            hazard(HazardEvent::RecordOutcome {
                outcome: "o".into(),
            }),
        ),
        (
            "hazard.supervise",
            "T",
            hazard(HazardEvent::Supervise {
                note: String::new(),
                deadline: None,
            }),
        ),
        (
            "hazard.withdraw",
            "VT",
            hazard(HazardEvent::Withdraw {
                reason: "dup".into(),
            }),
        ),
    ]
}

fn op_by(user: &Actor, body: OpBody) -> Op {
    Op {
        id: Uuid::now_v7(),
        device_id: Uuid::nil(),
        seq: 1,
        hlc: Hlc::new(common::T0, 0),
        wall_ms: common::T0,
        actor_id: user.user_id.clone(),
        actor_role: user.role,
        body,
    }
}

#[test]
fn every_role_scope_and_kind() {
    let t = common::town();
    let users = [
        ('G', t.actor("w1")),
        ('V', t.actor("l1")),
        ('T', t.actor("o1")),
        ('B', t.actor("b1")),
    ];
    // Which grids each user's scope holds: own grid, same village, other village.
    let scope = |who: char, grid: &str| match who {
        'G' => grid == "g1",
        'V' => grid != "g3",
        _ => true,
    };
    let mut cells = 0;
    for grid in ["g1", "g2", "g3"] {
        let covered = kinds(grid);
        assert_eq!(covered.len(), 24, "every op kind and every hazard event");
        for (kind, writers, body) in covered {
            assert_eq!(body.kind(), kind);
            for (who, user) in &users {
                let expected = writers.contains(*who) && (kind == "template" || scope(*who, grid));
                let got = authorize_write(user, &op_by(user, body.clone()), &[grid.to_string()]);
                assert_eq!(
                    got.is_ok(),
                    expected,
                    "{kind} by {} in {grid}: {got:?}",
                    user.role
                );
                if let Err(r) = got {
                    let code = r.code();
                    assert!(
                        code == "role_not_allowed" || code == "out_of_scope",
                        "{code}"
                    );
                }
                cells += 1;
            }
        }
        for (who, user) in &users {
            assert_eq!(
                may_read(user, grid),
                *who != 'G' && *who != 'V' || scope(*who, grid),
                "{} reads {grid}",
                user.role
            );
        }
    }
    assert_eq!(cells, 3 * 24 * 4);
}

#[test]
fn an_op_must_name_the_user_who_pushes_it() {
    let t = common::town();
    let (w1, w2) = (t.actor("w1"), t.actor("w2"));
    let body = kinds("g1").remove(9).2;
    let mut op = op_by(&w1, body);
    assert!(authorize_write(&w1, &op, &["g1".into()]).is_ok());
    assert_eq!(
        authorize_write(&w2, &op, &["g1".into()])
            .unwrap_err()
            .code(),
        "actor_mismatch"
    );
    op.actor_role = Role::TownshipOfficer;
    assert_eq!(
        authorize_write(&w1, &op, &["g1".into()])
            .unwrap_err()
            .code(),
        "actor_mismatch"
    );
}

#[test]
fn every_touched_grid_must_be_in_scope_an_activitys_too() {
    let t = common::town();
    let w2 = t.actor("w2");
    let moved = op_by(&w2, kinds("g1").remove(5).2);
    assert!(authorize_write(&w2, &moved, &["g1".into(), "g2".into()]).is_ok());
    assert!(
        authorize_write(&w2, &moved, &["g1".into(), "g3".into()]).is_err(),
        "moving a place out of scope"
    );
    assert!(
        authorize_write(&w2, &moved, &[]).is_err(),
        "an op that touches no known grid"
    );
    // An activity for an area is logged only by someone the whole area belongs to.
    let village_wide = op_by(&w2, kinds("v1").remove(7).2);
    assert!(authorize_write(&w2, &village_wide, &["g1".into(), "g2".into()]).is_ok());
    assert!(
        authorize_write(&w2, &village_wide, &["g1".into(), "g2".into(), "g3".into()]).is_err(),
        "a worker's training counted for grids not theirs"
    );
}
