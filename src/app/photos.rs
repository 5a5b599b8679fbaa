//! Photos: upload (type checked by content, size-limited), thumbnail, EXIF, and reading back.

use std::io::Cursor;

use serde::Serialize;

use super::App;
use crate::domain::authz::Actor;
use crate::domain::photo::{MAX_PHOTO_BYTES, PhotoExif, PhotoKind, read_exif, sniff};
use crate::error::{AppError, AppResult};
use crate::store::new_id;
use crate::store::photos::{self as db, PhotoRecord};

const THUMB_PX: u32 = 320;

#[derive(Debug, Clone, Serialize)]
pub struct PhotoView {
    #[serde(flatten)]
    pub record: PhotoRecord,
    pub url: String,
    pub thumb_url: String,
}

impl From<PhotoRecord> for PhotoView {
    fn from(record: PhotoRecord) -> Self {
        PhotoView { url: format!("/api/v1/photos/{}", record.id), thumb_url: format!("/api/v1/photos/{}/thumb", record.id), record }
    }
}

pub struct Processed {
    pub width: u32,
    pub height: u32,
    pub thumb: Vec<u8>,
    pub exif: PhotoExif,
}

/// Decodes a photo of a sniffed kind, makes its thumbnail and reads its EXIF.
pub fn process(bytes: &[u8], kind: PhotoKind) -> AppResult<Processed> {
    let format = match kind {
        PhotoKind::Jpeg => image::ImageFormat::Jpeg,
        PhotoKind::Png => image::ImageFormat::Png,
        PhotoKind::Webp => image::ImageFormat::WebP,
    };
    let img = image::load_from_memory_with_format(bytes, format).map_err(|_| AppError::Invalid("photo"))?;
    let thumb = img.thumbnail(THUMB_PX, THUMB_PX).to_rgb8();
    let mut out = Cursor::new(Vec::new());
    thumb.write_to(&mut out, image::ImageFormat::Jpeg).map_err(|e| AppError::Internal(format!("thumbnail: {e}")))?;
    Ok(Processed { width: img.width(), height: img.height(), thumb: out.into_inner(), exif: read_exif(bytes) })
}

impl App {
    pub async fn upload_photo(&self, actor: Option<&Actor>, bytes: Vec<u8>) -> AppResult<PhotoView> {
        if bytes.len() > MAX_PHOTO_BYTES {
            return Err(AppError::TooLarge);
        }
        let kind = sniff(&bytes).ok_or(AppError::Invalid("photo_type"))?;
        let blobs = self.blobs().clone();
        let uploaded_by = actor.map(|a| a.person_id.clone());
        let record = tokio::task::spawn_blocking(move || -> AppResult<PhotoRecord> {
            let p = process(&bytes, kind)?;
            Ok(PhotoRecord {
                id: new_id(),
                sha256: blobs.put(&bytes)?,
                thumb_sha256: blobs.put(&p.thumb)?,
                mime: kind.mime().to_string(),
                bytes: bytes.len() as i64,
                width: p.width as i64,
                height: p.height as i64,
                taken_at: p.exif.taken_at,
                lat: p.exif.lat,
                lon: p.exif.lon,
                uploaded_by,
            })
        })
        .await
        .map_err(|_| AppError::Internal("photo processing failed".into()))??;
        let stored = record.clone();
        self.store().write(move |c| db::insert_photo(c, &stored)).await?;
        Ok(record.into())
    }

    /// The photo's bytes (or its thumbnail) and type.
    pub async fn photo_bytes(&self, id: &str, thumb: bool) -> AppResult<(String, Vec<u8>)> {
        let ids = vec![id.to_string()];
        let record = self.store().read(move |c| db::photos(c, &ids)).await?.pop().ok_or(AppError::NotFound("photo"))?;
        let (sha, mime) = if thumb { (record.thumb_sha256, "image/jpeg".to_string()) } else { (record.sha256, record.mime) };
        let blobs = self.blobs().clone();
        let bytes =
            tokio::task::spawn_blocking(move || blobs.get(&sha)).await.map_err(|_| AppError::Internal("photo read failed".into()))??;
        Ok((mime, bytes))
    }

    /// Checks that every id names a stored photo.
    pub async fn check_photos(&self, ids: &[String]) -> AppResult<()> {
        if ids.len() > 10 {
            return Err(AppError::Invalid("photo"));
        }
        if ids.is_empty() {
            return Ok(());
        }
        let wanted = ids.to_vec();
        let found = self.store().read(move |c| db::photos(c, &wanted)).await?;
        if found.len() != ids.len() {
            return Err(AppError::Invalid("photo"));
        }
        Ok(())
    }

    pub async fn photo_views(&self, ids: Vec<String>) -> AppResult<Vec<PhotoView>> {
        Ok(self.store().read(move |c| db::photos(c, &ids)).await?.into_iter().map(PhotoView::from).collect())
    }
}
