//! Migration 3: photos.

use super::*;

pub(super) fn steps() -> Vec<Step> {
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
