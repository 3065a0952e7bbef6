//! Automerge's figures at the benchmark's size, without the rest of the benchmark:
//! `cargo run --release -p gridpatrol-bench-peers --example automerge_50k [N]` (N defaults to
//! 50,000; 1,000 of them are edited on both devices for W3).

use std::time::Instant;

use gridpatrol_bench_peers::run_automerge;
use serde_json::{json, Map, Value};

const EDITED: usize = 1_000;

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50_000);
    // 80 characters, like a hazard's description typed on a phone.
    let description: String = "灭火器压力不足指针在红区需要更换或充装"
        .chars()
        .cycle()
        .take(80)
        .collect();
    assert_eq!(description.chars().count(), 80);
    let places: Vec<String> = (0..200).map(|_| uuid()).collect();
    let (grid, worker) = (uuid(), uuid());
    let records: Vec<Map<String, Value>> = (0..n)
        .map(|i| {
            let Value::Object(map) = json!({
                "id": uuid(),
                "place_id": places[i % places.len()],
                "grid_id": grid,
                "state": "reported",
                "severity": "general",
                "item": "extinguisher",
                "description": description,
                "reported_at_ms": 1_767_225_600_000_i64 + i as i64 * 1_000,
                "reported_by": worker,
                "deadline": null,
                "responsible_party": null,
                "photos": [],
            }) else {
                unreachable!()
            };
            map
        })
        .collect();
    let edit = |i: usize, side: &str| {
        let (party, days) = if side == "A" {
            ("店主", 3)
        } else {
            ("负责人", 5)
        };
        vec![
            ("responsible_party".to_string(), json!(party)),
            (
                "deadline".to_string(),
                json!(20_460 + days + (i % 5) as i64),
            ),
        ]
    };
    let t = Instant::now();
    let f = run_automerge(&records, EDITED.min(n), &edit);
    let total = t.elapsed().as_secs_f64();
    let mb = |b: u64| b as f64 / 1e6;
    println!("Automerge 0.12, {n} records (whole run incl. set-up and checks: {total:.1} s)");
    println!("W1 push:      {:.2} s, {:.2} MB", f.w1_secs, mb(f.w1_bytes));
    println!("W2 bootstrap: {:.2} s, {:.2} MB", f.w2_secs, mb(f.w2_bytes));
    println!(
        "W3 {EDITED} edited on both: {:.2} s, {:.2} MB",
        f.w3_secs,
        mb(f.w3_bytes)
    );
    println!(
        "device A's saved document after W1: {:.2} MB",
        mb(f.device_bytes_after_w1)
    );
    println!("conflicts on A after W3: {}", f.conflicts_after_w3);
    println!("round trips W1/W2/W3: {:?}", f.round_trips);
}
