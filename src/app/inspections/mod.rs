//! 对标对表: the evaluation manual, inspection points, rounds, inspecting item by item (a
//! failed item opens or adds to a case; a re-check moves it), and the scores, rankings and
//! shortfall list read from the kept sums.
//!
//! `manual` (versions, import), `points` (the register, import), `rounds` (plan, draw,
//! assign, progress), `submit` (inspect, re-check, cases), `rankings` (rankings, composite,
//! shortfall, exports).

mod generate;
mod manual;
mod points;
mod rankings;
mod rounds;
mod submit;

pub use generate::InspectionLoad;

pub use manual::{ManualSummary, ManualView};
pub use points::{PointDraft, PointView};
pub use rankings::{Composite, CompositeRow, RankBy, Ranking, RankingRow, ShortfallRow, Weights, Where};
pub use rounds::{Assigned, InspectionBrief, RoundPlan, RoundPointView, RoundView, Selection};
pub use submit::{InspectForm, InspectionView, ItemInput, SubmitInput};

use crate::app::GridDirectory;
use crate::domain::org::{OrgKind, OrgUnit};
use crate::store::inspections::PointRow;

/// The keys a point's inspections are summed under: its grid, its responsible unit, the
/// point itself, and for each area it lies in (community, subdistrict, district) the area and
/// the area's point type. Item sums are kept for the areas and the point.
pub(crate) struct SumKeys {
    pub units: Vec<String>,
    pub areas: Vec<String>,
    /// The point's own key (`p:`), under which its item sums are kept too.
    pub point: String,
}

pub(crate) fn area_key(unit_id: &str) -> String {
    format!("a:{unit_id}")
}

pub(crate) fn type_key(area_id: &str, point_type: &str) -> String {
    format!("t:{area_id}:{point_type}")
}

pub(crate) fn sum_keys(dir: &GridDirectory, p: &PointRow) -> SumKeys {
    let mut units = vec![format!("p:{}", p.id), format!("u:{}", p.unit_id)];
    if let Some(g) = &p.grid_id {
        units.push(format!("g:{g}"));
    }
    let mut areas = Vec::new();
    for id in p.scope_path.split('/').filter(|s| !s.is_empty()) {
        if let Some(u) = dir.unit(id)
            && matches!(u.kind, OrgKind::District | OrgKind::Subdistrict | OrgKind::Community)
        {
            areas.push(area_key(id));
            units.push(area_key(id));
            units.push(type_key(id, &p.point_type));
        }
    }
    SumKeys { units, areas, point: format!("p:{}", p.id) }
}

/// The area (district, subdistrict or community) a unit lies in or is.
pub(crate) fn area_of<'a>(dir: &'a GridDirectory, unit: &'a OrgUnit) -> Option<&'a OrgUnit> {
    let mut u = Some(unit);
    while let Some(x) = u {
        if matches!(x.kind, OrgKind::District | OrgKind::Subdistrict | OrgKind::Community) {
            return Some(x);
        }
        u = x.parent_id.as_deref().and_then(|p| dir.unit(p));
    }
    None
}
