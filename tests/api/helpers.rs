//! Spawns the real application on port 0 with a database of its own: SQLite in a temporary
//! directory, or a fresh PostgreSQL database when TEST_DATABASE_URL is set.

use std::sync::Once;

use std::sync::Arc;
use std::sync::atomic::AtomicI64;

use chuangcheng::app::Clock;
use chuangcheng::config::{ConfigLayer, Secret};
use chuangcheng::{App, Config};
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;
use tempfile::TempDir;

pub struct TestApp {
    pub base: String,
    pub app: App,
    pub dir: TempDir,
}

static NOTICE: Once = Once::new();

pub fn test_config(dir: &TempDir) -> Config {
    let database_url = match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => {
            // When PostgreSQL is asked for, failing to reach it fails the test: never a
            // silent fallback to SQLite.
            let fresh = chuangcheng::store::testing::fresh_postgres_database(&url)
                .unwrap_or_else(|e| panic!("TEST_DATABASE_URL is set but unusable: {e}"));
            Some(Secret::new(fresh))
        }
        _ => {
            NOTICE.call_once(|| {
                eprintln!(
                    "\n*** TEST_DATABASE_URL is not set: these tests run on SQLite only. \
                     Set TEST_DATABASE_URL=postgres://… to run them on PostgreSQL. ***\n"
                )
            });
            None
        }
    };
    ConfigLayer {
        data_dir: Some(dir.path().to_path_buf()),
        database_url,
        listen: Some("127.0.0.1:0".parse().unwrap()),
        grid_reload_seconds: Some(1),
        ..Default::default()
    }
    .resolve()
    .unwrap()
}

pub fn backend_name() -> &'static str {
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.trim().is_empty()) { "postgres" } else { "sqlite" }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Clock::System).await
}

pub async fn spawn_app_with(clock: Clock) -> TestApp {
    spawn_configured(clock, |_| {}).await
}

/// The app with a configuration the test adjusts.
pub async fn spawn_configured(clock: Clock, adjust: impl FnOnce(&mut Config)) -> TestApp {
    // Server-side errors (500s) show up in the failing test's output.
    let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter("warn").try_init();
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(&dir);
    adjust(&mut config);
    let app = App::build_with_clock(config, clock).await.expect("app builds");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let served = app.clone();
    tokio::spawn(async move { chuangcheng::server::serve(served, listener, std::future::pending()).await });
    TestApp { base, app, dir }
}

/// The demo subdistrict, served, on a clock the test moves by hand.
pub async fn spawn_demo_at(ms: i64) -> (TestApp, Arc<AtomicI64>) {
    let clock = Arc::new(AtomicI64::new(ms));
    let t = spawn_app_with(Clock::Manual(clock.clone())).await;
    assert!(t.app.seed_demo().await.expect("demo seeds").is_some());
    (t, clock)
}

/// The demo subdistrict, served.
pub async fn spawn_demo() -> TestApp {
    let t = spawn_app().await;
    let logins = t.app.seed_demo().await.expect("demo seeds");
    assert!(logins.is_some(), "a fresh database gets the demo");
    t
}

pub const PASSWORD: &str = chuangcheng::app::demo::DEMO_PASSWORD;

pub fn client() -> Client {
    Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// GET as `who` and read the JSON answer.
pub async fn get_json(who: &Client, url: String) -> Value {
    who.get(url).send().await.unwrap().json().await.unwrap()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        client().get(self.url(path)).send().await.unwrap()
    }

    /// A client logged in through the JSON API, with the session's CSRF token.
    pub async fn login(&self, username: &str) -> (Client, String) {
        let c = client();
        let r = c
            .post(self.url("/api/v1/auth/login"))
            .json(&serde_json::json!({ "username": username, "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "login as {username}");
        let body: Value = r.json().await.unwrap();
        let csrf = body["csrf_token"].as_str().unwrap().to_string();
        (c, csrf)
    }
}

/// Asserts a JSON error answer: status, stable code, and a non-empty message.
pub async fn assert_error(r: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(r.status(), status, "status for expected error {code}");
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/json"), "errors are JSON");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    body
}

pub fn is_chinese(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// A point well inside the grid with this code (its centroid), from the public GeoJSON.
pub async fn grid_centre(t: &TestApp, code: &str) -> (f64, f64) {
    use geo::Centroid;
    let fc: geojson::FeatureCollection = t.get("/api/v1/grids").await.text().await.unwrap().parse().unwrap();
    let f = fc.features.iter().find(|f| f.properties.as_ref().unwrap()["code"] == code).expect("grid exists");
    let shape = geo::MultiPolygon::<f64>::try_from(&f.geometry.as_ref().unwrap().value).unwrap();
    let c = shape.centroid().unwrap();
    (c.y(), c.x())
}
