//! The store: the only place that speaks SQL.
//!
//! One schema and one set of queries, written with sea-query and rendered for the backend in
//! use: SQLite (embedded default) or PostgreSQL (chosen by a `postgres://` URL at run time).
//! Store code is written once against [`Conn`], a narrow synchronous connection interface,
//! and runs on blocking threads:
//!
//! * SQLite: one writer thread commits queued write jobs in groups (group commit) and answers
//!   each only once its group is durable; a pool of read connections serves reads.
//! * PostgreSQL: a connection pool; each write job is one short transaction.

pub mod access_log;
pub mod apikeys;
pub mod attachments;
pub mod bulk;
pub mod bulletins;
pub mod cases;
pub mod ceiling;
pub mod info_reports;
pub mod inspections;
pub mod key_tasks;
pub mod merchants;
pub mod org;
pub mod people;
mod postgres;
pub mod record;
pub mod schema;
mod sqlite;
pub mod sums_cache;
pub mod tallies;
pub mod testing;
pub mod volunteers;

use std::path::Path;
use std::sync::Arc;

use sea_query::{PostgresQueryBuilder, QueryStatementWriter, SqliteQueryBuilder, Values};

/// The embedded database's file name inside the data directory.
pub const SQLITE_FILE: &str = "chuangcheng.sqlite3";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("postgres: {0}")]
    Postgres(#[from] ::postgres::Error),
    #[error("connection pool: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("a record with the same {0} already exists")]
    Conflict(String),
    #[error("column {column}: {reason}")]
    Decode { column: usize, reason: String },
    #[error("commit failed: {0}")]
    Commit(String),
    #[error("the database connection is closed")]
    Closed,
    #[error("a database task panicked")]
    Panicked,
    #[error("cannot open the data directory {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A value read from a row, the same on both backends.
#[derive(Debug, Clone, PartialEq)]
pub enum DbValue {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

#[derive(Debug, Clone)]
pub struct Row(pub Vec<DbValue>);

/// A value of a row being read, borrowed from the backend's buffer (see [`Conn::query_each`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DbRef<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

impl From<DbRef<'_>> for DbValue {
    fn from(v: DbRef<'_>) -> DbValue {
        match v {
            DbRef::Null => DbValue::Null,
            DbRef::Int(i) => DbValue::Int(i),
            DbRef::Real(f) => DbValue::Real(f),
            DbRef::Text(t) => DbValue::Text(t.to_string()),
            DbRef::Blob(b) => DbValue::Blob(b.to_vec()),
        }
    }
}

/// A row being read: its cells borrowed, nothing copied.
pub struct RowRef<'a>(pub &'a [DbRef<'a>]);

impl<'a> RowRef<'a> {
    fn at(&self, i: usize) -> StoreResult<DbRef<'a>> {
        self.0.get(i).copied().ok_or_else(|| StoreError::Decode { column: i, reason: "no such column".into() })
    }

    pub fn str(&self, i: usize) -> StoreResult<&'a str> {
        match self.at(i)? {
            DbRef::Text(s) => Ok(s),
            other => Err(StoreError::Decode { column: i, reason: format!("expected text, found {other:?}") }),
        }
    }

    pub fn i64(&self, i: usize) -> StoreResult<i64> {
        match self.at(i)? {
            DbRef::Int(v) => Ok(v),
            other => Err(StoreError::Decode { column: i, reason: format!("expected integer, found {other:?}") }),
        }
    }

    pub fn f64(&self, i: usize) -> StoreResult<f64> {
        match self.at(i)? {
            DbRef::Real(v) => Ok(v),
            DbRef::Int(v) => Ok(v as f64),
            other => Err(StoreError::Decode { column: i, reason: format!("expected real, found {other:?}") }),
        }
    }
}

impl Row {
    fn at(&self, i: usize) -> StoreResult<&DbValue> {
        self.0.get(i).ok_or_else(|| StoreError::Decode { column: i, reason: "no such column".into() })
    }

    fn wrong(i: usize, want: &str, got: &DbValue) -> StoreError {
        StoreError::Decode { column: i, reason: format!("expected {want}, found {got:?}") }
    }

    pub fn string(&self, i: usize) -> StoreResult<String> {
        match self.at(i)? {
            DbValue::Text(s) => Ok(s.clone()),
            other => Err(Row::wrong(i, "text", other)),
        }
    }

    pub fn opt_string(&self, i: usize) -> StoreResult<Option<String>> {
        match self.at(i)? {
            DbValue::Null => Ok(None),
            _ => self.string(i).map(Some),
        }
    }

    pub fn i64(&self, i: usize) -> StoreResult<i64> {
        match self.at(i)? {
            DbValue::Int(v) => Ok(*v),
            other => Err(Row::wrong(i, "integer", other)),
        }
    }

    pub fn opt_i64(&self, i: usize) -> StoreResult<Option<i64>> {
        match self.at(i)? {
            DbValue::Null => Ok(None),
            _ => self.i64(i).map(Some),
        }
    }

    pub fn f64(&self, i: usize) -> StoreResult<f64> {
        match self.at(i)? {
            DbValue::Real(v) => Ok(*v),
            DbValue::Int(v) => Ok(*v as f64),
            other => Err(Row::wrong(i, "real", other)),
        }
    }

    pub fn opt_f64(&self, i: usize) -> StoreResult<Option<f64>> {
        match self.at(i)? {
            DbValue::Null => Ok(None),
            _ => self.f64(i).map(Some),
        }
    }

    pub fn bool(&self, i: usize) -> StoreResult<bool> {
        self.i64(i).map(|v| v != 0)
    }

    pub fn is_null(&self, i: usize) -> StoreResult<bool> {
        Ok(matches!(self.at(i)?, DbValue::Null))
    }
}

/// A connection, inside a transaction when handed to a write job.
pub trait Conn {
    fn backend(&self) -> Backend;
    /// Hands each row to `f` as it is read, without collecting them: for sums over many rows.
    fn query_each_values(&mut self, sql: &str, values: Values, f: &mut dyn FnMut(RowRef<'_>) -> StoreResult<()>) -> StoreResult<()>;
    /// Reads all rows.
    fn query_values(&mut self, sql: &str, values: Values) -> StoreResult<Vec<Row>> {
        let mut rows = Vec::new();
        self.query_each_values(sql, values, &mut |r| {
            rows.push(Row(r.0.iter().map(|c| DbValue::from(*c)).collect()));
            Ok(())
        })?;
        Ok(rows)
    }
    fn execute_values(&mut self, sql: &str, values: Values) -> StoreResult<u64>;
    /// Plain SQL with no parameters (DDL, pragmas).
    fn batch(&mut self, sql: &str) -> StoreResult<()>;
    /// Inserts rows of one shape, each in the order of `columns`, the fastest way the backend
    /// has: a prepared one-row statement on SQLite, COPY on PostgreSQL (for more than a few).
    fn insert_rows(&mut self, table: &str, columns: &[&str], rows: Vec<Vec<sea_query::Value>>) -> StoreResult<u64>;
    /// Notes what a write added to the counter rows, or `None` when too much changed to follow
    /// (the SQLite writer hands it to its [`sums_cache::SumsCache`] once committed); elsewhere
    /// nothing is done with it.
    fn note_tallies(&mut self, _added: Option<&[(crate::domain::indicators::TallyKey, crate::domain::indicators::Tally)]>) {}
    /// The period sums this connection's store keeps in memory, if it keeps any.
    fn sums_cache(&self) -> Option<Arc<sums_cache::SumsCache>> {
        None
    }
}

/// Statements a write job may not run: the store owns each job's transaction (and, on
/// SQLite, its savepoint); a job that ended it would leave its neighbours' fate unknown.
fn controls_transaction(sql: &str) -> bool {
    let first = sql.trim_start().split(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or("").to_ascii_uppercase();
    matches!(first.as_str(), "BEGIN" | "START" | "COMMIT" | "END" | "ROLLBACK" | "SAVEPOINT" | "RELEASE" | "ABORT")
}

/// Refuses a statement that would end or nest the job's transaction.
pub(crate) fn refuse_control(sql: &str) -> StoreResult<()> {
    if controls_transaction(sql) {
        return Err(StoreError::Commit(format!("a write job may not control the transaction: {}", sql.trim())));
    }
    Ok(())
}

/// A table, column or index name quoted for SQL (the same on both backends).
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `"a", "b"`: a column list, quoted.
pub(crate) fn column_list(columns: &[&str]) -> String {
    columns.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ")
}

/// `INSERT INTO "table" ("a", "b") VALUES (<mark>1, <mark>2)`: `?` for SQLite, `$` for PostgreSQL.
pub(crate) fn one_row_insert(table: &str, columns: &[&str], mark: char) -> String {
    let marks: Vec<String> = (1..=columns.len()).map(|i| format!("{mark}{i}")).collect();
    format!("INSERT INTO {} ({}) VALUES ({})", quote_ident(table), column_list(columns), marks.join(", "))
}

impl dyn Conn + '_ {
    fn render<S: QueryStatementWriter>(&self, stmt: &S) -> (String, Values) {
        match self.backend() {
            Backend::Sqlite => stmt.build(SqliteQueryBuilder),
            Backend::Postgres => stmt.build(PostgresQueryBuilder),
        }
    }

    pub fn query<S: QueryStatementWriter>(&mut self, stmt: &S) -> StoreResult<Vec<Row>> {
        let (sql, values) = self.render(stmt);
        self.query_values(&sql, values)
    }

    pub fn query_opt<S: QueryStatementWriter>(&mut self, stmt: &S) -> StoreResult<Option<Row>> {
        Ok(self.query(stmt)?.into_iter().next())
    }

    pub fn query_each<S: QueryStatementWriter>(&mut self, stmt: &S, f: &mut dyn FnMut(RowRef<'_>) -> StoreResult<()>) -> StoreResult<()> {
        let (sql, values) = self.render(stmt);
        self.query_each_values(&sql, values, f)
    }

    pub fn execute<S: QueryStatementWriter>(&mut self, stmt: &S) -> StoreResult<u64> {
        let (sql, values) = self.render(stmt);
        self.execute_values(&sql, values)
    }
}

/// The number a [`Store::write_numbered`] job may take: already taken, or taken from the
/// named sequence inside the job's transaction on first use.
pub enum Numbering {
    Taken(i64),
    Pending(String),
}

impl Numbering {
    pub fn take(&mut self, conn: &mut dyn Conn) -> StoreResult<i64> {
        match self {
            Numbering::Taken(n) => Ok(*n),
            Numbering::Pending(counter) => {
                let n = cases::numbers::next_number(conn, counter)?;
                *self = Numbering::Taken(n);
                Ok(n)
            }
        }
    }
}

/// A write job: runs inside a transaction; an `Err` rolls back everything it did.
pub type WriteFn<T, E> = Box<dyn FnOnce(&mut dyn Conn) -> Result<T, E> + Send>;

enum Inner {
    Sqlite(sqlite::SqliteDb),
    Postgres(postgres::PgDb),
}

#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl Store {
    /// Opens the database the configuration names and brings its schema up to date.
    pub async fn open(data_dir: &Path, database_url: Option<&str>) -> StoreResult<Store> {
        Store::open_at_version(data_dir, database_url, schema::latest_version()).await
    }

    /// Opens the database and applies the migrations up to `version` only: the upgrade tests
    /// build a store as an older release left it, then open it with [`Store::open`].
    pub async fn open_at_version(data_dir: &Path, database_url: Option<&str>, version: i64) -> StoreResult<Store> {
        let inner = match database_url {
            Some(url) => {
                let url = url.to_string();
                Inner::Postgres(spawn_blocking(move || postgres::PgDb::connect(&url)).await??)
            }
            None => {
                std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir { path: data_dir.display().to_string(), source })?;
                let file = data_dir.join(SQLITE_FILE);
                Inner::Sqlite(spawn_blocking(move || sqlite::SqliteDb::open(&file)).await??)
            }
        };
        let store = Store { inner: Arc::new(inner) };
        store.write(move |c| schema::migrate_to(c, version)).await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        match &*self.inner {
            Inner::Sqlite(_) => Backend::Sqlite,
            Inner::Postgres(_) => Backend::Postgres,
        }
    }

    /// Runs a read on a pooled connection.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut dyn Conn) -> Result<T, E> + Send + 'static,
    {
        match &*self.inner {
            Inner::Sqlite(db) => db.read(f).await,
            Inner::Postgres(db) => db.read(f).await,
        }
    }

    /// Runs a write in a transaction; returns once the result is durable.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut dyn Conn) -> Result<T, E> + Send + 'static,
    {
        match &*self.inner {
            Inner::Sqlite(db) => db.write(Box::new(f)).await,
            Inner::Postgres(db) => db.write(f).await,
        }
    }

    /// Runs a write that may take the next value of the counter `counter` (a case number).
    ///
    /// On SQLite the number is taken inside the write, when the job first asks for it: the
    /// one writer never waits on a lock, and a job that takes none (a replayed report) leaves
    /// no gap. On PostgreSQL a counter row updated inside each transaction would be held
    /// until that transaction's commit is on disk, so every concurrent report would queue
    /// behind it; the number is taken beforehand in its own transaction that does not wait
    /// for the disk. That cannot give a number twice after a crash: WAL is flushed in order,
    /// so the durable commit of the write that uses the number also makes the number's
    /// commit durable. A write that fails or replays leaves a gap in the numbers there.
    pub async fn write_numbered<T, E, F>(&self, counter: String, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut dyn Conn, &mut Numbering) -> Result<T, E> + Send + 'static,
    {
        match &*self.inner {
            Inner::Sqlite(db) => db.write(Box::new(move |c: &mut dyn Conn| f(c, &mut Numbering::Pending(counter)))).await,
            Inner::Postgres(db) => db.write_numbered(counter, f).await,
        }
    }

    /// Copies the database to `dest` while it is in use. SQLite only: PostgreSQL is backed up
    /// with its own tools (`pg_dump`), which this returns as an error saying so.
    pub async fn backup_to(&self, dest: &Path) -> StoreResult<()> {
        match &*self.inner {
            Inner::Sqlite(db) => db.backup(dest).await,
            Inner::Postgres(_) => Err(StoreError::Commit(
                "PostgreSQL is backed up with pg_dump (see README); `chuangcheng backup` copies the embedded SQLite store".into(),
            )),
        }
    }

    /// A cheap round trip, for `/healthz`.
    pub async fn ping(&self) -> StoreResult<()> {
        self.read(|c| c.batch("SELECT 1")).await
    }
}

async fn spawn_blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> StoreResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(|_| StoreError::Panicked)
}

/// Time as stored: milliseconds since the Unix epoch, UTC.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A new primary key: UUIDv7, so keys sort by creation time and index well.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
