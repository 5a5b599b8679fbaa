//! 志愿服务: volunteers, their activities and the hours ledger, by the rules of 民政部
//! 《志愿服务记录与证明出具办法(试行)》 — hours are time actually served (check-in to
//! check-out, clipped to the activity), none unless the attendance covers a set share of the
//! activity, hours added by hand capped at the activity's length; star levels by total hours;
//! the rotating check-in code. Pure: no I/O.

use serde::{Deserialize, Serialize};

crate::string_enum! {
    /// What an activity is.
    pub enum ActivityKind {
        ServiceFair = "service_fair" | "志愿服务大集" | "服务大集",
        Persuasion = "persuasion" | "文明劝导",
        Performance = "performance" | "文艺演出",
        Cleanup = "cleanup" | "环境整治",
        Publicity = "publicity" | "宣传" | "宣传活动",
        Visit = "visit" | "巡访" | "走访",
        PartyDuty = "party_duty" | "党员值守" | "驿站值守",
        Other = "other" | "其他",
    }
}

crate::string_enum! {
    /// A volunteer's place on an activity's list.
    pub enum SignupState {
        Signed = "signed" | "已报名",
        Waiting = "waiting" | "候补",
        Cancelled = "cancelled" | "已取消",
    }
}

crate::string_enum! {
    /// Where an attendance stands in the ledger.
    pub enum AttendanceState {
        /// Checked in, not yet out.
        Present = "present" | "在岗",
        /// Out, waiting for the organiser's confirmation.
        Pending = "pending" | "待确认",
        Confirmed = "confirmed" | "已确认",
        Rejected = "rejected" | "不予记录",
    }
}

crate::string_enum! {
    /// The organiser's answer to a correction a volunteer asked for.
    pub enum CorrectionDecision {
        Open = "open" | "待处理",
        Accepted = "accepted" | "已更正",
        Refused = "refused" | "不予更正",
    }
}

crate::string_enum! {
    /// 政治面貌, as the import sheet writes it.
    pub enum Politics {
        PartyMember = "party_member" | "中共党员" | "党员",
        Probationary = "probationary" | "中共预备党员" | "预备党员",
        LeagueMember = "league_member" | "共青团员" | "团员",
        Masses = "masses" | "群众",
        Other = "other" | "其他" | "民主党派",
    }
}

impl Politics {
    pub fn is_party_member(self) -> bool {
        matches!(self, Politics::PartyMember | Politics::Probationary)
    }
}

/// Whether an 18-character resident ID number (居民身份证号码, GB 11643-1999) is well formed:
/// 17 digits, a real birth date, and the ISO 7064 MOD 11-2 check character (0-9 or X).
pub fn id_number_valid(text: &str) -> bool {
    let t: Vec<char> = text.trim().chars().map(|c| c.to_ascii_uppercase()).collect();
    if t.len() != 18 || !t[..17].iter().all(|c| c.is_ascii_digit()) {
        return false;
    }
    let digits: Vec<u32> = t[..17].iter().filter_map(|c| c.to_digit(10)).collect();
    let birth: String = t[6..14].iter().collect();
    if chrono::NaiveDate::parse_from_str(&birth, "%Y%m%d").is_err() {
        return false;
    }
    id_check_char(&digits) == Some(t[17])
}

/// The check character of the first 17 digits of an ID number (ISO 7064 MOD 11-2).
pub fn id_check_char(digits: &[u32]) -> Option<char> {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    if digits.len() != 17 {
        return None;
    }
    let sum: u32 = digits.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
    Some(CHECK[(sum % 11) as usize])
}

/// The rules of the ledger a district sets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HoursRules {
    /// The share of the activity (0 … 1) check-in to check-out must cover for any hours.
    pub coverage: f64,
    /// Total hours at which each star (1 … 5) is reached.
    pub stars: [u32; 5],
    /// How far (metres) from the activity's place a check-in may be.
    pub tolerance_m: f64,
}

impl Default for HoursRules {
    /// The national community-volunteer thresholds and the common 60 % rule.
    fn default() -> Self {
        HoursRules { coverage: 0.6, stars: [100, 300, 600, 1_000, 1_500], tolerance_m: 500.0 }
    }
}

impl HoursRules {
    pub fn valid(&self) -> bool {
        (0.0..=1.0).contains(&self.coverage)
            && self.stars[0] > 0
            && self.stars.windows(2).all(|w| w[0] < w[1])
            && self.tolerance_m.is_finite()
            && self.tolerance_m >= 10.0
    }

    /// The star level (0 … 5) of a total in minutes.
    pub fn star_of(&self, minutes: i64) -> u8 {
        self.stars.iter().filter(|h| minutes >= i64::from(**h) * 60).count() as u8
    }
}

/// Minutes served at an activity from `[check_in, check_out]` (ms), clipped to the activity's
/// `[starts, ends]`; zero when the clipped span covers less than `coverage` of the activity.
pub fn served_minutes(starts: i64, ends: i64, check_in: i64, check_out: i64, coverage: f64) -> i64 {
    let length = (ends - starts).max(0);
    let (from, to) = (check_in.max(starts), check_out.min(ends));
    if length == 0 || to <= from {
        return 0;
    }
    let span = to - from;
    if (span as f64) < coverage * length as f64 {
        return 0;
    }
    span / 60_000
}

/// The activity's length in minutes: the most any record of it may hold.
pub fn activity_minutes(starts: i64, ends: i64) -> i64 {
    (ends - starts).max(0) / 60_000
}

/// Hours written as an office writes them: 2.5 小时 from 150 minutes.
pub fn hours_text(minutes: i64) -> String {
    let h = minutes as f64 / 60.0;
    let s = format!("{h:.1}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// Whether two activities' times overlap (a volunteer cannot sign up for both).
pub fn overlaps(a: (i64, i64), b: (i64, i64)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

/// How long one check-in code lives.
pub const CODE_WINDOW_MS: i64 = 30_000;

/// The window a time falls in.
pub fn code_window(at: i64) -> i64 {
    at.div_euclid(CODE_WINDOW_MS)
}

/// Whether a code made in `window` may still be used at `now`: the current window and the
/// one before (a code read just as it changes), never later or older.
pub fn window_current(window: i64, now: i64) -> bool {
    let w = code_window(now);
    window == w || window == w - 1
}

/// Whether a check-in position is close enough to the activity's place.
pub fn near_enough(place: super::coords::LatLon, at: super::coords::LatLon, rules: &HoursRules) -> bool {
    super::coords::distance_m(place, at) <= rules.tolerance_m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_numbers_are_checked_by_their_check_character() {
        assert!(id_number_valid("11010519491231002X"));
        assert!(id_number_valid("11010519491231002x"));
        assert!(id_number_valid("440524188001010014"));
        assert!(!id_number_valid("110105194912310021"), "wrong check digit");
        assert!(!id_number_valid("11010519491331002X"), "month 13");
        assert!(!id_number_valid("1101051949123100"), "short");
        assert!(!id_number_valid("11010519491231002Y"));
    }

    #[test]
    fn hours_clip_to_the_activity_and_need_coverage() {
        let h = 3_600_000;
        // A 2-hour activity 09:00–11:00.
        let (s, e) = (9 * h, 11 * h);
        assert_eq!(served_minutes(s, e, s, e, 0.6), 120);
        // Early arrival and late leave count only inside the activity.
        assert_eq!(served_minutes(s, e, 8 * h, 12 * h, 0.6), 120);
        // 72 minutes is exactly 60 %: counted.
        assert_eq!(served_minutes(s, e, s, s + 72 * 60_000, 0.6), 72);
        // 71 minutes is under it: nothing.
        assert_eq!(served_minutes(s, e, s, s + 71 * 60_000, 0.6), 0);
        // Out before in, or outside the activity altogether.
        assert_eq!(served_minutes(s, e, e, s, 0.6), 0);
        assert_eq!(served_minutes(s, e, 12 * h, 13 * h, 0.0), 0);
        assert_eq!(activity_minutes(s, e), 120);
    }

    #[test]
    fn star_levels_by_total_hours() {
        let r = HoursRules::default();
        assert_eq!(r.star_of(0), 0);
        assert_eq!(r.star_of(100 * 60 - 1), 0);
        assert_eq!(r.star_of(100 * 60), 1);
        assert_eq!(r.star_of(1_500 * 60), 5);
        let city = HoursRules { stars: [100, 200, 500, 800, 1_000], ..r };
        assert_eq!(city.star_of(800 * 60), 4);
        assert!(r.valid() && city.valid());
        assert!(!HoursRules { stars: [100, 100, 500, 800, 1_000], ..r }.valid());
        assert!(!HoursRules { coverage: 1.5, ..r }.valid());
    }

    #[test]
    fn codes_live_for_their_window_and_the_one_before() {
        let now = 1_000 * CODE_WINDOW_MS + 5_000;
        assert!(window_current(code_window(now), now));
        assert!(window_current(code_window(now) - 1, now));
        assert!(!window_current(code_window(now) - 2, now), "a minute ago");
        assert!(!window_current(code_window(now) + 1, now), "from the future");
    }

    #[test]
    fn overlap_and_hours_text() {
        assert!(overlaps((0, 10), (5, 15)));
        assert!(!overlaps((0, 10), (10, 20)));
        assert_eq!(hours_text(150), "2.5");
        assert_eq!(hours_text(120), "2");
        use crate::domain::coords::LatLon;
        let r = HoursRules::default();
        assert!(near_enough(LatLon { lat: 36.98, lon: 117.17 }, LatLon { lat: 36.983, lon: 117.17 }, &r));
        assert!(!near_enough(LatLon { lat: 36.98, lon: 117.17 }, LatLon { lat: 36.98, lon: 117.18 }, &r), "≈ 890 m");
    }
}
