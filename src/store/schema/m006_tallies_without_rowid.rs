//! Migration 6: counters stored in key order (SQLite WITHOUT ROWID).

use super::*;

/// On SQLite, the counter tables become WITHOUT ROWID tables: their rows are stored in key
/// (day-first) order, so a period's rows are read in one sweep instead of an index lookup
/// each. PostgreSQL keeps them as they are.
pub(super) fn steps() -> Vec<Step> {
    let mut steps = Vec::new();
    for (table, def) in [("case_tallies", tallies_table("case_tallies_v6")), ("case_closures", closures_table("case_closures_v6"))] {
        let names: Vec<String> = def.get_columns().iter().map(|c| c.get_column_name()).collect();
        let columns = super::super::column_list(&names.iter().map(String::as_str).collect::<Vec<_>>());
        let (old, new) = (super::super::quote_ident(table), super::super::quote_ident(&format!("{table}_v6")));
        for sql in [
            format!("{} WITHOUT ROWID", def.build(SqliteQueryBuilder)),
            format!("INSERT INTO {new} ({columns}) SELECT {columns} FROM {old}"),
            format!("DROP TABLE {old}"),
            format!("ALTER TABLE {new} RENAME TO {old}"),
        ] {
            steps.push(Step::Raw { sqlite: sql, postgres: String::new() });
        }
    }
    steps
}
