//! Case indicators in the style of China's digital urban management evaluation:
//! reported, registered, dispatched, due to close, closed, closed on time, on-time closure
//! rate (按期结案率), closure rate (结案率), rework rate (返工率), extensions, mean handling time
//! in working hours, overdue now.

use serde::Serialize;

use super::calendar::WorkCalendar;
use super::case::Status;

/// The few facts of one case the indicators need.
#[derive(Debug, Clone)]
pub struct IndicatorRow {
    pub status: Status,
    pub dispatched_at: Option<i64>,
    pub handled_at: Option<i64>,
    pub handling_deadline: Option<i64>,
    pub closed_at: Option<i64>,
    pub rework_count: i64,
    pub extension_count: i64,
    pub reported_at: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Tally {
    pub reported: i64,
    pub registered: i64,
    pub dispatched: i64,
    /// Registered cases whose handling deadline has passed (by `until`), or that are closed.
    pub due_to_close: i64,
    pub closed: i64,
    pub closed_on_time: i64,
    pub reworked: i64,
    pub extensions: i64,
    pub overdue_now: i64,
    /// Cases not yet closed, rejected or merged.
    pub open: i64,
    /// Sum of working minutes from dispatch (or report) to handling, over closed cases.
    #[serde(skip)]
    pub handling_minutes: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Indicators {
    #[serde(flatten)]
    pub tally: Tally,
    /// 按期结案率: closed on time ÷ due to close.
    pub on_time_rate: Option<f64>,
    /// 结案率: closed ÷ registered.
    pub closure_rate: Option<f64>,
    /// 返工率: cases reworked at least once ÷ dispatched.
    pub rework_rate: Option<f64>,
    /// Mean working hours from dispatch to handling, over closed cases.
    pub mean_handling_hours: Option<f64>,
}

fn ratio(a: i64, b: i64) -> Option<f64> {
    (b > 0).then(|| ((a as f64 / b as f64) * 10_000.0).round() / 10_000.0)
}

impl IndicatorRow {
    pub fn of(s: &super::case::CaseState) -> IndicatorRow {
        IndicatorRow {
            status: s.status,
            dispatched_at: s.dispatched_at,
            handled_at: s.handled_at,
            handling_deadline: s.handling_deadline,
            closed_at: s.closed_at,
            rework_count: s.rework_count,
            extension_count: s.extension_count,
            reported_at: s.reported_at,
        }
    }

    fn registered(&self) -> bool {
        !matches!(self.status, Status::Reported | Status::Rejected | Status::Merged)
    }
}

impl Tally {
    /// What a case counts for whatever the moment of asking: the part that stored counters
    /// keep and adjust at every change of the case. Closed cases count as due to close.
    pub fn settled(r: &IndicatorRow, calendar: &WorkCalendar) -> Tally {
        let mut t = Tally { reported: 1, open: r.status.is_open() as i64, ..Default::default() };
        if !r.registered() {
            return t;
        }
        t.registered = 1;
        if r.dispatched_at.is_some() {
            t.dispatched = 1;
        }
        if r.closed_at.is_some() {
            t.due_to_close = 1;
            t.closed = 1;
            let on_time = match (r.handled_at, r.handling_deadline) {
                (Some(h), Some(d)) => h <= d,
                // Self-handled on the spot: no deadline to miss.
                (Some(_), None) => true,
                _ => false,
            };
            if on_time {
                t.closed_on_time = 1;
            }
            if let Some(h) = r.handled_at {
                t.handling_minutes = calendar.working_minutes_between(r.dispatched_at.unwrap_or(r.reported_at), h);
            }
        }
        if r.rework_count > 0 {
            t.reworked = 1;
        }
        t.extensions = r.extension_count;
        t
    }

    /// What depends on the moment of asking, for open cases: a handling deadline at or
    /// before the first moment (the end of the period, or now if sooner) makes a case due to
    /// close; one before the second (now) makes it overdue while it is being handled.
    pub fn pending_thresholds(until: i64, now: i64) -> (i64, i64) {
        (until.min(now), now)
    }

    /// Adds `due` open cases of `status` whose deadline has come and `overdue` whose
    /// deadline has passed (counted by [`Tally::pending_thresholds`]).
    pub fn add_pending_counts(&mut self, status: Status, due: i64, overdue: i64) {
        let registered = !matches!(status, Status::Reported | Status::Rejected | Status::Merged);
        if !registered {
            return;
        }
        self.due_to_close += due;
        if matches!(status, Status::Dispatched | Status::InProgress) {
            self.overdue_now += overdue;
        }
    }

    /// `self − o`, field by field (the change a case's new state brings to stored counters).
    pub fn minus(&self, o: &Tally) -> Tally {
        Tally {
            reported: self.reported - o.reported,
            registered: self.registered - o.registered,
            dispatched: self.dispatched - o.dispatched,
            due_to_close: self.due_to_close - o.due_to_close,
            closed: self.closed - o.closed,
            closed_on_time: self.closed_on_time - o.closed_on_time,
            reworked: self.reworked - o.reworked,
            extensions: self.extensions - o.extensions,
            overdue_now: self.overdue_now - o.overdue_now,
            open: self.open - o.open,
            handling_minutes: self.handling_minutes - o.handling_minutes,
        }
    }

    pub fn is_zero(&self) -> bool {
        *self == Tally::default()
    }

    pub fn merge(&mut self, o: &Tally) {
        self.reported += o.reported;
        self.registered += o.registered;
        self.dispatched += o.dispatched;
        self.due_to_close += o.due_to_close;
        self.closed += o.closed;
        self.closed_on_time += o.closed_on_time;
        self.reworked += o.reworked;
        self.extensions += o.extensions;
        self.overdue_now += o.overdue_now;
        self.open += o.open;
        self.handling_minutes += o.handling_minutes;
    }

    pub fn indicators(&self) -> Indicators {
        Indicators {
            on_time_rate: ratio(self.closed_on_time, self.due_to_close),
            closure_rate: ratio(self.closed, self.registered),
            rework_rate: ratio(self.reworked, self.dispatched),
            mean_handling_hours: (self.closed > 0).then(|| ((self.handling_minutes / 60.0 / self.closed as f64) * 100.0).round() / 100.0),
            tally: self.clone(),
        }
    }
}

/// Where a case's settled counts are kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TallyKey {
    /// Beijing date of report as yyyymmdd.
    pub day: i64,
    pub grid_id: String,
    pub category_code: String,
    /// '' when nobody is assigned.
    pub assignee_unit_id: String,
}

/// Beijing date of a moment as yyyymmdd.
pub fn day_number(ms: i64) -> i64 {
    use chrono::Datelike;
    let d = super::calendar::beijing_date(ms);
    d.year() as i64 * 10_000 + d.month() as i64 * 100 + d.day() as i64
}

/// Counter changes, summed per key, for one write (one case or a batch of them).
#[derive(Debug, Default)]
pub struct TallyChanges {
    pub tallies: std::collections::HashMap<TallyKey, Tally>,
    /// (day closed, grid) → closures added (negative when undone)
    pub closures: std::collections::HashMap<(i64, String), i64>,
}

impl TallyChanges {
    /// Records a case's move from `old` (none for a new case) to `new`.
    pub fn record(
        &mut self,
        calendar: &WorkCalendar,
        grid_id: &str,
        category_code: &str,
        old: Option<&super::case::CaseState>,
        new: &super::case::CaseState,
    ) {
        let key = |s: &super::case::CaseState| TallyKey {
            day: day_number(s.reported_at),
            grid_id: grid_id.to_string(),
            category_code: category_code.to_string(),
            assignee_unit_id: s.assignee_unit_id.clone().unwrap_or_default(),
        };
        if let Some(o) = old {
            let t = self.tallies.entry(key(o)).or_default();
            *t = t.minus(&Tally::settled(&IndicatorRow::of(o), calendar));
            if let Some(c) = o.closed_at {
                *self.closures.entry((day_number(c), grid_id.to_string())).or_default() -= 1;
            }
        }
        self.tallies.entry(key(new)).or_default().merge(&Tally::settled(&IndicatorRow::of(new), calendar));
        if let Some(c) = new.closed_at {
            *self.closures.entry((day_number(c), grid_id.to_string())).or_default() += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::beijing_ms;

    fn row(status: Status) -> IndicatorRow {
        IndicatorRow {
            status,
            dispatched_at: None,
            handled_at: None,
            handling_deadline: None,
            closed_at: None,
            rework_count: 0,
            extension_count: 0,
            reported_at: beijing_ms(2026, 11, 30, 9, 0),
        }
    }

    /// Counts one case whole, as a dashboard does: its settled part plus what depends on now.
    fn add(t: &mut Tally, r: &IndicatorRow, cal: &WorkCalendar, until: i64, now: i64) {
        t.merge(&Tally::settled(r, cal));
        if r.closed_at.is_none() {
            let (due_by, overdue_before) = Tally::pending_thresholds(until, now);
            let due = r.handling_deadline.is_some_and(|d| d <= due_by) as i64;
            let overdue = r.handling_deadline.is_some_and(|d| d < overdue_before) as i64;
            t.add_pending_counts(r.status, due, overdue);
        }
    }

    #[test]
    fn a_change_moves_counts_from_the_old_key_to_the_new() {
        use crate::domain::case::{CaseState, Event, EventData, apply};
        let cal = WorkCalendar::china_default();
        let t0 = beijing_ms(2026, 11, 30, 9, 0);
        let reported = apply(None, &Event { action: None, at: t0, actor_id: None, data: EventData::default() }).unwrap();
        let before = CaseState { status: Status::Dispatched, assignee_unit_id: Some("dept".into()), dispatched_at: Some(t0), ..reported };
        let after = CaseState {
            status: Status::Closed,
            assignee_unit_id: Some("grid".into()),
            handled_at: Some(t0 + 3_600_000),
            closed_at: Some(beijing_ms(2026, 12, 1, 10, 0)),
            ..before.clone()
        };
        let mut changes = TallyChanges::default();
        changes.record(&cal, "g1", "0601", None, &before);
        changes.record(&cal, "g1", "0601", Some(&before), &after);
        let key = |assignee: &str| TallyKey {
            day: 20261130,
            grid_id: "g1".into(),
            category_code: "0601".into(),
            assignee_unit_id: assignee.into(),
        };
        assert!(changes.tallies[&key("dept")].is_zero(), "nothing is left under the old assignee");
        let moved = &changes.tallies[&key("grid")];
        assert_eq!((moved.reported, moved.closed, moved.closed_on_time, moved.open), (1, 1, 1, 0));
        assert_eq!(changes.closures[&(20261201, "g1".to_string())], 1, "one closure, on the day it closed");
    }

    #[test]
    fn rates_follow_their_definitions() {
        let cal = WorkCalendar::china_default();
        let t0 = beijing_ms(2026, 11, 30, 9, 0);
        let now = beijing_ms(2026, 12, 2, 9, 0);
        let mut tally = Tally::default();
        // closed on time, 2 working hours after dispatch
        let mut a = row(Status::Closed);
        a.dispatched_at = Some(t0);
        a.handling_deadline = Some(beijing_ms(2026, 11, 30, 14, 30));
        a.handled_at = Some(beijing_ms(2026, 11, 30, 11, 0));
        a.closed_at = Some(beijing_ms(2026, 11, 30, 15, 0));
        // closed late, reworked once, one extension
        let mut b = a.clone();
        b.handled_at = Some(beijing_ms(2026, 11, 30, 16, 30));
        b.rework_count = 1;
        b.extension_count = 1;
        // dispatched and overdue now
        let mut c = row(Status::InProgress);
        c.dispatched_at = Some(t0);
        c.handling_deadline = Some(beijing_ms(2026, 12, 1, 9, 0));
        // rejected: reported only
        let d = row(Status::Rejected);
        for r in [&a, &b, &c, &d] {
            add(&mut tally, r, &cal, now, now);
        }
        let i = tally.indicators();
        assert_eq!((i.tally.reported, i.tally.registered, i.tally.dispatched), (4, 3, 3));
        assert_eq!((i.tally.due_to_close, i.tally.closed, i.tally.closed_on_time), (3, 2, 1));
        assert_eq!(i.on_time_rate, Some(0.3333));
        assert_eq!(i.closure_rate, Some(0.6667));
        assert_eq!(i.rework_rate, Some(0.3333));
        assert_eq!(i.tally.overdue_now, 1);
        assert_eq!(i.tally.extensions, 1);
        // (2 h + 5.5 h working) / 2 closed cases; 09:00→16:30 is 6 working hours
        assert_eq!(i.mean_handling_hours, Some(4.0));
    }

    #[test]
    fn empty_means_no_rates_not_zero() {
        let i = Tally::default().indicators();
        assert_eq!(i.on_time_rate, None);
        assert_eq!(i.mean_handling_hours, None);
    }
}
