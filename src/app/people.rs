//! People and their roles: accounts, the people import, and what each viewer may see.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Serialize;

use super::{App, ORG_REVISION, auth};
use crate::domain::authz::{Actor, Permission, Role};
use crate::domain::org::{OrgKind, OrgUnit};
use crate::domain::privacy::mask_phone;
use crate::error::{AppError, AppResult, FileProblem, Thing};
use crate::i18n::{Lang, t};
use crate::store::{org, people, schema};

/// A person to add from the command line or an import row.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub name: String,
    pub phone: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub role: Role,
    pub org_code: String,
}

pub(crate) fn check_phone(phone: &str) -> bool {
    let digits = phone.chars().filter(|c| c.is_ascii_digit()).count();
    (5..=20).contains(&digits) && phone.chars().all(|c| c.is_ascii_digit() || "-+ ".contains(c))
}

fn check_username(u: &str) -> bool {
    (2..=64).contains(&u.len()) && u.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

/// A person as a viewer sees them: phone masked unless the viewer may see personal data.
#[derive(Debug, Clone, Serialize)]
pub struct PersonView {
    pub id: String,
    pub name: String,
    pub phone: Option<String>,
    pub username: Option<String>,
    pub role: Role,
    pub unit_code: String,
    pub unit_name: String,
    /// The viewer may ask to see the phone in full (查看完整信息).
    pub may_reveal: bool,
}

/// One unit as a viewer sees it: itself, its children and the people in its subtree.
#[derive(Debug, Clone, Serialize)]
pub struct UnitView {
    pub unit: OrgUnit,
    pub children: Vec<OrgUnit>,
    pub people: Vec<PersonView>,
}

/// Column names an office spreadsheet may use for each field.
const HEADERS: [(&str, &[&str]); 5] = [
    ("name", &["name", "姓名"]),
    ("phone", &["phone", "手机", "电话", "手机号", "联系电话"]),
    ("role", &["role", "角色"]),
    ("org", &["org", "unit", "所属单元", "所属单位", "单位", "网格", "社区"]),
    ("username", &["username", "用户名", "账号"]),
];

/// Reads the first sheet of an .xlsx/.xls/.ods file, or a CSV file, as rows of text.
pub fn read_table(path: &Path) -> Result<Vec<Vec<String>>, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    read_table_bytes(&bytes, ext == "csv")
}

/// Which column of a sheet's header holds each field: `columns` lists, per field, the titles
/// an office may write (matched without case, spaces or a byte-order mark); the first match
/// wins.
pub(crate) fn column_map(header: &[String], columns: &[(&'static str, &[&str])]) -> HashMap<&'static str, usize> {
    let mut col = HashMap::new();
    for (i, h) in header.iter().enumerate() {
        let h = h.trim().trim_start_matches('\u{feff}').to_lowercase();
        if let Some((field, _)) = columns.iter().find(|(_, names)| names.contains(&h.as_str())) {
            col.entry(*field).or_insert(i);
        }
    }
    col
}

/// A sheet's rows and where each field is.
pub(crate) type Sheet = (Vec<Vec<String>>, HashMap<&'static str, usize>);

/// An uploaded sheet opened for an import: its rows (the header first) and where each field
/// is, or the file's problem in the words of the import's catalogue section `messages`
/// (`import.<thing>`: `unreadable`, `missing_columns`).
pub(crate) fn open_sheet(
    bytes: &[u8],
    columns: &[(&'static str, &[&'static str])],
    required: &[&'static str],
    messages: &str,
    lang: crate::i18n::Lang,
) -> AppResult<Sheet> {
    use crate::error::FileProblem;
    let whole = |row: usize, key: &str, args: &[(&str, &str)]| {
        AppError::InvalidFile(vec![FileProblem { row, message: crate::i18n::t(lang, &format!("{messages}.{key}"), args) }])
    };
    let table = read_table_bytes(bytes, false).map_err(|e| whole(0, "unreadable", &[("detail", &e)]))?;
    let Some(header) = table.first() else { return Err(whole(0, "unreadable", &[("detail", "empty")])) };
    let col = column_map(header, columns);
    let missing = missing_columns(&col, columns, required);
    if !missing.is_empty() {
        return Err(whole(1, "missing_columns", &[("columns", &missing.join("、"))]));
    }
    Ok((table, col))
}

/// The first title of each `required` field the header lacks.
pub(crate) fn missing_columns(
    col: &HashMap<&'static str, usize>,
    columns: &[(&'static str, &[&'static str])],
    required: &[&'static str],
) -> Vec<&'static str> {
    required
        .iter()
        .filter(|f| !col.contains_key(*f))
        .map(|f| columns.iter().find(|(k, _)| k == f).map(|(_, n)| n[0]).unwrap_or(f))
        .collect()
}

/// The same from bytes: a spreadsheet (recognised by content), or CSV when `csv` is set or
/// the bytes are not a workbook.
pub fn read_table_bytes(bytes: &[u8], csv: bool) -> Result<Vec<Vec<String>>, String> {
    if csv || !(bytes.starts_with(b"PK") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0])) {
        let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
        return reader
            .records()
            .map(|r| r.map(|rec| rec.iter().map(|s| s.trim_start_matches('\u{feff}').trim().to_string()).collect()))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string());
    }
    use calamine::Reader;
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let range = book.worksheet_range_at(0).ok_or("the workbook has no sheet")?.map_err(|e| e.to_string())?;
    Ok(range
        .rows()
        .map(|row| {
            row.iter()
                .map(|cell| match cell {
                    calamine::Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
                    other => other.to_string().trim().to_string(),
                })
                .collect()
        })
        .collect())
}

/// Turns table rows into accounts, or every problem with its row number (header = row 1).
pub fn parse_people(
    rows: &[Vec<String>],
    units: &[OrgUnit],
    may_manage: &dyn Fn(&OrgUnit) -> bool,
    lang: Lang,
) -> Result<Vec<NewAccount>, Vec<FileProblem>> {
    let problem = |row: usize, key: &str, args: &[(&str, &str)]| FileProblem { row, message: t(lang, key, args) };
    let Some(header) = rows.first() else {
        return Err(vec![problem(0, "import.people.empty", &[])]);
    };
    let col = column_map(header, &HEADERS);
    let missing: Vec<&str> = ["name", "role", "org"].into_iter().filter(|f| !col.contains_key(f)).collect();
    if !missing.is_empty() {
        return Err(vec![problem(1, "import.people.missing_columns", &[("columns", &missing.join(", "))])]);
    }
    let by_code: HashMap<&str, &OrgUnit> = units.iter().map(|u| (u.code.as_str(), u)).collect();
    let mut by_name: HashMap<&str, Vec<&OrgUnit>> = HashMap::new();
    for u in units {
        by_name.entry(u.name.as_str()).or_default().push(u);
    }
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut usernames: HashMap<String, usize> = HashMap::new();
    for (i, row) in rows.iter().enumerate().skip(1) {
        let n = i + 1;
        let get = |f: &str| col.get(f).and_then(|&c| row.get(c)).map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let before = problems.len();
        let name = get("name");
        if name.is_none() {
            problems.push(problem(n, "import.people.missing_value", &[("column", "name")]));
        }
        let role = match get("role") {
            Some(r) => Role::parse(&r).or_else(|| {
                problems.push(problem(n, "import.people.unknown_role", &[("role", &r)]));
                None
            }),
            None => {
                problems.push(problem(n, "import.people.missing_value", &[("column", "role")]));
                None
            }
        };
        let unit = match get("org") {
            Some(o) => match (by_code.get(o.as_str()), by_name.get(o.as_str())) {
                (Some(u), _) if !may_manage(u) => {
                    problems.push(problem(n, "import.people.outside_scope", &[("org", &o)]));
                    None
                }
                (None, Some(list)) if list.len() == 1 && !may_manage(list[0]) => {
                    problems.push(problem(n, "import.people.outside_scope", &[("org", &o)]));
                    None
                }
                (Some(u), _) => Some(*u),
                (None, Some(list)) if list.len() == 1 => Some(list[0]),
                (None, Some(_)) => {
                    problems.push(problem(n, "import.people.ambiguous_org", &[("org", &o)]));
                    None
                }
                (None, None) => {
                    problems.push(problem(n, "import.people.unknown_org", &[("org", &o)]));
                    None
                }
            },
            None => {
                problems.push(problem(n, "import.people.missing_value", &[("column", "org")]));
                None
            }
        };
        let phone = get("phone");
        if let Some(p) = &phone
            && !check_phone(p)
        {
            problems.push(problem(n, "import.people.bad_phone", &[("phone", p)]));
        }
        let username = get("username");
        if let Some(u) = &username {
            if !check_username(u) {
                problems.push(problem(n, "import.people.bad_username", &[("username", u)]));
            } else if let Some(first) = usernames.insert(u.clone(), n) {
                problems.push(problem(n, "import.people.duplicate_username", &[("username", u), ("first", &first.to_string())]));
            }
        }
        if problems.len() == before
            && let (Some(name), Some(role), Some(unit)) = (name, role, unit)
        {
            out.push(NewAccount { name, phone, username, password: None, role, org_code: unit.code.clone() });
        }
    }
    if problems.is_empty() { Ok(out) } else { Err(problems) }
}

impl App {
    /// Adds one person with one role (CLI `user add`, demo). Returns the person's id.
    pub async fn add_person(&self, actor: &Actor, account: NewAccount) -> AppResult<String> {
        let mut ids = self.add_people(actor, vec![account]).await?;
        ids.pop().ok_or_else(|| AppError::Internal("no person created".into()))
    }

    /// Adds people in one transaction: all of them or none; the actor must manage people in
    /// every unit named. Passwords are hashed first, outside the transaction, so the writer
    /// is not held up by Argon2.
    pub async fn add_people(&self, actor: &Actor, accounts: Vec<NewAccount>) -> AppResult<Vec<String>> {
        if !actor.can_somewhere(Permission::ManagePeople) {
            return Err(AppError::Forbidden);
        }
        for a in &accounts {
            if let Some(u) = &a.username
                && !check_username(u)
            {
                return Err(AppError::BadRequest(format!("invalid username {u}")));
            }
            if let Some(p) = &a.password {
                auth::check_password_rules(p)?;
            }
        }
        let accounts = tokio::task::spawn_blocking(move || {
            accounts
                .into_iter()
                .map(|a| {
                    let hash = a.password.as_deref().map(auth::hash_password).transpose()?;
                    Ok((a, hash))
                })
                .collect::<AppResult<Vec<_>>>()
        })
        .await
        .map_err(|_| AppError::Internal("password hashing failed".into()))??;
        let actor = actor.clone();
        let ids = self
            .store()
            .write(move |c| {
                let mut units: HashMap<String, OrgUnit> = HashMap::new();
                let mut ids = Vec::with_capacity(accounts.len());
                for (a, hash) in &accounts {
                    if !units.contains_key(&a.org_code) {
                        let u = org::unit_by_code(c, &a.org_code)?.ok_or(AppError::NotFound(Thing::OrgUnit))?;
                        if !actor.can(Permission::ManagePeople, &u.path) {
                            return Err(AppError::Forbidden);
                        }
                        units.insert(a.org_code.clone(), u);
                    }
                    let unit = &units[&a.org_code];
                    let id = people::insert_person(
                        c,
                        people::NewPerson {
                            name: &a.name,
                            phone: a.phone.as_deref(),
                            username: a.username.as_deref(),
                            password_hash: hash.as_deref(),
                        },
                    )?;
                    people::assign_role(c, &id, a.role, &unit.id)?;
                    ids.push(id);
                }
                schema::meta_bump(c, ORG_REVISION)?;
                Ok::<_, AppError>(ids)
            })
            .await?;
        self.reload_directory().await?;
        Ok(ids)
    }

    /// Sets a password by username (CLI `user passwd`): the actor must manage people
    /// wherever that person works.
    pub async fn set_password(&self, actor: &Actor, username: &str, password: &str) -> AppResult<()> {
        auth::check_password_rules(password)?;
        let password = password.to_string();
        let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
            .await
            .map_err(|_| AppError::Internal("password hashing failed".into()))??;
        let (username, actor) = (username.to_string(), actor.clone());
        self.store()
            .write(move |c| {
                let creds = people::credentials(c, &username)?.ok_or(AppError::NotFound(Thing::Person))?;
                let grants = people::grants(c, &creds.person_id)?;
                if !grants.iter().all(|g| actor.can(Permission::ManagePeople, &g.org_path)) {
                    return Err(AppError::Forbidden);
                }
                people::set_password(c, &creds.person_id, &hash)?;
                Ok(())
            })
            .await
    }

    /// Imports people from a spreadsheet or CSV: every row or, on any problem, none.
    pub async fn import_people(&self, actor: &Actor, path: &Path, lang: Lang) -> AppResult<usize> {
        let table = read_table(path);
        self.import_people_rows(actor, table, lang).await
    }

    /// The same for an uploaded file's bytes.
    pub async fn import_people_bytes(&self, actor: &Actor, bytes: &[u8], lang: Lang) -> AppResult<usize> {
        self.import_people_rows(actor, read_table_bytes(bytes, false), lang).await
    }

    async fn import_people_rows(&self, actor: &Actor, table: Result<Vec<Vec<String>>, String>, lang: Lang) -> AppResult<usize> {
        if !actor.can_somewhere(Permission::ManagePeople) {
            return Err(AppError::Forbidden);
        }
        let rows = table.map_err(|e| {
            AppError::InvalidFile(vec![FileProblem { row: 0, message: t(lang, "import.people.unreadable", &[("detail", &e)]) }])
        })?;
        let units = self.store().read(|c| org::list_units(c, &[], None)).await?;
        // Every row must name a unit the importer manages people in.
        let may_manage = |u: &OrgUnit| actor.can(Permission::ManagePeople, &u.path);
        let accounts = parse_people(&rows, &units, &may_manage, lang).map_err(AppError::InvalidFile)?;
        let n = accounts.len();
        self.add_people(actor, accounts).await.map_err(|e| match e {
            AppError::Conflict(_) => {
                AppError::InvalidFile(vec![FileProblem { row: 0, message: t(lang, "import.people.username_taken", &[]) }])
            }
            other => other,
        })?;
        Ok(n)
    }

    /// A unit with its children and people, if the actor may read it.
    pub async fn unit_view(&self, actor: &Actor, code: &str) -> AppResult<UnitView> {
        let code = code.to_string();
        let (unit, children, members) = self
            .store()
            .read(move |c| {
                let unit = org::unit_by_code(c, &code)?.ok_or(AppError::NotFound(Thing::OrgUnit))?;
                let children = org::children(c, &unit.id)?;
                let members = people::members(c, None, Some(&[unit.path.as_str()]))?;
                Ok::<_, AppError>((unit, children, members))
            })
            .await?;
        if !actor.can(Permission::ReadOrg, &unit.path) {
            // Do not confirm that a unit outside the actor's reach exists.
            return Err(AppError::NotFound(Thing::OrgUnit));
        }
        // Phones are masked for everyone; a role that needs one asks for it (and is logged).
        let may_reveal = actor.can(Permission::RevealPersonalData, &unit.path);
        let people = members
            .into_iter()
            .map(|m| PersonView {
                phone: m.phone.map(|p| mask_phone(&p)),
                may_reveal,
                id: m.person_id,
                name: m.name,
                username: m.username,
                role: m.role,
                unit_code: m.org_unit_code,
                unit_name: m.org_unit_name,
            })
            .collect();
        Ok(UnitView { unit, children, people })
    }

    /// A unit by its code (no authorization: for resolving filters the caller then scopes).
    pub async fn unit_by_code(&self, code: &str) -> AppResult<Option<OrgUnit>> {
        let code = code.to_string();
        Ok(self.store().read(move |c| org::unit_by_code(c, &code)).await?)
    }

    /// Every unit of one kind (e.g. the subdistricts an Open311 jurisdiction may name).
    pub async fn units_of_kind(&self, kind: OrgKind) -> AppResult<Vec<OrgUnit>> {
        Ok(self.store().read(move |c| org::list_units(c, &[kind], None)).await?)
    }

    /// The person with this login name.
    pub async fn person_id(&self, username: &str) -> AppResult<Option<String>> {
        let username = username.to_string();
        Ok(self.store().read(move |c| people::credentials(c, &username)).await?.map(|c| c.person_id))
    }

    /// The units of the given kinds the actor may read.
    pub async fn visible_units(&self, actor: &Actor, kinds: Vec<OrgKind>) -> AppResult<Vec<OrgUnit>> {
        let scopes: Vec<String> = actor.scopes(Permission::ReadOrg).into_iter().map(str::to_string).collect();
        if scopes.is_empty() {
            return Ok(Vec::new());
        }
        self.store()
            .read(move |c| {
                let refs: Vec<&str> = scopes.iter().map(String::as_str).collect();
                org::list_units(c, &kinds, Some(&refs))
            })
            .await
            .map_err(AppError::from)
    }

    /// Changes a person's phone; the actor must manage people wherever that person works.
    pub async fn update_phone(&self, actor: &Actor, person_id: &str, phone: Option<String>) -> AppResult<()> {
        if let Some(p) = &phone
            && !check_phone(p)
        {
            return Err(AppError::BadRequest(format!("invalid phone number {p}")));
        }
        let actor = actor.clone();
        let person_id = person_id.to_string();
        self.store()
            .write(move |c| {
                let grants = people::grants(c, &person_id)?;
                if grants.is_empty() {
                    return Err(AppError::NotFound(Thing::Person));
                }
                let paths: HashSet<&str> = grants.iter().map(|g| g.org_path.as_str()).collect();
                if !paths.iter().any(|p| actor.can(Permission::ReadOrg, p)) {
                    return Err(AppError::NotFound(Thing::Person));
                }
                if !paths.iter().all(|p| actor.can(Permission::ManagePeople, p)) {
                    return Err(AppError::Forbidden);
                }
                people::set_phone(c, &person_id, phone.as_deref())?;
                schema::meta_bump(c, ORG_REVISION)?;
                Ok(())
            })
            .await?;
        self.reload_directory().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units() -> Vec<OrgUnit> {
        let u = |code: &str, name: &str, kind| OrgUnit {
            id: code.into(),
            kind,
            code: code.into(),
            name: name.into(),
            parent_id: None,
            path: format!("/{code}/"),
        };
        vec![u("370115001001", "开元社区", OrgKind::Community), u("370115001001001", "开元社区第1网格", OrgKind::Grid)]
    }

    fn rows(data: &[&[&str]]) -> Vec<Vec<String>> {
        data.iter().map(|r| r.iter().map(|s| s.to_string()).collect()).collect()
    }

    #[test]
    fn chinese_headers_and_names_are_understood() {
        let r = rows(&[
            &["姓名", "手机", "角色", "所属单元", "用户名"],
            &["王芳", "13800000001", "网格员", "开元社区第1网格", "wangfang"],
            &["李强", "", "社区管理员", "370115001001", ""],
        ]);
        let accounts = parse_people(&r, &units(), &|_| true, Lang::ZhCn).unwrap();
        assert_eq!(accounts.len(), 2);
        assert_eq!(accounts[0].role, Role::GridWorker);
        assert_eq!(accounts[0].org_code, "370115001001001");
        assert_eq!(accounts[1].phone, None);
    }

    #[test]
    fn problems_carry_row_numbers() {
        let r = rows(&[
            &["name", "phone", "role", "org", "username"],
            &["A", "abc", "grid_worker", "370115001001001", "a1"],
            &["B", "13800000002", "cook", "370115001001001", "a1"],
            &["C", "13800000003", "grid_worker", "nowhere", "c1"],
        ]);
        let p = parse_people(&r, &units(), &|_| true, Lang::En).unwrap_err();
        let rows_with_problems: Vec<usize> = p.iter().map(|p| p.row).collect();
        assert_eq!(rows_with_problems, vec![2, 3, 3, 4], "{p:?}");
    }

    #[test]
    fn rows_outside_the_importers_units_are_refused_by_row() {
        let r = rows(&[&["姓名", "角色", "所属单元"], &["王芳", "网格员", "开元社区第1网格"], &["李强", "社区管理员", "370115001001"]]);
        let only_grids = |u: &OrgUnit| u.kind == OrgKind::Grid;
        let p = parse_people(&r, &units(), &only_grids, Lang::ZhCn).unwrap_err();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].row, 3);
        assert!(p[0].message.contains("370115001001"), "{p:?}");
    }

    #[test]
    fn missing_columns_are_named() {
        let r = rows(&[&["name", "phone"]]);
        let p = parse_people(&r, &units(), &|_| true, Lang::En).unwrap_err();
        assert!(p[0].message.contains("role") && p[0].message.contains("org"), "{p:?}");
    }
}
