//! Reading cases: one case with its photos and history, the desk's lists, and the export of
//! a whole list at any size.

use super::{CaseFilter, CaseView, can_read, view};
use crate::app::App;
use crate::app::access::Origin;
use crate::app::export::{Download, EXPORT_PAGE, Personal};
use crate::domain::authz::{Actor, Permission};
use crate::domain::case::{Event, replay};
use crate::domain::privacy::PersonalRecord;
use crate::error::{AppError, AppResult, Thing};
use crate::export::{Cell, ExportFormat, TableHead, text_cell, time_cell};
use crate::i18n::{Lang, t};
use crate::store::cases::{self as db, CaseRecord, EventRecord};
use crate::store::org;

/// The columns of the case export, in order (titles under `export.case.`).
pub const CASE_EXPORT_COLUMNS: [&str; 21] = [
    "number",
    "category",
    "class",
    "source",
    "description",
    "community",
    "grid",
    "address",
    "reporter_name",
    "reporter_phone",
    "status",
    "tier",
    "assignee",
    "reported_at",
    "dispatched_at",
    "handling_deadline",
    "handled_at",
    "closed_at",
    "rework_count",
    "extension_count",
    "warning",
];

fn case_cells(lang: Lang, c: &CaseView, full: Option<&CaseRecord>) -> Vec<Cell> {
    let details = full.map(|r| &r.details).unwrap_or(&c.details);
    let unit = |u: &Option<super::UnitBrief>| text_cell(u.as_ref().map(|u| u.name.clone()).unwrap_or_default());
    vec![
        text_cell(&c.details.number),
        text_cell(&c.category_name),
        text_cell(&c.class_name),
        text_cell(t(lang, &format!("source.{}", c.details.source.as_str()), &[])),
        text_cell(&c.details.description),
        unit(&c.community),
        unit(&c.grid),
        text_cell(c.details.address.clone().unwrap_or_default()),
        text_cell(details.reporter_name.clone().unwrap_or_default()),
        text_cell(details.reporter_phone.clone().unwrap_or_default()),
        text_cell(t(lang, &format!("status.{}", c.state.status.as_str()), &[])),
        Cell::Number(c.state.tier as f64),
        unit(&c.assignee),
        time_cell(Some(c.state.reported_at)),
        time_cell(c.state.dispatched_at),
        time_cell(c.state.handling_deadline),
        time_cell(c.state.handled_at),
        time_cell(c.state.closed_at),
        Cell::Number(c.state.rework_count as f64),
        Cell::Number(c.state.extension_count as f64),
        text_cell(t(lang, &format!("warning.{}", c.state.warning.as_str()), &[])),
    ]
}

impl App {
    /// How many cases there are in all.
    pub async fn case_count(&self) -> AppResult<i64> {
        Ok(self.store().read(|c| db::case_count(c)).await?)
    }

    /// One case, if the viewer may see it, with its photos.
    pub async fn case_view(&self, actor: &Actor, id: &str) -> AppResult<CaseView> {
        let categories = self.category_map().await?;
        let (id, actor_owned, calendar, now) = (id.to_string(), actor.clone(), self.calendar().clone(), self.now());
        let dir = self.directory();
        let (mut v, before, after) = self
            .store()
            .read(move |c| {
                let record = db::case_by_id(c, &id)?.ok_or(AppError::NotFound(Thing::Case))?;
                let assignee = record.state.assignee_unit_id.as_deref().map(|a| org::unit_by_id(c, a)).transpose()?.flatten();
                if !can_read(&actor_owned, &record, assignee.as_ref()) {
                    return Err(AppError::NotFound(Thing::Case));
                }
                let events = db::events(c, &record.details.id)?;
                let photos_of = |pick: &dyn Fn(&EventRecord) -> bool| -> Vec<String> {
                    events.iter().filter(|e| pick(e)).flat_map(|e| e.data.photos.clone()).collect()
                };
                let before = photos_of(&|e| e.action == "report");
                let after = photos_of(&|e| e.action == "handle");
                let inspection = match crate::store::inspections::item_of_case(c, &record.details.id)? {
                    Some((i, r)) => {
                        use crate::store::inspections as insp;
                        let round_name = insp::round(c, &i.round_id)?.map(|r| r.name).unwrap_or_default();
                        let point_name = insp::point(c, &i.point_id)?.map(|p| p.name).unwrap_or_default();
                        let item_text = insp::item(c, &i.manual_id, &r.item_code)?.map(|m| m.text).unwrap_or_default();
                        Some(super::CaseInspection {
                            inspection_id: i.id,
                            round_id: i.round_id,
                            round_name,
                            point_id: i.point_id,
                            point_name,
                            item_code: r.item_code,
                            item_text,
                            score: r.score,
                            standard: r.standard,
                        })
                    }
                    None => None,
                };
                let mut v = view(&dir, &calendar, now, Some(&actor_owned), record, &categories);
                v.inspection = inspection;
                Ok::<_, AppError>((v, before, after))
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
                let record = db::case_by_id(c, &id)?.ok_or(AppError::NotFound(Thing::Case))?;
                let events: Vec<Event> = db::events(c, &record.details.id)?.iter().map(EventRecord::event).collect();
                Ok(replay(&events)?.as_ref() == Some(&record.state))
            })
            .await
    }

    /// A page of cases for desks, limited to what the viewer may read.
    pub async fn list_cases(&self, actor: &Actor, mut filter: CaseFilter) -> AppResult<Vec<CaseView>> {
        let scopes: Vec<String> = actor.scopes(Permission::ReadCases).into_iter().map(str::to_string).collect();
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

    /// What this person reported today (Beijing time), newest first: their own reports,
    /// whatever their role lets them see otherwise.
    pub async fn reported_today(&self, actor: &Actor) -> AppResult<Vec<CaseView>> {
        let today = crate::domain::calendar::beijing_date(self.now());
        let filter = CaseFilter {
            reported_by: Some(actor.person_id.clone()),
            reported_since: Some(crate::domain::calendar::beijing_day_start(today)),
            limit: 50,
            ..Default::default()
        };
        let categories = self.category_map().await?;
        let records = self.store().read(move |c| db::list_cases(c, &filter)).await?;
        let (dir, calendar, now) = (self.directory(), self.calendar(), self.now());
        Ok(records.into_iter().map(|r| view(&dir, calendar, now, Some(actor), r, &categories)).collect())
    }

    /// Every case the filter selects (in the viewer's scope), as a table: no row limit. With
    /// [`Personal::Full`] the reporters' names and phones are in full, only in the subtrees
    /// where the viewer may reveal personal data, and the export is written to the access log.
    pub async fn export_cases(
        &self,
        actor: &Actor,
        mut filter: CaseFilter,
        format: ExportFormat,
        personal: Personal,
        origin: &Origin,
        lang: Lang,
    ) -> AppResult<Download> {
        let permission = if personal.is_full() { Permission::RevealPersonalData } else { Permission::ReadCases };
        let scopes: Vec<String> = actor.scopes(permission).into_iter().map(str::to_string).collect();
        if scopes.is_empty() {
            return Err(AppError::Forbidden);
        }
        filter.within = Some(scopes);
        filter.limit = EXPORT_PAGE;
        filter.offset = 0;
        filter.by_deadline = false;
        let unit_name = self.scope_name(actor);
        let mut notes = vec![unit_name.clone()];
        if let (Some(from), Some(to)) = (filter.reported_since, filter.reported_until) {
            let day = |ms| crate::domain::calendar::beijing_date(ms).format("%Y-%m-%d").to_string();
            notes.push(t(lang, "export.period", &[("from", &day(from)), ("to", &day(to))]));
        }
        notes.push(self.export_time_note(lang));
        notes.push(personal.note(lang));
        let head = TableHead {
            title: t(lang, "export.case.title", &[("unit", &unit_name)]),
            notes,
            sheet: t(lang, "export.case.sheet", &[]),
            columns: CASE_EXPORT_COLUMNS.iter().map(|k| t(lang, &format!("export.case.{k}"), &[])).collect(),
        };
        if let Personal::Full { reason } = &personal {
            self.log_access(actor, origin, PersonalRecord::CaseExport, &describe(&filter), &head.title, "*", reason.as_deref(), None)
                .await?;
        }
        let full = personal.is_full();
        let categories = self.category_map().await?;
        let (app, actor) = (self.clone(), actor.clone());
        let page = move |records: Vec<CaseRecord>| -> Vec<Vec<Cell>> {
            let (dir, now) = (app.directory(), app.now());
            records
                .into_iter()
                .map(|r| {
                    let kept = full.then(|| r.clone());
                    let v = view(&dir, app.calendar(), now, Some(&actor), r, &categories);
                    case_cells(lang, &v, kept.as_ref())
                })
                .collect()
        };
        let store = self.store().clone();
        let first = read_page(store.clone(), filter.clone()).await?;
        let mut cursor = first.last().map(|r| (r.state.reported_at, r.details.id.clone()));
        let first_rows = page(first);
        Ok(self.stream_table(head, format, "cases", first_rows, move |handle| {
            let Some(after) = cursor.take() else { return Ok(None) };
            let next = CaseFilter { before: Some(after), ..filter.clone() };
            let records = handle.block_on(read_page(store.clone(), next))?;
            cursor = records.last().map(|r| (r.state.reported_at, r.details.id.clone()));
            Ok(Some(page(records)))
        }))
    }

    /// The name of the unit a viewer's widest scope is (for titles of what they export).
    pub fn scope_name(&self, actor: &Actor) -> String {
        let dir = self.directory();
        actor
            .grants
            .iter()
            .min_by_key(|g| g.org_path.len())
            .and_then(|g| dir.unit(&g.org_unit_id))
            .map(|u| u.name.clone())
            .unwrap_or_default()
    }
}

async fn read_page(store: crate::store::Store, filter: CaseFilter) -> AppResult<Vec<CaseRecord>> {
    Ok(store.read(move |c| db::list_cases(c, &filter)).await?)
}

/// A filter as the access log records what a full export carried.
fn describe(f: &CaseFilter) -> String {
    let mut parts = Vec::new();
    if !f.statuses.is_empty() {
        parts.push(format!("status={}", f.statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")));
    }
    for (k, v) in [("community", &f.community_id), ("grid", &f.grid_id), ("category", &f.category_code)] {
        if let Some(v) = v {
            parts.push(format!("{k}={v}"));
        }
    }
    if parts.is_empty() { "all".into() } else { parts.join("&") }
}
