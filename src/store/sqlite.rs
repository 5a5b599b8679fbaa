//! SQLite backend: one writer thread with group commit, and a pool of readers.
//!
//! A durable SQLite commit costs an fsync, so committing each request alone caps throughput
//! at a few thousand per second. The writer instead takes every job that is queued, runs
//! each inside its own savepoint (a failing job rolls back only itself), commits the group
//! once, and only then answers each job: nothing is acknowledged before it is on disk.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::{Arc, Mutex, mpsc};

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OpenFlags};
use sea_query::{Value, Values};
use tokio::sync::{Semaphore, oneshot};

use super::sums_cache::{self, SumsCache, TallyNote};
use super::{Backend, Conn, DbRef, RowRef, StoreError, StoreResult, WriteFn};
use crate::domain::indicators::{Tally, TallyKey};

/// Most jobs committed together; bounds the latency one group adds.
const MAX_GROUP: usize = 2048;

/// Runs a job; gives back whether it succeeded and how to deliver its answer after commit.
type Job = Box<dyn FnOnce(&mut dyn Conn) -> (bool, Deliver) + Send>;
type Deliver = Box<dyn FnOnce(Option<&str>) + Send>;

pub struct SqliteDb {
    path: std::path::PathBuf,
    writer: Mutex<mpsc::Sender<Job>>,
    readers: Arc<Mutex<Vec<Connection>>>,
    permits: Arc<Semaphore>,
    sums: Arc<SumsCache>,
}

/// A connection; readers' carry the period sums the writer keeps up to date.
pub(super) struct SqliteConn<'a>(pub(super) &'a Connection, pub(super) Option<&'a Arc<SumsCache>>);

/// The writer's connection inside one job: it collects the job's notes on the counters.
struct WriterConn<'a> {
    conn: SqliteConn<'a>,
    notes: Vec<TallyNote>,
}

pub(super) fn open_conn(path: &Path, read_only: bool) -> StoreResult<Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI
    };
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.set_prepared_statement_cache_capacity(256);
    if read_only {
        conn.execute_batch("PRAGMA query_only = ON; PRAGMA mmap_size = 0;")?;
    } else {
        // FULL: a commit is on disk before the writer answers (acknowledged = durable).
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
    }
    Ok(conn)
}

impl SqliteDb {
    pub fn open(path: &Path) -> StoreResult<SqliteDb> {
        let writer_conn = open_conn(path, false)?;
        let n_readers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).max(2) * 2;
        let mut readers = Vec::with_capacity(n_readers);
        for _ in 0..n_readers {
            readers.push(open_conn(path, true)?);
        }
        // A new file has no `meta` yet (migrations come next); a wrong start only costs the
        // cache its first kept periods (see `SumsCache::publish`).
        let sums = Arc::new(SumsCache::new(sums_cache::generation(&mut SqliteConn(&writer_conn, None)).unwrap_or(0)));
        let (tx, rx) = mpsc::channel::<Job>();
        let writer_sums = sums.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer_loop(writer_conn, rx, &writer_sums))
            .map_err(|e| StoreError::Commit(format!("cannot start the writer thread: {e}")))?;
        Ok(SqliteDb {
            path: path.to_path_buf(),
            writer: Mutex::new(tx),
            permits: Arc::new(Semaphore::new(readers.len())),
            readers: Arc::new(Mutex::new(readers)),
            sums,
        })
    }

    /// A consistent copy of the live database in one file (`VACUUM INTO`), taken while the
    /// server keeps serving: readers and the writer are not stopped.
    pub async fn backup(&self, dest: &Path) -> StoreResult<()> {
        let (src, dest) = (self.path.clone(), dest.to_path_buf());
        tokio::task::spawn_blocking(move || {
            let conn = Connection::open_with_flags(&src, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
            conn.busy_timeout(std::time::Duration::from_secs(30))?;
            conn.execute("VACUUM INTO ?1", [dest.display().to_string()])?;
            Ok(())
        })
        .await
        .map_err(|_| StoreError::Panicked)?
    }

    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut dyn Conn) -> Result<T, E> + Send + 'static,
    {
        let _permit = self.permits.acquire().await.map_err(|_| StoreError::Closed)?;
        let readers = self.readers.clone();
        let sums = self.sums.clone();
        let handle = tokio::task::spawn_blocking(move || {
            let conn = readers.lock().ok().and_then(|mut r| r.pop());
            let Some(conn) = conn else { return Err(E::from(StoreError::Closed)) };
            // Each read sees one consistent snapshot.
            let result = (|| {
                conn.execute_batch("BEGIN").map_err(StoreError::from)?;
                let r = f(&mut SqliteConn(&conn, Some(&sums)));
                let _ = conn.execute_batch("COMMIT");
                r
            })();
            if let Ok(mut r) = readers.lock() {
                r.push(conn);
            }
            result
        });
        handle.await.map_err(|_| E::from(StoreError::Panicked))?
    }

    pub async fn write<T, E>(&self, f: WriteFn<T, E>) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<T, E>>();
        let job: Job = Box::new(move |conn: &mut dyn Conn| {
            let result = f(conn);
            let ok = result.is_ok();
            let deliver: Deliver = Box::new(move |commit_error: Option<&str>| {
                let answer = match (result, commit_error) {
                    (Ok(_), Some(e)) => Err(E::from(StoreError::Commit(e.to_string()))),
                    (r, _) => r,
                };
                let _ = tx.send(answer);
            });
            (ok, deliver)
        });
        let sent = self.writer.lock().map(|w| w.send(job).is_ok()).unwrap_or(false);
        if !sent {
            return Err(E::from(StoreError::Closed));
        }
        rx.await.unwrap_or_else(|_| Err(E::from(StoreError::Closed)))
    }
}

fn writer_loop(conn: Connection, rx: mpsc::Receiver<Job>, sums: &SumsCache) {
    let mut group: Vec<Job> = Vec::with_capacity(MAX_GROUP);
    let mut answers: Vec<Deliver> = Vec::with_capacity(MAX_GROUP);
    let mut notes: Vec<TallyNote> = Vec::new();
    while let Ok(first) = rx.recv() {
        group.push(first);
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            let msg = e.to_string();
            for job in group.drain(..) {
                // The job runs against a connection that refuses everything, then hears why.
                let (_, deliver) = job(&mut RefuseConn(msg.clone()));
                deliver(Some(&msg));
            }
            continue;
        }
        // Set when the group's transaction can no longer be trusted (a savepoint statement
        // failed, or the transaction ended under a job): the rest of the group is refused,
        // everything is rolled back, and every job in it hears that nothing was stored.
        let mut broken: Option<String> = None;
        for job in group.drain(..) {
            if let Some(msg) = &broken {
                let (_, deliver) = job(&mut RefuseConn(msg.clone()));
                answers.push(deliver);
                continue;
            }
            if let Err(e) = conn.execute_batch("SAVEPOINT job") {
                let msg = format!("SAVEPOINT failed: {e}");
                let (_, deliver) = job(&mut RefuseConn(msg.clone()));
                answers.push(deliver);
                broken = Some(msg);
                continue;
            }
            let mut job_conn = WriterConn { conn: SqliteConn(&conn, None), notes: Vec::new() };
            let outcome = catch_unwind(AssertUnwindSafe(|| job(&mut job_conn)));
            let notes_of_job = std::mem::take(&mut job_conn.notes);
            let (ok, deliver) = match outcome {
                Ok((ok, deliver)) => (ok, Some(deliver)),
                // The job panicked: its answer channel is dropped, so its caller gets an
                // error; its changes are undone and the rest of the group goes on.
                Err(_) => {
                    tracing::error!("a write job panicked; its changes were rolled back");
                    (false, None)
                }
            };
            let end = if ok { conn.execute_batch("RELEASE job") } else { conn.execute_batch("ROLLBACK TO job; RELEASE job") };
            if let Err(e) = end {
                broken = Some(format!("ending the job's savepoint failed: {e}"));
            } else if conn.is_autocommit() {
                broken = Some("the group's transaction ended inside a job".into());
            } else if ok {
                notes.extend(notes_of_job);
            }
            answers.extend(deliver);
        }
        if let Some(msg) = broken {
            tracing::error!(error = %msg, "a write group was rolled back whole");
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            notes.clear();
            for deliver in answers.drain(..) {
                deliver(Some(&msg));
            }
            continue;
        }
        // The group's changes to the counters get a generation of their own (see `sums_cache`).
        let generation = if notes.is_empty() { None } else { Some(sums_cache::bump_generation(&mut SqliteConn(&conn, None))) };
        let commit = conn.execute_batch("COMMIT");
        let err = commit.as_ref().err().map(|e| e.to_string());
        if err.is_some() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        match generation {
            Some(Ok(g)) if err.is_none() => sums.publish(g, std::mem::take(&mut notes)),
            Some(Err(e)) if err.is_none() => {
                tracing::warn!(error = %e, "could not record the counters' generation; the kept period sums are dropped");
                sums.forget();
            }
            _ => {}
        }
        notes.clear();
        for deliver in answers.drain(..) {
            deliver(err.as_deref());
        }
    }
}

/// Stands in for a connection when a group's transaction could not begin: every statement
/// fails, so the job returns an error that is then delivered to its caller.
struct RefuseConn(String);

impl Conn for RefuseConn {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }
    fn execute_values(&mut self, _: &str, _: Values) -> StoreResult<u64> {
        Err(StoreError::Commit(self.0.clone()))
    }
    fn query_each_values(&mut self, _: &str, _: Values, _: &mut dyn FnMut(RowRef<'_>) -> StoreResult<()>) -> StoreResult<()> {
        Err(StoreError::Commit(self.0.clone()))
    }
    fn batch(&mut self, _: &str) -> StoreResult<()> {
        Err(StoreError::Commit(self.0.clone()))
    }
    fn insert_rows(&mut self, _: &str, _: &[&str], _: Vec<Vec<Value>>) -> StoreResult<u64> {
        Err(StoreError::Commit(self.0.clone()))
    }
}

pub(super) fn to_sql(values: Values) -> Vec<SqlValue> {
    values
        .0
        .into_iter()
        .map(|v| match v {
            Value::Bool(Some(b)) => SqlValue::Integer(b as i64),
            Value::TinyInt(Some(i)) => SqlValue::Integer(i as i64),
            Value::SmallInt(Some(i)) => SqlValue::Integer(i as i64),
            Value::Int(Some(i)) => SqlValue::Integer(i as i64),
            Value::BigInt(Some(i)) => SqlValue::Integer(i),
            Value::TinyUnsigned(Some(i)) => SqlValue::Integer(i as i64),
            Value::SmallUnsigned(Some(i)) => SqlValue::Integer(i as i64),
            Value::Unsigned(Some(i)) => SqlValue::Integer(i as i64),
            Value::BigUnsigned(Some(i)) => SqlValue::Integer(i as i64),
            Value::Float(Some(f)) => SqlValue::Real(f as f64),
            Value::Double(Some(f)) => SqlValue::Real(f),
            Value::String(Some(s)) => SqlValue::Text(s),
            Value::Char(Some(c)) => SqlValue::Text(c.to_string()),
            Value::Bytes(Some(b)) => SqlValue::Blob(b),
            _ => SqlValue::Null,
        })
        .collect()
}

fn map_err(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, msg) = &e
        && f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
    {
        let what = msg.as_deref().and_then(|m| m.rsplit(": ").next()).unwrap_or("key");
        return StoreError::Conflict(what.to_string());
    }
    StoreError::Sqlite(e)
}

impl Conn for WriterConn<'_> {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }
    fn query_each_values(&mut self, sql: &str, values: Values, f: &mut dyn FnMut(RowRef<'_>) -> StoreResult<()>) -> StoreResult<()> {
        super::refuse_control(sql)?;
        self.conn.query_each_values(sql, values, f)
    }
    fn execute_values(&mut self, sql: &str, values: Values) -> StoreResult<u64> {
        super::refuse_control(sql)?;
        self.conn.execute_values(sql, values)
    }
    fn batch(&mut self, sql: &str) -> StoreResult<()> {
        super::refuse_control(sql)?;
        self.conn.batch(sql)
    }
    fn insert_rows(&mut self, table: &str, columns: &[&str], rows: Vec<Vec<Value>>) -> StoreResult<u64> {
        self.conn.insert_rows(table, columns, rows)
    }
    fn note_tallies(&mut self, added: Option<&[(TallyKey, Tally)]>) {
        self.notes.push(match added {
            Some(deltas) => TallyNote::Added(deltas.to_vec()),
            None => TallyNote::Reset,
        });
    }
}

impl Conn for SqliteConn<'_> {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn sums_cache(&self) -> Option<Arc<SumsCache>> {
        self.1.cloned()
    }

    fn query_each_values(&mut self, sql: &str, values: Values, f: &mut dyn FnMut(RowRef<'_>) -> StoreResult<()>) -> StoreResult<()> {
        let mut stmt = self.0.prepare_cached(sql).map_err(map_err)?;
        let n = stmt.column_count();
        let params = to_sql(values);
        let mut rows = stmt.query(rusqlite::params_from_iter(params.iter())).map_err(map_err)?;
        while let Some(r) = rows.next().map_err(map_err)? {
            let mut cells = Vec::with_capacity(n);
            for i in 0..n {
                cells.push(match r.get_ref(i).map_err(map_err)? {
                    rusqlite::types::ValueRef::Null => DbRef::Null,
                    rusqlite::types::ValueRef::Integer(v) => DbRef::Int(v),
                    rusqlite::types::ValueRef::Real(v) => DbRef::Real(v),
                    rusqlite::types::ValueRef::Text(t) => {
                        DbRef::Text(std::str::from_utf8(t).map_err(|e| StoreError::Decode { column: i, reason: e.to_string() })?)
                    }
                    rusqlite::types::ValueRef::Blob(b) => DbRef::Blob(b),
                });
            }
            f(RowRef(&cells))?;
        }
        Ok(())
    }

    fn execute_values(&mut self, sql: &str, values: Values) -> StoreResult<u64> {
        let mut stmt = self.0.prepare_cached(sql).map_err(map_err)?;
        let params = to_sql(values);
        Ok(stmt.execute(rusqlite::params_from_iter(params.iter())).map_err(map_err)? as u64)
    }

    fn batch(&mut self, sql: &str) -> StoreResult<()> {
        self.0.execute_batch(sql).map_err(map_err)
    }

    fn insert_rows(&mut self, table: &str, columns: &[&str], rows: Vec<Vec<Value>>) -> StoreResult<u64> {
        let mut stmt = self.0.prepare_cached(&super::one_row_insert(table, columns, '?')).map_err(map_err)?;
        let mut n = 0;
        for row in rows {
            n += stmt.execute(rusqlite::params_from_iter(to_sql(Values(row)).iter())).map_err(map_err)? as u64;
        }
        Ok(n)
    }
}
