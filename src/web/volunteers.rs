//! 志愿服务 pages: for a volunteer on the phone — my service (hours, star, activities, sign
//! up), the scan page a check-in code opens; for an organiser — the activities, one activity
//! with its list, confirmations and hand records, the full-screen rotating code; on the desk —
//! the registry with its import and a volunteer's ledger with certificates; for anyone — the
//! public calendar and the certificate check.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::context;
use minijinja::value::Serde;
use serde::Deserialize;

use super::{Page, PageForm, error_page, page, page_checked};
use crate::app::App;
use crate::app::volunteers::{ActivityInput, CertificateInput};
use crate::domain::authz::Permission;
use crate::domain::calendar::{beijing_date, beijing_day_start, beijing_text};
use crate::domain::coords::LatLon;
use crate::domain::volunteer::ActivityKind;
use crate::error::AppError;
use crate::http::extract::{SignedIn, Upload};
use crate::http::{Caller, public_base};
use crate::i18n::t;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/v", get(mine))
        .route("/v/scan/{id}", get(scan_page).post(scan))
        .route("/activities", get(activities).post(create))
        .route("/activities/{id}", get(activity))
        .route("/activities/{id}/signup", post(sign_up))
        .route("/activities/{id}/cancel-signup", post(cancel_signup))
        .route("/activities/{id}/code", get(code_page))
        .route("/activities/{id}/confirm", post(confirm))
        .route("/activities/{id}/record", post(record))
        .route("/activities/{id}/corrections/{correction}", post(decide))
        .route("/v/corrections/{attendance}", post(ask_correction))
        .route("/volunteers", get(registry).post(import))
        .route("/volunteers/{id}", get(volunteer))
        .route("/volunteers/{id}/certificates", post(issue))
        .route("/certificates/{id}", get(certificate))
        .route("/verify/{id}", get(verify))
        .route("/calendar", get(calendar))
}

fn when(ms: i64) -> String {
    beijing_text(ms)
}

/// The time of day of a stored time (`09:30`).
fn clock(ms: i64) -> String {
    beijing_text(ms).rsplit(' ').next().unwrap_or_default().to_string()
}

/// The activities a page lists: from a week ago to two months ahead.
fn window(app: &App) -> (i64, i64) {
    let today = beijing_date(app.now());
    (beijing_day_start(today - chrono::Duration::days(7)), beijing_day_start(today + chrono::Duration::days(60)))
}

fn times(list: &[crate::app::volunteers::ActivityView]) -> Vec<(String, String)> {
    list.iter().map(|a| (when(a.activity.starts_at), clock(a.activity.ends_at))).collect()
}

/// My service: hours, star, the activities I may join, my records.
async fn mine(State(app): State<App>, who: SignedIn<Page>, headers: HeaderMap) -> Response {
    let (caller, actor) = (&who.0, who.actor());
    let ledger = match app.my_ledger(actor).await {
        Ok(l) => l,
        Err(e) => return error_page(caller.lang, &e),
    };
    let (from, to) = window(&app);
    let list = app.activities(actor, from, to).await.unwrap_or_default();
    let now = app.now();
    let upcoming: Vec<_> = list.into_iter().filter(|a| a.activity.ends_at + 2 * 3_600_000 >= now && !a.activity.cancelled).collect();
    let rules = app.hours_rules().await.unwrap_or_default();
    let entries: Vec<(String, String)> = ledger.entries.iter().map(|e| (when(e.starts_at), e.hours.clone())).collect();
    let certificates = app.certificates_of(actor, &ledger.volunteer.volunteer.id, &public_base(&headers)).await.unwrap_or_default();
    page(
        caller,
        "volunteers/mine.html",
        context! {
            ledger => Serde(&ledger),
            entries => entries,
            upcoming => Serde(&upcoming),
            upcoming_times => times(&upcoming),
            stars => rules.stars,
            certificates => Serde(&certificates),
        },
    )
}

async fn activity_page(app: &App, caller: &Caller, id: &str, message: Option<String>, error: Option<String>) -> Response {
    let Some(actor) = caller.actor.as_ref() else { return Redirect::to("/login").into_response() };
    let a = match app.activity(actor, id).await {
        Ok(a) => a,
        Err(e) => return error_page(caller.lang, &e),
    };
    let rows: Vec<(String, String)> = a
        .signups
        .iter()
        .map(|s| {
            let att = s.attendance.as_ref();
            (
                att.and_then(|x| x.checked_in_at).map(clock).unwrap_or_default(),
                att.and_then(|x| x.checked_out_at).map(clock).unwrap_or_default(),
            )
        })
        .collect();
    let pending = a
        .signups
        .iter()
        .filter(|s| s.attendance.as_ref().is_some_and(|x| x.state == crate::domain::volunteer::AttendanceState::Pending))
        .count();
    let refused = error.is_some();
    page_checked(
        caller,
        "volunteers/activity.html",
        context! {
            a => Serde(&a),
            starts => when(a.activity.starts_at),
            ends => clock(a.activity.ends_at),
            closes => when(a.activity.closes_at),
            rows => rows,
            pending => pending,
            message => message,
            error => error,
        },
        refused,
    )
}

async fn activity(State(app): State<App>, who: SignedIn<Page>, Path(id): Path<String>) -> Response {
    activity_page(&app, &who.0, &id, None, None).await
}

#[derive(Deserialize, Default)]
struct Empty {}

async fn sign_up(State(app): State<App>, Path(id): Path<String>, form: PageForm<Empty>) -> Response {
    let caller = &form.caller;
    let Some(actor) = caller.actor.as_ref() else { return Redirect::to("/login").into_response() };
    match app.sign_up(actor, &id).await {
        Ok(a) => {
            let key = if a.mine == Some(crate::domain::volunteer::SignupState::Waiting) { "web.v_waiting_now" } else { "web.v_signed_now" };
            activity_page(&app, caller, &id, Some(t(caller.lang, key, &[])), None).await
        }
        Err(e @ AppError::Invalid(_)) => activity_page(&app, caller, &id, None, Some(e.message(caller.lang))).await,
        Err(e) => error_page(caller.lang, &e),
    }
}

async fn cancel_signup(State(app): State<App>, Path(id): Path<String>, form: PageForm<Empty>) -> Response {
    let caller = &form.caller;
    let Some(actor) = caller.actor.as_ref() else { return Redirect::to("/login").into_response() };
    match app.cancel_signup(actor, &id).await {
        Ok(_) => activity_page(&app, caller, &id, Some(t(caller.lang, "web.v_cancelled_now", &[])), None).await,
        Err(e @ AppError::Invalid(_)) => activity_page(&app, caller, &id, None, Some(e.message(caller.lang))).await,
        Err(e) => error_page(caller.lang, &e),
    }
}

#[derive(Deserialize, Default)]
struct ScanQuery {
    c: Option<String>,
}

async fn scan_page_with(app: &App, caller: &Caller, id: &str, code: &str, message: Option<String>, error: Option<String>) -> Response {
    let Some(actor) = caller.actor.as_ref() else { return Redirect::to("/login").into_response() };
    let a = match app.activity(actor, id).await {
        Ok(a) => a,
        Err(e) => return error_page(caller.lang, &e),
    };
    let present = a.my_attendance.as_ref().is_some_and(|x| x.state == crate::domain::volunteer::AttendanceState::Present);
    let done = a.my_attendance.as_ref().is_some_and(|x| x.checked_out_at.is_some() || x.by_hand);
    let refused = error.is_some();
    page_checked(
        caller,
        "volunteers/scan.html",
        context! {
            a => Serde(&a),
            starts => when(a.activity.starts_at),
            ends => clock(a.activity.ends_at),
            code => code,
            present => present,
            done => done,
            minutes => a.my_attendance.as_ref().map(|x| crate::domain::volunteer::hours_text(x.minutes)),
            message => message,
            error => error,
        },
        refused,
    )
}

/// What a check-in code opens: the activity, and one button that sends the phone's position.
async fn scan_page(State(app): State<App>, who: SignedIn<Page>, Path(id): Path<String>, Query(q): Query<ScanQuery>) -> Response {
    scan_page_with(&app, &who.0, &id, q.c.as_deref().unwrap_or(""), None, None).await
}

#[derive(Deserialize, Default)]
struct ScanForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    lat: String,
    #[serde(default)]
    lon: String,
}

async fn scan(State(app): State<App>, Path(id): Path<String>, form: PageForm<ScanForm>) -> Response {
    let caller = &form.caller;
    let Some(actor) = caller.actor.as_ref() else { return Redirect::to("/login").into_response() };
    let at = match (form.form.lat.trim().parse::<f64>(), form.form.lon.trim().parse::<f64>()) {
        (Ok(lat), Ok(lon)) if lat.is_finite() && lon.is_finite() => Some(LatLon { lat, lon }),
        _ => None,
    };
    match app.scan_checkin(actor, &id, &form.form.code, at, None).await {
        Ok(row) => {
            let key = if row.checked_out_at.is_some() { "web.v_checked_out" } else { "web.v_checked_in" };
            let hours = crate::domain::volunteer::hours_text(row.minutes);
            scan_page_with(&app, caller, &id, "", Some(t(caller.lang, key, &[("hours", &hours)])), None).await
        }
        Err(e @ AppError::Invalid(_)) => scan_page_with(&app, caller, &id, &form.form.code, None, Some(e.message(caller.lang))).await,
        Err(e) => error_page(caller.lang, &e),
    }
}

/// The organiser's phone held up to the volunteers: the code, renewed by `volunteer.js`.
async fn code_page(State(app): State<App>, who: SignedIn<Page>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let (caller, actor) = (&who.0, who.actor());
    let a = match app.activity(actor, &id).await {
        Ok(a) => a,
        Err(e) => return error_page(caller.lang, &e),
    };
    match app.checkin_code(actor, &id, &public_base(&headers)).await {
        Ok(c) => page(caller, "volunteers/code.html", context! { a => Serde(&a), code => Serde(&c) }),
        Err(e) => error_page(caller.lang, &e),
    }
}

#[derive(Deserialize, Default)]
struct ConfirmForm {
    #[serde(default)]
    accept: String,
}

async fn confirm(State(app): State<App>, Path(id): Path<String>, form: PageForm<ConfirmForm>) -> Response {
    let caller = &form.caller;
    let Some(actor) = caller.actor.as_ref() else { return Redirect::to("/login").into_response() };
    match app.confirm_attendance(actor, &id, &[], form.form.accept != "no").await {
        Ok(n) => activity_page(&app, caller, &id, Some(t(caller.lang, "web.v_confirmed_n", &[("n", &n.to_string())])), None).await,
        Err(e @ AppError::Invalid(_)) => activity_page(&app, caller, &id, None, Some(e.message(caller.lang))).await,
        Err(e) => error_page(caller.lang, &e),
    }
}

#[derive(Deserialize, Default)]
struct RecordForm {
    #[serde(default)]
    volunteer_id: String,
    #[serde(default)]
    hours: String,
    #[serde(default)]
    note: String,
}

async fn record(State(app): State<App>, Path(id): Path<String>, form: PageForm<RecordForm>) -> Response {
    let caller = &form.caller;
    let Some(actor) = caller.actor.as_ref() else { return Redirect::to("/login").into_response() };
    let Ok(hours) = form.form.hours.trim().parse::<f64>() else {
        return activity_page(&app, caller, &id, None, Some(AppError::Invalid(crate::error::Invalid::Minutes).message(caller.lang))).await;
    };
    let minutes = (hours * 60.0).round() as i64;
    match app.record_attendance(actor, &id, &form.form.volunteer_id, minutes, Some(&form.form.note)).await {
        Ok(_) => activity_page(&app, caller, &id, Some(t(caller.lang, "web.v_recorded", &[])), None).await,
        Err(e @ (AppError::Invalid(_) | AppError::NotFound(_))) => {
            activity_page(&app, caller, &id, None, Some(e.message(caller.lang))).await
        }
        Err(e) => error_page(caller.lang, &e),
    }
}

#[derive(Deserialize, Default)]
struct DecideForm {
    #[serde(default)]
    accept: String,
}

async fn decide(State(app): State<App>, Path((id, correction)): Path<(String, String)>, form: PageForm<DecideForm>) -> Response {
    let caller = &form.caller;
    let Some(actor) = caller.actor.as_ref() else { return Redirect::to("/login").into_response() };
    match app.decide_correction(actor, &correction, form.form.accept == "yes", None).await {
        Ok(_) => activity_page(&app, caller, &id, Some(t(caller.lang, "web.v_decided", &[])), None).await,
        Err(e @ AppError::Invalid(_)) => activity_page(&app, caller, &id, None, Some(e.message(caller.lang))).await,
        Err(e) => error_page(caller.lang, &e),
    }
}

#[derive(Deserialize, Default)]
struct CorrectionForm {
    #[serde(default)]
    hours: String,
    #[serde(default)]
    reason: String,
}

/// A volunteer asks for a record to be corrected, from their own page.
async fn ask_correction(State(app): State<App>, Path(attendance): Path<String>, form: PageForm<CorrectionForm>) -> Response {
    let caller = &form.caller;
    let Some(actor) = caller.actor.as_ref() else { return Redirect::to("/login").into_response() };
    let minutes = form.form.hours.trim().parse::<f64>().ok().filter(|h| h.is_finite() && *h >= 0.0).map(|h| (h * 60.0).round() as i64);
    let result = match minutes {
        Some(m) => app.ask_correction(actor, &attendance, m, &form.form.reason).await.map(|_| ()),
        None => Err(AppError::Invalid(crate::error::Invalid::Minutes)),
    };
    match result {
        Ok(()) => Redirect::to("/v").into_response(),
        Err(e @ AppError::Invalid(_)) => {
            page_checked(caller, "volunteers/message.html", context! { error => e.message(caller.lang) }, true)
        }
        Err(e) => error_page(caller.lang, &e),
    }
}

async fn activities_page(
    app: &App,
    caller: &Caller,
    message: Option<String>,
    error: Option<String>,
    input: Option<&ActivityForm>,
) -> Response {
    let Some(actor) = caller.actor.as_ref() else { return Redirect::to("/login").into_response() };
    let (from, to) = window(app);
    let list = match app.activities(actor, from, to).await {
        Ok(l) => l,
        Err(e) => return error_page(caller.lang, &e),
    };
    let teams: Vec<(String, String)> = {
        let dir = app.directory();
        let mut v: Vec<(String, String)> = dir
            .units()
            .filter(|u| u.kind == crate::domain::org::OrgKind::Team && actor.can(Permission::OrganiseActivities, &u.path))
            .map(|u| (u.id.clone(), u.name.clone()))
            .collect();
        v.sort_by(|a, b| a.1.cmp(&b.1));
        v
    };
    let refused = error.is_some();
    page_checked(
        caller,
        "volunteers/activities.html",
        context! {
            list => Serde(&list),
            times => times(&list),
            teams => teams,
            kinds => ActivityKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
            may_organise => actor.can_somewhere(Permission::OrganiseActivities),
            message => message,
            error => error,
            f => input.map(|f| Serde(f.clone())),
        },
        refused,
    )
}

async fn activities(State(app): State<App>, who: SignedIn<Page>) -> Response {
    activities_page(&app, &who.0, None, None, None).await
}

#[derive(Deserialize, Default, Clone, serde::Serialize)]
struct ActivityForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    team: String,
    #[serde(default)]
    place: String,
    #[serde(default)]
    lat: String,
    #[serde(default)]
    lon: String,
    #[serde(default)]
    starts: String,
    #[serde(default)]
    ends: String,
    #[serde(default)]
    capacity: String,
    #[serde(default)]
    services: String,
    #[serde(default)]
    public: Option<String>,
}

async fn create(State(app): State<App>, form: PageForm<ActivityForm>) -> Response {
    let caller = &form.caller;
    let Some(actor) = caller.actor.as_ref() else { return Redirect::to("/login").into_response() };
    let f = &form.form;
    let num = |s: &str| s.trim().parse::<f64>().ok();
    let (Some(lat), Some(lon)) = (num(&f.lat), num(&f.lon)) else {
        let msg = AppError::Invalid(crate::error::Invalid::ActivityPlace).message(caller.lang);
        return activities_page(&app, caller, None, Some(msg), Some(f)).await;
    };
    let input = ActivityInput {
        title: f.title.clone(),
        kind: f.kind.clone(),
        services: f.services.split(['、', ',', ',', ' ']).map(str::to_string).collect(),
        team: f.team.clone(),
        place: f.place.clone(),
        lat,
        lon,
        starts: f.starts.clone(),
        // An end written as a time alone is on the start's day.
        ends: match (f.ends.trim().len() <= 5, f.starts.get(..10)) {
            (true, Some(day)) => format!("{day} {}", f.ends.trim()),
            _ => f.ends.clone(),
        },
        closes: None,
        capacity: f.capacity.trim().parse().unwrap_or(0),
        public: f.public.is_some(),
        note: None,
    };
    match app.create_activity(actor, input).await {
        Ok(a) => Redirect::to(&format!("/activities/{}", a.activity.id)).into_response(),
        Err(e @ AppError::Invalid(_)) => activities_page(&app, caller, None, Some(e.message(caller.lang)), Some(f)).await,
        Err(e) => error_page(caller.lang, &e),
    }
}

#[derive(Deserialize, Default)]
struct Search {
    q: Option<String>,
}

async fn registry_page(
    app: &App,
    caller: &Caller,
    q: Option<&str>,
    message: Option<String>,
    error: Option<(String, Vec<String>)>,
) -> Response {
    let Some(actor) = caller.actor.as_ref() else { return Redirect::to("/login").into_response() };
    let list = match app.volunteers(actor, q, None).await {
        Ok(l) => l,
        Err(e) => return error_page(caller.lang, &e),
    };
    let refused = error.is_some();
    page_checked(
        caller,
        "volunteers/list.html",
        context! {
            volunteers => Serde(&list),
            q => q.unwrap_or(""),
            message => message,
            error => error.as_ref().map(|e| e.0.clone()),
            problems => error.map(|e| e.1).unwrap_or_default(),
        },
        refused,
    )
}

async fn registry(State(app): State<App>, who: SignedIn<Page>, Query(s): Query<Search>) -> Response {
    registry_page(&app, &who.0, s.q.as_deref(), None, None).await
}

async fn import(State(app): State<App>, upload: Upload<Page>) -> Response {
    let caller = &upload.caller;
    let lang = caller.lang;
    let Some(actor) = caller.actor.as_ref() else { return Redirect::to("/login").into_response() };
    let Ok(f) = upload.file("file") else {
        return registry_page(&app, caller, None, None, Some((t(lang, "web.m_import_choose", &[]), Vec::new()))).await;
    };
    match app.import_volunteers(actor, &f.bytes, lang).await {
        Ok(n) => registry_page(&app, caller, None, Some(t(lang, "web.v_imported", &[("n", &n.to_string())])), None).await,
        Err(AppError::InvalidFile(problems)) => {
            let lines =
                problems.iter().map(|p| t(lang, "web.m_problem_row", &[("row", &p.row.to_string()), ("message", &p.message)])).collect();
            registry_page(&app, caller, None, None, Some((t(lang, "web.m_import_failed", &[]), lines))).await
        }
        Err(e @ AppError::Conflict(_)) => registry_page(&app, caller, None, None, Some((e.message(lang), Vec::new()))).await,
        Err(e) => error_page(lang, &e),
    }
}

async fn volunteer_page(
    app: &App,
    caller: &Caller,
    headers: &HeaderMap,
    id: &str,
    message: Option<String>,
    error: Option<String>,
) -> Response {
    let Some(actor) = caller.actor.as_ref() else { return Redirect::to("/login").into_response() };
    let ledger = match app.ledger(actor, id).await {
        Ok(l) => l,
        Err(e) => return error_page(caller.lang, &e),
    };
    let certificates = app.certificates_of(actor, id, &public_base(headers)).await.unwrap_or_default();
    let entries: Vec<(String, String)> = ledger.entries.iter().map(|e| (when(e.starts_at), e.hours.clone())).collect();
    let stars: Vec<(i64, String)> =
        ledger.stars.iter().map(|(s, at)| (*s, when(*at).split(' ').next().unwrap_or_default().to_string())).collect();
    let refused = error.is_some();
    page_checked(
        caller,
        "volunteers/volunteer.html",
        context! {
            ledger => Serde(&ledger),
            entries => entries,
            stars => stars,
            certificates => Serde(&certificates),
            may_issue => actor.can(Permission::ManageVolunteers, &ledger.volunteer.volunteer.grid_path),
            message => message,
            error => error,
        },
        refused,
    )
}

async fn volunteer(State(app): State<App>, who: SignedIn<Page>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    volunteer_page(&app, &who.0, &headers, &id, None, None).await
}

async fn issue(State(app): State<App>, headers: HeaderMap, Path(id): Path<String>, form: PageForm<CertificateInput>) -> Response {
    let caller = &form.caller;
    let Some(actor) = caller.actor.as_ref() else { return Redirect::to("/login").into_response() };
    match app.issue_certificate(actor, &id, form.form.clone(), &public_base(&headers)).await {
        Ok(c) => Redirect::to(&format!("/certificates/{}", c.id)).into_response(),
        Err(e @ AppError::Invalid(_)) => volunteer_page(&app, caller, &headers, &id, None, Some(e.message(caller.lang))).await,
        Err(e) => error_page(caller.lang, &e),
    }
}

/// A certificate as printed (with its Word document a click away).
async fn certificate(State(app): State<App>, who: SignedIn<Page>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    match app.certificate(who.actor(), &id, &public_base(&headers)).await {
        Ok(c) => {
            let qr = crate::export::qr::qr_svg(&c.verify_url).unwrap_or_default();
            page(&who.0, "volunteers/certificate.html", context! { c => Serde(&c), qr => qr, public => false })
        }
        Err(e) => error_page(who.0.lang, &e),
    }
}

#[derive(Deserialize, Default)]
struct VerifyQuery {
    k: Option<String>,
}

/// The public check a certificate's QR code opens.
async fn verify(
    State(app): State<App>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<VerifyQuery>,
) -> Response {
    match app.verify_certificate(&id, q.k.as_deref().unwrap_or(""), &public_base(&headers)).await {
        Ok(c) => page(&caller, "volunteers/certificate.html", context! { c => Serde(&c), qr => "", public => true }),
        Err(e) => error_page(caller.lang, &e),
    }
}

/// The public calendar of service fairs and other open activities.
async fn calendar(State(app): State<App>, caller: Caller) -> Response {
    let (from, to) = window(&app);
    match app.public_activities(from, to).await {
        Ok(list) => page(&caller, "volunteers/calendar.html", context! { list => Serde(&list), times => times(&list) }),
        Err(e) => error_page(caller.lang, &e),
    }
}
