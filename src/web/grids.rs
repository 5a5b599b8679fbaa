//! A grid's page: who answers for it (grid workers, sponsor units), its indicators over the
//! last 30 days and its open cases.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use super::{Page, error_page, page, percent};
use crate::app::App;
use crate::app::cases::CaseFilter;
use crate::app::indicators::GroupBy;
use crate::domain::case::Status;
use crate::domain::org::OrgKind;
use crate::error::{AppError, Thing};
use crate::http::extract::SignedIn;
use crate::i18n::t;

pub fn routes() -> Router<App> {
    Router::new().route("/grids/{code}", get(grid_page))
}

#[derive(Serialize)]
struct Person {
    name: String,
    role: String,
    phone: String,
}

async fn grid_page(State(app): State<App>, who: SignedIn<Page>, Path(code): Path<String>) -> Response {
    let (caller, actor) = (&who.0, who.actor());
    let lang = caller.lang;
    let view = match app.unit_view(actor, &code).await {
        Ok(v) if v.unit.kind == OrgKind::Grid => v,
        Ok(_) => return error_page(lang, &AppError::NotFound(Thing::Grid)),
        Err(e) => return error_page(lang, &e),
    };
    let dir = app.directory();
    let Some(info) = dir.grids().find(|g| g.code == code).cloned() else { return error_page(lang, &AppError::NotFound(Thing::Grid)) };
    let today = crate::domain::calendar::beijing_date(app.now());
    let report = app.indicators(actor, Some(&code), today - chrono::Duration::days(29), today, GroupBy::Category).await;
    let report = match report {
        Ok(r) => r,
        Err(e) => return error_page(lang, &e),
    };
    let open = app
        .list_cases(
            actor,
            CaseFilter {
                statuses: Status::ALL.iter().copied().filter(|s| s.is_open()).collect(),
                grid_id: Some(view.unit.id.clone()),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap_or_default();
    let open_rows: Vec<(String, String, String, String)> = open
        .iter()
        .map(|c| {
            (
                c.details.id.clone(),
                c.details.number.clone(),
                c.category_name.clone(),
                t(lang, &format!("status.{}", c.state.status.as_str()), &[]),
            )
        })
        .collect();
    let people: Vec<Person> = view
        .people
        .iter()
        .map(|p| Person {
            name: p.name.clone(),
            role: t(lang, &format!("web.role_{}", p.role.as_str()), &[]),
            phone: p.phone.clone().unwrap_or_default(),
        })
        .collect();
    let around: Vec<&geo::MultiPolygon<f64>> = dir
        .grids()
        .zip(dir.shapes())
        .filter(|(g, _)| g.community.code == info.community.code && g.code != code)
        .map(|(_, (_, s))| s)
        .collect();
    let map_svg = match (dir.shapes().iter().find(|(c, _)| *c == code), dir.interior_point(&code)) {
        (Some((_, shape)), Some(p)) => super::svg::locator(&around, shape, p.lat, p.lon, &info.name),
        _ => String::new(),
    };
    let total = &report.total;
    page(
        caller,
        "grids/grid.html",
        context! {
            name => info.name.clone(),
            code => code,
            community => info.community.name.clone(),
            area => format!("{:.2}", info.area_m2 / 1_000_000.0),
            sponsors => info.sponsor_units.clone(),
            people => Serde(&people),
            reported => total.tally.reported,
            closed => total.tally.closed,
            on_time => percent(total.on_time_rate),
            overdue => total.tally.overdue_now,
            open => Serde(&open_rows),
            map_svg => minijinja::Value::from_safe_string(map_svg),
        },
    )
}
