//! Load for `chuangcheng bench`: a city's shops imported the way an office would (one sheet
//! through `import_merchants`), each given its frontage point, and a month of frontage checks
//! written in batches (one round a day, five responsibilities each, a share failing and
//! linked to cases, some of those late) — so the monthly lists are measured on the rows a real
//! month leaves.

use std::time::Instant;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::app::App;
use crate::domain::authz::Actor;
use crate::domain::calendar::{beijing_date, beijing_day_start};
use crate::domain::coords::LatLon;
use crate::domain::inspection::{Observation, RoundKind, day_key, score_item, score_point};
use crate::domain::merchant::FRONTAGE_TYPE;
use crate::error::AppResult;
use crate::i18n::Lang;
use crate::store::inspections::{self as points_db, InspectionRow, ItemResultRow, PointRow, RoundPointRow, RoundRow};
use crate::store::merchants as db;
use crate::store::new_id;

/// What the generator wrote and how long the import took.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct MerchantLoad {
    pub merchants: usize,
    pub import_seconds: f64,
    pub checks: usize,
    /// The month checked (YYYYMM).
    pub month: i64,
}

impl App {
    /// Imports `n` shops over the grids from one generated sheet (timed), then writes
    /// `checks_per_shop` checks for each over last month. `progress` hears the checks written.
    pub async fn generate_merchants(&self, n: usize, checks_per_shop: usize, progress: impl Fn(usize)) -> AppResult<MerchantLoad> {
        let console = Actor::console();
        let dir = self.directory();
        let centres: Vec<LatLon> = dir.grids().filter_map(|g| dir.interior_point(&g.code)).collect();
        if centres.is_empty() || n == 0 {
            return Ok(MerchantLoad::default());
        }
        let mut rng = StdRng::seed_from_u64(16);
        let mut sheet = String::with_capacity(n * 120);
        sheet.push_str("商户名称,地址,纬度,经度,联系人,电话,经营类别,签订日期,营业执照号,所在道路\n");
        for i in 0..n {
            let c = centres[i % centres.len()];
            sheet.push_str(&format!(
                "商户{i:06},测试路{}号,{:.6},{:.6},联系人,139{:08},{},2026-01-15,,测试路{}\n",
                i % 500,
                c.lat + rng.random_range(-0.0002..0.0002),
                c.lon + rng.random_range(-0.0002..0.0002),
                i % 100_000_000,
                ["餐饮", "零售", "汽修", "农贸摊位", "服务"][i % 5],
                i % 40
            ));
        }
        let t = Instant::now();
        let merchants = self.import_merchants(&console, sheet.as_bytes(), Lang::ZhCn).await?;
        let import_seconds = t.elapsed().as_secs_f64();
        drop(sheet);
        // Every shop's frontage point.
        let rows = self.store().read(|c| db::merchants(c, &["/".to_string()], None, u64::MAX)).await?;
        let now = self.now();
        let mut shops = Vec::with_capacity(rows.len());
        for chunk in rows.chunks(5_000) {
            let points: Vec<(String, PointRow)> = chunk
                .iter()
                .filter(|m| m.point_id.is_none())
                .map(|m| {
                    let p = super::frontage::frontage_point(m, format!("{}·{}", m.name, &m.id[m.id.len() - 6..]), now);
                    (m.id.clone(), p)
                })
                .collect();
            shops.extend(points.iter().map(|(_, p)| p.id.clone()));
            self.store().write(move |c| db::attach_points(c, &points)).await?;
        }
        // A month of checks: last month, one round a day.
        let manual = self.manual(&console, None).await?;
        let duties: Vec<_> = manual.items.iter().filter(|i| i.point_type == FRONTAGE_TYPE).cloned().collect();
        let today = beijing_date(now);
        let first = chrono::NaiveDate::from_ymd_opt(
            if chrono::Datelike::month(&today) == 1 { chrono::Datelike::year(&today) - 1 } else { chrono::Datelike::year(&today) },
            if chrono::Datelike::month(&today) == 1 { 12 } else { chrono::Datelike::month(&today) - 1 },
            1,
        )
        .unwrap_or(today);
        let case_ids = self.store().read(|c| points_db::some_case_ids(c, 50_000)).await?;
        let mut out = MerchantLoad { merchants, import_seconds, checks: 0, month: day_key(first) / 100 };
        for day in 0..28i64 {
            let date = first + chrono::Duration::days(day);
            let round = RoundRow {
                id: format!("frontage-{}", day_key(date)),
                name: format!("门前五包检查 {date}"),
                kind: RoundKind::Frontage,
                manual_id: manual.manual.id.clone(),
                starts_on: day_key(date),
                ends_on: day_key(date),
                seed: 0,
                based_on: None,
                created_by: console.name.clone(),
                created_at: now,
            };
            // The shops checked this day: every shop `checks_per_shop` times over 28 days.
            let picked: Vec<&String> =
                shops.iter().enumerate().filter(|(i, _)| (i + day as usize) % 28 < checks_per_shop).map(|(_, p)| p).collect();
            for batch in picked.chunks(5_000) {
                let (mut rps, mut rows, mut results, mut links) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
                for (k, point) in batch.iter().enumerate() {
                    let id = new_id();
                    let mut scored = Vec::new();
                    for d in &duties {
                        let fails = rng.random_bool(0.04);
                        let observation = if fails { Observation::Fail } else { Observation::Pass };
                        let Ok(score) = score_item(&d.scoring, d.standard, observation) else { continue };
                        let case_id = (fails && !case_ids.is_empty()).then(|| case_ids[rng.random_range(0..case_ids.len())].clone());
                        if let Some(case) = &case_id {
                            links.push((day_key(date), (*point).clone(), case.clone()));
                        }
                        results.push(ItemResultRow {
                            id: new_id(),
                            inspection_id: id.clone(),
                            item_code: d.code.clone(),
                            observation,
                            applicable: true,
                            score: score.score,
                            standard: score.standard,
                            failed: score.failed,
                            problems: score.problems as i64,
                            note: None,
                            case_id,
                        });
                        scored.push((score, false));
                    }
                    let s = score_point(&scored);
                    rps.push(RoundPointRow {
                        round_id: round.id.clone(),
                        point_id: (*point).clone(),
                        inspector_id: None,
                        items: None,
                        inspection_id: Some(id.clone()),
                        sort: k as i64,
                    });
                    rows.push(InspectionRow {
                        id,
                        round_id: round.id.clone(),
                        point_id: (*point).clone(),
                        inspector_id: console.person_id.clone(),
                        manual_id: manual.manual.id.clone(),
                        at: beijing_day_start(date) + 9 * 3_600_000 + k as i64 * 1_000,
                        day: day_key(date),
                        score: s.score,
                        standard: s.standard,
                        voided: s.voided,
                        problems: s.problems as i64,
                        failed_items: s.failed_items as i64,
                        note: None,
                    });
                }
                out.checks += rows.len();
                let mut failed_of: std::collections::HashMap<&str, Vec<String>> = std::collections::HashMap::new();
                for r in results.iter().filter(|r| r.failed) {
                    failed_of.entry(r.inspection_id.as_str()).or_default().push(r.item_code.clone());
                }
                let tally: Vec<db::CheckTally> = rows
                    .iter()
                    .map(|i| db::CheckTally {
                        day: i.day,
                        point_id: i.point_id.clone(),
                        failed_items: failed_of.remove(i.id.as_str()).unwrap_or_default(),
                        photo_id: None,
                    })
                    .collect();
                let r = round.clone();
                self.store()
                    .write(move |c| {
                        points_db::ensure_round(c, &r)?;
                        points_db::insert_batch(c, &[], &rps, &rows, &results)?;
                        points_db::link_cases(c, &links)?;
                        db::tally_checks(c, &tally)?;
                        Ok::<_, crate::error::AppError>(())
                    })
                    .await?;
                progress(out.checks);
            }
        }
        Ok(out)
    }
}
