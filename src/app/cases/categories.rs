//! The problem categories: built in on a fresh store, changed by system admins one by one
//! or from a file, cached for a few seconds.

use std::collections::HashMap;
use std::sync::Arc;

use crate::app::App;
use crate::domain::authz::{Actor, Permission};
use crate::domain::category::{BUILT_IN, Category, check_category, parse_categories};
use crate::error::{AppError, AppResult, FileProblem};
use crate::i18n::{Lang, t};
use crate::store::cases as db;

impl App {
    /// Loads the built-in categories into an empty table (a fresh installation).
    pub async fn ensure_categories(&self) -> AppResult<()> {
        let have = self.store().read(|c| db::categories(c)).await?;
        if !have.is_empty() {
            return Ok(());
        }
        let cats = parse_categories(BUILT_IN).map_err(|p| AppError::Internal(format!("built-in categories: {p:?}")))?;
        self.store_categories(cats).await.map(|_| ())
    }

    /// Adds or replaces categories (after the caller's checks).
    async fn store_categories(&self, cats: Vec<Category>) -> AppResult<usize> {
        let n = cats.len();
        self.store()
            .write(move |c| {
                for cat in &cats {
                    db::upsert_category(c, cat)?;
                }
                Ok::<_, AppError>(())
            })
            .await?;
        self.category_cache().clear();
        Ok(n)
    }

    /// An admin adds or changes one category; the same checks as a category file.
    pub async fn save_category(&self, actor: &Actor, category: Category) -> AppResult<Category> {
        if !actor.can_somewhere(Permission::ManageCategories) {
            return Err(AppError::Forbidden);
        }
        let problems = check_category(&category);
        if !problems.is_empty() {
            return Err(AppError::BadRequest(problems.join("; ")));
        }
        self.store_categories(vec![category.clone()]).await?;
        Ok(category)
    }

    /// Imports a category file (the format of `data-files/categories.toml`): all or none.
    pub async fn import_categories(&self, actor: &Actor, text: &str, lang: Lang) -> AppResult<usize> {
        if !actor.can_somewhere(Permission::ManageCategories) {
            return Err(AppError::Forbidden);
        }
        let cats = parse_categories(text).map_err(|p| {
            AppError::InvalidFile(
                p.into_iter()
                    .map(|(row, message)| FileProblem { row, message: t(lang, "import.category", &[("detail", &message)]) })
                    .collect(),
            )
        })?;
        self.store_categories(cats).await
    }

    pub async fn categories(&self) -> AppResult<Vec<Category>> {
        Ok(self.category_list().await?.as_ref().clone())
    }

    /// The category table, from the short-lived cache when it is fresh.
    async fn category_list(&self) -> AppResult<Arc<Vec<Category>>> {
        if let Some(list) = self.category_cache().get(&()) {
            return Ok(list);
        }
        let list = Arc::new(self.store().read(|c| db::categories(c)).await?);
        self.category_cache().put((), list.clone());
        Ok(list)
    }

    pub(crate) async fn category_map(&self) -> AppResult<HashMap<String, Category>> {
        Ok(self.category_list().await?.iter().map(|c| (c.code.clone(), c.clone())).collect())
    }
}
