//! The JSON API under `/api/v1`. Handlers are thin: parse, call the app, shape the answer.

mod cases;

use std::collections::HashMap;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::{StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::app::App;
use crate::domain::coords::Crs;
use crate::domain::org::OrgKind;
use crate::error::{AppError, AppResult};
use crate::server::{ApiCaller, SESSION_COOKIE, Via};

/// Query parameters, with malformed ones answered as a JSON 400.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e: QueryRejection| AppError::BadRequest(e.body_text()))
    }
}

/// A JSON body, with malformed ones answered as a JSON 400.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Json::<T>::from_request(req, state).await.map(|j| ApiJson(j.0)).map_err(|e: JsonRejection| AppError::BadRequest(e.body_text()))
    }
}

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
    let summary = app.import_grids(body, Some(actor), caller.lang).await?;
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
struct SessionInfo<'a> {
    person_id: &'a str,
    name: &'a str,
    roles: &'a [crate::domain::authz::Grant],
    #[serde(skip_serializing_if = "Option::is_none")]
    csrf_token: Option<&'a str>,
}

pub fn session_cookie(token: &str, max_age_secs: i64) -> String {
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}")
}

async fn login(State(app): State<App>, ApiJson(body): ApiJson<LoginBody>) -> AppResult<Response> {
    let s = app.login(&body.username, &body.password).await?;
    let cookie = session_cookie(&s.token, app.config().session_hours * 3600);
    let info = SessionInfo { person_id: &s.actor.person_id, name: &s.actor.name, roles: &s.actor.grants, csrf_token: Some(&s.csrf_token) };
    Ok(([(header::SET_COOKIE, cookie)], Json(info)).into_response())
}

async fn logout(State(app): State<App>, ApiCaller(caller): ApiCaller) -> AppResult<Response> {
    if let Via::Session { token, .. } = &caller.via {
        app.logout(token).await?;
    }
    Ok(([(header::SET_COOKIE, session_cookie("", 0))], StatusCode::NO_CONTENT).into_response())
}

async fn me(ApiCaller(caller): ApiCaller) -> AppResult<Response> {
    let actor = caller.require()?;
    let info = SessionInfo { person_id: &actor.person_id, name: &actor.name, roles: &actor.grants, csrf_token: caller.csrf_token() };
    Ok(Json(info).into_response())
}

#[derive(Deserialize)]
struct TokenBody {
    name: String,
}

async fn create_token(State(app): State<App>, ApiCaller(caller): ApiCaller, ApiJson(body): ApiJson<TokenBody>) -> AppResult<Response> {
    let actor = caller.require()?;
    let name = body.name.trim();
    if name.is_empty() {
        return Err(AppError::MissingParameter("name".into()));
    }
    let token = app.create_api_token(&actor.person_id, name).await?;
    Ok((StatusCode::CREATED, Json(json!({ "token": token, "name": name }))).into_response())
}
