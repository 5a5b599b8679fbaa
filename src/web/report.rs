//! 上报问题 on a phone: category by class, description, up to three photos from the camera,
//! position from GPS (or a chosen grid), self-handled in the same form. Works as a plain form;
//! `report.js` adds GPS, the grid shown for confirmation, and keeps a report that cannot be
//! sent in the browser to send again with the same idempotency key.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use super::{Page, page};
use crate::app::App;
use crate::app::cases::NewCaseInput;
use crate::domain::org::OrgKind;
use crate::http::Caller;
use crate::http::extract::{SignedIn, Upload};
use crate::i18n::t;

const MAX_PHOTOS: usize = 3;

pub fn routes() -> Router<App> {
    Router::new().route("/report", get(report_form).post(report_submit)).layer(axum::extract::DefaultBodyLimit::max(36 * 1024 * 1024))
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
    photos_public: bool,
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
    let can_self_handle = actor.can_somewhere(crate::domain::authz::Permission::SelfHandle);
    let mut r = page(
        caller,
        "cases/report.html",
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

async fn report_form(State(app): State<App>, who: SignedIn<Page>) -> Response {
    render_form(&app, &who.0, Typed::default(), None, StatusCode::OK).await
}

async fn report_submit(State(app): State<App>, headers: HeaderMap, upload: Upload<Page>) -> Response {
    let caller = &upload.caller;
    let Some(actor) = caller.actor.clone() else { return Redirect::to("/login").into_response() };
    let lang = caller.lang;
    let field = |k: &str| upload.fields.get(k).cloned().unwrap_or_default();
    let typed = Typed {
        category: field("category"),
        description: field("description"),
        grid: field("grid"),
        lat: field("lat"),
        lon: field("lon"),
        self_handled: !field("self_handled").is_empty(),
        photos_public: !field("photos_public").is_empty(),
    };
    let idem = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| Some(field("idempotency_key")).filter(|k| !k.is_empty()));
    let photos: Vec<&[u8]> =
        upload.files.iter().filter(|f| f.field == "photos" && !f.bytes.is_empty()).map(|f| f.bytes.as_slice()).collect();
    if photos.len() > MAX_PHOTOS {
        return render_form(&app, caller, typed, Some(t(lang, "web.report_too_many_photos", &[])), StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    // Position: GPS when the phone gave one, else the chosen grid.
    let position = match (typed.lat.trim().parse::<f64>(), typed.lon.trim().parse::<f64>()) {
        (Ok(lat), Ok(lon)) => Some((lat, lon)),
        _ => app.directory().interior_point(typed.grid.trim()).map(|p| (p.lat, p.lon)),
    };
    let Some((lat, lon)) = position else {
        return render_form(&app, caller, typed, Some(t(lang, "web.report_need_place", &[])), StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let mut ids = Vec::new();
    for bytes in photos {
        match app.upload_photo(Some(&actor), bytes.to_vec()).await {
            Ok(p) => ids.push(p.record.id),
            Err(e) => return render_form(&app, caller, typed, Some(e.message(lang)), e.status()).await,
        }
    }
    let input = NewCaseInput {
        category: typed.category.clone(),
        description: typed.description.clone(),
        lat,
        lon,
        self_handled: typed.self_handled,
        photos: ids,
        photos_public: typed.photos_public,
        ..Default::default()
    };
    match app.report_case(Some(&actor), input, idem.as_deref()).await {
        Ok(created) => Redirect::to(&format!("/cases/{}", created.case.details.id)).into_response(),
        Err(e) => render_form(&app, caller, typed, Some(e.message(lang)), e.status()).await,
    }
}
