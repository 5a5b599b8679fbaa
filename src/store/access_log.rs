//! The personal-data access log (查阅日志): who saw which field of which record unmasked,
//! when, from where and why. Append-only: this module writes rows and reads them, and has no
//! statement that changes or removes one.

use sea_query::{Expr, ExprTrait, Order};

use super::record::Record;
use super::{Conn, StoreResult};

/// One view of personal data (or one export carrying it in full).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AccessEntry {
    pub id: String,
    pub at: i64,
    pub actor_id: String,
    pub actor_name: String,
    /// What kind of record: `case`, `person`, `case_export` …
    pub record_kind: String,
    pub record_id: String,
    /// How a person recognises the record: a case number, a person's name.
    pub record_label: String,
    /// The field shown, e.g. `reporter_phone`; `*` for a whole export.
    pub field: String,
    pub reason: Option<String>,
    pub ip: String,
    /// Rows an export carried.
    pub rows: Option<i64>,
}

crate::record!(AccessEntry in "access_log" {
    id,
    at,
    actor_id,
    actor_name,
    record_kind,
    record_id,
    record_label,
    field,
    reason,
    ip,
    rows,
});

pub fn append(conn: &mut dyn Conn, entries: &[AccessEntry]) -> StoreResult<()> {
    let rows = entries.iter().map(Record::values).collect();
    conn.insert_rows(AccessEntry::TABLE, AccessEntry::COLUMNS, rows)?;
    Ok(())
}

/// What to show of the log.
#[derive(Debug, Clone, Default)]
pub struct AccessFilter {
    pub actor_id: Option<String>,
    pub record_kind: Option<String>,
    pub record_id: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub limit: u64,
    pub offset: u64,
}

/// Entries, newest first.
pub fn entries(conn: &mut dyn Conn, f: &AccessFilter) -> StoreResult<Vec<AccessEntry>> {
    let mut q = AccessEntry::select();
    if let Some(a) = &f.actor_id {
        q.and_where(Expr::col("actor_id").eq(a.as_str()));
    }
    if let Some(k) = &f.record_kind {
        q.and_where(Expr::col("record_kind").eq(k.as_str()));
    }
    if let Some(r) = &f.record_id {
        q.and_where(Expr::col("record_id").eq(r.as_str()));
    }
    if let Some(t) = f.since {
        q.and_where(Expr::col("at").gte(t));
    }
    if let Some(t) = f.until {
        q.and_where(Expr::col("at").lte(t));
    }
    q.order_by("at", Order::Desc).order_by("id", Order::Desc).limit(std::cmp::max(f.limit, 1)).offset(f.offset);
    conn.query(&q)?.iter().map(AccessEntry::decode).collect()
}
