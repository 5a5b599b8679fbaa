//! Bulk loading: the secondary indexes of the case tables are dropped for a load of many
//! rows and built again at its end, where sorting the finished table is many times cheaper
//! than keeping every index in order row by row.
//!
//! The dropped definitions are read from the database's own catalog and noted in `meta` in
//! the same transaction that drops them. [`restore_indexes`] builds them again and forgets
//! the note; migration calls it on every start, so a load that died half-way never leaves a
//! table without its indexes.

use sea_query::{Expr, ExprTrait, Query};

use super::{Backend, Conn, StoreError, StoreResult, quote_ident, schema};

/// The `meta` key holding the dropped index definitions (a JSON array of SQL statements).
const NOTE: &str = "bulk_suspended_indexes";

/// Tables whose secondary indexes a bulk load drops.
pub const CASE_TABLES: [&str; 2] = ["cases", "case_events"];

/// The secondary indexes of `tables` (not primary keys, not those backing a constraint): name
/// and the statement that makes it.
pub fn secondary_indexes(conn: &mut dyn Conn, tables: &[&str]) -> StoreResult<Vec<(String, String)>> {
    let list = tables.iter().map(|t| format!("'{}'", t.replace('\'', "''"))).collect::<Vec<_>>().join(", ");
    let sql = match conn.backend() {
        // Automatic indexes (primary keys, UNIQUE columns) have no SQL text.
        Backend::Sqlite => {
            format!("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({list}) ORDER BY name")
        }
        Backend::Postgres => format!(
            "SELECT indexname::text, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename IN ({list}) \
             AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname"
        ),
    };
    conn.query_values(&sql, sea_query::Values(Vec::new()))?.iter().map(|r| Ok((r.string(0)?, r.string(1)?))).collect()
}

/// Drops the secondary indexes of `tables` and notes their definitions. Returns how many were
/// dropped; none when a note is already there (an earlier load is still suspended).
pub fn suspend_indexes(conn: &mut dyn Conn, tables: &[&str]) -> StoreResult<usize> {
    if schema::meta_get(conn, NOTE)?.is_some() {
        return Ok(0);
    }
    let indexes = secondary_indexes(conn, tables)?;
    let definitions: Vec<&str> = indexes.iter().map(|(_, sql)| sql.as_str()).collect();
    let note = serde_json::to_string(&definitions).map_err(|e| StoreError::Decode { column: 0, reason: e.to_string() })?;
    conn.execute(&Query::insert().into_table("meta").columns(["key", "value"]).values_panic([NOTE.into(), note.into()]).to_owned())?;
    for (name, _) in &indexes {
        conn.batch(&format!("DROP INDEX {}", quote_ident(name)))?;
    }
    if conn.backend() == Backend::Sqlite {
        // A big page cache for the load: fewer pages read back from the file.
        conn.batch("PRAGMA cache_size = -262144")?;
    }
    Ok(indexes.len())
}

/// Builds the indexes a bulk load dropped and forgets the note; returns how many were built
/// (none when nothing is suspended).
pub fn restore_indexes(conn: &mut dyn Conn) -> StoreResult<usize> {
    let Some(note) = schema::meta_get(conn, NOTE)? else { return Ok(0) };
    let definitions: Vec<String> = serde_json::from_str(&note).map_err(|e| StoreError::Decode { column: 0, reason: e.to_string() })?;
    // Sorting memory for the builds: SQLite's sorter sorts in the page cache, with a helper
    // thread; PostgreSQL's in maintenance_work_mem (64 MB by default).
    match conn.backend() {
        Backend::Sqlite => conn.batch("PRAGMA cache_size = -262144; PRAGMA threads = 2")?,
        Backend::Postgres => conn.batch("SET LOCAL maintenance_work_mem = '512MB'")?,
    }
    for sql in &definitions {
        conn.batch(sql)?;
    }
    conn.execute(&Query::delete().from_table("meta").and_where(Expr::col("key").eq(NOTE)).to_owned())?;
    if conn.backend() == Backend::Sqlite {
        conn.batch("PRAGMA cache_size = -2000; PRAGMA threads = 0")?;
    } else {
        conn.batch(&format!("ANALYZE {}", CASE_TABLES.join(", ")))?;
    }
    Ok(definitions.len())
}

/// Drops what SQLite's `ANALYZE` left (`sqlite_stat1`, `sqlite_stat4`), so a store filled by
/// a bulk load is planned like one grown by use, which has none. With them the planner chose
/// worse for this schema: a skip-scan with a case-row lookup per open case for the dashboard
/// (100 ms at 10 M cases) instead of the covering deadline index (10 ms), and the key samples
/// made every statement that binds a key compile again for each new value. Returns whether
/// there was anything to drop.
pub fn forget_statistics(conn: &mut dyn Conn) -> StoreResult<bool> {
    if conn.backend() != Backend::Sqlite {
        return Ok(false);
    }
    let tables = "SELECT name FROM sqlite_master WHERE name IN ('sqlite_stat1', 'sqlite_stat4')";
    let tables: Vec<String> =
        conn.query_values(tables, sea_query::Values(Vec::new()))?.iter().map(|r| r.string(0)).collect::<StoreResult<_>>()?;
    let mut any = false;
    for table in &tables {
        let rows = conn.query_values(&format!("SELECT count(*) FROM {}", quote_ident(table)), sea_query::Values(Vec::new()))?;
        if rows.first().map(|r| r.i64(0)).transpose()?.unwrap_or(0) > 0 {
            conn.batch(&format!("DELETE FROM {}", quote_ident(table)))?;
            any = true;
        }
    }
    if any {
        // The planner forgets what it had loaded.
        conn.batch("ANALYZE sqlite_schema")?;
    }
    Ok(any)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[tokio::test]
    async fn suspended_indexes_come_back_as_they_were_even_after_a_restart() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path(), None).await.expect("store");
        let before = store.read(|c| secondary_indexes(c, &CASE_TABLES)).await.expect("indexes");
        assert!(before.iter().any(|(n, _)| n == "cases_community"), "{before:?}");
        let dropped = store.write(|c| suspend_indexes(c, &CASE_TABLES)).await.expect("suspend");
        assert_eq!(dropped, before.len());
        assert!(store.read(|c| secondary_indexes(c, &CASE_TABLES)).await.expect("indexes").is_empty());
        // Suspending twice drops nothing more and keeps the first note.
        assert_eq!(store.write(|c| suspend_indexes(c, &CASE_TABLES)).await.expect("again"), 0);
        drop(store);
        // A load that died half-way: opening the store builds them again.
        let store = Store::open(dir.path(), None).await.expect("reopen");
        let after = store.read(|c| secondary_indexes(c, &CASE_TABLES)).await.expect("indexes");
        assert_eq!(after, before);
        assert_eq!(store.write(restore_indexes).await.expect("restore"), 0);
    }

    #[tokio::test]
    async fn statistics_left_by_analyze_are_dropped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path(), None).await.expect("store");
        let count = |sql: &'static str| store.read(move |c| c.query_values(sql, sea_query::Values(Vec::new()))?.remove(0).i64(0));
        store
            .write(|c| {
                c.batch("CREATE TABLE t (k INTEGER, v TEXT); CREATE INDEX t_k ON t (k)")?;
                let rows = (0..2_000).map(|i| vec![(i % 97).into(), format!("v{i}").into()]).collect();
                c.insert_rows("t", &["k", "v"], rows)?;
                c.batch("ANALYZE")
            })
            .await
            .expect("a table with statistics");
        assert!(count("SELECT count(*) FROM sqlite_stat1").await.expect("statistics") > 0);
        assert!(count("SELECT count(*) FROM sqlite_stat4").await.expect("samples") > 0, "this SQLite keeps samples");
        assert!(store.write(forget_statistics).await.expect("forget"));
        assert_eq!(count("SELECT count(*) FROM sqlite_stat1").await.expect("statistics"), 0);
        assert_eq!(count("SELECT count(*) FROM sqlite_stat4").await.expect("samples"), 0);
        assert!(!store.write(forget_statistics).await.expect("again"), "nothing left to drop");
    }
}
