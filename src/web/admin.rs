//! Admin pages: the org tree, grid import (GeoJSON), people import (Excel/CSV), categories.
//! Imports are all-or-nothing; a refused file lists every problem with its row.

use axum::Router;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use super::{error_page, page, require_admin};
use crate::app::App;
use crate::domain::category::Category;
use crate::domain::org::OrgKind;
use crate::error::{AppError, FileProblem};
use crate::i18n::t;
use crate::server::Caller;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/admin", get(index))
        .route("/admin/grids", get(grids_page).post(grids_upload))
        .route("/admin/people", get(people_page).post(people_upload))
        .route("/admin/categories", get(categories_page).post(category_save))
        .layer(axum::extract::DefaultBodyLimit::max(32 * 1024 * 1024))
}

#[derive(Serialize)]
struct Node {
    depth: usize,
    kind: String,
    code: String,
    name: String,
    link: Option<String>,
}

async fn index(State(app): State<App>, caller: Caller) -> Response {
    if let Err(r) = require_admin(&caller) {
        return r;
    }
    let Some(actor) = caller.actor.as_ref() else { return Redirect::to("/login").into_response() };
    let units = app.visible_units(actor, vec![]).await.unwrap_or_default();
    // Depth from the materialised path; grids are many, so they are counted, not listed.
    let mut nodes = Vec::new();
    for u in units.iter().filter(|u| u.kind != OrgKind::Grid) {
        let grids = units.iter().filter(|g| g.kind == OrgKind::Grid && g.parent_id.as_deref() == Some(u.id.as_str())).count();
        let mut name = u.name.clone();
        if grids > 0 {
            name = format!("{name}({})", t(caller.lang, "web.admin_grid_count", &[("n", &grids.to_string())]));
        }
        nodes.push((
            u.path.clone(),
            Node {
                depth: u.path.matches('/').count().saturating_sub(2).min(4),
                kind: t(caller.lang, &format!("web.kind_{}", u.kind.as_str()), &[]),
                code: u.code.clone(),
                name,
                link: None,
            },
        ));
    }
    nodes.sort_by(|a, b| a.0.cmp(&b.0));
    let nodes: Vec<Node> = nodes.into_iter().map(|(_, n)| n).collect();
    page(&caller, "admin.html", context! { section => "org", nodes => Serde(&nodes) })
}

/// The CSRF token and the file of an upload form.
async fn upload(app: &App, req: Request) -> Result<(String, Vec<u8>), AppError> {
    let mut form = axum::extract::Multipart::from_request(req, app).await.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let mut csrf = String::new();
    let mut file = None;
    while let Some(field) = form.next_field().await.map_err(|e| AppError::BadRequest(e.body_text()))? {
        match field.name().unwrap_or("") {
            "csrf_token" => csrf = field.text().await.unwrap_or_default(),
            "file" => file = Some(field.bytes().await.map_err(|_| AppError::TooLarge)?.to_vec()),
            _ => {}
        }
    }
    Ok((csrf, file.ok_or(AppError::MissingParameter("file".into()))?))
}

fn import_page(caller: &Caller, section: &str, summary: Option<String>, problems: Vec<FileProblem>, status: StatusCode) -> Response {
    let mut r = page(caller, "admin.html", context! { section => section, summary => summary, problems => Serde(&problems) });
    *r.status_mut() = status;
    r
}

async fn grids_page(caller: Caller) -> Response {
    if let Err(r) = require_admin(&caller) {
        return r;
    }
    import_page(&caller, "grids", None, vec![], StatusCode::OK)
}

async fn grids_upload(State(app): State<App>, caller: Caller, req: Request) -> Response {
    if let Err(r) = require_admin(&caller) {
        return r;
    }
    let Some(actor) = caller.actor.clone() else { return Redirect::to("/login").into_response() };
    let lang = caller.lang;
    let (csrf, file) = match upload(&app, req).await {
        Ok(p) => p,
        Err(e) => return import_page(&caller, "grids", Some(e.message(lang)), vec![], e.status()),
    };
    if let Err(e) = caller.check_csrf(Some(&csrf)) {
        return error_page(lang, &e);
    }
    let text = String::from_utf8_lossy(&file).into_owned();
    match app.import_grids(text, Some(&actor), lang).await {
        Ok(s) => import_page(
            &caller,
            "grids",
            Some(t(lang, "web.admin_grids_done", &[("created", &s.created.to_string()), ("updated", &s.updated.to_string())])),
            vec![],
            StatusCode::OK,
        ),
        Err(AppError::InvalidFile(p)) => import_page(
            &caller,
            "grids",
            Some(t(lang, "error.invalid_file", &[("count", &p.len().to_string())])),
            p,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => import_page(&caller, "grids", Some(e.message(lang)), vec![], e.status()),
    }
}

async fn people_page(caller: Caller) -> Response {
    if let Err(r) = require_admin(&caller) {
        return r;
    }
    import_page(&caller, "people", None, vec![], StatusCode::OK)
}

async fn people_upload(State(app): State<App>, caller: Caller, req: Request) -> Response {
    if let Err(r) = require_admin(&caller) {
        return r;
    }
    let lang = caller.lang;
    let (csrf, file) = match upload(&app, req).await {
        Ok(p) => p,
        Err(e) => return import_page(&caller, "people", Some(e.message(lang)), vec![], e.status()),
    };
    if let Err(e) = caller.check_csrf(Some(&csrf)) {
        return error_page(lang, &e);
    }
    match app.import_people_bytes(&file, lang).await {
        Ok(n) => import_page(&caller, "people", Some(t(lang, "web.admin_people_done", &[("n", &n.to_string())])), vec![], StatusCode::OK),
        Err(AppError::InvalidFile(p)) => import_page(
            &caller,
            "people",
            Some(t(lang, "error.invalid_file", &[("count", &p.len().to_string())])),
            p,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => import_page(&caller, "people", Some(e.message(lang)), vec![], e.status()),
    }
}

async fn categories_view(app: &App, caller: &Caller, summary: Option<String>, status: StatusCode) -> Response {
    let cats = app.categories().await.unwrap_or_default();
    let mut r = page(caller, "admin.html", context! { section => "categories", categories => Serde(&cats), summary => summary });
    *r.status_mut() = status;
    r
}

async fn categories_page(State(app): State<App>, caller: Caller) -> Response {
    if let Err(r) = require_admin(&caller) {
        return r;
    }
    categories_view(&app, &caller, None, StatusCode::OK).await
}

async fn category_save(
    State(app): State<App>,
    caller: Caller,
    axum::Form(f): axum::Form<std::collections::HashMap<String, String>>,
) -> Response {
    if let Err(r) = require_admin(&caller) {
        return r;
    }
    let Some(actor) = caller.actor.clone() else { return Redirect::to("/login").into_response() };
    let lang = caller.lang;
    if let Err(e) = caller.check_csrf(f.get("csrf_token").map(String::as_str)) {
        return error_page(lang, &e);
    }
    let get = |k: &str| f.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
    let code = get("code");
    let existing = app.categories().await.unwrap_or_default().into_iter().find(|c| c.code == code);
    let num = |k: &str| get(k).parse::<i64>().unwrap_or(0);
    let category = Category {
        class_code: code.get(..2).unwrap_or("").to_string(),
        class_name: get("class_name"),
        name: get("name"),
        tier: num("tier").clamp(0, 9) as u8,
        department: Some(get("department")).filter(|d| !d.is_empty()),
        response_minutes: num("response_minutes"),
        handling_minutes: num("handling_minutes"),
        citizen: f.contains_key("citizen"),
        active: f.contains_key("active"),
        attributes: existing.map(|c| c.attributes).unwrap_or_default(),
        code,
    };
    match app.save_category(&actor, category).await {
        Ok(c) => categories_view(&app, &caller, Some(t(lang, "web.admin_category_saved", &[("name", &c.name)])), StatusCode::OK).await,
        Err(e) => categories_view(&app, &caller, Some(e.message(lang)), e.status()).await,
    }
}
