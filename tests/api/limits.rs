//! Protection: per-IP limits for anonymous callers, and login throttling.

use chuangcheng::app::Clock;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn anonymous_callers_have_a_per_ip_budget() {
    let t = spawn_configured(Clock::System, |c| c.public_per_minute = 3.0).await;
    t.app.seed_demo().await.unwrap();
    let (staff, _) = t.login("dispatcher").await; // one anonymous request (the login itself)
    for _ in 0..2 {
        assert_eq!(t.get("/api/v1/locate?lat=36.975&lon=117.175").await.status(), StatusCode::OK);
    }
    let r = t.get("/api/v1/locate?lat=36.975&lon=117.175").await;
    assert!(r.headers().contains_key("retry-after"));
    assert_error(r, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // Logged-in staff are not held up by it.
    for _ in 0..5 {
        let r = staff.get(t.url("/api/v1/locate?lat=36.975&lon=117.175")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
    let locate = "/api/v1/locate?lat=36.975&lon=117.175";
    let from = |t: &TestApp, who: &'static str| {
        let url = t.url(locate);
        async move { client().get(url).header("X-Forwarded-For", who).send().await.unwrap().status() }
    };
    // No proxy configured: a made-up header does not buy a fresh budget.
    let t = spawn_configured(Clock::System, |c| c.public_per_minute = 2.0).await;
    t.app.seed_demo().await.unwrap();
    assert_eq!(from(&t, "198.51.100.1").await, StatusCode::OK);
    assert_eq!(from(&t, "198.51.100.2").await, StatusCode::OK);
    assert_eq!(from(&t, "198.51.100.3").await, StatusCode::TOO_MANY_REQUESTS);

    // Behind a trusted proxy (the test client's own address), each client has its own budget.
    let t = spawn_configured(Clock::System, |c| {
        c.public_per_minute = 2.0;
        c.trusted_proxies = vec![chuangcheng::domain::net::parse_proxy("127.0.0.1").unwrap()];
    })
    .await;
    t.app.seed_demo().await.unwrap();
    for _ in 0..2 {
        assert_eq!(from(&t, "198.51.100.1").await, StatusCode::OK);
    }
    assert_eq!(from(&t, "198.51.100.1").await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(from(&t, "198.51.100.2").await, StatusCode::OK, "another client behind the same proxy");
    // Only the entry the proxy appended counts, not what the client put in front of it.
    assert_eq!(from(&t, "203.0.113.50, 198.51.100.1").await, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn repeated_wrong_passwords_pause_the_username() {
    let t = spawn_configured(Clock::System, |c| c.login_attempts = 3).await;
    t.app.seed_demo().await.unwrap();
    let login = |user: &'static str, password: &'static str| {
        let url = t.url("/api/v1/auth/login");
        async move { client().post(url).json(&json!({ "username": user, "password": password })).send().await.unwrap() }
    };
    for _ in 0..3 {
        assert_eq!(login("leader", "guess-1234").await.status(), StatusCode::UNAUTHORIZED);
    }
    let r = login("leader", PASSWORD).await;
    assert!(r.headers().contains_key("retry-after"));
    assert_error(r, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    assert_eq!(login("dispatcher", PASSWORD).await.status(), StatusCode::OK, "other usernames are unaffected");
}

#[tokio::test]
async fn a_request_running_past_the_timeout_gets_a_503_in_json() {
    use axum::routing::get;
    let slow = axum::Router::new()
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                "too late"
            }),
        )
        .route("/quick", get(|| async { "ok" }));
    let router = chuangcheng::server::with_timeout(slow, std::time::Duration::from_millis(200));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let client = reqwest::Client::new();
    let r = client.get(format!("http://{addr}/quick")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = client.get(format!("http://{addr}/slow")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "timeout");
    assert!(body["message"].as_str().unwrap().contains("秒"), "{body}");
}
