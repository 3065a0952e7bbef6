//! The township console over HTTP against the real server binary, on both backends: an
//! officer acts on a case a worker's phone escalated and the phone receives it at its next
//! sync; bad input, a forged form and a user outside the case's area change nothing; refused
//! ops reach the officer. (The same loop in a real browser is `tests/console/console.mjs`.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{device, escalated_case, in_days, Browser, Server};

use gridpatrol_core::hazard::{HazardEvent, HazardStatus, Level, NewHazard, Severity};
use gridpatrol_core::Day;
use reqwest::blocking::Client;
use reqwest::header;
use uuid::Uuid;

common::on_both_backends!(
    an_officer_hands_back_an_escalated_case_and_the_phone_gets_it_sqlite,
    an_officer_hands_back_an_escalated_case_and_the_phone_gets_it_postgres,
    hand_back
);

fn hand_back(database: Option<String>) {
    let server = Server::start(database, &[]);
    let phone = device(&server, "w04");
    let id = escalated_case(&phone, "w04", "g04");
    let detail = format!("/console/hazards/{id}");

    let officer = Browser::sign_in(&server, "o01");
    assert!(officer.page("/console/escalations").contains(&detail));
    let page = officer.page(&detail);
    assert!(page.contains("安全出口被杂物堵塞"));
    assert!(
        page.contains("act-hand_back"),
        "the officer may hand it back"
    );
    let csrf = officer.csrf(&detail);
    let act = format!("{detail}/act");

    // An impossible date: refused with the reason, what was typed kept, nothing stored.
    let res = officer.act(
        &act,
        &[
            ("csrf", &csrf),
            ("verb", "hand_back"),
            ("to", "grid"),
            ("guidance", "请督促业主三日内清理通道"),
            ("deadline", "2026-02-30"),
        ],
    );
    assert_eq!(res.status(), 400);
    let page = res.text().unwrap();
    assert!(page.contains("日期格式不正确") && page.contains("dates are written YYYY-MM-DD"));
    assert!(
        page.contains("请督促业主三日内清理通道"),
        "the guidance typed is kept"
    );
    // Post/redirect/get: the refusal itself is a redirect, so Back and Reload show the page
    // (with the reason, for this sign-in only) instead of asking to send the form again.
    let raw = officer.post(
        &act,
        &[
            ("csrf", &csrf),
            ("verb", "hand_back"),
            ("to", "grid"),
            ("guidance", "x"),
            ("deadline", "2026-02-30"),
        ],
    );
    assert_eq!(raw.status(), 303);
    let to = raw.headers()["location"].to_str().unwrap().to_string();
    for _reload in 0..2 {
        assert!(officer.get(&to).text().unwrap().contains("日期格式不正确"));
    }
    let someone_else = Browser::sign_in(&server, "o02");
    assert!(!someone_else
        .get(&to)
        .text()
        .unwrap()
        .contains("日期格式不正确"));

    // Too long a guidance is named as what it is, beside its box, and every box has a limit.
    let long = "清".repeat(501);
    let res = officer.act(
        &act,
        &[
            ("csrf", &csrf),
            ("verb", "hand_back"),
            ("to", "grid"),
            ("guidance", &long),
            ("deadline", &in_days(7)),
        ],
    );
    assert_eq!(res.status(), 400);
    let page = res.text().unwrap();
    let beside = page
        .split("name=\"guidance\"")
        .nth(1)
        .and_then(|rest| rest.split("</label>").next())
        .unwrap_or_default();
    assert!(beside.contains("指导意见过长"), "{beside}");
    assert!(!page.contains("备注过长"));
    for tag in page.split("<textarea").skip(1) {
        assert!(
            tag.split('>').next().unwrap().contains("maxlength"),
            "{tag}"
        );
    }
    // A form from elsewhere (no valid key) is refused.
    let res = officer.act(
        &act,
        &[
            ("csrf", "forged"),
            ("verb", "hand_back"),
            ("to", "grid"),
            ("guidance", "x"),
            ("deadline", "2030-01-01"),
        ],
    );
    assert_eq!(res.status(), 403);
    // An action the role may not take (verification of the officer's own outcome does not
    // arise here; a grid-level verb is simply not offered) is refused.
    let res = officer.act(&act, &[("csrf", &csrf), ("verb", "notify")]);
    assert_eq!(res.status(), 400);
    let report = phone.sync(&mut |_| {}).unwrap();
    assert_eq!(report.pulled, 0, "nothing refused reached the log");

    let deadline = phone.today().plus(10).to_string();
    let res = officer.act(
        &act,
        &[
            ("csrf", &csrf),
            ("verb", "hand_back"),
            ("to", "grid"),
            ("guidance", "请督促业主三日内清理通道"),
            ("deadline", &deadline),
        ],
    );
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()[header::LOCATION],
        format!("{detail}?done=hand_back").as_str()
    );
    assert!(officer
        .page(&format!("{detail}?done=hand_back"))
        .contains("已记录"));
    assert!(!officer.page("/console/escalations").contains(&detail));

    // The phone receives the hand-back at its next sync, as the officer's act.
    phone.sync(&mut |_| {}).unwrap();
    let d = phone.hazard(id).unwrap();
    assert_eq!(d.hazard.status, HazardStatus::Notified);
    assert_eq!(d.hazard.level, Level::Grid);
    assert_eq!(d.hazard.deadline, Some(deadline.parse::<Day>().unwrap()));
    let last = d.events.last().unwrap();
    assert_eq!(last.actor_id, "o01");
    assert!(
        matches!(&last.event, HazardEvent::HandBack { guidance, .. } if guidance == "请督促业主三日内清理通道")
    );
    // And the hand-back is the worker's to act on again.
    assert!(phone
        .allowed_transitions(&phone.actor("w04").unwrap(), id)
        .unwrap()
        .contains(&"submit_rectification"));
}

#[test]
fn each_user_sees_and_acts_within_their_area_only() {
    let server = Server::start(None, &[]);
    let phone = device(&server, "w04");
    let id = escalated_case(&phone, "w04", "g04");
    let detail = format!("/console/hazards/{id}");

    // l01 leads 东沟村 (v01); the case is in 西岭村 (v02).
    let other = Browser::sign_in(&server, "l01");
    assert_eq!(other.get(&detail).status(), 404);
    assert!(!other.page("/console/hazards").contains(&id.to_string()));
    assert!(!other
        .page("/console/hazards?village=v02")
        .contains(&id.to_string()));
    assert_eq!(
        other
            .get("/console/export/ledger?scope=v02&format=csv")
            .status(),
        404
    );
    assert_eq!(other.get("/console/?scope=t01").status(), 404);
    let csrf = other.csrf("/console/hazards");
    let res = other.act(
        &format!("{detail}/act"),
        &[("csrf", &csrf), ("verb", "withdraw"), ("reason", "x")],
    );
    assert_eq!(res.status(), 404);
    let dashboard = other.page("/console/");
    assert!(dashboard.contains("东沟村") && !dashboard.contains("西岭村"));

    // Their own village's leader sees it; the brigade advisor reads but acts on nothing.
    let leader = Browser::sign_in(&server, "l02");
    assert_eq!(leader.get(&detail).status(), 200);
    let advisor = Browser::sign_in(&server, "b01");
    let page = advisor.page(&detail);
    assert!(!page.contains("act-"), "no action forms for the advisor");
    assert!(
        !advisor.page("/console/").contains("待办上报"),
        "nor a to-do count on the dashboard"
    );
    let csrf = advisor.csrf(&detail);
    let res = advisor.act(
        &format!("{detail}/act"),
        &[("csrf", &csrf), ("verb", "supervise"), ("note", "挂牌")],
    );
    assert_eq!(res.status(), 400);
    assert!(res.text().unwrap().contains("未能记录"));

    // A sign-in ended elsewhere (the officer signs the leader's devices out) sends the leader
    // to sign in again with a word why, and back to the page they were on.
    let officer = Browser::sign_in(&server, "o01");
    let csrf_o = officer.csrf("/console/admin/people");
    assert_eq!(
        officer
            .post(
                "/console/admin/people",
                &[("csrf", &csrf_o), ("do", "sign_out"), ("user", "l02")]
            )
            .status(),
        303
    );
    let res = leader.get("/console/hazards?overdue=1");
    assert_eq!(res.status(), 303);
    let to = res.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(
        to,
        "/console/login?expired=1&next=%2Fconsole%2Fhazards%3Foverdue%3D1"
    );
    let login = Client::new()
        .get(format!("{}{to}", server.url))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(login.contains("登录已过期") && login.contains("value=\"/console/hazards?overdue=1\""));
    // Signing in with a page to go on to: where the browser is sent.
    let sign_in = |next: &str| {
        Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .post(format!("{}/console/login", server.url))
            .form(&[
                ("user_id", "l02"),
                ("password", "gridpatrol"),
                ("next", next),
            ])
            .send()
    };
    let back = sign_in("/console/hazards?overdue=1").unwrap();
    assert_eq!(back.headers()["location"], "/console/hazards?overdue=1");
    for elsewhere in [
        "https://evil.example/",
        "//evil.example/console/",
        "/console/login",
    ] {
        let res = sign_in(elsewhere).unwrap();
        assert_eq!(res.headers()["location"], "/console/", "{elsewhere}");
    }
    let leader = Browser::sign_in(&server, "l02");

    // Signed out, the session is gone; no cookie at all sends the browser to sign in.
    let csrf = leader.csrf("/console/");
    assert_eq!(
        leader.post("/console/logout", &[("csrf", &csrf)]).status(),
        303
    );
    assert_eq!(leader.get("/console/").status(), 303);
    let res = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/console/hazards", server.url))
        .send()
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()[header::LOCATION], "/console/login");
    // A wrong password is told apart from nothing, in both languages.
    let res = Client::new()
        .post(format!("{}/console/login", server.url))
        .form(&[("user_id", "o01"), ("password", "wrong-password")])
        .send()
        .unwrap();
    assert_eq!(res.status(), 401);
    let page = res.text().unwrap();
    assert!(page.contains("用户名或密码错误") && page.contains("wrong user name or password"));
}

#[test]
fn an_op_the_server_refused_is_listed_for_whoever_covers_its_grid() {
    let server = Server::start(None, &[]);
    let phone = device(&server, "w04");
    // Moved to another grid on the server while the phone is offline; the patrol it then
    // records in its old grid is refused.
    server.admin(&["user", "assign", "w04", "--org", "g05"]);
    common::after_now(&phone);
    let place = common::place_in(&phone, "w04", "g04");
    common::visit(&phone, "w04", place.id);
    let report = phone.sync(&mut |_| {}).unwrap();
    assert_eq!(report.refused, 1);

    let officer = Browser::sign_in(&server, "o01");
    let page = officer.page("/console/conflicts");
    assert!(
        page.contains("patrol") && page.contains("不在您负责的范围内"),
        "{page}"
    );
    let own_village = Browser::sign_in(&server, "l02");
    assert!(own_village.page("/console/conflicts").contains("patrol"));
    let other_village = Browser::sign_in(&server, "l01");
    assert!(!other_village.page("/console/conflicts").contains("patrol"));
}

#[test]
fn the_demo_console_shows_figures_and_exports_a_ledger() {
    let server = Server::start(None, &["--demo-history", "true"]);
    let officer = Browser::sign_in(&server, "o01");
    let page = officer.page("/console/?from=2026-09-01&to=2026-10-31");
    for figure in [
        "闭环率",
        "一般隐患网格内闭环率",
        "按期整改率",
        "逾期未整改",
        "巡查覆盖率",
    ] {
        assert!(page.contains(figure), "{figure}");
    }
    assert!(page.contains("<svg"), "charts are drawn");
    for village in ["东沟村", "西岭村", "南河社区"] {
        assert!(page.contains(village), "{village} in the breakdown");
    }
    let res =
        officer.get("/console/export/ledger?scope=t01&from=2026-09-01&to=2026-10-31&format=csv");
    assert_eq!(res.status(), 200);
    assert!(res.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .starts_with("attachment;"));
    let csv = res.text().unwrap();
    assert!(
        csv.lines().count() > 50,
        "the demo's hazards are in the ledger"
    );
    let res = officer.get("/console/export/ledger?scope=t01&from=2026-10-31&to=2026-09-01");
    assert_eq!(res.status(), 400, "a period that ends before it starts");
    let res = officer.get("/console/export/annual?scope=t01&year=2026");
    assert_eq!(res.status(), 200);
    let csv = res.text().unwrap();
    assert_eq!(
        csv.lines().count(),
        5,
        "the heading, the township and its three villages"
    );
    for page in [
        "/console/coverage",
        "/console/escalations",
        "/console/hazards?overdue=1",
        "/console/annual?year=2026",
    ] {
        officer.page(page);
    }
}

#[test]
fn coverage_counts_a_visited_place_and_never_a_place_nobody_visited() {
    let server = Server::start(None, &[]);
    let phone = device(&server, "w04");
    let place = common::place_in(&phone, "w04", "g04");
    let officer = Browser::sign_in(&server, "o01");
    let before = officer.page("/console/coverage?scope=g04");
    assert!(
        before.contains("0.0%") && !before.contains("100.0%"),
        "nothing visited yet"
    );

    common::visit(&phone, "w04", place.id);
    phone.sync(&mut |_| {}).unwrap();
    let same_risk = phone
        .places(&phone.actor("w04").unwrap())
        .unwrap()
        .iter()
        .filter(|p| p.place.grid_id == "g04" && p.place.risk_level == place.risk_level)
        .count();
    let after = officer.page("/console/coverage?scope=g04");
    let share = format!("{:.1}%", 100.0 / same_risk as f64);
    assert!(
        after.contains(&share),
        "one of {same_risk} covered: {share}"
    );
    // An area that does not exist is refused like one outside the user's scope.
    assert_eq!(officer.get("/console/coverage?scope=nowhere").status(), 404);
}

#[test]
fn a_referral_is_recorded_supervised_and_closed_by_another_officer() {
    let server = Server::start(None, &[]);
    let phone = device(&server, "w04");
    let id = escalated_case(&phone, "w04", "g04");
    let detail = format!("/console/hazards/{id}");
    let act = format!("{detail}/act");
    let o01 = Browser::sign_in(&server, "o01");
    let csrf = o01.csrf(&detail);
    let post = |b: &Browser, csrf: &str, form: &[(&str, &str)]| {
        let mut all = vec![("csrf", csrf)];
        all.extend_from_slice(form);
        b.act(&act, &all).status().as_u16()
    };
    assert_eq!(
        post(&o01, &csrf, &[("verb", "supervise"), ("note", "限期整改")]),
        400,
        "挂牌督办 needs its 督办期限"
    );
    let month = in_days(30);
    assert_eq!(
        post(
            &o01,
            &csrf,
            &[
                ("verb", "supervise"),
                ("note", "限期整改"),
                ("deadline", &month)
            ]
        ),
        303
    );
    assert_eq!(
        post(
            &o01,
            &csrf,
            &[
                ("verb", "refer"),
                ("department", "县消防救援大队"),
                ("case_number", ""),
                ("deadline", &month)
            ]
        ),
        400,
        "a referral needs its case number"
    );
    assert_eq!(
        post(
            &o01,
            &csrf,
            &[
                ("verb", "refer"),
                ("department", "县消防救援大队"),
                ("case_number", "QS-2026-001"),
                ("deadline", &month)
            ]
        ),
        303
    );
    assert_eq!(
        post(
            &o01,
            &csrf,
            &[("verb", "record_outcome"), ("outcome", "已责令改正并复查")]
        ),
        303
    );
    // Whoever recorded the outcome does not verify it.
    let page = o01.page(&detail);
    assert!(
        !page.contains("act-review"),
        "o01 is not offered verification"
    );
    assert_eq!(
        post(&o01, &csrf, &[("verb", "review"), ("passed", "yes")]),
        400
    );
    // The queue says what the case is, why and by whom it came up, that it is under 挂牌督办,
    // and why the officer who recorded the outcome does not verify it.
    let queue = o01.page("/console/escalations");
    let worker_name = phone.user("w04").unwrap().name;
    for said in [
        "安全出口被杂物堵塞",
        "重大隐患",
        worker_name.as_str(),
        "挂牌督办",
        "您记录了处理结果，须由另一名干部复查销号",
    ] {
        assert!(queue.contains(said), "the queue says {said}");
    }
    let o02 = Browser::sign_in(&server, "o02");
    let csrf2 = o02.csrf(&detail);
    assert!(o02.page(&detail).contains("act-review"));
    assert!(!o02
        .page("/console/escalations")
        .contains("您记录了处理结果"));
    assert_eq!(
        post(
            &o02,
            &csrf2,
            &[
                ("verb", "review"),
                ("passed", "yes"),
                ("note", "现场复查合格")
            ]
        ),
        303
    );

    phone.sync(&mut |_| {}).unwrap();
    let h = phone.hazard(id).unwrap().hazard;
    assert_eq!(h.status, HazardStatus::Closed);
    assert!(h.supervised);
    assert_eq!(h.referral.unwrap().case_number, "QS-2026-001");
    let verbs: Vec<&str> = phone
        .hazard(id)
        .unwrap()
        .events
        .iter()
        .map(|e| e.event.verb())
        .collect();
    assert_eq!(
        verbs,
        [
            "report",
            "escalate",
            // Escalated offline: the server numbers the case when it first arrives.
            "case_number",
            "supervise",
            "refer",
            "record_outcome",
            "review"
        ]
    );
}

#[test]
fn what_a_phone_typed_is_shown_as_text_never_as_markup() {
    let server = Server::start(None, &[]);
    let phone = device(&server, "w04");
    let who = phone.actor("w04").unwrap();
    let place = common::place_in(&phone, "w04", "g04");
    let typed = "<img src=x onerror=alert(1)>\"'&";
    let id = phone
        .report_hazard(
            &who,
            NewHazard::new(place.id, "wiring", Severity::General, typed),
        )
        .unwrap();
    phone.sync(&mut |_| {}).unwrap();
    let officer = Browser::sign_in(&server, "o01");
    let page = officer.page(&format!("/console/hazards/{id}"));
    assert!(!page.contains("<img src=x"), "no markup from the phone");
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;"));
}

#[test]
fn a_console_sign_in_ends_on_the_server_when_its_time_is_up() {
    // Hours 0: every sign-in has ended by the next request.
    let server = Server::start(None, &["--console-session-hours", "0"]);
    let browser = Browser::sign_in(&server, "o01");
    std::thread::sleep(std::time::Duration::from_millis(20));
    let res = browser.get("/console/");
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()[header::LOCATION],
        "/console/login?expired=1&next=%2Fconsole%2F",
        "to sign in again, told why"
    );

    // Behind a TLS proxy that says so, the cookie is Secure; otherwise it cannot be.
    let http = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let cookie = |proto: Option<&str>| {
        let mut req = http
            .post(format!("{}/console/login", server.url))
            .form(&[("user_id", "o01"), ("password", "gridpatrol")]);
        if let Some(p) = proto {
            req = req.header("x-forwarded-proto", p);
        }
        let res = req.send().unwrap();
        res.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .to_string()
    };
    assert!(cookie(Some("https")).ends_with("; Secure"));
    assert!(!cookie(None).contains("Secure"));
    assert!(cookie(None).contains("Max-Age=0"));
}

#[test]
fn a_village_leader_decides_an_extension_escalates_and_the_township_enforces_or_withdraws() {
    let server = Server::start(None, &[]);
    let phone = device(&server, "w04");
    let who = phone.actor("w04").unwrap();
    let place = common::place_in(&phone, "w04", "g04");
    let raise = |description: &str| {
        phone
            .report_hazard(
                &who,
                NewHazard::new(place.id, "wiring", Severity::General, description),
            )
            .unwrap()
    };
    let first = raise("配电箱线路老化");
    let second = raise("重复上报");
    let deadline = phone.today().plus(5);
    for ev in [
        HazardEvent::Notify {
            responsible_party: "店主".into(),
            deadline,
            note: String::new(),
        },
        HazardEvent::RequestExtension {
            reason: "需等电工".into(),
            proposed_deadline: deadline.plus(10),
            interim_measures: "断电停用".into(),
        },
    ] {
        phone.hazard_event(&who, first, ev).unwrap();
    }
    phone.sync(&mut |_| {}).unwrap();

    let act = |b: &Browser, id: Uuid, form: &[(&str, &str)]| {
        let detail = format!("/console/hazards/{id}");
        let csrf = b.csrf(&detail);
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(form);
        b.act(&format!("{detail}/act"), &all).status().as_u16()
    };
    let leader = Browser::sign_in(&server, "l02");
    assert_eq!(
        act(
            &leader,
            first,
            &[
                ("verb", "decide_extension"),
                ("approved", "yes"),
                ("basis", "情况属实")
            ]
        ),
        303
    );
    assert_eq!(
        act(
            &leader,
            first,
            &[
                ("verb", "escalate"),
                ("to", "township"),
                ("reason", "beyond_power"),
                ("note", "")
            ]
        ),
        303
    );
    assert_eq!(
        act(
            &leader,
            second,
            &[("verb", "withdraw"), ("reason", "与另一条重复")]
        ),
        303
    );
    let officer = Browser::sign_in(&server, "o01");
    assert_eq!(
        act(
            &officer,
            first,
            &[
                ("verb", "joint_enforcement"),
                ("departments", "供电所、市场监管所"),
                ("note", ""),
                ("deadline", &in_days(30))
            ]
        ),
        303
    );

    phone.sync(&mut |_| {}).unwrap();
    let h = phone.hazard(first).unwrap();
    assert!(
        h.events.iter().any(|e| matches!(
            e.event,
            HazardEvent::DecideExtension { approved: true, .. }
        ) && e.conflict.is_none()),
        "the extension was granted"
    );
    let h = h.hazard;
    assert_eq!(
        h.deadline,
        Some(phone.today().plus(30)),
        "the township's 办结期限 replaces the grid's deadline"
    );
    assert_eq!(h.status, HazardStatus::JointEnforcement);
    assert_eq!(h.level, Level::Township);
    assert_eq!(
        phone.hazard(second).unwrap().hazard.status,
        HazardStatus::Withdrawn
    );
}
