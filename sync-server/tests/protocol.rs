//! A phone on another protocol version than the server's, over real HTTP on both backends.
//! Protocol 2 brought ops a version-1 phone cannot fold (the registers of issue 18), so the
//! server refuses a version-1 push with 请升级应用 (as it does a push from an app newer than
//! itself) and stores none of it; the work stays on the phone and arrives whole once the app
//! is updated. The wire format of protocol 2 is unchanged since (issue 19 changed only how the
//! server stores and numbers what it accepts), so every other test is a protocol-2 phone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{login, Server};
use gridpatrol_core::sync::protocol::{routes, ErrorBody, PushRequest, PROTOCOL_VERSION};

common::on_both_backends!(
    a_phone_on_another_protocol_is_told_to_update_and_loses_nothing_sqlite,
    a_phone_on_another_protocol_is_told_to_update_and_loses_nothing_postgres,
    told_to_update
);

fn told_to_update(database: Option<String>) {
    let server = Server::start(database, &[]);
    let phone = common::device(&server, "w01");
    let id = common::report_at(&phone, "w01", "g01", "灭火器过期", &[]);
    let work = phone.outbox_batch(100).unwrap();
    assert!(!work.is_empty());
    let http = reqwest::blocking::Client::new();
    let token = login(&http, &server.url, "w01", phone.device_id()).token;
    for protocol in [1, PROTOCOL_VERSION + 1] {
        let res = http
            .post(format!("{}{}", server.url, routes::PUSH))
            .bearer_auth(&token)
            .json(&PushRequest {
                protocol,
                device_id: phone.device_id(),
                ops: work.clone(),
                sent_at_ms: None,
                epoch: None,
            })
            .send()
            .unwrap();
        assert_eq!(res.status().as_u16(), 400, "protocol {protocol}");
        let refused: ErrorBody = res.json().unwrap();
        assert_eq!(refused.code, "protocol");
        assert!(refused.zh.contains("请升级应用"), "{refused:?}");
        assert!(refused.en.contains("update the app"), "{refused:?}");
    }
    // Nothing of it was stored: the village leader's phone sees no case.
    let leader = common::device(&server, "l01");
    assert!(leader.hazard(id).is_err(), "a refused push stores nothing");
    // The phone still holds its work, and the updated app sends it whole, numbered on arrival.
    assert_eq!(phone.pending_ops().unwrap(), work.len() as i64);
    phone.sync(&mut |_| {}).unwrap();
    assert_eq!(phone.pending_ops().unwrap(), 0);
    let number = phone.hazard(id).unwrap().hazard.case_number;
    assert!(number.is_some(), "numbered by the server");
    leader.sync(&mut |_| {}).unwrap();
    assert_eq!(leader.hazard(id).unwrap().hazard.case_number, number);
}
