//! Key tasks (重点任务), drives (专项整治), milestones and progress.

use sea_query::{Expr, ExprTrait, Order, Query};

use super::record::Record;
use super::{Conn, StoreResult};
use crate::domain::key_task::TaskKind;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TaskRow {
    pub id: String,
    pub kind: TaskKind,
    pub name: String,
    pub description: String,
    pub lead_unit_id: String,
    #[serde(skip)]
    pub lead_path: String,
    /// Ids of cooperating units.
    pub cooperating: Vec<String>,
    pub area_id: String,
    #[serde(serialize_with = "crate::domain::inspection::serialize_day_key")]
    pub starts_on: i64,
    #[serde(serialize_with = "crate::domain::inspection::serialize_day_key")]
    pub ends_on: i64,
    /// A drive's problem categories.
    pub categories: Vec<String>,
    /// A drive's target points (inspection point ids).
    pub points: Vec<String>,
    pub sort: i64,
    pub created_by: String,
    pub created_at: i64,
}

crate::record!(TaskRow in "key_tasks" {
    id,
    kind,
    name,
    description,
    lead_unit_id,
    lead_path,
    cooperating: json,
    area_id,
    starts_on,
    ends_on,
    categories: json,
    points: json,
    sort,
    created_by,
    created_at,
});

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MilestoneRow {
    pub id: String,
    pub task_id: String,
    pub sort: i64,
    pub title: String,
    #[serde(serialize_with = "crate::domain::inspection::serialize_day_key")]
    pub due_day: i64,
    pub percent: i64,
    pub updated_at: Option<i64>,
}

crate::record!(MilestoneRow in "milestones" { id, task_id, sort, title, due_day, percent, updated_at });

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProgressRow {
    pub id: String,
    pub milestone_id: String,
    pub task_id: String,
    pub percent: i64,
    pub text: String,
    pub reported_by: String,
    pub at: i64,
}

crate::record!(ProgressRow in "task_progress" { id, milestone_id, task_id, percent, text, reported_by, at });

pub fn insert_task(conn: &mut dyn Conn, t: &TaskRow, milestones: &[MilestoneRow]) -> StoreResult<()> {
    conn.execute(&t.insert())?;
    conn.insert_rows(MilestoneRow::TABLE, MilestoneRow::COLUMNS, milestones.iter().map(Record::values).collect())?;
    Ok(())
}

pub fn tasks(conn: &mut dyn Conn) -> StoreResult<Vec<TaskRow>> {
    conn.query(&TaskRow::select().order_by("sort", Order::Asc).order_by("created_at", Order::Asc).to_owned())?
        .iter()
        .map(TaskRow::decode)
        .collect()
}

pub fn task(conn: &mut dyn Conn, id: &str) -> StoreResult<Option<TaskRow>> {
    conn.query_opt(&TaskRow::select().and_where(Expr::col("id").eq(id)).to_owned())?.map(|r| TaskRow::decode(&r)).transpose()
}

pub fn milestones(conn: &mut dyn Conn, task_ids: &[String]) -> StoreResult<Vec<MilestoneRow>> {
    if task_ids.is_empty() {
        return Ok(Vec::new());
    }
    conn.query(
        &MilestoneRow::select()
            .and_where(Expr::col("task_id").is_in(task_ids.iter().map(String::as_str)))
            .order_by("task_id", Order::Asc)
            .order_by("sort", Order::Asc)
            .to_owned(),
    )?
    .iter()
    .map(MilestoneRow::decode)
    .collect()
}

pub fn progress(conn: &mut dyn Conn, task_id: &str) -> StoreResult<Vec<ProgressRow>> {
    conn.query(&ProgressRow::select().and_where(Expr::col("task_id").eq(task_id)).order_by("at", Order::Desc).to_owned())?
        .iter()
        .map(ProgressRow::decode)
        .collect()
}

/// Records progress and moves the milestone to it, if the milestone still stands at
/// `seen` percent (two reports at once cannot both move it); false otherwise.
pub fn report(conn: &mut dyn Conn, p: &ProgressRow, seen: i64) -> StoreResult<bool> {
    let n = conn.execute(
        &Query::update()
            .table(MilestoneRow::TABLE)
            .values([("percent", p.percent.into()), ("updated_at", p.at.into())])
            .and_where(Expr::col("id").eq(p.milestone_id.as_str()))
            .and_where(Expr::col("percent").eq(seen))
            .to_owned(),
    )?;
    if n == 1 {
        conn.execute(&p.insert())?;
    }
    Ok(n == 1)
}

/// The task a progress report belongs to.
pub fn task_of_progress(conn: &mut dyn Conn, progress_id: &str) -> StoreResult<Option<String>> {
    conn.query_opt(&Query::select().column("task_id").from(ProgressRow::TABLE).and_where(Expr::col("id").eq(progress_id)).to_owned())?
        .map(|r| r.string(0))
        .transpose()
}
