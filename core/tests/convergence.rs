//! Property: any set of ops for one hazard, applied through the store's apply function in any
//! order and with duplicates, gives the same derived state on every replica; every op is kept,
//! and the ones invalid at their position are marked conflicted rather than dropped. The stored
//! state also equals the pure fold of the same events.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use gridpatrol_core::apply::Applied;
use gridpatrol_core::clock::{Day, Hlc};
use gridpatrol_core::hazard::lifecycle::{fold, Ctx, LoggedEvent};
use gridpatrol_core::hazard::{EscalationReason, HazardEvent, HazardReport, Level, Severity};
use gridpatrol_core::op::{Op, OpBody};
use gridpatrol_core::org::Role;
use proptest::prelude::*;
use uuid::Uuid;

const T0: i64 = common::T0;

const ACTORS: [(&str, Role); 6] = [
    ("w1", Role::GridWorker),
    ("w2", Role::GridWorker),
    ("l1", Role::VillageLeader),
    ("o1", Role::TownshipOfficer),
    ("o2", Role::TownshipOfficer),
    ("b1", Role::BrigadeAdvisor),
];

fn event(kind: u8, day: i32, severity: Severity) -> HazardEvent {
    let d = Day::from_ms(T0).plus(day);
    let p = || "ab".repeat(32);
    match kind % 17 {
        0 => HazardEvent::Notify {
            responsible_party: "店主".into(),
            deadline: d,
            note: String::new(),
        },
        1 => HazardEvent::StartRectification {
            note: String::new(),
        },
        2 => HazardEvent::SubmitRectification {
            note: String::new(),
            photos: vec![p()],
        },
        3 => HazardEvent::FixOnSpot {
            note: String::new(),
            before_photo: Some(p()),
            after_photo: Some(p()),
        },
        4 => HazardEvent::Review {
            passed: true,
            note: String::new(),
            new_deadline: None,
        },
        5 => HazardEvent::Review {
            passed: false,
            note: String::new(),
            new_deadline: Some(d),
        },
        6 => HazardEvent::RequestExtension {
            reason: "r".into(),
            proposed_deadline: d.plus(20),
            interim_measures: "m".into(),
        },
        7 => HazardEvent::DecideExtension {
            approved: day % 2 == 0,
            basis: "b".into(),
        },
        8 => HazardEvent::Escalate {
            to: Level::Village,
            reason: EscalationReason::Overdue,
            note: String::new(),
        },
        9 => HazardEvent::Escalate {
            to: Level::Township,
            reason: EscalationReason::Major,
            note: String::new(),
        },
        10 => HazardEvent::HandBack {
            to: Level::Grid,
            guidance: "g".into(),
            deadline: d,
        },
        11 => HazardEvent::JointEnforcement {
            departments: "派出所".into(),
            note: String::new(),
            deadline: None,
        },
        12 => HazardEvent::Refer {
            department: "大队".into(),
            case_number: "1".into(),
            note: String::new(),
            deadline: None,
        },
        13 => HazardEvent::RecordOutcome {
            outcome: "o".into(),
        },
        14 => HazardEvent::Supervise {
            note: String::new(),
            deadline: None,
        },
        15 => HazardEvent::Withdraw {
            reason: "dup".into(),
        },
        _ => report(severity),
    }
}

fn report(severity: Severity) -> HazardEvent {
    HazardEvent::Report(Box::new(HazardReport {
        place_id: Uuid::nil(),
        place_type: "small_shop".into(),
        grid_id: "g1".into(),
        village_id: "v1".into(),
        township_id: "t1".into(),
        category: "wiring".into(),
        severity,
        description: "私拉电线".into(),
        source: None,
        legal_basis: None,
        photos: vec![],
        location: None,
    }))
}

/// (actor, event kind, hlc offset in minutes within ±3 days, deadline day offset)
type Spec = (usize, u8, i64, i32);

fn ops_for(hazard: Uuid, major: bool, specs: &[Spec]) -> Vec<Op> {
    let severity = if major {
        Severity::Major
    } else {
        Severity::General
    };
    let devices: Vec<Uuid> = (0..ACTORS.len())
        .map(|i| Uuid::from_u128(1000 + i as u128))
        .collect();
    let mut seqs = vec![0i64; ACTORS.len()];
    let mut make = |i: usize, hlc: Hlc, body: HazardEvent, n: u128| {
        seqs[i] += 1;
        Op {
            id: Uuid::from_u128((hazard.as_u128() & !0xffff) | n),
            device_id: devices[i],
            seq: seqs[i],
            hlc,
            wall_ms: hlc.wall_ms(),
            actor_id: ACTORS[i].0.into(),
            actor_role: ACTORS[i].1,
            body: OpBody::Hazard {
                hazard_id: hazard,
                event: body,
            },
        }
    };
    let mut ops = vec![make(0, Hlc::new(T0, 0), report(severity), 1)];
    for (n, &(a, kind, minutes, day)) in specs.iter().enumerate() {
        // Clock skew up to ±3 days; equal timestamps are broken by op id.
        let hlc = Hlc::new(T0 + minutes * 60_000, (n % 3) as i64);
        ops.push(make(a, hlc, event(kind, day, severity), n as u128 + 2));
    }
    ops
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        0..ACTORS.len(),
        0u8..17,
        -3 * 24 * 60i64..3 * 24 * 60,
        -2i32..10,
    )
}

fn replica_state(
    store: &gridpatrol_core::Store,
    hazard: Uuid,
) -> (String, BTreeSet<(Uuid, String)>, usize) {
    let state = match store.hazard(hazard) {
        Ok(d) => serde_json::to_string(&d.hazard).unwrap(),
        Err(e) => format!("none: {}", e.code()),
    };
    let conflicts: BTreeSet<(Uuid, String)> = store
        .hazard(hazard)
        .map(|d| {
            d.events
                .iter()
                .filter_map(|e| e.conflict.as_ref().map(|c| (e.op_id, c.code().to_string())))
                .collect()
        })
        .unwrap_or_default();
    (state, conflicts, store.ops().unwrap().len())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("GRIDPATROL_PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(256),
        .. ProptestConfig::default()
    })]

    #[test]
    fn any_order_with_duplicates_gives_the_same_state(
        major in any::<bool>(),
        specs in prop::collection::vec(spec(), 0..14),
        orders in prop::collection::vec(any::<prop::sample::Index>(), 0..40),
        dup_every in 1usize..5,
    ) {
        let hazard = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0000);
        let ops = ops_for(hazard, major, &specs);

        // Replica A: HLC order. Replica B: reversed. Replica C: shuffled with duplicates.
        let mut a_order = ops.clone();
        a_order.sort_by_key(|o| (o.hlc, o.id));
        let mut b_order = a_order.clone();
        b_order.reverse();
        let mut c_order = ops.clone();
        for (i, ix) in orders.iter().enumerate() {
            let n = c_order.len();
            c_order.swap(i % n, ix.index(n));
        }
        let dups: Vec<Op> = c_order.iter().step_by(dup_every).cloned().collect();
        c_order.extend(dups);

        let mut results = Vec::new();
        for order in [&a_order, &b_order, &c_order] {
            let (store, _dir) = common::empty_store();
            let mut applied = 0;
            for op in order.iter() {
                if store.apply_remote(op).unwrap() == Applied::Applied {
                    applied += 1;
                }
            }
            prop_assert_eq!(applied, ops.len(), "each distinct op applied exactly once");
            results.push(replica_state(&store, hazard));
        }
        prop_assert_eq!(&results[0], &results[1]);
        prop_assert_eq!(&results[0], &results[2]);

        // Nothing lost: every op is in the log; accepted + conflicted = all.
        let (state, conflicts, stored) = &results[0];
        prop_assert_eq!(*stored, ops.len());

        // The store agrees with the pure fold of the same events.
        let events: Vec<LoggedEvent<'_>> = a_order.iter().map(|op| match &op.body {
            OpBody::Hazard { event, .. } => LoggedEvent {
                op_id: op.id,
                ctx: Ctx { actor_id: &op.actor_id, role: op.actor_role, at: op.hlc },
                event,
            },
            _ => unreachable!(),
        }).collect();
        let (expected, expected_conflicts) = fold(hazard, &events);
        match expected {
            Some(h) => prop_assert_eq!(state, &serde_json::to_string(&h).unwrap()),
            None => prop_assert!(state.starts_with("none")),
        }
        let expected_conflicts: BTreeSet<(Uuid, String)> =
            expected_conflicts.iter().map(|(id, r)| (*id, r.code().to_string())).collect();
        if !state.starts_with("none") {
            prop_assert_eq!(conflicts, &expected_conflicts);
        }
    }
}

#[test]
fn a_late_earlier_event_reorders_the_fold() {
    // The worker's submit arrives first; the township's earlier escalation arrives later and
    // is folded before it, so the submit becomes the conflict, on every replica.
    let hazard = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_1000);
    let ops = ops_for(
        hazard,
        false,
        &[(0, 0, 10, 3), (3, 9, 30, 0), (0, 2, 40, 0)],
    );
    let (store, _dir) = common::empty_store();
    for op in [&ops[0], &ops[1], &ops[3], &ops[2]] {
        store.apply_remote(op).unwrap();
    }
    let d = store.hazard(hazard).unwrap();
    assert_eq!(d.hazard.status.code(), "escalated");
    let conflicted: Vec<_> = d
        .events
        .iter()
        .filter(|e| e.conflict.is_some())
        .map(|e| e.op_id)
        .collect();
    assert_eq!(conflicted, vec![ops[3].id]);
}

#[test]
fn an_op_reusing_a_device_sequence_number_is_refused_not_dropped() {
    let hazard = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_2000);
    let ops = ops_for(hazard, false, &[(0, 0, 10, 3)]);
    let (store, _dir) = common::empty_store();
    store.apply_remote(&ops[0]).unwrap();
    store.apply_remote(&ops[1]).unwrap();
    assert_eq!(store.apply_remote(&ops[1]).unwrap(), Applied::Duplicate);
    // A copy of the same device made its own op under an already used sequence number.
    let mut clash = ops[1].clone();
    clash.id = Uuid::now_v7();
    let e = store.apply_remote(&clash).unwrap_err();
    assert_eq!(e.code(), "sequence_clash");
    assert!(e.to_string().contains(" / "));
    assert_eq!(store.ops().unwrap().len(), 2, "nothing changed");
}
