//! Problem categories (问题类别): two levels, each with a default tier, department and
//! deadlines in working minutes, and whether citizens may report it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Category {
    /// 2-digit class + 2-digit subclass, e.g. `0601` 乱扔垃圾.
    pub code: String,
    pub name: String,
    pub class_code: String,
    pub class_name: String,
    pub tier: u8,
    /// Code of the default handling department, if any.
    pub department: Option<String>,
    pub response_minutes: i64,
    pub handling_minutes: i64,
    pub citizen: bool,
    pub active: bool,
    /// Extra questions (Open311 service attributes).
    #[serde(default)]
    pub attributes: Vec<Attribute>,
}

/// One extra question a category asks, as Open311 describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribute {
    pub code: String,
    /// string, number, datetime, text, singlevaluelist or multivaluelist.
    pub datatype: String,
    #[serde(default)]
    pub required: bool,
    pub description: String,
    #[serde(default)]
    pub datatype_description: String,
    #[serde(default)]
    pub order: i64,
    #[serde(default)]
    pub values: Vec<AttributeValue>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributeValue {
    pub key: String,
    pub name: String,
}

const DATATYPES: [&str; 6] = ["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"];

/// Checks answers (`code` → one or more values) against a category's questions.
pub fn check_answers(attributes: &[Attribute], answers: &std::collections::BTreeMap<String, Vec<String>>) -> Result<(), String> {
    for (code, _) in answers.iter() {
        if !attributes.iter().any(|a| &a.code == code) {
            return Err(format!("unknown attribute {code}"));
        }
    }
    for a in attributes {
        let given: Vec<&String> = answers.get(&a.code).map(|v| v.iter().filter(|s| !s.trim().is_empty()).collect()).unwrap_or_default();
        if given.is_empty() {
            if a.required {
                return Err(format!("attribute {} is required", a.code));
            }
            continue;
        }
        let known = |v: &String| a.values.iter().any(|x| &x.key == v);
        let ok = match a.datatype.as_str() {
            "number" => given.len() == 1 && given[0].trim().parse::<f64>().is_ok_and(f64::is_finite),
            "datetime" => given.len() == 1 && chrono::DateTime::parse_from_rfc3339(given[0].trim()).is_ok(),
            "singlevaluelist" => given.len() == 1 && known(given[0]),
            "multivaluelist" => given.iter().all(|v| known(v)),
            _ => given.len() == 1 && given[0].chars().count() <= 1000,
        };
        if !ok {
            return Err(format!("attribute {} has an invalid value", a.code));
        }
    }
    Ok(())
}

#[derive(Deserialize)]
struct FileAttribute {
    category: String,
    #[serde(flatten)]
    attribute: Attribute,
}

#[derive(Deserialize)]
struct FileClass {
    code: String,
    name: String,
}

#[derive(Deserialize)]
struct FileCategory {
    code: String,
    name: String,
    tier: u8,
    department: Option<String>,
    response: i64,
    handling: i64,
    #[serde(default)]
    citizen: bool,
    #[serde(default = "yes")]
    active: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct CategoryFile {
    classes: Vec<FileClass>,
    categories: Vec<FileCategory>,
    #[serde(default)]
    attributes: Vec<FileAttribute>,
}

pub const BUILT_IN: &str = include_str!("../../data-files/categories.toml");

/// What is wrong with one category, in words; empty when it is fine.
pub fn check_category(c: &Category) -> Vec<String> {
    let mut problems = Vec::new();
    if c.code.len() != 4 || !c.code.bytes().all(|b| b.is_ascii_digit()) {
        problems.push(format!("code {} must be 4 digits", c.code));
    } else if !c.code.starts_with(&c.class_code) {
        problems.push(format!("code {} is not in class {}", c.code, c.class_code));
    }
    if !(1..=4).contains(&c.tier) {
        problems.push(format!("tier {} must be 1–4", c.tier));
    }
    if c.response_minutes <= 0 || c.handling_minutes <= 0 || c.response_minutes > c.handling_minutes {
        problems.push("deadlines must be positive and response ≤ handling".into());
    }
    if c.name.trim().is_empty() || c.class_name.trim().is_empty() {
        problems.push("name is empty".into());
    }
    for a in &c.attributes {
        if !DATATYPES.contains(&a.datatype.as_str()) {
            problems.push(format!("attribute {}: unknown datatype {}", a.code, a.datatype));
        }
        if a.datatype.ends_with("valuelist") && a.values.is_empty() {
            problems.push(format!("attribute {}: a list needs values", a.code));
        }
    }
    problems
}

/// Reads a category file; every problem is reported with the category's position (1-based).
pub fn parse_categories(text: &str) -> Result<Vec<Category>, Vec<(usize, String)>> {
    let file: CategoryFile = toml::from_str(text).map_err(|e| vec![(0, e.to_string())])?;
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, c) in file.categories.into_iter().enumerate() {
        let n = i + 1;
        let class_code = c.code.get(..2).unwrap_or("").to_string();
        let Some(class) = file.classes.iter().find(|k| k.code == class_code) else {
            problems.push((n, format!("class {class_code} of {} is not listed", c.code)));
            continue;
        };
        if !seen.insert(c.code.clone()) {
            problems.push((n, format!("code {} appears twice", c.code)));
        }
        let category = Category {
            class_name: class.name.clone(),
            class_code,
            code: c.code,
            name: c.name,
            tier: c.tier,
            department: c.department.filter(|d| !d.trim().is_empty()),
            response_minutes: c.response,
            handling_minutes: c.handling,
            citizen: c.citizen,
            active: c.active,
            attributes: Vec::new(),
        };
        problems.extend(check_category(&category).into_iter().map(|p| (n, p)));
        out.push(category);
    }
    for (i, fa) in file.attributes.into_iter().enumerate() {
        match out.iter_mut().find(|c| c.code == fa.category) {
            Some(c) => c.attributes.push(fa.attribute),
            None => problems.push((i + 1, format!("attribute {} names unknown category {}", fa.attribute.code, fa.category))),
        }
    }
    for c in &mut out {
        c.attributes.sort_by_key(|a| a.order);
        problems.extend(check_category(c).into_iter().filter(|p| p.starts_with("attribute")).map(|p| (0, p)));
    }
    if problems.is_empty() { Ok(out) } else { Err(problems) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_categories_cover_the_seed() {
        let cats = parse_categories(BUILT_IN).unwrap();
        for name in [
            "乱扔垃圾",
            "随地吐痰",
            "遛狗不拴绳",
            "摊位乱摆/占道经营",
            "垃圾死角",
            "楼道杂物",
            "绿化带垃圾",
            "乱挂乱晒",
            "暴露垃圾",
            "私搭乱建",
            "违规小广告",
            "道路不洁",
            "施工扬尘",
        ] {
            assert!(cats.iter().any(|c| c.name == name), "missing {name}");
        }
        let classes: std::collections::HashSet<_> = cats.iter().map(|c| c.class_name.as_str()).collect();
        assert_eq!(classes.len(), 8, "with 门前五包");
    }

    #[test]
    fn answers_are_checked_against_the_questions() {
        let cats = parse_categories(BUILT_IN).unwrap();
        let lamp = cats.iter().find(|c| c.code == "0503").unwrap();
        let a = |pairs: &[(&str, &[&str])]| pairs.iter().map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect())).collect();
        assert!(check_answers(&lamp.attributes, &a(&[("pole", &["JY-0231"]), ("state", &["dark", "flicker"])])).is_ok());
        assert!(check_answers(&lamp.attributes, &a(&[("state", &["dark"])])).is_err(), "pole is required");
        assert!(check_answers(&lamp.attributes, &a(&[("pole", &["1"]), ("state", &["purple"])])).is_err());
        assert!(check_answers(&lamp.attributes, &a(&[("pole", &["1"]), ("colour", &["x"])])).is_err());
    }

    #[test]
    fn bad_entries_are_named() {
        let text = "classes=[{code=\"01\",name=\"a\"}]\ncategories=[{code=\"0101\",name=\"x\",tier=9,response=10,handling=5},{code=\"0201\",name=\"y\",tier=1,response=1,handling=2}]";
        let p = parse_categories(text).unwrap_err();
        assert_eq!(p.iter().map(|(n, _)| *n).collect::<Vec<_>>(), vec![1, 1, 2]);
    }
}
