//! Helpers for test suites: each test gets a database of its own.

use super::StoreError;

/// Creates an empty PostgreSQL database on the server `admin_url` points at and returns
/// the URL of the new database. Runs on its own thread: the synchronous client must not
/// be driven from inside an async runtime.
pub fn fresh_postgres_database(admin_url: &str) -> Result<String, StoreError> {
    let admin_url = admin_url.to_string();
    std::thread::spawn(move || {
        let mut client = ::postgres::Client::connect(&admin_url, ::postgres::NoTls)?;
        let name = format!("cc_test_{}", uuid::Uuid::now_v7().simple());
        client.batch_execute(&format!("CREATE DATABASE {name}"))?;
        Ok(with_database(&admin_url, &name))
    })
    .join()
    .map_err(|_| StoreError::Panicked)?
}

/// Drops a database made by [`fresh_postgres_database`], given its URL; best effort.
pub fn drop_postgres_database(admin_url: &str, database_url: &str) {
    let name = database_url.rsplit('/').next().unwrap_or("").split('?').next().unwrap_or("").to_string();
    if name.is_empty() {
        return;
    }
    let admin_url = admin_url.to_string();
    let _ = std::thread::spawn(move || {
        if let Ok(mut c) = ::postgres::Client::connect(&admin_url, ::postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
        }
    })
    .join();
}

/// `postgres://u@h:5432/old?x=y` with the database name replaced.
pub fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let (authority, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let query = tail.split_once('?').map(|(_, q)| format!("?{q}")).unwrap_or_default();
    format!("{scheme}://{authority}/{name}{query}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_only_the_database_name() {
        assert_eq!(
            super::with_database("postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "x"),
            "postgres://postgres@127.0.0.1:5432/x?sslmode=disable"
        );
        assert_eq!(super::with_database("postgres://h", "x"), "postgres://h/x");
    }
}
