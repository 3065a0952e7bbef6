//! Pieces several console pages share: the area (and period) form, filter selects, badges, the
//! figure cards and the hazard table.

use gridpatrol_core::checklist::library;
use gridpatrol_core::clock::Day;
use gridpatrol_core::hazard::{HazardRow, Severity};
use gridpatrol_core::Store;
use maud::{html, Markup};

use super::values::Typed;
use super::{Me, Tree};
use gridpatrol_core::hazard::case_label;

/// The areas a user may choose, as the options of a select, `scope` chosen.
pub(crate) fn scope_options(tree: &Tree, me: &Me, scope: &str) -> Markup {
    html! {
        @for n in tree.scopes(me.actor()) {
            option value=(n.id) selected[n.id == scope] { (n.name) "（" (n.level.short_zh()) "）" }
        }
    }
}

/// A form choosing the area (and the period, when given) a page shows.
pub(crate) fn scope_form(
    tree: &Tree,
    me: &Me,
    action: &str,
    scope: &str,
    period: Option<(Day, Day)>,
) -> Markup {
    html! {
        form.filters method="get" action=(action) {
            label { "范围" select name="scope" { (scope_options(tree, me, scope)) } }
            @if let Some((from, to)) = period {
                label { "开始" input type="date" name="from" value=(from); }
                label { "结束" input type="date" name="to" value=(to); }
            }
            button type="submit" { "查看" }
        }
    }
}

/// A labelled select with an "all" option first, `chosen` selected.
pub(crate) fn select(
    name: &str,
    label: &str,
    options: &[(String, String)],
    chosen: Option<&str>,
) -> Markup {
    html! {
        label {
            (label)
            select name=(name) {
                option value="" { "全部" }
                @for (value, text) in options {
                    option value=(value) selected[Some(value.as_str()) == chosen] { (text) }
                }
            }
        }
    }
}

/// A major hazard stands out; a general one is plain text.
pub(crate) fn severity_badge(sev: Severity) -> Markup {
    html! {
        @match sev {
            Severity::Major => span.badge.major { (sev.zh()) },
            Severity::General => (sev.zh()),
        }
    }
}

/// How many days a case is past its deadline.
pub(crate) fn overdue_badge(days: i32) -> Markup {
    html! { span.badge.overdue { "逾期 " (days) " 天" } }
}

/// A headline figure: its value (which may be a link) over its label.
pub(crate) fn figure(value: Markup, label: &str) -> Markup {
    html! {
        div.card.figure { div.value { (value) } div.label { (label) } }
    }
}

/// A hazard table: id, where, what, state, dates (with a caption unless a heading names it).
pub(crate) fn hazard_table(
    store: &Store,
    tree: &Tree,
    rows: &[HazardRow],
    caption: Option<&str>,
) -> Markup {
    let today = store.today();
    html! {
        table {
            @if let Some(c) = caption { caption { (c) } }
            thead { tr {
                th scope="col" { "编号" }
                th scope="col" { "场所" }
                th scope="col" { "隐患描述" }
                th scope="col" { "村 / 网格" }
                th scope="col" { "类别" }
                th scope="col" { "严重程度" }
                th scope="col" { "状态" }
                th scope="col" { "发现日期" }
                th.num scope="col" { "已开天数" }
                th scope="col" { "整改期限" }
            } }
            tbody {
                @if rows.is_empty() {
                    tr { td colspan="10" class="muted" { "没有记录" } }
                }
                @for h in rows { (hazard_row(store, tree, h, today)) }
            }
        }
    }
}

fn hazard_row(store: &Store, tree: &Tree, h: &HazardRow, today: Day) -> Markup {
    let place = store
        .place(h.place_id)
        .map(|p| p.place.name)
        .unwrap_or_default();
    let village = tree.village_of(&h.grid_id).unwrap_or("");
    let found = Day::from_ms(h.reported_at);
    html! {
        tr {
            td { a href={ "/console/hazards/" (h.id) } { (case_label(h.case_number.as_deref(), &h.id)) } }
            td { (place) }
            td.description { (Typed(&h.description)) }
            td { (tree.name(village)) " / " (tree.name(&h.grid_id)) }
            td { (library().category_zh(&h.category)) }
            td { (severity_badge(h.severity)) }
            td { (h.status.zh()) "（" (h.level.zh()) "）" }
            td.date { (found) }
            // How long it has been open; a finished case shows none.
            td.num {
                @if h.status.is_final() { "—" } @else { (today.days_since(found)) }
            }
            td.date {
                @match h.deadline { Some(d) => (d), None => "—" }
                @if let Some(d) = h.days_overdue { " " (overdue_badge(d)) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::values::{url, Typed};

    #[test]
    fn escaping_leaves_no_markup() {
        // What a phone typed, as the case page shows it (description, timeline).
        assert_eq!(
            maud::html! { (Typed("<script>\"a\" & 'b'</script>")) }.into_string(),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
        assert_eq!(url("青石 镇&x=1"), "%E9%9D%92%E7%9F%B3%20%E9%95%87%26x%3D1");
    }
}
