//! Inspections (督查 / 测评 / 暗访 / 回头看), scored item by item against the evaluation
//! manual: the observation each scoring method takes, the score it gives, the point's score
//! (a failed 否决 item voids it), the random draw of a round's points, and what a re-check
//! does to the case a failure opened. Pure: no I/O, no clock.

use std::collections::BTreeMap;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::case::{Action, Status};

crate::string_enum! {
    /// The four ways the national manual scores an item.
    pub enum ScoringMethod {
        /// 符合制: met in full or not at all.
        PassFail = "pass_fail" | "符合制" | "符合/不符合",
        /// 每处扣分: each problem found deducts a fixed amount, down to 0.
        PerProblem = "per_problem" | "每处扣分",
        /// 状态描述: A/B/C/C# = 100/66/33/0 % by how many problems were found.
        Grade = "grade" | "状态描述",
        /// 数量达标: at least N found; each one short deducts a fixed amount.
        Quantity = "quantity" | "数量达标",
    }
}

crate::string_enum! {
    /// The kinds of inspection round.
    pub enum RoundKind {
        /// 督查: the subdistrict's own announced inspection.
        Inspection = "inspection" | "督查",
        /// 暗访: unannounced.
        Unannounced = "unannounced" | "暗访",
        /// 模拟测评: a mock evaluation, points drawn at random.
        Mock = "mock" | "模拟测评",
        /// 回头看: a re-check of what failed in an earlier round.
        Recheck = "recheck" | "回头看",
        /// 门前五包检查: the day's frontage checks, shops added as they are walked.
        Frontage = "frontage" | "门前五包检查",
    }
}

/// How an item is scored, with the method's parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Scoring {
    PassFail,
    /// `deduct` per problem.
    PerProblem {
        deduct: f64,
    },
    /// Grade A up to `thresholds[0]` problems, B up to `[1]`, C up to `[2]`, C# beyond.
    Grade {
        thresholds: [u32; 3],
    },
    /// At least `required` found; `deduct` per one short.
    Quantity {
        required: u32,
        deduct: f64,
    },
}

impl Default for Scoring {
    /// Only to read stored rows (a missing rule is a pass/fail item).
    fn default() -> Self {
        Scoring::PassFail
    }
}

/// The grades of 状态描述 and the share of the score each gives.
pub const GRADE_SHARES: [(&str, f64); 4] = [("A", 1.0), ("B", 0.66), ("C", 0.33), ("C#", 0.0)];

impl Scoring {
    pub fn method(&self) -> ScoringMethod {
        match self {
            Scoring::PassFail => ScoringMethod::PassFail,
            Scoring::PerProblem { .. } => ScoringMethod::PerProblem,
            Scoring::Grade { .. } => ScoringMethod::Grade,
            Scoring::Quantity { .. } => ScoringMethod::Quantity,
        }
    }

    /// Reads a method and its `扣分标准` as an office's sheet writes them: 每处扣分 `0.5`;
    /// 状态描述 nothing (0,1,2) or `0,1,2`; 数量达标 `5/2` (required / per one short).
    pub fn parse(method: ScoringMethod, rule: &str) -> Result<Scoring, ScoringError> {
        let rule = rule.trim();
        let number = |s: &str| s.trim().parse::<f64>().ok().filter(|v| v.is_finite() && *v > 0.0);
        match method {
            ScoringMethod::PassFail => Ok(Scoring::PassFail),
            ScoringMethod::PerProblem => number(rule).map(|deduct| Scoring::PerProblem { deduct }).ok_or(ScoringError::Deduct),
            ScoringMethod::Grade if rule.is_empty() => Ok(Scoring::Grade { thresholds: [0, 1, 2] }),
            ScoringMethod::Grade => {
                let parts: Vec<Option<u32>> = rule.split([',', ',']).map(|p| p.trim().parse::<u32>().ok()).collect();
                match parts.as_slice() {
                    [Some(a), Some(b), Some(c)] if a < b && b < c => Ok(Scoring::Grade { thresholds: [*a, *b, *c] }),
                    _ => Err(ScoringError::Thresholds),
                }
            }
            ScoringMethod::Quantity => {
                let (required, deduct) = rule.split_once('/').ok_or(ScoringError::Quantity)?;
                match (required.trim().parse::<u32>().ok().filter(|r| *r > 0), number(deduct)) {
                    (Some(required), Some(deduct)) => Ok(Scoring::Quantity { required, deduct }),
                    _ => Err(ScoringError::Quantity),
                }
            }
        }
    }

    /// The rule written back the way it is read (for exports and the manual page).
    pub fn rule(&self) -> String {
        match self {
            Scoring::PassFail => String::new(),
            Scoring::PerProblem { deduct } => format!("{deduct}"),
            Scoring::Grade { thresholds: [a, b, c] } => format!("{a},{b},{c}"),
            Scoring::Quantity { required, deduct } => format!("{required}/{deduct}"),
        }
    }
}

/// What is wrong with a scoring rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ScoringError {
    #[error("每处扣分 needs the points per problem, a positive number")]
    Deduct,
    #[error("状态描述 needs three rising whole numbers such as 0,1,2")]
    Thresholds,
    #[error("数量达标 needs required/points per one short, such as 5/2")]
    Quantity,
}

/// What an inspector saw of one item.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Observation {
    /// 符合制: met or not.
    Pass,
    Fail,
    /// 每处扣分 and 状态描述: how many problems were found.
    Problems {
        count: u32,
    },
    /// 数量达标: how many were found (e.g. public-service ads along 300 m).
    Found {
        count: u32,
    },
    /// 不适用: the item does not apply at this point; it counts neither way.
    NotApplicable,
}

impl Default for Observation {
    /// Only to read stored rows.
    fn default() -> Self {
        Observation::NotApplicable
    }
}

/// Why an observation does not fit its item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ObservationError {
    #[error("this item is scored pass or fail")]
    WantsPassFail,
    #[error("this item is scored by the problems found")]
    WantsProblems,
    #[error("this item is scored by how many were found")]
    WantsCount,
}

/// One item's result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ItemScore {
    pub score: f64,
    pub standard: f64,
    pub applicable: bool,
    /// Short of the standard score: a failure (opens a case when the item names a category).
    pub failed: bool,
    /// Problems it counts toward the point's total (a failed pass/fail item counts one).
    pub problems: u32,
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Scores one item. Never below 0, never above the standard, never more for more problems
/// (nor for fewer found).
pub fn score_item(scoring: &Scoring, standard: f64, observation: Observation) -> Result<ItemScore, ObservationError> {
    let standard = standard.max(0.0);
    let result = |score: f64, problems: u32| {
        let score = round2(score.clamp(0.0, standard)).min(standard);
        ItemScore { score, standard, applicable: true, failed: score < standard, problems }
    };
    match (scoring, observation) {
        (_, Observation::NotApplicable) => Ok(ItemScore { score: 0.0, standard, applicable: false, failed: false, problems: 0 }),
        (Scoring::PassFail, Observation::Pass) => Ok(result(standard, 0)),
        (Scoring::PassFail, Observation::Fail) => Ok(result(0.0, 1)),
        (Scoring::PassFail, _) => Err(ObservationError::WantsPassFail),
        (Scoring::PerProblem { deduct }, Observation::Problems { count }) => Ok(result(standard - deduct * count as f64, count)),
        (Scoring::Grade { thresholds }, Observation::Problems { count }) => {
            let grade = thresholds.iter().position(|t| count <= *t).unwrap_or(3);
            Ok(result(standard * GRADE_SHARES[grade].1, count))
        }
        (Scoring::PerProblem { .. } | Scoring::Grade { .. }, _) => Err(ObservationError::WantsProblems),
        (Scoring::Quantity { required, deduct }, Observation::Found { count }) => {
            let short = required.saturating_sub(count);
            Ok(result(standard - deduct * short as f64, short))
        }
        (Scoring::Quantity { .. }, _) => Err(ObservationError::WantsCount),
    }
}

/// The grade letter of a 状态描述 item with this many problems.
pub fn grade_of(thresholds: &[u32; 3], problems: u32) -> &'static str {
    GRADE_SHARES[thresholds.iter().position(|t| problems <= *t).unwrap_or(3)].0
}

/// A point's score: the items' scores over the standard scores of the items inspected
/// (得分率). A failed 否决 item voids the point: its score is 0 whatever the rest.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct PointScore {
    pub score: f64,
    pub standard: f64,
    pub voided: bool,
    pub problems: u32,
    pub failed_items: u32,
}

impl PointScore {
    /// 得分率, 0 … 1; `None` when nothing applied.
    pub fn rate(&self) -> Option<f64> {
        (self.standard > 0.0).then(|| self.score / self.standard)
    }
}

/// Sums a point's items; `veto` says which items void the point when they fail.
pub fn score_point(items: &[(ItemScore, bool)]) -> PointScore {
    let mut p = PointScore::default();
    for (s, veto) in items.iter().filter(|(s, _)| s.applicable) {
        p.score += s.score;
        p.standard += s.standard;
        p.problems += s.problems;
        p.failed_items += s.failed as u32;
        p.voided |= *veto && s.failed;
    }
    if p.voided {
        p.score = 0.0;
    }
    p.standard = round2(p.standard);
    p.score = round2(p.score).min(p.standard);
    p
}

/// Draws a round's points: for each point type, `quota` points (or all there are), at random
/// from `seed` — the same candidates and seed always draw the same points, so anyone can
/// draw again and check. Candidates are (point id, point type); the answer is in the
/// candidates' id order within each type, types in name order.
pub fn draw_points(candidates: &[(String, String)], quotas: &BTreeMap<String, usize>, seed: u64) -> Vec<String> {
    let mut by_type: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (id, kind) in candidates {
        by_type.entry(kind.as_str()).or_default().push(id.as_str());
    }
    let mut out = Vec::new();
    for (kind, mut ids) in by_type {
        let Some(&quota) = quotas.get(kind) else { continue };
        ids.sort_unstable();
        ids.dedup();
        // One generator per stratum, from the seed and the type's name: adding a point of
        // another type does not change this type's draw.
        let mut rng = StdRng::seed_from_u64(seed ^ fnv1a(kind));
        ids.shuffle(&mut rng);
        let mut picked: Vec<&str> = ids.into_iter().take(quota).collect();
        picked.sort_unstable();
        out.extend(picked.into_iter().map(str::to_string));
    }
    out
}

crate::string_enum! {
    /// How finely the kept sums are cut: by day, and by calendar month.
    pub enum Grain {
        Day = "d",
        Month = "m",
    }
}

/// What the sums keep for a unit (or an item in an area) over a period.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Sums {
    pub inspections: i64,
    pub problems: i64,
    /// Failed items.
    pub failed: i64,
    /// Voided points.
    pub voided: i64,
    pub score: f64,
    pub standard: f64,
    /// Score lost: standard − score of the items inspected.
    pub lost: f64,
}

impl Sums {
    pub fn add(&mut self, o: &Sums) {
        self.inspections += o.inspections;
        self.problems += o.problems;
        self.failed += o.failed;
        self.voided += o.voided;
        self.score += o.score;
        self.standard += o.standard;
        self.lost += o.lost;
    }

    /// 得分率: score over the standard scores of what was inspected.
    pub fn rate(&self) -> Option<f64> {
        (self.standard > 0.0).then(|| (self.score / self.standard).clamp(0.0, 1.0))
    }
}

/// The sums one inspection adds: the point's, and each item's (`lost` per item).
pub fn inspection_sums(point: &PointScore, items: &[(String, ItemScore)]) -> (Sums, Vec<(String, Sums)>) {
    let whole = Sums {
        inspections: 1,
        problems: point.problems as i64,
        failed: point.failed_items as i64,
        voided: point.voided as i64,
        score: point.score,
        standard: point.standard,
        lost: round2(point.standard - point.score),
    };
    let per_item = items
        .iter()
        .filter(|(_, s)| s.applicable)
        .map(|(code, s)| {
            (
                code.clone(),
                Sums {
                    inspections: 1,
                    problems: s.problems as i64,
                    failed: s.failed as i64,
                    voided: 0,
                    score: s.score,
                    standard: s.standard,
                    lost: round2(s.standard - s.score),
                },
            )
        })
        .collect();
    (whole, per_item)
}

/// yyyymmdd and yyyymm of a date.
pub fn day_key(d: chrono::NaiveDate) -> i64 {
    use chrono::Datelike;
    d.year() as i64 * 10_000 + d.month() as i64 * 100 + d.day() as i64
}

pub fn month_key(d: chrono::NaiveDate) -> i64 {
    day_key(d) / 100
}

/// The day a `day_key` stands for.
pub fn day_of_key(k: i64) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::from_ymd_opt((k / 10_000) as i32, ((k / 100) % 100) as u32, (k % 100) as u32)
}

/// Writes a kept day (yyyymmdd) as `YYYY-MM-DD` for people and clients.
pub fn serialize_day_key<S: serde::Serializer>(k: &i64, s: S) -> Result<S::Ok, S::Error> {
    match day_of_key(*k) {
        Some(d) => s.collect_str(&d.format("%Y-%m-%d")),
        None => s.serialize_i64(*k),
    }
}

/// A period cut into what the sums keep: whole calendar months as month rows, the days at
/// either end as day rows. `[(grain, first, last)]`, first and last as kept (yyyymm or yyyymmdd).
pub fn spans(from: chrono::NaiveDate, to: chrono::NaiveDate) -> Vec<(Grain, i64, i64)> {
    use chrono::Datelike;
    let mut out: Vec<(Grain, i64, i64)> = Vec::new();
    if from > to {
        return out;
    }
    let mut day = from;
    while day <= to {
        let month_start = day.with_day(1).unwrap_or(day);
        let next_month = if month_start.month() == 12 {
            chrono::NaiveDate::from_ymd_opt(month_start.year() + 1, 1, 1)
        } else {
            chrono::NaiveDate::from_ymd_opt(month_start.year(), month_start.month() + 1, 1)
        }
        .unwrap_or(to.succ_opt().unwrap_or(to));
        let month_end = next_month.pred_opt().unwrap_or(next_month);
        let last = month_end.min(to);
        if day == month_start && last == month_end {
            match out.last_mut() {
                Some((Grain::Month, _, end)) => *end = month_key(day),
                _ => out.push((Grain::Month, month_key(day), month_key(day))),
            }
        } else {
            out.push((Grain::Day, day_key(day), day_key(last)));
        }
        day = next_month;
    }
    out
}

/// A stable 64-bit hash of a name (FNV-1a), the same on every machine and release.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// What a re-check (回头看) does to the case an earlier failure opened: fixed → the case's
/// check passes if it waits for one; not fixed → rework if it was handled, reopened if it was
/// closed. `None`: nothing but a note on the case.
pub fn recheck_action(status: Status, fixed: bool) -> Option<Action> {
    match (status, fixed) {
        (Status::Handled, true) => Some(Action::VerifyPass),
        (Status::Handled, false) => Some(Action::VerifyFail),
        (Status::Closed, false) => Some(Action::Reopen),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn per(d: f64) -> Scoring {
        Scoring::PerProblem { deduct: d }
    }

    #[test]
    fn each_method_scores_as_the_manual_says() {
        let s = |sc: &Scoring, std, o| score_item(sc, std, o).unwrap().score;
        assert_eq!(s(&Scoring::PassFail, 2.0, Observation::Pass), 2.0);
        assert_eq!(s(&Scoring::PassFail, 2.0, Observation::Fail), 0.0);
        assert_eq!(s(&per(0.5), 2.0, Observation::Problems { count: 3 }), 0.5);
        assert_eq!(s(&per(0.5), 2.0, Observation::Problems { count: 9 }), 0.0, "down to 0");
        let grade = Scoring::Grade { thresholds: [0, 1, 2] };
        assert_eq!(s(&grade, 3.0, Observation::Problems { count: 0 }), 3.0);
        assert_eq!(s(&grade, 3.0, Observation::Problems { count: 1 }), 1.98);
        assert_eq!(s(&grade, 3.0, Observation::Problems { count: 2 }), 0.99);
        assert_eq!(s(&grade, 3.0, Observation::Problems { count: 3 }), 0.0);
        assert_eq!(grade_of(&[0, 1, 2], 1), "B");
        let ads = Scoring::Quantity { required: 5, deduct: 2.0 };
        assert_eq!(s(&ads, 10.0, Observation::Found { count: 5 }), 10.0);
        assert_eq!(s(&ads, 10.0, Observation::Found { count: 7 }), 10.0, "more than enough is enough");
        assert_eq!(s(&ads, 10.0, Observation::Found { count: 3 }), 6.0);
        assert_eq!(s(&ads, 10.0, Observation::Found { count: 0 }), 0.0);
        let na = score_item(&ads, 10.0, Observation::NotApplicable).unwrap();
        assert!(!na.applicable && !na.failed);
    }

    #[test]
    fn an_observation_the_method_does_not_take_is_refused() {
        assert_eq!(score_item(&Scoring::PassFail, 1.0, Observation::Problems { count: 1 }), Err(ObservationError::WantsPassFail));
        assert_eq!(score_item(&per(1.0), 1.0, Observation::Pass), Err(ObservationError::WantsProblems));
        assert_eq!(score_item(&per(1.0), 1.0, Observation::Found { count: 1 }), Err(ObservationError::WantsProblems));
        let q = Scoring::Quantity { required: 5, deduct: 1.0 };
        assert_eq!(score_item(&q, 1.0, Observation::Problems { count: 1 }), Err(ObservationError::WantsCount));
    }

    #[test]
    fn rules_read_as_an_office_writes_them() {
        assert_eq!(Scoring::parse(ScoringMethod::PerProblem, "0.5"), Ok(per(0.5)));
        assert_eq!(Scoring::parse(ScoringMethod::Grade, ""), Ok(Scoring::Grade { thresholds: [0, 1, 2] }));
        assert_eq!(Scoring::parse(ScoringMethod::Grade, "0,2,4"), Ok(Scoring::Grade { thresholds: [0, 2, 4] }));
        assert_eq!(Scoring::parse(ScoringMethod::Grade, "2,1,0"), Err(ScoringError::Thresholds));
        assert_eq!(Scoring::parse(ScoringMethod::Quantity, "5/2"), Ok(Scoring::Quantity { required: 5, deduct: 2.0 }));
        assert_eq!(Scoring::parse(ScoringMethod::Quantity, "5"), Err(ScoringError::Quantity));
        assert_eq!(Scoring::parse(ScoringMethod::PerProblem, "-1"), Err(ScoringError::Deduct));
        assert_eq!(ScoringMethod::parse("状态描述"), Some(ScoringMethod::Grade));
        for rule in ["0.5", "0,1,2", "5/2"] {
            for m in ScoringMethod::ALL {
                if let Ok(s) = Scoring::parse(*m, rule) {
                    assert_eq!(Scoring::parse(*m, &s.rule()), Ok(s.clone()), "{m} {rule}");
                }
            }
        }
    }

    #[test]
    fn a_failed_veto_item_voids_the_point() {
        let ok = score_item(&Scoring::PassFail, 2.0, Observation::Pass).unwrap();
        let bad = score_item(&Scoring::PassFail, 2.0, Observation::Fail).unwrap();
        let p = score_point(&[(ok, false), (bad, false)]);
        assert_eq!((p.score, p.standard, p.voided), (2.0, 4.0, false));
        assert_eq!(p.rate(), Some(0.5));
        let p = score_point(&[(ok, false), (bad, true)]);
        assert_eq!((p.score, p.voided), (0.0, true));
        let na = score_item(&Scoring::PassFail, 5.0, Observation::NotApplicable).unwrap();
        assert_eq!(score_point(&[(ok, false), (na, true)]).standard, 2.0, "不适用 is out of the denominator");
    }

    #[test]
    fn the_draw_is_repeatable_and_keeps_to_its_strata() {
        let candidates: Vec<(String, String)> =
            (0..40).map(|i| (format!("p{i:02}"), ["居民小区", "农贸市场", "背街小巷"][i % 3].to_string())).collect();
        let quotas: BTreeMap<String, usize> = [("居民小区".into(), 4), ("农贸市场".into(), 2), ("公交站台".into(), 3)].into();
        let a = draw_points(&candidates, &quotas, 20261130);
        assert_eq!(a, draw_points(&candidates, &quotas, 20261130), "same seed, same points");
        assert_ne!(a, draw_points(&candidates, &quotas, 7), "another seed, another draw");
        let kind = |id: &String| candidates.iter().find(|(c, _)| c == id).unwrap().1.clone();
        assert_eq!(a.iter().filter(|id| kind(id) == "居民小区").count(), 4);
        assert_eq!(a.iter().filter(|id| kind(id) == "农贸市场").count(), 2);
        assert!(a.iter().all(|id| kind(id) != "背街小巷"), "a type without a quota is not drawn");
        // Another type's points do not move this type's draw.
        let mut more = candidates.clone();
        more.push(("p99".into(), "背街小巷".into()));
        assert_eq!(draw_points(&more, &quotas, 20261130), a);
    }

    #[test]
    fn periods_are_cut_into_months_and_days() {
        let d = |y, m, day| chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(spans(d(2026, 11, 1), d(2026, 11, 30)), vec![(Grain::Month, 202611, 202611)]);
        assert_eq!(
            spans(d(2026, 9, 15), d(2026, 12, 2)),
            vec![(Grain::Day, 20260915, 20260930), (Grain::Month, 202610, 202611), (Grain::Day, 20261201, 20261202)]
        );
        assert_eq!(spans(d(2026, 12, 2), d(2026, 12, 2)), vec![(Grain::Day, 20261202, 20261202)]);
        assert_eq!(spans(d(2025, 12, 1), d(2026, 1, 31)), vec![(Grain::Month, 202512, 202601)]);
        assert!(spans(d(2026, 12, 3), d(2026, 12, 2)).is_empty());
    }

    #[test]
    fn a_recheck_moves_the_case_a_failure_opened() {
        assert_eq!(recheck_action(Status::Handled, true), Some(Action::VerifyPass));
        assert_eq!(recheck_action(Status::Handled, false), Some(Action::VerifyFail));
        assert_eq!(recheck_action(Status::Closed, false), Some(Action::Reopen));
        assert_eq!(recheck_action(Status::Closed, true), None);
        assert_eq!(recheck_action(Status::InProgress, false), None);
    }

    fn scoring() -> impl Strategy<Value = Scoring> {
        prop_oneof![
            Just(Scoring::PassFail),
            (0.1f64..5.0).prop_map(|d| Scoring::PerProblem { deduct: d }),
            (0u32..3, 1u32..3, 1u32..3).prop_map(|(a, b, c)| Scoring::Grade { thresholds: [a, a + b, a + b + c] }),
            (1u32..10, 0.1f64..5.0).prop_map(|(r, d)| Scoring::Quantity { required: r, deduct: d }),
        ]
    }

    fn observe(s: &Scoring, n: u32) -> Observation {
        match s {
            Scoring::PassFail => {
                if n == 0 {
                    Observation::Pass
                } else {
                    Observation::Fail
                }
            }
            Scoring::Quantity { .. } => Observation::Found { count: n },
            _ => Observation::Problems { count: n },
        }
    }

    proptest! {
        /// Within 0 … standard; more problems never score more; more found never score less.
        #[test]
        fn scores_stay_in_range_and_move_the_right_way(s in scoring(), standard in 0.0f64..20.0, n in 0u32..20) {
            let a = score_item(&s, standard, observe(&s, n)).unwrap();
            prop_assert!(a.score >= 0.0 && a.score <= standard + 1e-9);
            let b = score_item(&s, standard, observe(&s, n + 1)).unwrap();
            match s {
                Scoring::Quantity { .. } => prop_assert!(b.score >= a.score),
                _ => prop_assert!(b.score <= a.score),
            }
            prop_assert_eq!(a.failed, a.score < a.standard);
        }

        /// A point never scores above its standard; a failed veto item always voids it.
        #[test]
        fn points_add_up(items in proptest::collection::vec((scoring(), 0.5f64..10.0, 0u32..5, any::<bool>()), 1..12)) {
            let scored: Vec<(ItemScore, bool)> =
                items.iter().map(|(s, std, n, veto)| (score_item(s, *std, observe(s, *n)).unwrap(), *veto)).collect();
            let p = score_point(&scored);
            prop_assert!(p.score <= p.standard + 1e-6);
            prop_assert_eq!(p.voided, scored.iter().any(|(s, v)| *v && s.failed));
            if p.voided { prop_assert_eq!(p.score, 0.0); }
        }
    }
}
