//! `/api/v1/volunteers…`, `/api/v1/activities…`: 志愿服务 — the volunteer registry and its
//! import, team membership, activities with sign-up and the rotating check-in code, the hours
//! ledger with confirmations and corrections, certificates; `/api/v1/volunteer/me` for a
//! volunteer's own record; `/api/v1/public/…` for the public calendar and the certificate
//! check.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::file;
use crate::app::App;
use crate::app::volunteers::{ActivityInput, CertificateInput, Outcome, VolunteerInput};
use crate::domain::coords::LatLon;
use crate::domain::volunteer::HoursRules;
use crate::error::{AppError, AppResult, Invalid};
use crate::http::extract::{ApiJson, ApiQuery, JsonFace, Must, SignedIn, Upload, may};
use crate::http::public_base;

const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

pub fn routes() -> Router<App> {
    Router::new()
        .route("/volunteers", get(list).post(register))
        .route("/volunteers/import", post(import))
        .route("/volunteers/hours-rules", get(rules).put(set_rules))
        .route("/volunteers/{id}", get(one))
        .route("/volunteers/{id}/teams", post(join))
        .route("/volunteers/{id}/teams/{team}", axum::routing::delete(leave))
        .route("/volunteers/{id}/ledger", get(ledger))
        .route("/volunteers/{id}/certificates", get(certificates).post(issue))
        .route("/volunteer/me", get(me))
        .route("/certificates/{id}", get(certificate))
        .route("/certificates/{id}/certificate.docx", get(certificate_docx))
        .route("/activities", get(activities).post(create))
        .route("/activities/{id}", get(activity).put(update))
        .route("/activities/{id}/cancel", post(cancel))
        .route("/activities/{id}/outcome", post(outcome))
        .route("/activities/{id}/signup", post(sign_up).delete(cancel_signup))
        .route("/activities/{id}/code", get(code))
        .route("/activities/{id}/scan", post(scan))
        .route("/activities/{id}/attendance", post(record))
        .route("/activities/{id}/confirm", post(confirm))
        .route("/attendances/{id}/corrections", post(ask_correction))
        .route("/corrections/{id}/decision", post(decide))
        .route("/public/activities", get(public_activities))
        .route("/public/certificates/{id}", get(verify))
}

#[derive(Deserialize)]
struct ListQuery {
    q: Option<String>,
    team: Option<String>,
}

async fn list(State(app): State<App>, who: Must<may::ManageVolunteers>, ApiQuery(q): ApiQuery<ListQuery>) -> AppResult<Response> {
    Ok(Json(app.volunteers(who.actor(), q.q.as_deref(), q.team.as_deref()).await?).into_response())
}

async fn register(State(app): State<App>, who: Must<may::ManageVolunteers>, ApiJson(body): ApiJson<VolunteerInput>) -> AppResult<Response> {
    Ok((axum::http::StatusCode::CREATED, Json(app.register_volunteer(who.actor(), body).await?)).into_response())
}

async fn import(State(app): State<App>, who: Must<may::ManageVolunteers>, upload: Upload<JsonFace>) -> AppResult<Response> {
    let f = upload.file("file")?;
    let n = app.import_volunteers(who.actor(), &f.bytes, upload.caller.lang).await?;
    Ok(Json(json!({ "imported": n })).into_response())
}

async fn rules(State(app): State<App>, _who: SignedIn) -> AppResult<Response> {
    Ok(Json(app.hours_rules().await?).into_response())
}

async fn set_rules(State(app): State<App>, who: Must<may::ManageVolunteers>, ApiJson(body): ApiJson<HoursRules>) -> AppResult<Response> {
    Ok(Json(app.set_hours_rules(who.actor(), body).await?).into_response())
}

async fn one(State(app): State<App>, who: SignedIn, Path(id): Path<String>) -> AppResult<Response> {
    Ok(Json(app.volunteer(who.actor(), &id).await?).into_response())
}

#[derive(Deserialize)]
struct TeamBody {
    team: String,
}

async fn join(
    State(app): State<App>,
    who: Must<may::ManageVolunteers>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<TeamBody>,
) -> AppResult<Response> {
    Ok(Json(app.join_team(who.actor(), &id, &b.team).await?).into_response())
}

async fn leave(State(app): State<App>, who: Must<may::ManageVolunteers>, Path((id, team)): Path<(String, String)>) -> AppResult<Response> {
    Ok(Json(app.leave_team(who.actor(), &id, &team).await?).into_response())
}

async fn ledger(State(app): State<App>, who: SignedIn, Path(id): Path<String>) -> AppResult<Response> {
    Ok(Json(app.ledger(who.actor(), &id).await?).into_response())
}

async fn me(State(app): State<App>, who: Must<may::ActAsVolunteer>) -> AppResult<Response> {
    Ok(Json(app.my_ledger(who.actor()).await?).into_response())
}

async fn certificates(State(app): State<App>, who: SignedIn, headers: HeaderMap, Path(id): Path<String>) -> AppResult<Response> {
    Ok(Json(app.certificates_of(who.actor(), &id, &public_base(&headers)).await?).into_response())
}

async fn issue(
    State(app): State<App>,
    who: Must<may::ManageVolunteers>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CertificateInput>,
) -> AppResult<Response> {
    let c = app.issue_certificate(who.actor(), &id, body, &public_base(&headers)).await?;
    Ok((axum::http::StatusCode::CREATED, Json(c)).into_response())
}

async fn certificate(State(app): State<App>, who: SignedIn, headers: HeaderMap, Path(id): Path<String>) -> AppResult<Response> {
    Ok(Json(app.certificate(who.actor(), &id, &public_base(&headers)).await?).into_response())
}

async fn certificate_docx(State(app): State<App>, who: SignedIn, headers: HeaderMap, Path(id): Path<String>) -> AppResult<Response> {
    let (name, bytes) = app.certificate_docx(who.actor(), &id, &public_base(&headers)).await?;
    Ok(file(&name, DOCX, bytes))
}

#[derive(Deserialize)]
struct VerifyQuery {
    k: Option<String>,
}

async fn verify(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<VerifyQuery>,
) -> AppResult<Response> {
    Ok(Json(app.verify_certificate(&id, q.k.as_deref().unwrap_or(""), &public_base(&headers)).await?).into_response())
}

#[derive(Deserialize)]
struct Period {
    /// YYYY-MM-DD (Beijing), default 30 days ago.
    from: Option<String>,
    /// YYYY-MM-DD, exclusive, default 90 days after `from`.
    to: Option<String>,
}

/// A period of days as stored times.
pub(crate) fn period(app: &App, from: Option<&str>, to: Option<&str>) -> AppResult<(i64, i64)> {
    use crate::domain::calendar::{beijing_date, beijing_day_start};
    let day = |s: &str| chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| AppError::Invalid(Invalid::Period));
    let from = match from.filter(|s| !s.trim().is_empty()) {
        Some(f) => day(f)?,
        None => beijing_date(app.now()) - chrono::Duration::days(30),
    };
    let to = match to.filter(|s| !s.trim().is_empty()) {
        Some(t) => day(t)?,
        None => from + chrono::Duration::days(90),
    };
    if to <= from || (to - from).num_days() > 400 {
        return Err(AppError::Invalid(Invalid::Period));
    }
    Ok((beijing_day_start(from), beijing_day_start(to)))
}

async fn activities(State(app): State<App>, who: SignedIn, ApiQuery(p): ApiQuery<Period>) -> AppResult<Response> {
    let (from, to) = period(&app, p.from.as_deref(), p.to.as_deref())?;
    Ok(Json(app.activities(who.actor(), from, to).await?).into_response())
}

async fn public_activities(State(app): State<App>, ApiQuery(p): ApiQuery<Period>) -> AppResult<Response> {
    let (from, to) = period(&app, p.from.as_deref(), p.to.as_deref())?;
    Ok(Json(app.public_activities(from, to).await?).into_response())
}

async fn create(State(app): State<App>, who: Must<may::OrganiseActivities>, ApiJson(body): ApiJson<ActivityInput>) -> AppResult<Response> {
    Ok((axum::http::StatusCode::CREATED, Json(app.create_activity(who.actor(), body).await?)).into_response())
}

async fn activity(State(app): State<App>, who: SignedIn, Path(id): Path<String>) -> AppResult<Response> {
    Ok(Json(app.activity(who.actor(), &id).await?).into_response())
}

async fn update(
    State(app): State<App>,
    who: Must<may::OrganiseActivities>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ActivityInput>,
) -> AppResult<Response> {
    Ok(Json(app.update_activity(who.actor(), &id, body).await?).into_response())
}

async fn cancel(State(app): State<App>, who: Must<may::OrganiseActivities>, Path(id): Path<String>) -> AppResult<Response> {
    Ok(Json(app.cancel_activity(who.actor(), &id).await?).into_response())
}

async fn outcome(
    State(app): State<App>,
    who: Must<may::OrganiseActivities>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<Outcome>,
) -> AppResult<Response> {
    Ok(Json(app.record_outcome(who.actor(), &id, b).await?).into_response())
}

async fn sign_up(State(app): State<App>, who: Must<may::ActAsVolunteer>, Path(id): Path<String>) -> AppResult<Response> {
    Ok(Json(app.sign_up(who.actor(), &id).await?).into_response())
}

async fn cancel_signup(State(app): State<App>, who: Must<may::ActAsVolunteer>, Path(id): Path<String>) -> AppResult<Response> {
    Ok(Json(app.cancel_signup(who.actor(), &id).await?).into_response())
}

async fn code(
    State(app): State<App>,
    who: Must<may::OrganiseActivities>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> AppResult<Response> {
    Ok(Json(app.checkin_code(who.actor(), &id, &public_base(&headers)).await?).into_response())
}

#[derive(Deserialize)]
struct ScanBody {
    code: String,
    lat: Option<f64>,
    lon: Option<f64>,
    /// true: check out; false: check in; absent: whichever is next.
    check_out: Option<bool>,
}

async fn scan(
    State(app): State<App>,
    who: Must<may::ActAsVolunteer>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ScanBody>,
) -> AppResult<Response> {
    let at = match (b.lat, b.lon) {
        (Some(lat), Some(lon)) => Some(LatLon { lat, lon }),
        _ => None,
    };
    Ok(Json(app.scan_checkin(who.actor(), &id, &b.code, at, b.check_out).await?).into_response())
}

#[derive(Deserialize)]
struct RecordBody {
    volunteer_id: String,
    minutes: i64,
    note: Option<String>,
}

async fn record(
    State(app): State<App>,
    who: Must<may::OrganiseActivities>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<RecordBody>,
) -> AppResult<Response> {
    Ok(Json(app.record_attendance(who.actor(), &id, &b.volunteer_id, b.minutes, b.note.as_deref()).await?).into_response())
}

#[derive(Deserialize)]
struct ConfirmBody {
    #[serde(default)]
    ids: Vec<String>,
    #[serde(default = "yes")]
    accept: bool,
}

fn yes() -> bool {
    true
}

async fn confirm(
    State(app): State<App>,
    who: Must<may::OrganiseActivities>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ConfirmBody>,
) -> AppResult<Response> {
    let n = app.confirm_attendance(who.actor(), &id, &b.ids, b.accept).await?;
    Ok(Json(json!({ "decided": n })).into_response())
}

#[derive(Deserialize)]
struct CorrectionBody {
    minutes: i64,
    reason: String,
}

async fn ask_correction(
    State(app): State<App>,
    who: Must<may::ActAsVolunteer>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<CorrectionBody>,
) -> AppResult<Response> {
    Ok((axum::http::StatusCode::CREATED, Json(app.ask_correction(who.actor(), &id, b.minutes, &b.reason).await?)).into_response())
}

#[derive(Deserialize)]
struct DecisionBody {
    accept: bool,
    answer: Option<String>,
}

async fn decide(
    State(app): State<App>,
    who: Must<may::OrganiseActivities>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<DecisionBody>,
) -> AppResult<Response> {
    Ok(Json(app.decide_correction(who.actor(), &id, b.accept, b.answer.as_deref()).await?).into_response())
}
