//! Org units, grids and sponsorships.

use sea_query::{Expr, ExprTrait, Order, Query, SelectStatement};

use super::{Conn, Row, StoreError, StoreResult, new_id, now_ms};
use crate::domain::org::{OrgKind, OrgUnit, child_path};

const UNIT_COLUMNS: [&str; 6] = ["id", "kind", "code", "name", "parent_id", "path"];

fn unit_select() -> SelectStatement {
    Query::select().columns(UNIT_COLUMNS.map(|c| ("org_units", c))).from("org_units").to_owned()
}

fn unit_from_row(r: &Row) -> StoreResult<OrgUnit> {
    let kind = r.string(1)?;
    Ok(OrgUnit {
        id: r.string(0)?,
        kind: OrgKind::parse(&kind).ok_or_else(|| StoreError::Decode { column: 1, reason: format!("unknown kind {kind}") })?,
        code: r.string(2)?,
        name: r.string(3)?,
        parent_id: r.opt_string(4)?,
        path: r.string(5)?,
    })
}

fn units(conn: &mut dyn Conn, q: &SelectStatement) -> StoreResult<Vec<OrgUnit>> {
    conn.query(q)?.iter().map(unit_from_row).collect()
}

pub struct NewUnit<'a> {
    pub kind: OrgKind,
    pub code: &'a str,
    pub name: &'a str,
    pub parent: Option<&'a OrgUnit>,
    pub sort: i64,
}

pub fn insert_unit(conn: &mut dyn Conn, new: NewUnit<'_>) -> StoreResult<OrgUnit> {
    let id = new_id();
    let path = child_path(new.parent.map(|p| p.path.as_str()), &id);
    let now = now_ms();
    conn.execute(
        &Query::insert()
            .into_table("org_units")
            .columns(["id", "kind", "code", "name", "parent_id", "path", "sort", "created_at", "updated_at"])
            .values_panic([
                id.clone().into(),
                new.kind.as_str().into(),
                new.code.into(),
                new.name.into(),
                new.parent.map(|p| p.id.clone()).into(),
                path.clone().into(),
                new.sort.into(),
                now.into(),
                now.into(),
            ])
            .to_owned(),
    )?;
    Ok(OrgUnit {
        id,
        kind: new.kind,
        code: new.code.to_string(),
        name: new.name.to_string(),
        parent_id: new.parent.map(|p| p.id.clone()),
        path,
    })
}

pub fn rename_unit(conn: &mut dyn Conn, id: &str, name: &str) -> StoreResult<()> {
    conn.execute(
        &Query::update()
            .table("org_units")
            .values([("name", name.into()), ("updated_at", now_ms().into())])
            .and_where(Expr::col("id").eq(id))
            .to_owned(),
    )?;
    Ok(())
}

pub fn unit_by_code(conn: &mut dyn Conn, code: &str) -> StoreResult<Option<OrgUnit>> {
    units(conn, &unit_select().and_where(Expr::col(("org_units", "code")).eq(code)).to_owned()).map(|v| v.into_iter().next())
}

pub fn unit_by_id(conn: &mut dyn Conn, id: &str) -> StoreResult<Option<OrgUnit>> {
    units(conn, &unit_select().and_where(Expr::col(("org_units", "id")).eq(id)).to_owned()).map(|v| v.into_iter().next())
}

/// Units of the given kinds (all kinds when empty), optionally only below some subtrees.
pub fn list_units(conn: &mut dyn Conn, kinds: &[OrgKind], within: Option<&[&str]>) -> StoreResult<Vec<OrgUnit>> {
    let mut q = unit_select();
    if !kinds.is_empty() {
        q.and_where(Expr::col(("org_units", "kind")).is_in(kinds.iter().map(|k| k.as_str())));
    }
    if let Some(paths) = within {
        let mut any = sea_query::Condition::any();
        for p in paths {
            any = any.add(Expr::col(("org_units", "path")).like(format!("{}%", like_escape(p))));
        }
        q.cond_where(any);
    }
    q.order_by(("org_units", "sort"), Order::Asc).order_by(("org_units", "code"), Order::Asc);
    units(conn, &q)
}

pub fn children(conn: &mut dyn Conn, parent_id: &str) -> StoreResult<Vec<OrgUnit>> {
    units(
        conn,
        &unit_select()
            .and_where(Expr::col(("org_units", "parent_id")).eq(parent_id))
            .order_by(("org_units", "sort"), Order::Asc)
            .order_by(("org_units", "code"), Order::Asc)
            .to_owned(),
    )
}

/// Ids and paths never contain LIKE wildcards, but escape anyway so a path is only a prefix.
fn like_escape(s: &str) -> String {
    s.replace('%', "").replace('_', "\\_")
}

pub fn count_units(conn: &mut dyn Conn, kind: OrgKind) -> StoreResult<i64> {
    let row = conn.query_opt(
        &Query::select().expr(Expr::col("id").count()).from("org_units").and_where(Expr::col("kind").eq(kind.as_str())).to_owned(),
    )?;
    row.map(|r| r.i64(0)).transpose().map(|v| v.unwrap_or(0))
}

/// A grid as stored: its unit, its community and its shape (GeoJSON geometry text).
#[derive(Debug, Clone)]
pub struct GridRecord {
    pub unit: OrgUnit,
    pub community_id: String,
    pub geometry: String,
    pub area_m2: f64,
}

pub struct GridShape<'a> {
    pub geometry_json: &'a str,
    pub bbox: [f64; 4],
    pub area_m2: f64,
}

/// Creates the grid, or replaces the name, community and shape of the grid with that code.
pub fn upsert_grid(
    conn: &mut dyn Conn,
    code: &str,
    name: &str,
    community: &OrgUnit,
    shape: GridShape<'_>,
    sort: i64,
) -> StoreResult<OrgUnit> {
    let unit = match unit_by_code(conn, code)? {
        Some(existing) if existing.parent_id.as_deref() == Some(community.id.as_str()) => {
            rename_unit(conn, &existing.id, name)?;
            conn.execute(&Query::delete().from_table("grids").and_where(Expr::col("org_unit_id").eq(&existing.id)).to_owned())?;
            OrgUnit { name: name.to_string(), ..existing }
        }
        Some(existing) => {
            // Moved to another community: the path changes with the parent.
            let path = child_path(Some(&community.path), &existing.id);
            conn.execute(
                &Query::update()
                    .table("org_units")
                    .values([
                        ("name", name.into()),
                        ("parent_id", community.id.clone().into()),
                        ("path", path.clone().into()),
                        ("updated_at", now_ms().into()),
                    ])
                    .and_where(Expr::col("id").eq(&existing.id))
                    .to_owned(),
            )?;
            conn.execute(&Query::delete().from_table("grids").and_where(Expr::col("org_unit_id").eq(&existing.id)).to_owned())?;
            OrgUnit { name: name.to_string(), parent_id: Some(community.id.clone()), path, ..existing }
        }
        None => insert_unit(conn, NewUnit { kind: OrgKind::Grid, code, name, parent: Some(community), sort })?,
    };
    let [min_lon, min_lat, max_lon, max_lat] = shape.bbox;
    conn.execute(
        &Query::insert()
            .into_table("grids")
            .columns(["org_unit_id", "community_id", "geometry", "min_lon", "min_lat", "max_lon", "max_lat", "area_m2"])
            .values_panic([
                unit.id.clone().into(),
                community.id.clone().into(),
                shape.geometry_json.into(),
                min_lon.into(),
                min_lat.into(),
                max_lon.into(),
                max_lat.into(),
                shape.area_m2.into(),
            ])
            .to_owned(),
    )?;
    Ok(unit)
}

pub fn grids(conn: &mut dyn Conn, community_id: Option<&str>) -> StoreResult<Vec<GridRecord>> {
    let mut q = unit_select()
        .columns([("grids", "community_id"), ("grids", "geometry"), ("grids", "area_m2")])
        .inner_join("grids", Expr::col(("grids", "org_unit_id")).equals(("org_units", "id")))
        .order_by(("org_units", "code"), Order::Asc)
        .to_owned();
    if let Some(c) = community_id {
        q.and_where(Expr::col(("grids", "community_id")).eq(c));
    }
    conn.query(&q)?
        .iter()
        .map(|r| Ok(GridRecord { unit: unit_from_row(r)?, community_id: r.string(6)?, geometry: r.string(7)?, area_m2: r.f64(8)? }))
        .collect()
}

pub fn add_sponsorship(conn: &mut dyn Conn, sponsor_unit_id: &str, org_unit_id: &str) -> StoreResult<()> {
    conn.execute(
        &Query::insert()
            .into_table("sponsorships")
            .columns(["sponsor_unit_id", "org_unit_id", "created_at"])
            .values_panic([sponsor_unit_id.into(), org_unit_id.into(), now_ms().into()])
            .on_conflict(sea_query::OnConflict::columns(["sponsor_unit_id", "org_unit_id"]).do_nothing().to_owned())
            .to_owned(),
    )?;
    Ok(())
}

/// Every sponsorship: (unit sponsored, sponsor unit name).
pub fn sponsorships(conn: &mut dyn Conn) -> StoreResult<Vec<(String, String)>> {
    conn.query(
        &Query::select()
            .column(("sponsorships", "org_unit_id"))
            .column(("org_units", "name"))
            .from("sponsorships")
            .inner_join("org_units", Expr::col(("org_units", "id")).equals(("sponsorships", "sponsor_unit_id")))
            .order_by(("org_units", "code"), Order::Asc)
            .to_owned(),
    )?
    .iter()
    .map(|r| Ok((r.string(0)?, r.string(1)?)))
    .collect()
}
