//! The real binary, run as an operator would, against the same database as a running server.

use std::process::{Command, Output};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

fn run(t: &TestApp, args: &[&str], stdin_env: Option<(&str, &str)>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_chuangcheng"));
    cmd.args(args).arg("--data").arg(t.dir.path());
    if let Some(url) = &t.app.config().database_url {
        cmd.arg("--database-url").arg(url.expose());
    }
    cmd.env_remove("CHUANGCHENG_PASSWORD").env("RUST_LOG", "warn");
    if let Some((k, v)) = stdin_env {
        cmd.env(k, v);
    }
    cmd.output().expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

async fn people_in(t: &TestApp, code: &str) -> Vec<Value> {
    let (admin, _) = t.login("admin").await;
    let v: Value = admin.get(t.url(&format!("/api/v1/org/units/{code}"))).send().await.unwrap().json().await.unwrap();
    v["people"].as_array().unwrap().clone()
}

#[tokio::test]
async fn import_people_from_excel_while_the_server_runs() {
    let t = spawn_demo().await;
    let path = t.dir.path().join("people.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let rows = [
        ["姓名", "手机", "角色", "所属单元", "用户名"],
        ["赵志愿", "13600000001", "志愿者", "ZY01", ""],
        ["钱网格", "13600000002", "网格员", "370115001001002", "qianwangge"],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, *cell).unwrap();
        }
    }
    book.save(&path).unwrap();
    let before = people_in(&t, "370115001001").await.len();
    let out = run(&t, &["import", "people", path.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("people imported: 2"), "{}", stdout(&out));
    let after = people_in(&t, "370115001001").await;
    assert_eq!(after.len(), before + 1);
    assert!(after.iter().any(|p| p["name"] == "钱网格" && p["username"] == "qianwangge"));
    // The running server's in-memory grid directory (what `locate` answers from) picks the
    // new grid worker up once it sees the org revision move: polled, not slept for.
    let (lat, lon) = grid_centre(&t, "370115001001002").await;
    let url = t.url(&format!("/api/v1/locate?lat={lat}&lon={lon}"));
    let started = std::time::Instant::now();
    loop {
        let v: Value = client().get(&url).send().await.unwrap().json().await.unwrap();
        assert_eq!(v["grid"]["code"], "370115001001002");
        if v["grid_workers"].as_array().unwrap().iter().any(|p| p["name"] == "钱网格") {
            break;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "the directory never showed the imported worker: {v}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_bad_people_file_imports_nothing_and_names_the_rows() {
    let t = spawn_demo().await;
    let path = t.dir.path().join("people.csv");
    std::fs::write(
        &path,
        "\u{feff}姓名,手机,角色,所属单元,用户名\n孙好,13700000001,网格员,370115001001001,\n李坏,12ab,厨师,370115001001001,\n周无,13700000003,网格员,火星社区,\n",
    )
    .unwrap();
    let before = people_in(&t, "370115001001").await.len();
    let out = run(&t, &["import", "people", path.to_str().unwrap()], None);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("第 3 行") && err.contains("第 4 行") && !err.contains("第 2 行"), "{err}");
    assert!(err.contains("厨师") && err.contains("火星社区"), "{err}");
    assert_eq!(people_in(&t, "370115001001").await.len(), before, "nothing was imported");
}

#[tokio::test]
async fn bad_grid_file_from_the_command_line_lists_features() {
    let t = spawn_demo().await;
    let path = t.dir.path().join("grids.geojson");
    let file = crate::grids::collection(&[
        crate::grids::feature("370115001001099", "开元社区", (117.200, 117.205), (36.96, 36.965)),
        crate::grids::feature("37011500100109", "开元社区", (117.205, 117.21), (36.96, 36.965)),
    ]);
    std::fs::write(&path, file).unwrap();
    let out = run(&t, &["import", "grids", path.to_str().unwrap(), "--lang", "en"], None);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("Row 2"), "{}", stderr(&out));
}

#[tokio::test]
async fn user_add_passwd_and_token() {
    let t = spawn_demo().await;
    let add = [
        "user",
        "add",
        "--username",
        "wangfang",
        "--name",
        "王芳",
        "--role",
        "网格员",
        "--org",
        "370115001003001",
        "--phone",
        "13800001111",
    ];
    let out = run(&t, &add, Some(("CHUANGCHENG_PASSWORD", "first-password")));
    assert!(out.status.success(), "{}", stderr(&out));
    let login = |password: &'static str| {
        let url = t.url("/api/v1/auth/login");
        async move { client().post(url).json(&json!({ "username": "wangfang", "password": password })).send().await.unwrap().status() }
    };
    assert_eq!(login("first-password").await, StatusCode::OK);
    let out = run(&t, &["user", "passwd", "--username", "wangfang"], Some(("CHUANGCHENG_PASSWORD", "second-password")));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(login("first-password").await, StatusCode::UNAUTHORIZED);
    assert_eq!(login("second-password").await, StatusCode::OK);
    let out = run(&t, &["user", "passwd", "--username", "wangfang"], Some(("CHUANGCHENG_PASSWORD", "short")));
    assert!(!out.status.success(), "short passwords are refused");
    // The same username twice is a clear error.
    let out = run(&t, &add, Some(("CHUANGCHENG_PASSWORD", "first-password")));
    assert!(!out.status.success());
    assert!(stderr(&out).contains("已存在"), "{}", stderr(&out));

    let out = run(&t, &["user", "token", "--username", "wangfang", "--name", "phone app"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let token = stdout(&out).lines().last().unwrap().trim().to_string();
    let me: Value = client().get(t.url("/api/v1/auth/me")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["name"], "王芳");
}

#[tokio::test]
async fn configuration_file_and_flags_layer() {
    let t = spawn_app().await;
    let cfg = t.dir.path().join("chuangcheng.toml");
    std::fs::write(&cfg, "listen = \"127.0.0.1:1\"\nbogus = 1\n").unwrap();
    let out = run(&t, &["migrate", "--config", cfg.to_str().unwrap()], None);
    assert!(!out.status.success(), "unknown keys are errors");
    assert!(stderr(&out).contains("bogus"), "{}", stderr(&out));
    std::fs::write(&cfg, "session_hours = 2\n").unwrap();
    let out = run(&t, &["migrate", "--config", cfg.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let latest = chuangcheng::store::schema::latest_version();
    assert!(stdout(&out).contains(&format!("schema is at version {latest}")), "{}", stdout(&out));
    // (Without the test's own database URL: on PostgreSQL `run` passes one already.)
    let out = Command::new(env!("CARGO_BIN_EXE_chuangcheng"))
        .args(["migrate", "--database-url", "mysql://x", "--data"])
        .arg(t.dir.path())
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("database_url"), "{}", stderr(&out));
    // Every key can come from the environment, between the file and the flags.
    let out = run(&t, &["migrate"], Some(("CHUANGCHENG_SESSION_HOURS", "0")));
    assert!(!out.status.success() && stderr(&out).contains("session_hours"), "the environment is read: {}", stderr(&out));
    let out = run(&t, &["migrate"], Some(("CHUANGCHENG_LOGIN_ATTEMPTS", "many")));
    assert!(!out.status.success() && stderr(&out).contains("CHUANGCHENG_LOGIN_ATTEMPTS"), "{}", stderr(&out));
    let out = run(&t, &["migrate", "--config", cfg.to_str().unwrap()], Some(("CHUANGCHENG_OPEN311_PER_MINUTE", "30")));
    assert!(out.status.success(), "a valid value is taken: {}", stderr(&out));
}

#[tokio::test]
async fn apikey_commands_work_while_the_server_runs() {
    let t = spawn_demo().await;
    let out = run(&t, &["apikey", "create", "--name", "12345 热线"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let key = stdout(&out).lines().last().unwrap().trim().to_string();
    let (lat, lon) = grid_centre(&t, "370115001001001").await;
    let form = [("api_key", key.as_str()), ("service_code", "0601"), ("lat", &lat.to_string()), ("long", &lon.to_string())];
    let r = client().post(t.url("/open311/v2/requests.json")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let out = run(&t, &["apikey", "list"], None);
    assert!(stdout(&out).contains("12345 热线") && stdout(&out).contains("active"), "{}", stdout(&out));
    assert!(!stdout(&out).contains(&key), "keys are never listed");
    let out = run(&t, &["apikey", "revoke", "12345 热线"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let r = client().post(t.url("/open311/v2/requests.json")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let out = run(&t, &["apikey", "revoke", "nobody"], None);
    assert!(!out.status.success());
}

#[tokio::test]
async fn a_backup_taken_while_serving_restores_to_the_same_answers() {
    let (t, clock) = spawn_demo_at(chuangcheng::domain::calendar::beijing_ms(2026, 11, 30, 18, 0)).await;
    t.app.seed_demo_cases(5).await.unwrap();
    let (worker, w) = t.login("gridworker").await;
    let photo = crate::photos::camera_jpeg(36.97, 117.17);
    let form = reqwest::multipart::Form::new().part("photo", reqwest::multipart::Part::bytes(photo.clone()).file_name("a.jpg"));
    let uploaded: Value =
        worker.post(t.url("/api/v1/photos")).header("X-CSRF-Token", &w).multipart(form).send().await.unwrap().json().await.unwrap();
    let backup = t.dir.path().join("backup-1");
    let out = run(&t, &["backup", "--to", backup.to_str().unwrap()], None);
    if t.app.config().database_url.is_some() {
        assert!(!out.status.success() && stderr(&out).contains("pg_dump"), "PostgreSQL says to use pg_dump: {}", stderr(&out));
        return;
    }
    assert!(out.status.success(), "{}", stderr(&out));
    // Restore into a fresh data directory and serve it beside the original.
    let restored = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_chuangcheng"))
        .args(["restore", "--from", backup.to_str().unwrap(), "--data", restored.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let mut config = t.app.config().clone();
    config.data_dir = restored.path().to_path_buf();
    let copy = chuangcheng::App::build_with_clock(config, chuangcheng::app::Clock::Manual(clock.clone())).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let copy_base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(chuangcheng::server::serve(copy, listener, std::future::pending()));
    let (original, _) = t.login("leader").await;
    let copied = client();
    let r = copied
        .post(format!("{copy_base}/api/v1/auth/login"))
        .json(&json!({ "username": "leader", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "accounts come back too");
    for path in [
        "/api/v1/cases?per_page=500",
        "/api/v1/indicators?from=2026-11-01&to=2026-11-30&by=grid",
        "/api/v1/grids",
        "/api/v1/categories",
        "/api/v1/org/units",
        "/api/v1/todo",
    ] {
        let a = original.get(t.url(path)).send().await.unwrap().text().await.unwrap();
        let b = copied.get(format!("{copy_base}{path}")).send().await.unwrap().text().await.unwrap();
        assert_eq!(a, b, "{path} answers the same from the restored copy");
    }
    // The photo is not attached to anything yet: only its uploader sees it, on the copy too.
    let url = uploaded["url"].as_str().unwrap();
    let r = copied.get(format!("{copy_base}{url}")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "a photo is not shown to someone who may not see it");
    let uploader = client();
    let r = uploader
        .post(format!("{copy_base}/api/v1/auth/login"))
        .json(&json!({ "username": "gridworker", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = uploader.get(format!("{copy_base}{url}")).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(bytes.to_vec(), photo, "photos come back");
    // A second restore over an existing store needs --force.
    let out = Command::new(env!("CARGO_BIN_EXE_chuangcheng"))
        .args(["restore", "--from", backup.to_str().unwrap(), "--data", restored.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[tokio::test]
async fn recount_checks_the_dashboard_counters_and_fix_rewrites_them() {
    let (t, _clock) = spawn_demo_at(chuangcheng::domain::calendar::beijing_ms(2026, 11, 30, 18, 0)).await;
    t.app.seed_demo_cases(3).await.unwrap();
    let out = run(&t, &["recount"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("一致"), "{}", stdout(&out));
    t.app.store().write(|c| c.batch("DELETE FROM case_closures")).await.unwrap();
    let out = run(&t, &["recount"], None);
    assert!(!out.status.success(), "lost counters fail the check");
    assert!(stderr(&out).contains("--fix"), "{}", stderr(&out));
    let out = run(&t, &["recount", "--fix"], None);
    assert!(out.status.success() && stdout(&out).contains("已按案卷重算"), "{}", stdout(&out));
    assert!(run(&t, &["recount"], None).status.success(), "agree again after --fix");
}

#[tokio::test]
async fn import_a_manual_and_points_from_the_command_line() {
    let t = spawn_demo().await;
    let manual = t.dir.path().join("manual.toml");
    let good = include_str!("../../data-files/manual.toml");
    // A bad file: the score of the third item is not a number; nothing is loaded.
    let bad = good.replacen("score = 3\nscoring = \"每处扣分\"\nrule = \"1\"", "score = \"三\"\nscoring = \"每处扣分\"\nrule = \"1\"", 1);
    let line = bad.lines().position(|l| l == "score = \"三\"").unwrap() + 1;
    std::fs::write(&manual, &bad).unwrap();
    let out = run(&t, &["import", "manual", manual.to_str().unwrap()], None);
    assert!(!out.status.success());
    assert!(stderr(&out).contains(&format!("第 {line} 行")) && stderr(&out).contains("“三”"), "{}", stderr(&out));
    std::fs::write(&manual, good).unwrap();
    let out = run(&t, &["import", "manual", manual.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("manual imported: version 2"), "{}", stdout(&out));

    let points = t.dir.path().join("points.csv");
    let (lat, lon) = grid_centre(&t, "370115001001001").await;
    std::fs::write(&points, format!("名称,点位类型,纬度,经度,责任单位,地址\n开元小区,居民小区,{lat},{lon},开元社区,开元路 9 号\n"))
        .unwrap();
    let out = run(&t, &["import", "points", points.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("points imported: 1 new, 0 updated"), "{}", stdout(&out));
    let (inspector, _) = t.login("inspector").await;
    let listed = get_json(&inspector, t.url("/api/v1/inspections/points?type=%E5%B1%85%E6%B0%91%E5%B0%8F%E5%8C%BA")).await;
    assert_eq!(listed[0]["name"], "开元小区");
    assert_eq!(listed[0]["community_name"], "开元社区");
}

#[tokio::test]
async fn a_bulletin_written_from_the_command_line() {
    let t = spawn_demo().await;
    t.app.seed_demo_inspections(3).await.unwrap();
    let today = chuangcheng::domain::calendar::beijing_date(t.app.now());
    let (from, to) = ((today - chrono::Duration::days(27)).to_string(), today.to_string());
    let docx = t.dir.path().join("通报.docx");
    let out = run(&t, &["bulletin", "--unit", "370115001", "--from", &from, "--to", &to, "--out", docx.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("创城督查情况的通报"), "{}", stdout(&out));
    let doc = docx_rs::read_docx(&std::fs::read(&docx).unwrap()).expect("a readable .docx");
    let json = doc.json();
    assert!(json.contains("关于济阳街道") && json.contains("社区督查得分排名") && json.contains("济阳街道创城办"));
    let (leader, _) = t.login("leader").await;
    let ranking = get_json(&leader, t.url(&format!("/api/v1/inspections/rankings?from={from}&to={to}"))).await;
    for row in ranking["rows"].as_array().unwrap() {
        assert!(json.contains(row["name"].as_str().unwrap()), "{} is in the ranking table", row["name"]);
    }
    let xlsx = t.dir.path().join("通报.xlsx");
    let out = run(&t, &["bulletin", "--unit", "济阳街道", "--from", &from, "--to", &to, "--out", xlsx.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", stderr(&out));
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(&xlsx).unwrap();
    assert!(book.sheet_names().contains(&"社区督查得分排名".to_string()));
    let rows = book.worksheet_range("社区督查得分排名").unwrap().rows().skip(3).count();
    assert_eq!(rows, ranking["rows"].as_array().unwrap().len());
    // Nothing was stored: the list of bulletins is empty.
    assert_eq!(get_json(&leader, t.url("/api/v1/bulletins")).await.as_array().unwrap().len(), 0);
    // A period without inspections, and a file type it cannot write, are refused in words.
    let out =
        run(&t, &["bulletin", "--unit", "370115001", "--from", "2020-01-01", "--to", "2020-01-31", "--out", docx.to_str().unwrap()], None);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("没有督查记录"), "{}", stderr(&out));
    let out = run(&t, &["bulletin", "--unit", "370115001", "--from", &from, "--to", &to, "--out", "x.pdf"], None);
    assert!(!out.status.success());
    assert!(stderr(&out).contains(".docx"), "{}", stderr(&out));
}
