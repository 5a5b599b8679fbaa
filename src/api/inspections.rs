//! `/api/v1/inspections…`: the evaluation manual, points, rounds, inspecting, rankings and
//! the shortfall list.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::json;

use super::download;
use crate::app::App;
use crate::app::inspections::{RankBy, RoundPlan, SubmitInput, Weights};
use crate::error::{AppError, AppResult, Thing};
use crate::export::ExportFormat;
use crate::http::extract::{ApiJson, ApiQuery, JsonFace, Must, SignedIn, Upload, idempotency_key, may};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/inspections/manuals", get(manuals))
        .route("/inspections/manuals/import", post(import_manual))
        .route("/inspections/manuals/{id}", get(manual))
        .route("/inspections/points", get(points))
        .route("/inspections/points/import", post(import_points))
        .route("/inspections/rounds", get(rounds).post(plan_round))
        .route("/inspections/rounds/{id}", get(round))
        .route("/inspections/rounds/{id}/points/{point}", get(form).post(submit))
        .route("/inspections/rounds/{id}/points/{point}/inspector", put(assign))
        .route("/inspections/mine", get(mine))
        .route("/inspections/rankings", get(ranking))
        .route("/inspections/rankings/export.{format}", get(export_ranking))
        .route("/inspections/composite", get(composite))
        .route("/inspections/composite/export.{format}", get(export_composite))
        .route("/inspections/weights", get(weights).put(set_weights))
        .route("/inspections/shortfall", get(shortfall))
        .route("/inspections/shortfall/export.{format}", get(export_shortfall))
        .route("/inspections/{id}", get(inspection))
}

fn day(raw: Option<&str>, name: &str) -> AppResult<Option<NaiveDate>> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").map(Some).map_err(|_| AppError::InvalidParameter(name.into())),
        None => Ok(None),
    }
}

/// A period from `from`/`to`, by default the last 30 days.
fn period(app: &App, from: Option<&str>, to: Option<&str>) -> AppResult<(NaiveDate, NaiveDate)> {
    let today = crate::domain::calendar::beijing_date(app.now());
    let to = day(to, "to")?.unwrap_or(today);
    let from = day(from, "from")?.unwrap_or(to - chrono::Duration::days(29));
    Ok((from, to))
}

fn format_of(f: &str) -> AppResult<ExportFormat> {
    ExportFormat::parse(f).ok_or(AppError::NotFound(Thing::Resource))
}

async fn manuals(State(app): State<App>, who: Must<may::ReadInspections>) -> AppResult<Response> {
    Ok(Json(app.manuals(who.actor()).await?).into_response())
}

async fn manual(State(app): State<App>, who: SignedIn, Path(id): Path<String>) -> AppResult<Response> {
    let id = (id != "current").then_some(id);
    Ok(Json(app.manual(who.actor(), id.as_deref()).await?).into_response())
}

/// A manual as the multipart field `file`: TOML (`.toml`) or a spreadsheet; `name` names a
/// spreadsheet's version.
async fn import_manual(State(app): State<App>, who: Must<may::ManageManual>, upload: Upload<JsonFace>) -> AppResult<Response> {
    let file = upload.file("file")?;
    let toml = file.file_name.as_deref().is_some_and(|n| n.to_ascii_lowercase().ends_with(".toml"));
    let name = upload.fields.get("name").map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    let name = name.or_else(|| file.file_name.clone()).unwrap_or_else(|| "测评手册".into());
    let summary = app.import_manual(who.actor(), &name, &file.bytes, toml, upload.caller.lang).await?;
    Ok((StatusCode::CREATED, Json(summary)).into_response())
}

#[derive(Deserialize)]
struct PointsQuery {
    #[serde(rename = "type")]
    point_type: Option<String>,
}

async fn points(State(app): State<App>, who: Must<may::ReadInspections>, ApiQuery(q): ApiQuery<PointsQuery>) -> AppResult<Response> {
    let kind = q.point_type.as_deref().map(str::trim).filter(|t| !t.is_empty());
    Ok(Json(app.points(who.actor(), kind).await?).into_response())
}

async fn import_points(State(app): State<App>, who: Must<may::PlanInspections>, upload: Upload<JsonFace>) -> AppResult<Response> {
    let file = upload.file("file")?;
    let (added, updated) = app.import_points(who.actor(), &file.bytes, upload.caller.lang).await?;
    Ok(Json(json!({ "added": added, "updated": updated })).into_response())
}

#[derive(Deserialize)]
struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
}

async fn rounds(State(app): State<App>, who: Must<may::ReadInspections>, ApiQuery(q): ApiQuery<PeriodQuery>) -> AppResult<Response> {
    let (from, to) = period(&app, q.from.as_deref(), q.to.as_deref())?;
    Ok(Json(app.rounds(who.actor(), from, to).await?).into_response())
}

async fn plan_round(State(app): State<App>, who: Must<may::PlanInspections>, ApiJson(plan): ApiJson<RoundPlan>) -> AppResult<Response> {
    Ok((StatusCode::CREATED, Json(app.plan_round(who.actor(), plan).await?)).into_response())
}

async fn round(State(app): State<App>, who: Must<may::ReadInspections>, Path(id): Path<String>) -> AppResult<Response> {
    Ok(Json(app.round(who.actor(), &id).await?).into_response())
}

#[derive(Deserialize)]
struct AssignBody {
    inspector: Option<String>,
}

async fn assign(
    State(app): State<App>,
    who: Must<may::PlanInspections>,
    Path((id, point)): Path<(String, String)>,
    ApiJson(body): ApiJson<AssignBody>,
) -> AppResult<Response> {
    app.assign_point(who.actor(), &id, &point, body.inspector).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn mine(State(app): State<App>, who: SignedIn) -> AppResult<Response> {
    Ok(Json(app.my_inspections(who.actor()).await?).into_response())
}

async fn form(State(app): State<App>, who: SignedIn, Path((id, point)): Path<(String, String)>) -> AppResult<Response> {
    Ok(Json(app.inspect_form(who.actor(), &id, &point).await?).into_response())
}

async fn submit(
    State(app): State<App>,
    who: SignedIn,
    headers: HeaderMap,
    Path((id, point)): Path<(String, String)>,
    ApiJson(input): ApiJson<SubmitInput>,
) -> AppResult<Response> {
    let key = idempotency_key(&headers)?;
    let done = app.submit_inspection(who.actor(), &id, &point, input, key.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(done)).into_response())
}

async fn inspection(State(app): State<App>, who: SignedIn, Path(id): Path<String>) -> AppResult<Response> {
    Ok(Json(app.inspection(who.actor(), &id).await?).into_response())
}

#[derive(Deserialize)]
struct RankingQuery {
    unit: Option<String>,
    from: Option<String>,
    to: Option<String>,
    by: Option<String>,
    n: Option<usize>,
    top: Option<usize>,
}

fn rank_by(q: &RankingQuery) -> AppResult<RankBy> {
    match q.by.as_deref().map(str::trim).filter(|b| !b.is_empty()) {
        Some(b) => RankBy::parse(b).ok_or_else(|| AppError::InvalidParameter("by".into())),
        None => Ok(RankBy::Community),
    }
}

async fn ranking(State(app): State<App>, who: Must<may::ReadInspections>, ApiQuery(q): ApiQuery<RankingQuery>) -> AppResult<Response> {
    let (from, to) = period(&app, q.from.as_deref(), q.to.as_deref())?;
    Ok(Json(app.ranking(who.actor(), q.unit.as_deref(), from, to, rank_by(&q)?).await?).into_response())
}

async fn export_ranking(
    State(app): State<App>,
    who: Must<may::ReadInspections>,
    Path(format): Path<String>,
    ApiQuery(q): ApiQuery<RankingQuery>,
) -> AppResult<Response> {
    let format = format_of(&format)?;
    let (from, to) = period(&app, q.from.as_deref(), q.to.as_deref())?;
    let r = app.ranking(who.actor(), q.unit.as_deref(), from, to, rank_by(&q)?).await?;
    Ok(download(app.export_ranking(&r, format, who.caller.lang)))
}

async fn composite(State(app): State<App>, who: Must<may::ReadInspections>, ApiQuery(q): ApiQuery<RankingQuery>) -> AppResult<Response> {
    let (from, to) = period(&app, q.from.as_deref(), q.to.as_deref())?;
    let n = q.n.unwrap_or(3).min(50);
    Ok(Json(app.composite_ranking(who.actor(), q.unit.as_deref(), from, to, n).await?).into_response())
}

async fn export_composite(
    State(app): State<App>,
    who: Must<may::ReadInspections>,
    Path(format): Path<String>,
    ApiQuery(q): ApiQuery<RankingQuery>,
) -> AppResult<Response> {
    let format = format_of(&format)?;
    let (from, to) = period(&app, q.from.as_deref(), q.to.as_deref())?;
    let n = q.n.unwrap_or(3).min(50);
    let r = app.composite_ranking(who.actor(), q.unit.as_deref(), from, to, n).await?;
    Ok(download(app.export_composite(&r, format, who.caller.lang)))
}

async fn weights(State(app): State<App>, who: Must<may::ReadInspections>) -> AppResult<Response> {
    Ok(Json(app.ranking_weights(who.actor()).await?).into_response())
}

async fn set_weights(State(app): State<App>, who: Must<may::ManageManual>, ApiJson(w): ApiJson<Weights>) -> AppResult<Response> {
    Ok(Json(app.set_ranking_weights(who.actor(), w).await?).into_response())
}

async fn shortfall(State(app): State<App>, who: Must<may::ReadInspections>, ApiQuery(q): ApiQuery<RankingQuery>) -> AppResult<Response> {
    let (from, to) = period(&app, q.from.as_deref(), q.to.as_deref())?;
    let top = q.top.unwrap_or(20).clamp(1, 100);
    Ok(Json(app.shortfall(who.actor(), q.unit.as_deref(), from, to, top).await?).into_response())
}

async fn export_shortfall(
    State(app): State<App>,
    who: Must<may::ReadInspections>,
    Path(format): Path<String>,
    ApiQuery(q): ApiQuery<RankingQuery>,
) -> AppResult<Response> {
    let format = format_of(&format)?;
    let (from, to) = period(&app, q.from.as_deref(), q.to.as_deref())?;
    let top = q.top.unwrap_or(50).clamp(1, 300);
    let rows = app.shortfall(who.actor(), q.unit.as_deref(), from, to, top).await?;
    let area = app.ranking(who.actor(), q.unit.as_deref(), from, to, RankBy::Community).await?.area_name;
    Ok(download(app.export_shortfall(&area, from, to, &rows, format, who.caller.lang)))
}
