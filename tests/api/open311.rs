//! Open311 GeoReport v2 over HTTP, in JSON and XML (parsed with a real XML parser).

use chuangcheng::app::Clock;
use chuangcheng::domain::authz::Actor;
use chuangcheng::domain::calendar::beijing_ms;
use quick_xml::Reader;
use quick_xml::events::Event;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::helpers::*;

/// Text of every element named `tag`, in document order.
fn xml_texts(xml: &str, tag: &str) -> Vec<String> {
    let mut reader = Reader::from_str(xml);
    let mut out = Vec::new();
    let mut inside = false;
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) if e.name().as_ref() == tag => {
                inside = true;
                out.push(String::new());
            }
            Event::Empty(e) if e.name().as_ref() == tag => out.push(String::new()),
            Event::Text(t) if inside => {
                let s = t.into_inner().into_owned();
                out.last_mut().unwrap().push_str(&quick_xml::escape::unescape(&s).unwrap());
            }
            Event::GeneralRef(r) if inside => {
                let name = r.into_inner().into_owned();
                out.last_mut().unwrap().push_str(&quick_xml::escape::unescape(&format!("&{name};")).unwrap());
            }
            Event::End(e) if e.name().as_ref() == tag => inside = false,
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

async fn with_key(t: &TestApp) -> String {
    t.app.create_api_key(&Actor::console(), "随手拍").await.unwrap().1
}

fn url(t: &TestApp, path: &str) -> String {
    t.url(&format!("/open311/v2/{path}"))
}

#[tokio::test]
async fn services_and_definitions_in_both_formats() {
    let t = spawn_demo().await;
    let json: Vec<Value> = client().get(url(&t, "services.json")).send().await.unwrap().json().await.unwrap();
    let citizen: Vec<Value> =
        t.get("/api/v1/categories").await.json::<Vec<Value>>().await.unwrap().into_iter().filter(|c| c["citizen"] == true).collect();
    assert_eq!(json.len(), citizen.len(), "one service per category open to citizens");
    let rubbish = json.iter().find(|s| s["service_code"] == "0101").unwrap();
    assert_eq!(rubbish["service_name"], "暴露垃圾");
    assert_eq!(rubbish["metadata"], true);
    assert_eq!(rubbish["type"], "realtime");
    assert_eq!(rubbish["group"], "市容环境");
    assert!(!json.iter().any(|s| s["service_code"] == "0204"), "not open to citizens");

    let r = client().get(url(&t, "services.xml")).send().await.unwrap();
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/xml"));
    let xml = r.text().await.unwrap();
    assert!(xml.starts_with(r#"<?xml version="1.0" encoding="utf-8"?>"#));
    assert_eq!(xml_texts(&xml, "service_code").len(), json.len());
    assert!(xml_texts(&xml, "service_name").contains(&"遛狗不拴绳".to_string()));

    let def: Value = client().get(url(&t, "services/0503.json")).send().await.unwrap().json().await.unwrap();
    assert!(def.is_object(), "a service definition is an object");
    assert_eq!(def["service_code"], "0503");
    let attrs = def["attributes"].as_array().unwrap();
    assert_eq!(attrs[0]["code"], "pole");
    assert_eq!(attrs[0]["required"], true);
    assert_eq!(attrs[0]["order"], 1);
    assert_eq!(attrs[1]["datatype"], "multivaluelist");
    assert_eq!(attrs[1]["values"][0]["key"], "dark");
    let xml = client().get(url(&t, "services/0101.xml")).send().await.unwrap().text().await.unwrap();
    assert_eq!(xml_texts(&xml, "key"), vec!["small", "medium", "large"]);

    let r = client().get(url(&t, "services/9999.xml")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let xml = r.text().await.unwrap();
    assert_eq!(xml_texts(&xml, "code"), vec!["404"]);
    assert!(!xml_texts(&xml, "description")[0].is_empty());
    let r = client().get(url(&t, "services.json?jurisdiction_id=999")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let body: Vec<Value> = r.json().await.unwrap();
    assert_eq!(body[0]["code"], 404);
    let r = client().get(url(&t, "services.json?jurisdiction_id=370115001")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = client().get(url(&t, "services.json?jurisdiction_id=")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "an empty optional parameter is absent");
}

#[tokio::test]
async fn filing_requests_checks_key_location_attributes_and_size() {
    let t = spawn_demo().await;
    let key = with_key(&t).await;
    let (lat, lon) = grid_centre(&t, "370115001001001").await;
    let post = |fmt: &'static str, form: Vec<(&'static str, String)>| {
        let u = url(&t, &format!("requests.{fmt}"));
        async move { client().post(u).form(&form).send().await.unwrap() }
    };
    let base = |extra: &[(&'static str, &str)]| {
        let mut f = vec![
            ("service_code", "0101".to_string()),
            ("lat", lat.to_string()),
            ("long", lon.to_string()),
            ("description", "路边有垃圾".to_string()),
        ];
        f.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        f
    };
    let r = post("json", base(&[])).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(r.json::<Vec<Value>>().await.unwrap()[0]["code"], 403);
    let r = post("xml", base(&[("api_key", "forged")])).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(xml_texts(&r.text().await.unwrap(), "code"), vec!["403"]);

    let r = post(
        "json",
        base(&[
            ("api_key", &key),
            ("attribute[amount]", "large"),
            ("email", "zhang@example.com"),
            ("phone", "13912345678"),
            ("first_name", "张"),
            ("last_name", "三"),
        ]),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Vec<Value> = r.json().await.unwrap();
    let number = created[0]["service_request_id"].as_str().unwrap().to_string();
    assert!(number.starts_with("JY"));

    for (extra, why) in [
        (vec![("api_key", key.as_str()), ("attribute[amount]", "huge")], "a value not in the list"),
        (vec![("api_key", key.as_str()), ("attribute[colour]", "red")], "an unknown attribute"),
        (vec![("api_key", key.as_str()), ("jurisdiction_id", "370115001"), ("lat", "36.90")], "outside every grid"),
    ] {
        let mut f = base(&[]);
        for (k, v) in extra {
            f.retain(|(fk, _)| *fk != k);
            f.push((k, v.to_string()));
        }
        let r = post("json", f).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{why}");
        assert_eq!(r.json::<Vec<Value>>().await.unwrap()[0]["code"], 400);
    }
    let mut f = base(&[("api_key", &key)]);
    f.retain(|(k, _)| *k != "description");
    f.push(("description", "很".repeat(4001)));
    assert_eq!(post("json", f).await.status(), StatusCode::BAD_REQUEST);
    let lamp = vec![("api_key", key.clone()), ("service_code", "0503".into()), ("lat", lat.to_string()), ("long", lon.to_string())];
    assert_eq!(post("json", lamp.clone()).await.status(), StatusCode::BAD_REQUEST, "pole is required");
    let mut lamp_ok = lamp.clone();
    lamp_ok.push(("attribute[pole]", "JY-0231".into()));
    lamp_ok.push(("attribute[state][]", "dark".into()));
    lamp_ok.push(("attribute[state][]", "flicker".into()));
    assert_eq!(post("json", lamp_ok).await.status(), StatusCode::CREATED);
    let r = post(
        "json",
        vec![
            ("api_key", key.clone()),
            ("service_code", "0101".into()),
            ("lat", lat.to_string()),
            ("long", lon.to_string()),
            ("jurisdiction_id", "999".into()),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // An address naming a grid stands for its location.
    let r = post(
        "xml",
        vec![
            ("api_key", key.clone()),
            ("service_code", "0601".into()),
            ("address_string", "开元社区第1网格".into()),
            ("description", "有人乱扔垃圾".into()),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let xml = r.text().await.unwrap();
    let id = xml_texts(&xml, "service_request_id").pop().unwrap();
    let (dispatcher, dc) = t.login("dispatcher").await;
    let case: Value = dispatcher.get(t.url(&format!("/api/v1/cases/{id}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(case["grid"]["code"], "370115001001001");
    let r = post("json", vec![("api_key", key.clone()), ("service_code", "0601".into()), ("address_string", "火星".into())]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Personal data is stored once, shown to the dispatcher on request, never in public answers.
    let case: Value = dispatcher.get(t.url(&format!("/api/v1/cases/{number}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(case["reporter_phone"], "139****5678");
    assert_eq!(case["source"], "citizen");
    let shown: Value = dispatcher
        .post(t.url("/api/v1/reveal"))
        .header("X-CSRF-Token", &dc)
        .json(&json!({ "record": "case", "id": case["id"], "reason": "回访" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["fields"]["reporter_email"], "zhang@example.com");
    assert_eq!(shown["fields"]["reporter_phone"], "13912345678");
    let public = client().get(url(&t, &format!("requests/{number}.json"))).send().await.unwrap().text().await.unwrap();
    assert!(!public.contains("zhang@example.com") && !public.contains("13912345678") && !public.contains("张三"));
    let timeline: Vec<Value> =
        dispatcher.get(t.url(&format!("/api/v1/cases/{number}/timeline"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(timeline[0]["data"]["via"], "随手拍", "attributed to its key");
    assert_eq!(timeline[0]["data"]["attributes"]["amount"], json!(["large"]));
}

#[tokio::test]
async fn a_request_goes_round_the_loop_and_its_progress_shows() {
    let (t, clock) = spawn_demo_at(beijing_ms(2026, 11, 30, 9, 0)).await;
    let key = with_key(&t).await;
    let (lat, lon) = grid_centre(&t, "370115001001001").await;
    let jpeg = crate::photos::camera_jpeg(lat, lon);
    let form = Form::new()
        .text("api_key", key.clone())
        .text("service_code", "0401")
        .text("lat", lat.to_string())
        .text("long", lon.to_string())
        .text("description", "早市摊位占道")
        .part("media", Part::bytes(jpeg.clone()).file_name("p.jpg").mime_str("image/jpeg").unwrap());
    let r = client().post(url(&t, "requests.json")).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let number = r.json::<Vec<Value>>().await.unwrap()[0]["service_request_id"].as_str().unwrap().to_string();

    let one: Vec<Value> = client().get(url(&t, &format!("requests/{number}.json"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(one[0]["status"], "open");
    assert_eq!(one[0]["requested_datetime"], "2026-11-30T09:00:00+08:00");
    let media = one[0]["media_url"].as_str().unwrap();
    assert!(media.starts_with("http://127.0.0.1:"));
    let bytes = client().get(media).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(bytes.to_vec(), jpeg, "the photo is reachable for citizens' apps");

    let (dispatcher, dc) = t.login("dispatcher").await;
    let (handler, h) = t.login("handler").await;
    let (worker, w) = t.login("gridworker").await;
    let act = |c: &reqwest::Client, csrf: &str, action: &str, body: Value| {
        let req = c.post(t.url(&format!("/api/v1/cases/{number}/actions/{action}"))).header("X-CSRF-Token", csrf).json(&body);
        async move {
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK);
        }
    };
    act(&dispatcher, &dc, "register", json!({})).await;
    act(&dispatcher, &dc, "dispatch", json!({})).await;
    let xml = client().get(url(&t, &format!("requests/{number}.xml"))).send().await.unwrap().text().await.unwrap();
    assert_eq!(xml_texts(&xml, "agency_responsible"), vec!["城管执法中队"]);
    assert_eq!(xml_texts(&xml, "expected_datetime"), vec!["2026-11-30T14:30:00+08:00"]);
    clock.fetch_add(3_600_000, std::sync::atomic::Ordering::SeqCst);
    act(&handler, &h, "accept", json!({})).await;
    act(&handler, &h, "handle", json!({ "note": "摊位已清理" })).await;
    act(&worker, &w, "verify_pass", json!({})).await;
    let one: Vec<Value> = client().get(url(&t, &format!("requests/{number}.json"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(one[0]["status"], "closed");
    assert_eq!(one[0]["status_notes"], "摊位已清理");

    let updates: Vec<Value> = client()
        .get(url(&t, "servicerequestupdates.json?start_date=2026-11-30T00:00:00%2B08:00&end_date=2026-11-30T23:59:59%2B08:00"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let statuses: Vec<&str> =
        updates.iter().filter(|u| u["service_request_id"] == number.as_str()).map(|u| u["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["OPEN", "INVESTIGATING", "ACTION_SCHEDULED", "IN_PROGRESS", "IN_PROGRESS", "FIXED"]);
    assert!(updates.iter().all(|u| u["updated_datetime"].as_str().unwrap().ends_with("+08:00")));

    // The citizen says it is back: a follow-up on the case, asking to reopen it.
    let r = client()
        .post(url(&t, "servicerequestupdates.xml"))
        .form(&[
            ("api_key", key.as_str()),
            ("service_request_id", number.as_str()),
            ("status", "OPEN"),
            ("description", "摊贩又回来了"),
            ("updated_datetime", "2026-11-30T12:00:00+08:00"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let update_id = xml_texts(&r.text().await.unwrap(), "update_id").pop().unwrap();
    assert!(!update_id.is_empty());
    let timeline: Vec<Value> =
        dispatcher.get(t.url(&format!("/api/v1/cases/{number}/timeline"))).send().await.unwrap().json().await.unwrap();
    let last = timeline.last().unwrap();
    assert_eq!(last["action"], "comment");
    assert_eq!(last["note"], "摊贩又回来了");
    assert_eq!(last["data"]["reopen_requested"], true);
    let r = client()
        .post(url(&t, "servicerequestupdates.json"))
        .form(&[("api_key", key.as_str()), ("service_request_id", "JY00000000-0000"), ("description", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // Filters: ids override everything; service codes and status narrow the list.
    let list: Vec<Value> = client()
        .get(url(&t, &format!("requests.json?service_request_id={number},JYX&status=open")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    let list: Vec<Value> = client()
        .get(url(&t, "requests.json?service_code=0601&start_date=2026-11-29T00:00:00Z"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(list.is_empty());
    let r = client().get(url(&t, "requests.json?start_date=yesterday")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let tok: Vec<Value> = client().get(url(&t, &format!("tokens/{number}.json"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(tok[0]["service_request_id"], number.as_str());
}

#[tokio::test]
async fn keys_are_revocable_and_rate_limited() {
    let t = spawn_configured(Clock::System, |c| c.open311_per_minute = 3.0).await;
    t.app.seed_demo().await.unwrap();
    let key = with_key(&t).await;
    let (lat, lon) = grid_centre(&t, "370115001001001").await;
    let form = [
        ("api_key", key.clone()),
        ("service_code", "0601".into()),
        ("lat", lat.to_string()),
        ("long", lon.to_string()),
        ("description", "x".into()),
    ];
    for _ in 0..3 {
        assert_eq!(client().post(url(&t, "requests.json")).form(&form).send().await.unwrap().status(), StatusCode::CREATED);
    }
    let r = client().post(url(&t, "requests.json")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(r.json::<Vec<Value>>().await.unwrap()[0]["code"], 429);
    t.app.revoke_api_key(&Actor::console(), "随手拍").await.unwrap();
    let r = client().post(url(&t, "requests.json")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let keys = t.app.api_keys(&Actor::console()).await.unwrap();
    assert!(keys[0].revoked_at.is_some());
}

#[tokio::test]
async fn every_read_endpoint_answers_in_both_formats() {
    let t = spawn_demo().await;
    let key = with_key(&t).await;
    let (lat, lon) = grid_centre(&t, "370115001001001").await;
    let created: Vec<Value> = client()
        .post(url(&t, "requests.json"))
        .form(&[
            ("api_key", key.as_str()),
            ("service_code", "0101"),
            ("lat", &lat.to_string()),
            ("long", &lon.to_string()),
            ("description", "a < b & \"c\""),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created[0]["service_request_id"].as_str().unwrap().to_string();
    for path in ["services", "services/0101", "requests", &format!("requests/{id}"), &format!("tokens/{id}"), "servicerequestupdates"] {
        let json = client().get(url(&t, &format!("{path}.json"))).send().await.unwrap();
        assert_eq!(json.status(), StatusCode::OK, "{path}.json");
        let v: Value = json.json().await.unwrap();
        assert!(v.is_array() || (path == "services/0101" && v.is_object()), "{path}.json: lists are top-level arrays");
        let xml = client().get(url(&t, &format!("{path}.xml"))).send().await.unwrap();
        assert_eq!(xml.status(), StatusCode::OK, "{path}.xml");
        assert!(xml.headers()["content-type"].to_str().unwrap().starts_with("text/xml"));
        let text = xml.text().await.unwrap();
        let mut reader = Reader::from_str(&text);
        let mut elements = 0;
        loop {
            match reader.read_event() {
                Ok(Event::Eof) => break,
                Ok(Event::Start(_)) => elements += 1,
                Ok(_) => {}
                Err(e) => panic!("{path}.xml is not well-formed: {e}"),
            }
        }
        assert!(elements > 0, "{path}.xml has content");
    }
    let xml = client().get(url(&t, &format!("requests/{id}.xml"))).send().await.unwrap().text().await.unwrap();
    assert_eq!(xml_texts(&xml, "description"), vec!["a < b & \"c\""], "text is escaped and comes back intact");
    assert_eq!(client().get(url(&t, "services.yaml")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
}
