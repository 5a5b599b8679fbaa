//! The schema: one definition, rendered for each backend, applied as numbered migrations.
//!
//! Conventions (so both backends read back the same values): ids are UUIDv7 text, times are
//! BIGINT milliseconds since the Unix epoch (UTC), booleans are BOOLEAN, and every integer
//! column is BIGINT.

use sea_query::{
    ColumnDef, Expr, ExprTrait, ForeignKey, Index, IndexCreateStatement, PostgresQueryBuilder, Query, SqliteQueryBuilder, Table,
    TableCreateStatement,
};

use super::{Backend, Conn, StoreError, StoreResult, now_ms};

mod m001_org_people_sessions;
mod m002_categories_cases_events;
mod m003_photos;
mod m004_open311;
mod m005_tallies;
mod m006_tallies_without_rowid;
mod m007_deadline_index;
mod m008_near_index;
mod m009_attachments;
mod m010_access_log;
mod m011_number_sequences;
mod m012_todo_index;
mod m013_export_index;
mod m014_inspections;
mod m015_bulletins;
mod m016_meetings;
mod m017_info_reports;
mod m018_key_tasks;
mod m019_merchants;
mod m020_frontage;
mod m021_frontage_months;
mod m022_volunteers;

// Steps are built once, at start, a few dozen in all: their size does not matter.
#[allow(clippy::large_enum_variant)]
pub(super) enum Step {
    Table(TableCreateStatement),
    Index(IndexCreateStatement),
    Alter(sea_query::TableAlterStatement),
    DropIndex(sea_query::IndexDropStatement),
    /// SQL per backend; empty: nothing to do there.
    Raw {
        sqlite: String,
        postgres: String,
    },
    /// Data moved by store code (a backfill that needs more than SQL).
    Code(fn(&mut dyn Conn) -> StoreResult<()>),
}

struct Migration {
    version: i64,
    name: &'static str,
    steps: fn() -> Vec<Step>,
}

const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "org, people, sessions", steps: m001_org_people_sessions::steps },
    Migration { version: 2, name: "categories, cases, case events", steps: m002_categories_cases_events::steps },
    Migration { version: 3, name: "photos", steps: m003_photos::steps },
    Migration { version: 4, name: "Open311: api keys, category attributes, reporter email", steps: m004_open311::steps },
    Migration { version: 5, name: "case tallies for dashboards; desk and duplicate-check indexes", steps: m005_tallies::steps },
    Migration { version: 6, name: "counters stored in key order (SQLite WITHOUT ROWID)", steps: m006_tallies_without_rowid::steps },
    Migration { version: 7, name: "open cases past their deadline read from one index", steps: m007_deadline_index::steps },
    Migration { version: 8, name: "the duplicate check reads positions from its index", steps: m008_near_index::steps },
    Migration { version: 9, name: "photos attached to their owners, public or not", steps: m009_attachments::steps },
    Migration { version: 10, name: "personal-data access log", steps: m010_access_log::steps },
    Migration { version: 11, name: "case-number sequences renamed from counters", steps: m011_number_sequences::steps },
    Migration { version: 12, name: "to-do by deadline from the assignee index", steps: m012_todo_index::steps },
    Migration { version: 13, name: "exports page through the (reported_at, id) index", steps: m013_export_index::steps },
    Migration { version: 14, name: "evaluation manual, points, rounds, inspections and their sums", steps: m014_inspections::steps },
    Migration { version: 15, name: "inspection bulletins and rectification notices", steps: m015_bulletins::steps },
    Migration { version: 16, name: "晒比评述: units' accounts and the panel's scores", steps: m016_meetings::steps },
    Migration { version: 17, name: "info reports and their review", steps: m017_info_reports::steps },
    Migration { version: 18, name: "key tasks, drives, milestones and progress", steps: m018_key_tasks::steps },
    Migration { version: 19, name: "merchants and their pledges (门前五包)", steps: m019_merchants::steps },
    Migration { version: 20, name: "frontage checks, door codes, merchant accounts, red and black lists", steps: m020_frontage::steps },
    Migration { version: 21, name: "each frontage point's checks per month", steps: m021_frontage_months::steps },
    Migration { version: 22, name: "volunteers, activities, the hours ledger and certificates", steps: m022_volunteers::steps },
];

pub(super) fn id(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).string_len(36).not_null().primary_key().to_owned()
}

/// A UUIDv7 id referring to another row.
pub(super) fn key(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).string_len(36).not_null().to_owned()
}

pub(super) fn opt_key(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).string_len(36).null().to_owned()
}

pub(super) fn text(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).text().not_null().to_owned()
}

pub(super) fn opt_text(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).text().null().to_owned()
}

pub(super) fn int(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().to_owned()
}

pub(super) fn opt_int(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).big_integer().null().to_owned()
}

pub(super) fn real(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).double().not_null().to_owned()
}

pub(super) fn fk(from: &'static str, column: &'static str, to: &'static str) -> sea_query::ForeignKeyCreateStatement {
    ForeignKey::create().from(from, column).to(to, "id").to_owned()
}

pub(super) fn flag(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).boolean().not_null().to_owned()
}

pub(super) fn idx(name: &'static str, table: &'static str, cols: &[&'static str]) -> Step {
    let mut i = Index::create().name(name).table(table).to_owned();
    for c in cols {
        i.col(*c);
    }
    Step::Index(i)
}

pub(super) fn drop_index(name: &'static str, table: &'static str) -> Step {
    Step::DropIndex(Index::drop().name(name).table(table).to_owned())
}

pub(super) fn tally_columns(t: &mut TableCreateStatement) {
    for c in ["reported", "registered", "dispatched", "due_to_close", "closed", "closed_on_time", "reworked", "extensions", "open"] {
        t.col(int(c));
    }
    t.col(real("handling_minutes"));
}

/// Counters per (day reported, grid, category, assignee), kept by every write that changes a
/// case; dashboards sum them instead of scanning cases.
pub(super) fn tallies_table(name: &str) -> TableCreateStatement {
    let mut tallies = Table::create()
        .table(sea_query::Alias::new(name))
        .col(int("day"))
        .col(ColumnDef::new("grid_id").string_len(36).not_null())
        .col(ColumnDef::new("category_code").string_len(16).not_null())
        // '' when nobody is assigned
        .col(ColumnDef::new("assignee_unit_id").string_len(36).not_null())
        .primary_key(Index::create().col("day").col("grid_id").col("category_code").col("assignee_unit_id"))
        .to_owned();
    tally_columns(&mut tallies);
    tallies
}

/// Closures per (day closed, grid), for the daily trend.
pub(super) fn closures_table(name: &str) -> TableCreateStatement {
    Table::create()
        .table(sea_query::Alias::new(name))
        .col(int("day"))
        .col(ColumnDef::new("grid_id").string_len(36).not_null())
        .col(int("closed"))
        .primary_key(Index::create().col("day").col("grid_id"))
        .to_owned()
}

fn render(backend: Backend, step: &Step) -> String {
    match (step, backend) {
        (Step::Table(t), Backend::Sqlite) => t.build(SqliteQueryBuilder),
        (Step::Table(t), Backend::Postgres) => t.build(PostgresQueryBuilder),
        (Step::Index(i), Backend::Sqlite) => i.build(SqliteQueryBuilder),
        (Step::Index(i), Backend::Postgres) => i.build(PostgresQueryBuilder),
        (Step::Alter(a), Backend::Sqlite) => a.build(SqliteQueryBuilder),
        (Step::Alter(a), Backend::Postgres) => a.build(PostgresQueryBuilder),
        (Step::DropIndex(d), Backend::Sqlite) => d.build(SqliteQueryBuilder),
        (Step::DropIndex(d), Backend::Postgres) => d.build(PostgresQueryBuilder),
        (Step::Raw { sqlite, .. }, Backend::Sqlite) => sqlite.clone(),
        (Step::Raw { postgres, .. }, Backend::Postgres) => postgres.clone(),
        (Step::Code(_), _) => String::new(),
    }
}

/// Brings the schema up to date; safe when several instances start at once (PostgreSQL
/// serialises them on an advisory lock, SQLite on its single writer).
pub fn migrate(conn: &mut dyn Conn) -> Result<(), StoreError> {
    migrate_to(conn, latest_version())
}

/// Applies the migrations up to and including `version` (tests build stores as older
/// versions left them, then upgrade).
pub fn migrate_to(conn: &mut dyn Conn, version: i64) -> Result<(), StoreError> {
    if conn.backend() == Backend::Postgres {
        conn.batch("SELECT pg_advisory_xact_lock(7243100001)")?;
    }
    let ledger = Table::create()
        .table("schema_migrations")
        .if_not_exists()
        .col(ColumnDef::new("version").big_integer().not_null().primary_key())
        .col(text("name"))
        .col(int("applied_at"))
        .to_owned();
    conn.batch(&render(conn.backend(), &Step::Table(ledger)))?;
    let applied: Vec<i64> = conn
        .query(&Query::select().column("version").from("schema_migrations").to_owned())?
        .iter()
        .map(|r| r.i64(0))
        .collect::<StoreResult<_>>()?;
    if applied.contains(&1) {
        // Indexes a bulk load dropped and did not live to build again (see `bulk`).
        let rebuilt = super::bulk::restore_indexes(conn)?;
        if rebuilt > 0 {
            tracing::warn!(rebuilt, "built the indexes an unfinished bulk load had dropped");
        }
        if super::bulk::forget_statistics(conn)? {
            tracing::info!("dropped the SQLite statistics an earlier bulk load left");
        }
    }
    for m in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version) && m.version <= version) {
        for step in (m.steps)() {
            if let Step::Code(run) = step {
                run(conn)?;
                continue;
            }
            let sql = render(conn.backend(), &step);
            if !sql.is_empty() {
                conn.batch(&sql)?;
            }
        }
        conn.execute(
            &Query::insert()
                .into_table("schema_migrations")
                .columns(["version", "name", "applied_at"])
                .values_panic([m.version.into(), m.name.into(), now_ms().into()])
                .to_owned(),
        )?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
    }
    Ok(())
}

/// The newest migration applied to this store.
pub fn applied_version(conn: &mut dyn Conn) -> StoreResult<i64> {
    let row = conn.query_opt(&Query::select().expr(Expr::col("version").max()).from("schema_migrations").to_owned())?;
    Ok(row.map(|r| r.opt_i64(0)).transpose()?.flatten().unwrap_or(0))
}

/// The newest schema version this binary knows.
pub fn latest_version() -> i64 {
    MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Reads a `meta` value.
pub fn meta_get(conn: &mut dyn Conn, key: &str) -> StoreResult<Option<String>> {
    let row = conn.query_opt(&Query::select().column("value").from("meta").and_where(Expr::col("key").eq(key)).to_owned())?;
    row.map(|r| r.string(0)).transpose()
}

/// Meta key set when the dashboard counters must be counted again from the cases (a store
/// upgraded from before they existed); the application does it at start.
pub const RECOUNT_TALLIES: &str = "recount_tallies";

/// Sets a `meta` value.
pub fn meta_set(conn: &mut dyn Conn, key: &str, value: &str) -> StoreResult<()> {
    conn.execute(
        &Query::insert()
            .into_table("meta")
            .columns(["key", "value"])
            .values_panic([key.into(), value.into()])
            .on_conflict(sea_query::OnConflict::column("key").update_column("value").to_owned())
            .to_owned(),
    )?;
    Ok(())
}

/// Removes a `meta` value.
pub fn meta_delete(conn: &mut dyn Conn, key: &str) -> StoreResult<()> {
    conn.execute(&Query::delete().from_table("meta").and_where(Expr::col("key").eq(key)).to_owned())?;
    Ok(())
}

/// Bumps a counter kept in `meta` (e.g. the grid revision other instances watch).
pub fn meta_bump(conn: &mut dyn Conn, key: &str) -> StoreResult<i64> {
    let next = meta_get(conn, key)?.and_then(|v| v.parse::<i64>().ok()).unwrap_or(0) + 1;
    conn.execute(
        &Query::insert()
            .into_table("meta")
            .columns(["key", "value"])
            .values_panic([key.into(), next.to_string().into()])
            .on_conflict(sea_query::OnConflict::column("key").update_column("value").to_owned())
            .to_owned(),
    )?;
    Ok(next)
}
