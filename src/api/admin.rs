//! `/api/v1` routes for administration: Open311 API keys, people import, personal data on
//! request and the access log.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::download;
use crate::app::App;
use crate::app::access::AccessFilter;
use crate::domain::privacy::PersonalRecord;
use crate::error::{AppError, AppResult, Thing};
use crate::export::ExportFormat;
use crate::http::extract::{ApiJson, ApiQuery, JsonFace, Must, Upload, may};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/apikeys", get(list_keys).post(create_key))
        .route("/apikeys/{id}/revoke", post(revoke_key))
        .route("/people/import", post(import_people))
        .route("/reveal", post(reveal))
        .route("/access-log", get(access_log))
        .route("/access-log/export.{format}", get(export_access_log))
}

async fn list_keys(State(app): State<App>, who: Must<may::ManageApiKeys>) -> AppResult<Response> {
    Ok(Json(app.api_keys(who.actor()).await?).into_response())
}

#[derive(Deserialize)]
struct KeyBody {
    name: String,
}

async fn create_key(State(app): State<App>, who: Must<may::ManageApiKeys>, ApiJson(body): ApiJson<KeyBody>) -> AppResult<Response> {
    let (id, key) = app.create_api_key(who.actor(), &body.name).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id, "name": body.name.trim(), "key": key }))).into_response())
}

async fn revoke_key(State(app): State<App>, who: Must<may::ManageApiKeys>, Path(id): Path<String>) -> AppResult<Response> {
    let n = app.revoke_api_key(who.actor(), &id).await?;
    Ok(Json(json!({ "revoked": n })).into_response())
}

/// An .xlsx or .csv of people as the multipart field `file`: all rows or none.
async fn import_people(State(app): State<App>, who: Must<may::ManagePeople>, upload: Upload<JsonFace>) -> AppResult<Response> {
    let file = upload.file("file")?;
    let n = app.import_people_bytes(who.actor(), &file.bytes, upload.caller.lang).await?;
    Ok(Json(json!({ "imported": n })).into_response())
}

#[derive(Deserialize)]
struct RevealBody {
    record: String,
    id: String,
    #[serde(default)]
    reason: Option<String>,
}

/// 查看完整信息: one record's personal data in full, written to the access log.
async fn reveal(State(app): State<App>, who: Must<may::RevealPersonalData>, ApiJson(body): ApiJson<RevealBody>) -> AppResult<Response> {
    let record = PersonalRecord::parse(&body.record)
        .filter(|r| *r != PersonalRecord::CaseExport)
        .ok_or_else(|| AppError::InvalidParameter("record".into()))?;
    let revealed = app.reveal(who.actor(), &who.caller.origin(), record, &body.id, body.reason.as_deref()).await?;
    Ok(Json(revealed).into_response())
}

#[derive(Deserialize, Default)]
struct LogQuery {
    person: Option<String>,
    record: Option<String>,
    id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<u64>,
    per_page: Option<u64>,
}

fn log_filter(q: LogQuery) -> AppResult<AccessFilter> {
    let day = |v: Option<String>, name: &str| -> AppResult<Option<chrono::NaiveDate>> {
        match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map(Some).map_err(|_| AppError::InvalidParameter(name.into())),
            None => Ok(None),
        }
    };
    let person = q.person.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let per_page = q.per_page.unwrap_or(100).clamp(1, 500);
    Ok(AccessFilter {
        actor_id: person,
        record_kind: q.record.filter(|s| !s.trim().is_empty()),
        record_id: q.id.filter(|s| !s.trim().is_empty()),
        since: day(q.from, "from")?.map(crate::domain::calendar::beijing_day_start),
        until: day(q.to, "to")?.map(|d| crate::domain::calendar::beijing_day_start(d) + 86_399_999),
        limit: per_page,
        offset: crate::app::cases::page_offset(q.page.unwrap_or(1), per_page),
    })
}

async fn access_log(State(app): State<App>, who: Must<may::ReadAccessLog>, ApiQuery(q): ApiQuery<LogQuery>) -> AppResult<Response> {
    let filter = log_filter(q)?;
    Ok(Json(app.access_log(who.actor(), filter).await?).into_response())
}

async fn export_access_log(
    State(app): State<App>,
    who: Must<may::ReadAccessLog>,
    Path(format): Path<String>,
    ApiQuery(q): ApiQuery<LogQuery>,
) -> AppResult<Response> {
    let format = ExportFormat::parse(&format).ok_or(AppError::NotFound(Thing::Resource))?;
    let filter = log_filter(q)?;
    Ok(download(app.export_access_log(who.actor(), filter, format, who.caller.lang).await?))
}
