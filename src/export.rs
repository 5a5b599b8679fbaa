//! Tables for offices: Excel (.xlsx) and CSV (UTF-8 with BOM, so Excel shows Chinese right).
//! Column titles come from the message catalogue.

use rust_xlsxwriter::{Format, FormatAlign, Workbook};

use crate::app::cases::CaseView;
use crate::app::indicators::IndicatorReport;
use crate::domain::indicators::Indicators;
use crate::i18n::{Lang, t};

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    Percent(Option<f64>),
    Empty,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub sheet: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("excel: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("csv: {0}")]
    Csv(#[from] csv::Error),
    #[error("csv: {0}")]
    Io(#[from] std::io::Error),
}

pub fn to_xlsx(table: &Table) -> Result<Vec<u8>, ExportError> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    // Excel limits sheet names to 31 characters and forbids a few symbols.
    let name: String = table.sheet.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect();
    sheet.set_name(if name.is_empty() { "Sheet1" } else { name.as_str() })?;
    let head = Format::new().set_bold().set_background_color("#F2F3F5").set_align(FormatAlign::Center);
    let pct = Format::new().set_num_format("0.0%");
    for (c, h) in table.headers.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, h, &head)?;
        sheet.set_column_width(c as u16, (h.chars().count() as f64 * 2.2).max(10.0))?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(s) => {
                    sheet.write_string(r, c, s)?;
                }
                Cell::Number(n) => {
                    sheet.write_number(r, c, *n)?;
                }
                Cell::Percent(Some(p)) => {
                    sheet.write_number_with_format(r, c, *p, &pct)?;
                }
                Cell::Percent(None) | Cell::Empty => {}
            }
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    if !table.rows.is_empty() {
        sheet.autofilter(0, 0, table.rows.len() as u32, table.headers.len().saturating_sub(1) as u16)?;
    }
    Ok(book.save_to_buffer()?)
}

pub fn to_csv(table: &Table) -> Result<Vec<u8>, ExportError> {
    let mut out = Vec::from("\u{feff}".as_bytes());
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(&table.headers)?;
        for row in &table.rows {
            w.write_record(row.iter().map(|c| match c {
                Cell::Text(s) => s.clone(),
                Cell::Number(n) => format!("{n}"),
                Cell::Percent(Some(p)) => format!("{:.1}%", p * 100.0),
                Cell::Percent(None) | Cell::Empty => String::new(),
            }))?;
        }
        w.flush()?;
    }
    Ok(out)
}

fn time(ms: Option<i64>) -> Cell {
    match ms {
        Some(m) => Cell::Text(crate::domain::calendar::beijing_time(m).format("%Y-%m-%d %H:%M").to_string()),
        None => Cell::Empty,
    }
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

pub fn cases_table(lang: Lang, cases: &[CaseView]) -> Table {
    let h = |k: &str| t(lang, &format!("export.case.{k}"), &[]);
    let headers = [
        "number",
        "category",
        "class",
        "source",
        "description",
        "community",
        "grid",
        "address",
        "status",
        "tier",
        "assignee",
        "reported_at",
        "dispatched_at",
        "handling_deadline",
        "handled_at",
        "closed_at",
        "rework_count",
        "extension_count",
        "warning",
    ]
    .iter()
    .map(|k| h(k))
    .collect();
    let rows = cases
        .iter()
        .map(|c| {
            vec![
                text(&c.details.number),
                text(&c.category_name),
                text(&c.class_name),
                text(t(lang, &format!("source.{}", c.details.source.as_str()), &[])),
                text(&c.details.description),
                text(c.community.as_ref().map(|u| u.name.clone()).unwrap_or_default()),
                text(c.grid.as_ref().map(|u| u.name.clone()).unwrap_or_default()),
                text(c.details.address.clone().unwrap_or_default()),
                text(t(lang, &format!("status.{}", c.state.status.as_str()), &[])),
                Cell::Number(c.state.tier as f64),
                text(c.assignee.as_ref().map(|u| u.name.clone()).unwrap_or_default()),
                time(Some(c.state.reported_at)),
                time(c.state.dispatched_at),
                time(c.state.handling_deadline),
                time(c.state.handled_at),
                time(c.state.closed_at),
                Cell::Number(c.state.rework_count as f64),
                Cell::Number(c.state.extension_count as f64),
                text(t(lang, &format!("warning.{}", c.state.warning.as_str()), &[])),
            ]
        })
        .collect();
    Table { sheet: t(lang, "export.case.sheet", &[]), headers, rows }
}

fn indicator_cells(name: &str, i: &Indicators) -> Vec<Cell> {
    let n = |v: i64| Cell::Number(v as f64);
    vec![
        text(name),
        n(i.tally.reported),
        n(i.tally.registered),
        n(i.tally.dispatched),
        n(i.tally.due_to_close),
        n(i.tally.closed),
        n(i.tally.closed_on_time),
        Cell::Percent(i.on_time_rate),
        Cell::Percent(i.closure_rate),
        Cell::Percent(i.rework_rate),
        n(i.tally.extensions),
        i.mean_handling_hours.map(Cell::Number).unwrap_or(Cell::Empty),
        n(i.tally.overdue_now),
    ]
}

pub fn indicators_table(lang: Lang, r: &IndicatorReport) -> Table {
    let h = |k: &str| t(lang, &format!("export.indicator.{k}"), &[]);
    let headers = [
        "unit",
        "reported",
        "registered",
        "dispatched",
        "due_to_close",
        "closed",
        "closed_on_time",
        "on_time_rate",
        "closure_rate",
        "rework_rate",
        "extensions",
        "mean_handling_hours",
        "overdue_now",
    ]
    .iter()
    .map(|k| h(k))
    .collect();
    let mut rows: Vec<Vec<Cell>> = r.groups.iter().map(|g| indicator_cells(&g.name, &g.indicators)).collect();
    rows.push(indicator_cells(&format!("{}({})", r.unit_name, h("total")), &r.total));
    Table { sheet: format!("{} {}~{}", h("sheet"), r.from, r.to), headers, rows }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        Table {
            sheet: "问题:清单/2026".into(),
            headers: vec!["编号".into(), "数量".into(), "比率".into()],
            rows: vec![
                vec![text("JY20261130-0001"), Cell::Number(3.0), Cell::Percent(Some(0.875))],
                vec![Cell::Empty, Cell::Number(1.5), Cell::Percent(None)],
            ],
        }
    }

    #[test]
    fn csv_has_bom_and_formatted_percentages() {
        let bytes = to_csv(&table()).unwrap();
        let s = String::from_utf8(bytes).unwrap();
        assert!(s.starts_with('\u{feff}'));
        assert!(s.contains("编号,数量,比率"));
        assert!(s.contains("JY20261130-0001,3,87.5%"));
    }

    #[test]
    fn xlsx_reads_back_with_calamine() {
        use calamine::Reader;
        let bytes = to_xlsx(&table()).unwrap();
        let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let names = book.sheet_names();
        assert_eq!(names, vec!["问题清单2026".to_string()]);
        let range = book.worksheet_range_at(0).unwrap().unwrap();
        assert_eq!(range.get((0, 0)).unwrap().to_string(), "编号");
        assert_eq!(range.get((1, 0)).unwrap().to_string(), "JY20261130-0001");
        assert_eq!(range.get((1, 2)).unwrap().to_string(), "0.875");
    }
}
