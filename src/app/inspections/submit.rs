//! Inspecting a point: the form (the point's items, one by one), and the one write that
//! records the observations, scores them by the manual's rules, opens a case for every failed
//! item that names a category (or adds to the case a failure of the same item at the same
//! point already opened), moves the cases a re-check finds fixed or not, keeps the sums, and
//! is retried safely with an idempotency key.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::{PointView, sum_keys};
use crate::app::App;
use crate::app::attachments::PhotoView;
use crate::app::cases::{ActInput, Opening, case_number, open_case_in, step_in};
use crate::domain::authz::{Actor, Permission};
use crate::domain::case::{Action, Event, EventData, Source, Status};
use crate::domain::category::Category;
use crate::domain::inspection::{
    Grain, ItemScore, Observation, RoundKind, Scoring, Sums, day_key, grade_of, inspection_sums, month_key, recheck_action, score_item,
    score_point,
};
use crate::domain::photo::AttachmentOwner;
use crate::error::{AppError, AppResult, Invalid, Thing};
use crate::store::cases::{self as case_db, CaseDetails};
use crate::store::inspections::{self as db, InspectionRow, ItemResultRow, ItemRow, PointRow, RoundPointRow, RoundRow, sums};
use crate::store::{Conn, attachments, new_id, org, people};

/// The longest note an item or an inspection takes.
const MAX_NOTE: usize = 1000;
/// The most photos per item.
const MAX_ITEM_PHOTOS: usize = 3;

/// One item's observation as the inspector sends it.
#[derive(Debug, Clone, Deserialize)]
pub struct ItemInput {
    pub code: String,
    pub observation: Observation,
    #[serde(default)]
    pub note: Option<String>,
    /// Ids of photos the inspector uploaded.
    #[serde(default)]
    pub photos: Vec<String>,
}

/// A whole inspection as sent.
#[derive(Debug, Clone, Deserialize)]
pub struct SubmitInput {
    pub items: Vec<ItemInput>,
    #[serde(default)]
    pub note: Option<String>,
}

/// One item on the form.
#[derive(Debug, Clone, Serialize)]
pub struct FormItem {
    #[serde(flatten)]
    pub item: ItemRow,
    pub category_name: Option<String>,
}

/// What an inspector fills in at a point.
#[derive(Debug, Clone, Serialize)]
pub struct InspectForm {
    pub round: RoundRow,
    pub point: PointView,
    pub items: Vec<FormItem>,
    pub recheck: bool,
    /// The inspection, once the point is done in this round.
    pub done: Option<String>,
}

/// A case as an item shows it.
#[derive(Debug, Clone, Serialize)]
pub struct CaseBrief {
    pub id: String,
    pub number: String,
    pub status: Status,
}

/// One item's result as shown.
#[derive(Debug, Clone, Serialize)]
pub struct ItemView {
    #[serde(flatten)]
    pub result: ItemResultRow,
    pub text: String,
    pub method: Option<String>,
    pub scoring: Scoring,
    pub veto: bool,
    /// 状态描述: the grade the problems gave (A, B, C, C#).
    pub grade: Option<&'static str>,
    pub case: Option<CaseBrief>,
    pub photos: Vec<PhotoView>,
}

/// An inspection with its items.
#[derive(Debug, Clone, Serialize)]
pub struct InspectionView {
    pub inspection: InspectionRow,
    pub round: RoundRow,
    pub point: PointView,
    pub inspector_name: Option<String>,
    pub rate: Option<f64>,
    pub items: Vec<ItemView>,
}

/// What one item came to, before it is written.
struct Scored<'a> {
    input: &'a ItemInput,
    item: &'a ItemRow,
    score: ItemScore,
}

fn trimmed_note(n: &Option<String>) -> AppResult<Option<String>> {
    let n = n.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if n.is_some_and(|n| n.chars().count() > MAX_NOTE) {
        return Err(AppError::Invalid(Invalid::NoteTooLong));
    }
    Ok(n.map(str::to_string))
}

impl App {
    /// The round, the point and the items an inspector must observe there: every item of the
    /// point's type in the round's manual version, or a re-check's items.
    async fn inspection_plan(
        &self,
        actor: &Actor,
        round_id: &str,
        point_id: &str,
    ) -> AppResult<(RoundRow, RoundPointRow, PointRow, Vec<ItemRow>)> {
        let (r, p, actor) = (round_id.to_string(), point_id.to_string(), actor.clone());
        self.store()
            .read(move |c| {
                let round = db::round(c, &r)?.ok_or(AppError::NotFound(Thing::Round))?;
                let rp = db::round_point(c, &r, &p)?.ok_or(AppError::NotFound(Thing::Point))?;
                let point = db::point(c, &p)?.ok_or(AppError::NotFound(Thing::Point))?;
                let assigned = rp.inspector_id.as_deref() == Some(actor.person_id.as_str()) && actor.is_person();
                // A frontage round is walked by whoever may check the shop's frontage.
                let checker = if round.kind == RoundKind::Frontage {
                    actor.can(Permission::CheckFrontage, &point.scope_path)
                } else {
                    actor.can_somewhere(Permission::Inspect)
                };
                let may = (assigned && checker) || actor.can(Permission::PlanInspections, &point.scope_path);
                if !may {
                    return Err(if actor.can(Permission::ReadInspections, &point.scope_path) {
                        AppError::Invalid(Invalid::NotYourPoint)
                    } else {
                        AppError::NotFound(Thing::Point)
                    });
                }
                let mut items: Vec<ItemRow> =
                    db::items(c, &round.manual_id)?.into_iter().filter(|i| i.point_type == point.point_type).collect();
                if let Some(codes) = &rp.items {
                    items.retain(|i| codes.contains(&i.code));
                }
                Ok((round, rp, point, items))
            })
            .await
    }

    /// The form for a point of a round.
    pub async fn inspect_form(&self, actor: &Actor, round_id: &str, point_id: &str) -> AppResult<InspectForm> {
        let (round, rp, point, items) = self.inspection_plan(actor, round_id, point_id).await?;
        let categories = self.category_map().await?;
        let manual = self.manual(&Actor::console(), Some(&round.manual_id)).await.ok();
        let items = items
            .into_iter()
            .map(|i| FormItem { category_name: i.category_code.as_ref().and_then(|c| categories.get(c)).map(|c| c.name.clone()), item: i })
            .collect();
        Ok(InspectForm {
            recheck: round.kind == RoundKind::Recheck,
            point: self.point_view(point, manual.as_ref()),
            round,
            items,
            done: rp.inspection_id,
        })
    }

    /// Records an inspection: see the module documentation. A retry with the same key answers
    /// the inspection already recorded.
    pub async fn submit_inspection(
        &self,
        actor: &Actor,
        round_id: &str,
        point_id: &str,
        input: SubmitInput,
        idempotency_key: Option<&str>,
    ) -> AppResult<InspectionView> {
        self.submit_inspection_at(actor, round_id, point_id, input, idempotency_key, self.now()).await
    }

    /// The same at a given moment (the demo replays a season of rounds).
    pub(crate) async fn submit_inspection_at(
        &self,
        actor: &Actor,
        round_id: &str,
        point_id: &str,
        input: SubmitInput,
        idempotency_key: Option<&str>,
        now: i64,
    ) -> AppResult<InspectionView> {
        let key = idempotency_key.map(|k| format!("inspect:{}:{k}", actor.person_id));
        if let Some(k) = &key {
            let k2 = k.clone();
            if let Some(done) = self.store().read(move |c| case_db::idempotent_case(c, &k2)).await? {
                return self.inspection(actor, &done).await;
            }
        }
        let (round, _, point, items) = self.inspection_plan(actor, round_id, point_id).await?;
        let note = trimmed_note(&input.note)?;
        // Every item of the plan, once, with an observation its method takes.
        let by_code: HashMap<&str, &ItemRow> = items.iter().map(|i| (i.code.as_str(), i)).collect();
        let mut seen = HashSet::new();
        let mut scored = Vec::new();
        for i in &input.items {
            let item = by_code.get(i.code.as_str()).ok_or_else(|| AppError::InvalidParameter(format!("items: {}", i.code)))?;
            if !seen.insert(i.code.as_str()) {
                return Err(AppError::InvalidParameter(format!("items: {}", i.code)));
            }
            let score = score_item(&item.scoring, item.standard, i.observation).map_err(|_| AppError::Invalid(Invalid::Observation))?;
            if i.photos.len() > MAX_ITEM_PHOTOS {
                return Err(AppError::Invalid(Invalid::Photo));
            }
            trimmed_note(&i.note)?;
            scored.push(Scored { input: i, item, score });
        }
        if let Some(missing) = items.iter().find(|i| !seen.contains(i.code.as_str())) {
            return Err(AppError::MissingParameter(format!("items: {}", missing.code)));
        }
        let photos: Vec<String> = input.items.iter().flat_map(|i| i.photos.iter().cloned()).collect();
        self.check_photos(Some(actor), &photos).await?;
        let point_score = score_point(&scored.iter().map(|s| (s.score, s.item.veto)).collect::<Vec<_>>());
        let categories = self.category_map().await?;
        let (calendar, dir, prefix) = (self.calendar().clone(), self.directory(), self.config().case_prefix.clone());
        let today = crate::domain::calendar::beijing_date(now);
        let keys = sum_keys(&dir, &point);
        let (whole, per_item) = inspection_sums(&point_score, &scored.iter().map(|s| (s.item.code.clone(), s.score)).collect::<Vec<_>>());
        let id = new_id();
        // Owned copies for the write job.
        let results: Vec<(ItemInput, ItemRow, ItemScore)> = scored.iter().map(|s| (s.input.clone(), s.item.clone(), s.score)).collect();
        let (actor_owned, inspection_id) = (actor.clone(), id.clone());
        let done = self
            .store()
            .write(move |c| {
                let actor = &actor_owned;
                if let Some(k) = &key
                    && let Some(existing) = case_db::idempotent_case(c, k)?
                {
                    return Ok(existing);
                }
                // A shop that no longer trades is not checked.
                if point.point_type == crate::domain::merchant::FRONTAGE_TYPE
                    && let Some(m) = crate::store::merchants::by_point(c, &point.id)?
                    && m.status != crate::domain::merchant::MerchantStatus::Open
                {
                    return Err(AppError::Invalid(Invalid::MerchantNotOpen));
                }
                if !db::mark_inspected(c, &round.id, &point.id, &inspection_id)? {
                    return Err(AppError::Invalid(Invalid::AlreadyInspected));
                }
                // The earlier round's results, for a re-check.
                let earlier: HashMap<String, String> = match (&round.kind, &round.based_on) {
                    (RoundKind::Recheck, Some(b)) => match db::inspection_of(c, b, &point.id)? {
                        Some(i) => db::item_results(c, &i.id)?.into_iter().filter_map(|r| r.case_id.map(|k| (r.item_code, k))).collect(),
                        None => HashMap::new(),
                    },
                    _ => HashMap::new(),
                };
                let ctx = CaseCtx { calendar: &calendar, now, actor, point: &point, round: &round, prefix: &prefix, day: today };
                let mut rows = Vec::new();
                for (input, item, score) in &results {
                    let item_note = trimmed_note(&input.note)?;
                    let case_id = if round.kind == RoundKind::Recheck {
                        match earlier.get(&item.code) {
                            Some(case) => Some(recheck_case(c, &ctx, case, !score.failed, item, item_note.as_deref(), &categories)?),
                            None if score.failed => failure_case(c, &ctx, item, input, item_note.as_deref(), &categories)?,
                            None => None,
                        }
                    } else if score.failed {
                        failure_case(c, &ctx, item, input, item_note.as_deref(), &categories)?
                    } else {
                        None
                    };
                    // A failure's case counts toward the period's rectification.
                    if let (Some(case), true) = (&case_id, score.failed) {
                        db::link_case(c, day_key(today), &point.id, case)?;
                    }
                    rows.push(ItemResultRow {
                        id: new_id(),
                        inspection_id: inspection_id.clone(),
                        item_code: item.code.clone(),
                        observation: input.observation,
                        applicable: score.applicable,
                        score: score.score,
                        standard: score.standard,
                        failed: score.failed,
                        problems: score.problems as i64,
                        note: item_note,
                        case_id,
                    });
                }
                let row = InspectionRow {
                    id: inspection_id.clone(),
                    round_id: round.id.clone(),
                    point_id: point.id.clone(),
                    inspector_id: actor.person_id.clone(),
                    manual_id: round.manual_id.clone(),
                    at: now,
                    day: day_key(today),
                    score: point_score.score,
                    standard: point_score.standard,
                    voided: point_score.voided,
                    problems: point_score.problems as i64,
                    failed_items: point_score.failed_items as i64,
                    note: note.clone(),
                };
                db::insert_inspection(c, &row, &rows)?;
                for (r, (input, ..)) in rows.iter().zip(&results) {
                    if !input.photos.is_empty() {
                        attachments::attach(c, AttachmentOwner::InspectionItem, &r.id, &input.photos, false)?;
                    }
                }
                keep_sums(c, &keys, today, &whole, &per_item)?;
                if round.kind == RoundKind::Frontage {
                    let failed = rows.iter().zip(&results).filter(|(r, _)| r.failed);
                    let check = crate::store::merchants::CheckTally {
                        day: row.day,
                        point_id: row.point_id.clone(),
                        failed_items: failed.clone().map(|(r, _)| r.item_code.clone()).collect(),
                        photo_id: failed.flat_map(|(_, (input, ..))| input.photos.first().cloned()).next(),
                    };
                    crate::store::merchants::tally_checks(c, &[check])?;
                }
                if let Some(k) = &key {
                    case_db::remember_idempotent(c, k, &inspection_id)?;
                }
                Ok::<_, AppError>(inspection_id)
            })
            .await?;
        self.inspection(actor, &done).await
    }

    /// An inspection with its items, their cases and photos.
    pub async fn inspection(&self, actor: &Actor, id: &str) -> AppResult<InspectionView> {
        let (id, actor_owned) = (id.to_string(), actor.clone());
        let (inspection, round, point, results, cases, inspector_name, photos) = self
            .store()
            .read(move |c| {
                let i = db::inspection(c, &id)?.ok_or(AppError::NotFound(Thing::Inspection))?;
                let point = db::point(c, &i.point_id)?.ok_or(AppError::NotFound(Thing::Inspection))?;
                let own = actor_owned.is_person() && actor_owned.person_id == i.inspector_id;
                if !own && !actor_owned.can(Permission::ReadInspections, &point.scope_path) {
                    return Err(AppError::NotFound(Thing::Inspection));
                }
                let round = db::round(c, &i.round_id)?.ok_or(AppError::NotFound(Thing::Round))?;
                let results = db::item_results(c, &i.id)?;
                let mut cases = HashMap::new();
                let mut photos = HashMap::new();
                for r in &results {
                    if let Some(k) = &r.case_id
                        && let Some(case) = case_db::case_by_id(c, k)?
                    {
                        cases.insert(k.clone(), CaseBrief { id: case.details.id, number: case.details.number, status: case.state.status });
                    }
                    photos.insert(r.id.clone(), attachments::attached(c, AttachmentOwner::InspectionItem, &r.id, false)?);
                }
                let name = people::person_name(c, &i.inspector_id)?;
                Ok::<_, AppError>((i, round, point, results, cases, name, photos))
            })
            .await?;
        let manual = self.manual(&Actor::console(), Some(&inspection.manual_id)).await?;
        let mut items = Vec::new();
        for r in results {
            let Some(item) = manual.items.iter().find(|m| m.code == r.item_code) else { continue };
            let grade = match (&item.scoring, r.observation) {
                (Scoring::Grade { thresholds }, Observation::Problems { count }) => Some(grade_of(thresholds, count)),
                _ => None,
            };
            let pics = self.photo_views(photos.get(&r.id).cloned().unwrap_or_default()).await?;
            items.push(ItemView {
                text: item.text.clone(),
                method: item.method.clone(),
                scoring: item.scoring.clone(),
                veto: item.veto,
                grade,
                case: r.case_id.as_ref().and_then(|k| cases.get(k).cloned()),
                photos: pics,
                result: r,
            });
        }
        let rate = (inspection.standard > 0.0).then(|| inspection.score / inspection.standard);
        Ok(InspectionView { rate, inspector_name, point: self.point_view(point, Some(&manual)), round, inspection, items })
    }
}

/// What opening or moving a case from an inspection needs.
struct CaseCtx<'a> {
    calendar: &'a crate::domain::calendar::WorkCalendar,
    now: i64,
    actor: &'a Actor,
    point: &'a PointRow,
    round: &'a RoundRow,
    prefix: &'a str,
    day: chrono::NaiveDate,
}

/// The case for a failed item: a note on the open case the same item at the same point
/// already has, or a new case (source 测评) for the point's grid. `None` when the item names
/// no category or the point has no place (a simulated test).
fn failure_case(
    c: &mut dyn Conn,
    ctx: &CaseCtx<'_>,
    item: &ItemRow,
    input: &ItemInput,
    note: Option<&str>,
    categories: &HashMap<String, Category>,
) -> AppResult<Option<String>> {
    let (Some(code), Some(grid_id), Some(community_id), Some(lat), Some(lon)) =
        (&item.category_code, &ctx.point.grid_id, &ctx.point.community_id, ctx.point.lat, ctx.point.lon)
    else {
        return Ok(None);
    };
    let Some(category) = categories.get(code).filter(|c| c.active) else { return Ok(None) };
    let text = match note {
        Some(n) => format!("【{}】{}:{}({n})", ctx.round.name, ctx.point.name, item.text),
        None => format!("【{}】{}:{}", ctx.round.name, ctx.point.name, item.text),
    };
    if let Some(existing) = db::last_case_of(c, &ctx.point.id, &item.code)?
        && let Some(record) = case_db::case_by_id(c, &existing)?
        && record.state.status.is_open()
    {
        let input = ActInput { note: Some(format!("再次督查发现:{text}")), photos: input.photos.clone(), ..Default::default() };
        let assignee = record.state.assignee_unit_id.as_deref().map(|a| org::unit_by_id(c, a)).transpose()?.flatten();
        let moved = step_in(c, ctx.calendar, ctx.now, record, assignee.as_ref(), Some(category), ctx.actor, Action::Comment, &input)?;
        return Ok(Some(moved.details.id));
    }
    let day = ctx.day.format("%Y%m%d").to_string();
    let seq = case_db::numbers::next_number(c, &format!("case:{day}"))?;
    let grid_path = ctx.point.scope_path.clone();
    let details = CaseDetails {
        id: new_id(),
        number: case_number(ctx.prefix, &day, seq),
        category_code: category.code.clone(),
        source: Source::Inspection,
        description: text,
        lat,
        lon,
        address: ctx.point.address.clone(),
        grid_id: grid_id.clone(),
        community_id: community_id.clone(),
        grid_path,
        reporter_name: None,
        reporter_phone: None,
        priority: if item.veto { 1 } else { 2 },
        reporter_email: None,
    };
    let event = Event {
        action: None,
        at: ctx.now,
        actor_id: Some(ctx.actor.person_id.clone()),
        data: EventData { tier: Some(category.tier), photos: input.photos.clone(), ..Default::default() },
    };
    let record = open_case_in(c, ctx.calendar, Opening { details, event, note, photos_public: false }, Some(ctx.actor))?;
    Ok(Some(record.details.id))
}

/// A re-check of an item whose earlier failure has a case: fixed → its check passes if it
/// waits for one; not fixed → back to rework, or reopened if it was closed; else a note.
fn recheck_case(
    c: &mut dyn Conn,
    ctx: &CaseCtx<'_>,
    case_id: &str,
    fixed: bool,
    item: &ItemRow,
    note: Option<&str>,
    categories: &HashMap<String, Category>,
) -> AppResult<String> {
    let record = case_db::case_by_id(c, case_id)?.ok_or(AppError::NotFound(Thing::Case))?;
    let said = if fixed { "回头看:已整改到位" } else { "回头看:未整改到位" };
    let text = match note {
        Some(n) => format!("{said}({}:{n})", item.text),
        None => format!("{said}({})", item.text),
    };
    let action = recheck_action(record.state.status, fixed).unwrap_or(Action::Comment);
    let category = categories.get(&record.details.category_code);
    let assignee = record.state.assignee_unit_id.as_deref().map(|a| org::unit_by_id(c, a)).transpose()?.flatten();
    let input = ActInput { note: Some(text), ..Default::default() };
    let moved = step_in(c, ctx.calendar, ctx.now, record, assignee.as_ref(), category, ctx.actor, action, &input)?;
    Ok(moved.details.id)
}

/// Adds one inspection to the sums: the point's under each unit key, each item's under each
/// area, by day and by month.
fn keep_sums(c: &mut dyn Conn, keys: &super::SumKeys, day: chrono::NaiveDate, whole: &Sums, items: &[(String, Sums)]) -> AppResult<()> {
    let mut units = Vec::new();
    let mut per_item = Vec::new();
    for (grain, period) in [(Grain::Day, day_key(day)), (Grain::Month, month_key(day))] {
        for k in &keys.units {
            units.push((grain, period, k.clone(), *whole));
        }
        for a in &keys.areas {
            for (code, s) in items {
                per_item.push((grain, period, a.clone(), code.clone(), *s));
            }
        }
        // The point's own item sums only where it lost score: what the shortfall list asks.
        for (code, s) in items.iter().filter(|(_, s)| s.lost > 0.0) {
            per_item.push((grain, period, keys.point.clone(), code.clone(), *s));
        }
    }
    sums::add(c, &units, &per_item)?;
    Ok(())
}
