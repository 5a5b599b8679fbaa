//! Migration 5: case tallies for dashboards; desk and duplicate-check indexes.

use super::*;

pub(super) fn steps() -> Vec<Step> {
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
        // Cases from before the counters: the application counts them once at start.
        Step::Code(|conn| {
            let any = conn.query_opt(&Query::select().column("id").from("cases").limit(1).to_owned())?.is_some();
            if any { meta_set(conn, RECOUNT_TALLIES, "1") } else { Ok(()) }
        }),
    ]
}
