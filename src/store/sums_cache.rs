//! Recent periods' counter sums, kept in memory and brought up to date by the store's own
//! commits, so that a dashboard reads no counter rows once its period has been read.
//!
//! Used on SQLite, where one writer thread in this process makes every commit. Each group
//! commit that changed counters also bumps the `tally_generation` row of `meta`, and after the
//! commit hands the changes to [`SumsCache::publish`] under that generation. A reader reads
//! the generation in its own snapshot and takes from the cache exactly the changes its
//! snapshot holds: the cached answer is the one the counter rows would give. When the cache
//! cannot tell (a commit not yet published, a gap left by another process, a snapshot older
//! than what is kept), the reader sums the rows itself.
//!
//! PostgreSQL commits from many connections (and possibly many servers) and keeps no cache.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use super::tallies::{CountedPeriod, PeriodSums};
use super::{Conn, StoreResult};
use crate::domain::indicators::{Tally, TallyKey};

/// What a write did to the counter rows.
#[derive(Debug, Clone)]
pub enum TallyNote {
    /// These deltas were added (each key once).
    Added(Vec<(TallyKey, Tally)>),
    /// Too much changed to follow (the rows were cleared, or a bulk load wrote them).
    Reset,
}

/// Periods kept at once (a dashboard's 30 days, an indicators page's month, …).
const MAX_PERIODS: usize = 4;
/// Changes kept from recent commits, for a period read while later commits landed.
const LOG_ITEMS: usize = 20_000;
/// A period's changes are folded into its sums when there are this many.
const FOLD_AT: usize = 4_096;
/// A period with this many changes not yet folded (nobody has read it) is dropped.
const UNREAD_AT_MOST: usize = 4 * FOLD_AT;
/// The `meta` key of the generation.
const GENERATION: &str = "tally_generation";

struct Kept {
    from: i64,
    to: i64,
    /// The sums of the counter rows as of generation `base_gen`.
    base: Arc<PeriodSums>,
    base_gen: u64,
    /// Changes inside the period committed after `base_gen`, oldest first, with their generation.
    changes: Vec<(u64, TallyKey, Tally)>,
    used: u64,
}

/// One generation's changes to the counters.
type Changes = Arc<Vec<(TallyKey, Tally)>>;

#[derive(Default)]
struct Inner {
    /// The newest generation whose changes were handed over.
    published: u64,
    periods: Vec<Kept>,
    /// Every generation's changes from the oldest kept to `published`, without gaps.
    log: VecDeque<(u64, Changes)>,
    log_items: usize,
    tick: u64,
}

impl Inner {
    fn forget_all(&mut self) {
        self.periods.clear();
        self.log.clear();
        self.log_items = 0;
    }
}

#[derive(Default)]
pub struct SumsCache {
    inner: Mutex<Inner>,
}

impl SumsCache {
    /// A cache whose store is at generation `published`.
    pub fn new(published: u64) -> SumsCache {
        SumsCache { inner: Mutex::new(Inner { published, ..Inner::default() }) }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The data is only ever replaced whole or appended to; a panic elsewhere leaves it usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The sums of the days `from..=to` as a snapshot at generation `generation` sees them,
    /// if they are kept.
    pub fn get(&self, from: i64, to: i64, generation: u64) -> Option<CountedPeriod> {
        let mut inner = self.lock();
        if generation > inner.published {
            return None;
        }
        inner.tick += 1;
        let (tick, published) = (inner.tick, inner.published);
        let kept = inner.periods.iter_mut().find(|p| p.from == from && p.to == to)?;
        if generation < kept.base_gen {
            return None;
        }
        kept.used = tick;
        if kept.changes.len() >= FOLD_AT && generation == published {
            let mut base = (*kept.base).clone();
            for (_, k, t) in kept.changes.drain(..) {
                base.add(&k, &t);
            }
            kept.base = Arc::new(base);
            kept.base_gen = published;
        }
        let changes = kept.changes.iter().take_while(|(g, _, _)| *g <= generation).map(|(_, k, t)| (k.clone(), t.clone())).collect();
        Some(CountedPeriod { base: kept.base.clone(), changes })
    }

    /// Keeps the sums of `from..=to` read in a snapshot at `generation`, if the changes
    /// committed since are still known.
    pub fn keep(&self, from: i64, to: i64, generation: u64, sums: Arc<PeriodSums>) {
        let mut inner = self.lock();
        if generation > inner.published || inner.periods.iter().any(|p| p.from == from && p.to == to) {
            return;
        }
        let mut changes = Vec::new();
        if generation < inner.published {
            match inner.log.front() {
                Some((oldest, _)) if *oldest <= generation + 1 => {}
                _ => return,
            }
            for (g, items) in inner.log.iter().filter(|(g, _)| *g > generation) {
                changes.extend(items.iter().filter(|(k, _)| (from..=to).contains(&k.day)).map(|(k, t)| (*g, k.clone(), t.clone())));
            }
        }
        inner.tick += 1;
        let used = inner.tick;
        inner.periods.push(Kept { from, to, base: sums, base_gen: generation, changes, used });
        if inner.periods.len() > MAX_PERIODS
            && let Some(oldest) = inner.periods.iter().enumerate().min_by_key(|(_, p)| p.used).map(|(i, _)| i)
        {
            inner.periods.swap_remove(oldest);
        }
    }

    /// Hands over what the commit of `generation` did to the counters.
    pub fn publish(&self, generation: u64, notes: Vec<TallyNote>) {
        let mut inner = self.lock();
        let follows = generation == inner.published + 1;
        inner.published = generation;
        let mut items = Vec::new();
        for note in notes {
            match note {
                TallyNote::Added(added) => items.extend(added),
                TallyNote::Reset => {
                    inner.forget_all();
                    return;
                }
            }
        }
        if !follows {
            // Another process committed in between: what it changed is not known here.
            inner.forget_all();
            return;
        }
        for p in inner.periods.iter_mut() {
            let inside = items.iter().filter(|(k, _)| (p.from..=p.to).contains(&k.day));
            p.changes.extend(inside.map(|(k, t)| (generation, k.clone(), t.clone())));
        }
        // A period nobody reads is folded by nobody: past a bound it is let go.
        inner.periods.retain(|p| p.changes.len() < UNREAD_AT_MOST);
        inner.log_items += items.len();
        inner.log.push_back((generation, Arc::new(items)));
        while inner.log_items > LOG_ITEMS
            && let Some((_, old)) = inner.log.pop_front()
        {
            inner.log_items -= old.len();
        }
    }

    /// Forgets everything (a commit whose generation could not be recorded).
    pub fn forget(&self) {
        self.lock().forget_all();
    }
}

/// The generation of the counters as this connection's snapshot sees them.
pub fn generation(conn: &mut dyn Conn) -> StoreResult<u64> {
    Ok(super::schema::meta_get(conn, GENERATION)?.and_then(|v| v.parse().ok()).unwrap_or(0))
}

/// Moves the generation on by one inside the current write transaction; returns the new one.
pub fn bump_generation(conn: &mut dyn Conn) -> StoreResult<u64> {
    Ok(super::schema::meta_bump(conn, GENERATION)?.max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(day: i64, grid: &str) -> TallyKey {
        TallyKey { day, grid_id: grid.into(), category_code: "c".into(), assignee_unit_id: String::new() }
    }

    fn reported(n: i64) -> Tally {
        Tally { reported: n, ..Tally::default() }
    }

    fn base(rows: &[(&str, i64)]) -> Arc<PeriodSums> {
        let mut s = PeriodSums::default();
        for (g, n) in rows {
            s.add(&key(20261101, g), &reported(*n));
        }
        Arc::new(s)
    }

    fn total(p: &CountedPeriod) -> i64 {
        let mut n = 0;
        p.each_sum(|_, t| n += t.reported);
        n
    }

    #[test]
    fn a_kept_period_takes_exactly_the_changes_a_snapshot_holds() {
        let cache = SumsCache::new(5);
        cache.keep(20261101, 20261130, 5, base(&[("g1", 3)]));
        cache.publish(6, vec![TallyNote::Added(vec![(key(20261102, "g1"), reported(2)), (key(20261001, "g1"), reported(100))])]);
        cache.publish(7, vec![TallyNote::Added(vec![(key(20261103, "g2"), reported(4))])]);
        assert_eq!(cache.get(20261101, 20261130, 5).map(|p| total(&p)), Some(3));
        assert_eq!(cache.get(20261101, 20261130, 6).map(|p| total(&p)), Some(5), "the day outside the period is left out");
        assert_eq!(cache.get(20261101, 20261130, 7).map(|p| total(&p)), Some(9));
        assert!(cache.get(20261101, 20261130, 8).is_none(), "a commit not yet published is not guessed");
        assert!(cache.get(20261101, 20261129, 7).is_none(), "another period is not kept");
    }

    #[test]
    fn a_period_read_while_commits_landed_catches_up_from_the_log() {
        let cache = SumsCache::new(1);
        cache.publish(2, vec![TallyNote::Added(vec![(key(20261105, "g1"), reported(1))])]);
        cache.publish(3, vec![TallyNote::Added(vec![(key(20261105, "g1"), reported(10))])]);
        // Read in a snapshot at generation 2: it holds the first change, not the second.
        cache.keep(20261101, 20261130, 2, base(&[("g1", 1)]));
        assert_eq!(cache.get(20261101, 20261130, 3).map(|p| total(&p)), Some(11));
        assert!(cache.get(20261101, 20261130, 1).is_none(), "older than what is kept");
    }

    #[test]
    fn a_reset_or_a_gap_forgets_everything() {
        let cache = SumsCache::new(1);
        cache.keep(20261101, 20261130, 1, base(&[("g1", 1)]));
        cache.publish(2, vec![TallyNote::Reset]);
        assert!(cache.get(20261101, 20261130, 2).is_none());
        cache.keep(20261101, 20261130, 2, base(&[("g1", 1)]));
        cache.publish(4, vec![TallyNote::Added(vec![(key(20261105, "g1"), reported(1))])]);
        assert!(cache.get(20261101, 20261130, 4).is_none(), "generation 3 came from elsewhere");
        // A period read before a reset cannot be brought up to date from the log.
        cache.publish(5, vec![TallyNote::Reset]);
        cache.keep(20261101, 20261130, 4, base(&[("g1", 1)]));
        assert!(cache.get(20261101, 20261130, 5).is_none());
    }

    #[test]
    fn many_changes_are_folded_into_the_sums_with_the_same_totals() {
        let cache = SumsCache::new(0);
        cache.keep(20261101, 20261130, 0, base(&[]));
        for g in 1..=(FOLD_AT as u64 + 10) {
            cache.publish(g, vec![TallyNote::Added(vec![(key(20261101 + (g as i64 % 30), &format!("g{}", g % 7)), reported(1))])]);
        }
        let last = FOLD_AT as u64 + 10;
        let p = cache.get(20261101, 20261130, last).expect("kept");
        assert_eq!(total(&p), last as i64);
        let p = cache.get(20261101, 20261130, last).expect("kept");
        assert!(p.changes.is_empty(), "folded");
        assert_eq!(total(&p), last as i64);
        let mut by_day = 0;
        p.each_reported(|_, _, n| by_day += n);
        assert_eq!(by_day, last as i64);
        assert!(cache.get(20261101, 20261130, last - 1).is_none(), "a snapshot older than the fold sums the rows");
    }

    #[test]
    fn a_period_nobody_reads_is_let_go() {
        let cache = SumsCache::new(0);
        cache.keep(20261101, 20261130, 0, base(&[]));
        for g in 1..=UNREAD_AT_MOST as u64 {
            cache.publish(g, vec![TallyNote::Added(vec![(key(20261110, "g1"), reported(1))])]);
        }
        assert!(cache.get(20261101, 20261130, UNREAD_AT_MOST as u64).is_none());
    }

    #[tokio::test]
    async fn a_group_commit_that_changed_counters_moves_the_generation_on() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = crate::store::Store::open(dir.path(), None).await.expect("store");
        assert_eq!(store.read(generation).await.expect("read"), 0);
        store.write(|c| crate::store::tallies::add_tallies(c, &[(key(20261101, "g1"), reported(1))])).await.expect("write");
        assert_eq!(store.read(generation).await.expect("read"), 1);
        store.write(|c| c.batch("SELECT 1")).await.expect("write");
        assert_eq!(store.read(generation).await.expect("read"), 1, "no counters changed");
    }
}
