//! `/api/v1/merchants…`: the 门前五包 merchant registry, its import and the pledges.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::file;
use crate::app::App;
use crate::error::AppResult;
use crate::http::extract::{ApiQuery, JsonFace, Must, SignedIn, Upload, may};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/merchants", get(list))
        .route("/merchants/import", post(import))
        .route("/merchants/{id}", get(one))
        .route("/merchants/{id}/pledge.docx", get(pledge))
}

#[derive(Deserialize)]
struct ListQuery {
    q: Option<String>,
}

async fn list(State(app): State<App>, who: Must<may::ReadOrg>, ApiQuery(q): ApiQuery<ListQuery>) -> AppResult<Response> {
    Ok(Json(app.merchants(who.actor(), q.q.as_deref()).await?).into_response())
}

async fn one(State(app): State<App>, who: SignedIn, Path(id): Path<String>) -> AppResult<Response> {
    Ok(Json(app.merchant(who.actor(), &id).await?).into_response())
}

async fn import(State(app): State<App>, who: Must<may::ManageMerchants>, upload: Upload<JsonFace>) -> AppResult<Response> {
    let f = upload.file("file")?;
    let n = app.import_merchants(who.actor(), &f.bytes, upload.caller.lang).await?;
    Ok(Json(json!({ "imported": n })).into_response())
}

async fn pledge(State(app): State<App>, who: SignedIn, Path(id): Path<String>) -> AppResult<Response> {
    let (name, bytes) = app.pledge_docx(who.actor(), &id).await?;
    Ok(file(&name, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", bytes))
}
