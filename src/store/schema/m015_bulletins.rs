//! Migration 15: inspection bulletins (督查通报) with their versions, and the rectification
//! notices (整改通知) issuing sends, one row per problem on a unit's list.

use super::*;

pub(super) fn steps() -> Vec<Step> {
    vec![
        Step::Table(
            Table::create()
                .table("bulletins")
                .col(id("id"))
                .col(key("area_id"))
                .col(ColumnDef::new("kind").string_len(16).not_null())
                .col(int("period_from"))
                .col(int("period_to"))
                .col(ColumnDef::new("status").string_len(16).not_null())
                .col(opt_int("year"))
                .col(opt_int("number"))
                .col(int("version"))
                .col(opt_key("supersedes"))
                .col(text("title"))
                .col(text("content"))
                .col(int("revision"))
                .col(text("created_by"))
                .col(int("created_at"))
                .col(int("updated_at"))
                .col(opt_key("issued_by"))
                .col(opt_int("issued_at"))
                .to_owned(),
        ),
        idx("bulletins_area", "bulletins", &["area_id", "status", "period_to"]),
        Step::Index(
            Index::create()
                .name("bulletins_number")
                .table("bulletins")
                .col("area_id")
                .col("year")
                .col("number")
                .col("version")
                .unique()
                .to_owned(),
        ),
        Step::Table(
            Table::create()
                .table("notices")
                .col(id("id"))
                .col(key("bulletin_id"))
                .col(key("unit_id"))
                .col(text("unit_path"))
                .col(text("escalated_path"))
                .col(int("deadline"))
                .col(ColumnDef::new("status").string_len(16).not_null())
                .col(int("items"))
                .col(int("answered"))
                .col(int("created_at"))
                .col(opt_int("closed_at"))
                .col(opt_int("escalated_at"))
                .foreign_key(&mut fk("notices", "bulletin_id", "bulletins"))
                .to_owned(),
        ),
        idx("notices_bulletin", "notices", &["bulletin_id"]),
        idx("notices_status", "notices", &["status", "deadline"]),
        Step::Table(
            Table::create()
                .table("notice_items")
                .col(id("id"))
                .col(key("notice_id"))
                .col(int("sort"))
                .col(opt_key("case_id"))
                .col(text("case_number"))
                .col(ColumnDef::new("item_code").string_len(32).not_null())
                .col(text("text"))
                .col(text("point"))
                .col(ColumnDef::new("outcome").string_len(16).null())
                .col(opt_text("note"))
                .col(opt_key("answered_by"))
                .col(opt_int("answered_at"))
                .foreign_key(&mut fk("notice_items", "notice_id", "notices"))
                .to_owned(),
        ),
        idx("notice_items_notice", "notice_items", &["notice_id", "sort"]),
    ]
}
