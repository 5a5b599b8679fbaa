//! Attachments: photos uploaded (type checked by content, size-limited, with a thumbnail
//! and their EXIF), attached to owners, and the one rule for who may see a photo:
//!
//! * the person who uploaded it (before it is attached anywhere);
//! * anyone who may read one of its owners (a case: `cases::can_read`);
//! * the public, only a photo marked public on an owner the public may see (a case of a
//!   category citizens report); an inspection's photos are never public.

use std::io::Cursor;

use serde::Serialize;

use super::App;
use crate::domain::authz::Actor;
use crate::domain::authz::Permission;
use crate::domain::photo::AttachmentOwner;
use crate::domain::photo::{MAX_PHOTO_BYTES, PhotoExif, PhotoKind, read_exif, sniff};
use crate::error::{AppError, AppResult, Invalid, Thing};
use crate::store::attachments::{self as db, Attachment, PhotoRecord};
use crate::store::{cases, inspections, new_id, org};

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
    let img = image::load_from_memory_with_format(bytes, format).map_err(|_| AppError::Invalid(Invalid::Photo))?;
    let thumb = img.thumbnail(THUMB_PX, THUMB_PX).to_rgb8();
    let mut out = Cursor::new(Vec::new());
    thumb.write_to(&mut out, image::ImageFormat::Jpeg).map_err(|e| AppError::Internal(format!("thumbnail: {e}")))?;
    Ok(Processed { width: img.width(), height: img.height(), thumb: out.into_inner(), exif: read_exif(bytes) })
}

impl App {
    /// Stores an uploaded photo (`actor`: who uploaded it; `None` without an account).
    pub async fn upload_photo(&self, actor: Option<&Actor>, bytes: Vec<u8>) -> AppResult<PhotoView> {
        if bytes.len() > MAX_PHOTO_BYTES {
            return Err(AppError::TooLarge);
        }
        let kind = sniff(&bytes).ok_or(AppError::Invalid(Invalid::PhotoType))?;
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

    /// The photo's bytes (or its thumbnail) and type, if `viewer` may see it (`None`: the
    /// public). A photo the viewer may not see is not found, like one that does not exist.
    pub async fn photo_bytes(&self, viewer: Option<&Actor>, id: &str, thumb: bool) -> AppResult<(String, Vec<u8>)> {
        let (ids, photo_id) = (vec![id.to_string()], id.to_string());
        let (record, owners) = self
            .store()
            .read(move |c| {
                let record = db::photos(c, &ids)?.pop();
                let owners = if record.is_some() { db::attachments_of(c, &photo_id)? } else { Vec::new() };
                Ok::<_, AppError>((record, owners))
            })
            .await?;
        let record = record.ok_or(AppError::NotFound(Thing::Photo))?;
        if !self.may_see_photo(viewer, &record, &owners).await? {
            return Err(AppError::NotFound(Thing::Photo));
        }
        let (sha, mime) = if thumb { (record.thumb_sha256, "image/jpeg".to_string()) } else { (record.sha256, record.mime) };
        let blobs = self.blobs().clone();
        let bytes =
            tokio::task::spawn_blocking(move || blobs.get(&sha)).await.map_err(|_| AppError::Internal("photo read failed".into()))??;
        Ok((mime, bytes))
    }

    /// Checks that every id names a stored photo that `actor` uploaded (`None`: uploaded
    /// without an account): nobody attaches, and so publishes, someone else's photo.
    pub async fn check_photos(&self, actor: Option<&Actor>, ids: &[String]) -> AppResult<()> {
        if ids.len() > 10 {
            return Err(AppError::Invalid(Invalid::Photo));
        }
        if ids.is_empty() {
            return Ok(());
        }
        let wanted = ids.to_vec();
        let found = self.store().read(move |c| db::photos(c, &wanted)).await?;
        let uploader = actor.filter(|a| !a.is_system()).map(|a| a.person_id.as_str());
        let system = actor.is_some_and(Actor::is_system);
        if found.len() != ids.len() || found.iter().any(|p| !system && p.uploaded_by.as_deref() != uploader) {
            return Err(AppError::Invalid(Invalid::Photo));
        }
        Ok(())
    }

    /// The one rule for who may see a photo (see the module documentation).
    async fn may_see_photo(&self, viewer: Option<&Actor>, photo: &PhotoRecord, owners: &[Attachment]) -> AppResult<bool> {
        if let Some(a) = viewer
            && a.is_person()
            && photo.uploaded_by.as_deref() == Some(a.person_id.as_str())
        {
            return Ok(true);
        }
        for owner in owners {
            if viewer.is_none() && !owner.public {
                continue;
            }
            if self.owner_visible(viewer, owner.owner_kind, &owner.owner_id).await? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// May `viewer` (`None`: the public) see this owner of attachments?
    async fn owner_visible(&self, viewer: Option<&Actor>, kind: AttachmentOwner, id: &str) -> AppResult<bool> {
        match kind {
            AttachmentOwner::Case => {
                let id = id.to_string();
                let found = self
                    .store()
                    .read(move |c| {
                        let Some(record) = cases::case_by_id(c, &id)? else { return Ok::<_, AppError>(None) };
                        let assignee = record.state.assignee_unit_id.as_deref().map(|a| org::unit_by_id(c, a)).transpose()?.flatten();
                        let citizen = cases::category(c, &record.details.category_code)?.is_some_and(|cat| cat.citizen);
                        Ok(Some((record, assignee, citizen)))
                    })
                    .await?;
                Ok(match (found, viewer) {
                    (None, _) => false,
                    (Some((_, _, citizen)), None) => citizen,
                    (Some((record, assignee, _)), Some(a)) => super::cases::can_read(a, &record, assignee.as_ref()),
                })
            }
            // An inspection's photos: its inspector and whoever may read inspections where
            // the point is; never the public.
            AttachmentOwner::InspectionItem => {
                let Some(viewer) = viewer.cloned() else { return Ok(false) };
                let id = id.to_string();
                self.store()
                    .read(move |c| {
                        let Some(inspection) = inspections::inspection_of_item(c, &id)? else { return Ok::<_, AppError>(false) };
                        let own = viewer.is_person() && viewer.person_id == inspection.inspector_id;
                        let point = inspections::point(c, &inspection.point_id)?;
                        Ok(own || point.is_some_and(|p| viewer.can(Permission::ReadInspections, &p.scope_path)))
                    })
                    .await
            }
            // A bulletin's photos: whoever may read the bulletin.
            AttachmentOwner::Bulletin => {
                let Some(viewer) = viewer else { return Ok(false) };
                Ok(self.bulletin(viewer, id).await.is_ok())
            }
            // An info report's photos: whoever may see the report.
            AttachmentOwner::InfoReport => {
                let Some(viewer) = viewer else { return Ok(false) };
                Ok(self.info_report(viewer, id).await.is_ok())
            }
            // Progress photos: whoever may read the task.
            AttachmentOwner::TaskProgress => {
                let Some(viewer) = viewer else { return Ok(false) };
                let id = id.to_string();
                let task = self.store().read(move |c| crate::store::key_tasks::task_of_progress(c, &id)).await?;
                Ok(match task {
                    Some(t) => self.key_task(viewer, &t).await.is_ok(),
                    None => false,
                })
            }
            // Rectification photos: whoever may see the notice.
            AttachmentOwner::NoticeItem => {
                let Some(viewer) = viewer else { return Ok(false) };
                let id = id.to_string();
                let notice = self.store().read(move |c| crate::store::bulletins::notice_of_item(c, &id)).await?;
                Ok(match notice {
                    Some(n) => self.notice(viewer, &n).await.is_ok(),
                    None => false,
                })
            }
        }
    }

    pub async fn photo_views(&self, ids: Vec<String>) -> AppResult<Vec<PhotoView>> {
        Ok(self.store().read(move |c| db::photos(c, &ids)).await?.into_iter().map(PhotoView::from).collect())
    }
}
