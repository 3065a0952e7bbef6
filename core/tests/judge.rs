//! The server's judgement of a pushed batch, below HTTP: events on a case are folded once per
//! push, and one the fold finds invalid in itself is refused and leaves no trace while the rest
//! of the batch is stored; a record holds at most `MAX_OPS_PER_RECORD` ops; a reported case
//! is numbered in the transaction that stores its report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use gridpatrol_core::clock::{Clock, Hlc};
use gridpatrol_core::hazard::{HazardEvent, NewHazard, Severity};
use gridpatrol_core::op::{Op, OpBody};
use gridpatrol_core::server::Records;
use gridpatrol_core::sync::protocol::MAX_OPS_PER_RECORD;
use gridpatrol_core::Store;

/// The server's records of the test town, a phone of w1 holding them, and w1's report of one
/// case made on that phone (not yet pushed).
fn reported() -> (Records, common::Town, Op) {
    let town = common::town();
    let phone = Store::open(town.dir.path().join("phone.db"), Clock::manual(common::T0)).unwrap();
    for op in town.store.ops().unwrap() {
        phone.apply_remote(&op).unwrap();
    }
    let w1 = phone.actor("w1").unwrap();
    phone
        .report_hazard(
            &w1,
            NewHazard::new(
                town.place_g1,
                "extinguisher",
                Severity::General,
                "灭火器过期",
            ),
        )
        .unwrap();
    let report = phone.outbox_batch(10).unwrap().pop().unwrap();
    let store = Store::open(town.dir.path().join("fold.db"), Clock::manual(common::T0)).unwrap();
    for op in town.store.ops().unwrap() {
        store.apply_remote(&op).unwrap();
    }
    (Records::new(store), town, report)
}

fn notice(report: &Op, n: i64, deadline: gridpatrol_core::Day) -> Op {
    let OpBody::Hazard { hazard_id, .. } = &report.body else {
        panic!("a report")
    };
    Op {
        id: uuid::Uuid::now_v7(),
        seq: report.seq + n,
        hlc: Hlc(report.hlc.0 + n),
        body: OpBody::Hazard {
            hazard_id: *hazard_id,
            event: HazardEvent::Notify {
                responsible_party: "店主".into(),
                deadline,
                note: String::new(),
            },
        },
        ..report.clone()
    }
}

fn codes(answers: &[gridpatrol_core::Result<gridpatrol_core::apply::Applied>]) -> Vec<String> {
    answers
        .iter()
        .map(|a| match a {
            Ok(_) => String::new(),
            Err(e) => e.code().to_string(),
        })
        .collect()
}

#[test]
fn an_invalid_event_in_a_batch_is_refused_alone_and_leaves_no_trace() {
    let (records, town, report) = reported();
    let w1 = records.store().actor("w1").unwrap();
    let today = town.today();
    let batch = vec![
        report.clone(),
        notice(&report, 1, today.plus(-3)), // a deadline in the past: invalid in itself
        notice(&report, 2, today.plus(7)),
        notice(&report, 3, today.plus(9)), // after a notice: a conflict, kept
    ];
    let answers = records
        .accept_pushed(&w1, report.device_id, &batch)
        .unwrap();
    assert_eq!(codes(&answers), ["", "invalid_input", "", ""]);
    let ids: Vec<_> = records
        .store()
        .ops()
        .unwrap()
        .iter()
        .map(|o| o.id)
        .collect();
    assert!(!ids.contains(&batch[1].id), "the refused op is not stored");
    let OpBody::Hazard { hazard_id, .. } = report.body else {
        panic!()
    };
    let case = records.store().hazard(hazard_id).unwrap().hazard;
    assert_eq!(case.status.code(), "notified");
    assert_eq!(case.deadline, Some(today.plus(7)));
    let o1 = records.store().actor("o1").unwrap();
    assert_eq!(records.store().conflicts_in_scope(&o1).unwrap().len(), 1);
}

#[test]
fn a_record_holds_at_most_its_bound_of_ops() {
    let (records, town, report) = reported();
    let w1 = records.store().actor("w1").unwrap();
    let max = i64::from(MAX_OPS_PER_RECORD);
    let mut ops = vec![report.clone()];
    ops.extend((1..=max).map(|n| notice(&report, n, town.today().plus(7))));
    let mut answers = Vec::new();
    for chunk in ops.chunks(2000) {
        answers.extend(codes(
            &records.accept_pushed(&w1, report.device_id, chunk).unwrap(),
        ));
    }
    assert!(answers[..max as usize].iter().all(String::is_empty));
    assert_eq!(answers[max as usize], "too_many_ops");
}

#[test]
fn a_published_checklist_version_is_never_replaced_and_versions_follow_each_other() {
    let (records, _town, report) = reported();
    let o1 = records.store().actor("o1").unwrap();
    let held = records.store().template("nine_small", Some(1)).unwrap();
    let as_officer = |n: i64, version: u32| Op {
        id: uuid::Uuid::now_v7(),
        seq: n,
        hlc: Hlc(report.hlc.0 + n),
        actor_id: "o1".into(),
        actor_role: gridpatrol_core::org::Role::TownshipOfficer,
        body: OpBody::Template(gridpatrol_core::checklist::Template {
            name: "改过的检查表".into(),
            version,
            ..held.clone()
        }),
        ..report.clone()
    };
    let answers = records
        .accept_pushed(
            &o1,
            report.device_id,
            &[as_officer(1, 1), as_officer(2, 99)],
        )
        .unwrap();
    assert_eq!(codes(&answers), ["already_exists", "not_as_recorded"]);
    assert_eq!(
        records
            .store()
            .template("nine_small", Some(1))
            .unwrap()
            .name,
        held.name
    );
}

#[test]
fn a_case_is_numbered_with_its_report_or_not_stored_at_all() {
    let (records, town, report) = reported();
    let w1 = records.store().actor("w1").unwrap();
    let OpBody::Hazard { hazard_id, .. } = report.body else {
        panic!()
    };
    let batch = [report.clone(), notice(&report, 1, town.today().plus(7))];
    // A log elsewhere that fails to take the batch: neither the report nor a number stays.
    let failed = records.accept_pushed_then(&w1, report.device_id, &batch, |_, _, numbered| {
        assert_eq!(numbered.len(), 1, "one case reported, one number");
        Err(gridpatrol_core::Error::Interrupted)
    });
    assert!(failed.is_err());
    assert!(records.store().hazard(hazard_id).is_err());
    let before = records.store().ops().unwrap().len();
    let mut handed = Vec::new();
    let answers = records
        .accept_pushed_then(&w1, report.device_id, &batch, |_, _, numbered| {
            handed = numbered.to_vec();
            Ok(())
        })
        .unwrap();
    assert_eq!(codes(&answers), ["", ""]);
    let case = records.store().hazard(hazard_id).unwrap().hazard;
    let number = case.case_number.expect("numbered as it was stored");
    let [(op, grids)] = &handed[..] else {
        panic!("one number handed to the log: {handed:?}")
    };
    assert_eq!(op.actor_id, "system");
    assert!(op.hlc > batch[1].hlc, "the number sorts after the batch");
    assert_eq!(grids, &["g1".to_string()]);
    assert!(
        matches!(&op.body, OpBody::Hazard { event: HazardEvent::CaseNumber { number: n }, .. } if *n == number)
    );
    assert_eq!(records.store().ops().unwrap().len(), before + 3);
    // Pushed again, the report is a duplicate and the case keeps its one number.
    let again = records
        .accept_pushed_then(&w1, report.device_id, &batch, |_, _, numbered| {
            assert!(numbered.is_empty());
            Ok(())
        })
        .unwrap();
    assert_eq!(codes(&again), ["", ""]);
    assert_eq!(records.store().ops().unwrap().len(), before + 3);
}
