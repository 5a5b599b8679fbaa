//! Check-in and check-out by a rotating QR code, attendance recorded by hand, the
//! organiser's confirmation (谁组织谁记录), corrections a volunteer asks for, and the ledger
//! with its totals and star levels.

use serde::Serialize;

use crate::app::App;
use crate::app::auth::{same_secret, sign, stored_secret};
use crate::domain::authz::Actor;
use crate::domain::coords::LatLon;
use crate::domain::volunteer::{
    AttendanceState, CODE_WINDOW_MS, CorrectionDecision, SignupState, activity_minutes, code_window, hours_text, near_enough,
    served_minutes, window_current,
};
use crate::error::{AppError, AppResult, Invalid, Thing};
use crate::store::new_id;
use crate::store::volunteers::{self as db, ActivityRow, AttendanceRow, CorrectionRow, SignupRow};

const CODE_KEY: &str = "activity_code_key";
/// Check-in opens this long before the start; check-out closes this long after the end.
const EARLY_MS: i64 = 3_600_000;
const LATE_MS: i64 = 2 * 3_600_000;

/// The code the organiser's phone shows now.
#[derive(Debug, Clone, Serialize)]
pub struct CheckinCode {
    pub code: String,
    /// The address the QR code opens (the volunteer's scan page with the code).
    pub url: String,
    pub svg: String,
    pub expires_at: i64,
    pub checked_in: i64,
    pub checked_out: i64,
}

/// One line of a volunteer's ledger.
#[derive(Debug, Clone, Serialize)]
pub struct LedgerEntry {
    #[serde(flatten)]
    pub attendance: AttendanceRow,
    pub activity_title: String,
    pub activity_kind: crate::domain::volunteer::ActivityKind,
    pub place: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub team_name: String,
    pub hours: String,
    pub corrections: Vec<CorrectionRow>,
}

/// A volunteer's ledger: every record, the confirmed total and the star levels reached.
#[derive(Debug, Clone, Serialize)]
pub struct LedgerView {
    pub volunteer: super::VolunteerView,
    pub entries: Vec<LedgerEntry>,
    pub total_hours: String,
    pub star: i64,
    /// (star, when reached).
    pub stars: Vec<(i64, i64)>,
    /// Hours still needed for the next star, if any is left.
    pub next_star_hours: Option<String>,
}

fn tail(id: &str) -> &str {
    &id[id.len().saturating_sub(8)..]
}

fn code_for(key: &str, activity_id: &str, window: i64) -> String {
    let sig = sign(key, &format!("checkin:{activity_id}:{window}"));
    let mac: String = sig.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("{}-{window}-{mac}", tail(activity_id))
}

/// Why a code is refused, or the window it was made in.
fn check_code(key: &str, activity_id: &str, code: &str, now: i64) -> AppResult<i64> {
    let mut parts = code.trim().splitn(3, '-');
    let (Some(act), Some(window), Some(_)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(AppError::Invalid(Invalid::CheckinCodeForged));
    };
    let Ok(window) = window.parse::<i64>() else { return Err(AppError::Invalid(Invalid::CheckinCodeForged)) };
    let hex = |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_hexdigit());
    if !hex(act, 8) || !code.trim().rsplit('-').next().is_some_and(|m| hex(m, 12)) {
        return Err(AppError::Invalid(Invalid::CheckinCodeForged));
    }
    if act != tail(activity_id) {
        return Err(AppError::Invalid(Invalid::CheckinCodeOtherActivity));
    }
    if !same_secret(&code_for(key, activity_id, window), code.trim()) {
        return Err(AppError::Invalid(Invalid::CheckinCodeForged));
    }
    if !window_current(window, now) {
        return Err(AppError::Invalid(Invalid::CheckinCodeExpired));
    }
    Ok(window)
}

impl App {
    /// The check-in code of this moment, for the organiser's phone (it changes every 30 s).
    pub async fn checkin_code(&self, actor: &Actor, activity_id: &str, base: &str) -> AppResult<CheckinCode> {
        let key = activity_id.to_string();
        let a = self.store().read(move |c| db::activity(c, &key)).await?.ok_or(AppError::NotFound(Thing::Activity))?;
        if !self.organises(actor, &a) {
            return Err(AppError::NotFound(Thing::Activity));
        }
        if a.cancelled {
            return Err(AppError::Invalid(Invalid::ActivityCancelled));
        }
        let now = self.now();
        let secret = self.store().write(|c| stored_secret(c, CODE_KEY)).await?;
        let window = code_window(now);
        let code = code_for(&secret, &a.id, window);
        let url = format!("{}/v/scan/{}?c={code}", base.trim_end_matches('/'), a.id);
        let aid = a.id.clone();
        let atts = self.store().read(move |c| db::attendances(c, &aid)).await?;
        Ok(CheckinCode {
            svg: crate::export::qr::qr_svg(&url)?,
            url,
            code,
            expires_at: (window + 1) * CODE_WINDOW_MS,
            checked_in: atts.iter().filter(|x| x.checked_in_at.is_some()).count() as i64,
            checked_out: atts.iter().filter(|x| x.checked_out_at.is_some()).count() as i64,
        })
    }

    /// A volunteer scans the organiser's code at the place: the first scan checks in, the
    /// next (a later code) checks out. A volunteer not on the list is put on it while there
    /// is room (a walk-in at a service fair). `check_out` says which the volunteer meant
    /// (`None`: whichever is next). Returns the attendance.
    pub async fn scan_checkin(
        &self,
        actor: &Actor,
        activity_id: &str,
        code: &str,
        at: Option<LatLon>,
        check_out: Option<bool>,
    ) -> AppResult<AttendanceRow> {
        let v = self.own_volunteer(actor).await?;
        let rules = self.hours_rules().await?;
        let now = self.now();
        let (aid, code) = (activity_id.to_string(), code.to_string());
        self.store()
            .write(move |c| {
                let a = db::activity(c, &aid)?.ok_or(AppError::NotFound(Thing::Activity))?;
                if a.cancelled {
                    return Err(AppError::Invalid(Invalid::ActivityCancelled));
                }
                let secret = stored_secret(c, CODE_KEY)?;
                let window = check_code(&secret, &a.id, &code, now)?;
                let Some(at) = at else { return Err(AppError::Invalid(Invalid::CheckinPositionMissing)) };
                if !near_enough(LatLon { lat: a.lat, lon: a.lon }, at, &rules) {
                    return Err(AppError::Invalid(Invalid::CheckinTooFar));
                }
                match db::attendance_of(c, &a.id, &v.id)? {
                    None if check_out == Some(true) => Err(AppError::Invalid(Invalid::NotCheckedIn)),
                    Some(row) if row.state == AttendanceState::Present && check_out == Some(false) => {
                        Err(AppError::Invalid(Invalid::AlreadyCheckedIn))
                    }
                    None => {
                        if now < a.starts_at - EARLY_MS || now > a.ends_at {
                            return Err(AppError::Invalid(Invalid::CheckinNotOpen));
                        }
                        ensure_on_list(c, &a, &v.id, now, true)?;
                        let row = AttendanceRow {
                            id: new_id(),
                            activity_id: a.id.clone(),
                            volunteer_id: v.id.clone(),
                            checked_in_at: Some(now),
                            checked_out_at: None,
                            by_hand: false,
                            minutes: 0,
                            state: AttendanceState::Present,
                            decided_by: None,
                            decided_at: None,
                            note: None,
                        };
                        db::put_attendance(c, &row)?;
                        Ok(row)
                    }
                    Some(mut row) if row.state == AttendanceState::Present => {
                        if now > a.ends_at + LATE_MS {
                            return Err(AppError::Invalid(Invalid::CheckinNotOpen));
                        }
                        // The code that checked in cannot check out (a replayed screenshot).
                        if row.checked_in_at.is_some_and(|t| code_window(t) >= window) {
                            return Err(AppError::Invalid(Invalid::CheckinCodeUsed));
                        }
                        row.checked_out_at = Some(now);
                        row.minutes = served_minutes(a.starts_at, a.ends_at, row.checked_in_at.unwrap_or(now), now, rules.coverage);
                        row.state = AttendanceState::Pending;
                        db::put_attendance(c, &row)?;
                        Ok(row)
                    }
                    Some(_) if check_out == Some(false) => Err(AppError::Invalid(Invalid::AlreadyCheckedIn)),
                    Some(_) => Err(AppError::Invalid(Invalid::AlreadyCheckedOut)),
                }
            })
            .await
    }

    /// The organiser records a volunteer's attendance by hand (a phone without location, a
    /// forgotten check-out): times within the activity, or minutes served; never more than
    /// the activity lasts. Waits for confirmation like any other record.
    pub async fn record_attendance(
        &self,
        actor: &Actor,
        activity_id: &str,
        volunteer_id: &str,
        minutes: i64,
        note: Option<&str>,
    ) -> AppResult<AttendanceRow> {
        let key = activity_id.to_string();
        let a = self.store().read(move |c| db::activity(c, &key)).await?.ok_or(AppError::NotFound(Thing::Activity))?;
        if !self.organises(actor, &a) {
            return Err(AppError::NotFound(Thing::Activity));
        }
        if minutes < 0 {
            return Err(AppError::Invalid(Invalid::Minutes));
        }
        if minutes > activity_minutes(a.starts_at, a.ends_at) {
            return Err(AppError::Invalid(Invalid::HoursExceedActivity));
        }
        let now = self.now();
        let note = note.map(|n| n.trim().chars().take(200).collect::<String>()).filter(|n| !n.is_empty());
        let vid = volunteer_id.to_string();
        self.store()
            .write(move |c| {
                db::volunteer(c, &vid)?.ok_or(AppError::NotFound(Thing::Volunteer))?;
                let mut row = match db::attendance_of(c, &a.id, &vid)? {
                    Some(r) if matches!(r.state, AttendanceState::Confirmed | AttendanceState::Rejected) => {
                        return Err(AppError::Invalid(Invalid::AttendanceOpen));
                    }
                    Some(r) => r,
                    None => {
                        ensure_on_list(c, &a, &vid, now, false)?;
                        AttendanceRow {
                            id: new_id(),
                            activity_id: a.id.clone(),
                            volunteer_id: vid.clone(),
                            checked_in_at: None,
                            checked_out_at: None,
                            by_hand: true,
                            minutes: 0,
                            state: AttendanceState::Pending,
                            decided_by: None,
                            decided_at: None,
                            note: None,
                        }
                    }
                };
                row.by_hand = true;
                row.minutes = minutes;
                row.state = AttendanceState::Pending;
                row.note = note;
                db::put_attendance(c, &row)?;
                Ok(row)
            })
            .await
    }

    /// The organiser confirms (or refuses) records waiting: confirmed minutes join the
    /// volunteer's total and may reach a star. `ids` empty: every record waiting.
    pub async fn confirm_attendance(&self, actor: &Actor, activity_id: &str, ids: &[String], accept: bool) -> AppResult<usize> {
        let key = activity_id.to_string();
        let a = self.store().read(move |c| db::activity(c, &key)).await?.ok_or(AppError::NotFound(Thing::Activity))?;
        if !self.organises(actor, &a) {
            return Err(AppError::NotFound(Thing::Activity));
        }
        let rules = self.hours_rules().await?;
        let (now, by, ids) = (self.now(), actor.person_id.clone(), ids.to_vec());
        self.store()
            .write(move |c| {
                let mut n = 0;
                for mut row in db::attendances(c, &a.id)? {
                    if !ids.is_empty() && !ids.contains(&row.id) {
                        continue;
                    }
                    if row.state != AttendanceState::Pending {
                        if !ids.is_empty() {
                            return Err(AppError::Invalid(Invalid::AttendanceOpen));
                        }
                        continue;
                    }
                    row.state = if accept { AttendanceState::Confirmed } else { AttendanceState::Rejected };
                    (row.decided_by, row.decided_at) = (Some(by.clone()), Some(now));
                    db::put_attendance(c, &row)?;
                    if accept && row.minutes > 0 {
                        db::add_minutes(c, &row.volunteer_id, row.minutes, &|m| rules.star_of(m), now)?;
                    }
                    n += 1;
                }
                Ok(n)
            })
            .await
    }

    /// A volunteer asks for a record to be corrected (the minutes they believe right, and
    /// why); one open request per record.
    pub async fn ask_correction(&self, actor: &Actor, attendance_id: &str, minutes: i64, reason: &str) -> AppResult<CorrectionRow> {
        let v = self.own_volunteer(actor).await?;
        let reason = reason.trim().to_string();
        if !(2..=200).contains(&reason.chars().count()) {
            return Err(AppError::Invalid(Invalid::CorrectionReason));
        }
        if minutes < 0 {
            return Err(AppError::Invalid(Invalid::Minutes));
        }
        let (now, key) = (self.now(), attendance_id.to_string());
        self.store()
            .write(move |c| {
                let att = db::attendance(c, &key)?.filter(|a| a.volunteer_id == v.id).ok_or(AppError::NotFound(Thing::Attendance))?;
                let a = db::activity(c, &att.activity_id)?.ok_or(AppError::NotFound(Thing::Activity))?;
                if minutes > activity_minutes(a.starts_at, a.ends_at) {
                    return Err(AppError::Invalid(Invalid::HoursExceedActivity));
                }
                if db::corrections_of(c, std::slice::from_ref(&att.id))?.iter().any(|x| x.decision == CorrectionDecision::Open) {
                    return Err(AppError::Invalid(Invalid::CorrectionOpen));
                }
                let row = CorrectionRow {
                    id: new_id(),
                    attendance_id: att.id.clone(),
                    volunteer_id: v.id.clone(),
                    minutes_asked: minutes,
                    reason,
                    asked_at: now,
                    decision: CorrectionDecision::Open,
                    decided_by: None,
                    decided_at: None,
                    answer: None,
                };
                db::put_correction(c, &row)?;
                Ok(row)
            })
            .await
    }

    /// The organiser decides a correction: accepted, the record takes the minutes asked
    /// (and is confirmed, the total moved by the difference); refused, it stays. Both the
    /// request and the decision are kept.
    pub async fn decide_correction(
        &self,
        actor: &Actor,
        correction_id: &str,
        accept: bool,
        answer: Option<&str>,
    ) -> AppResult<CorrectionRow> {
        let key = correction_id.to_string();
        let (corr, a) = self
            .store()
            .read(move |c| {
                let corr = db::correction(c, &key)?.ok_or(AppError::NotFound(Thing::Correction))?;
                let att = db::attendance(c, &corr.attendance_id)?.ok_or(AppError::NotFound(Thing::Correction))?;
                let a = db::activity(c, &att.activity_id)?.ok_or(AppError::NotFound(Thing::Correction))?;
                Ok::<_, AppError>((corr, a))
            })
            .await?;
        if !self.organises(actor, &a) {
            return Err(AppError::NotFound(Thing::Correction));
        }
        let rules = self.hours_rules().await?;
        let (now, by) = (self.now(), actor.person_id.clone());
        let answer = answer.map(|x| x.trim().chars().take(200).collect::<String>()).filter(|x| !x.is_empty());
        self.store()
            .write(move |c| {
                let mut corr = db::correction(c, &corr.id)?.ok_or(AppError::NotFound(Thing::Correction))?;
                if corr.decision != CorrectionDecision::Open {
                    return Err(AppError::Invalid(Invalid::CorrectionDecided));
                }
                if accept {
                    let mut att = db::attendance(c, &corr.attendance_id)?.ok_or(AppError::NotFound(Thing::Correction))?;
                    let counted = if att.state == AttendanceState::Confirmed { att.minutes } else { 0 };
                    att.minutes = corr.minutes_asked;
                    att.state = AttendanceState::Confirmed;
                    (att.decided_by, att.decided_at) = (Some(by.clone()), Some(now));
                    db::put_attendance(c, &att)?;
                    let delta = att.minutes - counted;
                    if delta != 0 {
                        db::add_minutes(c, &att.volunteer_id, delta, &|m| rules.star_of(m), now)?;
                    }
                }
                corr.decision = if accept { CorrectionDecision::Accepted } else { CorrectionDecision::Refused };
                (corr.decided_by, corr.decided_at, corr.answer) = (Some(by), Some(now), answer);
                db::put_correction(c, &corr)?;
                Ok(corr)
            })
            .await
    }

    /// A volunteer's ledger, for the volunteer or those who keep their team.
    pub async fn ledger(&self, actor: &Actor, volunteer_id: &str) -> AppResult<LedgerView> {
        let volunteer = self.volunteer(actor, volunteer_id).await?;
        let rules = self.hours_rules().await?;
        let vid = volunteer.volunteer.id.clone();
        let (rows, corrections, stars) = self
            .store()
            .read(move |c| {
                let rows = db::ledger(c, &vid)?;
                let ids: Vec<String> = rows.iter().map(|(a, _)| a.id.clone()).collect();
                let corrections = db::corrections_of(c, &ids)?;
                let stars = db::stars_reached(c, &vid)?;
                Ok::<_, AppError>((rows, corrections, stars))
            })
            .await?;
        let dir = self.directory();
        let entries = rows
            .into_iter()
            .map(|(att, a): (AttendanceRow, ActivityRow)| LedgerEntry {
                hours: hours_text(att.minutes),
                corrections: corrections.iter().filter(|x| x.attendance_id == att.id).cloned().collect(),
                activity_title: a.title,
                activity_kind: a.kind,
                place: a.place,
                starts_at: a.starts_at,
                ends_at: a.ends_at,
                team_name: dir.unit(&a.team_id).map(|u| u.name.clone()).unwrap_or_default(),
                attendance: att,
            })
            .collect();
        let minutes = volunteer.volunteer.minutes;
        let next = rules.stars.iter().find(|h| minutes < i64::from(**h) * 60).map(|h| hours_text(i64::from(*h) * 60 - minutes));
        Ok(LedgerView {
            total_hours: hours_text(minutes),
            star: volunteer.volunteer.star,
            stars,
            next_star_hours: next,
            entries,
            volunteer,
        })
    }

    /// The acting volunteer's own ledger.
    pub async fn my_ledger(&self, actor: &Actor) -> AppResult<LedgerView> {
        let v = self.own_volunteer(actor).await?;
        self.ledger(actor, &v.id).await
    }
}

/// Puts a volunteer on an activity's list at check-in (a walk-in) while there is room, or
/// whatever the room when the organiser records someone who was there (`room` false).
fn ensure_on_list(c: &mut dyn crate::store::Conn, a: &ActivityRow, volunteer_id: &str, now: i64, room: bool) -> AppResult<()> {
    match db::signup(c, &a.id, volunteer_id)? {
        Some(s) if s.state == SignupState::Signed => Ok(()),
        other => {
            let was_waiting = other.is_some_and(|s| s.state == SignupState::Waiting);
            // A walk-in takes a free place; someone waiting who turns up takes theirs.
            if room && a.signed >= a.capacity && !was_waiting {
                return Err(AppError::Invalid(Invalid::ActivityCapacity));
            }
            db::put_signup(
                c,
                &SignupRow { activity_id: a.id.clone(), volunteer_id: volunteer_id.to_string(), state: SignupState::Signed, at: now },
            )?;
            db::bump_signed(c, &a.id, 1)?;
            Ok(())
        }
    }
}
