//! The server as a hostile or broken phone, or a careless browser, would try it (issue 14):
//! each test here reproduces one way a device could harm others and checks that it no longer
//! can.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Server;
use gridpatrol_core::hazard::{NewHazard, Severity};
use gridpatrol_core::sync::protocol::{routes, LoginRequest, LoginResponse};
use gridpatrol_core::{Clock, Store};

fn device(dir: &std::path::Path, name: &str, url: &str, user: &str) -> Store {
    let store = Store::open(dir.join(name), Clock::System).unwrap();
    store.sign_in(url, user, "gridpatrol").unwrap();
    store.sync(&mut |_| {}).unwrap();
    store
}

fn login(
    http: &reqwest::blocking::Client,
    url: &str,
    user: &str,
    device_id: uuid::Uuid,
) -> LoginResponse {
    http.post(format!("{url}{}", routes::LOGIN))
        .json(&LoginRequest {
            user_id: user.into(),
            password: "gridpatrol".into(),
            device_id,
        })
        .send()
        .unwrap()
        .json()
        .unwrap()
}

#[test]
fn every_response_says_nosniff_photos_included() {
    let server = Server::start(None, &[]);
    let dir = tempfile::tempdir().unwrap();
    let worker = device(dir.path(), "w.db", &server.url, "w01");
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
