//! Extractors that do a handler's ceremony once: the caller must be able to …
//! ([`Must`]), a CSRF-checked form ([`CsrfForm`]), a CSRF-checked multipart upload
//! ([`Upload`]), JSON bodies and queries that answer a JSON 400 when malformed, and the
//! idempotency key. Each refusal is answered by the handler's [`Face`]: JSON for the API, a
//! page (or the login page) for the web.

use std::collections::HashMap;
use std::marker::PhantomData;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, Method, StatusCode, request::Parts};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::{CSRF_HEADER, Caller};
use crate::app::App;
use crate::domain::authz::Actor;
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;

/// How a face of the server answers a refused request.
pub trait Face: Send + Sync + 'static {
    /// Unsafe requests carry the CSRF token in the `X-CSRF-Token` header (scripts); faces
    /// without it check the token in the form body ([`CsrfForm`], [`Upload`]).
    const HEADER_CSRF: bool = false;
    fn refuse(lang: Lang, error: AppError) -> Response;
}

/// The JSON API's face: the error as JSON with its stable code.
pub struct JsonFace;

impl Face for JsonFace {
    const HEADER_CSRF: bool = true;
    fn refuse(_: Lang, error: AppError) -> Response {
        error.into_response()
    }
}

/// A refused request, answered by its face.
pub struct Refused<F: Face>(pub Lang, pub AppError, PhantomData<F>);

impl<F: Face> Refused<F> {
    pub fn new(lang: Lang, error: AppError) -> Self {
        Refused(lang, error, PhantomData)
    }
}

impl<F: Face> IntoResponse for Refused<F> {
    fn into_response(self) -> Response {
        F::refuse(self.0, self.1)
    }
}

pub use crate::domain::authz::{Need, may};

/// The caller, with a refusal already in the face's terms.
async fn caller_for<F: Face>(parts: &mut Parts, app: &App) -> Result<Caller, Refused<F>> {
    let lang = super::request_language(&parts.headers);
    Caller::from_request_parts(parts, app).await.map_err(|e| Refused::new(lang, e))
}

/// A logged-in caller who holds `N` somewhere: a gate for whole pages and endpoints. The
/// use case behind it still decides for the record in hand (its unit and subtree).
pub struct Must<N: Need, F: Face = JsonFace> {
    pub caller: Caller,
    _need: PhantomData<(N, F)>,
}

impl<N: Need, F: Face> Must<N, F> {
    pub fn actor(&self) -> &Actor {
        // Checked when the extractor ran.
        self.caller.actor.as_ref().unwrap_or_else(|| unreachable!("Must<_> holds a logged-in caller"))
    }
}

impl<N: Need, F: Face> FromRequestParts<App> for Must<N, F> {
    type Rejection = Refused<F>;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let caller = caller_for::<F>(parts, app).await?;
        let lang = caller.lang;
        let actor = caller.actor.as_ref().ok_or(Refused::new(lang, AppError::Unauthenticated))?;
        if !actor.can_somewhere(N::PERMISSION) {
            return Err(Refused::new(lang, AppError::Forbidden));
        }
        check_unsafe_method(parts, &caller, F::HEADER_CSRF).map_err(|e| Refused::new(lang, e))?;
        Ok(Must { caller, _need: PhantomData })
    }
}

/// A logged-in caller, whoever they are.
pub struct SignedIn<F: Face = JsonFace>(pub Caller, PhantomData<F>);

impl<F: Face> SignedIn<F> {
    pub fn actor(&self) -> &Actor {
        self.0.actor.as_ref().unwrap_or_else(|| unreachable!("SignedIn holds a logged-in caller"))
    }
}

impl<F: Face> FromRequestParts<App> for SignedIn<F> {
    type Rejection = Refused<F>;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let caller = caller_for::<F>(parts, app).await?;
        let lang = caller.lang;
        if caller.actor.is_none() {
            return Err(Refused::new(lang, AppError::Unauthenticated));
        }
        check_unsafe_method(parts, &caller, F::HEADER_CSRF).map_err(|e| Refused::new(lang, e))?;
        Ok(SignedIn(caller, PhantomData))
    }
}

fn check_unsafe_method(parts: &Parts, caller: &Caller, header: bool) -> AppResult<()> {
    let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    if header && !safe {
        let presented = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        caller.check_csrf(presented)?;
    }
    Ok(())
}

/// For the JSON API: the caller (anonymous allowed), with the CSRF header already checked
/// on unsafe methods.
pub struct ApiCaller(pub Caller);

impl FromRequestParts<App> for ApiCaller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, app).await?;
        check_unsafe_method(parts, &caller, true)?;
        Ok(ApiCaller(caller))
    }
}

/// Query parameters, with malformed ones answered as a JSON 400.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e: QueryRejection| AppError::BadRequest(e.body_text()))
    }
}

/// A JSON body, with malformed ones answered as a JSON 400.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::Json::<T>::from_request(req, state)
            .await
            .map(|j| ApiJson(j.0))
            .map_err(|e: JsonRejection| AppError::BadRequest(e.body_text()))
    }
}

#[derive(Deserialize, Default)]
struct CsrfField {
    #[serde(default)]
    csrf_token: String,
}

/// A page's form (`application/x-www-form-urlencoded`) whose `csrf_token` field matched the
/// caller's session: the caller and the fields, decoded as `T`.
pub struct CsrfForm<T, F: Face> {
    pub caller: Caller,
    pub form: T,
    _face: PhantomData<F>,
}

impl<T: DeserializeOwned + Send, F: Face> FromRequest<App> for CsrfForm<T, F> {
    type Rejection = Refused<F>;

    async fn from_request(req: Request, app: &App) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let caller = caller_for::<F>(&mut parts, app).await?;
        let refuse = |e| Refused::new(caller.lang, e);
        let bytes = axum::body::to_bytes(body, 1024 * 1024).await.map_err(|_| refuse(AppError::TooLarge))?;
        let csrf: CsrfField = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
        caller.check_csrf(Some(&csrf.csrf_token)).map_err(refuse)?;
        let form = serde_urlencoded::from_bytes(&bytes).map_err(|e| refuse(AppError::BadRequest(e.to_string())))?;
        Ok(CsrfForm { caller, form, _face: PhantomData })
    }
}

/// A file sent in a multipart form.
pub struct UploadedFile {
    pub field: String,
    pub file_name: Option<String>,
    pub bytes: Vec<u8>,
}

/// A CSRF-checked form that may carry files: `multipart/form-data` (the text fields and the
/// files) or a plain urlencoded form (fields only). The route's body limit bounds the size;
/// a file over it is a 413.
pub struct Upload<F: Face> {
    pub caller: Caller,
    pub fields: HashMap<String, String>,
    pub files: Vec<UploadedFile>,
    _face: PhantomData<F>,
}

impl<F: Face> Upload<F> {
    /// The first file sent in `field` (or, failing that, any file).
    pub fn file(&self, field: &str) -> AppResult<&UploadedFile> {
        self.files
            .iter()
            .find(|f| f.field == field)
            .or_else(|| self.files.first())
            .ok_or_else(|| AppError::MissingParameter(field.to_string()))
    }
}

impl<F: Face> FromRequest<App> for Upload<F> {
    type Rejection = Refused<F>;

    async fn from_request(req: Request, app: &App) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let caller = caller_for::<F>(&mut parts, app).await?;
        let refuse = |e| Refused::new(caller.lang, e);
        let header_token = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).map(str::to_string);
        let req = Request::from_parts(parts, body);
        let (fields, files) = read_multipart(req, app).await.map_err(refuse)?;
        let presented = fields.get("csrf_token").cloned().or(header_token);
        caller.check_csrf(presented.as_deref()).map_err(refuse)?;
        Ok(Upload { caller, fields, files, _face: PhantomData })
    }
}

type Parsed = (HashMap<String, String>, Vec<UploadedFile>);

async fn read_multipart(req: Request, app: &App) -> AppResult<Parsed> {
    let multipart = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        let bytes = axum::body::to_bytes(req.into_body(), 1024 * 1024).await.map_err(|_| AppError::TooLarge)?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).map_err(|e| AppError::BadRequest(e.to_string()))?;
        return Ok((pairs.into_iter().collect(), Vec::new()));
    }
    let too_large = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE { AppError::TooLarge } else { AppError::BadRequest(e.body_text()) }
    };
    let mut form = axum::extract::Multipart::from_request(req, app).await.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let (mut fields, mut files) = (HashMap::new(), Vec::new());
    while let Some(field) = form.next_field().await.map_err(too_large)? {
        let name = field.name().unwrap_or("").to_string();
        match field.file_name().map(str::to_string) {
            Some(file_name) => {
                let bytes = field.bytes().await.map_err(too_large)?.to_vec();
                files.push(UploadedFile { field: name, file_name: Some(file_name), bytes });
            }
            None => {
                let text = field.text().await.map_err(too_large)?;
                fields.insert(name, text);
            }
        }
    }
    Ok((fields, files))
}

/// The client's `Idempotency-Key`, if it sent one: at most 128 characters.
pub fn idempotency_key(headers: &HeaderMap) -> AppResult<Option<String>> {
    match headers.get("idempotency-key").map(|v| v.to_str()) {
        None => Ok(None),
        Some(Ok(k)) if !k.trim().is_empty() && k.len() <= 128 => Ok(Some(k.trim().to_string())),
        Some(_) => Err(AppError::InvalidParameter("Idempotency-Key".into())),
    }
}
