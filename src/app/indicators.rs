//! Indicators for an org unit and a period, grouped by community, grid, department or category.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::Serialize;

use super::App;
use crate::domain::authz::{Actor, Permission};
use crate::domain::calendar::beijing_day_start;
use crate::domain::indicators::{Indicators, Tally};
use crate::domain::org::OrgKind;
use crate::error::{AppError, AppResult};
use crate::store::{cases as db, org};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Community,
    Grid,
    Department,
    Category,
}

impl GroupBy {
    pub fn parse(s: &str) -> Option<GroupBy> {
        match s {
            "community" => Some(GroupBy::Community),
            "grid" => Some(GroupBy::Grid),
            "department" => Some(GroupBy::Department),
            "category" => Some(GroupBy::Category),
            _ => None,
        }
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

impl App {
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
            return Err(AppError::Invalid("period"));
        }
        let unit = match unit_code {
            Some(code) => {
                let code = code.to_string();
                self.store().read(move |c| org::unit_by_code(c, &code)).await?.ok_or(AppError::NotFound("org_unit"))?
            }
            None => {
                let scope = actor.scopes(Permission::ReadOrg).first().map(|s| s.to_string()).ok_or(AppError::Forbidden)?;
                let id = scope.trim_end_matches('/').rsplit('/').next().unwrap_or("").to_string();
                self.store().read(move |c| org::unit_by_id(c, &id)).await?.ok_or(AppError::NotFound("org_unit"))?
            }
        };
        if !actor.can(Permission::ReadOrg, &unit.path) {
            return Err(AppError::NotFound("org_unit"));
        }
        let start = beijing_day_start(from);
        let end = beijing_day_start(to) + 86_400_000;
        let (path, assignee) = match unit.kind {
            OrgKind::Department => (None, Some(unit.id.clone())),
            _ => (Some(unit.path.clone()), None),
        };
        let facts = self
            .store()
            .read(move |c| db::indicator_facts(c, path.as_deref(), assignee.as_deref(), start, end))
            .await?;
        let names: HashMap<String, (String, String, OrgKind)> = self
            .store()
            .read(|c| org::list_units(c, &[], None))
            .await?
            .into_iter()
            .map(|u| (u.id, (u.code, u.name, u.kind)))
            .collect();
        let categories: HashMap<String, String> = self.categories().await?.into_iter().map(|c| (c.code, c.name)).collect();
        let now = self.now();
        let calendar = self.calendar();
        let mut total = Tally::default();
        let mut groups: BTreeMap<String, (String, Tally)> = BTreeMap::new();
        for f in &facts {
            let key = match by {
                GroupBy::Community => names.get(&f.community_id).map(|(code, name, _)| (code.clone(), name.clone())),
                GroupBy::Grid => names.get(&f.grid_id).map(|(code, name, _)| (code.clone(), name.clone())),
                GroupBy::Department => f
                    .assignee_unit_id
                    .as_ref()
                    .and_then(|a| names.get(a))
                    .filter(|(_, _, kind)| *kind == OrgKind::Department)
                    .map(|(code, name, _)| (code.clone(), name.clone())),
                GroupBy::Category => {
                    Some((f.category_code.clone(), categories.get(&f.category_code).cloned().unwrap_or_default()))
                }
            };
            let mut one = Tally::default();
            one.add(&f.row, calendar, end, now);
            total.merge(&one);
            if let Some((code, name)) = key {
                groups.entry(code).or_insert_with(|| (name, Tally::default())).1.merge(&one);
            }
        }
        Ok(IndicatorReport {
            unit_code: unit.code,
            unit_name: unit.name,
            from,
            to,
            by,
            total: total.indicators(),
            groups: groups
                .into_iter()
                .map(|(code, (name, t))| GroupRow { code, name, indicators: t.indicators() })
                .collect(),
        })
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
        let report = self.indicators(actor, None, from, today, GroupBy::Community).await?;
        let code = report.unit_code.clone();
        let unit = self.store().read(move |c| org::unit_by_code(c, &code)).await?.ok_or(AppError::NotFound("org_unit"))?;
        let (start, end) = (beijing_day_start(from), beijing_day_start(today) + 86_400_000);
        let path = unit.path.clone();
        let facts = self.store().read(move |c| db::indicator_facts(c, Some(&path), None, start, end)).await?;
        let categories: HashMap<String, String> = self.categories().await?.into_iter().map(|c| (c.code, c.name)).collect();
        let grid_codes: HashMap<String, String> = self
            .store()
            .read(|c| org::list_units(c, &[OrgKind::Grid], None))
            .await?
            .into_iter()
            .map(|u| (u.id, u.code))
            .collect();
        let mut daily: BTreeMap<NaiveDate, (i64, i64)> = (0..30).map(|i| (from + chrono::Duration::days(i), (0, 0))).collect();
        let mut by_category: HashMap<String, i64> = HashMap::new();
        let mut open_by_grid: HashMap<String, i64> = HashMap::new();
        let mut tally_by_grid: HashMap<String, Tally> = HashMap::new();
        let now = self.now();
        for f in &facts {
            if let Some(code) = grid_codes.get(&f.grid_id) {
                tally_by_grid.entry(code.clone()).or_default().add(&f.row, self.calendar(), end, now);
            }
            if let Some(d) = daily.get_mut(&crate::domain::calendar::beijing_date(f.row.reported_at)) {
                d.0 += 1;
            }
            if let Some(closed) = f.row.closed_at
                && let Some(d) = daily.get_mut(&crate::domain::calendar::beijing_date(closed))
            {
                d.1 += 1;
            }
            *by_category.entry(categories.get(&f.category_code).cloned().unwrap_or_else(|| f.category_code.clone())).or_default() += 1;
            if f.row.status.is_open()
                && let Some(code) = grid_codes.get(&f.grid_id)
            {
                *open_by_grid.entry(code.clone()).or_default() += 1;
            }
        }
        let mut by_category: Vec<(String, i64)> = by_category.into_iter().collect();
        by_category.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok(Dashboard { report, daily: daily.into_iter().map(|(d, (r, c))| (d, r, c)).collect(), by_category, open_by_grid, tally_by_grid })
    }
}
