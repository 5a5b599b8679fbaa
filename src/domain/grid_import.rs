//! Reading a grid file (GeoJSON FeatureCollection) into checked grid drafts.
//!
//! Everything is checked before anything is written: the caller gets either every grid or
//! every problem, each with the 1-based feature number, so nothing is ever half-imported.

use std::collections::HashMap;

use geo::{Area, BooleanOps, MultiPolygon, Validation};

use super::grid_index::GridIndex;
use super::org::{CodeError, OrgKind, check_code};

/// Overlap smaller than this (square degrees, ≈ 10 m² here) is digitising noise along a
/// shared edge, not two grids claiming the same ground.
const OVERLAP_TOLERANCE_DEG2: f64 = 1e-9;

#[derive(Debug, Clone)]
pub struct GridDraft {
    pub feature: usize,
    pub code: String,
    pub name: String,
    pub community_code: String,
    pub shape: MultiPolygon<f64>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GridProblem {
    #[error("the file is not valid GeoJSON: {0}")]
    Malformed(String),
    #[error("the file is not a GeoJSON FeatureCollection")]
    NotFeatureCollection,
    #[error("the file contains no grids")]
    Empty,
    #[error("property `{0}` is missing or empty")]
    MissingProperty(&'static str),
    #[error("geometry must be a Polygon or MultiPolygon")]
    NotPolygon,
    #[error("invalid geometry: {0}")]
    InvalidGeometry(String),
    #[error("bad grid code: {0}")]
    BadCode(CodeError),
    #[error("grid code {code} appears again in feature {first}")]
    DuplicateCode { code: String, first: usize },
    #[error("unknown community {0}")]
    UnknownCommunity(String),
    #[error("overlaps grid {0}")]
    Overlaps(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct FeatureProblem {
    /// 1-based feature number; 0 for problems with the file as a whole.
    pub feature: usize,
    pub problem: GridProblem,
}

/// A community the file may refer to, by code or by name.
#[derive(Debug, Clone)]
pub struct KnownCommunity {
    pub code: String,
    pub name: String,
}

fn prop(props: Option<&geojson::JsonObject>, key: &str) -> Option<String> {
    let v = props?.get(key)?;
    let s = match v {
        serde_json::Value::String(s) => s.trim().to_string(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!s.is_empty()).then_some(s)
}

/// Every position of a (multi)polygon has two or three finite numbers. (The GeoJSON crate
/// panics converting a one-number position; found by the `grid_import` fuzz target.)
fn positions_are_points(v: &geojson::GeometryValue) -> bool {
    let ok = |p: &geojson::Position| (2..=3).contains(&p.len()) && p.as_slice().iter().all(|x| x.is_finite());
    match v {
        geojson::GeometryValue::Polygon { coordinates } => coordinates.iter().flatten().all(ok),
        geojson::GeometryValue::MultiPolygon { coordinates } => coordinates.iter().flatten().flatten().all(ok),
        _ => true,
    }
}

/// Parses and checks a grid file. `existing` holds the grids already stored (code, shape);
/// a feature with an existing code replaces that grid, so only other grids count as overlap.
pub fn parse_grids(
    text: &str,
    communities: &[KnownCommunity],
    existing: &[(String, MultiPolygon<f64>)],
) -> Result<Vec<GridDraft>, Vec<FeatureProblem>> {
    let whole = |problem| vec![FeatureProblem { feature: 0, problem }];
    let gj: geojson::GeoJson = text.parse().map_err(|e: geojson::Error| whole(GridProblem::Malformed(e.to_string())))?;
    let geojson::GeoJson::FeatureCollection(fc) = gj else {
        return Err(whole(GridProblem::NotFeatureCollection));
    };
    if fc.features.is_empty() {
        return Err(whole(GridProblem::Empty));
    }
    let by_code: HashMap<&str, &KnownCommunity> = communities.iter().map(|c| (c.code.as_str(), c)).collect();
    let by_name: HashMap<&str, &KnownCommunity> = communities.iter().map(|c| (c.name.as_str(), c)).collect();

    let mut problems = Vec::new();
    let mut drafts: Vec<GridDraft> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, f) in fc.features.iter().enumerate() {
        let n = i + 1;
        let mut report = |problem| problems.push(FeatureProblem { feature: n, problem });
        let props = f.properties.as_ref();
        let code = prop(props, "code");
        let name = prop(props, "name");
        let community = prop(props, "community");
        let (Some(code), Some(name), Some(community)) = (code, name, community) else {
            for (key, present) in [
                ("code", prop(props, "code").is_some()),
                ("name", prop(props, "name").is_some()),
                ("community", prop(props, "community").is_some()),
            ] {
                if !present {
                    report(GridProblem::MissingProperty(key));
                }
            }
            continue;
        };
        let Some(c) = by_code.get(community.as_str()).or_else(|| by_name.get(community.as_str())) else {
            report(GridProblem::UnknownCommunity(community));
            continue;
        };
        if let Err(e) = check_code(OrgKind::Grid, &code, Some(&c.code)) {
            report(GridProblem::BadCode(e));
            continue;
        }
        if let Some(first) = seen.get(&code) {
            report(GridProblem::DuplicateCode { code, first: *first });
            continue;
        }
        seen.insert(code.clone(), n);
        if let Some(g) = &f.geometry
            && !positions_are_points(&g.value)
        {
            report(GridProblem::InvalidGeometry("every position needs a longitude and a latitude".into()));
            continue;
        }
        let shape = match f.geometry.as_ref().map(|g| &g.value) {
            Some(v @ geojson::GeometryValue::Polygon { .. }) => geo::Polygon::<f64>::try_from(v).map(|p| MultiPolygon(vec![p])),
            Some(v @ geojson::GeometryValue::MultiPolygon { .. }) => MultiPolygon::<f64>::try_from(v),
            _ => {
                report(GridProblem::NotPolygon);
                continue;
            }
        };
        let shape = match shape {
            Ok(s) => s,
            Err(e) => {
                report(GridProblem::InvalidGeometry(e.to_string()));
                continue;
            }
        };
        let errors = shape.validation_errors();
        if let Some(e) = errors.first() {
            report(GridProblem::InvalidGeometry(e.to_string()));
            continue;
        }
        if shape.unsigned_area() <= 0.0 {
            report(GridProblem::InvalidGeometry("zero area".into()));
            continue;
        }
        drafts.push(GridDraft { feature: n, code, name, community_code: c.code.clone(), shape });
    }

    // Overlaps: each new grid against the other new grids and the kept existing ones.
    let mut others: Vec<(String, MultiPolygon<f64>, usize)> =
        existing.iter().filter(|(code, _)| !seen.contains_key(code)).map(|(code, shape)| (code.clone(), shape.clone(), 0)).collect();
    others.extend(drafts.iter().map(|d| (d.code.clone(), d.shape.clone(), d.feature)));
    let index = GridIndex::build(others.into_iter().map(|(c, s, f)| (c.clone(), s, (c, f))).collect());
    for d in &drafts {
        for (other_code, other_shape) in index.candidates(&d.shape) {
            if other_code == d.code {
                continue;
            }
            let overlap = d.shape.intersection(other_shape).unsigned_area();
            if overlap > OVERLAP_TOLERANCE_DEG2 {
                problems.push(FeatureProblem { feature: d.feature, problem: GridProblem::Overlaps(other_code.to_string()) });
            }
        }
    }
    if problems.is_empty() {
        Ok(drafts)
    } else {
        problems.sort_by_key(|p| p.feature);
        Err(problems)
    }
}

#[cfg(test)]
mod fuzz_findings {
    use super::*;

    #[test]
    fn a_position_with_one_number_is_a_problem_not_a_panic() {
        let text = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"370115001001001","name":"第一网格","community":"370115001001"},"geometry":{"type":"Polygon","coordinates":[[[117.15,36.96],[117.153,36.10],[11.9635],[117.15,36.96]]]}}]}"#;
        let communities = [KnownCommunity { code: "370115001001".into(), name: "城区社区".into() }];
        let problems = parse_grids(text, &communities, &[]).unwrap_err();
        assert!(matches!(problems[0].problem, GridProblem::InvalidGeometry(_)), "{problems:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn communities() -> Vec<KnownCommunity> {
        vec![KnownCommunity { code: "370115001001".into(), name: "开元社区".into() }]
    }

    fn feature(code: &str, community: &str, x: f64, size: f64) -> String {
        format!(
            r#"{{"type":"Feature","properties":{{"code":"{code}","name":"第{code}网格","community":"{community}"}},
            "geometry":{{"type":"Polygon","coordinates":[[[{x},36.96],[{x2},36.96],[{x2},36.97],[{x},36.97],[{x},36.96]]]}}}}"#,
            x2 = x + size
        )
    }

    fn collection(features: &[String]) -> String {
        format!(r#"{{"type":"FeatureCollection","features":[{}]}}"#, features.join(","))
    }

    #[test]
    fn good_file_gives_drafts() {
        let text =
            collection(&[feature("370115001001001", "开元社区", 117.15, 0.01), feature("370115001001002", "370115001001", 117.16, 0.01)]);
        let drafts = parse_grids(&text, &communities(), &[]).unwrap();
        assert_eq!(drafts.len(), 2);
        assert_eq!(drafts[1].community_code, "370115001001");
    }

    #[test]
    fn every_problem_is_reported_with_its_feature_number() {
        let text = collection(&[
            feature("370115001001001", "开元社区", 117.15, 0.01),
            feature("370115001001001", "开元社区", 117.20, 0.01),
            feature("370115001001003", "不存在社区", 117.30, 0.01),
            feature("370115001001004", "开元社区", 117.155, 0.01),
        ]);
        let problems = parse_grids(&text, &communities(), &[]).unwrap_err();
        assert!(
            problems
                .contains(&FeatureProblem { feature: 2, problem: GridProblem::DuplicateCode { code: "370115001001001".into(), first: 1 } })
        );
        assert!(problems.contains(&FeatureProblem { feature: 3, problem: GridProblem::UnknownCommunity("不存在社区".into()) }));
        assert!(problems.contains(&FeatureProblem { feature: 4, problem: GridProblem::Overlaps("370115001001001".into()) }));
    }

    #[test]
    fn malformed_and_invalid_geometry_are_refused() {
        assert!(matches!(parse_grids("{not json", &communities(), &[]).unwrap_err()[0].problem, GridProblem::Malformed(_)));
        let bowtie = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"370115001001001","name":"x","community":"开元社区"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}}]}"#;
        let p = parse_grids(bowtie, &communities(), &[]).unwrap_err();
        assert!(matches!(p[0].problem, GridProblem::InvalidGeometry(_)), "{p:?}");
    }

    #[test]
    fn replacing_an_existing_grid_is_not_an_overlap() {
        let text = collection(&[feature("370115001001001", "开元社区", 117.15, 0.01)]);
        let existing = parse_grids(&text, &communities(), &[]).unwrap();
        let kept = vec![(existing[0].code.clone(), existing[0].shape.clone())];
        assert!(parse_grids(&text, &communities(), &kept).is_ok());
    }
}
