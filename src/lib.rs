//! iocforge: build and boot EPICS IOCs in containers.
//!
//! The pipeline, top to bottom: `cli` → `runtime` / `build` → `render` → `resolve` →
//! `jinja` / `model` → `source` / `diag` / `env`. Stages are plain
//! data-to-data functions; `output` is the only writer of generated files.

pub mod build;
pub mod cli;
pub mod contain;
pub mod db;
pub mod diag;
pub mod env;
pub mod jinja;
pub mod layout;
pub mod limits;
pub mod model;
pub mod output;
pub mod par;
pub mod pattern;
pub mod pvi;
pub mod render;
pub mod resolve;
pub mod runtime;
pub mod schema;
pub mod services;
pub mod source;
pub mod span;
