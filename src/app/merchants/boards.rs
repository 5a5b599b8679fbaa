//! 红黑榜: each month, from the month's frontage checks, the shops that passed every check
//! (red) and those failing too often or leaving a failure unfixed past its deadline (black),
//! under rules an administrator sets; a month is published (then posted: the public page, the
//! A3 poster), and a shop black for so many months in a row is referred to market regulation
//! by a case. Each shop's credit file reads its published months.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Serialize;

use super::{CheckBrief, MerchantView};
use crate::app::App;
use crate::app::cases::NewCaseInput;
use crate::domain::authz::{Actor, Permission};
use crate::domain::bulletin::official_date;
use crate::domain::calendar::beijing_date;
use crate::domain::merchant::{BoardRules, CreditGrade, MonthTally, Standing, credit_grade, months_before, needs_referral, standing};
use crate::domain::org::OrgUnit;
use crate::error::{AppError, AppResult, Invalid, Thing};
use crate::export::docx::{Block, OfficialDoc, Paper};
use crate::store::merchants::{self as db, MonthShop, ShopMonth, StandingRow};
use crate::store::schema;

const RULES_KEY: &str = "merchant_board_rules";
/// The category of a referral to market regulation.
const REFERRAL_CATEGORY: &str = "0706";
/// The most photos a poster prints.
const POSTER_PHOTOS: usize = 8;

/// A shop as a list names it: its place, no person.
#[derive(Debug, Clone, Serialize)]
pub struct BoardShop {
    #[serde(flatten)]
    pub shop: MonthShop,
    pub community_name: String,
    pub grid_name: String,
}

/// One shop on a list.
#[derive(Debug, Clone, Serialize)]
pub struct BoardRow {
    pub merchant: BoardShop,
    pub standing: Standing,
    #[serde(flatten)]
    pub tally: MonthTally,
    /// The responsibilities it failed in the month, most often first.
    pub problems: Vec<String>,
    /// A photo of a failure (the latest).
    pub photo_id: Option<String>,
}

/// A month's lists for an area.
#[derive(Debug, Clone, Serialize)]
pub struct Board {
    /// YYYY-MM.
    pub month: String,
    pub area_id: String,
    pub area_name: String,
    pub street: Option<String>,
    /// When the month was published for this area; `None`: a preview from the checks so far.
    pub published_at: Option<i64>,
    pub rules: BoardRules,
    /// Open shops in the area and, of them, those checked in the month.
    pub merchants: usize,
    pub checked: usize,
    pub red: Vec<BoardRow>,
    pub black: Vec<BoardRow>,
}

/// A shop's credit file (信用档案).
#[derive(Debug, Clone, Serialize)]
pub struct CreditFile {
    pub merchant: MerchantView,
    pub grade: CreditGrade,
    pub months: Vec<MonthStanding>,
    pub checks: Vec<CheckBrief>,
}

/// One published month of a shop.
#[derive(Debug, Clone, Serialize)]
pub struct MonthStanding {
    pub month: String,
    pub standing: Standing,
    pub checks: i64,
    pub failed: i64,
    pub late: i64,
}

/// A month written YYYY-MM (or YYYYMM) as its key.
pub fn parse_month(text: &str) -> AppResult<i64> {
    let t = text.trim();
    let day = NaiveDate::parse_from_str(&format!("{t}-01"), "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(&format!("{t}01"), "%Y%m%d"))
        .map_err(|_| AppError::Invalid(Invalid::Month))?;
    Ok(crate::domain::inspection::month_key(day))
}

pub fn month_text(key: i64) -> String {
    format!("{:04}-{:02}", key / 100, key % 100)
}

fn month_title(key: i64) -> String {
    format!("{}年{}月", key / 100, key % 100)
}

impl App {
    /// The rules of the red and black lists.
    pub async fn board_rules(&self) -> AppResult<BoardRules> {
        let stored = self.store().read(|c| schema::meta_get(c, RULES_KEY)).await?;
        Ok(stored.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default())
    }

    /// An administrator sets the rules (they apply to months published from now on).
    pub async fn set_board_rules(&self, actor: &Actor, rules: BoardRules) -> AppResult<BoardRules> {
        if !actor.can_somewhere(Permission::ManageMerchants) || !actor.can_somewhere(Permission::ManageManual) {
            return Err(AppError::Forbidden);
        }
        if !rules.valid() {
            return Err(AppError::Invalid(Invalid::BoardRules));
        }
        let text = serde_json::to_string(&rules).map_err(|e| AppError::Internal(e.to_string()))?;
        self.store().write(move |c| schema::meta_set(c, RULES_KEY, &text)).await?;
        Ok(rules)
    }

    /// The month's lists for an area as the checks stand now (a preview until published).
    pub async fn board(&self, actor: &Actor, month: i64, area: Option<&str>, street: Option<&str>) -> AppResult<Board> {
        let unit = self.area(actor, area)?;
        let rules = self.board_rules().await?;
        let (within, now) = (unit.path.clone(), self.now());
        let street = street.map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        let on = street.clone();
        let (shops, tallies) = self.store().read(move |c| db::month_tallies(c, &within, on.as_deref(), month, now, false)).await?;
        let mut rows: Vec<(MonthShop, ShopMonth, Standing)> = tallies
            .into_iter()
            .map(|(m, t)| {
                let s = standing(t.tally, &rules);
                (m, t, s)
            })
            .collect();
        let checked = rows.len();
        rows.retain(|(_, _, s)| *s != Standing::Neither);
        let (red, black) = self.board_rows(rows, month).await?;
        Ok(Board {
            month: month_text(month),
            area_id: unit.id.clone(),
            area_name: unit.name.clone(),
            street,
            published_at: None,
            rules,
            merchants: shops,
            checked,
            red,
            black,
        })
    }

    /// A published month's lists for an area, as anyone may read them (the public page and
    /// the poster): `area` a community or the subdistrict by code or name.
    pub async fn published_board(&self, month: i64, area: Option<&str>, street: Option<&str>) -> AppResult<Board> {
        let dir = self.directory();
        let unit: OrgUnit = match area.map(str::trim).filter(|a| !a.is_empty()) {
            Some(a) => dir.unit_named(a).cloned().ok_or(AppError::NotFound(Thing::OrgUnit))?,
            // The subdistrict (the office that posts the lists), else the top unit.
            None => dir
                .units()
                .filter(|u| u.kind == crate::domain::org::OrgKind::Subdistrict)
                .min_by_key(|u| u.path.len())
                .or_else(|| dir.units().min_by_key(|u| u.path.len()))
                .cloned()
                .ok_or(AppError::NotFound(Thing::OrgUnit))?,
        };
        let within = unit.path.clone();
        let street = street.map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        let st = street.clone();
        let (standings, merchants) = self
            .store()
            .read(move |c| {
                let s: Vec<StandingRow> = db::standings(c, month, &within)?
                    .into_iter()
                    .filter(|r| st.as_ref().is_none_or(|x| r.street.as_ref() == Some(x)))
                    .collect();
                let ids: Vec<String> = s.iter().map(|r| r.merchant_id.clone()).collect();
                let black: std::collections::HashSet<&str> =
                    s.iter().filter(|r| r.standing == Standing::Black).map(|r| r.merchant_id.as_str()).collect();
                let mut m = Vec::new();
                for shop in db::shops_by_ids(c, &ids)? {
                    let photo = match &shop.point_id {
                        Some(p) if black.contains(shop.id.as_str()) => db::month_photo(c, month, p)?,
                        _ => None,
                    };
                    m.push((shop, photo));
                }
                Ok::<_, AppError>((s, m))
            })
            .await?;
        if standings.is_empty() {
            // Nothing published for this month here (a published month has at least its rows
            // of shops on neither list, which are not read): say so rather than show empty lists.
            let any = self.store().read(move |c| db::published_months(c, 36)).await?;
            if !any.contains(&month) {
                return Err(AppError::NotFound(Thing::Board));
            }
        }
        let published_at = standings.iter().map(|s| s.published_at).max();
        let by_id: HashMap<String, (MonthShop, Option<String>)> = merchants.into_iter().map(|m| (m.0.id.clone(), m)).collect();
        let rows = standings
            .iter()
            .filter_map(|s| {
                by_id.get(&s.merchant_id).map(|(m, photo_id)| {
                    let tally = MonthTally { checks: s.checks as u32, failed: s.failed as u32, late: s.late as u32 };
                    (m.clone(), ShopMonth { tally, photo_id: photo_id.clone() }, s.standing)
                })
            })
            .collect();
        // What is posted names the shop and its place, no person (a list row carries none).
        let (red, black) = self.board_rows(rows, month).await?;
        Ok(Board {
            month: month_text(month),
            area_id: unit.id.clone(),
            area_name: unit.name.clone(),
            street,
            published_at,
            rules: self.board_rules().await?,
            merchants: 0,
            checked: 0,
            red,
            black,
        })
    }

    /// The rows of the two lists: red by name; black worst first, each with what it failed
    /// and a photo.
    async fn board_rows(&self, rows: Vec<(MonthShop, ShopMonth, Standing)>, month: i64) -> AppResult<(Vec<BoardRow>, Vec<BoardRow>)> {
        let black_points: std::collections::HashSet<String> =
            rows.iter().filter(|(_, _, s)| *s == Standing::Black).filter_map(|(m, _, _)| m.point_id.clone()).collect();
        let failures = if black_points.is_empty() { Vec::new() } else { self.store().read(move |c| db::month_failures(c, month)).await? };
        let duties: HashMap<String, String> = self.frontage_duties().await?.into_iter().map(|d| (d.code, d.name)).collect();
        // point → (responsibility, failures).
        let mut failed: HashMap<String, Vec<(String, i64)>> = HashMap::new();
        for (point, code, n) in failures.into_iter().filter(|(p, _, _)| black_points.contains(p)) {
            failed.entry(point).or_default().push((duties.get(&code).cloned().unwrap_or(code), n));
        }
        let (mut red, mut black) = (Vec::new(), Vec::new());
        let dir = self.directory();
        for (m, month_row, s) in rows {
            let ShopMonth { tally, photo_id } = month_row;
            let (problems, photo_id) = match (s, m.point_id.as_ref().and_then(|p| failed.get_mut(p))) {
                (Standing::Black, Some(counts)) => {
                    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                    (counts.iter().map(|(n, _)| n.clone()).collect(), photo_id)
                }
                (Standing::Black, None) => (Vec::new(), photo_id),
                _ => (Vec::new(), None),
            };
            let row = BoardRow {
                merchant: BoardShop {
                    community_name: dir.unit(&m.community_id).map(|u| u.name.clone()).unwrap_or_default(),
                    grid_name: dir.unit(&m.grid_id).map(|u| u.name.clone()).unwrap_or_default(),
                    shop: m,
                },
                standing: s,
                tally,
                problems,
                photo_id,
            };
            if s == Standing::Red { red.push(row) } else { black.push(row) }
        }
        red.sort_by(|a, b| a.merchant.community_name.cmp(&b.merchant.community_name).then(a.merchant.shop.name.cmp(&b.merchant.shop.name)));
        black.sort_by(|a, b| {
            (b.tally.late, b.tally.failed).cmp(&(a.tally.late, a.tally.failed)).then(a.merchant.shop.name.cmp(&b.merchant.shop.name))
        });
        Ok((red, black))
    }

    /// Publishes a month for every area the actor keeps merchants in: each shop's standing is
    /// written (replacing an earlier publication of the month there), and a shop black for
    /// the rules' number of months in a row is referred to market regulation by a case (once
    /// per run). Returns (red, black, referred).
    pub async fn publish_board(&self, actor: &Actor, month: i64) -> AppResult<(usize, usize, usize)> {
        if !actor.can_somewhere(Permission::ManageMerchants) {
            return Err(AppError::Forbidden);
        }
        let this_month = crate::domain::inspection::month_key(beijing_date(self.now()));
        if month > this_month {
            return Err(AppError::Invalid(Invalid::Month));
        }
        let rules = self.board_rules().await?;
        let now = self.now();
        let dir = self.directory();
        let mut scopes: Vec<String> = actor.scopes(Permission::ManageMerchants).into_iter().map(str::to_string).collect();
        if !actor.is_person() {
            scopes = vec!["/".into()];
        }
        let (mut red, mut black, mut referred) = (0, 0, 0);
        for within in scopes {
            let w = within.clone();
            let (_, tallies) = self.store().read(move |c| db::month_tallies(c, &w, None, month, now, true)).await?;
            let rows: Vec<StandingRow> = tallies
                .iter()
                .map(|(m, ShopMonth { tally: t, .. })| StandingRow {
                    month,
                    merchant_id: m.id.clone(),
                    standing: standing(*t, &rules),
                    checks: t.checks as i64,
                    failed: t.failed as i64,
                    late: t.late as i64,
                    community_id: m.community_id.clone(),
                    grid_path: m.grid_path.clone(),
                    street: m.street.clone(),
                    published_at: now,
                })
                .collect();
            red += rows.iter().filter(|r| r.standing == Standing::Red).count();
            let blacks: Vec<String> = rows.iter().filter(|r| r.standing == Standing::Black).map(|r| r.merchant_id.clone()).collect();
            black += blacks.len();
            let w = within.clone();
            let earlier = months_before(month, 11);
            let history = self
                .store()
                .write(move |c| {
                    db::publish_standings(c, month, &w, &rows)?;
                    Ok::<_, AppError>(db::standings_of(c, &blacks, &earlier)?)
                })
                .await?;
            // Each black shop's run of months, newest first.
            let mut by_shop: HashMap<String, HashMap<i64, Standing>> = HashMap::new();
            for (id, m, s) in history {
                by_shop.entry(id).or_default().insert(m, s);
            }
            for (m, _) in tallies.iter().filter(|(_, t)| standing(t.tally, &rules) == Standing::Black) {
                let past = by_shop.get(&m.id);
                let run: Vec<Standing> = std::iter::once(Standing::Black)
                    .chain(months_before(month, 11).into_iter().map(|k| past.and_then(|p| p.get(&k)).copied().unwrap_or(Standing::Neither)))
                    .collect();
                if needs_referral(&run, &rules) {
                    let key = m.id.clone();
                    let Some(m) = self.store().read(move |c| db::merchant(c, &key)).await? else { continue };
                    let community = dir.unit(&m.community_id).map(|u| u.name.clone()).unwrap_or_default();
                    let input = NewCaseInput {
                        category: REFERRAL_CATEGORY.into(),
                        description: format!(
                            "{}({community})连续 {} 个月列入门前五包黑榜,移交市场监管部门依法处理。",
                            m.name, rules.referral_months
                        ),
                        lat: m.lat,
                        lon: m.lon,
                        address: m.address.clone(),
                        source: Some("inspection".into()),
                        ..Default::default()
                    };
                    let key = format!("referral:{}:{month}", m.id);
                    match self.report_case(Some(&Actor::system()), input, Some(&key)).await {
                        Ok(_) => referred += 1,
                        // A store without the referral category (set up by hand) refers nothing.
                        Err(AppError::Invalid(Invalid::Category)) => {
                            tracing::warn!(merchant = %m.id, "no referral category {REFERRAL_CATEGORY}: referral not opened")
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        Ok((red, black, referred))
    }

    /// The months published, newest first (for the public page's month list).
    pub async fn published_months(&self) -> AppResult<Vec<String>> {
        Ok(self.store().read(|c| db::published_months(c, 24)).await?.into_iter().map(month_text).collect())
    }

    /// A shop's credit file: its grade, its published months and its checks.
    pub async fn credit_file(&self, actor: &Actor, merchant_id: &str) -> AppResult<CreditFile> {
        let merchant = self.merchant(actor, merchant_id).await?;
        self.credit_of(merchant).await
    }

    pub(crate) async fn credit_of(&self, merchant: MerchantView) -> AppResult<CreditFile> {
        let id = merchant.merchant.id.clone();
        let history = self.store().read(move |c| db::history(c, &id, 12)).await?;
        let grade = credit_grade(&history.iter().map(|h| h.standing).collect::<Vec<_>>());
        let checks = self.checks_of(merchant.merchant.point_id.clone()).await?;
        let months = history
            .into_iter()
            .map(|h| MonthStanding { month: month_text(h.month), standing: h.standing, checks: h.checks, failed: h.failed, late: h.late })
            .collect();
        Ok(CreditFile { merchant, grade, months, checks })
    }

    /// The A3 poster of a published month (红黑榜) as a Word document: both lists, and photos
    /// of what put shops on the black list. (file name, bytes)
    pub async fn board_poster(&self, actor: &Actor, month: i64, area: Option<&str>, street: Option<&str>) -> AppResult<(String, Vec<u8>)> {
        if !actor.can_somewhere(Permission::ReadInspections) {
            return Err(AppError::Forbidden);
        }
        let b = self.published_board(month, area, street).await?;
        let mut photos = Vec::new();
        for r in b.black.iter().filter(|r| r.photo_id.is_some()).take(POSTER_PHOTOS) {
            if let Some(id) = &r.photo_id
                && let Ok((_, bytes)) = self.photo_bytes(Some(actor), id, false).await
            {
                photos.push((bytes, format!("{}:{}", r.merchant.shop.name, r.problems.join("、"))));
            }
        }
        let doc = poster(&b, photos, &self.issuer_name());
        let name = format!("门前五包红黑榜-{}-{}.docx", b.month, b.area_name);
        let bytes = tokio::task::spawn_blocking(move || crate::export::docx::write(&doc))
            .await
            .map_err(|_| AppError::Internal("document writing failed".into()))??;
        Ok((name, bytes))
    }

    /// The office a poster is issued by: the subdistrict (the top unit when there is none).
    fn issuer_name(&self) -> String {
        let dir = self.directory();
        dir.units()
            .filter(|u| u.kind == crate::domain::org::OrgKind::Subdistrict)
            .min_by_key(|u| u.path.len())
            .or_else(|| dir.units().min_by_key(|u| u.path.len()))
            .map(|u| format!("{}创城办", u.name))
            .unwrap_or_default()
    }
}

fn poster(b: &Board, photos: Vec<(Vec<u8>, String)>, issuer: &str) -> OfficialDoc {
    let month = parse_month(&b.month).unwrap_or_default();
    let place = |r: &BoardRow| r.merchant.shop.address.clone().or_else(|| r.merchant.shop.street.clone()).unwrap_or_default();
    let mut blocks = vec![Block::Paragraph(format!(
        "根据{}门前五包检查结果,经汇总,现将红黑榜公布如下。红榜:当月检查 {} 次以上且全部达标;黑榜:当月 {} 次以上检查未达标{}。",
        month_title(month),
        b.rules.red_min_checks,
        b.rules.black_failed_checks,
        if b.rules.black_when_late { ",或问题逾期未整改" } else { "" }
    ))];
    blocks.push(Block::Heading(format!("一、红榜({} 家)", b.red.len())));
    if b.red.is_empty() {
        blocks.push(Block::Paragraph("本月无。".into()));
    } else {
        // Names by community, as a notice board shows a long list: one paragraph each.
        let mut by_community: Vec<(String, Vec<String>)> = Vec::new();
        for r in &b.red {
            match by_community.iter_mut().find(|(c, _)| *c == r.merchant.community_name) {
                Some((_, names)) => names.push(r.merchant.shop.name.clone()),
                None => by_community.push((r.merchant.community_name.clone(), vec![r.merchant.shop.name.clone()])),
            }
        }
        for (community, names) in by_community {
            blocks.push(Block::Paragraph(format!("{community}({} 家):{}。", names.len(), names.join("、"))));
        }
    }
    blocks.push(Block::Heading(format!("二、黑榜({} 家)", b.black.len())));
    if b.black.is_empty() {
        blocks.push(Block::Paragraph("本月无。".into()));
    } else {
        blocks.push(Block::Table {
            columns: vec![
                "序号".into(),
                "商户".into(),
                "地址".into(),
                "社区".into(),
                "未达标".into(),
                "逾期未改".into(),
                "主要问题".into(),
            ],
            widths: vec![1, 4, 5, 3, 2, 2, 4],
            rows: b
                .black
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    vec![
                        (i + 1).to_string(),
                        r.merchant.shop.name.clone(),
                        place(r),
                        r.merchant.community_name.clone(),
                        format!("{} 次", r.tally.failed),
                        format!("{} 件", r.tally.late),
                        r.problems.join("、"),
                    ]
                })
                .collect(),
        });
        for (bytes, caption) in photos {
            blocks.push(Block::Photo { bytes, caption });
        }
    }
    blocks.push(Block::Paragraph(
        "请黑榜商户立即整改,整改情况纳入下月检查;连续三个月列入黑榜的,移交市场监管部门处理。欢迎市民扫描商户门前二维码监督。".into(),
    ));
    let subtitle = match &b.street {
        Some(s) => format!("{} · {s}", b.area_name),
        None => b.area_name.clone(),
    };
    let date = b.published_at.map(|t| official_date(beijing_date(t))).unwrap_or_default();
    OfficialDoc {
        paper: Paper::A3,
        title: format!("{}门前五包红黑榜", month_title(month)),
        subtitle: Some(subtitle),
        blocks,
        issuer: issuer.to_string(),
        date,
    }
}
