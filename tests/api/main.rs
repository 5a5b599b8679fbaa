//! Integration tests: the real server over a real socket, on SQLite and (with
//! TEST_DATABASE_URL) on PostgreSQL.

mod accounts;
mod authz;
mod browser;
mod bulletins;
mod cases;
mod cli;
mod crash;
mod defects;
mod grids;
mod helpers;
mod info_reports;
mod inspections;
mod key_tasks;
mod layers;
mod limits;
mod locate;
mod merchants;
mod open311;
mod openapi;
mod photos;
mod store;
mod upgrade;
mod volunteers;
mod web;
