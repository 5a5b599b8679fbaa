//! Photo records; the bytes themselves live in the blob store.

use sea_query::{Expr, ExprTrait, Query};

use super::{Conn, Row, StoreResult, now_ms};

#[derive(Debug, Clone, serde::Serialize)]
pub struct PhotoRecord {
    pub id: String,
    #[serde(skip)]
    pub sha256: String,
    #[serde(skip)]
    pub thumb_sha256: String,
    pub mime: String,
    pub bytes: i64,
    pub width: i64,
    pub height: i64,
    pub taken_at: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    #[serde(skip)]
    pub uploaded_by: Option<String>,
}

const COLUMNS: [&str; 11] = ["id", "sha256", "thumb_sha256", "mime", "bytes", "width", "height", "taken_at", "lat", "lon", "uploaded_by"];

fn from_row(r: &Row) -> StoreResult<PhotoRecord> {
    Ok(PhotoRecord {
        id: r.string(0)?,
        sha256: r.string(1)?,
        thumb_sha256: r.string(2)?,
        mime: r.string(3)?,
        bytes: r.i64(4)?,
        width: r.i64(5)?,
        height: r.i64(6)?,
        taken_at: r.opt_string(7)?,
        lat: r.opt_f64(8)?,
        lon: r.opt_f64(9)?,
        uploaded_by: r.opt_string(10)?,
    })
}

pub fn insert_photo(conn: &mut dyn Conn, p: &PhotoRecord) -> StoreResult<()> {
    conn.execute(
        &Query::insert()
            .into_table("photos")
            .columns(COLUMNS.iter().copied().chain(["created_at"]))
            .values_panic([
                p.id.clone().into(),
                p.sha256.clone().into(),
                p.thumb_sha256.clone().into(),
                p.mime.clone().into(),
                p.bytes.into(),
                p.width.into(),
                p.height.into(),
                p.taken_at.clone().into(),
                p.lat.into(),
                p.lon.into(),
                p.uploaded_by.clone().into(),
                now_ms().into(),
            ])
            .to_owned(),
    )?;
    Ok(())
}

pub fn photos(conn: &mut dyn Conn, ids: &[String]) -> StoreResult<Vec<PhotoRecord>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = conn.query(
        &Query::select().columns(COLUMNS).from("photos").and_where(Expr::col("id").is_in(ids.iter().map(String::as_str))).to_owned(),
    )?;
    let mut found: Vec<PhotoRecord> = rows.iter().map(from_row).collect::<StoreResult<_>>()?;
    // Keep the order the caller gave.
    found.sort_by_key(|p| ids.iter().position(|i| *i == p.id));
    Ok(found)
}
