//! `chuangcheng bench …`: speed measured, printed as a table. Never part of the tests.

use std::time::{Duration, Instant};

use clap::Subcommand;
use geo::MultiPolygon;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::app::demo::jittered_lattice;
use crate::config::Config;
use crate::domain::coords::LatLon;
use crate::domain::grid_index::GridIndex;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Point-in-grid lookups per second on the in-memory R-tree, on one core and on all.
    Locate {
        /// How many grids to generate (a jittered lattice over a city-sized area).
        #[arg(long, default_value_t = 100_000)]
        grids: usize,
        /// Seconds to run each measurement.
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
    },
}

pub async fn run(cmd: BenchCommand, _config: Config) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Locate { grids, seconds } => {
            tokio::task::spawn_blocking(move || locate(grids.max(1), seconds.max(0.1))).await?;
            Ok(())
        }
    }
}

fn locate(n: usize, seconds: f64) {
    let mut rng = StdRng::seed_from_u64(7);
    let cols = ((n as f64 * 1.6).sqrt().ceil() as usize).max(1);
    let rows = n.div_ceil(cols);
    // ≈ 0.3 km × 0.35 km per grid, like the demo subdistrict's, whatever the count.
    let lon = (116.0, 116.0 + cols as f64 * 0.0033);
    let lat = (36.0, 36.0 + rows as f64 * 0.0035);
    let build_started = Instant::now();
    let cells: Vec<_> = jittered_lattice(cols, rows, lon, lat, &mut rng).into_iter().take(n).collect();
    let index = GridIndex::build(
        cells.into_iter().enumerate().map(|(i, p)| (format!("{i:015}"), MultiPolygon(vec![p]), i)).collect(),
    );
    let build = build_started.elapsed();
    // Points inside the covered rows, so nearly every lookup finds its grid.
    let covered_lat = (lat.0, lat.0 + (n / cols).max(1) as f64 * 0.0035);
    let points: Vec<LatLon> = (0..1 << 20)
        .map(|_| LatLon { lat: rng.random_range(covered_lat.0..covered_lat.1), lon: rng.random_range(lon.0..lon.1) })
        .collect();
    let run_for = Duration::from_secs_f64(seconds);
    let measure = |offset: usize| -> (u64, u64, Duration) {
        let (mut done, mut found) = (0u64, 0u64);
        let started = Instant::now();
        let mut i = offset;
        while started.elapsed() < run_for {
            for _ in 0..4096 {
                if index.locate(points[i & (points.len() - 1)]).is_some() {
                    found += 1;
                }
                i += 1;
            }
            done += 4096;
        }
        (done, found, started.elapsed())
    };
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message(format!("locate: {n} grids, one core"));
    bar.enable_steady_tick(Duration::from_millis(120));
    let (one, one_found, one_time) = measure(0);
    let threads = std::thread::available_parallelism().map(|t| t.get()).unwrap_or(1);
    bar.set_message(format!("locate: {n} grids, {threads} threads"));
    let results: Vec<(u64, u64, Duration)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads).map(|t| s.spawn(move || measure(t * 100_003))).collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    bar.finish_and_clear();
    let all: f64 = results.iter().map(|(d, _, t)| *d as f64 / t.as_secs_f64()).sum();
    let per_core = one as f64 / one_time.as_secs_f64();
    println!("locate benchmark — {} grids (index built in {:.1} ms)", index.len(), build.as_secs_f64() * 1e3);
    println!("{:<28} {:>16} {:>12}", "measurement", "lookups/s", "ns/lookup");
    println!("{:<28} {:>16.0} {:>12.0}", "1 core", per_core, 1e9 / per_core);
    println!("{:<28} {:>16.0} {:>12.0}", format!("{threads} threads"), all, 1e9 * threads as f64 / all);
    println!("hit rate {:.1}%", 100.0 * one_found as f64 / one.max(1) as f64);
}
