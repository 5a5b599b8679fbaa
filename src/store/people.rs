//! People, their roles, login sessions and API tokens.

use sea_query::{Expr, ExprTrait, Order, Query};

use super::{Conn, StoreError, StoreResult, new_id, now_ms};
use crate::domain::authz::{Grant, Role};

pub struct NewPerson<'a> {
    pub name: &'a str,
    pub phone: Option<&'a str>,
    pub username: Option<&'a str>,
    pub password_hash: Option<&'a str>,
}

pub fn insert_person(conn: &mut dyn Conn, p: NewPerson<'_>) -> StoreResult<String> {
    let id = new_id();
    let now = now_ms();
    conn.execute(
        &Query::insert()
            .into_table("people")
            .columns(["id", "name", "phone", "username", "password_hash", "active", "created_at", "updated_at"])
            .values_panic([
                id.clone().into(),
                p.name.into(),
                p.phone.map(str::to_string).into(),
                p.username.map(str::to_string).into(),
                p.password_hash.map(str::to_string).into(),
                true.into(),
                now.into(),
                now.into(),
            ])
            .to_owned(),
    )?;
    Ok(id)
}

#[derive(Debug, Clone)]
pub struct Credentials {
    pub person_id: String,
    pub name: String,
    pub password_hash: Option<String>,
    pub active: bool,
}

pub fn credentials(conn: &mut dyn Conn, username: &str) -> StoreResult<Option<Credentials>> {
    let row = conn.query_opt(
        &Query::select()
            .columns(["id", "name", "password_hash", "active"])
            .from("people")
            .and_where(Expr::col("username").eq(username))
            .to_owned(),
    )?;
    row.map(|r| Ok(Credentials { person_id: r.string(0)?, name: r.string(1)?, password_hash: r.opt_string(2)?, active: r.bool(3)? }))
        .transpose()
}

pub fn set_password(conn: &mut dyn Conn, person_id: &str, hash: &str) -> StoreResult<bool> {
    let n = conn.execute(
        &Query::update()
            .table("people")
            .values([("password_hash", hash.into()), ("updated_at", now_ms().into())])
            .and_where(Expr::col("id").eq(person_id))
            .to_owned(),
    )?;
    Ok(n == 1)
}

pub fn set_username(conn: &mut dyn Conn, person_id: &str, username: &str) -> StoreResult<()> {
    conn.execute(
        &Query::update()
            .table("people")
            .values([("username", username.into()), ("updated_at", now_ms().into())])
            .and_where(Expr::col("id").eq(person_id))
            .to_owned(),
    )?;
    Ok(())
}

pub fn set_phone(conn: &mut dyn Conn, person_id: &str, phone: Option<&str>) -> StoreResult<()> {
    conn.execute(
        &Query::update()
            .table("people")
            .values([("phone", phone.map(str::to_string).into()), ("updated_at", now_ms().into())])
            .and_where(Expr::col("id").eq(person_id))
            .to_owned(),
    )?;
    Ok(())
}

pub fn assign_role(conn: &mut dyn Conn, person_id: &str, role: Role, org_unit_id: &str) -> StoreResult<()> {
    conn.execute(
        &Query::insert()
            .into_table("role_assignments")
            .columns(["person_id", "role", "org_unit_id", "created_at"])
            .values_panic([person_id.into(), role.as_str().into(), org_unit_id.into(), now_ms().into()])
            .on_conflict(sea_query::OnConflict::columns(["person_id", "role", "org_unit_id"]).do_nothing().to_owned())
            .to_owned(),
    )?;
    Ok(())
}

pub fn grants(conn: &mut dyn Conn, person_id: &str) -> StoreResult<Vec<Grant>> {
    conn.query(
        &Query::select()
            .column(("role_assignments", "role"))
            .column(("role_assignments", "org_unit_id"))
            .column(("org_units", "path"))
            .from("role_assignments")
            .inner_join("org_units", Expr::col(("org_units", "id")).equals(("role_assignments", "org_unit_id")))
            .and_where(Expr::col(("role_assignments", "person_id")).eq(person_id))
            .to_owned(),
    )?
    .iter()
    .map(|r| {
        let role = r.string(0)?;
        Ok(Grant {
            role: Role::parse(&role).ok_or_else(|| StoreError::Decode { column: 0, reason: format!("unknown role {role}") })?,
            org_unit_id: r.string(1)?,
            org_path: r.string(2)?,
        })
    })
    .collect()
}

/// A person with one of their roles, as listed on a unit's page.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Member {
    pub person_id: String,
    pub name: String,
    pub phone: Option<String>,
    pub username: Option<String>,
    pub role: Role,
    pub org_unit_id: String,
    pub org_unit_code: String,
    pub org_unit_name: String,
}

/// Role holders, optionally of one role and only inside the given subtrees.
pub fn members(conn: &mut dyn Conn, role: Option<Role>, within: Option<&[&str]>) -> StoreResult<Vec<Member>> {
    let mut q = Query::select()
        .column(("people", "id"))
        .column(("people", "name"))
        .column(("people", "phone"))
        .column(("people", "username"))
        .column(("role_assignments", "role"))
        .column(("org_units", "id"))
        .column(("org_units", "code"))
        .column(("org_units", "name"))
        .from("role_assignments")
        .inner_join("people", Expr::col(("people", "id")).equals(("role_assignments", "person_id")))
        .inner_join("org_units", Expr::col(("org_units", "id")).equals(("role_assignments", "org_unit_id")))
        .and_where(Expr::col(("people", "active")).eq(true))
        .order_by(("org_units", "code"), Order::Asc)
        .order_by(("people", "name"), Order::Asc)
        .to_owned();
    if let Some(role) = role {
        q.and_where(Expr::col(("role_assignments", "role")).eq(role.as_str()));
    }
    if let Some(paths) = within {
        let mut any = sea_query::Condition::any();
        for p in paths {
            any = any.add(Expr::col(("org_units", "path")).like(format!("{p}%")));
        }
        q.cond_where(any);
    }
    conn.query(&q)?
        .iter()
        .map(|r| {
            let role = r.string(4)?;
            Ok(Member {
                person_id: r.string(0)?,
                name: r.string(1)?,
                phone: r.opt_string(2)?,
                username: r.opt_string(3)?,
                role: Role::parse(&role).ok_or_else(|| StoreError::Decode { column: 4, reason: format!("unknown role {role}") })?,
                org_unit_id: r.string(5)?,
                org_unit_code: r.string(6)?,
                org_unit_name: r.string(7)?,
            })
        })
        .collect()
}

pub fn person_name(conn: &mut dyn Conn, person_id: &str) -> StoreResult<Option<String>> {
    let row = conn.query_opt(&Query::select().column("name").from("people").and_where(Expr::col("id").eq(person_id)).to_owned())?;
    row.map(|r| r.string(0)).transpose()
}

pub fn phone(conn: &mut dyn Conn, person_id: &str) -> StoreResult<Option<String>> {
    let row = conn.query_opt(&Query::select().column("phone").from("people").and_where(Expr::col("id").eq(person_id)).to_owned())?;
    Ok(row.map(|r| r.opt_string(0)).transpose()?.flatten())
}

pub fn count_people(conn: &mut dyn Conn) -> StoreResult<i64> {
    let row = conn.query_opt(&Query::select().expr(Expr::col("id").count()).from("people").to_owned())?;
    row.map(|r| r.i64(0)).transpose().map(|v| v.unwrap_or(0))
}

// ---- sessions ----

pub struct SessionRow {
    pub person_id: String,
    pub csrf_token: String,
    pub expires_at: i64,
}

pub fn create_session(conn: &mut dyn Conn, token_hash: &str, person_id: &str, csrf: &str, expires_at: i64) -> StoreResult<()> {
    conn.execute(
        &Query::insert()
            .into_table("sessions")
            .columns(["token_hash", "person_id", "csrf_token", "created_at", "expires_at"])
            .values_panic([token_hash.into(), person_id.into(), csrf.into(), now_ms().into(), expires_at.into()])
            .to_owned(),
    )?;
    Ok(())
}

pub fn session(conn: &mut dyn Conn, token_hash: &str) -> StoreResult<Option<SessionRow>> {
    let row = conn.query_opt(
        &Query::select()
            .columns(["person_id", "csrf_token", "expires_at"])
            .from("sessions")
            .and_where(Expr::col("token_hash").eq(token_hash))
            .to_owned(),
    )?;
    row.map(|r| Ok(SessionRow { person_id: r.string(0)?, csrf_token: r.string(1)?, expires_at: r.i64(2)? })).transpose()
}

pub fn delete_session(conn: &mut dyn Conn, token_hash: &str) -> StoreResult<()> {
    conn.execute(&Query::delete().from_table("sessions").and_where(Expr::col("token_hash").eq(token_hash)).to_owned())?;
    Ok(())
}

pub fn delete_expired_sessions(conn: &mut dyn Conn, now: i64) -> StoreResult<u64> {
    conn.execute(&Query::delete().from_table("sessions").and_where(Expr::col("expires_at").lt(now)).to_owned())
}

// ---- API tokens ----

pub fn create_api_token(conn: &mut dyn Conn, token_hash: &str, person_id: &str, name: &str) -> StoreResult<String> {
    let id = new_id();
    conn.execute(
        &Query::insert()
            .into_table("api_tokens")
            .columns(["id", "token_hash", "person_id", "name", "created_at"])
            .values_panic([id.clone().into(), token_hash.into(), person_id.into(), name.into(), now_ms().into()])
            .to_owned(),
    )?;
    Ok(id)
}

/// The person an unrevoked API token belongs to.
pub fn api_token_person(conn: &mut dyn Conn, token_hash: &str) -> StoreResult<Option<String>> {
    let row = conn.query_opt(
        &Query::select()
            .column("person_id")
            .from("api_tokens")
            .and_where(Expr::col("token_hash").eq(token_hash))
            .and_where(Expr::col("revoked_at").is_null())
            .to_owned(),
    )?;
    row.map(|r| r.string(0)).transpose()
}
