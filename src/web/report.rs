//! 上报问题 on a phone: category by class, description, up to three photos from the camera,
//! position from GPS (or a chosen grid), self-handled in the same form. Works as a plain form;
//! `report.js` adds GPS, the grid shown for confirmation, and keeps a report that cannot be
//! sent in the browser to send again with the same idempotency key.

use axum::Router;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use super::page;
use crate::app::App;
use crate::app::cases::NewCaseInput;
use crate::domain::org::OrgKind;
use crate::error::AppError;
use crate::i18n::t;
use crate::server::Caller;

const MAX_PHOTOS: usize = 3;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/report", get(report_form).post(report_submit))
        .route("/static/report.js", get(script))
        .layer(axum::extract::DefaultBodyLimit::max(36 * 1024 * 1024))
}

async fn script() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (axum::http::header::CACHE_CONTROL, "no-cache")],
        include_str!("../../templates/report.js"),
    )
        .into_response()
}

#[derive(Serialize)]
struct Group {
    name: String,
    options: Vec<(String, String)>,
}

#[derive(Serialize, Default)]
struct Typed {
    category: String,
    description: String,
    grid: String,
    lat: String,
    lon: String,
    self_handled: bool,
}

async fn render_form(app: &App, caller: &Caller, typed: Typed, error: Option<String>, status: StatusCode) -> Response {
    let Some(actor) = caller.actor.as_ref() else { return Redirect::to("/login").into_response() };
    let mut groups: Vec<Group> = Vec::new();
    for c in app.categories().await.unwrap_or_default().into_iter().filter(|c| c.active) {
        match groups.iter_mut().find(|g| g.name == c.class_name) {
            Some(g) => g.options.push((c.code, c.name)),
            None => groups.push(Group { name: c.class_name, options: vec![(c.code, c.name)] }),
        }
    }
    let grids: Vec<(String, String)> =
        app.visible_units(actor, vec![OrgKind::Grid]).await.unwrap_or_default().into_iter().map(|u| (u.code, u.name)).collect();
    let can_self_handle = actor.has_role(crate::domain::authz::Role::GridWorker);
    let mut r = page(
        caller,
        "report.html",
        context! {
            groups => Serde(&groups),
            grids => Serde(&grids),
            typed => Serde(&typed),
            can_self_handle => can_self_handle,
            error => error,
        },
    );
    *r.status_mut() = status;
    r
}

async fn report_form(State(app): State<App>, caller: Caller) -> Response {
    render_form(&app, &caller, Typed::default(), None, StatusCode::OK).await
}

async fn report_submit(State(app): State<App>, caller: Caller, headers: HeaderMap, req: Request) -> Response {
    let Some(actor) = caller.actor.clone() else { return Redirect::to("/login").into_response() };
    let lang = caller.lang;
    let mut form = match axum::extract::Multipart::from_request(req, &app).await {
        Ok(f) => f,
        Err(e) => return AppError::BadRequest(e.body_text()).into_response(),
    };
    let mut typed = Typed::default();
    let mut csrf = String::new();
    let mut idem = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_string);
    let mut photos: Vec<Vec<u8>> = Vec::new();
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                let msg = if e.status() == StatusCode::PAYLOAD_TOO_LARGE { AppError::TooLarge.message(lang) } else { e.body_text() };
                return render_form(&app, &caller, typed, Some(msg), e.status()).await;
            }
        };
        let name = field.name().unwrap_or("").to_string();
        if name == "photos" {
            match field.bytes().await {
                Ok(b) if !b.is_empty() => photos.push(b.to_vec()),
                Ok(_) => {}
                Err(_) => {
                    return render_form(&app, &caller, typed, Some(AppError::TooLarge.message(lang)), StatusCode::PAYLOAD_TOO_LARGE).await;
                }
            }
            continue;
        }
        let value = field.text().await.unwrap_or_default();
        match name.as_str() {
            "csrf_token" => csrf = value,
            "category" => typed.category = value,
            "description" => typed.description = value,
            "grid" => typed.grid = value,
            "lat" => typed.lat = value,
            "lon" => typed.lon = value,
            "self_handled" => typed.self_handled = !value.is_empty(),
            "idempotency_key" if idem.is_none() && !value.is_empty() => idem = Some(value),
            _ => {}
        }
    }
    if let Err(e) = caller.check_csrf(Some(&csrf)) {
        return render_form(&app, &caller, typed, Some(e.message(lang)), e.status()).await;
    }
    if photos.len() > MAX_PHOTOS {
        return render_form(&app, &caller, typed, Some(t(lang, "web.report_too_many_photos", &[])), StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    // Position: GPS when the phone gave one, else the chosen grid.
    let position = match (typed.lat.trim().parse::<f64>(), typed.lon.trim().parse::<f64>()) {
        (Ok(lat), Ok(lon)) => Some((lat, lon)),
        _ => app.directory().interior_point(typed.grid.trim()).map(|p| (p.lat, p.lon)),
    };
    let Some((lat, lon)) = position else {
        return render_form(&app, &caller, typed, Some(t(lang, "web.report_need_place", &[])), StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let mut ids = Vec::new();
    for bytes in photos {
        match app.upload_photo(Some(&actor), bytes).await {
            Ok(p) => ids.push(p.record.id),
            Err(e) => return render_form(&app, &caller, typed, Some(e.message(lang)), e.status()).await,
        }
    }
    let input = NewCaseInput {
        category: typed.category.clone(),
        description: typed.description.clone(),
        lat,
        lon,
        self_handled: typed.self_handled,
        photos: ids,
        ..Default::default()
    };
    match app.report_case(Some(&actor), input, idem.as_deref()).await {
        Ok(created) => Redirect::to(&format!("/cases/{}", created.case.details.id)).into_response(),
        Err(e) => render_form(&app, &caller, typed, Some(e.message(lang)), e.status()).await,
    }
}
