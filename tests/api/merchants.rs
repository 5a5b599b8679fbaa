//! 门前五包, the registry: merchants imported from a sheet (all rows or none, each problem
//! named with its row), placed in their grid, shown masked, and their pledge as Word.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

const HEAD: &str = "商户名称,地址,纬度,经度,联系人,电话,经营类别,签订日期,营业执照号,所在道路";

#[tokio::test]
async fn merchants_import_all_or_nothing_are_placed_masked_and_pledged() {
    let t = spawn_demo().await;
    let (lat, lon) = grid_centre(&t, "370115001001001").await;
    let (community, cc) = t.login("community").await;
    let import = |csv: String| {
        let (c, csrf, url) = (community.clone(), cc.clone(), t.url("/api/v1/merchants/import"));
        async move {
            let form =
                reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("商户.csv"));
            c.post(url).header("X-CSRF-Token", csrf).multipart(form).send().await.unwrap()
        }
    };
    // A bad file: a bad date, a bad phone, a place outside every grid, a licence twice, an
    // unknown kind — every row named, nothing imported.
    let bad = format!(
        "{HEAD}\n老王烧烤,开元路 1 号,{lat},{lon},王建国,13800001111,餐饮,2026-13-40,91370115MA3C0001,开元大街\n\
         张记面馆,开元路 3 号,{lat},{lon},张三,电话没有,餐饮,2026-11-30,91370115MA3C0002,开元大街\n\
         远方商店,外地,30.0,120.0,李四,13800002222,零售,2026-11-30,,\n\
         重复商店,开元路 5 号,{lat},{lon},赵五,13800003333,零售,2026-11-30,91370115MA3C0001,开元大街\n\
         修车铺,开元路 7 号,{lat},{lon},钱六,13800004444,修仙,2026-11-30,,开元大街\n"
    );
    let r = import(bad).await;
    let e = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_file").await;
    let rows: Vec<i64> = e["problems"].as_array().unwrap().iter().map(|p| p["row"].as_i64().unwrap()).collect();
    assert_eq!(rows, [2, 3, 4, 5, 6], "{e}");
    let text = e.to_string();
    for says in ["2026-13-40", "电话没有", "不在任何单元网格内", "与第 2 行重复", "修仙"] {
        assert!(text.contains(says), "the problems say {says}: {text}");
    }
    assert!(get_json(&community, t.url("/api/v1/merchants")).await.as_array().unwrap().is_empty(), "nothing half-imported");
    // A good file.
    let good = format!(
        "{HEAD}\n老王烧烤,开元路 1 号,{lat},{lon},王建国,13800001111,餐饮,2026-11-30,91370115MA3C0001,开元大街\n\
         张记面馆,开元路 3 号,{lat},{lon},张三,13800002222,餐饮,2026/11/28,,开元大街\n"
    );
    let r = import(good.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["imported"], 2);
    // The same licence again is refused.
    let e = assert_error(import(good).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_file").await;
    assert!(e.to_string().contains("已经登记过"), "{e}");
    let list = get_json(&community, t.url("/api/v1/merchants")).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    let wang = list.as_array().unwrap().iter().find(|m| m["name"] == "老王烧烤").unwrap().clone();
    assert_eq!(wang["community_name"], "开元社区");
    assert_eq!(wang["kind"], "catering");
    assert_eq!(wang["pledge_day"], 20261130);
    assert!(
        !wang["phone"].as_str().unwrap().contains("00001111") || wang["phone"].as_str().unwrap().contains('*'),
        "masked: {}",
        wang["phone"]
    );
    assert!(wang["phone"].as_str().unwrap().contains('*'));
    let found = get_json(&community, t.url("/api/v1/merchants?q=%E9%9D%A2%E9%A6%86")).await; // 面馆
    assert_eq!(found.as_array().unwrap().len(), 1);
    // The pledge as Word: the five responsibilities and the frontage's place.
    let id = wang["id"].as_str().unwrap();
    let r = community.get(t.url(&format!("/api/v1/merchants/{id}/pledge.docx"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let doc = docx_rs::read_docx(&r.bytes().await.unwrap()).unwrap().json();
    for says in ["门前五包责任书", "老王烧烤", "包卫生", "包秩序", "包绿化", "包设施", "包文明", "开元大街", "2026年11月30日"]
    {
        assert!(doc.contains(says), "the pledge says {says}");
    }
    // From the command line too, with a bad row named.
    let file = t.dir.path().join("商户.csv");
    std::fs::write(&file, format!("{HEAD}\n李记水果,开元路 9 号,{lat},{lon},李七,13800005555,零售,2026-12-01,,开元大街\n")).unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_chuangcheng"));
    cmd.args(["import", "merchants", file.to_str().unwrap(), "--data"]).arg(t.dir.path());
    if let Some(url) = &t.app.config().database_url {
        cmd.arg("--database-url").arg(url.expose());
    }
    let out = cmd.env("RUST_LOG", "warn").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("已导入商户 1 家"));
    assert_eq!(get_json(&community, t.url("/api/v1/merchants")).await.as_array().unwrap().len(), 3);
}

/// The door token and the login code a printed pledge carries.
pub fn door_and_code(docx: &[u8]) -> (String, String) {
    let text = docx_rs::read_docx(docx).expect("a readable pledge").json();
    let token = text
        .split("/m/")
        .nth(1)
        .expect("the door code's address")
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let code = text.split("商户码 ").nth(1).expect("the login code").chars().take(8).collect();
    (token, code)
}

fn five(failing: &[usize]) -> Value {
    serde_json::json!({ "items": (1..=5).map(|i| {
        let kind = if failing.contains(&i) { "fail" } else { "pass" };
        serde_json::json!({ "code": format!("五包-{i:02}"), "observation": { "kind": kind }, "note": if kind == "fail" { "门前堆放纸箱" } else { "" } })
    }).collect::<Vec<_>>() })
}

#[tokio::test]
async fn a_frontage_check_opens_a_case_the_lists_name_the_shop_and_its_door_and_login_work() {
    let t = spawn_demo().await;
    let (lat, lon) = grid_centre(&t, "370115001001001").await;
    let (community, cc) = t.login("community").await;
    let csv = format!(
        "{HEAD}\n老王烧烤,开元路 1 号,{lat},{lon},王建国,13800001111,餐饮,2026-11-30,91370115MA3C0001,开元大街\n\
         张记面馆,开元路 3 号,{lat},{lon},张三,13800002222,餐饮,2026-11-28,,开元大街\n"
    );
    let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("m.csv"));
    let r = community.post(t.url("/api/v1/merchants/import")).header("X-CSRF-Token", &cc).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let list = get_json(&community, t.url("/api/v1/merchants")).await;
    let id_of = |name: &str| list.as_array().unwrap().iter().find(|m| m["name"] == name).unwrap()["id"].as_str().unwrap().to_string();
    let (wang, zhang) = (id_of("老王烧烤"), id_of("张记面馆"));
    // The walking list: both shops, nearest first, none checked yet.
    let (worker, wc) = t.login("gridworker").await;
    let near = get_json(&worker, t.url(&format!("/api/v1/merchants/nearby?lat={lat}&lon={lon}"))).await;
    assert_eq!(near.as_array().unwrap().len(), 2, "{near}");
    assert_eq!(near[0]["checked_today"], false);
    assert!(near[0]["distance_m"].as_f64().unwrap() < 5.0);
    // A check with 包秩序 failed: scored by the manual's rules, a case opened in the shop's grid.
    let r = worker
        .post(t.url(&format!("/api/v1/merchants/{wang}/checks")))
        .header("X-CSRF-Token", &wc)
        .header("Idempotency-Key", "walk-1")
        .json(&five(&[2]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let done: Value = r.json().await.unwrap();
    assert_eq!(done["inspection"]["score"], 80.0, "{done}");
    assert_eq!(done["point"]["point_type"], "门前五包");
    let failed = done["items"].as_array().unwrap().iter().find(|i| i["failed"] == true).unwrap().clone();
    assert_eq!(failed["text"], "包秩序");
    let case_id = failed["case"]["id"].as_str().expect("the failure opened a case").to_string();
    let case = get_json(&worker, t.url(&format!("/api/v1/cases/{case_id}"))).await;
    assert!(
        case["description"].as_str().unwrap_or(&case.to_string()).contains("老王烧烤") || case.to_string().contains("老王烧烤"),
        "{case}"
    );
    // The same key again answers the same check; a second check the same day is refused.
    let again: Value = worker
        .post(t.url(&format!("/api/v1/merchants/{wang}/checks")))
        .header("X-CSRF-Token", &wc)
        .header("Idempotency-Key", "walk-1")
        .json(&five(&[2]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["inspection"]["id"], done["inspection"]["id"]);
    let r =
        worker.post(t.url(&format!("/api/v1/merchants/{wang}/checks"))).header("X-CSRF-Token", &wc).json(&five(&[])).send().await.unwrap();
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    let near = get_json(&worker, t.url(&format!("/api/v1/merchants/nearby?lat={lat}&lon={lon}"))).await;
    assert!(near.as_array().unwrap().iter().any(|m| m["id"] == wang.as_str() && m["checked_today"] == true), "{near}");
    // A bad observation is a 4xx and nothing is stored.
    let mut bad = five(&[]);
    bad["items"][0]["observation"] = serde_json::json!({ "kind": "problems", "count": 2 });
    let r = worker.post(t.url(&format!("/api/v1/merchants/{zhang}/checks"))).header("X-CSRF-Token", &wc).json(&bad).send().await.unwrap();
    assert!(r.status().is_client_error());
    // A closed shop is not checked.
    let r = community
        .put(t.url(&format!("/api/v1/merchants/{zhang}/status")))
        .header("X-CSRF-Token", &cc)
        .json(&serde_json::json!({ "status": "停业" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r =
        worker.post(t.url(&format!("/api/v1/merchants/{zhang}/checks"))).header("X-CSRF-Token", &wc).json(&five(&[])).send().await.unwrap();
    let e = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    assert!(e["message"].as_str().unwrap().contains("停业"), "{e}");
    let r = community
        .put(t.url(&format!("/api/v1/merchants/{zhang}/status")))
        .header("X-CSRF-Token", &cc)
        .json(&serde_json::json!({ "status": "open" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // Zhang passes everything.
    let r =
        worker.post(t.url(&format!("/api/v1/merchants/{zhang}/checks"))).header("X-CSRF-Token", &wc).json(&five(&[])).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    // Lists under rules an administrator sets: one failed check is enough for black here.
    let (admin, ac) = t.login("admin").await;
    let rules = serde_json::json!({ "red_min_checks": 1, "black_failed_checks": 1, "black_when_late": true, "referral_months": 3 });
    let r = admin.put(t.url("/api/v1/merchants/board-rules")).header("X-CSRF-Token", &ac).json(&rules).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let bad_rules = serde_json::json!({ "red_min_checks": 0, "black_failed_checks": 1, "black_when_late": true, "referral_months": 3 });
    let r = admin.put(t.url("/api/v1/merchants/board-rules")).header("X-CSRF-Token", &ac).json(&bad_rules).send().await.unwrap();
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    let month = done["inspection"]["day"].as_str().unwrap()[..7].to_string();
    let board = get_json(&community, t.url(&format!("/api/v1/merchants/boards?month={month}"))).await;
    assert_eq!(board["black"][0]["merchant"]["name"], "老王烧烤", "{board}");
    assert_eq!(board["black"][0]["problems"][0], "包秩序");
    assert_eq!(board["red"][0]["merchant"]["name"], "张记面馆");
    assert!(board["published_at"].is_null(), "a preview until published");
    let r = client().get(t.url(&format!("/api/v1/public/boards/{month}"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "not public before it is published");
    let r = community.post(t.url(&format!("/api/v1/merchants/boards/{month}/publish"))).header("X-CSRF-Token", &cc).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let published: Value = client().get(t.url(&format!("/api/v1/public/boards/{month}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(published["black"][0]["merchant"]["name"], "老王烧烤");
    assert!(!published.to_string().contains("13800001111") && !published.to_string().contains("王建国"), "nothing personal in public");
    // The A3 poster names both lists.
    let poster =
        community.get(t.url(&format!("/api/v1/merchants/boards/{month}/poster.docx"))).send().await.unwrap().bytes().await.unwrap();
    let doc = docx_rs::read_docx(&poster).unwrap().json();
    for says in ["门前五包红黑榜", "红榜", "黑榜", "老王烧烤", "张记面馆", "包秩序", "16838"] {
        assert!(doc.contains(says), "the poster says {says}");
    }
    // The credit file: a black month.
    let credit = get_json(&community, t.url(&format!("/api/v1/merchants/{wang}/credit"))).await;
    assert_eq!(credit["months"][0]["standing"], "black");
    assert_eq!(credit["grade"], "C");
    // The door code: the pledge carries it and the login code; a citizen reports in two taps.
    let pledge = community.get(t.url(&format!("/api/v1/merchants/{wang}/pledge.docx"))).send().await.unwrap().bytes().await.unwrap();
    let (token, code) = door_and_code(&pledge);
    let door: Value = client().get(t.url(&format!("/api/v1/door/{token}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(door["name"], "老王烧烤");
    assert_eq!(door["standing"], "black");
    assert!(!door.to_string().contains("13800001111"), "no personal data behind the door code");
    let r = client().get(t.url("/api/v1/door/AAAAAAAAAAAAAAAAAAAAAA")).send().await.unwrap();
    let e = assert_error(r, StatusCode::NOT_FOUND, "not_found").await;
    assert!(e["message"].as_str().unwrap().contains("门牌码"), "{e}");
    let r = client()
        .post(t.url(&format!("/api/v1/door/{token}/reports")))
        .json(&serde_json::json!({ "duty": "五包-01", "note": "门口有垃圾" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    // The shop logs in with its phone and code, sees its case and answers it.
    let shop = client();
    let r = shop
        .post(t.url("/api/v1/merchant/login"))
        .json(&serde_json::json!({ "phone": "13800001111", "code": "AAAA2222" }))
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    let r = shop
        .post(t.url("/api/v1/merchant/login"))
        .json(&serde_json::json!({ "phone": "13800001111", "code": code.to_lowercase() }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let session: Value = r.json().await.unwrap();
    assert_eq!(session["home"], "/merchant");
    let sc = session["csrf_token"].as_str().unwrap().to_string();
    let me = get_json(&shop, t.url("/api/v1/merchant/me")).await;
    assert!(me["cases"].as_array().unwrap().iter().any(|c| c["id"] == case_id.as_str()), "{me}");
    let r = shop
        .post(t.url(&format!("/api/v1/merchant/cases/{case_id}/answer")))
        .header("X-CSRF-Token", &sc)
        .json(&serde_json::json!({ "note": "纸箱已清理" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let timeline = get_json(&worker, t.url(&format!("/api/v1/cases/{case_id}/timeline"))).await;
    assert!(timeline.to_string().contains("商户已整改:纸箱已清理"), "the answer is on the case: {timeline}");
    // Another shop's case is refused; the shop sees no staff pages.
    let r = shop.get(t.url("/api/v1/merchants")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A reissued code: the old one stops working.
    let r = community.post(t.url(&format!("/api/v1/merchants/{wang}/login-code"))).header("X-CSRF-Token", &cc).send().await.unwrap();
    let fresh: Value = r.json().await.unwrap();
    assert_ne!(fresh["code"].as_str().unwrap(), code);
    let r = client()
        .post(t.url("/api/v1/merchant/login"))
        .json(&serde_json::json!({ "phone": "13800001111", "code": code }))
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    // A district names its own responsibilities: a new manual version with them.
    let duties = serde_json::json!({ "duties": [{ "name": "包卫生", "meaning": "无垃圾", "category": "0701" }, { "name": "包亮化", "meaning": "招牌灯亮", "category": "0704" }, { "name": "包安全", "meaning": "" }] });
    let r = admin.put(t.url("/api/v1/merchants/duties")).header("X-CSRF-Token", &ac).json(&duties).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let now = get_json(&worker, t.url("/api/v1/merchants/duties")).await;
    assert_eq!(now.as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect::<Vec<_>>(), ["包卫生", "包亮化", "包安全"]);
    let twice = serde_json::json!({ "duties": [{ "name": "包卫生" }, { "name": "包卫生" }] });
    let r = admin.put(t.url("/api/v1/merchants/duties")).header("X-CSRF-Token", &ac).json(&twice).send().await.unwrap();
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
}
