//! 对标对表 through the JSON API: the manual (TOML and Excel, good and bad), points, rounds
//! drawn from a seed, inspecting item by item, failures as cases, re-checks, rankings,
//! weights and the shortfall list.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

/// The demo with its inspection points (and `weeks` weeks of rounds).
async fn demo_with_points(weeks: usize) -> TestApp {
    let t = spawn_demo().await;
    t.app.seed_demo_inspections(weeks).await.expect("demo inspections seed");
    t
}

async fn person_id(t: &TestApp, c: &Client) -> String {
    let me = get_json(c, t.url("/api/v1/auth/me")).await;
    me["person_id"].as_str().unwrap().to_string()
}

async fn points_of(t: &TestApp, c: &Client, kind: &str) -> Vec<Value> {
    let url = t.url(&format!("/api/v1/inspections/points?type={}", urlencoding(kind)));
    get_json(c, url).await.as_array().unwrap().clone()
}

fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// Plans a round as `c`; the answer's status must be 201.
async fn plan(t: &TestApp, c: &Client, csrf: &str, body: Value) -> Value {
    let r = c.post(t.url("/api/v1/inspections/rounds")).header("X-CSRF-Token", csrf).json(&body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "plan {body}");
    r.json().await.unwrap()
}

/// The observation that meets an item in full.
fn meets(item: &Value) -> Value {
    let s = &item["scoring"];
    match s["method"].as_str().unwrap() {
        "pass_fail" => json!({ "kind": "pass" }),
        "quantity" => json!({ "kind": "found", "count": s["required"] }),
        _ => json!({ "kind": "problems", "count": 0 }),
    }
}

/// Every item of a form met, except those in `except` (code → observation).
fn observations(form: &Value, except: &[(&str, Value)]) -> Value {
    let items: Vec<Value> = form["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let code = i["code"].as_str().unwrap();
            let o = except.iter().find(|(c, _)| *c == code).map(|(_, o)| o.clone()).unwrap_or_else(|| meets(i));
            json!({ "code": code, "observation": o })
        })
        .collect();
    json!({ "items": items })
}

async fn submit(t: &TestApp, c: &Client, csrf: &str, round: &str, point: &str, body: &Value, key: Option<&str>) -> reqwest::Response {
    let mut req = c.post(t.url(&format!("/api/v1/inspections/rounds/{round}/points/{point}"))).header("X-CSRF-Token", csrf).json(body);
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    req.send().await.unwrap()
}

async fn upload(t: &TestApp, c: &Client, csrf: &str, path: &str, bytes: Vec<u8>, name: &str) -> reqwest::Response {
    let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()));
    c.post(t.url(path)).header("X-CSRF-Token", csrf).multipart(form).send().await.unwrap()
}

async fn manual_count(t: &TestApp, c: &Client) -> usize {
    get_json(c, t.url("/api/v1/inspections/manuals")).await.as_array().unwrap().len()
}

const SMALL_MANUAL: &str = r#"
name = "测试手册"

[[point_types]]
name = "主次干道"

[[point_types.items]]
code = "干道-01"
text = "路面整洁"
score = 4
scoring = "每处扣分"
rule = "1"
category = "0106"

[[point_types.items]]
code = "干道-02"
text = "公益广告不少于 5 处"
score = 4
scoring = "数量达标"
rule = "5/1"
"#;

#[tokio::test]
async fn the_demo_ships_a_realistic_manual() {
    let t = spawn_demo().await;
    let (c, _) = t.login("inspector").await;
    let m = get_json(&c, t.url("/api/v1/inspections/manuals/current")).await;
    let types: std::collections::BTreeSet<&str> =
        m["items"].as_array().unwrap().iter().map(|i| i["point_type"].as_str().unwrap()).collect();
    assert!(types.len() >= 12, "{} point types", types.len());
    assert!(m["items"].as_array().unwrap().len() >= 80);
    for method in ["pass_fail", "per_problem", "grade", "quantity"] {
        assert!(m["items"].as_array().unwrap().iter().any(|i| i["scoring"]["method"] == method), "the manual uses {method}");
    }
    assert!(m["items"].as_array().unwrap().iter().any(|i| i["veto"] == true), "some item voids its point");
}

#[tokio::test]
async fn a_manual_imports_from_toml_and_bad_files_load_nothing_naming_the_line() {
    let t = spawn_demo().await;
    let (admin, a) = t.login("admin").await;
    let before = manual_count(&t, &admin).await;
    let r = upload(&t, &admin, &a, "/api/v1/inspections/manuals/import", SMALL_MANUAL.as_bytes().to_vec(), "m.toml").await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["version"], before as i64 + 1);
    assert_eq!(v["items"], 2);
    assert_eq!(manual_count(&t, &admin).await, before + 1);

    // Each fault names its line, in Chinese; the file loads not at all.
    let faults = [
        ("score = 4\nscoring = \"每处扣分\"", "score = \"四\"\nscoring = \"每处扣分\"", "不是"),
        ("scoring = \"数量达标\"", "scoring = \"打分\"", "无法识别"),
        ("code = \"干道-02\"", "code = \"干道-01\"", "重复"),
        ("category = \"0106\"", "category = \"9999\"", "9999"),
        ("rule = \"5/1\"", "rule = \"五处\"", "数量达标"),
    ];
    for (from, to, says) in faults {
        let bad = SMALL_MANUAL.replacen(from, to, 1);
        let line = bad.lines().enumerate().filter(|(_, l)| to.lines().next() == Some(*l)).last().unwrap().0 + 1;
        let r = upload(&t, &admin, &a, "/api/v1/inspections/manuals/import", bad.into_bytes(), "m.toml").await;
        let body = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_file").await;
        let p = &body["problems"][0];
        assert!(p["message"].as_str().unwrap().contains(says), "{to}: {body}");
        assert!(is_chinese(p["message"].as_str().unwrap()));
        let row = p["row"].as_u64().unwrap() as usize;
        assert_eq!(row, line, "{to}: the problem names the line at fault: {body}");
    }
    assert_eq!(manual_count(&t, &admin).await, before + 1, "no bad file loaded anything");

    // Only an administrator loads a manual.
    let (inspector, i) = t.login("inspector").await;
    let r = upload(&t, &inspector, &i, "/api/v1/inspections/manuals/import", SMALL_MANUAL.as_bytes().to_vec(), "m.toml").await;
    assert_error(r, StatusCode::FORBIDDEN, "forbidden").await;
}

fn manual_xlsx(rows: &[[&str; 9]]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let header = ["点位类型", "编号", "测评内容", "分值", "评分方式", "扣分标准", "问题类别", "否决", "测评方法"];
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if c == 3
                && let Ok(n) = v.parse::<f64>()
            {
                sheet.write_number(r as u32 + 1, c as u16, n).unwrap();
            } else {
                sheet.write_string(r as u32 + 1, c as u16, *v).unwrap();
            }
        }
    }
    book.save_to_buffer().unwrap()
}

#[tokio::test]
async fn a_manual_imports_from_excel_and_a_bad_row_is_named() {
    let t = spawn_demo().await;
    let (admin, a) = t.login("admin").await;
    let good = [
        ["居民小区", "小区-01", "楼道无杂物堆放", "4", "状态描述", "0,1,2", "0103", "否", "抽查 2 个楼道"],
        ["居民小区", "小区-02", "无私搭乱建", "5", "符合制", "", "0603", "是", ""],
        ["主次干道", "干道-01", "无占道经营", "3", "每处扣分", "1", "0402", "", ""],
        ["主次干道", "干道-02", "公益广告", "4", "数量达标", "5/2", "", "", ""],
    ];
    let before = manual_count(&t, &admin).await;
    let r = upload(&t, &admin, &a, "/api/v1/inspections/manuals/import", manual_xlsx(&good), "手册.xlsx").await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!((v["point_types"].as_i64(), v["items"].as_i64()), (Some(2), Some(4)));
    let m = get_json(&admin, t.url("/api/v1/inspections/manuals/current")).await;
    let veto = m["items"].as_array().unwrap().iter().find(|i| i["code"] == "小区-02").unwrap();
    assert_eq!(veto["veto"], true);
    let q = m["items"].as_array().unwrap().iter().find(|i| i["code"] == "干道-02").unwrap();
    assert_eq!(q["scoring"], json!({ "method": "quantity", "required": 5, "deduct": 2.0 }));

    // Row 3 of the sheet (the second item) is at fault each time: the sheet's row is named.
    for (col, value, says) in [(3, "五", "不是"), (4, "打分", "无法识别"), (1, "小区-01", "重复"), (6, "9999", "9999"), (7, "也许", "否决")]
    {
        let mut rows = good;
        rows[1][col] = value;
        let r = upload(&t, &admin, &a, "/api/v1/inspections/manuals/import", manual_xlsx(&rows), "手册.xlsx").await;
        let body = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_file").await;
        assert_eq!(body["problems"][0]["row"], 3, "{value}: {body}");
        assert!(body["problems"][0]["message"].as_str().unwrap().contains(says), "{value}: {body}");
    }
    let mut rows = good;
    rows[2][5] = "很多";
    let r = upload(&t, &admin, &a, "/api/v1/inspections/manuals/import", manual_xlsx(&rows), "手册.xlsx").await;
    let body = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_file").await;
    assert_eq!(body["problems"][0]["row"], 4, "{body}");
    assert_eq!(manual_count(&t, &admin).await, before + 1, "no bad sheet loaded anything");
}

#[tokio::test]
async fn points_import_from_csv_and_a_bad_row_loads_nothing() {
    let t = spawn_demo().await;
    let (inspector, i) = t.login("inspector").await;
    let (lat, lon) = grid_centre(&t, "370115001001001").await;
    let csv = format!(
        "名称,点位类型,纬度,经度,责任单位,地址\n开元农贸市场,农贸市场,{lat},{lon},开元社区,开元路 1 号\n12345 拨打测试,模拟测试,,,370115001,\n"
    );
    let r = upload(&t, &inspector, &i, "/api/v1/inspections/points/import", csv.clone().into_bytes(), "点位.csv").await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!((v["added"].as_u64(), v["updated"].as_u64()), (Some(2), Some(0)));
    let market = &points_of(&t, &inspector, "农贸市场").await[0];
    assert_eq!(market["name"], "开元农贸市场");
    assert_eq!(market["community_name"], "开元社区", "the location gives the community: {market}");
    assert!(market["grid_name"].is_string());
    let test = &points_of(&t, &inspector, "模拟测试").await[0];
    assert!(test["lat"].is_null() && test["grid_id"].is_null(), "a simulated test has no place: {test}");
    // The same file again updates, not duplicates.
    let r = upload(&t, &inspector, &i, "/api/v1/inspections/points/import", csv.into_bytes(), "点位.csv").await;
    let v: Value = r.json().await.unwrap();
    assert_eq!((v["added"].as_u64(), v["updated"].as_u64()), (Some(0), Some(2)));

    let bad = format!(
        "名称,点位类型,纬度,经度,责任单位,地址\n新点位,居民小区,{lat},{lon},开元社区,\n错点位,游乐场,{lat},{lon},开元社区,\n远点位,居民小区,{lat},{lon},不存在的单位,\n"
    );
    let r = upload(&t, &inspector, &i, "/api/v1/inspections/points/import", bad.into_bytes(), "点位.csv").await;
    let body = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_file").await;
    let rows: Vec<u64> = body["problems"].as_array().unwrap().iter().map(|p| p["row"].as_u64().unwrap()).collect();
    assert_eq!(rows, [3, 4], "{body}");
    assert!(points_of(&t, &inspector, "居民小区").await.is_empty(), "nothing of the bad file was loaded");
    let (community, cc) = t.login("community").await;
    let r = upload(&t, &community, &cc, "/api/v1/inspections/points/import", b"x".to_vec(), "p.csv").await;
    assert_error(r, StatusCode::FORBIDDEN, "forbidden").await;
}

#[tokio::test]
async fn a_drawn_round_is_the_same_for_the_same_seed_and_respects_the_strata() {
    let t = demo_with_points(0).await;
    let (inspector, i) = t.login("inspector").await;
    let me = person_id(&t, &inspector).await;
    let draw = |seed: u64| {
        json!({
            "name": "模拟测评", "kind": "mock", "starts_on": "2026-12-01", "ends_on": "2026-12-07", "inspectors": [me],
            "selection": { "by": "drawn", "seed": seed, "quotas": { "居民小区": 3, "主次干道": 2, "公交站台": 1 } }
        })
    };
    let a = plan(&t, &inspector, &i, draw(7)).await;
    let b = plan(&t, &inspector, &i, draw(7)).await;
    let c = plan(&t, &inspector, &i, draw(8)).await;
    let ids =
        |r: &Value| r["points"].as_array().unwrap().iter().map(|p| p["point"]["id"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(a["round"]["seed"], 7, "the seed is printed with the round");
    assert_eq!(ids(&a), ids(&b), "the same seed draws the same points");
    assert_ne!(ids(&a), ids(&c), "another seed draws others");
    for r in [&a, &c] {
        let mut per_type = std::collections::BTreeMap::new();
        for p in r["points"].as_array().unwrap() {
            *per_type.entry(p["point"]["point_type"].as_str().unwrap().to_string()).or_insert(0) += 1;
        }
        assert_eq!(per_type, [("主次干道".to_string(), 2), ("公交站台".to_string(), 1), ("居民小区".to_string(), 3)].into());
    }
    // A seed left out is chosen and kept, so the draw can be checked afterwards.
    let mut unseeded = draw(0);
    unseeded["selection"].as_object_mut().unwrap().remove("seed");
    let d = plan(&t, &inspector, &i, unseeded.clone()).await;
    unseeded["selection"]["seed"] = d["round"]["seed"].clone();
    assert_eq!(ids(&plan(&t, &inspector, &i, unseeded).await), ids(&d));
    assert_eq!(a["round"]["starts_on"], "2026-12-01");

    // More than there are draws them all; a type with no points, or nothing at all, is refused.
    let mut all = draw(1);
    all["selection"]["quotas"] = json!({ "居民小区": 999 });
    let everything = plan(&t, &inspector, &i, all).await;
    assert_eq!(everything["points"].as_array().unwrap().len(), points_of(&t, &inspector, "居民小区").await.len());
    for quotas in [json!({ "游乐场": 1 }), json!({}), json!({ "居民小区": 0 })] {
        let mut body = draw(1);
        body["selection"]["quotas"] = quotas.clone();
        let r = inspector.post(t.url("/api/v1/inspections/rounds")).header("X-CSRF-Token", &i).json(&body).send().await.unwrap();
        assert!(r.status().is_client_error(), "{quotas}: {}", r.status());
        let v: Value = r.json().await.unwrap();
        assert!(v["code"].is_string(), "{v}");
    }
    // An inspector must be able to inspect.
    let (community, _) = t.login("community").await;
    let mut body = draw(1);
    body["inspectors"] = json!([person_id(&t, &community).await]);
    let r = inspector.post(t.url("/api/v1/inspections/rounds")).header("X-CSRF-Token", &i).json(&body).send().await.unwrap();
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
}

#[tokio::test]
async fn inspecting_scores_by_the_manual_and_a_failure_opens_one_case_linked_both_ways() {
    let t = demo_with_points(0).await;
    let (inspector, i) = t.login("inspector").await;
    let me = person_id(&t, &inspector).await;
    let point = points_of(&t, &inspector, "主次干道").await[0].clone();
    let point_id = point["id"].as_str().unwrap().to_string();
    let round = plan(
        &t,
        &inspector,
        &i,
        json!({ "name": "第一周督查", "kind": "inspection", "starts_on": "2026-11-30", "ends_on": "2026-12-06",
                "inspectors": [me], "selection": { "by": "chosen", "points": [point_id] } }),
    )
    .await;
    let round_id = round["round"]["id"].as_str().unwrap().to_string();
    let mine = get_json(&inspector, t.url("/api/v1/inspections/mine")).await;
    assert!(mine.as_array().unwrap().iter().any(|a| a["point"]["id"] == point_id.as_str()), "the point is on the inspector's list: {mine}");
    let form = get_json(&inspector, t.url(&format!("/api/v1/inspections/rounds/{round_id}/points/{point_id}"))).await;
    assert!(form["items"].as_array().unwrap().len() >= 5);

    // Bad observations are refused and store nothing.
    for (code, wrong) in [("干道-03", json!({ "kind": "found", "count": 2 })), ("干道-02", json!({ "kind": "pass" }))] {
        let bad = observations(&form, &[(code, wrong)]);
        let r = submit(&t, &inspector, &i, &round_id, &point_id, &bad, None).await;
        assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    }
    let bad = observations(&form, &[("干道-03", json!({ "kind": "problems", "count": -1 }))]);
    let r = submit(&t, &inspector, &i, &round_id, &point_id, &bad, None).await;
    assert_eq!(r.status().as_u16() / 100, 4, "−1 problems");
    let mut bad = observations(&form, &[]);
    bad["items"].as_array_mut().unwrap().push(json!({ "code": "小区-01", "observation": { "kind": "pass" } }));
    assert_error(submit(&t, &inspector, &i, &round_id, &point_id, &bad, None).await, StatusCode::BAD_REQUEST, "invalid_parameter").await;
    let mut short = observations(&form, &[]);
    short["items"].as_array_mut().unwrap().pop();
    assert_error(submit(&t, &inspector, &i, &round_id, &point_id, &short, None).await, StatusCode::BAD_REQUEST, "missing_parameter").await;
    // Someone who is not the round's inspector may not inspect its point.
    let (worker, w) = t.login("gridworker").await;
    let ok = observations(&form, &[]);
    let r = submit(&t, &worker, &w, &round_id, &point_id, &ok, None).await;
    assert!(matches!(r.status().as_u16(), 403 | 404), "{}", r.status());
    let round_now = get_json(&inspector, t.url(&format!("/api/v1/inspections/rounds/{round_id}"))).await;
    assert_eq!(round_now["done"], 0, "nothing was stored");

    // Two problems of 占道经营 (1 point each of 3) and the rest met; sent twice with one key.
    let body = observations(&form, &[("干道-03", json!({ "kind": "problems", "count": 2 }))]);
    let first: Value = submit(&t, &inspector, &i, &round_id, &point_id, &body, Some("k-1")).await.json().await.unwrap();
    let again = submit(&t, &inspector, &i, &round_id, &point_id, &body, Some("k-1")).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    let again: Value = again.json().await.unwrap();
    assert_eq!(first["inspection"]["id"], again["inspection"]["id"], "a retry is the same inspection");
    let standard: f64 = form["items"].as_array().unwrap().iter().map(|i| i["standard"].as_f64().unwrap()).sum();
    assert_eq!(first["inspection"]["standard"].as_f64().unwrap(), standard);
    assert_eq!(first["inspection"]["score"].as_f64().unwrap(), standard - 2.0);
    assert_eq!(first["inspection"]["failed_items"], 1);
    let failed = first["items"].as_array().unwrap().iter().find(|i| i["item_code"] == "干道-03").unwrap();
    assert_eq!(failed["score"].as_f64(), Some(1.0));
    let case_id = failed["case"]["id"].as_str().expect("the failed item opened a case").to_string();
    assert_eq!(failed["case"]["status"], "reported");
    let cases: Vec<Value> = first["items"].as_array().unwrap().iter().filter(|i| !i["case"].is_null()).cloned().collect();
    assert_eq!(cases.len(), 1, "only the failed item opened a case");
    let r = submit(&t, &inspector, &i, &round_id, &point_id, &body, Some("k-2")).await;
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;

    // The case shows its item; it came from 测评 in the point's grid.
    let (dispatcher, d) = t.login("dispatcher").await;
    let case = get_json(&dispatcher, t.url(&format!("/api/v1/cases/{case_id}"))).await;
    assert_eq!(case["source"], "inspection");
    assert_eq!(case["category_code"], "0402");
    assert_eq!(case["grid"]["name"], point["grid_name"]);
    assert_eq!(case["inspection"]["item_text"], "无占道经营、店外经营");
    assert_eq!(case["inspection"]["point_name"], point["name"]);
    assert_eq!(case["inspection"]["item_code"], "干道-03", "{}", case["inspection"]);
    assert_eq!(case["inspection"]["inspection_id"], first["inspection"]["id"]);

    // The same item failing again at the next round adds to the open case.
    let round2 = plan(
        &t,
        &inspector,
        &i,
        json!({ "name": "第二周暗访", "kind": "unannounced", "starts_on": "2026-12-01", "ends_on": "2026-12-07",
                "inspectors": [me], "selection": { "by": "chosen", "points": [point_id] } }),
    )
    .await;
    let round2_id = round2["round"]["id"].as_str().unwrap();
    let second: Value = submit(&t, &inspector, &i, round2_id, &point_id, &body, None).await.json().await.unwrap();
    let failed2 = second["items"].as_array().unwrap().iter().find(|i| i["item_code"] == "干道-03").unwrap();
    assert_eq!(failed2["case"]["id"].as_str(), Some(case_id.as_str()), "no second case for the same open problem");
    let timeline = get_json(&dispatcher, t.url(&format!("/api/v1/cases/{case_id}/timeline"))).await;
    assert!(timeline.to_string().contains("再次督查发现"), "{timeline}");
    let _ = d;
}

/// Moves a case to 已处置 the way the people do.
async fn handle(t: &TestApp, case: &str) {
    let (dispatcher, d) = t.login("dispatcher").await;
    let (handler, h) = t.login("handler").await;
    for (who, csrf, action) in
        [(&dispatcher, &d, "register"), (&dispatcher, &d, "dispatch"), (&handler, &h, "accept"), (&handler, &h, "handle")]
    {
        let r = who
            .post(t.url(&format!("/api/v1/cases/{case}/actions/{action}")))
            .header("X-CSRF-Token", csrf.as_str())
            .json(&json!({ "note": "已整改" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{action}: {}", r.text().await.unwrap());
    }
}

#[tokio::test]
async fn a_recheck_lists_only_what_failed_and_returns_unfixed_cases_to_rework() {
    let t = demo_with_points(0).await;
    let (inspector, i) = t.login("inspector").await;
    let me = person_id(&t, &inspector).await;
    // 市场-03 (店外占道) opens a case the demo department handles.
    let points = points_of(&t, &inspector, "农贸市场").await;
    let (p1, p2) = (points[0]["id"].as_str().unwrap().to_string(), points[1]["id"].as_str().unwrap().to_string());
    let round = plan(
        &t,
        &inspector,
        &i,
        json!({ "name": "督查", "kind": "inspection", "starts_on": "2026-11-23", "ends_on": "2026-11-29",
                "inspectors": [me], "selection": { "by": "chosen", "points": [p1, p2] } }),
    )
    .await;
    let round_id = round["round"]["id"].as_str().unwrap().to_string();
    let mut cases = Vec::new();
    for p in [&p1, &p2] {
        let form = get_json(&inspector, t.url(&format!("/api/v1/inspections/rounds/{round_id}/points/{p}"))).await;
        let body = observations(&form, &[("市场-03", json!({ "kind": "problems", "count": 1 }))]);
        let done: Value = submit(&t, &inspector, &i, &round_id, p, &body, None).await.json().await.unwrap();
        let item = done["items"].as_array().unwrap().iter().find(|i| i["item_code"] == "市场-03").unwrap().clone();
        cases.push(item["case"]["id"].as_str().unwrap().to_string());
    }
    for c in &cases {
        handle(&t, c).await;
    }
    let recheck = plan(
        &t,
        &inspector,
        &i,
        json!({ "name": "回头看", "kind": "recheck", "starts_on": "2026-11-30", "ends_on": "2026-12-06",
                "inspectors": [me], "selection": { "by": "recheck", "round": round_id } }),
    )
    .await;
    let recheck_id = recheck["round"]["id"].as_str().unwrap().to_string();
    assert_eq!(recheck["points"].as_array().unwrap().len(), 2);
    let form = get_json(&inspector, t.url(&format!("/api/v1/inspections/rounds/{recheck_id}/points/{p1}"))).await;
    let codes: Vec<&str> = form["items"].as_array().unwrap().iter().map(|i| i["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["市场-03"], "a re-check lists only what failed");
    assert_eq!(form["recheck"], true);
    // Fixed at the first point, not at the second.
    let fixed = json!({ "items": [{ "code": "市场-03", "observation": { "kind": "problems", "count": 0 } }] });
    let not_fixed = json!({ "items": [{ "code": "市场-03", "observation": { "kind": "problems", "count": 2 }, "note": "仍有占道" }] });
    assert_eq!(submit(&t, &inspector, &i, &recheck_id, &p1, &fixed, None).await.status(), StatusCode::CREATED);
    let v: Value = submit(&t, &inspector, &i, &recheck_id, &p2, &not_fixed, None).await.json().await.unwrap();
    assert_eq!(v["items"][0]["case"]["id"].as_str(), Some(cases[1].as_str()), "the re-check moves the linked case");
    let (dispatcher, _) = t.login("dispatcher").await;
    let c1 = get_json(&dispatcher, t.url(&format!("/api/v1/cases/{}", cases[0]))).await;
    let c2 = get_json(&dispatcher, t.url(&format!("/api/v1/cases/{}", cases[1]))).await;
    assert_eq!(c1["status"], "closed", "fixed: the check passes");
    assert_eq!(c2["status"], "dispatched", "not fixed: back to the department to rework");
    assert_eq!(c2["rework_count"], 1, "{c2}");
    let round_view = get_json(&inspector, t.url(&format!("/api/v1/inspections/rounds/{recheck_id}"))).await;
    assert_eq!((round_view["done"].as_u64(), round_view["total"].as_u64()), (Some(2), Some(2)));
}

#[tokio::test]
async fn rankings_weights_composite_and_shortfall_answer_for_a_season() {
    let t = demo_with_points(6).await;
    let (leader, _) = t.login("leader").await;
    let today = chuangcheng::domain::calendar::beijing_date(t.app.now());
    let from = (today - chrono::Duration::days(41)).format("%Y-%m-%d").to_string();
    let to = today.format("%Y-%m-%d").to_string();
    let q = format!("from={from}&to={to}");
    let r = get_json(&leader, t.url(&format!("/api/v1/inspections/rankings?{q}"))).await;
    let rows = r["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 9, "nine communities: {r}");
    let rates: Vec<f64> = rows.iter().map(|r| r["rate"].as_f64().unwrap()).collect();
    assert!(rates.windows(2).all(|w| w[0] >= w[1]), "ranked by 得分率: {rates:?}");
    assert!(rates.iter().all(|r| (0.0..=1.0).contains(r)));
    assert!(rows.iter().all(|r| r["inspections"].as_i64().unwrap() > 0));
    assert_eq!(rows[0]["rank"], 1);
    // Simulated tests have no community: the point types add up to the subdistrict.
    let by_type = get_json(&leader, t.url(&format!("/api/v1/inspections/rankings?{q}&by=point_type"))).await;
    let total: i64 = by_type["rows"].as_array().unwrap().iter().map(|r| r["inspections"].as_i64().unwrap()).sum();
    assert_eq!(total, r["total"]["inspections"].as_i64().unwrap(), "the point types add up to the subdistrict");
    let communities: i64 = rows.iter().map(|r| r["inspections"].as_i64().unwrap()).sum();
    assert!(communities < total, "all but the simulated tests are in a community");
    assert!(r["cases"].as_i64().unwrap() > 0 && r["rectified_rate"].is_number(), "rectification is counted: {}", r["cases"]);
    for by in ["point_type", "grid", "unit", "point"] {
        let v = get_json(&leader, t.url(&format!("/api/v1/inspections/rankings?{q}&by={by}"))).await;
        assert!(!v["rows"].as_array().unwrap().is_empty(), "by {by}: {v}");
    }
    let r = leader.get(t.url(&format!("/api/v1/inspections/rankings?{q}&by=colour"))).send().await.unwrap();
    assert_error(r, StatusCode::BAD_REQUEST, "invalid_parameter").await;

    // The composite ranking moves with the weights an administrator sets.
    let (admin, a) = t.login("admin").await;
    let composite = get_json(&leader, t.url(&format!("/api/v1/inspections/composite?{q}&n=2"))).await;
    assert_eq!(composite["red"].as_array().unwrap().len(), 2);
    assert_eq!(composite["black"].as_array().unwrap().len(), 2);
    for bad in [json!({ "score": -1, "on_time": 1, "rework": 1 }), json!({ "score": 0, "on_time": 0, "rework": 0 })] {
        let r = admin.put(t.url("/api/v1/inspections/weights")).header("X-CSRF-Token", &a).json(&bad).send().await.unwrap();
        assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    }
    let only_score = json!({ "score": 1, "on_time": 0, "rework": 0 });
    let r = admin.put(t.url("/api/v1/inspections/weights")).header("X-CSRF-Token", &a).json(&only_score).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(get_json(&leader, t.url("/api/v1/inspections/weights")).await["score"], 1.0);
    let by_score = get_json(&leader, t.url(&format!("/api/v1/inspections/composite?{q}"))).await;
    let order = |v: &Value| v["rows"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    let ranking_order: Vec<String> = rows.iter().map(|r| r["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(order(&by_score), ranking_order, "with only 得分率 weighed, the composite is the score ranking: {by_score}");

    // The shortfall list: items by the score they lost, most first.
    let s = get_json(&leader, t.url(&format!("/api/v1/inspections/shortfall?{q}&top=10"))).await;
    let lost: Vec<f64> = s.as_array().unwrap().iter().map(|r| r["lost"].as_f64().unwrap()).collect();
    assert_eq!(lost.len(), 10);
    assert!(lost.windows(2).all(|w| w[0] >= w[1]), "{lost:?}");
    assert!(lost[0] > 0.0);
    assert!(!s[0]["points"].as_array().unwrap().is_empty(), "{}", s[0]);
    // Where it fails most: communities, except for a simulated test, which has no place.
    let placed = s.as_array().unwrap().iter().find(|r| r["point_type"] != "模拟测试").expect("an item with a place");
    assert!(!placed["communities"].as_array().unwrap().is_empty(), "{placed}");

    // Every table exports to Excel with its rows.
    for path in [format!("/api/v1/inspections/rankings/export.xlsx?{q}"), format!("/api/v1/inspections/shortfall/export.xlsx?{q}&top=10")] {
        let r = leader.get(t.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let bytes = r.bytes().await.unwrap().to_vec();
        let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let sheet = calamine::Reader::worksheet_range_at(&mut book, 0).unwrap().unwrap();
        let text: Vec<String> = sheet.rows().flat_map(|r| r.iter().map(|c| c.to_string())).collect();
        let first = if path.contains("rankings") {
            rows[0]["name"].as_str().unwrap().to_string()
        } else {
            s[0]["text"].as_str().unwrap().to_string()
        };
        assert!(text.iter().any(|c| c == &first), "{path} holds {first}");
        assert!(text.iter().any(|c| c.contains("得分率") || c.contains("失分")), "{path} has its headers");
    }
    // Another community's admin does not see the subdistrict's ranking; volunteers see none.
    let (community, _) = t.login("community").await;
    let r = community.get(t.url(&format!("/api/v1/inspections/rankings?unit=370115001002&{q}"))).send().await.unwrap();
    assert_error(r, StatusCode::NOT_FOUND, "not_found").await;
    let (volunteer, _) = t.login("volunteer").await;
    let r = volunteer.get(t.url(&format!("/api/v1/inspections/rankings?{q}"))).send().await.unwrap();
    assert_error(r, StatusCode::FORBIDDEN, "forbidden").await;
}

#[tokio::test]
async fn a_new_manual_version_leaves_old_scores_alone() {
    let t = demo_with_points(0).await;
    let (inspector, i) = t.login("inspector").await;
    let (admin, a) = t.login("admin").await;
    let me = person_id(&t, &inspector).await;
    let point = points_of(&t, &inspector, "主次干道").await[0]["id"].as_str().unwrap().to_string();
    let round = plan(
        &t,
        &inspector,
        &i,
        json!({ "name": "督查", "kind": "inspection", "starts_on": "2026-11-30", "ends_on": "2026-12-06",
                "inspectors": [me], "selection": { "by": "chosen", "points": [point] } }),
    )
    .await;
    let round_id = round["round"]["id"].as_str().unwrap();
    let form = get_json(&inspector, t.url(&format!("/api/v1/inspections/rounds/{round_id}/points/{point}"))).await;
    let done: Value = submit(&t, &inspector, &i, round_id, &point, &observations(&form, &[]), None).await.json().await.unwrap();
    let id = done["inspection"]["id"].as_str().unwrap();
    let r = upload(&t, &admin, &a, "/api/v1/inspections/manuals/import", SMALL_MANUAL.as_bytes().to_vec(), "m.toml").await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let after = get_json(&inspector, t.url(&format!("/api/v1/inspections/{id}"))).await;
    assert_eq!(after["inspection"]["standard"], done["inspection"]["standard"]);
    assert_eq!(after["items"].as_array().unwrap().len(), done["items"].as_array().unwrap().len(), "the old version's items, all of them");
    // The old round keeps its version; a new round takes the new one.
    let form_again = get_json(&inspector, t.url(&format!("/api/v1/inspections/rounds/{round_id}/points/{point}"))).await;
    assert_eq!(form_again["items"].as_array().unwrap().len(), form["items"].as_array().unwrap().len());
}
