//! PostgreSQL backend: a pool of connections, each with its own prepared-statement cache;
//! every write job is one short transaction.

use std::collections::HashMap;
use std::str::FromStr;

use ::postgres::types::{ToSql, Type};
use ::postgres::{Client, NoTls, Statement};
use sea_query::{Value, Values};

use super::{Backend, Conn, DbRef, RowRef, StoreError, StoreResult};

pub struct PgConn {
    /// Always `Some` until the connection is dropped (see `Drop`).
    client: Option<Client>,
    statements: HashMap<String, Statement>,
}

impl Drop for PgConn {
    /// The synchronous client blocks on its own runtime when it closes, which panics on a
    /// thread that is driving async tasks (a pool dropped at shutdown); close it elsewhere.
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = std::thread::Builder::new().name("pg-close".into()).spawn(move || drop(client));
        }
    }
}

struct Manager {
    config: ::postgres::Config,
}

impl r2d2::ManageConnection for Manager {
    type Connection = PgConn;
    type Error = ::postgres::Error;

    fn connect(&self) -> Result<PgConn, Self::Error> {
        let client = self.config.connect(NoTls)?;
        Ok(PgConn { client: Some(client), statements: HashMap::new() })
    }

    fn is_valid(&self, conn: &mut PgConn) -> Result<(), Self::Error> {
        match conn.client.as_mut() {
            Some(c) => c.simple_query("").map(|_| ()),
            None => Ok(()),
        }
    }

    fn has_broken(&self, conn: &mut PgConn) -> bool {
        conn.client.as_ref().is_none_or(|c| c.is_closed())
    }
}

pub struct PgDb {
    pool: r2d2::Pool<Manager>,
}

const POOL_SIZE: u32 = 32;

impl PgDb {
    pub fn connect(url: &str) -> StoreResult<PgDb> {
        let mut config = ::postgres::Config::from_str(url)?;
        config.application_name("chuangcheng");
        let pool = r2d2::Pool::builder()
            .max_size(POOL_SIZE)
            .min_idle(Some(2))
            // A broken connection is noticed by `has_broken`; a test query on every checkout
            // would add a round trip to every request.
            .test_on_check_out(false)
            .connection_timeout(std::time::Duration::from_secs(10))
            .build(Manager { config })?;
        Ok(PgDb { pool })
    }

    /// Runs `f` on a pooled connection on a blocking thread.
    async fn with_conn<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut PgConn) -> Result<T, E> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(StoreError::from)?;
            f(&mut conn)
        })
        .await
        .map_err(|_| E::from(StoreError::Panicked))?
    }

    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut dyn Conn) -> Result<T, E> + Send + 'static,
    {
        self.with_conn(|conn| f(conn)).await
    }

    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut dyn Conn) -> Result<T, E> + Send + 'static,
    {
        self.with_conn(|conn| in_transaction(conn, f)).await
    }

    /// See [`super::Store::write_numbered`]: the counter moves in a transaction of its own that
    /// does not wait for the disk (`synchronous_commit = off`), so its row lock is held for
    /// microseconds, not for a flush.
    pub async fn write_numbered<T, E, F>(&self, counter: String, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut dyn Conn, &mut super::Numbering) -> Result<T, E> + Send + 'static,
    {
        self.with_conn(move |conn| {
            let n = take_number(conn.client()?, &counter)?;
            in_transaction(conn, move |c| f(c, &mut super::Numbering::Taken(n)))
        })
        .await
    }
}

/// Adds one to a counter in a transaction of its own that does not wait for the disk, in one
/// round trip: the store's counter statement (`cases::numbers::take_statement`) rendered with its
/// values inline, between BEGIN and COMMIT in one simple query.
fn take_number(client: &mut Client, counter: &str) -> StoreResult<i64> {
    let upsert = super::cases::numbers::take_statement(counter, 1).to_string(sea_query::PostgresQueryBuilder);
    let sql = format!("BEGIN; SET LOCAL synchronous_commit TO OFF; {upsert}; COMMIT");
    let messages = client.simple_query(&sql).map_err(map_err)?;
    messages
        .iter()
        .find_map(|m| match m {
            ::postgres::SimpleQueryMessage::Row(r) => r.get(0).and_then(|v| v.parse::<i64>().ok()),
            _ => None,
        })
        .ok_or_else(|| StoreError::Decode { column: 0, reason: "counter returned nothing".into() })
}

/// A connection inside a write job's transaction: everything but ending the transaction.
struct TxConn<'a>(&'a mut PgConn);

impl Conn for TxConn<'_> {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }
    fn query_each_values(&mut self, sql: &str, values: Values, f: &mut dyn FnMut(RowRef<'_>) -> StoreResult<()>) -> StoreResult<()> {
        super::refuse_control(sql)?;
        self.0.query_each_values(sql, values, f)
    }
    fn execute_values(&mut self, sql: &str, values: Values) -> StoreResult<u64> {
        super::refuse_control(sql)?;
        self.0.execute_values(sql, values)
    }
    fn batch(&mut self, sql: &str) -> StoreResult<()> {
        super::refuse_control(sql)?;
        self.0.batch(sql)
    }
    fn insert_rows(&mut self, table: &str, columns: &[&str], rows: Vec<Vec<Value>>) -> StoreResult<u64> {
        self.0.insert_rows(table, columns, rows)
    }
}

fn in_transaction<T, E, F>(conn: &mut PgConn, f: F) -> Result<T, E>
where
    E: From<StoreError>,
    F: FnOnce(&mut dyn Conn) -> Result<T, E>,
{
    {
        {
            conn.client()?.batch_execute("BEGIN").map_err(StoreError::from)?;
            match f(&mut TxConn(conn)) {
                Ok(v) => {
                    conn.client()?.batch_execute("COMMIT").map_err(StoreError::from)?;
                    Ok(v)
                }
                Err(e) => {
                    if let Ok(c) = conn.client() {
                        let _ = c.batch_execute("ROLLBACK");
                    }
                    Err(e)
                }
            }
        }
    }
}

type Param = Box<dyn ToSql + Sync + Send>;

fn to_params(values: Values) -> Vec<Param> {
    values
        .0
        .into_iter()
        .map(|v| -> Param {
            match v {
                Value::Bool(b) => Box::new(b),
                // Every integer column is BIGINT (see schema.rs), so every integer goes as
                // i64: PostgreSQL refuses an i32 where it infers int8.
                Value::TinyInt(i) => Box::new(i.map(i64::from)),
                Value::SmallInt(i) => Box::new(i.map(i64::from)),
                Value::Int(i) => Box::new(i.map(i64::from)),
                Value::BigInt(i) => Box::new(i),
                Value::TinyUnsigned(i) => Box::new(i.map(i64::from)),
                Value::SmallUnsigned(i) => Box::new(i.map(i64::from)),
                Value::Unsigned(i) => Box::new(i.map(i64::from)),
                Value::BigUnsigned(i) => Box::new(i.map(|u| u as i64)),
                Value::Float(f) => Box::new(f),
                Value::Double(f) => Box::new(f),
                Value::String(s) => Box::new(s),
                Value::Char(c) => Box::new(c.map(|c| c.to_string())),
                Value::Bytes(b) => Box::new(b),
                _ => Box::new(None::<String>),
            }
        })
        .collect()
}

fn map_err(e: ::postgres::Error) -> StoreError {
    if let Some(db) = e.as_db_error()
        && *db.code() == ::postgres::error::SqlState::UNIQUE_VIOLATION
    {
        return StoreError::Conflict(db.constraint().unwrap_or("key").to_string());
    }
    StoreError::Postgres(e)
}

impl PgConn {
    fn client(&mut self) -> StoreResult<&mut Client> {
        self.client.as_mut().ok_or(StoreError::Closed)
    }

    fn statement(&mut self, sql: &str) -> StoreResult<Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client()?.prepare(sql).map_err(map_err)?;
        self.statements.insert(sql.to_string(), s.clone());
        Ok(s)
    }
}

/// One cell of a row being read, borrowed: integers of every width as `Int`, booleans as 0/1,
/// everything else that is not a float or bytes as text.
fn cell_ref<'a>(row: &'a ::postgres::Row, i: usize, t: &Type) -> StoreResult<DbRef<'a>> {
    let bad = |e: ::postgres::Error| StoreError::Decode { column: i, reason: e.to_string() };
    Ok(match *t {
        Type::INT8 => row.try_get::<_, Option<i64>>(i).map_err(bad)?.map_or(DbRef::Null, DbRef::Int),
        Type::INT4 => row.try_get::<_, Option<i32>>(i).map_err(bad)?.map_or(DbRef::Null, |v| DbRef::Int(v.into())),
        Type::INT2 => row.try_get::<_, Option<i16>>(i).map_err(bad)?.map_or(DbRef::Null, |v| DbRef::Int(v.into())),
        Type::BOOL => row.try_get::<_, Option<bool>>(i).map_err(bad)?.map_or(DbRef::Null, |v| DbRef::Int(v.into())),
        Type::FLOAT8 => row.try_get::<_, Option<f64>>(i).map_err(bad)?.map_or(DbRef::Null, DbRef::Real),
        Type::FLOAT4 => row.try_get::<_, Option<f32>>(i).map_err(bad)?.map_or(DbRef::Null, |v| DbRef::Real(v.into())),
        Type::BYTEA => row.try_get::<_, Option<&[u8]>>(i).map_err(bad)?.map_or(DbRef::Null, DbRef::Blob),
        _ => row.try_get::<_, Option<&str>>(i).map_err(bad)?.map_or(DbRef::Null, DbRef::Text),
    })
}

impl Conn for PgConn {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn query_each_values(&mut self, sql: &str, values: Values, f: &mut dyn FnMut(RowRef<'_>) -> StoreResult<()>) -> StoreResult<()> {
        use ::postgres::fallible_iterator::FallibleIterator;
        let stmt = self.statement(sql)?;
        let params = to_params(values);
        let refs = params.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync));
        let types: Vec<Type> = stmt.columns().iter().map(|c| c.type_().clone()).collect();
        let mut rows = self.client()?.query_raw(&stmt, refs).map_err(map_err)?;
        while let Some(r) = rows.next().map_err(map_err)? {
            let cells = types.iter().enumerate().map(|(i, t)| cell_ref(&r, i, t)).collect::<StoreResult<Vec<_>>>()?;
            f(RowRef(&cells))?;
        }
        Ok(())
    }

    fn execute_values(&mut self, sql: &str, values: Values) -> StoreResult<u64> {
        let stmt = self.statement(sql)?;
        let params = to_params(values);
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)).collect();
        self.client()?.execute(&stmt, &refs).map_err(map_err)
    }

    fn batch(&mut self, sql: &str) -> StoreResult<()> {
        // Schema changes invalidate cached plans.
        if !sql.trim_start().to_ascii_uppercase().starts_with("SELECT") {
            self.statements.clear();
        }
        self.client()?.batch_execute(sql).map_err(map_err)
    }

    fn insert_rows(&mut self, table: &str, columns: &[&str], rows: Vec<Vec<Value>>) -> StoreResult<u64> {
        if rows.len() < COPY_FROM {
            let sql = super::one_row_insert(table, columns, '$');
            let mut n = 0;
            for row in rows {
                n += self.execute_values(&sql, Values(row))?;
            }
            return Ok(n);
        }
        let mut data = Vec::with_capacity(rows.len() * columns.len() * 16);
        for row in &rows {
            for (i, v) in row.iter().enumerate() {
                if i > 0 {
                    data.push(b',');
                }
                csv_field(&mut data, v);
            }
            data.push(b'\n');
        }
        let sql = format!("COPY {} ({}) FROM STDIN (FORMAT csv)", super::quote_ident(table), super::column_list(columns));
        let mut writer = self.client()?.copy_in(&sql).map_err(map_err)?;
        std::io::Write::write_all(&mut writer, &data).map_err(|e| StoreError::Commit(format!("COPY into {table}: {e}")))?;
        writer.finish().map_err(map_err)
    }
}

/// From this many rows on, [`Conn::insert_rows`] sends them with COPY instead of one INSERT
/// each (COPY costs two extra messages, so one or two rows are cheaper as INSERTs).
const COPY_FROM: usize = 8;

/// One value as a field of PostgreSQL's CSV COPY format: text quoted (so an empty string
/// is not NULL), NULL as nothing.
fn csv_field(out: &mut Vec<u8>, v: &Value) {
    use std::io::Write;
    let quoted = |out: &mut Vec<u8>, s: &str| {
        out.push(b'"');
        for b in s.bytes() {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    };
    // Writing into a Vec cannot fail.
    let _ = match v {
        Value::Bool(Some(b)) => out.write_all(if *b { b"t" } else { b"f" }),
        Value::TinyInt(Some(i)) => write!(out, "{i}"),
        Value::SmallInt(Some(i)) => write!(out, "{i}"),
        Value::Int(Some(i)) => write!(out, "{i}"),
        Value::BigInt(Some(i)) => write!(out, "{i}"),
        Value::TinyUnsigned(Some(i)) => write!(out, "{i}"),
        Value::SmallUnsigned(Some(i)) => write!(out, "{i}"),
        Value::Unsigned(Some(i)) => write!(out, "{i}"),
        Value::BigUnsigned(Some(i)) => write!(out, "{i}"),
        Value::Float(Some(f)) => write!(out, "{f}"),
        Value::Double(Some(f)) => write!(out, "{f}"),
        Value::String(Some(s)) => {
            quoted(out, s);
            Ok(())
        }
        Value::Char(Some(c)) => {
            quoted(out, &c.to_string());
            Ok(())
        }
        Value::Bytes(Some(b)) => {
            out.extend_from_slice(b"\\x");
            for byte in b.iter() {
                let _ = write!(out, "{byte:02x}");
            }
            Ok(())
        }
        _ => Ok(()),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(v: Value) -> String {
        let mut out = Vec::new();
        csv_field(&mut out, &v);
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn csv_fields_keep_empty_strings_quotes_and_nulls_apart() {
        assert_eq!(field(Value::String(Some(String::new()))), "\"\"");
        assert_eq!(field(Value::String(None)), "");
        assert_eq!(field(Value::String(Some("门前\"五包\",\n第2条".into()))), "\"门前\"\"五包\"\",\n第2条\"");
        assert_eq!(field(Value::BigInt(Some(-42))), "-42");
        assert_eq!(field(Value::Bool(Some(true))), "t");
        assert_eq!(field(Value::Double(Some(117.1234567))), "117.1234567");
        assert_eq!(field(Value::Bytes(Some(vec![0, 255]))), "\\x00ff");
    }
}
