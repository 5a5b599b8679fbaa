//! The case event log (append-only): one row per step, the case row being its projection.

use sea_query::{Expr, ExprTrait, Order, Query, Value};

use crate::domain::case::{Action, Event, EventData};
use crate::store::record::Record;
use crate::store::{Conn, StoreResult, new_id};

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

crate::record!(EventRecord in "case_events" { seq, action, actor_id, actor_name, at, note, data: json, public });

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
    conn.insert_rows(EventRecord::TABLE, &EVENT_INSERT_COLUMNS, values)?;
    Ok(())
}

/// The columns a new event is written with: its id and case, then the record's own.
pub(crate) const EVENT_INSERT_COLUMNS: [&str; 10] =
    ["id", "case_id", "seq", "action", "actor_id", "actor_name", "at", "note", "data", "public"];

/// An event row, in the order of [`EVENT_INSERT_COLUMNS`].
pub(crate) fn event_row(e: &NewEvent<'_>) -> StoreResult<Vec<Value>> {
    let record = EventRecord {
        seq: e.seq,
        action: e.event.action.map(|a| a.as_str()).unwrap_or("report").to_string(),
        actor_id: e.event.actor_id.clone(),
        actor_name: e.actor_name.map(str::to_string),
        at: e.event.at,
        note: e.note.map(str::to_string),
        data: e.event.data.clone(),
        public: e.public,
    };
    let mut values: Vec<Value> = vec![new_id().into(), e.case_id.into()];
    values.extend(record.values());
    Ok(values)
}

pub fn events(conn: &mut dyn Conn, case_id: &str) -> StoreResult<Vec<EventRecord>> {
    conn.query(&EventRecord::select().and_where(Expr::col("case_id").eq(case_id)).order_by("seq", Order::Asc).to_owned())?
        .iter()
        .map(EventRecord::decode)
        .collect()
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
        &EventRecord::select()
            .column(("case_events", "id"))
            .column(("cases", "number"))
            .inner_join("cases", Expr::col(("cases", "id")).equals(("case_events", "case_id")))
            .and_where(Expr::col(("case_events", "public")).eq(true))
            .and_where(Expr::col(("case_events", "at")).gte(from))
            .and_where(Expr::col(("case_events", "at")).lte(to))
            .order_by(("case_events", "at"), Order::Asc)
            .limit(limit)
            .to_owned(),
    )?
    .iter()
    .map(|r| {
        let n = EventRecord::COLUMNS.len();
        Ok(PublicEvent { id: r.string(n)?, case_number: r.string(n + 1)?, event: EventRecord::decode(r)? })
    })
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
