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
