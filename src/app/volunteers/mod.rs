//! 志愿服务 and 党建引领: the volunteer registry (teams, party stations, skills), the hours
//! rules, and — in the submodules — activities with their sign-up lists, check-in by a
//! rotating QR code, the hours ledger with corrections, and certificates anyone can verify.

mod activities;
mod attendance;
mod certificates;
mod generate;

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

pub use activities::{ActivityInput, ActivityView, Outcome, SignupView};
pub use attendance::{CheckinCode, LedgerEntry, LedgerView};
pub use certificates::{CertificateInput, CertificateView};
pub use generate::VolunteerLoad;

use crate::app::App;
use crate::domain::authz::{Actor, Permission, Role};
use crate::domain::inspection::day_key;
use crate::domain::org::OrgKind;
use crate::domain::privacy::{mask_id_number, mask_name, mask_phone};
use crate::domain::volunteer::{HoursRules, Politics, hours_text, id_number_valid};
use crate::error::{AppError, AppResult, FileProblem, Invalid, Thing};
use crate::i18n::{Lang, t};
use crate::store::people::{self, NewPerson};
use crate::store::volunteers::{self as db, MembershipRow, VolunteerRow};
use crate::store::{new_id, schema};

const RULES_KEY: &str = "volunteer_hours_rules";

/// The import sheet's columns and the headings an office writes.
const COLUMNS: [(&str, &[&str]); 7] = [
    ("name", &["姓名", "name"]),
    ("phone", &["手机", "手机号", "电话", "phone"]),
    ("id_number", &["身份证号", "身份证号码", "证件号码", "id_number"]),
    ("team", &["所属队伍", "队伍", "志愿服务队", "team"]),
    ("politics", &["政治面貌", "politics"]),
    ("station", &["党员驿站", "驿站", "station"]),
    ("skills", &["技能", "特长", "skills"]),
];

/// A volunteer as a page or the API shows it: personal data masked.
#[derive(Debug, Clone, Serialize)]
pub struct VolunteerView {
    #[serde(flatten)]
    pub volunteer: VolunteerRow,
    pub hours: String,
    pub station_name: Option<String>,
    pub teams: Vec<TeamMembership>,
    pub party_member: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct TeamMembership {
    pub team_id: String,
    pub team_name: String,
    pub joined_on: i64,
    pub left_on: Option<i64>,
}

/// A volunteer registered at the desk.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct VolunteerInput {
    pub name: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub id_number: Option<String>,
    /// A team by id, code or name.
    pub team: String,
    #[serde(default)]
    pub politics: Option<String>,
    #[serde(default)]
    pub station: Option<String>,
    #[serde(default)]
    pub skills: Vec<String>,
}

fn masked(mut v: VolunteerRow) -> VolunteerRow {
    v.phone = v.phone.as_deref().map(mask_phone);
    v.id_number = v.id_number.as_deref().map(mask_id_number);
    v
}

fn split_skills(raw: &str) -> Vec<String> {
    raw.split(['、', ',', ',', ';', ';', ' ', '/']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// A volunteer's fields, checked.
struct Fields {
    name: String,
    phone: Option<String>,
    id_number: Option<String>,
    politics: Politics,
    station_id: Option<String>,
    skills: Vec<String>,
}

/// One checked row ready to write.
struct NewVolunteer {
    row: VolunteerRow,
    team_id: String,
}

impl App {
    /// The ledger's rules (coverage, star thresholds, check-in tolerance).
    pub async fn hours_rules(&self) -> AppResult<HoursRules> {
        let stored = self.store().read(|c| schema::meta_get(c, RULES_KEY)).await?;
        Ok(stored.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default())
    }

    /// The district sets the ledger's rules (hours already confirmed keep their stars).
    pub async fn set_hours_rules(&self, actor: &Actor, rules: HoursRules) -> AppResult<HoursRules> {
        if !actor.can_somewhere(Permission::ManageVolunteers) || !actor.can_somewhere(Permission::ManageManual) {
            return Err(AppError::Forbidden);
        }
        if !rules.valid() {
            return Err(AppError::Invalid(Invalid::HoursRules));
        }
        let text = serde_json::to_string(&rules).map_err(|e| AppError::Internal(e.to_string()))?;
        self.store().write(move |c| schema::meta_set(c, RULES_KEY, &text)).await?;
        Ok(rules)
    }

    pub(crate) fn volunteer_view(&self, v: VolunteerRow, memberships: Vec<MembershipRow>) -> VolunteerView {
        let dir = self.directory();
        VolunteerView {
            hours: hours_text(v.minutes),
            station_name: v.station_id.as_deref().and_then(|s| dir.unit(s)).map(|u| u.name.clone()),
            party_member: v.politics.is_party_member(),
            teams: memberships
                .into_iter()
                .map(|m| TeamMembership {
                    team_name: dir.unit(&m.team_id).map(|u| u.name.clone()).unwrap_or_default(),
                    team_id: m.team_id,
                    joined_on: m.joined_on,
                    left_on: m.left_on,
                })
                .collect(),
            volunteer: masked(v),
        }
    }

    /// The volunteers of the teams the actor keeps, by name; `q` a name, number or phone
    /// tail, `team` one team.
    pub async fn volunteers(&self, actor: &Actor, q: Option<&str>, team: Option<&str>) -> AppResult<Vec<VolunteerView>> {
        if !actor.can_somewhere(Permission::ManageVolunteers) {
            return Err(AppError::Forbidden);
        }
        let paths: Vec<String> = actor.scopes(Permission::ManageVolunteers).into_iter().map(str::to_string).collect();
        let team = match team.map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => Some(self.team(t)?.id),
            None => None,
        };
        let q = q.map(str::to_string);
        let rows = self
            .store()
            .read(move |c| {
                let rows = db::volunteers(c, &paths, q.as_deref(), team.as_deref(), 1_000)?;
                let mut out = Vec::with_capacity(rows.len());
                for v in rows {
                    let m = db::memberships(c, &v.id)?;
                    out.push((v, m));
                }
                Ok::<_, AppError>(out)
            })
            .await?;
        Ok(rows.into_iter().map(|(v, m)| self.volunteer_view(v, m)).collect())
    }

    /// One volunteer: to those who keep their team, or to the volunteer.
    pub async fn volunteer(&self, actor: &Actor, id: &str) -> AppResult<VolunteerView> {
        let key = id.to_string();
        let (v, m) = self
            .store()
            .read(move |c| {
                let v = db::volunteer(c, &key)?.ok_or(AppError::NotFound(Thing::Volunteer))?;
                let m = db::memberships(c, &v.id)?;
                Ok::<_, AppError>((v, m))
            })
            .await?;
        let own = actor.is_person() && v.person_id.as_deref() == Some(actor.person_id.as_str());
        if !own && !actor.can(Permission::ManageVolunteers, &v.grid_path) {
            return Err(AppError::NotFound(Thing::Volunteer));
        }
        Ok(self.volunteer_view(v, m))
    }

    /// The volunteer record of the person acting.
    pub(crate) async fn own_volunteer(&self, actor: &Actor) -> AppResult<VolunteerRow> {
        if !actor.is_person() || !actor.can_somewhere(Permission::ActAsVolunteer) {
            return Err(AppError::Forbidden);
        }
        let p = actor.person_id.clone();
        self.store().read(move |c| db::volunteer_of_person(c, &p)).await?.ok_or(AppError::Invalid(Invalid::NotAVolunteer))
    }

    /// The actor's own record, if they have one.
    pub async fn my_volunteer(&self, actor: &Actor) -> AppResult<VolunteerView> {
        let v = self.own_volunteer(actor).await?;
        self.volunteer(actor, &v.id).await
    }

    /// A team (or party station) by id, code or name.
    pub(crate) fn team(&self, key: &str) -> AppResult<crate::domain::org::OrgUnit> {
        let dir = self.directory();
        dir.unit(key)
            .or_else(|| dir.unit_named(key))
            .filter(|u| u.kind == OrgKind::Team)
            .cloned()
            .ok_or(AppError::Invalid(Invalid::UnknownTeam))
    }

    /// Registers one volunteer at the desk.
    pub async fn register_volunteer(&self, actor: &Actor, input: VolunteerInput) -> AppResult<VolunteerView> {
        if !actor.can_somewhere(Permission::ManageVolunteers) {
            return Err(AppError::Forbidden);
        }
        let team = self.team(&input.team)?;
        if !actor.can(Permission::ManageVolunteers, &team.path) {
            return Err(AppError::Forbidden);
        }
        let name = input.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 30 {
            return Err(AppError::Invalid(Invalid::VolunteerName));
        }
        let phone = input.phone.map(|p| p.trim().to_string()).filter(|p| !p.is_empty());
        if phone.as_deref().is_some_and(|p| !crate::app::people::check_phone(p)) {
            return Err(AppError::Invalid(Invalid::Phone));
        }
        let id_number = input.id_number.map(|p| p.trim().to_uppercase()).filter(|p| !p.is_empty());
        if id_number.as_deref().is_some_and(|p| !id_number_valid(p)) {
            return Err(AppError::Invalid(Invalid::IdNumber));
        }
        let politics = match input.politics.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            None => Politics::Masses,
            Some(p) => Politics::parse(p).ok_or(AppError::Invalid(Invalid::Politics))?,
        };
        let station = match input.station.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(self.team(s)?.id),
        };
        let row = self.new_volunteer_row(Fields { name, phone, id_number, politics, station_id: station, skills: input.skills }, &team);
        let id = row.id.clone();
        self.write_volunteers(vec![NewVolunteer { row, team_id: team.id.clone() }]).await?;
        self.volunteer(actor, &id).await
    }

    fn new_volunteer_row(&self, f: Fields, team: &crate::domain::org::OrgUnit) -> VolunteerRow {
        VolunteerRow {
            id: new_id(),
            number: String::new(),
            name: f.name,
            phone: f.phone,
            id_number: f.id_number,
            politics: f.politics,
            station_id: f.station_id,
            skills: f.skills,
            person_id: None,
            minutes: 0,
            star: 0,
            grid_path: team.path.clone(),
            active: true,
            created_at: self.now(),
        }
    }

    /// Writes checked volunteers in one job: each gets a volunteer number (年份 + serial),
    /// an account named by that number with the volunteer role at its team (logged in once
    /// an administrator gives it a password), and its team membership from today. An ID number already
    /// registered refuses the whole job.
    async fn write_volunteers(&self, rows: Vec<NewVolunteer>) -> AppResult<usize> {
        let today = day_key(crate::domain::calendar::beijing_date(self.now()));
        let prefix = format!("ZY{}", today / 10_000);
        let count = rows.len();
        self.store()
            .write(move |c| {
                let ids: Vec<String> = rows.iter().filter_map(|r| r.row.id_number.clone()).collect();
                if !db::taken_id_numbers(c, &ids)?.is_empty() {
                    return Err(AppError::Conflict("id_number".into()));
                }
                let mut serial = db::count_numbered(c, &prefix)?;
                let (mut vols, mut members) = (Vec::with_capacity(rows.len()), Vec::with_capacity(rows.len()));
                for NewVolunteer { mut row, team_id } in rows {
                    serial += 1;
                    row.number = format!("{prefix}{serial:06}");
                    // The volunteer number is the account's username.
                    let person = people::insert_person(
                        c,
                        NewPerson { name: &row.name, phone: row.phone.as_deref(), username: Some(&row.number), password_hash: None },
                    )?;
                    people::assign_role(c, &person, Role::Volunteer, &team_id)?;
                    row.person_id = Some(person);
                    members.push(MembershipRow { volunteer_id: row.id.clone(), team_id, joined_on: today, left_on: None });
                    vols.push(row);
                }
                db::insert_volunteers(c, &vols, &members)?;
                Ok(())
            })
            .await?;
        Ok(count)
    }

    /// Imports volunteers from a sheet (姓名, 手机, 身份证号, 所属队伍, 政治面貌, 党员驿站, 技能):
    /// every row is checked and every problem named by its row; all rows are written or none.
    pub async fn import_volunteers(&self, actor: &Actor, bytes: &[u8], lang: Lang) -> AppResult<usize> {
        if !actor.can_somewhere(Permission::ManageVolunteers) {
            return Err(AppError::Forbidden);
        }
        let (table, col) = crate::app::people::open_sheet(bytes, &COLUMNS, &["name", "team"], "import.volunteers", lang)?;
        let (mut rows, mut problems) = (Vec::new(), Vec::new());
        let mut seen_ids: HashMap<String, usize> = HashMap::new();
        for (i, row) in table.iter().enumerate().skip(1) {
            if row.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            let n = i + 1;
            let get = |f: &str| col.get(f).and_then(|&c| row.get(c)).map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
            let mut bad = |key: &str, args: &[(&str, &str)]| problems.push(FileProblem { row: n, message: t(lang, key, args) });
            let name = get("name").unwrap_or_default();
            if name.is_empty() || name.chars().count() > 30 {
                bad("import.volunteers.bad_name", &[]);
            }
            let phone = get("phone");
            if let Some(p) = &phone
                && !crate::app::people::check_phone(p)
            {
                bad("import.volunteers.bad_phone", &[("phone", p)]);
            }
            let id_number = get("id_number").map(|s| s.to_uppercase());
            if let Some(idn) = &id_number {
                if !id_number_valid(idn) {
                    bad("import.volunteers.bad_id_number", &[("id", &mask_id_number(idn))]);
                } else if let Some(first) = seen_ids.insert(idn.clone(), n) {
                    bad("import.volunteers.duplicate_id_number", &[("first", &first.to_string())]);
                }
            }
            let team_name = get("team").unwrap_or_default();
            let team = match self.team(&team_name) {
                Ok(u) if actor.can(Permission::ManageVolunteers, &u.path) => Some(u),
                Ok(_) => {
                    bad("import.volunteers.outside_scope", &[("team", &team_name)]);
                    None
                }
                Err(_) => {
                    bad("import.volunteers.unknown_team", &[("team", &team_name)]);
                    None
                }
            };
            let politics = match get("politics") {
                None => Some(Politics::Masses),
                Some(p) => Politics::parse(&p).or_else(|| {
                    bad("import.volunteers.bad_politics", &[("value", &p)]);
                    None
                }),
            };
            let station = match get("station") {
                None => Some(None),
                Some(s) => match self.team(&s) {
                    Ok(u) => Some(Some(u.id)),
                    Err(_) => {
                        bad("import.volunteers.unknown_station", &[("station", &s)]);
                        None
                    }
                },
            };
            let skills = get("skills").map(|s| split_skills(&s)).unwrap_or_default();
            let (Some(team), Some(politics), Some(station)) = (team, politics, station) else { continue };
            let row = self.new_volunteer_row(Fields { name: name.clone(), phone, id_number, politics, station_id: station, skills }, &team);
            rows.push((n, NewVolunteer { row, team_id: team.id.clone() }));
        }
        // ID numbers registered already.
        let wanted: Vec<String> = rows.iter().filter_map(|(_, v)| v.row.id_number.clone()).collect();
        let taken: HashSet<String> = self.store().read(move |c| db::taken_id_numbers(c, &wanted)).await?.into_iter().collect();
        for (n, v) in &rows {
            if v.row.id_number.as_ref().is_some_and(|i| taken.contains(i)) {
                problems.push(FileProblem {
                    row: *n,
                    message: t(lang, "import.volunteers.id_number_taken", &[("name", &mask_name(&v.row.name))]),
                });
            }
        }
        if !problems.is_empty() {
            problems.sort_by_key(|p| p.row);
            return Err(AppError::InvalidFile(problems));
        }
        self.write_volunteers(rows.into_iter().map(|(_, v)| v).collect()).await
    }

    /// A volunteer joins a team (from today).
    pub async fn join_team(&self, actor: &Actor, volunteer_id: &str, team: &str) -> AppResult<VolunteerView> {
        let team = self.team(team)?;
        if !actor.can(Permission::ManageVolunteers, &team.path) {
            return Err(AppError::Forbidden);
        }
        let v = self.volunteer(actor, volunteer_id).await?;
        let today = day_key(crate::domain::calendar::beijing_date(self.now()));
        if v.teams.iter().any(|m| m.team_id == team.id && m.left_on.is_none()) {
            return Ok(v);
        }
        let (vid, tid) = (v.volunteer.id.clone(), team.id.clone());
        self.store()
            .write(move |c| {
                // Rejoining on the day one left keeps one row per day.
                if db::memberships(c, &vid)?.iter().any(|m| m.team_id == tid && m.joined_on == today) {
                    return Err(AppError::Conflict("membership".into()));
                }
                db::join_team(c, &MembershipRow { volunteer_id: vid.clone(), team_id: tid, joined_on: today, left_on: None })?;
                Ok(())
            })
            .await?;
        self.volunteer(actor, volunteer_id).await
    }

    /// A volunteer leaves a team (today); their history stays.
    pub async fn leave_team(&self, actor: &Actor, volunteer_id: &str, team: &str) -> AppResult<VolunteerView> {
        let team = self.team(team)?;
        if !actor.can(Permission::ManageVolunteers, &team.path) {
            return Err(AppError::Forbidden);
        }
        let v = self.volunteer(actor, volunteer_id).await?;
        let today = day_key(crate::domain::calendar::beijing_date(self.now()));
        let (vid, tid) = (v.volunteer.id.clone(), team.id.clone());
        let left = self.store().write(move |c| Ok::<_, AppError>(db::leave_team(c, &vid, &tid, today)?)).await?;
        if !left {
            return Err(AppError::Invalid(Invalid::VolunteerNotInTeam));
        }
        self.volunteer(actor, volunteer_id).await
    }
}
