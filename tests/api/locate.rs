use chuangcheng::domain::coords::{LatLon, wgs84_to_gcj02};
use geo::{Centroid, MultiPolygon};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

/// The grids as the API serves them, parsed independently of the server's own index.
async fn features(t: &TestApp) -> Vec<(String, MultiPolygon<f64>, Value)> {
    let r = t.get("/api/v1/grids").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/geo+json");
    let fc: geojson::FeatureCollection = r.text().await.unwrap().parse().unwrap();
    fc.features
        .into_iter()
        .map(|f| {
            let shape = MultiPolygon::<f64>::try_from(&f.geometry.as_ref().unwrap().value).unwrap();
            let props = Value::Object(f.properties.unwrap());
            (props["code"].as_str().unwrap().to_string(), shape, props)
        })
        .collect()
}

fn centre(shape: &MultiPolygon<f64>) -> LatLon {
    let c = shape.centroid().unwrap();
    LatLon { lat: c.y(), lon: c.x() }
}

#[tokio::test]
async fn a_point_inside_gets_its_grid_community_worker_and_sponsor() {
    let t = spawn_demo().await;
    let grids = features(&t).await;
    assert_eq!(grids.len(), 150, "the demo has exactly 150 grids");
    for k in [0, 37, 149] {
        let (code, shape, props) = &grids[k];
        let p = centre(shape);
        let r = t.get(&format!("/api/v1/locate?lat={}&lon={}", p.lat, p.lon)).await;
        assert_eq!(r.status(), StatusCode::OK);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["grid"]["code"], code.as_str());
        assert_eq!(body["community"]["name"], props["community"]);
        assert!(code.starts_with(body["community"]["code"].as_str().unwrap()));
        let workers = body["grid_workers"].as_array().unwrap();
        assert_eq!(workers.len(), 1, "one grid worker per grid: {body}");
        let phone = workers[0]["phone"].as_str().unwrap();
        assert!(phone.contains("****"), "public answers mask phones: {phone}");
        assert!(!body["sponsor_units"].as_array().unwrap().is_empty(), "every community has a sponsor unit");
    }
}

#[tokio::test]
async fn gcj02_input_is_converted_before_locating() {
    let t = spawn_demo().await;
    let grids = features(&t).await;
    let (code, shape, _) = &grids[75];
    let p = centre(shape);
    let g = wgs84_to_gcj02(p);
    let r = t.get(&format!("/api/v1/locate?lat={}&lon={}&crs=gcj02", g.lat, g.lon)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["grid"]["code"], code.as_str());
    let lat = body["location"]["lat"].as_f64().unwrap();
    let lon = body["location"]["lon"].as_f64().unwrap();
    assert!((lat - p.lat).abs() < 1e-7 && (lon - p.lon).abs() < 1e-7, "converted back to WGS-84: {body}");
    // The same numbers taken as WGS-84 land hundreds of metres away, in another grid.
    let r = t.get(&format!("/api/v1/locate?lat={}&lon={}", g.lat, g.lon)).await;
    let other: Value = r.json().await.unwrap();
    assert_ne!(other["grid"]["code"], code.as_str(), "GCJ-02 offset must matter: {other}");
}

#[tokio::test]
async fn outside_every_grid_is_a_404_in_the_callers_language() {
    let t = spawn_demo().await;
    let r = t.get("/api/v1/locate?lat=36.90&lon=117.175").await;
    let body = assert_error(r, StatusCode::NOT_FOUND, "outside_grids").await;
    assert!(is_chinese(body["message"].as_str().unwrap()), "Chinese by default: {body}");
    let r = client().get(t.url("/api/v1/locate?lat=36.90&lon=117.175")).header("Accept-Language", "en-US,en;q=0.9").send().await.unwrap();
    let body = assert_error(r, StatusCode::NOT_FOUND, "outside_grids").await;
    assert!(!is_chinese(body["message"].as_str().unwrap()), "English on request: {body}");
}

#[tokio::test]
async fn bad_coordinates_are_clear_400s() {
    let t = spawn_demo().await;
    for (query, code) in [
        ("lat=200&lon=117.17", "invalid_latitude"),
        ("lat=36.97&lon=-190", "invalid_longitude"),
        ("lat=36.97&lon=117.17&crs=bd09", "unknown_crs"),
        ("lat=abc&lon=117.17", "invalid_parameter"),
        ("lat=36.97", "missing_parameter"),
        ("lat=NaN&lon=117.17", "invalid_latitude"),
    ] {
        let r = t.get(&format!("/api/v1/locate?{query}")).await;
        assert_error(r, StatusCode::BAD_REQUEST, code).await;
    }
}

#[tokio::test]
async fn grid_collection_has_code_name_and_community_and_filters_by_community() {
    let t = spawn_demo().await;
    let grids = features(&t).await;
    let mut codes: Vec<&str> = grids.iter().map(|(c, _, _)| c.as_str()).collect();
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), 150, "codes are unique");
    for (code, _, props) in &grids {
        assert_eq!(code.len(), 15);
        assert!(code.starts_with("370115001"), "district 370115 + subdistrict 001: {code}");
        assert!(props["name"].as_str().unwrap().contains("网格"));
        assert!(props["community"].as_str().unwrap().ends_with("社区"));
    }
    let community = grids[0].2["community_code"].as_str().unwrap().to_string();
    let expected = grids.iter().filter(|(_, _, p)| p["community_code"] == community.as_str()).count();
    let r = t.get(&format!("/api/v1/grids?community={community}")).await;
    let fc: geojson::FeatureCollection = r.text().await.unwrap().parse().unwrap();
    assert_eq!(fc.features.len(), expected);
    assert!(expected > 0 && expected < 150);
}

#[tokio::test]
async fn health_and_metrics_answer() {
    let t = spawn_demo().await;
    let r = t.get("/healthz").await;
    assert_eq!(r.status(), StatusCode::OK);
    t.get("/api/v1/locate?lat=36.975&lon=117.175").await;
    let text = t.get("/metrics").await.text().await.unwrap();
    assert!(text.contains("chuangcheng_grids 150"), "{text}");
    let locates: u64 = text.lines().find_map(|l| l.strip_prefix("chuangcheng_locate_total ")).and_then(|v| v.parse().ok()).unwrap();
    assert!(locates >= 1);
    let r = t.get("/api/v1/no-such-thing").await;
    assert_error(r, StatusCode::NOT_FOUND, "no_such_route").await;
}
