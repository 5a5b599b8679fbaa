//! The case loop as use cases: report, act, read, timeline, to-do, deadline scan.
//!
//! Every change is one write job: read the case, check who may act and whether the state
//! allows it, compute the event (deadlines included), append it to the log and write the
//! new projection guarded by the version that was read — so two dispatchers acting at once
//! cannot both succeed, on either backend.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{App, GridDirectory};
use crate::domain::authz::{Actor, Permission, Role};
use crate::domain::calendar::{Light, WorkCalendar};
use crate::domain::case::{
    Action, CaseError, CaseScope, CaseState, Event, EventData, Source, Status, Warning, allowed_actions, apply, may_act, replay, tier_of,
};
use crate::domain::category::{BUILT_IN, Category, check_category, parse_categories};
use crate::domain::coords::{Crs, LatLon, distance_m};
use crate::domain::indicators::TallyChanges;
use crate::domain::org::{OrgKind, OrgUnit};
use crate::domain::privacy::mask_phone;
use crate::error::{AppError, AppResult};
use crate::store::cases::{self as db, CaseDetails, CaseFilter, CaseRecord, EventRecord, NewEvent};
use crate::store::tallies;
use crate::store::{Conn, new_id, org};

const MAX_DESCRIPTION: usize = 4000;
const DUPLICATE_RADIUS_M: f64 = 50.0;
const DUPLICATE_WINDOW_MS: i64 = 72 * 3_600_000;

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
    /// Photos from the report, and from handling (filled for a single case, not in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photos_before: Option<Vec<super::photos::PhotoView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photos_after: Option<Vec<super::photos::PhotoView>>,
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

#[derive(Debug, Clone, Serialize, Default)]
pub struct ScanReport {
    pub warned: usize,
    pub escalated: usize,
}

fn case_scope<'a>(c: &'a CaseRecord, assignee_path: Option<&'a str>) -> CaseScope<'a> {
    CaseScope { grid_path: &c.details.grid_path, assignee_path, handled_by: c.state.handled_by.as_deref() }
}

fn brief(u: &OrgUnit) -> UnitBrief {
    UnitBrief { code: u.code.clone(), name: u.name.clone(), kind: u.kind }
}

fn not_allowed(state: &CaseState, action: Action, actor: Option<&Actor>, scope: &CaseScope<'_>) -> AppError {
    AppError::ActionNotAllowed {
        status: state.status,
        action,
        allowed: allowed_actions(state).into_iter().filter(|a| *a != Action::Comment && may_act(actor, *a, scope)).collect(),
    }
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

/// Open cases of `category_code` reported within the window before `at` and the radius of `here`.
fn possible_duplicates(conn: &mut dyn Conn, category_code: &str, here: LatLon, at: i64) -> AppResult<Vec<DuplicateBrief>> {
    // ≈ 50 m in degrees at this latitude, generously rounded up; exact distance below.
    let dlat = DUPLICATE_RADIUS_M / 111_000.0 * 1.2;
    let dlon = dlat / here.lat.to_radians().cos().max(0.1);
    let since = at - DUPLICATE_WINDOW_MS;
    let near = db::open_cases_near(conn, category_code, since, (here.lat - dlat, here.lat + dlat), (here.lon - dlon, here.lon + dlon))?;
    Ok(near
        .into_iter()
        .filter_map(|c| {
            let d = distance_m(here, LatLon { lat: c.lat, lon: c.lon });
            (d <= DUPLICATE_RADIUS_M).then(|| DuplicateBrief {
                id: c.id,
                number: c.number,
                status: c.status,
                distance_m: (d * 10.0).round() / 10.0,
                description: c.description,
            })
        })
        .collect())
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
    // Comments are always possible and not a step of the loop, so they are not listed.
    let actions = allowed_actions(&c.state).into_iter().filter(|a| *a != Action::Comment && may_act(actor, *a, &scope)).collect();
    let light = match (c.state.status, c.state.dispatched_at, c.state.handling_deadline) {
        (Status::Dispatched | Status::InProgress, Some(from), Some(deadline)) => Some(calendar.light(from, deadline, now)),
        _ => None,
    };
    let see_personal = actor.is_some_and(|a| a.can(Permission::ReadPersonalData, &c.details.grid_path));
    let category = categories.get(&c.details.category_code);
    let mut details = c.details.clone();
    if !see_personal {
        details.reporter_email = details.reporter_email.as_deref().map(crate::domain::privacy::mask_email);
        details.reporter_phone = details.reporter_phone.as_deref().map(mask_phone);
        details.reporter_name = details.reporter_name.as_deref().map(crate::domain::privacy::mask_name);
    }
    CaseView {
        category_name: category.map(|c| c.name.clone()).unwrap_or_default(),
        class_name: category.map(|c| c.class_name.clone()).unwrap_or_default(),
        grid: dir.unit(&c.details.grid_id).map(brief),
        community: dir.unit(&c.details.community_id).map(brief),
        assignee: assignee.map(brief),
        light,
        actions,
        details,
        state: c.state,
        photos_before: None,
        photos_after: None,
    }
}

/// May this viewer see the case at all?
fn can_read(actor: &Actor, c: &CaseRecord, assignee: Option<&OrgUnit>) -> bool {
    actor.can(Permission::ReadOrg, &c.details.grid_path)
        || assignee.is_some_and(|u| actor.can(Permission::ReadOrg, &u.path))
        || c.state.reported_by.as_deref() == Some(actor.person_id.as_str())
}

/// The unit a dispatch goes to when the dispatcher names none: the category's tier decides.
fn default_target(conn: &mut dyn Conn, c: &CaseRecord, category: &Category) -> AppResult<OrgUnit> {
    let grid = org::unit_by_id(conn, &c.details.grid_id)?.ok_or(AppError::NotFound("grid"))?;
    let community = org::unit_by_id(conn, &c.details.community_id)?.ok_or(AppError::NotFound("community"))?;
    let unit = match category.tier {
        1 => Some(grid),
        2 => Some(community),
        3 => community.parent_id.as_deref().map(|p| org::unit_by_id(conn, p)).transpose()?.flatten(),
        _ => category.department.as_deref().map(|d| org::unit_by_code(conn, d)).transpose()?.flatten(),
    };
    unit.ok_or(AppError::MissingParameter("unit".into()))
}

/// One tier up from the unit now responsible (分级响应); `None` at the top.
fn escalation_target(conn: &mut dyn Conn, current: &OrgUnit, category: Option<&Category>) -> AppResult<Option<OrgUnit>> {
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

fn record_event(conn: &mut dyn Conn, case_id: &str, seq: i64, e: &Event, actor: Option<&Actor>, note: Option<&str>) -> AppResult<()> {
    let public = e.action.is_none_or(Action::is_public);
    db::insert_event(conn, NewEvent { case_id, seq, event: e, actor_name: actor.map(|a| a.name.as_str()), note, public })?;
    Ok(())
}

impl App {
    /// Loads the built-in categories into an empty table (a fresh installation).
    pub async fn ensure_categories(&self) -> AppResult<()> {
        let have = self.store().read(|c| db::categories(c)).await?;
        if !have.is_empty() {
            return Ok(());
        }
        let cats = parse_categories(BUILT_IN).map_err(|p| AppError::Internal(format!("built-in categories: {p:?}")))?;
        self.import_categories_list(cats).await.map(|_| ())
    }

    /// Adds or replaces categories (admins edit them; files import them).
    pub async fn import_categories_list(&self, cats: Vec<Category>) -> AppResult<usize> {
        let n = cats.len();
        self.store()
            .write(move |c| {
                for cat in &cats {
                    db::upsert_category(c, cat)?;
                }
                Ok::<_, AppError>(())
            })
            .await?;
        self.category_cache().clear();
        Ok(n)
    }

    /// An admin adds or changes one category; the same checks as a category file.
    pub async fn save_category(&self, actor: &Actor, category: Category) -> AppResult<Category> {
        if !actor.has_role(Role::SystemAdmin) {
            return Err(AppError::Forbidden);
        }
        let problems = check_category(&category);
        if !problems.is_empty() {
            return Err(AppError::BadRequest(problems.join("; ")));
        }
        self.import_categories_list(vec![category.clone()]).await?;
        Ok(category)
    }

    /// Imports a category file (the format of `data-files/categories.toml`): all or none.
    pub async fn import_categories(&self, text: &str, lang: crate::i18n::Lang) -> AppResult<usize> {
        let cats = parse_categories(text).map_err(|p| {
            AppError::InvalidFile(
                p.into_iter()
                    .map(|(row, message)| crate::error::FileProblem {
                        row,
                        message: crate::i18n::t(lang, "import.category", &[("detail", &message)]),
                    })
                    .collect(),
            )
        })?;
        self.import_categories_list(cats).await
    }

    /// How many cases there are in all.
    pub async fn case_count(&self) -> AppResult<i64> {
        Ok(self.store().read(|c| db::case_count(c)).await?)
    }

    pub async fn categories(&self) -> AppResult<Vec<Category>> {
        Ok(self.category_list().await?.as_ref().clone())
    }

    /// The category table, from the short-lived cache when it is fresh.
    async fn category_list(&self) -> AppResult<std::sync::Arc<Vec<Category>>> {
        if let Some(list) = self.category_cache().get(&()) {
            return Ok(list);
        }
        let list = std::sync::Arc::new(self.store().read(|c| db::categories(c)).await?);
        self.category_cache().put((), list.clone());
        Ok(list)
    }

    async fn category_map(&self) -> AppResult<HashMap<String, Category>> {
        Ok(self.category_list().await?.iter().map(|c| (c.code.clone(), c.clone())).collect())
    }

    /// Reports a problem. `actor` is `None` for an anonymous citizen.
    pub async fn report_case(&self, actor: Option<&Actor>, input: NewCaseInput, idempotency_key: Option<&str>) -> AppResult<Created> {
        let description = input.description.trim().to_string();
        if description.is_empty() {
            return Err(AppError::MissingParameter("description".into()));
        }
        if description.chars().count() > MAX_DESCRIPTION {
            return Err(AppError::Invalid("description_too_long"));
        }
        let categories = self.category_map().await?;
        let category = categories.get(input.category.trim()).filter(|c| c.active).cloned().ok_or(AppError::Invalid("category"))?;
        let source = match (actor, input.source.as_deref().map(str::trim).filter(|s| !s.is_empty())) {
            (None, _) => Source::Citizen,
            (Some(_), Some(s)) => Source::parse(s).ok_or(AppError::Invalid("source"))?,
            (Some(_), None) => Source::Patrol,
        };
        if source == Source::Citizen && !category.citizen {
            return Err(AppError::Invalid("category_not_for_citizens"));
        }
        crate::domain::category::check_answers(&category.attributes, &input.attributes).map_err(AppError::BadRequest)?;
        let crs = Crs::parse(input.crs.as_deref().unwrap_or(""))?;
        let at = LatLon::to_wgs84(input.lat, input.lon, crs)?;
        let grid = self.directory().locate(at).cloned().ok_or(AppError::ReportOutsideGrids)?;
        if input.self_handled {
            let allowed = actor.is_some_and(|a| {
                a.grants.iter().any(|g| g.role == Role::GridWorker && crate::domain::org::in_subtree(&grid.path, &g.org_path))
            });
            if !allowed {
                return Err(AppError::Forbidden);
            }
        }
        self.check_photos(&input.photos).await?;
        if let Some(p) = &input.reporter_phone
            && !p.trim().is_empty()
            && !p.chars().all(|c| c.is_ascii_digit() || "-+ ".contains(c))
        {
            return Err(AppError::Invalid("phone"));
        }
        let now = self.now();
        let prefix = self.config().case_prefix.clone();
        let key = idempotency_key.map(|k| format!("report:{}:{k}", actor.map(|a| a.person_id.as_str()).unwrap_or("anonymous")));
        let actor_owned = actor.cloned();
        let calendar = self.calendar().clone();
        let dir = self.directory();
        let community_id = dir.unit(&grid.id).and_then(|g| g.parent_id.clone()).ok_or(AppError::NotFound("community"))?;
        let day = crate::domain::calendar::beijing_date(now).format("%Y%m%d").to_string();
        // Open reports of the same kind close by, for the reporter to see. Read before the
        // write and beside it, so the one writer spends its time on the rows alone (two
        // reports of one thing sent in the same instant do not list each other).
        let code = category.code.clone();
        let near = self.store().read(move |c| possible_duplicates(c, &code, at, now)).await?;
        // Everything the job needs is known before it starts: the grid comes from the
        // directory, and the view is made after the commit.
        let record = self
            .store()
            .write_numbered(format!("case:{day}"), move |c, numbering| {
                if let Some(k) = &key
                    && let Some(existing) = db::idempotent_case(c, k)?
                {
                    return db::case_by_id(c, &existing)?.ok_or(AppError::NotFound("case"));
                }
                let seq = numbering.take(c)?;
                let details = CaseDetails {
                    id: new_id(),
                    number: format!("{prefix}{day}-{seq:04}"),
                    category_code: category.code.clone(),
                    source,
                    description,
                    lat: at.lat,
                    lon: at.lon,
                    address: input.address.map(|a| a.trim().to_string()).filter(|a| !a.is_empty()),
                    grid_id: grid.id.clone(),
                    community_id,
                    grid_path: grid.path.clone(),
                    reporter_name: input.reporter_name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()),
                    reporter_phone: input.reporter_phone.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()),
                    priority: input.priority.unwrap_or(2).clamp(1, 3),
                    reporter_email: input.reporter_email.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()),
                };
                let event = Event {
                    action: None,
                    at: now,
                    actor_id: actor_owned.as_ref().map(|a| a.person_id.clone()),
                    data: EventData {
                        tier: Some(category.tier),
                        self_handled: input.self_handled,
                        assignee_unit_id: input.self_handled.then(|| grid.id.clone()),
                        photos: input.photos.clone(),
                        attributes: input.attributes.clone(),
                        via: input.via.clone(),
                        ..Default::default()
                    },
                };
                let state = apply(None, &event)?;
                let record = CaseRecord { details, state, updated_at: now };
                db::insert_case(c, &record.details, &record.state)?;
                let mut counts = TallyChanges::default();
                counts.record(&calendar, &record.details.grid_id, &record.details.category_code, None, &record.state);
                tallies::apply_changes(c, &counts)?;
                record_event(c, &record.details.id, record.state.version, &event, actor_owned.as_ref(), input.note.as_deref())?;
                if let Some(k) = &key {
                    db::remember_idempotent(c, k, &record.details.id)?;
                }
                Ok(record)
            })
            .await?;
        let possible_duplicates = near.into_iter().filter(|n| n.id != record.details.id).collect();
        let case = view(&dir, self.calendar(), now, actor, record, &categories);
        Ok(Created { case, possible_duplicates })
    }

    /// One case, if the viewer may see it, with its photos.
    pub async fn case_view(&self, actor: &Actor, id: &str) -> AppResult<CaseView> {
        let categories = self.category_map().await?;
        let (id, actor_owned, calendar, now) = (id.to_string(), actor.clone(), self.calendar().clone(), self.now());
        let dir = self.directory();
        let (mut v, before, after) = self
            .store()
            .read(move |c| {
                let record = db::case_by_id(c, &id)?.ok_or(AppError::NotFound("case"))?;
                let assignee = record.state.assignee_unit_id.as_deref().map(|a| org::unit_by_id(c, a)).transpose()?.flatten();
                if !can_read(&actor_owned, &record, assignee.as_ref()) {
                    return Err(AppError::NotFound("case"));
                }
                let events = db::events(c, &record.details.id)?;
                let photos_of = |pick: &dyn Fn(&EventRecord) -> bool| -> Vec<String> {
                    events.iter().filter(|e| pick(e)).flat_map(|e| e.data.photos.clone()).collect()
                };
                let before = photos_of(&|e| e.action == "report");
                let after = photos_of(&|e| e.action == "handle");
                Ok::<_, AppError>((view(&dir, &calendar, now, Some(&actor_owned), record, &categories), before, after))
            })
            .await?;
        v.photos_before = Some(self.photo_views(before).await?);
        v.photos_after = Some(self.photo_views(after).await?);
        Ok(v)
    }

    /// The case's history, oldest first.
    pub async fn timeline(&self, actor: &Actor, id: &str) -> AppResult<Vec<EventRecord>> {
        let case = self.case_view(actor, id).await?;
        let case_id = case.details.id.clone();
        Ok(self.store().read(move |c| db::events(c, &case_id)).await?)
    }

    /// Replays the log and compares with the stored row (for tests and `chuangcheng check`).
    pub async fn rebuild_matches(&self, id: &str) -> AppResult<bool> {
        let id = id.to_string();
        self.store()
            .read(move |c| {
                let record = db::case_by_id(c, &id)?.ok_or(AppError::NotFound("case"))?;
                let events: Vec<Event> = db::events(c, &record.details.id)?.iter().map(EventRecord::event).collect();
                Ok(replay(&events)?.as_ref() == Some(&record.state))
            })
            .await
    }

    /// Takes an action on a case on behalf of `actor` (`None`: the system).
    pub async fn act(
        &self,
        actor: Option<&Actor>,
        id: &str,
        action: Action,
        input: ActInput,
        idempotency_key: Option<&str>,
    ) -> AppResult<CaseView> {
        if action.needs_note() && input.note.as_deref().is_none_or(|n| n.trim().is_empty()) {
            return Err(AppError::MissingParameter("note".into()));
        }
        if action == Action::RequestExtension && input.minutes.is_none_or(|m| m <= 0 || m > 450 * 30) {
            return Err(AppError::Invalid("minutes"));
        }
        self.check_photos(&input.photos).await?;
        let categories = self.category_map().await?;
        let now = self.now();
        let calendar = self.calendar().clone();
        let actor_owned = actor.cloned();
        let key = idempotency_key.map(|k| format!("act:{}:{id}:{k}", actor.map(|a| a.person_id.as_str()).unwrap_or("system")));
        let id = id.to_string();
        let dir = self.directory();
        self.store()
            .write(move |c| {
                let actor = actor_owned.as_ref();
                if let Some(k) = &key
                    && db::idempotent_case(c, k)?.is_some()
                {
                    let record = db::case_by_id(c, &id)?.ok_or(AppError::NotFound("case"))?;
                    return Ok(view(&dir, &calendar, now, actor, record, &categories));
                }
                let record = db::case_by_id(c, &id)?.ok_or(AppError::NotFound("case"))?;
                let assignee = record.state.assignee_unit_id.as_deref().map(|a| org::unit_by_id(c, a)).transpose()?.flatten();
                if let Some(a) = actor
                    && !can_read(a, &record, assignee.as_ref())
                {
                    return Err(AppError::NotFound("case"));
                }
                let scope = case_scope(&record, assignee.as_ref().map(|u| u.path.as_str()));
                if input.version.is_some_and(|v| v != record.state.version) {
                    return Err(AppError::Stale);
                }
                if !allowed_actions(&record.state).contains(&action) {
                    return Err(not_allowed(&record.state, action, actor, &scope));
                }
                if !may_act(actor, action, &scope) {
                    return Err(AppError::Forbidden);
                }
                let category = categories.get(&record.details.category_code);
                let mut data = event_data(c, &calendar, now, &record, assignee.as_ref(), category, action, &input)?;
                data.photos = input.photos.clone();
                data.via = input.via.clone();
                data.reopen_requested = input.reopen_requested;
                let event = Event { action: Some(action), at: now, actor_id: actor.map(|a| a.person_id.clone()), data };
                let next = apply(Some(&record.state), &event)?;
                if !db::update_state(c, &record.details.id, &next, record.state.version)? {
                    return Err(AppError::Stale);
                }
                let mut counts = TallyChanges::default();
                counts.record(&calendar, &record.details.grid_id, &record.details.category_code, Some(&record.state), &next);
                tallies::apply_changes(c, &counts)?;
                record_event(c, &record.details.id, next.version, &event, actor, input.note.as_deref())?;
                if let Some(k) = &key {
                    db::remember_idempotent(c, k, &record.details.id)?;
                }
                let updated = CaseRecord { state: next, ..record };
                Ok(view(&dir, &calendar, now, actor, updated, &categories))
            })
            .await
    }

    /// Cases waiting for this person, soonest deadline first.
    pub async fn todo(&self, actor: &Actor) -> AppResult<Vec<CaseView>> {
        let categories = self.category_map().await?;
        let (actor_owned, calendar, now) = (actor.clone(), self.calendar().clone(), self.now());
        let dir = self.directory();
        self.store()
            .read(move |c| {
                let a = &actor_owned;
                let paths = |roles: &[Role]| -> Vec<String> {
                    a.grants.iter().filter(|g| roles.contains(&g.role)).map(|g| g.org_path.clone()).collect()
                };
                let mut found: HashMap<String, CaseRecord> = HashMap::new();
                let mut take = |list: Vec<CaseRecord>| {
                    for r in list {
                        found.insert(r.details.id.clone(), r);
                    }
                };
                let dispatch = paths(&[Role::Dispatcher, Role::SystemAdmin]);
                if !dispatch.is_empty() {
                    take(db::list_cases(
                        c,
                        &CaseFilter {
                            statuses: vec![Status::Reported, Status::Registered, Status::Suspended, Status::Dispatched, Status::InProgress],
                            within: Some(dispatch),
                            limit: 500,
                            ..Default::default()
                        },
                    )?);
                }
                let handler_units: Vec<String> = a
                    .grants
                    .iter()
                    .filter(|g| matches!(g.role, Role::GridWorker | Role::CommunityAdmin | Role::DepartmentHandler | Role::Dispatcher))
                    .map(|g| g.org_unit_id.clone())
                    .collect();
                if !handler_units.is_empty() {
                    take(db::list_cases(
                        c,
                        &CaseFilter {
                            statuses: vec![Status::Dispatched, Status::InProgress],
                            assignee_unit_ids: Some(handler_units),
                            limit: 500,
                            ..Default::default()
                        },
                    )?);
                }
                let verify = paths(&[Role::GridWorker, Role::Inspector, Role::Dispatcher]);
                if !verify.is_empty() {
                    take(db::list_cases(
                        c,
                        &CaseFilter { statuses: vec![Status::Handled], within: Some(verify), limit: 500, ..Default::default() },
                    )?);
                }
                let mut views = Vec::new();
                for r in found.into_values() {
                    let v = view(&dir, &calendar, now, Some(a), r, &categories);
                    if !v.actions.is_empty() {
                        views.push(v);
                    }
                }
                views.sort_by_key(|v| (v.state.handling_deadline.unwrap_or(i64::MAX), v.state.reported_at));
                Ok(views)
            })
            .await
    }

    /// Case list for desks and exports, limited to what the viewer may read.
    pub async fn list_cases(&self, actor: &Actor, mut filter: CaseFilter) -> AppResult<Vec<CaseView>> {
        let scopes: Vec<String> = actor.scopes(Permission::ReadOrg).into_iter().map(str::to_string).collect();
        if scopes.is_empty() {
            return Ok(Vec::new());
        }
        filter.within = Some(scopes);
        filter.limit = filter.limit.clamp(1, 500);
        let categories = self.category_map().await?;
        let records = self.store().read(move |c| db::list_cases(c, &filter)).await?;
        let (dir, calendar, now) = (self.directory(), self.calendar(), self.now());
        Ok(records.into_iter().map(|r| view(&dir, calendar, now, Some(actor), r, &categories)).collect())
    }

    /// The deadline scanner: warns at 80 % of the time used and escalates overdue cases one
    /// tier up. Each change is its own versioned write, so with several instances only one
    /// acts on a case.
    pub async fn scan_deadlines(&self) -> AppResult<ScanReport> {
        let now = self.now();
        let calendar = self.calendar().clone();
        let cases = self.store().read(|c| db::cases_under_deadline(c)).await?;
        let categories = self.category_map().await?;
        let mut report = ScanReport::default();
        for case in cases {
            let s = &case.state;
            let overdue_accept = s.status == Status::Dispatched && s.response_deadline.is_some_and(|d| now > d);
            let overdue_handle = s.handling_deadline.is_some_and(|d| now > d);
            let version = Some(s.version);
            if overdue_accept || overdue_handle {
                let target = {
                    let (assignee, category) = (s.assignee_unit_id.clone(), categories.get(&case.details.category_code).cloned());
                    self.store()
                        .read(move |c| {
                            let current = assignee.as_deref().map(|a| org::unit_by_id(c, a)).transpose()?.flatten();
                            match current {
                                Some(u) => escalation_target(c, &u, category.as_ref()),
                                None => Ok(None),
                            }
                        })
                        .await?
                };
                let outcome = match target {
                    Some(unit) => {
                        let input = ActInput { unit: Some(unit.code), version, ..Default::default() };
                        self.act(None, &case.details.id, Action::Escalate, input, None).await.map(|_| true)
                    }
                    None if s.warning != Warning::Red => self.warn(&case.details.id, Warning::Red, version).await.map(|_| false),
                    None => continue,
                };
                match outcome {
                    Ok(true) => report.escalated += 1,
                    Ok(false) => report.warned += 1,
                    Err(AppError::Stale | AppError::ActionNotAllowed { .. }) => {}
                    Err(e) => return Err(e),
                }
            } else if let (Some(from), Some(deadline)) = (s.dispatched_at, s.handling_deadline)
                && calendar.light(from, deadline, now) == Light::Yellow
                && s.warning == Warning::None
            {
                match self.warn(&case.details.id, Warning::Yellow, version).await {
                    Ok(_) => report.warned += 1,
                    Err(AppError::Stale | AppError::ActionNotAllowed { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(report)
    }

    async fn warn(&self, id: &str, level: Warning, version: Option<i64>) -> AppResult<CaseView> {
        // Stored in the default language: the log is read by the subdistrict's staff.
        let key = match level {
            Warning::Red => "web.warn_red",
            _ => "web.warn_yellow",
        };
        let note = crate::i18n::t(crate::i18n::Lang::ZhCn, key, &[]);
        let input = ActInput { note: Some(note), version, warning: Some(level), ..Default::default() };
        self.act(None, id, Action::Warn, input, None).await
    }
}

/// What an action changes besides the state itself: deadlines, units, tiers.
#[allow(clippy::too_many_arguments)]
fn event_data(
    c: &mut dyn Conn,
    calendar: &WorkCalendar,
    now: i64,
    record: &CaseRecord,
    assignee: Option<&OrgUnit>,
    category: Option<&Category>,
    action: Action,
    input: &ActInput,
) -> AppResult<EventData> {
    let mut d = EventData::default();
    match action {
        Action::Dispatch | Action::Escalate => {
            let category = category.ok_or(AppError::Invalid("category"))?;
            let unit = match input.unit.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
                Some(code) => org::unit_by_code(c, code)?.ok_or(AppError::NotFound("org_unit"))?,
                None => default_target(c, record, category)?,
            };
            let tier = tier_of(unit.kind).ok_or(AppError::Invalid("unit"))?;
            let dl = deadlines(calendar, now, category);
            d.assignee_unit_id = Some(unit.id);
            d.tier = Some(tier);
            d.response_deadline = Some(dl.response);
            d.handling_deadline = Some(dl.handling);
        }
        Action::VerifyFail => {
            let category = category.ok_or(AppError::Invalid("category"))?;
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
            let target = db::case_by_id(c, original)?.ok_or(AppError::NotFound("case"))?;
            if target.details.id == record.details.id || !target.state.status.is_open() {
                return Err(AppError::Invalid("original"));
            }
            d.merged_into = Some(target.details.id);
        }
        Action::Warn => d.warning = Some(input.warning.unwrap_or(Warning::Yellow)),
        _ => {}
    }
    Ok(d)
}
