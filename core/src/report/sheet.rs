//! A ledger as a clerk files it: typed cells under headings, written as XLSX that prints as it
//! is (title with the unit and period, column widths, dates as dates, numbers as numbers, a
//! frozen header with a filter, A4 landscape with the header repeated on every page) or as CSV
//! with a BOM. Every ledger (hazards, patrols, places, activities) is a `Sheet`, so they all
//! look and read alike.

use rust_xlsxwriter::{
    ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError,
};

use crate::clock::Day;
use crate::error::{Error, Result};

/// One cell of a ledger.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Day(Day),
    Int(i64),
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    /// A day, or an empty cell.
    pub fn day(d: Option<Day>) -> Cell {
        d.map_or(Cell::Empty, Cell::Day)
    }

    /// As CSV writes it.
    fn plain(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Day(d) => d.to_string(),
            Cell::Int(n) => n.to_string(),
            Cell::Empty => String::new(),
        }
    }
}

/// A column: its heading and its width in characters.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub heading: &'static str,
    pub width: f64,
}

pub const fn col(heading: &'static str, width: f64) -> Column {
    Column { heading, width }
}

/// One sheet of a ledger.
#[derive(Debug, Clone)]
pub struct Sheet {
    /// The tab's name (at most 31 characters, no `[]:*?/\`).
    pub name: String,
    /// The first line, e.g. 青石镇隐患台账.
    pub title: String,
    /// The second line: unit, period, date made.
    pub subtitle: String,
    pub columns: &'static [Column],
    pub rows: Vec<Vec<Cell>>,
}

/// Rows before the headings (title, subtitle).
const TITLE_ROWS: u32 = 2;

/// `cell` as text a spreadsheet will not run: a cell starting with `=`, `+`, `-`, `@`, a tab or
/// a carriage return (a description typed on a phone, say) is read by Excel as a formula, which
/// can fetch a URL or run a command on the township PC; a leading apostrophe keeps it text.
pub(crate) fn inert(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
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

impl Sheet {
    /// The sheet as CSV: headings and rows only, for a program to read (the title is in the
    /// file's name).
    pub fn csv(&self) -> Result<Vec<u8>> {
        let headings: Vec<&str> = self.columns.iter().map(|c| c.heading).collect();
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| r.iter().map(Cell::plain).collect())
            .collect();
        csv_with_bom(&headings, &rows)
    }
}

fn x(e: XlsxError) -> Error {
    Error::Export(e.to_string())
}

/// The sheets as one XLSX workbook.
pub fn xlsx(sheets: &[Sheet]) -> Result<Vec<u8>> {
    let mut book = Workbook::new();
    for s in sheets {
        write_sheet(book.add_worksheet(), s)?;
    }
    book.save_to_buffer().map_err(x)
}

fn write_sheet(ws: &mut Worksheet, s: &Sheet) -> Result<()> {
    let last_col = (s.columns.len().max(1) - 1) as u16;
    let title = Format::new()
        .set_bold()
        .set_font_size(16)
        .set_align(FormatAlign::Center);
    let subtitle = Format::new().set_align(FormatAlign::Left);
    let heading = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_border(FormatBorder::Thin)
        .set_background_color(0xE7E6E6);
    let text = Format::new()
        .set_text_wrap()
        .set_align(FormatAlign::Top)
        .set_border(FormatBorder::Thin);
    let date = text.clone().set_num_format("yyyy-mm-dd");
    let number = text.clone().set_num_format("0");

    ws.set_name(&s.name).map_err(x)?;
    ws.merge_range(0, 0, 0, last_col, &s.title, &title)
        .map_err(x)?;
    ws.merge_range(1, 0, 1, last_col, &s.subtitle, &subtitle)
        .map_err(x)?;
    ws.set_row_height(0, 28).map_err(x)?;
    for (i, c) in s.columns.iter().enumerate() {
        ws.set_column_width(i as u16, c.width).map_err(x)?;
        ws.write_string_with_format(TITLE_ROWS, i as u16, c.heading, &heading)
            .map_err(x)?;
    }
    for (r, row) in s.rows.iter().enumerate() {
        let r = TITLE_ROWS + 1 + r as u32;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(v) => ws.write_string_with_format(r, c, v, &text),
                Cell::Int(n) => ws.write_number_with_format(r, c, *n as f64, &number),
                Cell::Day(d) => {
                    let (y, m, dd) = {
                        use chrono::Datelike;
                        let n = d.date();
                        (n.year(), n.month(), n.day())
                    };
                    let dt = ExcelDateTime::from_ymd(
                        u16::try_from(y).unwrap_or(1900),
                        m as u8,
                        dd as u8,
                    )
                    .map_err(x)?;
                    ws.write_datetime_with_format(r, c, &dt, &date)
                }
                Cell::Empty => ws.write_blank(r, c, &text),
            }
            .map_err(x)?;
        }
    }
    let last_row = TITLE_ROWS + s.rows.len() as u32;
    ws.set_freeze_panes(TITLE_ROWS + 1, 0).map_err(x)?;
    ws.autofilter(TITLE_ROWS, 0, last_row, last_col)
        .map_err(x)?;
    // Printed as filed: A4 landscape, one page wide, the headings on every page, page numbers.
    ws.set_paper_size(9);
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(TITLE_ROWS, TITLE_ROWS).map_err(x)?;
    ws.set_footer("&C第 &P 页，共 &N 页");
    Ok(())
}
