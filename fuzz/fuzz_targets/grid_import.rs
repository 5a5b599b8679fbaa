//! GeoJSON grid files: any text is either a list of grids or a list of problems, never a panic.
#![no_main]
use chuangcheng::domain::grid_import::{KnownCommunity, parse_grids};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let communities = [KnownCommunity { code: "370115001001".into(), name: "城区社区".into() }];
    if let Ok(grids) = parse_grids(text, &communities, &[]) {
        assert!(!grids.is_empty(), "an accepted file has grids");
    }
});
