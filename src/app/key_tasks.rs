//! 重点任务: the campaign's key tasks and special drives — a lead unit and cooperating units,
//! milestones with due dates and a traffic light each, progress reported per milestone with
//! photos, warnings for the lead unit, a board of all tasks; a drive also counts the cases of
//! its categories reported in its area and period.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::App;
use super::indicators::GroupBy;
use crate::domain::authz::{Actor, Permission};
use crate::domain::calendar::{Light, beijing_date};
use crate::domain::inspection::{day_key, day_of_key};
use crate::domain::key_task::{self as rules, TaskError, TaskKind};
use crate::domain::photo::AttachmentOwner;
use crate::error::{AppError, AppResult, Invalid, Thing};
use crate::store::key_tasks::{self as db, MilestoneRow, ProgressRow, TaskRow};
use crate::store::{attachments, new_id, people};

#[derive(Debug, Clone, Deserialize)]
pub struct MilestoneInput {
    pub title: String,
    pub due: NaiveDate,
}

/// A task to set.
#[derive(Debug, Clone, Deserialize)]
pub struct TaskInput {
    pub kind: TaskKind,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Code (or name) of the lead unit.
    pub lead: String,
    #[serde(default)]
    pub cooperating: Vec<String>,
    /// Code of the area (default: the setter's own).
    #[serde(default)]
    pub area: Option<String>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub milestones: Vec<MilestoneInput>,
    /// A drive's problem categories.
    #[serde(default)]
    pub categories: Vec<String>,
    /// A drive's target points (inspection point ids).
    #[serde(default)]
    pub points: Vec<String>,
}

/// Progress on a milestone.
#[derive(Debug, Clone, Deserialize)]
pub struct ProgressInput {
    pub percent: i64,
    pub text: String,
    #[serde(default)]
    pub photos: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MilestoneView {
    #[serde(flatten)]
    pub milestone: MilestoneRow,
    pub light: Light,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProgressView {
    #[serde(flatten)]
    pub progress: ProgressRow,
    pub milestone: String,
    pub by: String,
    pub photos: Vec<String>,
}

/// A drive's cases: those of its categories reported in its area and period.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DriveCounts {
    pub reported: i64,
    pub closed: i64,
    pub open: i64,
    pub on_time_rate: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TaskView {
    #[serde(flatten)]
    pub task: TaskRow,
    pub lead_name: String,
    pub cooperating_names: Vec<String>,
    pub category_names: Vec<String>,
    pub milestones: Vec<MilestoneView>,
    pub light: Light,
    /// The mean of the milestones' percents.
    pub percent: i64,
    pub drive: Option<DriveCounts>,
    pub may_report: bool,
    pub progress: Vec<ProgressView>,
}

/// A milestone that needs the lead unit's attention.
#[derive(Debug, Clone, Serialize)]
pub struct TaskWarning {
    pub task_id: String,
    pub task: String,
    pub milestone: String,
    #[serde(serialize_with = "crate::domain::inspection::serialize_day_key")]
    pub due_day: i64,
    pub percent: i64,
    pub light: Light,
}

fn task_error(e: TaskError) -> AppError {
    AppError::Invalid(match e {
        TaskError::Name => Invalid::TaskName,
        TaskError::Period => Invalid::Period,
        TaskError::NoMilestones => Invalid::Milestones,
        TaskError::MilestoneOutsidePeriod => Invalid::MilestoneOutside,
        TaskError::Percent => Invalid::Percent,
        TaskError::Backwards => Invalid::ProgressBackwards,
        TaskError::Text => Invalid::ProgressText,
    })
}

impl App {
    fn may_read_task(&self, actor: &Actor, t: &TaskRow) -> bool {
        let Some(area) = self.directory().unit(&t.area_id).cloned() else { return false };
        actor.can(Permission::ReadIndicators, &area.path)
            || actor.scopes(Permission::ReadIndicators).iter().any(|s| s.starts_with(area.path.as_str()))
    }

    fn may_report_on(&self, actor: &Actor, t: &TaskRow) -> bool {
        let dir = self.directory();
        actor.can(Permission::ReportProgress, &t.lead_path)
            || t.cooperating.iter().filter_map(|id| dir.unit(id)).any(|u| actor.can(Permission::ReportProgress, &u.path))
    }

    async fn task_view(&self, actor: &Actor, t: TaskRow, milestones: Vec<MilestoneRow>, detail: bool) -> AppResult<TaskView> {
        let dir = self.directory();
        let today = beijing_date(self.now());
        let ms: Vec<MilestoneView> = milestones
            .into_iter()
            .map(|m| {
                let due = day_of_key(m.due_day).unwrap_or(today);
                MilestoneView { light: rules::light(due, m.percent, today), milestone: m }
            })
            .collect();
        let percent = if ms.is_empty() { 0 } else { ms.iter().map(|m| m.milestone.percent).sum::<i64>() / ms.len() as i64 };
        let categories = self.category_map().await?;
        let drive = if t.kind == TaskKind::Drive && !t.categories.is_empty() {
            let area = dir.unit(&t.area_id).map(|u| u.code.clone());
            let (from, to) = (day_of_key(t.starts_on).unwrap_or(today), day_of_key(t.ends_on).unwrap_or(today).min(today));
            if from <= to {
                let r = self.indicators(&Actor::console(), area.as_deref(), from, to, GroupBy::Category).await?;
                let mut d = DriveCounts::default();
                let (mut due, mut on_time) = (0, 0);
                for g in r.groups.iter().filter(|g| t.categories.contains(&g.code)) {
                    d.reported += g.indicators.tally.reported;
                    d.closed += g.indicators.tally.closed;
                    d.open += g.indicators.tally.open;
                    due += g.indicators.tally.due_to_close;
                    on_time += g.indicators.tally.closed_on_time;
                }
                d.on_time_rate = (due > 0).then(|| on_time as f64 / due as f64);
                Some(d)
            } else {
                Some(DriveCounts::default())
            }
        } else {
            None
        };
        let progress = if detail {
            let id = t.id.clone();
            let rows = self
                .store()
                .read(move |c| {
                    let mut out = Vec::new();
                    for p in db::progress(c, &id)? {
                        let by = people::person_name(c, &p.reported_by)?.unwrap_or_default();
                        let photos = attachments::attached(c, AttachmentOwner::TaskProgress, &p.id, false)?;
                        out.push((p, by, photos));
                    }
                    Ok::<_, AppError>(out)
                })
                .await?;
            rows.into_iter()
                .map(|(p, by, photos)| ProgressView {
                    milestone: ms.iter().find(|m| m.milestone.id == p.milestone_id).map(|m| m.milestone.title.clone()).unwrap_or_default(),
                    by,
                    photos,
                    progress: p,
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok(TaskView {
            lead_name: dir.unit(&t.lead_unit_id).map(|u| u.name.clone()).unwrap_or_default(),
            cooperating_names: t.cooperating.iter().filter_map(|id| dir.unit(id)).map(|u| u.name.clone()).collect(),
            category_names: t.categories.iter().map(|c| categories.get(c).map(|k| k.name.clone()).unwrap_or_else(|| c.clone())).collect(),
            light: rules::worst(ms.iter().filter(|m| m.milestone.percent < 100).map(|m| m.light)),
            percent,
            drive,
            may_report: self.may_report_on(actor, &t),
            milestones: ms,
            progress,
            task: t,
        })
    }

    /// Every task and every milestone.
    async fn all_tasks(&self) -> AppResult<(Vec<TaskRow>, Vec<MilestoneRow>)> {
        self.store()
            .read(|c| {
                let tasks = db::tasks(c)?;
                let ids: Vec<String> = tasks.iter().map(|t| t.id.clone()).collect();
                Ok::<_, AppError>((tasks, db::milestones(c, &ids)?))
            })
            .await
    }

    /// Sets a key task or drive with its milestones.
    pub async fn create_task(&self, actor: &Actor, input: TaskInput) -> AppResult<TaskView> {
        if !actor.can_somewhere(Permission::ManageTasks) {
            return Err(AppError::Forbidden);
        }
        let ms: Vec<(String, NaiveDate)> = input.milestones.iter().map(|m| (m.title.trim().to_string(), m.due)).collect();
        rules::check_task(&input.name, input.starts_on, input.ends_on, &ms).map_err(task_error)?;
        let dir = self.directory();
        let area = match input.area.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
            Some(code) => dir.unit_named(code).cloned().ok_or(AppError::NotFound(Thing::OrgUnit))?,
            None => {
                let path = actor.scopes(Permission::ManageTasks).first().map(|s| s.to_string()).ok_or(AppError::Forbidden)?;
                let id = path.trim_end_matches('/').rsplit('/').next().unwrap_or("").to_string();
                dir.unit(&id).cloned().ok_or(AppError::NotFound(Thing::OrgUnit))?
            }
        };
        if !actor.can(Permission::ManageTasks, &area.path) {
            return Err(AppError::NotFound(Thing::OrgUnit));
        }
        let unit_in_area = |code: &str| -> AppResult<crate::domain::org::OrgUnit> {
            dir.unit_named(code.trim()).filter(|u| u.path.starts_with(&area.path)).cloned().ok_or(AppError::NotFound(Thing::OrgUnit))
        };
        let lead = unit_in_area(&input.lead)?;
        let cooperating: Vec<String> = input.cooperating.iter().map(|c| unit_in_area(c).map(|u| u.id)).collect::<AppResult<_>>()?;
        let categories = self.category_map().await?;
        if input.categories.iter().any(|c| !categories.contains_key(c)) {
            return Err(AppError::Invalid(Invalid::Category));
        }
        let now = self.now();
        let task = TaskRow {
            id: new_id(),
            kind: input.kind,
            name: input.name.trim().to_string(),
            description: input.description.trim().to_string(),
            lead_unit_id: lead.id.clone(),
            lead_path: lead.path.clone(),
            cooperating,
            area_id: area.id.clone(),
            starts_on: day_key(input.starts_on),
            ends_on: day_key(input.ends_on),
            categories: input.categories.clone(),
            points: input.points.clone(),
            sort: now,
            created_by: actor.person_id.clone(),
            created_at: now,
        };
        let milestones: Vec<MilestoneRow> = ms
            .iter()
            .enumerate()
            .map(|(i, (title, due))| MilestoneRow {
                id: new_id(),
                task_id: task.id.clone(),
                sort: i as i64,
                title: title.clone(),
                due_day: day_key(*due),
                percent: 0,
                updated_at: None,
            })
            .collect();
        let (t, m) = (task.clone(), milestones.clone());
        self.store().write(move |c| db::insert_task(c, &t, &m)).await?;
        self.task_view(actor, task, milestones, true).await
    }

    /// The board: every task the actor may read, with its lights.
    pub async fn task_board(&self, actor: &Actor) -> AppResult<Vec<TaskView>> {
        if !actor.can_somewhere(Permission::ReadIndicators) {
            return Err(AppError::Forbidden);
        }
        let (tasks, milestones) = self.all_tasks().await?;
        let mut out = Vec::new();
        for t in tasks.into_iter().filter(|t| self.may_read_task(actor, t)) {
            let ms = milestones.iter().filter(|m| m.task_id == t.id).cloned().collect();
            out.push(self.task_view(actor, t, ms, false).await?);
        }
        Ok(out)
    }

    /// One task with its progress reports.
    pub async fn key_task(&self, actor: &Actor, id: &str) -> AppResult<TaskView> {
        let key = id.to_string();
        let (t, ms) = self
            .store()
            .read(move |c| {
                let t = db::task(c, &key)?;
                let ms = db::milestones(c, std::slice::from_ref(&key))?;
                Ok::<_, AppError>((t, ms))
            })
            .await?;
        let t = t.filter(|t| self.may_read_task(actor, t)).ok_or(AppError::NotFound(Thing::KeyTask))?;
        self.task_view(actor, t, ms, true).await
    }

    /// The lead or a cooperating unit reports progress on a milestone.
    pub async fn report_progress(&self, actor: &Actor, task_id: &str, milestone_id: &str, input: ProgressInput) -> AppResult<TaskView> {
        let view = self.key_task(actor, task_id).await?;
        if !view.may_report {
            return Err(AppError::Forbidden);
        }
        let m = view.milestones.iter().find(|m| m.milestone.id == milestone_id).ok_or(AppError::NotFound(Thing::KeyTask))?;
        rules::check_progress(m.milestone.percent, input.percent, &input.text).map_err(task_error)?;
        self.check_photos(Some(actor), &input.photos).await?;
        let row = ProgressRow {
            id: new_id(),
            milestone_id: milestone_id.to_string(),
            task_id: task_id.to_string(),
            percent: input.percent,
            text: input.text.trim().to_string(),
            reported_by: actor.person_id.clone(),
            at: self.now(),
        };
        let (seen, photos) = (m.milestone.percent, input.photos.clone());
        let ok = self
            .store()
            .write(move |c| {
                let ok = db::report(c, &row, seen)?;
                if ok {
                    attachments::attach(c, AttachmentOwner::TaskProgress, &row.id, &photos, false)?;
                }
                Ok::<_, AppError>(ok)
            })
            .await?;
        if !ok {
            return Err(AppError::Invalid(Invalid::ProgressChanged));
        }
        self.key_task(actor, task_id).await
    }

    /// Red and yellow milestones of the tasks the actor's units lead: their to-do.
    pub async fn task_warnings(&self, actor: &Actor) -> AppResult<Vec<TaskWarning>> {
        if !actor.can_somewhere(Permission::ReportProgress) {
            return Ok(Vec::new());
        }
        let (tasks, milestones) = self.all_tasks().await?;
        let today = beijing_date(self.now());
        let mut out = Vec::new();
        for t in tasks.iter().filter(|t| actor.can(Permission::ReportProgress, &t.lead_path)) {
            for m in milestones.iter().filter(|m| m.task_id == t.id) {
                let light = rules::light(day_of_key(m.due_day).unwrap_or(today), m.percent, today);
                if light != Light::Green {
                    out.push(TaskWarning {
                        task_id: t.id.clone(),
                        task: t.name.clone(),
                        milestone: m.title.clone(),
                        due_day: m.due_day,
                        percent: m.percent,
                        light,
                    });
                }
            }
        }
        out.sort_by_key(|w| (w.light != Light::Red, w.due_day));
        Ok(out)
    }
}
