//! The benchmark's ceiling for case intake: the same case and event rows written by one
//! writer thread that commits whatever is queued (synchronous=FULL), with prepared
//! statements and nothing else — no savepoints, no idempotency keys, no counters, no
//! foreign keys. Real intake is measured as a fraction of this.

use std::path::Path;
use std::sync::{Mutex, mpsc};

use sea_query::Values;
use tokio::sync::oneshot;

use super::bulk;
use super::cases::{CaseDetails, EVENT_INSERT_COLUMNS, NewEvent, case_columns, case_row, event_row};
use super::sqlite::{SqliteConn, open_conn, to_sql};
use super::{StoreError, StoreResult, now_ms};
use crate::domain::case::{CaseState, Event};

type Job = (Vec<rusqlite::types::Value>, Vec<rusqlite::types::Value>, oneshot::Sender<bool>);

pub struct BareSink {
    tx: Mutex<mpsc::Sender<Job>>,
}

impl BareSink {
    /// Opens a database that already has the schema (made by `Store::open`).
    pub fn open(path: &Path) -> StoreResult<BareSink> {
        let conn = open_conn(path, false)?;
        conn.execute_batch("PRAGMA foreign_keys = OFF;")?;
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("bare-writer".into())
            .spawn(move || {
                let case_sql = super::one_row_insert("cases", &case_columns(), '?');
                let event_sql = super::one_row_insert("case_events", &EVENT_INSERT_COLUMNS, '?');
                let mut group: Vec<Job> = Vec::new();
                while let Ok(first) = rx.recv() {
                    group.push(first);
                    while let Ok(job) = rx.try_recv() {
                        group.push(job);
                    }
                    let ok = (|| -> rusqlite::Result<()> {
                        conn.execute_batch("BEGIN IMMEDIATE")?;
                        let mut case_stmt = conn.prepare_cached(&case_sql)?;
                        let mut event_stmt = conn.prepare_cached(&event_sql)?;
                        for (case, event, _) in &group {
                            case_stmt.execute(rusqlite::params_from_iter(case.iter()))?;
                            event_stmt.execute(rusqlite::params_from_iter(event.iter()))?;
                        }
                        conn.execute_batch("COMMIT")
                    })()
                    .is_ok();
                    if !ok {
                        let _ = conn.execute_batch("ROLLBACK");
                    }
                    for (_, _, answer) in group.drain(..) {
                        let _ = answer.send(ok);
                    }
                }
            })
            .map_err(|e| StoreError::Commit(format!("cannot start the writer thread: {e}")))?;
        Ok(BareSink { tx: Mutex::new(tx) })
    }

    /// Queues a case and its first event; returns once their group is on disk.
    pub async fn insert(&self, d: &CaseDetails, s: &CaseState, e: &Event) -> StoreResult<()> {
        let case = to_sql(Values(case_row(d, s, now_ms())));
        let event = to_sql(Values(event_row(&NewEvent { case_id: &d.id, seq: 1, event: e, actor_name: None, note: None, public: true })?));
        let (tx, rx) = oneshot::channel();
        let sent = self.tx.lock().map(|q| q.send((case, event, tx)).is_ok()).unwrap_or(false);
        if !sent {
            return Err(StoreError::Closed);
        }
        match rx.await {
            Ok(true) => Ok(()),
            _ => Err(StoreError::Commit("the bare writer failed".into())),
        }
    }
}

/// The bulk-load ceiling: cases and their events written with prepared single-row
/// statements, 1,000 cases per transaction, into a database that has the schema, the way a
/// bulk load writes (secondary indexes dropped, then built again; see `bulk`).
pub fn batch_insert(path: &Path, cases: &[(&CaseDetails, &CaseState)], events: &[NewEvent<'_>]) -> StoreResult<()> {
    let mut conn = open_conn(path, false)?;
    conn.execute_batch("PRAGMA foreign_keys = OFF;")?;
    bulk::suspend_indexes(&mut SqliteConn(&conn, None), &bulk::CASE_TABLES)?;
    let case_sql = super::one_row_insert("cases", &case_columns(), '?');
    let event_sql = super::one_row_insert("case_events", &EVENT_INSERT_COLUMNS, '?');
    let now = now_ms();
    let per_tx = 1000usize;
    let events_per_tx = events.len().div_ceil(cases.len().div_ceil(per_tx).max(1)).max(1);
    let mut ev = events.chunks(events_per_tx);
    for chunk in cases.chunks(per_tx) {
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(&case_sql)?;
            for (d, s) in chunk {
                stmt.execute(rusqlite::params_from_iter(to_sql(Values(case_row(d, s, now))).iter()))?;
            }
            let mut stmt = tx.prepare_cached(&event_sql)?;
            for e in ev.next().unwrap_or(&[]) {
                stmt.execute(rusqlite::params_from_iter(to_sql(Values(event_row(e)?)).iter()))?;
            }
        }
        tx.commit()?;
    }
    for rest in ev {
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(&event_sql)?;
            for e in rest {
                stmt.execute(rusqlite::params_from_iter(to_sql(Values(event_row(e)?)).iter()))?;
            }
        }
        tx.commit()?;
    }
    bulk::restore_indexes(&mut SqliteConn(&conn, None))?;
    Ok(())
}
