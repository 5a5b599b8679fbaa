//! The sums rankings and the shortfall list read, kept by every inspection's write: per
//! period (day and month) and unit (`inspection_sums`), and per period, area and item
//! (`inspection_item_sums`). A period's figures are a few rows, whatever the number of
//! inspections behind them.

use sea_query::{Expr, ExprTrait, OnConflict, Query};

use crate::domain::inspection::{Grain, Sums};
use crate::store::{Conn, Row, StoreResult};

const UNIT_TABLE: &str = "inspection_sums";
const ITEM_TABLE: &str = "inspection_item_sums";
const COUNTS: [&str; 4] = ["inspections", "problems", "failed", "voided"];
const AMOUNTS: [&str; 3] = ["score", "standard", "lost"];

fn values(s: &Sums) -> Vec<sea_query::Value> {
    vec![s.inspections.into(), s.problems.into(), s.failed.into(), s.voided.into(), s.score.into(), s.standard.into(), s.lost.into()]
}

fn decode(r: &Row, at: usize) -> StoreResult<Sums> {
    Ok(Sums {
        inspections: r.i64(at)?,
        problems: r.i64(at + 1)?,
        failed: r.i64(at + 2)?,
        voided: r.i64(at + 3)?,
        score: r.f64(at + 4)?,
        standard: r.f64(at + 5)?,
        lost: r.f64(at + 6)?,
    })
}

/// The summed columns, cast so both backends answer the same types (PostgreSQL's SUM of a
/// BIGINT is NUMERIC).
fn sum_columns(q: &mut sea_query::SelectStatement) {
    for c in COUNTS {
        q.expr(Expr::col(c).sum().cast_as("BIGINT"));
    }
    for c in AMOUNTS {
        q.expr(Expr::col(c).sum().cast_as("DOUBLE PRECISION"));
    }
}

fn on_conflict(table: &str, keys: &[&str]) -> OnConflict {
    let mut c = OnConflict::columns(keys.iter().map(|k| sea_query::Alias::new(*k)));
    for col in COUNTS.iter().chain(AMOUNTS.iter()) {
        c.value(*col, Expr::col((sea_query::Alias::new(table), sea_query::Alias::new(*col))).add(Expr::col(("excluded", *col))));
    }
    c
}

/// One unit's change: (grain, period, unit key, sums to add).
pub type UnitDelta = (Grain, i64, String, Sums);
/// One item's change in an area: (grain, period, unit key, item code, sums to add).
pub type ItemDelta = (Grain, i64, String, String, Sums);

/// Adds the deltas to their rows (each key once per call: PostgreSQL refuses two changes to
/// one row in one statement).
pub fn add(conn: &mut dyn Conn, units: &[UnitDelta], items: &[ItemDelta]) -> StoreResult<()> {
    let mut columns = vec!["grain", "unit_key", "period"];
    columns.extend(COUNTS);
    columns.extend(AMOUNTS);
    for chunk in units.chunks(200) {
        let mut q = Query::insert().into_table(UNIT_TABLE).columns(columns.iter().copied()).to_owned();
        for (grain, period, unit, s) in chunk {
            let mut v: Vec<sea_query::Value> = vec![grain.as_str().into(), unit.clone().into(), (*period).into()];
            v.extend(values(s));
            q.values_panic(v.into_iter().map(Expr::val));
        }
        q.on_conflict(on_conflict(UNIT_TABLE, &["grain", "unit_key", "period"]));
        conn.execute(&q)?;
    }
    let mut columns = vec!["grain", "unit_key", "period", "item_code"];
    columns.extend(COUNTS);
    columns.extend(AMOUNTS);
    for chunk in items.chunks(200) {
        let mut q = Query::insert().into_table(ITEM_TABLE).columns(columns.iter().copied()).to_owned();
        for (grain, period, unit, item, s) in chunk {
            let mut v: Vec<sea_query::Value> = vec![grain.as_str().into(), unit.clone().into(), (*period).into(), item.clone().into()];
            v.extend(values(s));
            q.values_panic(v.into_iter().map(Expr::val));
        }
        q.on_conflict(on_conflict(ITEM_TABLE, &["grain", "unit_key", "period", "item_code"]));
        conn.execute(&q)?;
    }
    Ok(())
}

/// The sums of each of `units` over the spans (grain, first, last period), summed.
pub fn units(conn: &mut dyn Conn, units: &[String], spans: &[(Grain, i64, i64)]) -> StoreResult<Vec<(String, Sums)>> {
    let mut out: std::collections::HashMap<String, Sums> = std::collections::HashMap::new();
    for chunk in units.chunks(500) {
        for (grain, from, to) in spans {
            let mut q = Query::select().column("unit_key").from(UNIT_TABLE).to_owned();
            sum_columns(&mut q);
            q.and_where(Expr::col("grain").eq(grain.as_str()))
                .and_where(Expr::col("unit_key").is_in(chunk.iter().map(String::as_str)))
                .and_where(Expr::col("period").between(*from, *to))
                .group_by_col("unit_key");
            for r in conn.query(&q)? {
                let s = decode(&r, 1)?;
                out.entry(r.string(0)?).or_default().add(&s);
            }
        }
    }
    Ok(out.into_iter().collect())
}

/// The sums per item of one area over the spans.
pub fn items_of(conn: &mut dyn Conn, unit: &str, spans: &[(Grain, i64, i64)]) -> StoreResult<Vec<(String, Sums)>> {
    let mut out: std::collections::HashMap<String, Sums> = std::collections::HashMap::new();
    for (grain, from, to) in spans {
        let mut q = Query::select().column("item_code").from(ITEM_TABLE).to_owned();
        sum_columns(&mut q);
        q.and_where(Expr::col("grain").eq(grain.as_str()))
            .and_where(Expr::col("unit_key").eq(unit))
            .and_where(Expr::col("period").between(*from, *to))
            .group_by_col("item_code");
        for r in conn.query(&q)? {
            let s = decode(&r, 1)?;
            out.entry(r.string(0)?).or_default().add(&s);
        }
    }
    Ok(out.into_iter().collect())
}

/// An item's losses in one unit: ((unit key, item code), (failed, lost)).
pub type UnitLoss = ((String, String), (i64, f64));

/// What some items lost over the spans in every unit they are kept for (areas, and points
/// where they lost score): ((unit key, item code), (failed, lost)). Read from the (grain,
/// item, period, unit, failed, lost) index alone: a few items' entries, not the period's rows.
pub fn losses_by_unit(conn: &mut dyn Conn, item_codes: &[String], spans: &[(Grain, i64, i64)]) -> StoreResult<Vec<UnitLoss>> {
    let mut out: std::collections::HashMap<(String, String), (i64, f64)> = std::collections::HashMap::new();
    if item_codes.is_empty() {
        return Ok(Vec::new());
    }
    for (grain, from, to) in spans {
        let q = Query::select()
            .column("unit_key")
            .column("item_code")
            .expr(Expr::col("failed").sum().cast_as("BIGINT"))
            .expr(Expr::col("lost").sum().cast_as("DOUBLE PRECISION"))
            .from(ITEM_TABLE)
            .and_where(Expr::col("grain").eq(grain.as_str()))
            .and_where(Expr::col("item_code").is_in(item_codes.iter().map(String::as_str)))
            .and_where(Expr::col("period").between(*from, *to))
            // Item first: SQLite (without statistics) then reads the item index, not the
            // whole grain of the primary key.
            .group_by_col("item_code")
            .group_by_col("unit_key")
            .to_owned();
        for r in conn.query(&q)? {
            let e = out.entry((r.string(0)?, r.string(1)?)).or_default();
            e.0 += r.i64(2)?;
            e.1 += r.f64(3)?;
        }
    }
    Ok(out.into_iter().collect())
}
