//! Case pages: my to-do (待办), the case desk (问题台账) and one case with its timeline and
//! the forms for exactly the actions the viewer may take.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::context;
use minijinja::value::Serde;
use serde::{Deserialize, Serialize};

use super::{Page, PageForm, error_page, page};
use crate::app::App;
use crate::app::access::Revealed;
use crate::app::cases::{ActInput, CaseFilter, CaseView, MAX_PAGE, page_offset};
use crate::domain::authz::Permission;
use crate::domain::case::{Action, Status};
use crate::domain::org::OrgKind;
use crate::domain::privacy::PersonalRecord;
use crate::error::{AppError, Thing};
use crate::http::Caller;
use crate::http::extract::{SignedIn, Upload};
use crate::i18n::{Lang, t};

const PER_PAGE: u64 = 50;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/work", get(work_page))
        .route("/todo", get(todo_page))
        .route("/cases/{id}/reveal", post(reveal_form))
        .route("/cases", get(desk_page))
        .route("/cases/{id}", get(case_page))
        .route("/cases/{id}/act", post(act_form))
        .route("/cases/bulk-dispatch", post(bulk_dispatch))
        .layer(axum::extract::DefaultBodyLimit::max(36 * 1024 * 1024))
}

fn beijing(ms: Option<i64>) -> String {
    ms.map(|m| crate::domain::calendar::beijing_time(m).format("%m-%d %H:%M").to_string()).unwrap_or_default()
}

/// A case as a table row shows it.
#[derive(Serialize)]
struct Row {
    id: String,
    number: String,
    category: String,
    status: String,
    status_code: &'static str,
    place: String,
    assignee: String,
    reported: String,
    deadline: String,
    light: Option<&'static str>,
}

fn row(lang: Lang, c: &CaseView) -> Row {
    Row {
        id: c.details.id.clone(),
        number: c.details.number.clone(),
        category: c.category_name.clone(),
        status: t(lang, &format!("status.{}", c.state.status.as_str()), &[]),
        status_code: c.state.status.as_str(),
        place: [c.community.as_ref().map(|u| u.name.as_str()), c.grid.as_ref().map(|u| u.name.as_str())]
            .into_iter()
            .flatten()
            .last()
            .unwrap_or("")
            .to_string(),
        assignee: c.assignee.as_ref().map(|u| u.name.clone()).unwrap_or_default(),
        reported: beijing(Some(c.state.reported_at)),
        deadline: beijing(c.state.handling_deadline),
        light: c.light.map(|l| l.as_str()),
    }
}

async fn todo_page(State(app): State<App>, who: SignedIn<Page>) -> Response {
    match app.todo(who.actor()).await {
        Ok(cases) => {
            let rows: Vec<Row> = cases.iter().map(|c| row(who.0.lang, c)).collect();
            page(&who.0, "cases/todo.html", context! { rows => Serde(&rows) })
        }
        Err(e) => error_page(who.0.lang, &e),
    }
}

/// The phone's home for people who work in the street: report, the to-do's most urgent
/// cases, and what they reported today.
async fn work_page(State(app): State<App>, who: SignedIn<Page>) -> Response {
    let (actor, lang) = (who.actor(), who.0.lang);
    let todo = match app.todo(actor).await {
        Ok(t) => t,
        Err(e) => return error_page(lang, &e),
    };
    let today = app.reported_today(actor).await.unwrap_or_default();
    let urgent: Vec<Row> = todo.iter().take(5).map(|c| row(lang, c)).collect();
    let mine: Vec<Row> = today.iter().map(|c| row(lang, c)).collect();
    let overdue = todo.iter().filter(|c| c.light == Some(crate::domain::calendar::Light::Red)).count();
    // An inspector's points to inspect, when they may inspect.
    let inspect = app.my_inspections(actor).await.ok().map(|w| w.len());
    // Rectification notices waiting for the person's units, and key-task milestones their
    // units lead that are behind.
    let notices = app.my_notices(actor, false).await.map(|n| n.len()).unwrap_or(0);
    let warnings = app.task_warnings(actor).await.unwrap_or_default();
    page(
        &who.0,
        "cases/work.html",
        context! {
            inspect => inspect,
            todo_count => todo.len(),
            overdue => overdue,
            urgent => Serde(&urgent),
            today => Serde(&mine),
            has_queue => !crate::domain::case::work_queues(actor).is_empty(),
            notices => notices,
            warnings => Serde(&warnings),
        },
    )
}

#[derive(Deserialize, Default)]
struct DeskQuery {
    status: Option<String>,
    grid: Option<String>,
    department: Option<String>,
    overdue: Option<String>,
    from: Option<String>,
    to: Option<String>,
    sort: Option<String>,
    done: Option<u64>,
    community: Option<String>,
    category: Option<String>,
    page: Option<u64>,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

async fn desk_page(State(app): State<App>, who: SignedIn<Page>, Query(q): Query<DeskQuery>) -> Response {
    let (caller, actor) = (&who.0, who.actor());
    let lang = caller.lang;
    let pick = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let (status, community, category) = (pick(&q.status), pick(&q.community), pick(&q.category));
    let page_no = q.page.unwrap_or(1).clamp(1, MAX_PAGE);
    let communities = app.visible_units(actor, vec![OrgKind::Community]).await.unwrap_or_default();
    let categories = app.categories().await.unwrap_or_default();
    let mut filter = CaseFilter { limit: PER_PAGE + 1, offset: page_offset(page_no, PER_PAGE), ..Default::default() };
    if let Some(s) = status.as_deref().and_then(Status::parse) {
        filter.statuses = vec![s];
    }
    if let Some(c) = &community {
        filter.community_id = Some(communities.iter().find(|u| &u.code == c).map(|u| u.id.clone()).unwrap_or_default());
    }
    filter.category_code = category.clone();
    let grid = pick(&q.grid);
    if let Some(code) = &grid {
        filter.grid_id = Some(app.directory().grids().find(|g| &g.code == code).map(|g| g.id.clone()).unwrap_or_default());
    }
    let departments = app.visible_units(actor, vec![OrgKind::Department]).await.unwrap_or_default();
    let department = pick(&q.department);
    if let Some(code) = &department {
        filter.assignee_unit_ids = Some(departments.iter().filter(|u| &u.code == code).map(|u| u.id.clone()).collect());
    }
    let overdue = pick(&q.overdue).is_some();
    if overdue {
        filter.statuses = vec![Status::Dispatched, Status::InProgress];
        filter.deadline_before = Some(app.now());
    }
    let day = |v: &Option<String>| pick(v).and_then(|d| chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok());
    let (from, to) = (day(&q.from), day(&q.to));
    filter.reported_since = from.map(crate::domain::calendar::beijing_day_start);
    filter.reported_until = to.map(|d| crate::domain::calendar::beijing_day_start(d) + 86_399_999);
    let by_deadline = pick(&q.sort).as_deref() == Some("deadline");
    filter.by_deadline = by_deadline;
    let mut cases = match app.list_cases(actor, filter).await {
        Ok(c) => c,
        Err(e) => return error_page(lang, &e),
    };
    let more = cases.len() as u64 > PER_PAGE;
    cases.truncate(PER_PAGE as usize);
    let rows: Vec<Row> = cases.iter().map(|c| row(lang, c)).collect();
    let statuses: Vec<Choice> = Status::ALL
        .iter()
        .map(|s| Choice {
            value: s.as_str().into(),
            label: t(lang, &format!("status.{}", s.as_str()), &[]),
            selected: status.as_deref() == Some(s.as_str()),
        })
        .collect();
    let community_choices: Vec<Choice> = communities
        .iter()
        .map(|u| Choice { value: u.code.clone(), label: u.name.clone(), selected: community.as_deref() == Some(u.code.as_str()) })
        .collect();
    let category_choices: Vec<Choice> = categories
        .iter()
        .map(|c| Choice {
            value: c.code.clone(),
            label: format!("{} · {}", c.class_name, c.name),
            selected: category.as_deref() == Some(c.code.as_str()),
        })
        .collect();
    let department_choices: Vec<Choice> = departments
        .iter()
        .map(|u| Choice { value: u.code.clone(), label: u.name.clone(), selected: department.as_deref() == Some(u.code.as_str()) })
        .collect();
    let query = serde_urlencoded::to_string([
        ("status", status.clone().unwrap_or_default()),
        ("community", community.clone().unwrap_or_default()),
        ("category", category.clone().unwrap_or_default()),
        ("grid", grid.clone().unwrap_or_default()),
        ("department", department.clone().unwrap_or_default()),
        ("overdue", if overdue { "1".into() } else { String::new() }),
        ("from", from.map(|d| d.to_string()).unwrap_or_default()),
        ("to", to.map(|d| d.to_string()).unwrap_or_default()),
        ("sort", if by_deadline { "deadline".into() } else { String::new() }),
    ])
    .unwrap_or_default();
    page(
        caller,
        "cases/desk.html",
        context! {
            rows => Serde(&rows),
            statuses => Serde(&statuses),
            communities => Serde(&community_choices),
            categories => Serde(&category_choices),
            departments => Serde(&department_choices),
            overdue => overdue,
            from => from.map(|d| d.to_string()),
            to => to.map(|d| d.to_string()),
            by_deadline => by_deadline,
            done => q.done,
            can_dispatch => actor.can_somewhere(Permission::DispatchCases),
            may_reveal => actor.can_somewhere(Permission::RevealPersonalData),
            page => page_no,
            prev_page => (page_no > 1).then(|| page_no - 1),
            next_page => more.then_some(page_no + 1),
            query => query,
        },
    )
}

#[derive(Serialize)]
struct TimelineRow {
    when: String,
    action: String,
    actor: String,
    note: String,
}

#[derive(Serialize)]
struct ActionForm {
    action: &'static str,
    label: String,
    needs_note: bool,
    needs_unit: bool,
    needs_minutes: bool,
    needs_original: bool,
    takes_photos: bool,
}

async fn case_page(State(app): State<App>, who: SignedIn<Page>, Path(id): Path<String>) -> Response {
    render_case(&app, &who.0, &id, None, None).await
}

#[derive(Deserialize)]
struct RevealForm {
    #[serde(default)]
    reason: String,
}

/// 查看完整信息: the reporter's name and phone in full on this page, logged.
async fn reveal_form(State(app): State<App>, Path(id): Path<String>, form: PageForm<RevealForm>) -> Response {
    let caller = &form.caller;
    let Some(actor) = caller.actor.as_ref() else { return Redirect::to("/login").into_response() };
    let reason = Some(form.form.reason.as_str()).filter(|r| !r.trim().is_empty());
    match app.reveal(actor, &caller.origin(), PersonalRecord::Case, &id, reason).await {
        Ok(revealed) => render_case(&app, caller, &id, None, Some(revealed)).await,
        Err(e) => error_page(caller.lang, &e),
    }
}

async fn render_case(app: &App, caller: &Caller, id: &str, error: Option<String>, revealed: Option<Revealed>) -> Response {
    let Some(actor) = caller.actor.as_ref() else { return Redirect::to("/login").into_response() };
    let lang = caller.lang;
    let case = match app.case_view(actor, id).await {
        Ok(c) => c,
        Err(e) => return error_page(lang, &e),
    };
    let timeline = app.timeline(actor, id).await.unwrap_or_default();
    let rows: Vec<TimelineRow> = timeline
        .iter()
        .map(|e| TimelineRow {
            when: beijing(Some(e.at)),
            action: t(lang, &format!("action.{}", if e.action == "report" { "report" } else { e.action.as_str() }), &[]),
            actor: e.actor_name.clone().unwrap_or_else(|| t(lang, "web.system_or_citizen", &[])),
            note: e.note.clone().unwrap_or_default(),
        })
        .collect();
    let forms: Vec<ActionForm> = case
        .actions
        .iter()
        .map(|a| ActionForm {
            action: a.as_str(),
            label: t(lang, &format!("action.{}", a.as_str()), &[]),
            needs_note: a.needs_note(),
            needs_unit: *a == Action::Dispatch,
            needs_minutes: *a == Action::RequestExtension,
            needs_original: *a == Action::Merge,
            takes_photos: *a == Action::Handle,
        })
        .collect();
    let summary = row(lang, &case);
    let dir = app.directory();
    let grid_code = case.grid.as_ref().map(|g| g.code.clone()).unwrap_or_default();
    let community_code = case.community.as_ref().map(|c| c.code.clone()).unwrap_or_default();
    let around: Vec<&geo::MultiPolygon<f64>> = dir
        .grids()
        .zip(dir.shapes())
        .filter(|(g, _)| g.community.code == community_code && g.code != grid_code)
        .map(|(_, (_, s))| s)
        .collect();
    let map_svg = dir
        .shapes()
        .iter()
        .find(|(c, _)| *c == grid_code)
        .map(|(_, shape)| super::svg::locator(&around, shape, case.details.lat, case.details.lon, &t(lang, "web.case_map", &[])))
        .unwrap_or_default();
    let before: Vec<String> = case.photos_before.iter().flatten().map(|p| p.thumb_url.clone()).collect();
    let after: Vec<String> = case.photos_after.iter().flatten().map(|p| p.thumb_url.clone()).collect();
    let full = |k: &str| revealed.as_ref().and_then(|r| r.fields.get(k).cloned());
    page(
        caller,
        "cases/case.html",
        context! {
            case => Serde(&summary),
            id => case.details.id.clone(),
            description => case.details.description.clone(),
            address => case.details.address.clone(),
            reporter => full("reporter_name").or(case.details.reporter_name.clone()),
            phone => full("reporter_phone").or(case.details.reporter_phone.clone()),
            email => full("reporter_email").or(case.details.reporter_email.clone()),
            revealed => revealed.is_some(),
            may_reveal => case.may_reveal && revealed.is_none(),
            version => case.state.version,
            rework => case.state.rework_count,
            inspection => case.inspection.as_ref().map(Serde),
            timeline => Serde(&rows),
            forms => Serde(&forms),
            before => before,
            after => after,
            error => error,
            map_svg => minijinja::Value::from_safe_string(map_svg),
            grid_code => grid_code,
        },
    )
}

/// The action forms post `multipart/form-data` so that handling can carry after photos.
async fn act_form(State(app): State<App>, Path(id): Path<String>, upload: Upload<Page>) -> Response {
    let caller = &upload.caller;
    let Some(actor) = caller.actor.clone() else { return Redirect::to("/login").into_response() };
    let lang = caller.lang;
    let get = |k: &str| upload.fields.get(k).map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let Some(action) = get("action").as_deref().and_then(Action::parse) else {
        return error_page(lang, &AppError::NotFound(Thing::Resource));
    };
    let minutes = match get("minutes").map(|m| m.parse::<f64>()) {
        // The form asks for working days; the API counts working minutes.
        Some(Ok(days)) => Some((days * app.calendar().minutes_per_day() as f64).round() as i64),
        Some(Err(_)) => return render_case(&app, caller, &id, Some(t(lang, "invalid.minutes", &[])), None).await,
        None => None,
    };
    let mut photo_ids = Vec::new();
    for f in upload.files.iter().filter(|f| f.field == "photos" && !f.bytes.is_empty()).take(3) {
        match app.upload_photo(Some(&actor), f.bytes.clone()).await {
            Ok(p) => photo_ids.push(p.record.id),
            Err(e) => return render_case(&app, caller, &id, Some(e.message(lang)), None).await,
        }
    }
    let input = ActInput {
        note: get("note"),
        unit: get("unit"),
        minutes,
        original: get("original"),
        version: get("version").and_then(|v| v.parse().ok()),
        photos: photo_ids,
        photos_public: get("photos_public").is_some(),
        ..Default::default()
    };
    match app.act(&actor, &id, action, input, None).await {
        Ok(_) => Redirect::to(&format!("/cases/{id}")).into_response(),
        Err(e) => {
            let mut r = render_case(&app, caller, &id, Some(e.message(lang)), None).await;
            *r.status_mut() = e.status();
            r
        }
    }
}

/// Dispatches every ticked case to its category's default unit (registering it first when it
/// is still waiting), and reports how many went out.
async fn bulk_dispatch(State(app): State<App>, form: PageForm<Vec<(String, String)>>) -> Response {
    let Some(actor) = form.caller.actor.clone() else { return Redirect::to("/login").into_response() };
    let pairs = &form.form;
    let mut done = 0u64;
    for (_, id) in pairs.iter().filter(|(k, _)| k == "case") {
        // A case still waiting is registered first; one already registered refuses that, which is fine.
        let _ = app.act(&actor, id, Action::Register, ActInput::default(), None).await;
        if app.act(&actor, id, Action::Dispatch, ActInput::default(), None).await.is_ok() {
            done += 1;
        }
    }
    let back = pairs
        .iter()
        .find(|(k, _)| k == "back")
        .map(|(_, v)| v.clone())
        .filter(|b| b.starts_with("/cases"))
        .unwrap_or_else(|| "/cases".into());
    let sep = if back.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{back}{sep}done={done}")).into_response()
}
