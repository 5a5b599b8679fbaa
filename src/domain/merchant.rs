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
}
