//! Migration 21: each frontage point's checks per month — checks, failed checks, the latest
//! photo of a failure, and failures per responsibility — kept by every check's write, so the
//! monthly red and black lists read one row per shop instead of grouping the month's
//! inspections; earlier checks are summed in. An index lets the lists count a subtree's open
//! shops from the index alone.

use super::*;

const BACKFILL: &str = "INSERT INTO frontage_months (month, point_id, checks, failed) \
     SELECT i.day / 100, i.point_id, COUNT(*), SUM(CASE WHEN i.failed_items > 0 THEN 1 ELSE 0 END) \
     FROM inspections i JOIN rounds r ON r.id = i.round_id WHERE r.kind = 'frontage' \
     GROUP BY i.day / 100, i.point_id";

const BACKFILL_ITEMS: &str = "INSERT INTO frontage_month_items (month, point_id, item_code, failures) \
     SELECT i.day / 100, i.point_id, it.item_code, COUNT(*) \
     FROM inspections i JOIN rounds r ON r.id = i.round_id JOIN inspection_items it ON it.inspection_id = i.id \
     WHERE r.kind = 'frontage' AND it.failed = TRUE \
     GROUP BY i.day / 100, i.point_id, it.item_code";

const BACKFILL_PHOTOS: &str = "UPDATE frontage_months SET photo_id = (\
     SELECT a.photo_id FROM attachments a \
     JOIN inspection_items it ON a.owner_id = it.id AND a.owner_kind = 'inspection_item' \
     JOIN inspections i ON i.id = it.inspection_id \
     WHERE i.point_id = frontage_months.point_id AND i.day / 100 = frontage_months.month AND it.failed = TRUE \
     ORDER BY i.at DESC LIMIT 1)";

pub(super) fn steps() -> Vec<Step> {
    vec![
        Step::Table(
            Table::create()
                .table("frontage_months")
                // YYYYMM.
                .col(int("month"))
                .col(key("point_id"))
                .col(int("checks"))
                .col(int("failed"))
                .col(opt_key("photo_id"))
                .primary_key(Index::create().col("month").col("point_id"))
                .to_owned(),
        ),
        Step::Table(
            Table::create()
                .table("frontage_month_items")
                .col(int("month"))
                .col(key("point_id"))
                .col(ColumnDef::new("item_code").string_len(32).not_null())
                .col(int("failures"))
                .primary_key(Index::create().col("month").col("point_id").col("item_code"))
                .to_owned(),
        ),
        Step::Raw { sqlite: BACKFILL.into(), postgres: BACKFILL.into() },
        Step::Raw { sqlite: BACKFILL_ITEMS.into(), postgres: BACKFILL_ITEMS.into() },
        Step::Raw { sqlite: BACKFILL_PHOTOS.into(), postgres: BACKFILL_PHOTOS.into() },
        idx("merchants_open", "merchants", &["status", "grid_path"]),
    ]
}
