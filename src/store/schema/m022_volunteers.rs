//! Migration 22: 志愿服务 — volunteers and their teams, activities with their sign-up lists,
//! the attendance ledger with corrections, star levels reached and certificates issued.

use super::*;

pub(super) fn steps() -> Vec<Step> {
    vec![
        Step::Table(
            Table::create()
                .table("volunteers")
                .col(id("id"))
                .col(ColumnDef::new("number").string_len(32).not_null().unique_key())
                .col(text("name"))
                .col(opt_text("phone"))
                .col(ColumnDef::new("id_number").string_len(18).null().unique_key())
                .col(ColumnDef::new("politics").string_len(16).not_null())
                .col(opt_key("station_id"))
                // JSON list of skills.
                .col(text("skills"))
                .col(opt_key("person_id"))
                // Confirmed minutes in the ledger, kept by every confirmation.
                .col(int("minutes"))
                .col(int("star"))
                .col(text("grid_path"))
                .col(flag("active"))
                .col(int("created_at"))
                .to_owned(),
        ),
        idx("volunteers_person", "volunteers", &["person_id"]),
        idx("volunteers_phone", "volunteers", &["phone"]),
        idx("volunteers_minutes", "volunteers", &["minutes"]),
        Step::Table(
            Table::create()
                .table("volunteer_stars")
                .col(key("volunteer_id"))
                .col(int("star"))
                .col(int("reached_at"))
                .primary_key(Index::create().col("volunteer_id").col("star"))
                .to_owned(),
        ),
        Step::Table(
            Table::create()
                .table("team_members")
                .col(key("volunteer_id"))
                .col(key("team_id"))
                // YYYYMMDD.
                .col(int("joined_on"))
                .col(opt_int("left_on"))
                .primary_key(Index::create().col("volunteer_id").col("team_id").col("joined_on"))
                .to_owned(),
        ),
        idx("team_members_team", "team_members", &["team_id", "left_on"]),
        Step::Table(
            Table::create()
                .table("activities")
                .col(id("id"))
                .col(text("title"))
                .col(ColumnDef::new("kind").string_len(16).not_null())
                // JSON: the services offered and, after, beneficiaries per service.
                .col(text("services"))
                // JSON: materials handed out, by kind.
                .col(text("materials"))
                .col(key("team_id"))
                .col(key("organiser_id"))
                .col(key("grid_id"))
                .col(text("grid_path"))
                .col(text("place"))
                .col(real("lat"))
                .col(real("lon"))
                .col(int("starts_at"))
                .col(int("ends_at"))
                .col(int("closes_at"))
                .col(int("capacity"))
                .col(int("signed"))
                .col(flag("public"))
                .col(flag("cancelled"))
                .col(opt_text("note"))
                .col(int("created_at"))
                .to_owned(),
        ),
        idx("activities_when", "activities", &["starts_at"]),
        idx("activities_area", "activities", &["grid_path", "starts_at"]),
        idx("activities_team", "activities", &["team_id", "starts_at"]),
        Step::Table(
            Table::create()
                .table("signups")
                .col(key("activity_id"))
                .col(key("volunteer_id"))
                .col(ColumnDef::new("state").string_len(16).not_null())
                .col(int("at"))
                .primary_key(Index::create().col("activity_id").col("volunteer_id"))
                .to_owned(),
        ),
        idx("signups_volunteer", "signups", &["volunteer_id", "state"]),
        idx("signups_queue", "signups", &["activity_id", "state", "at"]),
        Step::Table(
            Table::create()
                .table("attendances")
                .col(id("id"))
                .col(key("activity_id"))
                .col(key("volunteer_id"))
                .col(opt_int("checked_in_at"))
                .col(opt_int("checked_out_at"))
                .col(flag("by_hand"))
                .col(int("minutes"))
                .col(ColumnDef::new("state").string_len(16).not_null())
                .col(opt_key("decided_by"))
                .col(opt_int("decided_at"))
                .col(opt_text("note"))
                .to_owned(),
        ),
        Step::Index(
            Index::create().name("attendances_once").table("attendances").col("activity_id").col("volunteer_id").unique().to_owned(),
        ),
        idx("attendances_volunteer", "attendances", &["volunteer_id", "checked_in_at"]),
        Step::Table(
            Table::create()
                .table("corrections")
                .col(id("id"))
                .col(key("attendance_id"))
                .col(key("volunteer_id"))
                .col(int("minutes_asked"))
                .col(text("reason"))
                .col(int("asked_at"))
                .col(ColumnDef::new("decision").string_len(16).not_null())
                .col(opt_key("decided_by"))
                .col(opt_int("decided_at"))
                .col(opt_text("answer"))
                .to_owned(),
        ),
        idx("corrections_attendance", "corrections", &["attendance_id"]),
        idx("corrections_open", "corrections", &["decision", "asked_at"]),
        Step::Table(
            Table::create()
                .table("certificates")
                .col(id("id"))
                .col(ColumnDef::new("number").string_len(40).not_null().unique_key())
                .col(key("volunteer_id"))
                .col(key("issuer_id"))
                .col(int("minutes"))
                // JSON: every field printed, frozen as issued.
                .col(text("content"))
                // SHA-256 of the content, printed on the certificate and in its QR code.
                .col(ColumnDef::new("digest").string_len(64).not_null())
                .col(key("issued_by"))
                .col(int("issued_at"))
                .to_owned(),
        ),
        idx("certificates_volunteer", "certificates", &["volunteer_id", "issued_at"]),
    ]
}
