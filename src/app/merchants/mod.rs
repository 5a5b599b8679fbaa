//! 门前五包, the registry: merchants with their place (→ grid, community), frontage, contact
//! (masked in every view), business kind, licence and pledge; imported from Excel all or
//! nothing; the pledge (责任书) as a Word document naming the five responsibilities.
//!
//! `frontage` (the responsibilities, the walking list, checks on the inspection engine),
//! `boards` (红黑榜: rules, monthly lists, publishing, referrals, the credit file, the
//! poster), `door` (the door code citizens scan, the merchant's own login and cases).

mod boards;
mod door;
mod frontage;
mod generate;

pub use boards::{Board, BoardRow, CreditFile, month_text, parse_month};
pub use door::{DoorView, MerchantHome};
pub use frontage::{CheckBrief, Duty, FrontageForm, NearbyMerchant};
pub use generate::MerchantLoad;

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use serde::Serialize;

use super::App;
use crate::domain::authz::{Actor, Permission};
use crate::domain::bulletin::official_date;
use crate::domain::coords::{Crs, LatLon};
use crate::domain::inspection::{day_key, day_of_key};
use crate::domain::merchant::{self as rules, BusinessKind, MerchantStatus, default_duties};
use crate::domain::privacy::{mask_name, mask_phone};
use crate::error::{AppError, AppResult, FileProblem, Thing};
use crate::export::docx::{Block, OfficialDoc};
use crate::i18n::{Lang, t};
use crate::store::merchants::{self as db, MerchantRow};
use crate::store::new_id;

/// Column titles an office's sheet may use.
const COLUMNS: [(&str, &[&str]); 11] = [
    ("name", &["商户名称", "名称", "name"]),
    ("address", &["地址", "address"]),
    ("lat", &["纬度", "lat", "latitude"]),
    ("lon", &["经度", "lon", "lng", "longitude"]),
    ("contact", &["联系人", "contact"]),
    ("phone", &["电话", "联系电话", "手机", "phone"]),
    ("kind", &["经营类别", "类别", "kind"]),
    ("pledge_day", &["签订日期", "责任书签订日期", "pledge_date"]),
    ("licence", &["营业执照号", "统一社会信用代码", "执照号", "licence"]),
    ("street", &["所在道路", "道路", "街道", "street"]),
    ("frontage", &["责任区", "门前责任区", "frontage"]),
];

/// A merchant as lists and pages show it: personal data masked.
#[derive(Debug, Clone, Serialize)]
pub struct MerchantView {
    #[serde(flatten)]
    pub merchant: MerchantRow,
    pub grid_name: String,
    pub community_name: String,
}

fn masked(mut m: MerchantRow) -> MerchantRow {
    m.contact = m.contact.as_deref().map(mask_name);
    m.phone = m.phone.as_deref().map(mask_phone);
    m.pledge_by = m.pledge_by.as_deref().map(mask_name);
    m
}

fn day(raw: &str) -> Option<NaiveDate> {
    ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日"].iter().find_map(|f| NaiveDate::parse_from_str(raw.trim(), f).ok())
}

impl App {
    pub(crate) fn merchant_view(&self, m: MerchantRow) -> MerchantView {
        let dir = self.directory();
        MerchantView {
            grid_name: dir.unit(&m.grid_id).map(|u| u.name.clone()).unwrap_or_default(),
            community_name: dir.unit(&m.community_id).map(|u| u.name.clone()).unwrap_or_default(),
            merchant: masked(m),
        }
    }

    /// Merchants in the areas the actor may see, by name; `q` searches names and streets.
    pub async fn merchants(&self, actor: &Actor, q: Option<&str>) -> AppResult<Vec<MerchantView>> {
        if !actor.can_somewhere(Permission::ReadOrg) {
            return Err(AppError::Forbidden);
        }
        let paths: Vec<String> = actor.scopes(Permission::ReadOrg).into_iter().map(str::to_string).collect();
        let q = q.map(str::to_string);
        let rows = self.store().read(move |c| db::merchants(c, &paths, q.as_deref(), 1_000)).await?;
        Ok(rows.into_iter().map(|m| self.merchant_view(m)).collect())
    }

    /// One merchant, if the actor may see its grid.
    pub async fn merchant(&self, actor: &Actor, id: &str) -> AppResult<MerchantView> {
        let key = id.to_string();
        let m = self.store().read(move |c| db::merchant(c, &key)).await?.ok_or(AppError::NotFound(Thing::Merchant))?;
        if !actor.can(Permission::ReadOrg, &m.grid_path) {
            return Err(AppError::NotFound(Thing::Merchant));
        }
        Ok(self.merchant_view(m))
    }

    /// A shop closes, moves or opens again: a closed or moved shop is no longer checked nor
    /// listed for a walk.
    pub async fn set_merchant_status(&self, actor: &Actor, id: &str, status: MerchantStatus) -> AppResult<MerchantView> {
        let v = self.merchant(actor, id).await?;
        if !actor.can(Permission::ManageMerchants, &v.merchant.grid_path) {
            return Err(AppError::Forbidden);
        }
        let key = id.to_string();
        self.store().write(move |c| db::set_status(c, &key, status)).await?;
        self.merchant(actor, id).await
    }

    /// Imports merchants from an .xlsx or .csv (商户名称, 地址, 纬度, 经度, 联系人, 电话,
    /// 经营类别, 签订日期; optionally 营业执照号, 所在道路, 责任区): every row checked, every
    /// problem named with its row, all rows written in one write or none.
    pub async fn import_merchants(&self, actor: &Actor, bytes: &[u8], lang: Lang) -> AppResult<usize> {
        if !actor.can_somewhere(Permission::ManageMerchants) {
            return Err(AppError::Forbidden);
        }
        let (table, col) = crate::app::people::open_sheet(bytes, &COLUMNS, &["name", "lat", "lon"], "import.merchants", lang)?;
        let dir = self.directory();
        let now = self.now();
        let (mut rows, mut problems) = (Vec::new(), Vec::new());
        let mut licences: HashMap<String, usize> = HashMap::new();
        for (i, row) in table.iter().enumerate().skip(1) {
            if row.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            let n = i + 1;
            let get = |f: &str| col.get(f).and_then(|&c| row.get(c)).map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
            let mut bad = |key: &str, args: &[(&str, &str)]| problems.push(FileProblem { row: n, message: t(lang, key, args) });
            let name = get("name").unwrap_or_default();
            let licence = get("licence").unwrap_or_default();
            match rules::check(&name, &licence) {
                Err(rules::MerchantError::Name) => bad("import.merchants.bad_name", &[]),
                Err(rules::MerchantError::Licence) => bad("import.merchants.bad_licence", &[("licence", &licence)]),
                Ok(()) => {}
            }
            if !licence.is_empty()
                && let Some(first) = licences.insert(licence.clone(), n)
            {
                bad("import.merchants.duplicate_licence", &[("licence", &licence), ("first", &first.to_string())]);
            }
            let (lat, lon) = (get("lat").unwrap_or_default(), get("lon").unwrap_or_default());
            let grid = match (lat.parse::<f64>(), lon.parse::<f64>()) {
                (Ok(la), Ok(lo)) => match LatLon::to_wgs84(la, lo, Crs::Wgs84) {
                    Ok(p) => match dir.locate(p) {
                        Some(g) => Some((p, g.clone())),
                        None => {
                            bad("import.merchants.outside", &[("name", &name)]);
                            None
                        }
                    },
                    Err(_) => {
                        bad("import.merchants.bad_location", &[("lat", &lat), ("lon", &lon)]);
                        None
                    }
                },
                _ => {
                    bad("import.merchants.bad_location", &[("lat", &lat), ("lon", &lon)]);
                    None
                }
            };
            if let Some((_, g)) = &grid
                && !actor.can(Permission::ManageMerchants, &g.path)
            {
                bad("import.merchants.outside_scope", &[("name", &name)]);
            }
            let phone = get("phone");
            if let Some(p) = &phone
                && !crate::app::people::check_phone(p)
            {
                bad("import.merchants.bad_phone", &[("phone", p)]);
            }
            let kind = match get("kind") {
                None => Some(BusinessKind::Other),
                Some(k) => BusinessKind::parse(&k).or_else(|| {
                    bad("import.merchants.unknown_kind", &[("kind", &k)]);
                    None
                }),
            };
            let pledge_day = match get("pledge_day") {
                None => None,
                Some(d) => match day(&d) {
                    Some(d) => Some(day_key(d)),
                    None => {
                        bad("import.merchants.bad_date", &[("date", &d)]);
                        None
                    }
                },
            };
            let (Some((p, g)), Some(kind)) = (grid, kind) else { continue };
            let community_id = dir.unit(&g.id).and_then(|u| u.parent_id.clone()).unwrap_or_default();
            rows.push((
                n,
                MerchantRow {
                    id: new_id(),
                    name: name.clone(),
                    address: get("address"),
                    lat: p.lat,
                    lon: p.lon,
                    grid_id: g.id.clone(),
                    community_id,
                    grid_path: g.path.clone(),
                    street: get("street"),
                    frontage: get("frontage"),
                    contact: get("contact"),
                    phone,
                    kind,
                    licence: (!licence.is_empty()).then(|| licence.clone()),
                    pledge_day,
                    pledge_by: get("contact"),
                    status: MerchantStatus::Open,
                    created_at: now,
                    point_id: None,
                    door_token: db::new_door_token(),
                    account_id: None,
                    code_serial: 1,
                },
            ));
        }
        // Licence numbers already registered.
        let wanted: Vec<String> = rows.iter().filter_map(|(_, m)| m.licence.clone()).collect();
        let taken: HashSet<String> = self.store().read(move |c| db::taken_licences(c, &wanted)).await?.into_iter().collect();
        for (n, m) in &rows {
            if let Some(l) = m.licence.as_ref().filter(|l| taken.contains(*l)) {
                problems.push(FileProblem { row: *n, message: t(lang, "import.merchants.licence_taken", &[("licence", l)]) });
            }
        }
        if !problems.is_empty() {
            problems.sort_by_key(|p| p.row);
            return Err(AppError::InvalidFile(problems));
        }
        let rows: Vec<MerchantRow> = rows.into_iter().map(|(_, m)| m).collect();
        let count = rows.len();
        self.store().write(move |c| db::insert_merchants(c, &rows)).await?;
        Ok(count)
    }

    /// The pledge (门前五包责任书) of a merchant as a Word document: the responsibilities the
    /// district names now, the frontage, the door code and the shop's login code. `base` is
    /// the address citizens reach the service at. (file name, bytes)
    pub async fn pledge_docx(&self, actor: &Actor, id: &str, base: &str) -> AppResult<(String, Vec<u8>)> {
        let v = self.merchant(actor, id).await?;
        let key = id.to_string();
        let row = self.store().read(move |c| db::merchant(c, &key)).await?.ok_or(AppError::NotFound(Thing::Merchant))?;
        if !actor.can(Permission::ManageMerchants, &row.grid_path) {
            return Err(AppError::Forbidden);
        }
        let m = &v.merchant;
        let mut duties: Vec<(String, String)> =
            self.frontage_duties().await?.into_iter().map(|d| (d.name, d.meaning.unwrap_or_default())).collect();
        if duties.is_empty() {
            duties = default_duties().into_iter().map(|d| (d.name, d.meaning)).collect();
        }
        let code = self.login_code(&row).await?;
        let url = App::door_url(base, &row);
        let qr = crate::export::qr::qr_png(&url, 8)?;
        // The road and the address, the road once when the address already names it.
        let place = match (&m.street, &m.address) {
            (Some(s), Some(a)) if a.contains(s.as_str()) => a.clone(),
            (s, a) => [s.clone(), a.clone()].into_iter().flatten().collect::<Vec<_>>().join(" "),
        };
        let frontage = m.frontage.clone().unwrap_or_else(|| "门店外墙至道路缘石,左右至与相邻商户的分界线".into());
        let mut blocks = vec![
            Block::Paragraph(format!("为共同创建文明城市,{}(以下简称责任人)自愿承诺,严格落实“门前五包”责任制。", m.name)),
            Block::Heading("一、责任区域".into()),
            Block::Paragraph(format!("{place}{}门前:{frontage}。", if place.is_empty() { "" } else { " " })),
            Block::Heading("二、责任内容".into()),
            Block::Table {
                columns: vec!["责任".into(), "内容".into()],
                widths: vec![2, 9],
                rows: duties.iter().map(|(n, m)| vec![n.clone(), m.clone()]).collect(),
            },
            Block::Heading("三、监督考核".into()),
            Block::Paragraph(
                "社区、网格员和志愿者不定期检查,检查结果纳入每月红黑榜和商户信用档案;连续三个月列入黑榜的,移交市场监管部门处理。".into(),
            ),
            Block::Heading("四、门牌码与商户登录".into()),
            Block::Paragraph("下方二维码张贴于门前,市民扫码可查看本责任书和本店当月评比情况,并可反映门前问题。".into()),
            Block::Photo { bytes: qr, caption: format!("门牌码:{url}") },
            Block::Paragraph(format!(
                "本店可凭登记手机号和商户码 {code} 登录“商户”页面,查看检查结果、回复整改。商户码请妥善保管,遗失可请社区重新签发,原码随即失效。"
            )),
            Block::Paragraph(format!("所属社区:{}    所属网格:{}", v.community_name, v.grid_name)),
            Block::Paragraph(format!("责任人(签字):{}", m.pledge_by.as_deref().map(mask_name).unwrap_or_else(|| "________".into()))),
        ];
        if m.licence.is_some() {
            blocks.push(Block::Paragraph(format!("营业执照号:{}", m.licence.clone().unwrap_or_default())));
        }
        let date = m.pledge_day.and_then(day_of_key).map(official_date).unwrap_or_else(|| "    年  月  日".into());
        let doc = OfficialDoc {
            paper: Default::default(),
            title: "门前五包责任书".into(),
            subtitle: Some(m.name.clone()),
            blocks,
            issuer: v.community_name.clone(),
            date,
        };
        let name = format!("门前五包责任书-{}.docx", m.name);
        let bytes = tokio::task::spawn_blocking(move || crate::export::docx::write(&doc))
            .await
            .map_err(|_| AppError::Internal("document writing failed".into()))??;
        Ok((name, bytes))
    }
}
