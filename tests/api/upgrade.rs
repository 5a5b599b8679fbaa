//! A store that an older release left, with data in it, upgraded by this binary: every
//! migration runs on rows, not only on empty tables, on both backends.

use std::sync::Arc;
use std::sync::atomic::AtomicI64;

use chuangcheng::app::Clock;
use chuangcheng::domain::calendar::beijing_ms;
use chuangcheng::store::{Store, schema, testing};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn a_store_at_migration_4_with_cases_upgrades_to_the_latest() {
    let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter("warn").try_init();
    let dir = tempfile::tempdir().unwrap();
    let config = test_config(&dir);
    let url = config.database_url.as_ref().map(|u| u.expose().to_string());
    // The release of migration 4: its schema, its rows.
    let photo = crate::photos::camera_jpeg(36.965, 117.155);
    let blobs = chuangcheng::files::BlobStore::new(dir.path());
    let sha = blobs.put(&photo).unwrap();
    let hash = chuangcheng::app::auth::hash_password(PASSWORD).unwrap();
    {
        let old = Store::open_at_version(dir.path(), url.as_deref(), 4).await.unwrap();
        let (h, s) = (hash.clone(), sha.clone());
        old.write(move |c| testing::seed_version_4(c, &testing::OldStoreFixture { password_hash: &h, photo_sha256: &s, thumb_sha256: &s }))
            .await
            .unwrap();
        assert_eq!(old.read(schema::applied_version).await.unwrap(), 4);
    }

    // This binary opens it: every later migration runs over the rows.
    let clock = Arc::new(AtomicI64::new(beijing_ms(2026, 11, 30, 10, 0)));
    let app = chuangcheng::App::build_with_clock(config, Clock::Manual(clock)).await.expect("the old store upgrades");
    assert_eq!(app.store().read(schema::applied_version).await.unwrap(), schema::latest_version());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(chuangcheng::server::serve(app.clone(), listener, std::future::pending()));

    let c = client();
    let r = c
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({ "username": "olddispatcher", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "the old account logs in");
    let csrf = r.json::<Value>().await.unwrap()["csrf_token"].as_str().unwrap().to_string();
    let case: Value = c.get(format!("{base}/api/v1/cases/JY20261130-0001")).send().await.unwrap().json().await.unwrap();
    assert_eq!(case["status"], "reported");
    assert_eq!(case["reporter_phone"], "139****5678");
    assert_eq!(case["grid"]["code"], "370115001001001");
    assert_eq!(case["photos_before"].as_array().unwrap().len(), 1);
    let todo: Vec<Value> = c.get(format!("{base}/api/v1/todo")).send().await.unwrap().json().await.unwrap();
    assert_eq!(todo.len(), 1, "the old case waits for the dispatcher");
    // The counters that came after migration 4 were counted from the old cases.
    let ind: Value = c.get(format!("{base}/api/v1/indicators?from=2026-11-01&to=2026-11-30")).send().await.unwrap().json().await.unwrap();
    assert_eq!(ind["total"]["reported"], 1, "{ind}");
    assert_eq!(app.recount_tallies(false).await.unwrap(), 0);
    // The citizen's photo was attached as public (it came with a citizen's report).
    let r = client().get(format!("{base}/open311/v2/media/ph-1")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().to_vec(), photo);
    // The day's numbers go on from where the old counter stood (the table was renamed).
    let body = json!({ "category": "0401", "description": "又一处摆摊", "lat": 36.966, "lon": 117.156 });
    let r = c.post(format!("{base}/api/v1/cases")).header("X-CSRF-Token", &csrf).json(&body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["case"]["number"], "JY20261130-0002");
    // And the old case goes round the loop.
    for action in ["register", "dispatch"] {
        let r = c
            .post(format!("{base}/api/v1/cases/JY20261130-0001/actions/{action}"))
            .header("X-CSRF-Token", &csrf)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{action}");
    }
    assert!(app.rebuild_matches("JY20261130-0001").await.unwrap(), "the row still equals the replay of its log");
}
