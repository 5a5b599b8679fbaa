//! 信息报送 pages: the feed of adopted reports, one's own, those waiting for review, counts
//! per unit; sending a report from a phone with photos; reviewing; sending a returned one again.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::NaiveDate;
use minijinja::context;
use minijinja::value::Serde;
use serde::Deserialize;

use super::{Page, error_page, page, percent};
use crate::app::App;
use crate::app::info_reports::{ReportFilter, ReportInput, ReportView, ReviewInput};
use crate::domain::authz::Permission;
use crate::domain::info_report::{Decision, ReportKind};
use crate::http::Caller;
use crate::http::extract::{SignedIn, Upload};
use crate::i18n::t;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/reports", get(list).post(submit))
        .route("/reports/new", get(new_form))
        .route("/reports/{id}", get(view).post(resubmit))
        .route("/reports/{id}/review", axum::routing::post(review))
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024))
}

#[derive(Deserialize, Default)]
struct ListQuery {
    view: Option<String>,
}

fn tabs(caller: &Caller) -> Vec<(&'static str, &'static str)> {
    let Some(a) = caller.actor.as_ref() else { return Vec::new() };
    let mut out = vec![("feed", "/reports")];
    if a.can_somewhere(Permission::SubmitReports) {
        out.push(("mine", "/reports?view=mine"));
    }
    if a.can_somewhere(Permission::ReviewReports) {
        out.push(("review", "/reports?view=review"));
    }
    if a.can_somewhere(Permission::ReadInspections) {
        out.push(("counts", "/reports?view=counts"));
    }
    out
}

async fn list(State(app): State<App>, who: SignedIn<Page>, Query(q): Query<ListQuery>) -> Response {
    let (caller, actor) = (&who.0, who.actor());
    let view = q.view.clone().unwrap_or_else(|| "feed".into());
    let may_submit = actor.can_somewhere(Permission::SubmitReports);
    if view == "counts" {
        let today = crate::domain::calendar::beijing_date(app.now());
        let from = today - chrono::Duration::days(89);
        return match app.report_counts(actor, None, from, today).await {
            Ok(rows) => {
                let rows: Vec<(String, i64, i64, String)> =
                    rows.into_iter().map(|r| (r.unit, r.submitted, r.adopted, percent(r.rate))).collect();
                page(
                    caller,
                    "reports/list.html",
                    context! { tabs => Serde(tabs(caller)), current => "counts", counts => Serde(rows), may_submit => may_submit, from => from.to_string(), to => today.to_string() },
                )
            }
            Err(e) => error_page(caller.lang, &e),
        };
    }
    match app.info_reports(actor, ReportFilter { view: Some(view.clone()) }).await {
        Ok(rows) => page(
            caller,
            "reports/list.html",
            context! { tabs => Serde(tabs(caller)), current => view, rows => Serde(cards(&rows)), may_submit => may_submit },
        ),
        Err(e) => error_page(caller.lang, &e),
    }
}

#[derive(serde::Serialize)]
struct Card {
    id: String,
    title: String,
    unit: String,
    kind: &'static str,
    status: &'static str,
    day: String,
    excerpt: String,
    photo: Option<String>,
}

fn cards(rows: &[ReportView]) -> Vec<Card> {
    rows.iter()
        .map(|r| Card {
            id: r.report.id.clone(),
            title: r.report.title.clone(),
            unit: r.unit_name.clone(),
            kind: r.report.kind.as_str(),
            status: r.report.status.as_str(),
            day: crate::domain::inspection::day_of_key(r.report.event_day).map(|d| d.to_string()).unwrap_or_default(),
            excerpt: crate::domain::bulletin::excerpt(&r.report.body, 80),
            photo: r.photos.first().cloned(),
        })
        .collect()
}

fn form_page(caller: &Caller, error: Option<String>, typed: &Typed, action: &str) -> Response {
    page(caller, "reports/new.html", context! { error => error, typed => Serde(typed), action => action })
}

#[derive(serde::Serialize, Default, Clone)]
struct Typed {
    kind: String,
    title: String,
    body: String,
    date: String,
}

async fn new_form(State(app): State<App>, who: SignedIn<Page>) -> Response {
    let today = crate::domain::calendar::beijing_date(app.now()).to_string();
    form_page(&who.0, None, &Typed { kind: "news".into(), date: today, ..Default::default() }, "/reports")
}

/// The form's fields as a report, with the photos it carries stored first.
async fn input_of(app: &App, upload: &Upload<Page>) -> Result<(ReportInput, Typed), (String, Typed)> {
    let lang = upload.caller.lang;
    let f = |k: &str| upload.fields.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let typed = Typed { kind: f("kind"), title: f("title"), body: upload.fields.get("body").cloned().unwrap_or_default(), date: f("date") };
    let Some(kind) = ReportKind::parse(&typed.kind) else { return Err((t(lang, "web.info_pick_kind", &[]), typed)) };
    let date = match typed.date.as_str() {
        "" => None,
        d => match NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => return Err((t(lang, "web.insp_bad_field", &[("field", &t(lang, "web.info_date", &[]))]), typed)),
        },
    };
    let actor = upload.caller.actor.as_ref().expect("signed in");
    let mut photos = Vec::new();
    for file in upload.files.iter().filter(|f| f.field == "photo" && !f.bytes.is_empty()) {
        match app.upload_photo(Some(actor), file.bytes.clone()).await {
            Ok(p) => photos.push(p.record.id),
            Err(e) => return Err((e.message(lang), typed)),
        }
    }
    Ok((ReportInput { kind, title: typed.title.clone(), body: typed.body.replace("\r\n", "\n"), date, unit: None, photos }, typed))
}

async fn submit(State(app): State<App>, upload: Upload<Page>) -> Response {
    let caller = upload.caller.clone();
    let Some(actor) = caller.actor.clone() else { return Redirect::to("/login").into_response() };
    let (input, typed) = match input_of(&app, &upload).await {
        Ok(x) => x,
        Err((msg, typed)) => return form_page(&caller, Some(msg), &typed, "/reports"),
    };
    match app.submit_report(&actor, input).await {
        Ok(r) => Redirect::to(&format!("/reports/{}", r.report.id)).into_response(),
        Err(e) => form_page(&caller, Some(e.message(caller.lang)), &typed, "/reports"),
    }
}

async fn view_page(app: &App, caller: &Caller, id: &str, error: Option<String>) -> Response {
    let Some(actor) = caller.actor.as_ref() else { return Redirect::to("/login").into_response() };
    match app.info_report(actor, id).await {
        Ok(r) => {
            let day = crate::domain::inspection::day_of_key(r.report.event_day).map(|d| d.to_string()).unwrap_or_default();
            let paragraphs: Vec<String> = r.report.body.split('\n').map(str::trim).filter(|p| !p.is_empty()).map(str::to_string).collect();
            page(caller, "reports/view.html", context! { r => Serde(&r), day => day, paragraphs => paragraphs, error => error })
        }
        Err(e) => error_page(caller.lang, &e),
    }
}

async fn view(State(app): State<App>, who: SignedIn<Page>, Path(id): Path<String>) -> Response {
    view_page(&app, &who.0, &id, None).await
}

async fn review(State(app): State<App>, Path(id): Path<String>, upload: Upload<Page>) -> Response {
    let caller = upload.caller.clone();
    let Some(actor) = caller.actor.clone() else { return Redirect::to("/login").into_response() };
    let Some(decision) = upload.fields.get("decision").and_then(|d| Decision::parse(d)) else {
        return view_page(&app, &caller, &id, Some(t(caller.lang, "web.info_pick_decision", &[]))).await;
    };
    match app.review_report(&actor, &id, ReviewInput { decision, note: upload.fields.get("note").cloned() }).await {
        Ok(_) => Redirect::to("/reports?view=review").into_response(),
        Err(e) => view_page(&app, &caller, &id, Some(e.message(caller.lang))).await,
    }
}

async fn resubmit(State(app): State<App>, Path(id): Path<String>, upload: Upload<Page>) -> Response {
    let caller = upload.caller.clone();
    let Some(actor) = caller.actor.clone() else { return Redirect::to("/login").into_response() };
    let action = format!("/reports/{id}");
    let (input, typed) = match input_of(&app, &upload).await {
        Ok(x) => x,
        Err((msg, typed)) => return form_page(&caller, Some(msg), &typed, &action),
    };
    match app.resubmit_report(&actor, &id, input).await {
        Ok(_) => Redirect::to(&action).into_response(),
        Err(e) => form_page(&caller, Some(e.message(caller.lang)), &typed, &action),
    }
}
