//! 志愿服务 through the real server: the registry imported (all rows or none, ID numbers
//! checked), an activity's sign-up list with its limits and waiting list, check-in and
//! check-out by the rotating code with every kind of bad code refused, hours by the coverage
//! and clipping rules, hand records capped, confirmation, a correction asked and decided,
//! star levels, and a certificate whose Word document carries every field and whose public
//! check tells a real one from a forged one.

use chuangcheng::domain::calendar::beijing_ms;
use chuangcheng::domain::volunteer::id_check_char;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

const HEAD: &str = "姓名,手机,身份证号,所属队伍,政治面貌,党员驿站,技能";

fn id_number(body17: &str) -> String {
    let digits: Vec<u32> = body17.chars().filter_map(|c| c.to_digit(10)).collect();
    format!("{body17}{}", id_check_char(&digits).unwrap())
}

/// A valid ID number with its check character changed.
fn wrong_check(body17: &str) -> String {
    let good = id_number(body17);
    let last = if good.ends_with('0') { '1' } else { '0' };
    format!("{body17}{last}")
}

/// A JSON POST; the request is built at once, so the future borrows nothing.
fn post(c: &reqwest::Client, csrf: &str, url: String, body: Value) -> impl std::future::Future<Output = reqwest::Response> + use<> {
    let request = c.post(url).header("X-CSRF-Token", csrf).json(&body);
    async move { request.send().await.unwrap() }
}

async fn message_of(r: reqwest::Response, status: StatusCode) -> String {
    let e = assert_error(r, status, "invalid_value").await;
    e["message"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn an_activity_from_sign_up_to_a_verified_certificate() {
    // Saturday 2026-12-05, 07:00 in Jiyang.
    let (t, clock) = spawn_demo_at(beijing_ms(2026, 12, 5, 7, 0)).await;
    let at = |h: u32, m: u32| beijing_ms(2026, 12, 5, h, m);
    let (lat, lon) = grid_centre(&t, "370115001001001").await;
    let (admin, acs) = t.login("admin").await;
    let (leader, lcs) = t.login("teamleader").await;
    // Stars at 1, 2, 3, 4 and 5 hours, so a morning reaches one.
    let r = admin
        .put(t.url("/api/v1/volunteers/hours-rules"))
        .header("X-CSRF-Token", &acs)
        .json(&json!({ "coverage": 0.6, "stars": [1, 2, 3, 4, 5], "tolerance_m": 300.0 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = admin
        .put(t.url("/api/v1/volunteers/hours-rules"))
        .header("X-CSRF-Token", &acs)
        .json(&json!({ "coverage": 0.6, "stars": [5, 2, 3, 4, 5], "tolerance_m": 300.0 }))
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;

    // The registry: a bad sheet names every row and imports nothing.
    let import = |csv: String| {
        let (c, csrf, url) = (leader.clone(), lcs.clone(), t.url("/api/v1/volunteers/import"));
        async move {
            let form =
                reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("志愿者.csv"));
            c.post(url).header("X-CSRF-Token", csrf).multipart(form).send().await.unwrap()
        }
    };
    let team = "“向阳花开”志愿服务队";
    let bad = format!(
        "{HEAD}\n王秀兰,13700000001,{},{team},群众,,理发\n李建华,13700000002,{},不存在的队,中共党员,,\n张海燕,手机,{},{team},群众,,\n",
        wrong_check("37012519600101001"),
        id_number("37012519700202002"),
        id_number("37012519800303003"),
    );
    let e = assert_error(import(bad).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_file").await;
    let rows: Vec<i64> = e["problems"].as_array().unwrap().iter().map(|p| p["row"].as_i64().unwrap()).collect();
    assert_eq!(rows, [2, 3, 4], "{e}");
    let text = e.to_string();
    for says in ["GB 11643", "不存在的队", "手机号"] {
        assert!(text.contains(says), "the problems say {says}: {text}");
    }
    assert_eq!(get_json(&leader, t.url("/api/v1/volunteers")).await.as_array().unwrap().len(), 0, "nothing half-imported");
    let good = format!(
        "{HEAD}\n王秀兰,13700000001,{},{team},群众,,理发、缝补\n李建华,13700000002,{},{team},中共党员,“678”党员驿站,义诊\n张海燕,13700000003,{},{team},共青团员,,\n",
        id_number("37012519600101001"),
        id_number("37012519700202002"),
        id_number("37012519800303003"),
    );
    let r = import(good.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    // The same people again: their ID numbers are taken.
    let e = assert_error(import(good).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_file").await;
    assert!(e.to_string().contains("已经登记过"), "{e}");
    let list = get_json(&leader, t.url("/api/v1/volunteers")).await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 3);
    let wang = list.iter().find(|v| v["name"] == "王秀兰").unwrap().clone();
    assert_eq!(wang["phone"], "137****0001", "masked: {wang}");
    assert!(wang["id_number"].as_str().unwrap().contains("*****"), "masked: {wang}");
    let li = list.iter().find(|v| v["name"] == "李建华").unwrap().clone();
    assert_eq!(li["party_member"], true);
    assert_eq!(li["station_name"], "“678”党员驿站");
    // Each logs in by their volunteer number once given a password.
    let mut phones = Vec::new();
    for v in [&wang, &li, list.iter().find(|v| v["name"] == "张海燕").unwrap()] {
        let number = v["number"].as_str().unwrap();
        t.app.set_password(&chuangcheng::domain::authz::Actor::console(), number, PASSWORD).await.unwrap();
        phones.push(t.login(number).await);
    }
    let [(v1, c1), (v2, c2), (v3, c3)] = <[(reqwest::Client, String); 3]>::try_from(phones).unwrap();

    // An activity: 09:00–11:00, two places, sign-up until 09:00.
    let activity = |title: &str, starts: &str, ends: &str, capacity: i64| {
        json!({ "title": title, "kind": "文明劝导", "team": team, "place": "开元广场", "lat": lat, "lon": lon,
                "starts": starts, "ends": ends, "capacity": capacity, "services": ["文明劝导"], "public": true })
    };
    let r = post(&leader, &lcs, t.url("/api/v1/activities"), activity("倒着的", "2026-12-05 11:00", "2026-12-05 09:00", 2)).await;
    assert!(message_of(r, StatusCode::UNPROCESSABLE_ENTITY).await.contains("结束须晚于开始"));
    let mut far = activity("远方", "2026-12-05 09:00", "2026-12-05 11:00", 2);
    far["lat"] = json!(30.0);
    let r = post(&leader, &lcs, t.url("/api/v1/activities"), far).await;
    assert!(message_of(r, StatusCode::UNPROCESSABLE_ENTITY).await.contains("网格"));
    let r = post(&v1, &c1, t.url("/api/v1/activities"), activity("志愿者发", "2026-12-05 09:00", "2026-12-05 11:00", 2)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "a volunteer does not organise");
    let r = post(&leader, &lcs, t.url("/api/v1/activities"), activity("开元广场文明劝导", "2026-12-05 09:00", "2026-12-05 11:00", 2)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let a: Value = r.json().await.unwrap();
    let id = a["id"].as_str().unwrap().to_string();
    let other: Value =
        post(&leader, &lcs, t.url("/api/v1/activities"), activity("同时段的另一场", "2026-12-05 10:00", "2026-12-05 12:00", 5))
            .await
            .json()
            .await
            .unwrap();
    let other_id = other["id"].as_str().unwrap().to_string();

    // Sign-up: two places, the third waits; a cancellation moves the wait up.
    let signup = |c: &reqwest::Client, csrf: &str, id: &str| post(c, csrf, t.url(&format!("/api/v1/activities/{id}/signup")), json!({}));
    let s1: Value = signup(&v1, &c1, &id).await.json().await.unwrap();
    assert_eq!(s1["mine"], "signed");
    let s2: Value = signup(&v2, &c2, &id).await.json().await.unwrap();
    assert_eq!(s2["mine"], "signed");
    let s3: Value = signup(&v3, &c3, &id).await.json().await.unwrap();
    assert_eq!(s3["mine"], "waiting", "{s3}");
    let r = signup(&v2, &c2, &other_id).await;
    assert!(message_of(r, StatusCode::UNPROCESSABLE_ENTITY).await.contains("时间重叠"));
    let r = v1.delete(t.url(&format!("/api/v1/activities/{id}/signup"))).header("X-CSRF-Token", &c1).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let seen = get_json(&leader, t.url(&format!("/api/v1/activities/{id}"))).await;
    assert_eq!(seen["signed"], 2);
    let states: Vec<(String, String)> = seen["signups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap().to_string(), s["state"].as_str().unwrap().to_string()))
        .collect();
    assert!(states.contains(&("张**".into(), "signed".into())), "the waiting volunteer moved up: {states:?}");
    assert!(states.contains(&("王**".into(), "cancelled".into())), "{states:?}");
    // After the closing time nobody signs up.
    clock.store(at(9, 0), std::sync::atomic::Ordering::SeqCst);
    let r = signup(&v1, &c1, &id).await;
    assert!(message_of(r, StatusCode::UNPROCESSABLE_ENTITY).await.contains("报名已截止"));

    // Check-in by the organiser's code.
    let code_of = |id: String| {
        let c = leader.clone();
        let url = t.url(&format!("/api/v1/activities/{id}/code"));
        async move { get_json(&c, url).await["code"].as_str().unwrap().to_string() }
    };
    let r = v2.get(t.url(&format!("/api/v1/activities/{id}/code"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "only the organiser shows the code");
    let code = code_of(id.clone()).await;
    let scan = |c: &reqwest::Client, csrf: &str, code: &str, place: Option<(f64, f64)>, out: Option<bool>| {
        let mut body = json!({ "code": code });
        if let Some((la, lo)) = place {
            body["lat"] = json!(la);
            body["lon"] = json!(lo);
        }
        if let Some(o) = out {
            body["check_out"] = json!(o);
        }
        post(c, csrf, t.url(&format!("/api/v1/activities/{id}/scan")), body)
    };
    let here = Some((lat, lon));
    let forged = format!("{}0", &code[..code.len() - 1]);
    let forged = if forged == code { format!("{}1", &code[..code.len() - 1]) } else { forged };
    assert!(message_of(scan(&v2, &c2, &forged, here, None).await, StatusCode::UNPROCESSABLE_ENTITY).await.contains("签到码无效"));
    assert!(message_of(scan(&v2, &c2, "rubbish", here, None).await, StatusCode::UNPROCESSABLE_ENTITY).await.contains("签到码无效"));
    let other_code = code_of(other_id.clone()).await;
    assert!(message_of(scan(&v2, &c2, &other_code, here, None).await, StatusCode::UNPROCESSABLE_ENTITY).await.contains("另一个活动"));
    assert!(message_of(scan(&v2, &c2, &code, None, None).await, StatusCode::UNPROCESSABLE_ENTITY).await.contains("定位"));
    assert!(
        message_of(scan(&v2, &c2, &code, Some((lat + 0.01, lon)), None).await, StatusCode::UNPROCESSABLE_ENTITY).await.contains("太远")
    );
    assert!(message_of(scan(&v3, &c3, &code, here, Some(true)).await, StatusCode::UNPROCESSABLE_ENTITY).await.contains("尚未签到"));
    let r = scan(&v2, &c2, &code, here, None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let att: Value = r.json().await.unwrap();
    assert_eq!(att["state"], "present");
    assert!(message_of(scan(&v2, &c2, &code, here, Some(false)).await, StatusCode::UNPROCESSABLE_ENTITY).await.contains("已签到"));
    // The code checked in with cannot check out (a screenshot passed on).
    assert!(message_of(scan(&v2, &c2, &code, here, None).await, StatusCode::UNPROCESSABLE_ENTITY).await.contains("签退请扫描新的"));
    // A minute later the code has expired.
    clock.store(at(9, 1) + 5_000, std::sync::atomic::Ordering::SeqCst);
    assert!(message_of(scan(&v3, &c3, &code, here, None).await, StatusCode::UNPROCESSABLE_ENTITY).await.contains("已过期"));
    // 张 arrives late (10:30) and leaves at 10:50: under 60 % of the activity, no hours.
    clock.store(at(10, 30), std::sync::atomic::Ordering::SeqCst);
    let code = code_of(id.clone()).await;
    let r = scan(&v3, &c3, &code, here, None).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    // 李 checks out at 10:30: 90 of 120 minutes, 75 %, counted.
    let out: Value = scan(&v2, &c2, &code, here, None).await.json().await.unwrap();
    assert_eq!((out["state"].as_str(), out["minutes"].as_i64()), (Some("pending"), Some(90)), "{out}");
    clock.store(at(10, 50), std::sync::atomic::Ordering::SeqCst);
    let code = code_of(id.clone()).await;
    let out3: Value = scan(&v3, &c3, &code, here, None).await.json().await.unwrap();
    assert_eq!(out3["minutes"], 0, "20 minutes of 120 is under the coverage rule: {out3}");
    assert!(message_of(scan(&v3, &c3, &code, here, None).await, StatusCode::UNPROCESSABLE_ENTITY).await.contains("已签退"));

    // 王 cancelled but came: the organiser records by hand, never more than the activity.
    let wang_id = wang["id"].as_str().unwrap();
    let r = post(&leader, &lcs, t.url(&format!("/api/v1/activities/{id}/attendance")), json!({ "volunteer_id": wang_id, "minutes": 150 }))
        .await;
    assert!(message_of(r, StatusCode::UNPROCESSABLE_ENTITY).await.contains("超过活动本身"));
    let r = post(
        &leader,
        &lcs,
        t.url(&format!("/api/v1/activities/{id}/attendance")),
        json!({ "volunteer_id": wang_id, "minutes": 60, "note": "手机无法定位" }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    // Nothing counts before the organiser confirms.
    assert_eq!(get_json(&v2, t.url("/api/v1/volunteer/me")).await["total_hours"], "0");
    let r = post(&leader, &lcs, t.url(&format!("/api/v1/activities/{id}/confirm")), json!({})).await;
    assert_eq!(r.json::<Value>().await.unwrap()["decided"], 3);
    let me = get_json(&v2, t.url("/api/v1/volunteer/me")).await;
    assert_eq!((me["total_hours"].as_str(), me["star"].as_i64()), (Some("1.5"), Some(1)), "{me}");

    // 李 asks for the two hours they served; the organiser agrees; both are kept.
    let att_id = me["entries"][0]["id"].as_str().unwrap().to_string();
    let r = post(&v2, &c2, t.url(&format!("/api/v1/attendances/{att_id}/corrections")), json!({ "minutes": 150, "reason": "多" })).await;
    assert!(message_of(r, StatusCode::UNPROCESSABLE_ENTITY).await.contains("更正理由"));
    let r =
        post(&v2, &c2, t.url(&format!("/api/v1/attendances/{att_id}/corrections")), json!({ "minutes": 121, "reason": "提前到场布置" }))
            .await;
    assert!(message_of(r, StatusCode::UNPROCESSABLE_ENTITY).await.contains("超过活动本身"));
    let r =
        post(&v2, &c2, t.url(&format!("/api/v1/attendances/{att_id}/corrections")), json!({ "minutes": 120, "reason": "提前到场布置" }))
            .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let corr: Value = r.json().await.unwrap();
    let r =
        post(&v2, &c2, t.url(&format!("/api/v1/attendances/{att_id}/corrections")), json!({ "minutes": 110, "reason": "再问一次" })).await;
    assert!(message_of(r, StatusCode::UNPROCESSABLE_ENTITY).await.contains("待处理"));
    let corr_id = corr["id"].as_str().unwrap();
    let r = post(&v2, &c2, t.url(&format!("/api/v1/corrections/{corr_id}/decision")), json!({ "accept": true })).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "the volunteer does not decide their own");
    let r =
        post(&leader, &lcs, t.url(&format!("/api/v1/corrections/{corr_id}/decision")), json!({ "accept": true, "answer": "属实" })).await;
    assert_eq!(r.json::<Value>().await.unwrap()["decision"], "accepted");
    let r = post(&leader, &lcs, t.url(&format!("/api/v1/corrections/{corr_id}/decision")), json!({ "accept": false })).await;
    assert!(message_of(r, StatusCode::UNPROCESSABLE_ENTITY).await.contains("已处理"));
    let me = get_json(&v2, t.url("/api/v1/volunteer/me")).await;
    assert_eq!((me["total_hours"].as_str(), me["star"].as_i64()), (Some("2"), Some(2)), "{me}");
    assert_eq!(me["stars"].as_array().unwrap().len(), 2, "each star with the date it was reached: {me}");
    assert_eq!(me["entries"][0]["corrections"][0]["reason"], "提前到场布置");

    // The certificate: every field the rules ask for, in the document and its public check.
    let li_id = li["id"].as_str().unwrap();
    let r = post(
        &leader,
        &lcs,
        t.url(&format!("/api/v1/volunteers/{li_id}/certificates")),
        json!({ "person_in_charge": "刘芳", "contact": "电话" }),
    )
    .await;
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    let r = post(
        &leader,
        &lcs,
        t.url(&format!("/api/v1/volunteers/{li_id}/certificates")),
        json!({ "person_in_charge": "刘芳", "contact": "0531-84212345" }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let cert: Value = r.json().await.unwrap();
    assert_eq!(cert["number"], "志证〔2026〕00001号");
    let content = &cert["content"];
    assert_eq!(content["name"], "李建华");
    assert_eq!(content["id_number"], id_number("37012519700202002"));
    assert_eq!(content["total_hours"], "2");
    assert_eq!(content["services"][0]["activity"], "开元广场文明劝导");
    assert_eq!(content["person_in_charge"], "刘芳");
    let cert_id = cert["id"].as_str().unwrap();
    let docx = leader.get(t.url(&format!("/api/v1/certificates/{cert_id}/certificate.docx"))).send().await.unwrap();
    assert_eq!(docx.status(), StatusCode::OK);
    let bytes = docx.bytes().await.unwrap();
    let (text, pictures) = crate::bulletins::docx_text(&bytes);
    let text = text.replace('\n', "");
    for field in [
        "志愿服务证明",
        "志证〔2026〕00001号",
        "李建华",
        "居民身份证",
        &id_number("37012519700202002"),
        li["number"].as_str().unwrap(),
        "2 小时",
        "负责人:刘芳",
        "经办人",
        "0531-84212345",
        "2026年12月5日",
        cert["check"].as_str().unwrap(),
    ] {
        assert!(text.contains(field), "the certificate carries {field}: {text}");
    }
    assert_eq!(pictures, 1, "the QR code is in it");
    // Anyone can check it; the wrong check code, or none, is not found.
    let url = cert["verify_url"].as_str().unwrap();
    assert!(url.contains(&format!("/verify/{cert_id}?k=")), "{url}");
    let k = url.split("k=").nth(1).unwrap();
    let public = get_json(&client(), t.url(&format!("/api/v1/public/certificates/{cert_id}?k={k}"))).await;
    assert_eq!((public["genuine"].as_bool(), public["content"]["name"].as_str()), (Some(true), Some("李**")), "{public}");
    assert!(public["content"]["id_number"].as_str().unwrap().contains('*'));
    let r = client().get(t.url(&format!("/api/v1/public/certificates/{cert_id}?k=000000000000"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let page = t.get(&format!("/verify/{cert_id}?k={k}")).await.text().await.unwrap();
    assert!(page.contains("真实有效") && page.contains("志证〔2026〕00001号"), "{page}");
    // Another volunteer does not see 李's ledger or certificate.
    let r = v1.get(t.url(&format!("/api/v1/volunteers/{li_id}/ledger"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = v1.get(t.url(&format!("/api/v1/certificates/{cert_id}"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // The public calendar lists the public activity, with no names.
    let cal = get_json(&client(), t.url("/api/v1/public/activities?from=2026-12-01&to=2026-12-31")).await;
    let titles: Vec<&str> = cal.as_array().unwrap().iter().filter_map(|a| a["title"].as_str()).collect();
    assert!(titles.contains(&"开元广场文明劝导"), "{titles:?}");
    assert!(cal[0]["signups"].as_array().unwrap().is_empty());
    let _ = (v3, c3, c1);
}
