//! A table row declared once: [`record!`] lists a struct's fields in column order, and from
//! that one list come the column names, the decoding of a row and the values to write —
//! instead of three positional lists kept in step by hand.
//!
//! ```ignore
//! record!(Category in "categories" {
//!     code,
//!     department => "department_code",   // the column is named differently
//!     attributes: json,                  // stored as JSON text
//! });
//! ```

use sea_query::{Expr, ExprTrait, InsertStatement, OnConflict, Query, SelectStatement, Value};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Row, StoreError, StoreResult};
use crate::domain::StrEnum;

/// How one Rust value is stored in one column, the same on both backends.
pub trait Column: Sized {
    fn decode(row: &Row, i: usize) -> StoreResult<Self>;
    fn encode(&self) -> Value;
    /// NULL of this column's type (PostgreSQL checks a parameter's type even when it is NULL).
    fn null() -> Value;
}

impl Column for String {
    fn decode(row: &Row, i: usize) -> StoreResult<Self> {
        row.string(i)
    }
    fn encode(&self) -> Value {
        self.clone().into()
    }
    fn null() -> Value {
        Value::String(None)
    }
}

impl Column for i64 {
    fn decode(row: &Row, i: usize) -> StoreResult<Self> {
        row.i64(i)
    }
    fn encode(&self) -> Value {
        (*self).into()
    }
    fn null() -> Value {
        Value::BigInt(None)
    }
}

impl Column for u8 {
    fn decode(row: &Row, i: usize) -> StoreResult<Self> {
        let v = row.i64(i)?;
        u8::try_from(v).map_err(|_| StoreError::Decode { column: i, reason: format!("{v} is out of range") })
    }
    fn encode(&self) -> Value {
        i64::from(*self).into()
    }
    fn null() -> Value {
        Value::BigInt(None)
    }
}

impl Column for f64 {
    fn decode(row: &Row, i: usize) -> StoreResult<Self> {
        row.f64(i)
    }
    fn encode(&self) -> Value {
        (*self).into()
    }
    fn null() -> Value {
        Value::Double(None)
    }
}

impl Column for bool {
    fn decode(row: &Row, i: usize) -> StoreResult<Self> {
        row.bool(i)
    }
    fn encode(&self) -> Value {
        (*self).into()
    }
    fn null() -> Value {
        Value::Bool(None)
    }
}

/// Every [`StrEnum`] is stored as its text.
impl<T: StrEnum> Column for T {
    fn decode(row: &Row, i: usize) -> StoreResult<Self> {
        let s = row.string(i)?;
        T::parse(&s).ok_or_else(|| StoreError::Decode { column: i, reason: format!("unknown value {s}") })
    }
    fn encode(&self) -> Value {
        self.as_str().into()
    }
    fn null() -> Value {
        Value::String(None)
    }
}

impl<T: Column> Column for Option<T> {
    fn decode(row: &Row, i: usize) -> StoreResult<Self> {
        if row.is_null(i)? { Ok(None) } else { T::decode(row, i).map(Some) }
    }
    fn encode(&self) -> Value {
        match self {
            Some(v) => v.encode(),
            None => T::null(),
        }
    }
    fn null() -> Value {
        T::null()
    }
}

/// A value stored as JSON text (lists and maps that are read and written whole).
pub fn json_decode<T: DeserializeOwned + Default>(row: &Row, i: usize) -> StoreResult<T> {
    match Option::<String>::decode(row, i)? {
        Some(text) => serde_json::from_str(&text).map_err(|e| StoreError::Decode { column: i, reason: e.to_string() }),
        None => Ok(T::default()),
    }
}

pub fn json_encode<T: Serialize>(value: &T) -> Value {
    Value::String(serde_json::to_string(value).ok())
}

/// A struct stored as one row (or as a run of columns of a wider row).
pub trait Record: Sized {
    const TABLE: &'static str;
    const COLUMNS: &'static [&'static str];
    /// Reads the record from `row`, starting at column `at`.
    fn decode_at(row: &Row, at: usize) -> StoreResult<Self>;
    /// The values in the order of [`Record::COLUMNS`].
    fn values(&self) -> Vec<Value>;

    fn decode(row: &Row) -> StoreResult<Self> {
        Self::decode_at(row, 0)
    }

    /// `SELECT <columns> FROM <table>`, columns qualified by the table.
    fn select() -> SelectStatement {
        Query::select().columns(Self::COLUMNS.iter().map(|c| (Self::TABLE, *c))).from(Self::TABLE).to_owned()
    }

    fn insert(&self) -> InsertStatement {
        Query::insert()
            .into_table(Self::TABLE)
            .columns(Self::COLUMNS.iter().copied())
            .values_panic(self.values().into_iter().map(Expr::val))
            .to_owned()
    }

    /// The insert with a `created_at` column stamped `at` after the record's own.
    fn insert_created(&self, at: i64) -> InsertStatement {
        let mut values = self.values();
        values.push(at.into());
        Query::insert()
            .into_table(Self::TABLE)
            .columns(Self::COLUMNS.iter().copied().chain(["created_at"]))
            .values_panic(values.into_iter().map(Expr::val))
            .to_owned()
    }

    /// Insert, or update every other column when a row with the same `key` exists.
    fn upsert(&self, key: &'static str) -> InsertStatement {
        let others = Self::COLUMNS.iter().copied().filter(|c| *c != key);
        self.insert().on_conflict(OnConflict::column(key).update_columns(others).to_owned()).to_owned()
    }

    /// `UPDATE <table> SET <every column but key> WHERE key = …`.
    fn update_by(&self, key: &'static str, key_value: Value) -> sea_query::UpdateStatement {
        let pairs: Vec<(&str, Expr)> =
            Self::COLUMNS.iter().copied().zip(self.values()).filter(|(c, _)| *c != key).map(|(c, v)| (c, Expr::val(v))).collect();
        Query::update().table(Self::TABLE).values(pairs).and_where(Expr::col(key).eq(key_value)).to_owned()
    }
}

/// Declares how a struct is stored: see the module documentation.
#[macro_export]
macro_rules! record {
    ($ty:ident in $table:literal { $($field:ident $(=> $column:literal)? $(: $codec:ident)?),+ $(,)? }) => {
        impl $crate::store::record::Record for $ty {
            const TABLE: &'static str = $table;
            const COLUMNS: &'static [&'static str] = &[$($crate::record!(@column $field $($column)?)),+];
            #[allow(unused_assignments)]
            fn decode_at(row: &$crate::store::Row, at: usize) -> $crate::store::StoreResult<Self> {
                let mut i = at;
                Ok($ty {
                    $($field: {
                        let v = $crate::record!(@decode row, i $(, $codec)?)?;
                        i += 1;
                        v
                    }),+
                })
            }
            fn values(&self) -> Vec<::sea_query::Value> {
                vec![$($crate::record!(@encode &self.$field $(, $codec)?)),+]
            }
        }
    };
    (@column $field:ident) => { stringify!($field) };
    (@column $field:ident $column:literal) => { $column };
    (@decode $row:ident, $i:ident) => { $crate::store::record::Column::decode($row, $i) };
    (@decode $row:ident, $i:ident, json) => { $crate::store::record::json_decode($row, $i) };
    (@encode $v:expr) => { $crate::store::record::Column::encode($v) };
    (@encode $v:expr, json) => { $crate::store::record::json_encode($v) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::case::Status;
    use crate::store::DbValue;

    #[derive(Debug, PartialEq)]
    struct Sample {
        id: String,
        status: Status,
        note: Option<String>,
        count: i64,
        tags: Vec<String>,
        flag: bool,
    }

    crate::record!(Sample in "samples" { id, status, note => "remark", count, tags: json, flag });

    #[test]
    fn one_declaration_gives_columns_values_and_decoding() {
        assert_eq!(Sample::COLUMNS, &["id", "status", "remark", "count", "tags", "flag"]);
        let s = Sample { id: "a".into(), status: Status::Handled, note: None, count: 3, tags: vec!["x".into()], flag: true };
        let values = s.values();
        assert_eq!(values[1], Value::String(Some("handled".into())));
        assert_eq!(values[2], Value::String(None));
        let row = Row(vec![
            DbValue::Int(9),
            DbValue::Text("a".into()),
            DbValue::Text("handled".into()),
            DbValue::Null,
            DbValue::Int(3),
            DbValue::Text("[\"x\"]".into()),
            DbValue::Int(1),
        ]);
        assert_eq!(Sample::decode_at(&row, 1).unwrap(), s);
        let bad = Row(vec![DbValue::Text("a".into()), DbValue::Text("lost".into())]);
        assert!(Sample::decode(&bad).unwrap_err().to_string().contains("lost"));
    }
}
