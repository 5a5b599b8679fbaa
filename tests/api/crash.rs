//! Nothing acknowledged is ever lost: the real server is killed with SIGKILL while cases pour
//! in, restarted, and every acknowledged case must be there; every request retried with its
//! idempotency key must find its one case; every row must equal the replay of its log; the
//! dashboard counters must equal a recount. The trials are the benchmark's
//! (`chuangcheng bench --crash-trials N`), run here 20 times on the backend under test.

use std::sync::Arc;

use chuangcheng::cli::bench::crash::{CrashPlan, crash_trials};
use chuangcheng::domain::coords::LatLon;

use crate::helpers::*;

const TRIALS: usize = 20;

#[tokio::test]
async fn killed_mid_write_loses_nothing_acknowledged() {
    let t = spawn_demo().await;
    let token = {
        let person = t.app.store().read(|c| chuangcheng::store::people::credentials(c, "gridworker")).await.unwrap().unwrap();
        t.app.create_api_token(&chuangcheng::domain::authz::Actor::console(), &person.person_id, "crash test").await.unwrap()
    };
    let (lat, lon) = grid_centre(&t, "370115001001001").await;
    let mut serve_args = vec!["serve".to_string(), "--data".into(), t.dir.path().display().to_string()];
    if let Some(url) = &t.app.config().database_url {
        serve_args.extend(["--database-url".to_string(), url.expose().to_string()]);
    }
    let plan = CrashPlan {
        exe: env!("CARGO_BIN_EXE_chuangcheng").into(),
        serve_args,
        log: t.dir.path().join("crash.log"),
        config: t.app.config().clone(),
        token,
        at: LatLon { lat, lon },
        category: "0601".into(),
        trials: TRIALS,
        writers: 16,
        seed: 42,
    };
    let f = crash_trials(Arc::new(plan), |_| {}).await.unwrap();
    assert_eq!(f.trials, TRIALS);
    assert!(f.acknowledged >= TRIALS, "the writers got work done: {f:?}");
    assert!(f.sent >= f.acknowledged);
    assert_eq!(f.lost, 0, "every acknowledged case survived as the same case: {f:?}");
    assert_eq!(f.duplicated, 0, "one case per key, never two: {f:?}");
    assert_eq!(f.replay_mismatches, 0, "every row = its replayed log: {f:?}");
    assert_eq!(f.counter_mismatches, 0, "counters = recount: {f:?}");
    assert!(f.clean());
}
