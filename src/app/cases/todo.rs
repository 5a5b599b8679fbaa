//! The to-do (待办): what waits for a person, soonest deadline first, at any number of open
//! cases — each of the person's work queues (`domain::case::work_queues`, the same
//! permissions that decide who may act) is read in deadline order from an index and only
//! the most urgent are kept.

use super::{CaseView, view};
use crate::app::App;
use crate::domain::authz::Actor;
use crate::domain::case::work_queues;
use crate::error::AppResult;
use crate::store::cases as db;

/// The most urgent cases a to-do shows.
pub const TODO_LIMIT: u64 = 200;

impl App {
    /// Cases waiting for this person, soonest handling deadline first, then the oldest
    /// reports without a deadline; at most `TODO_LIMIT`.
    pub async fn todo(&self, actor: &Actor) -> AppResult<Vec<CaseView>> {
        let queues = work_queues(actor);
        if queues.is_empty() {
            return Ok(Vec::new());
        }
        let categories = self.category_map().await?;
        let records = self
            .store()
            .read(move |c| {
                let mut all = Vec::new();
                for q in &queues {
                    all.extend(db::queue(c, q, TODO_LIMIT)?);
                }
                Ok::<_, crate::error::AppError>(all)
            })
            .await?;
        let (dir, calendar, now) = (self.directory(), self.calendar(), self.now());
        let mut seen = std::collections::HashSet::new();
        let mut views: Vec<CaseView> = records
            .into_iter()
            .filter(|r| seen.insert(r.details.id.clone()))
            .map(|r| view(&dir, calendar, now, Some(actor), r, &categories))
            .filter(|v| !v.actions.is_empty())
            .collect();
        views.sort_by(|a, b| {
            let key = |v: &CaseView| (v.state.handling_deadline.unwrap_or(i64::MAX), v.state.reported_at);
            key(a).cmp(&key(b)).then_with(|| a.details.id.cmp(&b.details.id))
        });
        views.truncate(TODO_LIMIT as usize);
        Ok(views)
    }
}
