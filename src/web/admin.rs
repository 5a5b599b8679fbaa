//! Admin pages: the org tree, grid import (GeoJSON), people import (Excel/CSV), categories,
//! Open311 API keys and the personal-data access log. Imports are all-or-nothing; a refused
//! file lists every problem with its row. Which tabs a person sees comes from
//! `app::menu::admin_sections`.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::context;
use minijinja::value::Serde;
use serde::{Deserialize, Serialize};

use super::{Page, PageForm, error_page, page};
use crate::app::App;
use crate::app::access::AccessFilter;
use crate::app::menu::admin_sections;
use crate::domain::category::Category;
use crate::domain::org::OrgKind;
use crate::domain::privacy::PersonalRecord;
use crate::error::{AppError, FileProblem};
use crate::http::Caller;
use crate::http::extract::{Must, SignedIn, Upload, may};
use crate::i18n::t;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/admin", get(index))
        .route("/admin/grids", get(grids_page).post(grids_upload))
        .route("/admin/people", get(people_page).post(people_upload))
        .route("/admin/categories", get(categories_page).post(category_save))
        .route("/admin/apikeys", get(apikeys_page).post(apikeys_create))
        .route("/admin/apikeys/{id}/revoke", post(apikeys_revoke))
        .route("/admin/access-log", get(access_page))
        .layer(axum::extract::DefaultBodyLimit::max(32 * 1024 * 1024))
}

/// An admin page with the tabs this person may use.
fn admin_page(caller: &Caller, name: &str, section: &str, ctx: minijinja::Value) -> Response {
    let sections = caller.actor.as_ref().map(admin_sections).unwrap_or_default();
    page(caller, name, context! { section => section, sections => Serde(&sections), ..ctx })
}

#[derive(Serialize)]
struct Node {
    depth: usize,
    kind: String,
    code: String,
    name: String,
}

async fn index(State(app): State<App>, who: SignedIn<Page>) -> Response {
    let actor = who.actor();
    let sections = admin_sections(actor);
    match sections.first() {
        None => return error_page(who.0.lang, &AppError::Forbidden),
        Some(first) if first.key != "org" => return Redirect::to(first.href).into_response(),
        Some(_) => {}
    }
    let lang = who.0.lang;
    let units = app.visible_units(actor, vec![]).await.unwrap_or_default();
    // Depth from the materialised path; grids are many, so they are counted, not listed.
    let mut nodes = Vec::new();
    for u in units.iter().filter(|u| u.kind != OrgKind::Grid) {
        let grids = units.iter().filter(|g| g.kind == OrgKind::Grid && g.parent_id.as_deref() == Some(u.id.as_str())).count();
        let mut name = u.name.clone();
        if grids > 0 {
            name = format!("{name}({})", t(lang, "web.admin_grid_count", &[("n", &grids.to_string())]));
        }
        let depth = u.path.matches('/').count().saturating_sub(2).min(4);
        nodes.push((
            u.path.clone(),
            Node { depth, kind: t(lang, &format!("web.kind_{}", u.kind.as_str()), &[]), code: u.code.clone(), name },
        ));
    }
    nodes.sort_by(|a, b| a.0.cmp(&b.0));
    let nodes: Vec<Node> = nodes.into_iter().map(|(_, n)| n).collect();
    admin_page(&who.0, "admin/admin.html", "org", context! { nodes => Serde(&nodes) })
}

fn import_page(caller: &Caller, section: &str, summary: Option<String>, problems: Vec<FileProblem>, status: StatusCode) -> Response {
    let mut r = admin_page(caller, "admin/admin.html", section, context! { summary => summary, problems => Serde(&problems) });
    *r.status_mut() = status;
    r
}

/// The page after an import: its summary, or every problem with its row.
fn import_result(caller: &Caller, section: &str, result: Result<String, AppError>) -> Response {
    let lang = caller.lang;
    match result {
        Ok(summary) => import_page(caller, section, Some(summary), vec![], StatusCode::OK),
        Err(AppError::InvalidFile(p)) => {
            let summary = t(lang, "error.invalid_file", &[("count", &p.len().to_string())]);
            import_page(caller, section, Some(summary), p, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => import_page(caller, section, Some(e.message(lang)), vec![], e.status()),
    }
}

async fn grids_page(who: Must<may::ManageOrg, Page>) -> Response {
    import_page(&who.caller, "grids", None, vec![], StatusCode::OK)
}

async fn grids_upload(State(app): State<App>, who: Must<may::ManageOrg, Page>, upload: Upload<Page>) -> Response {
    let lang = who.caller.lang;
    let result = async {
        let file = upload.file("file")?;
        let text = String::from_utf8_lossy(&file.bytes).into_owned();
        let s = app.import_grids(who.actor(), text, lang).await?;
        Ok(t(lang, "web.admin_grids_done", &[("created", &s.created.to_string()), ("updated", &s.updated.to_string())]))
    }
    .await;
    import_result(&who.caller, "grids", result)
}

async fn people_page(who: Must<may::ManagePeople, Page>) -> Response {
    import_page(&who.caller, "people", None, vec![], StatusCode::OK)
}

async fn people_upload(State(app): State<App>, who: Must<may::ManagePeople, Page>, upload: Upload<Page>) -> Response {
    let lang = who.caller.lang;
    let result = async {
        let file = upload.file("file")?;
        let n = app.import_people_bytes(who.actor(), &file.bytes, lang).await?;
        Ok(t(lang, "web.admin_people_done", &[("n", &n.to_string())]))
    }
    .await;
    import_result(&who.caller, "people", result)
}

async fn categories_view(app: &App, caller: &Caller, summary: Option<String>, status: StatusCode) -> Response {
    let cats = app.categories().await.unwrap_or_default();
    let mut r = admin_page(caller, "admin/admin.html", "categories", context! { categories => Serde(&cats), summary => summary });
    *r.status_mut() = status;
    r
}

async fn categories_page(State(app): State<App>, who: Must<may::ManageCategories, Page>) -> Response {
    categories_view(&app, &who.caller, None, StatusCode::OK).await
}

async fn category_save(
    State(app): State<App>,
    who: Must<may::ManageCategories, Page>,
    form: PageForm<HashMap<String, String>>,
) -> Response {
    let (caller, f) = (&who.caller, &form.form);
    let lang = caller.lang;
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
    match app.save_category(who.actor(), category).await {
        Ok(c) => categories_view(&app, caller, Some(t(lang, "web.admin_category_saved", &[("name", &c.name)])), StatusCode::OK).await,
        Err(e) => categories_view(&app, caller, Some(e.message(lang)), e.status()).await,
    }
}

#[derive(Serialize)]
struct KeyRow {
    id: String,
    name: String,
    created: String,
    revoked: bool,
}

async fn apikeys_view(
    app: &App,
    who: &Must<may::ManageApiKeys, Page>,
    new: Option<(String, String)>,
    error: Option<String>,
    name: &str,
) -> Response {
    let keys = match app.api_keys(who.actor()).await {
        Ok(k) => k,
        Err(e) => return error_page(who.caller.lang, &e),
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
    admin_page(
        &who.caller,
        "admin/apikeys.html",
        "apikeys",
        context! {
            keys => Serde(&rows),
            new_name => new.as_ref().map(|n| n.0.clone()),
            new_key => new.map(|n| n.1),
            error => error,
            name => name,
        },
    )
}

async fn apikeys_page(State(app): State<App>, who: Must<may::ManageApiKeys, Page>) -> Response {
    apikeys_view(&app, &who, None, None, "").await
}

#[derive(Deserialize)]
struct KeyForm {
    #[serde(default)]
    name: String,
}

async fn apikeys_create(State(app): State<App>, who: Must<may::ManageApiKeys, Page>, form: PageForm<KeyForm>) -> Response {
    let name = form.form.name;
    match app.create_api_key(who.actor(), &name).await {
        Ok((_, key)) => apikeys_view(&app, &who, Some((name.trim().to_string(), key)), None, "").await,
        Err(e) => {
            let message = t(who.caller.lang, "web.apikeys_name_required", &[]);
            let mut r = apikeys_view(&app, &who, None, Some(message), &name).await;
            *r.status_mut() = e.status();
            r
        }
    }
}

async fn apikeys_revoke(
    State(app): State<App>,
    who: Must<may::ManageApiKeys, Page>,
    Path(id): Path<String>,
    _form: PageForm<serde::de::IgnoredAny>,
) -> Response {
    match app.revoke_api_key(who.actor(), &id).await {
        Ok(_) => Redirect::to("/admin/apikeys").into_response(),
        Err(e) => error_page(who.caller.lang, &e),
    }
}

#[derive(Deserialize, Default, Serialize)]
struct AccessQuery {
    record: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

#[derive(Serialize)]
struct EntryRow {
    at: String,
    actor: String,
    kind: String,
    label: String,
    link: Option<String>,
    field: String,
    rows: Option<i64>,
    reason: String,
    ip: String,
}

#[derive(Serialize)]
struct Choice {
    value: &'static str,
    label: String,
    selected: bool,
}

async fn access_page(State(app): State<App>, who: Must<may::ReadAccessLog, Page>, Query(q): Query<AccessQuery>) -> Response {
    let lang = who.caller.lang;
    let pick = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let day = |v: &Option<String>| pick(v).and_then(|d| chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok());
    let filter = AccessFilter {
        record_kind: pick(&q.record),
        since: day(&q.from).map(crate::domain::calendar::beijing_day_start),
        until: day(&q.to).map(|d| crate::domain::calendar::beijing_day_start(d) + 86_399_999),
        limit: 200,
        ..Default::default()
    };
    let entries = match app.access_log(who.actor(), filter).await {
        Ok(e) => e,
        Err(e) => return error_page(lang, &e),
    };
    let rows: Vec<EntryRow> = entries
        .into_iter()
        .map(|e| EntryRow {
            at: crate::domain::calendar::beijing_time(e.at).format("%Y-%m-%d %H:%M:%S").to_string(),
            actor: e.actor_name,
            kind: t(lang, &format!("access.kind.{}", e.record_kind), &[]),
            link: (e.record_kind == PersonalRecord::Case.as_str()).then(|| format!("/cases/{}", e.record_id)),
            label: e.record_label,
            field: t(lang, &format!("access.field.{}", e.field), &[]),
            rows: e.rows,
            reason: e.reason.unwrap_or_default(),
            ip: e.ip,
        })
        .collect();
    let kinds: Vec<Choice> = PersonalRecord::ALL
        .iter()
        .map(|k| Choice {
            value: k.as_str(),
            label: t(lang, &format!("access.kind.{}", k.as_str()), &[]),
            selected: q.record.as_deref() == Some(k.as_str()),
        })
        .collect();
    let export_query = serde_urlencoded::to_string(&q).unwrap_or_default();
    admin_page(
        &who.caller,
        "admin/access_log.html",
        "access",
        context! { entries => Serde(&rows), kinds => Serde(&kinds), query => Serde(&q), export_query => export_query },
    )
}
