//! Migration 18: key tasks (重点任务) and drives (专项整治), their milestones and the
//! progress reported on each.

use super::*;

pub(super) fn steps() -> Vec<Step> {
    vec![
        Step::Table(
            Table::create()
                .table("key_tasks")
                .col(id("id"))
                .col(ColumnDef::new("kind").string_len(16).not_null())
                .col(text("name"))
                .col(text("description"))
                .col(key("lead_unit_id"))
                .col(text("lead_path"))
                .col(text("cooperating"))
                .col(key("area_id"))
                .col(int("starts_on"))
                .col(int("ends_on"))
                .col(text("categories"))
                .col(text("points"))
                .col(int("sort"))
                .col(text("created_by"))
                .col(int("created_at"))
                .to_owned(),
        ),
        Step::Table(
            Table::create()
                .table("milestones")
                .col(id("id"))
                .col(key("task_id"))
                .col(int("sort"))
                .col(text("title"))
                .col(int("due_day"))
                .col(int("percent"))
                .col(opt_int("updated_at"))
                .foreign_key(&mut fk("milestones", "task_id", "key_tasks"))
                .to_owned(),
        ),
        idx("milestones_task", "milestones", &["task_id", "sort"]),
        Step::Table(
            Table::create()
                .table("task_progress")
                .col(id("id"))
                .col(key("milestone_id"))
                .col(key("task_id"))
                .col(int("percent"))
                .col(text("text"))
                .col(key("reported_by"))
                .col(int("at"))
                .to_owned(),
        ),
        idx("task_progress_milestone", "task_progress", &["milestone_id", "at"]),
    ]
}
