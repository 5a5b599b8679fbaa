//! Bulletins (督查通报), their versions and numbers, and the rectification notices (整改通知)
//! with one row per problem on a unit's list.

use sea_query::{Condition, Expr, ExprTrait, Order, Query};

use super::record::Record;
use super::{Conn, StoreResult};
use crate::domain::bulletin::{BulletinKind, BulletinStatus, Content, NoticeStatus, Outcome};

/// One version of a bulletin.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BulletinRow {
    pub id: String,
    pub area_id: String,
    pub kind: BulletinKind,
    /// YYYYMMDD.
    pub period_from: i64,
    pub period_to: i64,
    pub status: BulletinStatus,
    pub year: Option<i64>,
    pub number: Option<i64>,
    pub version: i64,
    pub supersedes: Option<String>,
    pub title: String,
    pub content: Content,
    pub revision: i64,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub issued_by: Option<String>,
    pub issued_at: Option<i64>,
}

crate::record!(BulletinRow in "bulletins" {
    id,
    area_id,
    kind,
    period_from,
    period_to,
    status,
    year,
    number,
    version,
    supersedes,
    title,
    content: json,
    revision,
    created_by,
    created_at,
    updated_at,
    issued_by,
    issued_at,
});

/// A rectification notice to one unit.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NoticeRow {
    pub id: String,
    pub bulletin_id: String,
    pub unit_id: String,
    #[serde(skip)]
    pub unit_path: String,
    /// The path of the unit above once the notice is overdue ("" before).
    #[serde(skip)]
    pub escalated_path: String,
    pub deadline: i64,
    pub status: NoticeStatus,
    pub items: i64,
    pub answered: i64,
    pub created_at: i64,
    pub closed_at: Option<i64>,
    pub escalated_at: Option<i64>,
}

crate::record!(NoticeRow in "notices" {
    id,
    bulletin_id,
    unit_id,
    unit_path,
    escalated_path,
    deadline,
    status,
    items,
    answered,
    created_at,
    closed_at,
    escalated_at,
});

/// One problem on a notice, with the unit's answer once given.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NoticeItemRow {
    pub id: String,
    pub notice_id: String,
    pub sort: i64,
    pub case_id: Option<String>,
    pub case_number: String,
    pub item_code: String,
    pub text: String,
    pub point: String,
    pub outcome: Option<Outcome>,
    pub note: Option<String>,
    pub answered_by: Option<String>,
    pub answered_at: Option<i64>,
}

crate::record!(NoticeItemRow in "notice_items" {
    id,
    notice_id,
    sort,
    case_id,
    case_number,
    item_code,
    text,
    point,
    outcome,
    note,
    answered_by,
    answered_at,
});

pub fn insert_bulletin(conn: &mut dyn Conn, b: &BulletinRow) -> StoreResult<()> {
    conn.execute(&b.insert())?;
    Ok(())
}

pub fn bulletin(conn: &mut dyn Conn, id: &str) -> StoreResult<Option<BulletinRow>> {
    conn.query_opt(&BulletinRow::select().and_where(Expr::col("id").eq(id)).to_owned())?.map(|r| BulletinRow::decode(&r)).transpose()
}

/// Writes a draft's new content if it is still a draft at `revision`; false otherwise.
pub fn update_draft(conn: &mut dyn Conn, id: &str, revision: i64, content: &Content, now: i64) -> StoreResult<bool> {
    let json = serde_json::to_string(content).map_err(|e| super::StoreError::Decode { column: 0, reason: e.to_string() })?;
    let n = conn.execute(
        &Query::update()
            .table(BulletinRow::TABLE)
            .values([
                ("content", json.into()),
                ("title", content.title.clone().into()),
                ("revision", (revision + 1).into()),
                ("updated_at", now.into()),
            ])
            .and_where(Expr::col("id").eq(id))
            .and_where(Expr::col("status").eq(BulletinStatus::Draft.as_str()))
            .and_where(Expr::col("revision").eq(revision))
            .to_owned(),
    )?;
    Ok(n == 1)
}

/// Issues a draft at `revision` under a number; false when it is no longer that draft.
pub fn issue(conn: &mut dyn Conn, id: &str, revision: i64, year: i64, number: i64, by: &str, now: i64) -> StoreResult<bool> {
    let n = conn.execute(
        &Query::update()
            .table(BulletinRow::TABLE)
            .values([
                ("status", BulletinStatus::Issued.as_str().into()),
                ("year", year.into()),
                ("number", number.into()),
                ("revision", (revision + 1).into()),
                ("issued_by", by.into()),
                ("issued_at", now.into()),
                ("updated_at", now.into()),
            ])
            .and_where(Expr::col("id").eq(id))
            .and_where(Expr::col("status").eq(BulletinStatus::Draft.as_str()))
            .and_where(Expr::col("revision").eq(revision))
            .to_owned(),
    )?;
    Ok(n == 1)
}

/// Marks an issued version replaced by its correction; false when it is not issued.
pub fn supersede(conn: &mut dyn Conn, id: &str, now: i64) -> StoreResult<bool> {
    let n = conn.execute(
        &Query::update()
            .table(BulletinRow::TABLE)
            .values([("status", BulletinStatus::Superseded.as_str().into()), ("updated_at", now.into())])
            .and_where(Expr::col("id").eq(id))
            .and_where(Expr::col("status").eq(BulletinStatus::Issued.as_str()))
            .to_owned(),
    )?;
    Ok(n == 1)
}

/// A draft correcting `id`, if one is open.
pub fn open_correction(conn: &mut dyn Conn, id: &str) -> StoreResult<Option<BulletinRow>> {
    conn.query_opt(
        &BulletinRow::select()
            .and_where(Expr::col("supersedes").eq(id))
            .and_where(Expr::col("status").eq(BulletinStatus::Draft.as_str()))
            .to_owned(),
    )?
    .map(|r| BulletinRow::decode(&r))
    .transpose()
}

/// What a list of bulletins asks for.
#[derive(Debug, Clone, Default)]
pub struct BulletinQuery {
    pub areas: Vec<String>,
    pub statuses: Vec<BulletinStatus>,
    pub q: Option<String>,
    pub limit: u64,
}

/// Bulletins of the given areas, newest period first.
pub fn bulletins(conn: &mut dyn Conn, q: &BulletinQuery) -> StoreResult<Vec<BulletinRow>> {
    if q.areas.is_empty() {
        return Ok(Vec::new());
    }
    let mut s = BulletinRow::select().and_where(Expr::col("area_id").is_in(q.areas.iter().map(String::as_str))).to_owned();
    if !q.statuses.is_empty() {
        s.and_where(Expr::col("status").is_in(q.statuses.iter().map(|s| s.as_str())));
    }
    if let Some(text) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        s.and_where(Expr::col("title").like(sea_query::LikeExpr::new(format!("%{escaped}%")).escape('\\')));
    }
    s.order_by("period_to", Order::Desc).order_by("created_at", Order::Desc).limit(std::cmp::max(q.limit, 1));
    conn.query(&s)?.iter().map(BulletinRow::decode).collect()
}

/// The issued bulletin of an area whose period ends last before `before_day`.
pub fn last_issued(conn: &mut dyn Conn, area_id: &str, before_day: i64) -> StoreResult<Option<BulletinRow>> {
    conn.query_opt(
        &BulletinRow::select()
            .and_where(Expr::col("area_id").eq(area_id))
            .and_where(Expr::col("status").eq(BulletinStatus::Issued.as_str()))
            .and_where(Expr::col("period_to").lt(before_day))
            .order_by("period_to", Order::Desc)
            .order_by("issued_at", Order::Desc)
            .limit(1)
            .to_owned(),
    )?
    .map(|r| BulletinRow::decode(&r))
    .transpose()
}

pub fn insert_notices(conn: &mut dyn Conn, notices: &[NoticeRow], items: &[NoticeItemRow]) -> StoreResult<()> {
    conn.insert_rows(NoticeRow::TABLE, NoticeRow::COLUMNS, notices.iter().map(Record::values).collect())?;
    conn.insert_rows(NoticeItemRow::TABLE, NoticeItemRow::COLUMNS, items.iter().map(Record::values).collect())?;
    Ok(())
}

pub fn notice(conn: &mut dyn Conn, id: &str) -> StoreResult<Option<NoticeRow>> {
    conn.query_opt(&NoticeRow::select().and_where(Expr::col("id").eq(id)).to_owned())?.map(|r| NoticeRow::decode(&r)).transpose()
}

pub fn notice_items(conn: &mut dyn Conn, notice_id: &str) -> StoreResult<Vec<NoticeItemRow>> {
    conn.query(&NoticeItemRow::select().and_where(Expr::col("notice_id").eq(notice_id)).order_by("sort", Order::Asc).to_owned())?
        .iter()
        .map(NoticeItemRow::decode)
        .collect()
}

/// The notice a problem row belongs to.
pub fn notice_of_item(conn: &mut dyn Conn, item_id: &str) -> StoreResult<Option<String>> {
    conn.query_opt(&Query::select().column("notice_id").from(NoticeItemRow::TABLE).and_where(Expr::col("id").eq(item_id)).to_owned())?
        .map(|r| r.string(0))
        .transpose()
}

/// The notices a bulletin sent.
pub fn notices_of(conn: &mut dyn Conn, bulletin_id: &str) -> StoreResult<Vec<NoticeRow>> {
    conn.query(&NoticeRow::select().and_where(Expr::col("bulletin_id").eq(bulletin_id)).order_by("unit_path", Order::Asc).to_owned())?
        .iter()
        .map(NoticeRow::decode)
        .collect()
}

/// Notices to units under `paths`, or escalated to a unit under them, in the given states,
/// soonest deadline first.
pub fn notices_within(conn: &mut dyn Conn, paths: &[String], statuses: &[NoticeStatus], limit: u64) -> StoreResult<Vec<NoticeRow>> {
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let mut any = Condition::any();
    for p in paths {
        any = any.add(Expr::col("unit_path").like(format!("{p}%"))).add(Expr::col("escalated_path").like(format!("{p}%")));
    }
    let mut s = NoticeRow::select().cond_where(any).to_owned();
    if !statuses.is_empty() {
        s.and_where(Expr::col("status").is_in(statuses.iter().map(|s| s.as_str())));
    }
    s.order_by("deadline", Order::Asc).limit(limit);
    conn.query(&s)?.iter().map(NoticeRow::decode).collect()
}

/// Records one answer if the problem has none yet; false otherwise.
pub fn answer_item(conn: &mut dyn Conn, item_id: &str, outcome: Outcome, note: &str, by: &str, at: i64) -> StoreResult<bool> {
    let n = conn.execute(
        &Query::update()
            .table(NoticeItemRow::TABLE)
            .values([("outcome", outcome.as_str().into()), ("note", note.into()), ("answered_by", by.into()), ("answered_at", at.into())])
            .and_where(Expr::col("id").eq(item_id))
            .and_where(Expr::col("outcome").is_null())
            .to_owned(),
    )?;
    Ok(n == 1)
}

/// Writes a notice's count of answers and its status.
pub fn set_notice_progress(conn: &mut dyn Conn, id: &str, answered: i64, status: NoticeStatus, closed_at: Option<i64>) -> StoreResult<()> {
    conn.execute(
        &Query::update()
            .table(NoticeRow::TABLE)
            .values([("answered", answered.into()), ("status", status.as_str().into()), ("closed_at", closed_at.into())])
            .and_where(Expr::col("id").eq(id))
            .to_owned(),
    )?;
    Ok(())
}

/// Open notices past their deadline.
pub fn overdue_notices(conn: &mut dyn Conn, now: i64) -> StoreResult<Vec<NoticeRow>> {
    conn.query(
        &NoticeRow::select()
            .and_where(Expr::col("status").eq(NoticeStatus::Open.as_str()))
            .and_where(Expr::col("deadline").lt(now))
            .to_owned(),
    )?
    .iter()
    .map(NoticeRow::decode)
    .collect()
}

/// Marks an open notice overdue and escalated to `to_path`; false when it was no longer open.
pub fn escalate_notice(conn: &mut dyn Conn, id: &str, to_path: &str, now: i64) -> StoreResult<bool> {
    let n = conn.execute(
        &Query::update()
            .table(NoticeRow::TABLE)
            .values([("status", NoticeStatus::Overdue.as_str().into()), ("escalated_path", to_path.into()), ("escalated_at", now.into())])
            .and_where(Expr::col("id").eq(id))
            .and_where(Expr::col("status").eq(NoticeStatus::Open.as_str()))
            .to_owned(),
    )?;
    Ok(n == 1)
}

/// Per bulletin: (problems listed, fixed, not fixed).
pub fn outcomes(conn: &mut dyn Conn, bulletin_id: &str) -> StoreResult<(i64, i64, i64)> {
    let rows = conn.query(
        &Query::select()
            .column((NoticeItemRow::TABLE, "outcome"))
            .expr(Expr::col((NoticeItemRow::TABLE, "id")).count())
            .from(NoticeItemRow::TABLE)
            .inner_join(NoticeRow::TABLE, Expr::col((NoticeRow::TABLE, "id")).equals((NoticeItemRow::TABLE, "notice_id")))
            .and_where(Expr::col((NoticeRow::TABLE, "bulletin_id")).eq(bulletin_id))
            .group_by_col((NoticeItemRow::TABLE, "outcome"))
            .to_owned(),
    )?;
    let (mut all, mut fixed, mut not_fixed) = (0, 0, 0);
    for r in rows {
        let n = r.i64(1)?;
        all += n;
        match r.opt_string(0)?.as_deref().and_then(Outcome::parse) {
            Some(Outcome::Fixed) => fixed += n,
            Some(Outcome::NotFixed) => not_fixed += n,
            None => {}
        }
    }
    Ok((all, fixed, not_fixed))
}

// ---- 晒比评述 ----

/// A unit's own account (述) for a bulletin's meeting.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AccountRow {
    pub bulletin_id: String,
    pub unit_id: String,
    pub text: String,
    pub submitted_by: String,
    pub submitted_at: i64,
}

crate::record!(AccountRow in "meeting_accounts" { bulletin_id, unit_id, text, submitted_by, submitted_at });

/// One panelist's score (评) of a unit at a bulletin's meeting.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ScoreRow {
    pub bulletin_id: String,
    pub unit_id: String,
    pub panelist_id: String,
    pub score: f64,
    pub comment: Option<String>,
    pub at: i64,
    /// The bulletin's last day (YYYYMMDD), so a period's panel scores read from one index.
    pub period_to: i64,
}

crate::record!(ScoreRow in "meeting_scores" { bulletin_id, unit_id, panelist_id, score, comment, at, period_to });

/// Writes (or rewrites) a unit's account.
pub fn put_account(conn: &mut dyn Conn, a: &AccountRow) -> StoreResult<()> {
    conn.execute(
        &a.insert()
            .on_conflict(
                sea_query::OnConflict::columns(["bulletin_id", "unit_id"])
                    .update_columns(["text", "submitted_by", "submitted_at"])
                    .to_owned(),
            )
            .to_owned(),
    )?;
    Ok(())
}

/// Writes (or rewrites) a panelist's score of a unit.
pub fn put_score(conn: &mut dyn Conn, s: &ScoreRow) -> StoreResult<()> {
    conn.execute(
        &s.insert()
            .on_conflict(
                sea_query::OnConflict::columns(["bulletin_id", "unit_id", "panelist_id"])
                    .update_columns(["score", "comment", "at"])
                    .to_owned(),
            )
            .to_owned(),
    )?;
    Ok(())
}

pub fn accounts(conn: &mut dyn Conn, bulletin_id: &str) -> StoreResult<Vec<AccountRow>> {
    conn.query(&AccountRow::select().and_where(Expr::col("bulletin_id").eq(bulletin_id)).to_owned())?
        .iter()
        .map(AccountRow::decode)
        .collect()
}

pub fn scores(conn: &mut dyn Conn, bulletin_id: &str) -> StoreResult<Vec<ScoreRow>> {
    conn.query(&ScoreRow::select().and_where(Expr::col("bulletin_id").eq(bulletin_id)).order_by("at", Order::Asc).to_owned())?
        .iter()
        .map(ScoreRow::decode)
        .collect()
}

/// Average panel score per unit over meetings of bulletins ending in `[from_day, to_day]`.
pub fn panel_averages(conn: &mut dyn Conn, from_day: i64, to_day: i64) -> StoreResult<Vec<(String, f64)>> {
    conn.query(
        &Query::select()
            .column("unit_id")
            .expr(Expr::col("score").avg())
            .from(ScoreRow::TABLE)
            .and_where(Expr::col("period_to").between(from_day, to_day))
            .group_by_col("unit_id")
            .to_owned(),
    )?
    .iter()
    .map(|r| Ok((r.string(0)?, r.f64(1)?)))
    .collect()
}
