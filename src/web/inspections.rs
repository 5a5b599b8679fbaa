//! 对标对表 on the desk: rankings with the composite 红榜/黑榜 and its weights, the shortfall
//! list, rounds (plan, draw, assign, progress), points (map, list, import) and the manual
//! (versions, items, import). Every table links its Excel export.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::NaiveDate;
use minijinja::context;
use minijinja::value::Serde;
use serde::{Deserialize, Serialize};

use super::inspect::{beijing, period_text, scoring_text};
use super::svg::{MapPoint, RAMP_ON_TIME, point_map, rate_bars};
use super::{Page, PageForm, error_page, page, percent};
use crate::app::App;
use crate::app::inspections::{RankBy, RoundPlan, Selection, Weights};
use crate::domain::authz::{Actor, Permission};
use crate::domain::inspection::RoundKind;
use crate::error::AppError;
use crate::http::Caller;
use crate::http::extract::{SignedIn, Upload};
use crate::i18n::{Lang, t};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/inspections", get(rankings))
        .route("/inspections/weights", post(set_weights))
        .route("/inspections/shortfall", get(shortfall))
        .route("/inspections/rounds", get(rounds).post(plan))
        .route("/inspections/rounds/{id}", get(round))
        .route("/inspections/rounds/{id}/assign", post(assign))
        .route("/inspections/points", get(points).post(import_points))
        .route("/inspections/manual", get(manual).post(import_manual))
        .layer(axum::extract::DefaultBodyLimit::max(32 * 1024 * 1024))
}

/// The tabs of the module's desk pages, those the caller may use.
fn tabs(actor: &Actor) -> Vec<(&'static str, &'static str)> {
    let mut out = vec![("rankings", "/inspections"), ("shortfall", "/inspections/shortfall"), ("rounds", "/inspections/rounds")];
    out.push(("points", "/inspections/points"));
    out.push(("manual", "/inspections/manual"));
    if actor.can_somewhere(Permission::Inspect) {
        out.push(("mine", "/inspect"));
    }
    out
}

fn desk(caller: &Caller, actor: &Actor, name: &str, current: &str, ctx: minijinja::Value) -> Response {
    page(caller, name, context! { tabs => Serde(tabs(actor)), current => current, ..ctx })
}

#[derive(Deserialize, Default)]
struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
    by: Option<String>,
    unit: Option<String>,
    #[serde(rename = "type")]
    point_type: Option<String>,
    id: Option<String>,
    done: Option<String>,
}

fn day(raw: &Option<String>) -> Option<NaiveDate> {
    raw.as_deref().and_then(|s| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok())
}

/// The period asked for, by default the last 30 days.
fn period(app: &App, q: &PeriodQuery) -> (NaiveDate, NaiveDate) {
    let today = crate::domain::calendar::beijing_date(app.now());
    let to = day(&q.to).unwrap_or(today);
    let from = day(&q.from).unwrap_or(to - chrono::Duration::days(29));
    (from, to)
}

fn pp(v: Option<f64>) -> String {
    match v {
        Some(c) if c > 0.0 => format!("+{c:.1}"),
        Some(c) => format!("{c:.1}"),
        None => "—".into(),
    }
}

fn num(v: f64) -> String {
    let s = format!("{v:.1}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[derive(Serialize)]
struct RankRow {
    rank: usize,
    name: String,
    inspections: i64,
    rate: String,
    change: String,
    change_sign: i8,
    problems: i64,
    failed: i64,
    voided: i64,
    cases: i64,
    rectified: String,
}

async fn rankings(State(app): State<App>, who: SignedIn<Page>, Query(q): Query<PeriodQuery>) -> Response {
    let (caller, actor) = (&who.0, who.actor());
    let lang = caller.lang;
    let (from, to) = period(&app, &q);
    let by = q.by.as_deref().and_then(RankBy::parse).unwrap_or(RankBy::Community);
    let r = match app.ranking(actor, q.unit.as_deref(), from, to, by).await {
        Ok(r) => r,
        Err(e) => return error_page(lang, &e),
    };
    let composite = app.composite_ranking(actor, Some(&r.area), from, to, 3).await.ok();
    let rows: Vec<RankRow> = r
        .rows
        .iter()
        .map(|x| RankRow {
            rank: x.rank,
            name: x.name.clone(),
            inspections: x.sums.inspections,
            rate: percent(x.rate),
            change: pp(x.change),
            change_sign: x
                .change
                .map(|c| {
                    if c > 0.0 {
                        1
                    } else if c < 0.0 {
                        -1
                    } else {
                        0
                    }
                })
                .unwrap_or(0),
            problems: x.sums.problems,
            failed: x.sums.failed,
            voided: x.sums.voided,
            cases: x.cases,
            rectified: percent(x.rectified_rate),
        })
        .collect();
    let chart: Vec<(String, f64, Option<&'static str>)> =
        r.rows.iter().take(20).filter_map(|x| x.rate.map(|v| (x.name.clone(), v, None))).collect();
    let chart = rate_bars(&chart, &t(lang, "web.insp_rate", &[]));
    #[derive(Serialize)]
    struct CRow {
        rank: usize,
        name: String,
        composite: String,
        rate: String,
        on_time: String,
        rework: String,
        list: &'static str,
    }
    let (crows, red, black, weights, cchart) = match &composite {
        Some(c) => {
            let list = |code: &str| {
                if c.red.iter().any(|x| x.code == code) {
                    "red"
                } else if c.black.iter().any(|x| x.code == code) {
                    "black"
                } else {
                    ""
                }
            };
            let rows: Vec<CRow> = c
                .rows
                .iter()
                .map(|x| CRow {
                    rank: x.rank,
                    name: x.name.clone(),
                    composite: x.composite.map(|v| format!("{:.1}", v * 100.0)).unwrap_or_else(|| "—".into()),
                    rate: percent(x.rate),
                    on_time: percent(x.on_time_rate),
                    rework: percent(x.rework_rate),
                    list: list(&x.code),
                })
                .collect();
            let names = |v: &[crate::app::inspections::CompositeRow]| v.iter().map(|x| x.name.clone()).collect::<Vec<_>>();
            let bars: Vec<(String, f64, Option<&'static str>)> = c
                .rows
                .iter()
                .filter_map(|x| {
                    let mark = match list(&x.code) {
                        "red" => Some("good"),
                        "black" => Some("bad"),
                        _ => None,
                    };
                    x.composite.map(|v| (x.name.clone(), v, mark))
                })
                .collect();
            (rows, names(&c.red), names(&c.black), Some(c.weights), rate_bars(&bars, &t(lang, "web.insp_composite", &[])))
        }
        None => (Vec::new(), Vec::new(), Vec::new(), None, String::new()),
    };
    let query = format!("from={from}&to={to}&unit={}", r.area);
    desk(
        caller,
        actor,
        "inspections/rankings.html",
        "rankings",
        context! {
            area => r.area_name.clone(),
            from => from.to_string(),
            to => to.to_string(),
            by => by.as_str(),
            bys => ["community", "grid", "unit", "point_type", "point"],
            query => query,
            rate => percent(r.rate),
            inspections => r.total.inspections,
            problems => r.total.problems,
            cases => r.cases,
            rectified => percent(r.rectified_rate),
            lost => num(r.total.lost),
            rows => Serde(&rows),
            chart => minijinja::Value::from_safe_string(chart),
            crows => Serde(&crows),
            red => red,
            black => black,
            cchart => minijinja::Value::from_safe_string(cchart),
            weights => weights.map(Serde),
            may_weigh => actor.can_somewhere(Permission::ManageManual),
            saved => q.done.is_some(),
        },
    )
}

#[derive(Deserialize)]
struct WeightsForm {
    score: String,
    on_time: String,
    rework: String,
    #[serde(default)]
    panel: Option<String>,
}

async fn set_weights(State(app): State<App>, form: PageForm<WeightsForm>) -> Response {
    let Some(actor) = form.caller.actor.clone() else { return Redirect::to("/login").into_response() };
    let lang = form.caller.lang;
    let parse = |s: &str| s.trim().parse::<f64>().unwrap_or(f64::NAN);
    let panel = form.form.panel.as_deref().map(parse).unwrap_or(0.0);
    let w = Weights { score: parse(&form.form.score), on_time: parse(&form.form.on_time), rework: parse(&form.form.rework), panel };
    match app.set_ranking_weights(&actor, w).await {
        Ok(_) => Redirect::to("/inspections?done=weights#composite").into_response(),
        Err(e) => error_page(lang, &e),
    }
}

#[derive(Serialize)]
struct ShortRow {
    rank: usize,
    code: String,
    point_type: String,
    text: String,
    lost: String,
    previous: String,
    trend: i8,
    fail_rate: String,
    failed: i64,
    inspections: i64,
    communities: String,
    points: String,
}

async fn shortfall(State(app): State<App>, who: SignedIn<Page>, Query(q): Query<PeriodQuery>) -> Response {
    let (caller, actor) = (&who.0, who.actor());
    let lang = caller.lang;
    let (from, to) = period(&app, &q);
    let list = match app.shortfall(actor, q.unit.as_deref(), from, to, 30).await {
        Ok(l) => l,
        Err(e) => return error_page(lang, &e),
    };
    let area = app.ranking(actor, q.unit.as_deref(), from, to, RankBy::Community).await.map(|r| (r.area, r.area_name)).unwrap_or_default();
    let places = |w: &[crate::app::inspections::Where]| {
        w.iter().take(3).map(|x| format!("{}({})", x.name, num(x.lost))).collect::<Vec<_>>().join("、")
    };
    let times = |w: &[crate::app::inspections::Where]| {
        w.iter()
            .take(3)
            .map(|x| t(lang, "web.insp_failed_times", &[("name", &x.name), ("n", &x.failed.to_string())]))
            .collect::<Vec<_>>()
            .join("、")
    };
    let total_lost: f64 = list.iter().map(|r| r.sums.lost).sum();
    let rows: Vec<ShortRow> = list
        .iter()
        .map(|r| ShortRow {
            rank: r.rank,
            code: r.code.clone(),
            point_type: r.point_type.clone(),
            text: r.text.clone(),
            lost: num(r.sums.lost),
            previous: num(r.previous_lost),
            trend: if r.sums.lost > r.previous_lost + 0.05 {
                1
            } else if r.sums.lost + 0.05 < r.previous_lost {
                -1
            } else {
                0
            },
            fail_rate: percent(r.fail_rate),
            failed: r.sums.failed,
            inspections: r.sums.inspections,
            communities: places(&r.communities),
            points: times(&r.points),
        })
        .collect();
    // Each item's share of all the score lost: what fixing it first would win back.
    let share: Vec<(String, f64, Option<&'static str>)> = list
        .iter()
        .take(12)
        .map(|r| (format!("{} {}", r.code, r.text.chars().take(8).collect::<String>()), r.sums.lost / total_lost.max(0.01), None))
        .collect();
    let chart = rate_bars(&share, &t(lang, "web.insp_shortfall_share", &[]));
    desk(
        caller,
        actor,
        "inspections/shortfall.html",
        "shortfall",
        context! {
            area => area.1,
            from => from.to_string(),
            to => to.to_string(),
            query => format!("from={from}&to={to}&unit={}", area.0),
            rows => Serde(&rows),
            total_lost => num(total_lost),
            chart => minijinja::Value::from_safe_string(chart),
        },
    )
}

#[derive(Serialize)]
struct RoundRowView {
    id: String,
    name: String,
    kind: String,
    period: String,
    seed: i64,
    done: usize,
    total: usize,
    percent: usize,
    based_on: Option<String>,
}

async fn rounds(State(app): State<App>, who: SignedIn<Page>, Query(q): Query<PeriodQuery>) -> Response {
    rounds_page(&app, &who.0, who.actor(), &q, None, Typed::default()).await
}

/// The plan form as typed, to show again with an error.
#[derive(Serialize, Deserialize, Default, Clone)]
struct Typed {
    name: String,
    kind: String,
    starts_on: String,
    ends_on: String,
    by: String,
    seed: String,
    recheck: String,
    inspector: String,
}

async fn rounds_page(app: &App, caller: &Caller, actor: &Actor, q: &PeriodQuery, error: Option<String>, mut typed: Typed) -> Response {
    let lang = caller.lang;
    let today = crate::domain::calendar::beijing_date(app.now());
    let to = day(&q.to).unwrap_or(today + chrono::Duration::days(30));
    let from = day(&q.from).unwrap_or(today - chrono::Duration::days(90));
    let list = match app.rounds(actor, from, to).await {
        Ok(l) => l,
        Err(e) => return error_page(lang, &e),
    };
    let rows: Vec<RoundRowView> = list
        .iter()
        .map(|r| RoundRowView {
            id: r.round.id.clone(),
            name: r.round.name.clone(),
            kind: t(lang, &format!("web.insp_kind_{}", r.round.kind.as_str()), &[]),
            period: period_text(r.round.starts_on, r.round.ends_on),
            seed: r.round.seed,
            done: r.done,
            total: r.total,
            percent: (r.done * 100).checked_div(r.total).unwrap_or(0),
            based_on: r.based_on_name.clone(),
        })
        .collect();
    let may_plan = actor.can_somewhere(Permission::PlanInspections);
    // For the plan form: inspectors, the points by type (to draw from or tick by hand).
    let (inspectors, types, by_type) = if may_plan {
        let inspectors = app.inspectors(actor).await.unwrap_or_default();
        let mut types: BTreeMap<String, usize> = BTreeMap::new();
        let mut by_type: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        for p in app.points(actor, None).await.unwrap_or_default() {
            *types.entry(p.point.point_type.clone()).or_default() += 1;
            let label = match &p.community_name {
                Some(c) => format!("{}({c})", p.point.name),
                None => p.point.name.clone(),
            };
            by_type.entry(p.point.point_type.clone()).or_default().push((p.point.id.clone(), label));
        }
        (inspectors, types, by_type)
    } else {
        (Vec::new(), BTreeMap::new(), BTreeMap::new())
    };
    if typed.starts_on.is_empty() {
        let monday = today - chrono::Duration::days(chrono::Datelike::weekday(&today).num_days_from_monday() as i64);
        typed.starts_on = monday.to_string();
        typed.ends_on = (monday + chrono::Duration::days(6)).to_string();
        typed.by = "drawn".into();
        typed.kind = "inspection".into();
    }
    let types: Vec<(String, usize, usize)> = types.into_iter().map(|(k, n)| (k, n, (n / 5).max(1))).collect();
    let kinds: Vec<(&str, String)> = RoundKind::ALL
        .iter()
        .filter(|k| **k != RoundKind::Frontage)
        .map(|k| (k.as_str(), t(lang, &format!("web.insp_kind_{}", k.as_str()), &[])))
        .collect();
    desk(
        caller,
        actor,
        "inspections/rounds.html",
        "rounds",
        context! {
            rows => Serde(&rows),
            may_plan => may_plan,
            inspectors => Serde(&inspectors),
            types => Serde(&types),
            by_type => Serde(&by_type),
            kinds => Serde(&kinds),
            typed => Serde(&typed),
            error => error,
        },
    )
}

async fn plan(State(app): State<App>, upload: Upload<Page>) -> Response {
    let caller = upload.caller.clone();
    let Some(actor) = caller.actor.clone() else { return Redirect::to("/login").into_response() };
    let lang = caller.lang;
    let f = |k: &str| upload.fields.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let typed = Typed {
        name: f("name"),
        kind: f("kind"),
        starts_on: f("starts_on"),
        ends_on: f("ends_on"),
        by: f("by"),
        seed: f("seed"),
        recheck: f("recheck"),
        inspector: f("inspector"),
    };
    let again = |msg: String| {
        let (app, caller, actor, typed) = (app.clone(), caller.clone(), actor.clone(), typed.clone());
        async move { rounds_page(&app, &caller, &actor, &PeriodQuery::default(), Some(msg), typed).await }
    };
    let field_error = |name: &str| t(lang, "web.insp_bad_field", &[("field", &t(lang, &format!("web.insp_field_{name}"), &[]))]);
    let Some(kind) = RoundKind::parse(&typed.kind) else { return again(field_error("kind")).await };
    let (Ok(starts_on), Ok(ends_on)) =
        (NaiveDate::parse_from_str(&typed.starts_on, "%Y-%m-%d"), NaiveDate::parse_from_str(&typed.ends_on, "%Y-%m-%d"))
    else {
        return again(field_error("period")).await;
    };
    if typed.name.is_empty() {
        return again(field_error("name")).await;
    }
    let selection = if typed.by == "chosen" {
        // Ticked by hand: one field `point.<id>` per point.
        let points: Vec<String> = upload.fields.keys().filter_map(|k| k.strip_prefix("point.")).map(str::to_string).collect();
        if points.is_empty() {
            return again(field_error("points")).await;
        }
        Selection::Chosen { points }
    } else if kind == RoundKind::Recheck || typed.by == "recheck" {
        if typed.recheck.is_empty() {
            return again(field_error("recheck")).await;
        }
        Selection::Recheck { round: typed.recheck.clone() }
    } else {
        let mut quotas = BTreeMap::new();
        for (k, v) in upload.fields.iter() {
            if let Some(kind) = k.strip_prefix("quota.") {
                match v.trim() {
                    "" | "0" => {}
                    n => match n.parse::<usize>() {
                        Ok(n) => {
                            quotas.insert(kind.to_string(), n);
                        }
                        Err(_) => return again(t(lang, "web.insp_bad_quota", &[("type", kind)])).await,
                    },
                }
            }
        }
        let seed = match typed.seed.as_str() {
            "" => None,
            s => match s.parse::<u64>() {
                Ok(s) => Some(s),
                Err(_) => return again(field_error("seed")).await,
            },
        };
        Selection::Drawn { quotas, seed, within: None }
    };
    let inspectors = if typed.inspector.is_empty() { Vec::new() } else { vec![typed.inspector.clone()] };
    let plan = RoundPlan { name: typed.name.clone(), kind, starts_on, ends_on, selection, inspectors };
    match app.plan_round(&actor, plan).await {
        Ok(r) => Redirect::to(&format!("/inspections/rounds/{}", r.round.id)).into_response(),
        Err(e) => again(e.message(lang)).await,
    }
}

#[derive(Serialize)]
struct RoundPointRow {
    id: String,
    name: String,
    point_type: String,
    community: String,
    inspector_id: String,
    inspector: String,
    inspection: Option<String>,
    rate: String,
    voided: bool,
    failed: i64,
    items: Option<usize>,
    mine: bool,
}

async fn round(State(app): State<App>, who: SignedIn<Page>, Path(id): Path<String>) -> Response {
    let (caller, actor) = (&who.0, who.actor());
    let lang = caller.lang;
    let r = match app.round(actor, &id).await {
        Ok(r) => r,
        Err(e) => return error_page(lang, &e),
    };
    let points: Vec<RoundPointRow> = r
        .points
        .iter()
        .map(|p| RoundPointRow {
            id: p.point.point.id.clone(),
            name: p.point.point.name.clone(),
            point_type: p.point.point.point_type.clone(),
            community: p.point.community_name.clone().unwrap_or_default(),
            inspector_id: p.inspector_id.clone().unwrap_or_default(),
            inspector: p.inspector_name.clone().unwrap_or_default(),
            inspection: p.inspection_id.clone(),
            rate: percent(p.rate),
            voided: p.voided,
            failed: p.failed_items,
            items: p.items.as_ref().map(Vec::len),
            mine: p.inspector_id.as_deref() == Some(actor.person_id.as_str()),
        })
        .collect();
    let may_plan = actor.can_somewhere(Permission::PlanInspections);
    let inspectors = if may_plan { app.inspectors(actor).await.unwrap_or_default() } else { Vec::new() };
    desk(
        caller,
        actor,
        "inspections/round.html",
        "rounds",
        context! {
            id => r.round.id.clone(),
            name => r.round.name.clone(),
            kind => t(lang, &format!("web.insp_kind_{}", r.round.kind.as_str()), &[]),
            period => period_text(r.round.starts_on, r.round.ends_on),
            seed => r.round.seed,
            manual_version => r.manual_version,
            based_on => r.based_on_name.clone(),
            based_on_id => r.round.based_on.clone(),
            drawn => !matches!(r.round.kind, RoundKind::Recheck),
            done => r.done,
            total => r.total,
            percent => (r.done * 100).checked_div(r.total).unwrap_or(0),
            created => beijing(r.round.created_at),
            points => Serde(&points),
            may_plan => may_plan,
            inspectors => Serde(&inspectors),
        },
    )
}

#[derive(Deserialize)]
struct AssignForm {
    point: String,
    #[serde(default)]
    inspector: String,
}

async fn assign(State(app): State<App>, Path(id): Path<String>, form: PageForm<AssignForm>) -> Response {
    let Some(actor) = form.caller.actor.clone() else { return Redirect::to("/login").into_response() };
    let inspector = Some(form.form.inspector.trim().to_string()).filter(|s| !s.is_empty());
    match app.assign_point(&actor, &id, &form.form.point, inspector).await {
        Ok(()) => Redirect::to(&format!("/inspections/rounds/{id}#p-{}", form.form.point)).into_response(),
        Err(e) => error_page(form.caller.lang, &e),
    }
}

#[derive(Serialize)]
struct PointListRow {
    id: String,
    name: String,
    point_type: String,
    community: String,
    grid: String,
    unit: String,
    address: String,
    simulated: bool,
}

async fn points(State(app): State<App>, who: SignedIn<Page>, Query(q): Query<PeriodQuery>) -> Response {
    points_page(&app, &who.0, who.actor(), q.point_type.as_deref(), None, None).await
}

async fn points_page(
    app: &App,
    caller: &Caller,
    actor: &Actor,
    kind: Option<&str>,
    notice: Option<String>,
    problems: Option<Vec<String>>,
) -> Response {
    let lang = caller.lang;
    let kind = kind.map(str::trim).filter(|k| !k.is_empty());
    let all = match app.points(actor, None).await {
        Ok(p) => p,
        Err(e) => return error_page(lang, &e),
    };
    let mut types: BTreeMap<String, usize> = BTreeMap::new();
    for p in &all {
        *types.entry(p.point.point_type.clone()).or_default() += 1;
    }
    let shown: Vec<_> = all.iter().filter(|p| kind.is_none_or(|k| p.point.point_type == k)).collect();
    let rows: Vec<PointListRow> = shown
        .iter()
        .map(|p| PointListRow {
            id: p.point.id.clone(),
            name: p.point.name.clone(),
            point_type: p.point.point_type.clone(),
            community: p.community_name.clone().unwrap_or_default(),
            grid: p.grid_name.clone().unwrap_or_default(),
            unit: p.unit_name.clone(),
            address: p.point.address.clone().unwrap_or_default(),
            simulated: p.simulated || p.point.lat.is_none(),
        })
        .collect();
    // The map: the grids the caller sees, the points as dots coloured by type.
    let dir = app.directory();
    let shapes: Vec<_> =
        dir.grids().zip(dir.shapes()).filter(|(g, _)| actor.can(Permission::ReadInspections, &g.path)).map(|(_, (_, s))| s).collect();
    let type_names: Vec<&String> = types.keys().collect();
    let dots: Vec<MapPoint<'_>> = shown
        .iter()
        .filter_map(|p| {
            let (lat, lon) = (p.point.lat?, p.point.lon?);
            let shade = 1 + type_names.iter().position(|t| **t == p.point.point_type).unwrap_or(0) % 5;
            Some(MapPoint {
                name: &p.point.name,
                lat,
                lon,
                shade,
                label: format!("{} · {}", p.point.point_type, p.community_name.clone().unwrap_or_default()),
                href: format!("/inspections/points?type={}#p-{}", p.point.point_type, p.point.id),
            })
        })
        .collect();
    let map = point_map(&shapes, &dots, &t(lang, "web.insp_points_map", &[]), &RAMP_ON_TIME);
    desk(
        caller,
        actor,
        "inspections/points.html",
        "points",
        context! {
            rows => Serde(&rows),
            types => Serde(&types),
            kind => kind,
            total => all.len(),
            map => minijinja::Value::from_safe_string(map),
            may_import => actor.can_somewhere(Permission::PlanInspections),
            notice => notice,
            problems => problems,
        },
    )
}

/// The rows of a refused file, as lines to show.
fn file_problems(lang: Lang, e: &AppError) -> Option<Vec<String>> {
    match e {
        AppError::InvalidFile(ps) => {
            Some(ps.iter().map(|p| t(lang, "error.import_row", &[("row", &p.row.to_string()), ("reason", &p.message)])).collect())
        }
        _ => None,
    }
}

async fn import_points(State(app): State<App>, upload: Upload<Page>) -> Response {
    let caller = upload.caller.clone();
    let Some(actor) = caller.actor.clone() else { return Redirect::to("/login").into_response() };
    let lang = caller.lang;
    let Some(file) = upload.files.iter().find(|f| f.field == "file" && !f.bytes.is_empty()) else {
        return points_page(&app, &caller, &actor, None, None, Some(vec![t(lang, "web.insp_pick_file", &[])])).await;
    };
    match app.import_points(&actor, &file.bytes, lang).await {
        Ok((a, u)) => {
            let msg = t(lang, "web.insp_points_imported", &[("added", &a.to_string()), ("updated", &u.to_string())]);
            points_page(&app, &caller, &actor, None, Some(msg), None).await
        }
        Err(e) => {
            let problems = file_problems(lang, &e).unwrap_or_else(|| vec![e.message(lang)]);
            let mut r = points_page(&app, &caller, &actor, None, None, Some(problems)).await;
            *r.status_mut() = e.status();
            r
        }
    }
}

#[derive(Serialize)]
struct ManualItemRow {
    code: String,
    text: String,
    method: String,
    standard: String,
    rule: String,
    veto: bool,
    category: String,
}

async fn manual(State(app): State<App>, who: SignedIn<Page>, Query(q): Query<PeriodQuery>) -> Response {
    manual_page(&app, &who.0, who.actor(), q.id.as_deref(), None, None).await
}

async fn manual_page(
    app: &App,
    caller: &Caller,
    actor: &Actor,
    id: Option<&str>,
    notice: Option<String>,
    problems: Option<Vec<String>>,
) -> Response {
    let lang = caller.lang;
    let versions = match app.manuals(actor).await {
        Ok(v) => v,
        Err(e) => return error_page(lang, &e),
    };
    let m = match app.manual(actor, id).await {
        Ok(m) => m,
        Err(e) => return error_page(lang, &e),
    };
    let categories = app.category_map().await.unwrap_or_default();
    let mut types: Vec<(String, Vec<ManualItemRow>)> = Vec::new();
    for i in &m.items {
        let row = ManualItemRow {
            code: i.code.clone(),
            text: i.text.clone(),
            method: i.method.clone().unwrap_or_default(),
            standard: num(i.standard),
            rule: scoring_text(lang, &i.scoring),
            veto: i.veto,
            category: i
                .category_code
                .as_ref()
                .map(|c| categories.get(c).map(|x| format!("{c} {}", x.name)).unwrap_or(c.clone()))
                .unwrap_or_default(),
        };
        match types.iter_mut().find(|(t, _)| *t == i.point_type) {
            Some((_, rows)) => rows.push(row),
            None => types.push((i.point_type.clone(), vec![row])),
        }
    }
    #[derive(Serialize)]
    struct Version {
        id: String,
        version: i64,
        name: String,
        items: i64,
        point_types: i64,
        created: String,
        by: String,
    }
    let versions: Vec<Version> = versions
        .into_iter()
        .map(|v| Version {
            id: v.id,
            version: v.version,
            name: v.name,
            items: v.items,
            point_types: v.point_types,
            created: beijing(v.created_at),
            by: v.created_by,
        })
        .collect();
    desk(
        caller,
        actor,
        "inspections/manual.html",
        "manual",
        context! {
            versions => Serde(&versions),
            current_id => m.manual.id.clone(),
            name => m.manual.name.clone(),
            version => m.manual.version,
            item_count => m.items.len(),
            types => Serde(&types),
            may_import => actor.can_somewhere(Permission::ManageManual),
            notice => notice,
            problems => problems,
        },
    )
}

async fn import_manual(State(app): State<App>, upload: Upload<Page>) -> Response {
    let caller = upload.caller.clone();
    let Some(actor) = caller.actor.clone() else { return Redirect::to("/login").into_response() };
    let lang = caller.lang;
    let Some(file) = upload.files.iter().find(|f| f.field == "file" && !f.bytes.is_empty()) else {
        return manual_page(&app, &caller, &actor, None, None, Some(vec![t(lang, "web.insp_pick_file", &[])])).await;
    };
    let toml = file.file_name.as_deref().is_some_and(|n| n.to_ascii_lowercase().ends_with(".toml"));
    let name = upload.fields.get("name").map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    let name = name.or_else(|| file.file_name.clone()).unwrap_or_else(|| t(lang, "web.insp_manual", &[]));
    match app.import_manual(&actor, &name, &file.bytes, toml, lang).await {
        Ok(m) => {
            let msg = t(lang, "web.insp_manual_imported", &[("version", &m.version.to_string()), ("items", &m.items.to_string())]);
            manual_page(&app, &caller, &actor, Some(&m.id), Some(msg), None).await
        }
        Err(e) => {
            let problems = file_problems(lang, &e).unwrap_or_else(|| vec![e.message(lang)]);
            let mut r = manual_page(&app, &caller, &actor, None, None, Some(problems)).await;
            *r.status_mut() = e.status();
            r
        }
    }
}
