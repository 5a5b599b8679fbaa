//! Migration 7: open cases past their deadline read from one index.

use super::*;

/// The deadline index carries what the dashboards count of open cases past their deadline
/// (`tallies::open_counts`), so that count reads a range of one index and no case rows; the
/// sweep for overdue cases keeps using its (status, deadline) prefix.
pub(super) fn steps() -> Vec<Step> {
    vec![
        drop_index("cases_deadline", "cases"),
        idx("cases_deadline", "cases", &["status", "handling_deadline", "reported_at", "grid_id", "category_code", "assignee_unit_id"]),
    ]
}
