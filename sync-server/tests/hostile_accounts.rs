//! Accounts as a hostile phone or a careless office would try them (issue 14, trust): a device
//! id belongs to the first user who signs in with it, and the server's own devices to nobody
//! from outside; a console sign-in is no phone's; a phone token lapses unused and each sync
//! renews it; and on PostgreSQL a sign-in lock-out made through one instance holds at the
//! others. Each test runs the real server process (and PostgreSQL, with a cluster).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{Browser, Server};
use gridpatrol_core::sync::protocol::{routes, ErrorBody, LoginRequest};
use reqwest::blocking::Client;
use uuid::Uuid;

/// The status and body of a phone's sign-in as `user` on `device`, sent from `from`.
fn sign_in(url: &str, from: [u8; 4], user: &str, password: &str, device: Uuid) -> (u16, String) {
    let http = Client::builder()
        .local_address(std::net::IpAddr::from(from))
        .build()
        .unwrap();
    let res = http
        .post(format!("{url}{}", routes::LOGIN))
        .json(&LoginRequest {
            user_id: user.into(),
            password: password.into(),
            device_id: device,
        })
        .send()
        .unwrap();
    (res.status().as_u16(), res.text().unwrap())
}

fn error(body: &str) -> ErrorBody {
    serde_json::from_str(body).unwrap_or_else(|_| panic!("not an error body: {body}"))
}

fn token(body: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    v["token"].as_str().unwrap().to_string()
}

/// The status and body of one pull with `token`.
fn pull(url: &str, token: &str, cursor: &str) -> (u16, serde_json::Value) {
    let res = Client::new()
        .get(format!("{url}{}", routes::PULL))
        .query(&[("cursor", cursor)])
        .bearer_auth(token)
        .send()
        .unwrap();
    (res.status().as_u16(), res.json().unwrap())
}

/// The devices of every op `user` pulls, signed in on a new device of their own.
fn devices_pulled(url: &str, user: &str) -> BTreeSet<Uuid> {
    let (status, body) = sign_in(url, [127, 0, 0, 1], user, "gridpatrol", Uuid::new_v4());
    assert_eq!(status, 200, "{body}");
    let token = token(&body);
    let (mut devices, mut cursor) = (BTreeSet::new(), String::new());
    loop {
        let (status, page) = pull(url, &token, &cursor);
        assert_eq!(status, 200, "{page}");
        for op in page["ops"].as_array().unwrap() {
            devices.insert(op["device_id"].as_str().unwrap().parse().unwrap());
        }
        cursor = page["cursor"].as_str().unwrap().to_string();
        if !page["more"].as_bool().unwrap() {
            return devices;
        }
    }
}

fn assert_device_taken(status: u16, body: &str) {
    assert_eq!(status, 403, "{body}");
    let e = error(body);
    assert_eq!(e.code, "device_taken");
    assert!(e.zh.contains("其他账号"), "zh first: {}", e.zh);
    assert!(e.en.contains("another account"), "{}", e.en);
}

common::on_both_backends!(
    a_device_id_belongs_to_its_first_user_and_the_servers_to_nobody_sqlite,
    a_device_id_belongs_to_its_first_user_and_the_servers_to_nobody_postgres,
    devices_are_tied_to_accounts
);

fn devices_are_tied_to_accounts(database: Option<String>) {
    let server = Server::start(database, &[]);
    let url = &server.url;
    // Every op of a fresh demo township is the server's: the built-in checklist library's
    // (the nil device) and the seed's, made by the server's own device. None may be used
    // from outside, whoever asks.
    let servers = devices_pulled(url, "w01");
    assert!(servers.contains(&Uuid::nil()), "{servers:?}");
    assert!(servers.len() >= 2, "the fold's device too: {servers:?}");
    for device in &servers {
        let (status, body) = sign_in(url, [127, 0, 0, 1], "o01", "gridpatrol", *device);
        assert_device_taken(status, &body);
    }

    // A worker's device is theirs from the first sign-in on.
    let phone = Uuid::new_v4();
    assert_eq!(
        sign_in(url, [127, 0, 0, 1], "w01", "gridpatrol", phone).0,
        200
    );
    let (status, body) = sign_in(url, [127, 0, 0, 1], "w03", "gridpatrol", phone);
    assert_device_taken(status, &body);
    let (status, body) = sign_in(url, [127, 0, 0, 1], "w03", "wrong", phone);
    assert_eq!(
        (status, error(&body).code.as_str()),
        (401, "bad_credentials"),
        "without the password, nothing is told of the device"
    );
    assert_eq!(
        sign_in(url, [127, 0, 0, 1], "w01", "gridpatrol", phone).0,
        200,
        "its own user signs in again"
    );
}

/// A console sign-in's token, as the browser keeps it in its cookie.
fn console_token(url: &str, user: &str) -> String {
    let res = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{url}/console/login"))
        .form(&[("user_id", user), ("password", "gridpatrol")])
        .send()
        .unwrap();
    assert_eq!(res.status(), 303);
    let cookie = res.headers()["set-cookie"].to_str().unwrap();
    let (_, token) = cookie.split(';').next().unwrap().split_once('=').unwrap();
    token.to_string()
}

common::on_both_backends!(
    a_console_sign_in_is_refused_by_the_phone_api_and_the_other_way_round_sqlite,
    a_console_sign_in_is_refused_by_the_phone_api_and_the_other_way_round_postgres,
    token_kinds
);

fn token_kinds(database: Option<String>) {
    let server = Server::start(database, &[]);
    let url = &server.url;
    let console = console_token(url, "o01");
    let (status, body) = pull(url, &console, "");
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], "unauthorized");
    let res = Client::new()
        .post(format!("{url}{}", routes::LOGOUT))
        .bearer_auth(&console)
        .send()
        .unwrap();
    assert_eq!(res.status(), 401, "not even to sign it out");

    let browser = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = |token: &str| {
        browser
            .get(format!("{url}/console/"))
            .header("cookie", format!("gp_console={token}"))
            .send()
            .unwrap()
    };
    assert_eq!(page(&console).status(), 200, "the console takes its own");
    let (_, body) = sign_in(url, [127, 0, 0, 1], "o01", "gridpatrol", Uuid::new_v4());
    let phone = token(&body);
    let res = page(&phone);
    assert_eq!(res.status(), 303, "a phone's token is no console sign-in");
    assert!(res.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/console/login"));
    assert_eq!(pull(url, &phone, "").0, 200);
}

common::on_both_backends!(
    an_unused_phone_token_expires_and_each_sync_renews_it_sqlite,
    an_unused_phone_token_expires_and_each_sync_renews_it_postgres,
    phone_token_lifetime
);

fn phone_token_lifetime(database: Option<String>) {
    // 8.64 seconds, renewed when a quarter of it has gone.
    let server = Server::start(database, &["--phone-token-days", "0.0001"]);
    let dir = tempfile::tempdir().unwrap();
    let phone = common::device_at(dir.path(), "w.db", &server.url, "w01");
    // Syncs 5 s apart keep the sign-in alive past its lifetime counted from the sign-in.
    for _ in 0..2 {
        std::thread::sleep(Duration::from_secs(5));
        phone.sync(&mut |_| {}).unwrap();
    }
    // What the phone records while its sign-in lapses is kept until it signs in again.
    common::visit(&phone, "w01", common::place_in(&phone, "w01", "g01").id);
    std::thread::sleep(Duration::from_secs(10));
    let err = phone.sync(&mut |_| {}).unwrap_err();
    match &err {
        gridpatrol_core::Error::Remote {
            status, code, zh, ..
        } => {
            assert_eq!((*status, code.as_str()), (401, "token_expired"), "{err}");
            assert!(zh.contains("重新登录"), "{zh}");
        }
        _ => panic!("{err}"),
    }
    assert!(phone.pending_ops().unwrap() > 0);
    phone.sign_in(&server.url, "w01", "gridpatrol").unwrap();
    phone.sync(&mut |_| {}).unwrap();
    assert_eq!(phone.pending_ops().unwrap(), 0, "nothing was lost");
}

/// Two instances over one PostgreSQL database share the sign-in limits, and each keeps its
/// own device from everyone.
#[test]
fn a_lock_out_at_one_instance_holds_at_another_and_each_instance_keeps_its_device() {
    let Some(db) = common::pg_database() else {
        return;
    };
    let a = Server::start(Some(db.clone()), &[]);
    let b = Server::start(Some(db), &[]);
    for _ in 0..5 {
        let (status, _) = sign_in(&a.url, [127, 0, 0, 2], "w03", "wrong", Uuid::new_v4());
        assert_eq!(status, 401);
    }
    let (status, body) = sign_in(&b.url, [127, 0, 0, 2], "w03", "gridpatrol", Uuid::new_v4());
    assert_eq!(status, 429, "{body}");
    let e = error(&body);
    assert!(matches!(e.retry_after, Some(1..=60)), "{e:?}");
    assert!(e.zh.contains("秒") && e.en.contains("seconds"), "{e:?}");
    assert_eq!(
        sign_in(&b.url, [127, 0, 0, 1], "w03", "gridpatrol", Uuid::new_v4()).0,
        200,
        "from elsewhere the worker still signs in"
    );

    // The officer acts through instance B, whose own device records it.
    let phone = common::device(&a, "w04");
    let case = common::escalated_case(&phone, "w04", "g04");
    let officer = Browser::sign_in(&b, "o01");
    assert_eq!(officer.hand_back(&phone, case), 303);
    let seen = devices_pulled(&a.url, "w04");
    assert!(
        seen.len() >= 4,
        "the library, the seeding instance, instance B, the phone: {seen:?}"
    );
    for device in seen {
        let (status, body) = sign_in(&a.url, [127, 0, 0, 1], "w01", "gridpatrol", device);
        assert_device_taken(status, &body);
    }
}
