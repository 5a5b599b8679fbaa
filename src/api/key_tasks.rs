//! `/api/v1/tasks…`: key tasks (重点任务) and drives (专项整治), their board, progress and
//! warnings.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::app::App;
use crate::app::key_tasks::{ProgressInput, TaskInput};
use crate::error::AppResult;
use crate::http::extract::{ApiJson, Must, SignedIn, may};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/tasks", get(board).post(create))
        .route("/tasks/warnings", get(warnings))
        .route("/tasks/{id}", get(one))
        .route("/tasks/{id}/milestones/{milestone}/progress", post(progress))
}

async fn board(State(app): State<App>, who: Must<may::ReadIndicators>) -> AppResult<Response> {
    Ok(Json(app.task_board(who.actor()).await?).into_response())
}

async fn create(State(app): State<App>, who: Must<may::ManageTasks>, ApiJson(input): ApiJson<TaskInput>) -> AppResult<Response> {
    Ok((StatusCode::CREATED, Json(app.create_task(who.actor(), input).await?)).into_response())
}

async fn warnings(State(app): State<App>, who: Must<may::ReportProgress>) -> AppResult<Response> {
    Ok(Json(app.task_warnings(who.actor()).await?).into_response())
}

async fn one(State(app): State<App>, who: SignedIn, Path(id): Path<String>) -> AppResult<Response> {
    Ok(Json(app.key_task(who.actor(), &id).await?).into_response())
}

async fn progress(
    State(app): State<App>,
    who: Must<may::ReportProgress>,
    Path((id, milestone)): Path<(String, String)>,
    ApiJson(input): ApiJson<ProgressInput>,
) -> AppResult<Response> {
    Ok(Json(app.report_progress(who.actor(), &id, &milestone, input).await?).into_response())
}
