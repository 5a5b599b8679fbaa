//! 督查通报 through the JSON API: a bulletin drafted from a week's inspections, edited,
//! issued once under a gapless number however many editors press the button, read back as
//! Word and Excel; the rectification notices it sends answered, moving their cases, and
//! escalated when overdue; corrections as new versions; bad input answered clearly.

use std::sync::atomic::Ordering;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use sha2::Digest;

use crate::helpers::*;

const KAIYUAN: &str = "开元社区";

struct Season {
    inspector: Client,
    csrf: String,
    /// Every photo uploaded with a failure, with its bytes.
    photos: Vec<(String, Vec<u8>)>,
    cases: Vec<String>,
    day: chrono::NaiveDate,
}

async fn post(c: &Client, csrf: &str, url: String, body: Value) -> reqwest::Response {
    c.post(url).header("X-CSRF-Token", csrf).json(&body).send().await.unwrap()
}

/// A week's inspection of 开元's compounds and two roads, each failing two items with a photo;
/// the cases registered and dispatched. The inspections are dated today.
async fn inspect_a_week(t: &TestApp) -> Season {
    if get_json(&t.login("inspector").await.0, t.url("/api/v1/inspections/points")).await.as_array().is_none_or(|p| p.is_empty()) {
        t.app.seed_demo_inspections(0).await.unwrap();
    }
    let (inspector, i) = t.login("inspector").await;
    let me = get_json(&inspector, t.url("/api/v1/auth/me")).await["person_id"].as_str().unwrap().to_string();
    let points = get_json(&inspector, t.url("/api/v1/inspections/points")).await;
    let points = points.as_array().unwrap();
    let mut chosen: Vec<String> = points
        .iter()
        .filter(|p| p["point_type"] == "居民小区" && p["community_name"] == KAIYUAN)
        .take(2)
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect();
    assert!(!chosen.is_empty(), "the demo has compounds in {KAIYUAN}");
    chosen.extend(points.iter().filter(|p| p["point_type"] == "主次干道").take(2).map(|p| p["id"].as_str().unwrap().to_string()));
    let day = chuangcheng::domain::calendar::beijing_date(t.app.now());
    let plan = json!({ "name": "本周创城督查", "kind": "inspection", "starts_on": day.to_string(), "ends_on": day.to_string(),
                       "inspectors": [me], "selection": { "by": "chosen", "points": chosen } });
    let round: Value = post(&inspector, &i, t.url("/api/v1/inspections/rounds"), plan).await.json().await.unwrap();
    let round_id = round["round"]["id"].as_str().unwrap().to_string();
    let mut photos = Vec::new();
    let mut cases = Vec::new();
    let mut reported = Vec::new();
    for (n, point) in chosen.iter().enumerate() {
        let form = get_json(&inspector, t.url(&format!("/api/v1/inspections/rounds/{round_id}/points/{point}"))).await;
        let mut items = Vec::new();
        for (k, item) in form["items"].as_array().unwrap().iter().enumerate() {
            let s = &item["scoring"];
            let fail = k < 2;
            let observation = match (s["method"].as_str().unwrap(), fail) {
                ("pass_fail", false) => json!({ "kind": "pass" }),
                ("pass_fail", true) => json!({ "kind": "fail" }),
                ("quantity", false) => json!({ "kind": "found", "count": s["required"] }),
                ("quantity", true) => json!({ "kind": "found", "count": 0 }),
                (_, false) => json!({ "kind": "problems", "count": 0 }),
                (_, true) => json!({ "kind": "problems", "count": 2 }),
            };
            let mut ids = Vec::new();
            if fail {
                let bytes = crate::photos::camera_jpeg(36.96 + n as f64 * 0.001 + k as f64 * 0.0001, 117.16);
                let form = reqwest::multipart::Form::new().part("photo", reqwest::multipart::Part::bytes(bytes.clone()).file_name("p.jpg"));
                let up: Value = inspector
                    .post(t.url("/api/v1/photos"))
                    .header("X-CSRF-Token", &i)
                    .multipart(form)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                let id = up["id"].as_str().unwrap().to_string();
                photos.push((id.clone(), bytes));
                ids.push(id);
            }
            items.push(json!({ "code": item["code"], "observation": observation, "photos": ids }));
        }
        let r =
            post(&inspector, &i, t.url(&format!("/api/v1/inspections/rounds/{round_id}/points/{point}")), json!({ "items": items })).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let done: Value = r.json().await.unwrap();
        for item in done["items"].as_array().unwrap() {
            if let Some(id) = item["case"]["id"].as_str()
                && !cases.iter().any(|c| c == id)
            {
                cases.push(id.to_string());
                if item["case"]["status"] == "reported" {
                    reported.push(id.to_string());
                }
            }
        }
    }
    assert!(cases.len() >= 4, "the failures opened cases: {}", cases.len());
    let (dispatcher, d) = t.login("dispatcher").await;
    for case in &reported {
        for action in ["register", "dispatch"] {
            let r = post(&dispatcher, &d, t.url(&format!("/api/v1/cases/{case}/actions/{action}")), json!({})).await;
            assert_eq!(r.status(), StatusCode::OK, "{action}");
        }
    }
    Season { inspector, csrf: i, photos, cases, day }
}

async fn draft(t: &TestApp, s: &Season) -> Value {
    let r = post(&s.inspector, &s.csrf, t.url("/api/v1/bulletins"), json!({ "kind": "week", "from": s.day.to_string() })).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

async fn issue(t: &TestApp, s: &Season, b: &Value) -> reqwest::Response {
    post(
        &s.inspector,
        &s.csrf,
        t.url(&format!("/api/v1/bulletins/{}/issue", b["id"].as_str().unwrap())),
        json!({ "revision": b["revision"] }),
    )
    .await
}

async fn bytes(c: &Client, url: String) -> Vec<u8> {
    let r = c.get(url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.bytes().await.unwrap().to_vec()
}

/// Every text of a Word document, in order, and how many pictures it shows.
pub fn docx_text(bytes: &[u8]) -> (String, usize) {
    let doc = docx_rs::read_docx(bytes).expect("a readable .docx");
    let json: Value = serde_json::from_str(&doc.json()).unwrap();
    let mut out = String::new();
    let mut pictures = 0;
    fn walk(v: &Value, out: &mut String, pictures: &mut usize) {
        match v {
            Value::Object(m) => {
                if m.get("type").and_then(Value::as_str) == Some("drawing") {
                    *pictures += 1;
                }
                if m.get("type").and_then(Value::as_str) == Some("text")
                    && let Some(t) = m.get("data").and_then(|d| d.get("text")).and_then(Value::as_str)
                {
                    out.push_str(t);
                    out.push('\n');
                }
                m.values().for_each(|x| walk(x, out, pictures));
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out, pictures)),
            _ => {}
        }
    }
    walk(&json["document"], &mut out, &mut pictures);
    assert!(!doc.images.is_empty() || pictures == 0, "pictures have their image parts");
    (out, pictures)
}

#[tokio::test]
async fn a_bulletin_is_drafted_edited_issued_once_and_read_as_word_and_excel() {
    let t = spawn_demo().await;
    let s = inspect_a_week(&t).await;
    let b = draft(&t, &s).await;
    let id = b["id"].as_str().unwrap().to_string();
    let c = &b["content"];
    assert_eq!(b["status"], "draft");
    assert!(c["title"].as_str().unwrap().starts_with("关于济阳街道"), "{}", c["title"]);
    let communities = c["tables"].as_array().unwrap().iter().find(|t| t["kind"] == "community").unwrap().clone();
    // The ranking table has every community inspected in the period, as the rankings say.
    let ranking = get_json(
        &s.inspector,
        t.url(&format!("/api/v1/inspections/rankings?from={}&to={}", b["from"].as_str().unwrap(), b["to"].as_str().unwrap())),
    )
    .await;
    let ranked: Vec<&str> = ranking["rows"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    let tabled: Vec<&str> = communities["rows"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(tabled, ranked);
    assert!(tabled.contains(&KAIYUAN));
    assert_eq!(c["figures"]["inspections"], ranking["total"]["inspections"]);
    // Typical problems carry photos taken at their failures; the problem lists name 开元.
    let problems = c["problems"].as_array().unwrap();
    assert!(!problems.is_empty());
    for p in problems {
        let photo = p["photo_id"].as_str().expect("each typical problem has its best photo");
        assert!(s.photos.iter().any(|(id, _)| id == photo));
    }
    let lists = c["lists"].as_array().unwrap();
    let listed: usize = lists.iter().map(|l| l["problems"].as_array().unwrap().len()).sum();
    assert_eq!(listed, s.cases.len(), "every open case of the week is on a list");
    assert!(lists.iter().any(|l| l["unit"] == KAIYUAN), "{lists:?}");

    // Edits: a wrong revision is a conflict; a photo from elsewhere is refused; good ones stay.
    let url = t.url(&format!("/api/v1/bulletins/{id}"));
    let put = |body: Value| {
        let (c, csrf, url) = (s.inspector.clone(), s.csrf.clone(), url.clone());
        async move { c.put(url).header("X-CSRF-Token", csrf).json(&body).send().await.unwrap() }
    };
    assert_error(put(json!({ "revision": 7, "next_steps": "x" })).await, StatusCode::CONFLICT, "invalid_value").await;
    let code = problems[0]["code"].as_str().unwrap();
    let r = put(json!({ "revision": 0, "problems": [{ "code": code, "photo_id": "no-such-photo" }] })).await;
    let e = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    assert!(is_chinese(e["message"].as_str().unwrap()));
    let steps = "一是立行立改。\n二是建立台账,逐项销号。";
    let r = put(
        json!({ "revision": 0, "next_steps": steps, "deadline_days": 3, "problems": [{ "code": code, "caption": "楼道堆物(开元家园)" }] }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let edited: Value = r.json().await.unwrap();
    assert_eq!(edited["revision"], 1);
    assert_eq!(edited["content"]["next_steps"], steps);

    // Two editors issue the same draft at once: one number between them.
    let (a, b2) = tokio::join!(issue(&t, &s, &edited), issue(&t, &s, &edited));
    let mut statuses = [a.status().as_u16(), b2.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "exactly one issue wins");
    let issued = get_json(&s.inspector, url.clone()).await;
    assert_eq!(issued["status"], "issued");
    let year = chrono::Datelike::year(&s.day);
    assert_eq!(issued["label"], format!("{year} 年第 1 期"));
    assert_eq!(issued["revision"], 2);
    // Frozen: no edit after issuing.
    assert_error(put(json!({ "revision": 2, "intro": "改" })).await, StatusCode::CONFLICT, "invalid_value").await;
    // The next bulletin takes number 2: no gap from the refused attempt.
    let second = draft(&t, &s).await;
    let second: Value = issue(&t, &s, &second).await.json().await.unwrap();
    assert_eq!(second["label"], format!("{year} 年第 2 期"));

    // The Word document: title, number, date, every community of the table, the photos.
    let doc = bytes(&s.inspector, t.url(&format!("/api/v1/bulletins/{id}/document.docx"))).await;
    let (text, images) = docx_text(&doc);
    for needle in [
        issued["content"]["title"].as_str().unwrap(),
        issued["label"].as_str().unwrap(),
        issued["date"].as_str().unwrap(),
        "济阳街道创城办",
        "二是建立台账,逐项销号。",
        "楼道堆物(开元家园)",
    ] {
        assert!(text.contains(needle), "the document says {needle}");
    }
    for name in &tabled {
        assert!(text.contains(name), "the ranking table has {name}");
    }
    let shown = issued["content"]["problems"].as_array().unwrap().iter().filter(|p| p["shown"] == true && !p["photo_id"].is_null()).count();
    assert_eq!(images, shown, "one picture per typical problem shown");
    let raw = String::from_utf8_lossy(&doc);
    assert!(doc.starts_with(b"PK"), "a zip");
    let _ = raw;

    // The workbook: one sheet per table, the community table with every ranked row.
    use calamine::Reader;
    let xlsx = bytes(&s.inspector, t.url(&format!("/api/v1/bulletins/{id}/tables.xlsx"))).await;
    let mut book = calamine::open_workbook_from_rs::<calamine::Xlsx<_>, _>(std::io::Cursor::new(xlsx)).unwrap();
    let names = book.sheet_names();
    for sheet in ["社区督查得分排名", "典型问题", "问题清单"] {
        assert!(names.iter().any(|n| n == sheet), "{sheet} in {names:?}");
    }
    let range = book.worksheet_range("社区督查得分排名").unwrap();
    let rows: Vec<String> = range.rows().skip(3).map(|r| r[1].to_string()).collect();
    assert_eq!(rows, tabled.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    let list = book.worksheet_range("问题清单").unwrap();
    assert_eq!(list.rows().skip(3).count(), s.cases.len());

    // Listed and searchable; a leader reads issued ones, not drafts.
    let (leader, _) = t.login("leader").await;
    let all = get_json(&leader, t.url("/api/v1/bulletins")).await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    let third = draft(&t, &s).await;
    assert_eq!(get_json(&leader, t.url("/api/v1/bulletins")).await.as_array().unwrap().len(), 2, "the leader sees no draft");
    let found = get_json(&s.inspector, t.url(&format!("/api/v1/bulletins?q={}", "%E5%88%9B%E5%9F%8E"))).await; // 创城
    assert_eq!(found.as_array().unwrap().len(), 3);
    assert_eq!(get_json(&s.inspector, t.url("/api/v1/bulletins?q=nothing-like-this")).await.as_array().unwrap().len(), 0);
    let _ = third;
}

#[tokio::test]
async fn notices_take_answers_move_cases_and_escalate_when_overdue() {
    let (t, clock) = spawn_demo_at(chrono::Utc::now().timestamp_millis()).await;
    let s = inspect_a_week(&t).await;
    let b = draft(&t, &s).await;
    let issued: Value = issue(&t, &s, &b).await.json().await.unwrap();
    let notices = issued["notices"].as_array().unwrap();
    assert_eq!(notices.len(), issued["content"]["lists"].as_array().unwrap().len(), "a notice per listed unit");
    // 开元's admin sees their notice with its deadline in the to-do; the answer moves the case.
    let (community, cc) = t.login("community").await;
    let mine = get_json(&community, t.url("/api/v1/notices")).await;
    let notice = mine.as_array().unwrap().iter().find(|n| n["unit_name"] == KAIYUAN).expect("开元's notice").clone();
    assert_eq!(notice["status"], "open");
    let nid = notice["id"].as_str().unwrap().to_string();
    let items = notice["problems"].as_array().unwrap().clone();
    assert!(!items.is_empty());
    let answer = |item: &Value, body: Value| {
        let (c, csrf) = (community.clone(), cc.clone());
        let url = t.url(&format!("/api/v1/notices/{nid}/items/{}/answer", item["id"].as_str().unwrap()));
        async move { post(&c, &csrf, url, body).await }
    };
    // A note is required; someone else's photo is refused.
    assert_error(answer(&items[0], json!({ "outcome": "fixed", "note": " " })).await, StatusCode::BAD_REQUEST, "missing_parameter").await;
    let theirs = &s.photos[0].0;
    let r = answer(&items[0], json!({ "outcome": "fixed", "note": "已清理", "photos": [theirs] })).await;
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    let after = crate::photos::camera_jpeg(36.97, 117.16);
    let form = reqwest::multipart::Form::new().part("photo", reqwest::multipart::Part::bytes(after).file_name("after.jpg"));
    let up: Value =
        community.post(t.url("/api/v1/photos")).header("X-CSRF-Token", &cc).multipart(form).send().await.unwrap().json().await.unwrap();
    let r = answer(&items[0], json!({ "outcome": "fixed", "note": "楼道杂物已清理", "photos": [up["id"]] })).await;
    assert_eq!(r.status(), StatusCode::OK);
    let answered: Value = r.json().await.unwrap();
    assert_eq!(answered["answered"], 1);
    assert_eq!(answered["problems"][0]["outcome"], "fixed");
    assert_eq!(answered["problems"][0]["photos"].as_array().unwrap().len(), 1);
    let case = get_json(&community, t.url(&format!("/api/v1/cases/{}", items[0]["case_id"].as_str().unwrap()))).await;
    assert_eq!(case["status"], "handled", "the fixed problem's case is handled: {}", case["status"]);
    assert_error(answer(&items[0], json!({ "outcome": "fixed", "note": "再报" })).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value")
        .await;
    // The last answer closes the notice; nothing more is taken.
    for item in &items[1..] {
        assert_eq!(answer(item, json!({ "outcome": "not_fixed", "note": "需物业配合,下周完成" })).await.status(), StatusCode::OK);
    }
    let closed = get_json(&community, t.url(&format!("/api/v1/notices/{nid}"))).await;
    assert_eq!(closed["status"], "answered");

    // 晒比评述: 开元 writes its account; the panel sees its worst photos beside the fixed one,
    // scores it, and the average weighs into the composite ranking.
    let bid = issued["id"].as_str().unwrap();
    let unit = notice["unit_id"].as_str().unwrap();
    let r = post(
        &community,
        &cc,
        t.url(&format!("/api/v1/bulletins/{bid}/accounts")),
        json!({ "unit": unit, "text": "本周楼道堆物问题已全部清理,建立了楼长巡查制度。" }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let (leader, lc) = t.login("leader").await;
    let m = get_json(&leader, t.url(&format!("/api/v1/bulletins/{bid}/meeting?unit={unit}"))).await;
    assert_eq!(m["unit"]["name"], KAIYUAN);
    assert!(!m["worst"].as_array().unwrap().is_empty(), "the failures' photos are shown");
    assert_eq!(m["fixed"].as_array().unwrap().len(), 1, "beside the rectification photo");
    assert_eq!(m["account"]["text"], "本周楼道堆物问题已全部清理,建立了楼长巡查制度。");
    assert_eq!(m["may_score"], true);
    let scores_url = t.url(&format!("/api/v1/bulletins/{bid}/scores"));
    let score = |c: &Client, csrf: &str, v: Value| {
        let (c, csrf, url) = (c.clone(), csrf.to_string(), scores_url.clone());
        async move { post(&c, &csrf, url, v).await }
    };
    assert_error(score(&leader, &lc, json!({ "unit": unit, "score": 101 })).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    assert_eq!(score(&leader, &lc, json!({ "unit": unit, "score": 80, "comment": "整改较快" })).await.status(), StatusCode::OK);
    assert_eq!(score(&leader, &lc, json!({ "unit": unit, "score": 86, "comment": "整改及时,长效机制好" })).await.status(), StatusCode::OK);
    let m: Value = score(&s.inspector, &s.csrf, json!({ "unit": unit, "score": 92 })).await.json().await.unwrap();
    assert!(m["scores"].is_array(), "{m}");
    assert_eq!(m["scores"].as_array().unwrap().len(), 2, "scoring again replaces one's score");
    assert_eq!(m["average"], 89.0);
    let composite = get_json(
        &leader,
        t.url(&format!("/api/v1/inspections/composite?from={}&to={}", issued["from"].as_str().unwrap(), issued["to"].as_str().unwrap())),
    )
    .await;
    let row = composite["rows"].as_array().unwrap().iter().find(|r| r["name"] == KAIYUAN).unwrap();
    assert_eq!(row["panel"], 89.0, "the panel's average is part of the composite: {row}");
    let r = post(&community, &cc, t.url(&format!("/api/v1/bulletins/{bid}/scores")), json!({ "unit": unit, "score": 100 })).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "a unit does not score itself");
    let e = assert_error(
        answer(&items[0], json!({ "outcome": "fixed", "note": "补充" })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
    )
    .await;
    assert!(e["message"].as_str().unwrap().contains("办结"), "{e}");
    // The others' notices pass their deadline (3 … 5 working days): overdue, escalated to the
    // subdistrict, where the dispatcher sees them.
    clock.fetch_add(20 * 86_400_000, Ordering::SeqCst);
    let report = t.app.scan_deadlines().await.unwrap();
    let open_others = notices.iter().filter(|n| n["id"] != nid.as_str()).count();
    assert_eq!(report.notices_escalated, open_others);
    let (dispatcher, _) = t.login("dispatcher").await;
    let theirs = get_json(&dispatcher, t.url("/api/v1/notices")).await;
    let overdue: Vec<&Value> = theirs.as_array().unwrap().iter().filter(|n| n["status"] == "overdue").collect();
    assert_eq!(overdue.len(), open_others);
    assert_eq!(t.app.scan_deadlines().await.unwrap().notices_escalated, 0, "escalated once");
    // Three weeks on, the next bulletin reports what the last one's lists came to.
    let later = inspect_a_week(&t).await;
    let next = draft(&t, &later).await;
    let last = &next["content"]["last_outcome"];
    let listed: i64 = notices.iter().map(|n| n["items"].as_i64().unwrap()).sum();
    assert_eq!(last["label"], issued["label"]);
    assert_eq!(last["items"].as_i64(), Some(listed));
    assert_eq!(last["fixed"], 1);
    assert_eq!(last["not_fixed"].as_i64(), Some(items.len() as i64 - 1));
    assert_eq!(last["unanswered"].as_i64(), Some(listed - items.len() as i64));
    assert_eq!(
        next["content"]["previous"]["inspections"], issued["content"]["figures"]["inspections"],
        "the change is against the last bulletin"
    );
}

#[tokio::test]
async fn a_correction_is_a_new_version_and_bad_input_gets_clear_messages() {
    let t = spawn_demo().await;
    let s = inspect_a_week(&t).await;
    let url = t.url("/api/v1/bulletins");
    // No inspections in the period; an impossible period; a custom period without its end.
    let r = post(&s.inspector, &s.csrf, url.clone(), json!({ "kind": "month", "from": "2020-03-01" })).await;
    let e = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    assert!(e["message"].as_str().unwrap().contains("没有督查记录"), "{e}");
    let r = post(&s.inspector, &s.csrf, url.clone(), json!({ "kind": "custom", "from": "2026-12-01", "to": "2026-11-01" })).await;
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    let r = post(&s.inspector, &s.csrf, url.clone(), json!({ "kind": "custom", "from": "2026-12-01" })).await;
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    let r = post(&s.inspector, &s.csrf, url.clone(), json!({ "kind": "fortnight" })).await;
    assert_eq!(r.status().as_u16() / 100, 4);
    // A grid is not an area bulletins are written for; an unknown code is not found.
    let r = post(&s.inspector, &s.csrf, url.clone(), json!({ "kind": "week", "from": s.day.to_string(), "area": "370115001001001" })).await;
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    let r = post(&s.inspector, &s.csrf, url.clone(), json!({ "kind": "week", "from": s.day.to_string(), "area": "999999" })).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // A draft cannot be corrected; an issued one can, as a new version of the same number.
    let b = draft(&t, &s).await;
    let id = b["id"].as_str().unwrap().to_string();
    let r = post(&s.inspector, &s.csrf, t.url(&format!("/api/v1/bulletins/{id}/correct")), json!({})).await;
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    let issued: Value = issue(&t, &s, &b).await.json().await.unwrap();
    let r = post(&s.inspector, &s.csrf, t.url(&format!("/api/v1/bulletins/{id}/correct")), json!({})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let fix: Value = r.json().await.unwrap();
    assert_eq!((fix["version"].as_i64(), fix["status"].as_str()), (Some(2), Some("draft")));
    let again: Value =
        post(&s.inspector, &s.csrf, t.url(&format!("/api/v1/bulletins/{id}/correct")), json!({})).await.json().await.unwrap();
    assert_eq!(again["id"], fix["id"], "one open correction");
    let fid = fix["id"].as_str().unwrap().to_string();
    let r = s
        .inspector
        .put(t.url(&format!("/api/v1/bulletins/{fid}")))
        .header("X-CSRF-Token", &s.csrf)
        .json(&json!({ "revision": 0, "title": "关于济阳街道创城督查情况的通报(更正)" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let fixed: Value = r.json().await.unwrap();
    let done: Value = issue(&t, &s, &fixed).await.json().await.unwrap();
    assert_eq!(done["label"], issued["label"], "the correction keeps the number");
    assert_eq!(done["version"], 2);
    let old = get_json(&s.inspector, t.url(&format!("/api/v1/bulletins/{id}"))).await;
    assert_eq!(old["status"], "superseded");
    assert_eq!(old["content"]["title"], issued["content"]["title"], "the old version is never edited in place");
    assert_eq!(done["notices"].as_array().unwrap().len(), issued["notices"].as_array().unwrap().len(), "the notices stay those first sent");
    let (text, _) = docx_text(&bytes(&s.inspector, t.url(&format!("/api/v1/bulletins/{fid}/document.docx"))).await);
    assert!(text.contains("第 2 版"), "the corrected document says it is a correction");

    // A photo gone from the store: the document still comes, saying so.
    let b2 = draft(&t, &s).await;
    let shown = b2["content"]["problems"][0]["photo_id"].as_str().unwrap();
    let (_, photo) = s.photos.iter().find(|(id, _)| id == shown).unwrap();
    let sha = hex::encode(sha2::Sha256::digest(photo));
    std::fs::remove_file(t.dir.path().join("data").join("blobs").join(&sha[..2]).join(&sha))
        .or_else(|_| std::fs::remove_file(find_blob(t.dir.path(), &sha)))
        .unwrap();
    let (text, _) =
        docx_text(&bytes(&s.inspector, t.url(&format!("/api/v1/bulletins/{}/document.docx", b2["id"].as_str().unwrap()))).await);
    assert!(text.contains("照片已不存在"), "the missing photo is named");
}

/// Where a blob lies under the test's directory.
fn find_blob(dir: &std::path::Path, sha: &str) -> std::path::PathBuf {
    fn walk(d: &std::path::Path, sha: &str) -> Option<std::path::PathBuf> {
        for e in std::fs::read_dir(d).ok()?.flatten() {
            let p = e.path();
            if p.is_dir() {
                if let Some(f) = walk(&p, sha) {
                    return Some(f);
                }
            } else if p.file_name().is_some_and(|n| n == sha) {
                return Some(p);
            }
        }
        None
    }
    walk(dir, sha).expect("the blob exists")
}
