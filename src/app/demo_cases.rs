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
use crate::domain::org::{OrgKind, OrgUnit};
use crate::error::AppResult;
use crate::store::cases::{self as db, CaseDetails, NewEvent};
use crate::store::{Conn, new_id, org, people};

const SEED: u64 = 11_29;
const MINUTE: i64 = 60_000;

/// The problems the seed names come up most.
const FREQUENT: [&str; 10] = ["0601", "0401", "0102", "0103", "0104", "0105", "0603", "0101", "0201", "0602"];

struct Ctx<'a> {
    cal: &'a WorkCalendar,
    now: i64,
    names: HashMap<String, String>,
}

/// Appends an event if it is not in the future; returns whether it happened.
fn step(
    ctx: &Ctx<'_>,
    log: &mut Vec<(Event, Option<String>)>,
    state: &mut Option<CaseState>,
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
    *state = Some(apply(state.as_ref(), &e)?);
    log.push((e, note.map(str::to_string)));
    Ok(true)
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

impl App {
    /// Generates `days` days of cases ending now. Returns how many were created.
    pub async fn seed_demo_cases(&self, days: i64) -> AppResult<usize> {
        let cal = self.calendar().clone();
        let now = self.now();
        let prefix = self.config().case_prefix.clone();
        let categories = self.categories().await?;
        self.store()
            .write(move |c| write_cases(c, &cal, now, days, &prefix, &categories))
            .await
    }
}

fn write_cases(c: &mut dyn Conn, cal: &WorkCalendar, now: i64, days: i64, prefix: &str, categories: &[Category]) -> AppResult<usize> {
    let mut rng = StdRng::seed_from_u64(SEED);
    let grids = org::grids(c, None)?;
    if grids.is_empty() {
        return Ok(0);
    }
    let units: HashMap<String, OrgUnit> = org::list_units(c, &[], None)?.into_iter().map(|u| (u.id.clone(), u)).collect();
    let by_code: HashMap<&str, &OrgUnit> = units.values().map(|u| (u.code.as_str(), u)).collect();
    let members = people::members(c, None, None)?;
    let mut holders: HashMap<(String, Role), Vec<String>> = HashMap::new();
    let mut names = HashMap::new();
    for m in &members {
        holders.entry((m.org_unit_id.clone(), m.role)).or_default().push(m.person_id.clone());
        names.insert(m.person_id.clone(), m.name.clone());
    }
    let someone = |unit: &str, role: Role| holders.get(&(unit.to_string(), role)).and_then(|v| v.first()).cloned();
    let dispatcher = members.iter().find(|m| m.role == Role::Dispatcher).map(|m| m.person_id.clone());
    let inspector = members.iter().find(|m| m.role == Role::Inspector).map(|m| m.person_id.clone());
    let active: Vec<&Category> = categories.iter().filter(|c| c.active).collect();
    let ctx = Ctx { cal, now, names };
    let today = beijing_date(now);
    let mut created = 0;
    for back in (0..days).rev() {
        let day = today - chrono::Duration::days(back);
        let day_start = beijing_day_start(day);
        let weekend = !cal.is_working_day(day);
        let count = if weekend { rng.random_range(15..30) } else { rng.random_range(40..70) };
        for _ in 0..count {
            let reported_at = day_start + rng.random_range(7 * 60..20 * 60) * MINUTE;
            if reported_at > now {
                continue;
            }
            let cat = if rng.random_bool(0.6) {
                let code = FREQUENT[rng.random_range(0..FREQUENT.len())];
                active.iter().find(|c| c.code == code).copied().unwrap_or(active[0])
            } else {
                active[rng.random_range(0..active.len())]
            };
            let g = &grids[rng.random_range(0..grids.len())];
            // A random convex combination of a grid's corners lies inside it (demo grids are convex).
            let Some(shape) = parse_shape(&g.geometry) else { continue };
            let corners: Vec<_> = shape.exterior_coords_iter().take(4).collect();
            let weights: Vec<f64> = corners.iter().map(|_| rng.random_range(0.05..1.0)).collect();
            let total: f64 = weights.iter().sum();
            let lon = corners.iter().zip(&weights).map(|(p, w)| p.x * w).sum::<f64>() / total;
            let lat = corners.iter().zip(&weights).map(|(p, w)| p.y * w).sum::<f64>() / total;
            let worker = someone(&g.unit.id, Role::GridWorker);
            let source = match rng.random_range(0..100) {
                0..60 => Source::Patrol,
                60..80 => Source::Citizen,
                80..90 => Source::Inspection,
                90..95 => Source::Persuasion,
                _ => Source::Hotline,
            };
            let reporter = if source == Source::Citizen { None } else { worker.clone().or(inspector.clone()) };
            let self_handled = cat.tier == 1 && source == Source::Patrol && rng.random_bool(0.25);
            let mut log: Vec<(Event, Option<String>)> = Vec::new();
            let mut state: Option<CaseState> = None;
            let opened = EventData {
                tier: Some(cat.tier),
                self_handled,
                assignee_unit_id: self_handled.then(|| g.unit.id.clone()),
                ..Default::default()
            };
            step(&ctx, &mut log, &mut state, None, reported_at, reporter.as_deref(), opened, self_handled.then_some("现场已处置"))?;
            let mut t = reported_at;
            if self_handled {
                t += rng.random_range(60..600) * MINUTE;
                let verifier = inspector.as_deref().or(dispatcher.as_deref());
                step(&ctx, &mut log, &mut state, Some(Action::VerifyPass), t, verifier, EventData::default(), None)?;
            } else {
                t = cal.add_working_minutes(t, rng.random_range(5..40));
                if rng.random_bool(0.03) {
                    step(&ctx, &mut log, &mut state, Some(Action::Reject), t, dispatcher.as_deref(), EventData::default(), Some("不属于受理范围"))?;
                } else if step(&ctx, &mut log, &mut state, Some(Action::Register), t, dispatcher.as_deref(), EventData::default(), None)? {
                    let target = match cat.tier {
                        1 => Some(&g.unit),
                        2 => units.get(&g.community_id),
                        3 => units.get(&g.community_id).and_then(|cm| cm.parent_id.as_ref()).and_then(|p| units.get(p)),
                        _ => cat.department.as_deref().and_then(|d| by_code.get(d).copied()),
                    };
                    let target = target.or_else(|| units.values().find(|u| u.kind == OrgKind::Subdistrict));
                    if let Some(unit) = target {
                        run_dispatched(&ctx, &mut rng, &mut log, &mut state, t, unit, cat, g.unit.id.as_str(), &holders, dispatcher.as_deref(), worker.as_deref())?;
                    }
                }
            }
            let Some(state) = state else { continue };
            let day_key = day.format("%Y%m%d").to_string();
            let seq = db::next_counter(c, &format!("case:{day_key}"))?;
            let details = CaseDetails {
                id: new_id(),
                number: format!("{prefix}{day_key}-{seq:04}"),
                category_code: cat.code.clone(),
                source,
                description: format!("{}:{}附近发现{}", g.unit.name, ["路口", "楼下", "门前", "绿化带旁", "小区入口"][rng.random_range(0..5)], cat.name),
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
            db::insert_case(c, &details, &state)?;
            for (i, (e, note)) in log.iter().enumerate() {
                let actor_name = e.actor_id.as_ref().and_then(|a| ctx.names.get(a)).map(String::as_str);
                db::insert_event(
                    c,
                    NewEvent { case_id: &details.id, seq: i as i64 + 1, event: e, actor_name, note: note.as_deref(), public: true },
                )?;
            }
            created += 1;
        }
    }
    Ok(created)
}

/// From dispatch to closure, with the delays and slips real units have.
#[allow(clippy::too_many_arguments)]
fn run_dispatched(
    ctx: &Ctx<'_>,
    rng: &mut StdRng,
    log: &mut Vec<(Event, Option<String>)>,
    state: &mut Option<CaseState>,
    mut t: i64,
    unit: &OrgUnit,
    cat: &Category,
    grid_id: &str,
    holders: &HashMap<(String, Role), Vec<String>>,
    dispatcher: Option<&str>,
    grid_worker: Option<&str>,
) -> AppResult<()> {
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
    if !step(ctx, log, state, Some(Action::Dispatch), t, dispatcher, dispatch_data(ctx, t, unit, cat), None)? {
        return Ok(());
    }
    let mut rounds = 0;
    loop {
        rounds += 1;
        let dispatched = t;
        let accept_fraction = if rng.random_bool(0.85) { rng.random_range(0.1..0.9) } else { rng.random_range(1.1..2.0) };
        t = within(ctx, dispatched, cat.response_minutes, accept_fraction);
        if !step(ctx, log, state, Some(Action::Accept), t, handler, EventData::default(), None)? {
            return Ok(());
        }
        if rounds == 1 && rng.random_bool(0.05) {
            let ask = t + 20 * MINUTE;
            let data = EventData { minutes: Some(450), ..Default::default() };
            if !step(ctx, log, state, Some(Action::RequestExtension), ask, handler, data, Some("需协调商户,申请延期一天"))? {
                return Ok(());
            }
            let base = state.as_ref().and_then(|s| s.handling_deadline).unwrap_or(ask);
            let data = EventData { handling_deadline: Some(ctx.cal.add_working_minutes(base, 450)), ..Default::default() };
            if !step(ctx, log, state, Some(Action::ApproveExtension), ask + 30 * MINUTE, dispatcher, data, None)? {
                return Ok(());
            }
        }
        let handle_fraction = if rng.random_bool(0.86) { rng.random_range(0.2..0.95) } else { rng.random_range(1.05..1.6) };
        t = within(ctx, dispatched, cat.handling_minutes, handle_fraction).max(t + 10 * MINUTE);
        if !step(ctx, log, state, Some(Action::Handle), t, handler, EventData::default(), Some("已处置完毕"))? {
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
            if !step(ctx, log, state, Some(Action::VerifyFail), t, verifier, data, Some("现场核查未整改到位"))? {
                return Ok(());
            }
            continue;
        }
        step(ctx, log, state, Some(Action::VerifyPass), t, verifier, EventData::default(), None)?;
        return Ok(());
    }
}
