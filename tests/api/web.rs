use reqwest::StatusCode;

use crate::helpers::*;

fn csrf_in(html: &str) -> String {
    let at = html.find("name=\"csrf_token\" value=\"").expect("form has a CSRF field") + 25;
    html[at..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn home_page_speaks_chinese_then_english_when_asked() {
    let t = spawn_demo().await;
    let c = client();
    let html = c.get(t.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("<html lang=\"zh-CN\">"));
    assert!(html.contains("济阳街道创建文明典范城市"));
    assert!(html.contains("<b>150</b>"), "grid count shown");
    assert!(html.contains("开元社区"));
    let r = c.get(t.url("/lang/en")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = c.get(t.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("<html lang=\"en\">"), "the choice is remembered");
    assert!(html.contains("Communities and grids"));
}

#[tokio::test]
async fn login_form_logs_in_and_out_with_csrf() {
    let t = spawn_demo().await;
    let c = client();
    let html = c.get(t.url("/login")).send().await.unwrap().text().await.unwrap();
    let token = csrf_in(&html);

    let r = c.post(t.url("/login")).form(&[("username", "leader"), ("password", "not-it"), ("csrf_token", &token)]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let html = r.text().await.unwrap();
    assert!(html.contains("用户名或密码错误"), "wrong password says so in Chinese");
    assert!(html.contains("value=\"leader\""), "the form keeps what was typed");

    let token = csrf_in(&html);
    let r = c.post(t.url("/login")).form(&[("username", "leader"), ("password", PASSWORD), ("csrf_token", &token)]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()["set-cookie"].to_str().unwrap().contains("HttpOnly"));
    assert_eq!(r.headers()["location"], "/dashboard", "a leader lands on the dashboard");
    let r = c.get(t.url("/")).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/dashboard", "and the front page takes them there");
    let home = c.get(t.url("/dashboard")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("href=\"/dashboard\"") && home.contains("href=\"/cases\""), "the menu offers what a leader uses");
    assert!(!home.contains("href=\"/todo\"") && !home.contains("href=\"/admin\""), "and nothing a leader cannot use");

    let token = csrf_in(&home);
    let r = c.post(t.url("/logout")).form(&[("csrf_token", "forged")]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = c.post(t.url("/logout")).form(&[("csrf_token", &token)]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let home = c.get(t.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(!home.contains("您的角色"), "logged out");
}

#[tokio::test]
async fn a_forged_or_missing_login_token_is_refused() {
    let t = spawn_demo().await;
    let c = client();
    let _ = c.get(t.url("/login")).send().await.unwrap();
    let r = c.post(t.url("/login")).form(&[("username", "leader"), ("password", PASSWORD), ("csrf_token", "forged")]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("表单校验失败"));
    // No cookie at all (a cross-site form post): refused too.
    let r =
        client().post(t.url("/login")).form(&[("username", "leader"), ("password", PASSWORD), ("csrf_token", "x")]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn pages_carry_security_headers() {
    let t = spawn_demo().await;
    let r = t.get("/login").await;
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert!(r.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
}

#[tokio::test]
async fn unknown_pages_and_wrong_methods_get_proper_answers() {
    let t = spawn_demo().await;
    let r = t.get("/no/such/page").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.unwrap().contains("页面不存在"));
    let r = t.get("/api/v1/auth/login").await;
    assert_error(r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
}

async fn web_login(t: &TestApp, username: &str) -> reqwest::Client {
    let c = client();
    let html = c.get(t.url("/login")).send().await.unwrap().text().await.unwrap();
    let token = csrf_in(&html);
    let r = c.post(t.url("/login")).form(&[("username", username), ("password", PASSWORD), ("csrf_token", &token)]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    c
}

#[tokio::test]
async fn admins_manage_open311_keys_from_the_admin_page() {
    let t = spawn_demo().await;
    let r = client().get(t.url("/admin/apikeys")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "anonymous users are sent to log in");
    let leader = web_login(&t, "leader").await;
    assert_eq!(leader.get(t.url("/admin/apikeys")).send().await.unwrap().status(), StatusCode::FORBIDDEN);

    let admin = web_login(&t, "admin").await;
    let home = admin.get(t.url("/admin")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("/admin/apikeys"), "the admin pages link the page");
    let page = admin.get(t.url("/admin/apikeys")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("尚未创建密钥"));
    let token = csrf_in(&page);
    let r = admin.post(t.url("/admin/apikeys")).form(&[("name", "随手拍"), ("csrf_token", "forged")]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = admin.post(t.url("/admin/apikeys")).form(&[("name", " "), ("csrf_token", &token)]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("请填写密钥名称"));
    let page =
        admin.post(t.url("/admin/apikeys")).form(&[("name", "随手拍"), ("csrf_token", &token)]).send().await.unwrap().text().await.unwrap();
    let marker = "<code class=\"key\">";
    let at = page.find(marker).expect("the new key is shown once") + marker.len();
    let key = page[at..].split('<').next().unwrap().to_string();
    let (lat, lon) = grid_centre(&t, "370115001001001").await;
    let form = [("api_key", key.as_str()), ("service_code", "0601"), ("lat", &lat.to_string()), ("long", &lon.to_string())];
    let r = client().post(t.url("/open311/v2/requests.json")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "the key works at once");
    let page = admin.get(t.url("/admin/apikeys")).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("<code class=\"key\">"), "and is never shown again");
    let marker = "action=\"/admin/apikeys/";
    let at = page.find(marker).unwrap() + marker.len();
    let id = page[at..].split('/').next().unwrap().to_string();
    let r = admin.post(t.url(&format!("/admin/apikeys/{id}/revoke"))).form(&[("csrf_token", &token)]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = client().post(t.url("/open311/v2/requests.json")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "a revoked key is refused");
    assert!(admin.get(t.url("/admin/apikeys")).send().await.unwrap().text().await.unwrap().contains("已吊销"));
}

/// Submits the action form on a case page; returns the status.
async fn act_in_page(t: &TestApp, c: &reqwest::Client, id: &str, action: &str, extra: &[(&str, &str)]) -> StatusCode {
    let html = c.get(t.url(&format!("/cases/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&format!("name=\"action\" value=\"{action}\"")), "the page offers {action}");
    let token = csrf_in(&html);
    let mut form: Vec<(&str, &str)> = vec![("csrf_token", token.as_str()), ("action", action)];
    form.extend_from_slice(extra);
    c.post(t.url(&format!("/cases/{id}/act"))).form(&form).send().await.unwrap().status()
}

#[tokio::test]
async fn the_loop_through_the_pages() {
    let (t, _clock) = spawn_demo_at(chuangcheng::domain::calendar::beijing_ms(2026, 11, 30, 9, 0)).await;
    let (worker_api, w) = t.login("gridworker").await;
    let (lat, lon) = grid_centre(&t, "370115001001001").await;
    let created: serde_json::Value = worker_api
        .post(t.url("/api/v1/cases"))
        .header("X-CSRF-Token", &w)
        .json(&serde_json::json!({ "category": "0401", "description": "早市占道", "lat": lat, "lon": lon }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["case"]["id"].as_str().unwrap().to_string();
    let number = created["case"]["number"].as_str().unwrap().to_string();

    let dispatcher = web_login(&t, "dispatcher").await;
    let todo = dispatcher.get(t.url("/todo")).send().await.unwrap().text().await.unwrap();
    assert!(todo.contains(&number) && todo.contains("摊位乱摆"), "the new case waits on the dispatcher's to-do");
    assert_eq!(act_in_page(&t, &dispatcher, &id, "register", &[]).await, StatusCode::SEE_OTHER);
    let html = dispatcher.get(t.url(&format!("/cases/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(!html.contains("name=\"action\" value=\"register\""), "done actions disappear");
    assert_eq!(act_in_page(&t, &dispatcher, &id, "dispatch", &[("unit", "")]).await, StatusCode::SEE_OTHER);

    let handler = web_login(&t, "handler").await;
    assert!(handler.get(t.url("/todo")).send().await.unwrap().text().await.unwrap().contains(&number));
    assert_eq!(act_in_page(&t, &handler, &id, "accept", &[]).await, StatusCode::SEE_OTHER);
    // A handling form without its note is refused with a Chinese message, and nothing changes.
    let status = act_in_page(&t, &handler, &id, "handle", &[("note", " ")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(act_in_page(&t, &handler, &id, "handle", &[("note", "已清理")]).await, StatusCode::SEE_OTHER);

    let worker = web_login(&t, "gridworker").await;
    assert_eq!(act_in_page(&t, &worker, &id, "verify_pass", &[]).await, StatusCode::SEE_OTHER);
    let html = worker.get(t.url(&format!("/cases/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("已结案"));
    for step in ["上报", "立案", "派遣", "签收", "处置", "核查通过", "已清理"] {
        assert!(html.contains(step), "timeline shows {step}");
    }
    let desk = dispatcher.get(t.url("/cases?status=closed")).send().await.unwrap().text().await.unwrap();
    assert!(desk.contains(&number));
    let desk = dispatcher.get(t.url("/cases?status=dispatched")).send().await.unwrap().text().await.unwrap();
    assert!(!desk.contains(&number) && desk.contains("没有符合条件的问题"));
    let r = client().get(t.url("/cases")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "pages need a login");
    // Someone outside the case's reach gets a page saying it does not exist.
    let other = web_login(&t, "volunteer").await;
    assert_eq!(other.get(t.url(&format!("/cases/{id}"))).send().await.unwrap().status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn reporting_from_the_phone_form() {
    use reqwest::multipart::{Form, Part};
    let t = spawn_demo().await;
    let worker = web_login(&t, "gridworker").await;
    let html = worker.get(t.url("/report")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("上报问题") && html.contains("capture=\"environment\"") && html.contains("<optgroup label=\"文明行为\">"));
    assert!(html.contains("/static/report.js"));
    assert_eq!(worker.get(t.url("/static/report.js")).send().await.unwrap().status(), StatusCode::OK);
    let token = csrf_in(&html);
    let photo = crate::photos::camera_jpeg(36.97, 117.17);
    let form = |csrf: &str, grid: &str, description: &str| {
        Form::new()
            .text("csrf_token", csrf.to_string())
            .text("category", "0603")
            .text("description", description.to_string())
            .text("grid", grid.to_string())
            .text("lat", "")
            .text("lon", "")
            .part("photos", Part::bytes(photo.clone()).file_name("a.jpg").mime_str("image/jpeg").unwrap())
    };
    // No position and no grid: the form comes back with what was typed and a Chinese message.
    let r = worker.post(t.url("/report")).multipart(form(&token, "", "小区里遛狗不拴绳")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(page.contains("无法确定位置") && page.contains("小区里遛狗不拴绳"));
    let r = worker.post(t.url("/report")).multipart(form("forged", "370115001001001", "x")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // With the grid chosen, and sent twice with the same key (a retry): one case.
    let mut places = Vec::new();
    for _ in 0..2 {
        let r = worker
            .post(t.url("/report"))
            .header("Idempotency-Key", "phone-1")
            .multipart(form(&token, "370115001001001", "小区里遛狗不拴绳"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        places.push(r.headers()["location"].to_str().unwrap().to_string());
    }
    assert_eq!(places[0], places[1]);
    let case = worker.get(t.url(&places[0])).send().await.unwrap().text().await.unwrap();
    assert!(case.contains("遛狗不拴绳") && case.contains("开元社区第1网格") && case.contains("thumb"), "{case}");
}

#[tokio::test]
async fn the_dashboard_shows_indicators_charts_and_the_grid_map() {
    let (t, _clock) = spawn_demo_at(chuangcheng::domain::calendar::beijing_ms(2026, 11, 30, 18, 0)).await;
    let n = t.app.seed_demo_cases(30).await.unwrap();
    let leader = web_login(&t, "leader").await;
    let html = leader.get(t.url("/dashboard")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("按期结案率") && html.contains("数据看板"));
    assert_eq!(html.matches("<svg").count(), 3, "trend, categories, map");
    assert_eq!(html.matches("<a href=\"/grids/").count(), 150, "every grid on the map is a link to its page");
    assert!(html.contains(&format!("<b>{n}</b>")), "the reported count is the month's cases");
    let on_time = leader.get(t.url("/dashboard?map=on_time")).send().await.unwrap().text().await.unwrap();
    assert!(on_time.contains("按期结案率)") && on_time.contains("#238b45"), "the map coloured by on-time rate");
    let community = web_login(&t, "community").await;
    let html = community.get(t.url("/dashboard")).send().await.unwrap().text().await.unwrap();
    let links = html.matches("<a href=\"/grids/").count();
    assert!(links > 0 && links < 150, "a community admin's map shows their community: {links}");
    // The map's link leads to the grid's page: who answers for it, its figures, its cases.
    let grid = leader.get(t.url("/grids/370115001001001")).send().await.unwrap().text().await.unwrap();
    assert!(grid.contains("开元社区第1网格") && grid.contains("帮包单位") && grid.contains("网格员") && grid.contains("按期结案率"));
    assert!(grid.contains("<svg class=\"locator\""));
    let r = community.get(t.url("/grids/370115001002001")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "another community's grid is out of reach");
    let desk = leader.get(t.url("/cases?grid=370115001001001")).send().await.unwrap().text().await.unwrap();
    assert!(desk.contains("开元社区第1网格") || desk.contains("没有符合条件的问题"));
    assert!(!desk.contains("纬二路社区第1网格"), "only that grid's cases");
}

#[tokio::test]
async fn the_desk_filters_sorts_and_dispatches_in_bulk() {
    let (t, _clock) = spawn_demo_at(chuangcheng::domain::calendar::beijing_ms(2026, 11, 30, 18, 0)).await;
    t.app.seed_demo_cases(10).await.unwrap();
    let desk = web_login(&t, "dispatcher").await;
    let rows = |html: &str| html.matches("<td class=\"mono\"><a href=").count();
    let overdue = desk.get(t.url("/cases?overdue=1")).send().await.unwrap().text().await.unwrap();
    assert!(overdue.matches("class=\"light red\"").count() >= rows(&overdue), "only red rows when asked for overdue ones");
    let dept = desk.get(t.url("/cases?department=BM01&status=closed")).send().await.unwrap().text().await.unwrap();
    assert!(rows(&dept) > 0 && dept.contains("城管执法中队"));
    let one_day = desk.get(t.url("/cases?from=2026-11-30&to=2026-11-30")).send().await.unwrap().text().await.unwrap();
    assert!(!one_day.contains("JY20261129-"), "the date range holds");
    let sorted = desk.get(t.url("/cases?sort=deadline&status=in_progress")).send().await.unwrap().text().await.unwrap();
    assert!(sorted.contains("selected>时限最近") || sorted.contains("value=\"deadline\" selected"));
    // Bulk: tick every waiting case on the first page and dispatch them.
    let waiting = desk.get(t.url("/cases?status=reported")).send().await.unwrap().text().await.unwrap();
    let ids: Vec<String> = waiting.split("name=\"case\" value=\"").skip(1).map(|s| s.split('"').next().unwrap().to_string()).collect();
    assert!(!ids.is_empty(), "a Monday evening has cases waiting");
    let token = csrf_in(&waiting);
    let mut form = vec![("csrf_token".to_string(), token), ("back".to_string(), "/cases?status=reported".to_string())];
    form.extend(ids.iter().map(|i| ("case".to_string(), i.clone())));
    let r = desk.post(t.url("/cases/bulk-dispatch")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.ends_with(&format!("done={}", ids.len())), "{location}");
    let page = desk.get(t.url(&location)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!("已派遣 {} 件", ids.len())));
    let r = desk.post(t.url("/cases/bulk-dispatch")).form(&[("csrf_token", "forged"), ("case", ids[0].as_str())]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn admin_pages_show_the_org_and_import_files() {
    use reqwest::multipart::{Form, Part};
    let t = spawn_demo().await;
    let leader = web_login(&t, "leader").await;
    assert_eq!(leader.get(t.url("/admin")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let admin = web_login(&t, "admin").await;
    let org = admin.get(t.url("/admin")).send().await.unwrap().text().await.unwrap();
    assert!(org.contains("济阳街道") && org.contains("开元社区") && org.contains("个网格") && org.contains("城管执法中队"));
    let page = admin.get(t.url("/admin/grids")).send().await.unwrap().text().await.unwrap();
    let token = csrf_in(&page);
    let upload = |path: &'static str, name: &'static str, bytes: Vec<u8>, csrf: String| {
        let form = Form::new().text("csrf_token", csrf).part("file", Part::bytes(bytes).file_name(name));
        admin.post(t.url(path)).multipart(form).send()
    };
    let good = crate::grids::collection(&[crate::grids::feature("370115001001099", "开元社区", (117.200, 117.205), (36.960, 36.965))]);
    let r = upload("/admin/grids", "g.geojson", good.into_bytes(), token.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("新增 1 个"));
    let bad = crate::grids::collection(&[crate::grids::feature("370115001001098", "火星社区", (117.21, 117.22), (36.96, 36.97))]);
    let r = upload("/admin/grids", "g.geojson", bad.into_bytes(), token.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("第 1 行") && html.contains("火星社区"), "problems are listed with their row");
    let r = upload("/admin/grids", "g.geojson", b"{}".to_vec(), "forged".into()).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    let csv = "姓名,手机,角色,所属单元,用户名\n周网格,13700001111,网格员,370115001001099,zhouwg\n".as_bytes().to_vec();
    let r = upload("/admin/people", "p.csv", csv, token.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("已导入 1 名人员"));

    let r = admin
        .post(t.url("/admin/categories"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("code", "9902"),
            ("class_name", "其他"),
            ("name", "共享单车堆放"),
            ("tier", "4"),
            ("department", "BM01"),
            ("response_minutes", "60"),
            ("handling_minutes", "450"),
            ("citizen", "1"),
            ("active", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("已保存类别") && html.contains("共享单车堆放"));
    let cats: Vec<serde_json::Value> = client().get(t.url("/api/v1/categories")).send().await.unwrap().json().await.unwrap();
    assert!(cats.iter().any(|c| c["code"] == "9902" && c["handling_minutes"] == 450));
}

#[tokio::test]
async fn inspection_pages_open_for_each_role_and_bad_forms_say_what_is_wrong() {
    use reqwest::multipart::{Form, Part};
    let t = spawn_demo().await;
    t.app.seed_demo_inspections(3).await.unwrap();
    // Every page of the module that the menu and tabs offer opens for whoever is offered it.
    for who in ["leader", "inspector", "admin", "community", "gridworker"] {
        let c = web_login(&t, who).await;
        let home = c.get(t.url("/work")).send().await.unwrap().text().await.unwrap();
        let offered = home.contains("href=\"/inspections\"");
        for path in ["/inspections", "/inspections/shortfall", "/inspections/rounds", "/inspections/points", "/inspections/manual"] {
            let r = c.get(t.url(path)).send().await.unwrap();
            if offered {
                assert_eq!(r.status(), StatusCode::OK, "{who} {path}");
            }
        }
    }
    let volunteer = web_login(&t, "volunteer").await;
    assert_eq!(volunteer.get(t.url("/inspections")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(volunteer.get(t.url("/inspect")).send().await.unwrap().status(), StatusCode::FORBIDDEN);

    // The inspector's phone list, and a form sent with an item left out: the page says which.
    let inspector = web_login(&t, "inspector").await;
    let mine = inspector.get(t.url("/inspect")).send().await.unwrap().text().await.unwrap();
    let href =
        mine.split("href=\"/inspect/").nth(1).unwrap_or_else(|| panic!("a point waits: {mine}")).split('"').next().unwrap().to_string();
    let form = inspector.get(t.url(&format!("/inspect/{href}"))).send().await.unwrap().text().await.unwrap();
    assert!(form.contains("提交督查") && form.contains("不适用"));
    let token = csrf_in(&form);
    let r = inspector
        .post(t.url(&format!("/inspect/{href}")))
        .multipart(Form::new().text("csrf_token", token.clone()).text("n.0", "abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("细则") && (html.contains("数量须为") || html.contains("还没有填写结果")), "names the item at fault");

    // Planning a round without a name, then a manual and points file with faults: refused
    // with the field or the rows named, in Chinese.
    let page = inspector.get(t.url("/inspections/rounds")).send().await.unwrap().text().await.unwrap();
    let token = csrf_in(&page);
    let r = inspector
        .post(t.url("/inspections/rounds"))
        .multipart(
            Form::new()
                .text("csrf_token", token.clone())
                .text("kind", "inspection")
                .text("starts_on", "2026-12-01")
                .text("ends_on", "2026-12-07")
                .text("by", "drawn"),
        )
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("请检查“名称”"));
    // Two points ticked by hand: the round's page lists exactly them.
    let ticked: Vec<String> = page.split("name=\"point.").skip(1).take(2).map(|s| s.split('"').next().unwrap().to_string()).collect();
    assert_eq!(ticked.len(), 2, "the plan form offers the points to tick");
    let mut form = Form::new()
        .text("csrf_token", token.clone())
        .text("name", "手选督查")
        .text("kind", "unannounced")
        .text("starts_on", "2026-12-01")
        .text("ends_on", "2026-12-07")
        .text("by", "chosen");
    for id in &ticked {
        form = form.text(format!("point.{id}"), "1");
    }
    let r = inspector.post(t.url("/inspections/rounds")).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let round = inspector.get(t.url(r.headers()["location"].to_str().unwrap())).send().await.unwrap().text().await.unwrap();
    assert!(round.contains("手选督查") && round.contains("0/2"), "the round holds the two points");
    let bad_points = "名称,点位类型,纬度,经度,责任单位,地址\n新点位,游乐场,36.97,117.17,开元社区,\n".as_bytes().to_vec();
    let r = inspector
        .post(t.url("/inspections/points"))
        .multipart(Form::new().text("csrf_token", token.clone()).part("file", Part::bytes(bad_points).file_name("p.csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("第 2 行"));
    let admin = web_login(&t, "admin").await;
    let page = admin.get(t.url("/inspections/manual")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("导入新版本") && page.contains("干道-01"));
    let token = csrf_in(&page);
    let bad = "name = \"x\"\n[[point_types]]\nname = \"主次干道\"\n[[point_types.items]]\ncode = \"a\"\ntext = \"b\"\nscore = 1\nscoring = \"看心情\"\n";
    let r = admin
        .post(t.url("/inspections/manual"))
        .multipart(Form::new().text("csrf_token", token).part("file", Part::bytes(bad.as_bytes().to_vec()).file_name("m.toml")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("第 8 行") && html.contains("看心情"), "the line and the method at fault");
}
