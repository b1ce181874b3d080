//! The integration test binary: every test drives the real `kseal` binary or
//! the library from outside. One binary keeps link time down; each area has
//! its own module.

mod check;
mod check_cli;
mod check_fixtures;
mod cli;
mod interop;
mod redact;
mod run;
mod scan;
mod store;
mod team;
mod util;
