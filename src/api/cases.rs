//! `/api/v1` routes of the case loop.

use axum::Json;
use axum::Router;
use axum::extract::{FromRequest, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{ApiJson, ApiQuery};
use crate::app::App;
use crate::app::cases::{ActInput, NewCaseInput};
use crate::app::indicators::GroupBy;
use crate::domain::case::{Action, Status};
use crate::error::{AppError, AppResult};
use crate::server::ApiCaller;
use crate::store::cases::CaseFilter;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/categories", get(categories))
        .route("/categories/{code}", axum::routing::put(save_category))
        .route("/cases", post(report).get(list))
        .route("/cases/export.{format}", get(export_cases))
        .route("/cases/{id}", get(one))
        .route("/cases/{id}/timeline", get(timeline))
        .route("/cases/{id}/actions/{action}", post(act))
        .route("/todo", get(todo))
        .route("/photos", post(upload_photo))
        .route("/photos/{id}", get(photo))
        .route("/photos/{id}/thumb", get(photo_thumb))
        .route("/indicators", get(indicators))
        .route("/indicators/export.{format}", get(export_indicators))
}

fn idempotency_key(headers: &HeaderMap) -> AppResult<Option<String>> {
    match headers.get("idempotency-key").map(|v| v.to_str()) {
        None => Ok(None),
        Some(Ok(k)) if !k.trim().is_empty() && k.len() <= 128 => Ok(Some(k.trim().to_string())),
        Some(_) => Err(AppError::InvalidParameter("Idempotency-Key".into())),
    }
}

async fn categories(State(app): State<App>) -> AppResult<Response> {
    Ok(Json(app.categories().await?).into_response())
}

async fn save_category(
    State(app): State<App>,
    ApiCaller(caller): ApiCaller,
    Path(code): Path<String>,
    ApiJson(mut category): ApiJson<crate::domain::category::Category>,
) -> AppResult<Response> {
    let actor = caller.require()?;
    category.code = code;
    category.class_code = category.code.get(..2).unwrap_or("").to_string();
    Ok(Json(app.save_category(actor, category).await?).into_response())
}

async fn report(
    State(app): State<App>,
    ApiCaller(caller): ApiCaller,
    headers: HeaderMap,
    ApiJson(input): ApiJson<NewCaseInput>,
) -> AppResult<Response> {
    let key = idempotency_key(&headers)?;
    let created = app.report_case(caller.actor.as_ref(), input, key.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
    community: Option<String>,
    grid: Option<String>,
    category: Option<String>,
    page: Option<u64>,
    per_page: Option<u64>,
}

async fn list(State(app): State<App>, ApiCaller(caller): ApiCaller, ApiQuery(q): ApiQuery<ListQuery>) -> AppResult<Response> {
    let actor = caller.require()?;
    let filter = case_filter(&app, q, 500).await?;
    Ok(Json(app.list_cases(actor, filter).await?).into_response())
}

/// Turns list parameters into a filter; `max_per_page` bounds one page.
async fn case_filter(app: &App, q: ListQuery, max_per_page: u64) -> AppResult<CaseFilter> {
    let statuses = match q.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(list) => list
            .split(',')
            .map(|s| Status::parse(s.trim()).ok_or_else(|| AppError::InvalidParameter("status".into())))
            .collect::<AppResult<Vec<_>>>()?,
        None => Vec::new(),
    };
    let unit_id = |code: Option<String>| {
        let app = app.clone();
        async move {
            match code.map(|c| c.trim().to_string()).filter(|c| !c.is_empty()) {
                Some(c) => app.unit_by_code(&c).await.map(|u| Some(u.map(|u| u.id).unwrap_or_default())),
                None => Ok(None),
            }
        }
    };
    let per_page = q.per_page.unwrap_or(50).clamp(1, max_per_page);
    Ok(CaseFilter {
        statuses,
        community_id: unit_id(q.community).await?,
        grid_id: unit_id(q.grid).await?,
        category_code: q.category.filter(|c| !c.trim().is_empty()),
        limit: per_page,
        offset: crate::store::cases::page_offset(q.page.unwrap_or(1), per_page),
        ..Default::default()
    })
}

fn download(format: &str, stem: &str, table: &crate::export::Table) -> AppResult<Response> {
    let (bytes, mime) = match format {
        "xlsx" => (crate::export::to_xlsx(table)?, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        "csv" => (crate::export::to_csv(table)?, "text/csv; charset=utf-8"),
        _ => return Err(AppError::NotFound("resource")),
    };
    let disposition = format!("attachment; filename=\"{stem}.{format}\"");
    Ok(([(axum::http::header::CONTENT_TYPE, mime.to_string()), (axum::http::header::CONTENT_DISPOSITION, disposition)], bytes)
        .into_response())
}

async fn export_cases(
    State(app): State<App>,
    ApiCaller(caller): ApiCaller,
    Path(format): Path<String>,
    ApiQuery(mut q): ApiQuery<ListQuery>,
) -> AppResult<Response> {
    let actor = caller.require()?;
    // One sheet of up to 10,000 rows; page through for more.
    q.per_page = Some(q.per_page.unwrap_or(10_000));
    let filter = case_filter(&app, q, 10_000).await?;
    let cases = app.list_cases(actor, filter).await?;
    download(&format, "cases", &crate::export::cases_table(caller.lang, &cases))
}

async fn one(State(app): State<App>, ApiCaller(caller): ApiCaller, Path(id): Path<String>) -> AppResult<Response> {
    let actor = caller.require()?;
    Ok(Json(app.case_view(actor, &id).await?).into_response())
}

async fn timeline(State(app): State<App>, ApiCaller(caller): ApiCaller, Path(id): Path<String>) -> AppResult<Response> {
    let actor = caller.require()?;
    Ok(Json(app.timeline(actor, &id).await?).into_response())
}

async fn act(
    State(app): State<App>,
    ApiCaller(caller): ApiCaller,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let actor = caller.require()?;
    let action = Action::parse(&action).ok_or(AppError::NotFound("resource"))?;
    let key = idempotency_key(&headers)?;
    // A body is optional: most actions need nothing but a note.
    let input: ActInput = if body.iter().all(u8::is_ascii_whitespace) {
        ActInput::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| AppError::BadRequest(e.to_string()))?
    };
    Ok(Json(app.act(Some(actor), &id, action, input, key.as_deref()).await?).into_response())
}

async fn todo(State(app): State<App>, ApiCaller(caller): ApiCaller) -> AppResult<Response> {
    let actor = caller.require()?;
    Ok(Json(app.todo(actor).await?).into_response())
}

#[derive(Deserialize)]
struct IndicatorQuery {
    unit: Option<String>,
    from: Option<String>,
    to: Option<String>,
    by: Option<String>,
}

fn day(raw: Option<&str>, name: &str) -> AppResult<Option<chrono::NaiveDate>> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map(Some).map_err(|_| AppError::InvalidParameter(name.into())),
        None => Ok(None),
    }
}

async fn indicators(State(app): State<App>, ApiCaller(caller): ApiCaller, ApiQuery(q): ApiQuery<IndicatorQuery>) -> AppResult<Response> {
    Ok(Json(indicator_report(&app, &caller, q).await?).into_response())
}

async fn export_indicators(
    State(app): State<App>,
    ApiCaller(caller): ApiCaller,
    Path(format): Path<String>,
    ApiQuery(q): ApiQuery<IndicatorQuery>,
) -> AppResult<Response> {
    let report = indicator_report(&app, &caller, q).await?;
    download(&format, "indicators", &crate::export::indicators_table(caller.lang, &report))
}

async fn indicator_report(
    app: &App,
    caller: &crate::server::Caller,
    q: IndicatorQuery,
) -> AppResult<crate::app::indicators::IndicatorReport> {
    let actor = caller.require()?;
    let today = crate::domain::calendar::beijing_date(app.now());
    let to = day(q.to.as_deref(), "to")?.unwrap_or(today);
    let from = day(q.from.as_deref(), "from")?.unwrap_or(to - chrono::Duration::days(29));
    let by = match q.by.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(b) => GroupBy::parse(b).ok_or_else(|| AppError::InvalidParameter("by".into()))?,
        None => GroupBy::Community,
    };
    let unit = q.unit.as_deref().map(str::trim).filter(|s| !s.is_empty());
    app.indicators(actor, unit, from, to, by).await
}

/// A photo as `multipart/form-data` (field `photo`, or the first file field), or as the raw
/// request body. Type is judged from the bytes, not from the name or header.
async fn upload_photo(State(app): State<App>, ApiCaller(caller): ApiCaller, req: axum::extract::Request) -> AppResult<Response> {
    let actor = caller.require()?;
    let is_multipart = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let bytes = if is_multipart {
        let mut form = axum::extract::Multipart::from_request(req, &app).await.map_err(|e| AppError::BadRequest(e.body_text()))?;
        let mut found = None;
        while let Some(field) = form.next_field().await.map_err(|e| AppError::BadRequest(e.body_text()))? {
            if field.name() == Some("photo") || field.file_name().is_some() {
                found = Some(field.bytes().await.map_err(|e| {
                    if e.status() == StatusCode::PAYLOAD_TOO_LARGE { AppError::TooLarge } else { AppError::BadRequest(e.body_text()) }
                })?);
                break;
            }
        }
        found.ok_or(AppError::MissingParameter("photo".into()))?
    } else {
        axum::body::to_bytes(req.into_body(), 32 * 1024 * 1024).await.map_err(|_| AppError::TooLarge)?
    };
    let view = app.upload_photo(Some(actor), bytes.to_vec()).await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

async fn photo_response(app: &App, caller: &crate::server::Caller, id: &str, thumb: bool) -> AppResult<Response> {
    caller.require()?;
    let (mime, bytes) = app.photo_bytes(id, thumb).await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, mime), (axum::http::header::CACHE_CONTROL, "private, max-age=86400, immutable".to_string())],
        bytes,
    )
        .into_response())
}

async fn photo(State(app): State<App>, ApiCaller(caller): ApiCaller, Path(id): Path<String>) -> AppResult<Response> {
    photo_response(&app, &caller, &id, false).await
}

async fn photo_thumb(State(app): State<App>, ApiCaller(caller): ApiCaller, Path(id): Path<String>) -> AppResult<Response> {
    photo_response(&app, &caller, &id, true).await
}
