//! The demo's 门前五包: some 320 shops along the nine communities' roads, imported the way an
//! office would (a sheet through `import_merchants`), three months of frontage checks and
//! this month's first days — most shops keep their frontage, some slip, a few never do —
//! the cases failures open, mostly fixed in time, and the three full months' red and black
//! lists published (referring the shops black all three to market regulation). Seeded: the
//! same months on every run (relative to today).

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::App;
use super::cases::ActInput;
use super::demo_inspections::demo_scene;
use super::inspections::{ItemInput, SubmitInput};
use crate::domain::calendar::{beijing_date, beijing_day_start};
use crate::domain::case::{Action, Status};
use crate::domain::coords::LatLon;
use crate::domain::inspection::{Observation, month_key};
use crate::domain::merchant::months_before;
use crate::domain::org::OrgKind;
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;

const SEED: u64 = 20_261_203;
const ROADS: [&str; 9] = ["开元大街", "纬二路", "经一路", "澄波湖路", "富阳街", "迎宾路", "银河路", "汇鑫大道", "龙海路"];
const NAMES: [&str; 24] = [
    "老王",
    "张记",
    "李家",
    "刘氏",
    "福满",
    "鑫源",
    "惠民",
    "好邻居",
    "金百合",
    "佳佳",
    "顺发",
    "德兴",
    "阿香",
    "小杨",
    "百姓",
    "康乐",
    "吉祥",
    "聚福",
    "宏达",
    "新华",
    "永盛",
    "红星",
    "明珠",
    "万家",
];
const SHOPS: [(&str, &str); 16] = [
    ("烧烤", "餐饮"),
    ("面馆", "餐饮"),
    ("水饺馆", "餐饮"),
    ("早餐店", "餐饮"),
    ("便利店", "零售"),
    ("水果店", "零售"),
    ("五金店", "零售"),
    ("药店", "零售"),
    ("汽修", "汽修"),
    ("洗车行", "汽修"),
    ("蔬菜摊", "农贸摊位"),
    ("鲜肉摊", "农贸摊位"),
    ("理发店", "服务"),
    ("干洗店", "服务"),
    ("花店", "零售"),
    ("家常菜馆", "餐饮"),
];
const DAY: i64 = 86_400_000;

/// What the demo's 门前五包 came to.
#[derive(Debug, Default)]
pub struct MerchantDemo {
    pub merchants: usize,
    pub checks: usize,
    pub cases: usize,
    pub red: usize,
    pub black: usize,
    pub referred: usize,
    /// A shop's phone number and login code, to try the merchant's page.
    pub login: Option<(String, String)>,
}

impl App {
    /// The demo's shops, checks and lists (see the module notes).
    pub async fn seed_demo_merchants(&self) -> AppResult<MerchantDemo> {
        let mut rng = StdRng::seed_from_u64(SEED);
        let dir = self.directory();
        let mut communities: Vec<_> = dir.units().filter(|u| u.kind == OrgKind::Community).cloned().collect();
        communities.sort_by(|a, b| a.code.cmp(&b.code));
        let today = beijing_date(self.now());
        let mut sheet = String::from("商户名称,地址,纬度,经度,联系人,电话,经营类别,签订日期,营业执照号,所在道路,责任区\n");
        let mut n = 0usize;
        for (k, community) in communities.iter().enumerate() {
            let mut grids: Vec<_> = dir.grids().filter(|g| g.community.code == community.code).map(|g| g.code.clone()).collect();
            grids.sort();
            for j in 0..36 {
                let Some(centre) = dir.interior_point(&grids[(j * 5) % grids.len()]) else { continue };
                let at =
                    LatLon { lat: centre.lat + rng.random_range(-0.0003..0.0003), lon: centre.lon + rng.random_range(-0.0003..0.0003) };
                if dir.locate(at).is_none() {
                    continue;
                }
                let road = ROADS[(k + j / 12) % ROADS.len()];
                let (shop, kind) = SHOPS[(j + k * 3) % SHOPS.len()];
                let name = format!("{}{shop}", NAMES[(j * 7 + k) % NAMES.len()]);
                let signed = today - chrono::Duration::days(rng.random_range(120..400));
                n += 1;
                sheet.push_str(&format!(
                    "{name},{road}{}号,{:.6},{:.6},{}{},139{:08},{kind},{},91370115MA3D{:05}X,{road},门店外墙至道路缘石\n",
                    10 + j * 2,
                    at.lat,
                    at.lon,
                    ["王", "张", "李", "刘", "陈", "杨", "赵", "孙"][j % 8],
                    ["建国", "秀英", "海燕", "志强", "桂兰", "立新"][(j + k) % 6],
                    5_300_000 + n,
                    signed.format("%Y-%m-%d"),
                    n
                ));
            }
        }
        let merchants = self.import_merchants(&crate::domain::authz::Actor::console(), sheet.as_bytes(), Lang::ZhCn).await?;
        let mut out = MerchantDemo { merchants, ..Default::default() };
        let inspector = self.demo_actor("inspector").await?;
        let dispatcher = self.demo_actor("dispatcher").await?;
        let duties = self.frontage_duties().await?;
        let shops = self.merchants(&crate::domain::authz::Actor::console(), None).await?;
        // How well each shop keeps its frontage: most well, some slip, a few never.
        let care: Vec<f64> = shops
            .iter()
            .enumerate()
            .map(|(i, _)| match i % 20 {
                0 => 0.35,
                3 | 11 | 15 => 0.12,
                _ => 0.02,
            })
            .collect();
        let this_month = month_key(today);
        let mut months: Vec<i64> = months_before(this_month, 3);
        months.reverse();
        months.push(this_month);
        for month in &months {
            let first = chrono::NaiveDate::from_ymd_opt((month / 100) as i32, (month % 100) as u32, 1).unwrap_or(today);
            for (i, shop) in shops.iter().enumerate() {
                for visit in 0..2 {
                    let day = first + chrono::Duration::days(((i * 3 + visit * 13 + (*month as usize % 7)) % 27) as i64);
                    if day > today {
                        continue;
                    }
                    let at = beijing_day_start(day) + (9 + (i % 8) as i64) * 3_600_000 + (i as i64 % 50) * 60_000;
                    if at > self.now() {
                        continue;
                    }
                    let mut items = Vec::new();
                    for d in &duties {
                        let fails = rng.random_bool(care[i]);
                        let mut photos = Vec::new();
                        if fails && rng.random_bool(0.5) {
                            photos.push(self.upload_photo(Some(&inspector), demo_scene(&mut rng)).await?.record.id);
                        }
                        items.push(ItemInput {
                            code: d.code.clone(),
                            observation: if fails { Observation::Fail } else { Observation::Pass },
                            note: fails.then(|| format!("门前{}不到位", d.name.trim_start_matches('包'))),
                            photos,
                        });
                    }
                    let id = shop.merchant.id.clone();
                    let done = match self.check_frontage_at(&inspector, &id, SubmitInput { items, note: None }, None, at).await {
                        Ok(d) => d,
                        Err(AppError::Invalid(_)) => continue,
                        Err(e) => return Err(e),
                    };
                    out.checks += 1;
                    // The grid registers and sends on the cases; most shops fix in time.
                    for item in done.items.iter().filter(|i| i.case.as_ref().is_some_and(|c| c.status == Status::Reported)) {
                        let Some(case) = &item.case else { continue };
                        out.cases += 1;
                        let t0 = at + 20 * 60_000;
                        self.act_at(&dispatcher, &case.id, Action::Register, ActInput::default(), None, t0).await?;
                        let v = self.act_at(&dispatcher, &case.id, Action::Dispatch, ActInput::default(), None, t0 + 60_000).await?;
                        let Some(unit) = v.state.assignee_unit_id.clone() else { continue };
                        let slow = care[i] > 0.3 && rng.random_bool(0.5);
                        let t1 = t0 + if slow { rng.random_range(4..9) * DAY } else { rng.random_range(1..6) * 3_600_000 };
                        if t1 > self.now() {
                            continue;
                        }
                        let Some(handler) = self.demo_handler(&unit).await? else { continue };
                        self.act_at(&handler, &case.id, Action::Accept, ActInput::default(), None, t1).await?;
                        let note = ActInput { note: Some("商户已按要求整改".into()), ..Default::default() };
                        self.act_at(&handler, &case.id, Action::Handle, note, None, t1 + 3_600_000).await?;
                    }
                }
            }
        }
        for month in months.iter().filter(|m| **m != this_month) {
            let (red, black, referred) = self.publish_board(&crate::domain::authz::Actor::console(), *month).await?;
            out.red += red;
            out.black += black;
            out.referred += referred;
        }
        if let Some(first) = shops.first() {
            let id = first.merchant.id.clone();
            let row = self.store().read(move |c| crate::store::merchants::merchant(c, &id)).await?;
            if let Some(row) = row {
                let code = self.login_code(&row).await?;
                out.login = row.phone.clone().map(|p| (p, code));
            }
        }
        Ok(out)
    }
}
