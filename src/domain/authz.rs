//! Authorization, decided in one place: a person holds roles, each scoped to an org unit,
//! and a role grants permissions over that unit's subtree.

use serde::{Deserialize, Serialize};

use super::org::in_subtree;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    SystemAdmin,
    Leader,
    Dispatcher,
    CommunityAdmin,
    GridWorker,
    DepartmentHandler,
    Inspector,
    Volunteer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// See units, grids and the people who work in them.
    ReadOrg,
    /// Create and change units and grids (grid import).
    ManageOrg,
    /// Add people, change their details and roles.
    ManagePeople,
    /// See personal data (phone numbers) unmasked.
    ReadPersonalData,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::SystemAdmin,
        Role::Leader,
        Role::Dispatcher,
        Role::CommunityAdmin,
        Role::GridWorker,
        Role::DepartmentHandler,
        Role::Inspector,
        Role::Volunteer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::SystemAdmin => "system_admin",
            Role::Leader => "leader",
            Role::Dispatcher => "dispatcher",
            Role::CommunityAdmin => "community_admin",
            Role::GridWorker => "grid_worker",
            Role::DepartmentHandler => "department_handler",
            Role::Inspector => "inspector",
            Role::Volunteer => "volunteer",
        }
    }

    /// Accepts the code (`grid_worker`) or the Chinese name an office spreadsheet uses (网格员).
    pub fn parse(s: &str) -> Option<Role> {
        let s = s.trim();
        Role::ALL.into_iter().find(|r| r.as_str() == s).or(match s {
            "系统管理员" | "管理员" => Some(Role::SystemAdmin),
            "领导" => Some(Role::Leader),
            "调度员" | "派遣员" | "指挥中心" => Some(Role::Dispatcher),
            "社区管理员" => Some(Role::CommunityAdmin),
            "网格员" => Some(Role::GridWorker),
            "部门处置人员" | "部门人员" | "处置人员" => Some(Role::DepartmentHandler),
            "督查员" | "测评员" => Some(Role::Inspector),
            "志愿者" => Some(Role::Volunteer),
            _ => None,
        })
    }

    fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::SystemAdmin => &[ReadOrg, ManageOrg, ManagePeople, ReadPersonalData],
            Role::Leader => &[ReadOrg, ReadPersonalData],
            Role::Dispatcher => &[ReadOrg, ReadPersonalData],
            Role::CommunityAdmin => &[ReadOrg, ManageOrg, ManagePeople, ReadPersonalData],
            Role::GridWorker => &[ReadOrg],
            Role::DepartmentHandler => &[ReadOrg],
            Role::Inspector => &[ReadOrg],
            Role::Volunteer => &[ReadOrg],
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

/// The person making a request, with every grant they hold.
#[derive(Debug, Clone, Serialize)]
pub struct Actor {
    pub person_id: String,
    pub name: String,
    pub grants: Vec<Grant>,
}

impl Actor {
    /// May this actor do `permission` on the unit at `target_path`?
    pub fn can(&self, permission: Permission, target_path: &str) -> bool {
        self.grants.iter().any(|g| g.role.permissions().contains(&permission) && in_subtree(target_path, &g.org_path))
    }

    /// The subtrees (paths) over which the actor holds `permission`; for filtering lists.
    pub fn scopes(&self, permission: Permission) -> Vec<&str> {
        let mut paths: Vec<&str> =
            self.grants.iter().filter(|g| g.role.permissions().contains(&permission)).map(|g| g.org_path.as_str()).collect();
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

    pub fn has_role(&self, role: Role) -> bool {
        self.grants.iter().any(|g| g.role == role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, path: &str) -> Actor {
        Actor { person_id: "p".into(), name: "n".into(), grants: vec![Grant { role, org_unit_id: "x".into(), org_path: path.into() }] }
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
        assert!(!g.can(Permission::ReadPersonalData, GRID_A1));
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
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("网格员"), Some(Role::GridWorker));
        assert_eq!(Role::parse("厨师"), None);
    }
}
