//! The category manual (TOML, the format of data-files/categories.toml): parsed or refused
//! with row-numbered problems, never a panic; what it accepts passes the category checks.
#![no_main]
use chuangcheng::domain::category::{check_category, parse_categories};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(categories) = parse_categories(text) {
        for c in &categories {
            assert!(check_category(c).is_empty(), "an accepted category passes the checks: {c:?}");
        }
    }
});
