//! Categories, cases, their event log, idempotency keys and counters.

use sea_query::{Condition, Expr, ExprTrait, OnConflict, Order, Query, SelectStatement, Value};

use super::{Conn, Row, StoreError, StoreResult, new_id, now_ms};
use crate::domain::case::{Action, CaseState, Event, EventData, Source, Status, Warning};
use crate::domain::category::Category;

// ---- categories ----

const CATEGORY_COLUMNS: [&str; 11] = [
    "code",
    "name",
    "class_code",
    "class_name",
    "tier",
    "department_code",
    "response_minutes",
    "handling_minutes",
    "citizen",
    "active",
    "attributes",
];

fn category_from_row(r: &Row) -> StoreResult<Category> {
    Ok(Category {
        code: r.string(0)?,
        name: r.string(1)?,
        class_code: r.string(2)?,
        class_name: r.string(3)?,
        tier: r.i64(4)? as u8,
        department: r.opt_string(5)?,
        response_minutes: r.i64(6)?,
        handling_minutes: r.i64(7)?,
        citizen: r.bool(8)?,
        active: r.bool(9)?,
        attributes: match r.opt_string(10)? {
            Some(json) => serde_json::from_str(&json).map_err(|e| StoreError::Decode { column: 10, reason: e.to_string() })?,
            None => Vec::new(),
        },
    })
}

pub fn categories(conn: &mut dyn Conn) -> StoreResult<Vec<Category>> {
    conn.query(&Query::select().columns(CATEGORY_COLUMNS).from("categories").order_by("code", Order::Asc).to_owned())?
        .iter()
        .map(category_from_row)
        .collect()
}

pub fn category(conn: &mut dyn Conn, code: &str) -> StoreResult<Option<Category>> {
    conn.query_opt(&Query::select().columns(CATEGORY_COLUMNS).from("categories").and_where(Expr::col("code").eq(code)).to_owned())?
        .map(|r| category_from_row(&r))
        .transpose()
}

pub fn upsert_category(conn: &mut dyn Conn, c: &Category) -> StoreResult<()> {
    conn.execute(
        &Query::insert()
            .into_table("categories")
            .columns(CATEGORY_COLUMNS)
            .values_panic([
                c.code.clone().into(),
                c.name.clone().into(),
                c.class_code.clone().into(),
                c.class_name.clone().into(),
                (c.tier as i64).into(),
                c.department.clone().into(),
                c.response_minutes.into(),
                c.handling_minutes.into(),
                c.citizen.into(),
                c.active.into(),
                serde_json::to_string(&c.attributes).ok().into(),
            ])
            .on_conflict(OnConflict::column("code").update_columns(CATEGORY_COLUMNS[1..].iter().copied()).to_owned())
            .to_owned(),
    )?;
    Ok(())
}

// ---- counters ----

/// Adds one to a named counter and returns the new value; atomic on both backends.
pub fn next_counter(conn: &mut dyn Conn, name: &str) -> StoreResult<i64> {
    add_to_counter(conn, name, 1)
}

/// Adds `n` to a named counter and returns the new value (the last of the `n` taken).
pub fn add_to_counter(conn: &mut dyn Conn, name: &str, n: i64) -> StoreResult<i64> {
    let row = conn.query_opt(&counter_upsert(name, n))?;
    row.ok_or_else(|| StoreError::Decode { column: 0, reason: "counter returned nothing".into() })?.i64(0)
}

/// The statement that adds `n` to a counter and returns its new value.
pub(super) fn counter_upsert(name: &str, n: i64) -> sea_query::InsertStatement {
    Query::insert()
        .into_table("counters")
        .columns(["name", "value"])
        .values_panic([name.into(), n.into()])
        .on_conflict(OnConflict::column("name").value("value", Expr::col(("counters", "value")).add(n)).to_owned())
        .returning_col("value")
        .to_owned()
}

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

const DETAIL_COLUMNS: [&str; 15] = [
    "id",
    "number",
    "category_code",
    "source",
    "description",
    "lat",
    "lon",
    "address",
    "grid_id",
    "community_id",
    "grid_path",
    "reporter_name",
    "reporter_phone",
    "priority",
    "reporter_email",
];

const STATE_COLUMNS: [&str; 21] = [
    "status",
    "tier",
    "assignee_unit_id",
    "reported_at",
    "reported_by",
    "dispatched_at",
    "response_deadline",
    "handling_deadline",
    "accepted_at",
    "handled_at",
    "handled_by",
    "closed_at",
    "rework_count",
    "extension_count",
    "extension_pending",
    "escalation_count",
    "suspended_from",
    "suspended_at",
    "merged_into",
    "warning",
    "version",
];

fn state_values(s: &CaseState) -> Vec<Value> {
    vec![
        s.status.as_str().into(),
        (s.tier as i64).into(),
        s.assignee_unit_id.clone().into(),
        s.reported_at.into(),
        s.reported_by.clone().into(),
        s.dispatched_at.into(),
        s.response_deadline.into(),
        s.handling_deadline.into(),
        s.accepted_at.into(),
        s.handled_at.into(),
        s.handled_by.clone().into(),
        s.closed_at.into(),
        s.rework_count.into(),
        s.extension_count.into(),
        s.extension_pending.into(),
        s.escalation_count.into(),
        s.suspended_from.map(|x| x.as_str().to_string()).into(),
        s.suspended_at.into(),
        s.merged_into.clone().into(),
        s.warning.as_str().into(),
        s.version.into(),
    ]
}

fn decode<T>(column: usize, value: String, parse: fn(&str) -> Option<T>) -> StoreResult<T> {
    parse(&value).ok_or_else(|| StoreError::Decode { column, reason: format!("unknown value {value}") })
}

fn case_from_row(r: &Row) -> StoreResult<CaseRecord> {
    let d = DETAIL_COLUMNS.len();
    let details = CaseDetails {
        id: r.string(0)?,
        number: r.string(1)?,
        category_code: r.string(2)?,
        source: decode(3, r.string(3)?, Source::parse)?,
        description: r.string(4)?,
        lat: r.f64(5)?,
        lon: r.f64(6)?,
        address: r.opt_string(7)?,
        grid_id: r.string(8)?,
        community_id: r.string(9)?,
        grid_path: r.string(10)?,
        reporter_name: r.opt_string(11)?,
        reporter_phone: r.opt_string(12)?,
        priority: r.i64(13)?,
        reporter_email: r.opt_string(14)?,
    };
    let state = CaseState {
        status: decode(d, r.string(d)?, Status::parse)?,
        tier: r.i64(d + 1)? as u8,
        assignee_unit_id: r.opt_string(d + 2)?,
        reported_at: r.i64(d + 3)?,
        reported_by: r.opt_string(d + 4)?,
        dispatched_at: r.opt_i64(d + 5)?,
        response_deadline: r.opt_i64(d + 6)?,
        handling_deadline: r.opt_i64(d + 7)?,
        accepted_at: r.opt_i64(d + 8)?,
        handled_at: r.opt_i64(d + 9)?,
        handled_by: r.opt_string(d + 10)?,
        closed_at: r.opt_i64(d + 11)?,
        rework_count: r.i64(d + 12)?,
        extension_count: r.i64(d + 13)?,
        extension_pending: r.opt_i64(d + 14)?,
        escalation_count: r.i64(d + 15)?,
        suspended_from: r.opt_string(d + 16)?.map(|v| decode(d + 16, v, Status::parse)).transpose()?,
        suspended_at: r.opt_i64(d + 17)?,
        merged_into: r.opt_string(d + 18)?,
        warning: decode(d + 19, r.string(d + 19)?, Warning::parse)?,
        version: r.i64(d + 20)?,
    };
    Ok(CaseRecord { details, state, updated_at: r.i64(d + 21)? })
}

fn case_select() -> SelectStatement {
    Query::select()
        .columns(DETAIL_COLUMNS.map(|c| ("cases", c)))
        .columns(STATE_COLUMNS.map(|c| ("cases", c)))
        .column(("cases", "updated_at"))
        .from("cases")
        .to_owned()
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
pub(super) fn case_columns() -> Vec<&'static str> {
    let mut columns: Vec<&str> = DETAIL_COLUMNS.to_vec();
    columns.extend(STATE_COLUMNS);
    columns.push("updated_at");
    columns.push("cell");
    columns
}

pub(super) fn case_row(d: &CaseDetails, s: &CaseState, now: i64) -> Vec<Value> {
    let mut values: Vec<Value> = vec![
        d.id.clone().into(),
        d.number.clone().into(),
        d.category_code.clone().into(),
        d.source.as_str().into(),
        d.description.clone().into(),
        d.lat.into(),
        d.lon.into(),
        d.address.clone().into(),
        d.grid_id.clone().into(),
        d.community_id.clone().into(),
        d.grid_path.clone().into(),
        d.reporter_name.clone().into(),
        d.reporter_phone.clone().into(),
        d.priority.into(),
        d.reporter_email.clone().into(),
    ];
    values.extend(state_values(s));
    values.push(now.into());
    values.push(crate::domain::coords::cell_of(d.lat, d.lon).into());
    values
}

/// Writes the new projection if nobody changed the case since `seen_version`; `false` when
/// someone did (the caller then refuses the stale action).
pub fn update_state(conn: &mut dyn Conn, id: &str, s: &CaseState, seen_version: i64) -> StoreResult<bool> {
    let mut pairs: Vec<(&str, sea_query::Expr)> = STATE_COLUMNS.iter().copied().zip(state_values(s).into_iter().map(Into::into)).collect();
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

/// One row of the log as stored.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EventRecord {
    pub seq: i64,
    pub action: String,
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    pub at: i64,
    pub note: Option<String>,
    pub data: EventData,
    pub public: bool,
}

impl EventRecord {
    pub fn event(&self) -> Event {
        Event { action: Action::parse(&self.action), at: self.at, actor_id: self.actor_id.clone(), data: self.data.clone() }
    }
}

pub struct NewEvent<'a> {
    pub case_id: &'a str,
    pub seq: i64,
    pub event: &'a Event,
    pub actor_name: Option<&'a str>,
    pub note: Option<&'a str>,
    pub public: bool,
}

pub fn insert_event(conn: &mut dyn Conn, e: NewEvent<'_>) -> StoreResult<()> {
    insert_events(conn, &[e])
}

/// Appends events.
pub fn insert_events(conn: &mut dyn Conn, events: &[NewEvent<'_>]) -> StoreResult<()> {
    let values = events.iter().map(event_row).collect::<StoreResult<Vec<_>>>()?;
    conn.insert_rows("case_events", &EVENT_INSERT_COLUMNS, values)?;
    Ok(())
}

pub(super) const EVENT_INSERT_COLUMNS: [&str; 10] =
    ["id", "case_id", "seq", "action", "actor_id", "actor_name", "at", "note", "data", "public"];

/// An event row, in the order of [`EVENT_INSERT_COLUMNS`].
pub(super) fn event_row(e: &NewEvent<'_>) -> StoreResult<Vec<Value>> {
    let data = serde_json::to_string(&e.event.data).map_err(|err| StoreError::Decode { column: 0, reason: err.to_string() })?;
    Ok(vec![
        new_id().into(),
        e.case_id.into(),
        e.seq.into(),
        e.event.action.map(|a| a.as_str()).unwrap_or("report").into(),
        e.event.actor_id.clone().into(),
        e.actor_name.map(str::to_string).into(),
        e.event.at.into(),
        e.note.map(str::to_string).into(),
        data.into(),
        e.public.into(),
    ])
}

pub fn events(conn: &mut dyn Conn, case_id: &str) -> StoreResult<Vec<EventRecord>> {
    conn.query(
        &Query::select()
            .columns(EVENT_COLUMNS)
            .from("case_events")
            .and_where(Expr::col("case_id").eq(case_id))
            .order_by("seq", Order::Asc)
            .to_owned(),
    )?
    .iter()
    .map(|r| event_from_row(r, 0))
    .collect()
}

const EVENT_COLUMNS: [&str; 8] = ["seq", "action", "actor_id", "actor_name", "at", "note", "data", "public"];

/// An event from `EVENT_COLUMNS`, starting at column `o`.
fn event_from_row(r: &Row, o: usize) -> StoreResult<EventRecord> {
    Ok(EventRecord {
        seq: r.i64(o)?,
        action: r.string(o + 1)?,
        actor_id: r.opt_string(o + 2)?,
        actor_name: r.opt_string(o + 3)?,
        at: r.i64(o + 4)?,
        note: r.opt_string(o + 5)?,
        data: serde_json::from_str(&r.string(o + 6)?).map_err(|e| StoreError::Decode { column: o + 6, reason: e.to_string() })?,
        public: r.bool(o + 7)?,
    })
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
    q
}

pub fn list_cases(conn: &mut dyn Conn, f: &CaseFilter) -> StoreResult<Vec<CaseRecord>> {
    let mut q = filtered(f);
    if f.by_deadline {
        // Cases without a deadline last on both backends.
        q.order_by_expr(Expr::col(("cases", "handling_deadline")).is_null().into(), Order::Asc)
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
    let q = Query::select()
        .columns(["id", "number", "status", "description", "lat", "lon"])
        .from("cases")
        .and_where(Expr::col("category_code").eq(category_code))
        .and_where(Expr::col("cell").is_in(cells))
        .and_where(Expr::col("reported_at").gte(since))
        .and_where(Expr::col("lat").between(lat.0, lat.1))
        .and_where(Expr::col("lon").between(lon.0, lon.1))
        .and_where(Expr::col("status").is_not_in(["closed", "rejected", "merged"]))
        .to_owned();
    conn.query(&q)?
        .iter()
        .map(|r| {
            Ok(NearCase {
                id: r.string(0)?,
                number: r.string(1)?,
                status: decode(2, r.string(2)?, Status::parse)?,
                description: r.string(3)?,
                lat: r.f64(4)?,
                lon: r.f64(5)?,
            })
        })
        .collect()
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

/// Cases the deadline scanner must look at: dispatched or being handled.
pub fn cases_under_deadline(conn: &mut dyn Conn) -> StoreResult<Vec<CaseRecord>> {
    let q = case_select().and_where(Expr::col(("cases", "status")).is_in(["dispatched", "in_progress"])).to_owned();
    conn.query(&q)?.iter().map(case_from_row).collect()
}

/// A public event with the number of its case (Open311 service request updates).
#[derive(Debug, Clone)]
pub struct PublicEvent {
    pub id: String,
    pub case_number: String,
    pub event: EventRecord,
}

/// Public events in `[from, to]`, oldest first, at most `limit`.
pub fn public_events(conn: &mut dyn Conn, from: i64, to: i64, limit: u64) -> StoreResult<Vec<PublicEvent>> {
    conn.query(
        &Query::select()
            .column(("case_events", "id"))
            .column(("cases", "number"))
            .columns(EVENT_COLUMNS.map(|c| ("case_events", c)))
            .from("case_events")
            .inner_join("cases", Expr::col(("cases", "id")).equals(("case_events", "case_id")))
            .and_where(Expr::col(("case_events", "public")).eq(true))
            .and_where(Expr::col(("case_events", "at")).gte(from))
            .and_where(Expr::col(("case_events", "at")).lte(to))
            .order_by(("case_events", "at"), Order::Asc)
            .limit(limit)
            .to_owned(),
    )?
    .iter()
    .map(|r| Ok(PublicEvent { id: r.string(0)?, case_number: r.string(1)?, event: event_from_row(r, 2)? }))
    .collect()
}

/// The id of a case's newest event.
pub fn last_event_id(conn: &mut dyn Conn, case_id: &str) -> StoreResult<Option<String>> {
    conn.query_opt(
        &Query::select()
            .column("id")
            .from("case_events")
            .and_where(Expr::col("case_id").eq(case_id))
            .order_by("seq", Order::Desc)
            .limit(1)
            .to_owned(),
    )?
    .map(|r| r.string(0))
    .transpose()
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
