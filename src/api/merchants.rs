//! `/api/v1/merchants…`: 门前五包 — the merchant registry and its import, pledges, the
//! responsibilities, frontage checks, red and black lists, credit files and door codes;
//! `/api/v1/door/…` and `/api/v1/public/boards…` for citizens; `/api/v1/merchant/…` for a
//! shop's own account.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::{SessionInfo, file};
use crate::app::App;
use crate::app::inspections::SubmitInput;
use crate::app::merchants::parse_month;
use crate::domain::merchant::{BoardRules, DutyInput};
use crate::error::AppResult;
use crate::http::extract::{ApiJson, ApiQuery, JsonFace, Must, SignedIn, Upload, idempotency_key, may};
use crate::http::{public_base, session_cookie};

const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

pub fn routes() -> Router<App> {
    Router::new()
        .route("/merchants", get(list))
        .route("/merchants/import", post(import))
        .route("/merchants/nearby", get(nearby))
        .route("/merchants/duties", get(duties).put(set_duties))
        .route("/merchants/board-rules", get(rules).put(set_rules))
        .route("/merchants/boards", get(board))
        .route("/merchants/boards/{month}/publish", post(publish))
        .route("/merchants/boards/{month}/poster.docx", get(poster))
        .route("/merchants/{id}", get(one))
        .route("/merchants/{id}/status", axum::routing::put(set_status))
        .route("/merchants/{id}/pledge.docx", get(pledge))
        .route("/merchants/{id}/check", get(check_form))
        .route("/merchants/{id}/checks", post(check))
        .route("/merchants/{id}/credit", get(credit))
        .route("/merchants/{id}/door.svg", get(door_svg))
        .route("/merchants/{id}/login-code", post(reissue_code))
        .route("/door/{token}", get(door))
        .route("/door/{token}/reports", post(door_report))
        .route("/public/boards", get(public_months))
        .route("/public/boards/{month}", get(public_board))
        .route("/merchant/login", post(merchant_login))
        .route("/merchant/me", get(merchant_home))
        .route("/merchant/cases/{id}/answer", post(merchant_answer))
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

async fn pledge(State(app): State<App>, who: SignedIn, headers: HeaderMap, Path(id): Path<String>) -> AppResult<Response> {
    let (name, bytes) = app.pledge_docx(who.actor(), &id, &public_base(&headers)).await?;
    Ok(file(&name, DOCX, bytes))
}

#[derive(Deserialize)]
struct StatusBody {
    status: crate::domain::merchant::MerchantStatus,
}

async fn set_status(
    State(app): State<App>,
    who: Must<may::ManageMerchants>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<StatusBody>,
) -> AppResult<Response> {
    Ok(Json(app.set_merchant_status(who.actor(), &id, body.status).await?).into_response())
}

#[derive(Deserialize)]
struct Place {
    lat: f64,
    lon: f64,
}

async fn nearby(State(app): State<App>, who: Must<may::CheckFrontage>, ApiQuery(p): ApiQuery<Place>) -> AppResult<Response> {
    Ok(Json(app.nearby_merchants(who.actor(), p.lat, p.lon).await?).into_response())
}

async fn duties(State(app): State<App>, _who: SignedIn) -> AppResult<Response> {
    Ok(Json(app.frontage_duties().await?).into_response())
}

#[derive(Deserialize)]
struct DutiesBody {
    duties: Vec<DutyInput>,
}

async fn set_duties(State(app): State<App>, who: Must<may::ManageManual>, ApiJson(body): ApiJson<DutiesBody>) -> AppResult<Response> {
    let manual = app.set_frontage_duties(who.actor(), body.duties).await?;
    Ok(Json(json!({ "manual": manual, "duties": app.frontage_duties().await? })).into_response())
}

async fn rules(State(app): State<App>, _who: SignedIn) -> AppResult<Response> {
    Ok(Json(app.board_rules().await?).into_response())
}

async fn set_rules(State(app): State<App>, who: Must<may::ManageMerchants>, ApiJson(body): ApiJson<BoardRules>) -> AppResult<Response> {
    Ok(Json(app.set_board_rules(who.actor(), body).await?).into_response())
}

#[derive(Deserialize)]
struct BoardQuery {
    month: Option<String>,
    area: Option<String>,
    street: Option<String>,
}

fn month_or_now(app: &App, m: Option<&str>) -> AppResult<i64> {
    match m.map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => parse_month(m),
        None => Ok(crate::domain::inspection::month_key(crate::domain::calendar::beijing_date(app.now()))),
    }
}

async fn board(State(app): State<App>, who: Must<may::ReadInspections>, ApiQuery(q): ApiQuery<BoardQuery>) -> AppResult<Response> {
    let month = month_or_now(&app, q.month.as_deref())?;
    Ok(Json(app.board(who.actor(), month, q.area.as_deref(), q.street.as_deref()).await?).into_response())
}

async fn publish(State(app): State<App>, who: Must<may::ManageMerchants>, Path(month): Path<String>) -> AppResult<Response> {
    let (red, black, referred) = app.publish_board(who.actor(), parse_month(&month)?).await?;
    Ok(Json(json!({ "month": month, "red": red, "black": black, "referred": referred })).into_response())
}

#[derive(Deserialize)]
struct AreaQuery {
    area: Option<String>,
    street: Option<String>,
}

async fn poster(
    State(app): State<App>,
    who: Must<may::ReadInspections>,
    Path(month): Path<String>,
    ApiQuery(q): ApiQuery<AreaQuery>,
) -> AppResult<Response> {
    let (name, bytes) = app.board_poster(who.actor(), parse_month(&month)?, q.area.as_deref(), q.street.as_deref()).await?;
    Ok(file(&name, DOCX, bytes))
}

async fn check_form(State(app): State<App>, who: Must<may::CheckFrontage>, Path(id): Path<String>) -> AppResult<Response> {
    Ok(Json(app.frontage_form(who.actor(), &id).await?).into_response())
}

async fn check(
    State(app): State<App>,
    who: Must<may::CheckFrontage>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SubmitInput>,
) -> AppResult<Response> {
    let key = idempotency_key(&headers)?;
    let done = app.check_frontage(who.actor(), &id, body, key.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(done)).into_response())
}

async fn credit(State(app): State<App>, who: SignedIn, Path(id): Path<String>) -> AppResult<Response> {
    Ok(Json(app.credit_file(who.actor(), &id).await?).into_response())
}

async fn door_svg(State(app): State<App>, who: SignedIn, headers: HeaderMap, Path(id): Path<String>) -> AppResult<Response> {
    let svg = app.door_code_svg(who.actor(), &id, &public_base(&headers)).await?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

async fn reissue_code(State(app): State<App>, who: Must<may::ManageMerchants>, Path(id): Path<String>) -> AppResult<Response> {
    Ok(Json(json!({ "code": app.reissue_login_code(who.actor(), &id).await? })).into_response())
}

async fn door(State(app): State<App>, Path(token): Path<String>) -> AppResult<Response> {
    Ok(Json(app.door(&token).await?).into_response())
}

#[derive(Deserialize)]
struct DoorReport {
    duty: String,
    note: Option<String>,
}

async fn door_report(
    State(app): State<App>,
    headers: HeaderMap,
    Path(token): Path<String>,
    ApiJson(body): ApiJson<DoorReport>,
) -> AppResult<Response> {
    let key = idempotency_key(&headers)?;
    let number = app.door_report(&token, &body.duty, body.note.as_deref(), key.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(json!({ "number": number }))).into_response())
}

async fn public_months(State(app): State<App>) -> AppResult<Response> {
    Ok(Json(json!({ "months": app.published_months().await? })).into_response())
}

async fn public_board(State(app): State<App>, Path(month): Path<String>, ApiQuery(q): ApiQuery<AreaQuery>) -> AppResult<Response> {
    Ok(Json(app.published_board(parse_month(&month)?, q.area.as_deref(), q.street.as_deref()).await?).into_response())
}

#[derive(Deserialize)]
struct MerchantLogin {
    phone: String,
    code: String,
}

async fn merchant_login(State(app): State<App>, ApiJson(body): ApiJson<MerchantLogin>) -> AppResult<Response> {
    let s = app.merchant_login(&body.phone, &body.code).await?;
    let cookie = session_cookie(&s.token, app.config().session_hours * 3600);
    Ok(([(header::SET_COOKIE, cookie)], Json(SessionInfo::of(&s.actor, Some(&s.csrf_token)))).into_response())
}

async fn merchant_home(State(app): State<App>, who: Must<may::ActAsMerchant>) -> AppResult<Response> {
    Ok(Json(app.merchant_home(who.actor()).await?).into_response())
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    note: String,
    #[serde(default)]
    photos: Vec<String>,
}

async fn merchant_answer(
    State(app): State<App>,
    who: Must<may::ActAsMerchant>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Answer>,
) -> AppResult<Response> {
    app.merchant_answer(who.actor(), &id, &body.note, body.photos).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
