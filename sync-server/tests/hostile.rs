//! The server as a hostile or broken phone, or a careless browser, would try it (issue 14),
//! around accounts, sign-in, the console and the log: each test reproduces one way a device
//! or a person could harm others and checks that it no longer can. (Pushed ops: `hostile_ops`.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{device_at, login, Browser, Server};
use gridpatrol_core::hazard::{NewHazard, Severity};
use gridpatrol_core::sync::protocol::{
    routes, ErrorBody, LoginRequest, PushRequest, PROTOCOL_VERSION,
};

#[test]
fn every_response_says_nosniff_photos_included() {
    let server = Server::start(None, &[]);
    let dir = tempfile::tempdir().unwrap();
    let worker = device_at(dir.path(), "w.db", &server.url, "w01");
    // A "photo" that is really a page: a browser that sniffed it would run it.
    let page = b"<html><script>alert(1)</script></html>".repeat(20);
    let hash = worker.add_photo(&page).unwrap();
    let w = worker.actor("w01").unwrap();
    let place = common::place_in(&worker, "w01", "g01");
    let mut h = NewHazard::new(place.id, "extinguisher", Severity::General, "压力不足");
    h.photos = vec![hash.clone()];
    worker.report_hazard(&w, h).unwrap();
    worker.sync(&mut |_| {}).unwrap();

    let http = reqwest::blocking::Client::new();
    let token = login(&http, &server.url, "w01", uuid::Uuid::new_v4()).token;
    for path in [
        format!("/v1/photos/{hash}"),
        "/healthz".to_string(),
        "/v1/pull".to_string(),
        "/no/such/thing".to_string(),
    ] {
        let res = http
            .get(format!("{}{path}", server.url))
            .bearer_auth(&token)
            .send()
            .unwrap();
        assert_eq!(
            res.headers()
                .get("x-content-type-options")
                .map(|v| v.to_str().unwrap_or_default()),
            Some("nosniff"),
            "{path}: {}",
            res.status()
        );
    }
}

/// The status and body of a sign-in as `user` with `password`, sent from `from`.
fn try_login(url: &str, from: [u8; 4], user: &str, password: &str) -> (u16, ErrorBody) {
    try_login_via(url, from, None, user, password)
}

/// A sign-in from `from`, which says it forwards for `forwarded_for` (as a proxy does).
fn try_login_via(
    url: &str,
    from: [u8; 4],
    forwarded_for: Option<&str>,
    user: &str,
    password: &str,
) -> (u16, ErrorBody) {
    let http = reqwest::blocking::Client::builder()
        .local_address(std::net::IpAddr::from(from))
        .build()
        .unwrap();
    let mut req = http.post(format!("{url}{}", routes::LOGIN));
    if let Some(f) = forwarded_for {
        req = req.header("x-forwarded-for", f);
    }
    let res = req
        .json(&LoginRequest {
            user_id: user.into(),
            password: password.into(),
            device_id: uuid::Uuid::new_v4(),
        })
        .send()
        .unwrap();
    let status = res.status().as_u16();
    let wait = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok()?.parse().ok());
    let text = res.text().unwrap();
    let mut body: ErrorBody = serde_json::from_str(&text).unwrap_or(ErrorBody {
        code: String::new(),
        zh: String::new(),
        en: String::new(),
        retry_after: None,
        server_time_ms: None,
        epoch: None,
    });
    body.retry_after = wait;
    (status, body)
}

#[test]
fn many_sign_ins_at_once_get_no_more_password_checks_than_the_limit() {
    let server = Server::start(None, &[]);
    let threads: Vec<_> = (0..40)
        .map(|_| {
            let url = server.url.clone();
            std::thread::spawn(move || try_login(&url, [127, 0, 0, 1], "w04", "wrong").0)
        })
        .collect();
    let statuses: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let checked = statuses.iter().filter(|s| **s == 401).count();
    assert!(checked <= 5, "{checked} password checks: {statuses:?}");
    assert!(statuses.iter().all(|s| *s == 401 || *s == 429));
}

#[test]
fn behind_a_trusted_proxy_the_limits_are_per_real_client_and_nobody_else_is_believed() {
    let server = Server::start(None, &["--trusted-proxy", "127.0.0.3"]);
    for _ in 0..6 {
        try_login_via(
            &server.url,
            [127, 0, 0, 3],
            Some("198.51.100.7"),
            "w03",
            "wrong",
        );
    }
    assert_eq!(
        try_login_via(
            &server.url,
            [127, 0, 0, 3],
            Some("198.51.100.7"),
            "w03",
            "gridpatrol"
        )
        .0,
        429,
        "the client behind the proxy that guessed is held back"
    );
    assert_eq!(
        try_login_via(
            &server.url,
            [127, 0, 0, 3],
            Some("198.51.100.8"),
            "w03",
            "gridpatrol"
        )
        .0,
        200,
        "the worker behind the same proxy is not"
    );
    // An address that is no trusted proxy names whoever it likes in vain.
    for _ in 0..6 {
        try_login_via(
            &server.url,
            [127, 0, 0, 4],
            Some("198.51.100.9"),
            "w04",
            "wrong",
        );
    }
    assert_eq!(
        try_login_via(
            &server.url,
            [127, 0, 0, 4],
            Some("198.51.100.10"),
            "w04",
            "gridpatrol"
        )
        .0,
        429
    );
}

#[test]
fn nobody_can_lock_another_person_out_from_elsewhere_and_a_lock_out_says_how_long() {
    let server = Server::start(None, &[]);
    for _ in 0..5 {
        assert_eq!(
            try_login(&server.url, [127, 0, 0, 2], "w03", "wrong").0,
            401
        );
    }
    let (status, body) = try_login(&server.url, [127, 0, 0, 2], "w03", "wrong");
    assert_eq!(status, 429);
    let wait = body.retry_after.unwrap();
    assert!((1..=60).contains(&wait));
    assert!(body.zh.contains(&format!("{wait} 秒")), "{}", body.zh);
    assert!(body.en.contains(&format!("{wait} seconds")), "{}", body.en);
    // The worker's own phone, elsewhere, still signs in.
    assert_eq!(
        try_login(&server.url, [127, 0, 0, 1], "w03", "gridpatrol").0,
        200
    );
}

#[test]
fn an_account_command_beside_a_running_server_never_takes_its_sequence() {
    let server = Server::start(None, &[]);
    let phone = common::device(&server, "w04");
    let first = common::escalated_case(&phone, "w04", "g04");
    let second = common::escalated_case(&phone, "w04", "g04");
    let officer = Browser::sign_in(&server, "o01");
    assert_eq!(officer.hand_back(&phone, first), 303);
    // The same database, written by another process as the same server device.
    server.admin(&["user", "assign", "w05", "--org", "g05"]);
    assert_eq!(
        officer.hand_back(&phone, second),
        303,
        "the console still acts"
    );
    phone.sync(&mut |_| {}).unwrap();
    assert_eq!(
        phone.hazard(second).unwrap().hazard.status.code(),
        "notified"
    );
}

#[test]
fn a_demo_restart_sets_the_demo_passwords_only() {
    let mut server = Server::start(None, &[]);
    common::admin(
        server.dir.path(),
        &[
            "user",
            "add",
            "x01",
            "--name",
            "新网格员",
            "--role",
            "grid_worker",
            "--org",
            "g01",
        ],
        "own-secret-1\n",
    );
    server.restart(&[]);
    let login =
        |user: &str, password: &str| try_login(&server.url, [127, 0, 0, 1], user, password).0;
    assert_eq!(
        login("x01", "own-secret-1"),
        200,
        "the account keeps its password"
    );
    assert_eq!(login("x01", "gridpatrol"), 401);
    assert_eq!(
        login("o01", "gridpatrol"),
        200,
        "the demo's people have theirs"
    );
}

common::on_both_backends!(
    a_disabled_user_can_neither_sign_in_nor_sync_sqlite,
    a_disabled_user_can_neither_sign_in_nor_sync_postgres,
    disabled_user
);

fn disabled_user(database: Option<String>) {
    let server = Server::start(database, &[]);
    let phone = common::device(&server, "w05");
    let out = server.admin(&["user", "disable", "w05"]);
    assert!(out.contains("已停用") && out.contains("disabled"), "{out}");
    let err = phone.sync(&mut |_| {}).unwrap_err();
    assert!(
        matches!(&err, gridpatrol_core::Error::Remote { status: 401, .. }),
        "{err}"
    );
    assert_eq!(
        try_login(&server.url, [127, 0, 0, 1], "w05", "gridpatrol").0,
        401
    );
    // Enabled again with a new password; the records were never touched.
    server.admin_with_input(&["user", "password", "w05"], "a-new-secret\n");
    assert_eq!(
        try_login(&server.url, [127, 0, 0, 1], "w05", "a-new-secret").0,
        200
    );
}

#[test]
fn the_server_logs_each_request_and_refusal_but_no_secret_or_typed_text() {
    use std::io::Read;
    let data = tempfile::tempdir().unwrap();
    let (mut child, url) = common::start_server_with(
        data.path(),
        "127.0.0.1:0",
        &["--log-format", "json", "--log-level", "info"],
        std::process::Stdio::piped(),
    );

    // A phone records a hazard with a description; another sign-in of the same worker pushes
    // that op as if it were its own, which the server refuses (not this device's op).
    let dir = tempfile::tempdir().unwrap();
    let phone = device_at(dir.path(), "w.db", &url, "w01");
    let w = phone.actor("w01").unwrap();
    let place = common::place_in(&phone, "w01", "g01");
    let typed = "业主张三电话13800001111说明天修";
    phone
        .report_hazard(
            &w,
            NewHazard::new(place.id, "extinguisher", Severity::General, typed),
        )
        .unwrap();
    let op = phone.ops().unwrap().pop().unwrap();
    let http = reqwest::blocking::Client::new();
    let other = uuid::Uuid::new_v4();
    let token = login(&http, &url, "w01", other).token;
    let res = http
        .post(format!("{url}{}", routes::PUSH))
        .bearer_auth(&token)
        .json(&PushRequest {
            protocol: PROTOCOL_VERSION,
            device_id: other,
            ops: vec![op],
            sent_at_ms: None,
            epoch: None,
        })
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    phone.sync(&mut |_| {}).unwrap();

    let _ = child.kill();
    let _ = child.wait();
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    let request = |route: &str, user: &str| {
        lines.iter().any(|l| {
            l["message"] == "request"
                && l["route"] == route
                && l["user"] == user
                && l["status"].as_u64().is_some()
                && l["ms"].as_f64().is_some()
        })
    };
    assert!(request("/v1/login", "-"), "{log}");
    assert!(request("/v1/push", "w01"), "{log}");
    assert!(request("/v1/pull", "w01"), "{log}");
    assert!(
        lines.iter().any(|l| l["level"] == "WARN"
            && l["message"] == "op refused"
            && l["user"] == "w01"
            && l["code"] == "wrong_device"),
        "{log}"
    );
    for secret in ["gridpatrol", token.as_str(), typed, "13800001111"] {
        assert!(!log.contains(secret), "{secret} in the log");
    }
}

#[test]
fn a_sign_in_form_posted_from_another_site_is_refused() {
    let server = Server::start(None, &[]);
    let http = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let sign_in = |origin: &str| {
        http.post(format!("{}/console/login", server.url))
            .header("origin", origin)
            .form(&[("user_id", "o01"), ("password", "gridpatrol")])
            .send()
            .unwrap()
    };
    let res = sign_in("https://evil.example");
    assert_eq!(res.status(), 403);
    assert!(res.headers().get("set-cookie").is_none());
    assert!(res.text().unwrap().contains("来自其他网站"));
    let own = sign_in(&server.url);
    assert_eq!(own.status(), 303, "the console's own page signs in");
    assert!(own.headers().get("set-cookie").is_some());
}
