//! 重点任务 pages: the board of every task with its milestones' lights (and a drive's case
//! counts), setting a task on the desk, and a task's page where the lead unit reports
//! progress from a phone.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::NaiveDate;
use minijinja::context;
use minijinja::value::Serde;

use super::{Page, error_page, page, percent};
use crate::app::App;
use crate::app::key_tasks::{MilestoneInput, ProgressInput, TaskInput, TaskView};
use crate::domain::authz::Permission;
use crate::domain::key_task::TaskKind;
use crate::error::AppError;
use crate::http::Caller;
use crate::http::extract::{SignedIn, Upload};
use crate::i18n::t;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/tasks", get(board).post(create))
        .route("/tasks/{id}", get(task))
        .route("/tasks/{id}/milestones/{milestone}", post(progress))
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024))
}

fn rate(v: &TaskView) -> String {
    v.drive.as_ref().map(|d| percent(d.on_time_rate)).unwrap_or_default()
}

async fn board_page(app: &App, caller: &Caller, error: Option<String>) -> Response {
    let Some(actor) = caller.actor.as_ref() else { return Redirect::to("/login").into_response() };
    let tasks = match app.task_board(actor).await {
        Ok(t) => t,
        Err(e) => return error_page(caller.lang, &e),
    };
    let rates: Vec<String> = tasks.iter().map(rate).collect();
    let may_manage = actor.can_somewhere(Permission::ManageTasks);
    let (units, categories) = if may_manage {
        let dir = app.directory();
        let mut units: Vec<(String, String)> = dir
            .units()
            .filter(|u| {
                matches!(
                    u.kind,
                    crate::domain::org::OrgKind::Community
                        | crate::domain::org::OrgKind::Department
                        | crate::domain::org::OrgKind::Subdistrict
                        | crate::domain::org::OrgKind::Team
                )
            })
            .map(|u| (u.code.clone(), u.name.clone()))
            .collect();
        units.sort();
        let cats: Vec<(String, String)> = app.categories().await.unwrap_or_default().into_iter().map(|c| (c.code, c.name)).collect();
        (units, cats)
    } else {
        (Vec::new(), Vec::new())
    };
    let today = crate::domain::calendar::beijing_date(app.now());
    page(
        caller,
        "tasks/board.html",
        context! {
            tasks => Serde(&tasks),
            rates => rates,
            may_manage => may_manage,
            units => Serde(units),
            categories => Serde(categories),
            error => error,
            today => today.to_string(),
            end => (today + chrono::Duration::days(90)).to_string(),
        },
    )
}

async fn board(State(app): State<App>, who: SignedIn<Page>) -> Response {
    board_page(&app, &who.0, None).await
}

async fn create(State(app): State<App>, upload: Upload<Page>) -> Response {
    let caller = upload.caller.clone();
    let Some(actor) = caller.actor.clone() else { return Redirect::to("/login").into_response() };
    let lang = caller.lang;
    let f = |k: &str| upload.fields.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let date = |k: &str| NaiveDate::parse_from_str(&f(k), "%Y-%m-%d");
    let (Ok(starts_on), Ok(ends_on)) = (date("starts_on"), date("ends_on")) else {
        return board_page(&app, &caller, Some(t(lang, "web.insp_bad_field", &[("field", &t(lang, "web.task_period", &[]))]))).await;
    };
    // Milestones: one a line, "YYYY-MM-DD title".
    let mut milestones = Vec::new();
    for (n, line) in f("milestones").lines().map(str::trim).filter(|l| !l.is_empty()).enumerate() {
        let (day, title) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        match NaiveDate::parse_from_str(day, "%Y-%m-%d") {
            Ok(due) => milestones.push(MilestoneInput { title: title.trim().to_string(), due }),
            Err(_) => return board_page(&app, &caller, Some(t(lang, "web.task_bad_milestone", &[("n", &(n + 1).to_string())]))).await,
        }
    }
    let kind = TaskKind::parse(&f("kind")).unwrap_or(TaskKind::Task);
    let cooperating = upload.fields.keys().filter_map(|k| k.strip_prefix("coop.")).map(str::to_string).collect();
    let categories = upload.fields.keys().filter_map(|k| k.strip_prefix("cat.")).map(str::to_string).collect();
    let input = TaskInput {
        kind,
        name: f("name"),
        description: f("description"),
        lead: f("lead"),
        cooperating,
        area: None,
        starts_on,
        ends_on,
        milestones,
        categories,
        points: Vec::new(),
    };
    match app.create_task(&actor, input).await {
        Ok(v) => Redirect::to(&format!("/tasks/{}", v.task.id)).into_response(),
        Err(e @ AppError::Forbidden) => error_page(lang, &e),
        Err(e) => board_page(&app, &caller, Some(e.message(lang))).await,
    }
}

async fn task_page(app: &App, caller: &Caller, id: &str, error: Option<(String, String)>) -> Response {
    let Some(actor) = caller.actor.as_ref() else { return Redirect::to("/login").into_response() };
    match app.key_task(actor, id).await {
        Ok(v) => page(
            caller,
            "tasks/task.html",
            context! { v => Serde(&v), rate => rate(&v), error_milestone => error.as_ref().map(|e| e.0.clone()), error => error.map(|e| e.1) },
        ),
        Err(e) => error_page(caller.lang, &e),
    }
}

async fn task(State(app): State<App>, who: SignedIn<Page>, Path(id): Path<String>) -> Response {
    task_page(&app, &who.0, &id, None).await
}

async fn progress(State(app): State<App>, Path((id, milestone)): Path<(String, String)>, upload: Upload<Page>) -> Response {
    let caller = upload.caller.clone();
    let Some(actor) = caller.actor.clone() else { return Redirect::to("/login").into_response() };
    let lang = caller.lang;
    let percent = upload.fields.get("percent").and_then(|p| p.trim().parse::<i64>().ok()).unwrap_or(-1);
    let mut photos = Vec::new();
    for file in upload.files.iter().filter(|f| f.field == "photo" && !f.bytes.is_empty()) {
        match app.upload_photo(Some(&actor), file.bytes.clone()).await {
            Ok(p) => photos.push(p.record.id),
            Err(e) => return task_page(&app, &caller, &id, Some((milestone, e.message(lang)))).await,
        }
    }
    let input = ProgressInput { percent, text: upload.fields.get("text").cloned().unwrap_or_default(), photos };
    match app.report_progress(&actor, &id, &milestone, input).await {
        Ok(_) => Redirect::to(&format!("/tasks/{id}#m-{milestone}")).into_response(),
        Err(e) => task_page(&app, &caller, &id, Some((milestone, e.message(lang)))).await,
    }
}
