//! The hazard ledger (隐患台账) as CSV and XLSX: one row per hazard reported in the period, made
//! from the records themselves so nobody types a visit twice. Column headings are zh-CN.

use std::path::Path;

use rusqlite::{params_from_iter, Connection};

use super::sheet::{col, Cell, Column, Sheet};
use crate::checklist::library;
use crate::clock::Day;
use crate::error::Result;
use crate::hazard::{case_label, Hazard, HazardEvent};
use crate::op::OpBody;
use crate::org;
use crate::store::Store;

pub use super::sheet::csv_with_bom;

/// The hazard ledger's columns, in the order a township files them.
pub const HAZARD_COLUMNS: [Column; 27] = [
    col("隐患编号", 14.0),
    col("上报日期", 11.0),
    col("乡镇", 10.0),
    col("村（社区）", 12.0),
    col("网格", 10.0),
    col("场所", 18.0),
    col("地址", 22.0),
    col("场所类型", 12.0),
    col("责任人及电话", 18.0),
    col("发现人", 10.0),
    col("隐患类别", 12.0),
    col("隐患等级", 9.0),
    col("隐患描述", 30.0),
    col("整改期限", 11.0),
    col("整改措施", 24.0),
    col("当前状态", 10.0),
    col("处理层级", 10.0),
    col("逾期天数", 8.0),
    col("复查驳回次数", 8.0),
    col("是否上报上级", 8.0),
    col("挂牌督办", 8.0),
    col("移交部门及案号", 18.0),
    col("复查人", 10.0),
    col("复查日期", 11.0),
    col("销号日期", 11.0),
    col("是否按期", 8.0),
    col("撤销原因", 18.0),
];

/// What a case's events add to its row: the last rectification said (整改措施), and who
/// verified it and when (the passing review).
fn from_events(c: &Connection, h: &Hazard) -> Result<(String, Option<String>, Option<Day>)> {
    let (mut measures, mut reviewer, mut reviewed) = (String::new(), None, None);
    for (op, conflict) in crate::apply::entity_ops(c, &format!("hazard:{}", h.id))? {
        let OpBody::Hazard { event, .. } = &op.body else {
            continue;
        };
        if conflict.is_some() {
            continue;
        }
        match event {
            HazardEvent::SubmitRectification { note, .. } | HazardEvent::FixOnSpot { note, .. }
                if !note.is_empty() =>
            {
                measures = note.clone();
            }
            HazardEvent::Review { passed: true, .. } => {
                reviewer = Some(op.actor_id.clone());
                reviewed = Some(op.hlc.day());
            }
            _ => {}
        }
    }
    Ok((measures, reviewer, reviewed))
}

/// The hazards reported in the period under `scope_id`, one row each, with the period's
/// title for the sheet.
pub(super) fn hazard_sheet(
    c: &Connection,
    node: &org::OrgNode,
    from: Day,
    to: Day,
    today: Day,
) -> Result<Sheet> {
    let grids = org::grids_under(c, &node.id)?;
    let mut args: Vec<rusqlite::types::Value> =
        vec![from.start_ms().into(), to.plus(1).start_ms().into()];
    args.extend(grids.iter().cloned().map(Into::into));
    let marks = super::placeholders(grids.len(), 3);
    let mut stmt = c.prepare(&format!(
        "SELECT h.body, coalesce(p.name, ''), coalesce(g.name, ''), coalesce(v.name, ''),
                coalesce(t.name, ''), coalesce(p.address, ''), coalesce(p.responsible_name, ''),
                coalesce(p.responsible_phone, '')
         FROM hazards h LEFT JOIN places p ON p.id = h.place_id
         LEFT JOIN org_nodes g ON g.id = h.grid_id LEFT JOIN org_nodes v ON v.id = h.village_id
         LEFT JOIN org_nodes t ON t.id = h.township_id
         WHERE h.reported_at >= ?1 AND h.reported_at < ?2 AND h.grid_id IN ({marks})
         ORDER BY h.reported_at, h.id"
    ))?;
    let person = |id: &str| person_name(c, id);
    let lib = library();
    let yes = |b: bool| Cell::text(if b { "是" } else { "否" });
    let mut rows = Vec::new();
    let mut found = stmt.query(params_from_iter(args.iter()))?;
    while let Some(row) = found.next()? {
        let h: Hazard = serde_json::from_str(&row.get::<_, String>(0)?)?;
        let (measures, reviewer, reviewed) = from_events(c, &h)?;
        let (name, phone): (String, String) = (row.get(6)?, row.get(7)?);
        let who = h.responsible_party.clone().unwrap_or(name);
        let responsible = format!("{who} {phone}").trim().to_string();
        rows.push(vec![
            Cell::Text(case_label(h.case_number.as_deref(), &h.id)),
            Cell::Day(Day::from_ms(h.reported_at)),
            Cell::Text(row.get(4)?),
            Cell::Text(row.get(3)?),
            Cell::Text(row.get(2)?),
            Cell::Text(row.get(1)?),
            Cell::Text(row.get(5)?),
            Cell::text(lib.place_type_zh(&h.report.place_type)),
            Cell::Text(responsible),
            Cell::Text(person(&h.reporter_id)?),
            Cell::text(lib.category_zh(&h.report.category)),
            Cell::text(h.severity.zh()),
            Cell::Text(h.report.description.clone()),
            Cell::day(h.deadline),
            Cell::Text(measures),
            Cell::text(h.status.zh()),
            Cell::text(h.level.zh()),
            h.days_overdue(today)
                .map_or(Cell::Empty, |d| Cell::Int(i64::from(d))),
            Cell::Int(i64::from(h.rework_count)),
            yes(h.escalated),
            yes(h.supervised),
            Cell::Text(
                h.referral
                    .as_ref()
                    .map(|r| format!("{} {}", r.department, r.case_number))
                    .unwrap_or_default(),
            ),
            match reviewer {
                Some(r) => Cell::Text(person(&r)?),
                None => Cell::Empty,
            },
            Cell::day(reviewed),
            Cell::day(h.closed_at.map(Day::from_ms)),
            match (h.closed_at, h.closed_on_time) {
                (None, _) => Cell::Empty,
                (Some(_), Some(on_time)) => yes(on_time),
                (Some(_), None) => Cell::text("无期限"),
            },
            Cell::Text(h.withdrawn_reason.clone().unwrap_or_default()),
        ]);
    }
    Ok(Sheet {
        name: "隐患台账".into(),
        title: format!("{}消防安全隐患台账", node.name),
        subtitle: subtitle(&node.name, from, to, today),
        columns: &HAZARD_COLUMNS,
        rows,
    })
}

/// A person as a ledger names them: their name, else their id (someone since removed).
pub(crate) fn person_name(c: &Connection, id: &str) -> Result<String> {
    use rusqlite::OptionalExtension;
    Ok(c.prepare_cached("SELECT name FROM users WHERE id = ?1")?
        .query_row([id], |r| r.get::<_, String>(0))
        .optional()?
        .unwrap_or_else(|| id.to_string()))
}

/// A ledger's second line: the unit, the period and the day it was made.
pub(crate) fn subtitle(unit: &str, from: Day, to: Day, today: Day) -> String {
    format!("填报单位：{unit}    统计期间：{from} 至 {to}    制表日期：{today}")
}

/// A ledger file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerFormat {
    /// UTF-8 with a BOM.
    Csv,
    /// One sheet, 隐患台账.
    Xlsx,
}

impl Store {
    /// The hazard ledger of a scope and period as a file's bytes, with the number of hazards
    /// in it.
    pub fn ledger(
        &self,
        scope_id: &str,
        from: Day,
        to: Day,
        format: LedgerFormat,
    ) -> Result<(usize, Vec<u8>)> {
        self.ledger_of(super::ledgers::Ledger::Hazards, scope_id, from, to, format)
    }

    /// Writes the hazard ledger of a scope and period as CSV (see `ledger`). Returns the
    /// number of hazards written.
    pub fn export_ledger_csv(
        &self,
        scope_id: &str,
        from: Day,
        to: Day,
        path: &Path,
    ) -> Result<usize> {
        let (n, bytes) = self.ledger(scope_id, from, to, LedgerFormat::Csv)?;
        std::fs::write(path, bytes)?;
        Ok(n)
    }

    /// Writes the hazard ledger as an XLSX workbook with one sheet, 隐患台账.
    pub fn export_ledger_xlsx(
        &self,
        scope_id: &str,
        from: Day,
        to: Day,
        path: &Path,
    ) -> Result<usize> {
        let (n, bytes) = self.ledger(scope_id, from, to, LedgerFormat::Xlsx)?;
        std::fs::write(path, bytes)?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_a_spreadsheet_would_run_is_written_as_text() {
        let rows = vec![vec![
            "=HYPERLINK(\"http://x\",\"点我\")".to_string(),
            "+1".to_string(),
            "-cmd".to_string(),
            "@SUM(A1)".to_string(),
            "\tx".to_string(),
            "灭火器过期".to_string(),
            "2026-09-01".to_string(),
        ]];
        let bytes = csv_with_bom(&["a", "b", "c", "d", "e", "f", "g"], &rows).unwrap_or_default();
        let text = String::from_utf8(bytes).unwrap_or_default();
        let mut read = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let cells: Vec<String> = read
            .records()
            .next()
            .and_then(|r| r.ok())
            .map(|r| r.iter().map(String::from).collect())
            .unwrap_or_default();
        assert_eq!(
            cells,
            [
                "'=HYPERLINK(\"http://x\",\"点我\")",
                "'+1",
                "'-cmd",
                "'@SUM(A1)",
                "'\tx",
                "灭火器过期",
                "2026-09-01"
            ]
        );
    }
}
