//! Number sequences (编号序列): the per-day sequence behind case numbers like
//! `JY20261130-0042`. Kept apart from the dashboard counters (`tallies`), which count cases.

use sea_query::{Expr, ExprTrait, OnConflict, Query};

use crate::store::{Conn, StoreError, StoreResult};

/// The table of sequences.
pub const TABLE: &str = "number_sequences";

/// Takes the next number of a sequence; atomic on both backends.
pub fn next_number(conn: &mut dyn Conn, sequence: &str) -> StoreResult<i64> {
    take_numbers(conn, sequence, 1)
}

/// Takes `n` numbers of a sequence at once and returns the last of them.
pub fn take_numbers(conn: &mut dyn Conn, sequence: &str, n: i64) -> StoreResult<i64> {
    let row = conn.query_opt(&take_statement(sequence, n))?;
    row.ok_or_else(|| StoreError::Decode { column: 0, reason: "the sequence returned nothing".into() })?.i64(0)
}

/// The statement that takes `n` numbers and returns the new last value.
pub(crate) fn take_statement(sequence: &str, n: i64) -> sea_query::InsertStatement {
    Query::insert()
        .into_table(TABLE)
        .columns(["name", "value"])
        .values_panic([sequence.into(), n.into()])
        .on_conflict(OnConflict::column("name").value("value", Expr::col((TABLE, "value")).add(n)).to_owned())
        .returning_col("value")
        .to_owned()
}
