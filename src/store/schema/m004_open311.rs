//! Migration 4: Open311: api keys, category attributes, reporter email.

use super::*;

pub(super) fn steps() -> Vec<Step> {
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
