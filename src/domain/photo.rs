//! What a photo is, judged from its bytes: type by content (never by name), size limit,
//! and the EXIF time and place a phone camera records.

pub const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;

crate::string_enum! {
    /// The photo types accepted, by their MIME type.
    pub enum PhotoKind {
        Jpeg = "image/jpeg",
        Png = "image/png",
        Webp = "image/webp",
    }
}

impl PhotoKind {
    pub fn mime(self) -> &'static str {
        self.as_str()
    }

    pub fn from_mime(m: &str) -> Option<PhotoKind> {
        PhotoKind::parse(m)
    }
}

crate::string_enum! {
    /// What a photo can be attached to. Each owner kind has one rule for who may see its
    /// photos (`app::attachments`): whoever may read the owner; the public only photos
    /// marked public on owners the public may see.
    pub enum AttachmentOwner {
        Case = "case",
        /// One item's result in an inspection.
        InspectionItem = "inspection_item",
        /// A photo an issued bulletin shows (its readers see it).
        Bulletin = "bulletin",
        /// A unit's photo of a problem it rectified (整改反馈).
        NoticeItem = "notice_item",
        /// A photo of an info report (信息报送).
        InfoReport = "info_report",
        /// A photo of progress on a key task's milestone.
        TaskProgress = "task_progress",
    }
}

/// The type by magic number; `None` for anything that is not JPEG, PNG or WebP.
pub fn sniff(bytes: &[u8]) -> Option<PhotoKind> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(PhotoKind::Jpeg)
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some(PhotoKind::Png)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(PhotoKind::Webp)
    } else {
        None
    }
}

/// Where and when the camera says the photo was taken.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct PhotoExif {
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// `2026:11:30 09:12:00` as the camera wrote it, in its local time (Beijing for phones here).
    pub taken_at: Option<String>,
}

fn degrees(field: Option<&exif::Field>) -> Option<f64> {
    match &field?.value {
        exif::Value::Rational(v) if v.len() >= 3 => {
            let [d, m, s] = [v[0].to_f64(), v[1].to_f64(), v[2].to_f64()];
            let x = d + m / 60.0 + s / 3600.0;
            x.is_finite().then_some(x)
        }
        _ => None,
    }
}

fn reference(field: Option<&exif::Field>) -> Option<u8> {
    match &field?.value {
        exif::Value::Ascii(v) => v.first().and_then(|s| s.first()).copied(),
        _ => None,
    }
}

/// Reads EXIF GPS and time; a photo without EXIF (or with broken EXIF) gives nothing, not an error.
pub fn read_exif(bytes: &[u8]) -> PhotoExif {
    let Ok(exif) = exif::Reader::new().read_from_container(&mut std::io::Cursor::new(bytes)) else {
        return PhotoExif::default();
    };
    let get = |tag| exif.get_field(tag, exif::In::PRIMARY);
    let lat = degrees(get(exif::Tag::GPSLatitude)).map(|v| if reference(get(exif::Tag::GPSLatitudeRef)) == Some(b'S') { -v } else { v });
    let lon = degrees(get(exif::Tag::GPSLongitude)).map(|v| if reference(get(exif::Tag::GPSLongitudeRef)) == Some(b'W') { -v } else { v });
    let valid = matches!((lat, lon), (Some(a), Some(o)) if (-90.0..=90.0).contains(&a) && (-180.0..=180.0).contains(&o));
    let taken_at = get(exif::Tag::DateTimeOriginal).or(get(exif::Tag::DateTime)).and_then(|f| match &f.value {
        exif::Value::Ascii(v) => v.first().map(|s| String::from_utf8_lossy(s).trim().to_string()).filter(|s| !s.is_empty()),
        _ => None,
    });
    PhotoExif { lat: lat.filter(|_| valid), lon: lon.filter(|_| valid), taken_at }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_is_judged_by_content() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some(PhotoKind::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some(PhotoKind::Png));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(PhotoKind::Webp));
        assert_eq!(sniff(b"hello, I am a text file named photo.jpg"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn no_exif_is_not_an_error() {
        assert_eq!(read_exif(b"not an image"), PhotoExif::default());
    }
}
