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
        };
        problems.extend(check_category(&category).into_iter().map(|p| (n, p)));
        out.push(category);
    }
    if problems.is_empty() { Ok(out) } else { Err(problems) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_categories_cover_the_seed() {
        let cats = parse_categories(BUILT_IN).unwrap();
        for name in ["乱扔垃圾", "随地吐痰", "遛狗不拴绳", "摊位乱摆/占道经营", "垃圾死角", "楼道杂物", "绿化带垃圾", "乱挂乱晒", "暴露垃圾", "私搭乱建", "违规小广告", "道路不洁", "施工扬尘"] {
            assert!(cats.iter().any(|c| c.name == name), "missing {name}");
        }
        let classes: std::collections::HashSet<_> = cats.iter().map(|c| c.class_name.as_str()).collect();
        assert_eq!(classes.len(), 7);
    }

    #[test]
    fn bad_entries_are_named() {
        let text = "classes=[{code=\"01\",name=\"a\"}]\ncategories=[{code=\"0101\",name=\"x\",tier=9,response=10,handling=5},{code=\"0201\",name=\"y\",tier=1,response=1,handling=2}]";
        let p = parse_categories(text).unwrap_err();
        assert_eq!(p.iter().map(|(n, _)| *n).collect::<Vec<_>>(), vec![1, 1, 2]);
    }
}
