//! Migration 17: info reports (信息报送) and their review.

use super::*;

pub(super) fn steps() -> Vec<Step> {
    vec![
        Step::Table(
            Table::create()
                .table("info_reports")
                .col(id("id"))
                .col(ColumnDef::new("unit_id").string_len(36).not_null())
                .col(text("unit_path"))
                .col(ColumnDef::new("kind").string_len(16).not_null())
                .col(text("title"))
                .col(text("body"))
                .col(int("event_day"))
                .col(ColumnDef::new("status").string_len(16).not_null())
                .col(opt_text("review_note"))
                .col(ColumnDef::new("reviewed_by").string_len(36).null())
                .col(opt_int("reviewed_at"))
                .col(ColumnDef::new("submitted_by").string_len(36).not_null())
                .col(int("submitted_at"))
                .col(int("created_at"))
                .to_owned(),
        ),
        idx("info_reports_status", "info_reports", &["status", "submitted_at"]),
        idx("info_reports_unit", "info_reports", &["unit_path", "event_day"]),
    ]
}
