//! Rounds (督查 / 暗访 / 模拟测评 / 回头看): a period, the manual version, the points — chosen,
//! drawn at random by point type from a seed printed with the round, or (回头看) the points
//! that failed last time with only the items that failed — and the inspectors, each of whom
//! sees their points as to-do items.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::PointView;
use crate::app::App;
use crate::domain::authz::{Actor, Permission};
use crate::domain::inspection::{RoundKind, day_key, draw_points};
use crate::error::{AppError, AppResult, Invalid, Thing};
use crate::store::inspections::{self as db, RoundPointRow, RoundRow};
use crate::store::{new_id, people};

/// How a round's points are chosen.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Selection {
    /// These points, by id.
    Chosen { points: Vec<String> },
    /// So many of each point type, at random from `seed` (a new one when absent), among the
    /// active points in `within` (an area's code; the planner's scope when absent).
    Drawn {
        quotas: BTreeMap<String, usize>,
        #[serde(default)]
        seed: Option<u64>,
        #[serde(default)]
        within: Option<String>,
    },
    /// 回头看: the points of `round` that failed an item, each with only the items it failed.
    Recheck { round: String },
}

/// A round to plan.
#[derive(Debug, Clone, Deserialize)]
pub struct RoundPlan {
    pub name: String,
    pub kind: RoundKind,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub selection: Selection,
    /// Person ids; points are shared among them in turn.
    #[serde(default)]
    pub inspectors: Vec<String>,
}

/// One point of a round as the desk sees it.
#[derive(Debug, Clone, Serialize)]
pub struct RoundPointView {
    pub point: PointView,
    pub inspector_id: Option<String>,
    pub inspector_name: Option<String>,
    pub items: Option<Vec<String>>,
    pub inspection_id: Option<String>,
    pub rate: Option<f64>,
    pub voided: bool,
    pub failed_items: i64,
}

/// A round with its points and progress.
#[derive(Debug, Clone, Serialize)]
pub struct RoundView {
    pub round: RoundRow,
    pub manual_version: i64,
    pub based_on_name: Option<String>,
    pub done: usize,
    pub total: usize,
    pub points: Vec<RoundPointView>,
}

/// An inspection as a list shows it.
#[derive(Debug, Clone, Serialize)]
pub struct InspectionBrief {
    pub id: String,
    pub at: i64,
    pub round_name: String,
    pub point_name: String,
    pub point_type: String,
    pub rate: Option<f64>,
    pub voided: bool,
    pub failed_items: i64,
}

/// A point waiting for an inspector.
#[derive(Debug, Clone, Serialize)]
pub struct Assigned {
    pub round: RoundRow,
    pub point: PointView,
    pub items: usize,
}

fn yyyymmdd(d: NaiveDate) -> i64 {
    day_key(d)
}

impl App {
    /// Plans a round. The points must lie where the planner may plan; inspectors must be able
    /// to inspect. The draw's seed is kept with the round.
    pub async fn plan_round(&self, actor: &Actor, plan: RoundPlan) -> AppResult<RoundView> {
        if !actor.can_somewhere(Permission::PlanInspections) {
            return Err(AppError::Forbidden);
        }
        if plan.kind == crate::domain::inspection::RoundKind::Frontage {
            // The day's frontage round is made by the first check of the day.
            return Err(AppError::InvalidParameter("kind".into()));
        }
        let name = plan.name.trim().to_string();
        if name.is_empty() {
            return Err(AppError::MissingParameter("name".into()));
        }
        if plan.ends_on < plan.starts_on || (plan.ends_on - plan.starts_on).num_days() > 366 {
            return Err(AppError::Invalid(Invalid::Period));
        }
        let manual = self.manual(&Actor::console(), None).await?;
        let scopes: Vec<String> = actor.scopes(Permission::PlanInspections).into_iter().map(str::to_string).collect();
        let dir = self.directory();
        let mut seed = 0u64;
        let mut based_on = None;
        // (point id, items) in the round's order.
        let chosen: Vec<(String, Option<Vec<String>>)> = match &plan.selection {
            Selection::Chosen { points } => {
                if points.is_empty() {
                    return Err(AppError::MissingParameter("points".into()));
                }
                let mut out = Vec::new();
                for id in points {
                    let (id2, scopes2) = (id.clone(), scopes.clone());
                    let p = self
                        .store()
                        .read(move |c| db::point(c, &id2))
                        .await?
                        .filter(|p| p.active)
                        .ok_or(AppError::NotFound(Thing::Point))?;
                    if !scopes2.iter().any(|s| p.scope_path.starts_with(s.as_str())) {
                        return Err(AppError::NotFound(Thing::Point));
                    }
                    if !out.iter().any(|(i, _): &(String, _)| *i == p.id) {
                        out.push((p.id, None));
                    }
                }
                out
            }
            Selection::Drawn { quotas, seed: s, within } => {
                let within = match within.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
                    Some(code) => {
                        let unit = dir.unit_named(code).ok_or(AppError::NotFound(Thing::OrgUnit))?;
                        if !actor.can(Permission::PlanInspections, &unit.path) {
                            return Err(AppError::NotFound(Thing::OrgUnit));
                        }
                        vec![unit.path.clone()]
                    }
                    None => scopes.clone(),
                };
                seed = s.unwrap_or_else(|| rand::random::<u32>() as u64);
                let candidates = self.store().read(move |c| db::points(c, &within, None)).await?;
                let pairs: Vec<(String, String)> = candidates.iter().map(|p| (p.id.clone(), p.point_type.clone())).collect();
                // A type with no points there is a mistake, not a stratum of none.
                if let Some(kind) = quotas.keys().find(|k| !pairs.iter().any(|(_, t)| t == *k)) {
                    return Err(AppError::InvalidParameter(format!("quotas: {kind}")));
                }
                let drawn = draw_points(&pairs, quotas, seed);
                if drawn.is_empty() {
                    return Err(AppError::Invalid(Invalid::NothingDrawn));
                }
                drawn.into_iter().map(|id| (id, None)).collect()
            }
            Selection::Recheck { round } => {
                let earlier = round.clone();
                let (earlier_round, results) = self
                    .store()
                    .read(move |c| {
                        let r = db::round(c, &earlier)?.ok_or(AppError::NotFound(Thing::Round))?;
                        let mut failed: Vec<(String, Vec<String>)> = Vec::new();
                        for rp in db::round_points(c, &r.id)? {
                            let Some(inspection) = rp.inspection_id.as_deref() else { continue };
                            let codes: Vec<String> =
                                db::item_results(c, inspection)?.into_iter().filter(|i| i.failed).map(|i| i.item_code).collect();
                            if !codes.is_empty() {
                                failed.push((rp.point_id, codes));
                            }
                        }
                        Ok::<_, AppError>((r, failed))
                    })
                    .await?;
                if results.is_empty() {
                    return Err(AppError::Invalid(Invalid::NothingToRecheck));
                }
                based_on = Some(earlier_round.id);
                results.into_iter().map(|(p, codes)| (p, Some(codes))).collect()
            }
        };
        // Inspectors must be able to inspect.
        let mut inspectors = Vec::new();
        for id in &plan.inspectors {
            let pid = id.clone();
            let grants = self.store().read(move |c| people::grants(c, &pid)).await?;
            let who = Actor::person(id.clone(), String::new(), grants);
            if !who.can_somewhere(Permission::Inspect) {
                return Err(AppError::Invalid(Invalid::Inspector));
            }
            inspectors.push(id.clone());
        }
        let round = RoundRow {
            id: new_id(),
            name,
            kind: plan.kind,
            manual_id: manual.manual.id.clone(),
            starts_on: yyyymmdd(plan.starts_on),
            ends_on: yyyymmdd(plan.ends_on),
            seed: seed as i64,
            based_on,
            created_by: actor.name.clone(),
            created_at: self.now(),
        };
        let points: Vec<RoundPointRow> = chosen
            .into_iter()
            .enumerate()
            .map(|(i, (point_id, items))| RoundPointRow {
                round_id: round.id.clone(),
                point_id,
                inspector_id: (!inspectors.is_empty()).then(|| inspectors[i % inspectors.len()].clone()),
                items,
                inspection_id: None,
                sort: i as i64,
            })
            .collect();
        let id = round.id.clone();
        self.store().write(move |c| db::insert_round(c, &round, &points)).await?;
        self.round(actor, &id).await
    }

    /// Gives a round's point to an inspector (or takes it back with `None`).
    pub async fn assign_point(&self, actor: &Actor, round_id: &str, point_id: &str, inspector: Option<String>) -> AppResult<()> {
        if let Some(id) = &inspector {
            let pid = id.clone();
            let grants = self.store().read(move |c| people::grants(c, &pid)).await?;
            if !Actor::person(id.clone(), String::new(), grants).can_somewhere(Permission::Inspect) {
                return Err(AppError::Invalid(Invalid::Inspector));
            }
        }
        let (r, p, actor) = (round_id.to_string(), point_id.to_string(), actor.clone());
        self.store()
            .write(move |c| {
                let point = db::point(c, &p)?.ok_or(AppError::NotFound(Thing::Point))?;
                if !actor.can(Permission::PlanInspections, &point.scope_path) {
                    return Err(AppError::Forbidden);
                }
                let rp = db::round_point(c, &r, &p)?.ok_or(AppError::NotFound(Thing::Point))?;
                if rp.inspection_id.is_some() {
                    return Err(AppError::Invalid(Invalid::AlreadyInspected));
                }
                db::set_inspector(c, &r, &p, inspector.as_deref())?;
                Ok(())
            })
            .await
    }

    /// Rounds meeting a period, newest first, each with its progress.
    pub async fn rounds(&self, actor: &Actor, from: NaiveDate, to: NaiveDate) -> AppResult<Vec<RoundView>> {
        if !actor.can_somewhere(Permission::ReadInspections) {
            return Err(AppError::Forbidden);
        }
        let (f, t) = (yyyymmdd(from), yyyymmdd(to));
        let rounds = self.store().read(move |c| db::rounds(c, f, t)).await?;
        let mut out = Vec::new();
        for r in rounds {
            let mut v = self.round(actor, &r.id).await?;
            v.points.clear();
            out.push(v);
        }
        Ok(out)
    }

    /// One round with its points, as far as the viewer may see them.
    pub async fn round(&self, actor: &Actor, id: &str) -> AppResult<RoundView> {
        let scopes: Vec<String> = actor.scopes(Permission::ReadInspections).into_iter().map(str::to_string).collect();
        if scopes.is_empty() {
            return Err(AppError::Forbidden);
        }
        let id = id.to_string();
        let (round, manual, based, rows) = self
            .store()
            .read(move |c| {
                let round = db::round(c, &id)?.ok_or(AppError::NotFound(Thing::Round))?;
                let manual = db::manual(c, &round.manual_id)?.map(|m| m.version).unwrap_or(0);
                let based = round.based_on.as_deref().map(|b| db::round(c, b)).transpose()?.flatten().map(|r| r.name);
                let mut rows = Vec::new();
                for rp in db::round_points(c, &round.id)? {
                    let Some(point) = db::point(c, &rp.point_id)? else { continue };
                    if !scopes.iter().any(|s| point.scope_path.starts_with(s.as_str())) {
                        continue;
                    }
                    let inspection = rp.inspection_id.as_deref().map(|i| db::inspection(c, i)).transpose()?.flatten();
                    let inspector = rp.inspector_id.as_deref().map(|p| people::person_name(c, p)).transpose()?.flatten();
                    rows.push((rp, point, inspection, inspector));
                }
                Ok::<_, AppError>((round, manual, based, rows))
            })
            .await?;
        let m = self.manual(&Actor::console(), Some(&round.manual_id)).await.ok();
        let total = rows.len();
        let done = rows.iter().filter(|r| r.2.is_some()).count();
        let points = rows
            .into_iter()
            .map(|(rp, point, inspection, inspector_name)| RoundPointView {
                point: self.point_view(point, m.as_ref()),
                inspector_id: rp.inspector_id,
                inspector_name,
                items: rp.items,
                inspection_id: rp.inspection_id,
                rate: inspection.as_ref().and_then(|i| (i.standard > 0.0).then(|| if i.voided { 0.0 } else { i.score / i.standard })),
                voided: inspection.as_ref().is_some_and(|i| i.voided),
                failed_items: inspection.as_ref().map(|i| i.failed_items).unwrap_or(0),
            })
            .collect();
        Ok(RoundView { round, manual_version: manual, based_on_name: based, done, total, points })
    }

    /// What waits for this inspector: their points not yet inspected, in rounds still open.
    pub async fn my_inspections(&self, actor: &Actor) -> AppResult<Vec<Assigned>> {
        if !actor.can_somewhere(Permission::Inspect) {
            return Err(AppError::Forbidden);
        }
        let me = actor.person_id.clone();
        let today = yyyymmdd(crate::domain::calendar::beijing_date(self.now()));
        let rows = self
            .store()
            .read(move |c| {
                let mut rounds: HashMap<String, Option<RoundRow>> = HashMap::new();
                let mut out = Vec::new();
                for rp in db::assigned(c, &me)? {
                    if !rounds.contains_key(&rp.round_id) {
                        let r = db::round(c, &rp.round_id)?;
                        rounds.insert(rp.round_id.clone(), r);
                    }
                    let Some(round) = rounds[&rp.round_id].clone().filter(|r| r.ends_on >= today) else { continue };
                    let Some(point) = db::point(c, &rp.point_id)? else { continue };
                    let items = match &rp.items {
                        Some(codes) => codes.len(),
                        None => db::items(c, &round.manual_id)?.iter().filter(|i| i.point_type == point.point_type).count(),
                    };
                    out.push((round, point, items));
                }
                Ok::<_, AppError>(out)
            })
            .await?;
        let m = self.manual(&Actor::console(), None).await.ok();
        Ok(rows.into_iter().map(|(round, point, items)| Assigned { round, point: self.point_view(point, m.as_ref()), items }).collect())
    }

    /// The inspector's latest inspections (their own, newest first).
    pub async fn my_recent_inspections(&self, actor: &Actor, limit: u64) -> AppResult<Vec<InspectionBrief>> {
        if !actor.can_somewhere(Permission::Inspect) {
            return Err(AppError::Forbidden);
        }
        let me = actor.person_id.clone();
        self.store()
            .read(move |c| {
                let mut out = Vec::new();
                for i in db::inspections_by(c, &me, limit)? {
                    let round_name = db::round(c, &i.round_id)?.map(|r| r.name).unwrap_or_default();
                    let point = db::point(c, &i.point_id)?;
                    out.push(InspectionBrief {
                        rate: (i.standard > 0.0).then(|| i.score / i.standard),
                        point_name: point.as_ref().map(|p| p.name.clone()).unwrap_or_default(),
                        point_type: point.map(|p| p.point_type).unwrap_or_default(),
                        round_name,
                        voided: i.voided,
                        failed_items: i.failed_items,
                        at: i.at,
                        id: i.id,
                    });
                }
                Ok::<_, AppError>(out)
            })
            .await
    }

    /// Who may be given points to inspect, for a planner: (person id, name, unit name).
    pub async fn inspectors(&self, actor: &Actor) -> AppResult<Vec<(String, String, String)>> {
        if !actor.can_somewhere(Permission::PlanInspections) {
            return Err(AppError::Forbidden);
        }
        let members = self.store().read(|c| crate::store::people::members(c, None, None)).await?;
        let mut out: Vec<(String, String, String)> = Vec::new();
        for m in members.into_iter().filter(|m| m.role.permissions().contains(&Permission::Inspect)) {
            if !out.iter().any(|(id, ..)| *id == m.person_id) {
                out.push((m.person_id, m.name, m.org_unit_name));
            }
        }
        Ok(out)
    }
}
