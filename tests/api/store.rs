//! The store on its own: group commit and rollback behave the same on both backends.

use chuangcheng::domain::org::OrgKind;
use chuangcheng::error::AppError;
use chuangcheng::store::{StoreError, org};

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
                    org::insert_unit(c, org::NewUnit { kind: OrgKind::Subdistrict, code: &code, name: "街道", parent: Some(&district), sort: i })
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
