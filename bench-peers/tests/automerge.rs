//! The whole Automerge run at 200 records: it converges (run_automerge panics otherwise) and every
//! field edited on both devices shows up as a conflict on A.

use gridpatrol_bench_peers::run_automerge;
use serde_json::{json, Map, Value};

fn record(i: usize) -> Map<String, Value> {
    let Value::Object(map) = json!({
        "id": format!("00000000-0000-4000-8000-{i:012x}"),
        "place_id": format!("10000000-0000-4000-8000-{:012x}", i % 17),
        "state": "reported",
        "severity": if i.is_multiple_of(3) { "major" } else { "general" },
        "description": "灭火器压力不足，指针在红区",
        "reported_at_ms": 1_767_225_600_000_u64 + i as u64,
        "deadline": null,
        "responsible_party": null,
        "photos": [format!("photo-{i}.jpg"), {"w": 640, "h": 480.5}],
        "checked": i.is_multiple_of(2),
    }) else {
        unreachable!()
    };
    map
}

#[test]
fn automerge_at_200_records_converges_with_every_conflict_visible() {
    let records: Vec<_> = (0..200).map(record).collect();
    let edited = 50;
    let edit = |i: usize, side: &str| {
        let party = if side == "A" { "店主" } else { "负责人" };
        vec![
            ("responsible_party".to_string(), json!(party)),
            ("deadline".to_string(), json!(20_000 + i + side.len() * 7)),
            // A nested value on one side only: a change, not a conflict.
            if side == "A" {
                ("note".to_string(), json!({"by": "A", "items": [1, 2]}))
            } else {
                ("state".to_string(), json!("notified"))
            },
        ]
    };
    let f = run_automerge(&records, edited, &edit);
    // responsible_party and deadline on both sides; note only on A, state only on B.
    assert_eq!(f.conflicts_after_w3, edited * 2);
    assert!(f.w1_bytes > 0 && f.w2_bytes > 0 && f.w3_bytes > 0, "{f:?}");
    assert!(f.device_bytes_after_w1 > 0);
    assert!(f.round_trips.iter().all(|&n| n > 0), "{f:?}");
    eprintln!("{f:?}");
}
