//! End to end with a real server process and three device databases: a grid worker, a village
//! leader and a township officer run the whole hazard loop, each mostly offline, and end with
//! identical data; the server refuses what a role or scope does not allow and answers bad
//! input with a clear JSON error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::{Child, Command, Stdio};

use gridpatrol_core::hazard::{EscalationReason, HazardEvent, Level, NewHazard, Severity};
use gridpatrol_core::sync::engine::Progress;
use gridpatrol_core::{Clock, Store};
use uuid::Uuid;

struct Server {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Stops the server and opens its op store, to check what it holds.
    fn stop_and_open(mut self) -> (Store, tempfile::TempDir) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(self._dir.path().join("ops.db"), dir.path().join("ops.db")).unwrap();
        for ext in ["ops.db-wal", "ops.db-shm"] {
            let _ = std::fs::copy(self._dir.path().join(ext), dir.path().join(ext));
        }
        (
            Store::open(dir.path().join("ops.db"), Clock::System).unwrap(),
            dir,
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let (child, url) =
        common::start_server(dir.path(), "127.0.0.1:0", &["--max-body-bytes", "200000"]);
    Server {
        child,
        url,
        _dir: dir,
    }
}

struct Device {
    store: Store,
    _dir: tempfile::TempDir,
}

fn device(server: &Server, user: &str) -> Device {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("device.db"), Clock::System).unwrap();
    store.sign_in(&server.url, user, "gridpatrol").unwrap();
    let d = Device { store, _dir: dir };
    sync(&d);
    d
}

fn sync(d: &Device) -> gridpatrol_core::sync::engine::SyncReport {
    let mut seen = 0;
    let r = d.store.sync(&mut |_: Progress| seen += 1).unwrap();
    assert!(seen > 0, "progress is reported");
    r
}

fn act(d: &Device, user: &str, hazard: Uuid, ev: HazardEvent) {
    let actor = d.store.actor(user).unwrap();
    d.store.hazard_event(&actor, hazard, ev).unwrap();
}

/// Signs in over raw HTTP, as any client could, and returns the device token.
fn login_token(http: &reqwest::blocking::Client, url: &str, user: &str, device_id: Uuid) -> String {
    let login =
        serde_json::json!({"user_id": user, "password": "gridpatrol", "device_id": device_id});
    let reply: serde_json::Value = http
        .post(format!("{url}/v1/login"))
        .json(&login)
        .send()
        .unwrap()
        .json()
        .unwrap();
    reply["token"].as_str().unwrap().to_string()
}

fn submit() -> HazardEvent {
    HazardEvent::SubmitRectification {
        note: "已整改".into(),
        photos: vec!["ab".repeat(32)],
    }
}

#[test]
fn three_devices_run_the_whole_loop_mostly_offline_and_end_identical() {
    let server = server();
    let worker = device(&server, "w01");
    let leader = device(&server, "l01");
    let officer = device(&server, "o01");

    // Scope: each device received only what its user may see.
    let w = worker.store.actor("w01").unwrap();
    assert_eq!(w.grids, ["g01", "g02"]);
    assert_eq!(worker.store.places(&w).unwrap().len(), 50);
    let all_places = officer
        .store
        .places(&officer.store.actor("o01").unwrap())
        .unwrap();
    assert_eq!(all_places.len(), 200);
    let g04_place = all_places
        .iter()
        .find(|p| p.place.grid_id == "g04")
        .unwrap()
        .place
        .id;
    assert!(
        worker.store.place(g04_place).is_err(),
        "no other grid's data on the worker's phone"
    );

    // Offline on the worker's phone: a patrol finds a hazard, the owner is notified.
    let place = common::place_in(&worker.store, "w01", "g01");
    let hazard = worker
        .store
        .report_hazard(
            &w,
            NewHazard::new(place.id, "extinguisher", Severity::General, "灭火器过期"),
        )
        .unwrap();
    let today = worker.store.today();
    act(
        &worker,
        "w01",
        hazard,
        HazardEvent::Notify {
            responsible_party: "店主".into(),
            deadline: today.plus(3),
            note: String::new(),
        },
    );
    act(
        &worker,
        "w01",
        hazard,
        HazardEvent::StartRectification {
            note: String::new(),
        },
    );
    act(&worker, "w01", hazard, submit());
    assert!(sync(&worker).pushed >= 4);

    // The leader, offline after pulling, rejects the fix on review.
    sync(&leader);
    act(
        &leader,
        "l01",
        hazard,
        HazardEvent::Review {
            passed: false,
            note: "未整改到位".into(),
            new_deadline: Some(today.plus(5)),
        },
    );
    sync(&leader);

    // The worker, offline: reworked and submitted again, then escalated to the township.
    sync(&worker);
    act(&worker, "w01", hazard, submit());
    act(
        &worker,
        "w01",
        hazard,
        HazardEvent::Escalate {
            to: Level::Township,
            reason: EscalationReason::OwnerRefuses,
            note: String::new(),
        },
    );
    sync(&worker);

    // The township hands it back down; the worker fixes it; the leader verifies and closes.
    sync(&officer);
    act(
        &officer,
        "o01",
        hazard,
        HazardEvent::HandBack {
            to: Level::Grid,
            guidance: "已约谈，请跟进".into(),
            deadline: today.plus(7),
        },
    );
    sync(&officer);
    sync(&worker);
    act(&worker, "w01", hazard, submit());
    sync(&worker);
    sync(&leader);
    act(
        &leader,
        "l01",
        hazard,
        HazardEvent::Review {
            passed: true,
            note: "合格".into(),
            new_deadline: None,
        },
    );
    sync(&leader);

    // An offline race: the worker fixes a second hazard while the township escalates it.
    let second = worker
        .store
        .report_hazard(
            &w,
            NewHazard::new(place.id, "wiring", Severity::General, "私拉电线"),
        )
        .unwrap();
    act(
        &worker,
        "w01",
        second,
        HazardEvent::Notify {
            responsible_party: "店主".into(),
            deadline: today.plus(3),
            note: String::new(),
        },
    );
    sync(&worker);
    sync(&officer);
    act(
        &officer,
        "o01",
        second,
        HazardEvent::Escalate {
            to: Level::Township,
            reason: EscalationReason::BeyondPower,
            note: String::new(),
        },
    );
    // Later than the escalation by more than the devices' clock corrections can differ
    // (each learns the server's clock to within a loopback round trip), so the submission is
    // the one that finds the hazard escalated.
    std::thread::sleep(std::time::Duration::from_millis(50));
    act(&worker, "w01", second, submit());
    sync(&officer);
    sync(&worker);

    for d in [&worker, &leader, &officer] {
        sync(d);
    }
    let states: Vec<_> = [&worker, &leader, &officer]
        .iter()
        .map(|d| d.store.hazard(hazard).unwrap())
        .collect();
    assert_eq!(states[0].hazard.status.code(), "closed");
    assert!(states[0].hazard.escalated);
    assert_eq!(states[0].hazard, states[1].hazard);
    assert_eq!(states[0].hazard, states[2].hazard);
    // Ten people's events and the server's number for the case.
    assert_eq!(states[0].events.len(), 11);
    assert!(states[0].hazard.case_number.is_some());

    let races: Vec<_> = [&worker, &leader, &officer]
        .iter()
        .map(|d| d.store.hazard(second).unwrap())
        .collect();
    assert_eq!(races[0].hazard.status.code(), "escalated");
    let conflicted = |d: &gridpatrol_core::hazard::HazardDetail| {
        d.events.iter().filter(|e| e.conflict.is_some()).count()
    };
    assert_eq!(
        conflicted(&races[0]),
        1,
        "the losing edit is kept and shown"
    );
    assert!(races
        .iter()
        .all(|r| r.hazard == races[0].hazard && conflicted(r) == 1));
    // The worker's submission lost to the township's escalation: the township sorts it out,
    // and every device routes it the same way.
    let o = officer.store.actor("o01").unwrap();
    let listed = officer.store.conflicts(&o).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].event.actor_id, "w01");
    assert_eq!(listed[0].rival.as_ref().unwrap().actor_id, "o01");
    assert_eq!(
        listed[0].listed_for,
        gridpatrol_core::org::OrgLevel::Township
    );
    assert!(worker.store.conflicts(&w).unwrap().is_empty());
    assert_eq!(worker.store.conflicts_in_scope(&w).unwrap(), listed);
    let l = leader.store.actor("l01").unwrap();
    assert!(leader.store.conflicts(&l).unwrap().is_empty());
    assert_eq!(leader.store.conflicts_in_scope(&l).unwrap(), listed);

    // The in-grid closure figures agree on every device.
    let figures: Vec<_> = [&worker, &leader, &officer]
        .iter()
        .map(|d| {
            let r = d
                .store
                .report("g01", today.plus(-1), today.plus(1))
                .unwrap();
            (
                r.hazards_reported,
                r.closed,
                r.general_closed,
                r.general_closed_in_grid,
            )
        })
        .collect();
    assert_eq!(figures[0], (2, 1, 1, 0));
    assert!(figures.iter().all(|f| *f == figures[0]));
    assert_eq!(worker.store.pending_ops().unwrap(), 0);

    // And on the server, which folds the same ops with the same function.
    let (held, _copy) = server.stop_and_open();
    assert_eq!(held.hazard(hazard).unwrap().hazard, states[0].hazard);
    let r = held.report("g01", today.plus(-1), today.plus(1)).unwrap();
    assert_eq!(
        (
            r.hazards_reported,
            r.closed,
            r.general_closed,
            r.general_closed_in_grid
        ),
        figures[0]
    );
}

#[test]
fn the_server_refuses_what_a_role_or_scope_does_not_allow() {
    use gridpatrol_core::clock::Hlc;
    use gridpatrol_core::op::{Op, OpBody};
    use gridpatrol_core::org::Role;
    use gridpatrol_core::sync::protocol::{
        PushOutcome, PushRequest, PushResponse, PROTOCOL_VERSION,
    };

    let server = server();
    let worker = device(&server, "w01");
    let w = worker.store.actor("w01").unwrap();
    let place = worker.store.places(&w).unwrap()[0].place.id;
    let hazard = worker
        .store
        .report_hazard(
            &w,
            NewHazard::new(place, "ebike", Severity::General, "楼道充电"),
        )
        .unwrap();
    sync(&worker);

    // Read scope: the township sees it, another village does not.
    let officer = device(&server, "o01");
    assert!(officer.store.hazard(hazard).is_ok());
    let other_village = device(&server, "l02");
    assert!(other_village.store.hazard(hazard).is_err());
    let g04_place = officer
        .store
        .places(&officer.store.actor("o01").unwrap())
        .unwrap()
        .into_iter()
        .find(|p| p.place.grid_id == "g04")
        .unwrap()
        .place;

    // Write rules: ops a modified app might send, straight to the API with the worker's token.
    let http = reqwest::blocking::Client::new();
    let device_id = Uuid::now_v7();
    let token = login_token(&http, &server.url, "w01", device_id);
    let op = |seq: i64, actor: &str, role: Role, body: OpBody| Op {
        id: Uuid::now_v7(),
        device_id,
        seq,
        hlc: Hlc::new(worker.store.now_ms(), 0),
        wall_ms: worker.store.now_ms(),
        actor_id: actor.into(),
        actor_role: role,
        body,
    };
    let refer = HazardEvent::Refer {
        department: "大队".into(),
        case_number: "1".into(),
        note: String::new(),
        deadline: None,
    };
    let forged = vec![
        op(
            1,
            "w01",
            Role::GridWorker,
            OpBody::Hazard {
                hazard_id: hazard,
                event: refer.clone(),
            },
        ),
        op(
            2,
            "o01",
            Role::TownshipOfficer,
            OpBody::Hazard {
                hazard_id: hazard,
                event: refer,
            },
        ),
        op(
            3,
            "w01",
            Role::GridWorker,
            OpBody::PlaceUpdate(gridpatrol_core::place::PlaceChanges {
                place_id: g04_place.id,
                name: Some("改名".into()),
                ..Default::default()
            }),
        ),
        op(
            4,
            "w01",
            Role::GridWorker,
            OpBody::Hazard {
                hazard_id: hazard,
                event: HazardEvent::Notify {
                    responsible_party: "店主".into(),
                    deadline: worker.store.today().plus(3),
                    note: String::new(),
                },
            },
        ),
    ];
    let req = PushRequest {
        protocol: PROTOCOL_VERSION,
        device_id,
        ops: forged.clone(),
        sent_at_ms: None,
        epoch: None,
    };
    let reply: PushResponse = http
        .post(format!("{}/v1/push", server.url))
        .bearer_auth(&token)
        .json(&req)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let codes: Vec<String> = reply
        .results
        .iter()
        .map(|r| match &r.outcome {
            PushOutcome::Refused { code, .. } => code.clone(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        codes,
        [
            "role_not_allowed",
            "actor_mismatch",
            "out_of_scope",
            "Applied"
        ]
    );
    // Sent again (a retry): the refused stay refused, the applied one is a duplicate.
    let again: PushResponse = http
        .post(format!("{}/v1/push", server.url))
        .bearer_auth(&token)
        .json(&req)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(again.results[3].outcome, PushOutcome::Duplicate);
    // Another device's ops cannot be pushed with this token.
    let stolen = PushRequest {
        protocol: PROTOCOL_VERSION,
        device_id: Uuid::now_v7(),
        ops: vec![],
        sent_at_ms: None,
        epoch: None,
    };
    assert_eq!(
        http.post(format!("{}/v1/push", server.url))
            .bearer_auth(&token)
            .json(&stolen)
            .send()
            .unwrap()
            .status()
            .as_u16(),
        403
    );
    // What was refused never reached anyone.
    sync(&officer);
    assert_eq!(
        officer.store.hazard(hazard).unwrap().hazard.status.code(),
        "notified"
    );
    assert_eq!(
        officer.store.place(g04_place.id).unwrap().place.name,
        g04_place.name
    );
}

#[test]
fn bad_requests_get_clear_json_errors_and_change_nothing() {
    let server = server();
    let http = reqwest::blocking::Client::new();
    let url = |p: &str| format!("{}{p}", server.url);
    let json_err = |res: reqwest::blocking::Response| -> (u16, serde_json::Value) {
        let status = res.status().as_u16();
        (status, res.json().unwrap())
    };

    let (s, e) = json_err(
        http.post(url("/v1/push"))
            .body("{}")
            .header("content-type", "application/json")
            .send()
            .unwrap(),
    );
    assert_eq!((s, e["code"].as_str()), (401, Some("unauthorized")));
    let (s, e) = json_err(
        http.get(url("/v1/pull"))
            .bearer_auth("not-a-token")
            .send()
            .unwrap(),
    );
    assert_eq!(s, 401);
    assert!(e["zh"].as_str().unwrap().contains("登录"));

    let device_id = Uuid::now_v7();
    let login =
        serde_json::json!({"user_id": "w01", "password": "gridpatrol", "device_id": device_id});
    let token = login_token(&http, &server.url, "w01", device_id);

    let (s, e) = json_err(
        http.post(url("/v1/push"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .unwrap(),
    );
    assert_eq!((s, e["code"].as_str()), (400, Some("bad_request")));
    let unknown_kind = serde_json::json!({"protocol": gridpatrol_core::sync::protocol::PROTOCOL_VERSION, "device_id": device_id, "ops": [{"kind": "teleport"}]});
    let (s, _) = json_err(
        http.post(url("/v1/push"))
            .bearer_auth(&token)
            .json(&unknown_kind)
            .send()
            .unwrap(),
    );
    assert_eq!(s, 400);
    let huge = "x".repeat(300_000);
    let (s, e) = json_err(
        http.post(url("/v1/push"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(format!("{{\"pad\":\"{huge}\"}}"))
            .send()
            .unwrap(),
    );
    assert_eq!((s, e["code"].as_str()), (413, Some("too_large")));
    // The limit holds after decompression: 300 kB of zeros in a few hundred bytes of zstd.
    let bomb = zstd::encode_all(
        format!("{{\"pad\":\"{}\"}}", "0".repeat(300_000)).as_bytes(),
        19,
    )
    .unwrap();
    assert!(bomb.len() < 1000);
    let (s, e) = json_err(
        http.post(url("/v1/push"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .header("content-encoding", "zstd")
            .body(bomb)
            .send()
            .unwrap(),
    );
    assert_eq!((s, e["code"].as_str()), (413, Some("too_large")));
    let (s, e) = json_err(
        http.post(url("/v1/push"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .header("content-encoding", "zstd")
            .body("not zstd at all")
            .send()
            .unwrap(),
    );
    assert_eq!((s, e["code"].as_str()), (400, Some("bad_request")));
    let (s, _) = json_err(http.get(url("/v1/nowhere")).send().unwrap());
    assert_eq!(s, 404);

    // Revoked tokens stop working.
    assert_eq!(
        http.post(url("/v1/logout"))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .status()
            .as_u16(),
        204
    );
    assert_eq!(
        http.get(url("/v1/pull"))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .status()
            .as_u16(),
        401
    );

    // Guessing passwords is slowed down.
    let wrong = serde_json::json!({"user_id": "w02x", "password": "nope", "device_id": device_id});
    let mut last = 0;
    let mut retry_after = None;
    for _ in 0..7 {
        let res = http.post(url("/v1/login")).json(&wrong).send().unwrap();
        last = res.status().as_u16();
        retry_after = res
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_string());
    }
    assert_eq!(last, 429);
    assert!(retry_after.is_some());

    // The server is still up and serving.
    assert!(http
        .post(url("/v1/login"))
        .json(&login)
        .send()
        .unwrap()
        .status()
        .is_success());
}

#[test]
fn accounts_are_managed_on_the_server_and_a_revoked_device_is_shut_out() {
    let server = server();
    let data = server._dir.path();
    // A weak password is refused and nothing is created.
    let weak = Command::new(env!("CARGO_BIN_EXE_gridpatrol-sync-server"))
        .args([
            "user",
            "add",
            "w10",
            "--name",
            "新网格员",
            "--role",
            "grid_worker",
        ])
        .args(["--org", "g05", "--data-dir"])
        .arg(data)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("8 to 256"));

    let added = common::admin(
        data,
        &[
            "user",
            "add",
            "w10",
            "--name",
            "新网格员",
            "--role",
            "grid_worker",
            "--org",
            "g05",
        ],
        "long enough secret\n",
    );
    assert!(added.contains("w10"));
    let listed = common::admin(data, &["user", "list"], "");
    assert!(listed
        .lines()
        .any(|l| l.starts_with("w10\t") && l.ends_with("g05")));

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("w10.db"), Clock::System).unwrap();
    assert!(store.sign_in(&server.url, "w10", "gridpatrol").is_err());
    store
        .sign_in(&server.url, "w10", "long enough secret")
        .unwrap();
    store.sync(&mut |_| {}).unwrap();
    let me = store.actor("w10").unwrap();
    assert_eq!(me.grids, ["g05"]);
    assert!(!store.places(&me).unwrap().is_empty());

    common::admin(data, &["user", "password", "w10"], "another long secret\n");
    let revoked = common::admin(data, &["user", "revoke", "w10"], "");
    assert!(revoked.contains("1"), "{revoked}");
    match store.sync(&mut |_| {}) {
        Err(gridpatrol_core::Error::Remote { status: 401, .. }) => {}
        other => panic!("a revoked token is refused: {other:?}"),
    }
    store
        .sign_in(&server.url, "w10", "another long secret")
        .unwrap();
    store.sync(&mut |_| {}).unwrap();
}

#[test]
fn one_address_trying_many_user_names_is_slowed_down() {
    let server = server();
    let http = reqwest::blocking::Client::new();
    let statuses: Vec<(u16, bool)> = (0..105)
        .map(|i| {
            let body = serde_json::json!({
                "user_id": format!("guess{i}"),
                "password": "x",
                "device_id": Uuid::new_v4(),
            });
            let res = http
                .post(format!("{}/v1/login", server.url))
                .json(&body)
                .send()
                .unwrap();
            (
                res.status().as_u16(),
                res.headers().contains_key("retry-after"),
            )
        })
        .collect();
    assert!(
        statuses[..100].iter().all(|s| s.0 == 401),
        "each name tried once"
    );
    assert!(
        statuses[100..].iter().all(|&s| s == (429, true)),
        "{:?}",
        &statuses[100..]
    );
}
