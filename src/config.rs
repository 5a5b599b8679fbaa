//! Layered configuration: defaults → `chuangcheng.toml` → `CHUANGCHENG_*` environment → flags.
//!
//! The environment and flag layers are read by clap (see `cli`), which hands the result here
//! as a [`ConfigLayer`]; this module only knows how layers combine.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// A value that must never show up in logs or `Debug` output (database URLs carry passwords).
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

crate::string_enum! {
    #[derive(Default)]
    pub enum LogFormat {
        #[default]
        Text = "text",
        Json = "json",
    }
}

/// The resolved configuration every part of the program reads.
#[derive(Debug, Clone)]
pub struct Config {
    /// Directory holding the SQLite file and the blob store.
    pub data_dir: PathBuf,
    /// `postgres://…` selects PostgreSQL; `None` uses SQLite under `data_dir`.
    pub database_url: Option<Secret>,
    pub listen: SocketAddr,
    pub log_format: LogFormat,
    /// How long a login session lasts without activity.
    pub session_hours: i64,
    /// How often (seconds) the server checks whether another process changed the grids.
    pub grid_reload_seconds: u64,
    /// Office hours that deadlines count, e.g. `08:30-12:00,13:30-17:30` (Beijing time).
    pub office_hours: String,
    /// A holiday file (same format as the built-in one) whose years replace the built-in.
    pub holiday_file: Option<PathBuf>,
    /// Prefix of human case numbers, e.g. `JY` → `JY20261129-0042`.
    pub case_prefix: String,
    /// Requests per minute one Open311 API key may make.
    pub open311_per_minute: f64,
    /// Requests per minute one IP address may make without logging in.
    pub public_per_minute: f64,
    /// Failed logins for one username before it is paused for 15 minutes.
    pub login_attempts: u32,
    /// A request still unanswered after this many seconds gets 503 `timeout`.
    pub request_timeout_seconds: u64,
    /// Reverse proxies (addresses or networks) whose `X-Forwarded-For` names the client for
    /// per-IP limits. Empty: the header is ignored.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./data"),
            database_url: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            log_format: LogFormat::Text,
            session_hours: 12,
            grid_reload_seconds: 5,
            office_hours: "08:30-12:00,13:30-17:30".into(),
            holiday_file: None,
            case_prefix: "JY".into(),
            open311_per_minute: 120.0,
            public_per_minute: 300.0,
            login_attempts: 5,
            request_timeout_seconds: 60,
            trusted_proxies: Vec::new(),
        }
    }
}

/// One layer of configuration; every field optional so layers can be stacked.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigLayer {
    #[serde(alias = "data")]
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<Secret>,
    pub listen: Option<SocketAddr>,
    pub log_format: Option<LogFormat>,
    pub session_hours: Option<i64>,
    pub grid_reload_seconds: Option<u64>,
    pub office_hours: Option<String>,
    pub holiday_file: Option<PathBuf>,
    pub case_prefix: Option<String>,
    pub open311_per_minute: Option<f64>,
    pub public_per_minute: Option<f64>,
    pub login_attempts: Option<u32>,
    pub request_timeout_seconds: Option<u64>,
    pub trusted_proxies: Option<Vec<String>>,
}

/// Every key of `chuangcheng.toml`; each may also be set as `CHUANGCHENG_<KEY>` (a test
/// checks this list against the fields serde knows).
pub const KEYS: [&str; 14] = [
    "data_dir",
    "database_url",
    "listen",
    "log_format",
    "session_hours",
    "grid_reload_seconds",
    "office_hours",
    "holiday_file",
    "case_prefix",
    "open311_per_minute",
    "public_per_minute",
    "login_attempts",
    "request_timeout_seconds",
    "trusted_proxies",
];

/// The environment prefix of configuration keys.
pub const ENV_PREFIX: &str = "CHUANGCHENG_";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("configuration file {path} is not valid: {source}")]
    Parse { path: PathBuf, source: Box<toml::de::Error> },
    #[error("invalid setting {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("environment variable {name} is not valid: {reason}")]
    Env { name: String, reason: String },
}

impl ConfigLayer {
    /// Reads a TOML layer. A missing file is only an error when the user named it explicitly.
    pub fn from_file(path: &Path, must_exist: bool) -> Result<ConfigLayer, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => {
                return Ok(ConfigLayer::default());
            }
            Err(source) => return Err(ConfigError::Read { path: path.to_owned(), source }),
        };
        toml::from_str(&text).map_err(|source| ConfigError::Parse { path: path.to_owned(), source: Box::new(source) })
    }

    /// The layer the environment sets: `CHUANGCHENG_<KEY>` for every key in [`KEYS`]
    /// (`CHUANGCHENG_DATA` too, for the data directory). A value is read as TOML when it is
    /// one (`8`, `true`, `["10.0.0.0/8"]`) and as text otherwise; a list may also be written
    /// with commas (`CHUANGCHENG_TRUSTED_PROXIES=127.0.0.1,10.0.0.0/8`). Other `CHUANGCHENG_`
    /// variables (the password, the language) are not configuration and are left alone.
    pub fn from_env(vars: impl Iterator<Item = (String, String)>) -> Result<ConfigLayer, ConfigError> {
        let mut table = toml::Table::new();
        for (name, raw) in vars {
            let Some(rest) = name.strip_prefix(ENV_PREFIX) else { continue };
            let key = match rest.to_ascii_lowercase().as_str() {
                "data" => "data_dir".to_string(),
                k => k.to_string(),
            };
            if !KEYS.contains(&key.as_str()) || raw.trim().is_empty() {
                continue;
            }
            let value = match toml::from_str::<toml::Table>(&format!("v = {raw}")).ok().and_then(|mut t| t.remove("v")) {
                Some(v) if key != "trusted_proxies" || v.is_array() => v,
                _ if key == "trusted_proxies" => {
                    toml::Value::Array(raw.split(',').map(|s| toml::Value::String(s.trim().to_string())).collect())
                }
                _ => toml::Value::String(raw.clone()),
            };
            // A number where text is wanted (a case prefix of digits) is kept as text.
            let value = match (&key[..], value) {
                ("case_prefix" | "office_hours" | "database_url" | "listen" | "data_dir" | "holiday_file" | "log_format", v)
                    if !v.is_str() =>
                {
                    toml::Value::String(raw.clone())
                }
                (_, v) => v,
            };
            table.insert(key, value);
        }
        let name = |t: &toml::Table| t.keys().map(|k| format!("{ENV_PREFIX}{}", k.to_ascii_uppercase())).collect::<Vec<_>>().join(", ");
        ConfigLayer::deserialize(table.clone()).map_err(|e| ConfigError::Env { name: name(&table), reason: e.to_string() })
    }

    /// `self` over `lower`: a value set here wins.
    pub fn over(self, lower: ConfigLayer) -> ConfigLayer {
        ConfigLayer {
            data_dir: self.data_dir.or(lower.data_dir),
            database_url: self.database_url.or(lower.database_url),
            listen: self.listen.or(lower.listen),
            log_format: self.log_format.or(lower.log_format),
            session_hours: self.session_hours.or(lower.session_hours),
            grid_reload_seconds: self.grid_reload_seconds.or(lower.grid_reload_seconds),
            office_hours: self.office_hours.or(lower.office_hours),
            holiday_file: self.holiday_file.or(lower.holiday_file),
            case_prefix: self.case_prefix.or(lower.case_prefix),
            open311_per_minute: self.open311_per_minute.or(lower.open311_per_minute),
            public_per_minute: self.public_per_minute.or(lower.public_per_minute),
            login_attempts: self.login_attempts.or(lower.login_attempts),
            request_timeout_seconds: self.request_timeout_seconds.or(lower.request_timeout_seconds),
            trusted_proxies: self.trusted_proxies.or(lower.trusted_proxies),
        }
    }

    pub fn resolve(self) -> Result<Config, ConfigError> {
        let d = Config::default();
        let database_url = self.database_url.filter(|u| !u.expose().trim().is_empty());
        if let Some(url) = &database_url {
            let u = url.expose();
            if !(u.starts_with("postgres://") || u.starts_with("postgresql://")) {
                return Err(ConfigError::Invalid {
                    field: "database_url",
                    reason: "only postgres:// URLs are supported; leave it empty for SQLite".into(),
                });
            }
        }
        let session_hours = self.session_hours.unwrap_or(d.session_hours);
        if session_hours <= 0 {
            return Err(ConfigError::Invalid { field: "session_hours", reason: "must be positive".into() });
        }
        let trusted_proxies = self
            .trusted_proxies
            .unwrap_or_default()
            .iter()
            .map(|entry| {
                crate::domain::net::parse_proxy(entry).ok_or_else(|| ConfigError::Invalid {
                    field: "trusted_proxies",
                    reason: format!("{entry:?} is neither an IP address nor a network like 10.0.0.0/8"),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Config {
            data_dir: self.data_dir.unwrap_or(d.data_dir),
            database_url,
            listen: self.listen.unwrap_or(d.listen),
            log_format: self.log_format.unwrap_or(d.log_format),
            session_hours,
            grid_reload_seconds: self.grid_reload_seconds.unwrap_or(d.grid_reload_seconds).max(1),
            office_hours: self.office_hours.unwrap_or(d.office_hours),
            holiday_file: self.holiday_file,
            case_prefix: self.case_prefix.filter(|p| !p.trim().is_empty()).unwrap_or(d.case_prefix),
            open311_per_minute: self.open311_per_minute.filter(|r| *r >= 1.0).unwrap_or(d.open311_per_minute),
            public_per_minute: self.public_per_minute.filter(|r| *r >= 1.0).unwrap_or(d.public_per_minute),
            login_attempts: self.login_attempts.filter(|n| *n >= 1).unwrap_or(d.login_attempts),
            request_timeout_seconds: self.request_timeout_seconds.filter(|n| *n >= 1).unwrap_or(d.request_timeout_seconds),
            trusted_proxies,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_layer_wins_and_defaults_fill_the_rest() {
        let file: ConfigLayer = toml::from_str("data_dir = \"/srv/cc\"\nlisten = \"0.0.0.0:9000\"\nsession_hours = 4").unwrap();
        let flags = ConfigLayer { listen: Some("127.0.0.1:7000".parse().unwrap()), ..Default::default() };
        let cfg = flags.over(file).resolve().unwrap();
        assert_eq!(cfg.data_dir, PathBuf::from("/srv/cc"));
        assert_eq!(cfg.listen.to_string(), "127.0.0.1:7000");
        assert_eq!(cfg.session_hours, 4);
        assert_eq!(cfg.log_format, LogFormat::Text);
    }

    #[test]
    fn secrets_do_not_print() {
        let layer = ConfigLayer { database_url: Some(Secret::new("postgres://u:hunter2@db/x")), ..Default::default() };
        let cfg = layer.resolve().unwrap();
        assert!(!format!("{cfg:?}").contains("hunter2"));
    }

    #[test]
    fn rejects_unknown_database_scheme_and_keys() {
        let layer = ConfigLayer { database_url: Some(Secret::new("mysql://x")), ..Default::default() };
        assert!(layer.resolve().is_err());
        assert!(toml::from_str::<ConfigLayer>("colour = 1").is_err());
    }

    #[test]
    fn the_key_list_is_every_field_and_each_is_settable_from_the_environment() {
        // serde names the fields it knows when it meets an unknown one.
        let err = toml::from_str::<ConfigLayer>("no_such_key = 1").unwrap_err().to_string();
        let known: Vec<&str> = err.split('`').skip(3).step_by(2).collect();
        let mut listed = KEYS.to_vec();
        listed.sort_unstable();
        let mut known_sorted = known.clone();
        known_sorted.retain(|k| *k != "data");
        known_sorted.sort_unstable();
        assert_eq!(known_sorted, listed, "{err}");
        let vars = [
            ("CHUANGCHENG_DATA_DIR", "/srv/cc"),
            ("CHUANGCHENG_DATABASE_URL", "postgres://db/cc"),
            ("CHUANGCHENG_LISTEN", "0.0.0.0:9000"),
            ("CHUANGCHENG_LOG_FORMAT", "json"),
            ("CHUANGCHENG_SESSION_HOURS", "4"),
            ("CHUANGCHENG_GRID_RELOAD_SECONDS", "7"),
            ("CHUANGCHENG_OFFICE_HOURS", "09:00-12:00,14:00-18:00"),
            ("CHUANGCHENG_HOLIDAY_FILE", "/etc/cc/holidays.toml"),
            ("CHUANGCHENG_CASE_PREFIX", "37"),
            ("CHUANGCHENG_OPEN311_PER_MINUTE", "30"),
            ("CHUANGCHENG_PUBLIC_PER_MINUTE", "60.5"),
            ("CHUANGCHENG_LOGIN_ATTEMPTS", "3"),
            ("CHUANGCHENG_REQUEST_TIMEOUT_SECONDS", "20"),
            ("CHUANGCHENG_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8"),
            ("CHUANGCHENG_PASSWORD", "not configuration"),
        ];
        assert_eq!(vars.len() - 1, KEYS.len(), "one variable per key in this test");
        let layer = ConfigLayer::from_env(vars.iter().map(|(k, v)| (k.to_string(), v.to_string()))).unwrap();
        let c = layer.resolve().unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/srv/cc"));
        assert_eq!(c.database_url.as_ref().map(Secret::expose), Some("postgres://db/cc"));
        assert_eq!(c.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(c.session_hours, 4);
        assert_eq!(c.grid_reload_seconds, 7);
        assert_eq!(c.office_hours, "09:00-12:00,14:00-18:00");
        assert_eq!(c.holiday_file, Some(PathBuf::from("/etc/cc/holidays.toml")));
        assert_eq!(c.case_prefix, "37");
        assert_eq!(c.open311_per_minute, 30.0);
        assert_eq!(c.public_per_minute, 60.5);
        assert_eq!(c.login_attempts, 3);
        assert_eq!(c.request_timeout_seconds, 20);
        assert_eq!(c.trusted_proxies.len(), 2);
        // The environment sits between the file and the flags.
        let file: ConfigLayer = toml::from_str("session_hours = 9\nlogin_attempts = 8").unwrap();
        let env = ConfigLayer::from_env([("CHUANGCHENG_SESSION_HOURS".to_string(), "5".to_string())].into_iter()).unwrap();
        let flags = ConfigLayer { login_attempts: Some(2), ..Default::default() };
        let c = flags.over(env.over(file)).resolve().unwrap();
        assert_eq!((c.session_hours, c.login_attempts), (5, 2));
        let bad = ConfigLayer::from_env([("CHUANGCHENG_SESSION_HOURS".to_string(), "many".to_string())].into_iter());
        assert!(bad.unwrap_err().to_string().contains("CHUANGCHENG_SESSION_HOURS"));
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let layer: ConfigLayer = toml::from_str("trusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\"]").unwrap();
        let cfg = layer.resolve().unwrap();
        assert_eq!(cfg.trusted_proxies.len(), 2);
        let bad: ConfigLayer = toml::from_str("trusted_proxies = [\"nginx\"]").unwrap();
        let err = bad.resolve().unwrap_err().to_string();
        assert!(err.contains("trusted_proxies") && err.contains("nginx"), "{err}");
    }
}
