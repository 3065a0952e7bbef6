//! The demo township end to end: every lifecycle path runs, and the report's in-grid closure
//! rate equals a count made by hand from the hazards' event histories.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use gridpatrol_core::{demo, Store};

#[test]
fn demo_runs_every_path_and_its_figures_match_a_hand_count() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("demo.db"), demo::clock()).unwrap();
    let run = demo::run(&store).unwrap();
    for marker in [
        "【1】", "【2】", "【3】", "【4】", "【5】", "【6】", "【7】", "【8】", "【9】", "【10】",
        "【11】", "【12】", "【13】",
    ] {
        assert!(run.log.contains(marker), "{marker} missing:\n{}", run.log);
    }
    for shown in [
        "fix_on_spot",
        "hand_back",
        "joint_enforcement",
        "refer",
        "supervise",
        "withdraw",
        "冲突 conflict",
        "复查人不能是提交整改的人",
    ] {
        assert!(run.log.contains(shown), "{shown} missing:\n{}", run.log);
    }
    let r = &run.report;
    assert!(r.hazards_reported > 100, "{}", r.hazards_reported);
    assert!(r.patrols > 300);
    let (closed, escalated) = demo::hand_count(&store, run.from, run.to).unwrap();
    assert_eq!(r.general_closed, closed);
    assert_eq!(r.general_closed_in_grid, closed - escalated);
    assert!(
        escalated >= 3,
        "the demo's escalated cases count against in-grid closure"
    );
    let rate = r.in_grid_closure_rate.unwrap();
    assert!((rate - f64::from(closed - escalated) / f64::from(closed)).abs() < 1e-9);

    // Every op in the log reads back, whatever its kind.
    let ops = store.ops().unwrap();
    let kinds: std::collections::BTreeSet<&str> = ops.iter().map(|o| o.body.kind()).collect();
    for k in [
        "org_node",
        "user",
        "template",
        "place_create",
        "patrol",
        "hazard.report",
        "activity",
    ] {
        assert!(kinds.contains(k), "{k}");
    }
    // Derived state is exactly a refold of the log.
    let before = std::fs::metadata(store.path()).is_ok();
    assert!(before);
    let b1 = store.actor("b01").unwrap();
    let listed = store.hazards(&b1, None).unwrap();
    store.rebuild().unwrap();
    assert_eq!(listed, store.hazards(&b1, None).unwrap());
    // One township, 3 villages, 8 grids, 200 places, every role.
    assert_eq!(store.places(&b1).unwrap().len(), 200);
    assert_eq!(b1.grids.len(), 8);
    let roles: std::collections::BTreeSet<_> = store
        .users()
        .unwrap()
        .into_iter()
        .map(|u| u.2.code())
        .collect();
    assert_eq!(roles.len(), 4);
}
