//! Point-in-grid lookup: an R-tree over the grids' bounding boxes, then an exact
//! point-in-polygon test on the few candidates. Built once, read by every request.

use geo::{BoundingRect, Coord, Intersects, MultiPolygon};
use rstar::{AABB, RTree, RTreeObject};

use super::coords::LatLon;

struct Entry {
    envelope: AABB<[f64; 2]>,
    slot: usize,
}

impl RTreeObject for Entry {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.envelope
    }
}

/// An immutable index from location to the grid (and whatever the caller attaches to it).
pub struct GridIndex<T> {
    tree: RTree<Entry>,
    shapes: Vec<(String, MultiPolygon<f64>)>,
    payload: Vec<T>,
}

impl<T> GridIndex<T> {
    /// `grids`: (grid code, shape in lon/lat, payload). Shapes without area are skipped.
    pub fn build(grids: Vec<(String, MultiPolygon<f64>, T)>) -> GridIndex<T> {
        let mut entries = Vec::with_capacity(grids.len());
        let mut shapes = Vec::with_capacity(grids.len());
        let mut payload = Vec::with_capacity(grids.len());
        for (code, shape, data) in grids {
            let Some(rect) = shape.bounding_rect() else { continue };
            entries.push(Entry {
                envelope: AABB::from_corners([rect.min().x, rect.min().y], [rect.max().x, rect.max().y]),
                slot: shapes.len(),
            });
            shapes.push((code, shape));
            payload.push(data);
        }
        GridIndex { tree: RTree::bulk_load(entries), shapes, payload }
    }

    pub fn len(&self) -> usize {
        self.shapes.len()
    }

    pub fn payloads(&self) -> &[T] {
        &self.payload
    }

    pub fn is_empty(&self) -> bool {
        self.shapes.is_empty()
    }

    /// The grid containing `p`. A point on a shared edge belongs to both; the grid with the
    /// smaller code wins, so the answer never depends on the order grids were loaded.
    pub fn locate(&self, p: LatLon) -> Option<&T> {
        let c = Coord { x: p.lon, y: p.lat };
        let mut best: Option<usize> = None;
        // Internal iteration walks the tree without building an explicit stack per call, and
        // testing each polygon directly skips the multipolygon's own bounding-box scan: the
        // tree has already checked the box. Both showed up as most of the time in a profile.
        let _ = self.tree.locate_in_envelope_intersecting_int(AABB::from_point([p.lon, p.lat]), |e| {
            let (code, shape) = &self.shapes[e.slot];
            if shape.0.iter().any(|poly| poly.intersects(&c)) && best.is_none_or(|b| code < &self.shapes[b].0) {
                best = Some(e.slot);
            }
            std::ops::ControlFlow::<()>::Continue(())
        });
        best.map(|slot| &self.payload[slot])
    }

    /// The slots of the grids whose bounding boxes meet the given shape's box: candidates
    /// for an overlap check.
    pub fn candidates(&self, shape: &MultiPolygon<f64>) -> Vec<(&str, &MultiPolygon<f64>)> {
        let Some(rect) = shape.bounding_rect() else { return Vec::new() };
        let env = AABB::from_corners([rect.min().x, rect.min().y], [rect.max().x, rect.max().y]);
        self.tree.locate_in_envelope_intersecting(env).map(|e| (self.shapes[e.slot].0.as_str(), &self.shapes[e.slot].1)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    fn square(x: f64, y: f64, size: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![polygon![
            (x: x, y: y),
            (x: x + size, y: y),
            (x: x + size, y: y + size),
            (x: x, y: y + size),
            (x: x, y: y),
        ]])
    }

    fn index() -> GridIndex<&'static str> {
        GridIndex::build(vec![("002".into(), square(117.16, 36.96, 0.01), "east"), ("001".into(), square(117.15, 36.96, 0.01), "west")])
    }

    #[test]
    fn finds_the_grid_containing_a_point() {
        let idx = index();
        assert_eq!(idx.locate(LatLon { lat: 36.965, lon: 117.155 }), Some(&"west"));
        assert_eq!(idx.locate(LatLon { lat: 36.965, lon: 117.165 }), Some(&"east"));
        assert_eq!(idx.locate(LatLon { lat: 36.90, lon: 117.155 }), None);
    }

    #[test]
    fn shared_edge_goes_to_the_smaller_code() {
        let idx = index();
        assert_eq!(idx.locate(LatLon { lat: 36.965, lon: 117.16 }), Some(&"west"));
    }

    #[test]
    fn candidates_are_neighbours_by_box() {
        let idx = index();
        let probe = square(117.155, 36.961, 0.001);
        let c: Vec<_> = idx.candidates(&probe).into_iter().map(|(code, _)| code).collect();
        assert_eq!(c, vec!["001"]);
    }
}
