//! Reading the registers off a real server as a clerk would: the annual CSV's township row, an
//! XLSX sheet's cells; and a phone's own newest op and token, to forge from.

use std::collections::HashMap;

use gridpatrol_core::op::Op;
use gridpatrol_core::Store;

use super::{login, Browser, Server};

/// The township's row of the annual CSV, by heading.
pub fn annual(officer: &Browser) -> HashMap<String, String> {
    let res = officer.get("/console/export/annual?scope=t01");
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().unwrap();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let mut lines = text.trim_start_matches('\u{feff}').lines();
    let split = |l: &str| {
        l.split(',')
            .map(|c| c.trim_matches('"').to_string())
            .collect::<Vec<_>>()
    };
    let headings = split(lines.next().unwrap());
    headings
        .into_iter()
        .zip(split(lines.next().unwrap()))
        .collect()
}

pub fn number(row: &HashMap<String, String>, heading: &str) -> i64 {
    row.get(heading)
        .unwrap_or_else(|| panic!("no column {heading}"))
        .parse()
        .unwrap_or_else(|_| panic!("{heading}: {}", row[heading]))
}

pub fn last_own_op(phone: &Store) -> Op {
    phone
        .ops()
        .unwrap()
        .into_iter()
        .rev()
        .find(|o| o.device_id == phone.device_id())
        .unwrap()
}

pub fn token_of(server: &Server, phone: &Store, user: &str) -> String {
    login(
        &reqwest::blocking::Client::new(),
        &server.url,
        user,
        phone.device_id(),
    )
    .token
}

pub fn xlsx_rows(bytes: &[u8], sheet: &str) -> Vec<Vec<String>> {
    use calamine::{Reader, Xlsx};
    let mut book: Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let range = book.worksheet_range(sheet).unwrap();
    range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}
