//! The case loop over HTTP, role by role, on a hand-moved clock.

use std::sync::atomic::Ordering;

use chuangcheng::domain::calendar::beijing_ms;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

const GRID: &str = "370115001001001"; // the demo grid worker's grid, in 开元社区

struct Desk {
    t: TestApp,
    clock: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

/// Monday 2026-11-30 09:00 Beijing time: an ordinary working morning.
async fn desk() -> Desk {
    let (t, clock) = spawn_demo_at(beijing_ms(2026, 11, 30, 9, 0)).await;
    Desk { t, clock }
}

impl Desk {
    async fn report(&self, who: &Client, csrf: &str, category: &str, extra: Value) -> reqwest::Response {
        let (lat, lon) = grid_centre(&self.t, GRID).await;
        let mut body = json!({ "category": category, "description": "商户门前摆摊占道", "lat": lat, "lon": lon });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        who.post(self.t.url("/api/v1/cases")).header("X-CSRF-Token", csrf).json(&body).send().await.unwrap()
    }

    /// Reports a case of `category` at the demo grid; its id.
    async fn new_case(&self, who: &Client, csrf: &str, category: &str) -> String {
        let v: Value = self.report(who, csrf, category, json!({})).await.json().await.unwrap();
        v["case"]["id"].as_str().unwrap().to_string()
    }

    async fn act(&self, who: &Client, csrf: &str, id: &str, action: &str, body: Value) -> reqwest::Response {
        who.post(self.t.url(&format!("/api/v1/cases/{id}/actions/{action}"))).header("X-CSRF-Token", csrf).json(&body).send().await.unwrap()
    }

    async fn ok(&self, who: &Client, csrf: &str, id: &str, action: &str, body: Value) -> Value {
        let r = self.act(who, csrf, id, action, body).await;
        let status = r.status();
        let v: Value = r.json().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{action}: {v}");
        v
    }
}

#[tokio::test]
async fn the_whole_loop_with_rework_for_each_role() {
    let d = desk().await;
    let (worker, w) = d.t.login("gridworker").await;
    let (dispatcher, dc) = d.t.login("dispatcher").await;
    let (handler, h) = d.t.login("handler").await;

    let r = d.report(&worker, &w, "0401", json!({ "address": "纬二路 12 号" })).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    let case = &created["case"];
    let id = case["id"].as_str().unwrap().to_string();
    assert_eq!(case["number"], "JY20261130-0001");
    assert_eq!(case["status"], "reported");
    assert_eq!(case["grid"]["code"], GRID);
    assert_eq!(case["community"]["name"], "开元社区");
    assert_eq!(case["category_name"], "摊位乱摆/占道经营");
    assert_eq!(case["source"], "patrol");

    // Before dispatch the department does not even see the case; the grid worker sees it but
    // cannot accept it: 409 with the state and what the worker may do (nothing).
    let r = d.act(&handler, &h, &id, "accept", json!({})).await;
    assert_error(r, StatusCode::NOT_FOUND, "not_found").await;
    let r = d.act(&worker, &w, &id, "accept", json!({})).await;
    let body = assert_error(r, StatusCode::CONFLICT, "action_not_allowed").await;
    assert_eq!(body["status"], "reported");
    assert_eq!(body["allowed_actions"], json!([]));
    assert!(is_chinese(body["message"].as_str().unwrap()));

    let v = d.ok(&dispatcher, &dc, &id, "register", json!({})).await;
    assert_eq!(v["status"], "registered");
    let v = d.ok(&dispatcher, &dc, &id, "dispatch", json!({})).await;
    assert_eq!(v["status"], "dispatched");
    assert_eq!(v["assignee"]["name"], "城管执法中队", "the category's default department");
    assert_eq!(v["tier"], 4);
    // 60 working minutes to accept, 240 to fix: 09:00 + 240 min, across lunch → 14:30.
    assert_eq!(v["response_deadline"], beijing_ms(2026, 11, 30, 10, 0));
    assert_eq!(v["handling_deadline"], beijing_ms(2026, 11, 30, 14, 30));
    assert_eq!(v["light"], "green");

    d.clock.fetch_add(10 * 60_000, Ordering::SeqCst);
    assert_eq!(d.ok(&handler, &h, &id, "accept", json!({})).await["status"], "in_progress");
    assert_eq!(d.ok(&handler, &h, &id, "handle", json!({ "note": "已劝离摊贩" })).await["status"], "handled");
    // The one who did the work cannot verify it.
    let r = d.act(&handler, &h, &id, "verify_pass", json!({})).await;
    assert_error(r, StatusCode::FORBIDDEN, "forbidden").await;
    let v = d.ok(&worker, &w, &id, "verify_fail", json!({ "note": "摊贩又回来了" })).await;
    assert_eq!(v["status"], "dispatched");
    assert_eq!(v["rework_count"], 1);
    assert_eq!(v["assignee"]["name"], "城管执法中队", "rework goes back to the same unit");
    d.ok(&handler, &h, &id, "accept", json!({})).await;
    d.ok(&handler, &h, &id, "handle", json!({ "note": "已取缔" })).await;
    let v = d.ok(&worker, &w, &id, "verify_pass", json!({})).await;
    assert_eq!(v["status"], "closed");
    assert_eq!(v["actions"], json!([]), "a grid worker cannot reopen");

    let timeline: Vec<Value> = dispatcher.get(d.t.url(&format!("/api/v1/cases/{id}/timeline"))).send().await.unwrap().json().await.unwrap();
    let actions: Vec<&str> = timeline.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["report", "register", "dispatch", "accept", "handle", "verify_fail", "accept", "handle", "verify_pass"]);
    assert_eq!(timeline[5]["note"], "摊贩又回来了");
    assert!(timeline.iter().all(|e| e["actor_name"].is_string()));
    assert!(d.t.app.rebuild_matches(&id).await.unwrap(), "replaying the log gives the stored row");
    let v = d.ok(&dispatcher, &dc, &id, "reopen", json!({ "note": "市民反映又出现" })).await;
    assert_eq!(v["status"], "registered");
    assert!(d.t.app.rebuild_matches(&id).await.unwrap());
}

#[tokio::test]
async fn retries_with_the_same_idempotency_key_do_things_once() {
    let d = desk().await;
    let (worker, w) = d.t.login("gridworker").await;
    let (dispatcher, dc) = d.t.login("dispatcher").await;
    let (lat, lon) = grid_centre(&d.t, GRID).await;
    let body = json!({ "category": "0601", "description": "乱扔垃圾", "lat": lat, "lon": lon });
    let mut ids = Vec::new();
    for _ in 0..3 {
        let r = worker
            .post(d.t.url("/api/v1/cases"))
            .header("X-CSRF-Token", &w)
            .header("Idempotency-Key", "tap-1")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        ids.push(r.json::<Value>().await.unwrap()["case"]["id"].as_str().unwrap().to_string());
    }
    assert!(ids.iter().all(|i| *i == ids[0]), "one case for three taps");
    let list: Vec<Value> = dispatcher.get(d.t.url("/api/v1/cases")).send().await.unwrap().json().await.unwrap();
    assert_eq!(list.len(), 1);
    for _ in 0..2 {
        let r = dispatcher
            .post(d.t.url(&format!("/api/v1/cases/{}/actions/register", ids[0])))
            .header("X-CSRF-Token", &dc)
            .header("Idempotency-Key", "reg-1")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "a retried action answers like the first");
    }
    let timeline: Vec<Value> =
        dispatcher.get(d.t.url(&format!("/api/v1/cases/{}/timeline", ids[0]))).send().await.unwrap().json().await.unwrap();
    assert_eq!(timeline.len(), 2, "registered once");
}

#[tokio::test]
async fn reports_arriving_at_once_get_distinct_numbers_in_order() {
    let d = desk().await;
    let (worker, w) = d.t.login("gridworker").await;
    let (lat, lon) = grid_centre(&d.t, GRID).await;
    let body = json!({ "category": "0601", "description": "商户门前摆摊占道", "lat": lat, "lon": lon });
    let mut sending = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let request = worker.post(d.t.url("/api/v1/cases")).header("X-CSRF-Token", &w).json(&body);
        sending.spawn(async move { request.send().await.unwrap() });
    }
    let mut numbers = Vec::new();
    while let Some(r) = sending.join_next().await {
        let r = r.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["case"]["grid"]["code"], GRID, "the view names the grid: {v}");
        assert_eq!(v["case"]["community"]["name"], "开元社区");
        numbers.push(v["case"]["number"].as_str().unwrap().to_string());
    }
    numbers.sort();
    // The demo's own cases were reported on other days; this morning's count from 0001.
    let expected: Vec<String> = (1..=40).map(|n| format!("JY20261130-{n:04}")).collect();
    assert_eq!(numbers, expected, "every report a number of its own, none skipped");
}

#[tokio::test]
async fn page_numbers_far_past_the_end_are_empty_pages_not_errors() {
    // Found by the HTTP fuzz run: the offset overflowed and the worker panicked.
    let d = desk().await;
    let (dispatcher, _) = d.t.login("dispatcher").await;
    let huge = "1844674407370957";
    let list: Vec<Value> =
        get_json(&dispatcher, d.t.url(&format!("/api/v1/cases?page={huge}&per_page=500"))).await.as_array().cloned().unwrap();
    assert!(list.is_empty());
    let r = dispatcher.get(d.t.url(&format!("/api/v1/cases/export.csv?page={huge}"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = dispatcher.get(d.t.url(&format!("/cases?page={huge}"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("问题台账"));
}

#[tokio::test]
async fn overdue_cases_escalate_one_tier_and_warnings_come_first() {
    let d = desk().await;
    let (worker, w) = d.t.login("gridworker").await;
    let (dispatcher, dc) = d.t.login("dispatcher").await;
    // 0601 乱扔垃圾: tier 1 (the grid), 60 min to accept, 120 to fix.
    let id = d.new_case(&worker, &w, "0601").await;
    d.ok(&dispatcher, &dc, &id, "register", json!({})).await;
    let v = d.ok(&dispatcher, &dc, &id, "dispatch", json!({})).await;
    assert_eq!(v["assignee"]["code"], GRID);
    assert_eq!(v["tier"], 1);

    // 100 of 120 minutes used (83 %): yellow, and a warning, but no escalation yet... except
    // acceptance was due after 60 minutes, so the scanner escalates for that.
    d.clock.fetch_add(100 * 60_000, Ordering::SeqCst);
    let report = d.t.app.scan_deadlines().await.unwrap();
    assert_eq!(report.escalated, 1, "{report:?}");
    let v: Value = dispatcher.get(d.t.url(&format!("/api/v1/cases/{id}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["assignee"]["name"], "开元社区", "grid → community");
    assert_eq!(v["tier"], 2);
    assert_eq!(v["escalation_count"], 1);
    let timeline: Vec<Value> = dispatcher.get(d.t.url(&format!("/api/v1/cases/{id}/timeline"))).send().await.unwrap().json().await.unwrap();
    let last = timeline.last().unwrap();
    assert_eq!(last["action"], "escalate");
    assert!(last["actor_id"].is_null(), "the system escalated");

    // The community accepts in time; at 80 % of the handling time the scanner warns.
    // Re-dispatched at 10:40 with 120 working minutes: 80 before lunch, 40 after 13:30.
    // At 13:50, 100 of 120 minutes are used (83 %).
    let (community, cc) = d.t.login("community").await;
    d.ok(&community, &cc, &id, "accept", json!({})).await;
    d.clock.fetch_add(190 * 60_000, Ordering::SeqCst);
    let report = d.t.app.scan_deadlines().await.unwrap();
    assert_eq!((report.warned, report.escalated), (1, 0), "{report:?}");
    let v: Value = dispatcher.get(d.t.url(&format!("/api/v1/cases/{id}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["warning"], "yellow");
    assert_eq!(v["light"], "yellow");
    // Scanning again changes nothing: one warning per level.
    let report = d.t.app.scan_deadlines().await.unwrap();
    assert_eq!((report.warned, report.escalated), (0, 0));
    assert!(d.t.app.rebuild_matches(&id).await.unwrap());
}

#[tokio::test]
async fn stale_and_concurrent_actions_are_refused_without_harm() {
    let d = desk().await;
    let (worker, w) = d.t.login("gridworker").await;
    let (dispatcher, dc) = d.t.login("dispatcher").await;
    let id = d.new_case(&worker, &w, "0401").await;
    // Two dispatchers' clicks at once: exactly one registers.
    let (a, b) = tokio::join!(d.act(&dispatcher, &dc, &id, "register", json!({})), d.act(&dispatcher, &dc, &id, "register", json!({})));
    let mut codes = vec![a.status(), b.status()];
    codes.sort();
    assert_eq!(codes, vec![StatusCode::OK, StatusCode::CONFLICT]);
    // An action based on an old read names the version it saw.
    let r = d.act(&dispatcher, &dc, &id, "dispatch", json!({ "version": 1 })).await;
    assert_error(r, StatusCode::CONFLICT, "stale_version").await;
    let v: Value = dispatcher.get(d.t.url(&format!("/api/v1/cases/{id}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!((v["status"].as_str(), v["version"].as_i64()), (Some("registered"), Some(2)));
}

#[tokio::test]
async fn bad_input_is_a_clear_4xx_and_changes_nothing() {
    let d = desk().await;
    let (worker, w) = d.t.login("gridworker").await;
    let (dispatcher, dc) = d.t.login("dispatcher").await;
    let r = d.report(&worker, &w, "7777", json!({})).await;
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    let r = d.report(&worker, &w, "0401", json!({ "lat": 36.90, "lon": 117.17 })).await;
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "outside_grids").await;
    let r = d.report(&worker, &w, "0401", json!({ "lat": 200.0 })).await;
    assert_error(r, StatusCode::BAD_REQUEST, "invalid_latitude").await;
    let r = d.report(&worker, &w, "0401", json!({ "description": "  " })).await;
    assert_error(r, StatusCode::BAD_REQUEST, "missing_parameter").await;
    let r = worker.post(d.t.url("/api/v1/cases")).header("X-CSRF-Token", &w).body("{").send().await.unwrap();
    assert_error(r, StatusCode::BAD_REQUEST, "bad_request").await;

    let id = d.new_case(&worker, &w, "0401").await;
    let r = d.act(&worker, &w, &id, "register", json!({})).await;
    assert_error(r, StatusCode::FORBIDDEN, "forbidden").await;
    let r = d.act(&dispatcher, &dc, &id, "reject", json!({})).await;
    assert_error(r, StatusCode::BAD_REQUEST, "missing_parameter").await;
    let r = d.act(&dispatcher, &dc, &id, "fly", json!({})).await;
    assert_error(r, StatusCode::NOT_FOUND, "not_found").await;
    let r = d.act(&dispatcher, &dc, &id, "escalate", json!({})).await;
    assert_error(r, StatusCode::CONFLICT, "action_not_allowed").await;
    d.ok(&dispatcher, &dc, &id, "register", json!({})).await;
    let r = d.act(&dispatcher, &dc, &id, "dispatch", json!({ "unit": "ZY01" })).await;
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    let r = d.act(&dispatcher, &dc, &id, "dispatch", json!({ "unit": "NOPE" })).await;
    assert_error(r, StatusCode::NOT_FOUND, "not_found").await;
    let v: Value = dispatcher.get(d.t.url(&format!("/api/v1/cases/{id}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!((v["status"].as_str(), v["version"].as_i64()), (Some("registered"), Some(2)));
    let timeline: Vec<Value> = dispatcher.get(d.t.url(&format!("/api/v1/cases/{id}/timeline"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(timeline.len(), 2, "refused actions leave no trace in the log");

    // Anonymous citizens may report only citizen categories, and see nothing after.
    let (lat, lon) = grid_centre(&d.t, GRID).await;
    let r = client()
        .post(d.t.url("/api/v1/cases"))
        .json(&json!({ "category": "0204", "description": "宣传栏破了", "lat": lat, "lon": lon }))
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    let r = client().get(d.t.url(&format!("/api/v1/cases/{id}"))).send().await.unwrap();
    assert_error(r, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

#[tokio::test]
async fn self_handled_reports_are_verified_by_someone_else() {
    let d = desk().await;
    let (worker, w) = d.t.login("gridworker").await;
    let (inspector, i) = d.t.login("inspector").await;
    let r = d.report(&worker, &w, "0105", json!({ "self_handled": true, "note": "已劝居民收回" })).await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["case"]["status"], "handled", "{v}");
    let id = v["case"]["id"].as_str().unwrap().to_string();
    let r = d.act(&worker, &w, &id, "verify_pass", json!({})).await;
    assert_error(r, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(d.ok(&inspector, &i, &id, "verify_pass", json!({})).await["status"], "closed");
    // Self-handling is for one's own grid only.
    let (lat, lon) = grid_centre(&d.t, "370115001002001").await;
    let r = worker
        .post(d.t.url("/api/v1/cases"))
        .header("X-CSRF-Token", &w)
        .json(&json!({ "category": "0105", "description": "x", "lat": lat, "lon": lon, "self_handled": true }))
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::FORBIDDEN, "forbidden").await;
}

#[tokio::test]
async fn todo_lists_what_waits_for_each_person() {
    let d = desk().await;
    let (worker, w) = d.t.login("gridworker").await;
    let (dispatcher, dc) = d.t.login("dispatcher").await;
    let (handler, _) = d.t.login("handler").await;
    let first = d.new_case(&worker, &w, "0401").await;
    let second = d.new_case(&worker, &w, "0601").await;
    let todo = |c: Client| {
        let url = d.t.url("/api/v1/todo");
        async move { c.get(url).send().await.unwrap().json::<Vec<Value>>().await.unwrap() }
    };
    assert_eq!(todo(dispatcher.clone()).await.len(), 2);
    assert!(todo(handler.clone()).await.is_empty());
    d.ok(&dispatcher, &dc, &first, "register", json!({})).await;
    d.ok(&dispatcher, &dc, &first, "dispatch", json!({})).await;
    let h = todo(handler.clone()).await;
    assert_eq!(h.len(), 1);
    assert_eq!(h[0]["id"], first.as_str());
    assert!(h[0]["actions"].as_array().unwrap().contains(&json!("accept")));
    let mine = todo(dispatcher.clone()).await;
    assert!(mine.iter().all(|c| c["id"] != first.as_str()), "a dispatched case waits for its handler, not the dispatcher");
    assert!(mine.iter().any(|c| c["id"] == second.as_str()));
}

#[tokio::test]
async fn nearby_reports_are_offered_as_duplicates_and_can_be_merged() {
    let d = desk().await;
    let (worker, w) = d.t.login("gridworker").await;
    let (dispatcher, dc) = d.t.login("dispatcher").await;
    let first: Value = d.report(&worker, &w, "0401", json!({})).await.json().await.unwrap();
    assert_eq!(first["possible_duplicates"], json!([]));
    let (lat, lon) = grid_centre(&d.t, GRID).await;
    // About 20 m north of the first.
    let r = d.report(&worker, &w, "0401", json!({ "lat": lat + 0.00018, "lon": lon })).await;
    let second: Value = r.json().await.unwrap();
    let dups = second["possible_duplicates"].as_array().unwrap();
    assert_eq!(dups.len(), 1);
    assert_eq!(dups[0]["id"], first["case"]["id"]);
    assert!(dups[0]["distance_m"].as_f64().unwrap() < 30.0);
    // Another category at the same spot is not a duplicate.
    let third: Value = d.report(&worker, &w, "0601", json!({})).await.json().await.unwrap();
    assert_eq!(third["possible_duplicates"], json!([]));
    let second_id = second["case"]["id"].as_str().unwrap();
    let v = d.ok(&dispatcher, &dc, second_id, "merge", json!({ "original": first["case"]["number"] })).await;
    assert_eq!(v["status"], "merged");
    assert_eq!(v["merged_into"], first["case"]["id"]);
}

#[tokio::test]
async fn personal_data_is_masked_for_every_role_and_shown_in_full_only_on_request_and_logged() {
    let d = desk().await;
    let (dispatcher, dc) = d.t.login("dispatcher").await;
    let (handler, hc) = d.t.login("handler").await;
    let (admin, _) = d.t.login("admin").await;
    let (lat, lon) = grid_centre(&d.t, GRID).await;
    let r = client()
        .post(d.t.url("/api/v1/cases"))
        .json(&json!({ "category": "0401", "description": "门口摆摊", "lat": lat, "lon": lon,
                       "reporter_name": "张三", "reporter_phone": "13812345678" }))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(v["case"]["reporter_phone"], "138****5678", "the citizen's own answer is masked too");
    assert_eq!(v["case"]["source"], "citizen");
    let id = v["case"]["id"].as_str().unwrap();
    let number = v["case"]["number"].as_str().unwrap();
    // A dispatcher sees it masked too, and may ask.
    let seen: Value = dispatcher.get(d.t.url(&format!("/api/v1/cases/{id}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(seen["reporter_phone"], "138****5678");
    assert_eq!(seen["reporter_name"], "张*");
    assert_eq!(seen["may_reveal"], true);
    let reveal = |c: &Client, csrf: &str, reason: &str| {
        c.post(d.t.url("/api/v1/reveal")).header("X-CSRF-Token", csrf).json(&json!({ "record": "case", "id": id, "reason": reason })).send()
    };
    let r = reveal(&dispatcher, &dc, "回访核实").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let shown: Value = r.json().await.unwrap();
    assert_eq!(shown["fields"]["reporter_phone"], "13812345678");
    assert_eq!(shown["fields"]["reporter_name"], "张三");
    assert_eq!(shown["label"], number);
    // A handler has no such need.
    d.ok(&dispatcher, &dc, id, "register", json!({})).await;
    d.ok(&dispatcher, &dc, id, "dispatch", json!({})).await;
    let seen: Value = handler.get(d.t.url(&format!("/api/v1/cases/{id}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(seen["reporter_phone"], "138****5678");
    assert_eq!(seen["may_reveal"], false);
    assert_error(reveal(&handler, &hc, "想看").await.unwrap(), StatusCode::FORBIDDEN, "forbidden").await;

    // Every field shown is in the access log: who, which record, which field, why, from where.
    let log: Vec<Value> = admin.get(d.t.url("/api/v1/access-log?record=case")).send().await.unwrap().json().await.unwrap();
    let fields: Vec<&str> = log.iter().filter(|e| e["record_id"] == id).map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields.len(), 2, "{log:?}");
    assert!(fields.contains(&"reporter_phone") && fields.contains(&"reporter_name"));
    let e = log.iter().find(|e| e["field"] == "reporter_phone").unwrap();
    let me: Value = dispatcher.get(d.t.url("/api/v1/auth/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(e["actor_name"], me["name"], "{e}");
    assert_eq!(e["reason"], "回访核实");
    assert_eq!(e["record_label"], number);
    assert_eq!(e["ip"], "127.0.0.1");
    let r = dispatcher.get(d.t.url("/api/v1/access-log")).send().await.unwrap();
    assert_error(r, StatusCode::FORBIDDEN, "forbidden").await;

    // Exports are masked unless asked for in full, which is logged the same way.
    let (leader, _) = d.t.login("leader").await;
    let masked = leader.get(d.t.url("/api/v1/cases/export.csv")).send().await.unwrap().text().await.unwrap();
    assert!(masked.contains("个人信息已脱敏") && masked.contains("138****5678") && !masked.contains("13812345678"));
    let full = leader.get(d.t.url("/api/v1/cases/export.csv?personal=full&reason=季度回访")).send().await.unwrap().text().await.unwrap();
    assert!(full.contains("含完整个人信息") && full.contains("13812345678"), "{full}");
    let r = handler.get(d.t.url("/api/v1/cases/export.csv?personal=full")).send().await.unwrap();
    assert_error(r, StatusCode::FORBIDDEN, "forbidden").await;
    let log: Vec<Value> = admin.get(d.t.url("/api/v1/access-log?record=case_export")).send().await.unwrap().json().await.unwrap();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["reason"], "季度回访");
    let xlsx = admin.get(d.t.url("/api/v1/access-log/export.xlsx")).send().await.unwrap().bytes().await.unwrap();
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(xlsx.to_vec())).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    assert_eq!(sheet.get((0, 0)).unwrap().to_string(), "个人信息查阅日志");
    assert_eq!(sheet.height(), 3 + 3, "title, notes, header and the three entries");
}

#[tokio::test]
async fn extension_and_suspension_move_the_deadline() {
    let d = desk().await;
    let (worker, w) = d.t.login("gridworker").await;
    let (dispatcher, dc) = d.t.login("dispatcher").await;
    let (handler, h) = d.t.login("handler").await;
    let id = d.new_case(&worker, &w, "0401").await;
    d.ok(&dispatcher, &dc, &id, "register", json!({})).await;
    let v = d.ok(&dispatcher, &dc, &id, "dispatch", json!({})).await;
    let deadline = v["handling_deadline"].as_i64().unwrap();
    d.ok(&handler, &h, &id, "accept", json!({})).await;
    let r = d.act(&handler, &h, &id, "request_extension", json!({ "note": "需要协调" })).await;
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    d.ok(&handler, &h, &id, "request_extension", json!({ "note": "需要协调商户", "minutes": 450 })).await;
    let v = d.ok(&dispatcher, &dc, &id, "approve_extension", json!({})).await;
    // One more working day: Monday 14:30 → Tuesday 14:30.
    assert_eq!(v["handling_deadline"].as_i64().unwrap(), deadline + 24 * 3_600_000);
    assert_eq!(v["extension_count"], 1);
    d.ok(&dispatcher, &dc, &id, "suspend", json!({ "note": "等待规划部门意见" })).await;
    d.clock.fetch_add(2 * 3_600_000, Ordering::SeqCst); // 09:00 → 11:00, two working hours
    let v = d.ok(&dispatcher, &dc, &id, "resume", json!({})).await;
    assert_eq!(v["status"], "in_progress");
    // Tuesday 14:30 + 120 working minutes → 16:30.
    assert_eq!(v["handling_deadline"].as_i64().unwrap(), deadline + 24 * 3_600_000 + 2 * 3_600_000);
    assert!(d.t.app.rebuild_matches(&id).await.unwrap());
}

#[tokio::test]
async fn indicators_count_what_happened() {
    let d = desk().await;
    let (worker, w) = d.t.login("gridworker").await;
    let (dispatcher, dc) = d.t.login("dispatcher").await;
    let (handler, h) = d.t.login("handler").await;
    let new = |cat: &'static str| {
        let (d, worker, w) = (&d, worker.clone(), w.clone());
        async move { d.report(&worker, &w, cat, json!({})).await.json::<Value>().await.unwrap()["case"]["id"].as_str().unwrap().to_string() }
    };
    // A: the full loop, on time, with one rework.
    let a = new("0401").await;
    d.ok(&dispatcher, &dc, &a, "register", json!({})).await;
    d.ok(&dispatcher, &dc, &a, "dispatch", json!({})).await;
    d.ok(&handler, &h, &a, "accept", json!({})).await;
    d.ok(&handler, &h, &a, "handle", json!({ "note": "ok" })).await;
    d.ok(&worker, &w, &a, "verify_fail", json!({ "note": "没改好" })).await;
    d.ok(&handler, &h, &a, "accept", json!({})).await;
    d.ok(&handler, &h, &a, "handle", json!({ "note": "ok" })).await;
    d.ok(&worker, &w, &a, "verify_pass", json!({})).await;
    // B: rejected. C: dispatched, then left to run past its deadline.
    let b = new("0401").await;
    d.ok(&dispatcher, &dc, &b, "reject", json!({ "note": "重复上报" })).await;
    let c = new("0403").await;
    d.ok(&dispatcher, &dc, &c, "register", json!({})).await;
    d.ok(&dispatcher, &dc, &c, "dispatch", json!({ "unit": "BM01" })).await;
    d.clock.fetch_add(8 * 3_600_000, Ordering::SeqCst);

    let (leader, _) = d.t.login("leader").await;
    let r = get_json(&leader, d.t.url("/api/v1/indicators?from=2026-11-30&to=2026-11-30&by=category")).await;
    let t = &r["total"];
    let r_total = t.clone();
    assert_eq!((t["reported"].as_i64(), t["registered"].as_i64(), t["dispatched"].as_i64()), (Some(3), Some(2), Some(2)), "{r}");
    assert_eq!((t["closed"].as_i64(), t["closed_on_time"].as_i64(), t["due_to_close"].as_i64()), (Some(1), Some(1), Some(2)));
    assert_eq!(t["on_time_rate"], 0.5);
    assert_eq!(t["closure_rate"], 0.5);
    assert_eq!(t["rework_rate"], 0.5);
    assert_eq!(t["overdue_now"], 1);
    let groups = r["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0]["code"], "0401");
    assert_eq!(groups[0]["reported"], 2);
    let by_dept = get_json(&leader, d.t.url("/api/v1/indicators?from=2026-11-30&to=2026-11-30&by=department")).await;
    assert_eq!(by_dept["groups"][0]["name"], "城管执法中队");
    assert_eq!(by_dept["groups"][0]["dispatched"], 2);
    // A community admin sees only their community's figures.
    let (community, _) = d.t.login("community").await;
    let r = community.get(d.t.url("/api/v1/indicators?unit=370115001002")).send().await.unwrap();
    assert_error(r, StatusCode::NOT_FOUND, "not_found").await;
    let r = leader.get(d.t.url("/api/v1/indicators?from=2026-12-01&to=2026-11-01")).send().await.unwrap();
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    let r = leader.get(d.t.url("/api/v1/indicators?by=weather")).send().await.unwrap();
    assert_error(r, StatusCode::BAD_REQUEST, "invalid_parameter").await;
    // The counters the figures come from agree with a recount; lost counters are rebuilt.
    assert_eq!(d.t.app.recount_tallies(false).await.unwrap(), 0);
    d.t.app.store().write(|c| c.batch("DELETE FROM case_tallies WHERE category_code = '0401'")).await.unwrap();
    assert!(d.t.app.recount_tallies(false).await.unwrap() > 0, "a lost counter row is noticed");
    assert!(d.t.app.recount_tallies(true).await.unwrap() > 0);
    assert_eq!(d.t.app.recount_tallies(false).await.unwrap(), 0, "and rewritten");
    let again = get_json(&leader, d.t.url("/api/v1/indicators?from=2026-11-30&to=2026-11-30&by=category")).await;
    assert_eq!(again["total"], r_total, "the same figures after the rebuild");
}

#[tokio::test]
async fn a_generated_month_replays_and_adds_up() {
    // Monday evening, so the last day's cases stand at every stage of the loop.
    let (t, _clock) = spawn_demo_at(beijing_ms(2026, 11, 30, 18, 0)).await;
    let n = t.app.seed_demo_cases(30).await.unwrap();
    assert!(n > 800, "a month of a subdistrict's cases: {n}");
    let (leader, _) = t.login("leader").await;
    let r = get_json(&leader, t.url("/api/v1/indicators?from=2026-10-01&to=2026-11-30")).await;
    assert_eq!(r["total"]["reported"].as_u64(), Some(n as u64));
    let sum: i64 = r["groups"].as_array().unwrap().iter().map(|g| g["reported"].as_i64().unwrap()).sum();
    assert_eq!(sum as usize, n, "communities add up to the whole");
    let rate = r["total"]["on_time_rate"].as_f64().unwrap();
    assert!((0.6..0.99).contains(&rate), "a believable on-time rate: {rate}");
    let open: Vec<Value> =
        leader.get(t.url("/api/v1/cases?status=dispatched,in_progress,handled&per_page=500")).send().await.unwrap().json().await.unwrap();
    assert!(!open.is_empty(), "some cases are still being worked on");
    let recent: Vec<Value> = leader.get(t.url("/api/v1/cases?per_page=60")).send().await.unwrap().json().await.unwrap();
    for c in open.iter().chain(recent.iter()) {
        assert!(t.app.rebuild_matches(c["id"].as_str().unwrap()).await.unwrap(), "row = replayed log for {}", c["number"]);
    }
    assert_eq!(t.app.recount_tallies(false).await.unwrap(), 0, "the dashboard counters = a recount from the cases");
}

#[tokio::test]
async fn cases_and_indicators_export_to_excel_and_csv() {
    use calamine::Reader;
    let (t, _clock) = spawn_demo_at(beijing_ms(2026, 11, 30, 18, 0)).await;
    let n = t.app.seed_demo_cases(3).await.unwrap();
    let (leader, _) = t.login("leader").await;
    let r = leader.get(t.url("/api/v1/cases/export.xlsx")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let disposition = r.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.contains("cases-20261130.xlsx"), "{disposition}");
    let bytes = r.bytes().await.unwrap();
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    assert_eq!(sheet.get((0, 0)).unwrap().to_string(), "济阳街道问题清单", "a title row naming the table and unit");
    let notes = sheet.get((1, 0)).unwrap().to_string();
    assert!(notes.contains("导出时间 2026-11-30 18:00") && notes.contains("个人信息已脱敏"), "{notes}");
    assert_eq!(sheet.get((2, 0)).unwrap().to_string(), "案卷编号");
    assert_eq!(sheet.height(), n + 3, "title, notes, header and one row per case");
    assert!(sheet.get((3, 0)).unwrap().to_string().starts_with("JY2026"));

    let csv = leader.get(t.url("/api/v1/cases/export.csv?status=closed")).send().await.unwrap().text().await.unwrap();
    assert!(csv.starts_with('\u{feff}'));
    let header = csv.lines().position(|l| l.starts_with("案卷编号,")).expect("a header line");
    assert!(csv.lines().skip(header + 1).all(|l| l.contains("已结案")), "the filter applies to exports");

    let r = leader.get(t.url("/api/v1/indicators/export.xlsx?by=community&from=2026-11-01&to=2026-11-30")).send().await.unwrap();
    let bytes = r.bytes().await.unwrap();
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    assert!(sheet.get((0, 0)).unwrap().to_string().contains("济阳街道"));
    assert!(sheet.get((1, 0)).unwrap().to_string().contains("2026-11-01 至 2026-11-30"));
    assert_eq!(sheet.get((2, 7)).unwrap().to_string(), "按期结案率");
    assert_eq!(sheet.height(), 3 + 9 + 1, "title, notes, header, nine communities, the total");
    let total_reported: f64 = sheet.get((12, 1)).unwrap().to_string().parse().unwrap();
    assert_eq!(total_reported as usize, n);
    let r = leader.get(t.url("/api/v1/cases/export.pdf")).send().await.unwrap();
    assert_error(r, StatusCode::NOT_FOUND, "not_found").await;
    let r = client().get(t.url("/api/v1/cases/export.xlsx")).send().await.unwrap();
    assert_error(r, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

#[tokio::test]
async fn admins_edit_categories_and_new_deadlines_follow() {
    let d = desk().await;
    let (admin, ac) = d.t.login("admin").await;
    let (dispatcher, dc) = d.t.login("dispatcher").await;
    let cats: Vec<Value> = client().get(d.t.url("/api/v1/categories")).send().await.unwrap().json().await.unwrap();
    let mut cat = cats.iter().find(|c| c["code"] == "0401").unwrap().clone();
    cat["handling_minutes"] = json!(450);
    let r = admin.put(d.t.url("/api/v1/categories/0401")).header("X-CSRF-Token", &ac).json(&cat).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = dispatcher.put(d.t.url("/api/v1/categories/0401")).header("X-CSRF-Token", &dc).json(&cat).send().await.unwrap();
    assert_error(r, StatusCode::FORBIDDEN, "forbidden").await;
    let mut bad = cat.clone();
    bad["tier"] = json!(9);
    let r = admin.put(d.t.url("/api/v1/categories/0401")).header("X-CSRF-Token", &ac).json(&bad).send().await.unwrap();
    assert_error(r, StatusCode::BAD_REQUEST, "bad_request").await;

    let (worker, w) = d.t.login("gridworker").await;
    let id = d.new_case(&worker, &w, "0401").await;
    d.ok(&dispatcher, &dc, &id, "register", json!({})).await;
    let v = d.ok(&dispatcher, &dc, &id, "dispatch", json!({})).await;
    // 450 working minutes from Monday 09:00: 420 are left on Monday, 30 more on Tuesday.
    assert_eq!(v["handling_deadline"], beijing_ms(2026, 12, 1, 9, 0));
}

#[tokio::test]
async fn two_server_instances_scanning_at_once_escalate_a_case_once() {
    let d = desk().await;
    let (worker, w) = d.t.login("gridworker").await;
    let (dispatcher, dc) = d.t.login("dispatcher").await;
    let id = d.new_case(&worker, &w, "0601").await;
    d.ok(&dispatcher, &dc, &id, "register", json!({})).await;
    d.ok(&dispatcher, &dc, &id, "dispatch", json!({})).await;
    d.clock.fetch_add(3 * 3_600_000, Ordering::SeqCst);
    // A second instance on the same database (same data directory or PostgreSQL database).
    let second =
        chuangcheng::App::build_with_clock(d.t.app.config().clone(), chuangcheng::app::Clock::Manual(d.clock.clone())).await.unwrap();
    let (a, b) = tokio::join!(d.t.app.scan_deadlines(), second.scan_deadlines());
    let escalated = a.unwrap().escalated + b.unwrap().escalated;
    assert_eq!(escalated, 1, "only one instance acts on a case");
    let timeline: Vec<Value> = dispatcher.get(d.t.url(&format!("/api/v1/cases/{id}/timeline"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(timeline.iter().filter(|e| e["action"] == "escalate").count(), 1);
}

/// The same figures, numbers equal to a billionth (sums of working minutes may differ in
/// their last bits with the order they were added in).
fn same_figures(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(f64::NAN), y.as_f64().unwrap_or(f64::NAN));
            (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0)
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_figures(x, y)),
        (Value::Object(x), Value::Object(y)) => x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_figures(v, w))),
        _ => a == b,
    }
}

/// A running server keeps recent periods' sums in memory (on SQLite) and follows every
/// change with them; what it answers must be what a server just started on the same data
/// answers, which sums the stored counters afresh.
#[tokio::test]
async fn kept_dashboard_figures_follow_every_change() {
    let d = desk().await;
    d.t.app.seed_demo_cases(3).await.unwrap();
    let (leader, _) = d.t.login("leader").await;
    let (worker, w) = d.t.login("gridworker").await;
    let (dispatcher, dc) = d.t.login("dispatcher").await;
    let (handler, h) = d.t.login("handler").await;
    let pages = [
        "/api/v1/indicators?from=2026-11-01&to=2026-11-30&by=grid",
        "/api/v1/indicators?from=2026-11-28&to=2026-11-30&by=department",
        "/api/v1/indicators?from=2026-11-01&to=2026-11-30&by=category",
    ];
    let read = |base: String| {
        let leader = leader.clone();
        async move {
            let mut figures = Vec::new();
            for p in pages {
                figures.push(get_json(&leader, format!("{base}{p}")).await);
            }
            let html = leader.get(format!("{base}/dashboard")).send().await.unwrap().text().await.unwrap();
            // The page is the same but for its form token.
            let html: Vec<String> = html.lines().filter(|l| !l.contains("csrf")).map(str::to_string).collect();
            (figures, html)
        }
    };
    let check = |step: &'static str| {
        let (d, read) = (&d, &read);
        async move {
            let kept = read(d.t.base.clone()).await;
            let fresh_app = chuangcheng::App::build_with_clock(d.t.app.config().clone(), chuangcheng::app::Clock::Manual(d.clock.clone()))
                .await
                .expect("a second server on the same data");
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base = format!("http://{}", listener.local_addr().unwrap());
            tokio::spawn(async move { chuangcheng::server::serve(fresh_app, listener, std::future::pending()).await });
            let fresh = read(base).await;
            for (i, (k, f)) in kept.0.iter().zip(fresh.0.iter()).enumerate() {
                assert!(same_figures(k, f), "after {step}, {}:\nkept  {k}\nfresh {f}", pages[i]);
            }
            assert_eq!(kept.1, fresh.1, "after {step}, the dashboard page");
            kept.0
        }
    };
    let before = check("nothing").await;
    let a = d.new_case(&worker, &w, "0401").await;
    let after = check("a report").await;
    assert_eq!(after[0]["total"]["reported"].as_i64(), before[0]["total"]["reported"].as_i64().map(|n| n + 1), "the report counts");
    for action in ["register", "dispatch"] {
        d.ok(&dispatcher, &dc, &a, action, json!({})).await;
    }
    d.ok(&handler, &h, &a, "accept", json!({})).await;
    d.ok(&handler, &h, &a, "handle", json!({ "note": "已清理" })).await;
    check("handling").await;
    d.ok(&worker, &w, &a, "verify_pass", json!({})).await;
    let b = d.new_case(&worker, &w, "0403").await;
    d.ok(&dispatcher, &dc, &b, "reject", json!({ "note": "重复上报" })).await;
    let closed = check("a closure and a rejection").await;
    assert_eq!(closed[0]["total"]["closed"].as_i64(), after[0]["total"]["closed"].as_i64().map(|n| n + 1), "the closure counts");
    // A recount rewrites every counter row: what was kept is dropped, and read again.
    assert!(d.t.app.recount_tallies(true).await.unwrap() == 0);
    d.t.app.store().write(|c| c.batch("DELETE FROM case_tallies WHERE category_code = '0401'")).await.unwrap();
    assert!(d.t.app.recount_tallies(true).await.unwrap() > 0);
    check("a recount").await;
    d.clock.fetch_add(26 * 3_600_000, Ordering::SeqCst);
    check("the next day").await;
}
