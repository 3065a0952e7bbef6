//! The console's pages: dashboard, escalation queue, hazard list and detail (with the actions
//! a user may take), patrol coverage, exports and the annual figures, conflicts and refused
//! ops. Each reads the caught-up fold, cut to the signed-in user's scope.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use gridpatrol_core::checklist::library;
use gridpatrol_core::clock::Day;
use gridpatrol_core::hazard::{
    EscalationReason, EventRow, HazardEvent, HazardFilter, HazardRow, HazardStatus, Level, Severity,
};
use gridpatrol_core::op::OpBody;
use gridpatrol_core::org::{OrgLevel, Role};
use gridpatrol_core::place::RiskLevel;
use gridpatrol_core::report::export::{csv_with_bom, LedgerFormat};
use gridpatrol_core::report::Report;
use gridpatrol_core::sync::authz;
use gridpatrol_core::Store;
use serde::Deserialize;
use uuid::Uuid;

use super::chart::{bars, Group};
use super::{
    blocking, esc, names, not_visible, page, pct, period, person, url, view, when, Me, Page,
    Refused, Shared, Tree, View,
};
use crate::backend::ApiError;

/// The most rows a list shows (the total is always given).
const LIST_LIMIT: usize = 300;

#[derive(Deserialize, Default)]
pub struct ScopeQuery {
    scope: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// The areas a user may choose, as the options of a select, `scope` chosen.
fn scope_options(tree: &Tree, me: &Me, scope: &str) -> String {
    let mut s = String::new();
    for n in tree.scopes(me.actor()) {
        let sel = if n.id == scope { " selected" } else { "" };
        let _ = write!(
            s,
            "<option value=\"{}\"{sel}>{}（{}）</option>",
            esc(&n.id),
            esc(&n.name),
            n.level.zh()
        );
    }
    s
}

fn scope_form(
    tree: &Tree,
    me: &Me,
    action: &str,
    scope: &str,
    period: Option<(Day, Day)>,
) -> String {
    let mut s = format!(
        "<form class=\"filters\" method=\"get\" action=\"{action}\"><label>范围 / Area<select name=\"scope\">{}</select></label>",
        scope_options(tree, me, scope)
    );
    if let Some((from, to)) = period {
        let _ = write!(
            s,
            "<label>开始 / From<input type=\"date\" name=\"from\" value=\"{from}\"></label>\
             <label>结束 / To<input type=\"date\" name=\"to\" value=\"{to}\"></label>"
        );
    }
    s.push_str("<button type=\"submit\">查看 / Show</button></form>");
    s
}

fn coverage_total(r: &Report) -> Option<f64> {
    let (covered, places) = r
        .coverage
        .iter()
        .fold((0, 0), |(c, p), x| (c + x.covered, p + x.places));
    (places > 0).then(|| f64::from(covered) / f64::from(places))
}

pub async fn dashboard(
    State(b): State<Shared>,
    me: Me,
    Query(q): Query<ScopeQuery>,
) -> Result<Page, Refused> {
    view(b, me, move |v| {
        let (me, store, tree) = (v.me, v.store, &v.tree);
        let node = tree.scope_for(me.actor(), q.scope.as_deref())?;
        let (from, to) = period(q.from.as_deref(), q.to.as_deref(), store.today())?;
        let r = store.report(&node.id, from, to)?;
        let children: Vec<(String, String, Report)> = tree
            .children(&node.id)
            .into_iter()
            .map(|c| Ok((c.id.clone(), c.name.clone(), store.report(&c.id, from, to)?)))
            .collect::<Result<_, gridpatrol_core::Error>>()?;
        let trend = store.monthly_trend(&node.id, from, to)?;
        let queue: usize = queue(store, me)?.iter().map(|(n, _)| n).sum();

        let mut s = format!(
            "<h1>{}（{}）消防安全网格化管理概览</h1>",
            esc(&node.name),
            node.level.zh()
        );
        s.push_str(&scope_form(tree, me, "/console/", &node.id, Some((from, to))));
        let figure = |value: String, label: &str| {
            format!("<div class=\"card figure\"><div class=\"value\">{value}</div><div class=\"label\">{label}</div></div>")
        };
        s.push_str("<section aria-label=\"主要指标 / Headline figures\" class=\"figures\">");
        s.push_str(&figure(pct(r.closure_rate), "闭环率 / Closure rate"));
        s.push_str(&figure(
            pct(r.in_grid_closure_rate),
            "一般隐患网格内闭环率 / Closed in the grid",
        ));
        s.push_str(&figure(pct(r.on_time_rate), "按期整改率 / On-time rate"));
        s.push_str(&figure(
            format!("<a href=\"/console/hazards?overdue=1\">{}</a>", r.overdue_count),
            "逾期未整改 / Overdue",
        ));
        s.push_str(&figure(pct(coverage_total(&r)), "巡查覆盖率 / Patrol coverage"));
        s.push_str(&figure(r.hazards_reported.to_string(), "发现隐患 / Hazards found"));
        s.push_str(&figure(
            format!("<a href=\"/console/escalations\">{queue}</a>"),
            "待办上报 / Escalations waiting",
        ));
        s.push_str("</section>");
        let _ = write!(
            s,
            "<p class=\"muted\">统计期 {from} 至 {to}，截至 {}；比率按期内发现的隐患计算（撤销的不计）。\
             / Rates are over hazards found in the period, withdrawn ones left out.</p>",
            r.as_of
        );

        let child_level = tree
            .children(&node.id)
            .first()
            .map_or("下级", |c| c.level.zh());
        s.push_str("<div class=\"grid2\"><div class=\"card\"><h2>每月发现与销号 / Found and closed by month</h2>");
        let groups: Vec<Group> = trend
            .iter()
            .map(|m| Group {
                label: m.month[2..].to_string(),
                values: vec![m.found, m.closed],
            })
            .collect();
        s.push_str(&bars(
            "每月发现与销号隐患数",
            &["发现 found", "销号 closed"],
            &groups,
        ));
        s.push_str("</div>");
        // Overdue by area, when the area shown has areas under it.
        if !children.is_empty() {
            s.push_str("<div class=\"card\">");
            let _ = write!(s, "<h2>逾期未整改（按{child_level}） / Overdue by area</h2>");
            let groups: Vec<Group> = children
                .iter()
                .map(|(_, name, cr)| Group {
                    label: name.clone(),
                    values: vec![cr.overdue_count],
                })
                .collect();
            s.push_str(&bars(
                &format!("各{child_level}逾期未整改隐患数"),
                &["逾期 overdue"],
                &groups,
            ));
            s.push_str("</div>");
        }
        s.push_str("</div>");

        s.push_str(&breakdown(child_level, &children, from, to));
        // Under a township (or county), the grids too, one level further down.
        let grandchildren: Vec<(String, String, Report)> = tree
            .children(&node.id)
            .into_iter()
            .filter(|c| c.level == OrgLevel::Village)
            .flat_map(|c| tree.children(&c.id))
            .map(|g| Ok((g.id.clone(), g.name.clone(), store.report(&g.id, from, to)?)))
            .collect::<Result<_, gridpatrol_core::Error>>()?;
        s.push_str(&breakdown(OrgLevel::Grid.zh(), &grandchildren, from, to));
        s.push_str("<h2>月度数据 / Monthly figures</h2><table><thead><tr><th scope=\"col\">月份</th><th class=\"num\" scope=\"col\">发现</th><th class=\"num\" scope=\"col\">销号</th></tr></thead><tbody>");
        for m in &trend {
            let _ = write!(
                s,
                "<tr><th scope=\"row\">{}</th><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                m.month, m.found, m.closed
            );
        }
        s.push_str("</tbody></table>");
        Ok(page("概览 / Dashboard", v, "/console/", &s))
    })
    .await
}

/// The figures of each node under the one shown, each linking to its own dashboard.
fn breakdown(level: &str, rows: &[(String, String, Report)], from: Day, to: Day) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let mut s = format!(
        "<h2>分{level}情况 / Breakdown</h2><table><thead><tr><th scope=\"col\">{level}</th>\
         <th class=\"num\" scope=\"col\">巡查次数</th><th class=\"num\" scope=\"col\">发现隐患</th>\
         <th class=\"num\" scope=\"col\">已销号</th><th class=\"num\" scope=\"col\">闭环率</th>\
         <th class=\"num\" scope=\"col\">网格内闭环率</th><th class=\"num\" scope=\"col\">按期整改率</th>\
         <th class=\"num\" scope=\"col\">逾期</th><th class=\"num\" scope=\"col\">覆盖率</th></tr></thead><tbody>"
    );
    for (id, name, r) in rows {
        let _ = write!(
            s,
            "<tr><th scope=\"row\"><a href=\"/console/?scope={}&amp;from={from}&amp;to={to}\">{}</a></th>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            url(id),
            esc(name),
            r.patrols,
            r.hazards_reported,
            r.closed,
            pct(r.closure_rate),
            pct(r.in_grid_closure_rate),
            pct(r.on_time_rate),
            r.overdue_count,
            pct(coverage_total(r)),
        );
    }
    s.push_str("</tbody></table>");
    s
}

/// The level whose queue a user works: a village leader's village, else the township.
fn queue_level(role: Role) -> Level {
    match role {
        Role::VillageLeader => Level::Village,
        _ => Level::Township,
    }
}

/// The groups of the queue, in the order the page shows them.
const QUEUE: [(HazardStatus, &str); 4] = [
    (HazardStatus::Escalated, "已上报本级 / Escalated"),
    (
        HazardStatus::JointEnforcement,
        "联合执法中 / In joint enforcement",
    ),
    (
        HazardStatus::Referred,
        "已移交，待记录结果 / Referred, outcome pending",
    ),
    (
        HazardStatus::AwaitingReview,
        "待复查销号 / Awaiting verification",
    ),
];

/// Cases waiting at the user's level, per group of `QUEUE`: escalated to it, in joint
/// enforcement or referred (waiting for an outcome), or submitted and waiting for its
/// verification. Each group has its full count and its oldest `LIST_LIMIT` cases: the case
/// waiting longest is the one to take up.
fn queue(store: &Store, me: &Me) -> Result<Vec<(usize, Vec<HazardRow>)>, Refused> {
    QUEUE
        .iter()
        .map(|(status, _)| {
            Ok(store.hazard_list(&HazardFilter {
                grids: me.actor().grids.clone(),
                status: Some(*status),
                level: Some(queue_level(me.actor().role)),
                oldest_first: true,
                limit: LIST_LIMIT,
                ..HazardFilter::default()
            })?)
        })
        .collect()
}

fn severity_badge(sev: Severity) -> String {
    match sev {
        Severity::Major => "<span class=\"badge major\">重大隐患</span>".into(),
        Severity::General => "一般隐患".into(),
    }
}

/// A hazard table: id, where, what, state, dates (with a caption unless a heading names it).
fn hazard_table(store: &Store, tree: &Tree, rows: &[HazardRow], caption: Option<&str>) -> String {
    let today = store.today();
    let caption = caption.map_or(String::new(), |c| format!("<caption>{}</caption>", esc(c)));
    let mut s = format!(
        "<table>{caption}<thead><tr><th scope=\"col\">编号</th><th scope=\"col\">场所</th>\
         <th scope=\"col\">村 / 网格</th><th scope=\"col\">类别</th><th scope=\"col\">严重程度</th>\
         <th scope=\"col\">状态</th><th scope=\"col\">发现日期</th><th class=\"num\" scope=\"col\">已开天数</th>\
         <th scope=\"col\">整改期限</th></tr></thead><tbody>"
    );
    if rows.is_empty() {
        s.push_str("<tr><td colspan=\"9\" class=\"muted\">没有记录 / Nothing here</td></tr>");
    }
    for h in rows {
        let place = store
            .place(h.place_id)
            .map(|p| p.place.name)
            .unwrap_or_default();
        let village = tree.village_of(&h.grid_id).unwrap_or("");
        let found = Day::from_ms(h.reported_at);
        let overdue = h
            .days_overdue
            .map(|d| format!(" <span class=\"badge overdue\">逾期 {d} 天</span>"))
            .unwrap_or_default();
        // How long it has been open; a finished case shows none.
        let open_days = if h.status.is_final() {
            "—".to_string()
        } else {
            today.days_since(found).to_string()
        };
        let _ = write!(
            s,
            "<tr><td><a href=\"/console/hazards/{id}\">{tail}</a></td><td>{}</td><td>{} / {}</td><td>{}</td>\
             <td>{}</td><td>{}（{}）</td><td class=\"date\">{found}</td><td class=\"num\">{open_days}</td>\
             <td class=\"date\">{}{overdue}</td></tr>",
            esc(&place),
            esc(tree.name(village)),
            esc(tree.name(&h.grid_id)),
            esc(library().category_zh(&h.category)),
            severity_badge(h.severity),
            h.status.zh(),
            h.level.zh(),
            h.deadline.map_or("—".into(), |d| d.to_string()),
            id = h.id,
            tail = &h.id.to_string()[24..],
        );
    }
    s.push_str("</tbody></table>");
    s
}

pub async fn escalations(State(b): State<Shared>, me: Me) -> Result<Page, Refused> {
    view(b, me, move |v| {
        let (me, store, tree) = (v.me, v.store, &v.tree);
        let level = queue_level(me.actor().role);
        let mut s = format!(
            "<h1>上报待办 / Escalation queue</h1><p class=\"muted\">本级（{}）需要处理的隐患：上报到本级的、联合执法或移交后待记录结果的、待本级复查销号的。\
             打开一条即可交办、移交、挂牌督办、记录结果或复查销号。/ Cases waiting at your level; open one to act on it.</p>",
            level.zh()
        );
        for ((_, title), (total, rows)) in QUEUE.iter().zip(queue(store, me)?) {
            let _ = write!(s, "<h2>{title}（{total}）</h2>");
            s.push_str(&hazard_table(store, tree, &rows, None));
        }
        Ok(page("上报待办 / Escalations", v, "/console/escalations", &s))
    })
    .await
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    status: Option<String>,
    severity: Option<String>,
    village: Option<String>,
    grid: Option<String>,
    place_type: Option<String>,
    overdue: Option<String>,
    /// 1 for the newest `LIST_LIMIT`, 2 for the next, ... (anything else reads as 1)
    page: Option<String>,
}

impl ListQuery {
    /// This list's address at page `page`, every filter kept.
    fn at_page(&self, page: usize) -> String {
        let mut s = format!("/console/hazards?page={page}");
        for (k, v) in [
            ("status", &self.status),
            ("severity", &self.severity),
            ("village", &self.village),
            ("grid", &self.grid),
            ("place_type", &self.place_type),
            ("overdue", &self.overdue),
        ] {
            if let Some(v) = nonempty(v) {
                let _ = write!(s, "&amp;{k}={}", url(v));
            }
        }
        s
    }
}

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

fn select(name: &str, label: &str, options: &[(String, String)], chosen: Option<&str>) -> String {
    let mut s =
        format!("<label>{label}<select name=\"{name}\"><option value=\"\">全部 / All</option>");
    for (value, text) in options {
        let sel = if Some(value.as_str()) == chosen {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            s,
            "<option value=\"{}\"{sel}>{}</option>",
            esc(value),
            esc(text)
        );
    }
    s.push_str("</select></label>");
    s
}

pub async fn hazards(
    State(b): State<Shared>,
    me: Me,
    Query(q): Query<ListQuery>,
) -> Result<Page, Refused> {
    view(b, me, move |v| {
        let (me, store, tree) = (v.me, v.store, &v.tree);
        let bad = |what: &str| Refused::Error(ApiError::bad_request(what));
        let status = nonempty(&q.status)
            .map(|s| HazardStatus::parse(s).ok_or_else(|| bad("status")))
            .transpose()?;
        let severity = match nonempty(&q.severity) {
            None => None,
            Some("general") => Some(Severity::General),
            Some("major") => Some(Severity::Major),
            Some(_) => return Err(bad("severity")),
        };
        let at = q
            .page
            .as_deref()
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(1)
            .max(1);
        let grids = me.actor().grids.clone();
        let villages: Vec<String> = {
            let mut v: Vec<String> = grids
                .iter()
                .filter_map(|g| tree.village_of(g).map(String::from))
                .collect();
            v.sort();
            v.dedup();
            v
        };
        let filter = HazardFilter {
            grids: grids.clone(),
            status,
            severity,
            level: None,
            village_id: nonempty(&q.village).map(String::from),
            grid_id: nonempty(&q.grid).map(String::from),
            place_type: nonempty(&q.place_type).map(String::from),
            overdue: q.overdue.is_some(),
            oldest_first: false,
            offset: (at - 1).saturating_mul(LIST_LIMIT),
            limit: LIST_LIMIT,
        };
        let (total, rows) = store.hazard_list(&filter)?;

        let mut s = String::from("<h1>隐患清单 / Hazards</h1><form class=\"filters\" method=\"get\" action=\"/console/hazards\">");
        let statuses: Vec<(String, String)> = HazardStatus::ALL
            .iter()
            .map(|s| (s.code().into(), s.zh().into()))
            .collect();
        s.push_str(&select("status", "状态 / State", &statuses, nonempty(&q.status)));
        let severities = [
            ("general".to_string(), "一般隐患".to_string()),
            ("major".to_string(), "重大隐患".to_string()),
        ];
        s.push_str(&select("severity", "严重程度 / Severity", &severities, nonempty(&q.severity)));
        let vs: Vec<(String, String)> = villages
            .iter()
            .map(|v| (v.clone(), tree.name(v).to_string()))
            .collect();
        s.push_str(&select("village", "村 / Village", &vs, nonempty(&q.village)));
        let gs: Vec<(String, String)> = grids
            .iter()
            .map(|g| (g.clone(), tree.name(g).to_string()))
            .collect();
        s.push_str(&select("grid", "网格 / Grid", &gs, nonempty(&q.grid)));
        let types: Vec<(String, String)> = library()
            .place_types
            .iter()
            .map(|t| (t.code.clone(), t.zh.clone()))
            .collect();
        s.push_str(&select("place_type", "场所类型 / Place type", &types, nonempty(&q.place_type)));
        let checked = if filter.overdue { " checked" } else { "" };
        let _ = write!(
            s,
            "<label>仅逾期 / Overdue only<input type=\"checkbox\" name=\"overdue\" value=\"1\"{checked}></label>\
             <button type=\"submit\">筛选 / Filter</button></form>"
        );
        let first = filter.offset + 1;
        let last = filter.offset + rows.len();
        let caption = if total > rows.len() && !rows.is_empty() {
            format!("共 {total} 条，第 {first}–{last} 条 / {total} found, {first}–{last} shown")
        } else {
            format!("共 {total} 条 / {total} found")
        };
        s.push_str(&hazard_table(store, tree, &rows, Some(&caption)));
        if total > rows.len() {
            s.push_str("<nav class=\"pages\" aria-label=\"分页 / Pages\">");
            if at > 1 {
                let _ = write!(s, "<a href=\"{}\">← 较新 / Newer</a>", q.at_page(at - 1));
            }
            if last < total {
                let _ = write!(s, "<a href=\"{}\">较早 / Older →</a>", q.at_page(at + 1));
            }
            s.push_str("</nav>");
        }
        Ok(page("隐患 / Hazards", v, "/console/hazards", &s))
    })
    .await
}

/// Every lifecycle verb with the name the console shows for it.
const VERBS: [(&str, &str); 15] = [
    ("report", "上报隐患 Report"),
    ("notify", "下发整改通知 Notify"),
    ("start_rectification", "开始整改 Start"),
    ("submit_rectification", "提交整改 Submit"),
    ("fix_on_spot", "当场整改 Fixed on the spot"),
    ("review", "复查销号 Verify"),
    ("request_extension", "申请延期 Ask for more time"),
    ("decide_extension", "审批延期 Decide on more time"),
    ("escalate", "上报上级 Escalate"),
    ("hand_back", "交办 Hand back"),
    ("joint_enforcement", "联合执法 Joint enforcement"),
    ("refer", "移交 Refer"),
    ("record_outcome", "记录移交结果 Record the outcome"),
    ("supervise", "挂牌督办 Supervise"),
    ("withdraw", "撤销 Withdraw"),
];

/// What the console offers to do (the rest is done on a phone, at the place).
const CONSOLE_VERBS: [&str; 9] = [
    "hand_back",
    "refer",
    "joint_enforcement",
    "record_outcome",
    "supervise",
    "review",
    "decide_extension",
    "escalate",
    "withdraw",
];

fn verb_name(verb: &str) -> &str {
    VERBS
        .iter()
        .find(|(v, _)| *v == verb)
        .map_or(verb, |(_, n)| n)
}

fn event_text(ev: &HazardEvent) -> String {
    let t = |s: &str| esc(s);
    match ev {
        HazardEvent::Report(r) => format!(
            "{}，{}：{}",
            t(library().category_zh(&r.category)),
            r.severity.zh(),
            t(&r.description)
        ),
        HazardEvent::Notify {
            responsible_party,
            deadline,
            note,
        } => format!(
            "责任人 {}，期限 {deadline}。{}",
            t(responsible_party),
            t(note)
        ),
        HazardEvent::StartRectification { note } => t(note),
        HazardEvent::SubmitRectification { note, photos } => {
            format!("{}（照片 {} 张）", t(note), photos.len())
        }
        HazardEvent::FixOnSpot { note, .. } => t(note),
        HazardEvent::Review {
            passed,
            note,
            new_deadline,
        } => format!(
            "{}{}。{}",
            if *passed {
                "通过，销号"
            } else {
                "未通过"
            },
            new_deadline.map_or(String::new(), |d| format!("，新期限 {d}")),
            t(note)
        ),
        HazardEvent::RequestExtension {
            reason,
            proposed_deadline,
            interim_measures,
        } => format!(
            "申请延至 {proposed_deadline}。理由：{}；临时措施：{}",
            t(reason),
            t(interim_measures)
        ),
        HazardEvent::DecideExtension { approved, basis } => format!(
            "{}。{}",
            if *approved { "同意" } else { "不同意" },
            t(basis)
        ),
        HazardEvent::Escalate { to, reason, note } => {
            format!("上报至{}，原因：{}。{}", to.zh(), reason.zh(), t(note))
        }
        HazardEvent::HandBack {
            to,
            guidance,
            deadline,
        } => format!(
            "交办至{}，期限 {deadline}。指导意见：{}",
            to.zh(),
            t(guidance)
        ),
        HazardEvent::JointEnforcement { departments, note } => {
            format!("联合执法部门：{}。{}", t(departments), t(note))
        }
        HazardEvent::Refer {
            department,
            case_number,
            note,
        } => format!(
            "移交 {}，案号 {}。{}",
            t(department),
            t(case_number),
            t(note)
        ),
        HazardEvent::RecordOutcome { outcome } => format!("结果：{}", t(outcome)),
        HazardEvent::Supervise { note } => t(note),
        HazardEvent::Withdraw { reason } => format!("理由：{}", t(reason)),
    }
}

/// The photos a hazard's events cite, each with what it shows.
fn photos_of(events: &[EventRow]) -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = Vec::new();
    for e in events.iter().filter(|e| e.conflict.is_none()) {
        match &e.event {
            HazardEvent::Report(r) => {
                out.extend(r.photos.iter().map(|p| (p.clone(), "发现时 / found")))
            }
            HazardEvent::SubmitRectification { photos, .. } => {
                out.extend(photos.iter().map(|p| (p.clone(), "整改后 / after")))
            }
            HazardEvent::FixOnSpot {
                before_photo,
                after_photo,
                ..
            } => {
                out.extend(before_photo.iter().map(|p| (p.clone(), "整改前 / before")));
                out.extend(after_photo.iter().map(|p| (p.clone(), "整改后 / after")));
            }
            _ => {}
        }
    }
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

/// What a failed action sends back to the page: which form, why, and what was typed.
pub struct Problem {
    verb: String,
    error: ApiError,
    typed: HashMap<String, String>,
}

fn field(typed: Option<&HashMap<String, String>>, name: &str) -> String {
    typed
        .and_then(|t| t.get(name))
        .map(|v| esc(v))
        .unwrap_or_default()
}

/// The form for one verb, with what was typed last time when it failed.
fn action_form(
    verb: &str,
    h: &gridpatrol_core::hazard::Hazard,
    grid_name: &str,
    me: &Me,
    typed: Option<&HashMap<String, String>>,
    today: Day,
) -> String {
    let f = |name: &str| field(typed, name);
    let text = |name: &str, label: &str, required: bool| {
        format!(
            "<label>{label}<input name=\"{name}\" value=\"{}\"{}></label>",
            f(name),
            if required { " required" } else { "" }
        )
    };
    let area = |name: &str, label: &str, required: bool| {
        format!(
            "<label>{label}<textarea name=\"{name}\"{}>{}</textarea></label>",
            if required { " required" } else { "" },
            f(name)
        )
    };
    let date = |name: &str, label: &str, default: Day, required: bool| {
        let v = typed
            .and_then(|t| t.get(name))
            .map_or(default.to_string(), |v| esc(v));
        format!(
            "<label>{label}<input type=\"date\" name=\"{name}\" value=\"{v}\"{}></label>",
            if required { " required" } else { "" }
        )
    };
    let yes_no = |name: &str, yes: &str, no: &str| {
        let no_checked = typed.and_then(|t| t.get(name)).is_some_and(|v| v == "no");
        format!(
            "<fieldset><legend>{}</legend><label><input type=\"radio\" name=\"{name}\" value=\"yes\"{}> {yes}</label>\
             <label><input type=\"radio\" name=\"{name}\" value=\"no\"{}> {no}</label></fieldset>",
            "结论 / Decision",
            if no_checked { "" } else { " checked" },
            if no_checked { " checked" } else { "" }
        )
    };
    let levels = |below: bool| {
        let mut s = String::from("<label>至 / To<select name=\"to\">");
        for l in [Level::Grid, Level::Village, Level::Township] {
            if (below && l < h.level) || (!below && l > h.level) {
                let name = match l {
                    Level::Grid => format!("网格：{}", esc(grid_name)),
                    _ => l.zh().to_string(),
                };
                let _ = write!(s, "<option value=\"{}\">{name}</option>", l.code());
            }
        }
        s.push_str("</select></label>");
        s
    };
    let body = match verb {
        "hand_back" => format!(
            "{}{}{}",
            levels(true),
            area("guidance", "指导意见 / Guidance", true),
            date("deadline", "整改期限 / Deadline", today.plus(7), true)
        ),
        "refer" => format!(
            "{}{}{}",
            text("department", "移交部门 / Department", true),
            text("case_number", "案号 / Case number", true),
            area("note", "备注 / Note", false)
        ),
        "joint_enforcement" => format!(
            "{}{}",
            text("departments", "参与部门 / Departments", true),
            area("note", "备注 / Note", false)
        ),
        "record_outcome" => area("outcome", "处理结果 / Outcome", true),
        "supervise" => area("note", "督办要求 / Note", false),
        "review" => format!(
            "{}{}{}",
            yes_no(
                "passed",
                "通过，销号 / Passed, close",
                "未通过，退回整改 / Failed, rework"
            ),
            area("note", "复查意见 / Note", false),
            date(
                "new_deadline",
                "未通过时的新期限 / New deadline if failed",
                today.plus(7),
                false
            )
        ),
        "decide_extension" => {
            let pending = h.pending_extension.as_ref().map_or(String::new(), |p| {
                format!(
                    "<p>申请延至 {}：{}</p>",
                    p.proposed_deadline,
                    esc(&p.reason)
                )
            });
            format!(
                "{pending}{}{}",
                yes_no("approved", "同意 / Approve", "不同意 / Refuse"),
                area("basis", "依据 / Basis", true)
            )
        }
        "escalate" => {
            let mut reasons = String::from("<label>原因 / Reason<select name=\"reason\">");
            for (code, r) in REASONS {
                let _ = write!(reasons, "<option value=\"{code}\">{}</option>", r.zh());
            }
            reasons.push_str("</select></label>");
            format!(
                "{}{reasons}{}",
                levels(false),
                area("note", "备注 / Note", false)
            )
        }
        "withdraw" => area("reason", "撤销理由 / Reason", true),
        _ => String::new(),
    };
    let open = if typed.is_some() { " open" } else { "" };
    format!(
        "<details{open} id=\"act-{verb}\"><summary>{}</summary><form class=\"act\" method=\"post\" action=\"/console/hazards/{}/act\">\
         {}<input type=\"hidden\" name=\"verb\" value=\"{verb}\">{body}<div><button type=\"submit\">提交 / Submit</button></div></form></details>",
        verb_name(verb),
        h.id,
        me.csrf_field()
    )
}

const REASONS: [(&str, EscalationReason); 7] = [
    ("beyond_power", EscalationReason::BeyondPower),
    ("major", EscalationReason::Major),
    ("needs_enforcement", EscalationReason::NeedsEnforcement),
    ("owner_refuses", EscalationReason::OwnerRefuses),
    ("rework_twice", EscalationReason::ReworkTwice),
    ("overdue", EscalationReason::Overdue),
    ("imminent_danger", EscalationReason::ImminentDanger),
];

#[derive(Deserialize, Default)]
pub struct DetailQuery {
    done: Option<String>,
}

fn parse_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| not_visible())
}

/// The detail page of a hazard in the user's scope.
fn detail(
    v: &View,
    id: Uuid,
    done: Option<&str>,
    problem: Option<&Problem>,
) -> Result<Page, Refused> {
    let (b, me, store, tree) = (v.b, v.me, v.store, &v.tree);
    let d = match store.hazard(id) {
        Ok(d) if me.actor().covers(&d.hazard.report.grid_id) => d,
        Ok(_) => return Err(not_visible().into()),
        Err(e) if e.code() == "not_found" => return Err(not_visible().into()),
        Err(e) => return Err(e.into()),
    };
    let h = &d.hazard;
    let who = names(store)?;
    let person = |id: &str| person(&who, id);
    let place = store.place(h.report.place_id).ok();
    let village = tree.village_of(&h.report.grid_id).unwrap_or("");
    let mut s = format!(
        "<p><a href=\"/console/hazards\">← 隐患清单 / Hazards</a></p><h1>隐患 {} · {}</h1>",
        &h.id.to_string()[24..],
        esc(library().category_zh(&h.report.category))
    );
    if let Some(verb) = done {
        let _ = write!(
            s,
            "<p class=\"msg ok\" role=\"status\">已记录「{}」，网格员手机下次同步时即可看到。/ Recorded; phones get it at their next sync.</p>",
            esc(verb_name(verb))
        );
    }
    if let Some(p) = problem {
        let _ = write!(
            s,
            "<p class=\"msg error\" role=\"alert\">「{}」未能记录：{}<br><span lang=\"en\">Not recorded: {}</span></p>",
            esc(verb_name(&p.verb)),
            esc(&p.error.zh),
            esc(&p.error.en)
        );
    }
    s.push_str("<div class=\"grid2\"><section class=\"card\"><h2>基本情况 / Facts</h2><dl class=\"facts\">");
    let mut fact = |k: &str, v: String| {
        let _ = write!(s, "<dt>{k}</dt><dd>{v}</dd>");
    };
    fact(
        "状态 State",
        format!(
            "{}（{}）{}{}",
            h.status.zh(),
            h.level.zh(),
            if h.supervised {
                " <span class=\"badge supervised\">挂牌督办</span>"
            } else {
                ""
            },
            d.days_overdue
                .map(|n| format!(" <span class=\"badge overdue\">逾期 {n} 天</span>"))
                .unwrap_or_default()
        ),
    );
    fact("严重程度 Severity", severity_badge(h.severity));
    fact("描述 Description", esc(&h.report.description));
    if let Some(p) = &place {
        fact(
            "场所 Place",
            format!(
                "{}（{}）<br>{}",
                esc(&p.place.name),
                esc(library().place_type_zh(&p.place.place_type)),
                esc(&p.place.address)
            ),
        );
        fact(
            "责任人 Responsible",
            format!(
                "{} {}",
                esc(&p.place.responsible_name),
                esc(p.place.responsible_phone.as_deref().unwrap_or(""))
            ),
        );
    }
    fact(
        "村 / 网格 Area",
        format!(
            "{} / {}",
            esc(tree.name(village)),
            esc(tree.name(&h.report.grid_id))
        ),
    );
    if let Some(l) = h.report.location {
        fact("位置 Location", format!("{:.5}, {:.5}", l.lat, l.lon));
    }
    fact(
        "发现 Found",
        format!("{} {}", when(h.reported_at), person(&h.reporter_id)),
    );
    fact(
        "整改期限 Deadline",
        h.deadline.map_or("—".into(), |d| d.to_string()),
    );
    if let Some(p) = &h.responsible_party {
        fact("整改责任方 Party", esc(p));
    }
    if let Some(r) = &h.referral {
        fact(
            "移交 Referral",
            format!("{}，案号 {}", esc(&r.department), esc(&r.case_number)),
        );
    }
    if let Some(reason) = d.escalation_due {
        fact("应当上报 Should escalate", reason.zh().into());
    }
    if !d.repeat_of.is_empty() {
        fact(
            "重复隐患 Repeat",
            "同一场所同类隐患半年内曾销号 / closed here within 180 days".into(),
        );
    }
    s.push_str("</dl></section><section class=\"card\"><h2>照片 / Photos</h2>");
    let photos = photos_of(&d.events);
    if photos.is_empty() {
        s.push_str("<p class=\"muted\">没有照片 / No photos</p>");
    } else {
        s.push_str("<div class=\"photos\">");
        for (hash, what) in &photos {
            let held = b
                .blobs()
                .received(&crate::blobs::blob_name(hash, "original"))
                .is_ok_and(|r| r.complete);
            if !held {
                let _ = write!(
                    s,
                    "<figure><div class=\"nophoto\">照片尚未上传<br>not uploaded yet</div><figcaption>{what}</figcaption></figure>"
                );
                continue;
            }
            let _ = write!(
                s,
                "<figure><a href=\"/console/photos/{hash}?variant=display\"><img src=\"/console/photos/{hash}?variant=thumb\" alt=\"隐患照片：{what}\"></a><figcaption>{what}</figcaption></figure>"
            );
        }
        s.push_str("</div>");
    }
    s.push_str("</section></div>");

    let allowed = store.allowed_transitions(me.actor(), id)?;
    let offered: Vec<&str> = CONSOLE_VERBS
        .iter()
        .copied()
        .filter(|v| allowed.contains(v))
        .collect();
    s.push_str("<section class=\"actions\"><h2>处理 / Act</h2>");
    if offered.is_empty() {
        s.push_str("<p class=\"muted\">您在本阶段没有可在工作台办理的操作。/ Nothing for you to do here at this stage.</p>");
    }
    for verb in offered {
        let typed = problem.filter(|p| p.verb == verb).map(|p| &p.typed);
        s.push_str(&action_form(
            verb,
            h,
            tree.name(&h.report.grid_id),
            me,
            typed,
            store.today(),
        ));
    }
    s.push_str("</section><section><h2>处理经过 / Timeline</h2><ol class=\"timeline\">");
    for e in &d.events {
        let conflict = e.conflict.as_ref().map_or(String::new(), |c| {
            format!(
                "<br><strong>未生效（冲突）/ Did not apply:</strong> {}",
                esc(&c.zh())
            )
        });
        let _ = write!(
            s,
            "<li{}><strong>{}</strong> · {} · {}<br>{}{conflict}</li>",
            if e.conflict.is_some() {
                " class=\"conflict\""
            } else {
                ""
            },
            verb_name(e.event.verb()),
            when(e.hlc.wall_ms()),
            person(&e.actor_id),
            event_text(&e.event),
        );
    }
    s.push_str("</ol></section>");
    let mut p = page("隐患详情 / Hazard", v, "/console/hazards", &s);
    if let Some(pr) = problem {
        p.status = StatusCode::from_u16(pr.error.status).unwrap_or(StatusCode::BAD_REQUEST);
    }
    Ok(p)
}

pub async fn hazard(
    State(b): State<Shared>,
    me: Me,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> Result<Page, Refused> {
    view(b, me, move |v| {
        detail(v, parse_id(&id)?, q.done.as_deref(), None)
    })
    .await
}

/// The event a submitted action form describes, or why it is not one (only `CONSOLE_VERBS`
/// are).
fn event_from(verb: &str, f: &HashMap<String, String>) -> Result<HazardEvent, ApiError> {
    let get = |k: &str| f.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
    let day = |k: &str| -> Result<Day, ApiError> {
        get(k).parse().map_err(|_| {
            ApiError::new(
                400,
                "bad_date",
                "日期格式不正确（应为 年-月-日）",
                "dates are written YYYY-MM-DD",
            )
        })
    };
    let level = || match get("to").as_str() {
        "grid" => Ok(Level::Grid),
        "village" => Ok(Level::Village),
        "township" => Ok(Level::Township),
        _ => Err(ApiError::bad_request("to")),
    };
    let yes = |k: &str| match get(k).as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err(ApiError::bad_request(k)),
    };
    Ok(match verb {
        "hand_back" => HazardEvent::HandBack {
            to: level()?,
            guidance: get("guidance"),
            deadline: day("deadline")?,
        },
        "refer" => HazardEvent::Refer {
            department: get("department"),
            case_number: get("case_number"),
            note: get("note"),
        },
        "joint_enforcement" => HazardEvent::JointEnforcement {
            departments: get("departments"),
            note: get("note"),
        },
        "record_outcome" => HazardEvent::RecordOutcome {
            outcome: get("outcome"),
        },
        "supervise" => HazardEvent::Supervise { note: get("note") },
        "review" => {
            let passed = yes("passed")?;
            HazardEvent::Review {
                passed,
                note: get("note"),
                new_deadline: if passed {
                    None
                } else {
                    Some(day("new_deadline")?)
                },
            }
        }
        "decide_extension" => HazardEvent::DecideExtension {
            approved: yes("approved")?,
            basis: get("basis"),
        },
        "escalate" => HazardEvent::Escalate {
            to: level()?,
            reason: REASONS
                .iter()
                .find(|(c, _)| *c == get("reason"))
                .map(|(_, r)| *r)
                .ok_or_else(|| ApiError::bad_request("reason"))?,
            note: get("note"),
        },
        "withdraw" => HazardEvent::Withdraw {
            reason: get("reason"),
        },
        _ => return Err(ApiError::bad_request("verb")),
    })
}

/// Records one lifecycle event from the console: the server's device writes it for the user,
/// after the same checks a pushed op gets (role × kind, scope, then the state machine).
pub async fn act(
    State(b): State<Shared>,
    me: Me,
    Path(id): Path<String>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, Refused> {
    let Form(typed) = form.map_err(|_| ApiError::bad_request("form"))?;
    view(b, me, move |v| {
        let (b, me, store) = (v.b, v.me, v.store);
        me.check_csrf(typed.get("csrf").map_or("", String::as_str))?;
        let id = parse_id(&id)?;
        let verb = typed.get("verb").cloned().unwrap_or_default();
        // Only a hazard the user can see may be acted on, and errors about it say so.
        let grid = store
            .hazard(id)
            .map_err(|_| not_visible())?
            .hazard
            .report
            .grid_id;
        if !me.actor().covers(&grid) {
            return Err(not_visible().into());
        }
        let outcome = event_from(&verb, &typed).and_then(|event| {
            let body = OpBody::Hazard {
                hazard_id: id,
                event: event.clone(),
            };
            if !authz::writers(&body).contains(&me.actor().role) {
                return Err(ApiError::from(gridpatrol_core::Error::from(
                    gridpatrol_core::hazard::lifecycle::Rejection::RoleNotAllowed {
                        event: verb.clone(),
                        role: me.actor().role,
                    },
                )));
            }
            let actor = me.actor().clone();
            let mut event = Some(event);
            b.act(&mut |s| match event.take() {
                Some(ev) => s.hazard_event(&actor, id, ev),
                None => Ok(()),
            })
        });
        match outcome {
            Ok(()) => {
                Ok(Redirect::to(&format!("/console/hazards/{id}?done={verb}")).into_response())
            }
            Err(error) if error.status < 500 => {
                let problem = Problem { verb, error, typed };
                Ok(detail(v, id, None, Some(&problem))?.into_response())
            }
            Err(e) => Err(e.into()),
        }
    })
    .await
}

#[derive(Deserialize)]
pub struct PhotoQuery {
    variant: Option<String>,
}

/// A photo in the user's scope: the variant asked for, else the original (a phone may not
/// have sent its smaller copies yet).
pub async fn photo(
    State(b): State<Shared>,
    me: Me,
    Path(hash): Path<String>,
    Query(q): Query<PhotoQuery>,
) -> Result<Response, Refused> {
    blocking(move || {
        b.photo_access(&me.session, &hash)?;
        let variant = q
            .variant
            .as_deref()
            .filter(|v| matches!(*v, "thumb" | "display"))
            .unwrap_or("original");
        let bytes = b
            .blobs()
            .read(&crate::blobs::blob_name(&hash, variant))
            .or_else(|_| b.blobs().read(&crate::blobs::blob_name(&hash, "original")))
            .map_err(|_| {
                ApiError::new(
                    404,
                    "photo_missing",
                    "照片尚未上传到服务器",
                    "the photo has not reached the server yet",
                )
            })?;
        Ok((
            [
                (header::CONTENT_TYPE, "image/jpeg"),
                (header::CACHE_CONTROL, "private, max-age=86400"),
            ],
            bytes,
        )
            .into_response())
    })
    .await
}

#[derive(Deserialize, Default)]
pub struct AreaQuery {
    scope: Option<String>,
}

pub async fn coverage(
    State(b): State<Shared>,
    me: Me,
    Query(q): Query<AreaQuery>,
) -> Result<Page, Refused> {
    view(b, me, move |v| {
        let (me, store, tree) = (v.me, v.store, &v.tree);
        let node = tree.scope_for(me.actor(), q.scope.as_deref())?;
        let grids = tree.grids_under(&node.id);
        let today = store.today();
        // (grid, risk) -> places, due, overdue, never patrolled, patrolled within the cycle
        let mut counts: BTreeMap<(String, RiskLevel), [u32; 5]> = BTreeMap::new();
        for p in store.places(me.actor())? {
            if p.place.archived || !grids.contains(&p.place.grid_id) {
                continue;
            }
            let c = counts
                .entry((p.place.grid_id.clone(), p.place.risk_level))
                .or_default();
            c[0] += 1;
            c[1] += u32::from(p.next_due <= today);
            c[2] += u32::from(p.days_overdue(today) > 0);
            c[3] += u32::from(p.last_patrol_at.is_none());
            c[4] += u32::from(p.last_patrol_at.is_some() && p.days_overdue(today) == 0);
        }
        let mut s = format!(
            "<h1>巡查覆盖 / Patrol coverage：{}</h1><p class=\"muted\">按风险等级统计各网格的场所：到期（今天应巡查或已过期）、逾期（已超过巡查周期）、从未巡查。/ Places per grid and risk level: due today or earlier, overdue, never patrolled.</p>",
            esc(&node.name)
        );
        s.push_str(&scope_form(tree, me, "/console/coverage", &node.id, None));
        s.push_str("<table><thead><tr><th scope=\"col\">村 / 网格</th><th scope=\"col\">风险等级</th><th class=\"num\" scope=\"col\">场所</th><th class=\"num\" scope=\"col\">到期</th><th class=\"num\" scope=\"col\">逾期</th><th class=\"num\" scope=\"col\">从未巡查</th><th class=\"num\" scope=\"col\">按期覆盖率</th></tr></thead><tbody>");
        let mut totals: BTreeMap<RiskLevel, [u32; 5]> = BTreeMap::new();
        for ((grid, risk), c) in &counts {
            let t = totals.entry(*risk).or_default();
            for (t, c) in t.iter_mut().zip(c) {
                *t += c;
            }
            let village = tree.village_of(grid).unwrap_or("");
            let area = format!("{} / {}", esc(tree.name(village)), esc(tree.name(grid)));
            s.push_str(&coverage_row(&area, *risk, c));
        }
        for (risk, c) in &totals {
            s.push_str(&coverage_row("合计 Total", *risk, c));
        }
        s.push_str("</tbody></table>");
        Ok(page("巡查覆盖 / Coverage", v, "/console/coverage", &s))
    })
    .await
}

/// A row of the coverage table: places, due, overdue, never patrolled, and the share patrolled
/// within their cycle.
fn coverage_row(area: &str, risk: RiskLevel, c: &[u32; 5]) -> String {
    let mut s = format!("<tr><th scope=\"row\">{area}</th><td>{}</td>", risk.zh());
    for n in &c[..4] {
        let _ = write!(s, "<td class=\"num\">{n}</td>");
    }
    let covered = (c[0] > 0).then(|| f64::from(c[4]) / f64::from(c[0]));
    let _ = write!(s, "<td class=\"num\">{}</td></tr>", pct(covered));
    s
}

pub async fn exports(
    State(b): State<Shared>,
    me: Me,
    Query(q): Query<ScopeQuery>,
) -> Result<Page, Refused> {
    view(b, me, move |v| {
        let (me, store, tree) = (v.me, v.store, &v.tree);
        let node = tree.scope_for(me.actor(), q.scope.as_deref())?;
        let (from, to) = period(q.from.as_deref(), q.to.as_deref(), store.today())?;
        let year = &store.today().to_string()[..4];
        let options = scope_options(tree, me, &node.id);
        let s = format!(
            "<h1>台账导出 / Exports</h1>\
             <section class=\"card\"><h2>隐患台账 / Hazard ledger</h2>\
             <p class=\"muted\">期内发现的全部隐患，一行一条，含整改、上报、移交和销号情况。XLSX 可直接用 Excel / WPS 打开。</p>\
             <form class=\"filters\" method=\"get\" action=\"/console/export/ledger\">\
             <label>范围 / Area<select name=\"scope\">{options}</select></label>\
             <label>开始 / From<input type=\"date\" name=\"from\" value=\"{from}\" required></label>\
             <label>结束 / To<input type=\"date\" name=\"to\" value=\"{to}\" required></label>\
             <button type=\"submit\" name=\"format\" value=\"xlsx\">下载 XLSX / Download XLSX</button>\
             <button type=\"submit\" name=\"format\" value=\"csv\" class=\"secondary\">下载 CSV / Download CSV</button></form></section>\
             <section class=\"card\"><h2>年度统计 / Annual figures</h2>\
             <p class=\"muted\">每年年底向本级党委、政府报告用：全年的巡查、隐患、闭环、覆盖、宣传培训数据，分村列出。</p>\
             <form class=\"filters\" method=\"get\" action=\"/console/annual\">\
             <label>范围 / Area<select name=\"scope\">{options}</select></label>\
             <label>年度 / Year<input name=\"year\" inputmode=\"numeric\" pattern=\"[0-9]{{4}}\" value=\"{year}\" required></label>\
             <button type=\"submit\">查看 / Show</button>\
             <button type=\"submit\" formaction=\"/console/export/annual\" class=\"secondary\">下载 CSV / Download CSV</button></form></section>"
        );
        Ok(page("台账导出 / Exports", v, "/console/exports", &s))
    })
    .await
}

#[derive(Deserialize, Default)]
pub struct LedgerQuery {
    scope: Option<String>,
    from: Option<String>,
    to: Option<String>,
    format: Option<String>,
}

/// A file to download, named in Chinese for the office (with an ASCII fallback).
fn download(bytes: Vec<u8>, mime: &'static str, ascii_name: &str, name: &str) -> Response {
    let mut res = ([(header::CONTENT_TYPE, mime)], bytes).into_response();
    let disposition = format!(
        "attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{}",
        url(name)
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

pub async fn export_ledger(
    State(b): State<Shared>,
    me: Me,
    Query(q): Query<LedgerQuery>,
) -> Result<Response, Refused> {
    view(b, me, move |v| {
        let (me, store, tree) = (v.me, v.store, &v.tree);
        let node = tree.scope_for(me.actor(), q.scope.as_deref())?;
        let (from, to) = period(q.from.as_deref(), q.to.as_deref(), store.today())?;
        let (format, ext, mime) = match q.format.as_deref() {
            Some("csv") => (LedgerFormat::Csv, "csv", "text/csv; charset=utf-8"),
            Some("xlsx") | None => (
                LedgerFormat::Xlsx,
                "xlsx",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            Some(_) => return Err(ApiError::bad_request("format").into()),
        };
        let (_, bytes) = store.ledger(&node.id, from, to, format)?;
        Ok(download(
            bytes,
            mime,
            &format!("ledger-{}-{from}-{to}.{ext}", url(&node.id)),
            &format!("隐患台账-{}-{from}至{to}.{ext}", node.name),
        ))
    })
    .await
}

#[derive(Deserialize, Default)]
pub struct YearQuery {
    scope: Option<String>,
    year: Option<String>,
}

const ANNUAL_HEADINGS: [&str; 19] = [
    "范围 Area",
    "级别 Level",
    "巡查次数 Patrols",
    "发现隐患 Found",
    "重大隐患 Major",
    "撤销 Withdrawn",
    "已销号 Closed",
    "闭环率 Closure rate",
    "按期整改率 On-time rate",
    "网格内闭环率 Closed in grid",
    "逾期未整改 Overdue",
    "上报上级 Escalated",
    "移交 Referred",
    "挂牌督办 Supervised",
    "巡查覆盖率 Coverage",
    "宣传次数 Publicity events",
    "宣传人次 Publicity audience",
    "培训次数 Training events",
    "培训人次 Training audience",
];

fn annual_row(level: OrgLevel, r: &Report) -> Vec<String> {
    vec![
        r.scope_name.clone(),
        level.zh().into(),
        r.patrols.to_string(),
        r.hazards_reported.to_string(),
        r.major_reported.to_string(),
        r.withdrawn.to_string(),
        r.closed.to_string(),
        pct(r.closure_rate),
        pct(r.on_time_rate),
        pct(r.in_grid_closure_rate),
        r.overdue_count.to_string(),
        r.escalated.to_string(),
        r.referred.to_string(),
        r.supervised.to_string(),
        pct(coverage_total(r)),
        r.publicity_events.to_string(),
        r.publicity_audience.to_string(),
        r.training_events.to_string(),
        r.training_audience.to_string(),
    ]
}

/// The year's figures for a scope and each node under it.
fn annual_rows(
    store: &Store,
    tree: &Tree,
    me: &Me,
    q: &YearQuery,
) -> Result<(String, String, Vec<Vec<String>>), Refused> {
    let node = tree.scope_for(me.actor(), q.scope.as_deref())?;
    let today = store.today();
    let year = q
        .year
        .clone()
        .unwrap_or_else(|| today.to_string()[..4].to_string());
    let from: Day = format!("{year}-01-01").parse().map_err(|_| {
        ApiError::new(
            400,
            "bad_year",
            "年度格式不正确（应为四位数字）",
            "a year is four digits",
        )
    })?;
    let end: Day = format!("{year}-12-31")
        .parse()
        .map_err(|_| ApiError::bad_request("year"))?;
    if from > today {
        return Err(ApiError::new(
            400,
            "bad_year",
            "该年度尚未开始",
            "that year has not started",
        )
        .into());
    }
    let to = end.min(today);
    let mut rows = vec![annual_row(node.level, &store.report(&node.id, from, to)?)];
    for c in tree.children(&node.id) {
        rows.push(annual_row(c.level, &store.report(&c.id, from, to)?));
    }
    Ok((node.id.clone(), year, rows))
}

pub async fn annual(
    State(b): State<Shared>,
    me: Me,
    Query(q): Query<YearQuery>,
) -> Result<Page, Refused> {
    view(b, me, move |v| {
        let (me, store, tree) = (v.me, v.store, &v.tree);
        let (scope, year, rows) = annual_rows(store, tree, me, &q)?;
        let mut s = format!(
            "<h1>{year} 年度消防安全网格化管理统计 / Annual figures</h1>\
             <p class=\"noprint\"><a href=\"/console/export/annual?scope={}&amp;year={year}\">下载 CSV / Download CSV</a> · 可直接打印本页 / Print this page for the report</p>\
             <div class=\"scroll\"><table><thead><tr><th scope=\"col\">指标 / Figure</th>",
            url(&scope)
        );
        // One column per area, one row per figure: a few areas fit a page across.
        for r in &rows {
            let _ = write!(s, "<th class=\"num\" scope=\"col\">{}</th>", esc(&r[0]));
        }
        s.push_str("</tr></thead><tbody>");
        for (i, heading) in ANNUAL_HEADINGS.iter().enumerate().skip(1) {
            let _ = write!(s, "<tr><th scope=\"row\">{heading}</th>");
            for r in &rows {
                let _ = write!(s, "<td class=\"num\">{}</td>", esc(&r[i]));
            }
            s.push_str("</tr>");
        }
        s.push_str("</tbody></table></div>");
        Ok(page("年度统计 / Annual figures", v, "/console/exports", &s))
    })
    .await
}

pub async fn export_annual(
    State(b): State<Shared>,
    me: Me,
    Query(q): Query<YearQuery>,
) -> Result<Response, Refused> {
    view(b, me, move |v| {
        let (me, store, tree) = (v.me, v.store, &v.tree);
        let (scope, year, rows) = annual_rows(store, tree, me, &q)?;
        let bytes = csv_with_bom(&ANNUAL_HEADINGS, &rows)?;
        let name = tree.name(&scope).to_string();
        Ok(download(
            bytes,
            "text/csv; charset=utf-8",
            &format!("annual-{}-{year}.csv", url(&scope)),
            &format!("年度统计-{name}-{year}.csv"),
        ))
    })
    .await
}

#[derive(Deserialize, Default)]
pub struct ConflictQuery {
    all: Option<String>,
}

/// How many refused ops the page reads before cutting them to the user's scope.
const REFUSALS_READ: usize = 2000;

pub async fn conflicts(
    State(b): State<Shared>,
    me: Me,
    Query(q): Query<ConflictQuery>,
) -> Result<Page, Refused> {
    view(b, me, move |v| {
        let (b, me, store) = (v.b, v.me, v.store);
        let who = names(store)?;
        let person = |id: &str| person(&who, id);
        let all = q.all.is_some();
        let list = if all {
            store.conflicts_in_scope(me.actor())?
        } else {
            store.conflicts(me.actor())?
        };
        let mut s = format!(
            "<h1>冲突与退回 / Conflicts and refused records</h1>\
             <h2>离线冲突 / Offline conflicts（{}）</h2><p class=\"muted\">两人离线时对同一隐患做了不同处理，后到的一条未生效。请打开隐患，按实际情况再办理一次。\
             / Two people acted on one hazard offline; the later action did not apply. Open the hazard and act again as the facts require.\
             {}</p>",
            list.len(),
            if all {
                " <a href=\"/console/conflicts\">只看本级 / Only my level</a>"
            } else {
                " <a href=\"/console/conflicts?all=1\">查看范围内全部 / Every conflict in my area</a>"
            }
        );
        s.push_str("<table><thead><tr><th scope=\"col\">隐患</th><th scope=\"col\">未生效的操作</th><th scope=\"col\">原因</th><th scope=\"col\">先生效的操作</th></tr></thead><tbody>");
        if list.is_empty() {
            s.push_str("<tr><td colspan=\"4\" class=\"muted\">没有冲突 / No conflicts</td></tr>");
        }
        for c in &list {
            let rival = c.rival.as_ref().map_or("—".into(), |r| {
                format!(
                    "{} · {} · {}",
                    verb_name(r.event.verb()),
                    person(&r.actor_id),
                    when(r.hlc.wall_ms())
                )
            });
            let _ = write!(
                s,
                "<tr><td><a href=\"/console/hazards/{id}\">{}</a></td><td>{} · {} · {}<br>{}</td><td>{}</td><td>{rival}</td></tr>",
                &c.hazard_id.to_string()[24..],
                verb_name(c.event.event.verb()),
                person(&c.event.actor_id),
                when(c.event.hlc.wall_ms()),
                event_text(&c.event.event),
                c.event.conflict.as_ref().map_or(String::new(), |r| esc(&r.zh())),
                id = c.hazard_id,
            );
        }
        s.push_str("</tbody></table>");
        // A refused op is shown to whoever covers a grid it touched; one that touched none
        // (reference data a device may not write) to the township.
        let refused: Vec<_> = b
            .refusals(REFUSALS_READ)?
            .into_iter()
            .filter(|r| {
                r.grids.iter().any(|g| me.actor().covers(g))
                    || (r.grids.is_empty() && me.actor().role == Role::TownshipOfficer)
            })
            .collect();
        let _ = write!(
            s,
            "<h2>服务器退回的记录 / Records the server refused（{}）</h2><p class=\"muted\">手机上传时被拒绝的记录（如已不在其负责范围、权限不足）。记录仍保存在该手机上并向其本人说明了原因；如需补办，请联系本人或在此代为办理。\
             / Ops refused at upload; they stay on the phone with the reason shown there.</p>",
            refused.len()
        );
        s.push_str("<table><thead><tr><th scope=\"col\">时间</th><th scope=\"col\">人员</th><th scope=\"col\">记录</th><th scope=\"col\">原因</th></tr></thead><tbody>");
        if refused.is_empty() {
            s.push_str("<tr><td colspan=\"4\" class=\"muted\">没有 / None</td></tr>");
        }
        for r in &refused {
            let what = match r.entity.strip_prefix("hazard:") {
                Some(h) => format!(
                    "{} · <a href=\"/console/hazards/{}\">{}</a>",
                    esc(&r.kind),
                    esc(h),
                    esc(h.get(24..).unwrap_or(h))
                ),
                None => esc(&r.kind),
            };
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{what}</td><td>{}<br><span lang=\"en\" class=\"muted\">{}</span></td></tr>",
                when(r.at_ms),
                person(&r.user_id),
                esc(&r.zh),
                esc(&r.en)
            );
        }
        s.push_str("</tbody></table>");
        Ok(page("冲突与退回 / Conflicts", v, "/console/conflicts", &s))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_link_keeps_every_filter() {
        let q = ListQuery {
            status: Some("notified".into()),
            village: Some("v01".into()),
            grid: Some(String::new()),
            overdue: Some("1".into()),
            ..ListQuery::default()
        };
        assert_eq!(
            q.at_page(3),
            "/console/hazards?page=3&amp;status=notified&amp;village=v01&amp;overdue=1"
        );
    }
}
