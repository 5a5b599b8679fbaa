//! Navigation from what the caller may do: the menu of pages and the page a person lands on
//! after logging in. Built from permissions (never role names), so a page a person cannot
//! use is never offered, and a module adds its entry here once.

use serde::Serialize;

use crate::domain::authz::{Actor, Permission};
use crate::domain::case::work_queues;

/// One entry of the menu; `key` names its label in the catalogue (`web.nav_<key>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MenuItem {
    pub key: &'static str,
    pub href: &'static str,
    /// Shown on a phone's home screen as a big button, not only in the menu.
    pub field: bool,
}

const fn item(key: &'static str, href: &'static str, field: bool) -> MenuItem {
    MenuItem { key, href, field }
}

/// The pages this actor may use, in menu order.
pub fn menu(actor: &Actor) -> Vec<MenuItem> {
    let mut out = vec![item("work", "/work", true), item("report", "/report", true)];
    if !work_queues(actor).is_empty() {
        out.push(item("todo", "/todo", true));
    }
    if actor.can_somewhere(Permission::ReadCases) {
        out.push(item("desk", "/cases", false));
    }
    if actor.can_somewhere(Permission::ReadIndicators) {
        out.push(item("dashboard", "/dashboard", false));
    }
    if actor.can_somewhere(Permission::Inspect) {
        out.push(item("inspect", "/inspect", true));
    }
    if actor.can_somewhere(Permission::CheckFrontage) {
        out.push(item("frontage", "/frontage", true));
    }
    if actor.can_somewhere(Permission::ReadInspections) {
        out.push(item("inspections", "/inspections", false));
    }
    if actor.can_somewhere(Permission::ManageMerchants) || actor.can_somewhere(Permission::ReadInspections) {
        out.push(item("merchants", "/merchants", false));
    }
    if actor.can_somewhere(Permission::ActAsMerchant) {
        out.push(item("shop", "/merchant", true));
    }
    if actor.can_somewhere(Permission::ActAsVolunteer) {
        out.push(item("volunteering", "/v", true));
    }
    if actor.can_somewhere(Permission::OrganiseActivities) || actor.can_somewhere(Permission::ManageVolunteers) {
        out.push(item("activities", "/activities", false));
    }
    if actor.can_somewhere(Permission::ReadInspections) || actor.can_somewhere(Permission::WriteBulletins) {
        out.push(item("bulletins", "/bulletins", false));
    }
    if actor.can_somewhere(Permission::AnswerNotices) {
        out.push(item("notices", "/notices", true));
    }
    if actor.can_somewhere(Permission::ReadIndicators) {
        out.push(item("tasks", "/tasks", false));
    }
    if actor.can_somewhere(Permission::SubmitReports) || actor.can_somewhere(Permission::ReviewReports) {
        out.push(item("reports", "/reports", actor.can_somewhere(Permission::SubmitReports)));
    }
    let admin = [
        Permission::ManageOrg,
        Permission::ManagePeople,
        Permission::ManageCategories,
        Permission::ManageApiKeys,
        Permission::ReadAccessLog,
    ];
    if admin.iter().any(|p| actor.can_somewhere(*p)) {
        out.push(item("admin", "/admin", false));
    }
    out
}

/// Where a person lands after logging in: a leader on the dashboard, a dispatcher on the
/// to-do, everyone who works in the street (grid workers, handlers, inspectors, volunteers)
/// on the phone's work page — report, to-do and today's work.
pub fn home(actor: &Actor) -> &'static str {
    let queues = work_queues(actor);
    if actor.can_somewhere(Permission::ActAsMerchant) {
        "/merchant"
    } else if actor.can_somewhere(Permission::DispatchCases) {
        "/todo"
    } else if queues.is_empty() && actor.can_somewhere(Permission::ReadIndicators) {
        "/dashboard"
    } else {
        "/work"
    }
}

/// The admin pages this actor may use (`web.admin_<key>`).
pub fn admin_sections(actor: &Actor) -> Vec<MenuItem> {
    let mut out = Vec::new();
    let mut add = |p: Permission, key, href| {
        if actor.can_somewhere(p) {
            out.push(item(key, href, false));
        }
    };
    add(Permission::ManageOrg, "org", "/admin");
    add(Permission::ManageOrg, "grids", "/admin/grids");
    add(Permission::ManagePeople, "people", "/admin/people");
    add(Permission::ManageCategories, "categories", "/admin/categories");
    add(Permission::ManageApiKeys, "apikeys", "/admin/apikeys");
    add(Permission::ReadAccessLog, "access", "/admin/access-log");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::authz::{Grant, Role};

    fn actor(role: Role) -> Actor {
        Actor::person("p", "n", vec![Grant { role, org_unit_id: "u".into(), org_path: "/d/s/".into() }])
    }

    fn keys(a: &Actor) -> Vec<&'static str> {
        menu(a).into_iter().map(|m| m.key).collect()
    }

    #[test]
    fn each_role_lands_where_its_work_is_and_sees_only_its_pages() {
        assert_eq!(home(&actor(Role::Leader)), "/dashboard");
        assert_eq!(home(&actor(Role::Dispatcher)), "/todo");
        assert_eq!(home(&actor(Role::GridWorker)), "/work");
        assert_eq!(home(&actor(Role::Volunteer)), "/work");
        assert!(!keys(&actor(Role::Leader)).contains(&"todo"));
        assert!(!keys(&actor(Role::GridWorker)).contains(&"admin"));
        assert!(keys(&actor(Role::SystemAdmin)).contains(&"admin"));
        assert_eq!(
            keys(&actor(Role::Volunteer)),
            vec!["work", "report", "frontage", "volunteering", "reports"],
            "a team sends info reports"
        );
        assert!(keys(&actor(Role::TeamLeader)).contains(&"activities"), "a team leader organises activities");
        assert_eq!(home(&actor(Role::Merchant)), "/merchant", "a shop lands on its own page");
        assert!(keys(&actor(Role::Merchant)).contains(&"shop") && !keys(&actor(Role::Merchant)).contains(&"merchants"));
        assert!(keys(&actor(Role::GridWorker)).contains(&"frontage"), "grid workers walk the frontage checks");
        assert!(keys(&actor(Role::Leader)).contains(&"tasks") && keys(&actor(Role::Leader)).contains(&"bulletins"));
        assert!(keys(&actor(Role::Inspector)).contains(&"inspect"), "inspectors inspect on the phone");
        assert!(keys(&actor(Role::Leader)).contains(&"inspections") && !keys(&actor(Role::Leader)).contains(&"inspect"));
        let admin: Vec<_> = admin_sections(&actor(Role::CommunityAdmin)).into_iter().map(|s| s.key).collect();
        assert_eq!(admin, vec!["org", "grids", "people"]);
    }
}
