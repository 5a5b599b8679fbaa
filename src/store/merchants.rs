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

/// A shop as the monthly lists need it: its name and place, no person.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MonthShop {
    pub id: String,
    pub name: String,
    pub address: Option<String>,
    pub street: Option<String>,
    pub grid_id: String,
    pub community_id: String,
    #[serde(skip)]
    pub grid_path: String,
    #[serde(skip)]
    pub point_id: Option<String>,
}

crate::record!(MonthShop in "merchants" { id, name, address, street, grid_id, community_id, grid_path, point_id });

/// One frontage check as its point's month rows keep it.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckTally {
    /// YYYYMMDD.
    pub day: i64,
    pub point_id: String,
    /// The responsibilities (item codes) it failed.
    pub failed_items: Vec<String>,
    /// A photo of a failure, if one was taken.
    pub photo_id: Option<String>,
}

const MONTHS: &str = "frontage_months";
const MONTH_ITEMS: &str = "frontage_month_items";

/// Adds checks to their points' month rows — checks, failed checks, the latest photo of a
/// failure, failures per responsibility. Each frontage check's write calls it in the same
/// transaction; checks in the order they were made.
pub fn tally_checks(conn: &mut dyn Conn, checks: &[CheckTally]) -> StoreResult<()> {
    use std::collections::BTreeMap;
    let mut months: BTreeMap<(i64, &str), (i64, i64, Option<&str>)> = BTreeMap::new();
    let mut items: BTreeMap<(i64, &str, &str), i64> = BTreeMap::new();
    for c in checks {
        let month = c.day / 100;
        let e = months.entry((month, c.point_id.as_str())).or_default();
        e.0 += 1;
        e.1 += i64::from(!c.failed_items.is_empty());
        if let Some(p) = &c.photo_id {
            e.2 = Some(p.as_str());
        }
        for code in &c.failed_items {
            *items.entry((month, c.point_id.as_str(), code.as_str())).or_default() += 1;
        }
    }
    let rows: Vec<_> = months.into_iter().collect();
    for chunk in rows.chunks(500) {
        let mut q = Query::insert().into_table(MONTHS).columns(["month", "point_id", "checks", "failed", "photo_id"]).to_owned();
        for ((month, point), (checks, failed, photo)) in chunk {
            q.values_panic([(*month).into(), (*point).into(), (*checks).into(), (*failed).into(), photo.map(str::to_string).into()]);
        }
        let mut on = sea_query::OnConflict::columns([Alias::new("month"), Alias::new("point_id")]);
        for c in ["checks", "failed"] {
            on.value(c, Expr::col((Alias::new(MONTHS), Alias::new(c))).add(Expr::col(("excluded", c))));
        }
        on.value(
            "photo_id",
            sea_query::Func::coalesce([Expr::col(("excluded", "photo_id")), Expr::col((Alias::new(MONTHS), Alias::new("photo_id")))]),
        );
        q.on_conflict(on);
        conn.execute(&q)?;
    }
    let rows: Vec<_> = items.into_iter().collect();
    for chunk in rows.chunks(500) {
        let mut q = Query::insert().into_table(MONTH_ITEMS).columns(["month", "point_id", "item_code", "failures"]).to_owned();
        for ((month, point, code), n) in chunk {
            q.values_panic([(*month).into(), (*point).into(), (*code).into(), (*n).into()]);
        }
        let mut on = sea_query::OnConflict::columns([Alias::new("month"), Alias::new("point_id"), Alias::new("item_code")]);
        on.value("failures", Expr::col((Alias::new(MONTH_ITEMS), Alias::new("failures"))).add(Expr::col(("excluded", "failures"))));
        q.on_conflict(on);
        conn.execute(&q)?;
    }
    Ok(())
}

/// A shop's month as the lists read it: its tally and the latest photo of a failure.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShopMonth {
    pub tally: MonthTally,
    pub photo_id: Option<String>,
}

/// The month of the shops under `within` (a grid path prefix): those checked in the month
/// (from the kept month rows) with their checks, failed checks and failures not fixed by
/// their deadline (as of `now`), and the number of open shops there. With `every_open_shop`
/// the open shops not checked come too (with an empty tally), as publishing records them;
/// with `street` only the shops on it. The month's rows are read by their key and the area
/// is picked here (a prefix test is cheaper than a pattern the index cannot serve).
pub fn month_tallies(
    conn: &mut dyn Conn,
    within: &str,
    street: Option<&str>,
    month: i64,
    now: i64,
    every_open_shop: bool,
) -> StoreResult<(usize, Vec<(MonthShop, ShopMonth)>)> {
    let m = |c: &'static str| ("merchants", c);
    let f = |c: &'static str| (MONTHS, c);
    let wanted = |shop: &MonthShop| shop.grid_path.starts_with(within) && street.is_none_or(|s| shop.street.as_deref() == Some(s));
    let (from_day, to_day) = (month * 100 + 1, month * 100 + 31);
    // Failures not fixed in time, per point.
    let x = |c: &'static str| ("inspection_cases", c);
    let k = |c: &'static str| ("cases", c);
    let late = Expr::col(k("handling_deadline")).is_not_null().and(
        Expr::col(k("handled_at"))
            .is_null()
            .and(Expr::col(k("handling_deadline")).lt(now))
            .or(Expr::col(k("handled_at")).gt(Expr::col(k("handling_deadline")))),
    );
    let q = Query::select()
        .column(x("point_id"))
        .expr(Expr::col(k("id")).count_distinct())
        .from("inspection_cases")
        .inner_join("cases", Expr::col(k("id")).equals(x("case_id")))
        .and_where(Expr::col(x("day")).between(from_day, to_day))
        .and_where(late)
        .group_by_col(x("point_id"))
        .to_owned();
    let mut late: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    for r in conn.query(&q)? {
        late.insert(r.string(0)?, r.i64(1)? as u32);
    }
    // The shops checked in the month (closed since or not), one kept row each.
    let q = Query::select()
        .columns(MonthShop::COLUMNS.iter().map(|c| m(c)))
        .column(f("checks"))
        .column(f("failed"))
        .column(f("photo_id"))
        .from(MONTHS)
        .inner_join(MerchantRow::TABLE, Expr::col(m("point_id")).equals(f("point_id")))
        .and_where(Expr::col(f("month")).eq(month))
        .to_owned();
    let at = MonthShop::COLUMNS.len();
    let mut list = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for r in conn.query(&q)? {
        let row = MonthShop::decode(&r)?;
        if !wanted(&row) {
            continue;
        }
        let late = row.point_id.as_ref().and_then(|p| late.get(p)).copied().unwrap_or(0);
        let tally = MonthTally { checks: r.i64(at)? as u32, failed: r.i64(at + 1)? as u32, late };
        if every_open_shop {
            seen.insert(row.id.clone());
        }
        list.push((row, ShopMonth { tally, photo_id: r.opt_string(at + 2)? }));
    }
    let shops = if every_open_shop {
        let q = MonthShop::select().and_where(Expr::col(m("status")).eq(MerchantStatus::Open.as_str())).to_owned();
        let mut n = 0;
        for r in conn.query(&q)? {
            let row = MonthShop::decode(&r)?;
            if !wanted(&row) {
                continue;
            }
            n += 1;
            if !seen.contains(&row.id) {
                list.push((row, ShopMonth::default()));
            }
        }
        n
    } else {
        // Open shops per grid (and road), from the index alone; the area's summed here.
        let mut q = Query::select()
            .column(m("grid_path"))
            .expr(Expr::col(m("id")).count())
            .from(MerchantRow::TABLE)
            .and_where(Expr::col(m("status")).eq(MerchantStatus::Open.as_str()))
            .group_by_col(m("grid_path"))
            .to_owned();
        if let Some(s) = street {
            q.and_where(Expr::col(m("street")).eq(s));
        }
        let mut n = 0;
        for r in conn.query(&q)? {
            if r.string(0)?.starts_with(within) {
                n += r.i64(1)? as usize;
            }
        }
        n
    };
    Ok((shops, list))
}

/// The latest photo of a failure at a point in a month.
pub fn month_photo(conn: &mut dyn Conn, month: i64, point_id: &str) -> StoreResult<Option<String>> {
    let q = Query::select()
        .column("photo_id")
        .from(MONTHS)
        .and_where(Expr::col("month").eq(month))
        .and_where(Expr::col("point_id").eq(point_id))
        .to_owned();
    Ok(conn.query_opt(&q)?.map(|r| r.opt_string(0)).transpose()?.flatten())
}

/// A month's failures per point and responsibility (item code) — every point's, for the
/// caller to pick from.
pub fn month_failures(conn: &mut dyn Conn, month: i64) -> StoreResult<Vec<(String, String, i64)>> {
    let q =
        Query::select().columns(["point_id", "item_code", "failures"]).from(MONTH_ITEMS).and_where(Expr::col("month").eq(month)).to_owned();
    conn.query(&q)?.iter().map(|r| Ok((r.string(0)?, r.string(1)?, r.i64(2)?))).collect()
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

/// The shops of these ids, as the lists show them.
pub fn shops_by_ids(conn: &mut dyn Conn, ids: &[String]) -> StoreResult<Vec<MonthShop>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let rows = conn.query(&MonthShop::select().and_where(Expr::col("id").is_in(chunk.iter().map(String::as_str))).to_owned())?;
        for r in rows {
            out.push(MonthShop::decode(&r)?);
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
