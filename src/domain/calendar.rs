//! Working time: deadlines count working minutes on a calendar with configurable office
//! hours (default 08:30–12:00 and 13:30–17:30, Asia/Shanghai), China's public holidays and
//! make-up working days (调休).
//!
//! Times come in and go out as milliseconds since the Unix epoch (UTC), as stored. China has
//! kept UTC+8 all year since 1991, so local time is a fixed offset.

use std::collections::{BTreeMap, HashSet};

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Weekday};

const OFFSET_MS: i64 = 8 * 3_600_000;
const BUILT_IN: &str = include_str!("../../data-files/cn-holidays.toml");
/// A deadline search never looks further ahead than this (guards against an empty calendar).
const MAX_DAYS: i64 = 3_660;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CalendarError {
    #[error("holiday file: {0}")]
    Parse(String),
    #[error("bad date {0}")]
    Date(String),
    #[error("bad office hours {0}: use HH:MM-HH:MM, in order, not overlapping")]
    Hours(String),
}

#[derive(Debug, Clone)]
pub struct WorkCalendar {
    /// Office periods within a day, minutes since midnight, sorted and disjoint.
    periods: Vec<(u32, u32)>,
    holidays: HashSet<NaiveDate>,
    workdays: HashSet<NaiveDate>,
    provisional_years: HashSet<i32>,
}

#[derive(serde::Deserialize)]
struct YearEntry {
    #[serde(default)]
    holidays: Vec<String>,
    #[serde(default)]
    workdays: Vec<String>,
    #[serde(default)]
    provisional: bool,
}

fn parse_day(s: &str) -> Result<NaiveDate, CalendarError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| CalendarError::Date(s.to_string()))
}

fn expand(items: &[String]) -> Result<Vec<NaiveDate>, CalendarError> {
    let mut out = Vec::new();
    for item in items {
        match item.split_once("..") {
            Some((a, b)) => {
                let (a, b) = (parse_day(a)?, parse_day(b)?);
                if b < a || (b - a).num_days() > 60 {
                    return Err(CalendarError::Date(item.clone()));
                }
                let mut d = a;
                while d <= b {
                    out.push(d);
                    d += Duration::days(1);
                }
            }
            None => out.push(parse_day(item)?),
        }
    }
    Ok(out)
}

/// `08:30-12:00,13:30-17:30` → minute ranges.
pub fn parse_hours(spec: &str) -> Result<Vec<(u32, u32)>, CalendarError> {
    let bad = || CalendarError::Hours(spec.to_string());
    let minute = |s: &str| -> Result<u32, CalendarError> {
        let t = NaiveTime::parse_from_str(s.trim(), "%H:%M").map_err(|_| bad())?;
        Ok(t.signed_duration_since(NaiveTime::MIN).num_minutes() as u32)
    };
    let mut periods = Vec::new();
    for part in spec.split(',').filter(|p| !p.trim().is_empty()) {
        let (a, b) = part.split_once('-').ok_or_else(bad)?;
        periods.push((minute(a)?, minute(b)?));
    }
    let ordered = periods.windows(2).all(|w| w[0].1 <= w[1].0);
    if periods.is_empty() || !ordered || periods.iter().any(|(a, b)| a >= b) {
        return Err(bad());
    }
    Ok(periods)
}

impl WorkCalendar {
    /// The built-in Chinese calendar with default office hours, with `overrides` (a holiday
    /// file in the same format) replacing whole years.
    pub fn china(hours: &str, overrides: Option<&str>) -> Result<WorkCalendar, CalendarError> {
        let mut years: BTreeMap<String, YearEntry> = toml::from_str(BUILT_IN).map_err(|e| CalendarError::Parse(e.to_string()))?;
        if let Some(text) = overrides {
            let extra: BTreeMap<String, YearEntry> = toml::from_str(text).map_err(|e| CalendarError::Parse(e.to_string()))?;
            years.extend(extra);
        }
        let mut cal = WorkCalendar {
            periods: parse_hours(hours)?,
            holidays: HashSet::new(),
            workdays: HashSet::new(),
            provisional_years: HashSet::new(),
        };
        for (year, entry) in years {
            let y: i32 = year.parse().map_err(|_| CalendarError::Parse(format!("year {year}")))?;
            if entry.provisional {
                cal.provisional_years.insert(y);
            }
            cal.holidays.extend(expand(&entry.holidays)?);
            cal.workdays.extend(expand(&entry.workdays)?);
        }
        Ok(cal)
    }

    /// Default office hours and the built-in holidays.
    pub fn china_default() -> WorkCalendar {
        // The built-in data is compiled in and covered by tests.
        WorkCalendar::china("08:30-12:00,13:30-17:30", None).expect("built-in calendar is valid")
    }

    pub fn is_provisional(&self, year: i32) -> bool {
        self.provisional_years.contains(&year)
    }

    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        if self.workdays.contains(&d) {
            return true;
        }
        if self.holidays.contains(&d) {
            return false;
        }
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// Working minutes in one day.
    pub fn minutes_per_day(&self) -> i64 {
        self.periods.iter().map(|(a, b)| (b - a) as i64).sum()
    }

    /// The moment `minutes` working minutes after `start_ms`. Time outside office hours
    /// does not count; a start outside them begins at the next office period.
    pub fn add_working_minutes(&self, start_ms: i64, minutes: i64) -> i64 {
        let mut left = minutes.max(0) as f64;
        let start = local(start_ms);
        let mut day = start.date();
        let mut from_minute = minute_of_day(start);
        for _ in 0..MAX_DAYS {
            if self.is_working_day(day) {
                for &(a, b) in &self.periods {
                    let from = from_minute.max(a as f64);
                    if from >= b as f64 {
                        continue;
                    }
                    let available = b as f64 - from;
                    if left <= available {
                        return to_utc_ms(day, from + left);
                    }
                    left -= available;
                }
            }
            day += Duration::days(1);
            from_minute = 0.0;
        }
        to_utc_ms(day, 0.0)
    }

    /// Working minutes between two moments (0 when `end` is not after `start`).
    pub fn working_minutes_between(&self, start_ms: i64, end_ms: i64) -> f64 {
        if end_ms <= start_ms {
            return 0.0;
        }
        let (s, e) = (local(start_ms), local(end_ms));
        let mut total = 0.0;
        let mut day = s.date();
        let last = e.date();
        let mut guard = 0;
        while day <= last && guard < MAX_DAYS * 3 {
            guard += 1;
            if self.is_working_day(day) {
                let lo = if day == s.date() { minute_of_day(s) } else { 0.0 };
                let hi = if day == last { minute_of_day(e) } else { 24.0 * 60.0 };
                for &(a, b) in &self.periods {
                    let (a, b) = (a as f64, b as f64);
                    let overlap = hi.min(b) - lo.max(a);
                    if overlap > 0.0 {
                        total += overlap;
                    }
                }
            }
            day += Duration::days(1);
        }
        total
    }
}

fn local(ms: i64) -> NaiveDateTime {
    chrono::DateTime::from_timestamp_millis(ms + OFFSET_MS).map(|d| d.naive_utc()).unwrap_or_default()
}

fn minute_of_day(t: NaiveDateTime) -> f64 {
    t.time().signed_duration_since(NaiveTime::MIN).num_milliseconds() as f64 / 60_000.0
}

fn to_utc_ms(day: NaiveDate, minute: f64) -> i64 {
    let midnight = day.and_time(NaiveTime::MIN).and_utc().timestamp_millis();
    midnight + (minute * 60_000.0).round() as i64 - OFFSET_MS
}

/// Midnight at the start of a Beijing calendar day, as stored milliseconds.
pub fn beijing_day_start(day: NaiveDate) -> i64 {
    to_utc_ms(day, 0.0)
}

/// The Beijing wall time of a stored time.
pub fn beijing_time(ms: i64) -> NaiveDateTime {
    local(ms)
}

/// The Beijing calendar day of a stored time.
pub fn beijing_date(ms: i64) -> NaiveDate {
    local(ms).date()
}

/// Local (Beijing) wall time → stored milliseconds; for tests and imports.
pub fn beijing_ms(y: i32, m: u32, d: u32, hh: u32, mm: u32) -> i64 {
    let day = NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    to_utc_ms(day, (hh * 60 + mm) as f64)
}

/// A Beijing wall time as a form or a sheet writes it (`2026-12-05 09:00`,
/// `2026-12-05T09:00`, with or without seconds) → stored milliseconds.
pub fn parse_beijing_time(text: &str) -> Option<i64> {
    let t = text.trim();
    ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
        .map(|dt| dt.and_utc().timestamp_millis() - OFFSET_MS)
}

/// A stored time as `2026-12-05 09:00` (Beijing).
pub fn beijing_text(ms: i64) -> String {
    local(ms).format("%Y-%m-%d %H:%M").to_string()
}

crate::string_enum! {
    /// How much of the allowed time is used: green below 80 %, yellow up to the deadline, red past it.
    pub enum Light {
        Green = "green",
        Yellow = "yellow",
        Red = "red",
    }
}

impl WorkCalendar {
    pub fn light(&self, start_ms: i64, deadline_ms: i64, now_ms: i64) -> Light {
        if now_ms > deadline_ms {
            return Light::Red;
        }
        let total = self.working_minutes_between(start_ms, deadline_ms);
        if total <= 0.0 {
            return Light::Yellow;
        }
        if self.working_minutes_between(start_ms, now_ms) / total >= 0.8 { Light::Yellow } else { Light::Green }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cal() -> WorkCalendar {
        WorkCalendar::china_default()
    }

    fn at(y: i32, m: u32, d: u32, hh: u32, mm: u32) -> i64 {
        beijing_ms(y, m, d, hh, mm)
    }

    #[test]
    fn within_one_morning() {
        // Monday 2026-11-30 09:00 + 2 h → 11:00
        assert_eq!(cal().add_working_minutes(at(2026, 11, 30, 9, 0), 120), at(2026, 11, 30, 11, 0));
    }

    #[test]
    fn across_lunch() {
        // 11:00 + 2 h: one hour before lunch, one after 13:30 → 14:30
        assert_eq!(cal().add_working_minutes(at(2026, 11, 30, 11, 0), 120), at(2026, 11, 30, 14, 30));
    }

    #[test]
    fn across_a_weekend() {
        // Friday 2026-12-04 16:30 + 2 h → Monday 2026-12-07 09:30
        assert_eq!(cal().add_working_minutes(at(2026, 12, 4, 16, 30), 120), at(2026, 12, 7, 9, 30));
    }

    #[test]
    fn reported_at_night_starts_next_morning() {
        assert_eq!(cal().add_working_minutes(at(2026, 11, 30, 22, 0), 30), at(2026, 12, 1, 9, 0));
    }

    #[test]
    fn spring_festival_2026_and_its_make_up_saturday() {
        // Friday 2026-02-13 17:00 + 1 h: 30 min that day, then Saturday 02-14 is a make-up
        // working day (调休上班) → 02-14 09:00.
        assert_eq!(cal().add_working_minutes(at(2026, 2, 13, 17, 0), 60), at(2026, 2, 14, 9, 0));
        // Saturday 02-14 17:00 + 1 h: the festival runs 02-15 … 02-23 → Tuesday 02-24 09:00.
        assert_eq!(cal().add_working_minutes(at(2026, 2, 14, 17, 0), 60), at(2026, 2, 24, 9, 0));
        assert!(cal().is_working_day(NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()), "make-up Saturday");
        assert!(!cal().is_working_day(NaiveDate::from_ymd_opt(2026, 2, 23).unwrap()), "festival Monday");
    }

    #[test]
    fn national_day_2025() {
        // Tuesday 2025-09-30 17:00 + 1 h → Thursday 2025-10-09 09:00 (Oct 1–8 off).
        assert_eq!(cal().add_working_minutes(at(2025, 9, 30, 17, 0), 60), at(2025, 10, 9, 9, 0));
        assert!(cal().is_working_day(NaiveDate::from_ymd_opt(2025, 10, 11).unwrap()));
    }

    #[test]
    fn a_full_working_day_is_seven_and_a_half_hours() {
        assert_eq!(cal().minutes_per_day(), 450);
        let start = at(2026, 11, 30, 8, 30);
        let end = cal().add_working_minutes(start, 450);
        assert_eq!(end, at(2026, 11, 30, 17, 30));
        assert_eq!(cal().working_minutes_between(start, end), 450.0);
        // A week of five working days.
        assert_eq!(cal().working_minutes_between(at(2026, 11, 30, 0, 0), at(2026, 12, 7, 0, 0)), 2250.0);
    }

    #[test]
    fn adding_then_measuring_round_trips() {
        let c = cal();
        for (start, minutes) in [(at(2026, 2, 12, 10, 17), 900), (at(2025, 9, 29, 12, 30), 61), (at(2026, 6, 18, 16, 0), 2000)] {
            let end = c.add_working_minutes(start, minutes);
            assert!((c.working_minutes_between(start, end) - minutes as f64).abs() < 1e-6);
        }
    }

    #[test]
    fn traffic_light() {
        let c = cal();
        let start = at(2026, 11, 30, 9, 0);
        let deadline = c.add_working_minutes(start, 100);
        assert_eq!(c.light(start, deadline, at(2026, 11, 30, 10, 0)), Light::Green);
        assert_eq!(c.light(start, deadline, at(2026, 11, 30, 10, 25)), Light::Yellow);
        assert_eq!(c.light(start, deadline, deadline + 1), Light::Red);
    }

    #[test]
    fn operators_override_years_and_office_hours() {
        let c = WorkCalendar::china("09:00-12:00,14:00-18:00", Some("[2027]\nholidays = [\"2027-03-01\"]\n")).unwrap();
        assert!(!c.is_working_day(NaiveDate::from_ymd_opt(2027, 3, 1).unwrap()));
        assert!(!c.is_provisional(2027), "an operator's year replaces the provisional one");
        assert!(cal().is_provisional(2027));
        assert_eq!(c.add_working_minutes(at(2026, 11, 30, 11, 30), 60), at(2026, 11, 30, 14, 30));
        assert!(WorkCalendar::china("12:00-09:00", None).is_err());
        assert!(WorkCalendar::china("08:30-12:00", Some("[2027]\nholidays=[\"2027-13-01\"]")).is_err());
    }
}
