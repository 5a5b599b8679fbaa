//! Server-rendered pages. Templates (auto-escaped, `.html`) and assets are embedded in the
//! binary; every string comes from the message catalogue.

mod admin;
mod cases;
mod dashboard;
mod grids;
mod report;
mod svg;

use std::sync::OnceLock;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use minijinja::{Environment, context};
use serde::{Deserialize, Serialize};

use crate::api::session_cookie;
use crate::app::App;
use crate::app::auth::{random_token, same_secret};
use crate::error::AppError;
use crate::i18n::{Catalog, Lang};
use crate::server::{Caller, LANG_COOKIE, Via, cookie};

const LOGIN_CSRF_COOKIE: &str = "cc_login_csrf";

const TEMPLATES: [(&str, &str); 12] = [
    ("admin.html", include_str!("../../templates/admin.html")),
    ("grid.html", include_str!("../../templates/grid.html")),
    ("dashboard.html", include_str!("../../templates/dashboard.html")),
    ("report.html", include_str!("../../templates/report.html")),
    ("apikeys.html", include_str!("../../templates/apikeys.html")),
    ("todo.html", include_str!("../../templates/todo.html")),
    ("desk.html", include_str!("../../templates/desk.html")),
    ("case.html", include_str!("../../templates/case.html")),
    ("base.html", include_str!("../../templates/base.html")),
    ("home.html", include_str!("../../templates/home.html")),
    ("login.html", include_str!("../../templates/login.html")),
    ("error.html", include_str!("../../templates/error.html")),
];
const CSS: &str = include_str!("../../templates/app.css");

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            // Templates are compiled in and rendered by the tests; a broken one is a build defect.
            env.add_template(name, source).expect("embedded template parses");
        }
        env
    })
}

fn render(name: &str, lang: Lang, ctx: minijinja::Value) -> Response {
    let base = context! { t => Catalog::get(lang).section("web"), lang => lang.tag() };
    let result = env().get_template(name).and_then(|t| t.render(context! { ..ctx, ..base }));
    match result {
        Ok(html) => Html(html).into_response(),
        Err(e) => AppError::Internal(format!("template {name}: {e}")).into_response(),
    }
}

/// A rate as a percentage with one decimal; a dash when there is nothing to divide.
fn percent(v: Option<f64>) -> String {
    v.map(|x| format!("{:.1}%", x * 100.0)).unwrap_or_else(|| "—".into())
}

/// A page for the caller: adds who is logged in (for the header) and the CSRF token.
fn page(caller: &Caller, name: &str, ctx: minijinja::Value) -> Response {
    let user = caller.actor.as_ref().map(|a| {
        context! {
            name => a.name.clone(),
            roles => a.grants.iter().map(|g| g.role.as_str()).collect::<Vec<_>>(),
        }
    });
    render(name, caller.lang, context! { user => user, csrf_token => caller.csrf_token(), ..ctx })
}

pub fn routes() -> Router<App> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_form).post(login_submit))
        .route("/logout", axum::routing::post(logout))
        .route("/lang/{tag}", get(switch_language))
        .route("/static/app.css", get(css))
        .route("/admin/apikeys", get(apikeys_page).post(apikeys_create))
        .route("/admin/apikeys/{id}/revoke", axum::routing::post(apikeys_revoke))
        .merge(cases::routes())
        .merge(report::routes())
        .merge(dashboard::routes())
        .merge(grids::routes())
        .merge(admin::routes())
        .fallback(page_not_found)
}

async fn page_not_found(caller: Caller) -> Response {
    let e = AppError::NotFound("page");
    let mut r = render("error.html", caller.lang, context! { message => e.message(caller.lang) });
    *r.status_mut() = StatusCode::NOT_FOUND;
    r
}

async fn css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")], CSS).into_response()
}

#[derive(Serialize)]
struct CommunityRow {
    code: String,
    name: String,
    grids: usize,
}

async fn home(State(app): State<App>, caller: Caller) -> Response {
    let dir = app.directory();
    let mut communities: Vec<CommunityRow> = Vec::new();
    for g in dir.grids() {
        match communities.iter_mut().find(|c| c.code == g.community.code) {
            Some(c) => c.grids += 1,
            None => communities.push(CommunityRow { code: g.community.code.clone(), name: g.community.name.clone(), grids: 1 }),
        }
    }
    communities.sort_by(|a, b| a.code.cmp(&b.code));
    page(
        &caller,
        "home.html",
        context! {
            grid_count => dir.len(),
            community_count => communities.len(),
            communities => minijinja::value::Serde(&communities),
        },
    )
}

fn login_page(lang: Lang, status: StatusCode, username: &str, error: Option<String>) -> Response {
    let token = random_token();
    let mut response = render("login.html", lang, context! { csrf_token => token.clone(), username => username, error => error });
    *response.status_mut() = status;
    if let Ok(v) = format!("{LOGIN_CSRF_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict").parse() {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

async fn login_form(caller: Caller) -> Response {
    if caller.actor.is_some() {
        return Redirect::to("/").into_response();
    }
    login_page(caller.lang, StatusCode::OK, "", None)
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf_token: String,
}

async fn login_submit(State(app): State<App>, caller: Caller, headers: HeaderMap, Form(form): Form<LoginForm>) -> Response {
    let lang = caller.lang;
    let t = |key: &str| crate::i18n::t(lang, key, &[]);
    // Login forms use a double-submit token: the cookie set with the form must come back
    // with the same value in the form.
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if expected.is_empty() || !same_secret(expected, &form.csrf_token) {
        return login_page(lang, StatusCode::FORBIDDEN, &form.username, Some(t("error.csrf_invalid")));
    }
    if form.username.trim().is_empty() || form.password.is_empty() {
        return login_page(lang, StatusCode::UNPROCESSABLE_ENTITY, &form.username, Some(t("web.login_required_fields")));
    }
    match app.login(&form.username, &form.password).await {
        Ok(s) => {
            let cookie = session_cookie(&s.token, app.config().session_hours * 3600);
            ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
        }
        Err(AppError::BadCredentials) => login_page(lang, StatusCode::UNAUTHORIZED, &form.username, Some(t("error.bad_credentials"))),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf_token: String,
}

async fn logout(State(app): State<App>, caller: Caller, Form(form): Form<CsrfForm>) -> Response {
    if let Err(e) = caller.check_csrf(Some(&form.csrf_token)) {
        let mut r = render("error.html", caller.lang, context! { message => e.message(caller.lang) });
        *r.status_mut() = e.status();
        return r;
    }
    if let Via::Session { token, .. } = &caller.via
        && let Err(e) = app.logout(token).await
    {
        return e.into_response();
    }
    ([(header::SET_COOKIE, session_cookie("", 0))], Redirect::to("/login")).into_response()
}

async fn switch_language(Path(tag): Path<String>, headers: HeaderMap) -> Response {
    let lang = Lang::from_tag(&tag).unwrap_or_default();
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.find("://").and_then(|i| r[i + 3..].find('/').map(|j| r[i + 3 + j..].to_string())))
        .filter(|p| p.starts_with('/') && !p.starts_with("//") && !p.starts_with("/lang/"))
        .unwrap_or_else(|| "/".to_string());
    let cookie = format!("{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax", lang.tag());
    ([(header::SET_COOKIE, cookie)], Redirect::to(&back)).into_response()
}

fn error_page(lang: Lang, e: &AppError) -> Response {
    let mut r = render("error.html", lang, context! { message => e.message(lang) });
    *r.status_mut() = e.status();
    r
}

/// Admin pages need a system admin; anyone else is sent to log in or told no.
fn require_admin(caller: &Caller) -> Result<(), Response> {
    match &caller.actor {
        None => Err(Redirect::to("/login").into_response()),
        Some(a) if a.has_role(crate::domain::authz::Role::SystemAdmin) => Ok(()),
        Some(_) => Err(error_page(caller.lang, &AppError::Forbidden)),
    }
}

#[derive(Serialize)]
struct KeyRow {
    id: String,
    name: String,
    created: String,
    revoked: bool,
}

async fn apikeys_view(app: &App, caller: &Caller, new: Option<(String, String)>, error: Option<String>, name: &str) -> Response {
    let keys = match app.api_keys().await {
        Ok(k) => k,
        Err(e) => return error_page(caller.lang, &e),
    };
    let rows: Vec<KeyRow> = keys
        .into_iter()
        .map(|k| KeyRow {
            created: crate::domain::calendar::beijing_time(k.created_at).format("%Y-%m-%d %H:%M").to_string(),
            revoked: k.revoked_at.is_some(),
            id: k.id,
            name: k.name,
        })
        .collect();
    page(
        caller,
        "apikeys.html",
        context! {
            keys => minijinja::value::Serde(&rows),
            new_name => new.as_ref().map(|n| n.0.clone()),
            new_key => new.map(|n| n.1),
            error => error,
            name => name,
        },
    )
}

async fn apikeys_page(State(app): State<App>, caller: Caller) -> Response {
    if let Err(r) = require_admin(&caller) {
        return r;
    }
    apikeys_view(&app, &caller, None, None, "").await
}

#[derive(Deserialize)]
struct KeyForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    csrf_token: String,
}

async fn apikeys_create(State(app): State<App>, caller: Caller, Form(form): Form<KeyForm>) -> Response {
    if let Err(r) = require_admin(&caller) {
        return r;
    }
    if let Err(e) = caller.check_csrf(Some(&form.csrf_token)) {
        return error_page(caller.lang, &e);
    }
    match app.create_api_key(&form.name).await {
        Ok((_, key)) => apikeys_view(&app, &caller, Some((form.name.trim().to_string(), key)), None, "").await,
        Err(e) => {
            let mut r =
                apikeys_view(&app, &caller, None, Some(crate::i18n::t(caller.lang, "web.apikeys_name_required", &[])), &form.name).await;
            *r.status_mut() = e.status();
            r
        }
    }
}

async fn apikeys_revoke(State(app): State<App>, caller: Caller, Path(id): Path<String>, Form(form): Form<CsrfForm>) -> Response {
    if let Err(r) = require_admin(&caller) {
        return r;
    }
    if let Err(e) = caller.check_csrf(Some(&form.csrf_token)) {
        return error_page(caller.lang, &e);
    }
    match app.revoke_api_key(&id).await {
        Ok(_) => Redirect::to("/admin/apikeys").into_response(),
        Err(e) => error_page(caller.lang, &e),
    }
}
