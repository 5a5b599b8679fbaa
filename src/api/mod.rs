//! The JSON API under `/api/v1`. Handlers are thin: parse, call the app, shape the answer.

mod admin;
mod bulletins;
mod cases;
mod info_reports;
mod inspections;
mod key_tasks;
mod merchants;
pub mod open311;
mod volunteers;

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::app::App;
use crate::app::export::Download;
use crate::domain::coords::Crs;
use crate::domain::org::OrgKind;
use crate::error::{AppError, AppResult};
use crate::http::extract::{ApiCaller, ApiJson, ApiQuery, SignedIn};
use crate::http::{Via, session_cookie};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/locate", get(locate))
        .route("/grids", get(grids))
        .route("/grids/import", post(import_grids))
        .route("/org/units", get(units))
        .route("/org/units/{code}", get(unit))
        .route("/people/{id}", patch(update_person))
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/auth/me", get(me))
        .route("/auth/tokens", post(create_token))
        .route("/openapi.json", get(openapi))
        .merge(cases::routes())
        .merge(admin::routes())
        .merge(inspections::routes())
        .merge(bulletins::routes())
        .merge(info_reports::routes())
        .merge(key_tasks::routes())
        .merge(merchants::routes())
        .merge(volunteers::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(32 * 1024 * 1024))
}

async fn not_found() -> AppError {
    AppError::NoSuchRoute
}

/// The committed contract; a test keeps it and the routes in step.
pub const OPENAPI: &str = include_str!("../../docs/openapi.json");

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn method_not_allowed() -> AppError {
    AppError::MethodNotAllowed
}

fn number(params: &HashMap<String, String>, name: &str) -> AppResult<f64> {
    let raw = params.get(name).map(|s| s.trim()).filter(|s| !s.is_empty());
    let raw = raw.ok_or_else(|| AppError::MissingParameter(name.to_string()))?;
    raw.parse::<f64>().map_err(|_| AppError::InvalidParameter(name.to_string()))
}

async fn locate(State(app): State<App>, ApiQuery(params): ApiQuery<HashMap<String, String>>) -> AppResult<Response> {
    let lat = number(&params, "lat")?;
    let lon = number(&params, "lon")?;
    let crs = Crs::parse(params.get("crs").map(String::as_str).unwrap_or(""))?;
    let (p, grid) = app.locate(lat, lon, crs)?;
    Ok(Json(json!({
        "location": { "lat": p.lat, "lon": p.lon, "crs": "wgs84" },
        "grid": { "code": grid.code, "name": grid.name, "area_m2": grid.area_m2.round() },
        "community": grid.community,
        "grid_workers": grid.grid_workers,
        "sponsor_units": grid.sponsor_units,
    }))
    .into_response())
}

#[derive(Deserialize)]
struct GridsQuery {
    community: Option<String>,
}

async fn grids(State(app): State<App>, ApiQuery(q): ApiQuery<GridsQuery>) -> Response {
    let community = q.community.as_deref().map(str::trim).filter(|c| !c.is_empty());
    let body = app.directory().geojson(community);
    ([(header::CONTENT_TYPE, "application/geo+json")], body).into_response()
}

async fn import_grids(State(app): State<App>, ApiCaller(caller): ApiCaller, body: String) -> AppResult<Response> {
    let actor = caller.require()?;
    let summary = app.import_grids(actor, body, caller.lang).await?;
    Ok((StatusCode::OK, Json(summary)).into_response())
}

#[derive(Deserialize)]
struct UnitsQuery {
    kind: Option<String>,
}

async fn units(State(app): State<App>, ApiCaller(caller): ApiCaller, ApiQuery(q): ApiQuery<UnitsQuery>) -> AppResult<Response> {
    let actor = caller.require()?;
    let kinds = match q.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        Some(k) => vec![OrgKind::parse(k).ok_or_else(|| AppError::InvalidParameter("kind".into()))?],
        None => Vec::new(),
    };
    Ok(Json(app.visible_units(actor, kinds).await?).into_response())
}

async fn unit(State(app): State<App>, ApiCaller(caller): ApiCaller, Path(code): Path<String>) -> AppResult<Response> {
    let actor = caller.require()?;
    Ok(Json(app.unit_view(actor, &code).await?).into_response())
}

#[derive(Deserialize)]
struct PersonPatch {
    phone: Option<String>,
}

async fn update_person(
    State(app): State<App>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<PersonPatch>,
) -> AppResult<StatusCode> {
    let actor = caller.require()?;
    let phone = patch.phone.map(|p| p.trim().to_string()).filter(|p| !p.is_empty());
    app.update_phone(actor, &id, phone).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct LoginBody {
    username: String,
    password: String,
}

#[derive(Serialize)]
pub(crate) struct SessionInfo<'a> {
    person_id: &'a str,
    name: &'a str,
    roles: &'a [crate::domain::authz::Grant],
    /// Where the pages would take this person first, and the pages they may use.
    home: &'static str,
    menu: Vec<crate::app::menu::MenuItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    csrf_token: Option<&'a str>,
}

impl<'a> SessionInfo<'a> {
    pub(crate) fn of(actor: &'a crate::domain::authz::Actor, csrf_token: Option<&'a str>) -> Self {
        SessionInfo {
            person_id: &actor.person_id,
            name: &actor.name,
            roles: &actor.grants,
            home: crate::app::menu::home(actor),
            menu: crate::app::menu::menu(actor),
            csrf_token,
        }
    }
}

async fn login(State(app): State<App>, ApiJson(body): ApiJson<LoginBody>) -> AppResult<Response> {
    let s = app.login(&body.username, &body.password).await?;
    let cookie = session_cookie(&s.token, app.config().session_hours * 3600);
    Ok(([(header::SET_COOKIE, cookie)], Json(SessionInfo::of(&s.actor, Some(&s.csrf_token)))).into_response())
}

async fn logout(State(app): State<App>, ApiCaller(caller): ApiCaller) -> AppResult<Response> {
    if let Via::Session { token, .. } = &caller.via {
        app.logout(token).await?;
    }
    Ok(([(header::SET_COOKIE, session_cookie("", 0))], StatusCode::NO_CONTENT).into_response())
}

async fn me(who: SignedIn) -> AppResult<Response> {
    Ok(Json(SessionInfo::of(who.actor(), who.0.csrf_token())).into_response())
}

#[derive(Deserialize)]
struct TokenBody {
    name: String,
}

async fn create_token(State(app): State<App>, who: SignedIn, ApiJson(body): ApiJson<TokenBody>) -> AppResult<Response> {
    let actor = who.actor();
    let token = app.create_api_token(actor, &actor.person_id, &body.name).await?;
    Ok((StatusCode::CREATED, Json(json!({ "token": token, "name": body.name.trim() }))).into_response())
}

/// A streamed export as an attachment (the chunks are written as the table is).
/// A whole file (a Word document, a small workbook) as a download.
pub(crate) fn file(name: &str, mime: &str, bytes: Vec<u8>) -> Response {
    let disposition = format!(
        "attachment; filename=\"{}\"; filename*=UTF-8''{}",
        name.chars().filter(char::is_ascii).collect::<String>(),
        percent_encode(name)
    );
    ([(header::CONTENT_TYPE, mime.to_string()), (header::CONTENT_DISPOSITION, disposition)], bytes).into_response()
}

pub(crate) fn download(d: Download) -> Response {
    let disposition = format!(
        "attachment; filename=\"{}\"; filename*=UTF-8''{}",
        d.file_name.chars().filter(char::is_ascii).collect::<String>(),
        percent_encode(&d.file_name)
    );
    let body = axum::body::Body::new(crate::http::ChunkBody(d.chunks));
    ([(header::CONTENT_TYPE, d.format.mime().to_string()), (header::CONTENT_DISPOSITION, disposition)], body).into_response()
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}
