//! A realistic month of cases for the demo subdistrict, so desks and dashboards have
//! something true to show. Every case goes through the same state machine and event log as
//! live ones (`domain::case::apply`), with deadlines from the working-time calendar; cases
//! whose next step would lie in the future are left open where they are.

use std::collections::HashMap;

use geo::CoordsIter;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::App;
use super::grids::parse_shape;
use crate::domain::authz::Role;
use crate::domain::calendar::{WorkCalendar, beijing_date, beijing_day_start};
use crate::domain::case::{Action, CaseState, Event, EventData, Source, apply, tier_of};
use crate::domain::category::Category;
use crate::domain::indicators::TallyChanges;
use crate::domain::org::{OrgKind, OrgUnit};
use crate::error::AppResult;
use crate::store::cases::{self as db, CaseDetails, NewEvent};
use crate::store::{Conn, bulk, new_id, org, people, tallies};

const SEED: u64 = 11_29;

/// From this many generated cases on, a load drops and rebuilds the case indexes.
pub const BULK_FROM: usize = 50_000;
const MINUTE: i64 = 60_000;

/// The problems the seed names come up most.
const FREQUENT: [&str; 10] = ["0601", "0401", "0102", "0103", "0104", "0105", "0603", "0101", "0201", "0602"];

struct Ctx<'a> {
    cal: &'a WorkCalendar,
    now: i64,
}

/// Who acts on a dispatched case: the holders of each role per unit, the dispatcher and the
/// grid's own worker.
struct Who<'a> {
    holders: &'a HashMap<(String, Role), Vec<String>>,
    dispatcher: Option<&'a str>,
    grid_worker: Option<&'a str>,
}

/// A generated case's log so far and the state it projects to.
#[derive(Default)]
struct Trail {
    log: Vec<(Event, Option<String>)>,
    state: Option<CaseState>,
}

impl Trail {
    /// Appends an event if it is not in the future; returns whether it happened.
    fn step(
        &mut self,
        ctx: &Ctx<'_>,
        action: Option<Action>,
        at: i64,
        actor: Option<&str>,
        data: EventData,
        note: Option<&str>,
    ) -> AppResult<bool> {
        if at > ctx.now {
            return Ok(false);
        }
        let e = Event { action, at, actor_id: actor.map(str::to_string), data };
        self.state = Some(apply(self.state.as_ref(), &e)?);
        self.log.push((e, note.map(str::to_string)));
        Ok(true)
    }
}

fn dispatch_data(ctx: &Ctx<'_>, at: i64, unit: &OrgUnit, cat: &Category) -> EventData {
    EventData {
        assignee_unit_id: Some(unit.id.clone()),
        tier: tier_of(unit.kind),
        response_deadline: Some(ctx.cal.add_working_minutes(at, cat.response_minutes)),
        handling_deadline: Some(ctx.cal.add_working_minutes(at, cat.handling_minutes)),
        ..Default::default()
    }
}

/// A moment `fraction` of the way through the working time between `from` and `deadline`.
fn within(ctx: &Ctx<'_>, from: i64, minutes: i64, fraction: f64) -> i64 {
    ctx.cal.add_working_minutes(from, ((minutes as f64) * fraction).round() as i64)
}

/// One generated case: its row and its event log (with notes), ready to insert.
pub struct GeneratedCase {
    pub details: CaseDetails,
    pub state: CaseState,
    pub log: Vec<(Event, Option<String>)>,
}

/// Makes realistic cases over the grids of a store: categories, sources, tiers and the
/// delays and slips of real units, each case run through the state machine.
pub struct CaseFactory {
    cal: WorkCalendar,
    now: i64,
    prefix: String,
    names: HashMap<String, String>,
    grids: Vec<(org::GridRecord, Vec<geo::Coord<f64>>)>,
    units: HashMap<String, OrgUnit>,
    by_code: HashMap<String, String>,
    holders: HashMap<(String, Role), Vec<String>>,
    dispatcher: Option<String>,
    inspector: Option<String>,
    active: Vec<Category>,
}

impl CaseFactory {
    /// Reads the grids, units and people of the store; `None` when there are no grids.
    pub fn load(c: &mut dyn Conn, cal: &WorkCalendar, now: i64, prefix: &str, categories: &[Category]) -> AppResult<Option<CaseFactory>> {
        let grids: Vec<_> = org::grids(c, None)?
            .into_iter()
            .filter_map(|g| {
                let corners: Vec<_> = parse_shape(&g.geometry)?.exterior_coords_iter().take(4).collect();
                (!corners.is_empty()).then_some((g, corners))
            })
            .collect();
        let active: Vec<Category> = categories.iter().filter(|c| c.active).cloned().collect();
        if grids.is_empty() || active.is_empty() {
            return Ok(None);
        }
        let units: HashMap<String, OrgUnit> = org::list_units(c, &[], None)?.into_iter().map(|u| (u.id.clone(), u)).collect();
        let by_code = units.values().map(|u| (u.code.clone(), u.id.clone())).collect();
        let members = people::members(c, None, None)?;
        let mut holders: HashMap<(String, Role), Vec<String>> = HashMap::new();
        let mut names = HashMap::new();
        for m in &members {
            holders.entry((m.org_unit_id.clone(), m.role)).or_default().push(m.person_id.clone());
            names.insert(m.person_id.clone(), m.name.clone());
        }
        Ok(Some(CaseFactory {
            cal: cal.clone(),
            now,
            prefix: prefix.to_string(),
            names,
            grids,
            units,
            by_code,
            holders,
            dispatcher: members.iter().find(|m| m.role == Role::Dispatcher).map(|m| m.person_id.clone()),
            inspector: members.iter().find(|m| m.role == Role::Inspector).map(|m| m.person_id.clone()),
            active,
        }))
    }

    /// How many cases a day of this kind brings, at the demo subdistrict's rate.
    pub fn daily_count(&self, rng: &mut StdRng, day: chrono::NaiveDate) -> usize {
        if self.cal.is_working_day(day) { rng.random_range(40..70) } else { rng.random_range(15..30) }
    }

    /// A case reported at a random moment of `day` (07:00–20:00), `None` when that moment is
    /// still to come. It gets its number when it is inserted.
    pub fn make(&self, rng: &mut StdRng, day: chrono::NaiveDate) -> AppResult<Option<GeneratedCase>> {
        let reported_at = beijing_day_start(day) + rng.random_range(7 * 60..20 * 60) * MINUTE;
        if reported_at > self.now {
            return Ok(None);
        }
        let ctx = Ctx { cal: &self.cal, now: self.now };
        let cat = if rng.random_bool(0.6) {
            let code = FREQUENT[rng.random_range(0..FREQUENT.len())];
            self.active.iter().find(|c| c.code == code).unwrap_or(&self.active[0])
        } else {
            &self.active[rng.random_range(0..self.active.len())]
        };
        let (g, corners) = &self.grids[rng.random_range(0..self.grids.len())];
        // A random convex combination of a grid's corners lies inside it (demo grids are convex).
        let weights: Vec<f64> = corners.iter().map(|_| rng.random_range(0.05..1.0)).collect();
        let total: f64 = weights.iter().sum();
        let lon = corners.iter().zip(&weights).map(|(p, w)| p.x * w).sum::<f64>() / total;
        let lat = corners.iter().zip(&weights).map(|(p, w)| p.y * w).sum::<f64>() / total;
        let someone = |unit: &str, role: Role| self.holders.get(&(unit.to_string(), role)).and_then(|v| v.first()).cloned();
        let worker = someone(&g.unit.id, Role::GridWorker);
        let (dispatcher, inspector) = (self.dispatcher.as_deref(), self.inspector.as_deref());
        let source = match rng.random_range(0..100) {
            0..60 => Source::Patrol,
            60..80 => Source::Citizen,
            80..90 => Source::Inspection,
            90..95 => Source::Persuasion,
            _ => Source::Hotline,
        };
        let reporter = if source == Source::Citizen { None } else { worker.as_deref().or(inspector) };
        let self_handled = cat.tier == 1 && source == Source::Patrol && rng.random_bool(0.25);
        let mut trail = Trail::default();
        let opened = EventData {
            tier: Some(cat.tier),
            self_handled,
            assignee_unit_id: self_handled.then(|| g.unit.id.clone()),
            ..Default::default()
        };
        trail.step(&ctx, None, reported_at, reporter, opened, self_handled.then_some("现场已处置"))?;
        let mut t = reported_at;
        if self_handled {
            t += rng.random_range(60..600) * MINUTE;
            trail.step(&ctx, Some(Action::VerifyPass), t, inspector.or(dispatcher), EventData::default(), None)?;
        } else {
            t = self.cal.add_working_minutes(t, rng.random_range(5..40));
            if rng.random_bool(0.03) {
                trail.step(&ctx, Some(Action::Reject), t, dispatcher, EventData::default(), Some("不属于受理范围"))?;
            } else if trail.step(&ctx, Some(Action::Register), t, dispatcher, EventData::default(), None)? {
                let units = &self.units;
                let target = match cat.tier {
                    1 => Some(&g.unit),
                    2 => units.get(&g.community_id),
                    3 => units.get(&g.community_id).and_then(|cm| cm.parent_id.as_ref()).and_then(|p| units.get(p)),
                    _ => cat.department.as_deref().and_then(|d| self.by_code.get(d)).and_then(|id| units.get(id)),
                };
                let target = target.or_else(|| units.values().find(|u| u.kind == OrgKind::Subdistrict));
                if let Some(unit) = target {
                    let who = Who { holders: &self.holders, dispatcher, grid_worker: worker.as_deref() };
                    run_dispatched(&ctx, rng, &mut trail, t, unit, cat, g.unit.id.as_str(), &who)?;
                }
            }
        }
        let Trail { log, state } = trail;
        let Some(state) = state else { return Ok(None) };
        let details = CaseDetails {
            id: new_id(),
            number: String::new(),
            category_code: cat.code.clone(),
            source,
            description: format!(
                "{}:{}附近发现{}",
                g.unit.name,
                ["路口", "楼下", "门前", "绿化带旁", "小区入口"][rng.random_range(0..5)],
                cat.name
            ),
            lat,
            lon,
            address: None,
            grid_id: g.unit.id.clone(),
            community_id: g.community_id.clone(),
            grid_path: g.unit.path.clone(),
            reporter_name: (source == Source::Citizen).then(|| "市民".to_string()),
            reporter_phone: (source == Source::Citizen).then(|| format!("139{:08}", rng.random_range(0..100_000_000u32))),
            priority: 2,
            reporter_email: None,
        };
        Ok(Some(GeneratedCase { details, state, log }))
    }

    /// Numbers generated cases (per day of report, after the cases already there) and writes
    /// them and their event logs in a few multi-row statements.
    pub fn insert(&self, c: &mut dyn Conn, cases: &mut [GeneratedCase]) -> AppResult<()> {
        let mut per_day: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
        for g in cases.iter() {
            *per_day.entry(beijing_date(g.state.reported_at).format("%Y%m%d").to_string()).or_default() += 1;
        }
        let mut next: HashMap<String, i64> = HashMap::new();
        for (day, n) in per_day {
            let last = db::numbers::take_numbers(c, &format!("case:{day}"), n)?;
            next.insert(day, last - n + 1);
        }
        for g in cases.iter_mut() {
            let day = beijing_date(g.state.reported_at).format("%Y%m%d").to_string();
            let seq = next.get_mut(&day).map(|s| {
                *s += 1;
                *s - 1
            });
            g.details.number = format!("{}{day}-{:04}", self.prefix, seq.unwrap_or(0));
        }
        let rows: Vec<(&CaseDetails, &CaseState)> = cases.iter().map(|g| (&g.details, &g.state)).collect();
        db::insert_cases(c, &rows)?;
        let events: Vec<NewEvent<'_>> = cases
            .iter()
            .flat_map(|g| {
                g.log.iter().enumerate().map(move |(i, (e, note))| NewEvent {
                    case_id: &g.details.id,
                    seq: i as i64 + 1,
                    event: e,
                    actor_name: e.actor_id.as_ref().and_then(|a| self.names.get(a)).map(String::as_str),
                    note: note.as_deref(),
                    public: true,
                })
            })
            .collect();
        db::insert_events(c, &events)?;
        let mut counts = TallyChanges::default();
        for g in cases.iter() {
            counts.record(&self.cal, &g.details.grid_id, &g.details.category_code, None, &g.state);
        }
        tallies::apply_changes(c, &counts)?;
        Ok(())
    }
}

impl App {
    /// Generates `days` days of cases ending now, at the demo subdistrict's daily rate.
    /// Returns how many were created.
    pub async fn seed_demo_cases(&self, days: i64) -> AppResult<usize> {
        let cal = self.calendar().clone();
        let now = self.now();
        let prefix = self.config().case_prefix.clone();
        let categories = self.categories().await?;
        self.store()
            .write(move |c| {
                let Some(factory) = CaseFactory::load(c, &cal, now, &prefix, &categories)? else { return Ok(0) };
                let mut rng = StdRng::seed_from_u64(SEED);
                let today = beijing_date(now);
                let mut made = Vec::new();
                for back in (0..days).rev() {
                    let day = today - chrono::Duration::days(back);
                    for _ in 0..factory.daily_count(&mut rng, day) {
                        made.extend(factory.make(&mut rng, day)?);
                    }
                }
                for chunk in made.chunks_mut(500) {
                    factory.insert(c, chunk)?;
                }
                Ok(made.len())
            })
            .await
    }

    /// Generates `total` cases spread over the `days` days ending now (working days busier,
    /// as in the demo), in write batches of `batch` cases; `progress` hears how many are done.
    /// For load tests: a year of a whole city's cases in minutes. From [`BULK_FROM`] cases on,
    /// the case tables' secondary indexes are dropped for the load and built again after it
    /// (see `store::bulk`), also when the load fails half-way.
    pub async fn generate_cases(&self, total: usize, days: i64, batch: usize, progress: impl Fn(usize)) -> AppResult<usize> {
        if total < BULK_FROM {
            return self.generate_batches(total, days, batch, progress).await;
        }
        self.store().write(|c| bulk::suspend_indexes(c, &bulk::CASE_TABLES)).await?;
        let made = self.generate_batches(total, days, batch, progress).await;
        let rebuilt = self.store().write(bulk::restore_indexes).await;
        let made = made?;
        rebuilt?;
        Ok(made)
    }

    async fn generate_batches(&self, total: usize, days: i64, batch: usize, progress: impl Fn(usize)) -> AppResult<usize> {
        let cal = self.calendar().clone();
        let now = self.now();
        let prefix = self.config().case_prefix.clone();
        let categories = self.categories().await?;
        let factory = self.store().read(move |c| CaseFactory::load(c, &cal, now, &prefix, &categories)).await?;
        let Some(factory) = factory else { return Ok(0) };
        let factory = std::sync::Arc::new(factory);
        let today = beijing_date(now);
        // Each day's share: working days weigh 2.2, rest days 1 (the demo's 55 vs 22 a day).
        let weights: Vec<(chrono::NaiveDate, f64)> = (0..days.max(1))
            .rev()
            .map(|back| {
                let day = today - chrono::Duration::days(back);
                (day, if self.calendar().is_working_day(day) { 2.2 } else { 1.0 })
            })
            .collect();
        let sum: f64 = weights.iter().map(|w| w.1).sum();
        let mut plan: Vec<(chrono::NaiveDate, usize)> = Vec::new();
        let mut assigned = 0usize;
        for (i, (day, w)) in weights.iter().enumerate() {
            let n = if i + 1 == weights.len() { total - assigned } else { ((total as f64) * w / sum).round() as usize };
            let n = n.min(total - assigned);
            assigned += n;
            plan.push((*day, n));
        }
        let mut done = 0usize;
        let mut seed = SEED;
        // One batch is generated while the previous one is written.
        let mut pending: Option<tokio::task::JoinHandle<AppResult<usize>>> = None;
        for (day, n) in plan {
            let mut left = n;
            while left > 0 {
                let take = left.min(batch.max(1));
                left -= take;
                seed += 1;
                let f = factory.clone();
                let made = tokio::task::spawn_blocking(move || {
                    let mut rng = StdRng::seed_from_u64(seed);
                    let mut made = Vec::with_capacity(take);
                    for _ in 0..take {
                        made.extend(f.make(&mut rng, day)?);
                    }
                    Ok::<_, crate::error::AppError>(made)
                })
                .await
                .map_err(|_| crate::error::AppError::Internal("case generation panicked".into()))??;
                if let Some(p) = pending.take() {
                    done += p.await.map_err(|_| crate::error::AppError::Internal("a batch write panicked".into()))??;
                    progress(done);
                }
                let (store, f) = (self.store().clone(), factory.clone());
                pending = Some(tokio::spawn(async move {
                    let mut made = made;
                    let n = made.len();
                    store.write(move |c| f.insert(c, &mut made).map(|_| n)).await
                }));
            }
        }
        if let Some(p) = pending.take() {
            done += p.await.map_err(|_| crate::error::AppError::Internal("a batch write panicked".into()))??;
            progress(done);
        }
        Ok(done)
    }
}

/// From dispatch to closure, with the delays and slips real units have.
#[allow(clippy::too_many_arguments)]
fn run_dispatched(
    ctx: &Ctx<'_>,
    rng: &mut StdRng,
    trail: &mut Trail,
    mut t: i64,
    unit: &OrgUnit,
    cat: &Category,
    grid_id: &str,
    who: &Who<'_>,
) -> AppResult<()> {
    let Who { holders, dispatcher, grid_worker } = *who;
    let handler_role = match unit.kind {
        OrgKind::Grid => Role::GridWorker,
        OrgKind::Community => Role::CommunityAdmin,
        OrgKind::Department => Role::DepartmentHandler,
        _ => Role::Dispatcher,
    };
    let handler = holders.get(&(unit.id.clone(), handler_role)).and_then(|v| v.first()).map(String::as_str).or(dispatcher);
    // Verification is by the grid's worker, unless the worker handled it; then the dispatcher.
    let verifier = if unit.id == grid_id { dispatcher } else { grid_worker.or(dispatcher) };
    t = ctx.cal.add_working_minutes(t, rng.random_range(3..30));
    if !trail.step(ctx, Some(Action::Dispatch), t, dispatcher, dispatch_data(ctx, t, unit, cat), None)? {
        return Ok(());
    }
    let mut rounds = 0;
    loop {
        rounds += 1;
        let dispatched = t;
        let accept_fraction = if rng.random_bool(0.85) { rng.random_range(0.1..0.9) } else { rng.random_range(1.1..2.0) };
        t = within(ctx, dispatched, cat.response_minutes, accept_fraction);
        if !trail.step(ctx, Some(Action::Accept), t, handler, EventData::default(), None)? {
            return Ok(());
        }
        if rounds == 1 && rng.random_bool(0.05) {
            let ask = t + 20 * MINUTE;
            let data = EventData { minutes: Some(450), ..Default::default() };
            if !trail.step(ctx, Some(Action::RequestExtension), ask, handler, data, Some("需协调商户,申请延期一天"))? {
                return Ok(());
            }
            let base = trail.state.as_ref().and_then(|s| s.handling_deadline).unwrap_or(ask);
            let data = EventData { handling_deadline: Some(ctx.cal.add_working_minutes(base, 450)), ..Default::default() };
            if !trail.step(ctx, Some(Action::ApproveExtension), ask + 30 * MINUTE, dispatcher, data, None)? {
                return Ok(());
            }
        }
        let handle_fraction = if rng.random_bool(0.86) { rng.random_range(0.2..0.95) } else { rng.random_range(1.05..1.6) };
        t = within(ctx, dispatched, cat.handling_minutes, handle_fraction).max(t + 10 * MINUTE);
        if !trail.step(ctx, Some(Action::Handle), t, handler, EventData::default(), Some("已处置完毕"))? {
            return Ok(());
        }
        t = ctx.cal.add_working_minutes(t, rng.random_range(30..240));
        if rounds < 3 && rng.random_bool(0.12) {
            let data = EventData {
                assignee_unit_id: Some(unit.id.clone()),
                response_deadline: Some(ctx.cal.add_working_minutes(t, cat.response_minutes)),
                handling_deadline: Some(ctx.cal.add_working_minutes(t, cat.handling_minutes)),
                ..Default::default()
            };
            if !trail.step(ctx, Some(Action::VerifyFail), t, verifier, data, Some("现场核查未整改到位"))? {
                return Ok(());
            }
            continue;
        }
        trail.step(ctx, Some(Action::VerifyPass), t, verifier, EventData::default(), None)?;
        return Ok(());
    }
}

impl App {
    /// `n` generated cases over the last `days` days, not written anywhere (for measuring a
    /// bare insert of the same rows).
    pub async fn sample_cases(&self, n: usize, days: i64) -> AppResult<Vec<GeneratedCase>> {
        let cal = self.calendar().clone();
        let now = self.now();
        let prefix = self.config().case_prefix.clone();
        let categories = self.categories().await?;
        let factory = self.store().read(move |c| CaseFactory::load(c, &cal, now, &prefix, &categories)).await?;
        let Some(factory) = factory else { return Ok(Vec::new()) };
        let today = beijing_date(now);
        let mut rng = StdRng::seed_from_u64(SEED ^ 0xbe7c);
        let mut out = Vec::with_capacity(n);
        let mut i = 0i64;
        while out.len() < n && i < (n as i64) * 4 {
            let day = today - chrono::Duration::days(1 + rng.random_range(0..days.max(1)));
            if let Some(mut g) = factory.make(&mut rng, day)? {
                g.details.number = format!("SAMPLE-{i:08}");
                out.push(g);
            }
            i += 1;
        }
        Ok(out)
    }
}
