//! Case tallies: the counters dashboards read instead of scanning cases. One row per
//! (Beijing day of report, grid, category, assignee) holds the settled counts of
//! `domain::indicators::Tally`; one row per (day of closure, grid) the closures. Writes add
//! deltas (the caller sums them per key first: PostgreSQL refuses two changes to one row
//! in one statement).

use sea_query::{Expr, ExprTrait, OnConflict, Order, Query};

use std::sync::Arc;

use foldhash::HashMap;

use super::sums_cache;
use super::{Conn, RowRef, StoreResult};
use crate::domain::case::Status;
use crate::domain::indicators::{Tally, TallyChanges, TallyKey};

const COUNTS: [&str; 9] =
    ["reported", "registered", "dispatched", "due_to_close", "closed", "closed_on_time", "reworked", "extensions", "open"];

fn tally_values(t: &Tally) -> [i64; 9] {
    [t.reported, t.registered, t.dispatched, t.due_to_close, t.closed, t.closed_on_time, t.reworked, t.extensions, t.open]
}

/// Writes what a batch of case changes did to the counters.
pub fn apply_changes(conn: &mut dyn Conn, changes: &TallyChanges) -> StoreResult<()> {
    let tallies: Vec<(TallyKey, Tally)> =
        changes.tallies.iter().filter(|(_, t)| !t.is_zero()).map(|(k, t)| (k.clone(), t.clone())).collect();
    let closures: Vec<(i64, String, i64)> =
        changes.closures.iter().filter(|(_, n)| **n != 0).map(|((d, g), n)| (*d, g.clone(), *n)).collect();
    add_tallies(conn, &tallies)?;
    add_closures(conn, &closures)
}

/// Adds each (already summed per key) delta to its row.
pub fn add_tallies(conn: &mut dyn Conn, deltas: &[(TallyKey, Tally)]) -> StoreResult<()> {
    let mut columns: Vec<&str> = vec!["day", "grid_id", "category_code", "assignee_unit_id"];
    columns.extend(COUNTS);
    columns.push("handling_minutes");
    let mut on_conflict = OnConflict::columns(["day", "grid_id", "category_code", "assignee_unit_id"]);
    for c in COUNTS.iter().chain(["handling_minutes"].iter()) {
        on_conflict.value(*c, Expr::col(("case_tallies", *c)).add(Expr::col(("excluded", *c))));
    }
    for chunk in deltas.chunks(300) {
        let mut q = Query::insert().into_table("case_tallies").columns(columns.iter().copied()).to_owned();
        for (k, t) in chunk {
            let mut values: Vec<sea_query::Value> =
                vec![k.day.into(), k.grid_id.clone().into(), k.category_code.clone().into(), k.assignee_unit_id.clone().into()];
            values.extend(tally_values(t).map(Into::into));
            values.push(t.handling_minutes.into());
            q.values_panic(values.into_iter().map(Into::into));
        }
        q.on_conflict(on_conflict.clone());
        conn.execute(&q)?;
    }
    conn.note_tallies((deltas.len() <= NOTE_AT_MOST).then_some(deltas));
    Ok(())
}

/// Larger changes (a bulk load, a recount) are noted as a reset rather than item by item.
const NOTE_AT_MOST: usize = 10_000;

/// Adds closures per (day closed, grid); `n` may be negative (a closure undone).
pub fn add_closures(conn: &mut dyn Conn, deltas: &[(i64, String, i64)]) -> StoreResult<()> {
    for chunk in deltas.chunks(500) {
        let mut q = Query::insert().into_table("case_closures").columns(["day", "grid_id", "closed"]).to_owned();
        for (day, grid, n) in chunk {
            q.values_panic([(*day).into(), grid.clone().into(), (*n).into()]);
        }
        q.on_conflict(
            OnConflict::columns(["day", "grid_id"])
                .value("closed", Expr::col(("case_closures", "closed")).add(Expr::col(("excluded", "closed"))))
                .to_owned(),
        );
        conn.execute(&q)?;
    }
    Ok(())
}

fn tally_from(r: &RowRef<'_>, first: usize) -> StoreResult<Tally> {
    Ok(Tally {
        reported: r.i64(first)?,
        registered: r.i64(first + 1)?,
        dispatched: r.i64(first + 2)?,
        due_to_close: r.i64(first + 3)?,
        closed: r.i64(first + 4)?,
        closed_on_time: r.i64(first + 5)?,
        reworked: r.i64(first + 6)?,
        extensions: r.i64(first + 7)?,
        open: r.i64(first + 8)?,
        overdue_now: 0,
        handling_minutes: r.f64(first + 9)?,
    })
}

/// Every counter row, key then counts (read by [`tally_from`] from column 4), in key order.
fn counter_rows() -> sea_query::SelectStatement {
    let mut q = Query::select().columns(["day", "grid_id", "category_code", "assignee_unit_id"]).from("case_tallies").to_owned();
    for c in COUNTS.iter().chain(["handling_minutes"].iter()) {
        q.column(*c);
    }
    q
}

/// What a period's counter rows add up to.
#[derive(Debug, Default, Clone)]
pub struct PeriodSums {
    /// Per (grid, category, assignee); the key's day is 0. Sorted by key.
    pub sums: Vec<(TallyKey, Tally)>,
    /// Cases reported per (day, grid). Sorted.
    pub reported_by_day: Vec<(i64, String, i64)>,
}

impl PeriodSums {
    /// Adds one counter row's worth (`k` keeps its day).
    pub fn add(&mut self, k: &TallyKey, t: &Tally) {
        let key = TallyKey { day: 0, ..k.clone() };
        match self.sums.binary_search_by(|(x, _)| x.cmp(&key)) {
            Ok(i) => self.sums[i].1.merge(t),
            Err(i) => self.sums.insert(i, (key, t.clone())),
        }
        if t.reported != 0 {
            let at = self.reported_by_day.binary_search_by(|(d, g, _)| (*d, g.as_str()).cmp(&(k.day, k.grid_id.as_str())));
            match at {
                Ok(i) => self.reported_by_day[i].2 += t.reported,
                Err(i) => self.reported_by_day.insert(i, (k.day, k.grid_id.clone(), t.reported)),
            }
        }
    }
}

/// A period's counters: sums (perhaps shared with other readers) and the changes committed
/// since they were taken, which keep their day.
#[derive(Debug, Default, Clone)]
pub struct CountedPeriod {
    pub base: Arc<PeriodSums>,
    pub changes: Vec<(TallyKey, Tally)>,
}

impl CountedPeriod {
    /// Each piece of the sums; a key may come more than once.
    pub fn each_sum(&self, mut f: impl FnMut(&TallyKey, &Tally)) {
        for (k, t) in self.base.sums.iter().chain(self.changes.iter()) {
            f(k, t);
        }
    }

    /// Cases reported per (day, grid); a key may come more than once.
    pub fn each_reported(&self, mut f: impl FnMut(i64, &str, i64)) {
        for (day, grid, n) in &self.base.reported_by_day {
            f(*day, grid, *n);
        }
        for (k, t) in self.changes.iter().filter(|(_, t)| t.reported != 0) {
            f(k.day, &k.grid_id, t.reported);
        }
    }
}

/// Small integers for the few distinct ids a period's rows repeat.
#[derive(Default)]
struct Names {
    ids: HashMap<String, u32>,
    names: Vec<String>,
}

impl Names {
    fn id(&mut self, name: &str) -> u32 {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.to_string());
        self.ids.insert(name.to_string(), id);
        id
    }

    fn name(&self, id: u32) -> String {
        self.names.get(id as usize).cloned().unwrap_or_default()
    }
}

/// The counters of the days `from..=to` (yyyymmdd): kept in memory if the store keeps them
/// (see `sums_cache`), else summed from the rows.
pub fn period_sums(conn: &mut dyn Conn, from: i64, to: i64) -> StoreResult<CountedPeriod> {
    let Some(cache) = conn.sums_cache() else {
        return Ok(CountedPeriod { base: Arc::new(sum_rows(conn, from, to)?), changes: Vec::new() });
    };
    let generation = sums_cache::generation(conn)?;
    if let Some(kept) = cache.get(from, to, generation) {
        return Ok(kept);
    }
    let base = Arc::new(sum_rows(conn, from, to)?);
    cache.keep(from, to, generation, base.clone());
    Ok(CountedPeriod { base, changes: Vec::new() })
}

/// Sums the counter rows of the days `from..=to` in one streaming pass, in the server rather
/// than with GROUP BY: a month of a city is some 150,000 rows, and sorting them for the
/// grouping cost several times more than reading them in key order.
fn sum_rows(conn: &mut dyn Conn, from: i64, to: i64) -> StoreResult<PeriodSums> {
    let mut names = Names::default();
    let mut sums: HashMap<(u32, u32, u32), Tally> = HashMap::default();
    let mut by_day: HashMap<(i64, u32), i64> = HashMap::default();
    let days = counter_rows().and_where(Expr::col("day").gte(from)).and_where(Expr::col("day").lte(to)).to_owned();
    conn.query_each(&days, &mut |r| {
        let key = (names.id(r.str(1)?), names.id(r.str(2)?), names.id(r.str(3)?));
        let t = tally_from(&r, 4)?;
        *by_day.entry((r.i64(0)?, key.0)).or_default() += t.reported;
        sums.entry(key).or_default().merge(&t);
        Ok(())
    })?;
    let mut out = PeriodSums {
        sums: sums
            .into_iter()
            .map(|((g, c, a), t)| {
                (TallyKey { day: 0, grid_id: names.name(g), category_code: names.name(c), assignee_unit_id: names.name(a) }, t)
            })
            .collect(),
        reported_by_day: by_day.into_iter().map(|((day, g), n)| (day, names.name(g), n)).collect(),
    };
    out.sums.sort_by(|a, b| a.0.cmp(&b.0));
    out.reported_by_day.sort();
    Ok(out)
}

/// Closures per (day, grid) over `from..=to`.
pub fn closures(conn: &mut dyn Conn, from: i64, to: i64) -> StoreResult<Vec<(i64, String, i64)>> {
    conn.query(
        &Query::select()
            .columns(["day", "grid_id", "closed"])
            .from("case_closures")
            .and_where(Expr::col("day").gte(from))
            .and_where(Expr::col("day").lte(to))
            .order_by("day", Order::Asc)
            .to_owned(),
    )?
    .iter()
    .map(|r| Ok((r.i64(0)?, r.string(1)?, r.i64(2)?)))
    .collect()
}

/// Open cases of one (grid, category, assignee, status), counted against two moments.
#[derive(Debug, Clone)]
pub struct OpenCount {
    pub grid_id: String,
    pub category_code: String,
    pub assignee_unit_id: String,
    pub status: Status,
    /// With a handling deadline at or before `due_by`.
    pub due: i64,
    /// With a handling deadline before `overdue_before`.
    pub overdue: i64,
}

/// Counts the registered cases still open that were reported in `[from, to)` and whose
/// handling deadline has come by one of the two moments, grouped in SQL. Only those count
/// for anything, and they are few: the read is a range of the deadline index (status,
/// deadline, then every column used here), no case rows. (Open cases in all are a stored
/// counter.)
pub fn open_counts(conn: &mut dyn Conn, from: i64, to: i64, due_by: i64, overdue_before: i64) -> StoreResult<Vec<OpenCount>> {
    let open: Vec<&str> = Status::ALL.iter().filter(|s| s.is_open() && **s != Status::Reported).map(|s| s.as_str()).collect();
    let deadline = || Expr::col("handling_deadline");
    // Literal 1 and 0: PostgreSQL cannot type a bound parameter inside CASE … SUM.
    let count_if = |cond: sea_query::Expr| Expr::case(cond, Expr::cust("1")).finally(Expr::cust("0"));
    conn.query(
        &Query::select()
            .columns(["grid_id", "category_code", "assignee_unit_id", "status"])
            .expr(Expr::expr(count_if(deadline().lte(due_by))).sum().cast_as("BIGINT"))
            .expr(Expr::expr(count_if(deadline().lt(overdue_before))).sum().cast_as("BIGINT"))
            .from("cases")
            .and_where(Expr::col("status").is_in(open))
            .and_where(Expr::col("reported_at").gte(from))
            .and_where(Expr::col("reported_at").lt(to))
            .and_where(Expr::col("handling_deadline").lte(Ord::max(due_by, overdue_before)))
            .group_by_col("grid_id")
            .group_by_col("category_code")
            .group_by_col("assignee_unit_id")
            .group_by_col("status")
            .to_owned(),
    )?
    .iter()
    .map(|r| {
        let status = r.string(3)?;
        Ok(OpenCount {
            grid_id: r.string(0)?,
            category_code: r.string(1)?,
            assignee_unit_id: r.opt_string(2)?.unwrap_or_default(),
            status: Status::parse(&status)
                .ok_or_else(|| super::StoreError::Decode { column: 3, reason: format!("unknown status {status}") })?,
            due: r.i64(4)?,
            overdue: r.i64(5)?,
        })
    })
    .collect()
}

/// Empties both tables (before a recount).
pub fn clear(conn: &mut dyn Conn) -> StoreResult<()> {
    conn.execute(&Query::delete().from_table("case_tallies").to_owned())?;
    conn.execute(&Query::delete().from_table("case_closures").to_owned())?;
    conn.note_tallies(None);
    Ok(())
}

/// Every stored counter row and closure row, as changes from nothing.
pub fn stored(conn: &mut dyn Conn) -> StoreResult<TallyChanges> {
    let mut out = TallyChanges::default();
    conn.query_each(&counter_rows(), &mut |r| {
        let key = TallyKey {
            day: r.i64(0)?,
            grid_id: r.str(1)?.to_string(),
            category_code: r.str(2)?.to_string(),
            assignee_unit_id: r.str(3)?.to_string(),
        };
        out.tallies.insert(key, tally_from(&r, 4)?);
        Ok(())
    })?;
    for r in conn.query(&Query::select().columns(["day", "grid_id", "closed"]).from("case_closures").to_owned())? {
        out.closures.insert((r.i64(0)?, r.string(1)?), r.i64(2)?);
    }
    Ok(out)
}
