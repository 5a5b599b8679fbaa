//! 门前五包 pages: the walking list of frontage checks on the phone (the check itself is the
//! inspection form), the registry and a shop's file on the desk, the settings
//! (responsibilities, list rules), the monthly red and black lists with publishing and the
//! A3 poster; for citizens the door page and the published lists; for a shop its login and
//! its own page.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::context;
use minijinja::value::Serde;
use serde::Deserialize;

use super::{LOGIN_CSRF_COOKIE, Page, error_page, page, page_checked, render};
use crate::app::App;
use crate::app::auth::{random_token, same_secret};
use crate::app::merchants::{month_text, parse_month};
use crate::domain::authz::Permission;
use crate::domain::merchant::{BoardRules, DutyInput};
use crate::error::AppError;
use crate::http::extract::{SignedIn, Upload};
use crate::http::{Caller, cookie, public_base, session_cookie};
use crate::i18n::{Lang, t};

const DOOR_CSRF_COOKIE: &str = "cc_door_csrf";

pub fn routes() -> Router<App> {
    Router::new()
        .route("/frontage", get(frontage))
        .route("/frontage/{id}", get(start_check))
        .route("/merchants", get(registry).post(import))
        .route("/merchants/settings", get(settings).post(save_settings))
        .route("/merchants/boards", get(board).post(publish))
        .route("/merchants/{id}", get(shop))
        .route("/merchants/{id}/code", post(reissue))
        .route("/merchants/{id}/status", post(set_status))
        .route("/boards", get(public_latest))
        .route("/boards/{month}", get(public_board))
        .route("/m/{token}", get(door))
        .route("/m/{token}/report", get(door_confirm).post(door_report))
        .route("/login/shop", get(shop_login_form).post(shop_login))
        .route("/merchant", get(merchant_home).post(merchant_answer))
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024))
}

fn this_month(app: &App) -> i64 {
    crate::domain::inspection::month_key(crate::domain::calendar::beijing_date(app.now()))
}

#[derive(Deserialize, Default)]
struct Search {
    q: Option<String>,
}

/// The walking list: shops nearest first from the phone's position (filled in by
/// `frontage.js` from the API), or found by name.
async fn frontage(State(app): State<App>, who: SignedIn<Page>, Query(s): Query<Search>) -> Response {
    let (caller, actor) = (&who.0, who.actor());
    if !actor.can_somewhere(Permission::CheckFrontage) {
        return error_page(caller.lang, &AppError::Forbidden);
    }
    let found = match s.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        Some(q) => match app.merchants(actor, Some(q)).await {
            Ok(m) => m.into_iter().filter(|m| m.merchant.status == crate::domain::merchant::MerchantStatus::Open).take(30).collect(),
            Err(e) => return error_page(caller.lang, &e),
        },
        None => Vec::new(),
    };
    page(caller, "merchants/frontage.html", context! { q => s.q.unwrap_or_default(), found => Serde(&found) })
}

/// Starts a shop's check: it joins today's round, and the inspection form takes over.
async fn start_check(State(app): State<App>, who: SignedIn<Page>, Path(id): Path<String>) -> Response {
    match app.frontage_form(who.actor(), &id).await {
        Ok(f) => match f.form.done {
            Some(done) => Redirect::to(&format!("/inspections/{done}")).into_response(),
            None => Redirect::to(&format!("/inspect/{}/{}", f.form.round.id, f.form.point.point.id)).into_response(),
        },
        Err(e) => error_page(who.0.lang, &e),
    }
}

async fn registry_page(
    app: &App,
    caller: &Caller,
    q: Option<&str>,
    message: Option<String>,
    error: Option<(String, Vec<String>)>,
) -> Response {
    let Some(actor) = caller.actor.as_ref() else { return Redirect::to("/login").into_response() };
    let list = match app.merchants(actor, q).await {
        Ok(l) => l,
        Err(e) => return error_page(caller.lang, &e),
    };
    let refused = error.is_some();
    page_checked(
        caller,
        "merchants/list.html",
        context! {
            merchants => Serde(&list),
            q => q.unwrap_or(""),
            may_import => actor.can_somewhere(Permission::ManageMerchants),
            may_settings => actor.can_somewhere(Permission::ManageManual),
            message => message,
            error => error.as_ref().map(|e| e.0.clone()),
            problems => error.map(|e| e.1).unwrap_or_default(),
            month => month_text(this_month(app)),
        },
        refused,
    )
}

async fn registry(State(app): State<App>, who: SignedIn<Page>, Query(s): Query<Search>) -> Response {
    registry_page(&app, &who.0, s.q.as_deref(), None, None).await
}

async fn import(State(app): State<App>, upload: Upload<Page>) -> Response {
    let caller = &upload.caller;
    let Some(actor) = caller.actor.clone() else { return Redirect::to("/login").into_response() };
    let lang = caller.lang;
    let Ok(f) = upload.file("file") else {
        return registry_page(&app, caller, None, None, Some((t(lang, "web.m_import_choose", &[]), Vec::new()))).await;
    };
    match app.import_merchants(&actor, &f.bytes, lang).await {
        Ok(n) => registry_page(&app, caller, None, Some(t(lang, "web.m_imported", &[("n", &n.to_string())])), None).await,
        Err(AppError::InvalidFile(ps)) => {
            let lines = ps
                .iter()
                .map(|p| {
                    if p.row > 0 {
                        t(lang, "web.m_row", &[("row", &p.row.to_string()), ("message", &p.message)])
                    } else {
                        p.message.clone()
                    }
                })
                .collect();
            registry_page(&app, caller, None, None, Some((t(lang, "web.m_import_failed", &[]), lines))).await
        }
        Err(e) => error_page(lang, &e),
    }
}

async fn shop_page(app: &App, caller: &Caller, headers: &HeaderMap, id: &str, code: Option<String>) -> Response {
    let Some(actor) = caller.actor.as_ref() else { return Redirect::to("/login").into_response() };
    let file = match app.credit_file(actor, id).await {
        Ok(f) => f,
        Err(e) => return error_page(caller.lang, &e),
    };
    let may_manage = actor.can(Permission::ManageMerchants, &file.merchant.merchant.grid_path);
    let door = if may_manage { app.door_code_svg(actor, id, &public_base(headers)).await.ok() } else { None };
    let checks: Vec<_> = file
        .checks
        .iter()
        .map(|c| {
            (
                c.inspection.id.clone(),
                super::inspect::beijing(c.inspection.at),
                c.inspector_name.clone().unwrap_or_default(),
                c.inspection.failed_items,
                super::percent(c.rate),
            )
        })
        .collect();
    page(
        caller,
        "merchants/shop.html",
        context! {
            file => Serde(&file),
            checks => Serde(checks),
            door => door.map(minijinja::Value::from_safe_string),
            may_manage => may_manage,
            may_check => actor.can_somewhere(Permission::CheckFrontage),
            code => code,
        },
    )
}

async fn shop(State(app): State<App>, who: SignedIn<Page>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    shop_page(&app, &who.0, &headers, &id, None).await
}

async fn reissue(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: super::PageForm<serde::de::IgnoredAny>,
) -> Response {
    let caller = &form.caller;
    let Some(actor) = caller.actor.as_ref() else { return Redirect::to("/login").into_response() };
    match app.reissue_login_code(actor, &id).await {
        Ok(code) => shop_page(&app, caller, &headers, &id, Some(code)).await,
        Err(e) => error_page(caller.lang, &e),
    }
}

#[derive(Deserialize)]
struct StatusForm {
    #[serde(default)]
    status: String,
}

async fn set_status(State(app): State<App>, headers: HeaderMap, Path(id): Path<String>, form: super::PageForm<StatusForm>) -> Response {
    let caller = &form.caller;
    let Some(actor) = caller.actor.as_ref() else { return Redirect::to("/login").into_response() };
    let Some(status) = crate::domain::merchant::MerchantStatus::parse(&form.form.status) else {
        return error_page(caller.lang, &AppError::InvalidParameter("status".into()));
    };
    match app.set_merchant_status(actor, &id, status).await {
        Ok(_) => shop_page(&app, caller, &headers, &id, None).await,
        Err(e) => error_page(caller.lang, &e),
    }
}

async fn settings_page(app: &App, caller: &Caller, message: Option<String>, error: Option<String>) -> Response {
    let Some(actor) = caller.actor.as_ref() else { return Redirect::to("/login").into_response() };
    if !actor.can_somewhere(Permission::ManageManual) && !actor.can_somewhere(Permission::ManageMerchants) {
        return error_page(caller.lang, &AppError::Forbidden);
    }
    let duties = app.frontage_duties().await.unwrap_or_default();
    let rules = app.board_rules().await.unwrap_or_default();
    let categories: Vec<(String, String)> = app.categories().await.unwrap_or_default().into_iter().map(|c| (c.code, c.name)).collect();
    // Ten rows: the district's responsibilities and empty rows to add more.
    let rows: Vec<(String, String, String)> = (0..10)
        .map(|i| {
            duties
                .get(i)
                .map(|d| (d.name.clone(), d.meaning.clone().unwrap_or_default(), d.category_code.clone().unwrap_or_default()))
                .unwrap_or_default()
        })
        .collect();
    let mut r = page(
        caller,
        "merchants/settings.html",
        context! {
            rows => Serde(rows),
            rules => Serde(rules),
            categories => Serde(categories),
            may_duties => actor.can_somewhere(Permission::ManageManual),
            may_rules => actor.can_somewhere(Permission::ManageMerchants) && actor.can_somewhere(Permission::ManageManual),
            message => message,
            error => error.clone(),
        },
    );
    if error.is_some() {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    r
}

async fn settings(State(app): State<App>, who: SignedIn<Page>) -> Response {
    settings_page(&app, &who.0, None, None).await
}

async fn save_settings(State(app): State<App>, upload: Upload<Page>) -> Response {
    let caller = &upload.caller;
    let Some(actor) = caller.actor.clone() else { return Redirect::to("/login").into_response() };
    let lang = caller.lang;
    let f = |k: &str| upload.fields.get(k).cloned().unwrap_or_default();
    let result = if f("what") == "rules" {
        let n = |k: &str| f(k).trim().parse::<u32>().unwrap_or(0);
        let rules = BoardRules {
            red_min_checks: n("red_min_checks"),
            black_failed_checks: n("black_failed_checks"),
            black_when_late: !f("black_when_late").is_empty(),
            referral_months: n("referral_months"),
        };
        app.set_board_rules(&actor, rules).await.map(|_| ())
    } else {
        let duties: Vec<DutyInput> = (0..10)
            .map(|i| DutyInput {
                name: f(&format!("name.{i}")),
                meaning: f(&format!("meaning.{i}")),
                category: Some(f(&format!("category.{i}"))),
            })
            .filter(|d| !d.name.trim().is_empty() || !d.meaning.trim().is_empty())
            .collect();
        app.set_frontage_duties(&actor, duties).await.map(|_| ())
    };
    match result {
        Ok(()) => settings_page(&app, caller, Some(t(lang, "web.m_saved", &[])), None).await,
        Err(e @ AppError::Invalid(_)) => settings_page(&app, caller, None, Some(e.message(lang))).await,
        Err(e) => error_page(lang, &e),
    }
}

#[derive(Deserialize, Default)]
struct BoardQuery {
    month: Option<String>,
    area: Option<String>,
    street: Option<String>,
}

async fn board_page(app: &App, caller: &Caller, q: &BoardQuery, message: Option<String>) -> Response {
    let Some(actor) = caller.actor.as_ref() else { return Redirect::to("/login").into_response() };
    let lang = caller.lang;
    let month = match q.month.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => match parse_month(m) {
            Ok(m) => m,
            Err(e) => return error_page(lang, &e),
        },
        None => this_month(app),
    };
    let board = match app.board(actor, month, q.area.as_deref(), q.street.as_deref()).await {
        Ok(b) => b,
        Err(e) => return error_page(lang, &e),
    };
    let published = app.published_months().await.unwrap_or_default();
    let dir = app.directory();
    let mut areas: Vec<(String, String)> = dir
        .units()
        .filter(|u| matches!(u.kind, crate::domain::org::OrgKind::Community | crate::domain::org::OrgKind::Subdistrict))
        .map(|u| (u.code.clone(), u.name.clone()))
        .collect();
    areas.sort();
    let area_code = dir.unit(&board.area_id).map(|u| u.code.clone()).unwrap_or_default();
    page(
        caller,
        "merchants/board.html",
        context! {
            board => Serde(&board),
            is_published => published.contains(&board.month),
            areas => Serde(areas),
            query => serde_urlencoded::to_string([("area", area_code.as_str()), ("street", q.street.as_deref().unwrap_or(""))]).unwrap_or_default(),
            area_code => area_code,
            street => q.street.clone().unwrap_or_default(),
            may_publish => actor.can_somewhere(Permission::ManageMerchants),
            message => message,
        },
    )
}

async fn board(State(app): State<App>, who: SignedIn<Page>, Query(q): Query<BoardQuery>) -> Response {
    board_page(&app, &who.0, &q, None).await
}

async fn publish(State(app): State<App>, form: super::PageForm<BoardQuery>) -> Response {
    let caller = &form.caller;
    let Some(actor) = caller.actor.as_ref() else { return Redirect::to("/login").into_response() };
    let lang = caller.lang;
    let month = match parse_month(form.form.month.as_deref().unwrap_or("")) {
        Ok(m) => m,
        Err(e) => return error_page(lang, &e),
    };
    match app.publish_board(actor, month).await {
        Ok((red, black, referred)) => {
            let msg = t(
                lang,
                "web.m_published",
                &[("red", &red.to_string()), ("black", &black.to_string()), ("referred", &referred.to_string())],
            );
            board_page(&app, caller, &form.form, Some(msg)).await
        }
        Err(e) => error_page(lang, &e),
    }
}

async fn public_latest(State(app): State<App>, caller: Caller) -> Response {
    match app.published_months().await {
        Ok(m) if !m.is_empty() => Redirect::to(&format!("/boards/{}", m[0])).into_response(),
        Ok(_) => error_page(caller.lang, &AppError::NotFound(crate::error::Thing::Board)),
        Err(e) => error_page(caller.lang, &e),
    }
}

#[derive(Deserialize, Default)]
struct AreaQuery {
    area: Option<String>,
    street: Option<String>,
}

/// The published lists, for anyone (and the printable A3 poster: the same page printed).
async fn public_board(State(app): State<App>, caller: Caller, Path(month): Path<String>, Query(q): Query<AreaQuery>) -> Response {
    let lang = caller.lang;
    let board = match parse_month(&month) {
        Ok(m) => app.published_board(m, q.area.as_deref(), q.street.as_deref()).await,
        Err(e) => Err(e),
    };
    let board = match board {
        Ok(b) => b,
        Err(e) => return error_page(lang, &e),
    };
    let months = app.published_months().await.unwrap_or_default();
    let photos = caller.actor.as_ref().is_some_and(|a| a.can_somewhere(Permission::ReadInspections));
    page(
        &caller,
        "merchants/public_board.html",
        context! { board => Serde(&board), months => months, photos => photos, area => q.area.unwrap_or_default() },
    )
}

fn with_door_cookie(mut r: Response, token: &str) -> Response {
    if let Ok(v) = format!("{DOOR_CSRF_COOKIE}={token}; Path=/m; HttpOnly; SameSite=Strict").parse() {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

async fn door(State(app): State<App>, caller: Caller, Path(token): Path<String>) -> Response {
    match app.door(&token).await {
        Ok(v) => page(&caller, "merchants/door.html", context! { shop => Serde(&v), token => token }),
        Err(e) => door_error(caller.lang, &e),
    }
}

/// A door code that is no shop's: the page says to distrust the plate.
fn door_error(lang: Lang, e: &AppError) -> Response {
    let mut r = render("error.html", lang, context! { message => e.message(lang), hint => t(lang, "web.m_door_forged", &[]) });
    *r.status_mut() = e.status();
    r
}

#[derive(Deserialize, Default)]
struct DutyQuery {
    duty: Option<String>,
}

/// The second tap: the chosen responsibility, an optional note, send.
async fn door_confirm(State(app): State<App>, caller: Caller, Path(token): Path<String>, Query(q): Query<DutyQuery>) -> Response {
    let v = match app.door(&token).await {
        Ok(v) => v,
        Err(e) => return door_error(caller.lang, &e),
    };
    let Some(duty) = v.duties.iter().find(|d| Some(&d.code) == q.duty.as_ref()).cloned() else {
        return Redirect::to(&format!("/m/{token}")).into_response();
    };
    let csrf = random_token();
    let r = render(
        "merchants/door_report.html",
        caller.lang,
        context! { shop => Serde(&v), duty => Serde(&duty), token => token, door_csrf => csrf.clone(), key => random_token() },
    );
    with_door_cookie(r, &csrf)
}

#[derive(Deserialize, Default)]
struct DoorReportForm {
    #[serde(default)]
    duty: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    door_csrf: String,
    #[serde(default)]
    key: String,
}

async fn door_report(
    State(app): State<App>,
    caller: Caller,
    headers: HeaderMap,
    Path(token): Path<String>,
    axum::Form(f): axum::Form<DoorReportForm>,
) -> Response {
    let lang = caller.lang;
    let expected = cookie(&headers, DOOR_CSRF_COOKIE).unwrap_or("");
    if expected.is_empty() || !same_secret(expected, &f.door_csrf) {
        return error_page(lang, &AppError::Csrf);
    }
    let key = Some(f.key.as_str()).filter(|k| !k.is_empty());
    match app.door_report(&token, &f.duty, Some(&f.note), key).await {
        Ok(number) => {
            let v = app.door(&token).await.ok();
            page(&caller, "merchants/door_done.html", context! { number => number, token => token, shop => Serde(&v) })
        }
        Err(e @ AppError::NotFound(_)) => door_error(lang, &e),
        Err(e) => error_page(lang, &e),
    }
}

fn shop_login_page(lang: Lang, status: StatusCode, phone: &str, error: Option<String>) -> Response {
    let token = random_token();
    let mut r = render("merchants/login.html", lang, context! { csrf_token => token.clone(), phone => phone, error => error });
    *r.status_mut() = status;
    if let Ok(v) = format!("{LOGIN_CSRF_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict").parse() {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

async fn shop_login_form(caller: Caller) -> Response {
    shop_login_page(caller.lang, StatusCode::OK, "", None)
}

#[derive(Deserialize)]
struct ShopLogin {
    #[serde(default)]
    phone: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    csrf_token: String,
}

async fn shop_login(State(app): State<App>, caller: Caller, headers: HeaderMap, axum::Form(f): axum::Form<ShopLogin>) -> Response {
    let lang = caller.lang;
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if expected.is_empty() || !same_secret(expected, &f.csrf_token) {
        return shop_login_page(lang, StatusCode::FORBIDDEN, &f.phone, Some(t(lang, "error.csrf_invalid", &[])));
    }
    match app.merchant_login(&f.phone, &f.code).await {
        Ok(s) => {
            let c = session_cookie(&s.token, app.config().session_hours * 3600);
            ([(header::SET_COOKIE, c)], Redirect::to("/merchant")).into_response()
        }
        Err(e @ AppError::Invalid(_)) => shop_login_page(lang, StatusCode::UNAUTHORIZED, &f.phone, Some(e.message(lang))),
        Err(e @ AppError::RateLimited(_)) => shop_login_page(lang, StatusCode::TOO_MANY_REQUESTS, &f.phone, Some(e.message(lang))),
        Err(e) => error_page(lang, &e),
    }
}

async fn home_page(app: &App, caller: &Caller, message: Option<String>, error: Option<String>) -> Response {
    let Some(actor) = caller.actor.as_ref() else { return Redirect::to("/login/shop").into_response() };
    let home = match app.merchant_home(actor).await {
        Ok(h) => h,
        Err(e) => return error_page(caller.lang, &e),
    };
    let lang = caller.lang;
    let cases: Vec<_> = home
        .cases
        .iter()
        .map(|c| {
            (
                c.id.clone(),
                c.number.clone(),
                c.description.clone(),
                t(lang, &format!("status.{}", c.status.as_str()), &[]),
                c.status.is_open(),
                c.handling_deadline.map(super::inspect::beijing).unwrap_or_default(),
            )
        })
        .collect();
    let checks: Vec<_> = home
        .credit
        .checks
        .iter()
        .map(|c| (super::inspect::beijing(c.inspection.at), c.inspection.failed_items, super::percent(c.rate)))
        .collect();
    page(
        caller,
        "merchants/home.html",
        context! { home => Serde(&home), cases => Serde(cases), checks => Serde(checks), message => message, error => error },
    )
}

async fn merchant_home(State(app): State<App>, caller: Caller) -> Response {
    home_page(&app, &caller, None, None).await
}

async fn merchant_answer(State(app): State<App>, upload: Upload<Page>) -> Response {
    let caller = &upload.caller;
    let Some(actor) = caller.actor.clone() else { return Redirect::to("/login/shop").into_response() };
    let lang = caller.lang;
    let case = upload.fields.get("case").cloned().unwrap_or_default();
    let note = upload.fields.get("note").cloned().unwrap_or_default();
    let mut photos = Vec::new();
    for f in upload.files.iter().filter(|f| f.field == "photos" && !f.bytes.is_empty()).take(3) {
        match app.upload_photo(Some(&actor), f.bytes.clone()).await {
            Ok(p) => photos.push(p.record.id),
            Err(e) => return home_page(&app, caller, None, Some(e.message(lang))).await,
        }
    }
    match app.merchant_answer(&actor, &case, &note, photos).await {
        Ok(()) => home_page(&app, caller, Some(t(lang, "web.m_answered", &[])), None).await,
        Err(e @ (AppError::Invalid(_) | AppError::MissingParameter(_))) => home_page(&app, caller, None, Some(e.message(lang))).await,
        Err(e) => error_page(lang, &e),
    }
}
