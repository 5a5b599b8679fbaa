//! Pure domain logic: types, rules and calculations. No I/O, no async.

pub mod authz;
pub mod calendar;
pub mod case;
pub mod category;
pub mod coords;
pub mod grid_import;
pub mod grid_index;
pub mod indicators;
pub mod org;
pub mod photo;
pub mod privacy;
