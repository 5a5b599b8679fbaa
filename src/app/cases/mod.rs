//! The case loop as use cases. Every change is one write job: read the case, check who may
//! act and whether the state allows it, compute the event (deadlines included), append it to
//! the log and write the new projection guarded by the version that was read — so two
//! dispatchers acting at once cannot both succeed, on either backend.
//!
//! `categories` (the category table), `report` (a new case), `actions` (every step after),
//! `read` (one case, lists, exports), `todo` (what waits for a person), `scan` (deadlines).

mod actions;
mod categories;
mod read;
mod report;
mod scan;
mod todo;

pub(crate) use actions::step_in;
pub(crate) use report::{Opening, case_number, open_case_in};

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

pub use read::CASE_EXPORT_COLUMNS;
pub use scan::ScanReport;

use super::GridDirectory;
use crate::domain::authz::{Actor, Permission};
use crate::domain::calendar::{Light, WorkCalendar};
use crate::domain::case::{Action, CaseError, CaseScope, CaseState, Status, Warning, allowed_actions, may_act};
use crate::domain::category::Category;
use crate::domain::org::{OrgKind, OrgUnit};
use crate::domain::privacy::{mask_email, mask_name, mask_phone};
use crate::error::AppError;
use crate::store::cases::{CaseDetails, CaseRecord};
pub use crate::store::cases::{CaseFilter, MAX_PAGE, page_offset};

#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewCaseInput {
    pub category: String,
    pub description: String,
    pub lat: f64,
    pub lon: f64,
    #[serde(default)]
    pub crs: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub reporter_name: Option<String>,
    #[serde(default)]
    pub reporter_phone: Option<String>,
    #[serde(default)]
    pub priority: Option<i64>,
    /// The reporter (a grid worker) has already fixed it: 自行处置.
    #[serde(default)]
    pub self_handled: bool,
    #[serde(default)]
    pub note: Option<String>,
    /// Ids of uploaded photos (before).
    #[serde(default)]
    pub photos: Vec<String>,
    /// The reporter allows the photos to be shown to the public (Open311 `media_url`).
    #[serde(default)]
    pub photos_public: bool,
    #[serde(default)]
    pub reporter_email: Option<String>,
    /// Answers to the category's extra questions.
    #[serde(default)]
    pub attributes: std::collections::BTreeMap<String, Vec<String>>,
    /// Set by the Open311 endpoint: the API key's name.
    #[serde(skip)]
    pub via: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ActInput {
    #[serde(default)]
    pub note: Option<String>,
    /// Dispatch: code of the unit to send the case to (grid, community, subdistrict or
    /// department). Absent: the category's default for its tier.
    #[serde(default)]
    pub unit: Option<String>,
    /// Extension request: working minutes asked for.
    #[serde(default)]
    pub minutes: Option<i64>,
    /// Merge: id or number of the original case.
    #[serde(default)]
    pub original: Option<String>,
    /// The version the client saw; a different current version is a stale action.
    #[serde(default)]
    pub version: Option<i64>,
    /// Set by the deadline scanner only; clients cannot send it.
    #[serde(skip)]
    pub warning: Option<Warning>,
    /// Ids of uploaded photos (after, when handling).
    #[serde(default)]
    pub photos: Vec<String>,
    /// The photos may be shown to the public.
    #[serde(default)]
    pub photos_public: bool,
    /// Set by the Open311 endpoint for a citizen's follow-up.
    #[serde(skip)]
    pub via: Option<String>,
    #[serde(skip)]
    pub reopen_requested: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct UnitBrief {
    pub code: String,
    pub name: String,
    pub kind: OrgKind,
}

/// A case as one viewer sees it.
#[derive(Debug, Clone, Serialize)]
pub struct CaseView {
    #[serde(flatten)]
    pub details: CaseDetails,
    #[serde(flatten)]
    pub state: CaseState,
    pub category_name: String,
    pub class_name: String,
    pub grid: Option<UnitBrief>,
    pub community: Option<UnitBrief>,
    pub assignee: Option<UnitBrief>,
    /// Traffic light of the handling deadline while the case is with a unit.
    pub light: Option<Light>,
    /// What this viewer may do now.
    pub actions: Vec<Action>,
    /// The viewer may ask to see the reporter's personal data unmasked (查看完整信息).
    pub may_reveal: bool,
    /// Photos from the report, and from handling (filled for a single case, not in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photos_before: Option<Vec<super::attachments::PhotoView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photos_after: Option<Vec<super::attachments::PhotoView>>,
    /// The inspection item whose failure opened (or last added to) this case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inspection: Option<CaseInspection>,
}

/// An inspection item as its case shows it (filled for a single case, not in lists).
#[derive(Debug, Clone, Serialize)]
pub struct CaseInspection {
    pub inspection_id: String,
    pub round_id: String,
    pub round_name: String,
    pub point_id: String,
    pub point_name: String,
    pub item_code: String,
    pub item_text: String,
    pub score: f64,
    pub standard: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Created {
    pub case: CaseView,
    /// Open cases of the same category within 50 m reported in the last 72 h.
    pub possible_duplicates: Vec<DuplicateBrief>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DuplicateBrief {
    pub id: String,
    pub number: String,
    pub status: Status,
    pub distance_m: f64,
    pub description: String,
}

fn case_scope<'a>(c: &'a CaseRecord, assignee_path: Option<&'a str>) -> CaseScope<'a> {
    CaseScope { grid_path: &c.details.grid_path, assignee_path, handled_by: c.state.handled_by.as_deref() }
}

fn brief(u: &OrgUnit) -> UnitBrief {
    UnitBrief { code: u.code.clone(), name: u.name.clone(), kind: u.kind }
}

/// What the actor may do now, of what the state allows (comments are always possible and
/// not a step of the loop, so they are not listed).
fn permitted(actor: &Actor, state: &CaseState, scope: &CaseScope<'_>) -> Vec<Action> {
    allowed_actions(state).into_iter().filter(|a| *a != Action::Comment && may_act(actor, *a, scope)).collect()
}

fn not_allowed(state: &CaseState, action: Action, actor: &Actor, scope: &CaseScope<'_>) -> AppError {
    AppError::ActionNotAllowed { status: state.status, action, allowed: permitted(actor, state, scope) }
}

impl From<CaseError> for AppError {
    fn from(e: CaseError) -> Self {
        match e {
            CaseError::NotAllowed { status, action } => AppError::ActionNotAllowed { status, action, allowed: Vec::new() },
            CaseError::Missing(_, what) => AppError::MissingParameter(what.to_string()),
            other => AppError::Internal(other.to_string()),
        }
    }
}

/// The reporter's personal data, masked: every view shows it so; the full values are shown
/// only on request, and logged (see `app::access`).
pub(crate) fn masked(details: &CaseDetails) -> CaseDetails {
    let mut d = details.clone();
    d.reporter_email = d.reporter_email.as_deref().map(mask_email);
    d.reporter_phone = d.reporter_phone.as_deref().map(mask_phone);
    d.reporter_name = d.reporter_name.as_deref().map(mask_name);
    d
}

/// What a viewer sees of a case. Unit names come from the in-memory directory, so a page of
/// cases costs no query per row.
fn view(
    dir: &GridDirectory,
    calendar: &WorkCalendar,
    now: i64,
    actor: Option<&Actor>,
    c: CaseRecord,
    categories: &HashMap<String, Category>,
) -> CaseView {
    let assignee = c.state.assignee_unit_id.as_deref().and_then(|a| dir.unit(a));
    let scope = case_scope(&c, assignee.map(|u| u.path.as_str()));
    let actions = actor.map(|a| permitted(a, &c.state, &scope)).unwrap_or_default();
    let light = match (c.state.status, c.state.dispatched_at, c.state.handling_deadline) {
        (Status::Dispatched | Status::InProgress, Some(from), Some(deadline)) => Some(calendar.light(from, deadline, now)),
        _ => None,
    };
    let may_reveal = actor.is_some_and(|a| a.can(Permission::RevealPersonalData, &c.details.grid_path));
    let category = categories.get(&c.details.category_code);
    CaseView {
        category_name: category.map(|c| c.name.clone()).unwrap_or_default(),
        class_name: category.map(|c| c.class_name.clone()).unwrap_or_default(),
        grid: dir.unit(&c.details.grid_id).map(brief),
        community: dir.unit(&c.details.community_id).map(brief),
        assignee: assignee.map(brief),
        light,
        actions,
        may_reveal,
        details: masked(&c.details),
        state: c.state,
        photos_before: None,
        photos_after: None,
        inspection: None,
    }
}

/// May this viewer see the case at all?
pub(crate) fn can_read(actor: &Actor, c: &CaseRecord, assignee: Option<&OrgUnit>) -> bool {
    actor.can(Permission::ReadCases, &c.details.grid_path)
        || assignee.is_some_and(|u| actor.can(Permission::ReadCases, &u.path))
        || (actor.is_person() && c.state.reported_by.as_deref() == Some(actor.person_id.as_str()))
}

/// Appends an event to the case's log; a person's name is kept with it (the system's
/// steps have none).
fn record_event(
    conn: &mut dyn crate::store::Conn,
    case_id: &str,
    seq: i64,
    e: &crate::domain::case::Event,
    actor: Option<&Actor>,
    note: Option<&str>,
) -> crate::error::AppResult<()> {
    use crate::store::cases::{NewEvent, insert_event};
    let public = e.action.is_none_or(Action::is_public);
    let actor_name = actor.filter(|a| a.is_person()).map(|a| a.name.as_str());
    insert_event(conn, NewEvent { case_id, seq, event: e, actor_name, note, public })?;
    Ok(())
}
