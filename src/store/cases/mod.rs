//! Cases: the report details and the projection of each case's log, lists and queues;
//! with categories, the event log and number sequences in modules of their own.

mod categories;
mod events;
pub mod numbers;

pub use categories::{categories, category, upsert_category};
pub(crate) use events::{EVENT_INSERT_COLUMNS, event_row};
pub use events::{EventRecord, NewEvent, PublicEvent, events, insert_event, insert_events, last_event_id, public_events};

use sea_query::{Condition, Expr, ExprTrait, Order, Query, SelectStatement, Value};

use super::record::Record;
use super::{Conn, StoreResult, now_ms};
use crate::domain::case::{CaseState, Source, Status};

// ---- cases ----

/// The fixed details of a report; the rest of the row is the projection.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CaseDetails {
    pub id: String,
    pub number: String,
    pub category_code: String,
    pub source: Source,
    pub description: String,
    pub lat: f64,
    pub lon: f64,
    pub address: Option<String>,
    pub grid_id: String,
    pub community_id: String,
    #[serde(skip)]
    pub grid_path: String,
    pub reporter_name: Option<String>,
    pub reporter_phone: Option<String>,
    pub priority: i64,
    pub reporter_email: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CaseRecord {
    pub details: CaseDetails,
    pub state: CaseState,
    pub updated_at: i64,
}

crate::record!(CaseDetails in "cases" {
    id,
    number,
    category_code,
    source,
    description,
    lat,
    lon,
    address,
    grid_id,
    community_id,
    grid_path,
    reporter_name,
    reporter_phone,
    priority,
    reporter_email,
});

crate::record!(CaseState in "cases" {
    status,
    tier,
    assignee_unit_id,
    reported_at,
    reported_by,
    dispatched_at,
    response_deadline,
    handling_deadline,
    accepted_at,
    handled_at,
    handled_by,
    closed_at,
    rework_count,
    extension_count,
    extension_pending,
    escalation_count,
    suspended_from,
    suspended_at,
    merged_into,
    warning,
    version,
});

fn case_from_row(r: &super::Row) -> StoreResult<CaseRecord> {
    let d = CaseDetails::COLUMNS.len();
    let s = CaseState::COLUMNS.len();
    Ok(CaseRecord { details: CaseDetails::decode_at(r, 0)?, state: CaseState::decode_at(r, d)?, updated_at: r.i64(d + s)? })
}

fn case_select() -> SelectStatement {
    let mut q = CaseDetails::select();
    q.columns(CaseState::COLUMNS.iter().map(|c| ("cases", *c))).column(("cases", "updated_at"));
    q
}

pub fn insert_case(conn: &mut dyn Conn, d: &CaseDetails, s: &CaseState) -> StoreResult<()> {
    insert_cases(conn, &[(d, s)])
}

/// Inserts cases (bulk loads and single reports alike).
pub fn insert_cases(conn: &mut dyn Conn, rows: &[(&CaseDetails, &CaseState)]) -> StoreResult<()> {
    let now = now_ms();
    let values = rows.iter().map(|(d, s)| case_row(d, s, now)).collect();
    conn.insert_rows("cases", &case_columns(), values)?;
    Ok(())
}

/// The columns of a case row, in the order of [`case_row`].
pub(crate) fn case_columns() -> Vec<&'static str> {
    let mut columns: Vec<&str> = CaseDetails::COLUMNS.to_vec();
    columns.extend(CaseState::COLUMNS);
    columns.push("updated_at");
    columns.push("cell");
    columns
}

pub(crate) fn case_row(d: &CaseDetails, s: &CaseState, now: i64) -> Vec<Value> {
    let mut values = d.values();
    values.extend(s.values());
    values.push(now.into());
    values.push(crate::domain::coords::cell_of(d.lat, d.lon).into());
    values
}

/// Writes the new projection if nobody changed the case since `seen_version`; `false` when
/// someone did (the caller then refuses the stale action).
pub fn update_state(conn: &mut dyn Conn, id: &str, s: &CaseState, seen_version: i64) -> StoreResult<bool> {
    let mut pairs: Vec<(&str, sea_query::Expr)> = CaseState::COLUMNS.iter().copied().zip(s.values().into_iter().map(Expr::val)).collect();
    pairs.push(("updated_at", Value::from(now_ms()).into()));
    let n = conn.execute(
        &Query::update()
            .table("cases")
            .values(pairs)
            .and_where(Expr::col("id").eq(id))
            .and_where(Expr::col("version").eq(seen_version))
            .to_owned(),
    )?;
    Ok(n == 1)
}

pub fn case_by_id(conn: &mut dyn Conn, id_or_number: &str) -> StoreResult<Option<CaseRecord>> {
    let q = case_select()
        .cond_where(Condition::any().add(Expr::col(("cases", "id")).eq(id_or_number)).add(Expr::col(("cases", "number")).eq(id_or_number)))
        .to_owned();
    conn.query_opt(&q)?.map(|r| case_from_row(&r)).transpose()
}

// ---- idempotency ----

pub fn idempotent_case(conn: &mut dyn Conn, key: &str) -> StoreResult<Option<String>> {
    conn.query_opt(&Query::select().column("case_id").from("idempotency_keys").and_where(Expr::col("key").eq(key)).to_owned())?
        .map(|r| r.string(0))
        .transpose()
}

pub fn remember_idempotent(conn: &mut dyn Conn, key: &str, case_id: &str) -> StoreResult<()> {
    conn.execute(
        &Query::insert()
            .into_table("idempotency_keys")
            .columns(["key", "case_id", "created_at"])
            .values_panic([key.into(), case_id.into(), now_ms().into()])
            .to_owned(),
    )?;
    Ok(())
}

// ---- lists ----

#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub statuses: Vec<Status>,
    pub community_id: Option<String>,
    pub grid_id: Option<String>,
    pub category_code: Option<String>,
    pub assignee_unit_ids: Option<Vec<String>>,
    /// Only cases whose grid lies in one of these subtrees.
    pub within: Option<Vec<String>>,
    pub reported_since: Option<i64>,
    pub reported_until: Option<i64>,
    /// Only these case numbers.
    pub numbers: Option<Vec<String>>,
    /// Only these categories.
    pub category_codes: Vec<String>,
    /// Only cases whose handling deadline is before this moment (overdue, with `now`).
    pub deadline_before: Option<i64>,
    /// Soonest handling deadline first, instead of newest first.
    pub by_deadline: bool,
    /// Only cases with an extension request waiting for a decision.
    pub extension_pending: bool,
    /// Only cases this person reported.
    pub reported_by: Option<String>,
    /// Newest first, the page after this (reported_at, id): for reading a whole list in
    /// pages that neither skip nor repeat a case (exports).
    pub before: Option<(i64, String)>,
    pub limit: u64,
    pub offset: u64,
}

/// Pages past this one are clamped to it: they are empty anyway, and a page number from a
/// request must not overflow the offset.
pub const MAX_PAGE: u64 = 1_000_000;

/// The offset of 1-based `page` (0 counts as 1) with `per_page` rows each.
pub fn page_offset(page: u64, per_page: u64) -> u64 {
    (page.clamp(1, MAX_PAGE) - 1).saturating_mul(per_page)
}

fn filtered(f: &CaseFilter) -> SelectStatement {
    let mut q = case_select();
    if !f.statuses.is_empty() {
        q.and_where(Expr::col(("cases", "status")).is_in(f.statuses.iter().map(|s| s.as_str())));
    }
    if let Some(c) = &f.community_id {
        q.and_where(Expr::col(("cases", "community_id")).eq(c.as_str()));
    }
    if let Some(g) = &f.grid_id {
        q.and_where(Expr::col(("cases", "grid_id")).eq(g.as_str()));
    }
    if let Some(c) = &f.category_code {
        q.and_where(Expr::col(("cases", "category_code")).eq(c.as_str()));
    }
    if let Some(units) = &f.assignee_unit_ids {
        q.and_where(Expr::col(("cases", "assignee_unit_id")).is_in(units.iter().map(String::as_str)));
    }
    if let Some(paths) = &f.within {
        let mut any = Condition::any();
        for p in paths {
            any = any.add(Expr::col(("cases", "grid_path")).like(format!("{p}%")));
        }
        q.cond_where(any);
    }
    if let Some(t) = f.reported_since {
        q.and_where(Expr::col(("cases", "reported_at")).gte(t));
    }
    if let Some(t) = f.reported_until {
        q.and_where(Expr::col(("cases", "reported_at")).lte(t));
    }
    if let Some(numbers) = &f.numbers {
        q.and_where(Expr::col(("cases", "number")).is_in(numbers.iter().map(String::as_str)));
    }
    if let Some(t) = f.deadline_before {
        q.and_where(Expr::col(("cases", "handling_deadline")).lt(t));
    }
    if !f.category_codes.is_empty() {
        q.and_where(Expr::col(("cases", "category_code")).is_in(f.category_codes.iter().map(String::as_str)));
    }
    if f.extension_pending {
        q.and_where(Expr::col(("cases", "extension_pending")).is_not_null());
    }
    if let Some(p) = &f.reported_by {
        q.and_where(Expr::col(("cases", "reported_by")).eq(p.as_str()));
    }
    if let Some((at, id)) = &f.before {
        q.cond_where(
            Condition::any()
                .add(Expr::col(("cases", "reported_at")).lt(*at))
                .add(Condition::all().add(Expr::col(("cases", "reported_at")).eq(*at)).add(Expr::col(("cases", "id")).lt(id.as_str()))),
        );
    }
    q
}

pub fn list_cases(conn: &mut dyn Conn, f: &CaseFilter) -> StoreResult<Vec<CaseRecord>> {
    let mut q = filtered(f);
    if f.by_deadline {
        // Cases without a deadline last on both backends.
        q.order_by_expr(Expr::col(("cases", "handling_deadline")).is_null(), Order::Asc)
            .order_by(("cases", "handling_deadline"), Order::Asc);
    }
    let q = q
        .order_by(("cases", "reported_at"), Order::Desc)
        .order_by(("cases", "id"), Order::Desc)
        .limit(std::cmp::max(f.limit, 1))
        .offset(f.offset)
        .to_owned();
    conn.query(&q)?.iter().map(case_from_row).collect()
}

/// Open cases of a category reported since `since` inside a lat/lon box (duplicate check).
pub fn open_cases_near(
    conn: &mut dyn Conn,
    category_code: &str,
    since: i64,
    lat: (f64, f64),
    lon: (f64, f64),
) -> StoreResult<Vec<NearCase>> {
    let cells = crate::domain::coords::cells_covering(lat, lon);
    if cells.is_empty() {
        return Ok(Vec::new());
    }
    // The index holds the position too, so only cases inside the box are read.
    let q = NearCase::select()
        .and_where(Expr::col("category_code").eq(category_code))
        .and_where(Expr::col("cell").is_in(cells))
        .and_where(Expr::col("reported_at").gte(since))
        .and_where(Expr::col("lat").between(lat.0, lat.1))
        .and_where(Expr::col("lon").between(lon.0, lon.1))
        .and_where(Expr::col("status").is_not_in(["closed", "rejected", "merged"]))
        .to_owned();
    conn.query(&q)?.iter().map(NearCase::decode).collect()
}

/// An open case close to a new report (see [`open_cases_near`]).
#[derive(Debug, Clone)]
pub struct NearCase {
    pub id: String,
    pub number: String,
    pub status: Status,
    pub description: String,
    pub lat: f64,
    pub lon: f64,
}

crate::record!(NearCase in "cases" { id, number, status, description, lat, lon });

/// One slice of a to-do, soonest handling deadline first (cases without one after, oldest
/// report first), at most `limit`: read in index order, never sorted whole. Two reads keep
/// the order the same on both backends, which sort NULLs differently.
pub fn queue(conn: &mut dyn Conn, queue: &crate::domain::case::Queue, limit: u64) -> StoreResult<Vec<CaseRecord>> {
    let scoped = || {
        let mut q = case_select().and_where(Expr::col(("cases", "status")).eq(queue.status.as_str())).to_owned();
        if !queue.assigned_to.is_empty() {
            q.and_where(Expr::col(("cases", "assignee_unit_id")).is_in(queue.assigned_to.iter().map(String::as_str)));
        }
        if !queue.within.is_empty() {
            let mut any = Condition::any();
            for p in &queue.within {
                any = any.add(Expr::col(("cases", "grid_path")).like(format!("{p}%")));
            }
            q.cond_where(any);
        }
        if queue.extension_pending {
            q.and_where(Expr::col(("cases", "extension_pending")).is_not_null());
        }
        q
    };
    let with_deadline = scoped()
        .and_where(Expr::col(("cases", "handling_deadline")).is_not_null())
        .order_by(("cases", "handling_deadline"), Order::Asc)
        .order_by(("cases", "reported_at"), Order::Asc)
        .limit(limit)
        .to_owned();
    let mut out: Vec<CaseRecord> = conn.query(&with_deadline)?.iter().map(case_from_row).collect::<StoreResult<_>>()?;
    let left = limit.saturating_sub(out.len() as u64);
    if left > 0 {
        let without = scoped()
            .and_where(Expr::col(("cases", "handling_deadline")).is_null())
            .order_by(("cases", "reported_at"), Order::Asc)
            .limit(left)
            .to_owned();
        for r in conn.query(&without)? {
            out.push(case_from_row(&r)?);
        }
    }
    Ok(out)
}

/// Cases the deadline scanner must look at: dispatched or being handled.
pub fn cases_under_deadline(conn: &mut dyn Conn) -> StoreResult<Vec<CaseRecord>> {
    let q = case_select().and_where(Expr::col(("cases", "status")).is_in(["dispatched", "in_progress"])).to_owned();
    conn.query(&q)?.iter().map(case_from_row).collect()
}

/// How many cases the store holds.
pub fn case_count(conn: &mut dyn Conn) -> StoreResult<i64> {
    conn.query_opt(&Query::select().expr(Expr::col("id").count()).from("cases").to_owned())?
        .map(|r| r.i64(0))
        .transpose()
        .map(|n| n.unwrap_or(0))
}

/// Every case's grid, category and state (for recounting the counters).
pub fn all_case_states(conn: &mut dyn Conn) -> StoreResult<Vec<(String, String, CaseState)>> {
    let mut out = Vec::new();
    let mut after = String::new();
    loop {
        let page = conn.query(
            &case_select()
                .and_where(Expr::col(("cases", "id")).gt(after.as_str()))
                .order_by(("cases", "id"), Order::Asc)
                .limit(10_000)
                .to_owned(),
        )?;
        if page.is_empty() {
            return Ok(out);
        }
        for r in &page {
            let c = case_from_row(r)?;
            after = c.details.id.clone();
            out.push((c.details.grid_id, c.details.category_code, c.state));
        }
    }
}

/// Open cases under `within` past their handling deadline at `now`: (assignee unit, number),
/// most overdue first, at most `limit` — read along the deadline index.
pub fn overdue_cases(conn: &mut dyn Conn, within: &str, now: i64, limit: u64) -> StoreResult<Vec<(Option<String>, String)>> {
    conn.query(
        &Query::select()
            .column("assignee_unit_id")
            .column("number")
            .from("cases")
            .and_where(Expr::col("status").is_in(["dispatched", "in_progress"]))
            .and_where(Expr::col("handling_deadline").lt(now))
            .and_where(Expr::col("grid_path").like(format!("{within}%")))
            .order_by("handling_deadline", Order::Asc)
            .limit(limit)
            .to_owned(),
    )?
    .iter()
    .map(|r| Ok((r.opt_string(0)?, r.string(1)?)))
    .collect()
}
