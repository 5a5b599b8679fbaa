//! The store on its own: group commit and rollback behave the same on both backends.

use chuangcheng::domain::calendar::beijing_ms;
use chuangcheng::domain::org::OrgKind;
use chuangcheng::error::AppError;
use chuangcheng::store::{StoreError, org};

use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn concurrent_writes_each_commit_or_fail_alone() {
    let t = spawn_app().await;
    let store = t.app.store().clone();
    let district = store
        .write(|c| org::insert_unit(c, org::NewUnit { kind: OrgKind::District, code: "370115", name: "济阳区", parent: None, sort: 0 }))
        .await
        .unwrap();
    // 300 writers at once; every third reuses a code and must fail with a conflict, and a
    // failing job must not take the rest of its commit group down with it.
    let mut handles = Vec::new();
    for i in 0..300 {
        let (store, district) = (store.clone(), district.clone());
        handles.push(tokio::spawn(async move {
            let code = if i % 3 == 0 { "370115000".to_string() } else { format!("370115{i:03}") };
            store
                .write(move |c| {
                    org::insert_unit(
                        c,
                        org::NewUnit { kind: OrgKind::Subdistrict, code: &code, name: "街道", parent: Some(&district), sort: i },
                    )
                })
                .await
        }));
    }
    let mut ok = 0;
    let mut conflicts = 0;
    for h in handles {
        match h.await.unwrap() {
            Ok(_) => ok += 1,
            Err(StoreError::Conflict(_)) => conflicts += 1,
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    // One of the hundred writers of code 370115000 wins; the other 99 conflict.
    assert_eq!(ok, 201);
    assert_eq!(conflicts, 99);
    let stored = store.read(|c| org::count_units(c, OrgKind::Subdistrict)).await.unwrap();
    assert_eq!(stored, 201, "every acknowledged write is there, and only those");
}

#[tokio::test]
async fn a_failed_job_leaves_nothing_behind() {
    let t = spawn_app().await;
    let store = t.app.store().clone();
    let result: Result<(), AppError> = store
        .write(|c| {
            org::insert_unit(c, org::NewUnit { kind: OrgKind::District, code: "370116", name: "临时", parent: None, sort: 0 })?;
            Err(AppError::BadRequest("changed my mind".into()))
        })
        .await;
    assert!(result.is_err());
    let found = store.read(|c| org::unit_by_code(c, "370116")).await.unwrap();
    assert!(found.is_none(), "the job's insert was rolled back");
}

#[tokio::test]
async fn values_read_back_the_same_on_either_backend() {
    let t = spawn_demo().await;
    let store = t.app.store().clone();
    let grids = store.read(|c| org::grids(c, None)).await.unwrap();
    assert_eq!(grids.len(), 150);
    let g = &grids[0];
    assert!(g.area_m2 > 50_000.0 && g.area_m2 < 250_000.0, "a demo grid is about 0.1 km²: {}", g.area_m2);
    assert_eq!(g.unit.kind, OrgKind::Grid);
    assert!(g.unit.path.starts_with('/') && g.unit.path.ends_with('/'));
    assert_eq!(g.unit.path.matches('/').count(), 5, "district/subdistrict/community/grid: {}", g.unit.path);
    eprintln!("store checks ran on {}", backend_name());
}

#[tokio::test]
async fn a_bulk_load_gives_back_every_index_it_dropped_even_if_it_died() {
    use chuangcheng::store::{bulk, schema};
    let (t, _clock) = spawn_demo_at(beijing_ms(2026, 11, 30, 18, 0)).await;
    let store = t.app.store().clone();
    let before = store.read(|c| bulk::secondary_indexes(c, &bulk::CASE_TABLES)).await.unwrap();
    let names: Vec<&str> = before.iter().map(|(n, _)| n.as_str()).collect();
    for wanted in ["cases_community", "cases_near", "case_events_seq"] {
        assert!(names.contains(&wanted), "{wanted} missing from {names:?}");
    }
    let dropped = store.write(|c| bulk::suspend_indexes(c, &bulk::CASE_TABLES)).await.unwrap();
    assert_eq!(dropped, before.len());
    assert!(store.read(|c| bulk::secondary_indexes(c, &bulk::CASE_TABLES)).await.unwrap().is_empty());
    // Cases written while the indexes are gone.
    let n = t.app.generate_cases(1_500, 30, 400, |_| {}).await.unwrap();
    assert!(n > 1_400, "all but those of this evening: {n}");
    // The load dies here; the next start (migration) builds them again.
    store.write(schema::migrate).await.unwrap();
    let after = store.read(|c| bulk::secondary_indexes(c, &bulk::CASE_TABLES)).await.unwrap();
    assert_eq!(after, before);
    // And what the indexes serve answers in full.
    let (leader, _) = t.login("leader").await;
    let r = get_json(&leader, t.url("/api/v1/indicators?from=2026-10-01&to=2026-11-30")).await;
    assert_eq!(r["total"]["reported"].as_u64(), Some(n as u64));
    let closed: Vec<Value> = get_json(&leader, t.url("/api/v1/cases?status=closed&per_page=50")).await.as_array().cloned().unwrap();
    assert_eq!(closed.len(), 50, "a full desk page of closed cases");
    for c in &closed {
        assert_eq!(c["status"], "closed");
        assert!(t.app.rebuild_matches(c["id"].as_str().unwrap()).await.unwrap(), "row = replayed log for {}", c["number"]);
    }
}
