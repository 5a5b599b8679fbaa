//! The evaluation manual's versions and items, inspection points, rounds, inspections and
//! their item results, and the sums that rankings read (`sums`).

pub mod sums;

use sea_query::{Expr, ExprTrait, Order, Query};

use super::record::Record;
use super::{Conn, StoreResult};
use crate::domain::inspection::{Observation, RoundKind, Scoring};

// ---- the manual ----

/// One version of the manual.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ManualRow {
    pub id: String,
    pub version: i64,
    pub name: String,
    pub point_types: i64,
    pub items: i64,
    pub created_by: String,
    pub created_at: i64,
}

crate::record!(ManualRow in "manuals" { id, version, name, point_types, items, created_by, created_at });

/// One item of one version.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ItemRow {
    pub manual_id: String,
    pub code: String,
    pub point_type: String,
    pub simulated: bool,
    pub text: String,
    pub method: Option<String>,
    pub standard: f64,
    pub scoring: Scoring,
    pub veto: bool,
    pub category_code: Option<String>,
    pub sort: i64,
}

crate::record!(ItemRow in "manual_items" {
    manual_id,
    code,
    point_type,
    simulated,
    text,
    method,
    standard,
    scoring: json,
    veto,
    category_code,
    sort,
});

pub fn insert_manual(conn: &mut dyn Conn, m: &ManualRow, items: &[ItemRow]) -> StoreResult<()> {
    conn.execute(&m.insert())?;
    conn.insert_rows(ItemRow::TABLE, ItemRow::COLUMNS, items.iter().map(Record::values).collect())?;
    Ok(())
}

/// The next version number.
pub fn next_manual_version(conn: &mut dyn Conn) -> StoreResult<i64> {
    let row = conn.query_opt(&Query::select().expr(Expr::col("version").max()).from(ManualRow::TABLE).to_owned())?;
    Ok(row.map(|r| r.opt_i64(0)).transpose()?.flatten().unwrap_or(0) + 1)
}

/// Every version, newest first.
pub fn manuals(conn: &mut dyn Conn) -> StoreResult<Vec<ManualRow>> {
    conn.query(&ManualRow::select().order_by("version", Order::Desc).to_owned())?.iter().map(ManualRow::decode).collect()
}

pub fn manual(conn: &mut dyn Conn, id: &str) -> StoreResult<Option<ManualRow>> {
    conn.query_opt(&ManualRow::select().and_where(Expr::col("id").eq(id)).to_owned())?.map(|r| ManualRow::decode(&r)).transpose()
}

/// One item of one version.
pub fn item(conn: &mut dyn Conn, manual_id: &str, code: &str) -> StoreResult<Option<ItemRow>> {
    conn.query_opt(&ItemRow::select().and_where(Expr::col("manual_id").eq(manual_id)).and_where(Expr::col("code").eq(code)).to_owned())?
        .map(|r| ItemRow::decode(&r))
        .transpose()
}

/// A version's items in the manual's order.
pub fn items(conn: &mut dyn Conn, manual_id: &str) -> StoreResult<Vec<ItemRow>> {
    conn.query(&ItemRow::select().and_where(Expr::col("manual_id").eq(manual_id)).order_by("sort", Order::Asc).to_owned())?
        .iter()
        .map(ItemRow::decode)
        .collect()
}

// ---- points ----

/// 点位: a place that gets inspected (or, for a simulated test, none).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PointRow {
    pub id: String,
    pub name: String,
    pub point_type: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub grid_id: Option<String>,
    pub community_id: Option<String>,
    #[serde(skip)]
    pub scope_path: String,
    pub unit_id: String,
    pub address: Option<String>,
    pub active: bool,
    pub created_at: i64,
}

crate::record!(PointRow in "points" {
    id,
    name,
    point_type,
    lat,
    lon,
    grid_id,
    community_id,
    scope_path,
    unit_id,
    address,
    active,
    created_at,
});

/// Adds points, or updates the one of the same type and name; returns (added, updated).
pub fn upsert_points(conn: &mut dyn Conn, points: &[PointRow]) -> StoreResult<(usize, usize)> {
    let (mut added, mut updated) = (0, 0);
    for p in points {
        let existing = conn.query_opt(
            &Query::select()
                .column("id")
                .from(PointRow::TABLE)
                .and_where(Expr::col("point_type").eq(p.point_type.as_str()))
                .and_where(Expr::col("name").eq(p.name.as_str()))
                .to_owned(),
        )?;
        match existing {
            Some(row) => {
                let id = row.string(0)?;
                let keep = PointRow { id: id.clone(), ..p.clone() };
                conn.execute(&keep.update_by("id", id.into()))?;
                updated += 1;
            }
            None => {
                conn.execute(&p.insert())?;
                added += 1;
            }
        }
    }
    Ok((added, updated))
}

/// Whether a point of this type and name exists.
pub fn point_named(conn: &mut dyn Conn, point_type: &str, name: &str) -> StoreResult<bool> {
    Ok(conn
        .query_opt(
            &Query::select()
                .column("id")
                .from(PointRow::TABLE)
                .and_where(Expr::col("point_type").eq(point_type))
                .and_where(Expr::col("name").eq(name))
                .to_owned(),
        )?
        .is_some())
}

/// Adds one point.
pub fn insert_point(conn: &mut dyn Conn, p: &PointRow) -> StoreResult<()> {
    conn.execute(&p.insert())?;
    Ok(())
}

/// Adds a round unless one with its id exists (the day's frontage round, which every
/// inspector of the day shares).
pub fn ensure_round(conn: &mut dyn Conn, r: &RoundRow) -> StoreResult<()> {
    if round(conn, &r.id)?.is_none() {
        conn.execute(&r.insert().on_conflict(sea_query::OnConflict::column("id").do_nothing().to_owned()).to_owned())?;
    }
    Ok(())
}

/// Adds a point to a round for an inspector; a point already in the round and not inspected
/// passes to this inspector. `false` when it was inspected already.
pub fn take_round_point(conn: &mut dyn Conn, rp: &RoundPointRow) -> StoreResult<bool> {
    match round_point(conn, &rp.round_id, &rp.point_id)? {
        Some(existing) if existing.inspection_id.is_some() => Ok(false),
        Some(_) => {
            set_inspector(conn, &rp.round_id, &rp.point_id, rp.inspector_id.as_deref())?;
            Ok(true)
        }
        None => {
            conn.insert_rows(RoundPointRow::TABLE, RoundPointRow::COLUMNS, vec![rp.values()])?;
            Ok(true)
        }
    }
}

/// The inspections at a point, newest first.
pub fn inspections_at(conn: &mut dyn Conn, point_id: &str, limit: u64) -> StoreResult<Vec<InspectionRow>> {
    conn.query(&InspectionRow::select().and_where(Expr::col("point_id").eq(point_id)).order_by("at", Order::Desc).limit(limit).to_owned())?
        .iter()
        .map(InspectionRow::decode)
        .collect()
}

/// Active points within the given scopes (all when `within` is empty), by type then name.
pub fn points(conn: &mut dyn Conn, within: &[String], point_type: Option<&str>) -> StoreResult<Vec<PointRow>> {
    let mut q = PointRow::select().and_where(Expr::col("active").eq(true)).to_owned();
    if !within.is_empty() {
        let mut any = sea_query::Condition::any();
        for p in within {
            any = any.add(Expr::col("scope_path").like(format!("{p}%")));
        }
        q.cond_where(any);
    }
    if let Some(t) = point_type {
        q.and_where(Expr::col("point_type").eq(t));
    }
    q.order_by("point_type", Order::Asc).order_by("name", Order::Asc);
    conn.query(&q)?.iter().map(PointRow::decode).collect()
}

/// The points with these ids (those that exist).
pub fn points_by_ids(conn: &mut dyn Conn, ids: &[String]) -> StoreResult<Vec<PointRow>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(300) {
        let rows = conn.query(&PointRow::select().and_where(Expr::col("id").is_in(chunk.iter().map(String::as_str))).to_owned())?;
        for r in &rows {
            out.push(PointRow::decode(r)?);
        }
    }
    Ok(out)
}

pub fn point(conn: &mut dyn Conn, id: &str) -> StoreResult<Option<PointRow>> {
    conn.query_opt(&PointRow::select().and_where(Expr::col("id").eq(id)).to_owned())?.map(|r| PointRow::decode(&r)).transpose()
}

pub fn count_points(conn: &mut dyn Conn) -> StoreResult<i64> {
    let row = conn.query_opt(&Query::select().expr(Expr::col("id").count()).from(PointRow::TABLE).to_owned())?;
    Ok(row.map(|r| r.i64(0)).transpose()?.unwrap_or(0))
}

// ---- rounds ----

/// 督查轮次: a set of inspections over a period.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RoundRow {
    pub id: String,
    pub name: String,
    pub kind: RoundKind,
    pub manual_id: String,
    /// First and last day, kept as yyyymmdd, sent as YYYY-MM-DD.
    #[serde(serialize_with = "crate::domain::inspection::serialize_day_key")]
    pub starts_on: i64,
    #[serde(serialize_with = "crate::domain::inspection::serialize_day_key")]
    pub ends_on: i64,
    /// The seed the points were drawn from (printed with the round so anyone can re-draw).
    pub seed: i64,
    /// For a re-check: the round whose failures it checks.
    pub based_on: Option<String>,
    pub created_by: String,
    pub created_at: i64,
}

crate::record!(RoundRow in "rounds" { id, name, kind, manual_id, starts_on, ends_on, seed, based_on, created_by, created_at });

/// One point of a round, with its inspector and (once done) its inspection.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RoundPointRow {
    pub round_id: String,
    pub point_id: String,
    pub inspector_id: Option<String>,
    /// A re-check's items; `None`: every item of the point's type.
    pub items: Option<Vec<String>>,
    pub inspection_id: Option<String>,
    pub sort: i64,
}

crate::record!(RoundPointRow in "round_points" { round_id, point_id, inspector_id, items: json, inspection_id, sort });

pub fn insert_round(conn: &mut dyn Conn, r: &RoundRow, points: &[RoundPointRow]) -> StoreResult<()> {
    conn.execute(&r.insert())?;
    conn.insert_rows(RoundPointRow::TABLE, RoundPointRow::COLUMNS, points.iter().map(Record::values).collect())?;
    Ok(())
}

pub fn round(conn: &mut dyn Conn, id: &str) -> StoreResult<Option<RoundRow>> {
    conn.query_opt(&RoundRow::select().and_where(Expr::col("id").eq(id)).to_owned())?.map(|r| RoundRow::decode(&r)).transpose()
}

/// Rounds whose period meets [from, to] (yyyymmdd), newest first.
pub fn rounds(conn: &mut dyn Conn, from: i64, to: i64) -> StoreResult<Vec<RoundRow>> {
    conn.query(
        &RoundRow::select()
            .and_where(Expr::col("ends_on").gte(from))
            .and_where(Expr::col("starts_on").lte(to))
            .order_by("starts_on", Order::Desc)
            .order_by("created_at", Order::Desc)
            .to_owned(),
    )?
    .iter()
    .map(RoundRow::decode)
    .collect()
}

pub fn round_points(conn: &mut dyn Conn, round_id: &str) -> StoreResult<Vec<RoundPointRow>> {
    conn.query(&RoundPointRow::select().and_where(Expr::col("round_id").eq(round_id)).order_by("sort", Order::Asc).to_owned())?
        .iter()
        .map(RoundPointRow::decode)
        .collect()
}

/// What waits for an inspector: round points assigned to them and not yet inspected.
pub fn assigned(conn: &mut dyn Conn, inspector_id: &str) -> StoreResult<Vec<RoundPointRow>> {
    conn.query(
        &RoundPointRow::select()
            .and_where(Expr::col("inspector_id").eq(inspector_id))
            .and_where(Expr::col("inspection_id").is_null())
            .order_by("round_id", Order::Desc)
            .order_by("sort", Order::Asc)
            .to_owned(),
    )?
    .iter()
    .map(RoundPointRow::decode)
    .collect()
}

pub fn round_point(conn: &mut dyn Conn, round_id: &str, point_id: &str) -> StoreResult<Option<RoundPointRow>> {
    conn.query_opt(
        &RoundPointRow::select().and_where(Expr::col("round_id").eq(round_id)).and_where(Expr::col("point_id").eq(point_id)).to_owned(),
    )?
    .map(|r| RoundPointRow::decode(&r))
    .transpose()
}

/// Marks a round point done; `false` when another inspection got there first.
pub fn mark_inspected(conn: &mut dyn Conn, round_id: &str, point_id: &str, inspection_id: &str) -> StoreResult<bool> {
    let n = conn.execute(
        &Query::update()
            .table(RoundPointRow::TABLE)
            .value("inspection_id", inspection_id)
            .and_where(Expr::col("round_id").eq(round_id))
            .and_where(Expr::col("point_id").eq(point_id))
            .and_where(Expr::col("inspection_id").is_null())
            .to_owned(),
    )?;
    Ok(n == 1)
}

// ---- inspections ----

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct InspectionRow {
    pub id: String,
    pub round_id: String,
    pub point_id: String,
    pub inspector_id: String,
    pub manual_id: String,
    pub at: i64,
    /// Kept as yyyymmdd (Beijing), sent as YYYY-MM-DD.
    #[serde(serialize_with = "crate::domain::inspection::serialize_day_key")]
    pub day: i64,
    pub score: f64,
    pub standard: f64,
    pub voided: bool,
    pub problems: i64,
    pub failed_items: i64,
    pub note: Option<String>,
}

crate::record!(InspectionRow in "inspections" {
    id,
    round_id,
    point_id,
    inspector_id,
    manual_id,
    at,
    day,
    score,
    standard,
    voided,
    problems,
    failed_items,
    note,
});

/// One item's result within an inspection.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ItemResultRow {
    pub id: String,
    pub inspection_id: String,
    pub item_code: String,
    pub observation: Observation,
    pub applicable: bool,
    pub score: f64,
    pub standard: f64,
    pub failed: bool,
    pub problems: i64,
    pub note: Option<String>,
    /// The case the failure opened or added to.
    pub case_id: Option<String>,
}

crate::record!(ItemResultRow in "inspection_items" {
    id,
    inspection_id,
    item_code,
    observation: json,
    applicable,
    score,
    standard,
    failed,
    problems,
    note,
    case_id,
});

pub fn insert_inspection(conn: &mut dyn Conn, i: &InspectionRow, items: &[ItemResultRow]) -> StoreResult<()> {
    conn.execute(&i.insert())?;
    conn.insert_rows(ItemResultRow::TABLE, ItemResultRow::COLUMNS, items.iter().map(Record::values).collect())?;
    Ok(())
}

pub fn inspection(conn: &mut dyn Conn, id: &str) -> StoreResult<Option<InspectionRow>> {
    conn.query_opt(&InspectionRow::select().and_where(Expr::col("id").eq(id)).to_owned())?.map(|r| InspectionRow::decode(&r)).transpose()
}

/// The inspection of a point in a round, if it was done.
pub fn inspection_of(conn: &mut dyn Conn, round_id: &str, point_id: &str) -> StoreResult<Option<InspectionRow>> {
    conn.query_opt(
        &InspectionRow::select().and_where(Expr::col("round_id").eq(round_id)).and_where(Expr::col("point_id").eq(point_id)).to_owned(),
    )?
    .map(|r| InspectionRow::decode(&r))
    .transpose()
}

pub fn item_results(conn: &mut dyn Conn, inspection_id: &str) -> StoreResult<Vec<ItemResultRow>> {
    conn.query(&ItemResultRow::select().and_where(Expr::col("inspection_id").eq(inspection_id)).to_owned())?
        .iter()
        .map(ItemResultRow::decode)
        .collect()
}

/// The newest case a failure of `item_code` at `point_id` opened or added to.
pub fn last_case_of(conn: &mut dyn Conn, point_id: &str, item_code: &str) -> StoreResult<Option<String>> {
    let row = conn.query_opt(
        &Query::select()
            .column(("inspection_items", "case_id"))
            .from("inspection_items")
            .inner_join("inspections", Expr::col(("inspections", "id")).equals(("inspection_items", "inspection_id")))
            .and_where(Expr::col(("inspections", "point_id")).eq(point_id))
            .and_where(Expr::col(("inspection_items", "item_code")).eq(item_code))
            .and_where(Expr::col(("inspection_items", "case_id")).is_not_null())
            .order_by(("inspections", "at"), Order::Desc)
            .limit(1)
            .to_owned(),
    )?;
    row.map(|r| r.string(0)).transpose()
}

/// The item result that opened (or last added to) a case, with its inspection.
pub fn item_of_case(conn: &mut dyn Conn, case_id: &str) -> StoreResult<Option<(InspectionRow, ItemResultRow)>> {
    let mut q = ItemResultRow::select();
    q.columns(InspectionRow::COLUMNS.iter().map(|c| ("inspections", *c)))
        .inner_join("inspections", Expr::col(("inspections", "id")).equals(("inspection_items", "inspection_id")))
        .and_where(Expr::col(("inspection_items", "case_id")).eq(case_id))
        .order_by(("inspections", "at"), Order::Desc)
        .limit(1);
    conn.query_opt(&q)?.map(|r| Ok((InspectionRow::decode_at(&r, ItemResultRow::COLUMNS.len())?, ItemResultRow::decode(&r)?))).transpose()
}

/// Sets the case of an item result (after the case is opened in the same write).
pub fn set_item_case(conn: &mut dyn Conn, item_id: &str, case_id: &str) -> StoreResult<()> {
    conn.execute(&Query::update().table(ItemResultRow::TABLE).value("case_id", case_id).and_where(Expr::col("id").eq(item_id)).to_owned())?;
    Ok(())
}

/// Gives a round point to an inspector (`None`: to nobody).
pub fn set_inspector(conn: &mut dyn Conn, round_id: &str, point_id: &str, inspector_id: Option<&str>) -> StoreResult<()> {
    conn.execute(
        &Query::update()
            .table(RoundPointRow::TABLE)
            .value("inspector_id", inspector_id.map(str::to_string))
            .and_where(Expr::col("round_id").eq(round_id))
            .and_where(Expr::col("point_id").eq(point_id))
            .to_owned(),
    )?;
    Ok(())
}

/// The inspection an item result belongs to.
pub fn inspection_of_item(conn: &mut dyn Conn, item_id: &str) -> StoreResult<Option<InspectionRow>> {
    let mut q = InspectionRow::select();
    q.inner_join("inspection_items", Expr::col(("inspection_items", "inspection_id")).equals(("inspections", "id")))
        .and_where(Expr::col(("inspection_items", "id")).eq(item_id));
    conn.query_opt(&q)?.map(|r| InspectionRow::decode(&r)).transpose()
}

/// What became of the cases that failed items opened (or added to) at one point.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rectification {
    pub point_id: String,
    /// Distinct cases linked to the point's failed items in the period.
    pub cases: i64,
    /// Of those, closed or past their handling deadline at `now`.
    pub due: i64,
    /// Of those, handled by the deadline and closed.
    pub on_time: i64,
}

/// Notes that a failure at `point_id` on `day` opened or added to `case_id` (once).
pub fn link_case(conn: &mut dyn Conn, day: i64, point_id: &str, case_id: &str) -> StoreResult<()> {
    link_cases(conn, &[(day, point_id.to_string(), case_id.to_string())])
}

/// Many such notes at once (the load generator).
pub fn link_cases(conn: &mut dyn Conn, links: &[(i64, String, String)]) -> StoreResult<()> {
    for chunk in links.chunks(300) {
        let mut q = Query::insert().into_table("inspection_cases").columns(["day", "point_id", "case_id"]).to_owned();
        for (day, point, case) in chunk {
            q.values_panic([(*day).into(), point.clone().into(), case.clone().into()]);
        }
        q.on_conflict(sea_query::OnConflict::columns(["day", "point_id", "case_id"]).do_nothing().to_owned());
        conn.execute(&q)?;
    }
    Ok(())
}

/// What rectification is grouped by: a column of the point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointColumn {
    Id,
    PointType,
    Grid,
    Community,
    Unit,
}

impl PointColumn {
    fn name(self) -> &'static str {
        match self {
            PointColumn::Id => "id",
            PointColumn::PointType => "point_type",
            PointColumn::Grid => "grid_id",
            PointColumn::Community => "community_id",
            PointColumn::Unit => "unit_id",
        }
    }
}

/// Rectification for the inspections of `[from_day, to_day]` at points inside `within` (a
/// scope path), grouped by a column of the point (`None` for points without one): the
/// period's linked cases, each once per point, with their state — grouped in SQL.
pub fn rectification(
    conn: &mut dyn Conn,
    from_day: i64,
    to_day: i64,
    now: i64,
    within: &str,
    by: PointColumn,
) -> StoreResult<Vec<(Option<String>, Rectification)>> {
    let linked = Query::select()
        .distinct()
        .column("point_id")
        .column("case_id")
        .from("inspection_cases")
        .and_where(Expr::col("day").between(from_day, to_day))
        .to_owned();
    let x = sea_query::Alias::new("x");
    let closed = || Expr::col(("cases", "closed_at")).is_not_null();
    // Literal 1 and 0: PostgreSQL cannot type a bound parameter inside CASE … SUM.
    let count_if = |cond: sea_query::Expr| Expr::case(cond, Expr::cust("1")).finally(Expr::cust("0"));
    let due = closed().or(Expr::col(("cases", "handling_deadline")).lt(now));
    let on_time = closed().and(Expr::col(("cases", "handled_at")).is_not_null()).and(
        Expr::col(("cases", "handling_deadline"))
            .is_null()
            .or(Expr::col(("cases", "handled_at")).lte(Expr::col(("cases", "handling_deadline")))),
    );
    conn.query(
        &Query::select()
            .column(("points", by.name()))
            .expr(Expr::col((x.clone(), sea_query::Alias::new("case_id"))).count())
            .expr(Expr::expr(count_if(due)).sum().cast_as("BIGINT"))
            .expr(Expr::expr(count_if(on_time)).sum().cast_as("BIGINT"))
            .from_subquery(linked, x.clone())
            .inner_join("points", Expr::col(("points", "id")).equals((x.clone(), sea_query::Alias::new("point_id"))))
            .inner_join("cases", Expr::col(("cases", "id")).equals((x, sea_query::Alias::new("case_id"))))
            .and_where(Expr::col(("points", "scope_path")).like(format!("{within}%")))
            .group_by_col(("points", by.name()))
            .to_owned(),
    )?
    .iter()
    .map(|r| {
        let group = r.opt_string(0)?;
        Ok((group.clone(), Rectification { point_id: group.unwrap_or_default(), cases: r.i64(1)?, due: r.i64(2)?, on_time: r.i64(3)? }))
    })
    .collect()
}

/// An inspector's latest inspections, newest first.
pub fn inspections_by(conn: &mut dyn Conn, inspector_id: &str, limit: u64) -> StoreResult<Vec<InspectionRow>> {
    conn.query(
        &InspectionRow::select().and_where(Expr::col("inspector_id").eq(inspector_id)).order_by("at", Order::Desc).limit(limit).to_owned(),
    )?
    .iter()
    .map(InspectionRow::decode)
    .collect()
}

/// Rounds, their points, inspections and item results written in one go (the load
/// generator's batches).
pub fn insert_batch(
    conn: &mut dyn Conn,
    rounds: &[RoundRow],
    round_points: &[RoundPointRow],
    inspections: &[InspectionRow],
    items: &[ItemResultRow],
) -> StoreResult<()> {
    for r in rounds {
        conn.execute(&r.insert())?;
    }
    conn.insert_rows(RoundPointRow::TABLE, RoundPointRow::COLUMNS, round_points.iter().map(Record::values).collect())?;
    conn.insert_rows(InspectionRow::TABLE, InspectionRow::COLUMNS, inspections.iter().map(Record::values).collect())?;
    conn.insert_rows(ItemResultRow::TABLE, ItemResultRow::COLUMNS, items.iter().map(Record::values).collect())?;
    Ok(())
}

/// Up to `limit` case ids (any), for generated failures to link to.
pub fn some_case_ids(conn: &mut dyn Conn, limit: u64) -> StoreResult<Vec<String>> {
    conn.query(&Query::select().column("id").from("cases").limit(limit).to_owned())?.iter().map(|r| r.string(0)).collect()
}

// ---- what bulletins read ----

/// A failed item result with a photo: the photo, the point, its responsible unit and the
/// score the item lost there.
#[derive(Debug, Clone, PartialEq)]
pub struct FailedPhoto {
    pub photo_id: String,
    pub point: String,
    pub unit_id: String,
    pub lost: f64,
}

/// Which failures' photos to read: of one item, at the points of one responsible unit,
/// and/or at points under a path.
#[derive(Debug, Clone, Copy, Default)]
pub struct PhotoFilter<'a> {
    pub code: Option<&'a str>,
    pub unit_id: Option<&'a str>,
    pub within: Option<&'a str>,
}

/// Photos of failures over `[from_day, to_day]` as `filter` says, most score lost first,
/// at most `limit`.
pub fn failed_photos(
    conn: &mut dyn Conn,
    filter: PhotoFilter<'_>,
    from_day: i64,
    to_day: i64,
    limit: u64,
) -> StoreResult<Vec<FailedPhoto>> {
    let lost = Expr::col(("inspection_items", "standard")).sub(Expr::col(("inspection_items", "score")));
    let mut q = Query::select()
        .column(("attachments", "photo_id"))
        .column(("points", "name"))
        .column(("points", "unit_id"))
        .expr(lost.clone())
        .from("inspections")
        .inner_join("inspection_items", Expr::col(("inspection_items", "inspection_id")).equals(("inspections", "id")))
        .inner_join("points", Expr::col(("points", "id")).equals(("inspections", "point_id")))
        .inner_join(
            "attachments",
            Expr::col(("attachments", "owner_id"))
                .equals(("inspection_items", "id"))
                .and(Expr::col(("attachments", "owner_kind")).eq(crate::domain::photo::AttachmentOwner::InspectionItem.as_str())),
        )
        .and_where(Expr::col(("inspections", "day")).between(from_day, to_day))
        .and_where(Expr::col(("inspection_items", "failed")).eq(true))
        .to_owned();
    if let Some(code) = filter.code {
        q.and_where(Expr::col(("inspection_items", "item_code")).eq(code));
    }
    if let Some(unit) = filter.unit_id {
        q.and_where(Expr::col(("points", "unit_id")).eq(unit));
    }
    if let Some(within) = filter.within {
        q.and_where(Expr::col(("points", "scope_path")).like(format!("{within}%")));
    }
    q.order_by_expr(lost, Order::Desc)
        .order_by(("inspections", "at"), Order::Desc)
        .order_by(("attachments", "photo_id"), Order::Asc)
        .limit(limit);
    conn.query(&q)?
        .iter()
        .map(|r| Ok(FailedPhoto { photo_id: r.string(0)?, point: r.string(1)?, unit_id: r.string(2)?, lost: r.f64(3)? }))
        .collect()
}

/// A case an inspection failure opened or added to, still open.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkedCase {
    pub case_id: String,
    pub case_number: String,
    pub point: String,
    pub unit_id: String,
    pub item_code: String,
}

/// The open cases linked to failures at points under `within` over `[from_day, to_day]`,
/// by responsible unit and case number.
pub fn linked_open_cases(conn: &mut dyn Conn, from_day: i64, to_day: i64, within: &str) -> StoreResult<Vec<LinkedCase>> {
    let linked = Query::select()
        .distinct()
        .column("point_id")
        .column("case_id")
        .from("inspection_cases")
        .and_where(Expr::col("day").between(from_day, to_day))
        .to_owned();
    let x = sea_query::Alias::new("x");
    let rows = conn.query(
        &Query::select()
            .column(("cases", "id"))
            .column(("cases", "number"))
            .column(("points", "name"))
            .column(("points", "unit_id"))
            .from_subquery(linked, x.clone())
            .inner_join("points", Expr::col(("points", "id")).equals((x.clone(), sea_query::Alias::new("point_id"))))
            .inner_join("cases", Expr::col(("cases", "id")).equals((x, sea_query::Alias::new("case_id"))))
            .and_where(Expr::col(("points", "scope_path")).like(format!("{within}%")))
            .and_where(Expr::col(("cases", "closed_at")).is_null())
            .and_where(Expr::col(("cases", "status")).is_not_in(["closed", "rejected", "merged"]))
            .order_by(("points", "unit_id"), Order::Asc)
            .order_by(("cases", "number"), Order::Asc)
            .to_owned(),
    )?;
    let mut out: Vec<LinkedCase> = Vec::with_capacity(rows.len());
    for r in rows {
        let case_id = r.string(0)?;
        if out.iter().any(|c| c.case_id == case_id) {
            continue;
        }
        out.push(LinkedCase { case_id, case_number: r.string(1)?, point: r.string(2)?, unit_id: r.string(3)?, item_code: String::new() });
    }
    // The item each case was opened for (the first failure linked to it).
    for chunk in out.chunks_mut(200) {
        let ids: Vec<&str> = chunk.iter().map(|c| c.case_id.as_str()).collect();
        let codes = conn.query(
            &Query::select()
                .column("case_id")
                .expr(Expr::col("item_code").min())
                .from("inspection_items")
                .and_where(Expr::col("case_id").is_in(ids))
                .group_by_col("case_id")
                .to_owned(),
        )?;
        for r in codes {
            let (id, code) = (r.string(0)?, r.string(1)?);
            if let Some(c) = chunk.iter_mut().find(|c| c.case_id == id) {
                c.item_code = code;
            }
        }
    }
    Ok(out)
}
