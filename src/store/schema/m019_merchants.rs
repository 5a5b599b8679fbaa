//! Migration 19: merchants (商户) under 门前五包, with their pledges.

use super::*;

pub(super) fn steps() -> Vec<Step> {
    vec![
        Step::Table(
            Table::create()
                .table("merchants")
                .col(id("id"))
                .col(text("name"))
                .col(opt_text("address"))
                .col(ColumnDef::new("lat").double().not_null())
                .col(ColumnDef::new("lon").double().not_null())
                .col(key("grid_id"))
                .col(key("community_id"))
                .col(text("grid_path"))
                .col(opt_text("street"))
                .col(opt_text("frontage"))
                .col(opt_text("contact"))
                .col(opt_text("phone"))
                .col(ColumnDef::new("kind").string_len(16).not_null())
                .col(ColumnDef::new("licence").string_len(32).null().unique_key())
                .col(opt_int("pledge_day"))
                .col(opt_text("pledge_by"))
                .col(ColumnDef::new("status").string_len(16).not_null())
                .col(int("created_at"))
                .to_owned(),
        ),
        idx("merchants_grid", "merchants", &["grid_path", "name"]),
    ]
}
