//! One application error type that maps to an HTTP status, a stable machine code and a
//! message from the catalogue in the request's language.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::case::{Action, Status};
use crate::domain::coords::CoordError;
use crate::i18n::{Lang, t};
use crate::store::StoreError;

include!(concat!(env!("OUT_DIR"), "/catalogue_keys.rs"));

tokio::task_local! {
    /// The language of the request being served, set by the server's middleware so that
    /// errors can speak it wherever they are turned into responses.
    pub static REQUEST_LANG: Lang;
}

pub fn request_lang() -> Lang {
    REQUEST_LANG.try_with(|l| *l).unwrap_or_default()
}

/// One problem in an uploaded file: which feature or row, and what is wrong.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FileProblem {
    /// 1-based feature or row number (rows count the header as row 1); 0 for the whole file.
    pub row: usize,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found: {0}")]
    NotFound(Thing),
    #[error("no such route")]
    NoSuchRoute,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("login required")]
    Unauthenticated,
    #[error("not allowed")]
    Forbidden,
    #[error("wrong username or password")]
    BadCredentials,
    #[error("missing or invalid CSRF token")]
    Csrf,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("missing parameter {0}")]
    MissingParameter(String),
    #[error("invalid parameter {0}")]
    InvalidParameter(String),
    #[error("invalid coordinate: {0}")]
    Coordinate(#[from] CoordError),
    #[error("location is outside every grid")]
    OutsideGrids,
    #[error("a case cannot be reported outside every grid")]
    ReportOutsideGrids,
    #[error("{action:?} is not allowed while the case is {status:?}")]
    ActionNotAllowed { status: Status, action: Action, allowed: Vec<Action> },
    #[error("the case changed since it was read")]
    Stale,
    #[error("the upload is too large")]
    TooLarge,
    #[error("too many requests; retry in {0} s")]
    RateLimited(u64),
    #[error("the request took longer than {0} s")]
    Timeout(u64),
    #[error("invalid value: {0}")]
    Invalid(Invalid),
    #[error("the file has {} problem(s)", .0.len())]
    InvalidFile(Vec<FileProblem>),
    #[error("already exists: {0}")]
    Conflict(String),
    #[error("storage: {0}")]
    Store(StoreError),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => AppError::Conflict(what),
            other => AppError::Store(other),
        }
    }
}

#[derive(Serialize)]
struct ErrorBody {
    code: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    problems: Vec<FileProblem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<Status>,
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed_actions: Option<Vec<Action>>,
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound(_) | AppError::OutsideGrids | AppError::NoSuchRoute => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Unauthenticated | AppError::BadCredentials => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) | AppError::MissingParameter(_) | AppError::InvalidParameter(_) | AppError::Coordinate(_) => {
                StatusCode::BAD_REQUEST
            }
            // Someone else changed or issued the record since it was read: a conflict.
            AppError::Invalid(Invalid::BulletinChanged | Invalid::BulletinNotDraft) => StatusCode::CONFLICT,
            AppError::InvalidFile(_) | AppError::ReportOutsideGrids | AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::ActionNotAllowed { .. } | AppError::Stale => StatusCode::CONFLICT,
            AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Timeout(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Store(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine code clients may match on.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound(_) => "not_found",
            AppError::NoSuchRoute => "no_such_route",
            AppError::MethodNotAllowed => "method_not_allowed",
            AppError::Unauthenticated => "unauthenticated",
            AppError::Forbidden => "forbidden",
            AppError::BadCredentials => "bad_credentials",
            AppError::Csrf => "csrf_invalid",
            AppError::BadRequest(_) => "bad_request",
            AppError::MissingParameter(_) => "missing_parameter",
            AppError::InvalidParameter(_) => "invalid_parameter",
            AppError::Coordinate(CoordError::Latitude) => "invalid_latitude",
            AppError::Coordinate(CoordError::Longitude) => "invalid_longitude",
            AppError::Coordinate(CoordError::UnknownCrs) => "unknown_crs",
            AppError::OutsideGrids | AppError::ReportOutsideGrids => "outside_grids",
            AppError::ActionNotAllowed { .. } => "action_not_allowed",
            AppError::Stale => "stale_version",
            AppError::TooLarge => "too_large",
            AppError::RateLimited(_) => "rate_limited",
            AppError::Timeout(_) => "timeout",
            AppError::Invalid(_) => "invalid_value",
            AppError::InvalidFile(_) => "invalid_file",
            AppError::Conflict(_) => "conflict",
            AppError::Store(_) => "storage_error",
            AppError::Internal(_) => "internal_error",
        }
    }

    /// The message for people, in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        let key = format!("error.{}", self.code());
        match self {
            AppError::NotFound(what) => t(lang, &key, &[("what", &t(lang, &what.key(), &[]))]),
            AppError::BadRequest(detail) => t(lang, &key, &[("detail", detail)]),
            AppError::MissingParameter(name) | AppError::InvalidParameter(name) => t(lang, &key, &[("name", name)]),
            AppError::InvalidFile(problems) => t(lang, &key, &[("count", &problems.len().to_string())]),
            AppError::Conflict(what) => t(lang, &key, &[("what", what)]),
            AppError::Invalid(why) => t(lang, &why.key(), &[]),
            AppError::RateLimited(secs) | AppError::Timeout(secs) => t(lang, &key, &[("seconds", &secs.to_string())]),
            AppError::ActionNotAllowed { status, action, .. } => t(
                lang,
                &key,
                &[
                    ("action", &t(lang, &format!("action.{}", action.as_str()), &[])),
                    ("status", &t(lang, &format!("status.{}", status.as_str()), &[])),
                ],
            ),
            _ => t(lang, &key, &[]),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let lang = request_lang();
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let retry_after = match &self {
            AppError::RateLimited(s) => Some(*s),
            _ => None,
        };
        let (status_field, allowed_actions) = match &self {
            AppError::ActionNotAllowed { status, allowed, .. } => (Some(*status), Some(allowed.clone())),
            _ => (None, None),
        };
        let body = ErrorBody {
            code: self.code(),
            message: self.message(lang),
            status: status_field,
            allowed_actions,
            problems: match self {
                AppError::InvalidFile(p) => p,
                _ => Vec::new(),
            },
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(v) = retry_after.and_then(|s| axum::http::HeaderValue::from_str(&s.to_string()).ok()) {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
        }
        response
    }
}

pub type AppResult<T> = Result<T, AppError>;
