//! iocforge: build and boot EPICS IOCs in containers.
//!
//! The pipeline, top to bottom: `cli` → `runtime` / `build` → `render` /
//! `schema` / `db` → `resolve` → `jinja` / `model` → `source` / `diag` / `env`.

pub mod jinja;
pub mod source;
