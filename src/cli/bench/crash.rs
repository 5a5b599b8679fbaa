//! Crash trials: nothing acknowledged is ever lost.
//!
//! The real server (a child process) takes reports from several connections at full speed,
//! each with its own idempotency key, and is killed with SIGKILL at a random moment; then it
//! starts again for the next trial. After the last trial every key ever sent is retried:
//! each acknowledged report must come back as the same case, each key must have exactly one
//! case, every case row must equal the replay of its event log, and the dashboard counters
//! must equal a recount. The integration tests run 20 trials on both backends; `chuangcheng
//! bench --crash-trials 200` runs more on a loaded store.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::Serialize;
use tokio::sync::Mutex;

use super::child::ChildServer;
use super::client::{Connection, request};
use crate::app::App;
use crate::config::Config;
use crate::domain::coords::LatLon;

/// What to run and against which store.
pub struct CrashPlan {
    /// The `chuangcheng` binary.
    pub exe: PathBuf,
    /// Arguments that make it serve the store (`--listen` is added).
    pub serve_args: Vec<String>,
    /// Where the server's log goes (overwritten at each start).
    pub log: PathBuf,
    /// The same store, opened in this process for the checks.
    pub config: Config,
    /// An API token of someone who may report.
    pub token: String,
    /// A point inside a grid, and a category that asks nothing more.
    pub at: LatLon,
    pub category: String,
    pub trials: usize,
    pub writers: usize,
    pub seed: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct CrashFigures {
    pub trials: usize,
    /// Reports sent, each with its own key.
    pub sent: usize,
    /// Reports the server answered 201 before it was killed.
    pub acknowledged: usize,
    /// Acknowledged reports missing (or a different case) after the restarts.
    pub lost: usize,
    /// Cases beyond one per key.
    pub duplicated: usize,
    /// Cases whose row differs from the replay of their log.
    pub replay_mismatches: usize,
    /// Dashboard counter rows that differ from a recount.
    pub counter_mismatches: usize,
    pub seconds: f64,
}

impl CrashFigures {
    pub fn clean(&self) -> bool {
        self.lost == 0 && self.duplicated == 0 && self.replay_mismatches == 0 && self.counter_mismatches == 0
    }
}

fn report(plan: &CrashPlan, key: &str) -> hyper::Request<http_body_util::Full<Bytes>> {
    let body = serde_json::json!({
        "category": plan.category,
        "description": format!("crash {key}"),
        "lat": plan.at.lat,
        "lon": plan.at.lon,
    });
    let auth = format!("Bearer {}", plan.token);
    request(
        "POST",
        "/api/v1/cases",
        &[("content-type", "application/json"), ("authorization", &auth), ("idempotency-key", key)],
        Bytes::from(body.to_string()),
    )
}

/// The case id in a 201 answer.
fn created_id(status: hyper::StatusCode, body: &[u8]) -> Option<String> {
    if status != hyper::StatusCode::CREATED {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    v["case"]["id"].as_str().map(str::to_string)
}

async fn start(plan: &CrashPlan) -> anyhow::Result<ChildServer> {
    let args: Vec<&str> = plan.serve_args.iter().map(String::as_str).collect();
    ChildServer::start(&plan.exe, &args, &plan.log).await
}

/// Runs the trials, then the checks; `progress` hears each finished trial.
pub async fn crash_trials(plan: Arc<CrashPlan>, progress: impl Fn(usize)) -> anyhow::Result<CrashFigures> {
    let started = Instant::now();
    let app = App::build(plan.config.clone()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let before = app.case_count().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let run = uuid::Uuid::now_v7().simple().to_string();
    let mut rng = StdRng::seed_from_u64(plan.seed);
    let sent: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    let acked: Arc<Mutex<Vec<(String, String)>>> = Arc::new(Mutex::new(Vec::new()));
    for trial in 0..plan.trials {
        let mut server = start(&plan).await?;
        let stop = Arc::new(AtomicBool::new(false));
        let mut writers = tokio::task::JoinSet::new();
        for w in 0..plan.writers.max(1) {
            let (plan, sent, acked, stop, addr) = (plan.clone(), sent.clone(), acked.clone(), stop.clone(), server.addr);
            let prefix = format!("crash-{run}-t{trial}-w{w}");
            writers.spawn(async move {
                let Ok(mut conn) = Connection::open(addr).await else { return };
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let key = format!("{prefix}-{n}");
                    sent.lock().await.push(key.clone());
                    match conn.send(report(&plan, &key)).await {
                        Ok((status, body)) => match created_id(status, &body) {
                            Some(id) => acked.lock().await.push((key, id)),
                            None => break,
                        },
                        Err(_) => break, // the server is gone
                    }
                }
            });
        }
        tokio::time::sleep(Duration::from_millis(rng.random_range(150..700))).await;
        // SIGKILL: no shutdown, no flush.
        server.child.kill().context("cannot kill the server")?;
        let _ = server.child.wait();
        stop.store(true, Ordering::Relaxed);
        while writers.join_next().await.is_some() {}
        progress(trial + 1);
    }
    let sent = sent.lock().await.clone();
    let acked = acked.lock().await.clone();

    // Every key once more, after the last kill: acknowledged ones must find their case, the
    // others create theirs now, so each key ends with exactly one case.
    let server = start(&plan).await?;
    let by_key: Arc<Mutex<HashMap<String, String>>> = Arc::new(Mutex::new(HashMap::new()));
    let mut retries = tokio::task::JoinSet::new();
    let chunk = sent.len().div_ceil(plan.writers.max(1)).max(1);
    for keys in sent.chunks(chunk) {
        let (plan, by_key, addr, keys) = (plan.clone(), by_key.clone(), server.addr, keys.to_vec());
        retries.spawn(async move {
            let mut conn = Connection::open(addr).await?;
            for key in keys {
                let (status, body) = conn.send(report(&plan, &key)).await?;
                let Some(id) = created_id(status, &body) else {
                    bail!("retrying {key} answered {status}: {}", String::from_utf8_lossy(&body));
                };
                by_key.lock().await.insert(key, id);
            }
            Ok(())
        });
    }
    while let Some(done) = retries.join_next().await {
        done??;
    }
    drop(server);
    let by_key = by_key.lock().await.clone();

    let lost = acked.iter().filter(|(key, id)| by_key.get(key) != Some(id)).count();
    let after = app.case_count().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let duplicated = ((after - before) as usize).saturating_sub(sent.len());
    let mut replay_mismatches = 0;
    for id in by_key.values() {
        if !app.rebuild_matches(id).await.map_err(|e| anyhow::anyhow!("{e}"))? {
            replay_mismatches += 1;
        }
    }
    let counter_mismatches = app.recount_tallies(false).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(CrashFigures {
        trials: plan.trials,
        sent: sent.len(),
        acknowledged: acked.len(),
        lost,
        duplicated,
        replay_mismatches,
        counter_mismatches,
        seconds: started.elapsed().as_secs_f64(),
    })
}
