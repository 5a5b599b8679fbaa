//! Activities (志愿服务大集, 文明劝导, 文艺演出 …): organised by a team at a place and time,
//! with a capacity and a closing time; volunteers sign up and cancel, a waiting list moves up;
//! afterwards the organiser records the people each service served and the materials handed
//! out.

use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::domain::authz::{Actor, Permission};
use crate::domain::calendar::parse_beijing_time;
use crate::domain::coords::LatLon;
use crate::domain::privacy::mask_name;
use crate::domain::volunteer::{ActivityKind, AttendanceState, SignupState, overlaps};
use crate::error::{AppError, AppResult, Invalid, Thing};
use crate::store::new_id;
use crate::store::volunteers::{self as db, ActivityRow, AttendanceRow, Handed, Served, SignupRow};

const MAX_LENGTH_MS: i64 = 24 * 3_600_000;

/// An activity as an organiser writes it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ActivityInput {
    pub title: String,
    pub kind: String,
    #[serde(default)]
    pub services: Vec<String>,
    /// The organising team by id, code or name.
    pub team: String,
    pub place: String,
    pub lat: f64,
    pub lon: f64,
    /// Beijing time, `2026-12-05 09:00`.
    pub starts: String,
    pub ends: String,
    /// Sign-up closes (default: when it starts).
    #[serde(default)]
    pub closes: Option<String>,
    pub capacity: i64,
    /// Shown on the public calendar.
    #[serde(default)]
    pub public: bool,
    #[serde(default)]
    pub note: Option<String>,
}

/// What an activity achieved, recorded by the organiser afterwards.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Outcome {
    #[serde(default)]
    pub served: Vec<Served>,
    #[serde(default)]
    pub materials: Vec<Handed>,
}

/// One volunteer on the list.
#[derive(Debug, Clone, Serialize)]
pub struct SignupView {
    pub volunteer_id: String,
    pub name: String,
    pub number: String,
    pub state: SignupState,
    pub at: i64,
    pub attendance: Option<AttendanceRow>,
}

/// An activity with its list, as its organiser or a volunteer sees it.
#[derive(Debug, Clone, Serialize)]
pub struct ActivityView {
    #[serde(flatten)]
    pub activity: ActivityRow,
    pub team_name: String,
    pub grid_name: String,
    pub waiting: i64,
    /// The list (for the organiser; empty for others).
    pub signups: Vec<SignupView>,
    /// The acting volunteer's own place on it and attendance, if any.
    pub mine: Option<SignupState>,
    pub my_attendance: Option<AttendanceRow>,
    /// What the actor may do: sign_up, cancel, check_in, organise.
    pub actions: Vec<&'static str>,
    pub beneficiaries: i64,
    /// Corrections waiting for the organiser (for the organiser; empty for others).
    pub corrections: Vec<crate::store::volunteers::CorrectionRow>,
}

impl App {
    /// Whether the actor organises this activity (its team's subtree).
    pub(crate) fn organises(&self, actor: &Actor, a: &ActivityRow) -> bool {
        let dir = self.directory();
        dir.unit(&a.team_id).is_some_and(|t| actor.can(Permission::OrganiseActivities, &t.path))
            || actor.can(Permission::OrganiseActivities, &a.grid_path) && actor.is_person() && actor.person_id == a.organiser_id
    }

    /// Creates an activity for a team the actor organises.
    pub async fn create_activity(&self, actor: &Actor, input: ActivityInput) -> AppResult<ActivityView> {
        if !actor.can_somewhere(Permission::OrganiseActivities) {
            return Err(AppError::Forbidden);
        }
        let team = self.team(&input.team)?;
        if !actor.can(Permission::OrganiseActivities, &team.path) {
            return Err(AppError::Forbidden);
        }
        let row = self.checked_activity(actor, input, &team.id, None)?;
        let r = row.clone();
        self.store().write(move |c| db::insert_activity(c, &r)).await?;
        self.activity(actor, &row.id).await
    }

    pub(crate) fn checked_activity(
        &self,
        actor: &Actor,
        input: ActivityInput,
        team_id: &str,
        earlier: Option<&ActivityRow>,
    ) -> AppResult<ActivityRow> {
        let title = input.title.trim().to_string();
        if title.is_empty() || title.chars().count() > 60 {
            return Err(AppError::Invalid(Invalid::ActivityTitle));
        }
        let kind = ActivityKind::parse(&input.kind).ok_or(AppError::Invalid(Invalid::ActivityKind))?;
        let starts = parse_beijing_time(&input.starts).ok_or(AppError::Invalid(Invalid::ActivityTime))?;
        let ends = parse_beijing_time(&input.ends).ok_or(AppError::Invalid(Invalid::ActivityTime))?;
        let closes = match input.closes.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) => parse_beijing_time(c).ok_or(AppError::Invalid(Invalid::ActivityTime))?,
            None => starts,
        };
        if ends <= starts || ends - starts > MAX_LENGTH_MS || closes > ends {
            return Err(AppError::Invalid(Invalid::ActivityTime));
        }
        if !(1..=10_000).contains(&input.capacity) {
            return Err(AppError::Invalid(Invalid::ActivityCapacity));
        }
        let place = input.place.trim().to_string();
        if place.is_empty() || place.chars().count() > 100 {
            return Err(AppError::Invalid(Invalid::ActivityPlace));
        }
        let dir = self.directory();
        let at = LatLon { lat: input.lat, lon: input.lon };
        let grid = dir.locate(at).ok_or(AppError::Invalid(Invalid::ActivityPlace))?;
        let services: Vec<Served> = input
            .services
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .map(|s| Served { service: s.chars().take(20).collect(), beneficiaries: 0 })
            .collect();
        let note = input.note.map(|n| n.trim().chars().take(500).collect::<String>()).filter(|n| !n.is_empty());
        Ok(ActivityRow {
            id: earlier.map(|e| e.id.clone()).unwrap_or_else(new_id),
            title,
            kind,
            services,
            materials: earlier.map(|e| e.materials.clone()).unwrap_or_default(),
            team_id: team_id.to_string(),
            organiser_id: earlier.map(|e| e.organiser_id.clone()).unwrap_or_else(|| actor.person_id.clone()),
            grid_id: grid.id.clone(),
            grid_path: grid.path.clone(),
            place,
            lat: at.lat,
            lon: at.lon,
            starts_at: starts,
            ends_at: ends,
            closes_at: closes,
            capacity: input.capacity,
            signed: earlier.map(|e| e.signed).unwrap_or(0),
            public: input.public,
            cancelled: false,
            note,
            created_at: earlier.map(|e| e.created_at).unwrap_or_else(|| self.now()),
        })
    }

    async fn activity_row(&self, id: &str) -> AppResult<ActivityRow> {
        let key = id.to_string();
        self.store().read(move |c| db::activity(c, &key)).await?.ok_or(AppError::NotFound(Thing::Activity))
    }

    /// One activity: its organiser sees the list; a volunteer sees their own place.
    pub async fn activity(&self, actor: &Actor, id: &str) -> AppResult<ActivityView> {
        let a = self.activity_row(id).await?;
        let organises = self.organises(actor, &a);
        let me = if actor.is_person() && actor.can_somewhere(Permission::ActAsVolunteer) {
            let p = actor.person_id.clone();
            self.store().read(move |c| db::volunteer_of_person(c, &p)).await?
        } else {
            None
        };
        if !organises && me.is_none() && !a.public && !actor.can(Permission::ManageVolunteers, &a.grid_path) {
            return Err(AppError::NotFound(Thing::Activity));
        }
        let (aid, mid) = (a.id.clone(), me.as_ref().map(|v| v.id.clone()));
        let (list, mine, my_att, people, corrections) = self
            .store()
            .read(move |c| {
                let list = db::signups(c, &aid)?;
                let atts = db::attendances(c, &aid)?;
                let mine = match &mid {
                    Some(m) => db::signup(c, &aid, m)?,
                    None => None,
                };
                let my_att = atts.iter().find(|x| Some(&x.volunteer_id) == mid.as_ref()).cloned();
                let mut people = Vec::new();
                for s in &list {
                    let v = db::volunteer(c, &s.volunteer_id)?;
                    let att = atts.iter().find(|x| x.volunteer_id == s.volunteer_id).cloned();
                    people.push((s.clone(), v, att));
                }
                // Hand-recorded attendance of someone not on the list.
                for x in atts.iter().filter(|x| !list.iter().any(|s| s.volunteer_id == x.volunteer_id)) {
                    let v = db::volunteer(c, &x.volunteer_id)?;
                    let s = SignupRow {
                        activity_id: x.activity_id.clone(),
                        volunteer_id: x.volunteer_id.clone(),
                        state: SignupState::Signed,
                        at: x.checked_in_at.unwrap_or(0),
                    };
                    people.push((s, v, Some(x.clone())));
                }
                let ids: Vec<String> = atts.iter().map(|x| x.id.clone()).collect();
                let corrections: Vec<_> = db::corrections_of(c, &ids)?
                    .into_iter()
                    .filter(|x| x.decision == crate::domain::volunteer::CorrectionDecision::Open)
                    .collect();
                Ok::<_, AppError>((list, mine, my_att, people, corrections))
            })
            .await?;
        let waiting = list.iter().filter(|s| s.state == SignupState::Waiting).count() as i64;
        let now = self.now();
        let mut actions = Vec::new();
        let mine_state = mine.as_ref().map(|s| s.state).filter(|s| *s != SignupState::Cancelled);
        if me.is_some() && !a.cancelled {
            if mine_state.is_none() && now < a.closes_at {
                actions.push("sign_up");
            }
            if mine_state.is_some() && now < a.starts_at {
                actions.push("cancel");
            }
            if my_att.as_ref().is_none_or(|x| x.state == AttendanceState::Present) && now <= a.ends_at + 2 * 3_600_000 {
                actions.push("check_in");
            }
        }
        if organises {
            actions.push("organise");
        }
        let signups = if organises {
            people
                .into_iter()
                .map(|(s, v, att)| SignupView {
                    name: v.as_ref().map(|v| mask_name(&v.name)).unwrap_or_default(),
                    number: v.map(|v| v.number).unwrap_or_default(),
                    volunteer_id: s.volunteer_id,
                    state: s.state,
                    at: s.at,
                    attendance: att,
                })
                .collect()
        } else {
            Vec::new()
        };
        let dir = self.directory();
        Ok(ActivityView {
            team_name: dir.unit(&a.team_id).map(|u| u.name.clone()).unwrap_or_default(),
            grid_name: dir.unit(&a.grid_id).map(|u| u.name.clone()).unwrap_or_default(),
            beneficiaries: a.services.iter().map(|s| s.beneficiaries).sum(),
            corrections: if organises { corrections } else { Vec::new() },
            activity: a,
            waiting,
            signups,
            mine: mine_state,
            my_attendance: my_att,
            actions,
        })
    }

    /// Activities starting in `[from, to)`: those the actor organises or keeps; a
    /// volunteer's own teams' and the public ones; anyone else the public ones.
    pub async fn activities(&self, actor: &Actor, from: i64, to: i64) -> AppResult<Vec<ActivityView>> {
        // Activities in the grids the actor keeps, and those of the teams under the actor's
        // roles (a volunteer's own teams, an organiser's).
        let paths: Vec<String> = actor.scopes(Permission::ManageVolunteers).into_iter().map(str::to_string).collect();
        let mut scopes: Vec<&str> = actor.scopes(Permission::OrganiseActivities);
        scopes.extend(actor.scopes(Permission::ActAsVolunteer));
        let teams: Vec<String> = {
            let dir = self.directory();
            dir.units()
                .filter(|u| u.kind == crate::domain::org::OrgKind::Team && scopes.iter().any(|s| u.path.starts_with(s)))
                .map(|u| u.id.clone())
                .collect()
        };
        let rows = self
            .store()
            .read(move |c| {
                let mut rows = if paths.is_empty() && teams.is_empty() {
                    Vec::new()
                } else {
                    db::activities(c, Some((&paths, &teams)), from, to, false, 500)?
                };
                for p in db::activities(c, None, from, to, true, 500)? {
                    if !rows.iter().any(|r: &ActivityRow| r.id == p.id) {
                        rows.push(p);
                    }
                }
                rows.sort_by_key(|r| r.starts_at);
                Ok::<_, AppError>(rows)
            })
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(self.activity(actor, &r.id).await?);
        }
        Ok(out)
    }

    /// The public calendar: service fairs and other public activities, no names.
    pub async fn public_activities(&self, from: i64, to: i64) -> AppResult<Vec<ActivityView>> {
        let rows = self.store().read(move |c| db::activities(c, None, from, to, true, 500)).await?;
        let dir = self.directory();
        Ok(rows
            .into_iter()
            .map(|a| ActivityView {
                team_name: dir.unit(&a.team_id).map(|u| u.name.clone()).unwrap_or_default(),
                grid_name: dir.unit(&a.grid_id).map(|u| u.name.clone()).unwrap_or_default(),
                beneficiaries: a.services.iter().map(|s| s.beneficiaries).sum(),
                waiting: 0,
                signups: Vec::new(),
                mine: None,
                my_attendance: None,
                actions: Vec::new(),
                corrections: Vec::new(),
                activity: a,
            })
            .collect())
    }

    /// A volunteer signs up: on the list while there is room and sign-up is open, else on
    /// the waiting list; never for two activities at the same time.
    pub async fn sign_up(&self, actor: &Actor, activity_id: &str) -> AppResult<ActivityView> {
        let v = self.own_volunteer(actor).await?;
        let now = self.now();
        let aid = activity_id.to_string();
        self.store()
            .write(move |c| {
                let a = db::activity(c, &aid)?.ok_or(AppError::NotFound(Thing::Activity))?;
                if a.cancelled {
                    return Err(AppError::Invalid(Invalid::ActivityCancelled));
                }
                if now >= a.closes_at {
                    return Err(AppError::Invalid(Invalid::SignupClosed));
                }
                if let Some(s) = db::signup(c, &a.id, &v.id)?
                    && s.state != SignupState::Cancelled
                {
                    return Ok(());
                }
                for (s, other) in db::signed_activities(c, &v.id)? {
                    if s.state == SignupState::Signed
                        && !other.cancelled
                        && other.id != a.id
                        && overlaps((a.starts_at, a.ends_at), (other.starts_at, other.ends_at))
                    {
                        return Err(AppError::Invalid(Invalid::ActivityOverlap));
                    }
                }
                let state = if a.signed < a.capacity { SignupState::Signed } else { SignupState::Waiting };
                db::put_signup(c, &SignupRow { activity_id: a.id.clone(), volunteer_id: v.id.clone(), state, at: now })?;
                if state == SignupState::Signed {
                    db::bump_signed(c, &a.id, 1)?;
                }
                Ok(())
            })
            .await?;
        self.activity(actor, activity_id).await
    }

    /// A volunteer cancels before the start; the first on the waiting list moves up.
    pub async fn cancel_signup(&self, actor: &Actor, activity_id: &str) -> AppResult<ActivityView> {
        let v = self.own_volunteer(actor).await?;
        let now = self.now();
        let aid = activity_id.to_string();
        self.store()
            .write(move |c| {
                let a = db::activity(c, &aid)?.ok_or(AppError::NotFound(Thing::Activity))?;
                let Some(s) = db::signup(c, &a.id, &v.id)?.filter(|s| s.state != SignupState::Cancelled) else {
                    return Err(AppError::NotFound(Thing::Activity));
                };
                if now >= a.starts_at {
                    return Err(AppError::Invalid(Invalid::SignupClosed));
                }
                db::put_signup(c, &SignupRow { state: SignupState::Cancelled, at: now, ..s.clone() })?;
                if s.state == SignupState::Signed {
                    db::bump_signed(c, &a.id, -1)?;
                    promote_waiting(c, &a.id)?;
                }
                Ok(())
            })
            .await?;
        self.activity(actor, activity_id).await
    }

    /// The organiser changes an activity (time, place, capacity …); more room moves the
    /// waiting list up.
    pub async fn update_activity(&self, actor: &Actor, id: &str, input: ActivityInput) -> AppResult<ActivityView> {
        let a = self.activity_row(id).await?;
        if !self.organises(actor, &a) {
            return Err(AppError::NotFound(Thing::Activity));
        }
        let team = self.team(&input.team)?;
        if !actor.can(Permission::OrganiseActivities, &team.path) {
            return Err(AppError::Forbidden);
        }
        let row = self.checked_activity(actor, input, &team.id, Some(&a))?;
        self.store()
            .write(move |c| {
                db::update_activity(c, &row)?;
                let mut a = db::activity(c, &row.id)?.ok_or(AppError::NotFound(Thing::Activity))?;
                while a.signed < a.capacity && promote_waiting(c, &a.id)? {
                    a.signed += 1;
                }
                Ok::<_, AppError>(())
            })
            .await?;
        self.activity(actor, id).await
    }

    /// The organiser cancels an activity (its list stays, for the record).
    pub async fn cancel_activity(&self, actor: &Actor, id: &str) -> AppResult<ActivityView> {
        let mut a = self.activity_row(id).await?;
        if !self.organises(actor, &a) {
            return Err(AppError::NotFound(Thing::Activity));
        }
        a.cancelled = true;
        self.store().write(move |c| db::update_activity(c, &a)).await?;
        self.activity(actor, id).await
    }

    /// The organiser records what the activity achieved: people served per service and
    /// materials handed out.
    pub async fn record_outcome(&self, actor: &Actor, id: &str, outcome: Outcome) -> AppResult<ActivityView> {
        let mut a = self.activity_row(id).await?;
        if !self.organises(actor, &a) {
            return Err(AppError::NotFound(Thing::Activity));
        }
        if outcome.served.iter().any(|s| s.beneficiaries < 0 || s.beneficiaries > 1_000_000)
            || outcome.materials.iter().any(|m| m.count < 0 || m.count > 10_000_000 || m.material.trim().is_empty())
        {
            return Err(AppError::Invalid(Invalid::Outcome));
        }
        for s in outcome.served {
            let name = s.service.trim().to_string();
            match a.services.iter_mut().find(|x| x.service == name) {
                Some(x) => x.beneficiaries = s.beneficiaries,
                None if !name.is_empty() => a.services.push(Served { service: name, beneficiaries: s.beneficiaries }),
                None => {}
            }
        }
        a.materials = outcome
            .materials
            .into_iter()
            .map(|m| Handed { material: m.material.trim().chars().take(30).collect(), count: m.count })
            .collect();
        self.store().write(move |c| db::update_activity(c, &a)).await?;
        self.activity(actor, id).await
    }
}

/// Moves the first on the waiting list onto the list; false when nobody waits.
fn promote_waiting(c: &mut dyn crate::store::Conn, activity_id: &str) -> AppResult<bool> {
    let Some(w) = db::first_waiting(c, activity_id)? else { return Ok(false) };
    db::put_signup(c, &SignupRow { state: SignupState::Signed, ..w })?;
    db::bump_signed(c, activity_id, 1)?;
    Ok(true)
}
