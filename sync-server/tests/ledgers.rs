#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The ledgers a clerk files, downloaded from a real server's console after a phone's work
//! synced, and opened as a clerk's spreadsheet would: cell by cell with calamine (title, unit
//! and period, headings, dates as dates, numbers as numbers), and the sheet's own XML for what
//! calamine does not read (column widths, frozen header, filter, A4 landscape with the headings
//! repeated on every page).

mod common;

use std::io::Read;

use calamine::{Data, Reader, Xlsx};
use common::{device, in_days, Browser, Server};
use gridpatrol_core::activity::{ActivityKind, NewActivity};
use gridpatrol_core::checklist::AnswerValue;
use gridpatrol_core::patrol::{GpsSample, PatrolInput, RaiseHazard};
use gridpatrol_core::report::export::HAZARD_COLUMNS;
use gridpatrol_core::report::ledgers::{Ledger, ACTIVITY_COLUMNS, PATROL_COLUMNS, PLACE_COLUMNS};

fn workbook(bytes: &[u8]) -> Xlsx<std::io::Cursor<Vec<u8>>> {
    Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap()
}

/// The XML of one part of the workbook (`xl/worksheets/sheet1.xml`, `xl/workbook.xml`).
fn part(bytes: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut text = String::new();
    zip.by_name(name)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    text
}

fn text(d: &Data) -> String {
    match d {
        Data::String(s) => s.clone(),
        other => panic!("not text: {other:?}"),
    }
}

/// A sheet's layout as filed: widths for every column, the three rows above the data frozen,
/// a filter on the headings, A4 landscape, one page wide, the headings on every page.
fn assert_print_ready(bytes: &[u8], sheet: usize, columns: usize, last_col: &str) {
    let xml = part(bytes, &format!("xl/worksheets/sheet{sheet}.xml"));
    // Neighbouring columns of one width share a `<col min max>` element.
    let attr = |el: &str, name: &str| -> usize {
        el.split(&format!("{name}=\""))
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let widened: usize = xml
        .split("<col ")
        .skip(1)
        .filter(|el| el.contains("customWidth=\"1\""))
        .map(|el| attr(el, "max") - attr(el, "min") + 1)
        .sum();
    assert_eq!(widened, columns, "a width set for every column");
    assert!(
        xml.contains("ySplit=\"3\""),
        "title, subtitle and headings frozen"
    );
    assert!(
        xml.contains(&format!("<autoFilter ref=\"A3:{last_col}")),
        "a filter on the headings"
    );
    assert!(xml.contains("paperSize=\"9\"") && xml.contains("orientation=\"landscape\""));
    assert!(xml.contains("fitToHeight=\"0\""), "one page wide");
    let book = part(bytes, "xl/workbook.xml");
    assert!(book.contains("_xlnm.Print_Titles") && book.contains("$3:$3"));
}

#[test]
fn every_ledger_opens_as_a_clerk_files_it() {
    let server = Server::start(None, &[]);
    let phone = device(&server, "w04");
    let w04 = phone.actor("w04").unwrap();
    let place = common::place_in(&phone, "w04", "g04");
    let form = phone.patrol_form(place.id).unwrap();
    let failing = form
        .template
        .items
        .iter()
        .find(|i| i.kind == gridpatrol_core::checklist::ItemKind::PassFail)
        .unwrap()
        .key
        .clone();
    let out = phone
        .record_patrol(
            &w04,
            PatrolInput {
                place_id: place.id,
                started_at: phone.device_wall_ms() - 20 * 60_000,
                gps: GpsSample::default(),
                answers: vec![(failing.clone(), AnswerValue::Fail)],
                raise: vec![RaiseHazard {
                    item_key: failing,
                    photos: vec!["ab".repeat(32)],
                    ..RaiseHazard::default()
                }],
                note: String::new(),
            },
        )
        .unwrap();
    let hazard = out.hazard_ids[0];
    phone
        .log_activity(
            &w04,
            NewActivity {
                kind: ActivityKind::Publicity,
                org_id: "g04".into(),
                held_on: phone.today(),
                title: "消防安全进农村".into(),
                audience: 37,
                note: String::new(),
                channel: Some(gridpatrol_core::activity::Channel::Villages),
                attendees: Vec::new(),
                photos: Vec::new(),
                trainees: Vec::new(),
                group_id: None,
            },
        )
        .unwrap();
    phone.sync(&mut |_| {}).unwrap();
    let case = phone.hazard(hazard).unwrap().hazard;
    let description = case.report.description;
    // The server numbered the case when it arrived, and the phone has the number.
    let number = case.case_number.expect("numbered at the first sync");
    assert!(
        number.starts_with(&format!("T01-{}-", &in_days(0)[..4])),
        "{number}"
    );

    let officer = Browser::sign_in(&server, "o01");
    let (from, to) = (in_days(-1), in_days(0));
    let download = |ledger: Ledger, format: &str| {
        let res = officer.get(&format!(
            "/console/export/ledger?ledger={}&scope=t01&from={from}&to={to}&format={format}",
            ledger.code()
        ));
        assert_eq!(res.status(), 200, "{ledger:?} {format}");
        res.bytes().unwrap().to_vec()
    };

    // 隐患台账: title, unit and period, headings, the case's row with typed cells.
    let bytes = download(Ledger::Hazards, "xlsx");
    let mut book = workbook(&bytes);
    assert_eq!(book.sheet_names(), ["隐患台账"]);
    let range = book.worksheet_range("隐患台账").unwrap();
    let title = text(range.get((0, 0)).unwrap());
    assert!(title.ends_with("消防安全隐患台账"), "{title}");
    let line = text(range.get((1, 0)).unwrap());
    assert!(
        line.contains("填报单位：") && line.contains(&format!("统计期间：{from} 至 {to}")),
        "{line}"
    );
    let headings: Vec<String> = (0..HAZARD_COLUMNS.len())
        .map(|c| text(range.get((2, c)).unwrap()))
        .collect();
    let expected: Vec<&str> = HAZARD_COLUMNS.iter().map(|c| c.heading).collect();
    assert_eq!(headings, expected);
    let at = |name: &str| expected.iter().position(|h| *h == name).unwrap();
    let row = 3;
    assert_eq!(text(range.get((row, at("隐患编号"))).unwrap()), number);
    assert!(
        matches!(range.get((row, at("上报日期"))), Some(Data::DateTime(_))),
        "a date is a date: {:?}",
        range.get((row, at("上报日期")))
    );
    assert!(
        matches!(range.get((row, at("复查驳回次数"))), Some(Data::Float(n)) if *n == 0.0),
        "a count is a number"
    );
    assert_eq!(text(range.get((row, at("隐患描述"))).unwrap()), description);
    assert_eq!(
        text(range.get((row, at("发现人"))).unwrap()),
        phone.user("w04").unwrap().name,
        "the finder by name"
    );
    assert_eq!(text(range.get((row, at("当前状态"))).unwrap()), "已上报");
    assert_eq!(range.height(), 4, "title, subtitle, headings, one case");
    assert_print_ready(&bytes, 1, HAZARD_COLUMNS.len(), "AA");
    let csv = download(Ledger::Hazards, "csv");
    assert!(csv.starts_with(b"\xEF\xBB\xBF"));
    assert!(String::from_utf8(csv).unwrap().contains(&description));

    // 巡查台账: the visit, by whom, how many items, which failed.
    let bytes = download(Ledger::Patrols, "xlsx");
    let mut book = workbook(&bytes);
    let range = book.worksheet_range("巡查台账").unwrap();
    assert!(text(range.get((0, 0)).unwrap()).ends_with("巡查台账"));
    assert_eq!(range.height(), 4);
    assert!(matches!(range.get((3, 0)), Some(Data::DateTime(_))));
    let p = |name: &str| {
        PATROL_COLUMNS
            .iter()
            .position(|c| c.heading == name)
            .unwrap()
    };
    assert!(matches!(range.get((3, p("检查项数"))), Some(Data::Float(n)) if *n == 1.0));
    assert!(matches!(range.get((3, p("不合格项数"))), Some(Data::Float(n)) if *n == 1.0));
    assert_eq!(text(range.get((3, p("场所"))).unwrap()), place.name);
    assert_print_ready(&bytes, 1, PATROL_COLUMNS.len(), "N");

    // 一户一档: a sheet per village of the township, the visited place with its visit and case.
    let bytes = download(Ledger::Places, "xlsx");
    let mut book = workbook(&bytes);
    let names = book.sheet_names();
    assert!(names.len() >= 2, "one sheet per village: {names:?}");
    let mut found = false;
    for name in &names {
        let range = book.worksheet_range(name).unwrap();
        assert!(text(range.get((0, 0)).unwrap()).ends_with("一户一档"));
        for r in 3..range.height() {
            if range.get((r, 1)).map(text).as_deref() == Some(place.name.as_str()) {
                let at = |h: &str| PLACE_COLUMNS.iter().position(|c| c.heading == h).unwrap();
                assert!(
                    matches!(range.get((r, at("期间巡查次数"))), Some(Data::Float(n)) if *n == 1.0)
                );
                assert!(text(range.get((r, at("隐患（编号 类别 状态）"))).unwrap())
                    .starts_with(&number));
                found = true;
            }
        }
    }
    assert!(found, "the visited place is in its village's sheet");
    assert_print_ready(&bytes, 1, PLACE_COLUMNS.len(), "N");

    // 宣传培训台账: the publicity, its audience a number.
    let bytes = download(Ledger::Activities, "xlsx");
    let mut book = workbook(&bytes);
    let range = book.worksheet_range("宣传培训台账").unwrap();
    assert_eq!(range.height(), 4);
    let a = |h: &str| {
        ACTIVITY_COLUMNS
            .iter()
            .position(|c| c.heading == h)
            .unwrap()
    };
    assert_eq!(text(range.get((3, a("类型"))).unwrap()), "消防宣传");
    assert_eq!(text(range.get((3, a("渠道"))).unwrap()), "进农村");
    assert!(matches!(range.get((3, a("照片"))), Some(Data::Float(n)) if *n == 0.0));
    assert!(matches!(range.get((3, a("人数"))), Some(Data::Float(n)) if *n == 37.0));
    assert_print_ready(&bytes, 1, ACTIVITY_COLUMNS.len(), "K");

    // A ledger nobody keeps is refused, not guessed.
    let res = officer.get(&format!(
        "/console/export/ledger?ledger=drills&scope=t01&from={from}&to={to}&format=xlsx"
    ));
    assert_eq!(res.status(), 400);
}
