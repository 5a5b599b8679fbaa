//! The evaluation manual (测评手册 / 测评细则) as data: point types, each with coded items —
//! what is checked, how (测评方法), the standard score, the scoring method and its rule,
//! whether a failure voids the point (否决), and the problem category a failure opens a case
//! in. Read from a TOML file or from a spreadsheet's rows; either way every problem is found
//! before anything is kept, each with its line or row.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::inspection::{Scoring, ScoringError, ScoringMethod};

/// A checked manual, ready to be stored as a new version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Manual {
    pub name: String,
    pub point_types: Vec<PointType>,
}

/// 点位类型: a kind of place, with the items checked there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PointType {
    pub name: String,
    /// A simulated test (模拟测试: call a hotline, file a complaint) has no place.
    pub simulated: bool,
    pub items: Vec<Item>,
}

/// 测评细则: one coded item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    /// E.g. `小区-03`; unique within the manual.
    pub code: String,
    pub text: String,
    /// 测评方法, e.g. "抽查 2 个楼道".
    pub method: Option<String>,
    pub standard: f64,
    pub scoring: Scoring,
    /// 否决: a failure voids the whole point.
    pub veto: bool,
    /// The problem category a failure opens a case in; none for items that are not street
    /// problems.
    pub category: Option<String>,
}

impl Manual {
    pub fn item_count(&self) -> usize {
        self.point_types.iter().map(|t| t.items.len()).sum()
    }
}

/// What is wrong with a manual, one problem of one line or row.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ManualProblem {
    #[error("the file cannot be read: {0}")]
    Malformed(String),
    #[error("the manual has no items")]
    Empty,
    #[error("columns missing: {0}")]
    MissingColumns(String),
    #[error("{0} is missing")]
    Missing(&'static str),
    #[error("the score {0:?} is not a positive number")]
    NotANumber(String),
    #[error("unknown scoring method {0:?}")]
    UnknownMethod(String),
    #[error("{0}")]
    BadRule(ScoringError),
    #[error("item code {code} appears again (first on {first})")]
    DuplicateCode { code: String, first: usize },
    #[error("unknown problem category {0}")]
    UnknownCategory(String),
    #[error("否决 must be 是 or 否, not {0:?}")]
    BadFlag(String),
}

/// A problem with the line (TOML) or row (spreadsheet, the header is row 1) it is on; 0 for
/// the file as a whole.
#[derive(Debug, Clone, PartialEq)]
pub struct LineProblem {
    pub line: usize,
    pub problem: ManualProblem,
}

/// One item as read, before it is checked.
#[derive(Debug, Clone, Default)]
struct RawItem {
    line: usize,
    /// Where each field is, when the format knows (TOML): field → line.
    field_lines: HashMap<&'static str, usize>,
    point_type: String,
    simulated: bool,
    code: String,
    text: String,
    method: Option<String>,
    score: String,
    scoring: String,
    rule: String,
    veto: String,
    category: Option<String>,
}

fn yes(v: &str) -> Option<bool> {
    match v.trim() {
        "" | "否" | "no" | "false" | "0" | "N" | "n" => Some(false),
        "是" | "yes" | "true" | "1" | "Y" | "y" | "√" => Some(true),
        _ => None,
    }
}

/// Checks every item; `known_category` says whether a category code exists.
fn check(name: &str, raw: Vec<RawItem>, known_category: &dyn Fn(&str) -> bool) -> Result<Manual, Vec<LineProblem>> {
    let mut problems = Vec::new();
    if raw.is_empty() {
        problems.push(LineProblem { line: 0, problem: ManualProblem::Empty });
    }
    let mut codes: HashMap<String, usize> = HashMap::new();
    let mut types: Vec<PointType> = Vec::new();
    for r in raw {
        let mut found: Vec<ManualProblem> = Vec::new();
        for (what, v) in [("点位类型", &r.point_type), ("编号", &r.code), ("测评内容", &r.text)] {
            if v.trim().is_empty() {
                found.push(ManualProblem::Missing(what));
            }
        }
        let standard = r.score.trim().parse::<f64>().ok().filter(|s| s.is_finite() && *s > 0.0);
        if standard.is_none() {
            found.push(ManualProblem::NotANumber(r.score.clone()));
        }
        let scoring = match ScoringMethod::parse(&r.scoring) {
            Some(m) => Scoring::parse(m, &r.rule).map_err(|e| found.push(ManualProblem::BadRule(e))).ok(),
            None => {
                found.push(ManualProblem::UnknownMethod(r.scoring.clone()));
                None
            }
        };
        let veto = yes(&r.veto);
        if veto.is_none() {
            found.push(ManualProblem::BadFlag(r.veto.clone()));
        }
        if let Some(c) = &r.category
            && !known_category(c)
        {
            found.push(ManualProblem::UnknownCategory(c.clone()));
        }
        let code = r.code.trim().to_string();
        if !code.is_empty() {
            match codes.get(&code) {
                Some(first) => found.push(ManualProblem::DuplicateCode { code: code.clone(), first: *first }),
                None => {
                    codes.insert(code.clone(), r.field_lines.get("code").copied().unwrap_or(r.line));
                }
            }
        }
        let clean = found.is_empty();
        let line_of = |p: &ManualProblem| {
            let field = match p {
                ManualProblem::NotANumber(_) => "score",
                ManualProblem::UnknownMethod(_) => "scoring",
                ManualProblem::BadRule(_) => "rule",
                ManualProblem::UnknownCategory(_) => "category",
                ManualProblem::DuplicateCode { .. } => "code",
                ManualProblem::BadFlag(_) => "veto",
                _ => "",
            };
            r.field_lines.get(field).copied().unwrap_or(r.line)
        };
        problems.extend(found.into_iter().map(|problem| LineProblem { line: line_of(&problem), problem }));
        let (Some(standard), Some(scoring), Some(veto), true) = (standard, scoring, veto, clean) else { continue };
        let item = Item {
            code,
            text: r.text.trim().to_string(),
            method: r.method.map(|m| m.trim().to_string()).filter(|m| !m.is_empty()),
            standard,
            scoring,
            veto,
            category: r.category,
        };
        let type_name = r.point_type.trim().to_string();
        match types.iter_mut().find(|t| t.name == type_name) {
            Some(t) => {
                t.simulated |= r.simulated;
                t.items.push(item)
            }
            None => types.push(PointType { name: type_name, simulated: r.simulated, items: vec![item] }),
        }
    }
    if problems.is_empty() { Ok(Manual { name: name.trim().to_string(), point_types: types }) } else { Err(problems) }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlManual {
    name: String,
    #[serde(default)]
    point_types: Vec<TomlType>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlType {
    name: String,
    #[serde(default)]
    simulated: bool,
    #[serde(default)]
    items: Vec<toml::Spanned<TomlItem>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlItem {
    code: toml::Spanned<String>,
    text: String,
    #[serde(default)]
    method: Option<String>,
    score: toml::Spanned<toml::Value>,
    scoring: toml::Spanned<String>,
    #[serde(default)]
    rule: Option<toml::Spanned<toml::Value>>,
    #[serde(default)]
    category: Option<toml::Spanned<String>>,
    #[serde(default)]
    veto: bool,
}

fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Reads a manual from TOML (the format of `data-files/manual.toml`).
pub fn parse_toml(text: &str, known_category: &dyn Fn(&str) -> bool) -> Result<Manual, Vec<LineProblem>> {
    let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let file: TomlManual = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of(s.start)).unwrap_or(0);
        vec![LineProblem { line, problem: ManualProblem::Malformed(e.message().to_string()) }]
    })?;
    let mut raw = Vec::new();
    for t in file.point_types {
        for spanned in t.items {
            let line = line_of(spanned.span().start);
            let i = spanned.into_inner();
            let mut field_lines = HashMap::from([
                ("code", line_of(i.code.span().start)),
                ("score", line_of(i.score.span().start)),
                ("scoring", line_of(i.scoring.span().start)),
            ]);
            // A rule that is wrong or missing is the scoring's problem when there is no rule line.
            field_lines.insert("rule", i.rule.as_ref().map(|r| line_of(r.span().start)).unwrap_or(field_lines["scoring"]));
            if let Some(c) = &i.category {
                field_lines.insert("category", line_of(c.span().start));
            }
            raw.push(RawItem {
                line,
                field_lines,
                point_type: t.name.clone(),
                simulated: t.simulated,
                code: i.code.into_inner(),
                text: i.text,
                method: i.method,
                score: value_text(i.score.get_ref()),
                scoring: i.scoring.into_inner(),
                rule: i.rule.as_ref().map(|r| value_text(r.get_ref())).unwrap_or_default(),
                veto: if i.veto { "是".into() } else { "否".into() },
                category: i.category.map(|c| c.into_inner().trim().to_string()).filter(|c| !c.is_empty()),
            });
        }
    }
    check(&file.name, raw, known_category)
}

/// Column names a sheet may use for each field.
const COLUMNS: [(&str, &[&str]); 10] = [
    ("point_type", &["点位类型", "point_type"]),
    ("code", &["编号", "细则编号", "code"]),
    ("text", &["测评内容", "内容", "text"]),
    ("score", &["分值", "标准分", "score"]),
    ("scoring", &["评分方式", "scoring"]),
    ("rule", &["扣分标准", "rule"]),
    ("category", &["问题类别", "category"]),
    ("veto", &["否决", "veto"]),
    ("method", &["测评方法", "method"]),
    ("simulated", &["模拟测试", "simulated"]),
];

/// Reads a manual from a spreadsheet's rows (the header first): columns 点位类型, 编号,
/// 测评内容, 分值, 评分方式, and optionally 扣分标准, 问题类别, 否决, 测评方法, 模拟测试.
pub fn parse_rows(name: &str, rows: &[Vec<String>], known_category: &dyn Fn(&str) -> bool) -> Result<Manual, Vec<LineProblem>> {
    let Some(header) = rows.first() else { return Err(vec![LineProblem { line: 0, problem: ManualProblem::Empty }]) };
    let mut col: HashMap<&str, usize> = HashMap::new();
    for (i, h) in header.iter().enumerate() {
        let h = h.trim().trim_start_matches('\u{feff}').to_lowercase();
        if let Some((field, _)) = COLUMNS.iter().find(|(_, names)| names.contains(&h.as_str())) {
            col.entry(field).or_insert(i);
        }
    }
    let required = ["point_type", "code", "text", "score", "scoring"];
    let missing: Vec<&str> = required
        .iter()
        .filter(|f| !col.contains_key(*f))
        .map(|f| COLUMNS.iter().find(|(k, _)| k == f).map(|(_, n)| n[0]).unwrap_or(f))
        .collect();
    if !missing.is_empty() {
        return Err(vec![LineProblem { line: 1, problem: ManualProblem::MissingColumns(missing.join("、")) }]);
    }
    let mut raw = Vec::new();
    for (i, row) in rows.iter().enumerate().skip(1) {
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let get = |f: &str| col.get(f).and_then(|&c| row.get(c)).map(|s| s.trim().to_string()).unwrap_or_default();
        raw.push(RawItem {
            field_lines: HashMap::new(),
            line: i + 1,
            point_type: get("point_type"),
            simulated: yes(&get("simulated")).unwrap_or(false),
            code: get("code"),
            text: get("text"),
            method: Some(get("method")).filter(|m| !m.is_empty()),
            score: get("score"),
            scoring: get("scoring"),
            rule: get("rule"),
            veto: get("veto"),
            category: Some(get("category")).filter(|c| !c.is_empty()),
        });
    }
    check(name, raw, known_category)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(c: &str) -> bool {
        ["0103", "0201"].contains(&c)
    }

    const GOOD: &str = r#"
name = "测试手册"

[[point_types]]
name = "居民小区"

[[point_types.items]]
code = "小区-01"
text = "楼道无杂物堆放"
method = "抽查 2 个楼道"
score = 2
scoring = "状态描述"
category = "0103"

[[point_types.items]]
code = "小区-02"
text = "无违规小广告"
score = 1.5
scoring = "每处扣分"
rule = 0.5
category = "0201"
veto = true

[[point_types]]
name = "模拟测试"
simulated = true

[[point_types.items]]
code = "模拟-01"
text = "拨打 12345 热线能接通"
score = 3
scoring = "符合制"
"#;

    #[test]
    fn a_toml_manual_reads_whole() {
        let m = parse_toml(GOOD, &known).unwrap();
        assert_eq!(m.name, "测试手册");
        assert_eq!(m.item_count(), 3);
        assert_eq!(m.point_types[0].items[0].scoring, Scoring::Grade { thresholds: [0, 1, 2] });
        assert_eq!(m.point_types[0].items[1].scoring, Scoring::PerProblem { deduct: 0.5 });
        assert!(m.point_types[0].items[1].veto);
        assert!(m.point_types[1].simulated);
        assert_eq!(m.point_types[1].items[0].category, None);
    }

    #[test]
    fn a_bad_toml_manual_names_every_line() {
        let bad = GOOD
            .replace("score = 1.5", "score = \"一分半\"")
            .replace("scoring = \"符合制\"", "scoring = \"看心情\"")
            .replace("code = \"小区-02\"", "code = \"小区-01\"")
            .replace("category = \"0103\"", "category = \"9999\"");
        let problems = parse_toml(&bad, &known).unwrap_err();
        let lines: Vec<(usize, &ManualProblem)> = problems.iter().map(|p| (p.line, &p.problem)).collect();
        // Each problem is on the line of the field at fault.
        assert!(lines.contains(&(13, &ManualProblem::UnknownCategory("9999".into()))), "{lines:?}");
        assert!(lines.iter().any(|(l, p)| *l == 18 && matches!(p, ManualProblem::NotANumber(s) if s == "一分半")), "{lines:?}");
        assert!(lines.iter().any(|(l, p)| *l == 16 && matches!(p, ManualProblem::DuplicateCode { first: 8, .. })), "{lines:?}");
        assert!(lines.iter().any(|(l, p)| *l == 32 && matches!(p, ManualProblem::UnknownMethod(_))), "{lines:?}");
        let broken = parse_toml("name = \"x\"\n[[point_types]\n", &known).unwrap_err();
        assert_eq!(broken[0].line, 2);
    }

    fn rows(data: &[&[&str]]) -> Vec<Vec<String>> {
        data.iter().map(|r| r.iter().map(|s| s.to_string()).collect()).collect()
    }

    #[test]
    fn a_sheet_manual_reads_with_its_columns() {
        let r = rows(&[
            &["点位类型", "编号", "测评内容", "分值", "评分方式", "扣分标准", "问题类别", "否决", "测评方法"],
            &["主次干道", "干道-01", "每 300 米公益广告不少于 5 处", "4", "数量达标", "5/1", "", "", "步行 300 米计数"],
            &["主次干道", "干道-02", "无占道经营", "3", "每处扣分", "1", "0201", "否", ""],
            &["", "", "", "", "", "", "", "", ""],
            &["农贸市场", "市场-01", "无活禽宰杀", "5", "符合制", "", "", "是", ""],
        ]);
        let m = parse_rows("表格手册", &r, &known).unwrap();
        assert_eq!(m.item_count(), 3);
        assert_eq!(m.point_types[0].items[0].scoring, Scoring::Quantity { required: 5, deduct: 1.0 });
        assert!(m.point_types[1].items[0].veto);
    }

    #[test]
    fn a_bad_sheet_names_its_rows_and_keeps_nothing() {
        let r = rows(&[
            &["点位类型", "编号", "测评内容", "分值", "评分方式", "扣分标准", "问题类别", "否决"],
            &["主次干道", "干道-01", "公益广告", "四分", "数量达标", "5/1", "", ""],
            &["主次干道", "干道-02", "无占道", "3", "每处扣分", "", "0201", ""],
            &["主次干道", "干道-01", "重复", "3", "符合制", "", "7777", "也许"],
            &["主次干道", "干道-04", "x", "3", "状态描述", "3,2,1", "", ""],
        ]);
        let p = parse_rows("x", &r, &known).unwrap_err();
        let rows_with: Vec<usize> = p.iter().map(|p| p.line).collect();
        assert_eq!(rows_with, vec![2, 3, 4, 4, 4, 5], "{p:?}");
        assert!(matches!(p[1].problem, ManualProblem::BadRule(ScoringError::Deduct)));
        let no_cols = parse_rows("x", &rows(&[&["编号", "分值"]]), &known).unwrap_err();
        assert!(matches!(&no_cols[0].problem, ManualProblem::MissingColumns(c) if c.contains("点位类型") && c.contains("评分方式")));
    }
}
