//! Chuangcheng (创城): software for a subdistrict's civilized-city campaign.
//!
//! Layers point downwards: `web`/`api`/`cli` → `app` → `domain` and `store`.
//! See `DESIGN.md` in the shared folder for the map.

pub mod api;
pub mod app;
pub mod cli;
pub mod client_ip;
pub mod config;
pub mod domain;
pub mod error;
pub mod export;
pub mod files;
pub mod i18n;
pub mod open311;
pub mod server;
pub mod store;
pub mod web;

pub use app::App;
pub use config::Config;
