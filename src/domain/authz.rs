//! Authorization, decided in one place: a person holds roles, each scoped to an org unit,
//! and a role grants permissions over that unit's subtree.

use serde::Serialize;

use super::org::in_subtree;

crate::string_enum! {
    /// What a person does, over the subtree of the unit the role is held at. Codes are
    /// stored; the Chinese names are what an office's spreadsheet says.
    pub enum Role {
        SystemAdmin = "system_admin" | "系统管理员" | "管理员",
        Leader = "leader" | "领导",
        Dispatcher = "dispatcher" | "调度员" | "派遣员" | "指挥中心",
        CommunityAdmin = "community_admin" | "社区管理员",
        GridWorker = "grid_worker" | "网格员",
        DepartmentHandler = "department_handler" | "部门处置人员" | "部门人员" | "处置人员",
        Inspector = "inspector" | "督查员" | "测评员",
        Volunteer = "volunteer" | "志愿者",
        /// A shop's own account under 门前五包 (made at its first login with the code on its
        /// pledge): sees its checks, answers the cases its frontage opened.
        Merchant = "merchant" | "商户",
        /// Leads a volunteer team or a party station: organises its activities and keeps its
        /// volunteers' records.
        TeamLeader = "team_leader" | "队长" | "志愿服务队队长" | "驿站站长",
    }
}

/// Declares the permissions once: the stored and sent enum, and a marker type per
/// permission in [`may`] so a handler can name what its caller must be able to do
/// (`Must<may::ReadCases>`).
macro_rules! permissions {
    ($($(#[$doc:meta])* $name:ident = $text:literal,)+) => {
        crate::string_enum! {
            /// What a role allows over its unit's subtree. Use cases ask for one of these and
            /// never for a role: which roles grant what is written once, in [`Role::permissions`].
            pub enum Permission {
                $($(#[$doc])* $name = $text,)+
            }
        }

        /// The permissions as types, one per [`Permission`].
        pub mod may {
            $(
                $(#[$doc])*
                pub struct $name;
                impl super::Need for $name {
                    const PERMISSION: super::Permission = super::Permission::$name;
                }
            )+
        }
    };
}

/// A permission as a type (see [`may`]).
pub trait Need: Send + Sync + 'static {
    const PERMISSION: Permission;
}

permissions! {
    /// See units, grids and the people who work in them (phones masked).
    ReadOrg = "read_org",
    /// Create and change units and grids (grid import).
    ManageOrg = "manage_org",
    /// Add people (one by one or by import), change their details and roles.
    ManagePeople = "manage_people",
    /// Ask to see personal data unmasked; every such view is written to the access log.
    RevealPersonalData = "reveal_personal_data",
    /// See the cases in the subtree (desk, case pages, exports).
    ReadCases = "read_cases",
    /// Register, reject, dispatch, merge, suspend, resume, reopen; decide extensions.
    DispatchCases = "dispatch_cases",
    /// Accept, return and handle cases assigned to a unit in the subtree; ask for time.
    HandleCases = "handle_cases",
    /// Check that a handled case is really fixed (never one's own work).
    VerifyCases = "verify_cases",
    /// Report a problem already fixed on the spot (自行处置).
    SelfHandle = "self_handle",
    /// See the dashboards and indicators.
    ReadIndicators = "read_indicators",
    /// Change the problem categories (system-wide).
    ManageCategories = "manage_categories",
    /// Create and revoke Open311 API keys (system-wide).
    ManageApiKeys = "manage_api_keys",
    /// Read and export the personal-data access log.
    ReadAccessLog = "read_access_log",
    /// Load a new version of the evaluation manual (system-wide).
    ManageManual = "manage_manual",
    /// Keep the inspection points and plan rounds: draw or choose points, assign inspectors.
    PlanInspections = "plan_inspections",
    /// Inspect the points of a round one is assigned to, item by item.
    Inspect = "inspect",
    /// See inspections, scores, rankings and the shortfall list.
    ReadInspections = "read_inspections",
    /// Draft, edit, issue and correct inspection bulletins (督查通报) of the subtree.
    WriteBulletins = "write_bulletins",
    /// Answer the rectification notices (整改通知) sent to a unit of the subtree, and write
    /// its account (述) for the 晒比评述 meeting.
    AnswerNotices = "answer_notices",
    /// Sit on the 晒比评述 panel: score and comment on the units of the subtree.
    ReviewUnits = "review_units",
    /// Send info reports (信息报送) for one's unit.
    SubmitReports = "submit_reports",
    /// Review the info reports of the subtree (the publicity group): adopt, return, reject.
    ReviewReports = "review_reports",
    /// Set the key tasks (重点任务) and drives of the subtree: lead units, milestones.
    ManageTasks = "manage_tasks",
    /// Report progress on the milestones of tasks one's unit leads or cooperates in.
    ReportProgress = "report_progress",
    /// Keep the merchant registry (门前五包) of the subtree: import, pledges.
    ManageMerchants = "manage_merchants",
    /// Check the frontage of the shops of the subtree (门前五包 检查) on the phone.
    CheckFrontage = "check_frontage",
    /// A merchant's own account: its checks and cases, answered with a photo of the fix.
    ActAsMerchant = "act_as_merchant",
    /// Keep the volunteer registry of the subtree: register and import volunteers, team
    /// membership, certificates (谁记录谁证明).
    ManageVolunteers = "manage_volunteers",
    /// Organise the subtree's teams' activities: create them, show the check-in code, record
    /// attendance by hand, confirm hours and decide corrections (谁组织谁记录).
    OrganiseActivities = "organise_activities",
    /// A volunteer's own account: sign up, check in and out, see and question their hours.
    ActAsVolunteer = "act_as_volunteer",
}

impl Role {
    /// The one table of who may do what.
    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::SystemAdmin => &[
                ReadOrg,
                ManageOrg,
                ManagePeople,
                RevealPersonalData,
                ReadCases,
                DispatchCases,
                ReadIndicators,
                ManageCategories,
                ManageApiKeys,
                ReadAccessLog,
                ManageManual,
                PlanInspections,
                ReadInspections,
                ManageMerchants,
                ManageVolunteers,
                OrganiseActivities,
            ],
            Role::Leader => &[ReadOrg, RevealPersonalData, ReadCases, ReadIndicators, ReadInspections, ReviewUnits, ManageTasks],
            Role::Dispatcher => &[
                ReadOrg,
                RevealPersonalData,
                ReadCases,
                DispatchCases,
                HandleCases,
                VerifyCases,
                ReadIndicators,
                ReadInspections,
                AnswerNotices,
                SubmitReports,
                ReportProgress,
                ManageMerchants,
                CheckFrontage,
            ],
            Role::CommunityAdmin => &[
                ReadOrg,
                ManageOrg,
                ManagePeople,
                RevealPersonalData,
                ReadCases,
                HandleCases,
                ReadIndicators,
                ReadInspections,
                AnswerNotices,
                SubmitReports,
                ReportProgress,
                ManageMerchants,
                CheckFrontage,
                ManageVolunteers,
                OrganiseActivities,
            ],
            Role::GridWorker => &[ReadOrg, ReadCases, HandleCases, VerifyCases, SelfHandle, ReadIndicators, ReadInspections, CheckFrontage],
            Role::DepartmentHandler => {
                &[ReadOrg, ReadCases, HandleCases, ReadIndicators, ReadInspections, AnswerNotices, SubmitReports, ReportProgress]
            }
            Role::Inspector => &[
                ReadOrg,
                ReadCases,
                VerifyCases,
                ReadIndicators,
                PlanInspections,
                Inspect,
                ReadInspections,
                WriteBulletins,
                ReviewUnits,
                ReviewReports,
                CheckFrontage,
            ],
            Role::Volunteer => &[ReadOrg, SubmitReports, CheckFrontage, ActAsVolunteer],
            Role::Merchant => &[ActAsMerchant],
            Role::TeamLeader => &[ReadOrg, SubmitReports, CheckFrontage, ActAsVolunteer, ManageVolunteers, OrganiseActivities],
        }
    }
}

/// One role held over one org unit (identified by id and materialised path).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Grant {
    pub role: Role,
    pub org_unit_id: String,
    #[serde(skip)]
    pub org_path: String,
}

/// Who is acting: a person with their grants, the operator at the server's console (the
/// command line, who holds the data directory anyway), or the system itself (the deadline
/// scanner).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ActorKind {
    #[default]
    Person,
    Console,
    System,
}

/// The person making a request, with every grant they hold.
#[derive(Debug, Clone, Serialize)]
pub struct Actor {
    pub person_id: String,
    pub name: String,
    pub grants: Vec<Grant>,
    #[serde(skip)]
    pub kind: ActorKind,
}

/// The path every unit's path starts with: "everywhere".
const EVERYWHERE: &str = "/";

impl Actor {
    pub fn person(person_id: impl Into<String>, name: impl Into<String>, grants: Vec<Grant>) -> Actor {
        Actor { person_id: person_id.into(), name: name.into(), grants, kind: ActorKind::Person }
    }

    /// The operator of the command line: may do everything a use case offers.
    pub fn console() -> Actor {
        Actor { person_id: "console".into(), name: "命令行".into(), grants: Vec::new(), kind: ActorKind::Console }
    }

    /// The system itself: takes only the system's own steps (warnings, escalation).
    pub fn system() -> Actor {
        Actor { person_id: "system".into(), name: "系统".into(), grants: Vec::new(), kind: ActorKind::System }
    }

    pub fn is_system(&self) -> bool {
        self.kind == ActorKind::System
    }

    /// A real person (not the console or the system), whose id is a person's id.
    pub fn is_person(&self) -> bool {
        self.kind == ActorKind::Person
    }

    /// May this actor do `permission` on the unit at `target_path`?
    pub fn can(&self, permission: Permission, target_path: &str) -> bool {
        match self.kind {
            ActorKind::Console => true,
            ActorKind::System => false,
            ActorKind::Person => {
                self.grants.iter().any(|g| g.role.permissions().contains(&permission) && in_subtree(target_path, &g.org_path))
            }
        }
    }

    /// May this actor do `permission` somewhere (for system-wide things such as categories
    /// and API keys, and for showing a menu entry)?
    pub fn can_somewhere(&self, permission: Permission) -> bool {
        match self.kind {
            ActorKind::Console => true,
            ActorKind::System => false,
            ActorKind::Person => self.grants.iter().any(|g| g.role.permissions().contains(&permission)),
        }
    }

    /// The subtrees (paths) over which the actor holds `permission`; for filtering lists.
    pub fn scopes(&self, permission: Permission) -> Vec<&str> {
        if self.kind == ActorKind::Console {
            return vec![EVERYWHERE];
        }
        let mut paths: Vec<&str> = self.grants_with(permission).map(|g| g.org_path.as_str()).collect();
        paths.sort_unstable();
        // drop paths already covered by a shorter one
        let mut out: Vec<&str> = Vec::new();
        for p in paths {
            if !out.iter().any(|o| in_subtree(p, o)) {
                out.push(p);
            }
        }
        out
    }

    /// The units at which the actor holds `permission` itself (not their subtrees): whose
    /// work queue is theirs.
    pub fn units_with(&self, permission: Permission) -> Vec<&str> {
        let mut ids: Vec<&str> = self.grants_with(permission).map(|g| g.org_unit_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    fn grants_with(&self, permission: Permission) -> impl Iterator<Item = &Grant> {
        let person = self.kind == ActorKind::Person;
        self.grants.iter().filter(move |g| person && g.role.permissions().contains(&permission))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, path: &str) -> Actor {
        Actor::person("p", "n", vec![Grant { role, org_unit_id: "x".into(), org_path: path.into() }])
    }

    const DISTRICT: &str = "/d/";
    const SUB: &str = "/d/s/";
    const COMMUNITY_A: &str = "/d/s/a/";
    const GRID_A1: &str = "/d/s/a/1/";
    const COMMUNITY_B: &str = "/d/s/b/";

    #[test]
    fn community_admin_acts_only_in_their_community() {
        let a = actor(Role::CommunityAdmin, COMMUNITY_A);
        assert!(a.can(Permission::ManagePeople, GRID_A1));
        assert!(a.can(Permission::ReadOrg, COMMUNITY_A));
        assert!(!a.can(Permission::ReadOrg, COMMUNITY_B));
        assert!(!a.can(Permission::ManageOrg, SUB));
    }

    #[test]
    fn leader_reads_everything_below_but_changes_nothing() {
        let l = actor(Role::Leader, SUB);
        assert!(l.can(Permission::ReadOrg, GRID_A1));
        assert!(l.can(Permission::ReadOrg, COMMUNITY_B));
        assert!(!l.can(Permission::ReadOrg, DISTRICT));
        assert!(!l.can(Permission::ManagePeople, COMMUNITY_B));
    }

    #[test]
    fn grid_worker_does_not_see_personal_data() {
        let g = actor(Role::GridWorker, GRID_A1);
        assert!(g.can(Permission::ReadOrg, GRID_A1));
        assert!(!g.can(Permission::RevealPersonalData, GRID_A1));
    }

    #[test]
    fn scopes_collapse_nested_grants() {
        let mut a = actor(Role::CommunityAdmin, COMMUNITY_A);
        a.grants.push(Grant { role: Role::Leader, org_unit_id: "s".into(), org_path: SUB.into() });
        assert_eq!(a.scopes(Permission::ReadOrg), vec![SUB]);
        assert_eq!(a.scopes(Permission::ManagePeople), vec![COMMUNITY_A]);
    }

    #[test]
    fn roles_parse_from_codes_and_chinese() {
        for &r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("网格员"), Some(Role::GridWorker));
        assert_eq!(Role::parse("厨师"), None);
    }

    #[test]
    fn the_console_may_everything_and_the_system_nothing_a_person_may() {
        let console = Actor::console();
        assert!(console.can(Permission::ManageApiKeys, GRID_A1));
        assert_eq!(console.scopes(Permission::ReadCases), vec!["/"]);
        let system = Actor::system();
        assert!(!system.can(Permission::ReadOrg, GRID_A1));
        assert!(!system.can_somewhere(Permission::ReadCases));
        assert!(system.scopes(Permission::ReadCases).is_empty());
    }

    #[test]
    fn every_role_reads_the_org_and_only_admins_hold_system_wide_permissions() {
        // A shop's own account is not staff: it sees its shop and nothing of the org.
        assert_eq!(Role::Merchant.permissions(), &[Permission::ActAsMerchant]);
        for &r in Role::ALL.iter().filter(|r| **r != Role::Merchant) {
            assert!(r.permissions().contains(&Permission::ReadOrg), "{r}");
            let system_wide =
                [Permission::ManageCategories, Permission::ManageApiKeys, Permission::ReadAccessLog, Permission::ManageManual];
            assert_eq!(system_wide.iter().any(|p| r.permissions().contains(p)), r == Role::SystemAdmin, "{r}");
        }
    }

    #[test]
    fn work_units_are_where_the_grant_is_held() {
        let mut a = actor(Role::GridWorker, GRID_A1);
        a.grants.push(Grant { role: Role::Leader, org_unit_id: "s".into(), org_path: SUB.into() });
        assert_eq!(a.units_with(Permission::HandleCases), vec!["x"]);
    }
}
