//! Report figures on a fixed data set, against values counted by hand (see the table in
//! `fixture`), and the CSV/XLSX ledgers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{photo, town, Town, T0};
use gridpatrol_core::activity::{ActivityKind, NewActivity};
use gridpatrol_core::clock::{Day, MS_PER_DAY};
use gridpatrol_core::hazard::{EscalationReason, HazardEvent, Level, NewHazard, Severity};

use gridpatrol_core::place::RiskLevel;
use uuid::Uuid;

/// Period: day 0 (2026-03-07) to day 29, report as of day 29.
///
/// | hazard | grid | kind    | category     | story                                   | closed | on time | in grid |
/// |--------|------|---------|--------------|-----------------------------------------|--------|---------|---------|
/// | H10    | g1   | general | wiring       | day −5, closed day −5: outside period   |        |         |         |
/// | H1     | g1   | general | extinguisher | deadline d3, closed d2                  | d2     | yes     | yes     |
/// | H2     | g1   | general | exit_blocked | deadline d1, review failed (new d5), d4 | d4     | yes     | yes     |
/// | H3     | g1   | general | wiring       | deadline d3, closed d10                 | d10    | no      | yes     |
/// | H4     | g3   | general | wiring       | escalated to village, handed back d6    | d6     | yes     | no      |
/// | H5     | g3   | major   | three_in_one | escalated, referred (no 办结期限), d8   | d8     | gap     | —       |
/// | H6     | g1   | general | ebike        | fixed on the spot d0                    | d0     | yes     | yes     |
/// | H7     | g1   | general | wiring       | deadline d5, still rectifying: overdue 24 days       |
/// | H8     | g3   | general | wiring       | withdrawn                                              |
/// | H9     | g1   | general | smoke_alarm  | reported only                                          |
///
/// Patrols: g1 on d0 and d20, g3 on d0 and d1. Publicity in g1 (30 people), training at the
/// township (10 people), and one publicity event before the period.
struct Fixture {
    t: Town,
    from: Day,
    to: Day,
}

/// Day 0 of the fixture, five days after the town was set up (an HLC never goes backwards, so
/// the fixture's history has to start after the town's own).
const BASE: i64 = T0 + 5 * MS_PER_DAY;

fn at_day(t: &Town, day: i64, minute: i64) {
    t.store
        .clock()
        .set_ms(BASE + day * MS_PER_DAY + minute * 60_000);
}

fn fixture() -> Fixture {
    let t = town();
    let s = &t.store;
    let (w1, w3, l1, l2, o1, o2) = (
        t.actor("w1"),
        t.actor("w3"),
        t.actor("l1"),
        t.actor("l2"),
        t.actor("o1"),
        t.actor("o2"),
    );
    let d = |n: i32| Day::from_ms(BASE).plus(n);
    let raise = |place: Uuid, category: &str, severity: Severity| {
        let who = if place == t.place_g1 { &w1 } else { &w3 };
        s.report_hazard(
            who,
            NewHazard {
                photos: vec![photo(9)],
                ..NewHazard::new(place, category, severity, "隐患")
            },
        )
        .unwrap()
    };
    let ev = |actor, h, e| s.hazard_event(actor, h, e).unwrap();
    let notify = |deadline| HazardEvent::Notify {
        responsible_party: "负责人".into(),
        deadline,
        note: String::new(),
    };
    let submit = || HazardEvent::SubmitRectification {
        note: String::new(),
        photos: vec![photo(1)],
    };
    let pass = || HazardEvent::Review {
        passed: true,
        note: String::new(),
        new_deadline: None,
    };
    let patrol = |who, place| common::visit(s, who, place);
    let log = |who, kind, org: &str, people| {
        s.log_activity(
            who,
            NewActivity {
                kind,
                org_id: org.into(),
                held_on: s.today(),
                title: "活动".into(),
                audience: people,
                note: String::new(),
                channel: None,
                attendees: Vec::new(),
                photos: Vec::new(),
                trainees: Vec::new(),
                group_id: None,
            },
        )
        .unwrap()
    };

    at_day(&t, -5, 0);
    let h10 = raise(t.place_g1, "wiring", Severity::General);
    ev(&w1, h10, notify(d(-3)));
    ev(&w1, h10, submit());
    ev(&l1, h10, pass());
    log(&w1, ActivityKind::Publicity, "g1", 99);

    at_day(&t, 0, 0);
    let h1 = raise(t.place_g1, "extinguisher", Severity::General);
    let h2 = raise(t.place_g1, "exit_blocked", Severity::General);
    let h3 = raise(t.place_g1, "wiring", Severity::General);
    let h4 = raise(t.place_g3, "wiring", Severity::General);
    let h5 = raise(t.place_g3, "three_in_one", Severity::Major);
    let h6 = raise(t.place_g1, "ebike", Severity::General);
    let h7 = raise(t.place_g1, "wiring", Severity::General);
    let h8 = raise(t.place_g3, "wiring", Severity::General);
    let _h9 = raise(t.place_g1, "smoke_alarm", Severity::General);
    patrol(&w1, t.place_g1);
    patrol(&w3, t.place_g3);
    ev(&w1, h2, notify(d(1)));
    ev(&w1, h2, submit());
    ev(
        &l1,
        h2,
        HazardEvent::Review {
            passed: false,
            note: "未整改到位".into(),
            new_deadline: Some(d(5)),
        },
    );
    ev(
        &w1,
        h6,
        HazardEvent::FixOnSpot {
            note: String::new(),
            before_photo: Some(photo(2)),
            after_photo: Some(photo(3)),
        },
    );
    ev(&w1, h6, pass());
    ev(
        &l2,
        h8,
        HazardEvent::Withdraw {
            reason: "重复上报".into(),
        },
    );
    ev(&w1, h1, notify(d(3)));
    ev(&w1, h3, notify(d(3)));
    ev(&w1, h7, notify(d(5)));
    ev(
        &w1,
        h7,
        HazardEvent::StartRectification {
            note: String::new(),
        },
    );
    ev(
        &w3,
        h5,
        HazardEvent::Escalate {
            to: Level::Township,
            reason: EscalationReason::Major,
            note: String::new(),
        },
    );
    ev(
        &o1,
        h5,
        HazardEvent::Refer {
            department: "县消防救援大队".into(),
            case_number: "2026-1".into(),
            note: String::new(),
            deadline: None,
        },
    );
    log(&w1, ActivityKind::Publicity, "g1", 30);
    log(&o1, ActivityKind::Training, "t1", 10);

    at_day(&t, 1, 0);
    patrol(&w3, t.place_g3);
    ev(
        &w3,
        h4,
        HazardEvent::Escalate {
            to: Level::Village,
            reason: EscalationReason::OwnerRefuses,
            note: String::new(),
        },
    );
    ev(
        &l2,
        h4,
        HazardEvent::HandBack {
            to: Level::Grid,
            guidance: "已约谈".into(),
            deadline: d(6),
        },
    );
    at_day(&t, 2, 0);
    ev(&w1, h1, submit());
    ev(&l1, h1, pass());
    at_day(&t, 4, 0);
    ev(&w1, h2, submit());
    ev(&l1, h2, pass());
    at_day(&t, 6, 0);
    ev(&w3, h4, submit());
    ev(&l2, h4, pass());
    at_day(&t, 8, 0);
    ev(
        &o1,
        h5,
        HazardEvent::RecordOutcome {
            outcome: "已查处".into(),
        },
    );
    ev(&o2, h5, pass());
    at_day(&t, 10, 0);
    ev(&w1, h3, submit());
    ev(&l1, h3, pass());
    at_day(&t, 20, 0);
    patrol(&w1, t.place_g1);
    at_day(&t, 29, 0);
    Fixture {
        from: d(0),
        to: d(29),
        t,
    }
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-3)
}

#[test]
fn township_figures_match_the_hand_count() {
    let f = fixture();
    let r = f.t.store.report("t1", f.from, f.to).unwrap();
    assert_eq!(r.hazards_reported, 9);
    assert_eq!(r.withdrawn, 1);
    assert_eq!(r.closed, 6);
    assert!(close(r.closure_rate, 6.0 / 8.0), "{:?}", r.closure_rate);
    // H5 was referred before the township set 办结期限 (an op from before version 6): closed
    // with no deadline, a gap in the data, neither on time nor late.
    assert_eq!((r.closed_on_time, r.closed_without_deadline), (4, 1));
    assert!(close(r.on_time_rate, 4.0 / 5.0), "{:?}", r.on_time_rate);
    assert_eq!((r.general_closed_in_grid, r.general_closed), (4, 5));
    assert!(close(r.in_grid_closure_rate, 0.8));
    assert_eq!(
        (r.major_reported, r.escalated, r.referred, r.supervised),
        (1, 2, 1, 0)
    );
    assert_eq!(r.overdue_count, 1);
    assert_eq!(r.overdue[0].days_overdue, Some(24));
    assert_eq!(r.rework_count, 1);
    // Days to close: 0, 2, 4, 6, 8, 10 (plus the minutes between raising and closing).
    assert!(
        close(r.median_days_to_close.map(|d| d.round()), 5.0),
        "{:?}",
        r.median_days_to_close
    );
    assert_eq!(r.patrols, 4);
    assert!(close(r.hazards_per_100_patrols, 225.0));
    let medium = r
        .coverage
        .iter()
        .find(|c| c.risk == RiskLevel::Medium)
        .unwrap();
    assert_eq!((medium.covered, medium.places), (1, 2));
    assert!(r
        .coverage
        .iter()
        .filter(|c| c.risk != RiskLevel::Medium)
        .all(|c| c.places == 0 && c.rate.is_none()));
    assert_eq!(r.by_category[0].code, "wiring");
    assert_eq!(r.by_category[0].count, 4);
    assert_eq!(r.by_category.iter().map(|c| c.count).sum::<u32>(), 9);
    let types: Vec<(&str, u32)> = r
        .by_place_type
        .iter()
        .map(|c| (c.code.as_str(), c.count))
        .collect();
    assert_eq!(types, [("small_shop", 6), ("rental_house", 3)]);
    assert_eq!((r.publicity_events, r.publicity_audience), (1, 30));
    assert_eq!((r.training_events, r.training_audience), (1, 10));
    let text = r.to_text();
    assert!(
        text.contains("网格内闭环率 in-grid closure rate: 80.0%"),
        "{text}"
    );
}

#[test]
fn grid_and_village_figures_match_the_hand_count() {
    let f = fixture();
    let g1 = f.t.store.report("g1", f.from, f.to).unwrap();
    assert_eq!((g1.hazards_reported, g1.closed, g1.withdrawn), (6, 4, 0));
    assert!(close(g1.in_grid_closure_rate, 1.0));
    assert_eq!((g1.overdue_count, g1.patrols), (1, 2));
    let v2 = f.t.store.report("v2", f.from, f.to).unwrap();
    assert_eq!((v2.hazards_reported, v2.closed, v2.withdrawn), (3, 2, 1));
    assert!(close(v2.closure_rate, 1.0));
    assert!(close(v2.in_grid_closure_rate, 0.0));
    let county = f.t.store.report("c1", f.from, f.to).unwrap();
    assert_eq!(county.hazards_reported, 9);
    assert_eq!(
        (county.publicity_events, county.training_events),
        (1, 1),
        "township-level training counts for the county"
    );
    assert_eq!(
        (g1.publicity_events, g1.training_events),
        (1, 0),
        "a grid report counts only its own"
    );
    assert!(
        f.t.store.report("t1", f.to, f.from).is_err(),
        "a period that ends before it starts"
    );
    assert!(f.t.store.report("nowhere", f.from, f.to).is_err());
}

/// Coverage per grid and risk level, counted by hand. Both fixture places are medium risk
/// with a 15-day cycle (九小场所, 出租房): as of day 29, g1's place was last patrolled on day 20
/// (9 days: covered), g3's on day 1 (28 days: due and overdue). A high-risk place added to g1
/// today was never patrolled (due, never covered). On day 35, g1's place is 15 days on: due
/// that day, neither covered nor overdue yet.
#[test]
fn coverage_per_grid_and_risk_matches_the_hand_count_and_the_report() {
    use gridpatrol_core::place::{NewPlace, RiskLevel::*};
    use gridpatrol_core::report::coverage::{by_risk, CoverageCount};
    let f = fixture();
    let s = &f.t.store;
    let n = |places, due, overdue, never_patrolled, covered| CoverageCount {
        places,
        due,
        overdue,
        never_patrolled,
        covered,
    };
    let table = |scope: &str| -> Vec<(String, RiskLevel, CoverageCount)> {
        s.coverage(scope)
            .unwrap()
            .into_iter()
            .map(|g| (g.grid_id, g.risk, g.count))
            .collect()
    };
    assert_eq!(
        table("t1"),
        [
            ("g1".to_string(), Medium, n(1, 0, 0, 0, 1)),
            ("g3".to_string(), Medium, n(1, 1, 1, 0, 0)),
        ]
    );
    s.create_place(
        &f.t.actor("w1"),
        NewPlace {
            place_type: "small_shop".into(),
            name: "新开小店".into(),
            address: String::new(),
            location: None,
            grid_id: "g1".into(),
            responsible_name: String::new(),
            responsible_phone: None,
            risk_level: High,
            patrol_every_days: None,
        },
    )
    .unwrap();
    let t1 = table("t1");
    assert_eq!(t1[0], ("g1".to_string(), High, n(1, 1, 0, 1, 0)));
    assert_eq!(table("g1"), t1[..2]);
    assert_eq!(table("c1"), t1, "a county sums its townships' grids");
    // The report's coverage figure is the same counts summed per risk level.
    let r = s.report("t1", f.from, f.to).unwrap();
    let sums: Vec<(RiskLevel, u32, u32)> = by_risk(&s.coverage("t1").unwrap())
        .into_iter()
        .map(|(risk, c)| (risk, c.covered, c.places))
        .collect();
    let report: Vec<(RiskLevel, u32, u32)> = r
        .coverage
        .iter()
        .map(|c| (c.risk, c.covered, c.places))
        .collect();
    assert_eq!(report, sums);
    assert_eq!(sums, [(High, 0, 1), (Medium, 1, 2), (Low, 0, 0)]);
    assert!(close(r.coverage_rate(), 1.0 / 3.0));

    at_day(&f.t, 35, 0);
    assert_eq!(table("g1")[1], ("g1".to_string(), Medium, n(1, 1, 0, 0, 0)));
    assert!(s.coverage("nowhere").is_err());
}

#[test]
fn ledgers_have_one_row_per_hazard() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("台账.csv");
    assert_eq!(
        f.t.store
            .export_ledger_csv("t1", f.from, f.to, &csv_path)
            .unwrap(),
        9
    );
    let text = std::fs::read_to_string(&csv_path).unwrap();
    assert!(text.starts_with('\u{feff}'), "BOM for Excel");
    let mut rdr = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers = rdr.headers().unwrap().clone();
    assert_eq!(&headers[0], "隐患编号");
    let rows: Vec<csv::StringRecord> = rdr.records().collect::<Result<_, _>>().unwrap();
    assert_eq!(rows.len(), 9);
    let status_col = headers.iter().position(|h| h == "当前状态").unwrap();
    assert_eq!(
        rows.iter().filter(|r| &r[status_col] == "已销号").count(),
        6
    );
    let overdue_col = headers.iter().position(|h| h == "逾期天数").unwrap();
    assert_eq!(rows.iter().filter(|r| &r[overdue_col] == "24").count(), 1);

    let xlsx_path = dir.path().join("台账.xlsx");
    assert_eq!(
        f.t.store
            .export_ledger_xlsx("t1", f.from, f.to, &xlsx_path)
            .unwrap(),
        9
    );
    let bytes = std::fs::read(&xlsx_path).unwrap();
    assert_eq!(&bytes[..2], b"PK", "an XLSX is a zip");
    assert!(bytes.len() > 4000);
}

#[test]
fn the_monthly_trend_counts_every_month_of_the_period() {
    let f = fixture();
    let trend = f.t.store.monthly_trend("t1", f.from, f.to).unwrap();
    let months: Vec<&str> = trend.iter().map(|m| m.month.as_str()).collect();
    assert_eq!(
        months,
        ["2026-03", "2026-04"],
        "every month, empty ones too"
    );
    // By calendar month, so H10 (found and closed on day −5, still March) counts; the
    // withdrawn H8 does not.
    assert_eq!(trend.iter().map(|m| m.found).sum::<u32>(), 9);
    assert_eq!(trend.iter().map(|m| m.closed).sum::<u32>(), 7);
    assert!(f.t.store.monthly_trend("t1", f.to, f.from).is_err());
}

#[test]
fn hazard_lists_filter_within_the_grids_given() {
    use gridpatrol_core::hazard::{HazardFilter, HazardStatus};
    let f = fixture();
    let list = |filter: HazardFilter| {
        f.t.store
            .hazard_list(&HazardFilter {
                limit: 100,
                ..filter
            })
            .unwrap()
    };
    let g1 = || vec!["g1".to_string()];
    let both = || vec!["g1".to_string(), "g3".to_string()];
    assert_eq!(
        list(HazardFilter {
            grids: g1(),
            ..Default::default()
        })
        .0,
        7
    );
    let (n, rows) = list(HazardFilter {
        grids: g1(),
        overdue: true,
        ..Default::default()
    });
    assert_eq!((n, rows[0].days_overdue), (1, Some(24)), "H7");
    let closed = HazardFilter {
        grids: both(),
        status: Some(HazardStatus::Closed),
        ..Default::default()
    };
    assert_eq!(list(closed.clone()).0, 7);
    let major = HazardFilter {
        severity: Some(Severity::Major),
        ..closed
    };
    assert_eq!(list(major).0, 1, "H5");
    let v2 = HazardFilter {
        grids: both(),
        village_id: Some("v2".into()),
        ..Default::default()
    };
    assert_eq!(list(v2.clone()).0, 3, "H4, H5, H8");
    assert_eq!(
        list(HazardFilter { grids: g1(), ..v2 }).0,
        0,
        "nothing outside the grids given, whatever the filter"
    );
    let (n, rows) =
        f.t.store
            .hazard_list(&HazardFilter {
                grids: both(),
                limit: 2,
                ..Default::default()
            })
            .unwrap();
    assert_eq!((n, rows.len()), (10, 2), "the total, and the newest two");
    assert!(rows[0].reported_at >= rows[1].reported_at);
    let (_, oldest) =
        f.t.store
            .hazard_list(&HazardFilter {
                grids: both(),
                oldest_first: true,
                limit: 1,
                ..Default::default()
            })
            .unwrap();
    assert_eq!(oldest[0].category, "wiring", "H10, found on day −5");
    let (_, next) =
        f.t.store
            .hazard_list(&HazardFilter {
                grids: both(),
                offset: 2,
                limit: 100,
                ..Default::default()
            })
            .unwrap();
    assert_eq!(next.len(), 8, "the rest, after the first page");
    assert!(next.iter().all(|h| rows.iter().all(|r| r.id != h.id)));
}

/// 宣传"五进": publicity counted per channel by hand. Two events 进农村 (30 and 10 people), one
/// 进学校 (50), one with no channel (5, in the totals only); a training (20) is not publicity.
#[test]
fn publicity_by_channel_matches_the_hand_count() {
    use gridpatrol_core::activity::Channel;
    let t = town();
    let w1 = t.actor("w1");
    let log = |kind, channel, people| {
        t.store
            .log_activity(
                &w1,
                NewActivity {
                    kind,
                    org_id: "g1".into(),
                    held_on: t.store.today(),
                    title: "消防宣传".into(),
                    audience: people,
                    note: String::new(),
                    channel,
                    attendees: Vec::new(),
                    photos: Vec::new(),
                    trainees: Vec::new(),
                    group_id: None,
                },
            )
            .unwrap()
    };
    log(ActivityKind::Publicity, Some(Channel::Villages), 30);
    log(ActivityKind::Publicity, Some(Channel::Villages), 10);
    log(ActivityKind::Publicity, Some(Channel::Schools), 50);
    log(ActivityKind::Publicity, None, 5);
    log(ActivityKind::Training, None, 20);
    let today = t.store.today();
    let r = t.store.report("t1", today, today).unwrap();
    assert_eq!((r.publicity_events, r.publicity_audience), (4, 95));
    assert_eq!((r.training_events, r.training_audience), (1, 20));
    let by: Vec<(&str, u32, u64)> = r
        .publicity_by_channel
        .iter()
        .map(|c| (c.label, c.events, c.audience))
        .collect();
    assert_eq!(
        by,
        [
            ("进企业", 0, 0),
            ("进农村", 2, 40),
            ("进社区", 0, 0),
            ("进学校", 1, 50),
            ("进家庭", 0, 0)
        ]
    );
    assert!(
        r.to_text().contains("进农村 2 次 40 人次"),
        "{}",
        r.to_text()
    );
}
