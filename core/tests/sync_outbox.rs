//! The device side of push: pending ops leave in sequence order, every answer is taken in one
//! transaction, a rejected op stays with its reason and never blocks the ops behind it, and an
//! op the server did not answer is sent again.
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
        outcome: PushOutcome::Rejected {
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
    assert!(total > 20);
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
    assert_eq!((ack.done, ack.rejected, ack.acked_seq), (5, 1, 5));
    assert_eq!(t.store.pending_ops().unwrap(), total - 5);
    let rejected = t.store.rejected_ops().unwrap();
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
                    if answered.insert(r.op_id) && matches!(r.outcome, PushOutcome::Rejected { .. }) {
                        rejected.insert(r.op_id);
                    }
                }
                prop_assert_eq!(ack.done, results.iter().map(|r| r.op_id).collect::<BTreeSet<_>>().len());
            }
            let pending = t.store.pending_ops().unwrap() as usize;
            prop_assert_eq!(pending + answered.len(), all.len());
            let kept: BTreeSet<Uuid> = t.store.rejected_ops().unwrap().iter().map(|r| r.op.id).collect();
            prop_assert_eq!(kept, rejected);
            prop_assert_eq!(t.store.ops().unwrap().len(), all.len(), "every op still in the log");
        }
    }
}
