//! 重点任务 through the JSON API: a drive set by a leader, progress reported by its lead unit
//! (never backwards, never by a unit outside it), lights that turn as time passes, warnings
//! in the lead unit's to-do, and the drive's cases counted by category.

use std::sync::atomic::Ordering;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

async fn post(c: &Client, csrf: &str, url: String, body: Value) -> reqwest::Response {
    c.post(url).header("X-CSRF-Token", csrf).json(&body).send().await.unwrap()
}

#[tokio::test]
async fn a_drive_is_set_reported_on_warned_about_and_counts_its_cases() {
    let (t, clock) = spawn_demo_at(chrono::Utc::now().timestamp_millis()).await;
    t.app.seed_demo_cases(10).await.unwrap();
    let today = chuangcheng::domain::calendar::beijing_date(t.app.now());
    let (leader, lc) = t.login("leader").await;
    let d = |n: i64| (today + chrono::Duration::days(n)).to_string();
    // Bad input: no milestone, a milestone outside the period, an unknown category.
    let base = json!({ "kind": "drive", "name": "老旧小区楼道堆积专项整治", "lead": "开元社区", "cooperating": ["城管执法中队"],
                       "starts_on": d(-30), "ends_on": d(60), "categories": ["0103", "0105"],
                       "milestones": [{ "title": "摸底排查", "due": d(-5) }, { "title": "集中清理", "due": d(5) }, { "title": "长效保洁", "due": d(50) }] });
    let mut bad = base.clone();
    bad["milestones"] = json!([]);
    assert_error(post(&leader, &lc, t.url("/api/v1/tasks"), bad).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    let mut bad = base.clone();
    bad["milestones"][0]["due"] = json!(d(90));
    let e = assert_error(post(&leader, &lc, t.url("/api/v1/tasks"), bad).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    assert!(e["message"].as_str().unwrap().contains("起止"), "{e}");
    let mut bad = base.clone();
    bad["categories"] = json!(["9999"]);
    assert_error(post(&leader, &lc, t.url("/api/v1/tasks"), bad).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    let r = post(&leader, &lc, t.url("/api/v1/tasks"), base).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let task: Value = r.json().await.unwrap();
    let id = task["id"].as_str().unwrap().to_string();
    let lights: Vec<&str> = task["milestones"].as_array().unwrap().iter().map(|m| m["light"].as_str().unwrap()).collect();
    assert_eq!(lights, ["red", "yellow", "green"], "past due, due within a week, later");
    assert_eq!(task["light"], "red");
    assert_eq!(task["lead_name"], "开元社区");
    assert_eq!(task["cooperating_names"], json!(["城管执法中队"]));
    // The drive counts the cases of its categories in its period: those the demo has.
    let reported = task["drive"]["reported"].as_i64().unwrap();
    let ind = get_json(&leader, t.url(&format!("/api/v1/indicators?by=category&from={}&to={}", d(-30), today))).await;
    let expected: i64 = ind["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["code"] == "0103" || g["code"] == "0105")
        .map(|g| g["reported"].as_i64().unwrap())
        .sum();
    assert_eq!(reported, expected);
    assert!(reported > 0, "the demo has stairwell and laundry cases");

    // 开元's admin sees the warnings in the to-do and reports progress.
    let (community, cc) = t.login("community").await;
    let warnings = get_json(&community, t.url("/api/v1/tasks/warnings")).await;
    assert_eq!(warnings.as_array().unwrap().len(), 2, "{warnings}");
    assert_eq!(warnings[0]["light"], "red");
    let ms = task["milestones"].as_array().unwrap();
    let report = |m: &Value, body: Value| {
        let (c, csrf, url) =
            (community.clone(), cc.clone(), t.url(&format!("/api/v1/tasks/{id}/milestones/{}/progress", m["id"].as_str().unwrap())));
        async move { post(&c, &csrf, url, body).await }
    };
    assert_eq!(report(&ms[0], json!({ "percent": 60, "text": "已摸排 20 栋楼" })).await.status(), StatusCode::OK);
    let e = assert_error(report(&ms[0], json!({ "percent": 50, "text": "回退" })).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value")
        .await;
    assert!(e["message"].as_str().unwrap().contains("不能比上次低"), "{e}");
    assert_error(report(&ms[0], json!({ "percent": 101, "text": "x" })).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    let done: Value = report(&ms[0], json!({ "percent": 100, "text": "摸底完成,共 36 栋" })).await.json().await.unwrap();
    assert_eq!(done["milestones"][0]["light"], "green");
    assert_eq!(done["light"], "yellow", "the worst unfinished milestone now");
    assert_eq!(done["progress"].as_array().unwrap().len(), 2);
    // The cooperating department reports too (a unit outside the task is refused: tests/api/authz.rs).
    let (handler, hc) = t.login("handler").await;
    let r = post(
        &handler,
        &hc,
        t.url(&format!("/api/v1/tasks/{id}/milestones/{}/progress", ms[1]["id"].as_str().unwrap())),
        json!({ "percent": 10, "text": "x" }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK, "the cooperating department may report");
    // A week later the second milestone is red.
    clock.fetch_add(7 * 86_400_000, Ordering::SeqCst);
    let later = get_json(&leader, t.url(&format!("/api/v1/tasks/{id}"))).await;
    assert_eq!(later["milestones"][1]["light"], "red");
    // On the board for readers of indicators; not for a volunteer.
    let board = get_json(&leader, t.url("/api/v1/tasks")).await;
    assert!(board.as_array().unwrap().iter().any(|b| b["id"] == id.as_str()));
    let (volunteer, _) = t.login("volunteer").await;
    assert_eq!(volunteer.get(t.url("/api/v1/tasks")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
}
