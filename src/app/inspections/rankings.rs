//! Scores and rankings for any period and area, from the kept sums (a few rows per unit and
//! period, whatever the number of inspections): 得分率 per community, grid, responsible unit,
//! point type or point, with the change against the previous period of the same length; the
//! composite ranking that weighs in the case indicators; and the shortfall list (短板分析):
//! the items that lost the most score, where they fail most, and their trend.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{area_key, type_key};
use crate::app::App;
use crate::app::export::Download;
use crate::app::indicators::GroupBy;
use crate::domain::authz::{Actor, Permission};
use crate::domain::inspection::{Sums, day_key, spans};
use crate::domain::org::{OrgKind, OrgUnit};
use crate::error::{AppError, AppResult, Invalid, Thing};
use crate::export::{Cell, ExportFormat, TableHead, text_cell};
use crate::i18n::{Lang, t};
use crate::store::inspections::{self as db, sums};
use crate::store::schema;

crate::string_enum! {
    /// What a ranking ranks.
    pub enum RankBy {
        Community = "community",
        Grid = "grid",
        Unit = "unit",
        PointType = "point_type",
        Point = "point",
    }
}

/// One ranked unit.
#[derive(Debug, Clone, Serialize)]
pub struct RankingRow {
    pub rank: usize,
    pub key: String,
    pub name: String,
    #[serde(flatten)]
    pub sums: Sums,
    pub rate: Option<f64>,
    pub previous_rate: Option<f64>,
    /// Change of 得分率 against the previous period, in percentage points.
    pub change: Option<f64>,
    /// Cases the period's failures opened or added to, those due (closed or past their
    /// deadline) and those rectified on time; 按期整改率 = on time ÷ due.
    pub cases: i64,
    pub cases_due: i64,
    pub rectified_on_time: i64,
    pub rectified_rate: Option<f64>,
}

/// A ranking for an area and a period.
#[derive(Debug, Clone, Serialize)]
pub struct Ranking {
    pub area: String,
    pub area_name: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by: RankBy,
    pub total: Sums,
    pub rate: Option<f64>,
    pub cases: i64,
    pub rectified_on_time: i64,
    pub rectified_rate: Option<f64>,
    pub rows: Vec<RankingRow>,
}

/// The weights of the composite ranking (an admin sets them).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Weights {
    /// 得分率 of inspections.
    pub score: f64,
    /// 按期结案率 of the cases.
    pub on_time: f64,
    /// 1 − 返工率.
    pub rework: f64,
    /// The panel's average score at the 晒比评述 meetings of the period (0 when not sent).
    #[serde(default)]
    pub panel: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights { score: 0.6, on_time: 0.3, rework: 0.1, panel: 0.1 }
    }
}

const WEIGHTS_KEY: &str = "inspection_ranking_weights";

/// One community in the composite ranking.
#[derive(Debug, Clone, Serialize)]
pub struct CompositeRow {
    pub rank: usize,
    pub code: String,
    pub name: String,
    pub rate: Option<f64>,
    pub on_time_rate: Option<f64>,
    pub rework_rate: Option<f64>,
    /// The panel's average score (0–100) at the period's meetings.
    pub panel: Option<f64>,
    pub composite: Option<f64>,
    pub inspections: i64,
}

/// The composite ranking, with its 红榜 and 黑榜.
#[derive(Debug, Clone, Serialize)]
pub struct Composite {
    pub area: String,
    pub area_name: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub weights: Weights,
    pub rows: Vec<CompositeRow>,
    pub red: Vec<CompositeRow>,
    pub black: Vec<CompositeRow>,
}

/// Where one item loses score.
#[derive(Debug, Clone, Serialize)]
pub struct Where {
    pub name: String,
    pub lost: f64,
    pub failed: i64,
}

/// One item of the shortfall list.
#[derive(Debug, Clone, Serialize)]
pub struct ShortfallRow {
    pub rank: usize,
    pub code: String,
    pub text: String,
    pub point_type: String,
    #[serde(flatten)]
    pub sums: Sums,
    pub fail_rate: Option<f64>,
    pub previous_lost: f64,
    pub communities: Vec<Where>,
    pub points: Vec<Where>,
}

/// The period of the same length just before `[from, to]`.
fn previous(from: NaiveDate, to: NaiveDate) -> (NaiveDate, NaiveDate) {
    let len = (to - from).num_days() + 1;
    (from - chrono::Duration::days(len), from - chrono::Duration::days(1))
}

fn rate(s: &Sums) -> Option<f64> {
    s.rate()
}

impl App {
    /// The area a viewer asks about (a district, subdistrict or community they may read);
    /// their widest area when they name none.
    pub(crate) fn area(&self, actor: &Actor, code: Option<&str>) -> AppResult<OrgUnit> {
        let dir = self.directory();
        let unit = match code.map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) => dir.unit_named(c).cloned().ok_or(AppError::NotFound(Thing::OrgUnit))?,
            None => {
                let scope = actor.scopes(Permission::ReadInspections).first().map(|s| s.to_string()).ok_or(AppError::Forbidden)?;
                let id = scope.trim_end_matches('/').rsplit('/').next().unwrap_or("").to_string();
                let u = dir.unit(&id).cloned().ok_or(AppError::NotFound(Thing::OrgUnit))?;
                super::area_of(&dir, &u).cloned().unwrap_or(u)
            }
        };
        if !matches!(unit.kind, OrgKind::District | OrgKind::Subdistrict | OrgKind::Community) {
            return Err(AppError::Invalid(Invalid::Area));
        }
        // Rankings are read in the campaign's own units: whoever reads inspections in a unit
        // may read the area it lies in (a grid worker their community's ranking, a department
        // the subdistrict's), not a neighbouring area.
        let within = actor.scopes(Permission::ReadInspections).iter().any(|s| s.starts_with(unit.path.as_str()));
        if !actor.can(Permission::ReadInspections, &unit.path) && !within {
            return Err(AppError::NotFound(Thing::OrgUnit));
        }
        Ok(unit)
    }

    /// The ranking of `by` within an area over `[from, to]`.
    pub async fn ranking(&self, actor: &Actor, area: Option<&str>, from: NaiveDate, to: NaiveDate, by: RankBy) -> AppResult<Ranking> {
        if from > to || (to - from).num_days() > 366 {
            return Err(AppError::Invalid(Invalid::Period));
        }
        let area = self.area(actor, area)?;
        let dir = self.directory();
        // The units ranked: (key, name).
        let units: Vec<(String, String)> = match by {
            RankBy::Community => dir
                .units()
                .filter(|u| u.kind == OrgKind::Community && u.path.starts_with(&area.path))
                .map(|u| (area_key(&u.id), u.name.clone()))
                .collect(),
            RankBy::Grid => dir
                .units()
                .filter(|u| u.kind == OrgKind::Grid && u.path.starts_with(&area.path))
                .map(|u| (format!("g:{}", u.id), u.name.clone()))
                .collect(),
            RankBy::Unit => {
                let scope = vec![area.path.clone()];
                let points = self.store().read(move |c| db::points(c, &scope, None)).await?;
                let mut seen: Vec<(String, String)> = Vec::new();
                for p in points {
                    let key = format!("u:{}", p.unit_id);
                    if !seen.iter().any(|(k, _)| *k == key) {
                        seen.push((key, dir.unit(&p.unit_id).map(|u| u.name.clone()).unwrap_or_default()));
                    }
                }
                seen
            }
            RankBy::PointType => {
                let manual = self.manual(&Actor::console(), None).await?;
                let mut types: Vec<String> = manual.items.iter().map(|i| i.point_type.clone()).collect();
                types.dedup();
                types.into_iter().map(|t| (type_key(&area.id, &t), t)).collect()
            }
            RankBy::Point => {
                let scope = vec![area.path.clone()];
                let points = self.store().read(move |c| db::points(c, &scope, None)).await?;
                points.into_iter().map(|p| (format!("p:{}", p.id), format!("{}({})", p.name, p.point_type))).collect()
            }
        };
        let keys: Vec<String> = units.iter().map(|(k, _)| k.clone()).chain([area_key(&area.id)]).collect();
        let (pf, pt) = previous(from, to);
        let (now_spans, prev_spans) = (spans(from, to), spans(pf, pt));
        let (k1, k2) = (keys.clone(), keys);
        let (now_ms, (fd, td)) = (self.now(), (day_key(from), day_key(to)));
        use crate::store::inspections::PointColumn;
        let column = match by {
            RankBy::Community => PointColumn::Community,
            RankBy::Grid => PointColumn::Grid,
            RankBy::Unit => PointColumn::Unit,
            RankBy::PointType => PointColumn::PointType,
            RankBy::Point => PointColumn::Id,
        };
        let within = area.path.clone();
        let (current, before, rectified) = self
            .store()
            .read(move |c| {
                Ok::<_, AppError>((
                    sums::units(c, &k1, &now_spans)?,
                    sums::units(c, &k2, &prev_spans)?,
                    db::rectification(c, fd, td, now_ms, &within, column)?,
                ))
            })
            .await?;
        // The cases under the key each group is ranked by, and under the area.
        let key_of = |group: &str| -> String {
            match by {
                RankBy::Community => area_key(group),
                RankBy::Grid => format!("g:{group}"),
                RankBy::Unit => format!("u:{group}"),
                RankBy::PointType => type_key(&area.id, group),
                RankBy::Point => format!("p:{group}"),
            }
        };
        let mut cases: HashMap<String, (i64, i64, i64)> = HashMap::new();
        let mut all = (0, 0, 0);
        for (group, r) in &rectified {
            all = (all.0 + r.cases, all.1 + r.due, all.2 + r.on_time);
            if let Some(g) = group {
                let e = cases.entry(key_of(g)).or_default();
                *e = (e.0 + r.cases, e.1 + r.due, e.2 + r.on_time);
            }
        }
        let current: HashMap<String, Sums> = current.into_iter().collect();
        let before: HashMap<String, Sums> = before.into_iter().collect();
        let total = current.get(&area_key(&area.id)).copied().unwrap_or_default();
        let mut rows: Vec<RankingRow> = units
            .into_iter()
            .filter_map(|(key, name)| {
                let s = current.get(&key).copied()?;
                let previous_rate = before.get(&key).and_then(rate);
                let r = rate(&s);
                let change = match (r, previous_rate) {
                    (Some(a), Some(b)) => Some(((a - b) * 1000.0).round() / 10.0),
                    _ => None,
                };
                let (n, due, on_time) = cases.get(&key).copied().unwrap_or_default();
                Some(RankingRow {
                    rank: 0,
                    key,
                    name,
                    sums: s,
                    rate: r,
                    previous_rate,
                    change,
                    cases: n,
                    cases_due: due,
                    rectified_on_time: on_time,
                    rectified_rate: (due > 0).then(|| on_time as f64 / due as f64),
                })
            })
            .collect();
        rows.sort_by(|a, b| {
            b.rate
                .unwrap_or(-1.0)
                .total_cmp(&a.rate.unwrap_or(-1.0))
                .then(b.sums.inspections.cmp(&a.sums.inspections))
                .then(a.name.cmp(&b.name))
        });
        for (i, r) in rows.iter_mut().enumerate() {
            r.rank = i + 1;
        }
        let rectified_rate = (all.1 > 0).then(|| all.2 as f64 / all.1 as f64);
        Ok(Ranking {
            area: area.code.clone(),
            area_name: area.name.clone(),
            from,
            to,
            by,
            rate: total.rate(),
            total,
            cases: all.0,
            rectified_on_time: all.2,
            rectified_rate,
            rows,
        })
    }

    /// The weights of the composite ranking, for whoever reads rankings.
    pub async fn ranking_weights(&self, actor: &Actor) -> AppResult<Weights> {
        if !actor.can_somewhere(Permission::ReadInspections) {
            return Err(AppError::Forbidden);
        }
        self.weights().await
    }

    async fn weights(&self) -> AppResult<Weights> {
        let stored = self.store().read(|c| schema::meta_get(c, WEIGHTS_KEY)).await?;
        Ok(stored.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default())
    }

    /// An admin sets the weights; none negative, not all zero.
    pub async fn set_ranking_weights(&self, actor: &Actor, w: Weights) -> AppResult<Weights> {
        if !actor.can_somewhere(Permission::ManageManual) {
            return Err(AppError::Forbidden);
        }
        let ok = |v: f64| v.is_finite() && (0.0..=100.0).contains(&v);
        if !(ok(w.score) && ok(w.on_time) && ok(w.rework) && ok(w.panel)) || w.score + w.on_time + w.rework + w.panel <= 0.0 {
            return Err(AppError::Invalid(Invalid::Weights));
        }
        let text = serde_json::to_string(&w).map_err(|e| AppError::Internal(e.to_string()))?;
        self.store().write(move |c| schema::meta_set(c, WEIGHTS_KEY, &text)).await?;
        Ok(w)
    }

    /// Communities of an area ranked by 得分率 and the case indicators under the weights;
    /// `n` on each of the red and black lists.
    pub async fn composite_ranking(
        &self,
        actor: &Actor,
        area: Option<&str>,
        from: NaiveDate,
        to: NaiveDate,
        n: usize,
    ) -> AppResult<Composite> {
        let weights = self.weights().await?;
        let scores = self.ranking(actor, area, from, to, RankBy::Community).await?;
        let cases = self.indicators(actor, Some(&scores.area), from, to, GroupBy::Community).await?;
        let (fd, td) = (day_key(from), day_key(to));
        let panel: HashMap<String, f64> =
            self.store().read(move |c| crate::store::bulletins::panel_averages(c, fd, td)).await?.into_iter().collect();
        let dir = self.directory();
        let mut rows: Vec<CompositeRow> = dir
            .units()
            .filter(|u| u.kind == OrgKind::Community && dir.unit_named(&scores.area).is_some_and(|a| u.path.starts_with(&a.path)))
            .map(|u| {
                let s = scores.rows.iter().find(|r| r.key == area_key(&u.id));
                let c = cases.groups.iter().find(|g| g.code == u.code);
                let rate = s.and_then(|r| r.rate);
                let on_time = c.and_then(|g| g.indicators.on_time_rate);
                let rework = c.and_then(|g| g.indicators.rework_rate);
                let panel_score = panel.get(&u.id).copied();
                let parts = [
                    (rate, weights.score),
                    (on_time, weights.on_time),
                    (rework.map(|r| 1.0 - r), weights.rework),
                    (panel_score.map(|p| p / 100.0), weights.panel),
                ];
                let weight: f64 = parts.iter().filter(|(v, _)| v.is_some()).map(|(_, w)| w).sum();
                let composite = (weight > 0.0)
                    .then(|| parts.iter().filter_map(|(v, w)| v.map(|v| v * w)).sum::<f64>() / weight)
                    .map(|v| (v * 10_000.0).round() / 10_000.0);
                CompositeRow {
                    rank: 0,
                    code: u.code.clone(),
                    name: u.name.clone(),
                    rate,
                    on_time_rate: on_time,
                    rework_rate: rework,
                    panel: panel_score.map(|p| (p * 10.0).round() / 10.0),
                    composite,
                    inspections: s.map(|r| r.sums.inspections).unwrap_or(0),
                }
            })
            .collect();
        rows.sort_by(|a, b| {
            // Ties as the score ranking breaks them: 得分率, then more points inspected, then name.
            let key = |r: &CompositeRow| (r.composite.unwrap_or(-1.0), r.rate.unwrap_or(-1.0));
            let (ka, kb) = (key(a), key(b));
            kb.0.total_cmp(&ka.0).then(kb.1.total_cmp(&ka.1)).then(b.inspections.cmp(&a.inspections)).then(a.name.cmp(&b.name))
        });
        for (i, r) in rows.iter_mut().enumerate() {
            r.rank = i + 1;
        }
        let ranked: Vec<CompositeRow> = rows.iter().filter(|r| r.composite.is_some()).cloned().collect();
        let n = n.min(ranked.len() / 2);
        let red = ranked.iter().take(n).cloned().collect();
        let black = ranked.iter().rev().take(n).cloned().collect();
        Ok(Composite { area: scores.area, area_name: scores.area_name, from, to, weights, rows, red, black })
    }

    /// The shortfall list of an area: items by the score they lost, the communities and points
    /// where each fails most, and what each lost in the period before.
    pub async fn shortfall(
        &self,
        actor: &Actor,
        area: Option<&str>,
        from: NaiveDate,
        to: NaiveDate,
        top: usize,
    ) -> AppResult<Vec<ShortfallRow>> {
        if from > to || (to - from).num_days() > 366 {
            return Err(AppError::Invalid(Invalid::Period));
        }
        let area = self.area(actor, area)?;
        let dir = self.directory();
        let manual = self.manual(&Actor::console(), None).await?;
        let key = area_key(&area.id);
        let (pf, pt) = previous(from, to);
        let (now_spans, prev_spans) = (spans(from, to), spans(pf, pt));
        let communities: Vec<(String, String)> = dir
            .units()
            .filter(|u| u.kind == OrgKind::Community && u.path.starts_with(&area.path) && u.id != area.id)
            .map(|u| (area_key(&u.id), u.name.clone()))
            .collect();
        let community_keys: std::collections::HashSet<String> = communities.iter().map(|(k, _)| k.clone()).collect();
        let within = area.path.clone();
        // Everything from the kept sums: the area's items, the same period before, and the
        // top items in each community and point; then the names of the few points shown.
        let (rows, before, places, at_points) = self
            .store()
            .read(move |c| {
                let mut rows = sums::items_of(c, &key, &now_spans)?;
                rows.retain(|(_, s)| s.lost > 0.0);
                rows.sort_by(|a, b| b.1.lost.total_cmp(&a.1.lost).then(a.0.cmp(&b.0)));
                rows.truncate(top.max(1));
                let before: HashMap<String, Sums> = sums::items_of(c, &key, &prev_spans)?.into_iter().collect();
                let codes: Vec<String> = rows.iter().map(|(code, _)| code.clone()).collect();
                let mut places: HashMap<String, Vec<(String, Sums)>> = HashMap::new();
                let mut candidates: HashMap<String, Vec<(String, i64, f64)>> = HashMap::new();
                for ((unit, code), (failed, lost)) in sums::losses_by_unit(c, &codes, &now_spans)? {
                    if lost <= 0.0 {
                        continue;
                    }
                    if community_keys.contains(&unit) {
                        places.entry(code).or_default().push((unit, Sums { failed, lost, ..Default::default() }));
                    } else if let Some(id) = unit.strip_prefix("p:") {
                        candidates.entry(code).or_default().push((id.to_string(), failed, lost));
                    }
                }
                // Per item the points that lost most, those inside the area: the first few
                // dozen candidates are read, not every point.
                let mut at_points: HashMap<String, Vec<Where>> = HashMap::new();
                for (code, mut list) in candidates {
                    list.sort_by(|a, b| b.2.total_cmp(&a.2).then(b.1.cmp(&a.1)).then(a.0.cmp(&b.0)));
                    let mut shown = Vec::new();
                    for chunk in list.chunks(30) {
                        let ids: Vec<String> = chunk.iter().map(|(id, ..)| id.clone()).collect();
                        let found: HashMap<String, crate::store::inspections::PointRow> =
                            db::points_by_ids(c, &ids)?.into_iter().map(|p| (p.id.clone(), p)).collect();
                        for (id, failed, lost) in chunk {
                            if let Some(p) = found.get(id).filter(|p| p.scope_path.starts_with(within.as_str())) {
                                shown.push(Where { name: p.name.clone(), lost: (lost * 100.0).round() / 100.0, failed: *failed });
                            }
                        }
                        if shown.len() >= 3 {
                            break;
                        }
                    }
                    shown.truncate(3);
                    at_points.insert(code, shown);
                }
                Ok::<_, AppError>((rows, before, places, at_points))
            })
            .await?;
        let mut at_points = at_points;
        let names: HashMap<String, String> = communities.into_iter().collect();
        Ok(rows
            .into_iter()
            .enumerate()
            .map(|(i, (code, s))| {
                let item = manual.items.iter().find(|m| m.code == code);
                let mut where_c: Vec<Where> = places
                    .get(&code)
                    .into_iter()
                    .flatten()
                    .filter(|(_, x)| x.lost > 0.0)
                    .map(|(k, x)| Where {
                        name: names.get(k).cloned().unwrap_or_default(),
                        lost: (x.lost * 100.0).round() / 100.0,
                        failed: x.failed,
                    })
                    .collect();
                where_c.sort_by(|a, b| b.lost.total_cmp(&a.lost).then(a.name.cmp(&b.name)));
                where_c.truncate(3);
                let mut where_p = at_points.remove(&code).unwrap_or_default();
                where_p.sort_by(|a, b| b.lost.total_cmp(&a.lost).then(b.failed.cmp(&a.failed)).then(a.name.cmp(&b.name)));
                where_p.truncate(3);
                ShortfallRow {
                    rank: i + 1,
                    text: item.map(|m| m.text.clone()).unwrap_or_default(),
                    point_type: item.map(|m| m.point_type.clone()).unwrap_or_default(),
                    fail_rate: (s.inspections > 0).then(|| s.failed as f64 / s.inspections as f64),
                    previous_lost: before.get(&code).map(|b| (b.lost * 100.0).round() / 100.0).unwrap_or(0.0),
                    sums: Sums { lost: (s.lost * 100.0).round() / 100.0, ..s },
                    communities: where_c,
                    points: where_p,
                    code,
                }
            })
            .collect())
    }

    /// A ranking as a table.
    pub fn export_ranking(&self, r: &Ranking, format: ExportFormat, lang: Lang) -> Download {
        let h = |k: &str| t(lang, &format!("export.ranking.{k}"), &[]);
        let (from, to) = (r.from.format("%Y-%m-%d").to_string(), r.to.format("%Y-%m-%d").to_string());
        let head = TableHead {
            title: t(
                lang,
                "export.ranking.title",
                &[("unit", &r.area_name), ("by", &t(lang, &format!("web.rank_by_{}", r.by.as_str()), &[]))],
            ),
            notes: vec![t(lang, "export.period", &[("from", &from), ("to", &to)]), self.export_time_note(lang)],
            sheet: h("sheet"),
            columns: [
                "rank",
                "name",
                "inspections",
                "score",
                "standard",
                "rate",
                "previous_rate",
                "change",
                "problems",
                "failed",
                "voided",
                "cases",
                "rectified_on_time",
                "rectified_rate",
            ]
            .iter()
            .map(|k| h(k))
            .collect(),
        };
        let rows = r
            .rows
            .iter()
            .map(|x| {
                vec![
                    Cell::Number(x.rank as f64),
                    text_cell(&x.name),
                    Cell::Number(x.sums.inspections as f64),
                    Cell::Number(x.sums.score),
                    Cell::Number(x.sums.standard),
                    Cell::Percent(x.rate),
                    Cell::Percent(x.previous_rate),
                    x.change.map(Cell::Number).unwrap_or(Cell::Empty),
                    Cell::Number(x.sums.problems as f64),
                    Cell::Number(x.sums.failed as f64),
                    Cell::Number(x.sums.voided as f64),
                    Cell::Number(x.cases as f64),
                    Cell::Number(x.rectified_on_time as f64),
                    Cell::Percent(x.rectified_rate),
                ]
            })
            .collect();
        self.stream_table(head, format, "ranking", rows, |_| Ok(None))
    }

    /// The composite ranking as a table, 红榜 and 黑榜 marked.
    pub fn export_composite(&self, r: &Composite, format: ExportFormat, lang: Lang) -> Download {
        let h = |k: &str| t(lang, &format!("export.composite.{k}"), &[]);
        let (from, to) = (r.from.format("%Y-%m-%d").to_string(), r.to.format("%Y-%m-%d").to_string());
        let w = &r.weights;
        let weights = t(
            lang,
            "export.composite.weights",
            &[("score", &w.score.to_string()), ("on_time", &w.on_time.to_string()), ("rework", &w.rework.to_string())],
        );
        let head = TableHead {
            title: t(lang, "export.composite.title", &[("unit", &r.area_name)]),
            notes: vec![t(lang, "export.period", &[("from", &from), ("to", &to)]), weights, self.export_time_note(lang)],
            sheet: h("sheet"),
            columns: ["rank", "name", "composite", "rate", "on_time_rate", "rework_rate", "inspections", "list"]
                .iter()
                .map(|k| h(k))
                .collect(),
        };
        let (red, black) = (h("red"), h("black"));
        let rows = r
            .rows
            .iter()
            .map(|x| {
                let list = if r.red.iter().any(|y| y.code == x.code) {
                    text_cell(&red)
                } else if r.black.iter().any(|y| y.code == x.code) {
                    text_cell(&black)
                } else {
                    Cell::Empty
                };
                vec![
                    Cell::Number(x.rank as f64),
                    text_cell(&x.name),
                    x.composite.map(|v| Cell::Number((v * 1000.0).round() / 10.0)).unwrap_or(Cell::Empty),
                    Cell::Percent(x.rate),
                    Cell::Percent(x.on_time_rate),
                    Cell::Percent(x.rework_rate),
                    Cell::Number(x.inspections as f64),
                    list,
                ]
            })
            .collect();
        self.stream_table(head, format, "composite", rows, |_| Ok(None))
    }

    /// The shortfall list as a table.
    pub fn export_shortfall(
        &self,
        area: &str,
        from: NaiveDate,
        to: NaiveDate,
        rows: &[ShortfallRow],
        format: ExportFormat,
        lang: Lang,
    ) -> Download {
        let h = |k: &str| t(lang, &format!("export.shortfall.{k}"), &[]);
        let (f, tt) = (from.format("%Y-%m-%d").to_string(), to.format("%Y-%m-%d").to_string());
        let head = TableHead {
            title: t(lang, "export.shortfall.title", &[("unit", area)]),
            notes: vec![t(lang, "export.period", &[("from", &f), ("to", &tt)]), self.export_time_note(lang)],
            sheet: h("sheet"),
            columns: [
                "rank",
                "code",
                "point_type",
                "text",
                "lost",
                "previous_lost",
                "inspections",
                "failed",
                "fail_rate",
                "communities",
                "points",
            ]
            .iter()
            .map(|k| h(k))
            .collect(),
        };
        let list = |w: &[Where]| w.iter().map(|x| x.name.clone()).collect::<Vec<_>>().join("、");
        let cells = rows
            .iter()
            .map(|r| {
                vec![
                    Cell::Number(r.rank as f64),
                    text_cell(&r.code),
                    text_cell(&r.point_type),
                    text_cell(&r.text),
                    Cell::Number(r.sums.lost),
                    Cell::Number(r.previous_lost),
                    Cell::Number(r.sums.inspections as f64),
                    Cell::Number(r.sums.failed as f64),
                    Cell::Percent(r.fail_rate),
                    text_cell(list(&r.communities)),
                    text_cell(list(&r.points)),
                ]
            })
            .collect();
        self.stream_table(head, format, "shortfall", cells, |_| Ok(None))
    }
}
