//! Online backup and restore of the embedded store: the database (a consistent copy taken
//! while serving) and the photo blobs, into a directory an operator can move anywhere.

use std::path::Path;

use super::App;
use crate::error::{AppError, AppResult, Thing};
use crate::store::SQLITE_FILE;

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<u64> {
    let mut n = 0;
    if !from.exists() {
        return Ok(0);
    }
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            n += copy_tree(&entry.path(), &target)?;
        } else if !entry.file_name().to_string_lossy().contains(".tmp") {
            // Blobs never change once written, so a copy taken while serving is sound.
            std::fs::copy(entry.path(), &target)?;
            n += 1;
        }
    }
    Ok(n)
}

fn io(e: std::io::Error) -> AppError {
    AppError::Internal(e.to_string())
}

impl App {
    /// Writes `dir/chuangcheng.sqlite3` and `dir/blobs/`; `dir` must not exist yet.
    pub async fn backup(&self, dir: &Path) -> AppResult<u64> {
        if dir.exists() {
            return Err(AppError::Conflict(dir.display().to_string()));
        }
        std::fs::create_dir_all(dir).map_err(io)?;
        self.store().backup_to(&dir.join(SQLITE_FILE)).await?;
        let (from, to) = (self.config().data_dir.join("blobs"), dir.join("blobs"));
        tokio::task::spawn_blocking(move || copy_tree(&from, &to)).await.map_err(|_| AppError::Internal("copy failed".into()))?.map_err(io)
    }
}

/// Puts a backup in place as `data_dir`'s store. Run it with the server stopped.
pub fn restore(backup: &Path, data_dir: &Path, force: bool) -> AppResult<u64> {
    let db = backup.join(SQLITE_FILE);
    if !db.exists() {
        return Err(AppError::NotFound(Thing::Backup));
    }
    let target = data_dir.join(SQLITE_FILE);
    if target.exists() && !force {
        return Err(AppError::Conflict(target.display().to_string()));
    }
    std::fs::create_dir_all(data_dir).map_err(io)?;
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(data_dir.join(format!("{SQLITE_FILE}{suffix}")));
    }
    std::fs::copy(&db, &target).map_err(io)?;
    copy_tree(&backup.join("blobs"), &data_dir.join("blobs")).map_err(io)
}
