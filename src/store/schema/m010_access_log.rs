//! Migration 10: the personal-data access log (查阅日志), append-only.

use super::*;

pub(super) fn steps() -> Vec<Step> {
    vec![
        Step::Table(
            Table::create()
                .table("access_log")
                .col(id("id"))
                .col(int("at"))
                .col(ColumnDef::new("actor_id").string_len(36).not_null())
                .col(text("actor_name"))
                .col(ColumnDef::new("record_kind").string_len(24).not_null())
                .col(ColumnDef::new("record_id").string_len(64).not_null())
                .col(text("record_label"))
                .col(ColumnDef::new("field").string_len(32).not_null())
                .col(opt_text("reason"))
                .col(ColumnDef::new("ip").string_len(64).not_null())
                .col(opt_int("rows"))
                .to_owned(),
        ),
        idx("access_log_at", "access_log", &["at"]),
        idx("access_log_actor", "access_log", &["actor_id", "at"]),
        idx("access_log_record", "access_log", &["record_kind", "record_id", "at"]),
    ]
}
