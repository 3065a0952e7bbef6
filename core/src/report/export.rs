//! The hazard ledger (隐患台账) as CSV and XLSX: one row per hazard reported in the period, made
//! from the records themselves so nobody types a visit twice. Column headings are zh-CN.

use std::path::Path;

use rusqlite::{params_from_iter, Connection};

use crate::checklist::library;
use crate::clock::Day;
use crate::error::{Error, Result};
use crate::hazard::Hazard;
use crate::org;
use crate::store::Store;

const HEADINGS: [&str; 20] = [
    "隐患编号",
    "上报日期",
    "乡镇",
    "村（社区）",
    "网格",
    "场所",
    "场所类型",
    "隐患类别",
    "隐患等级",
    "隐患描述",
    "责任人",
    "整改期限",
    "当前状态",
    "处理层级",
    "逾期天数",
    "复查驳回次数",
    "是否上报上级",
    "移交部门及案号",
    "销号日期",
    "是否按期",
];

fn ledger_rows(
    c: &Connection,
    scope_id: &str,
    from: Day,
    to: Day,
    today: Day,
) -> Result<Vec<[String; 20]>> {
    let node = org::node(c, scope_id)?;
    let grids = org::grids_under(c, &node.id)?;
    let mut args: Vec<rusqlite::types::Value> =
        vec![from.start_ms().into(), to.plus(1).start_ms().into()];
    args.extend(grids.iter().cloned().map(Into::into));
    let marks = (0..grids.len())
        .map(|i| format!("?{}", i + 3))
        .collect::<Vec<_>>()
        .join(",");
    let mut stmt = c.prepare(&format!(
        "SELECT h.body, coalesce(p.name, ''), coalesce(g.name, ''), coalesce(v.name, ''),
                coalesce(t.name, '')
         FROM hazards h LEFT JOIN places p ON p.id = h.place_id
         LEFT JOIN org_nodes g ON g.id = h.grid_id LEFT JOIN org_nodes v ON v.id = h.village_id
         LEFT JOIN org_nodes t ON t.id = h.township_id
         WHERE h.reported_at >= ?1 AND h.reported_at < ?2 AND h.grid_id IN ({marks})
         ORDER BY h.reported_at, h.id"
    ))?;
    let lib = library();
    let mut out = Vec::new();
    let mut rows = stmt.query(params_from_iter(args.iter()))?;
    while let Some(row) = rows.next()? {
        let h: Hazard = serde_json::from_str(&row.get::<_, String>(0)?)?;
        let yes = |b: bool| if b { "是" } else { "否" }.to_string();
        out.push([
            h.id.to_string(),
            Day::from_ms(h.reported_at).to_string(),
            row.get(4)?,
            row.get(3)?,
            row.get(2)?,
            row.get(1)?,
            lib.place_type_zh(&h.report.place_type).to_string(),
            lib.category_zh(&h.report.category).to_string(),
            h.severity.zh().to_string(),
            h.report.description.clone(),
            h.responsible_party.clone().unwrap_or_default(),
            h.deadline.map(|d| d.to_string()).unwrap_or_default(),
            h.status.zh().to_string(),
            h.level.zh().to_string(),
            h.days_overdue(today)
                .map(|d| d.to_string())
                .unwrap_or_default(),
            h.rework_count.to_string(),
            yes(h.escalated),
            h.referral
                .as_ref()
                .map(|r| format!("{} {}", r.department, r.case_number))
                .unwrap_or_default(),
            h.closed_at
                .map(|ms| Day::from_ms(ms).to_string())
                .unwrap_or_default(),
            h.closed_on_time.map(yes).unwrap_or_default(),
        ]);
    }
    Ok(out)
}

/// `rows` under `headings` as CSV in UTF-8 with a BOM, so Excel on a township PC opens the
/// Chinese correctly. A cell a spreadsheet would read as a formula is neutralised.
pub fn csv_with_bom<R: AsRef<[String]>>(headings: &[&str], rows: &[R]) -> Result<Vec<u8>> {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut bytes);
        let csv_err = |e: csv::Error| Error::Export(e.to_string());
        w.write_record(headings).map_err(csv_err)?;
        for r in rows {
            w.write_record(r.as_ref().iter().map(|cell| inert(cell)))
                .map_err(csv_err)?;
        }
        w.flush()?;
    }
    Ok(bytes)
}

/// `cell` as text a spreadsheet will not run: a cell starting with `=`, `+`, `-`, `@`, a tab or
/// a carriage return (a description typed on a phone, say) is read by Excel as a formula, which
/// can fetch a URL or run a command on the township PC; a leading apostrophe keeps it text.
/// The ledger's own cells (dates, counts, codes) never start so.
fn inert(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

fn ledger_xlsx(rows: &[[String; 20]]) -> Result<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let x = |e: rust_xlsxwriter::XlsxError| Error::Export(e.to_string());
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("隐患台账").map_err(x)?;
    let bold = Format::new().set_bold();
    for (col, h) in HEADINGS.iter().enumerate() {
        sheet
            .write_string_with_format(0, col as u16, *h, &bold)
            .map_err(x)?;
    }
    for (i, r) in rows.iter().enumerate() {
        for (col, v) in r.iter().enumerate() {
            sheet.write_string(i as u32 + 1, col as u16, v).map_err(x)?;
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(x)?;
    book.save_to_buffer().map_err(x)
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
        let today = self.today();
        let rows = self.read(|c| ledger_rows(c, scope_id, from, to, today))?;
        let bytes = match format {
            LedgerFormat::Csv => csv_with_bom(&HEADINGS, &rows)?,
            LedgerFormat::Xlsx => ledger_xlsx(&rows)?,
        };
        Ok((rows.len(), bytes))
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
