//! Migration 13: exports read a whole list newest first in pages, from the (reported_at, id)
//! index (the old one on reported_at alone made each page sort).

use super::*;

pub(super) fn steps() -> Vec<Step> {
    vec![drop_index("cases_reported", "cases"), idx("cases_reported", "cases", &["reported_at", "id"])]
}
