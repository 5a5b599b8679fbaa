//! HTTP: the router, shared middleware (language, metrics, logs), who is calling, and
//! serving. Handlers live in `api` (JSON) and `web` (pages).

use std::future::Future;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header, request::Parts};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

use crate::app::App;
use crate::app::auth::same_secret;
use crate::domain::authz::Actor;
use crate::error::{AppError, AppResult, REQUEST_LANG};
use crate::i18n::Lang;

pub const SESSION_COOKIE: &str = "cc_session";
pub const LANG_COOKIE: &str = "cc_lang";
pub const CSRF_HEADER: &str = "x-csrf-token";

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

pub fn request_language(headers: &HeaderMap) -> Lang {
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    Lang::negotiate(cookie(headers, LANG_COOKIE), accept)
}

/// How the caller proved who they are.
#[derive(Debug, Clone)]
pub enum Via {
    Anonymous,
    Session { token: String, csrf_token: String },
    ApiToken,
}

/// The caller of a request: maybe a person, and the language to answer in.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Option<Actor>,
    pub via: Via,
    pub lang: Lang,
}

impl Caller {
    pub fn require(&self) -> AppResult<&Actor> {
        self.actor.as_ref().ok_or(AppError::Unauthenticated)
    }

    /// A state-changing request made with a session cookie must carry the session's CSRF
    /// token (header for scripts, form field for pages). API tokens are not sent by
    /// browsers on their own, so they need none.
    pub fn check_csrf(&self, presented: Option<&str>) -> AppResult<()> {
        match &self.via {
            Via::Session { csrf_token, .. } => match presented {
                Some(p) if same_secret(p, csrf_token) => Ok(()),
                _ => Err(AppError::Csrf),
            },
            _ => Ok(()),
        }
    }

    pub fn csrf_token(&self) -> Option<&str> {
        match &self.via {
            Via::Session { csrf_token, .. } => Some(csrf_token),
            _ => None,
        }
    }
}

impl FromRequestParts<App> for Caller {
    type Rejection = AppError;

    fn from_request_parts(parts: &mut Parts, app: &App) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
        let lang = request_language(&parts.headers);
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").map(|t| t.trim().to_string()));
        let session = cookie(&parts.headers, SESSION_COOKIE).map(str::to_string);
        let app = app.clone();
        async move {
            if let Some(token) = bearer {
                // A wrong token is an error, not a silent downgrade to anonymous.
                let actor = app.token_actor(&token).await?.ok_or(AppError::Unauthenticated)?;
                return Ok(Caller { actor: Some(actor), via: Via::ApiToken, lang });
            }
            if let Some(token) = session
                && let Some((actor, csrf_token)) = app.session_actor(&token).await?
            {
                return Ok(Caller { actor: Some(actor), via: Via::Session { token, csrf_token }, lang });
            }
            Ok(Caller { actor: None, via: Via::Anonymous, lang })
        }
    }
}

/// For the JSON API: the caller, with the CSRF header already checked on unsafe methods.
pub struct ApiCaller(pub Caller);

impl FromRequestParts<App> for ApiCaller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, app).await?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let presented = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            caller.check_csrf(presented)?;
        }
        Ok(ApiCaller(caller))
    }
}

/// Sets the request's language for everything below, and counts responses.
async fn language_and_metrics(State(app): State<App>, req: Request, next: Next) -> Response {
    let lang = request_language(req.headers());
    let response = REQUEST_LANG.scope(lang, next.run(req)).await;
    let class = (response.status().as_u16() / 100).clamp(1, 5) as usize - 1;
    app.metrics().responses[class].fetch_add(1, Ordering::Relaxed);
    response
}

/// Callers who are not logged in (no session cookie, no Bearer token) get a per-IP budget
/// of requests; Open311 callers with an API key are limited per key instead.
async fn public_rate_limit(State(app): State<App>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    let identified = cookie(headers, SESSION_COOKIE).is_some() || headers.contains_key(header::AUTHORIZATION);
    let static_asset = req.uri().path().starts_with("/static/") || req.uri().path() == "/healthz";
    if !identified && !static_asset {
        let forwarded = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
        let ip = req
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| crate::client_ip::client_ip(c.0.ip(), forwarded, &app.config().trusted_proxies).to_string())
            .unwrap_or_else(|| "unknown".into());
        if let Err(e) = app.check_public_rate(&ip) {
            return REQUEST_LANG.scope(request_language(req.headers()), async move { e.into_response() }).await;
        }
    }
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
        .nest("/open311/v2", crate::open311::routes())
        .merge(crate::web::routes());
    with_timeout(routes, timeout)
        .layer(middleware::from_fn_with_state(app.clone(), public_rate_limit))
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
