//! Photos and what they are attached to. A photo's bytes live in the blob store; its record
//! here, and one attachment row per owner it belongs to (a case, and soon an inspection
//! item, an info report, a merchant, an activity), with whether it may be shown publicly.

use sea_query::{Expr, ExprTrait, OnConflict};

use super::record::Record;
use super::{Conn, StoreResult, now_ms};
use crate::domain::photo::AttachmentOwner;

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

crate::record!(PhotoRecord in "photos" { id, sha256, thumb_sha256, mime, bytes, width, height, taken_at, lat, lon, uploaded_by });

pub fn insert_photo(conn: &mut dyn Conn, p: &PhotoRecord) -> StoreResult<()> {
    conn.execute(&p.insert_created(now_ms()))?;
    Ok(())
}

pub fn photos(conn: &mut dyn Conn, ids: &[String]) -> StoreResult<Vec<PhotoRecord>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = conn.query(&PhotoRecord::select().and_where(Expr::col("id").is_in(ids.iter().map(String::as_str))).to_owned())?;
    let mut found: Vec<PhotoRecord> = rows.iter().map(PhotoRecord::decode).collect::<StoreResult<_>>()?;
    // Keep the order the caller gave.
    found.sort_by_key(|p| ids.iter().position(|i| *i == p.id));
    Ok(found)
}

/// One photo attached to one owner.
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub photo_id: String,
    pub owner_kind: AttachmentOwner,
    pub owner_id: String,
    /// The person who gave it allowed it to be shown to the public (Open311 `media_url`).
    pub public: bool,
}

crate::record!(Attachment in "attachments" { photo_id, owner_kind, owner_id, public });

/// Attaches photos to an owner; attaching one twice keeps one row (the first say on
/// `public` stands).
pub fn attach(conn: &mut dyn Conn, owner_kind: AttachmentOwner, owner_id: &str, photo_ids: &[String], public: bool) -> StoreResult<()> {
    for photo_id in photo_ids {
        let a = Attachment { photo_id: photo_id.clone(), owner_kind, owner_id: owner_id.to_string(), public };
        let insert = a
            .insert_created(now_ms())
            .on_conflict(OnConflict::columns(["owner_kind", "owner_id", "photo_id"]).do_nothing().to_owned())
            .to_owned();
        conn.execute(&insert)?;
    }
    Ok(())
}

/// Everything a photo is attached to.
pub fn attachments_of(conn: &mut dyn Conn, photo_id: &str) -> StoreResult<Vec<Attachment>> {
    conn.query(&Attachment::select().and_where(Expr::col("photo_id").eq(photo_id)).to_owned())?.iter().map(Attachment::decode).collect()
}

/// The photos attached to an owner, oldest first; with `public_only`, only those that may
/// be shown publicly.
pub fn attached(conn: &mut dyn Conn, owner_kind: AttachmentOwner, owner_id: &str, public_only: bool) -> StoreResult<Vec<String>> {
    let mut q = sea_query::Query::select()
        .column("photo_id")
        .from(Attachment::TABLE)
        .and_where(Expr::col("owner_kind").eq(owner_kind.as_str()))
        .and_where(Expr::col("owner_id").eq(owner_id))
        .order_by("created_at", sea_query::Order::Asc)
        .to_owned();
    if public_only {
        q.and_where(Expr::col("public").eq(true));
    }
    conn.query(&q)?.iter().map(|r| r.string(0)).collect()
}
