//! The layers point down: a module never names a module of a layer above it, the pages and
//! the JSON API reach the store only through the app, and only the store speaks SQL. Read
//! from the source, so a new module that breaks the shape fails here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Each top-level module and its layer; a module may use only layers below its own.
const LAYERS: &[(&str, u8)] = &[
    ("domain", 0),
    ("i18n", 0),
    ("config", 1),
    ("store", 1),
    ("error", 2),
    ("files", 3),
    ("export", 3),
    ("app", 4),
    ("http", 5),
    ("api", 6),
    ("web", 6),
    ("server", 7),
    ("cli", 8),
];

/// Macros defined at the crate root, by the layer that defines them.
const MACROS: &[(&str, u8)] = &[("string_enum", 0), ("record", 1)];

fn layer_of(name: &str) -> Option<u8> {
    LAYERS.iter().chain(MACROS).find(|(n, _)| *n == name).map(|(_, l)| *l)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// (file, top-level module it belongs to, its text).
fn sources() -> Vec<(String, String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files
        .into_iter()
        .filter_map(|p| {
            let rel = p.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/");
            let top = rel.split('/').next().unwrap().trim_end_matches(".rs").to_string();
            if top == "lib" || top == "main" {
                return None;
            }
            Some((rel, top, std::fs::read_to_string(&p).unwrap()))
        })
        .collect()
}

/// Every `crate::name` a source names, with its line number.
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                out.push((i + 1, name));
            }
        }
    }
    out
}

#[test]
fn every_layer_is_known_and_points_down() {
    let mut wrong = Vec::new();
    for (file, top, text) in sources() {
        let Some(own) = layer_of(&top) else {
            wrong.push(format!("{file}: module `{top}` is in no layer — add it to LAYERS (and to docs/ARCHITECTURE.md)"));
            continue;
        };
        for (line, used) in crate_paths(&text) {
            let Some(theirs) = layer_of(&used) else {
                wrong.push(format!("{file}:{line}: crate::{used} is in no layer"));
                continue;
            };
            let is_macro = MACROS.iter().any(|(m, _)| *m == used);
            let allowed = used == top || theirs < own || (is_macro && theirs <= own);
            if !allowed {
                wrong.push(format!("{file}:{line}: `{top}` (layer {own}) uses crate::{used} (layer {theirs})"));
            }
            if matches!(top.as_str(), "api" | "web") && used == "store" {
                wrong.push(format!("{file}:{line}: handlers reach the store only through the app (crate::store)"));
            }
        }
    }
    assert!(wrong.is_empty(), "layers broken:\n{}", wrong.join("\n"));
}

/// Line numbers of string literals that hold SQL.
fn sql_lines(text: &str) -> Vec<usize> {
    const SQL: &[&str] = &["SELECT ", "INSERT INTO ", "DELETE FROM ", "CREATE TABLE ", "ALTER TABLE ", "DROP TABLE ", "CREATE INDEX "];
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            let code = line.split("//").next().unwrap_or("");
            let Some(q) = code.find('"') else { return false };
            let literal = code[q..].to_ascii_uppercase();
            SQL.iter().any(|k| literal.contains(k)) || (literal.contains("UPDATE ") && literal.contains(" SET "))
        })
        .map(|(i, _)| i + 1)
        .collect()
}

#[test]
fn only_the_store_speaks_sql() {
    let mut found = Vec::new();
    for (file, top, text) in sources() {
        if top != "store" {
            found.extend(sql_lines(&text).into_iter().map(|n| format!("{file}:{n}")));
        }
    }
    assert!(found.is_empty(), "SQL outside src/store:\n{}", found.join("\n"));
}

#[test]
fn the_checks_catch_what_they_are_for() {
    // The scanners themselves, on made-up lines: a check that finds nothing must still be
    // able to find something.
    assert_eq!(crate_paths("use crate::web::Page; // crate::store"), vec![(1, "web".to_string())]);
    assert_eq!(sql_lines("let a = 1;\nlet q = \"select id from cases\";\n// \"DELETE FROM x\""), vec![2]);
    assert!(layer_of("app").unwrap() < layer_of("web").unwrap());
    assert!(layer_of("domain").unwrap() < layer_of("store").unwrap());
    let mut per_layer: BTreeMap<u8, Vec<&str>> = BTreeMap::new();
    for (n, l) in LAYERS {
        per_layer.entry(*l).or_default().push(n);
    }
    assert!(per_layer.len() >= 8, "the layers stay distinct: {per_layer:?}");
}
