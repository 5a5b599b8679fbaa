//! HTTP: the router, shared middleware (who is calling, per-IP limit, language, metrics,
//! security headers, time limit) and serving. Each face registers its routes in one place:
//! `api::routes` (JSON), `api::open311::routes` (Open311), `web::routes` (pages).

use std::future::Future;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

use crate::app::App;
use crate::error::{AppError, REQUEST_LANG};
use crate::http::{identify, request_language};

/// Sets the request's language for everything below, and counts responses.
async fn language_and_metrics(State(app): State<App>, req: Request, next: Next) -> Response {
    let lang = request_language(req.headers());
    let response = REQUEST_LANG.scope(lang, next.run(req)).await;
    let class = (response.status().as_u16() / 100).clamp(1, 5) as usize - 1;
    app.metrics().responses[class].fetch_add(1, Ordering::Relaxed);
    response
}

/// Works out who is calling, once per request (handlers take the [`crate::http::Caller`] it
/// leaves in the request), and gives callers who are not verified — no session that
/// matched, no valid token — a per-IP budget of requests. A made-up `Authorization` header
/// or session cookie is not a way around it. Open311 callers with an API key are limited per
/// key as well.
async fn identify_and_limit(State(app): State<App>, mut req: Request, next: Next) -> Response {
    let peer = req.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    let caller = match identify(&app, req.headers(), peer).await {
        Ok(c) => c,
        Err(e) => return REQUEST_LANG.scope(request_language(req.headers()), async move { e.into_response() }).await,
    };
    let path = req.uri().path();
    let static_asset = path.starts_with("/static/") || path == "/healthz";
    if caller.actor.is_none()
        && !static_asset
        && let Err(e) = app.check_public_rate(&caller.ip)
    {
        return REQUEST_LANG.scope(caller.lang, async move { e.into_response() }).await;
    }
    req.extensions_mut().insert(caller);
    next.run(req).await
}

async fn security_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, header::HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, header::HeaderValue::from_static("same-origin"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static("default-src 'self'; img-src 'self' data: blob:; style-src 'self'; frame-ancestors 'none'"),
    );
    response
}

async fn healthz(State(app): State<App>) -> Response {
    match app.store().ping().await {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
    }
}

async fn metrics(State(app): State<App>) -> Response {
    let m = app.metrics();
    let dir = app.directory();
    let mut out = String::new();
    out.push_str("# HELP chuangcheng_http_responses_total HTTP responses by status class.\n");
    out.push_str("# TYPE chuangcheng_http_responses_total counter\n");
    for (i, c) in m.responses.iter().enumerate() {
        out.push_str(&format!("chuangcheng_http_responses_total{{class=\"{}xx\"}} {}\n", i + 1, c.load(Ordering::Relaxed)));
    }
    out.push_str("# HELP chuangcheng_locate_total Location lookups.\n# TYPE chuangcheng_locate_total counter\n");
    out.push_str(&format!("chuangcheng_locate_total {}\n", m.locates.load(Ordering::Relaxed)));
    out.push_str("# HELP chuangcheng_logins_failed_total Failed logins.\n# TYPE chuangcheng_logins_failed_total counter\n");
    out.push_str(&format!("chuangcheng_logins_failed_total {}\n", m.logins_failed.load(Ordering::Relaxed)));
    out.push_str("# HELP chuangcheng_grids Grids in the in-memory directory.\n# TYPE chuangcheng_grids gauge\n");
    out.push_str(&format!("chuangcheng_grids {}\n", dir.len()));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], out).into_response()
}

pub fn router(app: App) -> Router {
    let timeout = std::time::Duration::from_secs(app.config().request_timeout_seconds);
    let routes = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .nest("/api/v1", crate::api::routes())
        .nest("/open311/v2", crate::api::open311::routes())
        .merge(crate::web::routes());
    with_timeout(routes, timeout)
        .layer(middleware::from_fn_with_state(app.clone(), identify_and_limit))
        .layer(middleware::from_fn_with_state(app.clone(), language_and_metrics))
        .layer(middleware::from_fn(security_headers))
        .layer(TraceLayer::new_for_http())
        .with_state(app)
}

/// Answers 503 `timeout` (JSON, in the caller's language) for any request still running
/// after `limit`. A write already handed to the store may still commit: clients retry with
/// the same idempotency key and get the same case.
pub fn with_timeout<S: Clone + Send + Sync + 'static>(router: Router<S>, limit: std::time::Duration) -> Router<S> {
    router.layer(middleware::from_fn(move |req: axum::extract::Request, next: middleware::Next| async move {
        match tokio::time::timeout(limit, next.run(req)).await {
            Ok(response) => response,
            Err(_) => AppError::Timeout(limit.as_secs().max(1)).into_response(),
        }
    }))
}

/// Serves until `shutdown` resolves. The listener is bound by the caller (port 0 in tests).
pub async fn serve(app: App, listener: TcpListener, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    let background = app.spawn_background();
    let service = router(app).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let result = axum::serve(listener, service).with_graceful_shutdown(shutdown).await;
    background.abort();
    result
}
