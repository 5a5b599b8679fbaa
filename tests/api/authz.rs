//! Role × use case through the real HTTP API: each row is one role (or nobody) doing one
//! thing in or out of their scope, and the answer it must get. Every operation of the
//! OpenAPI document needs a row here, and every one that is not public needs a refusal —
//! so an endpoint added without checking who may call it fails this test.

use std::collections::{BTreeSet, HashMap};

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

const GRID: &str = "370115001001001"; // the demo grid worker's grid, in 开元社区
const KAIYUAN: &str = "370115001001"; // the community admin's community
const WEIERLU: &str = "370115001002"; // another community

enum Body {
    None,
    Json(Value),
    /// A multipart form with one file field `file` (or `photo`).
    File(&'static str, Vec<u8>, &'static str),
}

struct Row {
    /// Username of a demo login; `None` for nobody logged in.
    who: Option<&'static str>,
    method: Method,
    /// The operation as the OpenAPI document names it.
    operation: &'static str,
    url: String,
    body: Body,
    expect: u16,
}

fn row(who: Option<&'static str>, method: Method, operation: &'static str, url: impl Into<String>, body: Body, expect: u16) -> Row {
    Row { who, method, operation, url: url.into(), body, expect }
}

struct Logins {
    t: TestApp,
    clients: HashMap<&'static str, (Client, String)>,
}

impl Logins {
    async fn client(&mut self, who: Option<&'static str>) -> (Client, String) {
        match who {
            None => (client(), String::new()),
            Some(u) => {
                if !self.clients.contains_key(u) {
                    let c = self.t.login(u).await;
                    self.clients.insert(u, c);
                }
                self.clients[u].clone()
            }
        }
    }

    async fn call(&mut self, r: &Row) -> (StatusCode, String) {
        let (c, csrf) = self.client(r.who).await;
        let mut req = c.request(r.method.clone(), self.t.url(&format!("/api/v1{}", r.url))).header("X-CSRF-Token", csrf);
        req = match &r.body {
            Body::None => req,
            Body::Json(v) => req.json(v),
            Body::File(field, bytes, name) => {
                req.multipart(reqwest::multipart::Form::new().part(*field, reqwest::multipart::Part::bytes(bytes.clone()).file_name(*name)))
            }
        };
        let resp = req.send().await.unwrap();
        let status = resp.status();
        (status, resp.text().await.unwrap_or_default())
    }
}

/// Everything the document lists, as "METHOD /path".
fn documented() -> BTreeSet<String> {
    let doc: Value = serde_json::from_str(chuangcheng::api::OPENAPI).unwrap();
    let mut out = BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            out.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    out
}

/// Every item of an inspection form met in full.
fn all_met(form: &Value) -> Value {
    let items: Vec<Value> = form["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let o = match i["scoring"]["method"].as_str().unwrap() {
                "pass_fail" => json!({ "kind": "pass" }),
                "quantity" => json!({ "kind": "found", "count": i["scoring"]["required"] }),
                _ => json!({ "kind": "problems", "count": 0 }),
            };
            json!({ "code": i["code"], "observation": o })
        })
        .collect();
    json!({ "items": items })
}

/// Operations anyone may use without logging in.
const PUBLIC: &[&str] = &[
    "GET /locate",
    "GET /grids",
    "GET /categories",
    "POST /auth/login",
    "POST /auth/logout",
    "GET /openapi.json",
    "POST /cases",
    "GET /door/{token}",
    "POST /door/{token}/reports",
    "GET /public/boards",
    "GET /public/boards/{month}",
    "POST /merchant/login",
    "GET /public/activities",
    "GET /public/certificates/{id}",
];

#[tokio::test]
async fn each_role_may_do_what_its_permissions_say_and_nothing_else() {
    let t = spawn_demo().await;
    let (lat, lon) = grid_centre(&t, GRID).await;
    // What the rows act on: a case in the grid worker's grid with its photo, a person in the
    // community admin's community and one outside it.
    let (worker, w) = t.login("gridworker").await;
    let photo = crate::photos::camera_jpeg(lat, lon);
    let form = reqwest::multipart::Form::new().part("photo", reqwest::multipart::Part::bytes(photo.clone()).file_name("a.jpg"));
    let uploaded: Value =
        worker.post(t.url("/api/v1/photos")).header("X-CSRF-Token", &w).multipart(form).send().await.unwrap().json().await.unwrap();
    let photo_id = uploaded["id"].as_str().unwrap().to_string();
    let report = json!({ "category": "0401", "description": "门前摆摊", "lat": lat, "lon": lon, "photos": [photo_id] });
    let created: Value =
        worker.post(t.url("/api/v1/cases")).header("X-CSRF-Token", &w).json(&report).send().await.unwrap().json().await.unwrap();
    let case = created["case"]["id"].as_str().unwrap().to_string();
    let (admin, _) = t.login("admin").await;
    let person_in = |code: &'static str| {
        let (admin, url) = (admin.clone(), t.url(&format!("/api/v1/org/units/{code}")));
        async move {
            let v: Value = admin.get(url).send().await.unwrap().json().await.unwrap();
            v["people"].as_array().unwrap().iter().find(|p| p["role"] == "grid_worker").unwrap()["id"].as_str().unwrap().to_string()
        }
    };
    let (own_person, other_person) = (person_in(KAIYUAN).await, person_in(WEIERLU).await);
    // 对标对表: the demo's points, one round planned by the inspector with one point for them.
    t.app.seed_demo_inspections(3).await.unwrap();
    let (inspector, ic) = t.login("inspector").await;
    let inspector_id = get_json(&inspector, t.url("/api/v1/auth/me")).await["person_id"].as_str().unwrap().to_string();
    let points = get_json(&inspector, t.url("/api/v1/inspections/points")).await;
    let point_of =
        |kind: &str| points.as_array().unwrap().iter().find(|p| p["point_type"] == kind).unwrap()["id"].as_str().unwrap().to_string();
    let (point, other_point) = (point_of("主次干道"), point_of("居民小区"));
    let plan = |points: Vec<String>| {
        json!({ "name": "督查", "kind": "inspection", "starts_on": "2026-12-01", "ends_on": "2026-12-07",
                "inspectors": [inspector_id], "selection": { "by": "chosen", "points": points } })
    };
    let round: Value = inspector
        .post(t.url("/api/v1/inspections/rounds"))
        .header("X-CSRF-Token", &ic)
        .json(&plan(vec![point.clone(), other_point.clone()]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let round_id = round["round"]["id"].as_str().unwrap().to_string();
    let form_of = |p: &str| get_json(&inspector, t.url(&format!("/api/v1/inspections/rounds/{round_id}/points/{p}")));
    let inspected = all_met(&form_of(&point).await);
    let done: Value = inspector
        .post(t.url(&format!("/api/v1/inspections/rounds/{round_id}/points/{other_point}")))
        .header("X-CSRF-Token", &ic)
        .json(&all_met(&form_of(&other_point).await))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let inspection = done["inspection"]["id"].as_str().unwrap().to_string();
    // 督查通报: a draft for the rows to edit and issue, and one issued here for its notices.
    let today = chuangcheng::domain::calendar::beijing_date(t.app.now());
    let span = json!({ "kind": "custom", "from": (today - chrono::Duration::days(30)).to_string(), "to": today.to_string() });
    let draft_of = || async {
        let v: Value =
            inspector.post(t.url("/api/v1/bulletins")).header("X-CSRF-Token", &ic).json(&span).send().await.unwrap().json().await.unwrap();
        v["id"].as_str().unwrap_or_else(|| panic!("no draft: {v}")).to_string()
    };
    let bulletin = draft_of().await;
    let issued = draft_of().await;
    let sent: Value = inspector
        .post(t.url(&format!("/api/v1/bulletins/{issued}/issue")))
        .header("X-CSRF-Token", &ic)
        .json(&json!({ "revision": 0 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let notice = sent["notices"].as_array().and_then(|n| n.iter().find(|n| n["unit_name"].as_str().is_some_and(|u| u.ends_with("社区"))));
    let notice = notice.unwrap_or_else(|| panic!("no notice to a community: {sent}"));
    let (notice_id, notice_item) = (notice["id"].as_str().unwrap().to_string(), notice["problems"][0]["id"].as_str().unwrap().to_string());
    let answered = json!({ "outcome": "not_fixed", "note": "已约谈物业,周五前清理" });
    let kaiyuan_id = get_json(&inspector, t.url(&format!("/api/v1/org/units/{KAIYUAN}"))).await["unit"]["id"].as_str().map(str::to_string);
    let kaiyuan_id = kaiyuan_id.unwrap_or_else(|| panic!("开元's id"));
    let scored = json!({ "unit": kaiyuan_id, "score": 85, "comment": "整改及时" });
    let account = json!({ "unit": kaiyuan_id, "text": "本周问题已全部整改" });
    // 信息报送: one report sent by 开元's admin for the rows to read and review.
    let (community_c, ccs) = t.login("community").await;
    let info = json!({ "kind": "practice", "title": "开元社区楼长制", "body": "每栋楼设楼长,每日巡查楼道。" });
    let sent: Value =
        community_c.post(t.url("/api/v1/reports")).header("X-CSRF-Token", &ccs).json(&info).send().await.unwrap().json().await.unwrap();
    let report_id = sent["id"].as_str().unwrap_or_else(|| panic!("no report: {sent}")).to_string();
    let adopt = json!({ "decision": "approve" });
    // 重点任务: one led by 开元 for the rows to read and report on.
    let (leader_c, lcs) = t.login("leader").await;
    let task_body = json!({ "kind": "drive", "name": "楼道堆积专项整治", "lead": KAIYUAN, "starts_on": "2026-11-01", "ends_on": "2027-01-31",
                            "milestones": [{ "title": "摸底排查", "due": "2026-12-20" }], "categories": ["0103"] });
    let task: Value =
        leader_c.post(t.url("/api/v1/tasks")).header("X-CSRF-Token", &lcs).json(&task_body).send().await.unwrap().json().await.unwrap();
    let task_id = task["id"].as_str().unwrap_or_else(|| panic!("no task: {task}")).to_string();
    let milestone = task["milestones"][0]["id"].as_str().unwrap().to_string();
    let step = json!({ "percent": 40, "text": "已摸排 12 栋楼" });
    // 门前五包: one merchant in the grid worker's grid, imported by 开元's admin.
    let shop = |name: &str, licence: &str| {
        format!("商户名称,地址,纬度,经度,联系人,电话,经营类别,签订日期,营业执照号\n{name},开元路 1 号,{lat},{lon},王建国,13800001111,餐饮,2026-11-30,{licence}\n").into_bytes()
    };
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(shop("老王烧烤", "91370115MA3C0001")).file_name("m.csv"));
    let r = community_c.post(t.url("/api/v1/merchants/import")).header("X-CSRF-Token", &ccs).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let merchants = get_json(&community_c, t.url("/api/v1/merchants")).await;
    let merchant_id = merchants[0]["id"].as_str().unwrap_or_else(|| panic!("no merchant: {merchants}")).to_string();
    // Its door token and login code, from its printed pledge.
    let pledge =
        community_c.get(t.url(&format!("/api/v1/merchants/{merchant_id}/pledge.docx"))).send().await.unwrap().bytes().await.unwrap();
    let (door_token, shop_code) = crate::merchants::door_and_code(&pledge);
    let passed = json!({ "items": (1..=5).map(|i| json!({ "code": format!("五包-{i:02}"), "observation": { "kind": "pass" } })).collect::<Vec<_>>() });
    let duties = json!({ "duties": [{ "name": "包卫生", "meaning": "门前无垃圾", "category": "0701" }, { "name": "包秩序", "meaning": "不店外经营", "category": "0702" },
                                    { "name": "包绿化", "meaning": "", "category": "0703" }, { "name": "包设施", "meaning": "", "category": "0704" },
                                    { "name": "包文明", "meaning": "", "category": "0705" }] });
    let rules = json!({ "red_min_checks": 1, "black_failed_checks": 2, "black_when_late": true, "referral_months": 3 });
    let manual_toml = include_bytes!("../../data-files/manual.toml").to_vec();
    let points_csv = "名称,点位类型,纬度,经度,责任单位,地址\n12345 回访测试,模拟测试,,,370115001,\n".as_bytes().to_vec();
    let csv =
        |unit: &str, username: &str| format!("姓名,手机,角色,所属单元,用户名\n新同事,13800000001,网格员,{unit},{username}\n").into_bytes();

    // 志愿服务: the demo's volunteers and season; the demo volunteer checked in to the
    // activity under way, a certificate for them, an activity to cancel, an open correction.
    t.app.seed_demo_volunteers().await.unwrap();
    let (leader, lcs) = t.login("teamleader").await;
    let (volunteer_c, vcs) = t.login("volunteer").await;
    let acts = get_json(&leader, t.url("/api/v1/activities")).await;
    let act_named = |part: &str| acts.as_array().unwrap().iter().find(|a| a["title"].as_str().unwrap().contains(part)).unwrap().clone();
    let (ongoing, fair) = (act_named("进行中"), act_named("开元社区志愿服务大集"));
    let (ongoing_id, fair_id) = (ongoing["id"].as_str().unwrap().to_string(), fair["id"].as_str().unwrap().to_string());
    let (alat, alon) = (ongoing["lat"].as_f64().unwrap(), ongoing["lon"].as_f64().unwrap());
    let me = get_json(&volunteer_c, t.url("/api/v1/volunteer/me")).await;
    let vol_id = me["volunteer"]["id"].as_str().unwrap().to_string();
    let code_now = |id: String| {
        let (c, url) = (leader.clone(), t.url(&format!("/api/v1/activities/{id}/code")));
        async move { get_json(&c, url).await["code"].as_str().unwrap().to_string() }
    };
    let scanned: Value = volunteer_c
        .post(t.url(&format!("/api/v1/activities/{ongoing_id}/scan")))
        .header("X-CSRF-Token", &vcs)
        .json(&json!({ "code": code_now(ongoing_id.clone()).await, "lat": alat, "lon": alon }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let attendance_id = scanned["id"].as_str().unwrap_or_else(|| panic!("checked in: {scanned}")).to_string();
    let cert: Value = leader
        .post(t.url(&format!("/api/v1/volunteers/{vol_id}/certificates")))
        .header("X-CSRF-Token", &lcs)
        .json(&json!({ "person_in_charge": "刘芳", "contact": "0531-84212345" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cert_id = cert["id"].as_str().unwrap().to_string();
    let cert_k = cert["verify_url"].as_str().unwrap().split("k=").nth(1).unwrap().to_string();
    let activity_body = |title: &str| {
        json!({ "title": title, "kind": "文明劝导", "team": "ZY01", "place": "开元广场", "lat": alat, "lon": alon,
                "starts": "2027-01-09 09:00", "ends": "2027-01-09 11:00", "capacity": 10 })
    };
    let to_cancel: Value = leader
        .post(t.url("/api/v1/activities"))
        .header("X-CSRF-Token", &lcs)
        .json(&activity_body("待取消的活动"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cancel_id = to_cancel["id"].as_str().unwrap().to_string();
    let team_list = get_json(&leader, t.url("/api/v1/volunteers?team=ZY01")).await;
    let other_vol = team_list.as_array().unwrap().iter().find(|v| v["id"] != vol_id.as_str() && v["name"] != "王建华").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut open_correction = None;
    for v in team_list.as_array().unwrap() {
        let l = get_json(&leader, t.url(&format!("/api/v1/volunteers/{}/ledger", v["id"].as_str().unwrap()))).await;
        open_correction = l["entries"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|e| e["corrections"].as_array().unwrap().clone())
            .find(|c| c["decision"] == "open");
        if open_correction.is_some() {
            break;
        }
    }
    let correction_id = open_correction.expect("the demo has an open correction")["id"].as_str().unwrap().to_string();
    let vol_csv = "姓名,手机,身份证号,所属队伍\n新志愿者,13700009999,,“向阳花开”志愿服务队\n".as_bytes().to_vec();
    let fair_body = {
        let mut b = activity_body("开元社区志愿服务大集");
        b["kind"] = json!("service_fair");
        b["starts"] = json!(chuangcheng::domain::calendar::beijing_text(fair["starts_at"].as_i64().unwrap()));
        b["ends"] = json!(chuangcheng::domain::calendar::beijing_text(fair["ends_at"].as_i64().unwrap()));
        b["capacity"] = json!(40);
        b["public"] = json!(true);
        b
    };
    let scan_code = code_now(ongoing_id.clone()).await;

    use Method as M;
    let rows = vec![
        row(Some("teamleader"), M::GET, "GET /volunteers", "/volunteers", Body::None, 200),
        row(Some("volunteer"), M::GET, "GET /volunteers", "/volunteers", Body::None, 403),
        row(Some("teamleader"), M::POST, "POST /volunteers", "/volunteers", Body::Json(json!({ "name": "赵立新", "team": "ZY01" })), 201),
        row(Some("gridworker"), M::POST, "POST /volunteers", "/volunteers", Body::Json(json!({ "name": "钱多", "team": "ZY01" })), 403),
        row(
            Some("teamleader"),
            M::POST,
            "POST /volunteers/import",
            "/volunteers/import",
            Body::File("file", vol_csv.clone(), "v.csv"),
            200,
        ),
        row(Some("volunteer"), M::POST, "POST /volunteers/import", "/volunteers/import", Body::File("file", vol_csv, "v.csv"), 403),
        row(Some("volunteer"), M::GET, "GET /volunteers/hours-rules", "/volunteers/hours-rules", Body::None, 200),
        row(None, M::GET, "GET /volunteers/hours-rules", "/volunteers/hours-rules", Body::None, 401),
        row(
            Some("admin"),
            M::PUT,
            "PUT /volunteers/hours-rules",
            "/volunteers/hours-rules",
            Body::Json(json!({ "coverage": 0.6, "stars": [100, 300, 600, 1000, 1500], "tolerance_m": 500.0 })),
            200,
        ),
        row(
            Some("teamleader"),
            M::PUT,
            "PUT /volunteers/hours-rules",
            "/volunteers/hours-rules",
            Body::Json(json!({ "coverage": 0.6, "stars": [100, 300, 600, 1000, 1500], "tolerance_m": 500.0 })),
            403,
        ),
        row(Some("teamleader"), M::GET, "GET /volunteers/{id}", format!("/volunteers/{vol_id}"), Body::None, 200),
        row(Some("gridworker"), M::GET, "GET /volunteers/{id}", format!("/volunteers/{vol_id}"), Body::None, 404),
        row(
            Some("teamleader"),
            M::POST,
            "POST /volunteers/{id}/teams",
            format!("/volunteers/{vol_id}/teams"),
            Body::Json(json!({ "team": "ZY01" })),
            200,
        ),
        row(
            Some("volunteer"),
            M::POST,
            "POST /volunteers/{id}/teams",
            format!("/volunteers/{vol_id}/teams"),
            Body::Json(json!({ "team": "ZY01" })),
            403,
        ),
        row(
            Some("teamleader"),
            M::DELETE,
            "DELETE /volunteers/{id}/teams/{team}",
            format!("/volunteers/{other_vol}/teams/ZY01"),
            Body::None,
            200,
        ),
        row(
            Some("volunteer"),
            M::DELETE,
            "DELETE /volunteers/{id}/teams/{team}",
            format!("/volunteers/{vol_id}/teams/ZY01"),
            Body::None,
            403,
        ),
        row(Some("teamleader"), M::GET, "GET /volunteers/{id}/ledger", format!("/volunteers/{vol_id}/ledger"), Body::None, 200),
        row(Some("gridworker"), M::GET, "GET /volunteers/{id}/ledger", format!("/volunteers/{vol_id}/ledger"), Body::None, 404),
        row(Some("volunteer"), M::GET, "GET /volunteers/{id}/certificates", format!("/volunteers/{vol_id}/certificates"), Body::None, 200),
        row(Some("gridworker"), M::GET, "GET /volunteers/{id}/certificates", format!("/volunteers/{vol_id}/certificates"), Body::None, 404),
        row(
            Some("teamleader"),
            M::POST,
            "POST /volunteers/{id}/certificates",
            format!("/volunteers/{vol_id}/certificates"),
            Body::Json(json!({ "person_in_charge": "刘芳", "contact": "0531-84212345" })),
            201,
        ),
        row(
            Some("volunteer"),
            M::POST,
            "POST /volunteers/{id}/certificates",
            format!("/volunteers/{vol_id}/certificates"),
            Body::Json(json!({ "person_in_charge": "刘芳", "contact": "0531-84212345" })),
            403,
        ),
        row(Some("volunteer"), M::GET, "GET /volunteer/me", "/volunteer/me", Body::None, 200),
        row(Some("gridworker"), M::GET, "GET /volunteer/me", "/volunteer/me", Body::None, 403),
        row(Some("volunteer"), M::GET, "GET /certificates/{id}", format!("/certificates/{cert_id}"), Body::None, 200),
        row(Some("gridworker"), M::GET, "GET /certificates/{id}", format!("/certificates/{cert_id}"), Body::None, 404),
        row(
            Some("teamleader"),
            M::GET,
            "GET /certificates/{id}/certificate.docx",
            format!("/certificates/{cert_id}/certificate.docx"),
            Body::None,
            200,
        ),
        row(
            Some("gridworker"),
            M::GET,
            "GET /certificates/{id}/certificate.docx",
            format!("/certificates/{cert_id}/certificate.docx"),
            Body::None,
            404,
        ),
        row(None, M::GET, "GET /public/certificates/{id}", format!("/public/certificates/{cert_id}?k={cert_k}"), Body::None, 200),
        row(None, M::GET, "GET /public/certificates/{id}", format!("/public/certificates/{cert_id}?k=forged"), Body::None, 404),
        row(None, M::GET, "GET /public/activities", "/public/activities", Body::None, 200),
        row(Some("volunteer"), M::GET, "GET /activities", "/activities", Body::None, 200),
        row(None, M::GET, "GET /activities", "/activities", Body::None, 401),
        row(Some("teamleader"), M::POST, "POST /activities", "/activities", Body::Json(activity_body("新活动")), 201),
        row(Some("volunteer"), M::POST, "POST /activities", "/activities", Body::Json(activity_body("志愿者的活动")), 403),
        row(Some("volunteer"), M::GET, "GET /activities/{id}", format!("/activities/{fair_id}"), Body::None, 200),
        row(None, M::GET, "GET /activities/{id}", format!("/activities/{fair_id}"), Body::None, 401),
        row(Some("teamleader"), M::PUT, "PUT /activities/{id}", format!("/activities/{fair_id}"), Body::Json(fair_body.clone()), 200),
        row(Some("volunteer"), M::PUT, "PUT /activities/{id}", format!("/activities/{fair_id}"), Body::Json(fair_body), 403),
        row(Some("volunteer"), M::POST, "POST /activities/{id}/cancel", format!("/activities/{cancel_id}/cancel"), Body::None, 403),
        row(Some("teamleader"), M::POST, "POST /activities/{id}/cancel", format!("/activities/{cancel_id}/cancel"), Body::None, 200),
        row(
            Some("teamleader"),
            M::POST,
            "POST /activities/{id}/outcome",
            format!("/activities/{fair_id}/outcome"),
            Body::Json(json!({ "served": [{ "service": "理发", "beneficiaries": 40 }] })),
            200,
        ),
        row(
            Some("volunteer"),
            M::POST,
            "POST /activities/{id}/outcome",
            format!("/activities/{fair_id}/outcome"),
            Body::Json(json!({})),
            403,
        ),
        row(Some("teamleader"), M::POST, "POST /activities/{id}/signup", format!("/activities/{fair_id}/signup"), Body::None, 200),
        row(Some("gridworker"), M::POST, "POST /activities/{id}/signup", format!("/activities/{fair_id}/signup"), Body::None, 403),
        row(Some("teamleader"), M::DELETE, "DELETE /activities/{id}/signup", format!("/activities/{fair_id}/signup"), Body::None, 200),
        row(Some("gridworker"), M::DELETE, "DELETE /activities/{id}/signup", format!("/activities/{fair_id}/signup"), Body::None, 403),
        row(Some("teamleader"), M::GET, "GET /activities/{id}/code", format!("/activities/{ongoing_id}/code"), Body::None, 200),
        row(Some("volunteer"), M::GET, "GET /activities/{id}/code", format!("/activities/{ongoing_id}/code"), Body::None, 403),
        row(
            Some("teamleader"),
            M::POST,
            "POST /activities/{id}/scan",
            format!("/activities/{ongoing_id}/scan"),
            Body::Json(json!({ "code": scan_code, "lat": alat, "lon": alon })),
            200,
        ),
        row(
            Some("gridworker"),
            M::POST,
            "POST /activities/{id}/scan",
            format!("/activities/{ongoing_id}/scan"),
            Body::Json(json!({ "code": scan_code, "lat": alat, "lon": alon })),
            403,
        ),
        row(
            Some("teamleader"),
            M::POST,
            "POST /activities/{id}/attendance",
            format!("/activities/{ongoing_id}/attendance"),
            Body::Json(json!({ "volunteer_id": vol_id, "minutes": 30 })),
            200,
        ),
        row(
            Some("volunteer"),
            M::POST,
            "POST /activities/{id}/attendance",
            format!("/activities/{ongoing_id}/attendance"),
            Body::Json(json!({ "volunteer_id": vol_id, "minutes": 30 })),
            403,
        ),
        row(
            Some("volunteer"),
            M::POST,
            "POST /activities/{id}/confirm",
            format!("/activities/{ongoing_id}/confirm"),
            Body::Json(json!({})),
            403,
        ),
        row(
            Some("teamleader"),
            M::POST,
            "POST /activities/{id}/confirm",
            format!("/activities/{ongoing_id}/confirm"),
            Body::Json(json!({})),
            200,
        ),
        row(
            Some("volunteer"),
            M::POST,
            "POST /attendances/{id}/corrections",
            format!("/attendances/{attendance_id}/corrections"),
            Body::Json(json!({ "minutes": 60, "reason": "提前到场" })),
            201,
        ),
        row(
            Some("gridworker"),
            M::POST,
            "POST /attendances/{id}/corrections",
            format!("/attendances/{attendance_id}/corrections"),
            Body::Json(json!({ "minutes": 60, "reason": "提前到场" })),
            403,
        ),
        row(
            Some("volunteer"),
            M::POST,
            "POST /corrections/{id}/decision",
            format!("/corrections/{correction_id}/decision"),
            Body::Json(json!({ "accept": true })),
            403,
        ),
        row(
            Some("teamleader"),
            M::POST,
            "POST /corrections/{id}/decision",
            format!("/corrections/{correction_id}/decision"),
            Body::Json(json!({ "accept": true })),
            200,
        ),
        // Public reads and the citizen's report.
        row(None, M::GET, "GET /locate", format!("/locate?lat={lat}&lon={lon}"), Body::None, 200),
        row(None, M::GET, "GET /grids", "/grids", Body::None, 200),
        row(None, M::GET, "GET /categories", "/categories", Body::None, 200),
        row(None, M::GET, "GET /openapi.json", "/openapi.json", Body::None, 200),
        row(None, M::POST, "POST /auth/login", "/auth/login", Body::Json(json!({"username": "nobody", "password": "x"})), 401),
        row(None, M::POST, "POST /auth/logout", "/auth/logout", Body::None, 204),
        row(
            None,
            M::POST,
            "POST /cases",
            "/cases",
            Body::Json(json!({"category": "0401", "description": "市民上报", "lat": lat, "lon": lon})),
            201,
        ),
        row(
            None,
            M::POST,
            "POST /cases",
            "/cases",
            Body::Json(json!({"category": "0401", "description": "x", "lat": lat, "lon": lon, "self_handled": true})),
            403,
        ),
        row(
            Some("gridworker"),
            M::POST,
            "POST /cases",
            "/cases",
            Body::Json(json!({"category": "0401", "description": "已处置", "lat": lat, "lon": lon, "self_handled": true})),
            201,
        ),
        row(
            Some("inspector"),
            M::POST,
            "POST /cases",
            "/cases",
            Body::Json(json!({"category": "0401", "description": "x", "lat": lat, "lon": lon, "self_handled": true})),
            403,
        ),
        // Who am I, tokens.
        row(None, M::GET, "GET /auth/me", "/auth/me", Body::None, 401),
        row(Some("volunteer"), M::GET, "GET /auth/me", "/auth/me", Body::None, 200),
        row(None, M::POST, "POST /auth/tokens", "/auth/tokens", Body::Json(json!({"name": "x"})), 401),
        row(Some("volunteer"), M::POST, "POST /auth/tokens", "/auth/tokens", Body::Json(json!({"name": "脚本"})), 201),
        // The org: in scope, out of scope.
        row(None, M::GET, "GET /org/units", "/org/units", Body::None, 401),
        row(Some("volunteer"), M::GET, "GET /org/units", "/org/units", Body::None, 200),
        row(Some("leader"), M::GET, "GET /org/units/{code}", format!("/org/units/{WEIERLU}"), Body::None, 200),
        row(Some("community"), M::GET, "GET /org/units/{code}", format!("/org/units/{KAIYUAN}"), Body::None, 200),
        row(Some("community"), M::GET, "GET /org/units/{code}", format!("/org/units/{WEIERLU}"), Body::None, 404),
        row(None, M::GET, "GET /org/units/{code}", format!("/org/units/{KAIYUAN}"), Body::None, 401),
        row(
            Some("community"),
            M::PATCH,
            "PATCH /people/{id}",
            format!("/people/{own_person}"),
            Body::Json(json!({"phone": "13900000009"})),
            204,
        ),
        row(
            Some("community"),
            M::PATCH,
            "PATCH /people/{id}",
            format!("/people/{other_person}"),
            Body::Json(json!({"phone": "13900000009"})),
            404,
        ),
        row(
            Some("gridworker"),
            M::PATCH,
            "PATCH /people/{id}",
            format!("/people/{own_person}"),
            Body::Json(json!({"phone": "13900000009"})),
            403,
        ),
        row(
            Some("leader"),
            M::PATCH,
            "PATCH /people/{id}",
            format!("/people/{own_person}"),
            Body::Json(json!({"phone": "13900000009"})),
            403,
        ),
        row(Some("admin"), M::POST, "POST /people/import", "/people/import", Body::File("file", csv(GRID, "newhire1"), "p.csv"), 200),
        row(Some("community"), M::POST, "POST /people/import", "/people/import", Body::File("file", csv(GRID, "newhire2"), "p.csv"), 200),
        row(
            Some("community"),
            M::POST,
            "POST /people/import",
            "/people/import",
            Body::File("file", csv("370115001002001", "newhire3"), "p.csv"),
            422,
        ),
        row(Some("leader"), M::POST, "POST /people/import", "/people/import", Body::File("file", csv(GRID, "newhire4"), "p.csv"), 403),
        row(None, M::POST, "POST /people/import", "/people/import", Body::File("file", csv(GRID, "newhire5"), "p.csv"), 401),
        row(
            Some("leader"),
            M::POST,
            "POST /grids/import",
            "/grids/import",
            Body::Json(json!({"type": "FeatureCollection", "features": []})),
            403,
        ),
        row(None, M::POST, "POST /grids/import", "/grids/import", Body::Json(json!({})), 401),
        // Categories and keys: system-wide, admins only.
        row(
            Some("admin"),
            M::PUT,
            "PUT /categories/{code}",
            "/categories/0401",
            Body::Json(json!({
            "code": "0401", "class_code": "04", "name": "占道经营", "class_name": "街面秩序", "tier": 1, "department": "ZF01", "response_minutes": 60,
            "handling_minutes": 480, "citizen": true, "active": true})),
            200,
        ),
        row(Some("dispatcher"), M::PUT, "PUT /categories/{code}", "/categories/0401", Body::Json(json!({"name": "x"})), 403),
        row(Some("admin"), M::GET, "GET /apikeys", "/apikeys", Body::None, 200),
        row(Some("leader"), M::GET, "GET /apikeys", "/apikeys", Body::None, 403),
        row(None, M::GET, "GET /apikeys", "/apikeys", Body::None, 401),
        row(Some("admin"), M::POST, "POST /apikeys", "/apikeys", Body::Json(json!({"name": "随手拍"})), 201),
        row(Some("community"), M::POST, "POST /apikeys", "/apikeys", Body::Json(json!({"name": "随手拍"})), 403),
        row(Some("admin"), M::POST, "POST /apikeys/{id}/revoke", "/apikeys/随手拍/revoke", Body::None, 200),
        row(Some("dispatcher"), M::POST, "POST /apikeys/{id}/revoke", "/apikeys/随手拍/revoke", Body::None, 403),
        // Cases: the desk, one case, its history, by scope.
        row(Some("leader"), M::GET, "GET /cases", "/cases", Body::None, 200),
        row(None, M::GET, "GET /cases", "/cases", Body::None, 401),
        row(Some("leader"), M::GET, "GET /cases/{id}", format!("/cases/{case}"), Body::None, 200),
        row(Some("community"), M::GET, "GET /cases/{id}", format!("/cases/{case}"), Body::None, 200),
        row(Some("handler"), M::GET, "GET /cases/{id}", format!("/cases/{case}"), Body::None, 404),
        row(Some("volunteer"), M::GET, "GET /cases/{id}", format!("/cases/{case}"), Body::None, 404),
        row(None, M::GET, "GET /cases/{id}", format!("/cases/{case}"), Body::None, 401),
        row(Some("inspector"), M::GET, "GET /cases/{id}/timeline", format!("/cases/{case}/timeline"), Body::None, 200),
        row(Some("volunteer"), M::GET, "GET /cases/{id}/timeline", format!("/cases/{case}/timeline"), Body::None, 404),
        row(Some("gridworker"), M::POST, "POST /cases/{id}/actions/{action}", format!("/cases/{case}/actions/register"), Body::None, 403),
        row(Some("leader"), M::POST, "POST /cases/{id}/actions/{action}", format!("/cases/{case}/actions/register"), Body::None, 403),
        row(Some("handler"), M::POST, "POST /cases/{id}/actions/{action}", format!("/cases/{case}/actions/register"), Body::None, 404),
        row(Some("dispatcher"), M::POST, "POST /cases/{id}/actions/{action}", format!("/cases/{case}/actions/register"), Body::None, 200),
        row(Some("dispatcher"), M::POST, "POST /cases/{id}/actions/{action}", format!("/cases/{case}/actions/dispatch"), Body::None, 200),
        row(Some("dispatcher"), M::POST, "POST /cases/{id}/actions/{action}", format!("/cases/{case}/actions/escalate"), Body::None, 403),
        row(None, M::POST, "POST /cases/{id}/actions/{action}", format!("/cases/{case}/actions/comment"), Body::None, 401),
        row(Some("volunteer"), M::GET, "GET /todo", "/todo", Body::None, 200),
        row(None, M::GET, "GET /todo", "/todo", Body::None, 401),
        // Exports, masked and full.
        row(Some("gridworker"), M::GET, "GET /cases/export.{format}", "/cases/export.csv", Body::None, 200),
        row(Some("volunteer"), M::GET, "GET /cases/export.{format}", "/cases/export.csv", Body::None, 403),
        row(Some("leader"), M::GET, "GET /cases/export.{format}", "/cases/export.csv?personal=full&reason=核对", Body::None, 200),
        row(Some("gridworker"), M::GET, "GET /cases/export.{format}", "/cases/export.csv?personal=full", Body::None, 403),
        row(None, M::GET, "GET /cases/export.{format}", "/cases/export.csv", Body::None, 401),
        // Indicators.
        row(Some("leader"), M::GET, "GET /indicators", "/indicators", Body::None, 200),
        row(Some("volunteer"), M::GET, "GET /indicators", "/indicators", Body::None, 403),
        row(Some("community"), M::GET, "GET /indicators", format!("/indicators?unit={WEIERLU}"), Body::None, 404),
        row(Some("leader"), M::GET, "GET /indicators/export.{format}", "/indicators/export.xlsx", Body::None, 200),
        row(Some("volunteer"), M::GET, "GET /indicators/export.{format}", "/indicators/export.xlsx", Body::None, 403),
        // Photos: the uploader, whoever may read the case, nobody else.
        row(Some("volunteer"), M::POST, "POST /photos", "/photos", Body::File("photo", photo.clone(), "b.jpg"), 201),
        row(None, M::POST, "POST /photos", "/photos", Body::File("photo", photo.clone(), "b.jpg"), 401),
        row(Some("gridworker"), M::GET, "GET /photos/{id}", format!("/photos/{photo_id}"), Body::None, 200),
        row(Some("leader"), M::GET, "GET /photos/{id}", format!("/photos/{photo_id}"), Body::None, 200),
        row(Some("volunteer"), M::GET, "GET /photos/{id}", format!("/photos/{photo_id}"), Body::None, 404),
        row(Some("handler"), M::GET, "GET /photos/{id}/thumb", format!("/photos/{photo_id}/thumb"), Body::None, 404),
        row(Some("community"), M::GET, "GET /photos/{id}/thumb", format!("/photos/{photo_id}/thumb"), Body::None, 200),
        row(None, M::GET, "GET /photos/{id}", format!("/photos/{photo_id}"), Body::None, 401),
        // Personal data on request, and the log of it.
        row(Some("dispatcher"), M::POST, "POST /reveal", "/reveal", Body::Json(json!({"record": "case", "id": case})), 200),
        row(Some("leader"), M::POST, "POST /reveal", "/reveal", Body::Json(json!({"record": "person", "id": other_person})), 200),
        row(Some("community"), M::POST, "POST /reveal", "/reveal", Body::Json(json!({"record": "person", "id": other_person})), 404),
        row(Some("gridworker"), M::POST, "POST /reveal", "/reveal", Body::Json(json!({"record": "case", "id": case})), 403),
        row(Some("handler"), M::POST, "POST /reveal", "/reveal", Body::Json(json!({"record": "case", "id": case})), 403),
        row(Some("admin"), M::GET, "GET /access-log", "/access-log", Body::None, 200),
        row(Some("leader"), M::GET, "GET /access-log", "/access-log", Body::None, 403),
        row(Some("dispatcher"), M::GET, "GET /access-log", "/access-log", Body::None, 403),
        row(Some("admin"), M::GET, "GET /access-log/export.{format}", "/access-log/export.csv", Body::None, 200),
        row(Some("community"), M::GET, "GET /access-log/export.{format}", "/access-log/export.csv", Body::None, 403),
        // 对标对表.
        row(Some("inspector"), M::GET, "GET /inspections/manuals", "/inspections/manuals", Body::None, 200),
        row(Some("community"), M::GET, "GET /inspections/manuals", "/inspections/manuals", Body::None, 200),
        row(Some("volunteer"), M::GET, "GET /inspections/manuals", "/inspections/manuals", Body::None, 403),
        row(None, M::GET, "GET /inspections/manuals", "/inspections/manuals", Body::None, 401),
        row(Some("inspector"), M::GET, "GET /inspections/manuals/{id}", "/inspections/manuals/current", Body::None, 200),
        row(Some("volunteer"), M::GET, "GET /inspections/manuals/{id}", "/inspections/manuals/current", Body::None, 403),
        row(
            Some("admin"),
            M::POST,
            "POST /inspections/manuals/import",
            "/inspections/manuals/import",
            Body::File("file", manual_toml.clone(), "m.toml"),
            201,
        ),
        row(
            Some("inspector"),
            M::POST,
            "POST /inspections/manuals/import",
            "/inspections/manuals/import",
            Body::File("file", manual_toml.clone(), "m.toml"),
            403,
        ),
        row(
            Some("leader"),
            M::POST,
            "POST /inspections/manuals/import",
            "/inspections/manuals/import",
            Body::File("file", manual_toml, "m.toml"),
            403,
        ),
        row(None, M::POST, "POST /inspections/manuals/import", "/inspections/manuals/import", Body::Json(json!({})), 401),
        row(Some("inspector"), M::GET, "GET /inspections/points", "/inspections/points", Body::None, 200),
        row(Some("handler"), M::GET, "GET /inspections/points", "/inspections/points", Body::None, 200),
        row(Some("volunteer"), M::GET, "GET /inspections/points", "/inspections/points", Body::None, 403),
        row(
            Some("inspector"),
            M::POST,
            "POST /inspections/points/import",
            "/inspections/points/import",
            Body::File("file", points_csv.clone(), "p.csv"),
            200,
        ),
        row(
            Some("community"),
            M::POST,
            "POST /inspections/points/import",
            "/inspections/points/import",
            Body::File("file", points_csv.clone(), "p.csv"),
            403,
        ),
        row(None, M::POST, "POST /inspections/points/import", "/inspections/points/import", Body::File("file", points_csv, "p.csv"), 401),
        row(Some("leader"), M::GET, "GET /inspections/rounds", "/inspections/rounds", Body::None, 200),
        row(Some("volunteer"), M::GET, "GET /inspections/rounds", "/inspections/rounds", Body::None, 403),
        row(Some("inspector"), M::POST, "POST /inspections/rounds", "/inspections/rounds", Body::Json(plan(vec![point.clone()])), 201),
        row(Some("dispatcher"), M::POST, "POST /inspections/rounds", "/inspections/rounds", Body::Json(plan(vec![point.clone()])), 403),
        row(None, M::POST, "POST /inspections/rounds", "/inspections/rounds", Body::Json(plan(vec![point.clone()])), 401),
        row(Some("leader"), M::GET, "GET /inspections/rounds/{id}", format!("/inspections/rounds/{round_id}"), Body::None, 200),
        row(Some("volunteer"), M::GET, "GET /inspections/rounds/{id}", format!("/inspections/rounds/{round_id}"), Body::None, 403),
        row(
            Some("inspector"),
            M::GET,
            "GET /inspections/rounds/{id}/points/{point}",
            format!("/inspections/rounds/{round_id}/points/{point}"),
            Body::None,
            200,
        ),
        row(
            Some("volunteer"),
            M::GET,
            "GET /inspections/rounds/{id}/points/{point}",
            format!("/inspections/rounds/{round_id}/points/{point}"),
            Body::None,
            404,
        ),
        row(
            Some("dispatcher"),
            M::PUT,
            "PUT /inspections/rounds/{id}/points/{point}/inspector",
            format!("/inspections/rounds/{round_id}/points/{point}/inspector"),
            Body::Json(json!({ "inspector": inspector_id })),
            403,
        ),
        row(
            Some("inspector"),
            M::PUT,
            "PUT /inspections/rounds/{id}/points/{point}/inspector",
            format!("/inspections/rounds/{round_id}/points/{point}/inspector"),
            Body::Json(json!({ "inspector": inspector_id })),
            204,
        ),
        row(
            Some("gridworker"),
            M::POST,
            "POST /inspections/rounds/{id}/points/{point}",
            format!("/inspections/rounds/{round_id}/points/{point}"),
            Body::Json(inspected.clone()),
            404,
        ),
        row(
            None,
            M::POST,
            "POST /inspections/rounds/{id}/points/{point}",
            format!("/inspections/rounds/{round_id}/points/{point}"),
            Body::Json(inspected.clone()),
            401,
        ),
        row(
            Some("inspector"),
            M::POST,
            "POST /inspections/rounds/{id}/points/{point}",
            format!("/inspections/rounds/{round_id}/points/{point}"),
            Body::Json(inspected),
            201,
        ),
        row(Some("inspector"), M::GET, "GET /inspections/mine", "/inspections/mine", Body::None, 200),
        row(Some("volunteer"), M::GET, "GET /inspections/mine", "/inspections/mine", Body::None, 403),
        row(None, M::GET, "GET /inspections/mine", "/inspections/mine", Body::None, 401),
        row(Some("inspector"), M::GET, "GET /inspections/{id}", format!("/inspections/{inspection}"), Body::None, 200),
        row(Some("leader"), M::GET, "GET /inspections/{id}", format!("/inspections/{inspection}"), Body::None, 200),
        row(Some("volunteer"), M::GET, "GET /inspections/{id}", format!("/inspections/{inspection}"), Body::None, 404),
        row(Some("leader"), M::GET, "GET /inspections/rankings", "/inspections/rankings", Body::None, 200),
        row(Some("community"), M::GET, "GET /inspections/rankings", format!("/inspections/rankings?unit={WEIERLU}"), Body::None, 404),
        row(Some("volunteer"), M::GET, "GET /inspections/rankings", "/inspections/rankings", Body::None, 403),
        row(Some("leader"), M::GET, "GET /inspections/rankings/export.{format}", "/inspections/rankings/export.xlsx", Body::None, 200),
        row(Some("volunteer"), M::GET, "GET /inspections/rankings/export.{format}", "/inspections/rankings/export.xlsx", Body::None, 403),
        row(Some("leader"), M::GET, "GET /inspections/composite", "/inspections/composite", Body::None, 200),
        row(None, M::GET, "GET /inspections/composite", "/inspections/composite", Body::None, 401),
        row(Some("leader"), M::GET, "GET /inspections/composite/export.{format}", "/inspections/composite/export.csv", Body::None, 200),
        row(Some("volunteer"), M::GET, "GET /inspections/composite/export.{format}", "/inspections/composite/export.csv", Body::None, 403),
        row(Some("leader"), M::GET, "GET /inspections/weights", "/inspections/weights", Body::None, 200),
        row(Some("volunteer"), M::GET, "GET /inspections/weights", "/inspections/weights", Body::None, 403),
        row(
            Some("admin"),
            M::PUT,
            "PUT /inspections/weights",
            "/inspections/weights",
            Body::Json(json!({ "score": 0.6, "on_time": 0.3, "rework": 0.1 })),
            200,
        ),
        row(
            Some("leader"),
            M::PUT,
            "PUT /inspections/weights",
            "/inspections/weights",
            Body::Json(json!({ "score": 1, "on_time": 0, "rework": 0 })),
            403,
        ),
        row(Some("leader"), M::GET, "GET /inspections/shortfall", "/inspections/shortfall", Body::None, 200),
        row(Some("volunteer"), M::GET, "GET /inspections/shortfall", "/inspections/shortfall", Body::None, 403),
        row(Some("leader"), M::GET, "GET /inspections/shortfall/export.{format}", "/inspections/shortfall/export.xlsx", Body::None, 200),
        row(None, M::GET, "GET /inspections/shortfall/export.{format}", "/inspections/shortfall/export.xlsx", Body::None, 401),
        // 督查通报: inspectors write; readers of inspections read issued ones; units answer.
        row(Some("leader"), M::GET, "GET /bulletins", "/bulletins", Body::None, 200),
        row(Some("volunteer"), M::GET, "GET /bulletins", "/bulletins", Body::None, 403),
        row(None, M::GET, "GET /bulletins", "/bulletins", Body::None, 401),
        row(Some("inspector"), M::POST, "POST /bulletins", "/bulletins", Body::Json(span.clone()), 201),
        row(Some("dispatcher"), M::POST, "POST /bulletins", "/bulletins", Body::Json(span.clone()), 403),
        row(None, M::POST, "POST /bulletins", "/bulletins", Body::Json(span), 401),
        row(Some("inspector"), M::GET, "GET /bulletins/{id}", format!("/bulletins/{bulletin}"), Body::None, 200),
        row(Some("leader"), M::GET, "GET /bulletins/{id}", format!("/bulletins/{bulletin}"), Body::None, 404),
        row(Some("leader"), M::GET, "GET /bulletins/{id}", format!("/bulletins/{issued}"), Body::None, 200),
        row(
            Some("leader"),
            M::PUT,
            "PUT /bulletins/{id}",
            format!("/bulletins/{bulletin}"),
            Body::Json(json!({ "revision": 0, "intro": "x" })),
            403,
        ),
        row(
            Some("inspector"),
            M::PUT,
            "PUT /bulletins/{id}",
            format!("/bulletins/{bulletin}"),
            Body::Json(json!({ "revision": 0, "intro": "本周" })),
            200,
        ),
        row(
            Some("dispatcher"),
            M::POST,
            "POST /bulletins/{id}/issue",
            format!("/bulletins/{bulletin}/issue"),
            Body::Json(json!({ "revision": 1 })),
            403,
        ),
        row(
            Some("inspector"),
            M::POST,
            "POST /bulletins/{id}/issue",
            format!("/bulletins/{bulletin}/issue"),
            Body::Json(json!({ "revision": 1 })),
            200,
        ),
        row(Some("leader"), M::POST, "POST /bulletins/{id}/correct", format!("/bulletins/{bulletin}/correct"), Body::None, 403),
        row(Some("inspector"), M::POST, "POST /bulletins/{id}/correct", format!("/bulletins/{bulletin}/correct"), Body::None, 201),
        row(Some("leader"), M::GET, "GET /bulletins/{id}/document.docx", format!("/bulletins/{issued}/document.docx"), Body::None, 200),
        row(Some("volunteer"), M::GET, "GET /bulletins/{id}/document.docx", format!("/bulletins/{issued}/document.docx"), Body::None, 404),
        row(Some("leader"), M::GET, "GET /bulletins/{id}/tables.xlsx", format!("/bulletins/{issued}/tables.xlsx"), Body::None, 200),
        row(None, M::GET, "GET /bulletins/{id}/tables.xlsx", format!("/bulletins/{issued}/tables.xlsx"), Body::None, 401),
        row(Some("community"), M::GET, "GET /notices", "/notices", Body::None, 200),
        row(Some("volunteer"), M::GET, "GET /notices", "/notices", Body::None, 403),
        row(Some("inspector"), M::GET, "GET /notices/{id}", format!("/notices/{notice_id}"), Body::None, 200),
        row(Some("volunteer"), M::GET, "GET /notices/{id}", format!("/notices/{notice_id}"), Body::None, 404),
        row(
            Some("leader"),
            M::GET,
            "GET /bulletins/{id}/meeting",
            format!("/bulletins/{issued}/meeting?unit={kaiyuan_id}"),
            Body::None,
            200,
        ),
        row(Some("volunteer"), M::GET, "GET /bulletins/{id}/meeting", format!("/bulletins/{issued}/meeting"), Body::None, 404),
        row(Some("leader"), M::POST, "POST /bulletins/{id}/scores", format!("/bulletins/{issued}/scores"), Body::Json(scored.clone()), 200),
        row(Some("community"), M::POST, "POST /bulletins/{id}/scores", format!("/bulletins/{issued}/scores"), Body::Json(scored), 403),
        row(
            Some("community"),
            M::POST,
            "POST /bulletins/{id}/accounts",
            format!("/bulletins/{issued}/accounts"),
            Body::Json(account.clone()),
            200,
        ),
        row(Some("leader"), M::POST, "POST /bulletins/{id}/accounts", format!("/bulletins/{issued}/accounts"), Body::Json(account), 403),
        row(Some("volunteer"), M::GET, "GET /merchants", "/merchants", Body::None, 200),
        row(None, M::GET, "GET /merchants", "/merchants", Body::None, 401),
        row(
            Some("community"),
            M::POST,
            "POST /merchants/import",
            "/merchants/import",
            Body::File("file", shop("张记面馆", "91370115MA3C0002"), "m.csv"),
            200,
        ),
        row(
            Some("gridworker"),
            M::POST,
            "POST /merchants/import",
            "/merchants/import",
            Body::File("file", shop("李记", "91370115MA3C0003"), "m.csv"),
            403,
        ),
        row(Some("community"), M::GET, "GET /merchants/{id}", format!("/merchants/{merchant_id}"), Body::None, 200),
        row(Some("volunteer"), M::GET, "GET /merchants/{id}", format!("/merchants/{merchant_id}"), Body::None, 404),
        row(Some("community"), M::GET, "GET /merchants/{id}/pledge.docx", format!("/merchants/{merchant_id}/pledge.docx"), Body::None, 200),
        row(
            Some("gridworker"),
            M::GET,
            "GET /merchants/{id}/pledge.docx",
            format!("/merchants/{merchant_id}/pledge.docx"),
            Body::None,
            403,
        ),
        row(
            Some("gridworker"),
            M::PUT,
            "PUT /merchants/{id}/status",
            format!("/merchants/{merchant_id}/status"),
            Body::Json(json!({ "status": "closed" })),
            403,
        ),
        row(
            Some("community"),
            M::PUT,
            "PUT /merchants/{id}/status",
            format!("/merchants/{merchant_id}/status"),
            Body::Json(json!({ "status": "open" })),
            200,
        ),
        row(Some("gridworker"), M::GET, "GET /merchants/nearby", format!("/merchants/nearby?lat={lat}&lon={lon}"), Body::None, 200),
        row(Some("leader"), M::GET, "GET /merchants/nearby", format!("/merchants/nearby?lat={lat}&lon={lon}"), Body::None, 403),
        row(Some("gridworker"), M::GET, "GET /merchants/duties", "/merchants/duties", Body::None, 200),
        row(None, M::GET, "GET /merchants/duties", "/merchants/duties", Body::None, 401),
        row(Some("community"), M::PUT, "PUT /merchants/duties", "/merchants/duties", Body::Json(duties.clone()), 403),
        row(Some("admin"), M::PUT, "PUT /merchants/duties", "/merchants/duties", Body::Json(duties), 200),
        row(Some("gridworker"), M::GET, "GET /merchants/board-rules", "/merchants/board-rules", Body::None, 200),
        row(None, M::GET, "GET /merchants/board-rules", "/merchants/board-rules", Body::None, 401),
        row(Some("community"), M::PUT, "PUT /merchants/board-rules", "/merchants/board-rules", Body::Json(rules.clone()), 403),
        row(Some("admin"), M::PUT, "PUT /merchants/board-rules", "/merchants/board-rules", Body::Json(rules), 200),
        row(Some("gridworker"), M::GET, "GET /merchants/{id}/check", format!("/merchants/{merchant_id}/check"), Body::None, 200),
        row(Some("leader"), M::GET, "GET /merchants/{id}/check", format!("/merchants/{merchant_id}/check"), Body::None, 403),
        row(
            Some("leader"),
            M::POST,
            "POST /merchants/{id}/checks",
            format!("/merchants/{merchant_id}/checks"),
            Body::Json(passed.clone()),
            403,
        ),
        row(
            Some("gridworker"),
            M::POST,
            "POST /merchants/{id}/checks",
            format!("/merchants/{merchant_id}/checks"),
            Body::Json(passed),
            201,
        ),
        row(Some("community"), M::GET, "GET /merchants/{id}/credit", format!("/merchants/{merchant_id}/credit"), Body::None, 200),
        row(Some("volunteer"), M::GET, "GET /merchants/{id}/credit", format!("/merchants/{merchant_id}/credit"), Body::None, 404),
        row(Some("community"), M::GET, "GET /merchants/{id}/door.svg", format!("/merchants/{merchant_id}/door.svg"), Body::None, 200),
        row(Some("gridworker"), M::GET, "GET /merchants/{id}/door.svg", format!("/merchants/{merchant_id}/door.svg"), Body::None, 403),
        row(Some("leader"), M::GET, "GET /merchants/boards", "/merchants/boards?month=2026-01", Body::None, 200),
        row(Some("volunteer"), M::GET, "GET /merchants/boards", "/merchants/boards?month=2026-01", Body::None, 403),
        row(Some("leader"), M::POST, "POST /merchants/boards/{month}/publish", "/merchants/boards/2026-01/publish", Body::None, 403),
        row(Some("community"), M::POST, "POST /merchants/boards/{month}/publish", "/merchants/boards/2026-01/publish", Body::None, 200),
        row(Some("leader"), M::GET, "GET /merchants/boards/{month}/poster.docx", "/merchants/boards/2026-01/poster.docx", Body::None, 200),
        row(
            Some("volunteer"),
            M::GET,
            "GET /merchants/boards/{month}/poster.docx",
            "/merchants/boards/2026-01/poster.docx",
            Body::None,
            403,
        ),
        row(None, M::GET, "GET /public/boards", "/public/boards", Body::None, 200),
        row(None, M::GET, "GET /public/boards/{month}", "/public/boards/2026-01", Body::None, 200),
        row(None, M::GET, "GET /public/boards/{month}", "/public/boards/2020-01", Body::None, 404),
        row(None, M::GET, "GET /door/{token}", format!("/door/{door_token}"), Body::None, 200),
        row(None, M::GET, "GET /door/{token}", "/door/forged-plate", Body::None, 404),
        row(
            None,
            M::POST,
            "POST /door/{token}/reports",
            format!("/door/{door_token}/reports"),
            Body::Json(json!({ "duty": "五包-01" })),
            201,
        ),
        row(None, M::POST, "POST /door/{token}/reports", "/door/forged-plate/reports", Body::Json(json!({ "duty": "五包-01" })), 404),
        row(
            None,
            M::POST,
            "POST /merchant/login",
            "/merchant/login",
            Body::Json(json!({ "phone": "13800001111", "code": "WRONG123" })),
            422,
        ),
        row(
            None,
            M::POST,
            "POST /merchant/login",
            "/merchant/login",
            Body::Json(json!({ "phone": "13800001111", "code": shop_code })),
            200,
        ),
        row(Some("gridworker"), M::GET, "GET /merchant/me", "/merchant/me", Body::None, 403),
        row(None, M::GET, "GET /merchant/me", "/merchant/me", Body::None, 401),
        row(
            Some("gridworker"),
            M::POST,
            "POST /merchant/cases/{id}/answer",
            format!("/merchant/cases/{merchant_id}/answer"),
            Body::Json(json!({ "note": "已整改" })),
            403,
        ),
        row(
            Some("gridworker"),
            M::POST,
            "POST /merchants/{id}/login-code",
            format!("/merchants/{merchant_id}/login-code"),
            Body::None,
            403,
        ),
        row(Some("community"), M::POST, "POST /merchants/{id}/login-code", format!("/merchants/{merchant_id}/login-code"), Body::None, 200),
        row(Some("volunteer"), M::GET, "GET /merchants/{id}/pledge.docx", format!("/merchants/{merchant_id}/pledge.docx"), Body::None, 404),
        row(Some("handler"), M::GET, "GET /tasks", "/tasks", Body::None, 200),
        row(Some("volunteer"), M::GET, "GET /tasks", "/tasks", Body::None, 403),
        row(Some("leader"), M::POST, "POST /tasks", "/tasks", Body::Json(task_body.clone()), 201),
        row(Some("community"), M::POST, "POST /tasks", "/tasks", Body::Json(task_body), 403),
        row(Some("community"), M::GET, "GET /tasks/warnings", "/tasks/warnings", Body::None, 200),
        row(Some("leader"), M::GET, "GET /tasks/warnings", "/tasks/warnings", Body::None, 403),
        row(Some("gridworker"), M::GET, "GET /tasks/{id}", format!("/tasks/{task_id}"), Body::None, 200),
        row(Some("volunteer"), M::GET, "GET /tasks/{id}", format!("/tasks/{task_id}"), Body::None, 404),
        row(
            Some("handler"),
            M::POST,
            "POST /tasks/{id}/milestones/{milestone}/progress",
            format!("/tasks/{task_id}/milestones/{milestone}/progress"),
            Body::Json(step.clone()),
            403,
        ),
        row(
            Some("community"),
            M::POST,
            "POST /tasks/{id}/milestones/{milestone}/progress",
            format!("/tasks/{task_id}/milestones/{milestone}/progress"),
            Body::Json(step),
            200,
        ),
        row(Some("volunteer"), M::GET, "GET /reports", "/reports", Body::None, 200),
        row(None, M::GET, "GET /reports", "/reports", Body::None, 401),
        row(Some("leader"), M::GET, "GET /reports", "/reports?view=review", Body::None, 403),
        row(Some("handler"), M::POST, "POST /reports", "/reports", Body::Json(info.clone()), 201),
        row(Some("leader"), M::POST, "POST /reports", "/reports", Body::Json(info.clone()), 403),
        row(Some("community"), M::GET, "GET /reports/{id}", format!("/reports/{report_id}"), Body::None, 200),
        row(Some("volunteer"), M::GET, "GET /reports/{id}", format!("/reports/{report_id}"), Body::None, 404),
        row(Some("leader"), M::PUT, "PUT /reports/{id}", format!("/reports/{report_id}"), Body::Json(info.clone()), 403),
        row(Some("handler"), M::PUT, "PUT /reports/{id}", format!("/reports/{report_id}"), Body::Json(info), 404),
        row(
            Some("community"),
            M::POST,
            "POST /reports/{id}/review",
            format!("/reports/{report_id}/review"),
            Body::Json(adopt.clone()),
            403,
        ),
        row(Some("inspector"), M::POST, "POST /reports/{id}/review", format!("/reports/{report_id}/review"), Body::Json(adopt), 200),
        row(Some("volunteer"), M::GET, "GET /reports/{id}/document.docx", format!("/reports/{report_id}/document.docx"), Body::None, 200),
        row(None, M::GET, "GET /reports/{id}/document.docx", format!("/reports/{report_id}/document.docx"), Body::None, 401),
        row(Some("leader"), M::GET, "GET /reports/counts", "/reports/counts", Body::None, 200),
        row(Some("volunteer"), M::GET, "GET /reports/counts", "/reports/counts", Body::None, 403),
        row(
            Some("gridworker"),
            M::POST,
            "POST /notices/{id}/items/{item}/answer",
            format!("/notices/{notice_id}/items/{notice_item}/answer"),
            Body::Json(answered.clone()),
            403,
        ),
        row(
            Some("dispatcher"),
            M::POST,
            "POST /notices/{id}/items/{item}/answer",
            format!("/notices/{notice_id}/items/{notice_item}/answer"),
            Body::Json(answered),
            200,
        ),
    ];

    let mut logins = Logins { t, clients: HashMap::new() };
    let mut wrong = Vec::new();
    for r in &rows {
        let (status, body) = logins.call(r).await;
        if status.as_u16() != r.expect {
            let who = r.who.unwrap_or("nobody");
            wrong.push(format!(
                "{who} {} {}: {} (expected {}) {}",
                r.method,
                r.url,
                status.as_u16(),
                r.expect,
                body.chars().take(160).collect::<String>()
            ));
        }
        if status.is_client_error() {
            assert!(body.starts_with('{'), "refusals are JSON: {} {} → {body}", r.method, r.url);
        }
    }
    assert!(wrong.is_empty(), "answers that do not match the policy:\n{}", wrong.join("\n"));

    // Every documented operation has a row; every one that is not public has a refusal.
    let covered: BTreeSet<String> = rows.iter().map(|r| r.operation.to_string()).collect();
    let missing: Vec<_> = documented().difference(&covered).cloned().collect();
    assert!(missing.is_empty(), "operations without a row in the role × use-case table: {missing:?}");
    for op in documented().iter().filter(|op| !PUBLIC.contains(&op.as_str())) {
        assert!(rows.iter().any(|r| r.operation == op && matches!(r.expect, 401 | 403 | 404)), "{op} has no row showing whom it refuses");
    }
}
