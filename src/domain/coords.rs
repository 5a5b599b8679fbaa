//! Coordinates. Everything is stored in WGS-84; Chinese phone maps (AMap, Tencent) report
//! GCJ-02, the obfuscated datum every map licensed in China uses, so input may come in that.

use std::f64::consts::PI;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LatLon {
    pub lat: f64,
    pub lon: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Crs {
    #[default]
    Wgs84,
    Gcj02,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CoordError {
    #[error("latitude must be between -90 and 90")]
    Latitude,
    #[error("longitude must be between -180 and 180")]
    Longitude,
    #[error("unknown coordinate reference system")]
    UnknownCrs,
}

impl Crs {
    /// `wgs84`/`EPSG:4326` or `gcj02`; an empty value means the default (WGS-84).
    pub fn parse(s: &str) -> Result<Crs, CoordError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "wgs84" | "wgs-84" | "epsg:4326" | "4326" => Ok(Crs::Wgs84),
            "gcj02" | "gcj-02" => Ok(Crs::Gcj02),
            _ => Err(CoordError::UnknownCrs),
        }
    }
}

impl LatLon {
    pub fn new(lat: f64, lon: f64) -> Result<LatLon, CoordError> {
        if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
            return Err(CoordError::Latitude);
        }
        if !(lon.is_finite() && (-180.0..=180.0).contains(&lon)) {
            return Err(CoordError::Longitude);
        }
        Ok(LatLon { lat, lon })
    }

    /// Validates and brings a coordinate given in `crs` to WGS-84.
    pub fn to_wgs84(lat: f64, lon: f64, crs: Crs) -> Result<LatLon, CoordError> {
        let p = LatLon::new(lat, lon)?;
        Ok(match crs {
            Crs::Wgs84 => p,
            Crs::Gcj02 => gcj02_to_wgs84(p),
        })
    }
}

// Krasovsky 1940 ellipsoid parameters used by the GCJ-02 transform.
const A: f64 = 6_378_245.0;
const EE: f64 = 0.006_693_421_622_965_943;

fn outside_china(p: LatLon) -> bool {
    !(72.004..=137.8347).contains(&p.lon) || !(0.8293..=55.8271).contains(&p.lat)
}

fn delta_lat(x: f64, y: f64) -> f64 {
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    r
}

fn delta_lon(x: f64, y: f64) -> f64 {
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    r
}

/// The forward transform, WGS-84 → GCJ-02 (identity outside China, as the datum defines).
pub fn wgs84_to_gcj02(p: LatLon) -> LatLon {
    if outside_china(p) {
        return p;
    }
    let dlat = delta_lat(p.lon - 105.0, p.lat - 35.0);
    let dlon = delta_lon(p.lon - 105.0, p.lat - 35.0);
    let rad = p.lat / 180.0 * PI;
    let magic = 1.0 - EE * rad.sin() * rad.sin();
    let sqrt_magic = magic.sqrt();
    let dlat = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    let dlon = (dlon * 180.0) / (A / sqrt_magic * rad.cos() * PI);
    LatLon { lat: p.lat + dlat, lon: p.lon + dlon }
}

/// The inverse has no closed form; a fixed-point iteration converges to well under a
/// millimetre in a few steps.
pub fn gcj02_to_wgs84(g: LatLon) -> LatLon {
    if outside_china(g) {
        return g;
    }
    let mut w = g;
    for _ in 0..20 {
        let back = wgs84_to_gcj02(w);
        let (dlat, dlon) = (back.lat - g.lat, back.lon - g.lon);
        w = LatLon { lat: w.lat - dlat, lon: w.lon - dlon };
        if dlat.abs() < 1e-10 && dlon.abs() < 1e-10 {
            break;
        }
    }
    w
}

/// Great-circle distance in metres (haversine), good enough at city scale.
/// Side of a proximity cell in degrees (≈ 110 m north–south, ≈ 90 m east–west in Shandong).
const CELL_DEG: f64 = 0.001;

/// The proximity cell of a point: a key that lets "open cases of this kind within 50 m"
/// be found by exact index lookups instead of a scan along a band of latitude.
pub fn cell_of(lat: f64, lon: f64) -> i64 {
    let row = (lat / CELL_DEG).floor() as i64;
    let col = (lon / CELL_DEG).floor() as i64;
    row * 1_000_000 + col.rem_euclid(1_000_000)
}

/// Every cell that a lat/lon box touches (a handful for a box of about 100 m).
pub fn cells_covering(lat: (f64, f64), lon: (f64, f64)) -> Vec<i64> {
    let rows = (lat.0 / CELL_DEG).floor() as i64..=(lat.1 / CELL_DEG).floor() as i64;
    let cols = (lon.0 / CELL_DEG).floor() as i64..=(lon.1 / CELL_DEG).floor() as i64;
    if rows.clone().count() * cols.clone().count() > 64 {
        return Vec::new();
    }
    rows.flat_map(|r| cols.clone().map(move |c| r * 1_000_000 + c.rem_euclid(1_000_000))).collect()
}

pub fn distance_m(a: LatLon, b: LatLon) -> f64 {
    const R: f64 = 6_371_008.8;
    let (p1, p2) = (a.lat.to_radians(), b.lat.to_radians());
    let dp = p2 - p1;
    let dl = (b.lon - a.lon).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * R * h.sqrt().asin()
}

#[cfg(test)]
mod cell_tests {
    use super::*;

    #[test]
    fn a_box_covers_the_cells_of_its_points() {
        let (lat, lon) = (36.97731, 117.17298);
        let cells = cells_covering((lat - 0.0006, lat + 0.0006), (lon - 0.0007, lon + 0.0007));
        for (dl, dn) in [(0.0, 0.0), (-0.0006, -0.0007), (0.0006, 0.0007), (0.0006, -0.0007), (-0.0006, 0.0007)] {
            assert!(cells.contains(&cell_of(lat + dl, lon + dn)), "{dl} {dn}");
        }
        assert!(cells.len() <= 4);
        assert_ne!(cell_of(36.9771, 117.1729), cell_of(36.9781, 117.1729));
        assert!(cells_covering((0.0, 10.0), (0.0, 10.0)).is_empty(), "boxes too big are refused");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_impossible_coordinates() {
        assert_eq!(LatLon::new(200.0, 117.0), Err(CoordError::Latitude));
        assert_eq!(LatLon::new(36.0, -181.0), Err(CoordError::Longitude));
        assert_eq!(LatLon::new(f64::NAN, 117.0), Err(CoordError::Latitude));
        assert_eq!(Crs::parse("bd09"), Err(CoordError::UnknownCrs));
        assert_eq!(Crs::parse(""), Ok(Crs::Wgs84));
    }

    #[test]
    fn gcj02_offset_in_jinan_is_a_few_hundred_metres() {
        let w = LatLon { lat: 36.975, lon: 117.175 };
        let g = wgs84_to_gcj02(w);
        let d = distance_m(w, g);
        assert!((100.0..900.0).contains(&d), "offset {d} m");
        // GCJ-02 shifts north-east-ish in Shandong: longitude grows.
        assert!(g.lon > w.lon);
    }

    #[test]
    fn inverse_round_trips_to_millimetres() {
        for (lat, lon) in [(36.96, 117.15), (36.995, 117.2), (39.9087, 116.3975), (22.54, 114.06)] {
            let w = LatLon { lat, lon };
            let back = gcj02_to_wgs84(wgs84_to_gcj02(w));
            assert!(distance_m(w, back) < 0.001, "{w:?} → {back:?}");
        }
    }

    #[test]
    fn outside_china_is_untouched() {
        let paris = LatLon { lat: 48.8566, lon: 2.3522 };
        assert_eq!(wgs84_to_gcj02(paris), paris);
        assert_eq!(gcj02_to_wgs84(paris), paris);
    }
}
