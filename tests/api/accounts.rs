use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

const KAIYUAN: &str = "370115001001"; // the demo community admin's community
const WEIERLU: &str = "370115001002"; // another community

#[tokio::test]
async fn login_me_and_logout_through_the_api() {
    let t = spawn_demo().await;
    let c = client();
    let r =
        c.post(t.url("/api/v1/auth/login")).json(&json!({ "username": "dispatcher", "password": "wrong-password" })).send().await.unwrap();
    assert_error(r, StatusCode::UNAUTHORIZED, "bad_credentials").await;
    let r = c.post(t.url("/api/v1/auth/login")).json(&json!({ "username": "nobody", "password": PASSWORD })).send().await.unwrap();
    assert_error(r, StatusCode::UNAUTHORIZED, "bad_credentials").await;

    let r = c.post(t.url("/api/v1/auth/login")).json(&json!({ "username": "dispatcher", "password": PASSWORD })).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let body: Value = r.json().await.unwrap();
    let csrf = body["csrf_token"].as_str().unwrap().to_string();
    assert_eq!(body["roles"][0]["role"], "dispatcher");

    let me: Value = c.get(t.url("/api/v1/auth/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["person_id"], body["person_id"]);

    // Logging out without the CSRF token is refused; with it, the session ends.
    let r = c.post(t.url("/api/v1/auth/logout")).send().await.unwrap();
    assert_error(r, StatusCode::FORBIDDEN, "csrf_invalid").await;
    let r = c.post(t.url("/api/v1/auth/logout")).header("X-CSRF-Token", &csrf).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = c.get(t.url("/api/v1/auth/me")).send().await.unwrap();
    assert_error(r, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

#[tokio::test]
async fn malformed_login_bodies_are_400s() {
    let t = spawn_demo().await;
    let r =
        client().post(t.url("/api/v1/auth/login")).header("content-type", "application/json").body("{\"username\": ").send().await.unwrap();
    assert_error(r, StatusCode::BAD_REQUEST, "bad_request").await;
}

/// A person id from a unit's page, as seen by `viewer`.
async fn someone_in(t: &TestApp, viewer: &reqwest::Client, code: &str) -> Value {
    let r = viewer.get(t.url(&format!("/api/v1/org/units/{code}"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "reading {code}");
    let v: Value = r.json().await.unwrap();
    v["people"].as_array().unwrap().iter().find(|p| p["role"] == "grid_worker").unwrap().clone()
}

#[tokio::test]
async fn community_admin_sees_and_changes_only_their_community() {
    let t = spawn_demo().await;
    let (admin, _) = t.login("admin").await;
    let (community, csrf) = t.login("community").await;

    let own = someone_in(&t, &community, KAIYUAN).await;
    assert!(own["phone"].as_str().unwrap().contains('*'), "phones are masked for every role: {own}");
    assert_eq!(own["may_reveal"], true, "a community admin may ask to see their own people's phones: {own}");
    let r = community.get(t.url(&format!("/api/v1/org/units/{WEIERLU}"))).send().await.unwrap();
    assert_error(r, StatusCode::NOT_FOUND, "not_found").await;

    let units: Vec<Value> = community.get(t.url("/api/v1/org/units?kind=community")).send().await.unwrap().json().await.unwrap();
    assert_eq!(units.len(), 1, "only their own community is listed: {units:?}");
    assert_eq!(units[0]["code"], KAIYUAN);

    // Change a phone in their community: allowed, and visible afterwards.
    let id = own["id"].as_str().unwrap();
    let r = community
        .patch(t.url(&format!("/api/v1/people/{id}")))
        .header("X-CSRF-Token", &csrf)
        .json(&json!({ "phone": "13900000000" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = community
        .post(t.url("/api/v1/reveal"))
        .header("X-CSRF-Token", &csrf)
        .json(&json!({ "record": "person", "id": id, "reason": "核对新号码" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let shown: Value = r.json().await.unwrap();
    assert_eq!(shown["fields"]["phone"], "13900000000", "the changed phone, shown on request: {shown}");

    // Someone in another community: not even visible.
    let other = someone_in(&t, &admin, WEIERLU).await;
    let r = community
        .patch(t.url(&format!("/api/v1/people/{}", other["id"].as_str().unwrap())))
        .header("X-CSRF-Token", &csrf)
        .json(&json!({ "phone": "13900000001" }))
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::NOT_FOUND, "not_found").await;

    // The same request without the CSRF token is refused before anything else.
    let r = community.patch(t.url(&format!("/api/v1/people/{id}"))).json(&json!({ "phone": "13900000002" })).send().await.unwrap();
    assert_error(r, StatusCode::FORBIDDEN, "csrf_invalid").await;
    let r = community
        .patch(t.url(&format!("/api/v1/people/{id}")))
        .header("X-CSRF-Token", "forged")
        .json(&json!({ "phone": "13900000002" }))
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::FORBIDDEN, "csrf_invalid").await;
}

#[tokio::test]
async fn leader_reads_everything_below_but_changes_nothing() {
    let t = spawn_demo().await;
    let (leader, csrf) = t.login("leader").await;
    let units: Vec<Value> = leader.get(t.url("/api/v1/org/units?kind=community")).send().await.unwrap().json().await.unwrap();
    assert_eq!(units.len(), 9);
    let person = someone_in(&t, &leader, WEIERLU).await;
    let r = leader
        .patch(t.url(&format!("/api/v1/people/{}", person["id"].as_str().unwrap())))
        .header("X-CSRF-Token", &csrf)
        .json(&json!({ "phone": "13900000003" }))
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::FORBIDDEN, "forbidden").await;
    // The district above the leader's subdistrict is out of reach.
    let r = leader.get(t.url("/api/v1/org/units/370115")).send().await.unwrap();
    assert_error(r, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn grid_worker_sees_own_grid_with_masked_phones() {
    let t = spawn_demo().await;
    let (worker, _) = t.login("gridworker").await;
    let me: Value = worker.get(t.url("/api/v1/auth/me")).send().await.unwrap().json().await.unwrap();
    let grid = me["roles"][0]["org_unit_id"].as_str().unwrap().to_string();
    assert!(!grid.is_empty());
    let units: Vec<Value> = worker.get(t.url("/api/v1/org/units?kind=grid")).send().await.unwrap().json().await.unwrap();
    assert_eq!(units.len(), 1);
    let code = units[0]["code"].as_str().unwrap();
    let view: Value = worker.get(t.url(&format!("/api/v1/org/units/{code}"))).send().await.unwrap().json().await.unwrap();
    let phone = view["people"][0]["phone"].as_str().unwrap();
    assert!(phone.contains("****"), "grid workers do not see unmasked personal data: {phone}");
    let r = worker.get(t.url(&format!("/api/v1/org/units/{KAIYUAN}"))).send().await.unwrap();
    assert_error(r, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn api_tokens_authenticate_without_cookies_and_forged_ones_fail() {
    let t = spawn_demo().await;
    let (c, csrf) = t.login("community").await;
    let r = c
        .post(t.url("/api/v1/auth/tokens"))
        .header("X-CSRF-Token", &csrf)
        .json(&json!({ "name": "12345 hotline import" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let token = r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string();

    let bare = client();
    let me: Value = bare.get(t.url("/api/v1/auth/me")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["roles"][0]["role"], "community_admin");
    // Token callers need no CSRF token, but their scope is still their community.
    let r = bare.get(t.url(&format!("/api/v1/org/units/{WEIERLU}"))).bearer_auth(&token).send().await.unwrap();
    assert_error(r, StatusCode::NOT_FOUND, "not_found").await;
    let r = bare.get(t.url("/api/v1/auth/me")).bearer_auth("cc_forged").send().await.unwrap();
    assert_error(r, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let r = bare.get(t.url("/api/v1/org/units")).send().await.unwrap();
    assert_error(r, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}
