//! 督查通报 pages: the list (search, draft a new one), a bulletin as a printable document with
//! its editor while a draft (texts, which problems and photos, the deadline) and its
//! downloads, issue and correction; on the phone, a unit's rectification notices and the
//! form that answers each problem with a note and photos.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::NaiveDate;
use minijinja::context;
use minijinja::value::Serde;
use serde::{Deserialize, Serialize};

use super::inspect::beijing;
use super::{Page, error_page, page, percent};
use crate::app::App;
use crate::app::bulletins::{
    AccountInput, AnswerInput, BulletinFilter, BulletinView, EditInput, MeetingView, NewBulletin, NoticeView, ScoreInput,
};
use crate::domain::authz::Permission;
use crate::domain::bulletin::{BulletinKind, BulletinStatus, Edit, Outcome, ProblemEdit};
use crate::error::AppError;
use crate::http::Caller;
use crate::http::extract::{SignedIn, Upload};
use crate::i18n::{Lang, t};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/bulletins", get(list).post(draft))
        .route("/bulletins/{id}", get(view).post(edit))
        .route("/bulletins/{id}/issue", post(issue))
        .route("/bulletins/{id}/correct", post(correct))
        .route("/bulletins/{id}/meeting", get(meeting))
        .route("/bulletins/{id}/scores", post(score))
        .route("/bulletins/{id}/accounts", post(account))
        .route("/notices", get(notices))
        .route("/notices/{id}", get(notice))
        .route("/notices/{id}/items/{item}", post(answer))
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024))
}

#[derive(Deserialize, Default)]
struct ListQuery {
    q: Option<String>,
    status: Option<String>,
}

#[derive(Serialize)]
struct Line {
    id: String,
    label: String,
    title: String,
    period: String,
    status: String,
    status_key: &'static str,
    issued: String,
}

fn day_text(key: i64) -> String {
    crate::domain::inspection::day_of_key(key).map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default()
}

fn status_text(lang: Lang, s: BulletinStatus) -> String {
    t(lang, &format!("web.bulletin_status_{}", s.as_str()), &[])
}

async fn list_page(app: &App, caller: &Caller, q: &ListQuery, error: Option<String>) -> Response {
    let Some(actor) = caller.actor.as_ref() else { return Redirect::to("/login").into_response() };
    let lang = caller.lang;
    let filter = BulletinFilter { q: q.q.clone(), status: q.status.as_deref().and_then(BulletinStatus::parse) };
    let rows = match app.bulletins(actor, filter).await {
        Ok(r) => r,
        Err(e) => return error_page(lang, &e),
    };
    let lines: Vec<Line> = rows
        .iter()
        .map(|b| Line {
            id: b.id.clone(),
            label: match (&b.label, b.version) {
                (Some(l), v) if v > 1 => format!("{l} · {}", t(lang, "web.bulletin_version", &[("n", &v.to_string())])),
                (Some(l), _) => l.clone(),
                (None, _) => "—".into(),
            },
            title: b.title.clone(),
            period: format!("{} ~ {}", day_text(b.from), day_text(b.to)),
            status: status_text(lang, b.status),
            status_key: b.status.as_str(),
            issued: b.issued_at.map(beijing).unwrap_or_default(),
        })
        .collect();
    let today = crate::domain::calendar::beijing_date(app.now());
    let last_week = today - chrono::Duration::days(7);
    page(
        caller,
        "bulletins/list.html",
        context! {
            rows => Serde(lines),
            q => q.q.clone().unwrap_or_default(),
            status => q.status.clone().unwrap_or_default(),
            may_write => actor.can_somewhere(Permission::WriteBulletins),
            error => error,
            default_from => last_week.to_string(),
            default_to => today.to_string(),
        },
    )
}

async fn list(State(app): State<App>, who: SignedIn<Page>, Query(q): Query<ListQuery>) -> Response {
    list_page(&app, &who.0, &q, None).await
}

async fn draft(State(app): State<App>, upload: Upload<Page>) -> Response {
    let caller = upload.caller.clone();
    let Some(actor) = caller.actor.clone() else { return Redirect::to("/login").into_response() };
    let lang = caller.lang;
    let f = |k: &str| upload.fields.get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let bad = |field: &str| t(lang, "web.insp_bad_field", &[("field", &t(lang, &format!("web.bulletin_field_{field}"), &[]))]);
    let Some(kind) = f("kind").as_deref().and_then(BulletinKind::parse) else {
        return list_page(&app, &caller, &ListQuery::default(), Some(bad("kind"))).await;
    };
    let date = |k: &str| f(k).map(|v| NaiveDate::parse_from_str(&v, "%Y-%m-%d"));
    let (from, to) = match (date("from").transpose(), date("to").transpose()) {
        (Ok(a), Ok(b)) => (a, b),
        _ => return list_page(&app, &caller, &ListQuery::default(), Some(bad("period"))).await,
    };
    let to = if kind == BulletinKind::Custom { to } else { None };
    match app.draft_bulletin(&actor, NewBulletin { area: f("area"), kind, from, to }).await {
        Ok(b) => Redirect::to(&format!("/bulletins/{}", b.id)).into_response(),
        Err(e @ (AppError::Forbidden | AppError::Unauthenticated)) => error_page(lang, &e),
        Err(e) => list_page(&app, &caller, &ListQuery::default(), Some(e.message(lang))).await,
    }
}

#[derive(Serialize)]
struct TableView {
    title: String,
    composite: bool,
    rows: Vec<[String; 7]>,
}

#[derive(Serialize)]
struct NoticeLine {
    id: String,
    unit: String,
    deadline: String,
    status: String,
    status_key: &'static str,
    answered: i64,
    items: i64,
    overdue: bool,
}

fn notice_status(lang: Lang, n: &NoticeView) -> (String, &'static str) {
    let key = if n.overdue && n.notice.status.as_str() == "open" { "overdue" } else { n.notice.status.as_str() };
    (t(lang, &format!("web.notice_status_{key}"), &[]), key)
}

fn notice_lines(lang: Lang, notices: &[NoticeView]) -> Vec<NoticeLine> {
    notices
        .iter()
        .map(|n| {
            let (status, key) = notice_status(lang, n);
            NoticeLine {
                id: n.notice.id.clone(),
                unit: n.unit_name.clone(),
                deadline: beijing(n.notice.deadline),
                status,
                status_key: key,
                answered: n.notice.answered,
                items: n.notice.items,
                overdue: n.overdue,
            }
        })
        .collect()
}

/// Adopted info reports a draft may quote: (id, title, unit, quoted now).
async fn quotable(app: &App, caller: &Caller, b: &BulletinView) -> Vec<(String, String, String, bool)> {
    let Some(actor) = caller.actor.as_ref() else { return Vec::new() };
    if !b.may_edit {
        return Vec::new();
    }
    let feed = app.info_reports(actor, crate::app::info_reports::ReportFilter::default()).await.unwrap_or_default();
    feed.into_iter()
        .take(20)
        .map(|r| {
            let quoted = b.content.quotes.iter().any(|q| q.report_id == r.report.id);
            (r.report.id.clone(), r.report.title.clone(), r.unit_name.clone(), quoted)
        })
        .collect()
}

fn view_page(
    caller: &Caller,
    b: &BulletinView,
    error: Option<String>,
    saved: bool,
    reports: Vec<(String, String, String, bool)>,
) -> Response {
    let lang = caller.lang;
    let c = &b.content;
    let change = |v: Option<f64>| v.map(|c| format!("{c:+.1}")).unwrap_or_else(|| "—".into());
    let tables: Vec<TableView> = c
        .tables
        .iter()
        .map(|tb| TableView {
            title: tb.title.clone(),
            composite: tb.kind == "composite",
            rows: tb
                .rows
                .iter()
                .map(|r| {
                    [
                        r.rank.to_string(),
                        r.name.clone(),
                        percent(r.rate),
                        change(r.change),
                        r.inspections.to_string(),
                        r.problems.to_string(),
                        percent(r.rectified_rate),
                    ]
                })
                .collect(),
        })
        .collect();
    let listed: usize = c.lists.iter().map(|l| l.problems.len()).sum();
    page(
        caller,
        "bulletins/view.html",
        context! {
            b => Serde(b),
            c => Serde(c),
            tables => Serde(tables),
            period => format!("{} ~ {}", day_text(b.from), day_text(b.to)),
            status => status_text(lang, b.status),
            shown => Serde(c.problems.iter().filter(|p| p.shown).collect::<Vec<_>>()),
            listed => listed,
            notices => Serde(notice_lines(lang, &b.notices)),
            next_steps => Serde(c.next_steps.split('\n').map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>()),
            error => error,
            saved => saved,
            reports => Serde(reports),
        },
    )
}

#[derive(Deserialize, Default)]
struct ViewQuery {
    saved: Option<String>,
}

async fn view(State(app): State<App>, who: SignedIn<Page>, Path(id): Path<String>, Query(q): Query<ViewQuery>) -> Response {
    match app.bulletin(who.actor(), &id).await {
        Ok(b) => {
            let reports = quotable(&app, &who.0, &b).await;
            view_page(&who.0, &b, None, q.saved.is_some(), reports)
        }
        Err(e) => error_page(who.0.lang, &e),
    }
}

/// After a refused change: the bulletin again with the reason.
async fn again(app: &App, caller: &Caller, id: &str, e: AppError) -> Response {
    let Some(actor) = caller.actor.as_ref() else { return Redirect::to("/login").into_response() };
    match app.bulletin(actor, id).await {
        Ok(b) => {
            let reports = quotable(app, caller, &b).await;
            view_page(caller, &b, Some(e.message(caller.lang)), false, reports)
        }
        Err(e2) => error_page(caller.lang, &e2),
    }
}

async fn edit(State(app): State<App>, Path(id): Path<String>, upload: Upload<Page>) -> Response {
    let caller = upload.caller.clone();
    let Some(actor) = caller.actor.clone() else { return Redirect::to("/login").into_response() };
    let fields = &upload.fields;
    let text = |k: &str| fields.get(k).cloned();
    let Some(revision) = fields.get("revision").and_then(|r| r.trim().parse::<i64>().ok()) else {
        return again(&app, &caller, &id, AppError::InvalidParameter("revision".into())).await;
    };
    let deadline_days = match fields.get("deadline_days").map(|d| d.trim()).filter(|d| !d.is_empty()) {
        Some(d) => match d.parse::<u32>() {
            Ok(n) => Some(n),
            Err(_) => return again(&app, &caller, &id, AppError::Invalid(crate::error::Invalid::DeadlineDays)).await,
        },
        None => None,
    };
    // One group of fields per typical problem: `problem.<code>` is there for each, with
    // `shown.<code>` ticked, `photo.<code>` and `caption.<code>`.
    let problems: Vec<ProblemEdit> = fields
        .keys()
        .filter_map(|k| k.strip_prefix("problem."))
        .map(|code| ProblemEdit {
            code: code.to_string(),
            shown: Some(fields.contains_key(&format!("shown.{code}"))),
            photo_id: fields.get(&format!("photo.{code}")).cloned(),
            caption: fields.get(&format!("caption.{code}")).cloned(),
        })
        .collect();
    let edit = Edit {
        title: text("title"),
        issuer: text("issuer"),
        intro: text("intro"),
        next_steps: text("next_steps").map(|s| s.replace("\r\n", "\n")),
        deadline_days,
        problems,
        // Ticked adopted reports (`quote.<id>`), when the form offers them.
        quote_reports: fields
            .contains_key("quotes_offered")
            .then(|| fields.keys().filter_map(|k| k.strip_prefix("quote.")).map(str::to_string).collect()),
    };
    match app.edit_bulletin(&actor, &id, EditInput { revision, edit }).await {
        Ok(_) => Redirect::to(&format!("/bulletins/{id}?saved=1")).into_response(),
        Err(e) => again(&app, &caller, &id, e).await,
    }
}

async fn issue(State(app): State<App>, Path(id): Path<String>, upload: Upload<Page>) -> Response {
    let caller = upload.caller.clone();
    let Some(actor) = caller.actor.clone() else { return Redirect::to("/login").into_response() };
    let revision = upload.fields.get("revision").and_then(|r| r.trim().parse::<i64>().ok()).unwrap_or(-1);
    match app.issue_bulletin(&actor, &id, revision).await {
        Ok(_) => Redirect::to(&format!("/bulletins/{id}")).into_response(),
        Err(e) => again(&app, &caller, &id, e).await,
    }
}

async fn correct(State(app): State<App>, Path(id): Path<String>, upload: Upload<Page>) -> Response {
    let caller = upload.caller.clone();
    let Some(actor) = caller.actor.clone() else { return Redirect::to("/login").into_response() };
    match app.correct_bulletin(&actor, &id).await {
        Ok(b) => Redirect::to(&format!("/bulletins/{}", b.id)).into_response(),
        Err(e) => again(&app, &caller, &id, e).await,
    }
}

#[derive(Deserialize, Default)]
struct NoticesQuery {
    all: Option<String>,
}

async fn notices(State(app): State<App>, who: SignedIn<Page>, Query(q): Query<NoticesQuery>) -> Response {
    let (caller, actor) = (&who.0, who.actor());
    let all = q.all.is_some();
    match app.my_notices(actor, all).await {
        Ok(list) => page(caller, "bulletins/notices.html", context! { rows => Serde(notice_lines(caller.lang, &list)), all => all }),
        Err(e) => error_page(caller.lang, &e),
    }
}

async fn notice_page(app: &App, caller: &Caller, id: &str, error: Option<(String, String)>) -> Response {
    let Some(actor) = caller.actor.as_ref() else { return Redirect::to("/login").into_response() };
    match app.notice(actor, id).await {
        Ok(n) => {
            let (status, key) = notice_status(caller.lang, &n);
            page(
                caller,
                "bulletins/notice.html",
                context! {
                    n => Serde(&n),
                    status => status,
                    status_key => key,
                    deadline => beijing(n.notice.deadline),
                    error_item => error.as_ref().map(|e| e.0.clone()),
                    error => error.map(|e| e.1),
                },
            )
        }
        Err(e) => error_page(caller.lang, &e),
    }
}

async fn notice(State(app): State<App>, who: SignedIn<Page>, Path(id): Path<String>) -> Response {
    notice_page(&app, &who.0, &id, None).await
}

async fn answer(State(app): State<App>, Path((id, item)): Path<(String, String)>, upload: Upload<Page>) -> Response {
    let caller = upload.caller.clone();
    let Some(actor) = caller.actor.clone() else { return Redirect::to("/login").into_response() };
    let lang = caller.lang;
    let refuse = |msg: String| {
        let (app, caller, id, item) = (app.clone(), caller.clone(), id.clone(), item.clone());
        async move { notice_page(&app, &caller, &id, Some((item, msg))).await }
    };
    let Some(outcome) = upload.fields.get("outcome").and_then(|o| Outcome::parse(o)) else {
        return refuse(t(lang, "web.notice_pick_outcome", &[])).await;
    };
    let mut photos = Vec::new();
    for f in upload.files.iter().filter(|f| f.field == "photo" && !f.bytes.is_empty()) {
        match app.upload_photo(Some(&actor), f.bytes.clone()).await {
            Ok(p) => photos.push(p.record.id),
            Err(e) => return refuse(e.message(lang)).await,
        }
    }
    let input = AnswerInput { outcome, note: upload.fields.get("note").cloned(), photos };
    match app.answer_notice(&actor, &id, &item, input).await {
        Ok(_) => Redirect::to(&format!("/notices/{id}#p-{item}")).into_response(),
        Err(e) => refuse(e.message(lang)).await,
    }
}

#[derive(Deserialize, Default)]
struct MeetingQuery {
    unit: Option<String>,
}

fn meeting_page(caller: &Caller, m: &MeetingView, error: Option<String>) -> Response {
    let lang = caller.lang;
    let neighbour =
        |d: isize| m.units.get((m.index as isize + d).max(-1) as usize).filter(|_| m.index as isize + d >= 0).map(|u| u.unit_id.clone());
    let bars: Vec<(String, f64, Option<&'static str>)> =
        m.others.iter().map(|(name, rate)| (name.clone(), rate.unwrap_or(0.0), (*name == m.unit.name).then_some("mark"))).collect();
    let mine = m.scores.iter().find(|s| s.mine);
    page(
        caller,
        "bulletins/meeting.html",
        context! {
            m => Serde(m),
            prev => neighbour(-1),
            next => neighbour(1),
            rate => percent(m.unit.line.rate),
            change => m.unit.line.change.map(|c| format!("{c:+.1}")).unwrap_or_else(|| "—".into()),
            bars => super::svg::rate_bars(&bars, &t(lang, "web.meeting_compare", &[])),
            my_score => mine.map(|s| s.score.to_string()).unwrap_or_default(),
            my_comment => mine.and_then(|s| s.comment.clone()).unwrap_or_default(),
            error => error,
        },
    )
}

async fn meeting(State(app): State<App>, who: SignedIn<Page>, Path(id): Path<String>, Query(q): Query<MeetingQuery>) -> Response {
    match app.meeting(who.actor(), &id, q.unit.as_deref()).await {
        Ok(m) => meeting_page(&who.0, &m, None),
        Err(e) => error_page(who.0.lang, &e),
    }
}

async fn score(State(app): State<App>, Path(id): Path<String>, upload: Upload<Page>) -> Response {
    let caller = upload.caller.clone();
    let Some(actor) = caller.actor.clone() else { return Redirect::to("/login").into_response() };
    let unit = upload.fields.get("unit").cloned().unwrap_or_default();
    let score = upload.fields.get("score").and_then(|s| s.trim().parse::<f64>().ok()).unwrap_or(f64::NAN);
    let input = ScoreInput { unit: unit.clone(), score, comment: upload.fields.get("comment").cloned() };
    match app.score_unit(&actor, &id, input).await {
        Ok(_) => Redirect::to(&format!("/bulletins/{id}/meeting?unit={unit}")).into_response(),
        Err(e) => match app.meeting(&actor, &id, Some(&unit)).await {
            Ok(m) => meeting_page(&caller, &m, Some(e.message(caller.lang))),
            Err(_) => error_page(caller.lang, &e),
        },
    }
}

async fn account(State(app): State<App>, Path(id): Path<String>, upload: Upload<Page>) -> Response {
    let caller = upload.caller.clone();
    let Some(actor) = caller.actor.clone() else { return Redirect::to("/login").into_response() };
    let unit = upload.fields.get("unit").cloned().unwrap_or_default();
    let input = AccountInput { unit: unit.clone(), text: upload.fields.get("text").cloned().unwrap_or_default() };
    match app.account_unit(&actor, &id, input).await {
        Ok(_) => Redirect::to(&format!("/bulletins/{id}/meeting?unit={unit}")).into_response(),
        Err(e) => match app.meeting(&actor, &id, Some(&unit)).await {
            Ok(m) => meeting_page(&caller, &m, Some(e.message(caller.lang))),
            Err(_) => error_page(caller.lang, &e),
        },
    }
}
