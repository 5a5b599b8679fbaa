//! The dashboard: indicator cards, the 30-day trend, cases by category, the community
//! ranking and the grid map coloured by open cases.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use super::svg::{MapGrid, RAMP_ON_TIME, RAMP_OPEN, bars, grid_map, shade, trend};
use super::{Page, error_page, page, percent};
use crate::app::App;
use crate::http::extract::SignedIn;
use crate::i18n::t;

pub fn routes() -> Router<App> {
    Router::new().route("/dashboard", get(dashboard))
}

#[derive(Serialize)]
struct RankRow {
    rank: usize,
    name: String,
    reported: i64,
    closed: i64,
    on_time: String,
    closure: String,
    rework: String,
    overdue: i64,
}

#[derive(serde::Deserialize)]
struct DashQuery {
    map: Option<String>,
}

async fn dashboard(State(app): State<App>, who: SignedIn<Page>, axum::extract::Query(q): axum::extract::Query<DashQuery>) -> Response {
    let (caller, actor) = (&who.0, who.actor());
    let lang = caller.lang;
    let d = match app.dashboard(actor).await {
        Ok(d) => d,
        Err(e) => return error_page(lang, &e),
    };
    let total = &d.report.total;
    let mut groups = d.report.groups.clone();
    groups.sort_by(|a, b| b.indicators.on_time_rate.unwrap_or(-1.0).total_cmp(&a.indicators.on_time_rate.unwrap_or(-1.0)));
    let ranking: Vec<RankRow> = groups
        .iter()
        .enumerate()
        .map(|(i, g)| RankRow {
            rank: i + 1,
            name: g.name.clone(),
            reported: g.indicators.tally.reported,
            closed: g.indicators.tally.closed,
            on_time: percent(g.indicators.on_time_rate),
            closure: percent(g.indicators.closure_rate),
            rework: percent(g.indicators.rework_rate),
            overdue: g.indicators.tally.overdue_now,
        })
        .collect();
    let days: Vec<(String, i64, i64)> = d.daily.iter().map(|(day, r, c)| (day.format("%m-%d").to_string(), *r, *c)).collect();
    let trend_svg = trend(&days, &t(lang, "web.dash_trend", &[]), (&t(lang, "web.dash_reported", &[]), &t(lang, "web.dash_closed", &[])));
    let top: Vec<(String, i64)> = d.by_category.iter().take(12).cloned().collect();
    let category_svg = bars(&top, &t(lang, "web.dash_by_category", &[]));
    let dir = app.directory();
    let unit = t(lang, "web.dash_cases_unit", &[]);
    let on_time_view = q.map.as_deref() == Some("on_time");
    let max_open = d.open_by_grid.values().copied().max().unwrap_or(0) as f64;
    let cells: Vec<MapGrid<'_>> = dir
        .grids()
        .zip(dir.shapes())
        .filter(|(g, _)| actor.can(crate::domain::authz::Permission::ReadIndicators, &g.path))
        .map(|(g, (_, shape))| {
            let (shade_of, label) = if on_time_view {
                let rate = d.tally_by_grid.get(&g.code).map(|t| t.indicators()).and_then(|i| i.on_time_rate);
                // Grey without cases due; otherwise five steps from 60 % (worst) to 100 %.
                let s = rate.map(|r| 1 + (((r - 0.6).max(0.0) / 0.4) * 4.0).round() as usize).unwrap_or(0);
                (s.min(5), percent(rate))
            } else {
                let open = d.open_by_grid.get(&g.code).copied().unwrap_or(0);
                (shade(open as f64, max_open), format!("{open} {unit}"))
            };
            MapGrid { code: &g.code, name: &g.name, shape, shade: shade_of, label, href: format!("/grids/{}", g.code) }
        })
        .collect();
    let map_title = t(lang, if on_time_view { "web.dash_map_on_time" } else { "web.dash_map" }, &[]);
    let map_svg = grid_map(&cells, &map_title, if on_time_view { &RAMP_ON_TIME } else { &RAMP_OPEN });
    page(
        caller,
        "indicators/dashboard.html",
        context! {
            unit_name => d.report.unit_name.clone(),
            from => d.report.from.to_string(),
            to => d.report.to.to_string(),
            on_time => percent(total.on_time_rate),
            closure => percent(total.closure_rate),
            rework => percent(total.rework_rate),
            overdue => total.tally.overdue_now,
            reported => total.tally.reported,
            ranking => Serde(&ranking),
            trend_svg => minijinja::Value::from_safe_string(trend_svg),
            category_svg => minijinja::Value::from_safe_string(category_svg),
            map_svg => minijinja::Value::from_safe_string(map_svg),
            map_title => map_title,
            on_time_view => on_time_view,
        },
    )
}
