//! Open311 GeoReport v2 under `/open311/v2`, with the `servicerequestupdates` extension
//! FixMyStreet uses. Every resource answers in JSON or XML by its extension; errors use the
//! spec's own shape (`<errors><error><code/><description/></error></errors>`).

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value};

use crate::app::App;
use crate::app::cases::CaseFilter;
use crate::app::cases::NewCaseInput;
use crate::app::open311::PublicCase;
use crate::domain::case::{Action, Status};
use crate::domain::org::OrgKind;
use crate::error::{AppError, Invalid, Thing, request_lang};

const MAX_RESULTS: u64 = 1000;
const DEFAULT_WINDOW_MS: i64 = 90 * 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fmt {
    Json,
    Xml,
}

fn split_format(file: &str) -> Result<(&str, Fmt), O311Error> {
    let (stem, ext) = file.rsplit_once('.').ok_or(O311Error::not_found())?;
    let fmt = match ext {
        "json" => Fmt::Json,
        "xml" => Fmt::Xml,
        _ => return Err(O311Error::not_found()),
    };
    Ok((stem, fmt))
}

/// A response tree that renders as the spec's JSON or XML.
enum Node {
    Text(Option<String>),
    Number(f64),
    Int(i64),
    Bool(bool),
    Record(Vec<(&'static str, Node)>),
    /// Items, each rendered in XML as an element named by the tag.
    List(&'static str, Vec<Node>),
}

fn text(s: impl Into<String>) -> Node {
    Node::Text(Some(s.into()))
}

fn opt(s: Option<String>) -> Node {
    Node::Text(s)
}

fn to_json(n: &Node) -> Value {
    match n {
        Node::Text(s) => s.clone().map(Value::String).unwrap_or(Value::Null),
        Node::Number(x) => serde_json::Number::from_f64(*x).map(Value::Number).unwrap_or(Value::Null),
        Node::Int(i) => Value::Number((*i).into()),
        Node::Bool(b) => Value::Bool(*b),
        Node::Record(fields) => Value::Object(fields.iter().map(|(k, v)| (k.to_string(), to_json(v))).collect::<Map<_, _>>()),
        Node::List(_, items) => Value::Array(items.iter().map(to_json).collect()),
    }
}

fn to_xml(tag: &str, n: &Node, out: &mut String) {
    use quick_xml::escape::escape;
    match n {
        Node::Text(None) => out.push_str(&format!("<{tag}/>")),
        Node::Text(Some(s)) => out.push_str(&format!("<{tag}>{}</{tag}>", escape(s.as_str()))),
        Node::Number(x) => out.push_str(&format!("<{tag}>{x}</{tag}>")),
        Node::Int(i) => out.push_str(&format!("<{tag}>{i}</{tag}>")),
        Node::Bool(b) => out.push_str(&format!("<{tag}>{b}</{tag}>")),
        Node::Record(fields) => {
            out.push_str(&format!("<{tag}>"));
            for (k, v) in fields {
                to_xml(k, v, out);
            }
            out.push_str(&format!("</{tag}>"));
        }
        Node::List(item, items) => {
            out.push_str(&format!("<{tag}>"));
            for i in items {
                to_xml(item, i, out);
            }
            out.push_str(&format!("</{tag}>"));
        }
    }
}

/// `root` names the XML document element; JSON shows the node itself.
fn render(fmt: Fmt, status: StatusCode, root: &str, node: &Node) -> Response {
    match fmt {
        Fmt::Json => (status, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], to_json(node).to_string()).into_response(),
        Fmt::Xml => {
            let mut out = String::from(r#"<?xml version="1.0" encoding="utf-8"?>"#);
            to_xml(root, node, &mut out);
            (status, [(header::CONTENT_TYPE, "text/xml; charset=utf-8")], out).into_response()
        }
    }
}

/// An error in the spec's shape; the format is known once the path is read.
pub struct O311Error {
    status: StatusCode,
    description: String,
    retry_after: Option<u64>,
    fmt: Fmt,
}

impl O311Error {
    fn not_found() -> O311Error {
        O311Error::from(AppError::NotFound(Thing::Resource))
    }

    fn bad(description: impl Into<String>) -> O311Error {
        O311Error { status: StatusCode::BAD_REQUEST, description: description.into(), retry_after: None, fmt: Fmt::Json }
    }

    fn in_format(mut self, fmt: Fmt) -> O311Error {
        self.fmt = fmt;
        self
    }
}

impl From<AppError> for O311Error {
    fn from(e: AppError) -> O311Error {
        if matches!(e, AppError::Forbidden) {
            let description = crate::i18n::t(request_lang(), "open311.bad_api_key", &[]);
            return O311Error { status: StatusCode::FORBIDDEN, description, retry_after: None, fmt: Fmt::Json };
        }
        let status = match e.status() {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => StatusCode::FORBIDDEN,
            StatusCode::NOT_FOUND if matches!(e, AppError::NotFound(_) | AppError::NoSuchRoute) => StatusCode::NOT_FOUND,
            StatusCode::TOO_MANY_REQUESTS => StatusCode::TOO_MANY_REQUESTS,
            s if s.is_server_error() => s,
            _ => StatusCode::BAD_REQUEST,
        };
        let retry_after = if let AppError::RateLimited(s) = e { Some(s) } else { None };
        if status.is_server_error() {
            tracing::error!(error = %e, "open311 request failed");
        }
        O311Error { status, description: e.message(request_lang()), retry_after, fmt: Fmt::Json }
    }
}

impl IntoResponse for O311Error {
    fn into_response(self) -> Response {
        let node = Node::List(
            "error",
            vec![Node::Record(vec![("code", Node::Int(self.status.as_u16() as i64)), ("description", text(self.description))])],
        );
        let mut r = render(self.fmt, self.status, "errors", &node);
        if let Some(v) = self.retry_after.and_then(|s| header::HeaderValue::from_str(&s.to_string()).ok()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    }
}

type O311Result = Result<Response, O311Error>;

/// Request parameters, with empty values treated as absent (as the spec asks). Repeated
/// keys keep every value (`attribute[state][]`).
#[derive(Default, Debug)]
pub struct Params(BTreeMap<String, Vec<String>>);

impl Params {
    fn from_pairs(pairs: Vec<(String, String)>) -> Params {
        let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in pairs {
            if !v.trim().is_empty() {
                m.entry(k).or_default().push(v.trim().to_string());
            }
        }
        Params(m)
    }

    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).and_then(|v| v.first()).map(String::as_str)
    }

    pub fn list(&self, k: &str) -> Vec<String> {
        self.get(k).map(|v| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()).unwrap_or_default()
    }

    /// `attribute[code]` and `attribute[code][]` → code → values.
    pub fn attributes(&self) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, vs) in &self.0 {
            if let Some(rest) = k.strip_prefix("attribute[") {
                let code = rest.trim_end_matches("[]").trim_end_matches(']').to_string();
                out.entry(code).or_default().extend(vs.iter().cloned());
            }
        }
        out
    }

    pub fn number(&self, k: &str) -> Result<Option<f64>, O311Error> {
        self.get(k).map(|v| v.parse::<f64>().map_err(|_| O311Error::bad(format!("{k} is not a number")))).transpose()
    }

    pub fn time(&self, k: &str) -> Result<Option<i64>, O311Error> {
        self.get(k)
            .map(|v| {
                chrono::DateTime::parse_from_rfc3339(v)
                    .map(|d| d.timestamp_millis())
                    .map_err(|_| O311Error::bad(format!("{k} is not a W3C date-time")))
            })
            .transpose()
    }
}

/// W3C-DTF in Beijing time: `2026-11-30T09:00:00+08:00`.
fn w3c(ms: i64) -> String {
    crate::domain::calendar::beijing_time(ms).format("%Y-%m-%dT%H:%M:%S+08:00").to_string()
}

pub fn routes() -> Router<App> {
    Router::new()
        .route("/services/{file}", get(service_definition))
        .route("/requests/{file}", get(one_request))
        .route("/tokens/{file}", get(token))
        .route("/media/{id}", get(media))
        .route("/{file}", get(get_resource).post(post_resource))
        .fallback(|| async { O311Error::not_found() })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_FORM_BYTES))
}

async fn get_resource(
    State(app): State<App>,
    Path(file): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let (stem, fmt) = match split_format(&file) {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };
    let params = Params::from_pairs(q);
    let result = match stem {
        "services" => services(&app, fmt, &params).await,
        "requests" => requests(&app, fmt, &params, &headers).await,
        "servicerequestupdates" => updates(&app, fmt, &params, &headers).await,
        _ => Err(O311Error::not_found()),
    };
    result.unwrap_or_else(|e| e.in_format(fmt).into_response())
}

async fn post_resource(State(app): State<App>, Path(file): Path<String>, req: Request) -> Response {
    let (stem, fmt) = match split_format(&file) {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };
    let result = async {
        let (params, media) = read_form(req).await?;
        match stem {
            "requests" => create_request(&app, fmt, params, media).await,
            "servicerequestupdates" => post_update(&app, fmt, params).await,
            _ => Err(O311Error::not_found()),
        }
    }
    .await;
    result.unwrap_or_else(|e| e.in_format(fmt).into_response())
}

/// Form-encoded or multipart (a `media` file becomes the case's photo).
async fn read_form(req: Request) -> Result<(Params, Option<Vec<u8>>), O311Error> {
    let ctype = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let body = axum::body::to_bytes(req.into_body(), MAX_FORM_BYTES).await.map_err(|_| O311Error::from(AppError::TooLarge))?;
    parse_form(&ctype, body).await
}

/// Largest request body: a form with one photo.
const MAX_FORM_BYTES: usize = 16 * 1024 * 1024;

/// Parses a request body of the given content type into parameters and an optional photo
/// (a file field, or the field `media`). Public for the fuzz targets.
pub async fn parse_form(content_type: &str, body: bytes::Bytes) -> Result<(Params, Option<Vec<u8>>), O311Error> {
    if content_type.starts_with("multipart/form-data") {
        let req = Request::builder()
            .header(header::CONTENT_TYPE, content_type)
            .body(axum::body::Body::from(body))
            .map_err(|e| O311Error::bad(e.to_string()))?;
        let mut form = axum::extract::Multipart::from_request(req, &()).await.map_err(|e| O311Error::bad(e.body_text()))?;
        let mut pairs = Vec::new();
        let mut media = None;
        while let Some(field) = form.next_field().await.map_err(|e| O311Error::bad(e.body_text()))? {
            let name = field.name().unwrap_or("").to_string();
            if field.file_name().is_some() || name == "media" {
                let bytes = field.bytes().await.map_err(|e| O311Error::bad(e.body_text()))?;
                if !bytes.is_empty() {
                    media = Some(bytes.to_vec());
                }
            } else {
                pairs.push((name, field.text().await.map_err(|e| O311Error::bad(e.body_text()))?));
            }
        }
        return Ok((Params::from_pairs(pairs), media));
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).map_err(|e| O311Error::bad(e.to_string()))?;
    Ok((Params::from_pairs(pairs), None))
}

/// An unknown `jurisdiction_id` is a 404; it may be left out while one subdistrict is served.
async fn check_jurisdiction(app: &App, params: &Params) -> Result<(), O311Error> {
    let subdistricts = app.units_of_kind(OrgKind::Subdistrict).await?;
    match params.get("jurisdiction_id") {
        Some(j) if subdistricts.iter().any(|s| s.code == j) => Ok(()),
        Some(_) => Err(O311Error::from(AppError::NotFound(Thing::Jurisdiction))),
        None if subdistricts.len() <= 1 => Ok(()),
        None => Err(O311Error::bad("jurisdiction_id is required")),
    }
}

async fn services(app: &App, fmt: Fmt, params: &Params) -> O311Result {
    check_jurisdiction(app, params).await?;
    let cats = app.categories().await?;
    let list = cats
        .into_iter()
        .filter(|c| c.active && c.citizen)
        .map(|c| {
            Node::Record(vec![
                ("service_code", text(&c.code)),
                ("service_name", text(&c.name)),
                ("description", text(format!("{}:{}", c.class_name, c.name))),
                ("metadata", Node::Bool(!c.attributes.is_empty())),
                ("type", text("realtime")),
                ("keywords", text(format!("{},{}", c.class_name, c.name))),
                ("group", text(&c.class_name)),
            ])
        })
        .collect();
    Ok(render(fmt, StatusCode::OK, "services", &Node::List("service", list)))
}

async fn service_definition(State(app): State<App>, Path(file): Path<String>, Query(q): Query<Vec<(String, String)>>) -> Response {
    let (code, fmt) = match split_format(&file) {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };
    let result: O311Result = async {
        check_jurisdiction(&app, &Params::from_pairs(q)).await?;
        let cat = app
            .categories()
            .await?
            .into_iter()
            .find(|c| c.code == code && c.active && c.citizen)
            .ok_or(AppError::NotFound(Thing::Service))?;
        let attributes = cat
            .attributes
            .iter()
            .map(|a| {
                Node::Record(vec![
                    ("variable", Node::Bool(true)),
                    ("code", text(&a.code)),
                    ("datatype", text(&a.datatype)),
                    ("required", Node::Bool(a.required)),
                    ("datatype_description", text(&a.datatype_description)),
                    ("order", Node::Int(a.order)),
                    ("description", text(&a.description)),
                    (
                        "values",
                        Node::List(
                            "value",
                            a.values.iter().map(|v| Node::Record(vec![("key", text(&v.key)), ("name", text(&v.name))])).collect(),
                        ),
                    ),
                ])
            })
            .collect();
        let def = Node::Record(vec![("service_code", text(&cat.code)), ("attributes", Node::List("attribute", attributes))]);
        Ok(render(fmt, StatusCode::OK, "service_definition", &def))
    }
    .await;
    result.unwrap_or_else(|e| e.in_format(fmt).into_response())
}

/// Where a request is: `lat`+`long`, or an `address_string` naming a grid or community.
async fn location(app: &App, params: &Params) -> Result<(f64, f64), O311Error> {
    if let (Some(lat), Some(lon)) = (params.number("lat")?, params.number("long")?) {
        return Ok((lat, lon));
    }
    let Some(address) = params.get("address_string") else {
        return Err(O311Error::bad(crate::i18n::t(request_lang(), "open311.location_required", &[])));
    };
    let dir = app.directory();
    let grid = dir
        .grids()
        .find(|g| g.name == address || g.code == address)
        .or_else(|| dir.grids().find(|g| g.community.name == address || g.community.code == address))
        .map(|g| g.code.clone())
        .ok_or_else(|| O311Error::bad(crate::i18n::t(request_lang(), "open311.unknown_address", &[("address", address)])))?;
    let p = dir.interior_point(&grid).ok_or(O311Error::not_found())?;
    Ok((p.lat, p.lon))
}

async fn create_request(app: &App, fmt: Fmt, params: Params, media: Option<Vec<u8>>) -> O311Result {
    let key = app.check_api_key(params.get("api_key")).await?;
    check_jurisdiction(app, &params).await?;
    let code = params.get("service_code").ok_or_else(|| O311Error::bad("service_code is required"))?.to_string();
    let cat = app.categories().await?.into_iter().find(|c| c.code == code && c.active && c.citizen);
    if cat.is_none() {
        return Err(O311Error::bad(crate::i18n::t(request_lang(), "open311.unknown_service", &[("code", &code)])));
    }
    let (lat, lon) = location(app, &params).await?;
    let description = params.get("description").unwrap_or("").to_string();
    if description.chars().count() > 4000 {
        return Err(AppError::Invalid(Invalid::DescriptionTooLong).into());
    }
    let mut photos = Vec::new();
    if let Some(bytes) = media {
        photos.push(app.upload_photo(None, bytes).await?.record.id);
    }
    let name = [params.get("first_name"), params.get("last_name")].into_iter().flatten().collect::<Vec<_>>().join("");
    let mut note = Vec::new();
    if let Some(url) = params.get("media_url") {
        note.push(format!("media_url: {url}"));
    }
    for k in ["device_id", "account_id"] {
        if let Some(v) = params.get(k) {
            note.push(format!("{k}: {v}"));
        }
    }
    let input = NewCaseInput {
        category: code,
        // Open311 allows an empty description; the case keeps the category name instead.
        description: if description.trim().is_empty() { cat.map(|c| c.name).unwrap_or_default() } else { description },
        lat,
        lon,
        address: params.get("address_string").map(str::to_string),
        reporter_name: (!name.is_empty()).then_some(name),
        reporter_phone: params.get("phone").map(str::to_string),
        reporter_email: params.get("email").map(str::to_string),
        attributes: params.attributes(),
        note: (!note.is_empty()).then(|| note.join("; ")),
        photos,
        // Media sent with an Open311 request is public by the protocol's nature.
        photos_public: true,
        via: Some(key.name),
        ..Default::default()
    };
    let created = app.report_case(None, input, None).await.map_err(|e| match e {
        AppError::ReportOutsideGrids => O311Error::bad(e.message(request_lang())),
        other => O311Error::from(other),
    })?;
    let node = Node::List(
        "request",
        vec![Node::Record(vec![
            ("service_request_id", text(&created.case.details.number)),
            ("service_notice", text("")),
            ("account_id", opt(params.get("account_id").map(str::to_string))),
        ])],
    );
    Ok(render(fmt, StatusCode::CREATED, "service_requests", &node))
}

fn base_url(headers: &HeaderMap) -> String {
    crate::http::public_base(headers)
}

fn open_or_closed(s: Status) -> &'static str {
    if s.is_open() { "open" } else { "closed" }
}

fn request_node(c: &PublicCase, base: &str) -> Node {
    let r = &c.record;
    Node::Record(vec![
        ("service_request_id", text(&r.details.number)),
        ("status", text(open_or_closed(r.state.status))),
        ("status_notes", opt(c.latest_note.clone())),
        ("service_name", opt(c.category.as_ref().map(|c| c.name.clone()))),
        ("service_code", text(&r.details.category_code)),
        ("description", text(&r.details.description)),
        ("agency_responsible", opt(c.agency.clone())),
        ("service_notice", opt(None)),
        ("requested_datetime", text(w3c(r.state.reported_at))),
        ("updated_datetime", text(w3c(r.updated_at))),
        ("expected_datetime", opt(r.state.handling_deadline.map(w3c))),
        ("address", opt(r.details.address.clone())),
        ("address_id", opt(None)),
        ("zipcode", opt(None)),
        ("lat", Node::Number(r.details.lat)),
        ("long", Node::Number(r.details.lon)),
        ("media_url", opt(c.photo_id.as_ref().map(|p| format!("{base}/open311/v2/media/{p}")))),
    ])
}

async fn requests(app: &App, fmt: Fmt, params: &Params, headers: &HeaderMap) -> O311Result {
    check_jurisdiction(app, params).await?;
    let ids = params.list("service_request_id");
    let mut filter = CaseFilter { limit: MAX_RESULTS, ..Default::default() };
    if !ids.is_empty() {
        // The ids override every other filter.
        filter.numbers = Some(ids);
    } else {
        let end = params.time("end_date")?.unwrap_or_else(|| app.now());
        let start = params.time("start_date")?.unwrap_or(end - DEFAULT_WINDOW_MS);
        filter.reported_since = Some(start);
        filter.reported_until = Some(end);
        filter.category_codes = params.list("service_code");
        for s in params.list("status") {
            match s.as_str() {
                "open" => filter.statuses.extend(Status::ALL.iter().copied().filter(|s| s.is_open())),
                "closed" => filter.statuses.extend([Status::Closed, Status::Rejected, Status::Merged]),
                other => return Err(O311Error::bad(format!("unknown status {other}"))),
            }
        }
    }
    let cases = app.public_cases(filter).await?;
    let base = base_url(headers);
    let list = cases.iter().map(|c| request_node(c, &base)).collect();
    Ok(render(fmt, StatusCode::OK, "service_requests", &Node::List("request", list)))
}

async fn one_request(State(app): State<App>, Path(file): Path<String>, headers: HeaderMap) -> Response {
    let (id, fmt) = match split_format(&file) {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };
    let result: O311Result = async {
        let filter = CaseFilter { numbers: Some(vec![id.to_string()]), limit: 1, ..Default::default() };
        let cases = app.public_cases(filter).await?;
        if cases.is_empty() {
            return Err(AppError::NotFound(Thing::Case).into());
        }
        let base = base_url(&headers);
        Ok(render(fmt, StatusCode::OK, "service_requests", &Node::List("request", cases.iter().map(|c| request_node(c, &base)).collect())))
    }
    .await;
    result.unwrap_or_else(|e| e.in_format(fmt).into_response())
}

/// Requests are answered in real time with their id, so a token is the id itself.
async fn token(State(app): State<App>, Path(file): Path<String>) -> Response {
    let (tok, fmt) = match split_format(&file) {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };
    let result: O311Result = async {
        let filter = CaseFilter { numbers: Some(vec![tok.to_string()]), limit: 1, ..Default::default() };
        let cases = app.public_cases(filter).await?;
        let c = cases.first().ok_or(AppError::NotFound(Thing::Case))?;
        let node =
            Node::List("request", vec![Node::Record(vec![("service_request_id", text(&c.record.details.number)), ("token", text(tok))])]);
        Ok(render(fmt, StatusCode::OK, "service_requests", &node))
    }
    .await;
    result.unwrap_or_else(|e| e.in_format(fmt).into_response())
}

/// FixMyStreet's extended status for a step of the loop.
fn update_status(action: &str) -> &'static str {
    match Action::parse(action) {
        None => "OPEN",
        Some(Action::Register | Action::Suspend) => "INVESTIGATING",
        Some(Action::Dispatch | Action::Escalate) => "ACTION_SCHEDULED",
        Some(Action::Accept | Action::Handle | Action::VerifyFail | Action::Resume) => "IN_PROGRESS",
        Some(Action::VerifyPass) => "FIXED",
        Some(Action::Reject) => "NO_FURTHER_ACTION",
        Some(Action::Merge) => "DUPLICATE",
        Some(Action::Return) => "INTERNAL_REFERRAL",
        Some(Action::Reopen) => "REOPEN",
        Some(Action::Comment) => "OPEN",
        Some(_) => "IN_PROGRESS",
    }
}

async fn updates(app: &App, fmt: Fmt, params: &Params, headers: &HeaderMap) -> O311Result {
    check_jurisdiction(app, params).await?;
    let end = params.time("end_date")?.unwrap_or_else(|| app.now());
    let start = params.time("start_date")?.unwrap_or(end - 86_400_000);
    let events = app.public_events(start, end, MAX_RESULTS).await?;
    let base = base_url(headers);
    let lang = request_lang();
    let list = events
        .iter()
        .map(|e| {
            let action = e.event.action.as_str();
            let label = crate::i18n::t(lang, &format!("action.{}", if action == "report" { "comment" } else { action }), &[]);
            Node::Record(vec![
                ("update_id", text(&e.id)),
                ("service_request_id", text(&e.case_number)),
                ("status", text(update_status(action))),
                ("updated_datetime", text(w3c(e.event.at))),
                ("description", text(e.event.note.clone().unwrap_or(label))),
                ("media_url", opt(e.event.data.photos.first().map(|p| format!("{base}/open311/v2/media/{p}")))),
                ("external_status_code", text(action)),
            ])
        })
        .collect();
    Ok(render(fmt, StatusCode::OK, "service_request_updates", &Node::List("request_update", list)))
}

async fn post_update(app: &App, fmt: Fmt, params: Params) -> O311Result {
    let key = app.check_api_key(params.get("api_key")).await?;
    check_jurisdiction(app, &params).await?;
    let id = params.get("service_request_id").ok_or_else(|| O311Error::bad("service_request_id is required"))?;
    let description = params.get("description").ok_or_else(|| O311Error::bad("description is required"))?.to_string();
    if description.chars().count() > 4000 {
        return Err(AppError::Invalid(Invalid::DescriptionTooLong).into());
    }
    let status = params.get("status").unwrap_or("OPEN").to_ascii_uppercase();
    let wants_reopen = matches!(status.as_str(), "OPEN" | "REOPEN");
    let update_id = app.citizen_follow_up(id, description, key.name, wants_reopen).await?;
    let node = Node::List("request_update", vec![Node::Record(vec![("update_id", text(update_id))])]);
    Ok(render(fmt, StatusCode::OK, "service_request_updates", &node))
}

async fn media(State(app): State<App>, Path(id): Path<String>) -> Response {
    match app.public_photo(&id).await {
        Ok((mime, bytes)) => ([(header::CONTENT_TYPE, mime)], bytes).into_response(),
        Err(e) => O311Error::from(e).into_response(),
    }
}
