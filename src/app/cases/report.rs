//! A new case: checks, the grid from the location, the duplicate check, and the one write
//! that numbers the case, logs its report, counts it and attaches its photos.

use super::{Created, DuplicateBrief, NewCaseInput, record_event, view};
use crate::app::App;
use crate::domain::authz::{Actor, Permission};
use crate::domain::calendar::WorkCalendar;
use crate::domain::case::{Event, EventData, Source, apply};
use crate::domain::coords::{Crs, LatLon, distance_m};
use crate::domain::indicators::TallyChanges;
use crate::domain::photo::AttachmentOwner;
use crate::error::{AppError, AppResult, Invalid, Thing};
use crate::store::cases::{self as db, CaseDetails, CaseRecord};
use crate::store::{Conn, attachments, new_id, tallies};

const MAX_DESCRIPTION: usize = 4000;
const DUPLICATE_RADIUS_M: f64 = 50.0;
const DUPLICATE_WINDOW_MS: i64 = 72 * 3_600_000;

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

fn trimmed(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// A case about to be opened: its report details and its first event.
pub(crate) struct Opening<'a> {
    pub details: CaseDetails,
    pub event: Event,
    pub note: Option<&'a str>,
    pub photos_public: bool,
}

/// Opens a case inside a write: the row, its counters, the report in its log, its photos.
/// The one way a case comes to be — a report, an inspection's failed item.
pub(crate) fn open_case_in(c: &mut dyn Conn, calendar: &WorkCalendar, o: Opening<'_>, actor: Option<&Actor>) -> AppResult<CaseRecord> {
    let state = apply(None, &o.event)?;
    let record = CaseRecord { details: o.details, state, updated_at: o.event.at };
    db::insert_case(c, &record.details, &record.state)?;
    let mut counts = TallyChanges::default();
    counts.record(calendar, &record.details.grid_id, &record.details.category_code, None, &record.state);
    tallies::apply_changes(c, &counts)?;
    record_event(c, &record.details.id, record.state.version, &o.event, actor, o.note)?;
    if !o.event.data.photos.is_empty() {
        attachments::attach(c, AttachmentOwner::Case, &record.details.id, &o.event.data.photos, o.photos_public)?;
    }
    Ok(record)
}

/// The human number of the day's `seq`-th case: `JY20261130-0042`.
pub(crate) fn case_number(prefix: &str, day: &str, seq: i64) -> String {
    format!("{prefix}{day}-{seq:04}")
}

impl App {
    /// Reports a problem. `actor` is `None` for an anonymous citizen.
    pub async fn report_case(&self, actor: Option<&Actor>, input: NewCaseInput, idempotency_key: Option<&str>) -> AppResult<Created> {
        let description = input.description.trim().to_string();
        if description.is_empty() {
            return Err(AppError::MissingParameter("description".into()));
        }
        if description.chars().count() > MAX_DESCRIPTION {
            return Err(AppError::Invalid(Invalid::DescriptionTooLong));
        }
        let categories = self.category_map().await?;
        let category = categories.get(input.category.trim()).filter(|c| c.active).cloned().ok_or(AppError::Invalid(Invalid::Category))?;
        let source = match (actor, input.source.as_deref().map(str::trim).filter(|s| !s.is_empty())) {
            (None, _) => Source::Citizen,
            (Some(_), Some(s)) => Source::parse(s).ok_or(AppError::Invalid(Invalid::Source))?,
            (Some(_), None) => Source::Patrol,
        };
        if source == Source::Citizen && !category.citizen {
            return Err(AppError::Invalid(Invalid::CategoryNotForCitizens));
        }
        crate::domain::category::check_answers(&category.attributes, &input.attributes).map_err(AppError::BadRequest)?;
        let crs = Crs::parse(input.crs.as_deref().unwrap_or(""))?;
        let at = LatLon::to_wgs84(input.lat, input.lon, crs)?;
        let grid = self.directory().locate(at).cloned().ok_or(AppError::ReportOutsideGrids)?;
        if input.self_handled && !actor.is_some_and(|a| a.can(Permission::SelfHandle, &grid.path)) {
            return Err(AppError::Forbidden);
        }
        self.check_photos(actor, &input.photos).await?;
        if let Some(p) = &input.reporter_phone
            && !p.trim().is_empty()
            && !p.chars().all(|c| c.is_ascii_digit() || "-+ ".contains(c))
        {
            return Err(AppError::Invalid(Invalid::Phone));
        }
        let now = self.now();
        let prefix = self.config().case_prefix.clone();
        let key = idempotency_key.map(|k| format!("report:{}:{k}", actor.map(|a| a.person_id.as_str()).unwrap_or("anonymous")));
        let actor_owned = actor.cloned();
        let calendar = self.calendar().clone();
        let dir = self.directory();
        let community_id = dir.unit(&grid.id).and_then(|g| g.parent_id.clone()).ok_or(AppError::NotFound(Thing::Community))?;
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
                    return db::case_by_id(c, &existing)?.ok_or(AppError::NotFound(Thing::Case));
                }
                let seq = numbering.take(c)?;
                let details = CaseDetails {
                    id: new_id(),
                    number: case_number(&prefix, &day, seq),
                    category_code: category.code.clone(),
                    source,
                    description,
                    lat: at.lat,
                    lon: at.lon,
                    address: trimmed(input.address),
                    grid_id: grid.id.clone(),
                    community_id,
                    grid_path: grid.path.clone(),
                    reporter_name: trimmed(input.reporter_name),
                    reporter_phone: trimmed(input.reporter_phone),
                    priority: input.priority.unwrap_or(2).clamp(1, 3),
                    reporter_email: trimmed(input.reporter_email),
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
                let opened = Opening { details, event, note: input.note.as_deref(), photos_public: input.photos_public };
                let record = open_case_in(c, &calendar, opened, actor_owned.as_ref())?;
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
}
