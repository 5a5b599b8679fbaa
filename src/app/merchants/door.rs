//! The door code (门牌码) and the merchant's own account. A QR plate on each shop's door
//! carries an unguessable token and nothing personal: a citizen who scans it sees the shop's
//! pledge, its standing this month and its credit grade, and reports a problem in two taps.
//! The shop logs in with its phone number and the code printed on its pledge (a keyed digest
//! of the shop and the code's serial: the same on every reprint, never stored, void once the
//! office reissues it); it sees its own checks and answers the cases its frontage opened with
//! a photo of the fix.

use std::sync::atomic::Ordering;

use serde::Serialize;

use super::{CreditFile, Duty};
use crate::app::App;
use crate::app::auth::{NewSession, same_secret, sign, stored_secret};
use crate::app::cases::{ActInput, NewCaseInput, step_in};
use crate::domain::authz::{Actor, Permission, Role};
use crate::domain::case::{Action, Status};
use crate::domain::inspection::serialize_day_key;
use crate::domain::merchant::{BusinessKind, CreditGrade, MerchantStatus, Standing, code_letters, credit_grade, normalize_code};
use crate::error::{AppError, AppResult, Invalid, Thing};
use crate::store::cases as case_db;
use crate::store::merchants::{self as db, MerchantRow};
use crate::store::people::{self, NewPerson};
use crate::store::{Conn, org};

const CODE_KEY: &str = "merchant_code_key";

/// What a citizen sees behind a door code: nothing personal.
#[derive(Debug, Clone, Serialize)]
pub struct DoorView {
    pub name: String,
    pub address: Option<String>,
    pub street: Option<String>,
    pub kind: BusinessKind,
    pub status: MerchantStatus,
    pub frontage: Option<String>,
    #[serde(serialize_with = "serialize_opt_day")]
    pub pledge_day: Option<i64>,
    pub community_name: String,
    pub duties: Vec<Duty>,
    /// The latest published month and the shop's place in it.
    pub month: Option<String>,
    pub standing: Option<Standing>,
    pub grade: CreditGrade,
    /// The day of its last check and whether every responsibility was met.
    #[serde(serialize_with = "serialize_opt_day")]
    pub last_check_day: Option<i64>,
    pub last_check_passed: Option<bool>,
}

fn serialize_opt_day<S: serde::Serializer>(d: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => serialize_day_key(d, s),
        None => s.serialize_none(),
    }
}

/// A case about the shop, as the shop sees it.
#[derive(Debug, Clone, Serialize)]
pub struct ShopCase {
    pub id: String,
    pub number: String,
    pub description: String,
    pub status: Status,
    pub handling_deadline: Option<i64>,
    pub reported_at: i64,
}

/// The merchant's own page.
#[derive(Debug, Clone, Serialize)]
pub struct MerchantHome {
    pub credit: CreditFile,
    pub cases: Vec<ShopCase>,
}

/// The key login codes are made with: made once per store, kept in `meta`.
fn code_key(c: &mut dyn Conn) -> AppResult<String> {
    stored_secret(c, CODE_KEY)
}

fn code_with(key: &str, m: &MerchantRow) -> String {
    code_letters(&sign(key, &format!("{}:{}", m.id, m.code_serial)))
}

impl App {
    /// The page behind a door code; a code that is not a shop's is not found (a forged or
    /// mistyped plate).
    pub async fn door(&self, token: &str) -> AppResult<DoorView> {
        let m = self.merchant_by_door(token).await?;
        let (id, point) = (m.id.clone(), m.point_id.clone());
        let history = self.store().read(move |c| db::history(c, &id, 12)).await?;
        let last = self.checks_of(point).await?.into_iter().next();
        let dir = self.directory();
        Ok(DoorView {
            community_name: dir.unit(&m.community_id).map(|u| u.name.clone()).unwrap_or_default(),
            duties: self.frontage_duties().await?,
            month: history.first().map(|h| super::boards::month_text(h.month)),
            standing: history.first().map(|h| h.standing),
            grade: credit_grade(&history.iter().map(|h| h.standing).collect::<Vec<_>>()),
            last_check_day: last.as_ref().map(|l| l.inspection.day),
            last_check_passed: last.as_ref().map(|l| l.inspection.failed_items == 0),
            name: m.name,
            address: m.address,
            street: m.street,
            kind: m.kind,
            status: m.status,
            frontage: m.frontage,
            pledge_day: m.pledge_day,
        })
    }

    async fn merchant_by_door(&self, token: &str) -> AppResult<MerchantRow> {
        let t = token.trim().to_string();
        if t.is_empty() || t.len() > 32 || !t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(AppError::NotFound(Thing::DoorCode));
        }
        self.store().read(move |c| db::by_door_token(c, &t)).await?.ok_or(AppError::NotFound(Thing::DoorCode))
    }

    /// A citizen's report from the door: the responsibility's category at the shop's place.
    /// Returns the case number.
    pub async fn door_report(&self, token: &str, duty_code: &str, note: Option<&str>, key: Option<&str>) -> AppResult<String> {
        let m = self.merchant_by_door(token).await?;
        let duty = self
            .frontage_duties()
            .await?
            .into_iter()
            .find(|d| d.code == duty_code)
            .ok_or_else(|| AppError::InvalidParameter("duty".into()))?;
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        let input = NewCaseInput {
            category: duty.category_code.clone().unwrap_or_else(|| "0701".into()),
            description: match note {
                Some(n) => format!("市民扫门牌码反映:{}门前{}问题。{n}", m.name, duty.name),
                None => format!("市民扫门牌码反映:{}门前{}问题。", m.name, duty.name),
            },
            lat: m.lat,
            lon: m.lon,
            address: m.address.clone().or(m.street.clone()),
            via: Some("door_code".into()),
            ..Default::default()
        };
        let key = key.map(|k| format!("door:{}:{k}", m.id));
        Ok(self.report_case(None, input, key.as_deref()).await?.case.details.number)
    }

    /// The URL a shop's door code opens.
    pub fn door_url(base: &str, m: &MerchantRow) -> String {
        format!("{}/m/{}", base.trim_end_matches('/'), m.door_token)
    }

    /// The door code of a shop as SVG, for whoever keeps the shop's records.
    pub async fn door_code_svg(&self, actor: &Actor, merchant_id: &str, base: &str) -> AppResult<String> {
        let m = self.merchant(actor, merchant_id).await?.merchant;
        let key = m.id.clone();
        let row = self.store().read(move |c| db::merchant(c, &key)).await?.ok_or(AppError::NotFound(Thing::Merchant))?;
        if !actor.can(Permission::ManageMerchants, &row.grid_path) {
            return Err(AppError::Forbidden);
        }
        crate::export::qr::qr_svg(&Self::door_url(base, &row))
    }

    /// The shop's login code now (printed on its pledge).
    pub(crate) async fn login_code(&self, m: &MerchantRow) -> AppResult<String> {
        let key = self.store().write(code_key).await?;
        Ok(code_with(&key, m))
    }

    /// Makes a new login code for a shop (its pledge was lost, or someone else saw it): the
    /// old code stops working at once. Returns the new code.
    pub async fn reissue_login_code(&self, actor: &Actor, merchant_id: &str) -> AppResult<String> {
        let key = merchant_id.to_string();
        let m = self.store().read(move |c| db::merchant(c, &key)).await?.ok_or(AppError::NotFound(Thing::Merchant))?;
        if !actor.can(Permission::ManageMerchants, &m.grid_path) {
            return Err(if actor.can(Permission::ReadOrg, &m.grid_path) {
                AppError::Forbidden
            } else {
                AppError::NotFound(Thing::Merchant)
            });
        }
        let (id, serial) = (m.id.clone(), m.code_serial + 1);
        self.store().write(move |c| db::set_code_serial(c, &id, serial)).await?;
        self.login_code(&MerchantRow { code_serial: serial, ..m }).await
    }

    /// A shop logs in with its phone number and the code on its pledge. Its account is made
    /// at the first login (the role 商户 at its grid); a wrong pair is refused like a wrong
    /// password, and too many are throttled.
    pub async fn merchant_login(&self, phone: &str, code: &str) -> AppResult<NewSession> {
        let phone = phone.trim().to_string();
        let throttle_key = format!("merchant:{phone}");
        self.login_throttle().check(&throttle_key, self.config().login_attempts).map_err(AppError::RateLimited)?;
        let typed = normalize_code(code);
        let p = phone.clone();
        let candidates = self.store().read(move |c| db::by_phone(c, &p)).await?;
        let key = self.store().write(code_key).await?;
        let found = candidates.into_iter().find(|m| m.status != MerchantStatus::Moved && same_secret(&code_with(&key, m), &typed));
        let Some(m) = found else {
            self.metrics().logins_failed.fetch_add(1, Ordering::Relaxed);
            self.login_throttle().fail(&throttle_key);
            return Err(AppError::Invalid(Invalid::MerchantCode));
        };
        self.login_throttle().succeed(&throttle_key);
        self.open_session(move |c| {
            Ok(match &m.account_id {
                Some(p) => p.clone(),
                None => {
                    let p = people::insert_person(
                        c,
                        NewPerson { name: &m.name, phone: m.phone.as_deref(), username: None, password_hash: None },
                    )?;
                    people::assign_role(c, &p, Role::Merchant, &m.grid_id)?;
                    db::set_account(c, &m.id, &p)?;
                    p
                }
            })
        })
        .await
    }

    /// The shop an account belongs to.
    async fn own_shop(&self, actor: &Actor) -> AppResult<MerchantRow> {
        if !actor.is_person() || !actor.can_somewhere(Permission::ActAsMerchant) {
            return Err(AppError::Forbidden);
        }
        let p = actor.person_id.clone();
        self.store().read(move |c| db::by_account(c, &p)).await?.ok_or(AppError::NotFound(Thing::Merchant))
    }

    /// The merchant's own page: its credit file and the cases its frontage opened.
    pub async fn merchant_home(&self, actor: &Actor) -> AppResult<MerchantHome> {
        let m = self.own_shop(actor).await?;
        let point = m.point_id.clone();
        let cases = self
            .store()
            .read(move |c| {
                let mut out = Vec::new();
                if let Some(p) = &point {
                    for id in db::cases_of_point(c, p, 50)? {
                        if let Some(r) = case_db::case_by_id(c, &id)? {
                            out.push(ShopCase {
                                id: r.details.id,
                                number: r.details.number,
                                description: r.details.description,
                                status: r.state.status,
                                handling_deadline: r.state.handling_deadline,
                                reported_at: r.state.reported_at,
                            });
                        }
                    }
                }
                Ok::<_, AppError>(out)
            })
            .await?;
        let credit = self.credit_of(self.merchant_view(m)).await?;
        Ok(MerchantHome { credit, cases })
    }

    /// The merchant answers a case its frontage opened: a note and photos of the fix, added
    /// to the case for the grid to check.
    pub async fn merchant_answer(&self, actor: &Actor, case_id: &str, note: &str, photos: Vec<String>) -> AppResult<()> {
        let m = self.own_shop(actor).await?;
        let note = note.trim().to_string();
        if note.is_empty() && photos.is_empty() {
            return Err(AppError::MissingParameter("note".into()));
        }
        if note.chars().count() > 1000 {
            return Err(AppError::Invalid(Invalid::NoteTooLong));
        }
        self.check_photos(Some(actor), &photos).await?;
        let (calendar, now, actor_owned, case_id) = (self.calendar().clone(), self.now(), actor.clone(), case_id.to_string());
        let categories = self.category_map().await?;
        self.store()
            .write(move |c| {
                let Some(point) = &m.point_id else { return Err(AppError::Invalid(Invalid::MerchantCase)) };
                let record = case_db::case_by_id(c, &case_id)?.ok_or(AppError::NotFound(Thing::Case))?;
                if !db::cases_of_point(c, point, 500)?.contains(&record.details.id) {
                    return Err(AppError::Invalid(Invalid::MerchantCase));
                }
                let text = if note.is_empty() { "商户已整改,请核查。".to_string() } else { format!("商户已整改:{note}") };
                let input = ActInput { note: Some(text), photos, ..Default::default() };
                let assignee = record.state.assignee_unit_id.as_deref().map(|a| org::unit_by_id(c, a)).transpose()?.flatten();
                let category = categories.get(&record.details.category_code);
                step_in(c, &calendar, now, record, assignee.as_ref(), category, &actor_owned, Action::Comment, &input)?;
                Ok(())
            })
            .await
    }
}
