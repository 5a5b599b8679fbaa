//! Inspection points (点位): the register, kept by those who plan inspections; imported
//! from a spreadsheet (名称, 点位类型, 纬度, 经度, 责任单位, 地址), all rows or none. A point's
//! location gives its grid and community; a simulated test has none.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::app::App;
use crate::domain::authz::{Actor, Permission};
use crate::domain::coords::LatLon;
use crate::domain::org::OrgKind;
use crate::error::{AppError, AppResult, FileProblem};
use crate::i18n::{Lang, t};
use crate::store::inspections::{self as db, PointRow};
use crate::store::new_id;

/// A point as a viewer sees it, with the names of where it is.
#[derive(Debug, Clone, Serialize)]
pub struct PointView {
    #[serde(flatten)]
    pub point: PointRow,
    pub grid_name: Option<String>,
    pub community_name: Option<String>,
    pub unit_name: String,
    pub simulated: bool,
}

/// A point to add (the demo, an import row).
#[derive(Debug, Clone)]
pub struct PointDraft {
    pub name: String,
    pub point_type: String,
    pub at: Option<LatLon>,
    /// Code or name of the responsible unit.
    pub unit: String,
    pub address: Option<String>,
}

const COLUMNS: [(&str, &[&str]); 6] = [
    ("name", &["名称", "点位名称", "name"]),
    ("point_type", &["点位类型", "point_type"]),
    ("lat", &["纬度", "lat", "latitude"]),
    ("lon", &["经度", "lon", "lng", "longitude"]),
    ("unit", &["责任单位", "unit"]),
    ("address", &["地址", "address"]),
];

impl App {
    /// Turns drafts into rows, or every problem with its row (`rows[i]` is the draft's row
    /// number; the header is row 1).
    async fn checked_points(&self, actor: &Actor, drafts: Vec<(usize, PointDraft)>, lang: Lang) -> AppResult<Vec<PointRow>> {
        let manual = self.manual(&Actor::console(), None).await?;
        let mut types: HashMap<String, bool> = HashMap::new();
        for i in &manual.items {
            types.insert(i.point_type.clone(), i.simulated);
        }
        let dir = self.directory();
        let now = self.now();
        let mut problems = Vec::new();
        let mut rows = Vec::new();
        let mut seen: HashSet<(String, String)> = HashSet::new();
        for (row, d) in drafts {
            let mut say = |key: &str, args: &[(&str, &str)]| problems.push(FileProblem { row, message: t(lang, key, args) });
            let name = d.name.trim().to_string();
            if name.is_empty() {
                say("import.points.missing", &[("column", "名称")]);
                continue;
            }
            let Some(&simulated) = types.get(d.point_type.trim()) else {
                say("import.points.unknown_type", &[("type", d.point_type.trim())]);
                continue;
            };
            if !seen.insert((d.point_type.trim().to_string(), name.clone())) {
                say("import.points.duplicate", &[("name", &name)]);
                continue;
            }
            let Some(unit) = dir.unit_named(&d.unit).filter(|u| {
                matches!(u.kind, OrgKind::Community | OrgKind::Department | OrgKind::SponsorUnit | OrgKind::Subdistrict | OrgKind::Grid)
            }) else {
                say("import.points.unknown_unit", &[("unit", d.unit.trim())]);
                continue;
            };
            let grid = match (d.at, simulated) {
                (Some(at), _) => match dir.locate(at) {
                    Some(g) => Some(g.clone()),
                    None => {
                        say("import.points.outside", &[("name", &name)]);
                        continue;
                    }
                },
                (None, true) => None,
                (None, false) => {
                    say("import.points.no_location", &[("name", &name)]);
                    continue;
                }
            };
            let scope_path = grid.as_ref().map(|g| g.path.clone()).unwrap_or_else(|| unit.path.clone());
            if !actor.can(Permission::PlanInspections, &scope_path) {
                say("import.points.outside_scope", &[("name", &name)]);
                continue;
            }
            let community_id = grid.as_ref().and_then(|g| dir.unit(&g.id)).and_then(|g| g.parent_id.clone());
            rows.push(PointRow {
                id: new_id(),
                name,
                point_type: d.point_type.trim().to_string(),
                lat: d.at.map(|p| p.lat),
                lon: d.at.map(|p| p.lon),
                grid_id: grid.as_ref().map(|g| g.id.clone()),
                community_id,
                scope_path,
                unit_id: unit.id.clone(),
                address: d.address.map(|a| a.trim().to_string()).filter(|a| !a.is_empty()),
                active: true,
                created_at: now,
            });
        }
        if problems.is_empty() { Ok(rows) } else { Err(AppError::InvalidFile(problems)) }
    }

    /// Adds points (or updates those of the same type and name): all of them or none.
    pub async fn add_points(&self, actor: &Actor, drafts: Vec<PointDraft>, lang: Lang) -> AppResult<(usize, usize)> {
        if !actor.can_somewhere(Permission::PlanInspections) {
            return Err(AppError::Forbidden);
        }
        let numbered = drafts.into_iter().enumerate().map(|(i, d)| (i + 1, d)).collect();
        let rows = self.checked_points(actor, numbered, lang).await?;
        Ok(self.store().write(move |c| db::upsert_points(c, &rows)).await?)
    }

    /// Imports points from a spreadsheet or CSV: every row or, on any problem, none.
    pub async fn import_points(&self, actor: &Actor, bytes: &[u8], lang: Lang) -> AppResult<(usize, usize)> {
        if !actor.can_somewhere(Permission::PlanInspections) {
            return Err(AppError::Forbidden);
        }
        let unreadable = |e: String| {
            AppError::InvalidFile(vec![FileProblem { row: 0, message: t(lang, "import.points.unreadable", &[("detail", &e)]) }])
        };
        let table = crate::app::people::read_table_bytes(bytes, false).map_err(unreadable)?;
        let Some(header) = table.first() else { return Err(unreadable("empty".into())) };
        let col = crate::app::people::column_map(header, &COLUMNS);
        let missing = crate::app::people::missing_columns(&col, &COLUMNS, &["name", "point_type", "unit"]);
        if !missing.is_empty() {
            return Err(AppError::InvalidFile(vec![FileProblem {
                row: 1,
                message: t(lang, "import.points.missing_columns", &[("columns", &missing.join("、"))]),
            }]));
        }
        let mut drafts = Vec::new();
        let mut problems = Vec::new();
        for (i, row) in table.iter().enumerate().skip(1) {
            if row.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            let get = |f: &str| col.get(f).and_then(|&c| row.get(c)).map(|s| s.trim().to_string()).unwrap_or_default();
            let (lat, lon) = (get("lat"), get("lon"));
            let at = match (lat.is_empty() && lon.is_empty(), lat.parse::<f64>(), lon.parse::<f64>()) {
                (true, _, _) => None,
                (false, Ok(la), Ok(lo)) => match LatLon::to_wgs84(la, lo, crate::domain::coords::Crs::Wgs84) {
                    Ok(p) => Some(p),
                    Err(_) => {
                        problems.push(FileProblem {
                            row: i + 1,
                            message: t(lang, "import.points.bad_location", &[("lat", &lat), ("lon", &lon)]),
                        });
                        continue;
                    }
                },
                _ => {
                    problems
                        .push(FileProblem { row: i + 1, message: t(lang, "import.points.bad_location", &[("lat", &lat), ("lon", &lon)]) });
                    continue;
                }
            };
            let address = Some(get("address")).filter(|a| !a.is_empty());
            drafts.push((i + 1, PointDraft { name: get("name"), point_type: get("point_type"), at, unit: get("unit"), address }));
        }
        let rows = match self.checked_points(actor, drafts, lang).await {
            Ok(rows) if problems.is_empty() => rows,
            Ok(_) => return Err(AppError::InvalidFile(problems)),
            Err(AppError::InvalidFile(more)) => {
                problems.extend(more);
                problems.sort_by_key(|p| p.row);
                return Err(AppError::InvalidFile(problems));
            }
            Err(e) => return Err(e),
        };
        Ok(self.store().write(move |c| db::upsert_points(c, &rows)).await?)
    }

    /// The points the viewer may see, of one type or all.
    pub async fn points(&self, actor: &Actor, point_type: Option<&str>) -> AppResult<Vec<PointView>> {
        let scopes: Vec<String> = actor.scopes(Permission::ReadInspections).into_iter().map(str::to_string).collect();
        if scopes.is_empty() {
            return Err(AppError::Forbidden);
        }
        let kind = point_type.map(str::to_string);
        let rows = self.store().read(move |c| db::points(c, &scopes, kind.as_deref())).await?;
        let manual = self.manual(&Actor::console(), None).await.ok();
        Ok(rows.into_iter().map(|p| self.point_view(p, manual.as_ref())).collect())
    }

    pub(crate) fn point_view(&self, p: PointRow, manual: Option<&super::ManualView>) -> PointView {
        let dir = self.directory();
        let name = |id: &Option<String>| id.as_deref().and_then(|i| dir.unit(i)).map(|u| u.name.clone());
        let simulated = manual.is_some_and(|m| m.items.iter().any(|i| i.point_type == p.point_type && i.simulated));
        PointView {
            grid_name: name(&p.grid_id),
            community_name: name(&p.community_id),
            unit_name: dir.unit(&p.unit_id).map(|u| u.name.clone()).unwrap_or_default(),
            simulated,
            point: p,
        }
    }
}
