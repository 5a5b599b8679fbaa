//! 督查 on a phone: my points to inspect, a point's items one by one with big touch targets,
//! and the result. The form works without script (radio buttons and number fields);
//! `inspect.js` adds − / + steppers, the running score, a draft kept in the browser while the
//! form is filled, and keeps a submission that cannot be sent to send again with the same
//! idempotency key — as the report page does.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use super::{Page, error_page, page, percent};
use crate::app::App;
use crate::app::inspections::{InspectForm, InspectionView, ItemInput, SubmitInput};
use crate::domain::inspection::{GRADE_SHARES, Observation, Scoring};
use crate::error::AppError;
use crate::http::Caller;
use crate::http::extract::{SignedIn, Upload};
use crate::i18n::{Lang, t};

/// Photos one item may carry.
const MAX_ITEM_PHOTOS: usize = 3;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/inspect", get(mine))
        .route("/inspect/{round}/{point}", get(form).post(submit))
        .route("/inspections/{id}", get(result))
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024))
}

pub(super) fn beijing(ms: i64) -> String {
    crate::domain::calendar::beijing_time(ms).format("%m-%d %H:%M").to_string()
}

/// How an item is scored, in words.
pub(super) fn scoring_text(lang: Lang, s: &Scoring) -> String {
    match s {
        Scoring::PassFail => t(lang, "web.insp_rule_pass_fail", &[]),
        Scoring::PerProblem { deduct } => t(lang, "web.insp_rule_per_problem", &[("deduct", &deduct.to_string())]),
        Scoring::Grade { thresholds } => {
            let [a, b, c] = thresholds.map(|x| x.to_string());
            t(lang, "web.insp_rule_grade", &[("a", &a), ("b", &b), ("c", &c)])
        }
        Scoring::Quantity { required, deduct } => {
            t(lang, "web.insp_rule_quantity", &[("required", &required.to_string()), ("deduct", &deduct.to_string())])
        }
    }
}

/// What an inspector saw, in words.
pub(super) fn observation_text(lang: Lang, o: &Observation) -> String {
    match o {
        Observation::Pass => t(lang, "web.insp_pass", &[]),
        Observation::Fail => t(lang, "web.insp_fail", &[]),
        Observation::Problems { count } => t(lang, "web.insp_problems_found", &[("n", &count.to_string())]),
        Observation::Found { count } => t(lang, "web.insp_count_found", &[("n", &count.to_string())]),
        Observation::NotApplicable => t(lang, "web.insp_na", &[]),
    }
}

fn score(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

async fn mine(State(app): State<App>, who: SignedIn<Page>) -> Response {
    let (caller, actor) = (&who.0, who.actor());
    let lang = caller.lang;
    let waiting = match app.my_inspections(actor).await {
        Ok(w) => w,
        Err(e) => return error_page(lang, &e),
    };
    let done = app.my_recent_inspections(actor, 10).await.unwrap_or_default();
    #[derive(Serialize)]
    struct Waiting {
        href: String,
        round: String,
        kind: String,
        period: String,
        point: String,
        point_type: String,
        place: String,
        items: usize,
    }
    #[derive(Serialize)]
    struct Done {
        href: String,
        point: String,
        round: String,
        at: String,
        rate: String,
        voided: bool,
        failed: i64,
    }
    let waiting: Vec<Waiting> = waiting
        .into_iter()
        .map(|a| Waiting {
            href: format!("/inspect/{}/{}", a.round.id, a.point.point.id),
            kind: t(lang, &format!("web.insp_kind_{}", a.round.kind.as_str()), &[]),
            period: period_text(a.round.starts_on, a.round.ends_on),
            round: a.round.name,
            place: [a.point.community_name.clone(), a.point.point.address.clone()].into_iter().flatten().collect::<Vec<_>>().join(" · "),
            point: a.point.point.name,
            point_type: a.point.point.point_type,
            items: a.items,
        })
        .collect();
    let done: Vec<Done> = done
        .into_iter()
        .map(|d| Done {
            href: format!("/inspections/{}", d.id),
            point: d.point_name,
            round: d.round_name,
            at: beijing(d.at),
            rate: percent(d.rate),
            voided: d.voided,
            failed: d.failed_items,
        })
        .collect();
    page(caller, "inspections/mine.html", context! { waiting => Serde(&waiting), done => Serde(&done) })
}

/// `yyyymmdd`–`yyyymmdd` as `MM-DD ~ MM-DD`.
pub(super) fn period_text(from: i64, to: i64) -> String {
    let d = |k: i64| crate::domain::inspection::day_of_key(k).map(|d| d.format("%m-%d").to_string()).unwrap_or_default();
    format!("{} ~ {}", d(from), d(to))
}

/// One item on the form, with what was typed when the form comes back.
#[derive(Serialize, Default)]
struct FormItem {
    idx: usize,
    code: String,
    text: String,
    method: Option<String>,
    rule: String,
    standard: String,
    standard_value: f64,
    veto: bool,
    category: Option<String>,
    /// pass_fail | per_problem | grade | quantity
    scoring: &'static str,
    deduct: f64,
    thresholds: String,
    required: u32,
    /// What was typed: pass | fail | na, and a count.
    choice: String,
    count: String,
    note: String,
}

fn scoring_key(s: &Scoring) -> &'static str {
    match s {
        Scoring::PassFail => "pass_fail",
        Scoring::PerProblem { .. } => "per_problem",
        Scoring::Grade { .. } => "grade",
        Scoring::Quantity { .. } => "quantity",
    }
}

fn form_items(f: &InspectForm) -> Vec<FormItem> {
    f.items
        .iter()
        .enumerate()
        .map(|(idx, i)| {
            let (deduct, thresholds, required) = match &i.item.scoring {
                Scoring::PerProblem { deduct } => (*deduct, String::new(), 0),
                Scoring::Grade { thresholds } => (0.0, thresholds.map(|x| x.to_string()).join(","), 0),
                Scoring::Quantity { required, deduct } => (*deduct, String::new(), *required),
                Scoring::PassFail => (0.0, String::new(), 0),
            };
            FormItem {
                idx,
                code: i.item.code.clone(),
                text: i.item.text.clone(),
                method: i.item.method.clone(),
                rule: String::new(),
                standard: score(i.item.standard),
                standard_value: i.item.standard,
                veto: i.item.veto,
                category: i.category_name.clone(),
                scoring: scoring_key(&i.item.scoring),
                deduct,
                thresholds,
                required,
                count: if matches!(i.item.scoring, Scoring::PerProblem { .. } | Scoring::Grade { .. }) {
                    "0".into()
                } else {
                    String::new()
                },
                ..Default::default()
            }
        })
        .collect()
}

fn render_form(
    caller: &Caller,
    f: &InspectForm,
    mut items: Vec<FormItem>,
    note: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let lang = caller.lang;
    for (i, item) in items.iter_mut().enumerate() {
        item.rule = scoring_text(lang, &f.items[i].item.scoring);
    }
    let total: f64 = f.items.iter().map(|i| i.item.standard).sum();
    let grades: Vec<(String, f64)> = GRADE_SHARES.iter().map(|(g, s)| (g.to_string(), *s)).collect();
    let mut r = page(
        caller,
        "inspections/inspect.html",
        context! {
            action => format!("/inspect/{}/{}", f.round.id, f.point.point.id),
            draft_key => format!("{}:{}", f.round.id, f.point.point.id),
            round => f.round.name.clone(),
            kind => t(lang, &format!("web.insp_kind_{}", f.round.kind.as_str()), &[]),
            point => f.point.point.name.clone(),
            point_type => f.point.point.point_type.clone(),
            place => [f.point.community_name.clone(), f.point.grid_name.clone(), f.point.point.address.clone()].into_iter().flatten().collect::<Vec<_>>().join(" · "),
            unit => f.point.unit_name.clone(),
            recheck => f.recheck,
            items => Serde(&items),
            total => score(total),
            grades => Serde(&grades),
            note => note,
            error => error,
        },
    );
    *r.status_mut() = status;
    r
}

async fn form(State(app): State<App>, who: SignedIn<Page>, Path((round, point)): Path<(String, String)>) -> Response {
    let caller = &who.0;
    match app.inspect_form(who.actor(), &round, &point).await {
        Ok(f) => {
            if let Some(done) = &f.done {
                return Redirect::to(&format!("/inspections/{done}")).into_response();
            }
            let items = form_items(&f);
            render_form(caller, &f, items, "", None, StatusCode::OK)
        }
        Err(e) => error_page(caller.lang, &e),
    }
}

/// Reads the observation of form item `i` as its method takes it; `None` when nothing was
/// chosen (a required choice left out).
fn observation(upload: &Upload<Page>, item: &FormItem) -> Result<Option<Observation>, ()> {
    let field = |k: &str| upload.fields.get(&format!("{k}.{}", item.idx)).map(|v| v.trim().to_string()).unwrap_or_default();
    let choice = field("o");
    if choice == "na" {
        return Ok(Some(Observation::NotApplicable));
    }
    match item.scoring {
        "pass_fail" => match choice.as_str() {
            "pass" => Ok(Some(Observation::Pass)),
            "fail" => Ok(Some(Observation::Fail)),
            _ => Ok(None),
        },
        method => {
            let raw = field("n");
            if raw.is_empty() {
                return Ok(None);
            }
            let count: u32 = raw.parse().map_err(|_| ())?;
            Ok(Some(if method == "quantity" { Observation::Found { count } } else { Observation::Problems { count } }))
        }
    }
}

async fn submit(
    State(app): State<App>,
    headers: HeaderMap,
    Path((round, point)): Path<(String, String)>,
    upload: Upload<Page>,
) -> Response {
    let caller = &upload.caller;
    let Some(actor) = caller.actor.clone() else { return Redirect::to("/login").into_response() };
    let lang = caller.lang;
    let f = match app.inspect_form(&actor, &round, &point).await {
        Ok(f) => f,
        Err(e) => return error_page(lang, &e),
    };
    let mut items = form_items(&f);
    let note = upload.fields.get("note").cloned().unwrap_or_default();
    // What was typed comes back with the form whatever goes wrong.
    for item in items.iter_mut() {
        let field = |k: &str| upload.fields.get(&format!("{k}.{}", item.idx)).cloned().unwrap_or_default();
        item.choice = field("o");
        item.count = field("n");
        item.note = field("note");
    }
    let idem = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| upload.fields.get("idempotency_key").cloned().filter(|k| !k.is_empty()));
    let mut inputs = Vec::new();
    for item in &items {
        let o = match observation(&upload, item) {
            Ok(Some(o)) => o,
            Ok(None) => {
                let msg = t(lang, "web.insp_missing_observation", &[("code", &item.code)]);
                return render_form(caller, &f, items, &note, Some(msg), StatusCode::UNPROCESSABLE_ENTITY);
            }
            Err(()) => {
                let msg = t(lang, "web.insp_bad_count", &[("code", &item.code)]);
                return render_form(caller, &f, items, &note, Some(msg), StatusCode::UNPROCESSABLE_ENTITY);
            }
        };
        let photos: Vec<&[u8]> = upload
            .files
            .iter()
            .filter(|x| x.field == format!("p.{}", item.idx) && !x.bytes.is_empty())
            .map(|x| x.bytes.as_slice())
            .collect();
        if photos.len() > MAX_ITEM_PHOTOS {
            let msg = t(lang, "web.insp_too_many_photos", &[("code", &item.code), ("n", &MAX_ITEM_PHOTOS.to_string())]);
            return render_form(caller, &f, items, &note, Some(msg), StatusCode::UNPROCESSABLE_ENTITY);
        }
        let mut ids = Vec::new();
        for bytes in photos {
            match app.upload_photo(Some(&actor), bytes.to_vec()).await {
                Ok(p) => ids.push(p.record.id),
                Err(e) => {
                    let msg = format!("{}:{}", item.code, e.message(lang));
                    return render_form(caller, &f, items, &note, Some(msg), e.status());
                }
            }
        }
        let item_note = Some(item.note.clone()).filter(|n| !n.trim().is_empty());
        inputs.push(ItemInput { code: item.code.clone(), observation: o, note: item_note, photos: ids });
    }
    let input = SubmitInput { items: inputs, note: Some(note.clone()).filter(|n| !n.trim().is_empty()) };
    match app.submit_inspection(&actor, &round, &point, input, idem.as_deref()).await {
        Ok(done) => Redirect::to(&format!("/inspections/{}", done.inspection.id)).into_response(),
        Err(AppError::Invalid(crate::error::Invalid::AlreadyInspected)) => {
            match app.inspect_form(&actor, &round, &point).await.ok().and_then(|f| f.done) {
                Some(id) => Redirect::to(&format!("/inspections/{id}")).into_response(),
                None => error_page(lang, &AppError::Invalid(crate::error::Invalid::AlreadyInspected)),
            }
        }
        Err(e) => {
            let msg = e.message(lang);
            render_form(caller, &f, items, &note, Some(msg), e.status())
        }
    }
}

#[derive(Serialize)]
struct ResultItem {
    code: String,
    text: String,
    observation: String,
    score: String,
    standard: String,
    failed: bool,
    applicable: bool,
    veto: bool,
    grade: Option<&'static str>,
    note: Option<String>,
    case: Option<(String, String, String, &'static str)>,
    photos: Vec<String>,
}

fn result_items(lang: Lang, v: &InspectionView) -> Vec<ResultItem> {
    v.items
        .iter()
        .map(|i| ResultItem {
            code: i.result.item_code.clone(),
            text: i.text.clone(),
            observation: observation_text(lang, &i.result.observation),
            score: score(i.result.score),
            standard: score(i.result.standard),
            failed: i.result.failed,
            applicable: i.result.applicable,
            veto: i.veto,
            grade: i.grade,
            note: i.result.note.clone(),
            case: i
                .case
                .as_ref()
                .map(|c| (c.id.clone(), c.number.clone(), t(lang, &format!("status.{}", c.status.as_str()), &[]), c.status.as_str())),
            photos: i.photos.iter().map(|p| p.thumb_url.clone()).collect(),
        })
        .collect()
}

async fn result(State(app): State<App>, who: SignedIn<Page>, Path(id): Path<String>) -> Response {
    let caller = &who.0;
    let lang = caller.lang;
    let v = match app.inspection(who.actor(), &id).await {
        Ok(v) => v,
        Err(e) => return error_page(lang, &e),
    };
    let items = result_items(lang, &v);
    let failed: Vec<&ResultItem> = items.iter().filter(|i| i.failed).collect();
    let cases = items.iter().filter(|i| i.case.is_some()).count();
    page(
        caller,
        "inspections/result.html",
        context! {
            round => v.round.name.clone(),
            round_id => v.round.id.clone(),
            frontage => v.round.kind == crate::domain::inspection::RoundKind::Frontage,
            kind => t(lang, &format!("web.insp_kind_{}", v.round.kind.as_str()), &[]),
            point => v.point.point.name.clone(),
            point_type => v.point.point.point_type.clone(),
            place => [v.point.community_name.clone(), v.point.grid_name.clone()].into_iter().flatten().collect::<Vec<_>>().join(" · "),
            unit => v.point.unit_name.clone(),
            inspector => v.inspector_name.clone(),
            at => beijing(v.inspection.at),
            score => score(v.inspection.score),
            standard => score(v.inspection.standard),
            rate => percent(v.rate),
            voided => v.inspection.voided,
            problems => v.inspection.problems,
            failed_count => failed.len(),
            cases => cases,
            note => v.inspection.note.clone(),
            items => Serde(&items),
        },
    )
}
