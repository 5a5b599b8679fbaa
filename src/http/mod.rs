//! What every HTTP face (the JSON API, Open311, the pages) shares, below the router: who is
//! calling ([`Caller`], resolved once per request by [`identify`]), cookies and the session
//! cookie, and the extractors in [`extract`] that do a handler's ceremony — the caller must
//! be able to …, CSRF-checked forms, multipart uploads, JSON bodies and queries.

pub mod extract;

use std::net::IpAddr;

use axum::extract::FromRequestParts;
use axum::http::{HeaderMap, header, request::Parts};

use crate::app::App;
use crate::app::auth::same_secret;
use crate::domain::authz::Actor;
use crate::error::{AppError, AppResult};
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

/// The `Set-Cookie` value of a session (an empty token and age 0 end it).
/// The address the caller reached the service at (scheme from `X-Forwarded-Proto` behind a
/// proxy), for links that leave the page: Open311 media URLs, door codes.
pub fn public_base(headers: &HeaderMap) -> String {
    let host = headers.get(axum::http::header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    let scheme = headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).filter(|s| *s == "https").unwrap_or("http");
    format!("{scheme}://{host}")
}

pub fn session_cookie(token: &str, max_age_secs: i64) -> String {
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}")
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

/// The caller of a request: maybe a person, the language to answer in, and the address the
/// request came from (for the access log and per-IP limits).
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Option<Actor>,
    pub via: Via,
    pub lang: Lang,
    pub ip: String,
    /// A Bearer token was sent but is unknown or revoked: the request is refused as
    /// unauthenticated (never silently served as anonymous).
    pub bad_token: bool,
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

    /// Where the request came from, as the access log records it.
    pub fn origin(&self) -> crate::app::access::Origin {
        crate::app::access::Origin { ip: self.ip.clone() }
    }
}

/// Works out who is calling from the request's headers and peer address. A Bearer token is
/// checked (a wrong one marks the caller `bad_token`); a session cookie that matches no
/// session is simply anonymous (it may have expired).
pub async fn identify(app: &App, headers: &HeaderMap, peer: Option<IpAddr>) -> AppResult<Caller> {
    let lang = request_language(headers);
    let forwarded = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    let ip = peer
        .map(|p| crate::domain::net::client_ip(p, forwarded, &app.config().trusted_proxies).to_string())
        .unwrap_or_else(|| "unknown".into());
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").map(|t| t.trim().to_string()));
    if let Some(token) = bearer {
        let actor = app.token_actor(&token).await?;
        let bad_token = actor.is_none();
        let via = if bad_token { Via::Anonymous } else { Via::ApiToken };
        return Ok(Caller { actor, via, lang, ip, bad_token });
    }
    if let Some(token) = cookie(headers, SESSION_COOKIE).map(str::to_string)
        && let Some((actor, csrf_token)) = app.session_actor(&token).await?
    {
        return Ok(Caller { actor: Some(actor), via: Via::Session { token, csrf_token }, lang, ip, bad_token: false });
    }
    Ok(Caller { actor: None, via: Via::Anonymous, lang, ip, bad_token: false })
}

impl FromRequestParts<App> for Caller {
    type Rejection = AppError;

    /// The caller the server's middleware identified (or identified now, outside it).
    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let caller = match parts.extensions.get::<Caller>() {
            Some(c) => c.clone(),
            None => {
                let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
                identify(app, &parts.headers, peer).await?
            }
        };
        if caller.bad_token {
            return Err(AppError::Unauthenticated);
        }
        Ok(caller)
    }
}

/// A response body fed chunk by chunk from a channel (a streamed export): each chunk is
/// sent as it is written, and an error cuts the response short so the client can tell.
pub struct ChunkBody(pub tokio::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>);

impl http_body::Body for ChunkBody {
    type Data = bytes::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        self.0.poll_recv(cx).map(|chunk| chunk.map(|r| r.map(|bytes| http_body::Frame::data(bytes::Bytes::from(bytes)))))
    }
}
