//! Migration 1: org, people, sessions.

use super::*;

pub(super) fn steps() -> Vec<Step> {
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
