//! Key tasks (重点任务) of the campaign and special rectification drives (专项整治): a lead
//! unit and cooperating units, milestones with due dates, progress reported per milestone,
//! and the traffic light each milestone shows. Pure: no I/O, no clock.

use chrono::NaiveDate;

use super::calendar::Light;

crate::string_enum! {
    /// A key task, or a drive that also counts the cases of its categories in its area.
    pub enum TaskKind {
        Task = "task" | "重点任务",
        Drive = "drive" | "专项整治",
    }
}

/// Days before a milestone's due date from which an unfinished one shows yellow.
pub const WARN_DAYS: i64 = 7;
/// Progress below which a milestone near its due date shows yellow.
pub const WARN_PERCENT: i64 = 80;

/// A milestone's light on `today`: green when done or on track; yellow when due within a
/// week and under 80 %; red when past due and not done.
pub fn light(due: NaiveDate, percent: i64, today: NaiveDate) -> Light {
    if percent >= 100 {
        Light::Green
    } else if today > due {
        Light::Red
    } else if (due - today).num_days() <= WARN_DAYS && percent < WARN_PERCENT {
        Light::Yellow
    } else {
        Light::Green
    }
}

/// A task's light: its worst milestone's.
pub fn worst(lights: impl IntoIterator<Item = Light>) -> Light {
    lights
        .into_iter()
        .max_by_key(|l| match l {
            Light::Green => 0,
            Light::Yellow => 1,
            Light::Red => 2,
        })
        .unwrap_or(Light::Green)
}

/// Why a task or a progress report is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskError {
    Name,
    Period,
    NoMilestones,
    MilestoneOutsidePeriod,
    Percent,
    /// Progress never goes back (a mistaken report is corrected by a new one at least as high).
    Backwards,
    Text,
}

/// Checks a task's name, period and milestones.
pub fn check_task(name: &str, starts: NaiveDate, ends: NaiveDate, milestones: &[(String, NaiveDate)]) -> Result<(), TaskError> {
    if name.trim().is_empty() || name.chars().count() > 60 {
        return Err(TaskError::Name);
    }
    if ends < starts {
        return Err(TaskError::Period);
    }
    if milestones.is_empty() || milestones.iter().any(|(t, _)| t.trim().is_empty() || t.chars().count() > 100) {
        return Err(TaskError::NoMilestones);
    }
    if milestones.iter().any(|(_, d)| *d < starts || *d > ends) {
        return Err(TaskError::MilestoneOutsidePeriod);
    }
    Ok(())
}

/// Checks a progress report against the milestone's current percent.
pub fn check_progress(current: i64, percent: i64, text: &str) -> Result<(), TaskError> {
    if !(0..=100).contains(&percent) {
        return Err(TaskError::Percent);
    }
    if percent < current {
        return Err(TaskError::Backwards);
    }
    if text.trim().is_empty() || text.chars().count() > 2_000 {
        return Err(TaskError::Text);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    #[test]
    fn lights_follow_the_due_date_and_the_progress() {
        assert_eq!(light(d(12, 31), 10, d(12, 1)), Light::Green, "far from due");
        assert_eq!(light(d(12, 5), 50, d(12, 1)), Light::Yellow, "due within a week, behind");
        assert_eq!(light(d(12, 5), 90, d(12, 1)), Light::Green, "due soon, nearly done");
        assert_eq!(light(d(11, 30), 90, d(12, 1)), Light::Red, "past due");
        assert_eq!(light(d(11, 30), 100, d(12, 1)), Light::Green, "done");
        assert_eq!(worst([Light::Green, Light::Red, Light::Yellow]), Light::Red);
        assert_eq!(worst([]), Light::Green);
    }

    #[test]
    fn tasks_and_progress_are_checked() {
        let ms = vec![("方案".to_string(), d(11, 10))];
        assert!(check_task("楼道堆物专项整治", d(11, 1), d(12, 31), &ms).is_ok());
        assert_eq!(check_task(" ", d(11, 1), d(12, 31), &ms), Err(TaskError::Name));
        assert_eq!(check_task("x", d(12, 1), d(11, 1), &ms), Err(TaskError::Period));
        assert_eq!(check_task("x", d(11, 1), d(12, 31), &[]), Err(TaskError::NoMilestones));
        assert_eq!(check_task("x", d(11, 15), d(12, 31), &ms), Err(TaskError::MilestoneOutsidePeriod));
        assert_eq!(check_progress(40, 30, "回退"), Err(TaskError::Backwards));
        assert_eq!(check_progress(40, 101, "x"), Err(TaskError::Percent));
        assert_eq!(check_progress(40, 60, " "), Err(TaskError::Text));
        assert!(check_progress(40, 40, "本周无进展,原因……").is_ok());
    }
}
