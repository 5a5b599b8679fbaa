//! The whole loop in real headless Chromium, driven over WebDriver (chromedriver from
//! Debian's packages). Without chromedriver the test says so loudly and stops, unless
//! CHUANGCHENG_REQUIRE_BROWSER is set (CI), where a missing browser fails it.
//!
//! The WebDriver calls used are few (session, navigate, find, type, click, script,
//! screenshot), so they are spoken directly over HTTP with the client the tests already use.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::*;

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Browser {
    http: reqwest::Client,
    driver: String,
    session: String,
    _chromedriver: ChildGuard,
}

struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn find_program(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join(name)).find(|p| p.exists())
}

/// Writes a WebDriver screenshot (base64 PNG) to `target/screenshots/NAME.png`; the tests
/// never rewrite tracked files (`scripts/update-screenshots` copies them to `docs/`).
fn save_png(name: &str, base64_png: Value) {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD.decode(base64_png.as_str().unwrap_or("")).unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), bytes).unwrap();
}

impl Browser {
    /// Starts chromedriver and a headless Chromium window of the given size.
    async fn start(width: u32, height: u32) -> Option<Browser> {
        let required = std::env::var("CHUANGCHENG_REQUIRE_BROWSER").is_ok_and(|v| !v.is_empty() && v != "0");
        let (Some(chromedriver), Some(chromium)) = (find_program("chromedriver"), find_program("chromium")) else {
            assert!(!required, "CHUANGCHENG_REQUIRE_BROWSER is set but chromium/chromedriver are not installed");
            eprintln!(
                "\n*** chromium or chromedriver not found: the browser test is SKIPPED. Install Debian's chromium and chromium-driver to run it. ***\n"
            );
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let child = Command::new(chromedriver).arg(format!("--port={port}")).stdout(Stdio::null()).stderr(Stdio::null()).spawn().ok()?;
        let guard = ChildGuard(child);
        let driver = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        for _ in 0..100 {
            if http.get(format!("{driver}/status")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().ok()?;
        let caps = json!({ "capabilities": { "alwaysMatch": { "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     format!("--user-data-dir={}", profile.path().display()), format!("--window-size={width},{height}")],
            "prefs": { "intl.accept_languages": "zh-CN,zh" }
        }}}});
        let r: Value = http.post(format!("{driver}/session")).json(&caps).send().await.ok()?.json().await.ok()?;
        let session = r["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("chromedriver refused a session: {r}")).to_string();
        std::mem::forget(profile); // removed with the machine's temp; Chromium may still hold it
        Some(Browser { http, driver, session, _chromedriver: guard })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/session/{}{}", self.driver, self.session, path)
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let mut req = self.http.request(method.clone(), self.url(path));
        if method != reqwest::Method::GET {
            req = req.json(&body);
        }
        let r = req.send().await.unwrap();
        let v: Value = r.json().await.unwrap();
        assert!(v["value"]["error"].is_null(), "webdriver {path}: {v}");
        v["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", json!({ "url": url })).await;
    }

    async fn find(&self, css: &str) -> String {
        for _ in 0..50 {
            let r = self.http.post(self.url("/element")).json(&json!({ "using": "css selector", "value": css })).send().await.unwrap();
            let v: Value = r.json().await.unwrap();
            if let Some(id) = v["value"][ELEMENT].as_str() {
                return id.to_string();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no element matches {css}; page: {}", self.text().await);
    }

    async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{id}/value"), json!({ "text": text })).await;
    }

    async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{id}/click"), json!({})).await;
    }

    async fn script(&self, js: &str) -> Value {
        self.call(reqwest::Method::POST, "/execute/sync", json!({ "script": js, "args": [] })).await
    }

    async fn text(&self) -> String {
        let v = self
            .http
            .post(self.url("/execute/sync"))
            .json(&json!({ "script": "return document.body ? document.body.innerText : ''", "args": [] }))
            .send()
            .await;
        match v {
            Ok(r) => r.json::<Value>().await.map(|v| v["value"].as_str().unwrap_or("").to_string()).unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    async fn current_url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", Value::Null).await.as_str().unwrap_or("").to_string()
    }

    /// Waits until the page text contains `needle`.
    async fn wait_for_text(&self, needle: &str) {
        for _ in 0..100 {
            if self.text().await.contains(needle) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("page never showed {needle:?}: {}", self.text().await);
    }

    async fn screenshot(&self, name: &str) {
        save_png(name, self.call(reqwest::Method::GET, "/screenshot", Value::Null).await);
    }

    /// Cuts the browser off the network (or gives it back), as a phone without signal.
    async fn network(&self, offline: bool) {
        let conditions =
            json!({ "network_conditions": { "offline": offline, "latency": 0, "download_throughput": -1, "upload_throughput": -1 } });
        self.call(reqwest::Method::POST, "/chromium/network_conditions", conditions).await;
    }

    /// A screenshot of one element only.
    async fn element_screenshot(&self, css: &str, name: &str) {
        let id = self.find(css).await;
        save_png(name, self.call(reqwest::Method::GET, &format!("/element/{id}/screenshot"), Value::Null).await);
    }

    async fn log_in(&self, base: &str, username: &str) {
        self.goto(&format!("{base}/login")).await;
        self.type_into("#username", username).await;
        self.type_into("#password", PASSWORD).await;
        self.click("form.stack button[type=submit]").await;
        for _ in 0..100 {
            if !self.current_url().await.contains("/login") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{username} never got past the login page: {}", self.text().await);
    }

    /// Puts the phone at a place and lets pages read it (Chrome DevTools through chromedriver).
    async fn place(&self, base: &str, lat: f64, lon: f64) {
        let grant = json!({ "cmd": "Browser.grantPermissions", "params": { "origin": base, "permissions": ["geolocation"] } });
        self.call(reqwest::Method::POST, "/goog/cdp/execute", grant).await;
        let at = json!({ "cmd": "Emulation.setGeolocationOverride", "params": { "latitude": lat, "longitude": lon, "accuracy": 10 } });
        self.call(reqwest::Method::POST, "/goog/cdp/execute", at).await;
    }

    async fn resize(&self, width: u32, height: u32) {
        self.call(reqwest::Method::POST, "/window/rect", json!({ "width": width, "height": height })).await;
    }

    /// The height of the element `css` in CSS pixels.
    async fn height_of(&self, css: &str) -> f64 {
        self.script(&format!("return document.querySelector({css:?}).getBoundingClientRect().height")).await.as_f64().unwrap_or(0.0)
    }

    async fn quit(self) {
        let _ = self.http.delete(self.url("")).send().await;
    }
}

#[tokio::test]
async fn the_loop_in_a_real_browser() {
    let t = spawn_demo().await;
    let Some(phone) = Browser::start(390, 844).await else { return };
    let base = t.base.clone();
    let photo_path = t.dir.path().join("street.jpg");
    std::fs::write(&photo_path, crate::photos::camera_jpeg(36.965, 117.155)).unwrap();

    // The dispatcher's dashboard before anything happens.
    let desk = Browser::start(1366, 900).await.expect("browser");
    desk.log_in(&base, "dispatcher").await;
    desk.goto(&format!("{base}/dashboard")).await;
    desk.wait_for_text("按期结案率").await;
    let before: i64 = desk.script("return document.querySelectorAll('.stat b')[4].innerText").await.as_str().unwrap().parse().unwrap();

    // A grid worker's phone opens on their work page: report, to-do, today.
    phone.log_in(&base, "gridworker").await;
    assert!(phone.current_url().await.ends_with("/work"), "a grid worker lands on the work page");
    phone.wait_for_text("我今天上报的").await;
    phone.screenshot("phone-work").await;
    // The menu stays one line on a phone, in either language, and opens on a tap.
    let bar = phone.height_of("header.top").await;
    assert!(bar < 64.0, "the top bar is one line on a phone: {bar}px");
    assert_eq!(phone.script("return document.querySelector('.menu-desk').offsetParent === null").await, json!(true));
    phone.click(".menu-phone summary").await;
    assert_eq!(phone.script("return document.querySelector('.menu-items a[href=\"/todo\"]').offsetParent !== null").await, json!(true));
    assert_eq!(
        phone.script("return document.querySelectorAll('.menu-items a[href=\"/admin\"]').length").await,
        json!(0),
        "no admin link for a grid worker"
    );
    phone.screenshot("phone-menu").await;
    phone.click(".menu-phone summary").await;
    phone.resize(360, 740).await;
    phone.goto(&format!("{base}/lang/en")).await;
    let bar = phone.height_of("header.top").await;
    assert!(bar < 64.0, "one line at 360 px in English too: {bar}px");
    phone.goto(&format!("{base}/lang/zh-CN")).await;
    phone.resize(390, 844).await;

    // A grid worker on a phone reports a stall blocking the pavement, with a photo.
    phone.goto(&format!("{base}/report")).await;
    phone.script("var s=document.getElementById('category'); s.value='0401'; s.dispatchEvent(new Event('change'));").await;
    phone.type_into("#description", "纬二路早市摊位占用人行道").await;
    phone.type_into("#photos", &photo_path.display().to_string()).await;
    phone.script("var g=document.getElementById('grid'); g.value='370115001001001';").await;
    phone.screenshot("phone-report").await;
    phone.click("#report button[type=submit]").await;
    phone.wait_for_text("JY").await;
    let case_url = phone.current_url().await;
    assert!(case_url.contains("/cases/"), "the phone lands on the new case: {case_url}");
    assert!(phone.text().await.contains("待受理"));
    phone.screenshot("phone-case").await;

    // The dispatcher sees it on the desk and dispatches it.
    desk.goto(&format!("{base}/cases")).await;
    desk.wait_for_text("摊位乱摆").await;
    desk.screenshot("desk").await;
    desk.goto(&case_url).await;
    desk.click("form.act button[value=register]").await;
    desk.wait_for_text("已立案").await;
    desk.click("form.act button[value=dispatch]").await;
    desk.wait_for_text("城管执法中队").await;
    desk.screenshot("case").await;

    // The department handles it with an after photo.
    let dept = Browser::start(1366, 900).await.expect("browser");
    dept.log_in(&base, "handler").await;
    dept.goto(&case_url).await;
    dept.click("form.act button[value=accept]").await;
    dept.wait_for_text("处置中").await;
    dept.type_into("form.act:has(button[value=handle]) input[name=note]", "已劝离摊贩,恢复通行").await;
    dept.type_into("form.act:has(button[value=handle]) input[name=photos]", &photo_path.display().to_string()).await;
    dept.click("form.act button[value=handle]").await;
    dept.wait_for_text("待核查").await;

    // The grid worker checks it on the spot: closed.
    phone.goto(&case_url).await;
    phone.click("form.act button[value=verify_pass]").await;
    phone.wait_for_text("已结案").await;
    let text = phone.text().await;
    assert!(text.contains("已劝离摊贩,恢复通行") && text.contains("核查通过"));
    assert_eq!(phone.script("return document.querySelectorAll('.photos img').length").await, json!(2), "before and after photos");

    // The dashboard counts it, and English is a click away.
    desk.goto(&format!("{base}/dashboard")).await;
    desk.wait_for_text("按期结案率").await;
    let after: i64 = desk.script("return document.querySelectorAll('.stat b')[4].innerText").await.as_str().unwrap().parse().unwrap();
    assert_eq!(after, before + 1, "the dashboard's count changed by one");
    desk.screenshot("dashboard").await;
    desk.element_screenshot("svg.map", "map").await;
    desk.click(".menu-desk a[href='/lang/en']").await;
    desk.wait_for_text("On-time closure").await;
    assert!(!desk.text().await.contains("按期结案率"));
    // No signal: a second report stays on the phone, shown as pending, and goes out (once)
    // when the connection is back.
    phone.goto(&format!("{base}/report")).await;
    phone.script("var s=document.getElementById('category'); s.value='0603';").await;
    phone.type_into("#description", "小区广场遛狗不拴绳").await;
    phone.script("var g=document.getElementById('grid'); g.value='370115001001001';").await;
    phone.network(true).await;
    phone.click("#report button[type=submit]").await;
    phone.wait_for_text("等待发送").await;
    assert!(phone.script("return localStorage.getItem('cc-pending-reports')").await.as_str().unwrap_or("").contains("小区广场遛狗不拴绳"));
    phone.network(false).await;
    phone.script("window.dispatchEvent(new Event('online'));").await;
    for _ in 0..50 {
        if phone.script("return JSON.parse(localStorage.getItem('cc-pending-reports') || '[]').length").await == json!(0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    phone.script("window.dispatchEvent(new Event('online'));").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (api, _) = t.login("dispatcher").await;
    let all: Vec<Value> = api.get(t.url("/api/v1/cases")).send().await.unwrap().json().await.unwrap();
    assert_eq!(all.iter().filter(|c| c["description"] == "小区广场遛狗不拴绳").count(), 1, "sent once when back online");

    // A citizen's report: the dispatcher sees the reporter masked, asks, sees it in full.
    let (lat, lon) = grid_centre(&t, "370115001001001").await;
    let citizen: Value = client()
        .post(t.url("/api/v1/cases"))
        .json(&json!({ "category": "0601", "description": "广场有人乱扔垃圾", "lat": lat, "lon": lon,
                       "reporter_name": "张三", "reporter_phone": "13812345678" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    desk.goto(&format!("{base}/lang/zh-CN")).await;
    desk.goto(&format!("{base}/cases/{}", citizen["case"]["id"].as_str().unwrap())).await;
    desk.wait_for_text("138****5678").await;
    assert!(!desk.text().await.contains("13812345678"), "masked until asked");
    desk.click("details.reveal summary").await;
    desk.type_into("details.reveal input[name=reason]", "回访核实").await;
    desk.click("details.reveal button[type=submit]").await;
    desk.wait_for_text("13812345678").await;
    assert!(desk.text().await.contains("已记入查阅日志"));
    desk.screenshot("case-reveal").await;

    // An administrator reads the personal-data access log.
    let admin = Browser::start(1366, 900).await.expect("browser");
    admin.log_in(&base, "admin").await;
    admin.goto(&format!("{base}/admin/access-log")).await;
    admin.wait_for_text("每一次查看完整个人信息").await;
    let text = admin.text().await;
    assert!(text.contains("回访核实") && text.contains("电话"), "the view is in the log: {text}");
    admin.screenshot("access-log").await;
    admin.quit().await;

    phone.quit().await;
    desk.quit().await;
    dept.quit().await;
}

/// Answers every item of the inspect form in full (pass, 0 problems, the required count).
const MEET_ALL: &str = "document.querySelectorAll('li.item').forEach(function (li) { var m = li.dataset.method;
  if (m === 'pass_fail') { li.querySelector('label.pass input').click(); }
  else if (m === 'quantity') { var n = li.querySelector('input[type=number]'); n.value = li.dataset.required; n.dispatchEvent(new Event('input', { bubbles: true })); } });";

#[tokio::test]
async fn inspecting_on_a_phone_and_reading_the_rankings_on_the_desk() {
    let t = spawn_demo().await;
    t.app.seed_demo_inspections(4).await.unwrap();
    let Some(phone) = Browser::start(390, 844).await else { return };
    let base = t.base.clone();

    // The inspector's phone: the work page offers today's points to inspect.
    phone.log_in(&base, "inspector").await;
    phone.goto(&format!("{base}/work")).await;
    phone.wait_for_text("我的督查").await;
    let (api, _) = t.login("inspector").await;
    let waiting = get_json(&api, t.url("/api/v1/inspections/mine")).await.as_array().unwrap().len();
    assert!(waiting >= 2, "this week's round waits: {waiting}");
    phone.goto(&format!("{base}/inspect")).await;
    phone.wait_for_text("项细则").await;
    phone.click("ul.cards a").await;
    phone.wait_for_text("提交督查").await;

    // Everything met, then two problems on the first item that opens a case when it fails.
    phone.script(MEET_ALL).await;
    let failing = phone
        .script(
            "var li = Array.prototype.find.call(document.querySelectorAll('li.item'), function (l) {
               return (l.dataset.method === 'per_problem' || l.dataset.method === 'grade') && l.innerText.indexOf('立案') >= 0; });
             li.querySelector('.plus').click(); li.querySelector('.plus').click();
             return li.querySelector('.code').innerText;",
        )
        .await;
    let failing = failing.as_str().unwrap().to_string();
    let running = phone.script("return document.getElementById('running').innerText").await.as_str().unwrap().to_string();
    assert_ne!(running, "—", "the running score shows while filling in");
    phone.screenshot("phone-inspect").await;
    phone.click(".scorebar button[type=submit]").await;
    phone.wait_for_text("已立案").await;
    assert!(phone.current_url().await.contains("/inspections/"), "the phone lands on the result");
    let scored = phone.script("return document.querySelectorAll('.stat b')[1].innerText").await.as_str().unwrap().to_string();
    assert_eq!(scored, running, "the phone's running score is what the manual's rules gave");
    assert!(phone.text().await.contains(&failing));
    phone.screenshot("phone-inspect-result").await;
    let case_href = phone.script("return document.querySelector('li.item.failed a[href^=\"/cases/\"]').getAttribute('href')").await;
    let case_href = case_href.as_str().unwrap().to_string();

    // No signal at the next point: the inspection stays on the phone and goes out once.
    phone.goto(&format!("{base}/inspect")).await;
    phone.click("ul.cards a").await;
    phone.wait_for_text("提交督查").await;
    phone.script(MEET_ALL).await;
    phone.network(true).await;
    phone.click(".scorebar button[type=submit]").await;
    phone.wait_for_text("暂存在本机").await;
    assert_eq!(phone.script("return JSON.parse(localStorage.getItem('cc-pending-inspections') || '[]').length").await, json!(1));
    phone.network(false).await;
    phone.script("window.dispatchEvent(new Event('online'));").await;
    for _ in 0..50 {
        if phone.script("return JSON.parse(localStorage.getItem('cc-pending-inspections') || '[]').length").await == json!(0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    phone.script("window.dispatchEvent(new Event('online'));").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let left = get_json(&api, t.url("/api/v1/inspections/mine")).await.as_array().unwrap().len();
    assert_eq!(left, waiting - 2, "both inspections arrived, each once");

    // The dispatcher's case page shows the item that opened it.
    let desk = Browser::start(1366, 768).await.expect("browser");
    desk.log_in(&base, "dispatcher").await;
    desk.goto(&format!("{base}{case_href}")).await;
    desk.wait_for_text("督查细则").await;
    assert!(desk.text().await.contains(&failing));

    // The leader reads the rankings and the shortfall list.
    let leader = Browser::start(1366, 768).await.expect("browser");
    leader.log_in(&base, "leader").await;
    leader.goto(&format!("{base}/inspections")).await;
    leader.wait_for_text("综合排名").await;
    assert_eq!(leader.script("return document.querySelectorAll('table')[0].querySelectorAll('tbody tr').length").await, json!(9));
    assert!(leader.text().await.contains("红榜") && leader.text().await.contains("黑榜"));
    leader.screenshot("desk-rankings").await;
    leader.goto(&format!("{base}/inspections/shortfall")).await;
    leader.wait_for_text("优先整改").await;
    leader.screenshot("desk-shortfall").await;

    // The inspector plans next week's round on the desk: drawn by type from a printed seed.
    desk.quit().await;
    let desk = Browser::start(1366, 768).await.expect("browser");
    desk.log_in(&base, "inspector").await;
    desk.goto(&format!("{base}/inspections/rounds")).await;
    desk.wait_for_text("安排督查").await;
    desk.type_into("#plan input[name=name]", "下周创城督查").await;
    desk.type_into("#plan input[name=seed]", "4242").await;
    desk.click("#plan button[type=submit]").await;
    desk.wait_for_text("用此种子可重新抽取核验").await;
    assert!(desk.text().await.contains("4242"));
    desk.screenshot("desk-round").await;
    desk.goto(&format!("{base}/inspections/points")).await;
    desk.wait_for_text("点位分布").await;
    desk.screenshot("desk-points").await;

    phone.quit().await;
    desk.quit().await;
    leader.quit().await;
}

#[tokio::test]
async fn a_bulletin_drafted_and_issued_on_the_desk_and_answered_on_a_phone() {
    let t = spawn_demo().await;
    t.app.seed_demo_inspections(4).await.unwrap();
    t.app.seed_demo_bulletins(2).await.unwrap();
    t.app.seed_demo_info_reports().await.unwrap();
    t.app.seed_demo_key_tasks().await.unwrap();
    let Some(desk) = Browser::start(1366, 768).await else { return };
    let base = t.base.clone();

    // The inspector drafts last week's bulletin from the list page and edits it.
    desk.log_in(&base, "inspector").await;
    desk.goto(&format!("{base}/bulletins")).await;
    desk.wait_for_text("起草督查通报").await;
    assert!(desk.text().await.contains("年第"), "the demo's issued bulletins are listed");
    desk.screenshot("desk-bulletins").await;
    desk.click("#draft button[type=submit]").await;
    desk.wait_for_text("修改草稿").await;
    assert!(desk.current_url().await.contains("/bulletins/"));
    let text = desk.text().await;
    for part in ["一、总体情况", "二、得分排名", "社区督查得分排名", "典型问题", "下步工作", "济阳街道创城办"]
    {
        assert!(text.contains(part), "the draft has {part}");
    }
    let figures = desk.script("return document.querySelectorAll('.doc figure img').length").await;
    assert!(figures.as_u64().unwrap_or(0) >= 1, "typical problems show their photos");
    let all_loaded = "return Array.prototype.every.call(document.querySelectorAll('.doc figure img'), function (i) { return i.complete && i.naturalWidth > 0; })";
    let mut loaded = json!(false);
    for _ in 0..30 {
        loaded = desk.script(all_loaded).await;
        if loaded == json!(true) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(loaded, json!(true), "the photos load");
    desk.script(
        "var t = document.querySelector('#edit textarea[name=next_steps]'); t.value = '一是立行立改。\\n二是举一反三,建立长效机制。';",
    )
    .await;
    desk.click("#edit button[type=submit]").await;
    desk.wait_for_text("已保存").await;
    assert!(desk.text().await.contains("二是举一反三,建立长效机制。"));
    desk.screenshot("desk-bulletin").await;
    // Issued: numbered, frozen, notices sent.
    desk.script("window.confirm = function () { return true; };").await;
    desk.click(".actions form[action$='/issue'] button").await;
    desk.wait_for_text("发起更正").await;
    let text = desk.text().await;
    assert!(text.contains("年第") && text.contains("期"), "the number is printed");
    assert!(!text.contains("修改草稿"), "no editor after issuing");

    // A unit's phone: the notice, and an answer with a photo.
    let id = desk.current_url().await.rsplit('/').next().unwrap().to_string();
    let (api, _) = t.login("inspector").await;
    let b = get_json(&api, t.url(&format!("/api/v1/bulletins/{id}"))).await;
    let notices = b["notices"].as_array().unwrap();
    assert!(!notices.is_empty(), "the bulletin sent notices");
    let pick = |name: &str| notices.iter().find(|n| n["unit_name"] == name).cloned();
    let (login, notice) = match (pick("开元社区"), pick("城管执法中队")) {
        (Some(n), _) => ("community", n),
        (None, Some(n)) => ("handler", n),
        _ => ("dispatcher", notices[0].clone()),
    };
    let phone = Browser::start(390, 844).await.expect("browser");
    phone.log_in(&base, login).await;
    phone.goto(&format!("{base}/notices")).await;
    phone.wait_for_text("整改期限").await;
    phone.goto(&format!("{base}/notices/{}", notice["id"].as_str().unwrap())).await;
    phone.wait_for_text("提交反馈").await;
    let photo_path = std::env::temp_dir().join(format!("cc-after-{}.jpg", std::process::id()));
    std::fs::write(&photo_path, crate::photos::camera_jpeg(36.965, 117.155)).unwrap();
    phone.click("section.problem input[value=fixed]").await;
    phone.type_into("section.problem textarea[name=note]", "楼道杂物已清理,已与物业签订长效保洁责任书").await;
    phone.type_into("section.problem input[type=file]", photo_path.to_str().unwrap()).await;
    phone.screenshot("phone-notice").await;
    phone.click("section.problem button[type=submit]").await;
    phone.wait_for_text("已与物业签订长效保洁责任书").await;
    assert!(phone.text().await.contains("已整改"));
    assert_eq!(phone.script("return document.querySelectorAll('section.problem .thumbs img').length").await, json!(1));
    phone.screenshot("phone-notice-answered").await;
    // 信息报送 from the phone; the feed shows the demo's adopted ones.
    phone.goto(&format!("{base}/reports/new")).await;
    phone.wait_for_text("信息类别").await;
    phone.click("input[name=kind][value=practice]").await;
    phone.type_into("input[name=title]", "楼道整治“回头看”全部销号").await;
    phone.type_into("textarea[name=body]", "对通报问题逐项整改,整改后照片已上传。").await;
    phone.type_into("input[name=photo]", photo_path.to_str().unwrap()).await;
    phone.click("form.stack button[type=submit]").await;
    phone.wait_for_text("楼道整治“回头看”全部销号").await;
    assert!(phone.text().await.contains("待审核"));
    phone.screenshot("phone-info-report").await;
    // The bulletin reads on a phone too.
    phone.goto(&format!("{base}/bulletins/{id}")).await;
    phone.wait_for_text("一、总体情况").await;
    let wide = phone.script("return document.documentElement.scrollWidth <= window.innerWidth + 1").await;
    assert_eq!(wide, json!(true), "no sideways scrolling of the page on a phone");
    phone.screenshot("phone-bulletin").await;

    // 晒比评述 on the projector: the answered unit's problems beside its fix; the panel scores.
    desk.goto(&format!("{base}/bulletins/{id}/meeting?unit={}", notice["unit_id"].as_str().unwrap())).await;
    desk.wait_for_text("评:评议组打分").await;
    assert_eq!(desk.script("return document.querySelectorAll('.meeting-show .card')[1].querySelectorAll('img').length").await, json!(1));
    assert!(
        desk.script("return document.querySelectorAll('svg .bar.mark').length").await == json!(1),
        "the unit stands out among the others"
    );
    desk.type_into("#score input[name=score]", "88").await;
    desk.type_into("#score textarea[name=comment]", "整改及时,长效机制需巩固").await;
    desk.click("#score button[type=submit]").await;
    desk.wait_for_text("整改及时,长效机制需巩固").await;
    assert!(desk.text().await.contains("88"));
    desk.screenshot("desk-meeting").await;

    // The leader's board of the ten key tasks, lights and all.
    desk.quit().await;
    let desk = Browser::start(1366, 768).await.expect("browser");
    desk.log_in(&base, "leader").await;
    desk.goto(&format!("{base}/tasks")).await;
    desk.wait_for_text("老旧小区楼道堆积专项整治").await;
    assert_eq!(desk.script("return document.querySelectorAll('table.board tbody tr').length").await, json!(10));
    assert!(
        desk.script("return document.querySelectorAll('table.board .light.red').length").await.as_u64().unwrap_or(0) >= 1,
        "some milestone is behind"
    );
    desk.screenshot("desk-tasks").await;
    phone.quit().await;
    desk.quit().await;
}

#[tokio::test]
async fn frontage_checks_walked_on_a_phone_the_lists_posted_and_the_door_code_scanned() {
    let t = spawn_demo().await;
    let demo = t.app.seed_demo_merchants().await.unwrap();
    assert!(demo.merchants >= 300 && demo.checks > 1000 && demo.red > 0 && demo.black > 0, "{demo:?}");
    let Some(phone) = Browser::start(390, 844).await else { return };
    let base = t.base.clone();
    // The grid worker stands in their grid: the shops there, nearest first.
    let (api, _) = t.login("gridworker").await;
    let (lat, lon) = grid_centre(&t, "370115001001001").await;
    let near = get_json(&api, t.url(&format!("/api/v1/merchants/nearby?lat={lat}&lon={lon}"))).await;
    let shop = near.as_array().unwrap().iter().find(|m| m["checked_today"] == false).expect("a shop not checked today").clone();
    phone.log_in(&base, "gridworker").await;
    phone.place(&base, shop["lat"].as_f64().unwrap(), shop["lon"].as_f64().unwrap()).await;
    phone.goto(&format!("{base}/frontage")).await;
    phone.wait_for_text(shop["name"].as_str().unwrap()).await;
    assert!(phone.text().await.contains(" 米 · "), "distances are shown");
    phone.screenshot("phone-frontage").await;
    // Tap the shop, mark 包秩序 not met, the rest met, and send.
    phone.goto(&format!("{base}/frontage/{}", shop["id"].as_str().unwrap())).await;
    phone.wait_for_text("包秩序").await;
    phone.script("document.querySelectorAll('li.item').forEach(function (li) { var v = li.textContent.indexOf('包秩序') >= 0 ? 'fail' : 'pass'; li.querySelector('input[value=' + v + ']').click(); });").await;
    phone.screenshot("phone-frontage-check").await;
    phone.click("#inspect button[type=submit]").await;
    phone.wait_for_text("下一家").await;
    let text = phone.text().await;
    assert!(text.contains("80.0%") && text.contains("门前五包"), "scored by the manual: {text}");
    phone.screenshot("phone-frontage-result").await;
    phone.click("a.button.big").await;
    phone.wait_for_text("今日已查").await;

    // The desk: last month's lists, published by the demo, and the poster.
    let desk = Browser::start(1366, 768).await.expect("browser");
    desk.log_in(&base, "dispatcher").await;
    let months = get_json(&client(), t.url("/api/v1/public/boards")).await;
    let month = months["months"][0].as_str().unwrap().to_string();
    desk.goto(&format!("{base}/merchants/boards?month={month}")).await;
    desk.wait_for_text("黑榜").await;
    assert!(desk.text().await.contains("已发布"));
    desk.screenshot("desk-merchant-boards").await;
    desk.goto(&format!("{base}/boards/{month}")).await;
    desk.wait_for_text("门前五包红黑榜").await;
    desk.screenshot("desk-public-boards").await;
    let black = get_json(&client(), t.url(&format!("/api/v1/public/boards/{month}"))).await;
    let shame = black["black"][0]["merchant"]["name"].as_str().unwrap().to_string();
    assert!(desk.text().await.contains(&shame), "the black list names {shame}");
    desk.goto(&format!("{base}/merchants/{}", shop["id"].as_str().unwrap())).await;
    desk.wait_for_text("信用等级").await;
    assert_eq!(desk.script("return document.querySelectorAll('.doc-photo svg').length").await, json!(1), "the door code is drawn");
    desk.screenshot("desk-merchant").await;
    desk.quit().await;

    // A citizen scans the door: the pledge and the month, and a report in two taps.
    let (community, _) = t.login("community").await;
    let pledge = community
        .get(t.url(&format!("/api/v1/merchants/{}/pledge.docx", shop["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let (token, code) = crate::merchants::door_and_code(&pledge);
    let citizen = Browser::start(390, 844).await.expect("browser");
    citizen.goto(&format!("{base}/m/{token}")).await;
    citizen.wait_for_text("我要反映").await;
    citizen.screenshot("phone-door").await;
    citizen.click(".big-buttons a.button").await;
    citizen.wait_for_text("补充说明").await;
    citizen.click("form.stack button[type=submit]").await;
    citizen.wait_for_text("感谢您的监督").await;
    citizen.goto(&format!("{base}/m/AAAAAAAAAAAAAAAAAAAAAA")).await;
    citizen.wait_for_text("该门牌码不存在").await;
    // A shop logs in with its phone and the code on its pledge and sees its own page.
    let (shop_phone, shop_code) = demo.login.clone().expect("the demo names a shop's login");
    citizen.goto(&format!("{base}/login/shop")).await;
    citizen.type_into("#phone", &shop_phone).await;
    citizen.type_into("#code", "WRONG234").await;
    citizen.click("form.stack button[type=submit]").await;
    citizen.wait_for_text("商户码不正确").await;
    citizen.type_into("#code", &shop_code).await;
    citizen.click("form.stack button[type=submit]").await;
    citizen.wait_for_text("待整改问题").await;
    assert!(citizen.current_url().await.ends_with("/merchant"));
    citizen.screenshot("phone-shop").await;
    citizen.quit().await;
    phone.quit().await;
    let _ = code;
}

#[tokio::test]
async fn a_volunteer_checks_in_by_the_organisers_code_on_a_phone_and_gets_a_certificate() {
    let t = spawn_demo().await;
    let demo = t.app.seed_demo_volunteers().await.unwrap();
    assert!(demo.volunteers >= 160 && demo.activities >= 26 && demo.hours > 100, "{demo:?}");
    let Some(phone) = Browser::start(390, 844).await else { return };
    let base = t.base.clone();
    let (leader, _) = t.login("teamleader").await;
    let acts = get_json(&leader, t.url("/api/v1/activities")).await;
    let ongoing = acts.as_array().unwrap().iter().find(|a| a["title"].as_str().unwrap().contains("进行中")).unwrap().clone();
    let id = ongoing["id"].as_str().unwrap().to_string();
    // The organiser holds up the code on their phone.
    let organiser = Browser::start(390, 844).await.expect("browser");
    organiser.log_in(&base, "teamleader").await;
    organiser.goto(&format!("{base}/activities/{id}/code")).await;
    organiser.wait_for_text("每 30 秒更新").await;
    assert_eq!(organiser.script("return document.querySelectorAll('#qr svg').length").await, json!(1), "the QR code is drawn");
    organiser.screenshot("phone-checkin-code").await;
    // The volunteer at the place scans it: the page takes the phone's position and checks in.
    let code = get_json(&leader, t.url(&format!("/api/v1/activities/{id}/code"))).await["code"].as_str().unwrap().to_string();
    phone.log_in(&base, "volunteer").await;
    phone.place(&base, ongoing["lat"].as_f64().unwrap(), ongoing["lon"].as_f64().unwrap()).await;
    phone.goto(&format!("{base}/v/scan/{id}?c={code}")).await;
    phone.wait_for_text("已定位").await;
    phone.screenshot("phone-scan").await;
    phone.click("#scan-button").await;
    phone.wait_for_text("签到成功").await;
    phone.screenshot("phone-scan-done").await;
    // A forged code is refused in words.
    let forged = format!("{}{}", &code[..code.len() - 1], if code.ends_with('0') { '1' } else { '0' });
    phone.goto(&format!("{base}/v/scan/{id}?c={forged}")).await;
    phone.wait_for_text("已定位").await;
    phone.click("#scan-button").await;
    phone.wait_for_text("签到码无效").await;
    // Their own page: hours, stars, what is coming.
    phone.goto(&format!("{base}/v")).await;
    phone.wait_for_text("我的服务记录").await;
    assert!(phone.text().await.contains("开元社区志愿服务大集"), "the coming service fair is offered");
    assert!(phone.text().await.contains("申请更正"), "a record can be questioned from the phone");
    phone.screenshot("phone-volunteer").await;
    organiser.quit().await;

    // On the desk the leader issues a certificate to a volunteer with hours.
    let desk = Browser::start(1366, 768).await.expect("browser");
    desk.log_in(&base, "teamleader").await;
    desk.goto(&format!("{base}/activities")).await;
    desk.wait_for_text("发布新活动").await;
    desk.screenshot("desk-activities").await;
    let list = get_json(&leader, t.url("/api/v1/volunteers?team=ZY01")).await;
    let busiest = list.as_array().unwrap().iter().max_by_key(|v| v["minutes"].as_i64().unwrap()).unwrap().clone();
    desk.goto(&format!("{base}/volunteers/{}", busiest["id"].as_str().unwrap())).await;
    desk.wait_for_text("服务记录").await;
    desk.screenshot("desk-volunteer").await;
    desk.type_into("#person_in_charge", "刘芳").await;
    desk.type_into("#contact", "0531-84212345").await;
    desk.click("form.search button[type=submit]").await;
    desk.wait_for_text("志证〔").await;
    let text = desk.text().await;
    assert!(text.contains("负责人:刘芳") && text.contains(busiest["name"].as_str().unwrap()), "{text}");
    assert_eq!(desk.script("return document.querySelectorAll('.qr svg').length").await, json!(1), "the check QR code is drawn");
    desk.screenshot("desk-certificate").await;
    // Anyone checks it from its QR code.
    let url = desk.current_url().await;
    let cert_id = url.rsplit('/').next().unwrap().to_string();
    let cert = get_json(&leader, t.url(&format!("/api/v1/certificates/{cert_id}"))).await;
    phone.goto(cert["verify_url"].as_str().unwrap()).await;
    phone.wait_for_text("真实有效").await;
    phone.screenshot("phone-verify").await;
    desk.quit().await;
    phone.quit().await;
}
