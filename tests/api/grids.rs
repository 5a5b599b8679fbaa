use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

/// A rectangle grid feature as a GIS export would have it.
pub fn feature(code: &str, community: &str, lon: (f64, f64), lat: (f64, f64)) -> String {
    format!(
        r#"{{"type":"Feature","properties":{{"code":"{code}","name":"测试网格{code}","community":"{community}"}},"geometry":{{"type":"Polygon","coordinates":[[[{a},{c}],[{b},{c}],[{b},{d}],[{a},{d}],[{a},{c}]]]}}}}"#,
        a = lon.0,
        b = lon.1,
        c = lat.0,
        d = lat.1
    )
}

pub fn collection(features: &[String]) -> String {
    format!(r#"{{"type":"FeatureCollection","features":[{}]}}"#, features.join(","))
}

async fn grid_count(t: &TestApp) -> usize {
    let fc: geojson::FeatureCollection = t.get("/api/v1/grids").await.text().await.unwrap().parse().unwrap();
    fc.features.len()
}

async fn import(t: &TestApp, who: &str, body: String) -> reqwest::Response {
    let (c, csrf) = t.login(who).await;
    c.post(t.url("/api/v1/grids/import")).header("X-CSRF-Token", csrf).body(body).send().await.unwrap()
}

#[tokio::test]
async fn admin_imports_a_grid_and_locate_finds_it_at_once() {
    let t = spawn_demo().await;
    // East of the demo area, sharing its edge at 117.200: touching is not overlapping.
    let file = collection(&[feature("370115001001099", "开元社区", (117.200, 117.205), (36.960, 36.965))]);
    let r = import(&t, "admin", file.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let summary: Value = r.json().await.unwrap();
    assert_eq!(summary["created"], 1);
    assert_eq!(grid_count(&t).await, 151);
    let body: Value = t.get("/api/v1/locate?lat=36.962&lon=117.203").await.json().await.unwrap();
    assert_eq!(body["grid"]["code"], "370115001001099");
    assert_eq!(body["community"]["name"], "开元社区");
    // Importing the same file again updates instead of duplicating.
    let summary: Value = import(&t, "admin", file).await.json().await.unwrap();
    assert_eq!(summary["updated"], 1);
    assert_eq!(grid_count(&t).await, 151);
}

#[tokio::test]
async fn a_bad_file_is_refused_whole_with_feature_numbers() {
    let t = spawn_demo().await;
    let file = collection(&[
        feature("370115001001098", "开元社区", (117.205, 117.210), (36.960, 36.965)),
        // overlaps demo grids
        feature("370115001001097", "开元社区", (117.170, 117.175), (36.970, 36.975)),
        feature("370115001999001", "不存在的社区", (117.215, 117.220), (36.960, 36.965)),
        feature("370115001001098", "开元社区", (117.225, 117.230), (36.960, 36.965)),
    ]);
    let r = import(&t, "admin", file).await;
    let body = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_file").await;
    let rows: Vec<u64> = body["problems"].as_array().unwrap().iter().map(|p| p["row"].as_u64().unwrap()).collect();
    assert!(rows.contains(&2) && rows.contains(&3) && rows.contains(&4), "{body}");
    assert!(!rows.contains(&1), "feature 1 is fine: {body}");
    assert!(body["problems"].as_array().unwrap().iter().all(|p| is_chinese(p["message"].as_str().unwrap())));
    // Nothing was imported, not even the good feature.
    assert_eq!(grid_count(&t).await, 150);
    let r = t.get("/api/v1/locate?lat=36.962&lon=117.207").await;
    assert_error(r, StatusCode::NOT_FOUND, "outside_grids").await;
}

#[tokio::test]
async fn malformed_geojson_is_a_422_not_a_500() {
    let t = spawn_demo().await;
    for body in ["{not json", r#"{"type":"Point","coordinates":[1,2]}"#, r#"{"type":"FeatureCollection","features":[]}"#] {
        let r = import(&t, "admin", body.to_string()).await;
        let v = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_file").await;
        assert_eq!(v["problems"][0]["row"], 0, "{v}");
    }
}

#[tokio::test]
async fn community_admin_imports_only_into_their_community() {
    let t = spawn_demo().await;
    let other = collection(&[feature("370115001002099", "纬二路社区", (117.200, 117.205), (36.970, 36.975))]);
    let r = import(&t, "community", other).await;
    assert_error(r, StatusCode::FORBIDDEN, "forbidden").await;
    let own = collection(&[feature("370115001001099", "开元社区", (117.200, 117.205), (36.970, 36.975))]);
    assert_eq!(import(&t, "community", own).await.status(), StatusCode::OK);
    let r = import(&t, "leader", collection(&[])).await;
    assert_error(r, StatusCode::FORBIDDEN, "forbidden").await;
    let r = client().post(t.url("/api/v1/grids/import")).body("{}").send().await.unwrap();
    assert_error(r, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}
