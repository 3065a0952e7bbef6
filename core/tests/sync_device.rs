//! The device side of sync. Push: pending ops leave in sequence order, every answer is taken in
//! one transaction, a rejected op stays with its reason and never blocks the ops behind it, and
//! an op the server did not answer is sent again. Pull: a page and its cursor are applied
//! together or not at all, and the server's clock corrects a phone whose clock is wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use gridpatrol_core::sync::protocol::{PushOutcome, PushResult};
use uuid::Uuid;

fn answer(id: Uuid) -> PushResult {
    PushResult {
        op_id: id,
        outcome: PushOutcome::Applied,
    }
}

fn reject(id: Uuid) -> PushResult {
    PushResult {
        op_id: id,
        outcome: PushOutcome::Refused {
            code: "out_of_scope".into(),
            zh: "不在您负责的范围内".into(),
            en: "outside your area".into(),
        },
    }
}

#[test]
fn outbox_hands_out_in_order_and_moves_over_the_answered_prefix() {
    let t = common::town();
    let total = t.store.pending_ops().unwrap();
    assert!(total > 10);
    let batch = t.store.outbox_batch(5).unwrap();
    let seqs: Vec<i64> = batch.iter().map(|o| o.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);

    // The third is refused; the rest of the batch is done and the refusal does not block it.
    let results: Vec<PushResult> = batch
        .iter()
        .enumerate()
        .map(|(i, o)| if i == 2 { reject(o.id) } else { answer(o.id) })
        .collect();
    let ack = t.store.acknowledge(&results).unwrap();
    assert_eq!((ack.done, ack.refused, ack.acked_seq), (5, 1, 5));
    assert_eq!(t.store.pending_ops().unwrap(), total - 5);
    let rejected = t.store.refused_ops().unwrap();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].op.id, batch[2].id);
    assert_eq!(rejected[0].code, "out_of_scope");

    // The server answered 6 and 7, then the connection dropped before 8; 9's answer without
    // 8's does not move the watermark past 8, so 8 and 9 go again.
    let next = t.store.outbox_batch(4).unwrap();
    assert_eq!(next[0].seq, 6);
    let ack = t
        .store
        .acknowledge(&[answer(next[0].id), answer(next[1].id), answer(next[3].id)])
        .unwrap();
    assert_eq!(ack.acked_seq, 7);
    let again = t.store.outbox_batch(2).unwrap();
    assert_eq!(again.iter().map(|o| o.seq).collect::<Vec<_>>(), [8, 9]);

    // Answers for ops already acknowledged, or unknown, change nothing.
    let before = common::dump(&t.store);
    let ack = t
        .store
        .acknowledge(&[answer(batch[0].id), answer(Uuid::now_v7())])
        .unwrap();
    assert_eq!((ack.done, ack.acked_seq), (0, 7));
    assert_eq!(before, common::dump(&t.store));

    // A new local op joins the end of the queue.
    let w1 = t.actor("w1");
    common::visit(&t.store, &w1, t.place_g1);
    let rest = t.store.outbox_batch(10_000).unwrap();
    assert_eq!(rest.len() as i64, total - 7 + 1);
    assert!(rest.windows(2).all(|w| w[0].seq + 1 == w[1].seq));
}

#[test]
fn a_pulled_page_and_its_cursor_commit_together() {
    let a = common::town();
    let (b, _dir) = common::empty_store();
    let page = a.store.ops().unwrap();
    assert_eq!(b.pull_cursor().unwrap(), None);
    let pulled = b.apply_pulled(&page, "c-1", a.store.now_ms()).unwrap();
    assert_eq!((pulled.applied, pulled.duplicates), (page.len(), 0));
    assert_eq!(b.pull_cursor().unwrap().as_deref(), Some("c-1"));
    assert_eq!(
        b.place(a.place_g1).unwrap().place,
        a.store.place(a.place_g1).unwrap().place
    );
    assert_eq!(
        b.pending_ops().unwrap(),
        0,
        "other devices' ops are not this device's to send"
    );

    // Pulled again (the response was lost after it was applied): nothing changes but the cursor.
    let again = b.apply_pulled(&page, "c-1", a.store.now_ms()).unwrap();
    assert_eq!((again.applied, again.duplicates), (0, page.len()));

    // A page with a bad op is refused whole: neither its ops nor its cursor move.
    let before = common::dump(&b);
    let w1 = a.actor("w1");
    common::visit(&a.store, &w1, a.place_g1);
    let mut fresh = a.store.ops().unwrap();
    fresh.retain(|op| !page.iter().any(|p| p.id == op.id));
    let mut clash = fresh[0].clone();
    clash.id = Uuid::now_v7();
    clash.seq = page[0].seq;
    clash.device_id = page[0].device_id;
    let e = b
        .apply_pulled(&[fresh[0].clone(), clash], "c-2", a.store.now_ms())
        .unwrap_err();
    assert_eq!(e.code(), "sequence_clash");
    assert_eq!(before, common::dump(&b));
    assert_eq!(b.pull_cursor().unwrap().as_deref(), Some("c-1"));
}

#[test]
fn a_phone_three_days_fast_stamps_true_time_after_a_sync() {
    use gridpatrol_core::clock::{Clock, MS_PER_DAY};
    let server = common::town();
    let dir = tempfile::tempdir().unwrap();
    let fast = gridpatrol_core::Store::open(
        dir.path().join("fast.db"),
        Clock::manual(common::T0 + 3 * MS_PER_DAY),
    )
    .unwrap();
    fast.apply_pulled(&server.store.ops().unwrap(), "c-1", common::T0)
        .unwrap();
    assert_eq!(
        fast.today(),
        server.today(),
        "the phone's idea of today is corrected"
    );
    let w1 = fast.actor("w1").unwrap();
    let out = common::visit(&fast, &w1, server.place_g1);
    let op = fast
        .ops()
        .unwrap()
        .into_iter()
        .find(
            |o| matches!(&o.body, gridpatrol_core::op::OpBody::Patrol(p) if p.id == out.patrol_id),
        )
        .unwrap();
    assert!(
        (op.hlc.wall_ms() - common::T0).abs() < 60_000,
        "HLC near true time: {}",
        op.hlc.wall_ms() - common::T0
    );
    assert_eq!(
        op.wall_ms,
        common::T0 + 3 * MS_PER_DAY,
        "the phone's own time is kept for display"
    );
    // The correction survives a restart.
    drop(fast);
    let reopened = gridpatrol_core::Store::open(
        dir.path().join("fast.db"),
        Clock::manual(common::T0 + 3 * MS_PER_DAY),
    )
    .unwrap();
    assert_eq!(reopened.today(), server.today());
}

mod property {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

        /// Each round of a push: how many ops to send, and for each sent op whether the
        /// server's answer gets back (a cut connection loses the tail) and whether it refuses.
        #[test]
        fn no_op_is_lost_or_skipped(rounds in prop::collection::vec((1usize..8, prop::collection::vec((any::<bool>(), prop::bool::weighted(0.2)), 8)), 1..30)) {
            let t = common::town();
            let all: Vec<Uuid> = t.store.outbox_batch(usize::MAX >> 1).unwrap().iter().map(|o| o.id).collect();
            let mut answered: BTreeSet<Uuid> = BTreeSet::new();
            let mut rejected: BTreeSet<Uuid> = BTreeSet::new();
            for (size, answers) in rounds {
                let batch = t.store.outbox_batch(size).unwrap();
                // Whatever is pending is exactly what has not been answered, oldest first.
                let pending_expected: Vec<Uuid> = all.iter().filter(|id| !answered.contains(id)).take(size).copied().collect();
                prop_assert_eq!(batch.iter().map(|o| o.id).collect::<Vec<_>>(), pending_expected);
                let mut results = Vec::new();
                for (op, (arrives, is_reject)) in batch.iter().zip(answers) {
                    if !arrives {
                        break;
                    }
                    results.push(if is_reject { reject(op.id) } else { answer(op.id) });
                    // The server may answer the same op twice (a retried request).
                    if is_reject { results.push(reject(op.id)); }
                }
                let ack = t.store.acknowledge(&results).unwrap();
                for r in &results {
                    if answered.insert(r.op_id) && matches!(r.outcome, PushOutcome::Refused { .. }) {
                        rejected.insert(r.op_id);
                    }
                }
                prop_assert_eq!(ack.done, results.iter().map(|r| r.op_id).collect::<BTreeSet<_>>().len());
            }
            let pending = t.store.pending_ops().unwrap() as usize;
            prop_assert_eq!(pending + answered.len(), all.len());
            let kept: BTreeSet<Uuid> = t.store.refused_ops().unwrap().iter().map(|r| r.op.id).collect();
            prop_assert_eq!(kept, rejected);
            let local = t.store.ops().unwrap().into_iter().filter(|o| o.device_id == t.store.device_id()).count();
            prop_assert_eq!(local, all.len(), "every op still in the log");
        }
    }
}

#[test]
fn a_conflict_is_listed_for_the_lowest_level_that_sees_both_actors() {
    use gridpatrol_core::clock::Clock;
    use gridpatrol_core::hazard::{HazardEvent, NewHazard, Severity};
    use gridpatrol_core::org::OrgLevel;
    let server = common::town();
    let w1 = server.actor("w1");
    let report = |what: &str| {
        server
            .store
            .report_hazard(
                &w1,
                NewHazard::new(server.place_g1, "wiring", Severity::General, what),
            )
            .unwrap()
    };
    let (between_workers, worker_and_leader) = (report("私拉电线"), report("插座过载"));
    let dir = tempfile::tempdir().unwrap();
    let replica = |name: &str| {
        let s =
            gridpatrol_core::Store::open(dir.path().join(name), Clock::manual(common::T0)).unwrap();
        s.apply_pulled(&server.store.ops().unwrap(), "c", common::T0)
            .unwrap();
        s
    };
    let (a, b, c) = (replica("w1.db"), replica("w2.db"), replica("l1.db"));
    let notify = |party: &str| HazardEvent::Notify {
        responsible_party: party.into(),
        deadline: server.today().plus(3),
        note: String::new(),
    };
    // Offline on three phones: both workers of g1 notify the same hazard; the worker notifies
    // another while the village leader withdraws it.
    let (w1a, w2b, l1c) = (
        a.actor("w1").unwrap(),
        b.actor("w2").unwrap(),
        c.actor("l1").unwrap(),
    );
    a.hazard_event(&w1a, between_workers, notify("店主"))
        .unwrap();
    a.hazard_event(&w1a, worker_and_leader, notify("店主"))
        .unwrap();
    b.hazard_event(&w2b, between_workers, notify("房东"))
        .unwrap();
    c.hazard_event(
        &l1c,
        worker_and_leader,
        HazardEvent::Withdraw {
            reason: "重复上报".into(),
        },
    )
    .unwrap();
    let everything: Vec<_> = [&a, &b, &c].iter().flat_map(|s| s.ops().unwrap()).collect();
    for s in [&a, &b, &c] {
        for op in &everything {
            s.apply_remote(op).unwrap();
        }
    }

    for s in [&a, &b, &c] {
        let grid = s.conflicts(&s.actor("w2").unwrap()).unwrap();
        assert_eq!(grid.len(), 1, "the workers' race is the grid's");
        assert_eq!(grid[0].hazard_id, between_workers);
        assert_eq!(grid[0].listed_for, OrgLevel::Grid);
        assert_eq!(grid[0].node_id.as_deref(), Some("g1"));

        let village = s.conflicts(&s.actor("l1").unwrap()).unwrap();
        assert_eq!(
            village.len(),
            1,
            "the worker against the leader is the village's"
        );
        assert_eq!(village[0].hazard_id, worker_and_leader);
        assert_eq!(village[0].node_id.as_deref(), Some("v1"));
        let actors = [
            village[0].event.actor_id.as_str(),
            village[0].rival.as_ref().unwrap().actor_id.as_str(),
        ];
        assert!(
            actors.contains(&"w1") && actors.contains(&"l1"),
            "{actors:?}"
        );

        assert!(s.conflicts(&s.actor("o1").unwrap()).unwrap().is_empty());
        assert_eq!(
            s.conflicts_in_scope(&s.actor("o1").unwrap()).unwrap().len(),
            2
        );
        assert!(
            s.conflicts_in_scope(&s.actor("w3").unwrap())
                .unwrap()
                .is_empty(),
            "another village's worker sees neither"
        );
    }
}
