//! The committed OpenAPI document and the routes agree, both ways.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::Value;

use crate::helpers::*;

/// Every `.route("…")` in the JSON API's source, as written (Open311 has its own contract).
fn routes_in_code() -> BTreeSet<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n == "open311.rs") {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap();
        for part in text.split(".route(\"").skip(1) {
            out.insert(part.split('"').next().unwrap().to_string());
        }
    }
    out
}

#[tokio::test]
async fn the_document_lists_exactly_the_routes() {
    let t = spawn_app().await;
    let doc: Value = t.get("/api/v1/openapi.json").await.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let documented: BTreeSet<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(documented, routes_in_code(), "docs/openapi.json and src/api disagree");
}

#[tokio::test]
async fn every_documented_operation_is_served() {
    let t = spawn_demo().await;
    let (c, csrf) = t.login("admin").await;
    let doc: Value = t.get("/api/v1/openapi.json").await.json().await.unwrap();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            let url = t.url(&format!("/api/v1{}", path.replace("{format}", "csv").replace('{', "x").replace('}', "")));
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = c.request(m, &url).header("X-CSRF-Token", &csrf).send().await.unwrap();
            assert!(r.status().as_u16() < 500, "{method} {path}: {}", r.status());
            if r.status().is_client_error() {
                let body: Value = r.json().await.unwrap_or(Value::Null);
                assert_ne!(body["code"], "no_such_route", "{method} {path} is documented but not served");
                assert_ne!(body["code"], "method_not_allowed", "{method} {path} is documented but not served");
            }
        }
    }
}
