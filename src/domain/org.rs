//! The organisation: district 区 → subdistrict 街道 → community 社区 → grid 网格, plus
//! departments 职能部门, sponsor units 帮包单位 and volunteer teams, all org units in one tree.

use serde::Serialize;

crate::string_enum! {
    /// The kinds of org unit.
    pub enum OrgKind {
        District = "district" | "区" | "区县",
        Subdistrict = "subdistrict" | "街道" | "乡镇",
        Community = "community" | "社区" | "村居",
        Grid = "grid" | "网格",
        Department = "department" | "职能部门" | "部门",
        SponsorUnit = "sponsor_unit" | "帮包单位",
        Team = "team" | "志愿服务队" | "队伍",
    }
}

impl OrgKind {
    /// Length of the numeric administrative code for the kinds that have one:
    /// 6-digit district + 3 subdistrict + 3 community + 3 grid sequence.
    pub fn code_len(self) -> Option<usize> {
        match self {
            OrgKind::District => Some(6),
            OrgKind::Subdistrict => Some(9),
            OrgKind::Community => Some(12),
            OrgKind::Grid => Some(15),
            _ => None,
        }
    }

    /// Which kind of unit may be the parent of this one.
    pub fn allowed_parent(self, parent: OrgKind) -> bool {
        use OrgKind::*;
        matches!(
            (self, parent),
            (Subdistrict, District)
                | (Community, Subdistrict)
                | (Grid, Community)
                | (Department, District | Subdistrict)
                | (SponsorUnit, District | Subdistrict)
                | (Team, Subdistrict | Community)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("code must be {expected} digits")]
    Length { expected: usize },
    #[error("code must contain only digits")]
    NotDigits,
    #[error("code does not start with its parent's code {parent}")]
    WrongParent { parent: String },
}

/// Checks an administrative code against its kind and its parent's code.
pub fn check_code(kind: OrgKind, code: &str, parent_code: Option<&str>) -> Result<(), CodeError> {
    let Some(len) = kind.code_len() else { return Ok(()) };
    if !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CodeError::NotDigits);
    }
    if code.len() != len {
        return Err(CodeError::Length { expected: len });
    }
    if let Some(parent) = parent_code
        && !code.starts_with(parent)
    {
        return Err(CodeError::WrongParent { parent: parent.to_string() });
    }
    Ok(())
}

/// The materialised path of a unit: its ancestors' ids and its own, `/a/b/c/`.
/// A unit is inside another's subtree exactly when its path starts with the other's path.
pub fn child_path(parent_path: Option<&str>, id: &str) -> String {
    match parent_path {
        Some(p) => format!("{p}{id}/"),
        None => format!("/{id}/"),
    }
}

pub fn in_subtree(path: &str, scope_path: &str) -> bool {
    path.starts_with(scope_path)
}

/// An org unit as the rest of the program sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrgUnit {
    pub id: String,
    pub kind: OrgKind,
    pub code: String,
    pub name: String,
    pub parent_id: Option<String>,
    pub path: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_codes_nest_in_their_community() {
        assert!(check_code(OrgKind::Grid, "370115001001007", Some("370115001001")).is_ok());
        assert_eq!(
            check_code(OrgKind::Grid, "370115001002007", Some("370115001001")),
            Err(CodeError::WrongParent { parent: "370115001001".into() })
        );
        assert_eq!(check_code(OrgKind::Grid, "37011500100100", None), Err(CodeError::Length { expected: 15 }));
        assert_eq!(check_code(OrgKind::Community, "37011500100A", None), Err(CodeError::NotDigits));
        assert!(check_code(OrgKind::Department, "CG-01", None).is_ok());
    }

    #[test]
    fn subtree_is_a_path_prefix() {
        let district = child_path(None, "d");
        let sub = child_path(Some(&district), "s");
        let community = child_path(Some(&sub), "c");
        assert_eq!(community, "/d/s/c/");
        assert!(in_subtree(&community, &sub));
        assert!(!in_subtree(&sub, &community));
        // a sibling whose id starts with the same letters is not inside
        assert!(!in_subtree("/d/s/cc/", &community));
    }

    #[test]
    fn tree_shape_is_enforced() {
        assert!(OrgKind::Grid.allowed_parent(OrgKind::Community));
        assert!(!OrgKind::Grid.allowed_parent(OrgKind::Subdistrict));
        assert!(OrgKind::Department.allowed_parent(OrgKind::District));
        for &k in OrgKind::ALL {
            assert_eq!(OrgKind::parse(k.as_str()), Some(k));
        }
    }
}
