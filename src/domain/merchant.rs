//! Merchants (商户) under 门前五包: the shop, its frontage, its pledge (责任书) and the five
//! responsibilities it signs for — 包卫生, 包秩序, 包绿化, 包设施, 包文明 by default, each with
//! what it means; a district may name its own five. Pure: no I/O.

use serde::{Deserialize, Serialize};

crate::string_enum! {
    /// Whether the shop trades where it is registered.
    pub enum MerchantStatus {
        Open = "open" | "营业" | "在营",
        Closed = "closed" | "停业" | "关闭",
        Moved = "moved" | "迁出" | "搬迁",
    }
}

crate::string_enum! {
    /// What the shop does (the common kinds; 其他 for the rest).
    pub enum BusinessKind {
        Catering = "catering" | "餐饮",
        Retail = "retail" | "零售" | "商超",
        CarRepair = "car_repair" | "汽修" | "汽车维修",
        MarketStall = "market_stall" | "农贸摊位" | "摊位",
        Service = "service" | "服务" | "生活服务",
        Other = "other" | "其他",
    }
}

/// One of the responsibilities a pledge names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Duty {
    pub name: String,
    pub meaning: String,
}

/// The five most common responsibilities, the default of every district.
pub fn default_duties() -> Vec<Duty> {
    [
        ("包卫生", "门前责任区内无垃圾、无污水、无积雪积冰,垃圾入桶,果皮纸屑随时清扫"),
        ("包秩序", "不店外经营、不占道摆摊,车辆有序停放,不乱搭乱建"),
        ("包绿化", "爱护门前树木花草和绿化设施,不损毁、不晾晒、不堆放杂物"),
        ("包设施", "爱护门前公共设施,招牌牌匾完好整洁,发现损坏及时报告"),
        ("包文明", "文明经营、诚信待客,劝阻乱扔乱吐等不文明行为"),
    ]
    .into_iter()
    .map(|(n, m)| Duty { name: n.into(), meaning: m.into() })
    .collect()
}

/// One responsibility as a district names it: the name, what it means, and the problem
/// category a failure opens a case in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DutyInput {
    pub name: String,
    #[serde(default)]
    pub meaning: String,
    #[serde(default)]
    pub category: Option<String>,
}

/// The manual items a district's responsibilities become: coded 五包-01 …, pass/fail, the
/// standard scores adding up to 100. `None` when the list breaks a rule: 1 to 10
/// responsibilities, each named in 1 to 10 characters, no two alike, meaning ≤ 100 characters.
pub fn frontage_items(duties: &[DutyInput]) -> Option<Vec<crate::domain::manual::Item>> {
    if duties.is_empty() || duties.len() > 10 {
        return None;
    }
    let mut names = std::collections::HashSet::new();
    let standard = (10_000.0 / duties.len() as f64).round() / 100.0;
    let mut out = Vec::new();
    for (i, d) in duties.iter().enumerate() {
        let name = d.name.trim();
        let meaning = d.meaning.trim();
        if name.is_empty() || name.chars().count() > 10 || meaning.chars().count() > 100 || !names.insert(name) {
            return None;
        }
        out.push(crate::domain::manual::Item {
            code: format!("五包-{:02}", i + 1),
            text: name.to_string(),
            method: (!meaning.is_empty()).then(|| meaning.to_string()),
            standard,
            scoring: crate::domain::inspection::Scoring::PassFail,
            veto: false,
            category: d.category.clone().filter(|c| !c.trim().is_empty()),
        });
    }
    Some(out)
}

/// Why a merchant's record is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MerchantError {
    Name,
    Licence,
}

/// Checks a name and a licence number (统一社会信用代码 or a licence of up to 32 letters
/// and digits; empty when the stall has none).
pub fn check(name: &str, licence: &str) -> Result<(), MerchantError> {
    if name.trim().is_empty() || name.chars().count() > 60 {
        return Err(MerchantError::Name);
    }
    let l = licence.trim();
    if l.chars().count() > 32 || !l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(MerchantError::Licence);
    }
    Ok(())
}

/// The point type of the evaluation manual a frontage check scores: every merchant is a point
/// of this type, and the type's items are the district's five responsibilities.
pub const FRONTAGE_TYPE: &str = "门前五包";

crate::string_enum! {
    /// A merchant's place on a month's red and black lists (红黑榜).
    pub enum Standing {
        Red = "red" | "红榜",
        Black = "black" | "黑榜",
        Neither = "none" | "未上榜",
    }
}

crate::string_enum! {
    /// A merchant's credit grade (信用等级) from its last twelve published months.
    pub enum CreditGrade {
        A = "A",
        B = "B",
        C = "C",
    }
}

/// The rules of the red and black lists, set by an administrator.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BoardRules {
    /// A month with at least this many checks, none failed, puts a shop on the red list.
    pub red_min_checks: u32,
    /// This many failed checks in a month put a shop on the black list.
    pub black_failed_checks: u32,
    /// A failure not fixed by its deadline puts a shop on the black list.
    pub black_when_late: bool,
    /// After this many black months in a row the shop is referred to market regulation.
    pub referral_months: u32,
}

impl Default for BoardRules {
    fn default() -> Self {
        BoardRules { red_min_checks: 1, black_failed_checks: 2, black_when_late: true, referral_months: 3 }
    }
}

impl BoardRules {
    /// Whether the rules can be applied: every count at least 1, at most 31 (a month's days).
    pub fn valid(&self) -> bool {
        [self.red_min_checks, self.black_failed_checks, self.referral_months].iter().all(|n| (1..=31).contains(n))
    }
}

/// One shop's month: its checks, the checks that failed an item, the failures not fixed by
/// their deadline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MonthTally {
    pub checks: u32,
    pub failed: u32,
    pub late: u32,
}

/// Where a month puts a shop: black first (a black reason outweighs a clean check), then red.
pub fn standing(t: MonthTally, rules: &BoardRules) -> Standing {
    if t.failed >= rules.black_failed_checks || (rules.black_when_late && t.late > 0) {
        Standing::Black
    } else if t.checks >= rules.red_min_checks && t.failed == 0 {
        Standing::Red
    } else {
        Standing::Neither
    }
}

/// The credit grade from the published months, newest first (at most twelve are read):
/// C — black in any of the last three months, or three or more black months; A — no black
/// month and red in at least half the months published; B — otherwise. A shop with no
/// published month is B.
pub fn credit_grade(months: &[Standing]) -> CreditGrade {
    let year = &months[..months.len().min(12)];
    let black = year.iter().filter(|s| **s == Standing::Black).count();
    let red = year.iter().filter(|s| **s == Standing::Red).count();
    if year.iter().take(3).any(|s| *s == Standing::Black) || black >= 3 {
        CreditGrade::C
    } else if black == 0 && !year.is_empty() && red * 2 >= year.len() {
        CreditGrade::A
    } else {
        CreditGrade::B
    }
}

/// Whether the latest months (consecutive, newest first) call for a referral to market
/// regulation: the last `referral_months` all black — and, so one run is referred once, not
/// the run before it as well (a fourth black month does not refer again until the count is
/// reached anew).
pub fn needs_referral(months: &[Standing], rules: &BoardRules) -> bool {
    let n = rules.referral_months as usize;
    let run = months.iter().take_while(|s| **s == Standing::Black).count();
    n > 0 && run >= n && run % n == 0
}

/// The months before `month` (YYYYMM), newest first, `count` of them.
pub fn months_before(month: i64, count: usize) -> Vec<i64> {
    let (mut y, mut m) = (month / 100, month % 100);
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        m -= 1;
        if m == 0 {
            m = 12;
            y -= 1;
        }
        out.push(y * 100 + m);
    }
    out
}

/// The point name of a merchant: its name and where it is, so two shops of one chain read
/// apart in rankings.
pub fn point_name(name: &str, address: Option<&str>, street: Option<&str>) -> String {
    match address.or(street).map(str::trim).filter(|a| !a.is_empty()) {
        Some(a) => format!("{name}({a})"),
        None => name.to_string(),
    }
}

/// The letters a login code is written in: no 0/O, 1/I/L to misread on paper.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// Writes the first bytes of a keyed digest as an eight-letter login code.
pub fn code_letters(digest: &[u8]) -> String {
    digest.iter().take(8).map(|b| CODE_ALPHABET[*b as usize % CODE_ALPHABET.len()] as char).collect()
}

/// A login code as typed: spaces and dashes dropped, upper case.
pub fn normalize_code(typed: &str) -> String {
    typed.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_uppercase()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_five_and_the_checks() {
        let d = default_duties();
        assert_eq!(d.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["包卫生", "包秩序", "包绿化", "包设施", "包文明"]);
        assert!(check("老王烧烤", "91370115MA3C000X1Y").is_ok());
        assert!(check("流动摊位", "").is_ok());
        assert_eq!(check(" ", ""), Err(MerchantError::Name));
        assert_eq!(check("店", "编号 12"), Err(MerchantError::Licence));
        assert_eq!(BusinessKind::parse("餐饮"), Some(BusinessKind::Catering));
        assert_eq!(MerchantStatus::parse("停业"), Some(MerchantStatus::Closed));
    }

    #[test]
    fn standings_follow_the_rules() {
        let r = BoardRules::default();
        let t = |checks, failed, late| MonthTally { checks, failed, late };
        assert_eq!(standing(t(3, 0, 0), &r), Standing::Red);
        assert_eq!(standing(t(0, 0, 0), &r), Standing::Neither);
        assert_eq!(standing(t(3, 1, 0), &r), Standing::Neither);
        assert_eq!(standing(t(3, 2, 0), &r), Standing::Black);
        assert_eq!(standing(t(1, 1, 1), &r), Standing::Black);
        let lenient = BoardRules { black_when_late: false, red_min_checks: 2, ..r };
        assert_eq!(standing(t(1, 1, 1), &lenient), Standing::Neither);
        assert_eq!(standing(t(1, 0, 0), &lenient), Standing::Neither);
        assert!(r.valid());
        assert!(!BoardRules { black_failed_checks: 0, ..r }.valid());
    }

    #[test]
    fn grades_and_referrals() {
        use Standing::*;
        assert_eq!(credit_grade(&[]), CreditGrade::B);
        assert_eq!(credit_grade(&[Red, Neither, Red]), CreditGrade::A);
        assert_eq!(credit_grade(&[Neither, Neither, Red]), CreditGrade::B);
        assert_eq!(credit_grade(&[Red, Red, Black]), CreditGrade::C);
        assert_eq!(credit_grade(&[Red, Red, Red, Black, Neither, Black, Black]), CreditGrade::C);
        assert_eq!(credit_grade(&[Red, Red, Red, Black]), CreditGrade::B);
        let r = BoardRules::default();
        assert!(needs_referral(&[Black, Black, Black], &r));
        assert!(needs_referral(&[Black, Black, Black, Red], &r));
        assert!(!needs_referral(&[Black, Black, Red], &r));
        assert!(!needs_referral(&[Black, Black, Black, Black], &r), "a run is referred once");
        assert!(needs_referral(&[Black; 6], &r));
        assert_eq!(months_before(202601, 3), vec![202512, 202511, 202510]);
    }

    #[test]
    fn names_and_codes() {
        assert_eq!(point_name("沙县小吃", Some("纬二路 12 号"), None), "沙县小吃(纬二路 12 号)");
        assert_eq!(point_name("沙县小吃", None, Some("纬二路")), "沙县小吃(纬二路)");
        assert_eq!(point_name("摊位", Some(" "), None), "摊位");
        let code = code_letters(&[0, 1, 2, 3, 200, 255, 31, 62, 99]);
        assert_eq!(code.len(), 8);
        assert!(code.chars().all(|c| c.is_ascii_alphanumeric() && !"01OIL".contains(c)));
        assert_eq!(normalize_code(" ab2c-d3ef "), "AB2CD3EF");
    }

    #[test]
    fn a_district_names_its_own_responsibilities() {
        let d = |n: &str| DutyInput { name: n.into(), meaning: "说明".into(), category: Some("0701".into()) };
        let items = frontage_items(&[d("包卫生"), d("包亮化"), d("包安全")]).unwrap();
        assert_eq!(items.iter().map(|i| i.code.as_str()).collect::<Vec<_>>(), ["五包-01", "五包-02", "五包-03"]);
        assert_eq!(items[1].text, "包亮化");
        assert!((items.iter().map(|i| i.standard).sum::<f64>() - 100.0).abs() < 0.05);
        assert!(frontage_items(&[]).is_none());
        assert!(frontage_items(&[d("包卫生"), d("包卫生")]).is_none(), "no two alike");
        assert!(frontage_items(&[d("")]).is_none());
        assert!(frontage_items(&vec![d("x"); 11]).is_none());
    }
}
