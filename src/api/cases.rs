//! `/api/v1` routes of the case loop.

use axum::Json;
use axum::Router;
use axum::extract::{FromRequest, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::download;
use crate::app::App;
use crate::app::cases::{ActInput, CaseFilter, NewCaseInput, page_offset};
use crate::app::export::Personal;
use crate::app::indicators::GroupBy;
use crate::domain::case::{Action, Status};
use crate::error::{AppError, AppResult, Thing};
use crate::export::ExportFormat;
use crate::http::Caller;
use crate::http::extract::{ApiCaller, ApiJson, ApiQuery, Must, SignedIn, idempotency_key, may};

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

async fn categories(State(app): State<App>) -> AppResult<Response> {
    Ok(Json(app.categories().await?).into_response())
}

async fn save_category(
    State(app): State<App>,
    who: Must<may::ManageCategories>,
    Path(code): Path<String>,
    ApiJson(mut category): ApiJson<crate::domain::category::Category>,
) -> AppResult<Response> {
    category.code = code;
    category.class_code = category.code.get(..2).unwrap_or("").to_string();
    Ok(Json(app.save_category(who.actor(), category).await?).into_response())
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
    /// Exports: `full` for reporters' names and phones in full (logged), with `reason`.
    personal: Option<String>,
    reason: Option<String>,
}

async fn list(State(app): State<App>, who: SignedIn, ApiQuery(q): ApiQuery<ListQuery>) -> AppResult<Response> {
    let filter = case_filter(&app, &q, 500).await?;
    Ok(Json(app.list_cases(who.actor(), filter).await?).into_response())
}

/// Turns list parameters into a filter; `max_per_page` bounds one page.
async fn case_filter(app: &App, q: &ListQuery, max_per_page: u64) -> AppResult<CaseFilter> {
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
        community_id: unit_id(q.community.clone()).await?,
        grid_id: unit_id(q.grid.clone()).await?,
        category_code: q.category.clone().filter(|c| !c.trim().is_empty()),
        limit: per_page,
        offset: page_offset(q.page.unwrap_or(1), per_page),
        ..Default::default()
    })
}

fn export_format(format: &str) -> AppResult<ExportFormat> {
    ExportFormat::parse(format).ok_or(AppError::NotFound(Thing::Resource))
}

/// The whole list in the caller's scope, streamed (no row limit; past Excel's sheet size it
/// continues on the next sheet). Reporters are masked unless `personal=full`.
async fn export_cases(
    State(app): State<App>,
    who: Must<may::ReadCases>,
    Path(format): Path<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Response> {
    let format = export_format(&format)?;
    let personal = match q.personal.as_deref().map(str::trim) {
        Some("full") => Personal::Full { reason: q.reason.clone() },
        None | Some("") | Some("masked") => Personal::Masked,
        Some(_) => return Err(AppError::InvalidParameter("personal".into())),
    };
    let filter = case_filter(&app, &q, 1).await?;
    let caller = &who.caller;
    Ok(download(app.export_cases(who.actor(), filter, format, personal, &caller.origin(), caller.lang).await?))
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
    let action = Action::parse(&action).ok_or(AppError::NotFound(Thing::Resource))?;
    let key = idempotency_key(&headers)?;
    // A body is optional: most actions need nothing but a note.
    let input: ActInput = if body.iter().all(u8::is_ascii_whitespace) {
        ActInput::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| AppError::BadRequest(e.to_string()))?
    };
    Ok(Json(app.act(actor, &id, action, input, key.as_deref()).await?).into_response())
}

async fn todo(State(app): State<App>, who: SignedIn) -> AppResult<Response> {
    Ok(Json(app.todo(who.actor()).await?).into_response())
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
    let format = export_format(&format)?;
    let report = indicator_report(&app, &caller, q).await?;
    Ok(download(app.export_indicators(&report, format, caller.lang)))
}

async fn indicator_report(app: &App, caller: &Caller, q: IndicatorQuery) -> AppResult<crate::app::indicators::IndicatorReport> {
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
    let is_multipart = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let bytes = if is_multipart {
        let upload = crate::http::extract::Upload::<crate::http::extract::JsonFace>::from_request(req, &app).await.map_err(|r| r.1)?;
        let actor = upload.caller.require()?.clone();
        let file = upload.file("photo")?;
        return created_photo(&app, &actor, file.bytes.clone()).await;
    } else {
        axum::body::to_bytes(req.into_body(), 32 * 1024 * 1024).await.map_err(|_| AppError::TooLarge)?
    };
    created_photo(&app, caller.require()?, bytes.to_vec()).await
}

async fn created_photo(app: &App, actor: &crate::domain::authz::Actor, bytes: Vec<u8>) -> AppResult<Response> {
    let view = app.upload_photo(Some(actor), bytes).await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

async fn photo_response(app: &App, caller: &Caller, id: &str, thumb: bool) -> AppResult<Response> {
    let actor = caller.require()?;
    let (mime, bytes) = app.photo_bytes(Some(actor), id, thumb).await?;
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
