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

/// What the version-4 fixture refers to outside the database.
pub struct OldStoreFixture<'a> {
    /// Argon2 hash of the password of the fixture's dispatcher (`olddispatcher`).
    pub password_hash: &'a str,
    /// Blob addresses of the citizen's photo and its thumbnail (already in the blob store).
    pub photo_sha256: &'a str,
    pub thumb_sha256: &'a str,
}

/// Fills a store at schema version 4 the way that release wrote it (its SQL, its columns):
/// 济阳区 → 济阳街道 → 开元社区 → one grid over lat 36.96–36.97, lon 117.15–117.16; a
/// dispatcher; category 0401; case `JY20261130-0001` reported by a citizen with a photo and
/// its log; the day's case-number counter at 1. The upgrade test then opens it with the
/// current binary.
pub fn seed_version_4(conn: &mut dyn super::Conn, f: &OldStoreFixture<'_>) -> Result<(), StoreError> {
    let at = 1_796_000_000_000_i64; // 2026-11-30, Beijing morning
    let geometry =
        r#"{"type":"MultiPolygon","coordinates":[[[[117.15,36.96],[117.16,36.96],[117.16,36.97],[117.15,36.97],[117.15,36.96]]]]}"#;
    let statements = [
        "INSERT INTO meta (key, value) VALUES ('org_revision', '3')".to_string(),
        format!("INSERT INTO org_units (id, kind, code, name, parent_id, path, sort, created_at, updated_at) VALUES ('u-d', 'district', '370115', '济阳区', NULL, '/u-d/', 0, {at}, {at})"),
        format!("INSERT INTO org_units (id, kind, code, name, parent_id, path, sort, created_at, updated_at) VALUES ('u-s', 'subdistrict', '370115001', '济阳街道', 'u-d', '/u-d/u-s/', 0, {at}, {at})"),
        format!("INSERT INTO org_units (id, kind, code, name, parent_id, path, sort, created_at, updated_at) VALUES ('u-c', 'community', '370115001001', '开元社区', 'u-s', '/u-d/u-s/u-c/', 0, {at}, {at})"),
        format!("INSERT INTO org_units (id, kind, code, name, parent_id, path, sort, created_at, updated_at) VALUES ('u-g', 'grid', '370115001001001', '开元社区第1网格', 'u-c', '/u-d/u-s/u-c/u-g/', 0, {at}, {at})"),
        format!("INSERT INTO org_units (id, kind, code, name, parent_id, path, sort, created_at, updated_at) VALUES ('u-z', 'department', 'ZF01', '城管执法中队', 'u-s', '/u-d/u-s/u-z/', 1, {at}, {at})"),
        format!("INSERT INTO grids (org_unit_id, community_id, geometry, min_lon, min_lat, max_lon, max_lat, area_m2) VALUES ('u-g', 'u-c', '{geometry}', 117.15, 36.96, 117.16, 36.97, 990000.0)"),
        format!("INSERT INTO people (id, name, phone, username, password_hash, active, created_at, updated_at) VALUES ('p-1', '老调度', '13800000000', 'olddispatcher', '{}', TRUE, {at}, {at})", f.password_hash),
        format!("INSERT INTO role_assignments (person_id, role, org_unit_id, created_at) VALUES ('p-1', 'dispatcher', 'u-s', {at})"),
        "INSERT INTO categories (code, name, class_code, class_name, tier, department_code, response_minutes, handling_minutes, citizen, active, attributes) VALUES ('0401', '占道经营', '04', '街面秩序', 4, 'ZF01', 60, 960, TRUE, TRUE, NULL)".to_string(),
        "INSERT INTO counters (name, value) VALUES ('case:20261130', 1)".to_string(),
        format!("INSERT INTO photos (id, sha256, thumb_sha256, mime, bytes, width, height, taken_at, lat, lon, uploaded_by, created_at) VALUES ('ph-1', '{}', '{}', 'image/jpeg', 1000, 64, 48, NULL, NULL, NULL, NULL, {at})", f.photo_sha256, f.thumb_sha256),
        format!("INSERT INTO cases (id, number, category_code, source, description, lat, lon, address, grid_id, community_id, grid_path, reporter_name, reporter_phone, priority, status, tier, assignee_unit_id, reported_at, reported_by, dispatched_at, response_deadline, handling_deadline, accepted_at, handled_at, handled_by, closed_at, rework_count, extension_count, extension_pending, escalation_count, suspended_from, suspended_at, merged_into, warning, version, updated_at, reporter_email) VALUES ('c-1', 'JY20261130-0001', '0401', 'citizen', '路口摆摊', 36.965, 117.155, NULL, 'u-g', 'u-c', '/u-d/u-s/u-c/u-g/', '张三', '13912345678', 2, 'reported', 4, NULL, {at}, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, 0, NULL, NULL, NULL, 'none', 1, {at}, NULL)"),
        format!("INSERT INTO case_events (id, case_id, seq, action, actor_id, actor_name, at, note, data, public) VALUES ('e-1', 'c-1', 1, 'report', NULL, NULL, {at}, NULL, '{{\"tier\":4,\"photos\":[\"ph-1\"]}}', TRUE)"),
    ];
    for sql in statements {
        conn.batch(&sql)?;
    }
    Ok(())
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
