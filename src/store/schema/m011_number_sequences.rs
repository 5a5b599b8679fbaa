//! Migration 11: the case-number sequences get their own name (`number_sequences`), so
//! "counter" means only the dashboard counters.

use super::*;

pub(super) fn steps() -> Vec<Step> {
    let rename = "ALTER TABLE counters RENAME TO number_sequences".to_string();
    vec![Step::Raw { sqlite: rename.clone(), postgres: rename }]
}
