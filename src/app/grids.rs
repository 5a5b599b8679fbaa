//! Grids: the in-memory directory (locate, GeoJSON) and grid import.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use geo::{BoundingRect, GeodesicArea, MultiPolygon};
use serde::Serialize;

use super::{App, ORG_REVISION};
use crate::domain::authz::{Actor, Permission, Role};
use crate::domain::coords::{Crs, LatLon};
use crate::domain::grid_import::{FeatureProblem, GridProblem, KnownCommunity, parse_grids};
use crate::domain::grid_index::GridIndex;
use crate::domain::org::{OrgKind, OrgUnit};
use crate::domain::privacy::mask_phone;
use crate::error::{AppError, AppResult, FileProblem, Thing};
use crate::i18n::{Lang, t};
use crate::store::{Conn, org, people, schema};

#[derive(Debug, Clone, Serialize)]
pub struct UnitRef {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct GridWorkerRef {
    pub name: String,
    /// Masked: the directory is public.
    pub phone: Option<String>,
}

/// What the directory knows of a grid: enough to answer "whose is this place?".
#[derive(Debug, Clone, Serialize)]
pub struct GridInfo {
    pub code: String,
    pub name: String,
    #[serde(skip)]
    pub id: String,
    #[serde(skip)]
    pub path: String,
    pub community: UnitRef,
    pub grid_workers: Vec<GridWorkerRef>,
    pub sponsor_units: Vec<String>,
    pub area_m2: f64,
}

/// All grids in memory: the R-tree for locating and the GeoJSON for maps, and every org unit
/// by id (for the names on a case), rebuilt whenever the org changes.
pub struct GridDirectory {
    index: GridIndex<GridInfo>,
    units: HashMap<String, OrgUnit>,
    /// (community code, feature) in grid-code order.
    features: Vec<(String, serde_json::Value)>,
    all_json: String,
    shapes: Vec<(String, MultiPolygon<f64>)>,
    /// Grid id → position among the index's payloads.
    by_id: HashMap<String, usize>,
}

impl GridDirectory {
    pub fn empty() -> GridDirectory {
        GridDirectory::build(Vec::new(), Vec::new())
    }

    pub fn build(grids: Vec<(GridInfo, MultiPolygon<f64>)>, units: Vec<OrgUnit>) -> GridDirectory {
        let mut features = Vec::with_capacity(grids.len());
        let mut shapes = Vec::with_capacity(grids.len());
        let mut entries = Vec::with_capacity(grids.len());
        for (info, shape) in grids {
            let geometry = geojson::Geometry::from(geojson::GeometryValue::from(&shape));
            features.push((
                info.community.code.clone(),
                serde_json::json!({
                    "type": "Feature",
                    "id": info.code,
                    "geometry": geometry,
                    "properties": {
                        "code": info.code,
                        "name": info.name,
                        "community": info.community.name,
                        "community_code": info.community.code,
                    }
                }),
            ));
            shapes.push((info.code.clone(), shape.clone()));
            entries.push((info.code.clone(), shape, info));
        }
        let all_json = collection_json(features.iter().map(|(_, f)| f));
        let units = units.into_iter().map(|u| (u.id.clone(), u)).collect();
        let index = GridIndex::build(entries);
        let by_id = index.payloads().iter().enumerate().map(|(i, g)| (g.id.clone(), i)).collect();
        GridDirectory { index, units, features, all_json, shapes, by_id }
    }

    /// An org unit of any kind, by id.
    pub fn unit(&self, id: &str) -> Option<&OrgUnit> {
        self.units.get(id)
    }

    /// Every org unit, in no order.
    pub fn units(&self) -> impl Iterator<Item = &OrgUnit> {
        self.units.values()
    }

    /// A unit by its code, or (when exactly one has it) by its name.
    pub fn unit_named(&self, code_or_name: &str) -> Option<&OrgUnit> {
        let key = code_or_name.trim();
        self.units.values().find(|u| u.code == key).or_else(|| {
            let mut named = self.units.values().filter(|u| u.name == key);
            match (named.next(), named.next()) {
                (Some(u), None) => Some(u),
                _ => None,
            }
        })
    }

    /// A grid with its community, workers and sponsor units, by the grid's id.
    pub fn grid(&self, id: &str) -> Option<&GridInfo> {
        self.by_id.get(id).and_then(|&i| self.index.payloads().get(i))
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    pub fn locate(&self, p: LatLon) -> Option<&GridInfo> {
        self.index.locate(p)
    }

    /// The grids as a GeoJSON FeatureCollection, optionally of one community.
    pub fn geojson(&self, community_code: Option<&str>) -> String {
        match community_code {
            None => self.all_json.clone(),
            Some(c) => collection_json(self.features.iter().filter(|(cc, _)| cc == c).map(|(_, f)| f)),
        }
    }

    pub fn grids(&self) -> impl Iterator<Item = &GridInfo> {
        self.index.payloads().iter()
    }

    /// A point surely inside the grid (for reports that name a grid instead of a position).
    pub fn interior_point(&self, code: &str) -> Option<LatLon> {
        use geo::InteriorPoint;
        let (_, shape) = self.shapes.iter().find(|(c, _)| c == code)?;
        let p = shape.interior_point()?;
        Some(LatLon { lat: p.y(), lon: p.x() })
    }

    pub fn shapes(&self) -> &[(String, MultiPolygon<f64>)] {
        &self.shapes
    }
}

fn collection_json<'a>(features: impl Iterator<Item = &'a serde_json::Value>) -> String {
    let features: Vec<&serde_json::Value> = features.collect();
    serde_json::json!({ "type": "FeatureCollection", "features": features }).to_string()
}

/// Reads everything the directory needs in one snapshot.
pub fn load_directory(conn: &mut dyn Conn) -> AppResult<GridDirectory> {
    let units = org::list_units(conn, &[], None)?;
    let communities: HashMap<String, UnitRef> = units
        .iter()
        .filter(|u| u.kind == OrgKind::Community)
        .map(|u| (u.id.clone(), UnitRef { code: u.code.clone(), name: u.name.clone() }))
        .collect();
    let mut workers: HashMap<String, Vec<GridWorkerRef>> = HashMap::new();
    for m in people::members(conn, Some(Role::GridWorker), None)? {
        workers.entry(m.org_unit_id).or_default().push(GridWorkerRef { name: m.name, phone: m.phone.as_deref().map(mask_phone) });
    }
    let mut sponsors: HashMap<String, Vec<String>> = HashMap::new();
    for (unit, sponsor) in org::sponsorships(conn)? {
        sponsors.entry(unit).or_default().push(sponsor);
    }
    let mut grids = Vec::new();
    for g in org::grids(conn, None)? {
        let shape = match parse_shape(&g.geometry) {
            Some(s) => s,
            None => {
                tracing::warn!(code = %g.unit.code, "stored grid geometry is unreadable; skipped");
                continue;
            }
        };
        let community = communities.get(&g.community_id).cloned().unwrap_or(UnitRef { code: String::new(), name: String::new() });
        let mut sponsor_units = sponsors.get(&g.unit.id).cloned().unwrap_or_default();
        // A community's sponsor units also answer for its grids.
        if let Some(s) = sponsors.get(&g.community_id) {
            sponsor_units.extend(s.iter().cloned());
        }
        grids.push((
            GridInfo {
                code: g.unit.code,
                name: g.unit.name,
                grid_workers: workers.remove(&g.unit.id).unwrap_or_default(),
                id: g.unit.id,
                path: g.unit.path,
                community,
                sponsor_units,
                area_m2: g.area_m2,
            },
            shape,
        ));
    }
    Ok(GridDirectory::build(grids, units))
}

pub(crate) fn parse_shape(geometry: &str) -> Option<MultiPolygon<f64>> {
    let g: geojson::Geometry = geometry.parse::<geojson::Geometry>().ok()?;
    match &g.value {
        v @ geojson::GeometryValue::Polygon { .. } => geo::Polygon::try_from(v).ok().map(|p| MultiPolygon(vec![p])),
        v @ geojson::GeometryValue::MultiPolygon { .. } => MultiPolygon::try_from(v).ok(),
        _ => None,
    }
}

/// How an import went.
#[derive(Debug, Clone, Serialize)]
pub struct ImportSummary {
    pub created: usize,
    pub updated: usize,
}

fn problem_message(lang: Lang, p: &GridProblem) -> String {
    match p {
        GridProblem::Malformed(d) => t(lang, "import.grid.malformed", &[("detail", d)]),
        GridProblem::NotFeatureCollection => t(lang, "import.grid.not_feature_collection", &[]),
        GridProblem::Empty => t(lang, "import.grid.empty", &[]),
        GridProblem::MissingProperty(k) => t(lang, "import.grid.missing_property", &[("name", k)]),
        GridProblem::NotPolygon => t(lang, "import.grid.not_polygon", &[]),
        GridProblem::InvalidGeometry(d) => t(lang, "import.grid.invalid_geometry", &[("detail", d)]),
        GridProblem::BadCode(e) => t(lang, "import.grid.bad_code", &[("detail", &e.to_string())]),
        GridProblem::DuplicateCode { code, first } => {
            t(lang, "import.grid.duplicate_code", &[("code", code), ("first", &first.to_string())])
        }
        GridProblem::UnknownCommunity(c) => t(lang, "import.grid.unknown_community", &[("community", c)]),
        GridProblem::Overlaps(c) => t(lang, "import.grid.overlaps", &[("code", c)]),
    }
}

pub fn file_problems(lang: Lang, problems: &[FeatureProblem]) -> Vec<FileProblem> {
    problems.iter().map(|p| FileProblem { row: p.feature, message: problem_message(lang, &p.problem) }).collect()
}

impl App {
    /// Which grid (and so which community, grid worker and sponsor unit) a location is in.
    pub fn locate(&self, lat: f64, lon: f64, crs: Crs) -> AppResult<(LatLon, GridInfo)> {
        let p = LatLon::to_wgs84(lat, lon, crs)?;
        self.metrics().locates.fetch_add(1, Ordering::Relaxed);
        let dir = self.directory();
        let info = dir.locate(p).cloned().ok_or(AppError::OutsideGrids)?;
        Ok((p, info))
    }

    /// Imports a GeoJSON grid file: all of it or, when anything is wrong, none of it. The
    /// actor must manage the org of every grid's community.
    pub async fn import_grids(&self, actor: &Actor, text: String, lang: Lang) -> AppResult<ImportSummary> {
        if !actor.can_somewhere(Permission::ManageOrg) {
            return Err(AppError::Forbidden);
        }
        let communities = self.store().read(|c| org::list_units(c, &[OrgKind::Community], None)).await?;
        let known: Vec<KnownCommunity> =
            communities.iter().map(|u| KnownCommunity { code: u.code.clone(), name: u.name.clone() }).collect();
        let existing = self.directory().shapes().to_vec();
        let drafts = tokio::task::spawn_blocking(move || parse_grids(&text, &known, &existing))
            .await
            .map_err(|_| AppError::Internal("grid import task failed".into()))?
            .map_err(|problems| AppError::InvalidFile(file_problems(lang, &problems)))?;
        let by_code: HashMap<String, crate::domain::org::OrgUnit> = communities.into_iter().map(|u| (u.code.clone(), u)).collect();
        for d in &drafts {
            let allowed = by_code.get(&d.community_code).is_some_and(|c| actor.can(Permission::ManageOrg, &c.path));
            if !allowed {
                return Err(AppError::Forbidden);
            }
        }
        let existing_codes: std::collections::HashSet<String> = self.directory().shapes().iter().map(|(c, _)| c.clone()).collect();
        let summary = self
            .store()
            .write(move |c| {
                let mut summary = ImportSummary { created: 0, updated: 0 };
                for (i, d) in drafts.iter().enumerate() {
                    let community = by_code.get(&d.community_code).ok_or(AppError::NotFound(Thing::Community))?;
                    let geometry = geojson::Geometry::from(geojson::GeometryValue::from(&d.shape)).to_string();
                    let rect = d.shape.bounding_rect().ok_or_else(|| AppError::BadRequest("empty geometry".into()))?;
                    org::upsert_grid(
                        c,
                        &d.code,
                        &d.name,
                        community,
                        org::GridShape {
                            geometry_json: &geometry,
                            bbox: [rect.min().x, rect.min().y, rect.max().x, rect.max().y],
                            area_m2: d.shape.geodesic_area_unsigned(),
                        },
                        i as i64,
                    )?;
                    if existing_codes.contains(&d.code) {
                        summary.updated += 1;
                    } else {
                        summary.created += 1;
                    }
                }
                schema::meta_bump(c, ORG_REVISION)?;
                Ok::<_, AppError>(summary)
            })
            .await?;
        self.reload_directory().await?;
        Ok(summary)
    }
}
