//! The server as a load balancer and a county's monitoring see it (issue 20): `/healthz`,
//! `/readyz` (503 once the database is gone, or the disk is below its floor) and `/metrics`,
//! scraped before and after real traffic from a phone, whose counters must move by exactly
//! what was done. The commands docs/deploy.md shows are these requests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{forged, Server};
use gridpatrol_core::op::OpBody;
use gridpatrol_core::sync::protocol::{routes, LoginRequest};
use reqwest::blocking::Client;

/// One sample of a scrape: its name, its labels, its value.
type Sample = (String, BTreeMap<String, String>, f64);

/// A scrape of `/metrics`, read as the OpenMetrics text format Prometheus reads.
struct Scrape {
    samples: Vec<Sample>,
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `k="v",k2="v2"` as a map; panics on anything else.
fn labels(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (key, after) = rest.split_once("=\"").expect("label=\"value\"");
        assert!(valid_name(key), "label name {key:?}");
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next().expect("a closing quote") {
                (_, '\\') => value.push(chars.next().expect("an escaped char").1),
                (i, '"') => break i,
                (_, c) => value.push(c),
            }
        };
        out.insert(key.to_string(), value);
        rest = after[end + 1..]
            .strip_prefix(',')
            .unwrap_or(&after[end + 1..]);
    }
    out
}

fn scrape(url: &str) -> Scrape {
    let res = Client::new().get(format!("{url}/metrics")).send().unwrap();
    assert_eq!(res.status(), 200);
    let kind = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    let text = res.text().unwrap();
    assert_eq!(text.lines().last(), Some("# EOF"), "{text}");
    let mut families = BTreeMap::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(meta) = line.strip_prefix("# ") {
            if meta == "EOF" {
                continue;
            }
            let mut parts = meta.splitn(3, ' ');
            let (what, name) = (parts.next().unwrap(), parts.next().unwrap());
            assert!(valid_name(name), "{line}");
            match what {
                "TYPE" => {
                    let kind = parts.next().unwrap();
                    assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
                    families.insert(name.to_string(), kind.to_string());
                }
                "HELP" | "UNIT" => {}
                _ => panic!("not a metadata line: {line}"),
            }
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap();
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("{line}"));
        let (name, labels) = match series.split_once('{') {
            Some((name, l)) => (name, labels(l.strip_suffix('}').expect("closing brace"))),
            None => (series, BTreeMap::new()),
        };
        assert!(valid_name(name), "{line}");
        let family = ["_total", "_bucket", "_sum", "_count", "_created"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|f| families.contains_key(*f)))
            .unwrap_or(name);
        assert!(families.contains_key(family), "no # TYPE for {line}");
        samples.push((name.to_string(), labels, value));
    }
    Scrape { samples }
}

impl Scrape {
    /// The value of `name` with exactly `labels` (0 when the series does not exist yet).
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let want: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.samples
            .iter()
            .filter(|(n, l, _)| n == name && *l == want)
            .map(|(_, _, v)| v)
            .sum()
    }

    fn requests(&self, method: &str, route: &str, status: u16) -> f64 {
        self.value(
            "gridpatrol_http_requests_total",
            &[
                ("method", method),
                ("route", route),
                ("status", &status.to_string()),
            ],
        )
    }
}

/// How far `name` with `labels` moved from `before` to `after`.
fn moved(before: &Scrape, after: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    after.value(name, labels) - before.value(name, labels)
}

common::on_both_backends!(
    metrics_move_with_the_traffic_sqlite,
    metrics_move_with_the_traffic_postgres,
    metrics_move_with_the_traffic
);

fn metrics_move_with_the_traffic(database: Option<String>) {
    let server = Server::start(database, &[]);
    let http = Client::new();
    let phone = common::device(&server, "w01");
    let own = |s: &gridpatrol_core::Store| {
        s.ops()
            .unwrap()
            .into_iter()
            .filter(|o| o.device_id == s.device_id())
            .count()
    };

    // A phone's day: a visit recorded, then synced (a push of its ops, a pull).
    let before = scrape(&server.url);
    let held = own(&phone);
    let place = common::place_in(&phone, "w01", "g01");
    common::visit(&phone, "w01", place.id);
    let recorded = own(&phone) - held;
    assert!(recorded >= 1);
    phone.sync(&mut |_| {}).unwrap();
    let synced = scrape(&server.url);
    assert_eq!(
        moved(&before, &synced, "gridpatrol_ops_stored_total", &[]),
        recorded as f64,
        "every op the visit made is stored"
    );
    let pushes = moved(
        &before,
        &synced,
        "gridpatrol_push_duration_seconds_count",
        &[],
    );
    assert!(pushes >= 1.0);
    assert_eq!(
        synced.requests("POST", routes::PUSH, 200) - before.requests("POST", routes::PUSH, 200),
        pushes,
        "each push timed once, each counted by route and status"
    );
    let pulls = moved(
        &before,
        &synced,
        "gridpatrol_pull_duration_seconds_count",
        &[],
    );
    assert!(pulls >= 1.0);
    assert_eq!(
        synced.requests("GET", routes::PULL, 200) - before.requests("GET", routes::PULL, 200),
        pulls
    );
    // The same ops again (a phone that never heard the answer): duplicates, nothing stored.
    let honest = phone
        .ops()
        .unwrap()
        .into_iter()
        .rev()
        .find(|o| o.device_id == phone.device_id() && matches!(o.body, OpBody::Patrol(_)))
        .unwrap();
    let token = common::login(&http, &server.url, "w01", phone.device_id()).token;
    common::push_codes(&server.url, &token, phone.device_id(), vec![honest.clone()]);
    // A visit credited to a colleague, as a modified app would push it: refused.
    let OpBody::Patrol(record) = &honest.body else {
        unreachable!()
    };
    let colleagues = OpBody::Patrol(gridpatrol_core::patrol::PatrolRecord {
        id: uuid::Uuid::now_v7(),
        worker_id: "w05".into(),
        ..record.clone()
    });
    let codes = common::push_codes(
        &server.url,
        &token,
        phone.device_id(),
        vec![forged(&honest, 100, colleagues)],
    );
    let reason = codes[0].as_str();
    assert!(!reason.is_empty(), "the forged visit is refused");
    let pushed = scrape(&server.url);
    assert_eq!(
        moved(&synced, &pushed, "gridpatrol_ops_duplicate_total", &[]),
        1.0
    );
    assert_eq!(
        moved(&synced, &pushed, "gridpatrol_ops_stored_total", &[]),
        0.0
    );
    assert_eq!(
        moved(
            &synced,
            &pushed,
            "gridpatrol_ops_refused_total",
            &[("reason", reason)]
        ),
        1.0,
        "refused, by its code"
    );
    assert_eq!(
        pushed.requests("POST", routes::LOGIN, 200) - synced.requests("POST", routes::LOGIN, 200),
        1.0
    );

    // Someone guessing a password: five wrong ones, then held back.
    let guess = |n: usize| {
        http.post(format!("{}{}", server.url, routes::LOGIN))
            .json(&LoginRequest {
                user_id: "w02".into(),
                password: format!("guess-{n}"),
                device_id: uuid::Uuid::new_v4(),
            })
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    let answers: Vec<u16> = (0..6).map(guess).collect();
    assert_eq!(answers, [401, 401, 401, 401, 401, 429]);
    // A photo's path and an unknown one: each under its route's pattern, never the path.
    let hash = "ab".repeat(32);
    let photo = http
        .get(format!("{}{}", server.url, routes::photo(&hash)))
        .send()
        .unwrap();
    assert_eq!(photo.status(), 401);
    let unknown = http
        .get(format!("{}/no/such/{hash}", server.url))
        .send()
        .unwrap();
    assert_eq!(unknown.status(), 404);
    // An upload a phone began and has not finished (as the photo store keeps it).
    std::fs::create_dir_all(server.dir.path().join("photos")).unwrap();
    std::fs::write(
        server
            .dir
            .path()
            .join("photos")
            .join(format!("{hash}.part")),
        vec![7u8; 1000],
    )
    .unwrap();

    let after = scrape(&server.url);
    assert_eq!(
        moved(
            &pushed,
            &after,
            "gridpatrol_signin_lockouts_total",
            &[("route", routes::LOGIN)]
        ),
        1.0
    );
    assert_eq!(
        after.requests("POST", routes::LOGIN, 401) - pushed.requests("POST", routes::LOGIN, 401),
        5.0
    );
    assert_eq!(
        after.requests("POST", routes::LOGIN, 429) - pushed.requests("POST", routes::LOGIN, 429),
        1.0
    );
    assert_eq!(after.requests("GET", "/v1/photos/{hash}", 401), 1.0);
    assert_eq!(after.requests("GET", "unmatched", 404), 1.0);
    assert!(
        after
            .samples
            .iter()
            .all(|(_, l, _)| l.values().all(|v| !v.contains(&hash))),
        "no label holds a path's hash"
    );
    assert_eq!(after.value("gridpatrol_photo_pending_bytes", &[]), 1000.0);
    // The scrapes themselves are requests too, each counted once answered.
    assert_eq!(after.requests("GET", "/metrics", 200), 3.0);
}

fn get(url: &str, path: &str) -> (u16, serde_json::Value) {
    let res = Client::new().get(format!("{url}{path}")).send().unwrap();
    let status = res.status().as_u16();
    let text = res.text().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(text.into()))
}

/// The checks of a `/readyz` answer that failed, by name.
fn failed(body: &serde_json::Value) -> Vec<String> {
    body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["check"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn ready_on_sqlite_until_the_disk_is_below_its_floor() {
    let mut server = Server::start(None, &[]);
    let (status, body) = get(&server.url, "/readyz");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ready"], true);
    let checks: Vec<&str> = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert_eq!(checks, ["database", "disk", "photos"]);
    // No disk has an exbibyte free.
    server.restart(&["--min-free-disk-mb", "1099511627776"]);
    let (status, body) = get(&server.url, "/readyz");
    assert_eq!(status, 503, "{body}");
    assert_eq!(failed(&body), ["disk"]);
    let disk = &body["checks"][1];
    assert!(
        disk["zh"].as_str().unwrap().contains("剩余空间不足"),
        "{disk}"
    );
    assert!(
        disk["en"].as_str().unwrap().contains("free space"),
        "{disk}"
    );
    assert_eq!(get(&server.url, "/healthz").0, 200);
}

#[test]
fn not_ready_once_the_postgres_database_is_gone() {
    let Some(database) = common::pg_database() else {
        return;
    };
    let name = database.rsplit_once('/').unwrap().1.to_string();
    let server = Server::start(Some(database), &[]);
    let (status, body) = get(&server.url, "/readyz");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ready"], true);

    let admin = std::env::var("GRIDPATROL_TEST_PG").unwrap();
    let mut superuser = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
    superuser
        .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .unwrap();
    let asked = Instant::now();
    let (status, body) = get(&server.url, "/readyz");
    assert_eq!(status, 503, "{body}");
    assert!(
        asked.elapsed() < Duration::from_secs(8),
        "told in seconds, not after the pool's wait: {:?}",
        asked.elapsed()
    );
    assert_eq!(failed(&body), ["database"]);
    let database = &body["checks"][0];
    assert_eq!(database["zh"], "数据库无法访问");
    assert_eq!(database["en"], "the database cannot be reached");
    // The process itself is still up: a balancer keeps it, out of rotation.
    assert_eq!(get(&server.url, "/healthz").0, 200);
}
