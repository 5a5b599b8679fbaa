//! Info reports (信息报送) and their review.

use sea_query::{Condition, Expr, ExprTrait, Order, Query};

use super::record::Record;
use super::{Conn, StoreResult};
use crate::domain::info_report::{ReportKind, ReportStatus};

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct InfoReportRow {
    pub id: String,
    pub unit_id: String,
    #[serde(skip)]
    pub unit_path: String,
    pub kind: ReportKind,
    pub title: String,
    pub body: String,
    /// YYYYMMDD.
    #[serde(serialize_with = "crate::domain::inspection::serialize_day_key")]
    pub event_day: i64,
    pub status: ReportStatus,
    pub review_note: Option<String>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<i64>,
    pub submitted_by: String,
    pub submitted_at: i64,
}

crate::record!(InfoReportRow in "info_reports" {
    id,
    unit_id,
    unit_path,
    kind,
    title,
    body,
    event_day,
    status,
    review_note,
    reviewed_by,
    reviewed_at,
    submitted_by,
    submitted_at,
});

pub fn insert(conn: &mut dyn Conn, r: &InfoReportRow, created_at: i64) -> StoreResult<()> {
    conn.execute(&r.insert_created(created_at))?;
    Ok(())
}

pub fn report(conn: &mut dyn Conn, id: &str) -> StoreResult<Option<InfoReportRow>> {
    conn.query_opt(&InfoReportRow::select().and_where(Expr::col("id").eq(id)).to_owned())?.map(|r| InfoReportRow::decode(&r)).transpose()
}

/// What a list asks for: reports in these states, under these paths (none: anywhere), by
/// this person (none: anyone), newest first.
#[derive(Debug, Clone, Default)]
pub struct ReportQuery {
    pub statuses: Vec<ReportStatus>,
    pub within: Option<Vec<String>>,
    pub by: Option<String>,
    pub limit: u64,
}

pub fn reports(conn: &mut dyn Conn, q: &ReportQuery) -> StoreResult<Vec<InfoReportRow>> {
    let mut s = InfoReportRow::select();
    if !q.statuses.is_empty() {
        s.and_where(Expr::col("status").is_in(q.statuses.iter().map(|s| s.as_str())));
    }
    if let Some(paths) = &q.within {
        if paths.is_empty() {
            return Ok(Vec::new());
        }
        let mut any = Condition::any();
        for p in paths {
            any = any.add(Expr::col("unit_path").like(format!("{p}%")));
        }
        s.cond_where(any);
    }
    if let Some(by) = &q.by {
        s.and_where(Expr::col("submitted_by").eq(by.as_str()));
    }
    s.order_by("submitted_at", Order::Desc).limit(std::cmp::max(q.limit, 1));
    conn.query(&s)?.iter().map(InfoReportRow::decode).collect()
}

/// Records a review if the report is still waiting; false otherwise.
pub fn review(conn: &mut dyn Conn, id: &str, status: ReportStatus, note: Option<&str>, by: &str, at: i64) -> StoreResult<bool> {
    let n = conn.execute(
        &Query::update()
            .table(InfoReportRow::TABLE)
            .values([
                ("status", status.as_str().into()),
                ("review_note", note.into()),
                ("reviewed_by", by.into()),
                ("reviewed_at", at.into()),
            ])
            .and_where(Expr::col("id").eq(id))
            .and_where(Expr::col("status").eq(ReportStatus::Submitted.as_str()))
            .to_owned(),
    )?;
    Ok(n == 1)
}

/// Writes a returned report's new text and sends it again; false if it was not returned.
pub fn resubmit(conn: &mut dyn Conn, id: &str, kind: ReportKind, title: &str, body: &str, event_day: i64, at: i64) -> StoreResult<bool> {
    let n = conn.execute(
        &Query::update()
            .table(InfoReportRow::TABLE)
            .values([
                ("kind", kind.as_str().into()),
                ("title", title.into()),
                ("body", body.into()),
                ("event_day", event_day.into()),
                ("status", ReportStatus::Submitted.as_str().into()),
                ("submitted_at", at.into()),
            ])
            .and_where(Expr::col("id").eq(id))
            .and_where(Expr::col("status").eq(ReportStatus::Returned.as_str()))
            .to_owned(),
    )?;
    Ok(n == 1)
}

/// Per unit over `[from_day, to_day]`: (unit id, submitted, adopted).
pub fn counts(conn: &mut dyn Conn, within: &str, from_day: i64, to_day: i64) -> StoreResult<Vec<(String, i64, i64)>> {
    let adopted = Expr::case(Expr::col("status").eq(ReportStatus::Approved.as_str()), Expr::cust("1")).finally(Expr::cust("0"));
    conn.query(
        &Query::select()
            .column("unit_id")
            .expr(Expr::col("id").count())
            .expr(Expr::expr(adopted).sum().cast_as("BIGINT"))
            .from(InfoReportRow::TABLE)
            .and_where(Expr::col("unit_path").like(format!("{within}%")))
            .and_where(Expr::col("event_day").between(from_day, to_day))
            .group_by_col("unit_id")
            .to_owned(),
    )?
    .iter()
    .map(|r| Ok((r.string(0)?, r.i64(1)?, r.i64(2)?)))
    .collect()
}
