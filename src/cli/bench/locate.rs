//! `chuangcheng bench locate`: point-in-grid lookups on the in-memory R-tree.

use std::time::{Duration, Instant};

use geo::MultiPolygon;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::app::demo::jittered_lattice;
use crate::domain::coords::LatLon;
use crate::domain::grid_index::GridIndex;

/// Lookups per second at city scale.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LocateFigures {
    pub grids: usize,
    pub build_ms: f64,
    pub one_core: f64,
    pub threads: usize,
    pub all_threads: f64,
    pub hit_rate: f64,
}

/// Prints the figures of [`measure`] as a small table.
pub fn print(f: &LocateFigures) {
    println!("locate benchmark — {} grids (index built in {:.1} ms)", f.grids, f.build_ms);
    println!("{:<28} {:>16} {:>12}", "measurement", "lookups/s", "ns/lookup");
    println!("{:<28} {:>16.0} {:>12.0}", "1 core", f.one_core, 1e9 / f.one_core);
    println!("{:<28} {:>16.0} {:>12.0}", format!("{} threads", f.threads), f.all_threads, 1e9 * f.threads as f64 / f.all_threads);
    println!("hit rate {:.1}%", f.hit_rate * 100.0);
}

/// Point-in-grid lookups on the in-memory index over `n` generated grids.
pub fn measure(n: usize, seconds: f64) -> LocateFigures {
    let mut rng = StdRng::seed_from_u64(7);
    let cols = ((n as f64 * 1.6).sqrt().ceil() as usize).max(1);
    let rows = n.div_ceil(cols);
    // ≈ 0.3 km × 0.35 km per grid, like the demo subdistrict's, whatever the count.
    let lon = (116.0, 116.0 + cols as f64 * 0.0033);
    let lat = (36.0, 36.0 + rows as f64 * 0.0035);
    let build_started = Instant::now();
    let cells: Vec<_> = jittered_lattice(cols, rows, lon, lat, &mut rng).into_iter().take(n).collect();
    let index = GridIndex::build(cells.into_iter().enumerate().map(|(i, p)| (format!("{i:015}"), MultiPolygon(vec![p]), i)).collect());
    let build = build_started.elapsed();
    // Points inside the covered rows, so nearly every lookup finds its grid.
    let covered_lat = (lat.0, lat.0 + (n / cols).max(1) as f64 * 0.0035);
    let points: Vec<LatLon> =
        (0..1 << 20).map(|_| LatLon { lat: rng.random_range(covered_lat.0..covered_lat.1), lon: rng.random_range(lon.0..lon.1) }).collect();
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
    let (one, one_found, one_time) = measure(0);
    let threads = std::thread::available_parallelism().map(|t| t.get()).unwrap_or(1);
    let results: Vec<(u64, u64, Duration)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads).map(|t| s.spawn(move || measure(t * 100_003))).collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let all: f64 = results.iter().map(|(d, _, t)| *d as f64 / t.as_secs_f64()).sum();
    LocateFigures {
        grids: index.len(),
        build_ms: build.as_secs_f64() * 1e3,
        one_core: one as f64 / one_time.as_secs_f64(),
        threads,
        all_threads: all,
        hit_rate: one_found as f64 / one.max(1) as f64,
    }
}
