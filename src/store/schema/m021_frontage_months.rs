//! Migration 21: each frontage point's checks per month, kept by every check's write, so the
//! monthly red and black lists read one row per shop instead of grouping the month's
//! inspections; earlier checks are summed in.

use super::*;

const BACKFILL: &str = "INSERT INTO frontage_months (month, point_id, checks, failed) \
     SELECT i.day / 100, i.point_id, COUNT(*), SUM(CASE WHEN i.failed_items > 0 THEN 1 ELSE 0 END) \
     FROM inspections i JOIN rounds r ON r.id = i.round_id WHERE r.kind = 'frontage' \
     GROUP BY i.day / 100, i.point_id";

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
                .primary_key(Index::create().col("month").col("point_id"))
                .to_owned(),
        ),
        Step::Raw { sqlite: BACKFILL.into(), postgres: BACKFILL.into() },
    ]
}
