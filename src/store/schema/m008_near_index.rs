//! Migration 8: the duplicate check reads positions from its index.

use super::*;

/// The proximity index carries the position, so the duplicate check reads only the cases
/// inside its box (the status, which changes, stays out of the index).
pub(super) fn steps() -> Vec<Step> {
    vec![drop_index("cases_near", "cases"), idx("cases_near", "cases", &["category_code", "cell", "reported_at", "lat", "lon"])]
}
