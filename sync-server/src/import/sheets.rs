//! Reading a 底数清单: an XLSX workbook with the template's four sheets, or a CSV file of one
//! of them (recognised by its header row). Columns are found by their Chinese headers, in any
//! order; extra columns are ignored; empty rows and the template's example rows are skipped.

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{Data, Reader};

use super::Problem;

pub const VILLAGES: &str = "村社区";
pub const GRIDS: &str = "网格";
pub const PLACES: &str = "场所";
pub const PEOPLE: &str = "人员";

/// What the template's example rows start with: such a row is never imported.
pub const EXAMPLE: &str = "（示例）";

/// A sheet and its columns: the required ones first, then the optional ones.
pub struct Sheet {
    pub name: &'static str,
    pub required: &'static [&'static str],
    pub optional: &'static [&'static str],
}

pub const SHEETS: [Sheet; 4] = [
    Sheet {
        name: VILLAGES,
        required: &["编号", "名称"],
        optional: &[],
    },
    Sheet {
        name: GRIDS,
        required: &["编号", "名称", "村社区编号"],
        optional: &[],
    },
    Sheet {
        name: PLACES,
        required: &["名称", "网格编号", "场所类型", "风险等级"],
        optional: &[
            "编号",
            "地址",
            "负责人",
            "负责人电话",
            "纬度",
            "经度",
            "巡查周期（天）",
            "状态",
        ],
    },
    Sheet {
        name: PEOPLE,
        required: &["账号", "姓名", "角色", "负责范围"],
        optional: &["电话"],
    },
];

/// One row of a sheet: its number as the spreadsheet shows it, and its cells by header.
#[derive(Debug, Clone)]
pub struct Row {
    pub sheet: &'static str,
    pub number: usize,
    cells: BTreeMap<&'static str, String>,
}

impl Row {
    /// The cell under `header`, trimmed ("" when the column is absent or the cell empty).
    pub fn get(&self, header: &str) -> &str {
        self.cells.get(header).map_or("", |s| s.trim())
    }
}

/// The rows of each sheet found in the file(s).
#[derive(Debug, Clone, Default)]
pub struct Book {
    pub rows: BTreeMap<&'static str, Vec<Row>>,
}

impl Book {
    pub fn sheet(&self, name: &str) -> &[Row] {
        self.rows.get(name).map_or(&[], Vec::as_slice)
    }

    /// Reads `bytes`, named `file_name` (its extension says XLSX or CSV), into this book.
    pub fn add_file(&mut self, file_name: &str, bytes: &[u8]) -> Result<(), Problem> {
        let lower = file_name.to_ascii_lowercase();
        if lower.ends_with(".csv") {
            self.add_csv(bytes)
        } else if lower.ends_with(".xlsx") {
            self.add_xlsx(bytes)
        } else {
            Err(Problem::file(
                "只能导入 .xlsx 或 .csv 文件",
                "only .xlsx or .csv files can be imported",
            ))
        }
    }

    fn add_xlsx(&mut self, bytes: &[u8]) -> Result<(), Problem> {
        let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|_| {
            Problem::file(
                "无法读取该 Excel 文件（应为 .xlsx 格式）",
                "cannot read the Excel file (it should be .xlsx)",
            )
        })?;
        let mut found = false;
        for sheet in &SHEETS {
            let Ok(range) = book.worksheet_range(sheet.name) else {
                continue;
            };
            found = true;
            let first_row = range.start().map_or(0, |(r, _)| r as usize);
            let rows: Vec<Vec<String>> = range
                .rows()
                .map(|r| r.iter().map(cell_text).collect())
                .collect();
            self.add_rows(sheet, first_row, rows)?;
        }
        if found {
            Ok(())
        } else {
            Err(Problem::file(
                "文件中没有村社区、网格、场所或人员工作表（请使用导入模板）",
                "the file has none of the sheets 村社区, 网格, 场所, 人员 (use the template)",
            ))
        }
    }

    fn add_csv(&mut self, bytes: &[u8]) -> Result<(), Problem> {
        // Excel saves CSV with a byte-order mark; UTF-8 is the only encoding read.
        let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
            .map_err(|_| {
                Problem::file(
                    "CSV 文件须为 UTF-8 编码（Excel 中另存为“CSV UTF-8”）",
                    "a CSV file must be UTF-8 (in Excel, save as \"CSV UTF-8\")",
                )
            })?;
        let rows: Vec<Vec<String>> = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes())
            .records()
            .map(|r| r.map(|rec| rec.iter().map(str::to_string).collect()))
            .collect::<Result<_, _>>()
            .map_err(|_| Problem::file("CSV 文件格式不正确", "the CSV file is malformed"))?;
        let header: Vec<&str> = rows.first().map_or(Vec::new(), |h| {
            h.iter().map(|c| c.trim()).collect::<Vec<_>>()
        });
        let sheet = SHEETS
            .iter()
            .find(|s| s.required.iter().all(|r| header.contains(r)))
            .ok_or_else(|| {
                Problem::file(
                    "无法从表头识别 CSV 属于哪张表（请使用导入模板的表头）",
                    "cannot tell which sheet the CSV holds from its header (use the template's)",
                )
            })?;
        self.add_rows(sheet, 0, rows)
    }

    /// `rows[0]` is the header row, at spreadsheet row `first_row + 1`.
    fn add_rows(
        &mut self,
        sheet: &Sheet,
        first_row: usize,
        rows: Vec<Vec<String>>,
    ) -> Result<(), Problem> {
        let mut rows = rows.into_iter();
        let header: Vec<String> = rows
            .next()
            .unwrap_or_default()
            .into_iter()
            .map(|h| h.trim().to_string())
            .collect();
        if let Some(missing) = sheet
            .required
            .iter()
            .find(|r| !header.iter().any(|h| h == *r))
        {
            return Err(Problem::at(
                sheet.name,
                first_row + 1,
                format!("缺少列“{missing}”"),
                format!("the column \"{missing}\" is missing"),
            ));
        }
        let columns: Vec<Option<&'static str>> = header
            .iter()
            .map(|h| {
                sheet
                    .required
                    .iter()
                    .chain(sheet.optional)
                    .find(|c| *c == h)
                    .copied()
            })
            .collect();
        let out = self.rows.entry(sheet.name).or_default();
        for (i, cells) in rows.enumerate() {
            if cells.iter().all(|c| c.trim().is_empty())
                || cells.iter().any(|c| c.trim().starts_with(EXAMPLE))
            {
                continue;
            }
            let cells = columns
                .iter()
                .zip(cells)
                .filter_map(|(col, v)| col.map(|c| (c, v)))
                .collect();
            out.push(Row {
                sheet: sheet.name,
                number: first_row + i + 2,
                cells,
            });
        }
        Ok(())
    }
}

/// A cell as a person reads it: whole numbers without a decimal point (phone numbers and codes
/// typed into number cells), everything else as Excel shows it.
fn cell_text(d: &Data) -> String {
    match d {
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        other => other.to_string(),
    }
}
