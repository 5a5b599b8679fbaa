//! The demo's 对标对表: about 130 inspection points over the nine communities and a season of
//! weekly rounds — inspections and unannounced visits drawing points by type, each followed
//! a week later by a re-check (回头看) — with failures that open cases, cases that are
//! dispatched and handled (not all of them well), and re-checks that close or rework them.
//! Communities differ in how well they keep up and everyone gets a little better as the
//! season goes on, so rankings, trends and the shortfall list have something to say.
//! Seeded: the same season on every run (relative to today).

use std::collections::{BTreeMap, HashMap};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::App;
use super::cases::ActInput;
use super::inspections::{ItemInput, PointDraft, RoundPlan, Selection, SubmitInput};
use crate::domain::authz::{Actor, Grant, Role};
use crate::domain::case::{Action, Status};
use crate::domain::coords::LatLon;
use crate::domain::inspection::{Observation, RoundKind, Scoring};
use crate::domain::org::OrgKind;
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use crate::store::people;

const SEED: u64 = 20_261_202;

/// A drawn street scene (sky, buildings, pavement and a clutter of boxes), JPEG, standing in
/// for an inspector's photo of a problem.
pub(crate) fn demo_scene(rng: &mut StdRng) -> Vec<u8> {
    let (w, h) = (480u32, 360u32);
    let horizon = rng.random_range(120..170);
    let buildings: Vec<(u32, u32, [u8; 3])> = (0..5)
        .map(|k| {
            (
                k * 100 + rng.random_range(0..20),
                rng.random_range(40..horizon - 10),
                [rng.random_range(150..210), rng.random_range(140..190), rng.random_range(120..170)],
            )
        })
        .collect();
    let clutter: Vec<(u32, u32, u32, u32, [u8; 3])> = (0..rng.random_range(3..9))
        .map(|_| {
            let (x, y) = (rng.random_range(0..w - 60), rng.random_range(horizon + 40..h - 30));
            (
                x,
                y,
                rng.random_range(20..70),
                rng.random_range(15..40),
                [rng.random_range(40..240), rng.random_range(40..200), rng.random_range(20..160)],
            )
        })
        .collect();
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        if let Some((_, _, _, _, c)) = clutter.iter().find(|(cx, cy, cw, ch, _)| x >= *cx && x < cx + cw && y >= *cy && y < cy + ch) {
            return image::Rgb(*c);
        }
        if y < horizon {
            if let Some((_, top, c)) = buildings.iter().find(|(bx, top, _)| x >= *bx && x < bx + 80 && y >= *top) {
                let window = (x % 16 < 7) && (y.saturating_sub(*top) % 18 < 8);
                return image::Rgb(if window { [90, 110, 130] } else { *c });
            }
            let t = y as f32 / horizon as f32;
            return image::Rgb([(150.0 + 60.0 * t) as u8, (190.0 + 40.0 * t) as u8, 235]);
        }
        let shade = 110 + ((x / 40 + y / 40) % 2) as u8 * 12;
        image::Rgb([shade, shade, shade + 6])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    let _ = img.write_to(&mut out, image::ImageFormat::Jpeg);
    out.into_inner()
}
const DAY: i64 = 86_400_000;

/// Names the demo gives places, per point type.
const ROADS: [&str; 9] = ["开元大街", "纬二路", "经一路", "澄波湖路", "富阳街", "迎宾路", "银河路", "汇鑫大道", "龙海路"];
const COMPOUNDS: [&str; 6] = ["花园", "家园", "小区", "家属院", "新村", "佳苑"];
const LANES: [&str; 4] = ["东巷", "西巷", "后街", "胡同"];

/// How the demo went.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct InspectionDemo {
    pub points: usize,
    pub rounds: usize,
    pub inspections: usize,
    pub cases: usize,
}

impl App {
    pub(crate) async fn demo_actor(&self, username: &str) -> AppResult<Actor> {
        let u = username.to_string();
        self.store()
            .read(move |c| {
                let creds = people::credentials(c, &u)?.ok_or(AppError::Internal(format!("demo login {u} missing")))?;
                let name = people::person_name(c, &creds.person_id)?.unwrap_or_default();
                let grants = people::grants(c, &creds.person_id)?;
                Ok(Actor::person(creds.person_id, name, grants))
            })
            .await
    }

    /// Someone who handles what is assigned to `unit_id` (its grid worker, community admin,
    /// department handler, or a dispatcher for the subdistrict).
    pub(crate) async fn demo_handler(&self, unit_id: &str) -> AppResult<Option<Actor>> {
        let dir = self.directory();
        let Some(unit) = dir.unit(unit_id).cloned() else { return Ok(None) };
        let role = match unit.kind {
            OrgKind::Grid => Role::GridWorker,
            OrgKind::Community => Role::CommunityAdmin,
            OrgKind::Department => Role::DepartmentHandler,
            _ => Role::Dispatcher,
        };
        let path = unit.path.clone();
        let member = self
            .store()
            .read(move |c| Ok::<_, AppError>(people::members(c, Some(role), Some(&[path.as_str()]))?.into_iter().next()))
            .await?;
        Ok(member
            .map(|m| Actor::person(m.person_id, m.name, vec![Grant { role, org_unit_id: m.org_unit_id, org_path: unit.path.clone() }])))
    }

    /// The demo's points; returns how many.
    async fn seed_demo_points(&self) -> AppResult<usize> {
        let dir = self.directory();
        let mut drafts = Vec::new();
        let mut communities: Vec<_> = dir.units().filter(|u| u.kind == OrgKind::Community).cloned().collect();
        communities.sort_by(|a, b| a.code.cmp(&b.code));
        for (k, community) in communities.iter().enumerate() {
            let mut grids: Vec<_> = dir.grids().filter(|g| g.community.code == community.code).map(|g| g.code.clone()).collect();
            grids.sort();
            let short: String = community.name.chars().take(2).collect();
            let mut slot = 0usize;
            let mut at = |dir: &crate::app::GridDirectory| {
                slot += 1;
                dir.interior_point(&grids[(slot * 7) % grids.len()])
            };
            let add = |drafts: &mut Vec<PointDraft>, name: String, kind: &str, at: Option<LatLon>| {
                drafts.push(PointDraft { name, point_type: kind.into(), at, unit: community.code.clone(), address: None })
            };
            for c in 0..3 {
                add(&mut drafts, format!("{short}{}", COMPOUNDS[(k + c) % COMPOUNDS.len()]), "居民小区", at(&dir));
            }
            for c in 0..2 {
                add(&mut drafts, format!("{}{}", ROADS[k], LANES[(k + c) % LANES.len()]), "背街小巷", at(&dir));
            }
            add(&mut drafts, format!("{}({}段)", ROADS[k], short), "主次干道", at(&dir));
            add(&mut drafts, format!("{}{short}站", ROADS[k]), "公交站台", at(&dir));
            add(&mut drafts, format!("{}{}站", ROADS[(k + 1) % ROADS.len()], short), "公交站台", at(&dir));
            add(&mut drafts, format!("{}新时代文明实践站", community.name), "新时代文明实践站", at(&dir));
            add(&mut drafts, format!("{short}公厕"), "公共厕所", at(&dir));
            add(&mut drafts, format!("{short}小学周边"), "学校周边", at(&dir));
            add(&mut drafts, format!("{short}家常菜馆"), "餐饮店", at(&dir));
            if k % 2 == 0 {
                add(&mut drafts, format!("{short}便民超市"), "商场超市", at(&dir));
            }
        }
        let somewhere = |i: usize| {
            let mut codes: Vec<_> = dir.grids().map(|g| g.code.clone()).collect();
            codes.sort();
            dir.interior_point(&codes[(i * 37) % codes.len()])
        };
        let shared: [(&str, &str, &str); 10] = [
            ("济阳农贸市场", "农贸市场", "BM03"),
            ("开元早市", "农贸市场", "BM03"),
            ("澄波湖公园", "公园广场", "BM05"),
            ("文化广场", "公园广场", "BM05"),
            ("济阳区人民医院", "医院", "BB03"),
            ("银河路棚改项目工地", "建筑工地", "BM04"),
            ("富阳街道路改造工地", "建筑工地", "BM04"),
            ("济阳街道便民服务中心", "政务服务大厅", "370115001"),
            ("万达广场", "商场超市", "BB06"),
            ("汇鑫购物中心", "商场超市", "BB06"),
        ];
        for (i, (name, kind, unit)) in shared.iter().enumerate() {
            drafts.push(PointDraft {
                name: name.to_string(),
                point_type: kind.to_string(),
                at: somewhere(i + 1),
                unit: unit.to_string(),
                address: None,
            });
        }
        for (name, unit) in [("12345 热线拨打测试", "370115001"), ("12315 消费投诉测试", "BM03"), ("创城知晓率街头询问", "370115001")]
        {
            drafts.push(PointDraft { name: name.into(), point_type: "模拟测试".into(), at: None, unit: unit.into(), address: None });
        }
        let n = drafts.len();
        self.add_points(&Actor::console(), drafts, Lang::ZhCn).await?;
        Ok(n)
    }

    /// The demo season: `weeks` weeks of rounds ending this week (see the module notes).
    pub async fn seed_demo_inspections(&self, weeks: usize) -> AppResult<InspectionDemo> {
        let mut out = InspectionDemo { points: self.seed_demo_points().await?, ..Default::default() };
        let inspector = self.demo_actor("inspector").await?;
        let dispatcher = self.demo_actor("dispatcher").await?;
        let mut rng = StdRng::seed_from_u64(SEED);
        let manual = self.manual(&Actor::console(), None).await?;
        let items_of: HashMap<String, Vec<_>> = manual.items.iter().fold(HashMap::new(), |mut m, i| {
            m.entry(i.point_type.clone()).or_insert_with(Vec::new).push(i.clone());
            m
        });
        // How hard each item is to keep up, and how well each community keeps up.
        let difficulty: HashMap<String, f64> = manual.items.iter().map(|i| (i.code.clone(), rng.random_range(0.02..0.35))).collect();
        let dir = self.directory();
        let mut communities: Vec<_> = dir.units().filter(|u| u.kind == OrgKind::Community).map(|u| u.id.clone()).collect();
        communities.sort();
        let care: HashMap<String, f64> =
            communities.iter().enumerate().map(|(i, id)| (id.clone(), 0.55 + 0.1 * ((i * 5) % 9) as f64)).collect();
        let today = crate::domain::calendar::beijing_date(self.now());
        let monday = today - chrono::Duration::days(chrono::Datelike::weekday(&today).num_days_from_monday() as i64);
        let points_all = self.points(&Actor::console(), None).await?;
        let mut quotas: BTreeMap<String, usize> = BTreeMap::new();
        for p in &points_all {
            *quotas.entry(p.point.point_type.clone()).or_default() += 1;
        }
        // About a fifth of each type, at least one.
        for v in quotas.values_mut() {
            *v = (*v / 5).max(1);
        }
        let mut previous: Option<String> = None;
        for w in 0..weeks {
            let start = monday - chrono::Duration::weeks((weeks - 1 - w) as i64);
            let end = start + chrono::Duration::days(6);
            let progress = w as f64 / weeks.max(1) as f64;
            let (kind, selection, name) = match (&previous, w % 2) {
                (Some(p), 1) => (RoundKind::Recheck, Selection::Recheck { round: p.clone() }, format!("第 {} 周回头看", w + 1)),
                _ => {
                    let kind = if w + 2 == weeks {
                        RoundKind::Mock
                    } else if w % 4 == 2 {
                        RoundKind::Unannounced
                    } else {
                        RoundKind::Inspection
                    };
                    let label = match kind {
                        RoundKind::Unannounced => "暗访",
                        RoundKind::Mock => "模拟测评",
                        _ => "创城督查",
                    };
                    (
                        kind,
                        Selection::Drawn { quotas: quotas.clone(), seed: Some(SEED + w as u64), within: None },
                        format!("第 {} 周{label}", w + 1),
                    )
                }
            };
            let plan = RoundPlan { name, kind, starts_on: start, ends_on: end, selection, inspectors: vec![inspector.person_id.clone()] };
            let round = match self.plan_round(&Actor::console(), plan).await {
                Ok(r) => r,
                Err(AppError::Invalid(_)) => continue,
                Err(e) => return Err(e),
            };
            out.rounds += 1;
            let round_start = crate::domain::calendar::beijing_day_start(start) + 9 * 3_600_000;
            for (n, rp) in round.points.iter().enumerate() {
                let at = round_start + (n as i64 % 3) * DAY + (n as i64 / 3) * 20 * 60_000;
                if at > self.now() {
                    continue;
                }
                let community = rp.point.point.community_id.clone().unwrap_or_default();
                let keep = care.get(&community).copied().unwrap_or(0.7);
                let items = items_of.get(&rp.point.point.point_type).cloned().unwrap_or_default();
                let wanted: Vec<_> = match &rp.items {
                    Some(codes) => items.iter().filter(|i| codes.contains(&i.code)).cloned().collect(),
                    None => items,
                };
                let point_name = rp.point.point.name.clone();
                let inputs = wanted
                    .iter()
                    .map(|i| {
                        // A simulated test point takes only its own test (the 12345 call is
                        // not the 12315 complaint); the others do not apply there.
                        if rp.point.simulated && !simulated_test_matches(&point_name, &i.text) {
                            return (i.code.clone(), Observation::NotApplicable, false);
                        }
                        // A re-check finds most failures fixed; an item fails less as the season
                        // goes on and in communities that keep up.
                        let base = difficulty.get(&i.code).copied().unwrap_or(0.1) * (1.3 - keep) * (1.0 - 0.5 * progress);
                        let p_fail = if kind == RoundKind::Recheck { 0.3 } else { base };
                        let fails = rng.random_bool(p_fail.clamp(0.0, 0.95));
                        let observation = match &i.scoring {
                            Scoring::PassFail => {
                                if fails {
                                    Observation::Fail
                                } else {
                                    Observation::Pass
                                }
                            }
                            Scoring::PerProblem { .. } | Scoring::Grade { .. } => {
                                Observation::Problems { count: if fails { rng.random_range(1..4) } else { 0 } }
                            }
                            Scoring::Quantity { required, .. } => Observation::Found {
                                count: if fails { rng.random_range(0..*required) } else { *required + rng.random_range(0..3) },
                            },
                        };
                        (i.code.clone(), observation, fails)
                    })
                    .collect::<Vec<_>>();
                // Most failures are photographed (a drawn scene stands in for the camera).
                let mut inputs_with_photos = Vec::with_capacity(inputs.len());
                for (code, observation, fails) in inputs {
                    let mut photos = Vec::new();
                    if fails && rng.random_bool(0.6) {
                        let scene = demo_scene(&mut rng);
                        photos.push(self.upload_photo(Some(&inspector), scene).await?.record.id);
                    }
                    inputs_with_photos
                        .push(ItemInput { code, observation, note: fails.then(|| "现场检查发现问题".to_string()), photos });
                }
                let inputs = inputs_with_photos;
                let input = SubmitInput { items: inputs, note: None };
                let done = self.submit_inspection_at(&inspector, &round.round.id, &rp.point.point.id, input, None, at).await?;
                out.inspections += 1;
                // The cases it opened are registered and sent on; most are handled within days.
                for item in done.items.iter().filter(|i| i.case.as_ref().is_some_and(|c| c.status == Status::Reported)) {
                    let Some(case) = &item.case else { continue };
                    out.cases += 1;
                    let t0 = at + 30 * 60_000;
                    self.act_at(&dispatcher, &case.id, Action::Register, ActInput::default(), None, t0).await?;
                    let v = self.act_at(&dispatcher, &case.id, Action::Dispatch, ActInput::default(), None, t0 + 60_000).await?;
                    let Some(unit) = v.state.assignee_unit_id.clone() else { continue };
                    let t1 = t0 + rng.random_range(2..48) * 3_600_000;
                    if t1 > self.now() || rng.random_bool(0.1) {
                        continue;
                    }
                    let Some(handler) = self.demo_handler(&unit).await? else { continue };
                    self.act_at(&handler, &case.id, Action::Accept, ActInput::default(), None, t1).await?;
                    let note = ActInput { note: Some("已按督查要求整改".into()), ..Default::default() };
                    self.act_at(&handler, &case.id, Action::Handle, note, None, t1 + 2 * 3_600_000).await?;
                }
            }
            previous = if kind == RoundKind::Recheck { None } else { Some(round.round.id.clone()) };
        }
        // This week's inspection, planned and not yet begun: the inspector's to-do.
        if weeks > 0 {
            let plan = RoundPlan {
                name: format!("第 {weeks} 周创城督查"),
                kind: RoundKind::Inspection,
                starts_on: today,
                ends_on: monday + chrono::Duration::days(6),
                selection: Selection::Drawn { quotas: quotas.clone(), seed: Some(SEED + 1000), within: None },
                inspectors: vec![inspector.person_id.clone()],
            };
            self.plan_round(&Actor::console(), plan).await?;
            out.rounds += 1;
        }
        Ok(out)
    }
}

/// Whether a simulated-test item is the test a simulated point stands for (the demo's points
/// are named after their test: "12345 热线拨打测试", "12315 消费投诉测试", "创城知晓率街头询问").
fn simulated_test_matches(point_name: &str, item_text: &str) -> bool {
    ["12345", "12315", "询问", "网站"].iter().any(|k| point_name.contains(k) && item_text.contains(k))
}
