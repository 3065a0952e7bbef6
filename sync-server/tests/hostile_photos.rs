//! The server as a hostile phone would try it with photos and personal data, and what a flood
//! of refused ops does to the console (issue 14): a photo's copies come only from the phone
//! that took it and the photo is read by its own record's scope; abandoned uploads go and each
//! user's photos have a quota; a phone number reaches only its owner's line of command; the
//! refused ops a reader covers are found however many others there are, a page at a time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, SystemTime};

use common::{device, device_at, login, Browser, Server};
use gridpatrol_core::op::{Op, OpBody};
use gridpatrol_core::photo::{CaptureInput, PhotoRole, Variant};
use gridpatrol_core::sync::protocol::routes;
use gridpatrol_core::Store;
use reqwest::blocking::Client;
use uuid::Uuid;

const FONT: &str = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc";

/// A token for a new device of `user`.
fn token(server: &Server, user: &str) -> String {
    login(&Client::new(), &server.url, user, Uuid::new_v4()).token
}

/// Reports a hazard by `user` at the first place of `grid`, citing `photos`.
fn report(phone: &Store, user: &str, grid: &str, photos: &[String]) -> Uuid {
    common::report_at(phone, user, grid, "灭火器压力不足", photos)
}

/// `GET /v1/photos/<hash>?variant=<variant>`: the status and the bytes.
fn download(server: &Server, token: &str, hash: &str, variant: &str) -> (u16, Vec<u8>) {
    let res = Client::new()
        .get(format!("{}{}", server.url, routes::photo(hash)))
        .bearer_auth(token)
        .query(&[("variant", variant)])
        .send()
        .unwrap();
    (res.status().as_u16(), res.bytes().unwrap().to_vec())
}

/// Sends `bytes` whole as `variant` of photo `hash`: the status and the error code, if any.
fn upload(server: &Server, token: &str, hash: &str, variant: &str, bytes: &[u8]) -> (u16, String) {
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes));
    let res = Client::new()
        .put(format!("{}{}", server.url, routes::photo(hash)))
        .bearer_auth(token)
        .query(&[("variant", variant), ("sha256", &sha)])
        .query(&[("offset", 0), ("total", bytes.len())])
        .body(bytes.to_vec())
        .send()
        .unwrap();
    let status = res.status().as_u16();
    let body: serde_json::Value = res.json().unwrap_or_default();
    (
        status,
        body["code"].as_str().unwrap_or_default().to_string(),
    )
}

/// A camera's JPEG, 1200 × 900.
fn jpeg() -> Vec<u8> {
    let picture = image::RgbImage::from_fn(1200, 900, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, 90])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&picture)
        .unwrap();
    out
}

/// Takes `bytes` as a photo at the first place of `grid`; returns its hash.
fn capture(phone: &Store, user: &str, grid: &str, bytes: &[u8]) -> String {
    let place = common::place_in(phone, user, grid);
    phone
        .capture_photo(
            &phone.actor(user).unwrap(),
            bytes,
            CaptureInput {
                place_id: place.id,
                hazard_id: None,
                role: PhotoRole::Before,
                taken_at: phone.device_wall_ms(),
                gps: Default::default(),
            },
        )
        .unwrap()
}

common::on_both_backends!(
    a_photos_copies_come_only_from_the_phone_that_took_it_sqlite,
    a_photos_copies_come_only_from_the_phone_that_took_it_postgres,
    copies_from_the_phone_that_took_it
);

fn copies_from_the_phone_that_took_it(database: Option<String>) {
    let font = std::fs::read(FONT)
        .unwrap_or_else(|_| panic!("{FONT} is missing: apt-get install fonts-wqy-microhei"));
    let server = Server::start(database, &[]);
    let dir = tempfile::tempdir().unwrap();
    let worker = device_at(dir.path(), "w03.db", &server.url, "w03");
    let hash = capture(&worker, "w03", "g03", &jpeg());
    worker.sync(&mut |_| {}).unwrap();

    // Before the phone sends its copies, others who may read the photo send theirs: its
    // village leader, and a colleague on the same grid who fetched the original and recorded
    // a capture of it on their own phone.
    let fake = b"\xff\xd8 not the photo".to_vec();
    let leader = token(&server, "l01");
    assert_eq!(
        upload(&server, &leader, &hash, "display", &fake),
        (403, "not_photo_device".to_string())
    );
    let colleague = device_at(dir.path(), "w09.db", &server.url, "w09");
    let original = colleague.fetch_photo(&hash, Variant::Original).unwrap();
    capture(&colleague, "w09", "g03", &std::fs::read(original).unwrap());
    assert_eq!(
        colleague.sync(&mut |_| {}).unwrap().pushed,
        1,
        "its capture is kept"
    );
    let colleague_token = login(&Client::new(), &server.url, "w09", colleague.device_id()).token;
    for variant in ["display", "thumb"] {
        assert_eq!(
            upload(&server, &colleague_token, &hash, variant, &fake),
            (403, "not_photo_device".to_string()),
            "{variant}"
        );
    }
    // Even the same worker's other phone did not take it.
    let other_phone = login(&Client::new(), &server.url, "w03", Uuid::new_v4()).token;
    assert_eq!(upload(&server, &other_phone, &hash, "thumb", &fake).0, 403);

    // The phone that took it sends its copies, and they are what the township sees.
    worker.make_display_copy(&hash, &font).unwrap();
    let r = worker.sync(&mut |_| {}).unwrap();
    assert_eq!((r.photos_sent, r.photos_failed), (2, 0));
    let officer = token(&server, "o01");
    for variant in [Variant::Display, Variant::Thumb] {
        let genuine = std::fs::read(worker.photo_variant_path(&hash, variant).unwrap()).unwrap();
        let (status, held) = download(&server, &officer, &hash, variant.code());
        assert_eq!((status, held == genuine), (200, true), "{variant:?}");
    }
}

common::on_both_backends!(
    citing_a_photo_does_not_open_it_to_another_scope_sqlite,
    citing_a_photo_does_not_open_it_to_another_scope_postgres,
    read_by_its_own_record
);

fn read_by_its_own_record(database: Option<String>) {
    let server = Server::start(database, &[]);
    let worker = device(&server, "w01");
    let bytes = common::photo_bytes(60_000, 1);
    let hash = worker.add_photo(&bytes).unwrap();
    report(&worker, "w01", "g01", std::slice::from_ref(&hash));
    assert_eq!(worker.sync(&mut |_| {}).unwrap().photos_sent, 1);

    // A worker of another village, who saw the hash somewhere, cites it in a report of their
    // own grid: the report is theirs to make, the photo stays its own record's.
    let outsider = device(&server, "w04");
    report(&outsider, "w04", "g04", std::slice::from_ref(&hash));
    assert_eq!(outsider.sync(&mut |_| {}).unwrap().pushed, 1);
    let t = login(&Client::new(), &server.url, "w04", outsider.device_id()).token;
    assert_eq!(download(&server, &t, &hash, "original").0, 403);
    assert_eq!(
        download(&server, &token(&server, "l02"), &hash, "original").0,
        403
    );
    let (status, held) = download(&server, &token(&server, "l01"), &hash, "original");
    assert_eq!(
        (status, held == bytes),
        (200, true),
        "its own village reads it"
    );
}

#[test]
fn uploads_left_unfinished_for_two_days_are_removed() {
    let mut server = Server::start(None, &[]);
    let photos = server.dir.path().join("photos");
    let file = |name: String, age_hours: u64| {
        let path = photos.join(name);
        std::fs::write(&path, vec![7u8; 10_000]).unwrap();
        let at = SystemTime::now() - Duration::from_secs(age_hours * 3600);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(at)
            .unwrap();
        path
    };
    let abandoned = file(format!("{}.part", "a".repeat(64)), 49);
    let abandoned_copy = file(format!("{}.display.jpg.part", "b".repeat(64)), 72);
    let recent = file(format!("{}.part", "c".repeat(64)), 47);
    let finished = file("d".repeat(64), 24 * 400);
    server.restart(&[]);
    assert!(!abandoned.exists() && !abandoned_copy.exists(), "gone");
    assert!(recent.exists(), "still resumable");
    assert!(finished.exists(), "a finished photo stays");
}

common::on_both_backends!(
    a_user_past_the_photo_quota_is_refused_with_a_reason_sqlite,
    a_user_past_the_photo_quota_is_refused_with_a_reason_postgres,
    photo_quota
);

fn photo_quota(database: Option<String>) {
    let server = Server::start(database, &["--photo-quota-bytes", "500000"]);
    let worker = device(&server, "w01");
    let photos = [
        common::photo_bytes(300_000, 1),
        common::photo_bytes(300_000, 2),
    ];
    let hashes: Vec<String> = photos
        .iter()
        .map(|p| worker.add_photo(p).unwrap())
        .collect();
    report(&worker, "w01", "g01", &hashes);
    let r = worker.sync(&mut |_| {}).unwrap();
    assert_eq!((r.pushed, r.photos_sent, r.photos_failed), (1, 1, 1));
    let queued = worker.photo_queue().unwrap();
    assert_eq!(
        queued.len(),
        1,
        "kept on the phone, to be sent when there is room"
    );
    let why = queued[0].last_error.clone().unwrap();
    let (zh, en) = (
        why.find("存储空间已满").unwrap(),
        why.find("storage is full").unwrap(),
    );
    assert!(zh < en, "{why}");

    let t = login(&Client::new(), &server.url, "w01", worker.device_id()).token;
    let left = hashes.iter().position(|h| *h == queued[0].hash).unwrap();
    let (status, code) = upload(&server, &t, &hashes[left], "original", &photos[left]);
    assert_eq!((status, code.as_str()), (413, "photo_quota"));

    // Another user's photos are theirs to count.
    let other = device(&server, "w04");
    let hash = other.add_photo(&common::photo_bytes(300_000, 3)).unwrap();
    report(&other, "w04", "g04", &[hash]);
    assert_eq!(other.sync(&mut |_| {}).unwrap().photos_sent, 1);
}

common::on_both_backends!(
    a_phone_number_reaches_only_its_owners_line_of_command_sqlite,
    a_phone_number_reaches_only_its_owners_line_of_command_postgres,
    phone_numbers
);

fn phone_numbers(database: Option<String>) {
    let server = Server::start(database, &[]);
    let phone = |store: &Store, user: &str| store.user(user).unwrap().phone;
    let (w01, l01, w04, o01) = (
        device(&server, "w01"),
        device(&server, "l01"),
        device(&server, "w04"),
        device(&server, "o01"),
    );
    // Everyone is on every phone, by name; the numbers only up and down one's own line.
    assert!(!w04.user("w01").unwrap().name.is_empty());
    for (store, user) in [
        (&w04, "w04"),
        (&w04, "l02"),
        (&w04, "o01"),
        (&w04, "b01"),
        (&w01, "l01"),
        (&l01, "w01"),
        (&l01, "w03"),
        (&l01, "w09"),
    ] {
        assert!(phone(store, user).is_some(), "{user}");
    }
    for (store, user) in [
        (&w04, "w01"),
        (&w04, "w05"),
        (&w04, "l01"),
        (&w01, "w03"),
        (&w01, "w04"),
        (&l01, "l02"),
        (&l01, "w04"),
    ] {
        assert_eq!(phone(store, user), None, "{user}");
    }
    for user in gridpatrol_core::demo::user_ids(0) {
        assert!(phone(&o01, &user).is_some(), "the township has {user}'s");
    }

    // A number changed later travels the same way.
    let name = w01.user("w01").unwrap().name;
    server.admin_with_input(
        &[
            "user",
            "add",
            "w01",
            "--name",
            &name,
            "--role",
            "grid_worker",
            "--org",
            "g01",
            "--org",
            "g02",
            "--phone",
            "13900001111",
        ],
        "gridpatrol\n",
    );
    for store in [&w01, &l01, &w04] {
        store.sync(&mut |_| {}).unwrap();
    }
    assert_eq!(phone(&l01, "w01").as_deref(), Some("13900001111"));
    assert_eq!(phone(&w01, "w01").as_deref(), Some("13900001111"));
    assert_eq!(phone(&w04, "w01"), None);
}

/// Pushes `ops` for `device` with `token`; every answer is a refusal.
fn push_refused(server: &Server, token: &str, device: Uuid, ops: Vec<Op>) {
    let codes = common::push_codes(&server.url, token, device, ops);
    assert!(codes.iter().all(|c| !c.is_empty()), "{codes:?}");
}

/// `n` copies of `phone`'s own last op (a patrol), each a new op claiming to be by
/// `someone_else`.
fn forged_as(phone: &Store, someone_else: &str, n: usize) -> Vec<Op> {
    let honest = phone
        .ops()
        .unwrap()
        .into_iter()
        .rfind(|o| o.device_id == phone.device_id())
        .unwrap();
    (0..n)
        .map(|i| Op {
            id: Uuid::now_v7(),
            seq: honest.seq + 1 + i as i64,
            actor_id: someone_else.into(),
            body: match &honest.body {
                OpBody::Patrol(p) => OpBody::Patrol(p.clone()),
                other => panic!("{other:?}"),
            },
            ..honest.clone()
        })
        .collect()
}

/// The refused ops listed on `browser`'s conflicts pages, following "older" to the end.
fn refused_listed(browser: &Browser) -> Vec<String> {
    let mut ids = Vec::new();
    let mut path = "/console/conflicts".to_string();
    loop {
        let page = browser.page(&path);
        ids.extend(
            page.match_indices("id=\"refused-")
                .map(|(at, m)| page[at + m.len()..at + m.len() + 36].to_string()),
        );
        let Some(at) = page.find("/console/conflicts?before=") else {
            return ids;
        };
        let end = page[at..].find('#').unwrap();
        path = page[at..at + end].replace("&amp;", "&");
    }
}

common::on_both_backends!(
    a_flood_of_refusals_hides_nobody_elses_and_pages_through_sqlite,
    a_flood_of_refusals_hides_nobody_elses_and_pages_through_postgres,
    refusals_by_scope
);

fn refusals_by_scope(database: Option<String>) {
    // Thousands of refusals would be thousands of warnings.
    let server = Server::start(database, &["--log-level", "error"]);
    let http = Client::new();
    let far = device(&server, "w04");
    common::visit(&far, "w04", common::place_in(&far, "w04", "g04").id);
    far.sync(&mut |_| {}).unwrap();
    let t = login(&http, &server.url, "w04", far.device_id()).token;
    let lone = forged_as(&far, "w05", 1);
    let lone_id = lone[0].id.to_string();
    push_refused(&server, &t, far.device_id(), lone);

    // Then one phone of another village has thousands refused.
    let flood = device(&server, "w01");
    common::visit(&flood, "w01", common::place_in(&flood, "w01", "g01").id);
    flood.sync(&mut |_| {}).unwrap();
    let t = login(&http, &server.url, "w01", flood.device_id()).token;
    let ops = forged_as(&flood, "w03", 2_400);
    let (first, second) = ops.split_at(1_200);
    push_refused(&server, &t, flood.device_id(), first.to_vec());
    push_refused(&server, &t, flood.device_id(), second.to_vec());

    // The village that covers the lone one finds it.
    let own_village = refused_listed(&Browser::sign_in(&server, "l02"));
    assert_eq!(own_village, std::slice::from_ref(&lone_id));
    // The flood's village sees its own, every one, a page at a time, newest push first
    // (one push's refusals share its time and go by op id).
    let flooded = refused_listed(&Browser::sign_in(&server, "l01"));
    let newest_first: Vec<String> = second
        .iter()
        .chain(first)
        .map(|o| o.id.to_string())
        .collect();
    assert_eq!(flooded, newest_first);
    let township = refused_listed(&Browser::sign_in(&server, "o01"));
    assert_eq!(township.len(), 2_401);
    assert_eq!(township.last(), Some(&lone_id));
}

#[test]
fn nobody_who_only_reads_a_photo_can_spoil_its_original_on_the_way() {
    let server = Server::start(None, &[]);
    let dir = tempfile::tempdir().unwrap();
    let worker = device_at(dir.path(), "w03.db", &server.url, "w03");
    let bytes = jpeg();
    let hash = capture(&worker, "w03", "g03", &bytes);
    // On a metered link the phone sends the record and the small copies, not the original.
    worker
        .sync_with(
            gridpatrol_core::sync::engine::SyncOptions {
                send_originals: false,
            },
            &mut |_| {},
        )
        .unwrap();
    // Its village leader may read the photo, but may not start or add to its upload.
    let leader = token(&server, "l01");
    assert_eq!(
        upload(&server, &leader, &hash, "original", b"garbage"),
        (403, "not_photo_device".to_string())
    );
    worker.sync(&mut |_| {}).unwrap();
    let (status, stored) = download(&server, &leader, &hash, "original");
    assert_eq!(
        (status, stored),
        (200, bytes),
        "the genuine original arrives whole"
    );
}
