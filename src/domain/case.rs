//! The case closed loop (问题闭环): states, actions, who may act, and the projection of a
//! case's event log onto its row. Pure: the app supplies times, deadlines and the actor.
//!
//! ```text
//! reported ─register→ registered ─dispatch→ dispatched ─accept→ in_progress ─handle→ handled ─verify ok→ closed
//!    └reject→ rejected        │              │  ↑ return→registered                   └verify fail→ dispatched (rework)
//!                             └merge→ merged  └escalate→ dispatched (one tier up)
//! self-handle: reported straight into handled, still verified by someone else
//! suspend/resume, extension request/approve/deny, reopen (closed → registered)
//! ```

use serde::{Deserialize, Serialize};

use super::authz::{Actor, Permission};

crate::string_enum! {
    pub enum Status {
        Reported = "reported",
        Registered = "registered",
        Dispatched = "dispatched",
        InProgress = "in_progress",
        Handled = "handled",
        Closed = "closed",
        Rejected = "rejected",
        Suspended = "suspended",
        Merged = "merged",
    }
}

crate::string_enum! {
    pub enum Action {
        Register = "register",
        Reject = "reject",
        Dispatch = "dispatch",
        Accept = "accept",
        Return = "return",
        Handle = "handle",
        VerifyPass = "verify_pass",
        VerifyFail = "verify_fail",
        Reopen = "reopen",
        RequestExtension = "request_extension",
        ApproveExtension = "approve_extension",
        DenyExtension = "deny_extension",
        Suspend = "suspend",
        Resume = "resume",
        Merge = "merge",
        Escalate = "escalate",
        Warn = "warn",
        Comment = "comment",
    }
}

crate::string_enum! {
    pub enum Source {
        Patrol = "patrol",
        Citizen = "citizen",
        Inspection = "inspection",
        Persuasion = "persuasion",
        Hotline = "hotline",
        Leader = "leader",
    }
}

crate::string_enum! {
    pub enum Warning {
        None = "none",
        Yellow = "yellow",
        Red = "red",
    }
}

impl Status {
    /// Still someone's work to do.
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Closed | Status::Rejected | Status::Merged)
    }
}

impl Action {
    /// Actions that must say why.
    pub fn needs_note(self) -> bool {
        matches!(
            self,
            Action::Reject
                | Action::Return
                | Action::Handle
                | Action::VerifyFail
                | Action::Suspend
                | Action::Reopen
                | Action::RequestExtension
        )
    }

    /// Actions only the system takes (the deadline scanner).
    pub fn is_system(self) -> bool {
        matches!(self, Action::Escalate | Action::Warn)
    }

    /// Steps citizens see (Open311 updates); the rest is internal work.
    pub fn is_public(self) -> bool {
        !matches!(self, Action::Warn | Action::RequestExtension | Action::ApproveExtension | Action::DenyExtension)
    }
}

/// Everything an event changes, carried in the event so that replaying the log needs no
/// calendar, category or clock: deadlines are computed once, when the event happens.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_unit_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_deadline: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handling_deadline: Option<i64>,
    /// Extension asked for, in working minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<Warning>,
    /// For `report`: the reporter already fixed it (自行处置).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub self_handled: bool,
    /// Photos taken with this step: before (report) or after (handle).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub photos: Vec<String>,
    /// Answers to the category's extra questions (Open311 attributes).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub attributes: std::collections::BTreeMap<String, Vec<String>>,
    /// The integration (API key name) a citizen's report or follow-up came through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// A citizen's follow-up asks for the case to be reopened.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reopen_requested: bool,
}

/// One entry of the append-only log. `action` is `None` for the report that opens the case.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub action: Option<Action>,
    pub at: i64,
    pub actor_id: Option<String>,
    pub data: EventData,
}

/// The projection of the log: what the case row holds besides its fixed report details.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseState {
    pub status: Status,
    pub tier: u8,
    pub assignee_unit_id: Option<String>,
    pub reported_at: i64,
    pub reported_by: Option<String>,
    pub dispatched_at: Option<i64>,
    pub response_deadline: Option<i64>,
    pub handling_deadline: Option<i64>,
    pub accepted_at: Option<i64>,
    pub handled_at: Option<i64>,
    pub handled_by: Option<String>,
    pub closed_at: Option<i64>,
    pub rework_count: i64,
    pub extension_count: i64,
    pub extension_pending: Option<i64>,
    pub escalation_count: i64,
    pub suspended_from: Option<Status>,
    pub suspended_at: Option<i64>,
    pub merged_into: Option<String>,
    pub warning: Warning,
    /// Events applied; a write must name the version it saw (stale writes are refused).
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CaseError {
    #[error("{action:?} is not allowed while the case is {status:?}")]
    NotAllowed { status: Status, action: Action },
    #[error("the first event of a case must be its report")]
    NotOpened,
    #[error("a case is reported only once")]
    AlreadyOpened,
    #[error("{0:?} needs {1}")]
    Missing(Action, &'static str),
}

/// Which actions the case's state allows (before asking who is acting).
pub fn allowed_actions(s: &CaseState) -> Vec<Action> {
    use Action::*;
    let mut out: Vec<Action> = match s.status {
        Status::Reported => vec![Register, Reject, Merge],
        Status::Registered => vec![Dispatch, Reject, Merge, Suspend],
        Status::Dispatched => vec![Accept, Return, Dispatch, Suspend, Escalate, Warn, RequestExtension],
        Status::InProgress => vec![Handle, Suspend, Escalate, Warn, RequestExtension],
        Status::Handled => vec![VerifyPass, VerifyFail],
        Status::Closed => vec![Reopen],
        Status::Suspended => vec![Resume],
        Status::Rejected | Status::Merged => vec![],
    };
    // A follow-up note (a citizen's, through Open311) fits any state and changes none.
    out.push(Comment);
    if matches!(s.status, Status::Dispatched | Status::InProgress) && s.extension_pending.is_some() {
        out.retain(|a| *a != RequestExtension);
        out.extend([ApproveExtension, DenyExtension]);
    }
    out
}

/// Folds one event into the state. `None` before the report.
pub fn apply(state: Option<&CaseState>, e: &Event) -> Result<CaseState, CaseError> {
    let Some(action) = e.action else {
        if state.is_some() {
            return Err(CaseError::AlreadyOpened);
        }
        let self_handled = e.data.self_handled;
        return Ok(CaseState {
            status: if self_handled { Status::Handled } else { Status::Reported },
            tier: e.data.tier.unwrap_or(1),
            assignee_unit_id: e.data.assignee_unit_id.clone(),
            reported_at: e.at,
            reported_by: e.actor_id.clone(),
            dispatched_at: None,
            response_deadline: None,
            handling_deadline: None,
            accepted_at: None,
            handled_at: self_handled.then_some(e.at),
            handled_by: if self_handled { e.actor_id.clone() } else { None },
            closed_at: None,
            rework_count: 0,
            extension_count: 0,
            extension_pending: None,
            escalation_count: 0,
            suspended_from: None,
            suspended_at: None,
            merged_into: None,
            warning: Warning::None,
            version: 1,
        });
    };
    let old = state.ok_or(CaseError::NotOpened)?;
    if !allowed_actions(old).contains(&action) {
        return Err(CaseError::NotAllowed { status: old.status, action });
    }
    let mut s = old.clone();
    s.version += 1;
    let d = &e.data;
    match action {
        Action::Register => s.status = Status::Registered,
        Action::Reject => s.status = Status::Rejected,
        Action::Merge => {
            s.merged_into = Some(d.merged_into.clone().ok_or(CaseError::Missing(action, "the original case"))?);
            s.status = Status::Merged;
        }
        Action::Dispatch | Action::Escalate => {
            s.assignee_unit_id = Some(d.assignee_unit_id.clone().ok_or(CaseError::Missing(action, "a unit"))?);
            s.tier = d.tier.ok_or(CaseError::Missing(action, "a tier"))?;
            s.response_deadline = d.response_deadline;
            s.handling_deadline = d.handling_deadline;
            s.dispatched_at = Some(e.at);
            s.accepted_at = None;
            s.extension_pending = None;
            s.warning = Warning::None;
            if action == Action::Escalate {
                s.escalation_count += 1;
            }
            s.status = Status::Dispatched;
        }
        Action::Accept => {
            s.accepted_at = Some(e.at);
            s.status = Status::InProgress;
        }
        Action::Return => {
            s.assignee_unit_id = None;
            s.response_deadline = None;
            s.handling_deadline = None;
            s.extension_pending = None;
            s.warning = Warning::None;
            s.status = Status::Registered;
        }
        Action::Handle => {
            s.handled_at = Some(e.at);
            s.handled_by = e.actor_id.clone();
            s.status = Status::Handled;
        }
        Action::VerifyPass => {
            s.closed_at = Some(e.at);
            s.status = Status::Closed;
        }
        Action::VerifyFail => {
            // Rework: back to the unit that handled it, with fresh deadlines.
            s.rework_count += 1;
            s.handled_at = None;
            s.handled_by = None;
            s.accepted_at = None;
            if let Some(u) = &d.assignee_unit_id {
                s.assignee_unit_id = Some(u.clone());
            }
            s.response_deadline = d.response_deadline;
            s.handling_deadline = d.handling_deadline;
            s.dispatched_at = Some(e.at);
            s.warning = Warning::None;
            s.status = Status::Dispatched;
        }
        Action::Reopen => {
            s.closed_at = None;
            s.handled_at = None;
            s.handled_by = None;
            s.assignee_unit_id = None;
            s.response_deadline = None;
            s.handling_deadline = None;
            s.status = Status::Registered;
        }
        Action::RequestExtension => {
            s.extension_pending = Some(d.minutes.ok_or(CaseError::Missing(action, "minutes"))?);
        }
        Action::ApproveExtension => {
            s.extension_pending = None;
            s.extension_count += 1;
            s.handling_deadline = d.handling_deadline.or(s.handling_deadline);
            s.warning = Warning::None;
        }
        Action::DenyExtension => s.extension_pending = None,
        Action::Suspend => {
            s.suspended_from = Some(s.status);
            s.suspended_at = Some(e.at);
            s.status = Status::Suspended;
        }
        Action::Resume => {
            s.status = s.suspended_from.take().unwrap_or(Status::Registered);
            s.suspended_at = None;
            // The clock stood still while suspended: the app sends the shifted deadlines.
            s.response_deadline = d.response_deadline.or(s.response_deadline);
            s.handling_deadline = d.handling_deadline.or(s.handling_deadline);
        }
        Action::Warn => s.warning = d.warning.unwrap_or(Warning::Yellow),
        Action::Comment => {}
    }
    Ok(s)
}

/// Replays a whole log.
pub fn replay(events: &[Event]) -> Result<Option<CaseState>, CaseError> {
    let mut state: Option<CaseState> = None;
    for e in events {
        state = Some(apply(state.as_ref(), e)?);
    }
    Ok(state)
}

/// Where the case sits in the org, for deciding who may act on it.
#[derive(Debug, Clone)]
pub struct CaseScope<'a> {
    /// Path of the grid the case is in.
    pub grid_path: &'a str,
    /// Path of the unit now responsible, if any.
    pub assignee_path: Option<&'a str>,
    pub handled_by: Option<&'a str>,
}

/// Who may take `action` on a case: decided here and nowhere else, from the permissions of
/// [`Permission`] (never from role names). The system (deadline scanner) takes only its
/// own steps.
pub fn may_act(actor: &Actor, action: Action, scope: &CaseScope<'_>) -> bool {
    if action.is_system() {
        return actor.is_system();
    }
    if actor.is_system() {
        return action == Action::Comment;
    }
    match duty_of(action) {
        Some(Duty::Dispatch) => actor.can(Permission::DispatchCases, scope.grid_path),
        Some(Duty::Handle) => scope.assignee_path.is_some_and(|p| actor.can(Permission::HandleCases, p)),
        // An independent check: never by the person who did the work.
        Some(Duty::Verify) => scope.handled_by != Some(actor.person_id.as_str()) && actor.can(Permission::VerifyCases, scope.grid_path),
        // Anyone who can see the case may add a note (reading was checked before).
        None => true,
    }
}

/// The three kinds of work on a case, each with its permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duty {
    Dispatch,
    Handle,
    Verify,
}

/// Which duty an action belongs to (`None` for a comment and the system's own steps).
pub fn duty_of(action: Action) -> Option<Duty> {
    match action {
        Action::Register
        | Action::Reject
        | Action::Dispatch
        | Action::Merge
        | Action::Suspend
        | Action::Resume
        | Action::ApproveExtension
        | Action::DenyExtension
        | Action::Reopen => Some(Duty::Dispatch),
        Action::Accept | Action::Return | Action::Handle | Action::RequestExtension => Some(Duty::Handle),
        Action::VerifyPass | Action::VerifyFail => Some(Duty::Verify),
        Action::Escalate | Action::Warn | Action::Comment => None,
    }
}

/// Whose move it is on a case in this state: the duty that must act next, if any. A case
/// with an extension request waits for the dispatcher even while it is being handled.
pub fn waiting_for(s: &CaseState) -> Option<Duty> {
    match s.status {
        Status::Reported | Status::Registered | Status::Suspended => Some(Duty::Dispatch),
        Status::Dispatched | Status::InProgress if s.extension_pending.is_some() => Some(Duty::Dispatch),
        Status::Dispatched | Status::InProgress => Some(Duty::Handle),
        Status::Handled => Some(Duty::Verify),
        Status::Closed | Status::Rejected | Status::Merged => None,
    }
}

/// One slice of a person's to-do: cases in one status, either anywhere in some subtrees or
/// assigned to some units, optionally only those with an extension request.
#[derive(Debug, Clone, PartialEq)]
pub struct Queue {
    pub status: Status,
    pub within: Vec<String>,
    pub assigned_to: Vec<String>,
    pub extension_pending: bool,
}

/// What waits for this actor, as queues the store reads in deadline order; the same
/// permissions as [`may_act`], so the to-do never lists what the person may not do.
pub fn work_queues(actor: &Actor) -> Vec<Queue> {
    let owned = |v: Vec<&str>| v.into_iter().map(str::to_string).collect::<Vec<_>>();
    let dispatch = owned(actor.scopes(Permission::DispatchCases));
    let handle = owned(actor.units_with(Permission::HandleCases));
    let verify = owned(actor.scopes(Permission::VerifyCases));
    let mut out = Vec::new();
    let queue = |status, within: &Vec<String>, assigned_to: &Vec<String>, extension_pending| Queue {
        status,
        within: within.clone(),
        assigned_to: assigned_to.clone(),
        extension_pending,
    };
    if !dispatch.is_empty() {
        for status in [Status::Reported, Status::Registered, Status::Suspended] {
            out.push(queue(status, &dispatch, &Vec::new(), false));
        }
        for status in [Status::Dispatched, Status::InProgress] {
            out.push(queue(status, &dispatch, &Vec::new(), true));
        }
    }
    if !handle.is_empty() {
        for status in [Status::Dispatched, Status::InProgress] {
            out.push(queue(status, &Vec::new(), &handle, false));
        }
    }
    if !verify.is_empty() {
        out.push(queue(Status::Handled, &verify, &Vec::new(), false));
    }
    out
}

/// Tier of a unit kind (分级响应): 1 grid, 2 community, 3 subdistrict, 4 department.
pub fn tier_of(kind: super::org::OrgKind) -> Option<u8> {
    use super::org::OrgKind::*;
    match kind {
        Grid => Some(1),
        Community => Some(2),
        Subdistrict => Some(3),
        Department => Some(4),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::authz::{Grant, Role};
    use proptest::prelude::*;

    fn report(at: i64) -> Event {
        Event { action: None, at, actor_id: Some("reporter".into()), data: EventData { tier: Some(1), ..Default::default() } }
    }

    fn ev(action: Action, at: i64, data: EventData) -> Event {
        Event { action: Some(action), at, actor_id: Some("someone".into()), data }
    }

    fn dispatch_data() -> EventData {
        EventData {
            assignee_unit_id: Some("unit".into()),
            tier: Some(4),
            response_deadline: Some(100),
            handling_deadline: Some(1000),
            ..Default::default()
        }
    }

    #[test]
    fn the_whole_loop_with_one_rework() {
        let log = vec![
            report(1),
            ev(Action::Register, 2, EventData::default()),
            ev(Action::Dispatch, 3, dispatch_data()),
            ev(Action::Accept, 4, EventData::default()),
            ev(Action::Handle, 5, EventData::default()),
            ev(Action::VerifyFail, 6, EventData { response_deadline: Some(200), handling_deadline: Some(2000), ..Default::default() }),
            ev(Action::Accept, 7, EventData::default()),
            ev(Action::Handle, 8, EventData::default()),
            ev(Action::VerifyPass, 9, EventData::default()),
        ];
        let s = replay(&log).unwrap().unwrap();
        assert_eq!(s.status, Status::Closed);
        assert_eq!(s.rework_count, 1);
        assert_eq!(s.handling_deadline, Some(2000));
        assert_eq!(s.closed_at, Some(9));
        assert_eq!(s.version, 9);
        assert_eq!(allowed_actions(&s), vec![Action::Reopen, Action::Comment]);
    }

    #[test]
    fn refused_actions_name_the_state() {
        let s = replay(&[report(1)]).unwrap().unwrap();
        assert_eq!(
            apply(Some(&s), &ev(Action::Handle, 2, EventData::default())),
            Err(CaseError::NotAllowed { status: Status::Reported, action: Action::Handle })
        );
    }

    #[test]
    fn suspend_and_resume_return_to_where_it_was() {
        let mut log = vec![report(1), ev(Action::Register, 2, EventData::default()), ev(Action::Dispatch, 3, dispatch_data())];
        log.push(ev(Action::Suspend, 4, EventData::default()));
        log.push(ev(Action::Resume, 10, EventData { handling_deadline: Some(1006), ..Default::default() }));
        let s = replay(&log).unwrap().unwrap();
        assert_eq!(s.status, Status::Dispatched);
        assert_eq!(s.handling_deadline, Some(1006));
    }

    #[test]
    fn self_handled_reports_wait_for_verification() {
        let mut e = report(1);
        e.data.self_handled = true;
        let s = replay(&[e]).unwrap().unwrap();
        assert_eq!(s.status, Status::Handled);
        assert_eq!(s.handled_by.as_deref(), Some("reporter"));
    }

    fn actor(id: &str, role: Role, path: &str) -> Actor {
        Actor::person(id, id, vec![Grant { role, org_unit_id: "u".into(), org_path: path.into() }])
    }

    #[test]
    fn who_may_act() {
        let scope = CaseScope { grid_path: "/d/s/c/g/", assignee_path: Some("/d/s/dept/"), handled_by: Some("h") };
        let dispatcher = actor("x", Role::Dispatcher, "/d/s/");
        let handler = actor("h", Role::DepartmentHandler, "/d/s/dept/");
        let other_dept = actor("o", Role::DepartmentHandler, "/d/s/dept2/");
        let worker = actor("w", Role::GridWorker, "/d/s/c/g/");
        assert!(may_act(&dispatcher, Action::Dispatch, &scope));
        assert!(!may_act(&handler, Action::Dispatch, &scope));
        assert!(may_act(&handler, Action::Handle, &scope));
        assert!(!may_act(&other_dept, Action::Handle, &scope));
        assert!(may_act(&worker, Action::VerifyPass, &scope));
        assert!(!may_act(&handler, Action::VerifyPass, &scope), "no verifying one's own work");
        assert!(may_act(&Actor::system(), Action::Escalate, &scope));
        assert!(!may_act(&Actor::system(), Action::Dispatch, &scope));
        assert!(!may_act(&dispatcher, Action::Escalate, &scope));
    }

    #[test]
    fn to_do_queues_follow_the_permissions() {
        let worker = actor("w", Role::GridWorker, "/d/s/c/g/");
        let queues = work_queues(&worker);
        // A grid worker handles what is assigned to the grid and verifies in it; never dispatches.
        assert!(queues.iter().all(|q| q.status != Status::Reported));
        assert!(queues.iter().any(|q| q.status == Status::Dispatched && q.assigned_to == vec!["u".to_string()]));
        assert!(queues.iter().any(|q| q.status == Status::Handled && q.within == vec!["/d/s/c/g/".to_string()]));
        let dispatcher = actor("x", Role::Dispatcher, "/d/s/");
        let queues = work_queues(&dispatcher);
        assert!(queues.iter().any(|q| q.status == Status::Reported));
        assert!(queues.iter().any(|q| q.status == Status::InProgress && q.extension_pending));
        assert!(work_queues(&actor("v", Role::Volunteer, "/d/s/t/")).is_empty());
    }

    #[test]
    fn every_state_waits_for_the_duty_whose_actions_it_allows() {
        let mut log = vec![report(1)];
        let check = |log: &Vec<Event>| {
            let s = replay(log).unwrap().unwrap();
            if let Some(duty) = waiting_for(&s) {
                assert!(allowed_actions(&s).iter().any(|a| duty_of(*a) == Some(duty)), "{:?} waits for {duty:?}", s.status);
            }
        };
        check(&log);
        log.push(ev(Action::Register, 2, EventData::default()));
        check(&log);
        log.push(ev(Action::Dispatch, 3, dispatch_data()));
        check(&log);
        log.push(ev(Action::RequestExtension, 4, EventData { minutes: Some(30), ..Default::default() }));
        check(&log);
    }

    fn data_for(action: Action) -> EventData {
        match action {
            Action::Dispatch | Action::Escalate | Action::VerifyFail => dispatch_data(),
            Action::Merge => EventData { merged_into: Some("other".into()), ..Default::default() },
            Action::RequestExtension => EventData { minutes: Some(60), ..Default::default() },
            _ => EventData::default(),
        }
    }

    proptest! {
        /// Random sequences of actions: an action the state does not allow is refused and
        /// changes nothing; an allowed one lands in a state the machine knows; and replaying
        /// the accepted events from the start always gives the same state.
        #[test]
        fn random_walks_stay_inside_the_machine(picks in proptest::collection::vec(0usize..Action::ALL.len(), 0..60)) {
            let mut log = vec![report(0)];
            let mut state = replay(&log).unwrap().unwrap();
            for (i, p) in picks.into_iter().enumerate() {
                let action = Action::ALL[p];
                let e = ev(action, i as i64 + 1, data_for(action));
                let allowed = allowed_actions(&state).contains(&action);
                match apply(Some(&state), &e) {
                    Ok(next) => {
                        prop_assert!(allowed);
                        prop_assert_eq!(next.version, state.version + 1);
                        if matches!(next.status, Status::Dispatched | Status::InProgress) {
                            prop_assert!(next.assignee_unit_id.is_some());
                        }
                        if let Some(duty) = waiting_for(&next) {
                            prop_assert!(allowed_actions(&next).iter().any(|a| duty_of(*a) == Some(duty)));
                        }
                        if next.status == Status::Closed {
                            prop_assert!(next.closed_at.is_some() && next.handled_at.is_some());
                        }
                        log.push(e);
                        state = next;
                    }
                    Err(_) => prop_assert!(!allowed),
                }
            }
            prop_assert_eq!(replay(&log).unwrap().unwrap(), state);
        }
    }
}
