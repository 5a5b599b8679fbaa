//! Merchants (商户) under 门前五包.

use sea_query::{Condition, Expr, ExprTrait, Order, Query};

use super::record::Record;
use super::{Conn, StoreResult};
use crate::domain::merchant::{BusinessKind, MerchantStatus};

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
