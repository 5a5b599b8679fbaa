//! 信息报送 through the JSON API: a community sends a report with a photo, the publicity
//! group returns it with a reason, the community sends it again, it is adopted and joins the
//! feed, the counts and a bulletin's quotes; nobody reviews their own report.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

async fn post(c: &Client, csrf: &str, url: String, body: Value) -> reqwest::Response {
    c.post(url).header("X-CSRF-Token", csrf).json(&body).send().await.unwrap()
}

#[tokio::test]
async fn a_report_is_returned_sent_again_adopted_counted_and_quoted() {
    let t = spawn_demo().await;
    t.app.seed_demo_inspections(2).await.unwrap();
    let (community, cc) = t.login("community").await;
    let photo = crate::photos::camera_jpeg(36.97, 117.16);
    let form = reqwest::multipart::Form::new().part("photo", reqwest::multipart::Part::bytes(photo).file_name("p.jpg"));
    let up: Value =
        community.post(t.url("/api/v1/photos")).header("X-CSRF-Token", &cc).multipart(form).send().await.unwrap().json().await.unwrap();
    let photo_id = up["id"].as_str().unwrap().to_string();
    // Bad input first: an empty title, a text too long.
    let r = post(&community, &cc, t.url("/api/v1/reports"), json!({ "kind": "news", "title": " ", "body": "正文" })).await;
    let e = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    assert!(e["message"].as_str().unwrap().contains("标题"), "{e}");
    let r = post(&community, &cc, t.url("/api/v1/reports"), json!({ "kind": "news", "title": "标题", "body": "字".repeat(5001) })).await;
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    let body = json!({ "kind": "practice", "title": "开元社区推行楼长制", "body": "每栋楼设楼长一名,每日巡查楼道,发现堆物当日清理。\n已覆盖 36 栋楼。", "photos": [photo_id] });
    let r = post(&community, &cc, t.url("/api/v1/reports"), body.clone()).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let sent: Value = r.json().await.unwrap();
    let id = sent["id"].as_str().unwrap().to_string();
    assert_eq!((sent["status"].as_str(), sent["unit_name"].as_str()), (Some("submitted"), Some("开元社区")));
    // Not in the feed yet, and not for others to read.
    let (volunteer, _) = t.login("volunteer").await;
    assert!(get_json(&volunteer, t.url("/api/v1/reports")).await.as_array().unwrap().iter().all(|r| r["id"] != id.as_str()));
    assert_eq!(volunteer.get(t.url(&format!("/api/v1/reports/{id}"))).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    // The publicity group: waiting for review; a return needs a reason.
    let (inspector, ic) = t.login("inspector").await;
    let waiting = get_json(&inspector, t.url("/api/v1/reports?view=review")).await;
    assert!(waiting.as_array().unwrap().iter().any(|r| r["id"] == id.as_str()));
    let review = |decision: &str, note: Option<&str>| {
        let (c, csrf, url) = (inspector.clone(), ic.clone(), t.url(&format!("/api/v1/reports/{id}/review")));
        let v = json!({ "decision": decision, "note": note });
        async move { post(&c, &csrf, url, v).await }
    };
    let e = assert_error(review("return", None).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    assert!(e["message"].as_str().unwrap().contains("理由"), "{e}");
    let returned: Value = review("return", Some("请补充整改前后对比")).await.json().await.unwrap();
    assert_eq!((returned["status"].as_str(), returned["review_note"].as_str()), (Some("returned"), Some("请补充整改前后对比")));
    assert_error(review("approve", None).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    // Sent again with the change; then adopted.
    let mut again = body.clone();
    again["body"] = json!("每栋楼设楼长一名,每日巡查楼道。推行前楼道堆物 120 处,推行后 8 处。");
    again["photos"] = json!([]);
    let r = community.put(t.url(&format!("/api/v1/reports/{id}"))).header("X-CSRF-Token", &cc).json(&again).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let adopted: Value = review("approve", None).await.json().await.unwrap();
    assert_eq!(adopted["status"], "approved");
    assert_error(review("reject", Some("重复")).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    let r = community.put(t.url(&format!("/api/v1/reports/{id}"))).header("X-CSRF-Token", &cc).json(&again).send().await.unwrap();
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    // In the feed for everyone, with its photo.
    let feed = get_json(&volunteer, t.url("/api/v1/reports")).await;
    let item = feed.as_array().unwrap().iter().find(|r| r["id"] == id.as_str()).expect("in the feed").clone();
    assert!(item["body"].as_str().unwrap().contains("推行后 8 处"));
    assert_eq!(volunteer.get(t.url(&format!("/api/v1/photos/{photo_id}"))).send().await.unwrap().status(), StatusCode::OK);
    // Counted for 开元: one sent, one adopted.
    let (leader, _) = t.login("leader").await;
    let counts = get_json(&leader, t.url("/api/v1/reports/counts")).await;
    let kaiyuan = counts.as_array().unwrap().iter().find(|c| c["unit"] == "开元社区").expect("开元 counted").clone();
    assert_eq!((kaiyuan["submitted"].as_i64(), kaiyuan["adopted"].as_i64(), kaiyuan["rate"].as_f64()), (Some(1), Some(1), Some(1.0)));
    // As a Word document, with its photo.
    let doc = inspector.get(t.url(&format!("/api/v1/reports/{id}/document.docx"))).send().await.unwrap().bytes().await.unwrap();
    let doc = docx_rs::read_docx(&doc).unwrap();
    let text = doc.json();
    assert!(text.contains("开元社区推行楼长制") && text.contains("推行后 8 处") && text.contains("经验做法"));
    assert_eq!(doc.images.len(), 1);

    // Quoted in a bulletin (信息选登); a report not adopted cannot be.
    let today = chuangcheng::domain::calendar::beijing_date(t.app.now());
    let span = json!({ "kind": "custom", "from": (today - chrono::Duration::days(20)).to_string(), "to": today.to_string() });
    let b: Value = post(&inspector, &ic, t.url("/api/v1/bulletins"), span).await.json().await.unwrap();
    let bid = b["id"].as_str().unwrap().to_string();
    let pending: Value =
        post(&community, &cc, t.url("/api/v1/reports"), json!({ "kind": "news", "title": "本周动态", "body": "开展文明劝导" }))
            .await
            .json()
            .await
            .unwrap();
    let put = |v: Value| {
        let (c, csrf, url) = (inspector.clone(), ic.clone(), t.url(&format!("/api/v1/bulletins/{bid}")));
        async move { c.put(url).header("X-CSRF-Token", csrf).json(&v).send().await.unwrap() }
    };
    let r = put(json!({ "revision": 0, "quote_reports": [pending["id"]] })).await;
    let e = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    assert!(e["message"].as_str().unwrap().contains("已采用"), "{e}");
    let quoted: Value = put(json!({ "revision": 0, "quote_reports": [id] })).await.json().await.unwrap();
    assert_eq!(quoted["content"]["quotes"][0]["title"], "开元社区推行楼长制");
    let doc = inspector.get(t.url(&format!("/api/v1/bulletins/{bid}/document.docx"))).send().await.unwrap().bytes().await.unwrap();
    let text = docx_rs::read_docx(&doc).unwrap().json();
    assert!(text.contains("信息选登") && text.contains("开元社区推行楼长制"));

    // Someone who both sends and reviews for 开元 may not review their own report.
    let me = get_json(&inspector, t.url("/api/v1/auth/me")).await["person_id"].as_str().unwrap().to_string();
    let unit = get_json(&leader, t.url("/api/v1/org/units/370115001001")).await["unit"]["id"].as_str().unwrap().to_string();
    t.app
        .store()
        .write(move |c| chuangcheng::store::people::assign_role(c, &me, chuangcheng::domain::authz::Role::CommunityAdmin, &unit))
        .await
        .unwrap();
    let (both, bc) = t.login("inspector").await;
    let own: Value =
        post(&both, &bc, t.url("/api/v1/reports"), json!({ "kind": "news", "title": "自报", "body": "正文", "unit": "370115001001" }))
            .await
            .json()
            .await
            .unwrap();
    let r =
        post(&both, &bc, t.url(&format!("/api/v1/reports/{}/review", own["id"].as_str().unwrap())), json!({ "decision": "approve" })).await;
    let e = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    assert!(e["message"].as_str().unwrap().contains("自己"), "{e}");
}
