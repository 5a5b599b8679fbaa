//! The demo subdistrict of the seed: 济阳区 → 济阳街道, nine communities, exactly 150 grids
//! tiling lat 36.960–36.995, lon 117.150–117.200, a grid worker for each, departments,
//! sponsor units, the volunteer teams and art troupes the seed names, and one login per role.
//! Seeded randomness: the same data on every run.

use geo::{BoundingRect, GeodesicArea, MultiPolygon, Polygon, polygon};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::Serialize;

use super::{App, ORG_REVISION, auth};
use crate::domain::authz::Role;
use crate::domain::org::{OrgKind, OrgUnit};
use crate::error::{AppError, AppResult};
use crate::store::{Conn, org, people, schema};

pub const DEMO_PASSWORD: &str = "jiyang2026";
/// Seed of the demo subdistrict's grid lattice (the same grids on every machine).
pub const GRID_SEED: u64 = 20_261_129;

const LON: (f64, f64) = (117.150, 117.200);
const LAT: (f64, f64) = (36.960, 36.995);
const COLS: usize = 15;
const ROWS: usize = 10;

pub const COMMUNITIES: [&str; 9] =
    ["开元社区", "纬二路社区", "翠岭社区", "澄波湖社区", "富阳社区", "迎宾社区", "银河社区", "汇鑫社区", "龙海社区"];

const DEPARTMENTS: [&str; 8] = ["城管执法中队", "环卫所", "市场监管所", "住建办", "园林绿化所", "济阳派出所", "交警中队", "应急管理办"];

const SPONSORS: [&str; 9] = [
    "区财政局",
    "区教育和体育局",
    "区卫生健康局",
    "区住房和城乡建设局",
    "区人力资源和社会保障局",
    "区市场监督管理局",
    "区税务局",
    "国网济阳区供电公司",
    "济阳农商银行",
];

/// Teams the seed names: (name, community index or None for the subdistrict).
const TEAMS: [(&str, Option<usize>); 6] = [
    ("“向阳花开”志愿服务队", None),
    ("“小黄帽”文明小分队", None),
    ("金秋剧社", Some(0)),
    ("梦想剧团", Some(1)),
    ("秋实文艺队", Some(2)),
    ("“678”党员驿站", None),
];

const SURNAMES: [&str; 20] =
    ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "孟"];
const GIVEN: [&str; 24] = [
    "芳", "伟", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞", "平", "建国",
    "玉兰", "海燕", "志刚",
];

/// One generated grid: its community (index), its place in the community and its shape.
#[derive(Debug, Clone)]
pub struct DemoGrid {
    pub community: usize,
    pub seq: usize,
    pub shape: Polygon<f64>,
}

/// `cols` × `rows` quadrilaterals tiling the box exactly, row by row from the south-west:
/// a lattice whose inner vertices are jittered and shared between neighbours.
pub fn jittered_lattice(cols: usize, rows: usize, lon: (f64, f64), lat: (f64, f64), rng: &mut StdRng) -> Vec<Polygon<f64>> {
    let dx = (lon.1 - lon.0) / cols as f64;
    let dy = (lat.1 - lat.0) / rows as f64;
    let mut vertex = vec![vec![(0.0, 0.0); rows + 1]; cols + 1];
    for (i, column) in vertex.iter_mut().enumerate() {
        for (j, v) in column.iter_mut().enumerate() {
            let jx = if i == 0 || i == cols { 0.0 } else { rng.random_range(-0.2..0.2) * dx };
            let jy = if j == 0 || j == rows { 0.0 } else { rng.random_range(-0.2..0.2) * dy };
            *v = (lon.0 + i as f64 * dx + jx, lat.0 + j as f64 * dy + jy);
        }
    }
    let mut cells = Vec::with_capacity(cols * rows);
    for j in 0..rows {
        for i in 0..cols {
            let (a, b, c, d) = (vertex[i][j], vertex[i + 1][j], vertex[i + 1][j + 1], vertex[i][j + 1]);
            cells.push(polygon![(x: a.0, y: a.1), (x: b.0, y: b.1), (x: c.0, y: c.1), (x: d.0, y: d.1), (x: a.0, y: a.1)]);
        }
    }
    cells
}

/// The 150 grids: a 15 × 10 lattice with jittered inner vertices (so grids look drawn, not
/// ruled), shared between neighbours so the grids tile the area exactly; communities are
/// the lattice cells nearest to nine seed points, so each community is one contiguous piece.
pub fn demo_grids(rng: &mut StdRng) -> Vec<DemoGrid> {
    let cells = jittered_lattice(COLS, ROWS, LON, LAT, rng);
    let seeds: Vec<(f64, f64)> = (0..COMMUNITIES.len())
        .map(|k| {
            let (cx, cy) = ((k % 3) as f64, (k / 3) as f64);
            ((cx + 0.5 + rng.random_range(-0.25..0.25)) * COLS as f64 / 3.0, (cy + 0.5 + rng.random_range(-0.25..0.25)) * ROWS as f64 / 3.0)
        })
        .collect();
    let mut grids = Vec::with_capacity(COLS * ROWS);
    let mut counts = [0usize; COMMUNITIES.len()];
    // North to south, west to east: the order a map reader numbers grids in.
    for j in (0..ROWS).rev() {
        for i in 0..COLS {
            let (cx, cy) = (i as f64 + 0.5, j as f64 + 0.5);
            let community = (0..seeds.len())
                .min_by(|&a, &b| {
                    let da = (seeds[a].0 - cx).powi(2) + (seeds[a].1 - cy).powi(2);
                    let db = (seeds[b].0 - cx).powi(2) + (seeds[b].1 - cy).powi(2);
                    da.total_cmp(&db)
                })
                .unwrap_or(0);
            counts[community] += 1;
            grids.push(DemoGrid { community, seq: counts[community], shape: cells[j * COLS + i].clone() });
        }
    }
    grids
}

fn person_name(rng: &mut StdRng) -> String {
    format!("{}{}", SURNAMES[rng.random_range(0..SURNAMES.len())], GIVEN[rng.random_range(0..GIVEN.len())])
}

fn phone(rng: &mut StdRng) -> String {
    let prefix = ["138", "139", "150", "151", "158", "186", "187", "135"][rng.random_range(0..8)];
    format!("{prefix}{:08}", rng.random_range(0..100_000_000u32))
}

/// A demo login as printed at start-up.
#[derive(Debug, Clone, Serialize)]
pub struct DemoLogin {
    pub username: &'static str,
    pub role: Role,
    pub unit: String,
}

/// Who logs in to the demo as what: (username, role, where). `where` names a unit by kind
/// and index: the district, the subdistrict, community 0, grid 0, department 0, team 0.
const LOGINS: [(&str, Role, OrgKind); 9] = [
    ("admin", Role::SystemAdmin, OrgKind::District),
    ("leader", Role::Leader, OrgKind::Subdistrict),
    ("dispatcher", Role::Dispatcher, OrgKind::Subdistrict),
    ("community", Role::CommunityAdmin, OrgKind::Community),
    ("gridworker", Role::GridWorker, OrgKind::Grid),
    ("handler", Role::DepartmentHandler, OrgKind::Department),
    ("inspector", Role::Inspector, OrgKind::Subdistrict),
    ("volunteer", Role::Volunteer, OrgKind::Team),
    ("teamleader", Role::TeamLeader, OrgKind::Team),
];

impl App {
    /// Creates the demo subdistrict when the database holds no org yet; returns the logins
    /// it created, or `None` when there was data already (then nothing is touched).
    pub async fn seed_demo(&self) -> AppResult<Option<Vec<DemoLogin>>> {
        let empty = self.store().read(|c| org::count_units(c, OrgKind::District)).await? == 0;
        if !empty {
            return Ok(None);
        }
        let hash = tokio::task::spawn_blocking(|| auth::hash_password(DEMO_PASSWORD))
            .await
            .map_err(|_| AppError::Internal("password hashing failed".into()))??;
        let logins = self.store().write(move |c| write_demo(c, &hash)).await?;
        self.reload_directory().await?;
        Ok(Some(logins))
    }
}

fn write_demo(c: &mut dyn Conn, password_hash: &str) -> AppResult<Vec<DemoLogin>> {
    let mut rng = StdRng::seed_from_u64(GRID_SEED);
    let unit = |c: &mut dyn Conn, kind, code: &str, name: &str, parent: Option<&OrgUnit>, sort| {
        org::insert_unit(c, org::NewUnit { kind, code, name, parent, sort })
    };
    // A second check inside the write: two processes starting at once seed only once.
    if org::count_units(c, OrgKind::District)? > 0 {
        return Ok(Vec::new());
    }
    let district = unit(c, OrgKind::District, "370115", "济阳区", None, 0)?;
    let sub = unit(c, OrgKind::Subdistrict, "370115001", "济阳街道", Some(&district), 0)?;
    let mut communities = Vec::new();
    for (k, name) in COMMUNITIES.iter().enumerate() {
        communities.push(unit(c, OrgKind::Community, &format!("370115001{:03}", k + 1), name, Some(&sub), k as i64)?);
    }
    let mut departments = Vec::new();
    for (k, name) in DEPARTMENTS.iter().enumerate() {
        departments.push(unit(c, OrgKind::Department, &format!("BM{:02}", k + 1), name, Some(&sub), k as i64)?);
    }
    let mut sponsors = Vec::new();
    for (k, name) in SPONSORS.iter().enumerate() {
        let s = unit(c, OrgKind::SponsorUnit, &format!("BB{:02}", k + 1), name, Some(&district), k as i64)?;
        org::add_sponsorship(c, &s.id, &communities[k % communities.len()].id)?;
        sponsors.push(s);
    }
    let mut teams = Vec::new();
    for (k, (name, community)) in TEAMS.iter().enumerate() {
        let parent = community.map(|i| &communities[i]).unwrap_or(&sub);
        teams.push(unit(c, OrgKind::Team, &format!("ZY{:02}", k + 1), name, Some(parent), k as i64)?);
    }
    let mut grids = Vec::new();
    for (n, g) in demo_grids(&mut rng).into_iter().enumerate() {
        let community = &communities[g.community];
        let shape = MultiPolygon(vec![g.shape]);
        let rect = shape.bounding_rect().ok_or_else(|| AppError::Internal("empty demo grid".into()))?;
        let geometry = geojson::Geometry::from(geojson::GeometryValue::from(&shape)).to_string();
        let grid = org::upsert_grid(
            c,
            &format!("{}{:03}", community.code, g.seq),
            &format!("{}第{}网格", community.name, g.seq),
            community,
            org::GridShape {
                geometry_json: &geometry,
                bbox: [rect.min().x, rect.min().y, rect.max().x, rect.max().y],
                area_m2: shape.geodesic_area_unsigned(),
            },
            n as i64,
        )?;
        // Every tenth grid also has a sponsor unit of its own (帮包到格).
        if n % 10 == 3 {
            org::add_sponsorship(c, &sponsors[(n / 10) % sponsors.len()].id, &grid.id)?;
        }
        grids.push(grid);
    }
    // Grid 0 (the first grid of the first community in code order) is the demo grid worker's.
    grids.sort_by(|a, b| a.code.cmp(&b.code));
    for (n, grid) in grids.iter().enumerate() {
        let (name, tel) = (person_name(&mut rng), phone(&mut rng));
        let login = n == 0;
        let id = people::insert_person(
            c,
            people::NewPerson {
                name: &name,
                phone: Some(&tel),
                username: login.then_some("gridworker"),
                password_hash: login.then_some(password_hash),
            },
        )?;
        people::assign_role(c, &id, Role::GridWorker, &grid.id)?;
    }
    let mut logins = Vec::new();
    for (username, role, kind) in LOGINS {
        let place = match kind {
            OrgKind::District => &district,
            OrgKind::Subdistrict => &sub,
            OrgKind::Community => &communities[0],
            OrgKind::Department => &departments[0],
            OrgKind::Team => &teams[0],
            _ => &grids[0],
        };
        if role != Role::GridWorker {
            let (name, tel) = (person_name(&mut rng), phone(&mut rng));
            let id = people::insert_person(
                c,
                people::NewPerson { name: &name, phone: Some(&tel), username: Some(username), password_hash: Some(password_hash) },
            )?;
            people::assign_role(c, &id, role, &place.id)?;
        }
        logins.push(DemoLogin { username, role, unit: place.name.clone() });
    }
    // Department staff and volunteers beyond the demo logins, so lists are not empty.
    for d in departments.iter().skip(1) {
        let (name, tel) = (person_name(&mut rng), phone(&mut rng));
        let id = people::insert_person(c, people::NewPerson { name: &name, phone: Some(&tel), username: None, password_hash: None })?;
        people::assign_role(c, &id, Role::DepartmentHandler, &d.id)?;
    }
    for (k, community) in communities.iter().enumerate().skip(1) {
        let (name, tel) = (person_name(&mut rng), phone(&mut rng));
        let id = people::insert_person(c, people::NewPerson { name: &name, phone: Some(&tel), username: None, password_hash: None })?;
        people::assign_role(c, &id, Role::CommunityAdmin, &community.id)?;
        let team = &teams[k % teams.len()];
        for _ in 0..3 {
            let (name, tel) = (person_name(&mut rng), phone(&mut rng));
            let id = people::insert_person(c, people::NewPerson { name: &name, phone: Some(&tel), username: None, password_hash: None })?;
            people::assign_role(c, &id, Role::Volunteer, &team.id)?;
        }
    }
    schema::meta_bump(c, ORG_REVISION)?;
    Ok(logins)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, BooleanOps};

    #[test]
    fn exactly_150_grids_tile_the_area_without_overlap() {
        let grids = demo_grids(&mut StdRng::seed_from_u64(GRID_SEED));
        assert_eq!(grids.len(), 150);
        let total: f64 = grids.iter().map(|g| g.shape.unsigned_area()).sum();
        let area = (LON.1 - LON.0) * (LAT.1 - LAT.0);
        assert!((total - area).abs() < 1e-12, "grids cover {total}, area is {area}");
        for (i, a) in grids.iter().enumerate() {
            for b in &grids[i + 1..] {
                assert!(a.shape.intersection(&b.shape).unsigned_area() < 1e-14);
            }
        }
    }

    #[test]
    fn every_community_has_grids_numbered_from_one() {
        let grids = demo_grids(&mut StdRng::seed_from_u64(GRID_SEED));
        for k in 0..COMMUNITIES.len() {
            let mut seqs: Vec<usize> = grids.iter().filter(|g| g.community == k).map(|g| g.seq).collect();
            assert!(!seqs.is_empty(), "community {k} has no grid");
            seqs.sort();
            assert_eq!(seqs, (1..=seqs.len()).collect::<Vec<_>>());
        }
    }

    #[test]
    fn same_seed_same_subdistrict() {
        let a = demo_grids(&mut StdRng::seed_from_u64(GRID_SEED));
        let b = demo_grids(&mut StdRng::seed_from_u64(GRID_SEED));
        assert_eq!(a.iter().map(|g| g.shape.clone()).collect::<Vec<_>>(), b.iter().map(|g| g.shape.clone()).collect::<Vec<_>>());
    }
}
