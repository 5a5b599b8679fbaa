//! Photos: upload by multipart, type by content, size limit, thumbnail, EXIF, attached to cases.

use chuangcheng::domain::calendar::beijing_ms;
use exif::{Field, In, Rational, Tag, Value};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value as Json, json};

use crate::helpers::*;

fn dms(x: f64) -> Vec<Rational> {
    let d = x.trunc();
    let m = ((x - d) * 60.0).trunc();
    let s = ((x - d) * 60.0 - m) * 60.0;
    vec![
        Rational { num: d as u32, denom: 1 },
        Rational { num: m as u32, denom: 1 },
        Rational { num: (s * 10_000.0).round() as u32, denom: 10_000 },
    ]
}

/// A small JPEG as a phone camera makes it: with EXIF GPS position and time.
pub fn camera_jpeg(lat: f64, lon: f64) -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([(x * 4) as u8, (y * 5) as u8, 120]));
    let mut jpeg = std::io::Cursor::new(Vec::new());
    img.write_to(&mut jpeg, image::ImageFormat::Jpeg).unwrap();
    let jpeg = jpeg.into_inner();
    let fields = [
        Field { tag: Tag::GPSLatitudeRef, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"N".to_vec()]) },
        Field { tag: Tag::GPSLatitude, ifd_num: In::PRIMARY, value: Value::Rational(dms(lat)) },
        Field { tag: Tag::GPSLongitudeRef, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"E".to_vec()]) },
        Field { tag: Tag::GPSLongitude, ifd_num: In::PRIMARY, value: Value::Rational(dms(lon)) },
        Field { tag: Tag::DateTimeOriginal, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"2026:11:30 08:55:00".to_vec()]) },
    ];
    let mut w = exif::experimental::Writer::new();
    for f in &fields {
        w.push_field(f);
    }
    let mut tiff = std::io::Cursor::new(Vec::new());
    w.write(&mut tiff, false).unwrap();
    let tiff = tiff.into_inner();
    // APP1 "Exif" segment right after the start-of-image marker.
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend(((tiff.len() + 8) as u16).to_be_bytes());
    out.extend(b"Exif\0\0");
    out.extend(&tiff);
    out.extend(&jpeg[2..]);
    out
}

async fn upload(t: &TestApp, c: &reqwest::Client, csrf: &str, bytes: Vec<u8>, name: &str) -> reqwest::Response {
    let form = Form::new().part("photo", Part::bytes(bytes).file_name(name.to_string()).mime_str("image/jpeg").unwrap());
    c.post(t.url("/api/v1/photos")).header("X-CSRF-Token", csrf).multipart(form).send().await.unwrap()
}

#[tokio::test]
async fn a_camera_photo_uploads_with_its_place_and_time_and_a_thumbnail() {
    let t = spawn_demo().await;
    let (worker, w) = t.login("gridworker").await;
    let photo = camera_jpeg(36.975, 117.175);
    let r = upload(&t, &worker, &w, photo.clone(), "IMG_0001.jpg").await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Json = r.json().await.unwrap();
    assert_eq!(v["mime"], "image/jpeg");
    assert_eq!((v["width"].as_i64(), v["height"].as_i64()), (Some(64), Some(48)));
    assert!((v["lat"].as_f64().unwrap() - 36.975).abs() < 1e-5, "{v}");
    assert!((v["lon"].as_f64().unwrap() - 117.175).abs() < 1e-5, "{v}");
    assert_eq!(v["taken_at"], "2026:11:30 08:55:00");
    let full = worker.get(t.url(v["url"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(full.headers()["content-type"], "image/jpeg");
    assert_eq!(full.bytes().await.unwrap().to_vec(), photo, "stored byte for byte");
    let thumb = worker.get(t.url(v["thumb_url"].as_str().unwrap())).send().await.unwrap().bytes().await.unwrap();
    assert!(thumb.starts_with(&[0xFF, 0xD8]), "the thumbnail is a JPEG");
    let r = client().get(t.url(v["url"].as_str().unwrap())).send().await.unwrap();
    assert_error(r, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

#[tokio::test]
async fn text_pretending_to_be_a_photo_and_huge_uploads_are_refused() {
    let t = spawn_demo().await;
    let (worker, w) = t.login("gridworker").await;
    let r = upload(&t, &worker, &w, b"I am really a text file".to_vec(), "photo.jpg").await;
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    let mut huge = camera_jpeg(36.975, 117.175);
    huge.resize(20 * 1024 * 1024, 0);
    let r = upload(&t, &worker, &w, huge, "big.jpg").await;
    assert_error(r, StatusCode::PAYLOAD_TOO_LARGE, "too_large").await;
    // A PNG is fine; a broken one is not.
    let mut png = std::io::Cursor::new(Vec::new());
    image::RgbImage::new(8, 8).write_to(&mut png, image::ImageFormat::Png).unwrap();
    let r = upload(&t, &worker, &w, png.into_inner(), "a.png").await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = upload(&t, &worker, &w, b"\x89PNG\r\n\x1a\nbroken".to_vec(), "b.png").await;
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
}

#[tokio::test]
async fn before_and_after_photos_follow_the_case() {
    let (t, _clock) = spawn_demo_at(beijing_ms(2026, 11, 30, 9, 0)).await;
    let (worker, w) = t.login("gridworker").await;
    let (dispatcher, dc) = t.login("dispatcher").await;
    let (handler, h) = t.login("handler").await;
    let (lat, lon) = grid_centre(&t, "370115001001001").await;
    let before: Json = upload(&t, &worker, &w, camera_jpeg(lat, lon), "before.jpg").await.json().await.unwrap();
    let r = worker
        .post(t.url("/api/v1/cases"))
        .header("X-CSRF-Token", &w)
        .json(&json!({ "category": "0401", "description": "占道经营", "lat": lat, "lon": lon, "photos": [before["id"]] }))
        .send()
        .await
        .unwrap();
    let id = r.json::<Json>().await.unwrap()["case"]["id"].as_str().unwrap().to_string();
    for (who, csrf, action) in [(&dispatcher, &dc, "register"), (&dispatcher, &dc, "dispatch"), (&handler, &h, "accept")] {
        let r =
            who.post(t.url(&format!("/api/v1/cases/{id}/actions/{action}"))).header("X-CSRF-Token", csrf.as_str()).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{action}");
    }
    let after: Json = upload(&t, &handler, &h, camera_jpeg(lat, lon), "after.jpg").await.json().await.unwrap();
    let r = handler
        .post(t.url(&format!("/api/v1/cases/{id}/actions/handle")))
        .header("X-CSRF-Token", &h)
        .json(&json!({ "note": "已清理", "photos": ["no-such-photo"] }))
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    let r = handler
        .post(t.url(&format!("/api/v1/cases/{id}/actions/handle")))
        .header("X-CSRF-Token", &h)
        .json(&json!({ "note": "已清理", "photos": [after["id"]] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Json = dispatcher.get(t.url(&format!("/api/v1/cases/{id}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["photos_before"][0]["id"], before["id"]);
    assert_eq!(v["photos_after"][0]["id"], after["id"]);
    assert!(v["photos_after"][0]["thumb_url"].as_str().unwrap().ends_with("/thumb"));
}
