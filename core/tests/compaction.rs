//! Server-side compaction and the compacted feed: superseded whole-record ops go, state does
//! not change, and positions are never reused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use gridpatrol_core::op::OpBody;
use gridpatrol_core::org::{Actor, Role, User};
use gridpatrol_core::server::{FeedQuery, Records};

fn user_ops(store: &gridpatrol_core::Store, id: &str) -> Vec<gridpatrol_core::op::Op> {
    store
        .ops()
        .unwrap()
        .into_iter()
        .filter(|o| matches!(&o.body, OpBody::User(u) if u.id == id))
        .collect()
}

#[test]
fn compaction_drops_superseded_records_changes_no_state_and_reuses_no_position() {
    let town = common::town();
    let records = Records::new(town.store);
    let store = records.store();
    let sys = Actor::provisioner();
    let w1 = |grids: &[&str]| User {
        id: "w1".into(),
        name: "网格员一".into(),
        phone: None,
        role: Role::GridWorker,
        org_ids: grids.iter().map(|g| g.to_string()).collect(),
    };
    store.put_user(&sys, w1(&["g2"])).unwrap();
    store.put_user(&sys, w1(&["g1"])).unwrap();
    assert_eq!(user_ops(store, "w1").len(), 3);

    // The compacted feed already leaves the superseded versions out.
    let all = FeedQuery {
        limit: 100_000,
        ..FeedQuery::default()
    };
    let full = records.feed(&all).unwrap().items.len();
    let compact = records
        .feed(&FeedQuery {
            compact: true,
            ..all.clone()
        })
        .unwrap()
        .items;
    assert_eq!(compact.len(), full - 2);

    // A superseded op that arrives last (an old version from a device back after months)
    // holds the newest position: it must survive, or the next op would reuse its position.
    let mut late = user_ops(store, "w2")[0].clone();
    late.id = uuid::Uuid::now_v7();
    late.seq = 999;
    late.hlc = gridpatrol_core::clock::Hlc::new(1, 0);
    store.apply_remote(&late).unwrap();
    let newest = records.last_position().unwrap();

    let state = common::dump_state(store);
    let (n, highest) = records.compact_superseded(store.now_ms() + 1).unwrap();
    assert_eq!(n, 2, "the two superseded versions of w1");
    assert!(highest.unwrap() < newest);
    assert_eq!(common::dump_state(store), state, "no state changed");
    assert_eq!(user_ops(store, "w1").len(), 1);
    assert_eq!(store.actor("w1").unwrap().grids, ["g1"]);
    assert_eq!(records.last_position().unwrap(), newest);

    store.put_user(&sys, w1(&["g1", "g2"])).unwrap();
    assert!(
        records.last_position().unwrap() > newest,
        "positions only grow"
    );
    store.rebuild().unwrap();
    assert_eq!(store.actor("w1").unwrap().grids, ["g1", "g2"]);
}
