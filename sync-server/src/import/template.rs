//! The XLSX template of the 底数清单: the four sheets with their Chinese headers, an example
//! row each (marked, so it is never imported), and drop-down lists for place types, risk
//! levels and roles.

use gridpatrol_core::checklist::library;
use rust_xlsxwriter::{DataValidation, Format, Workbook, XlsxError};

use super::plan::{RISK_CHOICES, ROLE_CHOICES};
use super::sheets::{EXAMPLE, GRIDS, PEOPLE, PLACES, SHEETS, VILLAGES};

/// Rows the drop-down lists cover below the header.
const LIST_ROWS: u32 = 5000;

fn example(sheet: &str) -> Vec<String> {
    let row: &[&str] = match sheet {
        VILLAGES => &["v01", "东沟村"],
        GRIDS => &["g01", "东沟村第一网格", "v01"],
        PLACES => &[
            "示例便利店",
            "g01",
            "小商场",
            "中风险",
            "QS-0001",
            "东沟村 12 号",
            "王某",
            "13800000000",
            "37.80",
            "112.50",
            "",
            "在用",
        ],
        PEOPLE => &["w01", "李某", "网格员", "g01", "13900000000"],
        _ => &[],
    };
    row.iter()
        .enumerate()
        .map(|(i, v)| {
            if i == 0 {
                format!("{EXAMPLE}{v}")
            } else {
                v.to_string()
            }
        })
        .collect()
}

/// The template as XLSX bytes.
pub fn xlsx() -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let types: Vec<&str> = library()
        .place_types
        .iter()
        .map(|t| t.zh.as_str())
        .collect();
    for sheet in &SHEETS {
        let ws = book.add_worksheet();
        ws.set_name(sheet.name)?;
        let headers: Vec<&str> = sheet
            .required
            .iter()
            .chain(sheet.optional)
            .copied()
            .collect();
        for (col, h) in headers.iter().enumerate() {
            let col = col as u16;
            ws.write_with_format(0, col, *h, &bold)?;
            ws.set_column_width(col, 16)?;
        }
        for (col, v) in example(sheet.name).iter().enumerate() {
            ws.write(1, col as u16, v.as_str())?;
        }
        for (col, h) in headers.iter().enumerate() {
            let list: &[&str] = match *h {
                "场所类型" => &types,
                "风险等级" => &RISK_CHOICES,
                "角色" => &ROLE_CHOICES,
                "状态" => &["在用", "停用"],
                _ => continue,
            };
            let rule = DataValidation::new().allow_list_strings(list)?;
            ws.add_data_validation(1, col as u16, LIST_ROWS, col as u16, &rule)?;
        }
    }
    book.save_to_buffer()
}
