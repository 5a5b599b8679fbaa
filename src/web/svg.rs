//! Charts and the grid map, drawn as SVG on the server: no script library, instant to load,
//! prints well; every mark has a `<title>` so hovering shows its number.

use std::fmt::Write;

use geo::{BoundingRect, MultiPolygon};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Horizontal bars, largest first as given.
pub fn bars(items: &[(String, i64)], title: &str) -> String {
    let w = 560.0;
    let row = 24.0;
    let label_w = 150.0;
    let max = items.iter().map(|(_, v)| *v).max().unwrap_or(1).max(1) as f64;
    let h = row * items.len() as f64 + 8.0;
    let mut out = format!(r#"<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{}">"#, esc(title));
    for (i, (label, v)) in items.iter().enumerate() {
        let y = i as f64 * row + 4.0;
        let bw = (w - label_w - 50.0) * (*v as f64) / max;
        let _ = write!(
            out,
            r##"<g><title>{label}: {v}</title><text x="{lx}" y="{ty}" text-anchor="end" class="lbl">{label}</text><rect x="{label_w}" y="{y}" width="{bw:.1}" height="{bh}" rx="3" class="bar"/><text x="{vx:.1}" y="{ty}" class="val">{v}</text></g>"##,
            label = esc(label),
            lx = label_w - 6.0,
            ty = y + 15.0,
            bh = row - 8.0,
            vx = label_w + bw + 5.0,
        );
    }
    out.push_str("</svg>");
    out
}

/// Two daily series (reported, closed) as lines with dots.
pub fn trend(days: &[(String, i64, i64)], title: &str, names: (&str, &str)) -> String {
    let (w, h, pad) = (600.0, 220.0, 32.0);
    let max = days.iter().map(|d| d.1.max(d.2)).max().unwrap_or(1).max(1) as f64;
    let n = days.len().max(2) as f64 - 1.0;
    let x = |i: usize| pad + (w - 2.0 * pad) * i as f64 / n;
    let y = |v: i64| h - pad - (h - 2.0 * pad) * v as f64 / max;
    let mut out = format!(r#"<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{}">"#, esc(title));
    for k in 0..=4 {
        let v = (max * k as f64 / 4.0).round() as i64;
        let _ = write!(
            out,
            r#"<line x1="{pad}" x2="{x2}" y1="{yy:.1}" y2="{yy:.1}" class="grid"/><text x="{tx}" y="{ty:.1}" text-anchor="end" class="axis">{v}</text>"#,
            x2 = w - pad,
            yy = y(v),
            tx = pad - 4.0,
            ty = y(v) + 4.0
        );
    }
    for (series, class, name) in [(1usize, "s1", names.0), (2, "s2", names.1)] {
        let points: Vec<String> =
            days.iter().enumerate().map(|(i, d)| format!("{:.1},{:.1}", x(i), y(if series == 1 { d.1 } else { d.2 }))).collect();
        let _ = write!(out, r#"<polyline points="{}" class="line {class}"/>"#, points.join(" "));
        for (i, d) in days.iter().enumerate() {
            let v = if series == 1 { d.1 } else { d.2 };
            let _ = write!(
                out,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" class="dot {class}"><title>{} {}: {v}</title></circle>"#,
                x(i),
                y(v),
                esc(&d.0),
                esc(name)
            );
        }
    }
    for (i, d) in days.iter().enumerate().filter(|(i, _)| i % 5 == 0 || *i == days.len() - 1) {
        let _ = write!(out, r#"<text x="{:.1}" y="{}" text-anchor="middle" class="axis">{}</text>"#, x(i), h - 10.0, esc(&d.0));
    }
    let _ = write!(
        out,
        r#"<rect x="{lx}" y="6" width="10" height="10" class="key s1"/><text x="{tx}" y="15" class="axis">{}</text><rect x="{lx2}" y="6" width="10" height="10" class="key s2"/><text x="{tx2}" y="15" class="axis">{}</text>"#,
        esc(names.0),
        esc(names.1),
        lx = pad,
        tx = pad + 14.0,
        lx2 = pad + 90.0,
        tx2 = pad + 104.0,
    );
    out.push_str("</svg>");
    out
}

/// One grid on the map: its shape, name, the number it is coloured by, and its link.
pub struct MapGrid<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub shape: &'a MultiPolygon<f64>,
    /// 0 … 5: how strongly to colour the grid.
    pub shade: usize,
    /// What hovering shows after the name, e.g. "7 件" or "85.0%".
    pub label: String,
    pub href: String,
}

/// Colour ramps: open cases (more is worse, pink) and on-time rate (higher is better, green).
pub const RAMP_OPEN: [&str; 6] = ["#f4f6f8", "#fde0dd", "#fcc5c0", "#fa9fb5", "#f768a1", "#c51b8a"];
pub const RAMP_ON_TIME: [&str; 6] = ["#f4f6f8", "#fee5d9", "#fcbba1", "#c7e9c0", "#74c476", "#238b45"];

/// 0 for nothing, else 1 … 5 by `value / max`.
pub fn shade(value: f64, max: f64) -> usize {
    if value <= 0.0 || max <= 0.0 { 0 } else { (1 + ((value / max) * 4.999) as usize).min(5) }
}

/// Longitude/latitude to picture coordinates: equirectangular, longitude scaled by the
/// cosine of the middle latitude, fitted to `width`.
struct Projection {
    x0: f64,
    y1: f64,
    k: f64,
    scale: f64,
    height: f64,
}

impl Projection {
    fn fit<'a>(shapes: impl Iterator<Item = &'a MultiPolygon<f64>>, width: f64) -> Option<Projection> {
        let mut b: Option<(f64, f64, f64, f64)> = None;
        for shape in shapes {
            if let Some(r) = shape.bounding_rect() {
                let v = b.get_or_insert((r.min().x, r.min().y, r.max().x, r.max().y));
                *v = (v.0.min(r.min().x), v.1.min(r.min().y), v.2.max(r.max().x), v.3.max(r.max().y));
            }
        }
        let (x0, y0, x1, y1) = b?;
        let k = ((y0 + y1) / 2.0).to_radians().cos();
        let scale = width / ((x1 - x0) * k).max(1e-9);
        Some(Projection { x0, y1, k, scale, height: ((y1 - y0) * scale).max(1.0) })
    }

    fn point(&self, lon: f64, lat: f64) -> (f64, f64) {
        ((lon - self.x0) * self.k * self.scale, (self.y1 - lat) * self.scale)
    }

    fn path(&self, shape: &MultiPolygon<f64>) -> String {
        let mut d = String::new();
        for poly in &shape.0 {
            for (i, c) in poly.exterior().0.iter().enumerate() {
                let (x, y) = self.point(c.x, c.y);
                let _ = write!(d, "{}{x:.1},{y:.1}", if i == 0 { "M" } else { "L" });
            }
            d.push('Z');
        }
        d
    }
}

/// The grids projected, coloured from light to dark by value, each a link with its name and
/// number on hover.
pub fn grid_map(grids: &[MapGrid<'_>], title: &str, ramp: &[&str; 6]) -> String {
    let width = 640.0;
    let Some(p) = Projection::fit(grids.iter().map(|g| g.shape), width) else { return String::new() };
    let mut out = format!(r#"<svg class="map" viewBox="0 0 {width} {:.1}" role="img" aria-label="{}">"#, p.height, esc(title));
    for g in grids {
        let _ = write!(
            out,
            r#"<a href="{}"><path d="{}" fill="{}" class="cell"><title>{} {}: {}</title></path></a>"#,
            esc(&g.href),
            p.path(g.shape),
            ramp[g.shade.min(5)],
            esc(g.name),
            esc(g.code),
            esc(&g.label),
        );
    }
    out.push_str("</svg>");
    out
}

/// A small locator: the neighbourhood's grids in grey, the case's grid outlined, a dot
/// where the problem is.
pub fn locator(around: &[&MultiPolygon<f64>], grid: &MultiPolygon<f64>, lat: f64, lon: f64, title: &str) -> String {
    let width = 320.0;
    let Some(p) = Projection::fit(around.iter().copied().chain(std::iter::once(grid)), width) else { return String::new() };
    let mut out = format!(r#"<svg class="locator" viewBox="0 0 {width} {:.1}" role="img" aria-label="{}">"#, p.height, esc(title));
    for shape in around {
        let _ = write!(out, r#"<path d="{}" class="nb"/>"#, p.path(shape));
    }
    let (x, y) = p.point(lon, lat);
    let _ = write!(
        out,
        r#"<path d="{}" class="here"/><circle cx="{x:.1}" cy="{y:.1}" r="6" class="pin"><title>{lat:.6}, {lon:.6}</title></circle></svg>"#,
        p.path(grid)
    );
    out
}

/// Horizontal bars of shares (0 … 1), shown as percentages, in the order given; `marks`
/// colours a bar `good` or `bad` (红榜 / 黑榜).
pub fn rate_bars(items: &[(String, f64, Option<&'static str>)], title: &str) -> String {
    let w = 560.0;
    let row = 24.0;
    // Wide enough for the longest label (a CJK character is about 12 px at this size).
    let longest = items.iter().map(|(l, ..)| l.chars().map(|c| if c.is_ascii() { 7.0 } else { 12.5 }).sum::<f64>()).fold(0.0, f64::max);
    let label_w = (longest + 12.0).clamp(80.0, 260.0);
    let h = row * items.len() as f64 + 8.0;
    let mut out = format!(r#"<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{}">"#, esc(title));
    for (i, (label, v, mark)) in items.iter().enumerate() {
        let y = i as f64 * row + 4.0;
        let v = v.clamp(0.0, 1.0);
        let bw = (w - label_w - 60.0) * v;
        let class = match mark {
            Some(m) => format!("bar {m}"),
            None => "bar".to_string(),
        };
        let _ = write!(
            out,
            r##"<g><title>{label}: {pct:.1}%</title><text x="{lx}" y="{ty}" text-anchor="end" class="lbl">{label}</text><rect x="{label_w}" y="{y}" width="{bw:.1}" height="{bh}" rx="3" class="{class}"/><text x="{vx:.1}" y="{ty}" class="val">{pct:.1}%</text></g>"##,
            label = esc(label),
            pct = v * 100.0,
            lx = label_w - 6.0,
            ty = y + 15.0,
            bh = row - 8.0,
            vx = label_w + bw + 5.0,
        );
    }
    out.push_str("</svg>");
    out
}

/// A point on the points map.
pub struct MapPoint<'a> {
    pub name: &'a str,
    pub lat: f64,
    pub lon: f64,
    /// 0 … 5 of `ramp`; 0 for not inspected.
    pub shade: usize,
    pub label: String,
    pub href: String,
}

/// The grids in grey with the points as dots over them, each a link.
pub fn point_map(grids: &[&MultiPolygon<f64>], points: &[MapPoint<'_>], title: &str, ramp: &[&str; 6]) -> String {
    let width = 640.0;
    let Some(p) = Projection::fit(grids.iter().copied(), width) else { return String::new() };
    let mut out = format!(r#"<svg class="map" viewBox="0 0 {width} {:.1}" role="img" aria-label="{}">"#, p.height, esc(title));
    for shape in grids {
        let _ = write!(out, r#"<path d="{}" class="nb"/>"#, p.path(shape));
    }
    for pt in points {
        let (x, y) = p.point(pt.lon, pt.lat);
        let _ = write!(
            out,
            r#"<a href="{}"><circle cx="{x:.1}" cy="{y:.1}" r="5" fill="{}" class="spot"><title>{}: {}</title></circle></a>"#,
            esc(&pt.href),
            ramp[pt.shade.min(5)],
            esc(pt.name),
            esc(&pt.label),
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    #[test]
    fn charts_escape_labels_and_carry_titles() {
        let svg = bars(&[("<b>&".into(), 3), ("乱扔垃圾".into(), 1)], "x");
        assert!(svg.contains("&lt;b&gt;&amp;: 3"));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        let t = trend(&[("11-01".into(), 3, 1), ("11-02".into(), 5, 4)], "t", ("上报", "结案"));
        assert_eq!(t.matches("<circle").count(), 4);
    }

    #[test]
    fn rate_bars_show_percentages_and_points_are_links() {
        let svg = rate_bars(&[("开元社区".into(), 0.9234, Some("good")), ("x".into(), 1.7, None)], "r");
        assert!(svg.contains("开元社区: 92.3%") && svg.contains("bar good"));
        assert!(svg.contains("x: 100.0%"), "a share is never drawn past 100 %");
        let a = MultiPolygon(vec![polygon![(x: 117.15, y: 36.96), (x: 117.16, y: 36.96), (x: 117.16, y: 36.97), (x: 117.15, y: 36.96)]]);
        let pts = [MapPoint { name: "市场", lat: 36.965, lon: 117.155, shade: 3, label: "88%".into(), href: "/p".into() }];
        let svg = point_map(&[&a], &pts, "m", &RAMP_ON_TIME);
        assert_eq!(svg.matches("<circle").count(), 1);
        assert!(svg.contains("市场: 88%"));
    }

    #[test]
    fn the_map_draws_every_grid_as_a_link() {
        let a = MultiPolygon(vec![polygon![(x: 117.15, y: 36.96), (x: 117.16, y: 36.96), (x: 117.16, y: 36.97), (x: 117.15, y: 36.96)]]);
        let grids = vec![
            MapGrid {
                code: "001",
                name: "第1网格",
                shape: &a,
                shade: shade(0.0, 7.0),
                label: "0 件".into(),
                href: "/cases?grid=001".into(),
            },
            MapGrid {
                code: "002",
                name: "第2网格",
                shape: &a,
                shade: shade(7.0, 7.0),
                label: "7 件".into(),
                href: "/cases?grid=002".into(),
            },
        ];
        let svg = grid_map(&grids, "map", &RAMP_OPEN);
        assert_eq!(svg.matches("<a href=").count(), 2);
        assert!(svg.contains("第2网格 002: 7 件"));
        assert!(svg.contains("#c51b8a"), "the busiest grid is darkest");
    }
}
