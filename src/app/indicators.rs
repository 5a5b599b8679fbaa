//! Indicators for an org unit and a period, grouped by community, grid, department or category.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::NaiveDate;
use serde::Serialize;

use super::{App, GridDirectory};
use crate::domain::authz::{Actor, Permission};
use crate::domain::calendar::beijing_day_start;
use crate::domain::indicators::{Indicators, Tally, TallyChanges, TallyKey, day_number};
use crate::domain::org::OrgKind;
use crate::domain::org::OrgUnit;
use crate::error::{AppError, AppResult, Invalid, Thing};
use crate::store::{cases as db, org, tallies};

crate::string_enum! {
    /// How an indicator report is broken down.
    pub enum GroupBy {
        Community = "community",
        Grid = "grid",
        Department = "department",
        Category = "category",
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupRow {
    pub code: String,
    pub name: String,
    #[serde(flatten)]
    pub indicators: Indicators,
}

#[derive(Debug, Clone, Serialize)]
pub struct IndicatorReport {
    pub unit_code: String,
    pub unit_name: String,
    /// First and last day of the period (Beijing dates, inclusive).
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by: GroupBy,
    pub total: Indicators,
    pub groups: Vec<GroupRow>,
}

/// What one period's indicators are made of: the stored counters summed per grid, category
/// and assignee; the open cases (for what depends on "now"); every unit by id (from the
/// in-memory directory).
struct Period {
    /// The summed counters, with cases reported per (day, grid) for the daily trend.
    counted: tallies::CountedPeriod,
    /// Cases closed per (day, grid), for the daily trend.
    closed_by_day: Vec<(i64, String, i64)>,
    open: Vec<tallies::OpenCount>,
    units: Arc<GridDirectory>,
}

impl Period {
    /// Calls `f` with each counted piece inside `unit` (a department: the cases assigned to
    /// it; any other unit: the cases in its grids) with its key.
    fn each(&self, unit: &OrgUnit, mut f: impl FnMut(&TallyKey, &Tally)) {
        let inside = |grid_id: &str, assignee: &str| match unit.kind {
            OrgKind::Department => assignee == unit.id,
            _ => self.units.unit(grid_id).is_some_and(|g| g.path.starts_with(&unit.path)),
        };
        self.counted.each_sum(|k, t| {
            if inside(&k.grid_id, &k.assignee_unit_id) {
                f(k, t);
            }
        });
        for o in &self.open {
            if inside(&o.grid_id, &o.assignee_unit_id) {
                let mut t = Tally::default();
                t.add_pending_counts(o.status, o.due, o.overdue);
                if !t.is_zero() {
                    let key = TallyKey {
                        day: 0,
                        grid_id: o.grid_id.clone(),
                        category_code: o.category_code.clone(),
                        assignee_unit_id: o.assignee_unit_id.clone(),
                    };
                    f(&key, &t);
                }
            }
        }
    }
}

impl App {
    async fn unit_for_indicators(&self, actor: &Actor, unit_code: Option<&str>) -> AppResult<OrgUnit> {
        let unit = match unit_code {
            Some(code) => {
                let code = code.to_string();
                self.store().read(move |c| org::unit_by_code(c, &code)).await?.ok_or(AppError::NotFound(Thing::OrgUnit))?
            }
            None => {
                let scope = actor.scopes(Permission::ReadIndicators).first().map(|s| s.to_string()).ok_or(AppError::Forbidden)?;
                let id = scope.trim_end_matches('/').rsplit('/').next().unwrap_or("").to_string();
                self.store().read(move |c| org::unit_by_id(c, &id)).await?.ok_or(AppError::NotFound(Thing::OrgUnit))?
            }
        };
        if !actor.can(Permission::ReadIndicators, &unit.path) {
            return Err(AppError::NotFound(Thing::OrgUnit));
        }
        Ok(unit)
    }

    /// Reads a period's counters (days `from..=to`, Beijing dates).
    async fn period(&self, from: NaiveDate, to: NaiveDate) -> AppResult<Period> {
        let start = beijing_day_start(from);
        let end = beijing_day_start(to) + 86_400_000;
        let (first, last) = (day_number(start), day_number(end - 1));
        let now = self.now();
        let (due_by, overdue_before) = Tally::pending_thresholds(end, now);
        // One read: a request that waited for a second one would hold the first's rows meanwhile.
        let (counted, open, closed_by_day) = self
            .store()
            .read(move |c| {
                Ok::<_, AppError>((
                    tallies::period_sums(c, first, last)?,
                    tallies::open_counts(c, start, end, due_by, overdue_before)?,
                    tallies::closures(c, first, last)?,
                ))
            })
            .await?;
        Ok(Period { counted, closed_by_day, open, units: self.directory() })
    }

    /// Indicators of `unit_code` (default: the viewer's own widest unit) for the days
    /// `from..=to` (Beijing dates).
    pub async fn indicators(
        &self,
        actor: &Actor,
        unit_code: Option<&str>,
        from: NaiveDate,
        to: NaiveDate,
        by: GroupBy,
    ) -> AppResult<IndicatorReport> {
        if to < from || (to - from).num_days() > 366 {
            return Err(AppError::Invalid(Invalid::Period));
        }
        let unit = self.unit_for_indicators(actor, unit_code).await?;
        let period = self.period(from, to).await?;
        let categories = self.category_names().await?;
        Ok(report(&unit, &period, &categories, from, to, by))
    }

    async fn category_names(&self) -> AppResult<HashMap<String, String>> {
        Ok(self.categories().await?.into_iter().map(|c| (c.code, c.name)).collect())
    }
}

/// The indicators of `unit` over a period, grouped as asked.
fn report(
    unit: &OrgUnit,
    period: &Period,
    categories: &HashMap<String, String>,
    from: NaiveDate,
    to: NaiveDate,
    by: GroupBy,
) -> IndicatorReport {
    let units = &period.units;
    let mut total = Tally::default();
    let mut groups: BTreeMap<String, (String, Tally)> = BTreeMap::new();
    period.each(unit, |k, t| {
        total.merge(t);
        let key = match by {
            GroupBy::Community => units
                .unit(&k.grid_id)
                .and_then(|g| g.parent_id.as_ref())
                .and_then(|p| units.unit(p))
                .map(|u| (u.code.clone(), u.name.clone())),
            GroupBy::Grid => units.unit(&k.grid_id).map(|u| (u.code.clone(), u.name.clone())),
            GroupBy::Department => {
                units.unit(&k.assignee_unit_id).filter(|u| u.kind == OrgKind::Department).map(|u| (u.code.clone(), u.name.clone()))
            }
            GroupBy::Category => Some((k.category_code.clone(), categories.get(&k.category_code).cloned().unwrap_or_default())),
        };
        if let Some((code, name)) = key {
            groups.entry(code).or_insert_with(|| (name, Tally::default())).1.merge(t);
        }
    });
    IndicatorReport {
        unit_code: unit.code.clone(),
        unit_name: unit.name.clone(),
        from,
        to,
        by,
        total: total.indicators(),
        groups: groups.into_iter().map(|(code, (name, t))| GroupRow { code, name, indicators: t.indicators() }).collect(),
    }
}

/// What the dashboard shows: the indicators of the viewer's unit over the last 30 days, the
/// daily trend, cases by category and open cases per grid (for the map).
#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    pub report: IndicatorReport,
    /// (day, reported, closed)
    pub daily: Vec<(NaiveDate, i64, i64)>,
    /// (category name, reported), most first
    pub by_category: Vec<(String, i64)>,
    /// grid code → cases still open among those reported in the period
    pub open_by_grid: HashMap<String, i64>,
    /// grid code → indicators of the period (for the on-time view of the map)
    pub tally_by_grid: HashMap<String, Tally>,
}

impl App {
    pub async fn dashboard(&self, actor: &Actor) -> AppResult<Dashboard> {
        let today = crate::domain::calendar::beijing_date(self.now());
        let from = today - chrono::Duration::days(29);
        let unit = self.unit_for_indicators(actor, None).await?;
        let period = self.period(from, today).await?;
        let categories = self.category_names().await?;
        let report = report(&unit, &period, &categories, from, today, GroupBy::Community);
        let units = &period.units;
        let in_unit = |grid_id: &str| units.unit(grid_id).is_some_and(|g| g.path.starts_with(&unit.path));
        let date_of = |n: i64| NaiveDate::from_ymd_opt((n / 10_000) as i32, (n / 100 % 100) as u32, (n % 100) as u32);
        let mut daily: BTreeMap<NaiveDate, (i64, i64)> = (0..30).map(|i| (from + chrono::Duration::days(i), (0, 0))).collect();
        period.counted.each_reported(|day, grid, n| {
            if in_unit(grid)
                && let Some(d) = date_of(day).and_then(|d| daily.get_mut(&d))
            {
                d.0 += n;
            }
        });
        for (day, grid, n) in &period.closed_by_day {
            if in_unit(grid)
                && let Some(d) = date_of(*day).and_then(|d| daily.get_mut(&d))
            {
                d.1 += n;
            }
        }
        let mut by_category: HashMap<String, i64> = HashMap::new();
        let mut tally_by_grid: HashMap<String, Tally> = HashMap::new();
        period.each(&unit, |k, t| {
            if let Some(g) = units.unit(&k.grid_id) {
                tally_by_grid.entry(g.code.clone()).or_default().merge(t);
            }
            if t.reported != 0 {
                let name = categories.get(&k.category_code).cloned().unwrap_or_else(|| k.category_code.clone());
                *by_category.entry(name).or_default() += t.reported;
            }
        });
        let open_by_grid: HashMap<String, i64> =
            tally_by_grid.iter().filter(|(_, t)| t.open > 0).map(|(code, t)| (code.clone(), t.open)).collect();
        let mut by_category: Vec<(String, i64)> = by_category.into_iter().filter(|(_, n)| *n > 0).collect();
        by_category.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok(Dashboard { report, daily: daily.into_iter().map(|(d, (r, c))| (d, r, c)).collect(), by_category, open_by_grid, tally_by_grid })
    }

    /// Recounts the stored counters from the cases themselves; returns how many counter rows
    /// disagreed, and with `fix` rewrites them all from the recount.
    pub async fn recount_tallies(&self, fix: bool) -> AppResult<usize> {
        let calendar = self.calendar().clone();
        let job = move |c: &mut dyn crate::store::Conn| -> AppResult<usize> {
            let mut fresh = TallyChanges::default();
            for (grid_id, category_code, state) in db::all_case_states(c)? {
                fresh.record(&calendar, &grid_id, &category_code, None, &state);
            }
            let stored = tallies::stored(c)?;
            let mut differ = 0;
            for (k, t) in &fresh.tallies {
                let s = stored.tallies.get(k).cloned().unwrap_or_default();
                if !t.is_zero() && !same(&s, t) {
                    differ += 1;
                }
            }
            differ += stored.tallies.iter().filter(|(k, t)| !t.is_zero() && !fresh.tallies.contains_key(*k)).count();
            for (k, n) in &fresh.closures {
                if stored.closures.get(k).copied().unwrap_or(0) != *n {
                    differ += 1;
                }
            }
            differ += stored.closures.iter().filter(|(k, n)| **n != 0 && !fresh.closures.contains_key(*k)).count();
            if fix && differ > 0 {
                tallies::clear(c)?;
                tallies::apply_changes(c, &fresh)?;
            }
            Ok(differ)
        };
        if fix { self.store().write(job).await } else { self.store().read(job).await }
    }
}

/// Counters agree (working minutes are sums of floats: equal to a millionth of a minute).
fn same(a: &Tally, b: &Tally) -> bool {
    let mut x = a.clone();
    let mut y = b.clone();
    let close = (x.handling_minutes - y.handling_minutes).abs() < 1e-6 * x.handling_minutes.abs().max(1.0);
    x.handling_minutes = 0.0;
    y.handling_minutes = 0.0;
    close && x == y
}

/// The columns of the indicator export (titles under `export.indicator.`).
const INDICATOR_COLUMNS: [&str; 13] = [
    "unit",
    "reported",
    "registered",
    "dispatched",
    "due_to_close",
    "closed",
    "closed_on_time",
    "on_time_rate",
    "closure_rate",
    "rework_rate",
    "extensions",
    "mean_handling_hours",
    "overdue_now",
];

fn indicator_cells(name: &str, i: &Indicators) -> Vec<crate::export::Cell> {
    use crate::export::Cell;
    let n = |v: i64| Cell::Number(v as f64);
    vec![
        crate::export::text_cell(name),
        n(i.tally.reported),
        n(i.tally.registered),
        n(i.tally.dispatched),
        n(i.tally.due_to_close),
        n(i.tally.closed),
        n(i.tally.closed_on_time),
        Cell::Percent(i.on_time_rate),
        Cell::Percent(i.closure_rate),
        Cell::Percent(i.rework_rate),
        n(i.tally.extensions),
        i.mean_handling_hours.map(|h| Cell::Number((h * 10.0).round() / 10.0)).unwrap_or(Cell::Empty),
        n(i.tally.overdue_now),
    ]
}

impl App {
    /// An indicator report as a table an office prints: the unit and period in the title,
    /// one row per group and the total last.
    pub fn export_indicators(
        &self,
        r: &IndicatorReport,
        format: crate::export::ExportFormat,
        lang: crate::i18n::Lang,
    ) -> crate::app::export::Download {
        use crate::i18n::t;
        let h = |k: &str| t(lang, &format!("export.indicator.{k}"), &[]);
        let (from, to) = (r.from.format("%Y-%m-%d").to_string(), r.to.format("%Y-%m-%d").to_string());
        let head = crate::export::TableHead {
            title: t(lang, "export.indicator.title", &[("unit", &r.unit_name)]),
            notes: vec![
                t(lang, "export.period", &[("from", &from), ("to", &to)]),
                t(lang, &format!("export.indicator.by_{}", r.by.as_str()), &[]),
                self.export_time_note(lang),
            ],
            sheet: h("sheet"),
            columns: INDICATOR_COLUMNS.iter().map(|k| h(k)).collect(),
        };
        let mut rows: Vec<Vec<crate::export::Cell>> = r.groups.iter().map(|g| indicator_cells(&g.name, &g.indicators)).collect();
        rows.push(indicator_cells(&format!("{}({})", r.unit_name, h("total")), &r.total));
        self.stream_table(head, format, "indicators", rows, |_| Ok(None))
    }
}
