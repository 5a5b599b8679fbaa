//! `/api/v1/reports…`: info reports (信息报送) sent, reviewed, counted and downloaded.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::NaiveDate;
use serde::Deserialize;

use super::file;
use crate::app::App;
use crate::app::info_reports::{ReportFilter, ReportInput, ReviewInput};
use crate::error::{AppError, AppResult};
use crate::http::extract::{ApiJson, ApiQuery, Must, SignedIn, may};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/reports", get(list).post(submit))
        .route("/reports/counts", get(counts))
        .route("/reports/{id}", get(one).put(resubmit))
        .route("/reports/{id}/review", post(review))
        .route("/reports/{id}/document.docx", get(docx))
}

async fn list(State(app): State<App>, who: SignedIn, ApiQuery(f): ApiQuery<ReportFilter>) -> AppResult<Response> {
    Ok(Json(app.info_reports(who.actor(), f).await?).into_response())
}

async fn submit(State(app): State<App>, who: Must<may::SubmitReports>, ApiJson(input): ApiJson<ReportInput>) -> AppResult<Response> {
    Ok((StatusCode::CREATED, Json(app.submit_report(who.actor(), input).await?)).into_response())
}

async fn one(State(app): State<App>, who: SignedIn, Path(id): Path<String>) -> AppResult<Response> {
    Ok(Json(app.info_report(who.actor(), &id).await?).into_response())
}

async fn resubmit(
    State(app): State<App>,
    who: Must<may::SubmitReports>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ReportInput>,
) -> AppResult<Response> {
    Ok(Json(app.resubmit_report(who.actor(), &id, input).await?).into_response())
}

async fn review(
    State(app): State<App>,
    who: Must<may::ReviewReports>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ReviewInput>,
) -> AppResult<Response> {
    Ok(Json(app.review_report(who.actor(), &id, input).await?).into_response())
}

async fn docx(State(app): State<App>, who: SignedIn, Path(id): Path<String>) -> AppResult<Response> {
    let (name, bytes) = app.report_docx(who.actor(), &id).await?;
    Ok(file(&name, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", bytes))
}

#[derive(Deserialize)]
struct CountsQuery {
    unit: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

fn day(raw: Option<&str>, name: &str) -> AppResult<Option<NaiveDate>> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").map(Some).map_err(|_| AppError::InvalidParameter(name.into())),
        None => Ok(None),
    }
}

async fn counts(State(app): State<App>, who: Must<may::ReadInspections>, ApiQuery(q): ApiQuery<CountsQuery>) -> AppResult<Response> {
    let today = crate::domain::calendar::beijing_date(app.now());
    let to = day(q.to.as_deref(), "to")?.unwrap_or(today);
    let from = day(q.from.as_deref(), "from")?.unwrap_or(to - chrono::Duration::days(29));
    if from > to {
        return Err(AppError::Invalid(crate::error::Invalid::Period));
    }
    Ok(Json(app.report_counts(who.actor(), q.unit.as_deref(), from, to).await?).into_response())
}
