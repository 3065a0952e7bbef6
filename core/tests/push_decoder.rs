//! Fuzzing the push decoder with proptest: any bytes, and any damage to a valid push (cut
//! short, bytes flipped, fields swapped), decode to a request or a typed error, never a panic;
//! what decodes encodes back to the same request.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use gridpatrol_core::sync::protocol::{PushRequest, PROTOCOL_VERSION};
use proptest::prelude::*;

fn valid_push() -> Vec<u8> {
    let t = common::town();
    let w1 = t.actor("w1");
    common::visit(&t.store, &w1, t.place_g1);
    let req = PushRequest {
        protocol: PROTOCOL_VERSION,
        device_id: t.store.device_id(),
        ops: t.store.outbox_batch(40).unwrap(),
        sent_at_ms: None,
        epoch: None,
    };
    serde_json::to_vec(&req).unwrap()
}

fn decodes_or_errs(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(req) = serde_json::from_slice::<PushRequest>(bytes) {
        let again: PushRequest =
            serde_json::from_slice(&serde_json::to_vec(&req).unwrap()).unwrap();
        prop_assert_eq!(again, req);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        decodes_or_errs(&bytes)?;
    }

    #[test]
    fn damaged_valid_pushes(cut in any::<prop::sample::Index>(), flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8)) {
        thread_local!(static VALID: Vec<u8> = valid_push());
        let mut bytes = VALID.with(|v| v.clone());
        for (at, b) in flips {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        bytes.truncate(cut.index(bytes.len() + 1));
        decodes_or_errs(&bytes)?;
    }
}

#[test]
fn a_valid_push_decodes() {
    let bytes = valid_push();
    let req: PushRequest = serde_json::from_slice(&bytes).unwrap();
    assert!(req.ops.len() > 10);
}
