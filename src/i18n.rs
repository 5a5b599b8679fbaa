//! Message catalogues (zh-CN default, en). Every user-facing string comes from here.
//!
//! The catalogues are TOML files under `locales/`, embedded in the binary. Keys are dotted
//! paths (`error.not_found`); `{name}` placeholders are filled from arguments.

use std::collections::BTreeMap;
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub enum Lang {
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::ZhCn, Lang::En];

    pub fn tag(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn from_tag(tag: &str) -> Option<Lang> {
        let t = tag.trim().to_ascii_lowercase();
        if t.starts_with("zh") {
            Some(Lang::ZhCn)
        } else if t.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// Picks the language from a remembered choice (cookie) first, then `Accept-Language`
    /// in the client's order of preference; Chinese when nothing matches.
    pub fn negotiate(remembered: Option<&str>, accept_language: Option<&str>) -> Lang {
        if let Some(lang) = remembered.and_then(Lang::from_tag) {
            return lang;
        }
        let Some(header) = accept_language else { return Lang::ZhCn };
        let mut choices: Vec<(f32, usize, Lang)> = header
            .split(',')
            .enumerate()
            .filter_map(|(i, part)| {
                let mut bits = part.split(';');
                let lang = Lang::from_tag(bits.next()?)?;
                let q = bits.find_map(|b| b.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok())).unwrap_or(1.0);
                Some((q, i, lang))
            })
            .collect();
        choices.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        choices.first().map(|c| c.2).unwrap_or_default()
    }
}

pub struct Catalog {
    messages: BTreeMap<String, String>,
}

const ZH_CN: &str = include_str!("../locales/zh-CN.toml");
const EN: &str = include_str!("../locales/en.toml");

fn flatten(prefix: &str, table: &toml::Table, out: &mut BTreeMap<String, String>) {
    for (key, value) in table {
        let full = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        match value {
            toml::Value::Table(t) => flatten(&full, t, out),
            toml::Value::String(s) => {
                out.insert(full, s.clone());
            }
            other => {
                out.insert(full, other.to_string());
            }
        }
    }
}

impl Catalog {
    fn parse(source: &str) -> Catalog {
        // The catalogues are compiled in and checked by tests; a broken one is a build defect.
        let table: toml::Table = toml::from_str(source).expect("embedded message catalogue is valid TOML");
        let mut messages = BTreeMap::new();
        flatten("", &table, &mut messages);
        Catalog { messages }
    }

    pub fn get(lang: Lang) -> &'static Catalog {
        static ZH: OnceLock<Catalog> = OnceLock::new();
        static EN_CAT: OnceLock<Catalog> = OnceLock::new();
        match lang {
            Lang::ZhCn => ZH.get_or_init(|| Catalog::parse(ZH_CN)),
            Lang::En => EN_CAT.get_or_init(|| Catalog::parse(EN)),
        }
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.messages.keys().map(String::as_str)
    }

    pub fn lookup(&self, key: &str) -> Option<&str> {
        self.messages.get(key).map(String::as_str)
    }

    /// Everything under `prefix.`, with the prefix removed — handed to templates as `t`.
    pub fn section(&self, prefix: &str) -> BTreeMap<&str, &str> {
        let p = format!("{prefix}.");
        self.messages.iter().filter_map(|(k, v)| k.strip_prefix(&p).map(|rest| (rest, v.as_str()))).collect()
    }
}

/// Translates `key`, filling `{name}` placeholders. A missing key shows itself, so a gap in a
/// catalogue is visible rather than silent (and the catalogue test catches it first).
pub fn t(lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
    let template = Catalog::get(lang).lookup(key).or_else(|| Catalog::get(Lang::ZhCn).lookup(key)).unwrap_or(key);
    let mut out = template.to_string();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogues_have_the_same_keys() {
        let zh: Vec<_> = Catalog::get(Lang::ZhCn).keys().collect();
        let en: Vec<_> = Catalog::get(Lang::En).keys().collect();
        let missing_en: Vec<_> = zh.iter().filter(|k| !en.contains(k)).collect();
        let missing_zh: Vec<_> = en.iter().filter(|k| !zh.contains(k)).collect();
        assert!(missing_en.is_empty(), "keys missing in en: {missing_en:?}");
        assert!(missing_zh.is_empty(), "keys missing in zh-CN: {missing_zh:?}");
    }

    #[test]
    fn negotiation_prefers_cookie_then_quality() {
        assert_eq!(Lang::negotiate(None, None), Lang::ZhCn);
        assert_eq!(Lang::negotiate(None, Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(Lang::negotiate(None, Some("fr, en;q=0.5, zh-CN;q=0.8")), Lang::ZhCn);
        assert_eq!(Lang::negotiate(Some("en"), Some("zh-CN")), Lang::En);
        assert_eq!(Lang::negotiate(None, Some("de")), Lang::ZhCn);
    }

    #[test]
    fn placeholders_are_filled() {
        let msg = t(Lang::En, "error.import_row", &[("row", "7"), ("reason", "x")]);
        assert!(msg.contains('7') && msg.contains('x'), "{msg}");
    }
}
