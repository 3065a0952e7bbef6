//! What every storage backend must do, driven through the `Backend` trait alone: sign-in and
//! its rate limit, devices bound to their first user, tokens of phones and consoles and their
//! revocation, push answered op by op (applied, duplicate, rejected without blocking what
//! follows), pull by scope with an advancing cursor, paged snapshots that hand over to pull,
//! the resync answer for a cursor of another scope, and the refused ops kept for the console.
//! `contract` takes a way to make a fresh demo-seeded backend; the SQLite backend and the
//! PostgreSQL backend (on the cluster `tests/run-all.sh` starts) both run it here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use gridpatrol_core::op::Op;
use gridpatrol_core::sync::protocol::PushOutcome;
use gridpatrol_core::{Clock, Store};
use gridpatrol_sync_server::backend::{seed_demo, Backend, RefusalQuery, Session};
use gridpatrol_sync_server::pg::PgBackend;
use gridpatrol_sync_server::sqlite::SqliteBackend;
use gridpatrol_sync_server::DEMO_PASSWORD;
use uuid::Uuid;

/// A backend and whatever keeps it alive (its directory, its database).
type Fresh = (Box<dyn Backend>, Box<dyn std::any::Any>);

fn session(b: &dyn Backend, user: &str, device: Uuid) -> Session {
    let token = b
        .login(
            user,
            DEMO_PASSWORD,
            device,
            std::net::Ipv4Addr::LOCALHOST.into(),
        )
        .unwrap();
    b.authenticate(&token).unwrap()
}

/// A device store filled from the backend's snapshot for `s`, page by page.
fn device_from_snapshot(b: &dyn Backend, s: &Session, dir: &std::path::Path) -> (Store, String) {
    let store = Store::open(dir.join(format!("{}.db", s.device_id)), Clock::System).unwrap();
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let page = b.snapshot(s, Some(&cursor), 50).unwrap();
        pages += 1;
        store
            .apply_snapshot_page(
                &page.ops,
                &page.cursor,
                page.pull_cursor.as_deref(),
                page.server_time_ms,
            )
            .unwrap();
        cursor = page.cursor;
        if !page.more {
            assert!(pages > 1, "the demo township takes several pages of 50");
            return (store, page.pull_cursor.unwrap());
        }
        assert!(
            page.pull_cursor.is_none(),
            "pull starts only after the last page"
        );
    }
}

/// A patrol recorded on `store` by `user`, as the op that `device` pushes.
fn patrol_op(store: &Store, user: &str, device: Uuid) -> Op {
    common::visit(store, user, common::place_in(store, user, "g01").id);
    let mut op = store.outbox_batch(1000).unwrap().pop().unwrap();
    // The store numbered it as itself; the session's device is the one pushing.
    op.device_id = device;
    op
}

fn code(outcome: &PushOutcome) -> &str {
    match outcome {
        PushOutcome::Applied => "applied",
        PushOutcome::Duplicate => "duplicate",
        PushOutcome::Refused { code, .. } => code,
    }
}

fn contract(fresh: &dyn Fn() -> Fresh) {
    let dir = tempfile::tempdir().unwrap();

    // Sign-in, tokens, revocation, rate limit.
    {
        let (b, _keep) = fresh();
        let b = b.as_ref();
        let device = Uuid::new_v4();
        let token = b
            .login(
                "w01",
                DEMO_PASSWORD,
                device,
                std::net::Ipv4Addr::LOCALHOST.into(),
            )
            .unwrap();
        let s = b.authenticate(&token).unwrap();
        assert_eq!(
            s.user.grids,
            ["g01", "g02"],
            "scope from the server's records"
        );
        assert_eq!(s.device_id, device);
        assert_eq!(
            b.login("w01", "wrong", device, std::net::Ipv4Addr::LOCALHOST.into())
                .unwrap_err()
                .code,
            "bad_credentials"
        );
        assert_eq!(
            b.login(
                "nobody",
                DEMO_PASSWORD,
                device,
                std::net::Ipv4Addr::LOCALHOST.into()
            )
            .unwrap_err()
            .status,
            401
        );
        assert_eq!(b.authenticate("junk").unwrap_err().status, 401);
        b.revoke(&token).unwrap();
        assert_eq!(b.authenticate(&token).unwrap_err().code, "unauthorized");
        // A device is its first user's; a console sign-in is no phone's, nor the other way.
        let here = std::net::Ipv4Addr::LOCALHOST.into();
        assert_eq!(
            b.login("w03", DEMO_PASSWORD, device, here)
                .unwrap_err()
                .code,
            "device_taken"
        );
        let console = b.console_login("o01", DEMO_PASSWORD, here).unwrap();
        assert_eq!(b.console_session(&console).unwrap().user.user_id, "o01");
        assert_eq!(b.authenticate(&console).unwrap_err().status, 401);
        let phone = b.login("w01", DEMO_PASSWORD, device, here).unwrap();
        assert_eq!(b.console_session(&phone).unwrap_err().status, 401);
        for _ in 0..5 {
            let _ = b.login("w02", "wrong", device, std::net::Ipv4Addr::LOCALHOST.into());
        }
        let limited = b
            .login(
                "w02",
                DEMO_PASSWORD,
                device,
                std::net::Ipv4Addr::LOCALHOST.into(),
            )
            .unwrap_err();
        assert_eq!(limited.status, 429);
        assert!(limited.retry_after().is_some());
    }

    let (b, _keep) = fresh();
    let b = b.as_ref();
    let worker = session(b, "w01", Uuid::new_v4());
    let leader = session(b, "l01", Uuid::new_v4());
    let far = session(b, "w04", Uuid::new_v4());

    // Snapshots page and hand over to pull; each device holds its scope.
    let (w_store, w_cursor) = device_from_snapshot(b, &worker, dir.path());
    let (_, l_cursor) = device_from_snapshot(b, &leader, dir.path());
    let (_, far_cursor) = device_from_snapshot(b, &far, dir.path());
    let w = w_store.actor("w01").unwrap();
    assert_eq!(w_store.places(&w).unwrap().len(), 50);

    // Push: applied, duplicate by id, duplicate by device sequence under another id is a
    // clash, forged ops rejected without blocking the ones behind them.
    let good = patrol_op(&w_store, "w01", worker.device_id);
    let mut forged = patrol_op(&w_store, "w01", worker.device_id);
    forged.actor_id = "w04".into();
    let after_forged = patrol_op(&w_store, "w01", worker.device_id);
    let mut clash = good.clone();
    clash.id = Uuid::now_v7();
    let answers = b
        .push(
            &worker,
            vec![
                good.clone(),
                forged,
                after_forged.clone(),
                good.clone(),
                clash,
            ],
        )
        .unwrap();
    let codes: Vec<&str> = answers.iter().map(|a| code(&a.outcome)).collect();
    assert_eq!(
        codes,
        [
            "applied",
            "actor_mismatch",
            "applied",
            "duplicate",
            "sequence_clash"
        ]
    );
    let mut other_device = good.clone();
    other_device.id = Uuid::now_v7();
    other_device.device_id = Uuid::new_v4();
    let answers = b.push(&worker, vec![other_device]).unwrap();
    assert_eq!(code(&answers[0].outcome), "wrong_device");

    // Every refused op is kept for the console: who, what, why, and the grids it touched.
    let refused = b.refusals(&RefusalQuery::latest(100)).unwrap();
    let mut codes: Vec<&str> = refused.iter().map(|r| r.code.as_str()).collect();
    codes.sort();
    assert_eq!(codes, ["actor_mismatch", "sequence_clash", "wrong_device"]);
    let forged_one = refused.iter().find(|r| r.code == "actor_mismatch").unwrap();
    assert_eq!(
        (forged_one.user_id.as_str(), forged_one.kind.as_str()),
        ("w01", "patrol")
    );
    assert_eq!(forged_one.grids, ["g01"]);
    assert!(!forged_one.zh.is_ascii() && !forged_one.en.is_empty());
    assert_eq!(
        b.refusals(&RefusalQuery::latest(1)).unwrap().len(),
        1,
        "at most the limit"
    );

    // Pull: the village sees the worker's patrols, another village does not, and the
    // worker's own device is not sent its own ops.
    let page = b.pull(&leader, Some(&l_cursor), 1000).unwrap();
    let ids: Vec<Uuid> = page.ops.iter().map(|o| o.id).collect();
    assert_eq!(ids, [good.id, after_forged.id]);
    let again = b.pull(&leader, Some(&page.cursor), 1000).unwrap();
    assert!(again.ops.is_empty() && !again.more, "the cursor moved on");
    assert!(b
        .pull(&far, Some(&far_cursor), 1000)
        .unwrap()
        .ops
        .is_empty());
    assert!(b
        .pull(&worker, Some(&w_cursor), 1000)
        .unwrap()
        .ops
        .is_empty());

    // Small pages still cover everything.
    let mut cursor = l_cursor.clone();
    let mut seen = Vec::new();
    loop {
        let p = b.pull(&leader, Some(&cursor), 1).unwrap();
        seen.extend(p.ops.iter().map(|o| o.id));
        cursor = p.cursor;
        if !p.more {
            break;
        }
    }
    assert_eq!(seen, [good.id, after_forged.id]);

    // A cursor made for another scope: start again from a snapshot.
    let wrong = b.pull(&far, Some(&l_cursor), 1000).unwrap_err();
    assert_eq!(
        (wrong.status, wrong.code.as_str()),
        (410, "resync_required")
    );
    let junk = b.pull(&far, Some("not a cursor"), 1000).unwrap_err();
    assert_eq!(junk.code, "resync_required");
}

#[test]
fn the_sqlite_backend_keeps_the_contract() {
    contract(&|| {
        let dir = tempfile::tempdir().unwrap();
        let b = SqliteBackend::open(dir.path(), 1 << 20).unwrap();
        seed_demo(&b, DEMO_PASSWORD, 0, false).unwrap();
        (Box::new(b), Box::new(dir))
    });
}

#[test]
fn the_postgres_backend_keeps_the_contract() {
    let Some(_) = common::pg_database() else {
        return;
    };
    contract(&|| {
        let url = common::pg_database().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let b = PgBackend::open(&url, 4, dir.path().join("photos"), 1 << 20).unwrap();
        seed_demo(&b, DEMO_PASSWORD, 0, false).unwrap();
        (Box::new(b), Box::new(dir))
    });
}
