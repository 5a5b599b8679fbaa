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

enum Step {
    Table(TableCreateStatement),
    Index(IndexCreateStatement),
    Alter(sea_query::TableAlterStatement),
    DropIndex(sea_query::IndexDropStatement),
    /// SQL per backend; empty: nothing to do there.
    Raw {
        sqlite: String,
        postgres: String,
    },
}

struct Migration {
    version: i64,
    name: &'static str,
    steps: fn() -> Vec<Step>,
}

const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "org, people, sessions", steps: v1 },
    Migration { version: 2, name: "categories, cases, case events", steps: v2 },
    Migration { version: 3, name: "photos", steps: v3 },
    Migration { version: 4, name: "Open311: api keys, category attributes, reporter email", steps: v4 },
    Migration { version: 5, name: "case tallies for dashboards; desk and duplicate-check indexes", steps: v5 },
    Migration { version: 6, name: "counters stored in key order (SQLite WITHOUT ROWID)", steps: v6 },
    Migration { version: 7, name: "open cases past their deadline read from one index", steps: v7 },
    Migration { version: 8, name: "the duplicate check reads positions from its index", steps: v8 },
];

fn id(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).string_len(36).not_null().primary_key().to_owned()
}

fn text(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).text().not_null().to_owned()
}

fn opt_text(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).text().null().to_owned()
}

fn int(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().to_owned()
}

fn opt_int(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).big_integer().null().to_owned()
}

fn real(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).double().not_null().to_owned()
}

fn fk(from: &'static str, column: &'static str, to: &'static str) -> sea_query::ForeignKeyCreateStatement {
    ForeignKey::create().from(from, column).to(to, "id").to_owned()
}

fn v1() -> Vec<Step> {
    vec![
        Step::Table(
            Table::create().table("meta").col(ColumnDef::new("key").string_len(64).not_null().primary_key()).col(text("value")).to_owned(),
        ),
        Step::Table(
            Table::create()
                .table("org_units")
                .col(id("id"))
                .col(ColumnDef::new("kind").string_len(16).not_null())
                .col(ColumnDef::new("code").string_len(32).not_null().unique_key())
                .col(text("name"))
                .col(ColumnDef::new("parent_id").string_len(36).null())
                .col(text("path"))
                .col(int("sort"))
                .col(int("created_at"))
                .col(int("updated_at"))
                .foreign_key(&mut fk("org_units", "parent_id", "org_units"))
                .to_owned(),
        ),
        Step::Index(Index::create().name("org_units_parent").table("org_units").col("parent_id").to_owned()),
        Step::Index(Index::create().name("org_units_path").table("org_units").col("path").to_owned()),
        Step::Index(Index::create().name("org_units_kind").table("org_units").col("kind").col("sort").to_owned()),
        Step::Table(
            Table::create()
                .table("grids")
                .col(ColumnDef::new("org_unit_id").string_len(36).not_null().primary_key())
                .col(ColumnDef::new("community_id").string_len(36).not_null())
                .col(text("geometry"))
                .col(real("min_lon"))
                .col(real("min_lat"))
                .col(real("max_lon"))
                .col(real("max_lat"))
                .col(real("area_m2"))
                .foreign_key(&mut fk("grids", "org_unit_id", "org_units"))
                .foreign_key(&mut fk("grids", "community_id", "org_units"))
                .to_owned(),
        ),
        Step::Index(Index::create().name("grids_community").table("grids").col("community_id").to_owned()),
        Step::Table(
            Table::create()
                .table("sponsorships")
                .col(ColumnDef::new("sponsor_unit_id").string_len(36).not_null())
                .col(ColumnDef::new("org_unit_id").string_len(36).not_null())
                .col(int("created_at"))
                .primary_key(Index::create().col("sponsor_unit_id").col("org_unit_id"))
                .foreign_key(&mut fk("sponsorships", "sponsor_unit_id", "org_units"))
                .foreign_key(&mut fk("sponsorships", "org_unit_id", "org_units"))
                .to_owned(),
        ),
        Step::Index(Index::create().name("sponsorships_unit").table("sponsorships").col("org_unit_id").to_owned()),
        Step::Table(
            Table::create()
                .table("people")
                .col(id("id"))
                .col(text("name"))
                .col(opt_text("phone"))
                .col(ColumnDef::new("username").string_len(64).null().unique_key())
                .col(opt_text("password_hash"))
                .col(ColumnDef::new("active").boolean().not_null())
                .col(int("created_at"))
                .col(int("updated_at"))
                .to_owned(),
        ),
        Step::Table(
            Table::create()
                .table("role_assignments")
                .col(ColumnDef::new("person_id").string_len(36).not_null())
                .col(ColumnDef::new("role").string_len(32).not_null())
                .col(ColumnDef::new("org_unit_id").string_len(36).not_null())
                .col(int("created_at"))
                .primary_key(Index::create().col("person_id").col("role").col("org_unit_id"))
                .foreign_key(&mut fk("role_assignments", "person_id", "people"))
                .foreign_key(&mut fk("role_assignments", "org_unit_id", "org_units"))
                .to_owned(),
        ),
        Step::Index(Index::create().name("role_assignments_unit").table("role_assignments").col("org_unit_id").col("role").to_owned()),
        Step::Table(
            Table::create()
                .table("sessions")
                .col(ColumnDef::new("token_hash").string_len(64).not_null().primary_key())
                .col(ColumnDef::new("person_id").string_len(36).not_null())
                .col(ColumnDef::new("csrf_token").string_len(64).not_null())
                .col(int("created_at"))
                .col(int("expires_at"))
                .foreign_key(&mut fk("sessions", "person_id", "people"))
                .to_owned(),
        ),
        Step::Index(Index::create().name("sessions_person").table("sessions").col("person_id").to_owned()),
        Step::Table(
            Table::create()
                .table("api_tokens")
                .col(id("id"))
                .col(ColumnDef::new("token_hash").string_len(64).not_null().unique_key())
                .col(ColumnDef::new("person_id").string_len(36).not_null())
                .col(text("name"))
                .col(int("created_at"))
                .col(opt_int("revoked_at"))
                .foreign_key(&mut fk("api_tokens", "person_id", "people"))
                .to_owned(),
        ),
    ]
}

fn flag(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).boolean().not_null().to_owned()
}

fn idx(name: &'static str, table: &'static str, cols: &[&'static str]) -> Step {
    let mut i = Index::create().name(name).table(table).to_owned();
    for c in cols {
        i.col(*c);
    }
    Step::Index(i)
}

fn v2() -> Vec<Step> {
    vec![
        Step::Table(
            Table::create()
                .table("categories")
                .col(ColumnDef::new("code").string_len(8).not_null().primary_key())
                .col(text("name"))
                .col(ColumnDef::new("class_code").string_len(4).not_null())
                .col(text("class_name"))
                .col(int("tier"))
                .col(opt_text("department_code"))
                .col(int("response_minutes"))
                .col(int("handling_minutes"))
                .col(flag("citizen"))
                .col(flag("active"))
                .to_owned(),
        ),
        Step::Table(
            Table::create()
                .table("counters")
                .col(ColumnDef::new("name").string_len(64).not_null().primary_key())
                .col(int("value"))
                .to_owned(),
        ),
        Step::Table(
            Table::create()
                .table("cases")
                .col(id("id"))
                .col(ColumnDef::new("number").string_len(32).not_null().unique_key())
                .col(ColumnDef::new("category_code").string_len(8).not_null())
                .col(ColumnDef::new("source").string_len(16).not_null())
                .col(text("description"))
                .col(real("lat"))
                .col(real("lon"))
                .col(opt_text("address"))
                .col(ColumnDef::new("grid_id").string_len(36).not_null())
                .col(ColumnDef::new("community_id").string_len(36).not_null())
                // Denormalised for scope filters (LIKE 'path%'); grids rarely move.
                .col(text("grid_path"))
                .col(opt_text("reporter_name"))
                .col(opt_text("reporter_phone"))
                .col(int("priority"))
                // The projection of the event log (see domain::case::CaseState).
                .col(ColumnDef::new("status").string_len(16).not_null())
                .col(int("tier"))
                .col(ColumnDef::new("assignee_unit_id").string_len(36).null())
                .col(int("reported_at"))
                .col(ColumnDef::new("reported_by").string_len(36).null())
                .col(opt_int("dispatched_at"))
                .col(opt_int("response_deadline"))
                .col(opt_int("handling_deadline"))
                .col(opt_int("accepted_at"))
                .col(opt_int("handled_at"))
                .col(ColumnDef::new("handled_by").string_len(36).null())
                .col(opt_int("closed_at"))
                .col(int("rework_count"))
                .col(int("extension_count"))
                .col(opt_int("extension_pending"))
                .col(int("escalation_count"))
                .col(ColumnDef::new("suspended_from").string_len(16).null())
                .col(opt_int("suspended_at"))
                .col(ColumnDef::new("merged_into").string_len(36).null())
                .col(ColumnDef::new("warning").string_len(8).not_null())
                .col(int("version"))
                .col(int("updated_at"))
                .foreign_key(&mut fk("cases", "grid_id", "org_units"))
                .foreign_key(&mut fk("cases", "community_id", "org_units"))
                .to_owned(),
        ),
        idx("cases_status", "cases", &["status", "reported_at"]),
        idx("cases_assignee", "cases", &["assignee_unit_id", "status"]),
        idx("cases_community", "cases", &["community_id", "status"]),
        idx("cases_grid", "cases", &["grid_id", "status"]),
        idx("cases_category", "cases", &["category_code", "reported_at"]),
        idx("cases_reported", "cases", &["reported_at"]),
        idx("cases_deadline", "cases", &["status", "handling_deadline"]),
        Step::Table(
            Table::create()
                .table("case_events")
                .col(id("id"))
                .col(ColumnDef::new("case_id").string_len(36).not_null())
                .col(int("seq"))
                .col(ColumnDef::new("action").string_len(24).not_null())
                .col(ColumnDef::new("actor_id").string_len(36).null())
                .col(opt_text("actor_name"))
                .col(int("at"))
                .col(opt_text("note"))
                .col(text("data"))
                .col(flag("public"))
                .foreign_key(&mut fk("case_events", "case_id", "cases"))
                .to_owned(),
        ),
        Step::Index(Index::create().name("case_events_seq").table("case_events").col("case_id").col("seq").unique().to_owned()),
        idx("case_events_at", "case_events", &["at"]),
        Step::Table(
            Table::create()
                .table("idempotency_keys")
                .col(ColumnDef::new("key").string_len(200).not_null().primary_key())
                .col(ColumnDef::new("case_id").string_len(36).not_null())
                .col(int("created_at"))
                .to_owned(),
        ),
    ]
}

fn v3() -> Vec<Step> {
    vec![Step::Table(
        Table::create()
            .table("photos")
            .col(id("id"))
            .col(ColumnDef::new("sha256").string_len(64).not_null())
            .col(ColumnDef::new("thumb_sha256").string_len(64).not_null())
            .col(ColumnDef::new("mime").string_len(16).not_null())
            .col(int("bytes"))
            .col(int("width"))
            .col(int("height"))
            .col(opt_text("taken_at"))
            .col(ColumnDef::new("lat").double().null())
            .col(ColumnDef::new("lon").double().null())
            .col(ColumnDef::new("uploaded_by").string_len(36).null())
            .col(int("created_at"))
            .to_owned(),
    )]
}

fn v4() -> Vec<Step> {
    vec![
        Step::Alter(Table::alter().table("categories").add_column(opt_text("attributes")).to_owned()),
        Step::Alter(Table::alter().table("cases").add_column(opt_text("reporter_email")).to_owned()),
        Step::Table(
            Table::create()
                .table("api_keys")
                .col(id("id"))
                .col(text("name"))
                .col(ColumnDef::new("key_hash").string_len(64).not_null().unique_key())
                .col(int("created_at"))
                .col(opt_int("revoked_at"))
                .to_owned(),
        ),
    ]
}

fn drop_index(name: &'static str, table: &'static str) -> Step {
    Step::DropIndex(Index::drop().name(name).table(table).to_owned())
}

fn tally_columns(t: &mut TableCreateStatement) {
    for c in ["reported", "registered", "dispatched", "due_to_close", "closed", "closed_on_time", "reworked", "extensions", "open"] {
        t.col(int(c));
    }
    t.col(real("handling_minutes"));
}

/// Counters per (day reported, grid, category, assignee), kept by every write that changes a
/// case; dashboards sum them instead of scanning cases.
fn tallies_table(name: &str) -> TableCreateStatement {
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
fn closures_table(name: &str) -> TableCreateStatement {
    Table::create()
        .table(sea_query::Alias::new(name))
        .col(int("day"))
        .col(ColumnDef::new("grid_id").string_len(36).not_null())
        .col(int("closed"))
        .primary_key(Index::create().col("day").col("grid_id"))
        .to_owned()
}

fn v5() -> Vec<Step> {
    vec![
        Step::Table(tallies_table("case_tallies")),
        Step::Table(closures_table("case_closures")),
        // The case desk pages newest first within a community or grid and a status.
        drop_index("cases_community", "cases"),
        drop_index("cases_grid", "cases"),
        drop_index("cases_status", "cases"),
        idx("cases_community", "cases", &["community_id", "status", "reported_at", "id"]),
        idx("cases_grid", "cases", &["grid_id", "status", "reported_at", "id"]),
        idx("cases_status", "cases", &["status", "reported_at", "id"]),
        // The duplicate check looks up the proximity cells around a point (see
        // `domain::coords::cell_of`; filled for older rows below).
        Step::Alter(Table::alter().table("cases").add_column(ColumnDef::new("cell").big_integer().null()).to_owned()),
        Step::Raw {
            // SQLite's CAST truncates (= floor for China's positive coordinates); PostgreSQL's rounds.
            sqlite: "UPDATE cases SET cell = CAST(lat / 0.001 AS INTEGER) * 1000000 + CAST(lon / 0.001 AS INTEGER)".into(),
            postgres: "UPDATE cases SET cell = CAST(FLOOR(lat / 0.001) AS BIGINT) * 1000000 + CAST(FLOOR(lon / 0.001) AS BIGINT)".into(),
        },
        idx("cases_near", "cases", &["category_code", "cell", "reported_at"]),
    ]
}

/// On SQLite, the counter tables become WITHOUT ROWID tables: their rows are stored in key
/// (day-first) order, so a period's rows are read in one sweep instead of an index lookup
/// each. PostgreSQL keeps them as they are.
fn v6() -> Vec<Step> {
    let mut steps = Vec::new();
    for (table, def) in [("case_tallies", tallies_table("case_tallies_v6")), ("case_closures", closures_table("case_closures_v6"))] {
        let names: Vec<String> = def.get_columns().iter().map(|c| c.get_column_name()).collect();
        let columns = super::column_list(&names.iter().map(String::as_str).collect::<Vec<_>>());
        let (old, new) = (super::quote_ident(table), super::quote_ident(&format!("{table}_v6")));
        for sql in [
            format!("{} WITHOUT ROWID", def.build(SqliteQueryBuilder)),
            format!("INSERT INTO {new} ({columns}) SELECT {columns} FROM {old}"),
            format!("DROP TABLE {old}"),
            format!("ALTER TABLE {new} RENAME TO {old}"),
        ] {
            steps.push(Step::Raw { sqlite: sql, postgres: String::new() });
        }
    }
    steps
}

/// The deadline index carries what the dashboards count of open cases past their deadline
/// (`tallies::open_counts`), so that count reads a range of one index and no case rows; the
/// sweep for overdue cases keeps using its (status, deadline) prefix.
fn v7() -> Vec<Step> {
    vec![
        drop_index("cases_deadline", "cases"),
        idx("cases_deadline", "cases", &["status", "handling_deadline", "reported_at", "grid_id", "category_code", "assignee_unit_id"]),
    ]
}

/// The proximity index carries the position, so the duplicate check reads only the cases
/// inside its box (the status, which changes, stays out of the index).
fn v8() -> Vec<Step> {
    vec![drop_index("cases_near", "cases"), idx("cases_near", "cases", &["category_code", "cell", "reported_at", "lat", "lon"])]
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
    }
}

/// Brings the schema up to date; safe when several instances start at once (PostgreSQL
/// serialises them on an advisory lock, SQLite on its single writer).
pub fn migrate(conn: &mut dyn Conn) -> Result<(), StoreError> {
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
    for m in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        for step in (m.steps)() {
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

/// The newest schema version this binary knows.
pub fn latest_version() -> i64 {
    MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Reads a `meta` value.
pub fn meta_get(conn: &mut dyn Conn, key: &str) -> StoreResult<Option<String>> {
    let row = conn.query_opt(&Query::select().column("value").from("meta").and_where(Expr::col("key").eq(key)).to_owned())?;
    row.map(|r| r.string(0)).transpose()
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
