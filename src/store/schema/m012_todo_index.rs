//! Migration 12: the to-do reads a unit's cases in deadline order straight from an index.

use super::*;

pub(super) fn steps() -> Vec<Step> {
    vec![
        drop_index("cases_assignee", "cases"),
        idx("cases_assignee", "cases", &["assignee_unit_id", "status", "handling_deadline", "reported_at"]),
    ]
}
