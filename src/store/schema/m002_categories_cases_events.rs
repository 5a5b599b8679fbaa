//! Migration 2: categories, cases, case events.

use super::*;

pub(super) fn steps() -> Vec<Step> {
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
