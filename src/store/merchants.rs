//! Merchants (商户) under 门前五包.

use sea_query::{Alias, Condition, Expr, ExprTrait, Order, Query};

use super::record::Record;
use super::{Conn, StoreResult};
use crate::domain::merchant::{BusinessKind, MerchantStatus, MonthTally, Standing};

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MerchantRow {
    pub id: String,
    pub name: String,
    pub address: Option<String>,
    pub lat: f64,
    pub lon: f64,
    pub grid_id: String,
    pub community_id: String,
    #[serde(skip)]
    pub grid_path: String,
    pub street: Option<String>,
    pub frontage: Option<String>,
    pub contact: Option<String>,
    pub phone: Option<String>,
    pub kind: BusinessKind,
    pub licence: Option<String>,
    /// YYYYMMDD the pledge was signed.
    pub pledge_day: Option<i64>,
    pub pledge_by: Option<String>,
    pub status: MerchantStatus,
    pub created_at: i64,
    /// The inspection point frontage checks score (made at the first check).
    pub point_id: Option<String>,
    /// The unguessable token of the QR plate on the door.
    #[serde(skip)]
    pub door_token: String,
    /// The merchant's own account, once it has logged in.
    #[serde(skip)]
    pub account_id: Option<String>,
    /// Which login code is valid (a reissued pledge counts up).
    #[serde(skip)]
    pub code_serial: i64,
}

crate::record!(MerchantRow in "merchants" {
    id,
    name,
    address,
    lat,
    lon,
    grid_id,
    community_id,
    grid_path,
    street,
    frontage,
    contact,
    phone,
    kind,
    licence,
    pledge_day,
    pledge_by,
    status,
    created_at,
    point_id,
    door_token,
    account_id,
    code_serial,
});

pub fn insert_merchants(conn: &mut dyn Conn, rows: &[MerchantRow]) -> StoreResult<()> {
    for chunk in rows.chunks(500) {
        conn.insert_rows(MerchantRow::TABLE, MerchantRow::COLUMNS, chunk.iter().map(Record::values).collect())?;
    }
    Ok(())
}

pub fn merchant(conn: &mut dyn Conn, id: &str) -> StoreResult<Option<MerchantRow>> {
    conn.query_opt(&MerchantRow::select().and_where(Expr::col("id").eq(id)).to_owned())?.map(|r| MerchantRow::decode(&r)).transpose()
}

/// Licence numbers among `licences` that are already registered.
pub fn taken_licences(conn: &mut dyn Conn, licences: &[String]) -> StoreResult<Vec<String>> {
    let mut out = Vec::new();
    for chunk in licences.chunks(500) {
        let rows = conn.query(
            &Query::select()
                .column("licence")
                .from(MerchantRow::TABLE)
                .and_where(Expr::col("licence").is_in(chunk.iter().map(String::as_str)))
                .to_owned(),
        )?;
        for r in rows {
            out.push(r.string(0)?);
        }
    }
    Ok(out)
}

/// Merchants under `paths`, by name; `q` searches names and streets.
pub fn merchants(conn: &mut dyn Conn, paths: &[String], q: Option<&str>, limit: u64) -> StoreResult<Vec<MerchantRow>> {
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let mut any = Condition::any();
    for p in paths {
        any = any.add(Expr::col("grid_path").like(format!("{p}%")));
    }
    let mut s = MerchantRow::select().cond_where(any).to_owned();
    if let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) {
        let like = format!("%{}%", q.replace(['%', '_', '\\'], ""));
        s.cond_where(Condition::any().add(Expr::col("name").like(like.clone())).add(Expr::col("street").like(like)));
    }
    s.order_by("name", Order::Asc).limit(limit);
    conn.query(&s)?.iter().map(MerchantRow::decode).collect()
}

/// A new door token: 16 random bytes, URL-safe.
pub fn new_door_token() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn one(conn: &mut dyn Conn, column: &'static str, value: &str) -> StoreResult<Option<MerchantRow>> {
    conn.query_opt(&MerchantRow::select().and_where(Expr::col(column).eq(value)).limit(1).to_owned())?
        .map(|r| MerchantRow::decode(&r))
        .transpose()
}

/// The merchant behind a door token.
pub fn by_door_token(conn: &mut dyn Conn, token: &str) -> StoreResult<Option<MerchantRow>> {
    one(conn, "door_token", token)
}

/// The merchant whose inspection point `point_id` is.
pub fn by_point(conn: &mut dyn Conn, point_id: &str) -> StoreResult<Option<MerchantRow>> {
    one(conn, "point_id", point_id)
}

/// The merchant a person's account belongs to.
pub fn by_account(conn: &mut dyn Conn, person_id: &str) -> StoreResult<Option<MerchantRow>> {
    one(conn, "account_id", person_id)
}

/// Merchants registered with this phone number.
pub fn by_phone(conn: &mut dyn Conn, phone: &str) -> StoreResult<Vec<MerchantRow>> {
    conn.query(&MerchantRow::select().and_where(Expr::col("phone").eq(phone)).limit(50).to_owned())?
        .iter()
        .map(MerchantRow::decode)
        .collect()
}

/// Open merchants under `paths` within the box `lat ± d`, `lon ± d` (the caller sorts by
/// distance), at most `limit`.
pub fn near(conn: &mut dyn Conn, paths: &[String], lat: f64, lon: f64, d: f64, limit: u64) -> StoreResult<Vec<MerchantRow>> {
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let mut any = Condition::any();
    for p in paths {
        any = any.add(Expr::col("grid_path").like(format!("{p}%")));
    }
    let s = MerchantRow::select()
        .and_where(Expr::col("lat").between(lat - d, lat + d))
        .and_where(Expr::col("lon").between(lon - d, lon + d))
        .and_where(Expr::col("status").eq(MerchantStatus::Open.as_str()))
        .cond_where(any)
        .limit(limit)
        .to_owned();
    conn.query(&s)?.iter().map(MerchantRow::decode).collect()
}

fn set(conn: &mut dyn Conn, id: &str, column: &str, value: sea_query::Value) -> StoreResult<()> {
    conn.execute(&Query::update().table(MerchantRow::TABLE).value(Alias::new(column), value).and_where(Expr::col("id").eq(id)).to_owned())?;
    Ok(())
}

pub fn set_point(conn: &mut dyn Conn, id: &str, point_id: &str) -> StoreResult<()> {
    set(conn, id, "point_id", point_id.into())
}

pub fn set_account(conn: &mut dyn Conn, id: &str, person_id: &str) -> StoreResult<()> {
    set(conn, id, "account_id", person_id.into())
}

pub fn set_status(conn: &mut dyn Conn, id: &str, status: MerchantStatus) -> StoreResult<()> {
    set(conn, id, "status", status.as_str().into())
}

pub fn set_code_serial(conn: &mut dyn Conn, id: &str, serial: i64) -> StoreResult<()> {
    set(conn, id, "code_serial", serial.into())
}

/// Each merchant's month over `[from_day, to_day]` (YYYYMMDD) under `within`: checks, checks
/// that failed an item, and failures whose case was not handled by its handling deadline
/// (still unhandled past it at `now`, or handled after it).
pub fn month_tallies(
    conn: &mut dyn Conn,
    within: &str,
    from_day: i64,
    to_day: i64,
    now: i64,
) -> StoreResult<Vec<(MerchantRow, MonthTally)>> {
    let m = |c: &'static str| ("merchants", c);
    let i = |c: &'static str| ("inspections", c);
    let like = format!("{within}%");
    let mut out: std::collections::HashMap<String, MonthTally> = std::collections::HashMap::new();
    // Checks, and those that failed.
    for failed_only in [false, true] {
        let mut q = Query::select()
            .column(m("id"))
            .expr(Expr::col(i("id")).count())
            .from("inspections")
            .inner_join(MerchantRow::TABLE, Expr::col(m("point_id")).equals(i("point_id")))
            .and_where(Expr::col(i("day")).between(from_day, to_day))
            .and_where(Expr::col(m("grid_path")).like(like.clone()))
            .group_by_col(m("id"))
            .to_owned();
        if failed_only {
            q.and_where(Expr::col(i("failed_items")).gt(0));
        }
        for r in conn.query(&q)? {
            let e = out.entry(r.string(0)?).or_default();
            let n = r.i64(1)? as u32;
            if failed_only {
                e.failed = n;
            } else {
                e.checks = n;
            }
        }
    }
    // Failures not fixed in time.
    let x = |c: &'static str| ("inspection_cases", c);
    let k = |c: &'static str| ("cases", c);
    let late = Expr::col(k("handling_deadline")).is_not_null().and(
        Expr::col(k("handled_at"))
            .is_null()
            .and(Expr::col(k("handling_deadline")).lt(now))
            .or(Expr::col(k("handled_at")).gt(Expr::col(k("handling_deadline")))),
    );
    let q = Query::select()
        .column(m("id"))
        .expr(Expr::col(k("id")).count_distinct())
        .from("inspection_cases")
        .inner_join(MerchantRow::TABLE, Expr::col(m("point_id")).equals(x("point_id")))
        .inner_join("cases", Expr::col(k("id")).equals(x("case_id")))
        .and_where(Expr::col(x("day")).between(from_day, to_day))
        .and_where(Expr::col(m("grid_path")).like(like.clone()))
        .and_where(late)
        .group_by_col(m("id"))
        .to_owned();
    for r in conn.query(&q)? {
        out.entry(r.string(0)?).or_default().late = r.i64(1)? as u32;
    }
    // Every open merchant of the area, checked or not (a shop never checked is on neither list).
    let rows = conn.query(
        &MerchantRow::select()
            .and_where(Expr::col("grid_path").like(like))
            .and_where(Expr::col("status").eq(MerchantStatus::Open.as_str()))
            .to_owned(),
    )?;
    let mut list = Vec::with_capacity(rows.len());
    for r in rows {
        let row = MerchantRow::decode(&r)?;
        let t = out.remove(&row.id).unwrap_or_default();
        list.push((row, t));
    }
    // Shops closed since but checked in the month still count.
    if !out.is_empty() {
        let ids: Vec<String> = out.keys().cloned().collect();
        for chunk in ids.chunks(500) {
            for r in conn.query(&MerchantRow::select().and_where(Expr::col("id").is_in(chunk.iter().map(String::as_str))).to_owned())? {
                let row = MerchantRow::decode(&r)?;
                let t = out.get(&row.id).copied().unwrap_or_default();
                list.push((row, t));
            }
        }
    }
    Ok(list)
}

/// A month's published place of one merchant.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StandingRow {
    pub month: i64,
    pub merchant_id: String,
    pub standing: Standing,
    pub checks: i64,
    pub failed: i64,
    pub late: i64,
    pub community_id: String,
    #[serde(skip)]
    pub grid_path: String,
    pub street: Option<String>,
    pub published_at: i64,
}

crate::record!(StandingRow in "merchant_standings" {
    month,
    merchant_id,
    standing,
    checks,
    failed,
    late,
    community_id,
    grid_path,
    street,
    published_at,
});

/// Publishes a month under `within`: its rows replace whatever was published for it there.
pub fn publish_standings(conn: &mut dyn Conn, month: i64, within: &str, rows: &[StandingRow]) -> StoreResult<()> {
    conn.execute(
        &Query::delete()
            .from_table(StandingRow::TABLE)
            .and_where(Expr::col("month").eq(month))
            .and_where(Expr::col("grid_path").like(format!("{within}%")))
            .to_owned(),
    )?;
    for chunk in rows.chunks(500) {
        conn.insert_rows(StandingRow::TABLE, StandingRow::COLUMNS, chunk.iter().map(Record::values).collect())?;
    }
    Ok(())
}

/// A published month's red and black rows under `within` (neither-rows are not read).
pub fn standings(conn: &mut dyn Conn, month: i64, within: &str) -> StoreResult<Vec<StandingRow>> {
    conn.query(
        &StandingRow::select()
            .and_where(Expr::col("month").eq(month))
            .and_where(Expr::col("standing").is_in([Standing::Red.as_str(), Standing::Black.as_str()]))
            .and_where(Expr::col("grid_path").like(format!("{within}%")))
            .to_owned(),
    )?
    .iter()
    .map(StandingRow::decode)
    .collect()
}

/// The months published, newest first.
pub fn published_months(conn: &mut dyn Conn, limit: u64) -> StoreResult<Vec<i64>> {
    let rows = conn.query(
        &Query::select().distinct().column("month").from(StandingRow::TABLE).order_by("month", Order::Desc).limit(limit).to_owned(),
    )?;
    rows.iter().map(|r| r.i64(0)).collect()
}

/// One merchant's published months, newest first.
pub fn history(conn: &mut dyn Conn, merchant_id: &str, limit: u64) -> StoreResult<Vec<StandingRow>> {
    conn.query(
        &StandingRow::select().and_where(Expr::col("merchant_id").eq(merchant_id)).order_by("month", Order::Desc).limit(limit).to_owned(),
    )?
    .iter()
    .map(StandingRow::decode)
    .collect()
}

/// The standing of many merchants in the months given (for the referral check).
pub fn standings_of(conn: &mut dyn Conn, merchant_ids: &[String], months: &[i64]) -> StoreResult<Vec<(String, i64, Standing)>> {
    let mut out = Vec::new();
    for chunk in merchant_ids.chunks(500) {
        let rows = conn.query(
            &Query::select()
                .columns(["merchant_id", "month", "standing"])
                .from(StandingRow::TABLE)
                .and_where(Expr::col("merchant_id").is_in(chunk.iter().map(String::as_str)))
                .and_where(Expr::col("month").is_in(months.iter().copied()))
                .to_owned(),
        )?;
        for r in rows {
            let s = Standing::parse(&r.string(2)?).unwrap_or(Standing::Neither);
            out.push((r.string(0)?, r.i64(1)?, s));
        }
    }
    Ok(out)
}

/// A failed item of a check at one of `point_ids` over `[from_day, to_day]`, with a photo of
/// it when one was taken: (point id, item code, photo id).
pub fn failures(
    conn: &mut dyn Conn,
    point_ids: &[String],
    from_day: i64,
    to_day: i64,
) -> StoreResult<Vec<(String, String, Option<String>)>> {
    let mut out = Vec::new();
    for chunk in point_ids.chunks(300) {
        let q = Query::select()
            .column(("inspections", "point_id"))
            .column(("inspection_items", "item_code"))
            .column(("attachments", "photo_id"))
            .from("inspections")
            .inner_join("inspection_items", Expr::col(("inspection_items", "inspection_id")).equals(("inspections", "id")))
            .left_join(
                "attachments",
                Expr::col(("attachments", "owner_id"))
                    .equals(("inspection_items", "id"))
                    .and(Expr::col(("attachments", "owner_kind")).eq(crate::domain::photo::AttachmentOwner::InspectionItem.as_str())),
            )
            .and_where(Expr::col(("inspections", "point_id")).is_in(chunk.iter().map(String::as_str)))
            .and_where(Expr::col(("inspections", "day")).between(from_day, to_day))
            .and_where(Expr::col(("inspection_items", "failed")).eq(true))
            .order_by(("inspections", "at"), Order::Desc)
            .to_owned();
        for r in conn.query(&q)? {
            out.push((r.string(0)?, r.string(1)?, r.opt_string(2)?));
        }
    }
    Ok(out)
}

/// The merchants of these ids.
pub fn merchants_by_ids(conn: &mut dyn Conn, ids: &[String]) -> StoreResult<Vec<MerchantRow>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let rows = conn.query(&MerchantRow::select().and_where(Expr::col("id").is_in(chunk.iter().map(String::as_str))).to_owned())?;
        for r in rows {
            out.push(MerchantRow::decode(&r)?);
        }
    }
    Ok(out)
}

/// The cases failures at a point opened or added to, newest first.
pub fn cases_of_point(conn: &mut dyn Conn, point_id: &str, limit: u64) -> StoreResult<Vec<String>> {
    let rows = conn.query(
        &Query::select()
            .column("case_id")
            .expr(Expr::col("day").max())
            .from("inspection_cases")
            .and_where(Expr::col("point_id").eq(point_id))
            .group_by_col("case_id")
            .order_by_expr(Expr::col("day").max(), Order::Desc)
            .limit(limit)
            .to_owned(),
    )?;
    rows.iter().map(|r| r.string(0)).collect()
}

/// Gives shops their frontage points in one go (the load generator): (merchant id, point).
pub fn attach_points(conn: &mut dyn Conn, points: &[(String, super::inspections::PointRow)]) -> StoreResult<()> {
    let rows: Vec<_> = points.iter().map(|(_, p)| p.values()).collect();
    conn.insert_rows(super::inspections::PointRow::TABLE, super::inspections::PointRow::COLUMNS, rows)?;
    for (m, p) in points {
        set_point(conn, m, &p.id)?;
    }
    Ok(())
}
