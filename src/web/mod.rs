//! Server-rendered pages. Templates (auto-escaped, `.html`) and assets are embedded in the
//! binary; every string comes from the message catalogue.

mod admin;
mod bulletins;
mod cases;
mod dashboard;
mod grids;
mod info_reports;
mod inspect;
mod inspections;
mod key_tasks;
mod merchants;
mod report;
mod svg;
mod volunteers;

use std::sync::OnceLock;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use minijinja::{Environment, context};
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::app::auth::{random_token, same_secret};
use crate::error::{AppError, Thing};
use crate::http::extract::{CsrfForm, Face};
use crate::http::{Caller, LANG_COOKIE, Via, cookie, session_cookie};
use crate::i18n::{Catalog, Lang};

pub(super) const LOGIN_CSRF_COOKIE: &str = "cc_login_csrf";

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/templates.rs"));
}

/// A file under `templates/` by its path there, e.g. `static/app.css`.
fn embedded(name: &str) -> Option<&'static str> {
    embedded::EMBEDDED.iter().find(|(n, _)| *n == name).map(|(_, text)| *text)
}

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in embedded::EMBEDDED.iter().filter(|(n, _)| n.ends_with(".html")) {
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

/// The pages' face: a refused request is sent to log in, or shown the reason on a page.
pub struct Page;

impl Face for Page {
    fn refuse(lang: Lang, error: AppError) -> Response {
        match error {
            AppError::Unauthenticated => Redirect::to("/login").into_response(),
            e => error_page(lang, &e),
        }
    }
}

/// A page's form, CSRF-checked.
pub type PageForm<T> = CsrfForm<T, Page>;

/// A page for the caller: adds who is logged in, the menu of what they may use (from
/// `app::menu`, so no page decides it by role) and the CSRF token.
fn page(caller: &Caller, name: &str, ctx: minijinja::Value) -> Response {
    let user = caller.actor.as_ref().map(|a| {
        context! {
            name => a.name.clone(),
            roles => a.grants.iter().map(|g| g.role.as_str()).collect::<Vec<_>>(),
            menu => minijinja::value::Serde(crate::app::menu::menu(a)),
            home => crate::app::menu::home(a),
        }
    });
    render(name, caller.lang, context! { user => user, csrf_token => caller.csrf_token(), ..ctx })
}

/// A page that answers a form: 422 when the form was refused (its message on the page), else
/// 200.
fn page_checked(caller: &Caller, name: &str, ctx: minijinja::Value, refused: bool) -> Response {
    let mut r = page(caller, name, ctx);
    if refused {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    r
}

pub fn routes() -> Router<App> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_form).post(login_submit))
        .route("/logout", axum::routing::post(logout))
        .route("/lang/{tag}", get(switch_language))
        .route("/static/{name}", get(static_file))
        .merge(cases::routes())
        .merge(report::routes())
        .merge(dashboard::routes())
        .merge(grids::routes())
        .merge(admin::routes())
        .merge(inspect::routes())
        .merge(merchants::routes())
        .merge(volunteers::routes())
        .merge(inspections::routes())
        .merge(bulletins::routes())
        .merge(info_reports::routes())
        .merge(key_tasks::routes())
        .fallback(page_not_found)
}

async fn page_not_found(caller: Caller) -> Response {
    let e = AppError::NotFound(Thing::Page);
    let mut r = render("error.html", caller.lang, context! { message => e.message(caller.lang) });
    *r.status_mut() = StatusCode::NOT_FOUND;
    r
}

/// The embedded stylesheet and scripts (`templates/static/`).
async fn static_file(Path(name): Path<String>) -> Response {
    let mime = match name.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        _ => return page_not_found_plain(),
    };
    match embedded(&format!("static/{name}")) {
        Some(text) => ([(header::CONTENT_TYPE, mime), (header::CACHE_CONTROL, "no-cache")], text).into_response(),
        None => page_not_found_plain(),
    }
}

fn page_not_found_plain() -> Response {
    error_page(crate::error::request_lang(), &AppError::NotFound(Thing::Resource))
}

#[derive(Serialize)]
struct CommunityRow {
    code: String,
    name: String,
    grids: usize,
}

/// The front page: a person is taken to where their work is (`app::menu::home`); anyone
/// else sees the subdistrict at a glance and the way to log in.
async fn home(State(app): State<App>, caller: Caller) -> Response {
    if let Some(actor) = &caller.actor {
        return Redirect::to(crate::app::menu::home(actor)).into_response();
    }
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
            ([(header::SET_COOKIE, cookie)], Redirect::to(crate::app::menu::home(&s.actor))).into_response()
        }
        Err(AppError::BadCredentials) => login_page(lang, StatusCode::UNAUTHORIZED, &form.username, Some(t("error.bad_credentials"))),
        Err(e) => e.into_response(),
    }
}

async fn logout(State(app): State<App>, form: PageForm<serde::de::IgnoredAny>) -> Response {
    if let Via::Session { token, .. } = &form.caller.via
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
