//! The deadline scanner: warns at 80 % of the time used and escalates overdue cases one tier
//! up (分级响应), acting as the system; overdue rectification notices go up the same way.

use serde::Serialize;

use super::actions::escalation_target;
use super::{ActInput, CaseView};
use crate::app::App;
use crate::domain::authz::Actor;
use crate::domain::calendar::Light;
use crate::domain::case::{Action, Status, Warning};
use crate::error::{AppError, AppResult};
use crate::store::cases as db;
use crate::store::org;

#[derive(Debug, Clone, Serialize, Default)]
pub struct ScanReport {
    pub warned: usize,
    pub escalated: usize,
    /// Rectification notices past their deadline, escalated to the unit above.
    pub notices_escalated: usize,
}

impl App {
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
                        self.act(&Actor::system(), &case.details.id, Action::Escalate, input, None).await.map(|_| true)
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
        report.notices_escalated = self.scan_notices().await?;
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
        self.act(&Actor::system(), id, Action::Warn, input, None).await
    }
}
