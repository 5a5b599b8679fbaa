//! `/api/v1/bulletins…` and `/api/v1/notices…`: inspection bulletins (督查通报) drafted,
//! edited, issued, corrected and downloaded; rectification notices answered.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::file;
use crate::app::App;
use crate::app::bulletins::{AccountInput, AnswerInput, BulletinFilter, EditInput, NewBulletin, ScoreInput};
use crate::error::AppResult;
use crate::http::extract::{ApiJson, ApiQuery, Must, SignedIn, may};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/bulletins", get(list).post(draft))
        .route("/bulletins/{id}", get(one).put(edit))
        .route("/bulletins/{id}/issue", post(issue))
        .route("/bulletins/{id}/correct", post(correct))
        .route("/bulletins/{id}/document.docx", get(docx))
        .route("/bulletins/{id}/tables.xlsx", get(xlsx))
        .route("/bulletins/{id}/meeting", get(meeting))
        .route("/bulletins/{id}/scores", post(score))
        .route("/bulletins/{id}/accounts", post(account))
        .route("/notices", get(notices))
        .route("/notices/{id}", get(notice))
        .route("/notices/{id}/items/{item}/answer", post(answer))
}

async fn list(State(app): State<App>, who: SignedIn, ApiQuery(f): ApiQuery<BulletinFilter>) -> AppResult<Response> {
    Ok(Json(app.bulletins(who.actor(), f).await?).into_response())
}

async fn draft(State(app): State<App>, who: Must<may::WriteBulletins>, ApiJson(n): ApiJson<NewBulletin>) -> AppResult<Response> {
    Ok((StatusCode::CREATED, Json(app.draft_bulletin(who.actor(), n).await?)).into_response())
}

async fn one(State(app): State<App>, who: SignedIn, Path(id): Path<String>) -> AppResult<Response> {
    Ok(Json(app.bulletin(who.actor(), &id).await?).into_response())
}

async fn edit(
    State(app): State<App>,
    who: Must<may::WriteBulletins>,
    Path(id): Path<String>,
    ApiJson(e): ApiJson<EditInput>,
) -> AppResult<Response> {
    Ok(Json(app.edit_bulletin(who.actor(), &id, e).await?).into_response())
}

#[derive(Deserialize)]
struct IssueBody {
    revision: i64,
}

async fn issue(
    State(app): State<App>,
    who: Must<may::WriteBulletins>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<IssueBody>,
) -> AppResult<Response> {
    Ok(Json(app.issue_bulletin(who.actor(), &id, b.revision).await?).into_response())
}

async fn correct(State(app): State<App>, who: Must<may::WriteBulletins>, Path(id): Path<String>) -> AppResult<Response> {
    Ok((StatusCode::CREATED, Json(app.correct_bulletin(who.actor(), &id).await?)).into_response())
}

async fn docx(State(app): State<App>, who: SignedIn, Path(id): Path<String>) -> AppResult<Response> {
    let (name, bytes) = app.bulletin_docx(who.actor(), &id).await?;
    Ok(file(&name, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", bytes))
}

async fn xlsx(State(app): State<App>, who: SignedIn, Path(id): Path<String>) -> AppResult<Response> {
    let (name, bytes) = app.bulletin_xlsx(who.actor(), &id, who.0.lang).await?;
    Ok(file(&name, crate::export::ExportFormat::Xlsx.mime(), bytes))
}

#[derive(Deserialize)]
struct NoticesQuery {
    #[serde(default)]
    all: Option<bool>,
}

async fn notices(State(app): State<App>, who: Must<may::AnswerNotices>, ApiQuery(q): ApiQuery<NoticesQuery>) -> AppResult<Response> {
    Ok(Json(app.my_notices(who.actor(), q.all.unwrap_or(false)).await?).into_response())
}

async fn notice(State(app): State<App>, who: SignedIn, Path(id): Path<String>) -> AppResult<Response> {
    Ok(Json(app.notice(who.actor(), &id).await?).into_response())
}

async fn answer(
    State(app): State<App>,
    who: Must<may::AnswerNotices>,
    Path((id, item)): Path<(String, String)>,
    ApiJson(input): ApiJson<AnswerInput>,
) -> AppResult<Response> {
    Ok(Json(app.answer_notice(who.actor(), &id, &item, input).await?).into_response())
}

#[derive(Deserialize)]
struct MeetingQuery {
    #[serde(default)]
    unit: Option<String>,
}

async fn meeting(
    State(app): State<App>,
    who: SignedIn,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<MeetingQuery>,
) -> AppResult<Response> {
    Ok(Json(app.meeting(who.actor(), &id, q.unit.as_deref()).await?).into_response())
}

async fn score(
    State(app): State<App>,
    who: Must<may::ReviewUnits>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ScoreInput>,
) -> AppResult<Response> {
    Ok(Json(app.score_unit(who.actor(), &id, input).await?).into_response())
}

async fn account(
    State(app): State<App>,
    who: Must<may::AnswerNotices>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<AccountInput>,
) -> AppResult<Response> {
    Ok(Json(app.account_unit(who.actor(), &id, input).await?).into_response())
}
