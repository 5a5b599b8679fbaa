//! Nothing acknowledged is ever lost: the real server is killed with SIGKILL while cases pour
//! in, restarted, and every acknowledged case must be there; every request retried with its
//! idempotency key must find its one case; every row must equal the replay of its log.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rand::{RngExt, SeedableRng};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::helpers::*;

const TRIALS: usize = 20;
const WRITERS: usize = 16;

struct Server {
    child: Child,
    base: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn start(t: &TestApp) -> Server {
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_chuangcheng"));
    cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}")]).arg("--data").arg(t.dir.path());
    if let Some(url) = &t.app.config().database_url {
        cmd.arg("--database-url").arg(url.expose());
    }
    let child = cmd.env("RUST_LOG", "error").stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if client().get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status() == StatusCode::OK) {
            return Server { child, base };
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the server did not come up");
}

#[tokio::test]
async fn killed_mid_write_loses_nothing_acknowledged() {
    let t = spawn_demo().await;
    let token = {
        let person = t.app.store().read(|c| chuangcheng::store::people::credentials(c, "gridworker")).await.unwrap().unwrap();
        t.app.create_api_token(&person.person_id, "crash test").await.unwrap()
    };
    let (lat, lon) = grid_centre(&t, "370115001001001").await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    // key → case id, for every acknowledged creation; and every key ever sent.
    let acked: Arc<Mutex<Vec<(String, String)>>> = Arc::new(Mutex::new(Vec::new()));
    let sent: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    for trial in 0..TRIALS {
        let mut server = start(&t).await;
        let stop = Arc::new(AtomicBool::new(false));
        let mut writers = Vec::new();
        for w in 0..WRITERS {
            let (base, token, acked, sent, stop) = (server.base.clone(), token.clone(), acked.clone(), sent.clone(), stop.clone());
            writers.push(tokio::spawn(async move {
                let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let key = format!("t{trial}-w{w}-{n}");
                    sent.lock().await.push(key.clone());
                    let r = http
                        .post(format!("{base}/api/v1/cases"))
                        .bearer_auth(&token)
                        .header("Idempotency-Key", &key)
                        .json(&json!({ "category": "0601", "description": format!("crash {key}"), "lat": lat, "lon": lon }))
                        .send()
                        .await;
                    match r {
                        Ok(r) if r.status() == StatusCode::CREATED => {
                            if let Ok(v) = r.json::<Value>().await {
                                acked.lock().await.push((key, v["case"]["id"].as_str().unwrap_or("").to_string()));
                            }
                        }
                        _ => break, // the server is gone
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(rng.random_range(150..700))).await;
        server.child.kill().unwrap(); // SIGKILL: no shutdown, no flush
        let _ = server.child.wait();
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            let _ = w.await;
        }
    }
    let acked = acked.lock().await.clone();
    let sent = sent.lock().await.clone();
    assert!(acked.len() >= TRIALS, "the writers got work done: {}", acked.len());

    // After the last kill: every acknowledged case is there; every key, retried, finds one case.
    let server = start(&t).await;
    let http = reqwest::Client::new();
    let mut by_key = std::collections::HashMap::new();
    for key in &sent {
        let r = http
            .post(format!("{}/api/v1/cases", server.base))
            .bearer_auth(&token)
            .header("Idempotency-Key", key)
            .json(&json!({ "category": "0601", "description": format!("crash {key}"), "lat": lat, "lon": lon }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.unwrap();
        by_key.insert(key.clone(), v["case"]["id"].as_str().unwrap().to_string());
    }
    for (key, id) in &acked {
        assert_eq!(by_key.get(key), Some(id), "acknowledged case for {key} survived and is the same case");
    }
    let mut server = server;
    server.child.kill().unwrap();
    let _ = server.child.wait();
    // Exactly once: as many cases as keys, and every row is its replayed log.
    let app = chuangcheng::App::build(t.app.config().clone()).await.unwrap();
    let all = app
        .store()
        .read(|c| chuangcheng::store::cases::list_cases(c, &chuangcheng::store::cases::CaseFilter { limit: 1_000_000, ..Default::default() }))
        .await
        .unwrap();
    let crash_cases: Vec<_> = all.iter().filter(|c| c.details.description.starts_with("crash ")).collect();
    assert_eq!(crash_cases.len(), sent.len(), "one case per key, never two");
    for c in crash_cases {
        assert!(app.rebuild_matches(&c.details.id).await.unwrap(), "row = replayed log for {}", c.details.number);
    }
    // Case numbers are unique (the per-day counter never handed one out twice).
    let mut numbers: Vec<&str> = all.iter().map(|c| c.details.number.as_str()).collect();
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(numbers.len(), all.len());
    // The dashboard counters agree with a recount from the cases.
    assert_eq!(app.recount_tallies(false).await.unwrap(), 0, "counters = recount");
}
