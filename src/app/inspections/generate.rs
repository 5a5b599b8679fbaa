//! Load for `chuangcheng bench`: a year of inspections at city scale written in batches, with
//! the same scoring and the same kept sums as inspecting one point at a time — so rankings
//! and the shortfall list are measured on the rows and sums a real year leaves.

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::{PointDraft, sum_keys};
use crate::app::App;
use crate::domain::authz::Actor;
use crate::domain::calendar::{beijing_date, beijing_day_start};
use crate::domain::inspection::{
    Grain, Observation, RoundKind, Scoring, Sums, day_key, inspection_sums, month_key, score_item, score_point,
};
use crate::error::AppResult;
use crate::i18n::Lang;
use crate::store::inspections::{self as db, InspectionRow, ItemResultRow, RoundPointRow, RoundRow, sums};
use crate::store::new_id;

/// What the generator wrote.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct InspectionLoad {
    pub points: usize,
    pub inspections: usize,
    pub item_results: usize,
}

const DAY: i64 = 86_400_000;

impl App {
    /// Adds `points` points over the grids (types in turn, the grid's community responsible),
    /// then `total` inspections over the `days` days ending today in weekly rounds; a tenth of
    /// the failures link to an existing case. `progress` hears the inspections written.
    pub async fn generate_inspections(
        &self,
        points: usize,
        total: usize,
        days: i64,
        progress: impl Fn(usize),
    ) -> AppResult<InspectionLoad> {
        let console = Actor::console();
        let manual = self.manual(&console, None).await?;
        let types: Vec<String> = {
            let mut t: Vec<String> = manual.items.iter().filter(|i| !i.simulated).map(|i| i.point_type.clone()).collect();
            t.dedup();
            t
        };
        let dir = self.directory();
        let grids: Vec<_> = dir.grids().filter_map(|g| dir.interior_point(&g.code).map(|p| (g.community.code.clone(), p))).collect();
        if types.is_empty() || grids.is_empty() {
            return Ok(InspectionLoad::default());
        }
        let drafts: Vec<PointDraft> = (0..points)
            .map(|i| {
                let (community, at) = &grids[i % grids.len()];
                PointDraft {
                    name: format!("测点{:05}", i + 1),
                    point_type: types[i % types.len()].clone(),
                    at: Some(*at),
                    unit: community.clone(),
                    address: None,
                }
            })
            .collect();
        for chunk in drafts.chunks(2_000) {
            self.add_points(&console, chunk.to_vec(), Lang::ZhCn).await?;
        }
        let all = self.points(&console, None).await?;
        let located: Vec<_> = all.into_iter().filter(|p| p.point.lat.is_some()).map(|p| p.point).collect();
        let items_of: HashMap<String, Vec<_>> = manual.items.iter().fold(HashMap::new(), |mut m, i| {
            m.entry(i.point_type.clone()).or_insert_with(Vec::new).push(i.clone());
            m
        });
        let keys: Vec<_> = located.iter().map(|p| sum_keys(&dir, p)).collect();
        let case_ids = self.store().read(|c| db::some_case_ids(c, 100_000)).await?;
        let now = self.now();
        let today = beijing_date(now);
        let weeks = (days.max(7) / 7) as usize;
        let per_week = total.div_ceil(weeks.max(1));
        let mut rng = StdRng::seed_from_u64(77);
        let difficulty: HashMap<String, f64> = manual.items.iter().map(|i| (i.code.clone(), rng.random_range(0.02..0.3))).collect();
        let mut out = InspectionLoad { points: located.len(), ..Default::default() };
        for w in 0..weeks {
            let n = per_week.min(total - out.inspections).min(located.len());
            if n == 0 {
                break;
            }
            let start = today - chrono::Duration::days(7 * (weeks - w) as i64);
            let round = RoundRow {
                id: new_id(),
                name: format!("生成轮次 {}", w + 1),
                kind: RoundKind::Inspection,
                manual_id: manual.manual.id.clone(),
                starts_on: day_key(start),
                ends_on: day_key(start + chrono::Duration::days(6)),
                seed: w as i64,
                based_on: None,
                created_by: console.name.clone(),
                created_at: now,
            };
            let (mut rps, mut rows, mut results, mut links) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            let mut units: HashMap<(Grain, i64, String), Sums> = HashMap::new();
            let mut per_item: HashMap<(Grain, i64, String, String), Sums> = HashMap::new();
            // Each point at most once a round; more inspections than points wrap to the next
            // round's day.
            for k in 0..n {
                let pi = (w * 7_919 + k) % located.len();
                let point = &located[pi];
                let day = start + chrono::Duration::days((k % 7) as i64);
                let at = beijing_day_start(day) + 9 * 3_600_000 + (k as i64 % 480) * 60_000;
                let inspection_id = new_id();
                let mut scored = Vec::new();
                for item in items_of.get(&point.point_type).map(Vec::as_slice).unwrap_or(&[]) {
                    let fails = rng.random_bool(difficulty.get(&item.code).copied().unwrap_or(0.1));
                    let observation = match &item.scoring {
                        Scoring::PassFail if fails => Observation::Fail,
                        Scoring::PassFail => Observation::Pass,
                        Scoring::Quantity { required, .. } => Observation::Found { count: if fails { required / 2 } else { *required } },
                        _ => Observation::Problems { count: if fails { rng.random_range(1..4) } else { 0 } },
                    };
                    let Ok(score) = score_item(&item.scoring, item.standard, observation) else { continue };
                    let case_id = (score.failed && !case_ids.is_empty() && rng.random_bool(0.1))
                        .then(|| case_ids[rng.random_range(0..case_ids.len())].clone());
                    if let Some(case) = &case_id {
                        links.push((day_key(day), point.id.clone(), case.clone()));
                    }
                    results.push(ItemResultRow {
                        id: new_id(),
                        inspection_id: inspection_id.clone(),
                        item_code: item.code.clone(),
                        observation,
                        applicable: score.applicable,
                        score: score.score,
                        standard: score.standard,
                        failed: score.failed,
                        problems: score.problems as i64,
                        note: None,
                        case_id,
                    });
                    scored.push((item.code.clone(), score, item.veto));
                }
                let point_score = score_point(&scored.iter().map(|(_, s, v)| (*s, *v)).collect::<Vec<_>>());
                let (whole, items) = inspection_sums(&point_score, &scored.iter().map(|(c, s, _)| (c.clone(), *s)).collect::<Vec<_>>());
                for (grain, period) in [(Grain::Day, day_key(day)), (Grain::Month, month_key(day))] {
                    for key in &keys[pi].units {
                        units.entry((grain, period, key.clone())).or_default().add(&whole);
                    }
                    for area in &keys[pi].areas {
                        for (code, s) in &items {
                            per_item.entry((grain, period, area.clone(), code.clone())).or_default().add(s);
                        }
                    }
                    for (code, s) in items.iter().filter(|(_, s)| s.lost > 0.0) {
                        per_item.entry((grain, period, keys[pi].point.clone(), code.clone())).or_default().add(s);
                    }
                }
                rps.push(RoundPointRow {
                    round_id: round.id.clone(),
                    point_id: point.id.clone(),
                    inspector_id: None,
                    items: None,
                    inspection_id: Some(inspection_id.clone()),
                    sort: k as i64,
                });
                rows.push(InspectionRow {
                    id: inspection_id,
                    round_id: round.id.clone(),
                    point_id: point.id.clone(),
                    inspector_id: console.person_id.clone(),
                    manual_id: manual.manual.id.clone(),
                    at: at.min(now - DAY),
                    day: day_key(day),
                    score: point_score.score,
                    standard: point_score.standard,
                    voided: point_score.voided,
                    problems: point_score.problems as i64,
                    failed_items: point_score.failed_items as i64,
                    note: None,
                });
            }
            // Round points are unique per (round, point): a week with more inspections than
            // points keeps the first of each.
            let mut seen = std::collections::HashSet::new();
            rps.retain(|r| seen.insert(r.point_id.clone()));
            out.inspections += rows.len();
            out.item_results += results.len();
            let units: Vec<_> = units.into_iter().map(|((g, p, k), s)| (g, p, k, s)).collect();
            let per_item: Vec<_> = per_item.into_iter().map(|((g, p, a, c), s)| (g, p, a, c, s)).collect();
            self.store()
                .write(move |c| {
                    db::insert_batch(c, std::slice::from_ref(&round), &rps, &rows, &results)?;
                    db::link_cases(c, &links)?;
                    sums::add(c, &units, &per_item)?;
                    Ok::<_, crate::error::AppError>(())
                })
                .await?;
            progress(out.inspections);
        }
        Ok(out)
    }
}
