//! Frontage checks (门前五包检查) on the inspection engine: the district's responsibilities
//! are the items of the manual's 门前五包 point type; every merchant becomes a point of that
//! type at its first check; the day's checks are one round (门前五包检查, kind `frontage`)
//! that every checker of the day adds shops to as they walk. Scoring, cases for failures and
//! re-checks are the engine's own (`App::submit_inspection`).

use std::collections::HashMap;

use serde::Serialize;

use super::MerchantView;
use crate::app::App;
use crate::app::inspections::{InspectForm, InspectionView, ManualSummary, SubmitInput};
use crate::domain::authz::{Actor, Permission};
use crate::domain::calendar::beijing_date;
use crate::domain::coords::{LatLon, distance_m};
use crate::domain::inspection::{RoundKind, day_key};
use crate::domain::manual::{Manual, PointType};
use crate::domain::merchant::{DutyInput, FRONTAGE_TYPE, MerchantStatus, frontage_items, point_name};
use crate::error::{AppError, AppResult, Invalid, Thing};
use crate::store::inspections::{self as points_db, InspectionRow, ItemRow, PointRow, RoundPointRow, RoundRow};
use crate::store::merchants::{self as db, MerchantRow};
use crate::store::{Conn, new_id, people};

/// How many shops the walking list shows.
const NEARBY: usize = 30;

/// One responsibility as pages and the API show it.
#[derive(Debug, Clone, Serialize)]
pub struct Duty {
    pub code: String,
    pub name: String,
    pub meaning: Option<String>,
    pub category_code: Option<String>,
    pub category_name: Option<String>,
    pub standard: f64,
}

/// A shop on the walking list.
#[derive(Debug, Clone, Serialize)]
pub struct NearbyMerchant {
    #[serde(flatten)]
    pub merchant: MerchantView,
    /// Metres from where the checker stands.
    pub distance_m: f64,
    /// Checked in today's round already.
    pub checked_today: bool,
}

/// What the check form needs: the shop, and the engine's form for its point in today's round.
#[derive(Debug, Clone, Serialize)]
pub struct FrontageForm {
    pub merchant: MerchantView,
    pub form: InspectForm,
}

/// One check as a shop's file lists it.
#[derive(Debug, Clone, Serialize)]
pub struct CheckBrief {
    #[serde(flatten)]
    pub inspection: InspectionRow,
    pub inspector_name: Option<String>,
    pub rate: Option<f64>,
}

/// The id of the day's frontage round: one per day, shared by every checker.
fn round_id(day: i64) -> String {
    format!("frontage-{day}")
}

/// The merchant's point, made at its first check: named after the shop and where it is (a
/// second shop of the same name and place gets its licence or id's tail).
/// The inspection point a shop's frontage checks score.
pub(super) fn frontage_point(m: &MerchantRow, name: String, now: i64) -> PointRow {
    PointRow {
        id: new_id(),
        name,
        point_type: FRONTAGE_TYPE.into(),
        lat: Some(m.lat),
        lon: Some(m.lon),
        grid_id: Some(m.grid_id.clone()),
        community_id: Some(m.community_id.clone()),
        scope_path: m.grid_path.clone(),
        unit_id: m.community_id.clone(),
        address: m.address.clone().or_else(|| m.street.clone()),
        active: true,
        created_at: now,
    }
}

fn ensure_point(c: &mut dyn Conn, m: &MerchantRow, now: i64) -> AppResult<String> {
    if let Some(p) = &m.point_id {
        return Ok(p.clone());
    }
    let mut name = point_name(&m.name, m.address.as_deref(), m.street.as_deref());
    if points_db::point_named(c, FRONTAGE_TYPE, &name)? {
        let tail: String = m.licence.as_deref().unwrap_or(&m.id).chars().rev().take(6).collect::<Vec<_>>().into_iter().rev().collect();
        name = format!("{name}·{tail}");
    }
    let point = frontage_point(m, name, now);
    points_db::insert_point(c, &point)?;
    db::set_point(c, &m.id, &point.id)?;
    Ok(point.id)
}

impl App {
    /// The responsibilities frontage checks score now: the 门前五包 items of the newest
    /// manual version (the built-in five until a district names its own).
    pub async fn frontage_duties(&self) -> AppResult<Vec<Duty>> {
        let manual = match self.manual(&Actor::console(), None).await {
            Ok(m) => m,
            Err(AppError::NotFound(_)) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let categories = self.category_map().await?;
        Ok(manual
            .items
            .into_iter()
            .filter(|i| i.point_type == FRONTAGE_TYPE)
            .map(|i| Duty {
                category_name: i.category_code.as_ref().and_then(|c| categories.get(c)).map(|c| c.name.clone()),
                code: i.code,
                name: i.text,
                meaning: i.method,
                category_code: i.category_code,
                standard: i.standard,
            })
            .collect())
    }

    /// A district names its responsibilities: a new manual version, the same as the newest
    /// but for its 门前五包 items. Checks from the next day's round on score the new list;
    /// checks done keep the version they were scored by.
    pub async fn set_frontage_duties(&self, actor: &Actor, duties: Vec<DutyInput>) -> AppResult<ManualSummary> {
        if !actor.can_somewhere(Permission::ManageManual) {
            return Err(AppError::Forbidden);
        }
        let items = frontage_items(&duties).ok_or(AppError::Invalid(Invalid::Duties))?;
        let categories = self.category_map().await?;
        if items.iter().any(|i| i.category.as_ref().is_some_and(|c| !categories.contains_key(c))) {
            return Err(AppError::Invalid(Invalid::Duties));
        }
        let current = self.manual(&Actor::console(), None).await?;
        let mut types: Vec<PointType> = Vec::new();
        for i in current.items.iter().filter(|i| i.point_type != FRONTAGE_TYPE) {
            if types.last().is_none_or(|t| t.name != i.point_type) {
                types.push(PointType { name: i.point_type.clone(), simulated: i.simulated, items: Vec::new() });
            }
            if let Some(t) = types.last_mut() {
                t.items.push(manual_item(i));
            }
        }
        types.push(PointType { name: FRONTAGE_TYPE.into(), simulated: false, items });
        self.store_manual(actor, Manual { name: current.manual.name.clone(), point_types: types }).await
    }

    /// The open shops nearest to where a checker stands, nearest first, with whether each
    /// has been checked today.
    pub async fn nearby_merchants(&self, actor: &Actor, lat: f64, lon: f64) -> AppResult<Vec<NearbyMerchant>> {
        if !actor.can_somewhere(Permission::CheckFrontage) {
            return Err(AppError::Forbidden);
        }
        if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
            return Err(AppError::Invalid(Invalid::Position));
        }
        let paths: Vec<String> = actor.scopes(Permission::CheckFrontage).into_iter().map(str::to_string).collect();
        let today = round_id(day_key(beijing_date(self.now())));
        let (rows, done) = self
            .store()
            .read(move |c| {
                let mut rows = Vec::new();
                // Widen the box until the list is full: 300 m, 1 km, 3 km.
                for d in [0.003, 0.01, 0.03] {
                    rows = db::near(c, &paths, lat, lon, d, 2_000)?;
                    if rows.len() >= NEARBY {
                        break;
                    }
                }
                let done: HashMap<String, bool> =
                    points_db::round_points(c, &today)?.into_iter().map(|rp| (rp.point_id, rp.inspection_id.is_some())).collect();
                Ok::<_, AppError>((rows, done))
            })
            .await?;
        let here = LatLon { lat, lon };
        let mut out: Vec<NearbyMerchant> = rows
            .into_iter()
            .map(|m| {
                let distance = distance_m(here, LatLon { lat: m.lat, lon: m.lon });
                let checked = m.point_id.as_ref().and_then(|p| done.get(p)).copied().unwrap_or(false);
                NearbyMerchant { distance_m: distance.round(), checked_today: checked, merchant: self.merchant_view(m) }
            })
            .collect();
        out.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m));
        out.truncate(NEARBY);
        Ok(out)
    }

    /// Starts the check of a shop: the shop joins today's round for this checker, and the
    /// form is the engine's, item by item.
    pub async fn frontage_form(&self, actor: &Actor, merchant_id: &str) -> AppResult<FrontageForm> {
        let (round, point) = self.join_frontage_round(actor, merchant_id, self.now()).await?;
        let merchant = self.merchant_for_check(actor, merchant_id).await?;
        let form = self.inspect_form(actor, &round, &point).await?;
        Ok(FrontageForm { merchant: self.merchant_view(merchant), form })
    }

    /// Records a frontage check: scored, failures opening cases for the shop's grid, by the
    /// engine; a retry with the same key answers the check already recorded.
    pub async fn check_frontage(
        &self,
        actor: &Actor,
        merchant_id: &str,
        input: SubmitInput,
        idempotency_key: Option<&str>,
    ) -> AppResult<InspectionView> {
        self.check_frontage_at(actor, merchant_id, input, idempotency_key, self.now()).await
    }

    /// The same at a given moment (the demo replays months of checks).
    pub(crate) async fn check_frontage_at(
        &self,
        actor: &Actor,
        merchant_id: &str,
        input: SubmitInput,
        idempotency_key: Option<&str>,
        now: i64,
    ) -> AppResult<InspectionView> {
        let (round, point) = self.join_frontage_round(actor, merchant_id, now).await?;
        self.submit_inspection_at(actor, &round, &point, input, idempotency_key, now).await
    }

    async fn merchant_for_check(&self, actor: &Actor, merchant_id: &str) -> AppResult<MerchantRow> {
        let key = merchant_id.to_string();
        let m = self.store().read(move |c| db::merchant(c, &key)).await?.ok_or(AppError::NotFound(Thing::Merchant))?;
        if !actor.can(Permission::CheckFrontage, &m.grid_path) {
            return Err(if actor.can(Permission::ReadOrg, &m.grid_path) {
                AppError::Forbidden
            } else {
                AppError::NotFound(Thing::Merchant)
            });
        }
        Ok(m)
    }

    /// Puts the shop into today's frontage round for this checker (making the shop's point
    /// and the day's round when they do not exist yet): (round id, point id).
    async fn join_frontage_round(&self, actor: &Actor, merchant_id: &str, now: i64) -> AppResult<(String, String)> {
        let m = self.merchant_for_check(actor, merchant_id).await?;
        if m.status != MerchantStatus::Open {
            return Err(AppError::Invalid(Invalid::MerchantNotOpen));
        }
        let manual = self.manual(&Actor::console(), None).await?;
        if !manual.items.iter().any(|i| i.point_type == FRONTAGE_TYPE) {
            return Err(AppError::Invalid(Invalid::Duties));
        }
        let today = beijing_date(now);
        let round = RoundRow {
            id: round_id(day_key(today)),
            name: format!("门前五包检查 {}", today.format("%Y-%m-%d")),
            kind: RoundKind::Frontage,
            manual_id: manual.manual.id.clone(),
            starts_on: day_key(today),
            ends_on: day_key(today),
            seed: 0,
            based_on: None,
            created_by: actor.name.clone(),
            created_at: now,
        };
        let person = actor.person_id.clone();
        self.store()
            .write(move |c| {
                let point_id = ensure_point(c, &m, now)?;
                points_db::ensure_round(c, &round)?;
                let rp = RoundPointRow {
                    round_id: round.id.clone(),
                    point_id: point_id.clone(),
                    inspector_id: Some(person),
                    items: None,
                    inspection_id: None,
                    sort: now,
                };
                // Checked already today: the submit answers a retry, or refuses a second check.
                points_db::take_round_point(c, &rp)?;
                Ok::<_, AppError>((round.id, point_id))
            })
            .await
    }

    /// A shop's checks, newest first (its credit file).
    pub async fn merchant_checks(&self, actor: &Actor, merchant_id: &str) -> AppResult<Vec<CheckBrief>> {
        let m = self.merchant(actor, merchant_id).await?;
        self.checks_of(m.merchant.point_id.clone()).await
    }

    pub(crate) async fn checks_of(&self, point_id: Option<String>) -> AppResult<Vec<CheckBrief>> {
        let Some(point) = point_id else { return Ok(Vec::new()) };
        self.store()
            .read(move |c| {
                let mut out = Vec::new();
                for i in points_db::inspections_at(c, &point, 100)? {
                    let inspector_name = people::person_name(c, &i.inspector_id)?;
                    let rate = (i.standard > 0.0).then(|| i.score / i.standard);
                    out.push(CheckBrief { inspection: i, inspector_name, rate });
                }
                Ok::<_, AppError>(out)
            })
            .await
    }
}

fn manual_item(i: &ItemRow) -> crate::domain::manual::Item {
    crate::domain::manual::Item {
        code: i.code.clone(),
        text: i.text.clone(),
        method: i.method.clone(),
        standard: i.standard,
        scoring: i.scoring.clone(),
        veto: i.veto,
        category: i.category_code.clone(),
    }
}
