//! The one table writer for every export: Excel (.xlsx) and CSV (UTF-8 with a BOM, so
//! Excel shows Chinese right), written row by row so an export of any size holds only a
//! page of rows in memory.
//!
//! An .xlsx prints like an office's own table: a title row naming the table, a line with
//! the unit, the period, the time of export and whether personal data is masked, a frozen
//! header repeated on every printed page, columns as wide as their contents, landscape and
//! fitted to the page width. Past Excel's 1,048,576 rows a sheet continues on the next.

use std::io::Write;

use rust_xlsxwriter::{Format, FormatAlign, Workbook, Worksheet};

pub mod docx;
pub mod qr;

use crate::error::AppError;

crate::string_enum! {
    /// The file formats a table is exported in.
    pub enum ExportFormat {
        Xlsx = "xlsx",
        Csv = "csv",
    }
}

impl ExportFormat {
    pub fn mime(self) -> &'static str {
        match self {
            ExportFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ExportFormat::Csv => "text/csv; charset=utf-8",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    Percent(Option<f64>),
    Empty,
}

impl Cell {
    fn display_width(&self) -> usize {
        match self {
            Cell::Text(s) => s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum(),
            Cell::Number(n) => format!("{n}").len(),
            Cell::Percent(_) => 6,
            Cell::Empty => 0,
        }
    }
}

/// What a table is: its title, the lines under it, the sheet name and the column titles.
#[derive(Debug, Clone)]
pub struct TableHead {
    /// E.g. "问题清单".
    pub title: String,
    /// E.g. "济阳街道 · 2026-11-01 至 2026-11-30 · 导出于 2026-12-02 09:30 · 个人信息已脱敏".
    pub notes: Vec<String>,
    pub sheet: String,
    pub columns: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("excel: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("csv: {0}")]
    Csv(#[from] csv::Error),
    #[error("export: {0}")]
    Io(#[from] std::io::Error),
}

impl From<ExportError> for AppError {
    fn from(e: ExportError) -> Self {
        AppError::Internal(e.to_string())
    }
}

/// Excel's last row number (1,048,576 rows, counted from 0).
pub const XLSX_MAX_ROWS: u32 = 1_048_576;
/// Rows above the data on every sheet: title, notes, header.
const XLSX_HEAD_ROWS: u32 = 3;
/// Widest column, in Excel's character units.
const MAX_WIDTH: usize = 60;

/// Writes one table, a row at a time.
pub struct TableWriter {
    head: TableHead,
    widths: Vec<usize>,
    out: Out,
    rows: u64,
    /// Rows a sheet holds before the next begins (Excel's limit; smaller in tests).
    sheet_limit: u32,
}

enum Out {
    Xlsx {
        book: Box<Workbook>,
        sheet_rows: u32,
        sheets: usize,
        /// Sheets of the current table (a workbook may hold several tables, `next_table`).
        table_sheets: usize,
        formats: Box<Formats>,
    },
    /// Taken and put back new each time the ready bytes are handed out.
    Csv(Option<Box<csv::Writer<Vec<u8>>>>),
}

fn csv_writer() -> Box<csv::Writer<Vec<u8>>> {
    Box::new(csv::WriterBuilder::new().flexible(true).from_writer(Vec::with_capacity(64 * 1024)))
}

struct Formats {
    title: Format,
    note: Format,
    header: Format,
    percent: Format,
}

impl TableWriter {
    /// A writer for `format`. An .xlsx keeps its rows in temporary files under `temp_dir`
    /// (the data directory, not a RAM disk), never in memory.
    pub fn new(format: ExportFormat, head: TableHead, temp_dir: &std::path::Path) -> Result<TableWriter, ExportError> {
        let widths = head.columns.iter().map(|c| Cell::Text(c.clone()).display_width().max(8)).collect();
        let out = match format {
            ExportFormat::Xlsx => {
                let mut book = Workbook::new();
                std::fs::create_dir_all(temp_dir)?;
                book.set_tempdir(temp_dir)?;
                let formats = Formats {
                    title: Format::new().set_bold().set_font_size(16).set_align(FormatAlign::Center),
                    note: Format::new().set_font_size(10).set_font_color("#555555"),
                    header: Format::new()
                        .set_bold()
                        .set_background_color("#F2F3F5")
                        .set_align(FormatAlign::Center)
                        .set_border_bottom(rust_xlsxwriter::FormatBorder::Thin),
                    percent: Format::new().set_num_format("0.0%"),
                };
                Out::Xlsx { book: Box::new(book), sheet_rows: 0, sheets: 0, table_sheets: 0, formats: Box::new(formats) }
            }
            ExportFormat::Csv => {
                let mut w = csv_writer();
                w.write_record([format!("\u{feff}{}", head.title)])?;
                for n in &head.notes {
                    w.write_record([n])?;
                }
                w.write_record(&head.columns)?;
                Out::Csv(Some(w))
            }
        };
        Ok(TableWriter { head, widths, out, rows: 0, sheet_limit: XLSX_MAX_ROWS })
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    pub fn row(&mut self, cells: &[Cell]) -> Result<(), ExportError> {
        for (w, c) in self.widths.iter_mut().zip(cells) {
            *w = (*w).max(c.display_width().min(MAX_WIDTH));
        }
        self.rows += 1;
        match &mut self.out {
            Out::Csv(w) => {
                let w = w.get_or_insert_with(csv_writer);
                w.write_record(cells.iter().map(|c| match c {
                    Cell::Text(s) => s.clone(),
                    Cell::Number(n) => format!("{n}"),
                    Cell::Percent(Some(p)) => format!("{:.1}%", p * 100.0),
                    Cell::Percent(None) | Cell::Empty => String::new(),
                }))?;
            }
            Out::Xlsx { book, sheet_rows, sheets, table_sheets, formats } => {
                if *table_sheets == 0 || *sheet_rows >= self.sheet_limit {
                    if *table_sheets > 0 {
                        let sheet = book.worksheet_from_index(*sheets - 1)?;
                        finish_sheet(sheet, &self.widths, *sheet_rows)?;
                    }
                    *sheets += 1;
                    *table_sheets += 1;
                    let sheet = book.add_worksheet_with_constant_memory()?;
                    start_sheet(sheet, &self.head, *table_sheets, formats)?;
                    *sheet_rows = XLSX_HEAD_ROWS;
                }
                let sheet = book.worksheet_from_index(*sheets - 1)?;
                for (c, cell) in cells.iter().enumerate() {
                    let c = c as u16;
                    match cell {
                        Cell::Text(s) => {
                            sheet.write_string(*sheet_rows, c, s)?;
                        }
                        Cell::Number(n) => {
                            sheet.write_number(*sheet_rows, c, *n)?;
                        }
                        Cell::Percent(Some(p)) => {
                            sheet.write_number_with_format(*sheet_rows, c, *p, &formats.percent)?;
                        }
                        Cell::Percent(None) | Cell::Empty => {}
                    }
                }
                *sheet_rows += 1;
            }
        }
        Ok(())
    }

    /// Ends the current table and begins another under `head`: a new sheet of the workbook,
    /// or, in a CSV, a blank line and the new head.
    pub fn next_table(&mut self, head: TableHead) -> Result<(), ExportError> {
        match &mut self.out {
            Out::Csv(w) => {
                let w = w.get_or_insert_with(csv_writer);
                w.write_record([""])?;
                w.write_record([&head.title])?;
                for n in &head.notes {
                    w.write_record([n])?;
                }
                w.write_record(&head.columns)?;
            }
            Out::Xlsx { book, sheet_rows, sheets, table_sheets, formats } => {
                if *table_sheets == 0 {
                    let sheet = book.add_worksheet_with_constant_memory()?;
                    start_sheet(sheet, &self.head, 1, formats)?;
                    finish_sheet(sheet, &self.widths, XLSX_HEAD_ROWS)?;
                    *sheets += 1;
                } else {
                    let sheet = book.worksheet_from_index(*sheets - 1)?;
                    finish_sheet(sheet, &self.widths, *sheet_rows)?;
                }
                *table_sheets = 0;
            }
        }
        self.widths = head.columns.iter().map(|c| Cell::Text(c.clone()).display_width().max(8)).collect();
        self.head = head;
        Ok(())
    }

    /// Bytes ready to send: CSV as it goes (the caller sends them and the buffer starts
    /// again); nothing for an .xlsx, which is whole only at the end.
    pub fn take_ready(&mut self) -> Result<Vec<u8>, ExportError> {
        match &mut self.out {
            Out::Csv(w) => match w.take() {
                Some(done) => done.into_inner().map_err(|e| ExportError::Io(std::io::Error::other(e.to_string()))),
                None => Ok(Vec::new()),
            },
            Out::Xlsx { .. } => Ok(Vec::new()),
        }
    }

    /// The rest of the file, written to `dest`.
    pub fn finish_into<W: Write + Send>(self, dest: &mut W) -> Result<(), ExportError> {
        match self.out {
            Out::Csv(w) => {
                if let Some(w) = w {
                    let bytes = w.into_inner().map_err(|e| std::io::Error::other(e.to_string()))?;
                    dest.write_all(&bytes)?;
                }
            }
            Out::Xlsx { mut book, sheet_rows, sheets, table_sheets, formats } => {
                if table_sheets == 0 {
                    let sheet = book.add_worksheet_with_constant_memory()?;
                    start_sheet(sheet, &self.head, 1, &formats)?;
                    finish_sheet(sheet, &self.widths, XLSX_HEAD_ROWS)?;
                } else {
                    let sheet = book.worksheet_from_index(sheets - 1)?;
                    finish_sheet(sheet, &self.widths, sheet_rows)?;
                }
                book.save_to_writer(dest)?;
            }
        }
        Ok(())
    }

    /// The whole file in memory (small tables, tests).
    pub fn finish(self) -> Result<Vec<u8>, ExportError> {
        let mut out = Vec::new();
        let mut this = self;
        let ready = this.take_ready()?;
        out.extend_from_slice(&ready);
        this.finish_into(&mut out)?;
        Ok(out)
    }
}

fn sheet_name(head: &TableHead, n: usize) -> String {
    // Excel limits sheet names to 31 characters and forbids a few symbols.
    let base: String = head.sheet.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(26).collect();
    let base = if base.is_empty() { "Sheet".to_string() } else { base };
    if n == 1 { base } else { format!("{base}({n})") }
}

fn start_sheet(sheet: &mut Worksheet, head: &TableHead, n: usize, f: &Formats) -> Result<(), ExportError> {
    sheet.set_name(sheet_name(head, n))?;
    let last = head.columns.len().saturating_sub(1) as u16;
    if last > 0 {
        sheet.merge_range(0, 0, 0, last, &head.title, &f.title)?;
        sheet.merge_range(1, 0, 1, last, &head.notes.join(" · "), &f.note)?;
    } else {
        sheet.write_string_with_format(0, 0, &head.title, &f.title)?;
        sheet.write_string_with_format(1, 0, head.notes.join(" · "), &f.note)?;
    }
    sheet.set_row_height(0, 26)?;
    for (c, title) in head.columns.iter().enumerate() {
        sheet.write_string_with_format(2, c as u16, title, &f.header)?;
    }
    sheet.set_freeze_panes(XLSX_HEAD_ROWS, 0)?;
    sheet.set_landscape();
    sheet.set_paper_size(9); // A4
    sheet.set_print_fit_to_pages(1, 0);
    sheet.set_repeat_rows(2, 2)?;
    sheet.set_header(format!("&C&\"-,Bold\"{}", head.title.replace('&', "&&")));
    sheet.set_footer("&C第 &P 页,共 &N 页");
    Ok(())
}

fn finish_sheet(sheet: &mut Worksheet, widths: &[usize], rows: u32) -> Result<(), ExportError> {
    for (c, w) in widths.iter().enumerate() {
        sheet.set_column_width(c as u16, (*w as f64 + 2.0).min(MAX_WIDTH as f64))?;
    }
    if rows > XLSX_HEAD_ROWS && !widths.is_empty() {
        sheet.autofilter(2, 0, rows - 1, widths.len().saturating_sub(1) as u16)?;
    }
    Ok(())
}

/// A Beijing-time cell (`2026-11-30 09:05`), empty for none.
pub fn time_cell(ms: Option<i64>) -> Cell {
    match ms {
        Some(m) => Cell::Text(crate::domain::calendar::beijing_time(m).format("%Y-%m-%d %H:%M").to_string()),
        None => Cell::Empty,
    }
}

pub fn text_cell(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head() -> TableHead {
        TableHead {
            title: "问题清单".into(),
            notes: vec!["济阳街道".into(), "个人信息已脱敏".into()],
            sheet: "问题:清单/2026".into(),
            columns: vec!["编号".into(), "数量".into(), "比率".into()],
        }
    }

    fn rows() -> Vec<Vec<Cell>> {
        vec![
            vec![text_cell("JY20261130-0001"), Cell::Number(3.0), Cell::Percent(Some(0.875))],
            vec![Cell::Empty, Cell::Number(1.5), Cell::Percent(None)],
        ]
    }

    #[test]
    fn csv_has_bom_title_notes_header_and_formatted_percentages() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = TableWriter::new(ExportFormat::Csv, head(), dir.path()).unwrap();
        for r in rows() {
            w.row(&r).unwrap();
        }
        let s = String::from_utf8(w.finish().unwrap()).unwrap();
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines[0], "\u{feff}问题清单");
        assert_eq!(lines[1], "济阳街道");
        assert_eq!(lines[3], "编号,数量,比率");
        assert_eq!(lines[4], "JY20261130-0001,3,87.5%");
    }

    #[test]
    fn a_workbook_holds_several_tables_one_sheet_each() {
        use calamine::Reader;
        let dir = tempfile::tempdir().unwrap();
        let mut w = TableWriter::new(ExportFormat::Xlsx, head(), dir.path()).unwrap();
        w.row(&rows()[0]).unwrap();
        let empty = TableHead { sheet: "空表".into(), ..head() };
        w.next_table(empty).unwrap();
        let third = TableHead { sheet: "第三".into(), columns: vec!["名称".into()], ..head() };
        w.next_table(third).unwrap();
        w.row(&[text_cell("迎宾社区")]).unwrap();
        let bytes = w.finish().unwrap();
        let mut book = calamine::open_workbook_from_rs::<calamine::Xlsx<_>, _>(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(book.sheet_names(), vec!["问题清单2026".to_string(), "空表".into(), "第三".into()]);
        let third = book.worksheet_range("第三").unwrap();
        assert_eq!(third.get_value((2, 0)).map(|v| v.to_string()), Some("名称".into()));
        assert_eq!(third.get_value((3, 0)).map(|v| v.to_string()), Some("迎宾社区".into()));
        assert_eq!(book.worksheet_range("空表").unwrap().get_value((3, 0)), None);
    }

    #[test]
    fn xlsx_has_title_notes_frozen_header_and_reads_back() {
        use calamine::Reader;
        let dir = tempfile::tempdir().unwrap();
        let mut w = TableWriter::new(ExportFormat::Xlsx, head(), dir.path()).unwrap();
        for r in rows() {
            w.row(&r).unwrap();
        }
        let bytes = w.finish().unwrap();
        let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(book.sheet_names(), vec!["问题清单2026".to_string()]);
        let range = book.worksheet_range_at(0).unwrap().unwrap();
        assert_eq!(range.get((0, 0)).unwrap().to_string(), "问题清单");
        assert!(range.get((1, 0)).unwrap().to_string().contains("个人信息已脱敏"));
        assert_eq!(range.get((2, 0)).unwrap().to_string(), "编号");
        assert_eq!(range.get((3, 0)).unwrap().to_string(), "JY20261130-0001");
        assert_eq!(range.get((3, 2)).unwrap().to_string(), "0.875");
    }

    #[test]
    fn a_full_sheet_continues_on_the_next_with_its_own_title_and_header() {
        use calamine::Reader;
        let dir = tempfile::tempdir().unwrap();
        let mut w = TableWriter::new(ExportFormat::Xlsx, head(), dir.path()).unwrap();
        w.sheet_limit = XLSX_HEAD_ROWS + 4;
        for i in 0..10 {
            w.row(&[text_cell(format!("N{i}")), Cell::Number(i as f64), Cell::Empty]).unwrap();
        }
        let mut book = calamine::Xlsx::new(std::io::Cursor::new(w.finish().unwrap())).unwrap();
        assert_eq!(book.sheet_names(), vec!["问题清单2026", "问题清单2026(2)", "问题清单2026(3)"]);
        let mut seen = Vec::new();
        for i in 0..3 {
            let range = book.worksheet_range_at(i).unwrap().unwrap();
            assert_eq!(range.get((2, 0)).unwrap().to_string(), "编号");
            for r in 3..range.height() {
                seen.push(range.get((r, 0)).unwrap().to_string());
            }
        }
        assert_eq!(seen, (0..10).map(|i| format!("N{i}")).collect::<Vec<_>>(), "every row once, in order");
    }

    #[test]
    fn an_empty_table_is_still_a_table_with_its_header() {
        use calamine::Reader;
        let dir = tempfile::tempdir().unwrap();
        let bytes = TableWriter::new(ExportFormat::Xlsx, head(), dir.path()).unwrap().finish().unwrap();
        let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let range = book.worksheet_range_at(0).unwrap().unwrap();
        assert_eq!(range.get((2, 1)).unwrap().to_string(), "数量");
    }
}
