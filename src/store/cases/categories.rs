//! Problem categories (问题类别), one row each.

use sea_query::{Expr, ExprTrait, Order};

use crate::domain::category::Category;
use crate::store::record::Record;
use crate::store::{Conn, StoreResult};

crate::record!(Category in "categories" {
    code,
    name,
    class_code,
    class_name,
    tier,
    department => "department_code",
    response_minutes,
    handling_minutes,
    citizen,
    active,
    attributes: json,
});

pub fn categories(conn: &mut dyn Conn) -> StoreResult<Vec<Category>> {
    conn.query(&Category::select().order_by("code", Order::Asc).to_owned())?.iter().map(Category::decode).collect()
}

pub fn category(conn: &mut dyn Conn, code: &str) -> StoreResult<Option<Category>> {
    conn.query_opt(&Category::select().and_where(Expr::col("code").eq(code)).to_owned())?.map(|r| Category::decode(&r)).transpose()
}

pub fn upsert_category(conn: &mut dyn Conn, c: &Category) -> StoreResult<()> {
    conn.execute(&c.upsert("code"))?;
    Ok(())
}
