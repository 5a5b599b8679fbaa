//! Chuangcheng (创城): software for a subdistrict's civilized-city campaign.
//!
//! Layers point downwards — `cli` → `server` → `api`/`web` → `http` → `app` → `export`/`files`
//! → `error` → `store`/`config` → `domain`/`i18n` — and a test (`tests/api/layers.rs`) fails
//! when one imports from a layer above it. `docs/ARCHITECTURE.md` is the map.

pub mod api;
pub mod app;
pub mod cli;
pub mod config;
pub mod domain;
pub mod error;
pub mod export;
pub mod files;
pub mod http;
pub mod i18n;
pub mod server;
pub mod store;
pub mod web;

pub use app::App;
pub use config::Config;
