//! Personal data on request, and the access log (查阅日志). Every view masks personal data
//! (`cases::masked`, people's phones); a person whose role may reveal it asks for the full
//! values of one record (查看完整信息, with an optional reason) and each field shown is
//! appended to the log with who, when, from where and why. Full exports are logged the same
//! way. Administrators read, filter and export the log; nothing changes or removes an entry.

use std::collections::BTreeMap;

use serde::Serialize;

use super::App;
use super::export::{Download, EXPORT_PAGE};
use crate::domain::authz::{Actor, Permission};
use crate::domain::privacy::PersonalRecord;
use crate::error::{AppError, AppResult, Thing};
use crate::export::{Cell, ExportFormat, TableHead, text_cell, time_cell};
use crate::i18n::{Lang, t};
use crate::store::access_log as log;
pub use crate::store::access_log::{AccessEntry, AccessFilter};
use crate::store::{cases, new_id, org, people};

/// Where a request came from, as the access log records it.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip: String,
}

/// The full values of one record's personal fields.
#[derive(Debug, Clone, Serialize)]
pub struct Revealed {
    pub record: PersonalRecord,
    pub id: String,
    pub label: String,
    pub fields: BTreeMap<String, String>,
}

const MAX_REASON: usize = 200;

impl App {
    /// Appends an entry to the access log: `field` of `record_id` (known to people as
    /// `label`) was shown to `actor`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn log_access(
        &self,
        actor: &Actor,
        origin: &Origin,
        record: PersonalRecord,
        record_id: &str,
        label: &str,
        field: &str,
        reason: Option<&str>,
        rows: Option<i64>,
    ) -> AppResult<()> {
        let entry = AccessEntry {
            id: new_id(),
            at: self.now(),
            actor_id: actor.person_id.clone(),
            actor_name: actor.name.clone(),
            record_kind: record.as_str().to_string(),
            record_id: record_id.to_string(),
            record_label: label.to_string(),
            field: field.to_string(),
            reason: reason.map(str::to_string),
            ip: origin.ip.clone(),
            rows,
        };
        self.store().write(move |c| log::append(c, &[entry])).await?;
        Ok(())
    }

    /// Shows one record's personal data in full, if the viewer may reveal it there, and logs
    /// every field shown; the entries are durable before the values are returned.
    pub async fn reveal(
        &self,
        actor: &Actor,
        origin: &Origin,
        record: PersonalRecord,
        id: &str,
        reason: Option<&str>,
    ) -> AppResult<Revealed> {
        let reason = reason.map(str::trim).filter(|r| !r.is_empty()).map(|r| r.chars().take(MAX_REASON).collect::<String>());
        let (id_owned, actor_owned) = (id.to_string(), actor.clone());
        let revealed = self
            .store()
            .read(move |c| {
                let actor = &actor_owned;
                match record {
                    PersonalRecord::Case => {
                        let r = cases::case_by_id(c, &id_owned)?.ok_or(AppError::NotFound(Thing::Case))?;
                        let assignee = r.state.assignee_unit_id.as_deref().map(|a| org::unit_by_id(c, a)).transpose()?.flatten();
                        if !super::cases::can_read(actor, &r, assignee.as_ref()) {
                            return Err(AppError::NotFound(Thing::Case));
                        }
                        if !actor.can(Permission::RevealPersonalData, &r.details.grid_path) {
                            return Err(AppError::Forbidden);
                        }
                        let mut fields = BTreeMap::new();
                        for (k, v) in [
                            ("reporter_name", &r.details.reporter_name),
                            ("reporter_phone", &r.details.reporter_phone),
                            ("reporter_email", &r.details.reporter_email),
                        ] {
                            if let Some(v) = v {
                                fields.insert(k.to_string(), v.clone());
                            }
                        }
                        Ok(Revealed { record, id: r.details.id.clone(), label: r.details.number.clone(), fields })
                    }
                    PersonalRecord::Person => {
                        let grants = people::grants(c, &id_owned)?;
                        let paths: Vec<&str> = grants.iter().map(|g| g.org_path.as_str()).collect();
                        if paths.is_empty() || !paths.iter().any(|p| actor.can(Permission::ReadOrg, p)) {
                            return Err(AppError::NotFound(Thing::Person));
                        }
                        if !paths.iter().any(|p| actor.can(Permission::RevealPersonalData, p)) {
                            return Err(AppError::Forbidden);
                        }
                        let name = people::person_name(c, &id_owned)?.ok_or(AppError::NotFound(Thing::Person))?;
                        let mut fields = BTreeMap::new();
                        if let Some(phone) = people::phone(c, &id_owned)? {
                            fields.insert("phone".to_string(), phone);
                        }
                        Ok(Revealed { record, id: id_owned.clone(), label: name, fields })
                    }
                    PersonalRecord::Volunteer => {
                        let v = crate::store::volunteers::volunteer(c, &id_owned)?.ok_or(AppError::NotFound(Thing::Volunteer))?;
                        if !actor.can(Permission::ManageVolunteers, &v.grid_path) {
                            return Err(AppError::NotFound(Thing::Volunteer));
                        }
                        if !actor.can(Permission::RevealPersonalData, &v.grid_path) {
                            return Err(AppError::Forbidden);
                        }
                        let mut fields = BTreeMap::new();
                        for (k, value) in [("phone", &v.phone), ("id_number", &v.id_number)] {
                            if let Some(x) = value {
                                fields.insert(k.to_string(), x.clone());
                            }
                        }
                        Ok(Revealed { record, id: v.id.clone(), label: v.name.clone(), fields })
                    }
                    PersonalRecord::CaseExport => Err(AppError::NotFound(Thing::Record)),
                }
            })
            .await?;
        for field in revealed.fields.keys() {
            self.log_access(actor, origin, record, &revealed.id, &revealed.label, field, reason.as_deref(), None).await?;
        }
        Ok(revealed)
    }

    /// The access log, newest first (administrators only).
    pub async fn access_log(&self, actor: &Actor, filter: AccessFilter) -> AppResult<Vec<AccessEntry>> {
        if !actor.can_somewhere(Permission::ReadAccessLog) {
            return Err(AppError::Forbidden);
        }
        let mut filter = filter;
        filter.limit = filter.limit.clamp(1, 500);
        Ok(self.store().read(move |c| log::entries(c, &filter)).await?)
    }

    /// The access log as a table, every entry the filter selects.
    pub async fn export_access_log(&self, actor: &Actor, filter: AccessFilter, format: ExportFormat, lang: Lang) -> AppResult<Download> {
        if !actor.can_somewhere(Permission::ReadAccessLog) {
            return Err(AppError::Forbidden);
        }
        let columns = ["at", "actor", "record_kind", "record", "field", "reason", "ip", "rows"];
        let head = TableHead {
            title: t(lang, "export.access.title", &[]),
            notes: vec![self.scope_name(actor), self.export_time_note(lang)],
            sheet: t(lang, "export.access.sheet", &[]),
            columns: columns.iter().map(|k| t(lang, &format!("export.access.{k}"), &[])).collect(),
        };
        let cells = move |e: &AccessEntry| -> Vec<Cell> {
            vec![
                time_cell(Some(e.at)),
                text_cell(&e.actor_name),
                text_cell(t(lang, &format!("access.kind.{}", e.record_kind), &[])),
                text_cell(&e.record_label),
                text_cell(t(lang, &format!("access.field.{}", e.field), &[])),
                text_cell(e.reason.clone().unwrap_or_default()),
                text_cell(&e.ip),
                e.rows.map(|n| Cell::Number(n as f64)).unwrap_or(Cell::Empty),
            ]
        };
        let store = self.store().clone();
        let mut page_filter = AccessFilter { limit: EXPORT_PAGE, offset: 0, ..filter };
        let first_filter = page_filter.clone();
        let first = store.read(move |c| log::entries(c, &first_filter)).await?;
        let mut more = first.len() as u64 == EXPORT_PAGE;
        let first_rows = first.iter().map(cells).collect();
        Ok(self.stream_table(head, format, "access-log", first_rows, move |handle| {
            if !more {
                return Ok(None);
            }
            page_filter.offset += EXPORT_PAGE;
            let f = page_filter.clone();
            let page = handle.block_on(store.read(move |c| log::entries(c, &f)))?;
            more = page.len() as u64 == EXPORT_PAGE;
            Ok(Some(page.iter().map(cells).collect()))
        }))
    }
}
