//! The two servers the benchmark measures the real one against, run as child processes on
//! the same HTTP stack (tokio + hyper + axum, JSON bodies parsed into the same input type):
//! - `echo`: parse the case body, answer a small JSON — the HTTP ceiling;
//! - `intake`: parse, locate the grid (point in polygon), hand the case and its first event
//!   to a bare group-commit writer (`store::ceiling`) and answer once they are on disk —
//!   the durable intake ceiling.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use geo::MultiPolygon;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::app::cases::NewCaseInput;
use crate::app::demo::demo_grids;
use crate::domain::case::{Event, EventData, Source, apply};
use crate::domain::coords::LatLon;
use crate::domain::grid_index::GridIndex;
use crate::store::Store;
use crate::store::cases::CaseDetails;
use crate::store::ceiling::BareSink;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Kind {
    Echo,
    Intake,
}

struct Intake {
    index: GridIndex<usize>,
    sink: BareSink,
    seq: AtomicU64,
}

pub async fn serve(kind: Kind, listen: SocketAddr, scratch: &Path) -> anyhow::Result<()> {
    let router = match kind {
        Kind::Echo => Router::new().route("/echo", post(echo)),
        Kind::Intake => {
            std::fs::create_dir_all(scratch)?;
            // The real schema, then the bare writer on the same file.
            drop(Store::open(scratch, None).await?);
            let sink = BareSink::open(&scratch.join(crate::store::SQLITE_FILE))?;
            let grids = demo_grids(&mut StdRng::seed_from_u64(crate::app::demo::GRID_SEED));
            let index =
                GridIndex::build(grids.into_iter().enumerate().map(|(i, g)| (format!("{i:04}"), MultiPolygon(vec![g.shape]), i)).collect());
            let state = Arc::new(Intake { index, sink, seq: AtomicU64::new(0) });
            Router::new().route("/cases", post(intake)).with_state(state)
        }
    };
    let listener = tokio::net::TcpListener::bind(listen).await?;
    axum::serve(listener, router).await?;
    Ok(())
}

async fn echo(axum::Json(input): axum::Json<NewCaseInput>) -> Response {
    axum::Json(serde_json::json!({ "category": input.category, "lat": input.lat, "lon": input.lon })).into_response()
}

async fn intake(State(s): State<Arc<Intake>>, axum::Json(input): axum::Json<NewCaseInput>) -> Response {
    let Some(&grid) = s.index.locate(LatLon { lat: input.lat, lon: input.lon }) else {
        return (StatusCode::UNPROCESSABLE_ENTITY, "outside").into_response();
    };
    let now = crate::store::now_ms();
    let n = s.seq.fetch_add(1, Ordering::Relaxed) + 1;
    let event = Event { action: None, at: now, actor_id: None, data: EventData { tier: Some(1), ..Default::default() } };
    let Ok(state) = apply(None, &event) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let details = CaseDetails {
        id: crate::store::new_id(),
        number: format!("BENCH-{n:08}"),
        category_code: input.category,
        source: Source::Citizen,
        description: input.description,
        lat: input.lat,
        lon: input.lon,
        address: input.address,
        grid_id: format!("grid-{grid}"),
        community_id: "community".into(),
        grid_path: format!("/bench/{grid}/"),
        reporter_name: input.reporter_name,
        reporter_phone: input.reporter_phone,
        priority: 2,
        reporter_email: None,
    };
    match s.sink.insert(&details, &state, &event).await {
        Ok(()) => (StatusCode::CREATED, axum::Json(serde_json::json!({ "id": details.id, "number": details.number }))).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}
