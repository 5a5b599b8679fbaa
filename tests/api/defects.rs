//! One test per defect found in the review of the module kit (issue 13): each fails on the
//! code before the fix.

use chuangcheng::app::Clock;
use chuangcheng::domain::calendar::beijing_ms;
use chuangcheng::domain::org::OrgKind;
use chuangcheng::store::{StoreError, org};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

const GRID: &str = "370115001001001";

/// The case export stopped at 500 rows without a word (the demo has about 1,300 cases).
#[tokio::test]
async fn exports_carry_every_case_at_any_size() {
    use calamine::Reader;
    let (t, _clock) = spawn_demo_at(beijing_ms(2026, 11, 30, 18, 0)).await;
    let n = t.app.seed_demo_cases(30).await.unwrap();
    assert!(n > 1_000, "the demo month: {n}");
    let (leader, _) = t.login("leader").await;
    let bytes = leader.get(t.url("/api/v1/cases/export.xlsx")).send().await.unwrap().bytes().await.unwrap();
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    assert_eq!(sheet.height(), n + 3, "title, notes, header and every one of the {n} cases");
    let numbers: std::collections::HashSet<String> = (3..sheet.height()).map(|r| sheet.get((r, 0)).unwrap().to_string()).collect();
    assert_eq!(numbers.len(), n, "each case once");
    let csv = leader.get(t.url("/api/v1/cases/export.csv")).send().await.unwrap().text().await.unwrap();
    let header = csv.lines().position(|l| l.starts_with("案卷编号,")).unwrap();
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(csv.as_bytes());
    assert_eq!(reader.records().count(), header + 1 + n, "the CSV too");
}

/// The to-do took the 500 newest cases and then sorted, so the longest-waiting dropped out.
#[tokio::test]
async fn the_to_do_puts_the_longest_waiting_first_at_any_size() {
    let (t, clock) = spawn_demo_at(beijing_ms(2026, 11, 30, 9, 0)).await;
    let (worker, w) = t.login("gridworker").await;
    let (dispatcher, dc) = t.login("dispatcher").await;
    let (lat, lon) = grid_centre(&t, GRID).await;
    let report = |description: String| {
        let (worker, w, url) = (worker.clone(), w.clone(), t.url("/api/v1/cases"));
        async move {
            let body = json!({ "category": "0401", "description": description, "lat": lat, "lon": lon });
            let r = worker.post(url).header("X-CSRF-Token", w).json(&body).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::CREATED);
            r.json::<Value>().await.unwrap()["case"]["id"].as_str().unwrap().to_string()
        }
    };
    let oldest = report("等得最久的".into()).await;
    // Dispatched early, so its handling deadline comes first.
    let urgent = report("最急的".into()).await;
    for action in ["register", "dispatch"] {
        let r = dispatcher
            .post(t.url(&format!("/api/v1/cases/{urgent}/actions/{action}")))
            .header("X-CSRF-Token", &dc)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    clock.fetch_add(60_000, std::sync::atomic::Ordering::SeqCst);
    for chunk in (0..520).collect::<Vec<_>>().chunks(20) {
        let all = chunk.iter().map(|i| tokio::spawn(report(format!("新报告 {i}"))));
        for h in all {
            h.await.unwrap();
        }
    }
    let todo: Vec<Value> = get_json(&dispatcher, t.url("/api/v1/todo")).await.as_array().cloned().unwrap();
    assert_eq!(todo.len(), 200, "the most urgent 200");
    assert_eq!(todo[0]["id"], oldest.as_str(), "the report waiting longest comes first, whatever is newer");
    let reported: Vec<i64> = todo.iter().map(|c| c["reported_at"].as_i64().unwrap()).collect();
    assert!(reported.windows(2).all(|w| w[0] <= w[1]), "oldest first among reports without a deadline");
    let (handler, _) = t.login("handler").await;
    let theirs: Vec<Value> = get_json(&handler, t.url("/api/v1/todo")).await.as_array().cloned().unwrap();
    assert_eq!(theirs[0]["id"], urgent.as_str(), "the handler's soonest deadline first");
}

/// `/open311/v2/media/{id}` served any uploaded photo to anyone.
#[tokio::test]
async fn only_photos_their_reporter_made_public_are_public() {
    let t = spawn_demo().await;
    let (worker, w) = t.login("gridworker").await;
    let (lat, lon) = grid_centre(&t, GRID).await;
    let upload = || {
        let (worker, w, url) = (worker.clone(), w.clone(), t.url("/api/v1/photos"));
        async move {
            let form = reqwest::multipart::Form::new()
                .part("photo", reqwest::multipart::Part::bytes(crate::photos::camera_jpeg(lat, lon)).file_name("a.jpg"));
            let v: Value = worker.post(url).header("X-CSRF-Token", w).multipart(form).send().await.unwrap().json().await.unwrap();
            v["id"].as_str().unwrap().to_string()
        }
    };
    let media = |id: &str| {
        let url = t.url(&format!("/open311/v2/media/{id}"));
        async move { client().get(url).send().await.unwrap().status() }
    };
    // Uploaded and never attached: nobody but its uploader sees it.
    let loose = upload().await;
    assert_eq!(media(&loose).await, StatusCode::NOT_FOUND);
    let (leader, _) = t.login("leader").await;
    assert_eq!(leader.get(t.url(&format!("/api/v1/photos/{loose}"))).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    // Attached to a case without leave to publish: staff who read the case see it, the public not.
    let private = upload().await;
    let body = json!({ "category": "0401", "description": "占道", "lat": lat, "lon": lon, "photos": [private] });
    let r = worker.post(t.url("/api/v1/cases")).header("X-CSRF-Token", &w).json(&body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(media(&private).await, StatusCode::NOT_FOUND);
    assert_eq!(leader.get(t.url(&format!("/api/v1/photos/{private}"))).send().await.unwrap().status(), StatusCode::OK);
    // With the reporter's leave: public.
    let public = upload().await;
    let body = json!({ "category": "0401", "description": "占道", "lat": lat, "lon": lon, "photos": [public], "photos_public": true });
    let created: Value =
        worker.post(t.url("/api/v1/cases")).header("X-CSRF-Token", &w).json(&body).send().await.unwrap().json().await.unwrap();
    assert_eq!(media(&public).await, StatusCode::OK);
    let number = created["case"]["number"].as_str().unwrap();
    let listed: Value = client().get(t.url(&format!("/open311/v2/requests/{number}.json"))).send().await.unwrap().json().await.unwrap();
    assert!(listed[0]["media_url"].as_str().unwrap().ends_with(&public), "{listed}");
    // Nobody attaches someone else's photo to publish it.
    let (inspector, ic) = t.login("inspector").await;
    let body = json!({ "category": "0401", "description": "借图", "lat": lat, "lon": lon, "photos": [loose], "photos_public": true });
    let r = inspector.post(t.url("/api/v1/cases")).header("X-CSRF-Token", &ic).json(&body).send().await.unwrap();
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    assert_eq!(media(&loose).await, StatusCode::NOT_FOUND);
}

/// Any `Authorization` header or session cookie, valid or not, skipped the per-IP limit.
#[tokio::test]
async fn only_a_verified_caller_skips_the_anonymous_limit() {
    let t = spawn_configured(Clock::System, |c| c.public_per_minute = 5.0).await;
    t.app.seed_demo().await.unwrap();
    let locate = t.url("/api/v1/locate?lat=36.975&lon=117.175");
    let count_429 = |header: (&'static str, &'static str)| {
        let url = locate.clone();
        async move {
            let mut limited = 0;
            for _ in 0..20 {
                let r = client().get(&url).header(header.0, header.1).send().await.unwrap();
                if r.status() == StatusCode::TOO_MANY_REQUESTS {
                    limited += 1;
                }
            }
            limited
        }
    };
    assert!(count_429(("Authorization", "Bearer junk")).await >= 14, "a made-up token is no way around the limit");
    let t = spawn_configured(Clock::System, |c| c.public_per_minute = 5.0).await;
    t.app.seed_demo().await.unwrap();
    let (staff, _) = t.login("dispatcher").await;
    let locate = t.url("/api/v1/locate?lat=36.975&lon=117.175");
    let mut limited = 0;
    for _ in 0..20 {
        let r = client().get(&locate).header("Cookie", "cc_session=made-up").send().await.unwrap();
        limited += (r.status() == StatusCode::TOO_MANY_REQUESTS) as usize;
    }
    assert!(limited >= 14, "nor is a made-up session cookie: {limited} of 20 limited");
    // A real session is not limited.
    for _ in 0..20 {
        assert_eq!(staff.get(&locate).send().await.unwrap().status(), StatusCode::OK);
    }
}

/// The SQLite writer ignored the results of SAVEPOINT, RELEASE and ROLLBACK TO: a job that
/// ended the group's transaction left the others committed one by one yet told they failed.
/// On PostgreSQL a job's own ROLLBACK was acknowledged as committed.
#[tokio::test]
async fn a_job_cannot_end_the_transaction_of_the_jobs_beside_it() {
    let t = spawn_app().await;
    let store = t.app.store().clone();
    let district = store
        .write(|c| org::insert_unit(c, org::NewUnit { kind: OrgKind::District, code: "370115", name: "济阳区", parent: None, sort: 0 }))
        .await
        .unwrap();
    let mut handles = Vec::new();
    for i in 0..120i64 {
        let (store, district) = (store.clone(), district.clone());
        handles.push(tokio::spawn(async move {
            let code = format!("370115{i:03}");
            let stored = code.clone();
            let result = store
                .write(move |c| {
                    org::insert_unit(
                        c,
                        org::NewUnit { kind: OrgKind::Subdistrict, code: &code, name: "街道", parent: Some(&district), sort: i },
                    )?;
                    if i % 10 == 0 {
                        // A misbehaving job tries to end the transaction it shares.
                        let statement = ["ROLLBACK", "COMMIT", "RELEASE job", "ROLLBACK TO job"][(i / 10 % 4) as usize];
                        c.batch(statement)?;
                    }
                    Ok::<_, StoreError>(())
                })
                .await;
            (stored, result.is_ok(), i % 10 == 0)
        }));
    }
    let mut acknowledged = Vec::new();
    for h in handles {
        let (code, ok, misbehaved) = h.await.unwrap();
        if misbehaved {
            assert!(!ok, "a job that tries to end the transaction is refused");
        }
        if ok {
            acknowledged.push(code);
        }
    }
    assert!(acknowledged.len() >= 108, "the well-behaved jobs commit: {}", acknowledged.len());
    let stored: Vec<String> =
        store.read(|c| org::list_units(c, &[OrgKind::Subdistrict], None)).await.unwrap().into_iter().map(|u| u.code).collect();
    acknowledged.sort();
    let mut stored_sorted = stored.clone();
    stored_sorted.sort();
    assert_eq!(stored_sorted, acknowledged, "stored exactly what was acknowledged, nothing more, nothing less");
}

/// An unknown photo answered "thing.photo不存在".
#[tokio::test]
async fn a_missing_photo_is_named_in_words() {
    let t = spawn_demo().await;
    let (leader, _) = t.login("leader").await;
    let r = leader.get(t.url("/api/v1/photos/no-such-photo")).send().await.unwrap();
    let body = assert_error(r, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(body["message"], "照片不存在");
    let r = leader.get(t.url("/api/v1/photos/no-such-photo")).header("Accept-Language", "en").send().await.unwrap();
    let body = assert_error(r, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(body["message"], "Photo not found");
}

/// A new Open311 request answered an empty `agency_responsible`.
#[tokio::test]
async fn a_new_open311_request_names_who_answers_for_its_grid() {
    let t = spawn_demo().await;
    let key = t.app.create_api_key(&chuangcheng::domain::authz::Actor::console(), "随手拍").await.unwrap().1;
    let (lat, lon) = grid_centre(&t, GRID).await;
    let form = [
        ("api_key", key.as_str()),
        ("service_code", "0601"),
        ("lat", &lat.to_string()),
        ("long", &lon.to_string()),
        ("description", "楼道堆满杂物"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()));
    let created: Value = client().post(t.url("/open311/v2/requests.json")).form(&form).send().await.unwrap().json().await.unwrap();
    let id = created[0]["service_request_id"].as_str().unwrap();
    let got: Value = client().get(t.url(&format!("/open311/v2/requests/{id}.json"))).send().await.unwrap().json().await.unwrap();
    let agency = got[0]["agency_responsible"].as_str().unwrap();
    assert!(agency.starts_with("开元社区"), "the grid's community answers for it until dispatched: {agency:?}");
    let info = t.app.directory().grids().find(|g| g.code == GRID).unwrap().clone();
    for sponsor in &info.sponsor_units {
        assert!(agency.contains(sponsor.as_str()), "and its sponsor units: {agency:?}");
    }
}
