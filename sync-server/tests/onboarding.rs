//! A real township's first start, without the demo (issue 15): `init` creates the county, the
//! township and the first township officer, refuses to run twice or to leave half a tree; the
//! server then starts without `--demo`, the officer signs in to the console, and accounts can be
//! added under the township. Then the 底数清单: the template's sheets and headers, a file in
//! that layout imported (all rows checked first, the same file twice changes nothing, a file
//! with bad rows imports nothing and names them, only a township officer imports), and a
//! worker's phone receives exactly its grid and patrols there.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::Browser;

const SECRET: &str = "青石镇 a long secret";

fn init_args(admin: &str) -> Vec<&str> {
    vec![
        "init",
        "--county",
        "晋源区",
        "--township",
        "青石镇",
        "--admin",
        admin,
        "--admin-name",
        "张晓东",
    ]
}

/// The server on `dir` without the demo; killed when dropped.
struct Plain(std::process::Child, String);

impl Drop for Plain {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(dir: &Path) -> Plain {
    let (child, url) = common::start_plain_server(dir);
    Plain(child, url)
}

#[test]
fn a_township_starts_without_the_demo() {
    let dir = tempfile::tempdir().unwrap();

    // A bad field or password changes nothing, so the right `init` still works afterwards.
    for (args, stdin) in [
        (init_args("o 01"), format!("{SECRET}\n")),
        (init_args("o01"), "short\n".to_string()),
    ] {
        let out = common::admin_output(dir.path(), &args, &stdin);
        assert!(!out.status.success(), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).starts_with("错误 / error"));
    }
    let out = common::admin_output(dir.path(), &init_args("o01"), &format!("{SECRET}\n"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("青石镇（t01）"));
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains(SECRET),
        "the password is never printed"
    );

    // A second `init` is refused and makes no second tree.
    let again = common::admin_output(dir.path(), &init_args("o09"), &format!("{SECRET}\n"));
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("已初始化"));

    // Accounts go under the township now (before `init`: 找不到组织节点：t01).
    let added = common::admin_output(
        dir.path(),
        &[
            "user",
            "add",
            "o02",
            "--name",
            "李梅",
            "--role",
            "township_officer",
            "--org",
            "t01",
        ],
        &format!("{SECRET}\n"),
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    // A CSV of one sheet, saved by Excel as "CSV UTF-8" (with its byte-order mark).
    let csv = dir.path().join("村社区.csv");
    std::fs::write(&csv, "\u{feff}编号,名称\r\nv09,北坡村\r\n").unwrap();
    let imported = common::admin(
        dir.path(),
        &["import", "--as", "o01", csv.to_str().unwrap()],
        "",
    );
    assert!(imported.contains("村社区 新增 1 变更 0"), "{imported}");
    let users = common::admin(dir.path(), &["user", "list"], "");
    assert!(
        users.contains("o01\t张晓东") && users.contains("o02\t李梅"),
        "{users}"
    );
    assert!(!users.contains("w01"), "no demo people");

    // The server starts without --demo and the officer signs in to the console.
    let server = serve(dir.path());
    let officer = Browser::sign_in_at(&server.1, "o01", SECRET);
    let home = officer.page("/console/");
    assert!(home.contains("青石镇"), "the township's own name");
}

/// Ops in the server's log.
fn ops_in(dir: &Path) -> i64 {
    rusqlite::Connection::open(dir.join("ops.db"))
        .unwrap()
        .query_row("SELECT count(*) FROM ops", [], |r| r.get(0))
        .unwrap()
}

/// A 底数清单 in the template's layout: 3 villages, 8 grids, 25 places a grid, 12 people;
/// `bad` rows of places are made wrong in three different ways.
fn register(path: &Path, bad: bool) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let mut sheet = |name: &str, rows: Vec<Vec<String>>| {
        let ws = book.add_worksheet();
        ws.set_name(name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                ws.write(r as u32, c as u16, v.as_str()).unwrap();
            }
        }
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    sheet(
        "村社区",
        vec![
            s(&["编号", "名称"]),
            s(&["v01", "东沟村"]),
            s(&["v02", "西岭村"]),
            s(&["v03", "南河社区"]),
        ],
    );
    let mut grids = vec![s(&["编号", "名称", "村社区编号"])];
    for g in 1..=8 {
        let v = format!("v0{}", (g - 1) / 3 + 1);
        grids.push(vec![format!("g0{g}"), format!("第{g}网格"), v]);
    }
    sheet("网格", grids);
    // Columns in another order than the template's, as people rearrange them.
    let mut places = vec![s(&[
        "编号",
        "名称",
        "地址",
        "网格编号",
        "场所类型",
        "风险等级",
        "负责人",
        "负责人电话",
    ])];
    let types = ["小饭店", "出租房", "沿街商铺", "农户", "医疗诊所"];
    for i in 0..200 {
        let mut row = vec![
            format!("QS-{i:04}"),
            format!("场所{i}"),
            format!("青石镇{i}号"),
            format!("g0{}", i % 8 + 1),
            types[i % types.len()].to_string(),
            ["高风险", "中", "低风险"][i % 3].to_string(),
            "王某".to_string(),
            format!("1380000{i:04}"),
        ];
        if bad {
            match i {
                11 => row[4] = "小作坊".into(),
                40 => row[3] = "g99".into(),
                77 => row[5] = "极高".into(),
                _ => {}
            }
        }
        places.push(row);
    }
    sheet("场所", places);
    let mut people = vec![s(&["账号", "姓名", "角色", "负责范围", "电话"])];
    for g in 1..=8 {
        people.push(vec![
            format!("w0{g}"),
            format!("网格员{g}"),
            "网格员".into(),
            format!("g0{g}"),
            String::new(),
        ]);
    }
    for v in 1..=3 {
        people.push(vec![
            format!("l0{v}"),
            format!("村负责人{v}"),
            "村（社区）负责人".into(),
            format!("v0{v}"),
            String::new(),
        ]);
    }
    people.push(s(&["o02", "李梅", "乡镇管理员", "t01", "13900000001"]));
    sheet("人员", people);
    book.save(path).unwrap();
}

#[test]
fn a_township_imports_its_register_and_a_worker_patrols_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::admin_output(dir.path(), &init_args("o01"), &format!("{SECRET}\n"));
    assert!(out.status.success());

    // The template: four sheets with their headers.
    let template = dir.path().join("template.xlsx");
    common::admin(
        dir.path(),
        &["template", "--to", template.to_str().unwrap()],
        "",
    );
    let mut xlsx: calamine::Xlsx<_> = calamine::open_workbook(&template).unwrap();
    use calamine::Reader;
    assert_eq!(xlsx.sheet_names(), ["村社区", "网格", "场所", "人员"]);
    let places_sheet = xlsx.worksheet_range("场所").unwrap();
    let headers: Vec<String> = places_sheet
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    for h in [
        "名称",
        "网格编号",
        "场所类型",
        "风险等级",
        "编号",
        "负责人电话",
    ] {
        assert!(headers.iter().any(|x| x == h), "{h} in {headers:?}");
    }

    // A file with three bad rows imports nothing and names the three.
    let bad = dir.path().join("bad.xlsx");
    register(&bad, true);
    let before = ops_in(dir.path());
    let out = common::admin_output(
        dir.path(),
        &["import", "--as", "o01", bad.to_str().unwrap()],
        "",
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for line in [
        "场所 第 13 行：场所类型“小作坊”无法识别",
        "场所 第 42 行：网格编号“g99”",
        "场所 第 79 行：风险等级“极高”",
    ] {
        assert!(err.contains(line), "{line} in {err}");
    }
    assert!(err.contains("3 处问题"), "{err}");
    assert_eq!(ops_in(dir.path()), before, "nothing written");

    // Only a township officer imports; a preview writes nothing.
    let good = dir.path().join("register.xlsx");
    register(&good, false);
    let file = good.to_str().unwrap();
    let out = common::admin_output(dir.path(), &["import", "--as", "w01", file], "");
    assert!(!out.status.success());
    let preview = common::admin(
        dir.path(),
        &["import", "--as", "o01", "--dry-run", file],
        "",
    );
    assert!(
        preview.contains(
            "村社区 新增 3 变更 0；网格 新增 8 变更 0；场所 新增 200 变更 0 停用 0；人员 新增 12"
        ),
        "{preview}"
    );
    assert_eq!(ops_in(dir.path()), before, "a preview writes nothing");

    let imported = common::admin(dir.path(), &["import", "--as", "o01", file], "");
    let passwords: std::collections::HashMap<String, String> = imported
        .lines()
        .filter_map(|l| l.strip_prefix("初始密码 / first password\t"))
        .filter_map(|l| l.split_once('\t'))
        .map(|(u, p)| (u.to_string(), p.to_string()))
        .collect();
    assert_eq!(passwords.len(), 12, "{imported}");
    let after = ops_in(dir.path());
    assert_eq!(after - before, 3 + 8 + 200 + 12);

    // The same file again changes nothing.
    let again = common::admin(dir.path(), &["import", "--as", "o01", file], "");
    assert!(again.contains("未写入"), "{again}");
    assert_eq!(ops_in(dir.path()), after, "the same file twice adds no op");

    // A worker's phone receives exactly its grid's places and the checklists, and patrols.
    let server = serve(dir.path());
    let phone =
        gridpatrol_core::Store::open(dir.path().join("w01.db"), gridpatrol_core::Clock::System)
            .unwrap();
    let first = phone.sign_in(&server.1, "w01", &passwords["w01"]).unwrap();
    assert!(
        first.must_change_password,
        "a first password is to be changed"
    );
    assert!(
        phone
            .change_password(&passwords["w01"], &passwords["w01"])
            .is_err(),
        "not to itself"
    );
    phone
        .change_password(&passwords["w01"], "李某自己的密码 2026")
        .unwrap();
    assert!(
        phone.sign_in(&server.1, "w01", &passwords["w01"]).is_err(),
        "the first one is gone"
    );
    let again = phone
        .sign_in(&server.1, "w01", "李某自己的密码 2026")
        .unwrap();
    assert!(!again.must_change_password);
    phone.sync(&mut |_| {}).unwrap();
    let w01 = phone.actor("w01").unwrap();
    let places = phone.places(&w01).unwrap();
    assert_eq!(places.len(), 25);
    assert!(places.iter().all(|p| p.place.grid_id == "g01"));
    assert!(
        phone.template("nine_small", None).is_ok(),
        "the checklists came too"
    );
    let clinic = places
        .iter()
        .find(|p| p.place.place_type == "small_clinic")
        .unwrap();
    common::visit(&phone, "w01", clinic.place.id);
    phone.sync(&mut |_| {}).unwrap();

    let officer = Browser::sign_in_at(&server.1, "o01", SECRET);
    let village = officer.page("/console/?scope=v01");
    assert!(
        village.contains(r#">第1网格</a></th><td class="num">1</td>"#),
        "one patrol in g01 on the township's dashboard"
    );
}

/// The value of the hidden field `name` on `page`.
fn hidden(page: &str, name: &str) -> String {
    let at = page.find(&format!("name=\"{name}\" value=\"")).unwrap() + name.len() + 15;
    page[at..].split('"').next().unwrap().to_string()
}

#[test]
fn the_console_imports_the_register_for_township_officers_only() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::admin_output(dir.path(), &init_args("o01"), &format!("{SECRET}\n"));
    assert!(out.status.success());
    let server = serve(dir.path());
    let officer = Browser::sign_in_at(&server.1, "o01", SECRET);
    let page = officer.page("/console/admin/import");
    assert!(page.contains("/console/admin/import/template.xlsx"));
    let template = officer.get("/console/admin/import/template.xlsx");
    assert_eq!(template.status(), 200);
    let bytes = template.bytes().unwrap().to_vec();
    let xlsx = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    use calamine::Reader;
    assert_eq!(xlsx.sheet_names(), ["村社区", "网格", "场所", "人员"]);

    let csrf = officer.csrf("/console/admin/import");
    let bad = dir.path().join("bad.xlsx");
    register(&bad, true);
    let res = officer.post_multipart(
        "/console/admin/import",
        &[
            ("csrf", None, csrf.as_bytes()),
            ("file", Some("bad.xlsx"), &std::fs::read(&bad).unwrap()),
        ],
    );
    let text = res.text().unwrap();
    assert!(text.contains("发现 3 处问题"), "{text}");
    assert!(text.contains("场所 第 13 行"));

    let good = dir.path().join("register.xlsx");
    register(&good, false);
    let preview = officer
        .post_multipart(
            "/console/admin/import",
            &[
                ("csrf", None, csrf.as_bytes()),
                (
                    "file",
                    Some("register.xlsx"),
                    &std::fs::read(&good).unwrap(),
                ),
            ],
        )
        .text()
        .unwrap();
    assert!(preview.contains("场所 新增 200"), "{preview}");
    assert!(ops_in(dir.path()) < 200, "a preview writes nothing");
    let done = officer
        .post_multipart(
            "/console/admin/import",
            &[
                ("csrf", None, csrf.as_bytes()),
                ("name", None, hidden(&preview, "name").as_bytes()),
                ("data", None, hidden(&preview, "data").as_bytes()),
            ],
        )
        .text()
        .unwrap();
    assert!(done.contains("已导入"), "{done}");
    let w01_password = done
        .split("<td>w01</td><td><code>")
        .nth(1)
        .and_then(|rest| rest.split("</code>").next())
        .unwrap()
        .to_string();

    // A first password opens nothing but the page that changes it.
    let worker = Browser::sign_in_at(&server.1, "w01", &w01_password);
    let res = worker.get("/console/");
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/console/password");
    let csrf = worker.csrf("/console/password");
    let res = worker.post(
        "/console/password",
        &[
            ("csrf", csrf.as_str()),
            ("old", w01_password.as_str()),
            ("new", "网格员自己的密码"),
            ("repeat", "网格员自己的密码"),
        ],
    );
    assert_eq!(res.status(), 303, "{}", res.text().unwrap());
    assert_eq!(worker.get("/console/").status(), 200);

    // A worker may not import or administer, nor see the way in.
    for page in [
        "import",
        "places",
        "people",
        "plans",
        "areas",
        "campaigns",
        "checklists",
    ] {
        let res = worker.get(&format!("/console/admin/{page}"));
        assert_eq!(res.status(), 403, "{page}");
    }
    let res = worker.post(
        "/console/admin/places",
        &[("csrf", csrf.as_str()), ("name", "偷偷加的场所")],
    );
    assert_eq!(res.status(), 403);
    assert!(!worker.page("/console/").contains("/console/admin/"));
    assert_eq!(
        worker.get("/console/admin/import/template.xlsx").status(),
        403
    );
}
