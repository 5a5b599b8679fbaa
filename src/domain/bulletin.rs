//! Inspection bulletins (督查通报) and the rectification notices (整改通知) they send: the
//! period a bulletin covers, its number (2026 年第 12 期), what a draft holds, what an editor
//! may change before it is issued, and the life of a notice. Pure: no I/O, no clock.

use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};

crate::string_enum! {
    /// How long a period a bulletin covers.
    pub enum BulletinKind {
        Week = "week" | "周报" | "周",
        Month = "month" | "月报" | "月",
        Custom = "custom" | "自定义",
    }
}

crate::string_enum! {
    /// A bulletin's life: drafted and edited, issued under a number (frozen), or replaced by
    /// a corrected version of the same number.
    pub enum BulletinStatus {
        Draft = "draft" | "草稿",
        Issued = "issued" | "已印发",
        Superseded = "superseded" | "已更正",
    }
}

crate::string_enum! {
    /// A rectification notice: waiting for the unit's answers, answered in full, or past its
    /// deadline with answers missing (escalated to the unit above).
    pub enum NoticeStatus {
        Open = "open" | "待整改",
        Answered = "answered" | "已反馈",
        Overdue = "overdue" | "已逾期",
    }
}

crate::string_enum! {
    /// What a unit says of one problem on its list.
    pub enum Outcome {
        /// 已整改: fixed (the linked case is handled).
        Fixed = "fixed" | "已整改",
        /// 未整改: not yet, with the reason and a plan.
        NotFixed = "not_fixed" | "未整改" | "整改中",
    }
}

/// The period of a kind that holds `day`: the week Monday to Sunday, the calendar month;
/// a custom period is the caller's own.
pub fn period_of(kind: BulletinKind, day: NaiveDate) -> (NaiveDate, NaiveDate) {
    match kind {
        BulletinKind::Week | BulletinKind::Custom => {
            let monday = day - Duration::days(day.weekday().num_days_from_monday() as i64);
            (monday, monday + Duration::days(6))
        }
        BulletinKind::Month => {
            let first = day.with_day(1).unwrap_or(day);
            let next = if first.month() == 12 {
                NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
            };
            (first, next.map(|n| n - Duration::days(1)).unwrap_or(first))
        }
    }
}

/// The number as printed under the title: "2026 年第 12 期".
pub fn number_label(year: i32, number: i64) -> String {
    format!("{year} 年第 {number} 期")
}

/// The name of the number sequence of an issuing unit and year (numbers run per unit and
/// start again each year).
pub fn sequence_name(area_code: &str, year: i32) -> String {
    format!("bulletin:{area_code}:{year}")
}

/// The date as an official document writes it: "2026年12月2日".
pub fn official_date(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// The default title of a bulletin: "关于济阳街道2026年第48周创城督查情况的通报".
pub fn default_title(area_name: &str, kind: BulletinKind, from: NaiveDate, to: NaiveDate) -> String {
    let span = match kind {
        BulletinKind::Week => format!("{}年第{}周", from.iso_week().year(), from.iso_week().week()),
        BulletinKind::Month => format!("{}年{}月", from.year(), from.month()),
        BulletinKind::Custom => format!("{}至{}", official_date(from), official_date(to)),
    };
    format!("关于{area_name}{span}创城督查情况的通报")
}

/// Figures of a period, for the summary and its change against the last bulletin.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// Units (communities, departments, sponsor units) whose points were inspected.
    pub units: i64,
    /// Point inspections.
    pub inspections: i64,
    /// Problems found.
    pub problems: i64,
    /// Items failed.
    pub failed: i64,
    /// Cases the failures opened or added to.
    pub cases: i64,
    /// 得分率.
    pub rate: Option<f64>,
}

/// One row of a ranking table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankLine {
    pub rank: usize,
    pub name: String,
    pub rate: Option<f64>,
    /// Against the period before, in percentage points.
    pub change: Option<f64>,
    pub inspections: i64,
    pub problems: i64,
    pub lost: f64,
    pub rectified_rate: Option<f64>,
}

/// A ranking table of one kind of unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankTable {
    /// "community", "department", "sponsor_unit" or "composite".
    pub kind: String,
    pub title: String,
    pub rows: Vec<RankLine>,
}

/// A photo a typical problem may show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoChoice {
    pub photo_id: String,
    pub point: String,
    pub unit: String,
}

/// A typical problem (典型问题): an item that lost much score, where, whose, with a photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypicalProblem {
    pub code: String,
    pub text: String,
    pub point_type: String,
    pub lost: f64,
    pub failed: i64,
    /// The points and the responsible units where it failed most.
    pub places: Vec<String>,
    pub units: Vec<String>,
    /// The photo shown, and those it may be changed to.
    pub photo_id: Option<String>,
    pub caption: String,
    pub candidates: Vec<PhotoChoice>,
    pub shown: bool,
}

/// Overdue cases of one responsible unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverdueLine {
    pub unit: String,
    pub count: i64,
    pub numbers: Vec<String>,
}

/// What the last bulletin's problem lists came to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastOutcome {
    pub bulletin_id: String,
    pub label: String,
    pub items: i64,
    pub fixed: i64,
    pub not_fixed: i64,
    pub unanswered: i64,
}

/// One problem on a unit's list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListedProblem {
    pub case_id: String,
    pub case_number: String,
    pub item_code: String,
    pub text: String,
    pub point: String,
}

/// The problem list (问题清单) a unit is sent when the bulletin is issued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProblemList {
    pub unit_id: String,
    pub unit: String,
    pub problems: Vec<ListedProblem>,
}

/// An adopted info report a bulletin quotes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quote {
    pub report_id: String,
    pub title: String,
    pub unit: String,
    pub excerpt: String,
}

/// The first `n` characters of a text, with an ellipsis when cut.
pub fn excerpt(text: &str, n: usize) -> String {
    let t: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.chars().count() <= n { t } else { format!("{}……", t.chars().take(n).collect::<String>()) }
}

/// Everything a bulletin says; drafted from the data, edited, then frozen by issuing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Content {
    pub title: String,
    /// 发文机关, e.g. "济阳街道创城办".
    pub issuer: String,
    /// 总体情况: drafted from the figures, editable.
    pub intro: String,
    pub figures: Figures,
    pub previous: Option<Figures>,
    pub tables: Vec<RankTable>,
    pub red: Vec<String>,
    pub black: Vec<String>,
    pub problems: Vec<TypicalProblem>,
    pub overdue: Vec<OverdueLine>,
    pub last_outcome: Option<LastOutcome>,
    pub lists: Vec<ProblemList>,
    /// 信息选登: adopted info reports the bulletin quotes.
    #[serde(default)]
    pub quotes: Vec<Quote>,
    /// 下步工作.
    pub next_steps: String,
    /// Working days the units have to report rectification.
    pub deadline_days: u32,
}

/// What an editor may change before the bulletin is issued; absent fields stay.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Edit {
    pub title: Option<String>,
    pub issuer: Option<String>,
    pub intro: Option<String>,
    pub next_steps: Option<String>,
    pub deadline_days: Option<u32>,
    /// Per typical problem (by item code): shown or not, the photo, the caption.
    #[serde(default)]
    pub problems: Vec<ProblemEdit>,
    /// Ids of adopted info reports to quote (信息选登), replacing those quoted before.
    #[serde(default)]
    pub quote_reports: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ProblemEdit {
    pub code: String,
    pub shown: Option<bool>,
    /// A photo among the problem's candidates; "" for none.
    pub photo_id: Option<String>,
    pub caption: Option<String>,
}

/// Why an edit is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditError {
    Title,
    Issuer,
    TextTooLong,
    DeadlineDays,
    UnknownProblem,
    PhotoNotCandidate,
}

pub const MAX_TEXT: usize = 5_000;
pub const MAX_TITLE: usize = 100;

/// Applies an edit to a draft's content.
pub fn apply_edit(mut c: Content, e: &Edit) -> Result<Content, EditError> {
    if let Some(t) = &e.title {
        let t = t.trim();
        if t.is_empty() || t.chars().count() > MAX_TITLE {
            return Err(EditError::Title);
        }
        c.title = t.to_string();
    }
    if let Some(i) = &e.issuer {
        let i = i.trim();
        if i.is_empty() || i.chars().count() > MAX_TITLE {
            return Err(EditError::Issuer);
        }
        c.issuer = i.to_string();
    }
    for (field, value) in [(&mut c.intro, &e.intro), (&mut c.next_steps, &e.next_steps)] {
        if let Some(v) = value {
            if v.chars().count() > MAX_TEXT {
                return Err(EditError::TextTooLong);
            }
            *field = v.trim().to_string();
        }
    }
    if let Some(d) = e.deadline_days {
        if !(1..=30).contains(&d) {
            return Err(EditError::DeadlineDays);
        }
        c.deadline_days = d;
    }
    for pe in &e.problems {
        let p = c.problems.iter_mut().find(|p| p.code == pe.code).ok_or(EditError::UnknownProblem)?;
        if let Some(s) = pe.shown {
            p.shown = s;
        }
        if let Some(id) = &pe.photo_id {
            if id.is_empty() {
                p.photo_id = None;
            } else if p.candidates.iter().any(|c| c.photo_id == *id) {
                p.photo_id = Some(id.clone());
            } else {
                return Err(EditError::PhotoNotCandidate);
            }
        }
        if let Some(cap) = &pe.caption {
            if cap.chars().count() > MAX_TITLE {
                return Err(EditError::TextTooLong);
            }
            cap.trim().clone_into(&mut p.caption);
        }
    }
    Ok(c)
}

/// The 总体情况 paragraph drafted from the figures, with the change against the last period.
pub fn draft_intro(area: &str, from: NaiveDate, to: NaiveDate, f: &Figures, previous: Option<&Figures>) -> String {
    let pct = |r: Option<f64>| r.map(|r| format!("{:.1}%", r * 100.0)).unwrap_or_else(|| "—".into());
    let mut s = format!(
        "{}至{},{area}创城督查组对辖区{}个责任单位的点位开展督查,共督查点位{}个次,发现问题{}处,涉及{}项细则不达标,立案{}件,总体得分率{}。",
        official_date(from),
        official_date(to),
        f.units,
        f.inspections,
        f.problems,
        f.failed,
        f.cases,
        pct(f.rate)
    );
    if let (Some(p), Some(now), Some(before)) = (previous, f.rate, previous.and_then(|p| p.rate)) {
        let change = (now - before) * 100.0;
        let dir = if change >= 0.0 { "上升" } else { "下降" };
        s.push_str(&format!("与上期相比,督查点位{}个次,发现问题{}处,得分率{dir}{:.1}个百分点。", p.inspections, p.problems, change.abs()));
    }
    s
}

/// The 下步工作 paragraph a draft starts with.
pub fn draft_next_steps(deadline_days: u32) -> String {
    format!(
        "一是立行立改。各责任单位对照问题清单,于{deadline_days}个工作日内完成整改,并在系统中逐项反馈整改情况和整改后照片。\n\
         二是举一反三。对同类问题开展自查,建立长效机制,防止问题反弹。\n\
         三是强化督导。街道创城办将对本期问题开展“回头看”,整改不到位的在下期通报中点名。"
    )
}

/// Whether a notice takes answers: open and overdue notices do; an answered one is closed.
pub fn takes_answers(status: NoticeStatus) -> bool {
    matches!(status, NoticeStatus::Open | NoticeStatus::Overdue)
}

/// A notice's status after its answers: answered when every problem has one.
pub fn status_after(status: NoticeStatus, items: i64, answered: i64) -> NoticeStatus {
    if items > 0 && answered >= items { NoticeStatus::Answered } else { status }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn content() -> Content {
        Content {
            title: "关于……的通报".into(),
            issuer: "济阳街道创城办".into(),
            intro: String::new(),
            figures: Figures::default(),
            previous: None,
            tables: vec![],
            red: vec![],
            black: vec![],
            problems: vec![TypicalProblem {
                code: "小区-03".into(),
                text: "楼道无杂物堆放".into(),
                point_type: "居民小区".into(),
                lost: 4.0,
                failed: 2,
                places: vec![],
                units: vec![],
                photo_id: None,
                caption: String::new(),
                candidates: vec![PhotoChoice { photo_id: "p1".into(), point: "翠岭小区".into(), unit: "翠岭社区".into() }],
                shown: true,
            }],
            overdue: vec![],
            last_outcome: None,
            lists: vec![],
            quotes: vec![],
            next_steps: String::new(),
            deadline_days: 5,
        }
    }

    #[test]
    fn periods_are_whole_weeks_and_months() {
        assert_eq!(period_of(BulletinKind::Week, d(2026, 12, 2)), (d(2026, 11, 30), d(2026, 12, 6)));
        assert_eq!(period_of(BulletinKind::Week, d(2026, 11, 30)), (d(2026, 11, 30), d(2026, 12, 6)));
        assert_eq!(period_of(BulletinKind::Month, d(2026, 2, 14)), (d(2026, 2, 1), d(2026, 2, 28)));
        assert_eq!(period_of(BulletinKind::Month, d(2026, 12, 31)), (d(2026, 12, 1), d(2026, 12, 31)));
    }

    #[test]
    fn labels_titles_and_dates_read_as_an_office_writes_them() {
        assert_eq!(number_label(2026, 12), "2026 年第 12 期");
        assert_eq!(official_date(d(2026, 12, 2)), "2026年12月2日");
        assert_eq!(
            default_title("济阳街道", BulletinKind::Week, d(2026, 11, 23), d(2026, 11, 29)),
            "关于济阳街道2026年第48周创城督查情况的通报"
        );
        assert_eq!(
            default_title("济阳街道", BulletinKind::Month, d(2026, 11, 1), d(2026, 11, 30)),
            "关于济阳街道2026年11月创城督查情况的通报"
        );
        assert_eq!(sequence_name("370115001", 2026), "bulletin:370115001:2026");
    }

    #[test]
    fn edits_change_only_what_they_name_and_refuse_bad_values() {
        let c = content();
        let e = Edit { next_steps: Some(" 下步 ".into()), ..Default::default() };
        let out = apply_edit(c.clone(), &e).unwrap();
        assert_eq!(out.next_steps, "下步");
        assert_eq!(out.title, c.title);
        let bad = |e: Edit| apply_edit(c.clone(), &e).unwrap_err();
        assert_eq!(bad(Edit { title: Some("  ".into()), ..Default::default() }), EditError::Title);
        assert_eq!(bad(Edit { deadline_days: Some(0), ..Default::default() }), EditError::DeadlineDays);
        assert_eq!(bad(Edit { intro: Some("字".repeat(MAX_TEXT + 1)), ..Default::default() }), EditError::TextTooLong);
        let pe = |photo: &str| ProblemEdit { code: "小区-03".into(), shown: Some(false), photo_id: Some(photo.into()), caption: None };
        assert_eq!(bad(Edit { problems: vec![pe("someone-elses")], ..Default::default() }), EditError::PhotoNotCandidate);
        let out = apply_edit(c.clone(), &Edit { problems: vec![pe("p1")], ..Default::default() }).unwrap();
        assert_eq!((out.problems[0].shown, out.problems[0].photo_id.as_deref()), (false, Some("p1")));
        let unknown = ProblemEdit { code: "无".into(), shown: None, photo_id: None, caption: None };
        assert_eq!(bad(Edit { problems: vec![unknown], ..Default::default() }), EditError::UnknownProblem);
    }

    #[test]
    fn the_intro_says_the_change_against_the_last_period() {
        let now = Figures { units: 9, inspections: 20, problems: 7, failed: 5, cases: 4, rate: Some(0.95) };
        let before = Figures { units: 9, inspections: 18, problems: 9, failed: 6, cases: 5, rate: Some(0.93) };
        let s = draft_intro("济阳街道", d(2026, 11, 23), d(2026, 11, 29), &now, Some(&before));
        assert!(s.contains("共督查点位20个次,发现问题7处"), "{s}");
        assert!(s.contains("得分率上升2.0个百分点"), "{s}");
        assert!(!draft_intro("济阳街道", d(2026, 11, 23), d(2026, 11, 29), &now, None).contains("上期"));
    }

    #[test]
    fn excerpts_cut_long_texts_only() {
        assert_eq!(excerpt("短文", 10), "短文");
        assert_eq!(excerpt("一二三四五六", 3), "一二三……");
        assert_eq!(excerpt("a\n b", 10), "a b");
    }

    #[test]
    fn a_notice_closes_when_every_problem_is_answered() {
        assert_eq!(status_after(NoticeStatus::Open, 3, 2), NoticeStatus::Open);
        assert_eq!(status_after(NoticeStatus::Overdue, 3, 3), NoticeStatus::Answered);
        assert!(takes_answers(NoticeStatus::Overdue));
        assert!(!takes_answers(NoticeStatus::Answered));
    }
}
