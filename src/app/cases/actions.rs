//! Every step after the report: who may take it, what it changes (deadlines, units, tiers),
//! and the one versioned write that logs it, projects it and counts it.

use super::{ActInput, CaseView, can_read, case_scope, not_allowed, record_event, view};
use crate::app::App;
use crate::domain::authz::Actor;
use crate::domain::calendar::WorkCalendar;
use crate::domain::case::{Action, Event, EventData, Warning, allowed_actions, apply, may_act, tier_of};
use crate::domain::category::Category;
use crate::domain::indicators::TallyChanges;
use crate::domain::org::{OrgKind, OrgUnit};
use crate::domain::photo::AttachmentOwner;
use crate::error::{AppError, AppResult, Invalid, Thing};
use crate::store::cases::{self as db, CaseRecord};
use crate::store::{Conn, attachments, org, tallies};

/// Takes one step on a case inside a write, the state machine allowing: the event (with what
/// it changes), the new projection under the version read, the counters, the log, the
/// photos. Who may take it is the caller's to decide — `App::act` asks `may_act`; an
/// inspection's re-check moves the case its own failure opened.
#[allow(clippy::too_many_arguments)]
pub(crate) fn step_in(
    c: &mut dyn Conn,
    calendar: &WorkCalendar,
    now: i64,
    record: CaseRecord,
    assignee: Option<&OrgUnit>,
    category: Option<&Category>,
    actor: &Actor,
    action: Action,
    input: &ActInput,
) -> AppResult<CaseRecord> {
    let step = Step { calendar, now, record: &record, assignee, category };
    let mut data = event_data(c, &step, action, input)?;
    data.photos = input.photos.clone();
    data.via = input.via.clone();
    data.reopen_requested = input.reopen_requested;
    let actor_id = actor.is_person().then(|| actor.person_id.clone());
    let event = Event { action: Some(action), at: now, actor_id, data };
    let next = apply(Some(&record.state), &event)?;
    if !db::update_state(c, &record.details.id, &next, record.state.version)? {
        return Err(AppError::Stale);
    }
    let mut counts = TallyChanges::default();
    counts.record(calendar, &record.details.grid_id, &record.details.category_code, Some(&record.state), &next);
    tallies::apply_changes(c, &counts)?;
    record_event(c, &record.details.id, next.version, &event, Some(actor), input.note.as_deref())?;
    if !input.photos.is_empty() {
        attachments::attach(c, AttachmentOwner::Case, &record.details.id, &input.photos, input.photos_public)?;
    }
    Ok(CaseRecord { state: next, ..record })
}

/// What a step is computed from.
#[derive(Clone, Copy)]
struct Step<'a> {
    calendar: &'a WorkCalendar,
    now: i64,
    record: &'a CaseRecord,
    assignee: Option<&'a OrgUnit>,
    category: Option<&'a Category>,
}

impl App {
    /// Takes an action on a case on behalf of `actor` (a person, or the system for the
    /// deadline scanner's steps and citizens' follow-ups through an integration).
    pub async fn act(
        &self,
        actor: &Actor,
        id: &str,
        action: Action,
        input: ActInput,
        idempotency_key: Option<&str>,
    ) -> AppResult<CaseView> {
        self.act_at(actor, id, action, input, idempotency_key, self.now()).await
    }

    /// The same at a given moment (the demo replays a season of work).
    pub(crate) async fn act_at(
        &self,
        actor: &Actor,
        id: &str,
        action: Action,
        input: ActInput,
        idempotency_key: Option<&str>,
        now: i64,
    ) -> AppResult<CaseView> {
        if action.needs_note() && input.note.as_deref().is_none_or(|n| n.trim().is_empty()) {
            return Err(AppError::MissingParameter("note".into()));
        }
        if action == Action::RequestExtension && input.minutes.is_none_or(|m| m <= 0 || m > 450 * 30) {
            return Err(AppError::Invalid(Invalid::Minutes));
        }
        self.check_photos(Some(actor), &input.photos).await?;
        let categories = self.category_map().await?;
        let calendar = self.calendar().clone();
        let actor = actor.clone();
        let key = idempotency_key.map(|k| format!("act:{}:{id}:{k}", actor.person_id));
        let id = id.to_string();
        let dir = self.directory();
        self.store()
            .write(move |c| {
                if let Some(k) = &key
                    && db::idempotent_case(c, k)?.is_some()
                {
                    let record = db::case_by_id(c, &id)?.ok_or(AppError::NotFound(Thing::Case))?;
                    return Ok(view(&dir, &calendar, now, Some(&actor), record, &categories));
                }
                let record = db::case_by_id(c, &id)?.ok_or(AppError::NotFound(Thing::Case))?;
                let assignee = record.state.assignee_unit_id.as_deref().map(|a| org::unit_by_id(c, a)).transpose()?.flatten();
                if !actor.is_system() && !can_read(&actor, &record, assignee.as_ref()) {
                    return Err(AppError::NotFound(Thing::Case));
                }
                let scope = case_scope(&record, assignee.as_ref().map(|u| u.path.as_str()));
                if input.version.is_some_and(|v| v != record.state.version) {
                    return Err(AppError::Stale);
                }
                if !allowed_actions(&record.state).contains(&action) {
                    return Err(not_allowed(&record.state, action, &actor, &scope));
                }
                if !may_act(&actor, action, &scope) {
                    return Err(AppError::Forbidden);
                }
                let category = categories.get(&record.details.category_code);
                let updated = step_in(c, &calendar, now, record, assignee.as_ref(), category, &actor, action, &input)?;
                if let Some(k) = &key {
                    db::remember_idempotent(c, k, &updated.details.id)?;
                }
                Ok(view(&dir, &calendar, now, Some(&actor), updated, &categories))
            })
            .await
    }
}

/// The unit a dispatch goes to when the dispatcher names none: the category's tier decides.
fn default_target(conn: &mut dyn Conn, c: &CaseRecord, category: &Category) -> AppResult<OrgUnit> {
    let grid = org::unit_by_id(conn, &c.details.grid_id)?.ok_or(AppError::NotFound(Thing::Grid))?;
    let community = org::unit_by_id(conn, &c.details.community_id)?.ok_or(AppError::NotFound(Thing::Community))?;
    let unit = match category.tier {
        1 => Some(grid),
        2 => Some(community),
        3 => community.parent_id.as_deref().map(|p| org::unit_by_id(conn, p)).transpose()?.flatten(),
        _ => category.department.as_deref().map(|d| org::unit_by_code(conn, d)).transpose()?.flatten(),
    };
    unit.ok_or(AppError::MissingParameter("unit".into()))
}

/// One tier up from the unit now responsible (分级响应); `None` at the top.
pub(super) fn escalation_target(conn: &mut dyn Conn, current: &OrgUnit, category: Option<&Category>) -> AppResult<Option<OrgUnit>> {
    Ok(match current.kind {
        OrgKind::Grid | OrgKind::Community => current.parent_id.as_deref().map(|p| org::unit_by_id(conn, p)).transpose()?.flatten(),
        OrgKind::Subdistrict => category.and_then(|c| c.department.clone()).map(|d| org::unit_by_code(conn, &d)).transpose()?.flatten(),
        _ => None,
    })
}

struct Deadlines {
    response: i64,
    handling: i64,
}

fn deadlines(calendar: &WorkCalendar, now: i64, category: &Category) -> Deadlines {
    Deadlines {
        response: calendar.add_working_minutes(now, category.response_minutes),
        handling: calendar.add_working_minutes(now, category.handling_minutes),
    }
}

/// What an action changes besides the state itself: deadlines, units, tiers.
fn event_data(c: &mut dyn Conn, step: &Step<'_>, action: Action, input: &ActInput) -> AppResult<EventData> {
    let Step { calendar, now, record, assignee, category } = *step;
    let mut d = EventData::default();
    match action {
        Action::Dispatch | Action::Escalate => {
            let category = category.ok_or(AppError::Invalid(Invalid::Category))?;
            let unit = match input.unit.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
                Some(code) => org::unit_by_code(c, code)?.ok_or(AppError::NotFound(Thing::OrgUnit))?,
                None => default_target(c, record, category)?,
            };
            let tier = tier_of(unit.kind).ok_or(AppError::Invalid(Invalid::Unit))?;
            let dl = deadlines(calendar, now, category);
            d.assignee_unit_id = Some(unit.id);
            d.tier = Some(tier);
            d.response_deadline = Some(dl.response);
            d.handling_deadline = Some(dl.handling);
        }
        Action::VerifyFail => {
            let category = category.ok_or(AppError::Invalid(Invalid::Category))?;
            let dl = deadlines(calendar, now, category);
            d.assignee_unit_id = assignee.map(|u| u.id.clone()).or_else(|| record.state.assignee_unit_id.clone());
            if d.assignee_unit_id.is_none() {
                // A self-handled report that fails its check goes to its grid.
                d.assignee_unit_id = Some(record.details.grid_id.clone());
            }
            d.response_deadline = Some(dl.response);
            d.handling_deadline = Some(dl.handling);
        }
        Action::RequestExtension => d.minutes = input.minutes,
        Action::ApproveExtension => {
            let minutes = record.state.extension_pending.unwrap_or(0);
            let base = record.state.handling_deadline.unwrap_or(now).max(now);
            d.handling_deadline = Some(calendar.add_working_minutes(base, minutes));
        }
        Action::Resume => {
            let paused = record.state.suspended_at.map(|s| calendar.working_minutes_between(s, now)).unwrap_or(0.0).round() as i64;
            d.response_deadline = record.state.response_deadline.map(|t| calendar.add_working_minutes(t, paused));
            d.handling_deadline = record.state.handling_deadline.map(|t| calendar.add_working_minutes(t, paused));
        }
        Action::Merge => {
            let original = input.original.as_deref().ok_or(AppError::MissingParameter("original".into()))?;
            let target = db::case_by_id(c, original)?.ok_or(AppError::NotFound(Thing::Case))?;
            if target.details.id == record.details.id || !target.state.status.is_open() {
                return Err(AppError::Invalid(Invalid::Original));
            }
            d.merged_into = Some(target.details.id);
        }
        Action::Warn => d.warning = Some(input.warning.unwrap_or(Warning::Yellow)),
        _ => {}
    }
    Ok(d)
}
