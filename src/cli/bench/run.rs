//! `chuangcheng bench`: the whole server measured against ceilings taken in the same run.
//!
//! 1. Ceilings: a bare echo server and a bare durable-intake server on the same HTTP stack
//!    (child processes), and a bare batched insert of the same rows into a scratch file.
//! 2. Load: the demo subdistrict plus N generated cases (a progress bar shows the rate).
//! 3. The real server (`chuangcheng serve`, a child process) driven over loopback with 64
//!    connections, endpoint by endpoint; its peak RSS read from /proc.
//! 4. Locate on the in-memory index at city scale, in-process.
//!
//! A table is printed at the end; `--json FILE` writes the same figures.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use rand::RngExt;
use rand::rngs::StdRng;
use serde::Serialize;

use super::child::ChildServer;
use super::client::{MakeRequest, Sample, drive, request};
use super::crash::{CrashFigures, CrashPlan, crash_trials};
use crate::app::App;
use crate::config::{Config, ConfigLayer, Secret};
use crate::domain::coords::LatLon;
use crate::domain::org::OrgKind;

#[derive(clap::Args, Clone)]
pub struct RunArgs {
    /// Cases to load before measuring (10000000 for the full run).
    #[arg(long, default_value_t = 1_000_000)]
    pub cases: usize,
    /// Days the loaded cases are spread over, ending today.
    #[arg(long, default_value_t = 365)]
    pub days: i64,
    /// Seconds to drive each endpoint.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Concurrent connections.
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// Grids of the generated city for the locate measurement.
    #[arg(long, default_value_t = 100_000)]
    pub grids: usize,
    /// Also write the figures as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Working directory (default: a new one under the system's temp directory). When it
    /// already holds a loaded store, loading is skipped and that store is measured again.
    #[arg(long)]
    pub work: Option<PathBuf>,
    /// Keep the working directory (and a PostgreSQL bench database) afterwards.
    #[arg(long)]
    pub keep: bool,
    /// Only these measurements (comma-separated): echo, intake, create, open311, desk,
    /// dashboard, grids, locate, export, rankings, shortfall, inspect, bulletin, merchants,
    /// volunteers.
    /// Default: all.
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Inspections to load (a year of them, in weekly rounds) for the rankings and the
    /// shortfall list; 100000 a year is about 3 M item results.
    #[arg(long, default_value_t = 100_000)]
    pub inspections: usize,
    /// Inspection points to spread over the grids for them.
    #[arg(long, default_value_t = 2_000)]
    pub points: usize,
    /// After the measurements: kill the server with SIGKILL this many times while reports
    /// pour in, then check that nothing acknowledged was lost (see `bench::crash`).
    #[arg(long, default_value_t = 0)]
    pub crash_trials: usize,
    /// Shops to import for the 门前五包 rows (each checked twice over last month).
    #[arg(long, default_value_t = 200_000)]
    pub merchants: usize,
    /// Volunteers to import for the 志愿服务 rows (2,000 of them check in at one fair).
    #[arg(long, default_value_t = 500_000)]
    pub volunteers: usize,
}

impl RunArgs {
    fn wants(&self, key: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| o == key)
    }
}

#[derive(Debug, Serialize)]
pub struct Measured {
    pub name: String,
    #[serde(flatten)]
    pub sample: Sample,
    /// The ceiling this is compared with, and the ratio to it.
    pub ceiling: Option<String>,
    pub ratio: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct LoadFigures {
    pub cases: usize,
    pub seconds: f64,
    pub per_second: f64,
    pub bare_batch_per_second: f64,
    pub ratio: f64,
    pub reused: bool,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub backend: String,
    pub cores: usize,
    pub connections: usize,
    pub seconds_each: f64,
    pub cases_in_store: i64,
    pub load: LoadFigures,
    pub inspection_load: Option<InspectionLoadFigures>,
    pub ceilings: Vec<Measured>,
    pub endpoints: Vec<Measured>,
    pub server_peak_rss_mb: f64,
    pub exports: Vec<ExportFigures>,
    pub locate: Option<super::locate::LocateFigures>,
    pub crash: Option<CrashFigures>,
    pub merchants: Option<MerchantFigures>,
    pub volunteers: Option<crate::app::volunteers::VolunteerLoad>,
}

/// 门前五包 at city scale: the import, a month of checks, the month's lists.
#[derive(Debug, Serialize)]
pub struct MerchantFigures {
    #[serde(flatten)]
    pub load: crate::app::merchants::MerchantLoad,
    /// The city's red and black lists of the month computed (the preview a desk reads).
    pub city_lists_seconds: f64,
    pub red: usize,
    pub black: usize,
    /// Publishing the month for the whole city (every shop's standing written).
    pub publish_seconds: f64,
}

/// The year of inspections loaded for the rankings.
#[derive(Debug, Serialize)]
pub struct InspectionLoadFigures {
    #[serde(flatten)]
    pub load: crate::app::inspections::InspectionLoad,
    pub seconds: f64,
    pub per_second: f64,
}

/// One export of every case in the store, as a person downloads it.
#[derive(Debug, Serialize)]
pub struct ExportFigures {
    pub format: String,
    pub rows: usize,
    pub bytes: usize,
    pub seconds: f64,
    pub rows_per_second: f64,
    /// The server's peak resident memory while it wrote the export.
    pub server_peak_rss_mb: f64,
}

/// What the load generator needs to make realistic requests.
struct Fixture {
    token: String,
    api_key: String,
    points: Vec<LatLon>,
    categories: Vec<String>,
    citizen_categories: Vec<String>,
    communities: Vec<String>,
}

const STATUSES: [&str; 6] = ["registered", "dispatched", "in_progress", "handled", "closed", "reported"];

fn case_body(f: &Fixture, rng: &mut StdRng) -> Bytes {
    let p = f.points[rng.random_range(0..f.points.len())];
    let body = serde_json::json!({
        "category": f.categories[rng.random_range(0..f.categories.len())],
        "description": "巡查发现:沿街商户店外经营,占用人行道约三米,影响行人通行,已拍照留存,请尽快处置。",
        "lat": p.lat,
        "lon": p.lon,
        "address": "济阳街道纬二路与经一路交叉口东北角",
        "reporter_name": "李网格",
        "reporter_phone": "13905310000",
        "note": "基准测试 benchmark",
        "source": "patrol",
    });
    Bytes::from(serde_json::to_vec(&body).unwrap_or_default())
}

pub async fn run(args: RunArgs, config: Config) -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let run_for = Duration::from_secs_f64(args.seconds.max(0.5));
    let conns = args.connections.max(1);
    let (work, made_work) = match &args.work {
        Some(w) => (w.clone(), false),
        None => (std::env::temp_dir().join(format!("chuangcheng-bench-{}", std::process::id())), true),
    };
    std::fs::create_dir_all(&work)?;
    let exe_args = |cfg: &Path| vec!["--config".to_string(), cfg.display().to_string()];
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.enable_steady_tick(Duration::from_millis(120));

    // ---- the store to measure: SQLite in the work directory, or a fresh PostgreSQL database
    let data = work.join("data");
    let pg_url = match config.database_url.as_ref().map(|s| s.expose().to_string()) {
        Some(admin) => {
            let marker = work.join("postgres-url");
            match std::fs::read_to_string(&marker) {
                Ok(url) if args.work.is_some() => Some(url.trim().to_string()),
                _ => {
                    let url = crate::store::testing::fresh_postgres_database(&admin)?;
                    std::fs::write(&marker, &url)?;
                    Some(url)
                }
            }
        }
        None => None,
    };
    let mut toml = format!(
        "data_dir = {:?}\nopen311_per_minute = 1e12\npublic_per_minute = 1e12\nlogin_attempts = 1000000\n",
        data.display().to_string()
    );
    if let Some(url) = &pg_url {
        toml.push_str(&format!("database_url = {url:?}\n"));
    }
    let cfg_path = work.join("bench.toml");
    std::fs::write(&cfg_path, toml)?;
    let app_config = {
        let mut layer = ConfigLayer::from_file(&cfg_path, true)?;
        layer.database_url = pg_url.clone().map(Secret::new);
        layer.resolve()?
    };
    let backend = if pg_url.is_some() { "postgresql" } else { "sqlite" };

    spinner.set_message("setting up the demo subdistrict");
    let app = App::build(app_config.clone()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let fresh = app.seed_demo().await.map_err(|e| anyhow::anyhow!("{e}"))?.is_some();

    // ---- ceiling 1: the bare batched insert of the same rows
    spinner.set_message("ceiling: bare batched insert");
    let sample = app.sample_cases(100_000, args.days).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let scratch = work.join("scratch-batch");
    let _ = std::fs::remove_dir_all(&scratch);
    drop(crate::store::Store::open(&scratch, None).await?);
    let bare_batch_per_second = {
        let rows: Vec<_> = sample.iter().map(|g| (&g.details, &g.state)).collect();
        let events: Vec<_> = sample
            .iter()
            .flat_map(|g| {
                g.log.iter().enumerate().map(|(i, (e, note))| crate::store::cases::NewEvent {
                    case_id: &g.details.id,
                    seq: i as i64 + 1,
                    event: e,
                    actor_name: None,
                    note: note.as_deref(),
                    public: true,
                })
            })
            .collect();
        let t = Instant::now();
        crate::store::ceiling::batch_insert(&scratch.join(crate::store::SQLITE_FILE), &rows, &events)?;
        rows.len() as f64 / t.elapsed().as_secs_f64()
    };
    drop(sample);
    let _ = std::fs::remove_dir_all(&scratch);

    // ---- load
    spinner.finish_and_clear();
    let already = app.case_count().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let load = if fresh || already == 0 || args.work.is_none() {
        let bar = indicatif::ProgressBar::new(args.cases as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} cases ({per_sec}, {eta} left)")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_message("loading");
        let t = Instant::now();
        let n = app
            .generate_cases(args.cases, args.days, 10_000, |done| bar.set_position(done as u64))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let secs = t.elapsed().as_secs_f64();
        bar.finish_and_clear();
        LoadFigures {
            cases: n,
            seconds: secs,
            per_second: n as f64 / secs,
            bare_batch_per_second,
            ratio: n as f64 / secs / bare_batch_per_second,
            reused: false,
        }
    } else {
        LoadFigures { cases: 0, seconds: 0.0, per_second: 0.0, bare_batch_per_second, ratio: 0.0, reused: true }
    };
    let cases_in_store = app.case_count().await.map_err(|e| anyhow::anyhow!("{e}"))?;

    // ---- a year of inspections, and fresh round points to inspect during the run
    let wants_inspections = ["rankings", "shortfall", "inspect", "bulletin"].iter().any(|k| args.wants(k));
    let inspection_load = if wants_inspections && !load.reused && args.inspections > 0 {
        let bar = indicatif::ProgressBar::new(args.inspections as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} inspections ({per_sec}, {eta} left)")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_message("loading a year of inspections");
        let t = Instant::now();
        let l = app
            .generate_inspections(args.points, args.inspections, 365, |done| bar.set_position(done as u64))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        bar.finish_and_clear();
        let secs = t.elapsed().as_secs_f64();
        Some(InspectionLoadFigures { load: l, seconds: secs, per_second: l.inspections as f64 / secs.max(1e-9) })
    } else {
        None
    };
    let inspect_slots = if args.wants("inspect") { inspect_slots(&app, 8).await? } else { Vec::new() };

    // ---- what requests need: a token, an Open311 key, points inside grids
    let admin = app.person_id("admin").await.map_err(|e| anyhow::anyhow!("{e}"))?.context("the demo admin is missing")?;
    let token = app.create_api_token(&crate::domain::authz::Actor::console(), &admin, "bench").await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let (_, api_key) = app
        .create_api_key(&crate::domain::authz::Actor::console(), &format!("bench {}", uuid::Uuid::now_v7()))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // 督查通报: the inspector's token, and a month's draft whose Word document is measured.
    let (writer_token, bulletin_id) = if args.wants("bulletin") {
        let inspector = app.demo_actor("inspector").await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let token = app
            .create_api_token(&crate::domain::authz::Actor::console(), &inspector.person_id, "bench")
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let (from, to) = last_30_days();
        let n = crate::app::bulletins::NewBulletin {
            area: None,
            kind: crate::domain::bulletin::BulletinKind::Custom,
            from: chrono::NaiveDate::parse_from_str(&from, "%Y-%m-%d").ok(),
            to: chrono::NaiveDate::parse_from_str(&to, "%Y-%m-%d").ok(),
        };
        let b = app.draft_bulletin(&inspector, n).await.map_err(|e| anyhow::anyhow!("drafting the bench bulletin: {e}"))?;
        (token, b.id)
    } else {
        (String::new(), String::new())
    };
    let dir = app.directory();
    let mut rng: StdRng = rand::SeedableRng::seed_from_u64(5);
    let centres: Vec<LatLon> = dir.grids().filter_map(|g| dir.interior_point(&g.code)).collect();
    let mut points = Vec::new();
    while points.len() < 20_000 && !centres.is_empty() {
        let c = centres[rng.random_range(0..centres.len())];
        let p = LatLon { lat: c.lat + rng.random_range(-0.0015..0.0015), lon: c.lon + rng.random_range(-0.0015..0.0015) };
        if dir.locate(p).is_some() {
            points.push(p);
        }
    }
    let categories = app.categories().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let fixture = Arc::new(Fixture {
        token,
        api_key,
        points,
        // Categories that ask no required question, so every generated report is valid.
        categories: categories.iter().filter(|c| c.active && c.attributes.iter().all(|a| !a.required)).map(|c| c.code.clone()).collect(),
        citizen_categories: categories
            .iter()
            .filter(|c| c.active && c.citizen && c.attributes.iter().all(|a| !a.required))
            .map(|c| c.code.clone())
            .collect(),
        communities: app.units_of_kind(OrgKind::Community).await.map_err(|e| anyhow::anyhow!("{e}"))?.into_iter().map(|u| u.code).collect(),
    });
    if fixture.points.is_empty() || fixture.categories.is_empty() || fixture.citizen_categories.is_empty() || fixture.communities.is_empty()
    {
        bail!("the bench store has no grids, categories or communities");
    }
    drop(dir);
    let merchants = if args.wants("merchants") && args.merchants > 0 && !load.reused {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_message(format!("门前五包: importing {} shops, a month of checks", args.merchants));
        bar.enable_steady_tick(Duration::from_millis(120));
        let l = app.generate_merchants(args.merchants, 2, |_| {}).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let console = crate::domain::authz::Actor::console();
        let t = Instant::now();
        let b = app.board(&console, l.month, Some("370115001"), None).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let city_lists_seconds = t.elapsed().as_secs_f64();
        let t = Instant::now();
        app.publish_board(&console, l.month).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let publish_seconds = t.elapsed().as_secs_f64();
        bar.finish_and_clear();
        Some(MerchantFigures { load: l, city_lists_seconds, red: b.red.len(), black: b.black.len(), publish_seconds })
    } else {
        None
    };

    let volunteers = if args.wants("volunteers") && args.volunteers > 0 && !load.reused {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_message(format!("志愿服务: importing {} volunteers, 2,000 checking in at one fair", args.volunteers));
        bar.enable_steady_tick(Duration::from_millis(120));
        let v = app.generate_volunteers(args.volunteers, 2_000.min(args.volunteers), 16).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        bar.finish_and_clear();
        Some(v)
    } else {
        None
    };

    drop(app);

    let bar = indicatif::ProgressBar::new_spinner();
    bar.enable_steady_tick(Duration::from_millis(120));

    // ---- ceilings over HTTP
    let mut ceilings = Vec::new();
    let create_body: MakeRequest = {
        let f = fixture.clone();
        Arc::new(move |rng| request("POST", "/echo", &[("content-type", "application/json")], case_body(&f, rng)))
    };
    bar.set_message("ceiling: bare echo server");
    let echo = if !args.wants("echo") {
        Sample::default()
    } else {
        let server = ChildServer::start(&std::env::current_exe()?, &["bench", "ceiling", "echo"], &work.join("echo.log")).await?;
        drive(server.addr, conns, run_for, create_body).await
    };
    if args.wants("echo") {
        ceilings.push(Measured { name: "ceiling: echo (parse JSON, answer)".into(), sample: echo.clone(), ceiling: None, ratio: None });
    }
    bar.set_message("ceiling: bare durable intake");
    let intake = if !args.wants("intake") {
        Sample::default()
    } else {
        let scratch = work.join("scratch-intake");
        let _ = std::fs::remove_dir_all(&scratch);
        let scratch_s = scratch.display().to_string();
        let server = ChildServer::start(
            &std::env::current_exe()?,
            &["bench", "ceiling", "intake", "--scratch", &scratch_s],
            &work.join("intake.log"),
        )
        .await?;
        let f = fixture.clone();
        let make: MakeRequest = Arc::new(move |rng| request("POST", "/cases", &[("content-type", "application/json")], case_body(&f, rng)));
        let s = drive(server.addr, conns, run_for, make).await;
        drop(server);
        let _ = std::fs::remove_dir_all(&scratch);
        s
    };
    if args.wants("intake") {
        ceilings.push(Measured {
            name: "ceiling: group-commit intake (locate + insert)".into(),
            sample: intake.clone(),
            ceiling: None,
            ratio: None,
        });
    }

    // ---- the real server
    bar.set_message("starting the server");
    let mut args_serve = exe_args(&cfg_path);
    args_serve.push("serve".into());
    let argv: Vec<&str> = args_serve.iter().map(String::as_str).collect();
    let server = ChildServer::start(&std::env::current_exe()?, &argv, &work.join("server.log")).await?;
    let auth = format!("Bearer {}", fixture.token);
    let mut endpoints = Vec::new();
    type Case = (&'static str, &'static str, MakeRequest, &'static str);
    let plan: Vec<Case> = vec![
        (
            "create",
            "create case (JSON API)",
            {
                let (f, auth) = (fixture.clone(), auth.clone());
                Arc::new(move |rng| {
                    request("POST", "/api/v1/cases", &[("content-type", "application/json"), ("authorization", &auth)], case_body(&f, rng))
                })
            },
            "intake",
        ),
        (
            "open311",
            "create case (Open311)",
            {
                let f = fixture.clone();
                Arc::new(move |rng| {
                    let p = f.points[rng.random_range(0..f.points.len())];
                    let form = serde_urlencoded::to_string([
                        ("api_key", f.api_key.clone()),
                        ("service_code", f.citizen_categories[rng.random_range(0..f.citizen_categories.len())].clone()),
                        ("lat", p.lat.to_string()),
                        ("long", p.lon.to_string()),
                        ("description", "小区门口垃圾桶满溢,周边有散落垃圾,气味较大,请环卫尽快清运。".to_string()),
                        ("first_name", "王".to_string()),
                        ("phone", "13800000000".to_string()),
                    ])
                    .unwrap_or_default();
                    request(
                        "POST",
                        "/open311/v2/requests.json",
                        &[("content-type", "application/x-www-form-urlencoded")],
                        Bytes::from(form),
                    )
                })
            },
            "intake",
        ),
        (
            "desk",
            "case desk (community + status, 50)",
            {
                let (f, auth) = (fixture.clone(), auth.clone());
                Arc::new(move |rng| {
                    let path = format!(
                        "/api/v1/cases?community={}&status={}&per_page=50",
                        f.communities[rng.random_range(0..f.communities.len())],
                        STATUSES[rng.random_range(0..STATUSES.len())]
                    );
                    request("GET", &path, &[("authorization", &auth)], Bytes::new())
                })
            },
            "echo",
        ),
        (
            "dashboard",
            "KPI dashboard (30 days, by community)",
            {
                let auth = auth.clone();
                Arc::new(move |_| request("GET", "/api/v1/indicators?by=community", &[("authorization", &auth)], Bytes::new()))
            },
            "echo",
        ),
        ("grids", "grid map data (GeoJSON)", Arc::new(|_| request("GET", "/api/v1/grids", &[], Bytes::new())), "echo"),
        (
            "rankings",
            "inspection ranking (30 days, by community)",
            {
                let (auth, (from, to)) = (auth.clone(), last_30_days());
                Arc::new(move |_| {
                    request("GET", &format!("/api/v1/inspections/rankings?from={from}&to={to}"), &[("authorization", &auth)], Bytes::new())
                })
            },
            "echo",
        ),
        (
            "shortfall",
            "shortfall list (30 days, top 20)",
            {
                let (auth, (from, to)) = (auth.clone(), last_30_days());
                Arc::new(move |_| {
                    request("GET", &format!("/api/v1/inspections/shortfall?from={from}&to={to}"), &[("authorization", &auth)], Bytes::new())
                })
            },
            "echo",
        ),
        (
            "inspect",
            "submit an inspection (JSON API)",
            {
                let (slots, auth) = (Arc::new(inspect_slots), auth.clone());
                let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
                Arc::new(move |_| {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let (path, body) = &slots[i % slots.len().max(1)];
                    request("POST", path, &[("content-type", "application/json"), ("authorization", &auth)], body.clone())
                })
            },
            "intake",
        ),
        (
            "locate",
            "locate",
            {
                let f = fixture.clone();
                Arc::new(move |rng| {
                    let p = f.points[rng.random_range(0..f.points.len())];
                    request("GET", &format!("/api/v1/locate?lat={}&lon={}", p.lat, p.lon), &[], Bytes::new())
                })
            },
            "echo",
        ),
    ];
    // The desk and the dashboard once more with a single connection: the latency one
    // person sees, without 63 others queued ahead.
    let single: Vec<Case> = plan
        .iter()
        .filter(|(key, ..)| matches!(*key, "desk" | "dashboard" | "rankings" | "shortfall"))
        .map(|(key, _, make, against)| {
            let name = match *key {
                "desk" => "case desk, 1 connection",
                "dashboard" => "KPI dashboard, 1 connection",
                "rankings" => "inspection ranking, 1 connection",
                _ => "shortfall list, 1 connection",
            };
            (*key, name, make.clone(), *against)
        })
        .collect();
    // Drafting a month's bulletin and writing its Word document: one person's wait.
    let writer = format!("Bearer {writer_token}");
    let bulletins: Vec<Case> = vec![
        (
            "bulletin",
            "draft a monthly bulletin, 1 connection",
            {
                let (auth, (from, to)) = (writer.clone(), last_30_days());
                let body = Bytes::from(format!(r#"{{"kind":"custom","from":"{from}","to":"{to}"}}"#));
                Arc::new(move |_| {
                    request("POST", "/api/v1/bulletins", &[("content-type", "application/json"), ("authorization", &auth)], body.clone())
                })
            },
            "echo",
        ),
        (
            "bulletin",
            "bulletin as .docx, 1 connection",
            {
                let (auth, path) = (writer.clone(), format!("/api/v1/bulletins/{bulletin_id}/document.docx"));
                Arc::new(move |_| request("GET", &path, &[("authorization", &auth)], Bytes::new()))
            },
            "echo",
        ),
    ];
    let runs = plan.into_iter().map(|c| (c, conns)).chain(single.into_iter().chain(bulletins).map(|c| (c, 1)));
    for ((key, name, make, against), connections) in runs {
        if !args.wants(key) {
            continue;
        }
        bar.set_message(format!("{backend}: {name}"));
        let s = drive(server.addr, connections, run_for, make).await;
        let base = if against == "intake" { &intake } else { &echo };
        endpoints.push(Measured {
            name: name.into(),
            ratio: (base.per_second > 0.0).then(|| (s.per_second / base.per_second * 1000.0).round() / 1000.0),
            ceiling: Some(against.into()),
            sample: s,
        });
    }
    let server_peak_rss_mb = server.peak_rss_mb();
    let mut exports = Vec::new();
    if args.wants("export") {
        for format in ["csv", "xlsx"] {
            bar.set_message(format!("{backend}: export every case as .{format}"));
            server.reset_peak_rss();
            let started = Instant::now();
            let mut conn = super::client::Connection::open(server.addr).await?;
            let path = format!("/api/v1/cases/export.{format}");
            let (status, body) = conn.send(request("GET", &path, &[("authorization", &auth)], Bytes::new())).await?;
            let seconds = started.elapsed().as_secs_f64();
            if !status.is_success() {
                bail!("export .{format} answered {status}");
            }
            // The CSV's rows are its lines after the title, the notes and the header; an
            // .xlsx has the rows the store holds.
            let rows = if format == "csv" {
                // Records, not lines (a description may hold a line break), after the header:
                // the first record with more than one field.
                let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(body.as_ref());
                let lengths: Vec<usize> = reader.records().filter_map(Result::ok).map(|r| r.len()).collect();
                let header = lengths.iter().position(|n| *n > 1).unwrap_or(0);
                lengths.len().saturating_sub(header + 1)
            } else {
                cases_in_store as usize
            };
            exports.push(ExportFigures {
                format: format.into(),
                rows,
                bytes: body.len(),
                seconds,
                rows_per_second: rows as f64 / seconds.max(1e-9),
                server_peak_rss_mb: server.peak_rss_mb(),
            });
        }
    }
    drop(server);

    bar.set_message(format!("locate: {} grids in memory", args.grids));
    let grids = args.grids.max(1);
    let locate =
        if args.wants("locate") { Some(tokio::task::spawn_blocking(move || super::locate::measure(grids, 2.0)).await?) } else { None };
    bar.finish_and_clear();

    let crash = if args.crash_trials > 0 {
        let bar = indicatif::ProgressBar::new(args.crash_trials as u64);
        bar.set_message("crash trials (SIGKILL while reporting)");
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg} {bar:40} {pos}/{len}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let mut serve_args = exe_args(&cfg_path);
        serve_args.push("serve".into());
        let plan = CrashPlan {
            exe: std::env::current_exe()?,
            serve_args,
            log: work.join("crash.log"),
            config: app_config,
            token: fixture.token.clone(),
            at: fixture.points[0],
            category: fixture.categories[0].clone(),
            trials: args.crash_trials,
            writers: 16,
            seed: 42,
        };
        let figures = crash_trials(Arc::new(plan), |done| bar.set_position(done as u64)).await?;
        bar.finish_and_clear();
        Some(figures)
    } else {
        None
    };

    let report = Report {
        backend: backend.into(),
        cores,
        connections: conns,
        seconds_each: run_for.as_secs_f64(),
        cases_in_store,
        load,
        inspection_load,
        ceilings,
        endpoints,
        server_peak_rss_mb,
        exports,
        locate,
        crash,
        merchants,
        volunteers,
    };
    print_table(&report);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)?;
        println!("figures written to {}", path.display());
    }
    if report.crash.as_ref().is_some_and(|c| !c.clean()) {
        bail!("the crash trials lost or doubled data (see the line above; the server log is {})", work.join("crash.log").display());
    }
    if !args.keep {
        if made_work {
            let _ = std::fs::remove_dir_all(&work);
        }
        if let (Some(admin), Some(url)) = (config.database_url.as_ref(), pg_url.as_ref()) {
            crate::store::testing::drop_postgres_database(admin.expose(), url);
        }
    }
    Ok(())
}

/// The last 30 days (Beijing), as the pages ask by default: the heaviest month to read, since
/// it crosses a month boundary (day rows at both ends rather than one month row).
fn last_30_days() -> (String, String) {
    let today = crate::domain::calendar::beijing_date(crate::app::Clock::System.now());
    ((today - chrono::Duration::days(29)).to_string(), today.to_string())
}

/// Points to inspect while the server runs: `rounds` rounds over every located point, each
/// with a body that meets every item but one in five, which loses a problem's worth (and
/// opens or adds to a case).
async fn inspect_slots(app: &App, rounds: usize) -> anyhow::Result<Vec<(String, Bytes)>> {
    use crate::app::inspections::{RoundPlan, Selection};
    use crate::domain::inspection::{RoundKind, Scoring};
    let console = crate::domain::authz::Actor::console();
    let err = |e: crate::error::AppError| anyhow::anyhow!("{e}");
    let manual = app.manual(&console, None).await.map_err(err)?;
    let points: Vec<_> = app.points(&console, None).await.map_err(err)?.into_iter().filter(|p| p.point.lat.is_some()).collect();
    let today = crate::domain::calendar::beijing_date(app.now());
    let mut rng: StdRng = rand::SeedableRng::seed_from_u64(11);
    let mut out = Vec::new();
    for r in 0..rounds {
        let plan = RoundPlan {
            name: format!("压测轮次 {}", r + 1),
            kind: RoundKind::Inspection,
            starts_on: today,
            ends_on: today + chrono::Duration::days(6),
            selection: Selection::Chosen { points: points.iter().map(|p| p.point.id.clone()).collect() },
            inspectors: Vec::new(),
        };
        let round = app.plan_round(&console, plan).await.map_err(err)?;
        for p in &points {
            let items: Vec<serde_json::Value> = manual
                .items
                .iter()
                .filter(|i| i.point_type == p.point.point_type)
                .map(|i| {
                    let lose = rng.random_bool(0.2);
                    let observation = match &i.scoring {
                        Scoring::PassFail => serde_json::json!({ "kind": if lose { "fail" } else { "pass" } }),
                        Scoring::Quantity { required, .. } => {
                            serde_json::json!({ "kind": "found", "count": if lose { 0 } else { *required } })
                        }
                        _ => serde_json::json!({ "kind": "problems", "count": u32::from(lose) }),
                    };
                    serde_json::json!({ "code": i.code, "observation": observation })
                })
                .collect();
            let body = serde_json::to_vec(&serde_json::json!({ "items": items }))?;
            out.push((format!("/api/v1/inspections/rounds/{}/points/{}", round.round.id, p.point.id), Bytes::from(body)));
        }
    }
    Ok(out)
}

fn print_table(r: &Report) {
    println!();
    println!(
        "chuangcheng bench — {} · {} cores · {} connections · {:.0} s each · {} cases in the store",
        r.backend, r.cores, r.connections, r.seconds_each, r.cases_in_store
    );
    println!("{:<44} {:>10} {:>9} {:>9} {:>9} {:>8} {:>14}", "measurement", "req/s", "p50 ms", "p99 ms", "p99.9 ms", "errors", "ratio");
    for m in r.ceilings.iter().chain(&r.endpoints) {
        let ratio = match (&m.ceiling, m.ratio) {
            (Some(c), Some(x)) => format!("{x:.3} of {c}"),
            _ => "—".into(),
        };
        println!(
            "{:<44} {:>10.0} {:>9.2} {:>9.2} {:>9.2} {:>8} {:>14}",
            m.name, m.sample.per_second, m.sample.p50_ms, m.sample.p99_ms, m.sample.p999_ms, m.sample.failed, ratio
        );
    }
    if r.load.reused {
        println!("load: reused the store in the work directory");
    } else {
        println!(
            "load: {} cases in {:.1} s = {:.0} cases/s (bare batched insert of the same rows: {:.0}/s; ratio {:.3})",
            r.load.cases, r.load.seconds, r.load.per_second, r.load.bare_batch_per_second, r.load.ratio
        );
    }
    if let Some(i) = &r.inspection_load {
        println!(
            "inspections: {} over {} points with {} item results in {:.1} s ({:.0} inspections/s)",
            i.load.inspections, i.load.points, i.load.item_results, i.seconds, i.per_second
        );
    }
    println!("server peak RSS: {:.1} MB", r.server_peak_rss_mb);
    for e in &r.exports {
        println!(
            "export of every case as .{}: {} rows, {:.1} MB in {:.1} s ({:.0} rows/s), server peak RSS during it {:.1} MB",
            e.format,
            e.rows,
            e.bytes as f64 / 1_048_576.0,
            e.seconds,
            e.rows_per_second,
            e.server_peak_rss_mb
        );
    }
    if let Some(l) = &r.locate {
        println!(
            "locate in memory, {} grids: {:.0} lookups/s on one core, {:.0} on {} threads",
            l.grids, l.one_core, l.all_threads, l.threads
        );
    }
    if let Some(m) = &r.merchants {
        println!(
            "门前五包: {} shops imported from one sheet in {:.1} s; {} checks over {}; the city's monthly lists ({} red, {} black) in {:.2} s; published for the city in {:.2} s",
            m.load.merchants, m.load.import_seconds, m.load.checks, m.load.month, m.red, m.black, m.city_lists_seconds, m.publish_seconds
        );
    }
    if let Some(v) = &r.volunteers {
        println!(
            "志愿服务: {} volunteers imported from one sheet in {:.1} s; {} check-ins at one fair in {:.2} s ({:.0}/s); {} records confirmed with their totals and stars in {:.2} s; a volunteer's ledger among them read in {:.1} ms",
            v.volunteers,
            v.import_seconds,
            v.burst,
            v.burst_seconds,
            v.burst as f64 / v.burst_seconds.max(1e-9),
            v.burst,
            v.confirm_seconds,
            v.ledger_ms
        );
    }
    if let Some(c) = &r.crash {
        println!(
            "crash trials: {} SIGKILLs in {:.0} s; {} reports sent, {} acknowledged; lost {}, duplicated {}, row ≠ replayed log {}, counters ≠ recount {} — {}",
            c.trials,
            c.seconds,
            c.sent,
            c.acknowledged,
            c.lost,
            c.duplicated,
            c.replay_mismatches,
            c.counter_mismatches,
            if c.clean() { "nothing lost" } else { "FAILED" }
        );
    }
    for m in r.ceilings.iter().chain(&r.endpoints) {
        if let Some(f) = &m.sample.first_failure {
            println!("first failure of {}: {f}", m.name);
        }
    }
}
