//! Open311 API keys: stored hashed, revoked rather than deleted.

use sea_query::{Expr, ExprTrait, Order, Query};

use super::{Conn, StoreResult, new_id, now_ms};

#[derive(Debug, Clone, serde::Serialize)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

pub fn create(conn: &mut dyn Conn, name: &str, key_hash: &str) -> StoreResult<String> {
    let id = new_id();
    conn.execute(
        &Query::insert()
            .into_table("api_keys")
            .columns(["id", "name", "key_hash", "created_at"])
            .values_panic([id.clone().into(), name.into(), key_hash.into(), now_ms().into()])
            .to_owned(),
    )?;
    Ok(id)
}

pub fn list(conn: &mut dyn Conn) -> StoreResult<Vec<ApiKey>> {
    conn.query(
        &Query::select().columns(["id", "name", "created_at", "revoked_at"]).from("api_keys").order_by("created_at", Order::Asc).to_owned(),
    )?
    .iter()
    .map(|r| Ok(ApiKey { id: r.string(0)?, name: r.string(1)?, created_at: r.i64(2)?, revoked_at: r.opt_i64(3)? }))
    .collect()
}

/// The unrevoked key with this hash.
pub fn by_hash(conn: &mut dyn Conn, key_hash: &str) -> StoreResult<Option<ApiKey>> {
    conn.query_opt(
        &Query::select()
            .columns(["id", "name", "created_at", "revoked_at"])
            .from("api_keys")
            .and_where(Expr::col("key_hash").eq(key_hash))
            .and_where(Expr::col("revoked_at").is_null())
            .to_owned(),
    )?
    .map(|r| Ok(ApiKey { id: r.string(0)?, name: r.string(1)?, created_at: r.i64(2)?, revoked_at: r.opt_i64(3)? }))
    .transpose()
}

/// Revokes by id or name; returns how many keys were revoked.
pub fn revoke(conn: &mut dyn Conn, id_or_name: &str) -> StoreResult<u64> {
    conn.execute(
        &Query::update()
            .table("api_keys")
            .values([("revoked_at", now_ms().into())])
            .cond_where(sea_query::Condition::any().add(Expr::col("id").eq(id_or_name)).add(Expr::col("name").eq(id_or_name)))
            .and_where(Expr::col("revoked_at").is_null())
            .to_owned(),
    )
}
