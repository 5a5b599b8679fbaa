//! The evaluation manual: versions loaded from TOML or a spreadsheet, all or nothing. A new
//! version never changes inspections done under an old one: each inspection keeps its
//! version and its items' standard scores.

use serde::Serialize;

use crate::app::App;
use crate::domain::authz::{Actor, Permission};
use crate::domain::manual::{LineProblem, Manual, ManualProblem, parse_rows, parse_toml};
use crate::error::{AppError, AppResult, FileProblem, Thing};
use crate::i18n::{Lang, t};
use crate::store::inspections::{self as db, ItemRow, ManualRow};
use crate::store::new_id;

/// The manual the demo and a fresh installation start from.
pub const BUILT_IN_MANUAL: &str = include_str!("../../../data-files/manual.toml");

/// A version as loaded.
#[derive(Debug, Clone, Serialize)]
pub struct ManualSummary {
    pub id: String,
    pub version: i64,
    pub name: String,
    pub point_types: i64,
    pub items: i64,
}

/// A version with its items.
#[derive(Debug, Clone, Serialize)]
pub struct ManualView {
    pub manual: ManualRow,
    pub items: Vec<ItemRow>,
}

fn message(lang: Lang, p: &ManualProblem) -> String {
    match p {
        ManualProblem::Malformed(d) => t(lang, "import.manual.malformed", &[("detail", d)]),
        ManualProblem::Empty => t(lang, "import.manual.empty", &[]),
        ManualProblem::MissingColumns(c) => t(lang, "import.manual.missing_columns", &[("columns", c)]),
        ManualProblem::Missing(what) => t(lang, "import.manual.missing", &[("what", what)]),
        ManualProblem::NotANumber(v) => t(lang, "import.manual.not_a_number", &[("value", v)]),
        ManualProblem::UnknownMethod(m) => t(lang, "import.manual.unknown_method", &[("method", m)]),
        ManualProblem::BadRule(e) => t(lang, &format!("import.manual.rule_{}", rule_key(e)), &[]),
        ManualProblem::DuplicateCode { code, first } => {
            t(lang, "import.manual.duplicate_code", &[("code", code), ("first", &first.to_string())])
        }
        ManualProblem::UnknownCategory(c) => t(lang, "import.manual.unknown_category", &[("category", c)]),
        ManualProblem::BadFlag(v) => t(lang, "import.manual.bad_flag", &[("value", v)]),
    }
}

fn rule_key(e: &crate::domain::inspection::ScoringError) -> &'static str {
    use crate::domain::inspection::ScoringError::*;
    match e {
        Deduct => "deduct",
        Thresholds => "thresholds",
        Quantity => "quantity",
    }
}

fn problems(lang: Lang, ps: Vec<LineProblem>) -> AppError {
    AppError::InvalidFile(ps.into_iter().map(|p| FileProblem { row: p.line, message: message(lang, &p.problem) }).collect())
}

impl App {
    /// Loads a manual file as the next version: TOML when `toml`, else a spreadsheet (.xlsx,
    /// .xls, .ods or .csv) named `name`.
    pub async fn import_manual(&self, actor: &Actor, name: &str, bytes: &[u8], toml: bool, lang: Lang) -> AppResult<ManualSummary> {
        if !actor.can_somewhere(Permission::ManageManual) {
            return Err(AppError::Forbidden);
        }
        let categories = self.category_map().await?;
        let known = |c: &str| categories.contains_key(c);
        let manual = if toml {
            let text = std::str::from_utf8(bytes)
                .map_err(|_| problems(lang, vec![LineProblem { line: 0, problem: ManualProblem::Malformed("UTF-8".into()) }]))?;
            parse_toml(text, &known).map_err(|p| problems(lang, p))?
        } else {
            let rows = crate::app::people::read_table_bytes(bytes, false)
                .map_err(|e| problems(lang, vec![LineProblem { line: 0, problem: ManualProblem::Malformed(e) }]))?;
            parse_rows(name, &rows, &known).map_err(|p| problems(lang, p))?
        };
        self.store_manual(actor, manual).await
    }

    pub(crate) async fn store_manual(&self, actor: &Actor, manual: Manual) -> AppResult<ManualSummary> {
        let (now, by) = (self.now(), actor.name.clone());
        self.store()
            .write(move |c| {
                let version = db::next_manual_version(c)?;
                let row = ManualRow {
                    id: new_id(),
                    version,
                    name: manual.name.clone(),
                    point_types: manual.point_types.len() as i64,
                    items: manual.item_count() as i64,
                    created_by: by,
                    created_at: now,
                };
                let mut items = Vec::new();
                for t in &manual.point_types {
                    for i in &t.items {
                        items.push(ItemRow {
                            manual_id: row.id.clone(),
                            code: i.code.clone(),
                            point_type: t.name.clone(),
                            simulated: t.simulated,
                            text: i.text.clone(),
                            method: i.method.clone(),
                            standard: i.standard,
                            scoring: i.scoring.clone(),
                            veto: i.veto,
                            category_code: i.category.clone(),
                            sort: items.len() as i64,
                        });
                    }
                }
                db::insert_manual(c, &row, &items)?;
                Ok::<_, AppError>(ManualSummary { id: row.id, version, name: row.name, point_types: row.point_types, items: row.items })
            })
            .await
    }

    /// Loads the built-in manual when the store has none (a fresh installation, the demo).
    pub async fn ensure_manual(&self) -> AppResult<()> {
        if !self.store().read(|c| db::manuals(c)).await?.is_empty() {
            return Ok(());
        }
        // A store whose categories are not the standard ones (one an older release left, or
        // one set up by hand) starts without a manual rather than not at all: the
        // administrator imports theirs.
        let categories = self.category_map().await?;
        match parse_toml(BUILT_IN_MANUAL, &|c| categories.contains_key(c)) {
            Ok(manual) => self.store_manual(&Actor::console(), manual).await.map(|_| ()),
            Err(problems) => {
                tracing::warn!(
                    problems = problems.len(),
                    "the built-in evaluation manual names categories this store lacks; import a manual"
                );
                Ok(())
            }
        }
    }

    /// Every version, newest first.
    pub async fn manuals(&self, actor: &Actor) -> AppResult<Vec<ManualRow>> {
        if !actor.can_somewhere(Permission::ReadInspections) {
            return Err(AppError::Forbidden);
        }
        Ok(self.store().read(|c| db::manuals(c)).await?)
    }

    /// One version with its items; `None` for the newest.
    pub async fn manual(&self, actor: &Actor, id: Option<&str>) -> AppResult<ManualView> {
        if !actor.can_somewhere(Permission::ReadInspections) && !actor.can_somewhere(Permission::Inspect) {
            return Err(AppError::Forbidden);
        }
        let id = id.map(str::to_string);
        self.store()
            .read(move |c| {
                let manual = match id {
                    Some(id) => db::manual(c, &id)?,
                    None => db::manuals(c)?.into_iter().next(),
                }
                .ok_or(AppError::NotFound(Thing::Manual))?;
                let items = db::items(c, &manual.id)?;
                Ok(ManualView { manual, items })
            })
            .await
    }
}
