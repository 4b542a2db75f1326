//! The ibek 4.x data model: support module definitions and IOC instances.

pub mod convert;
pub mod discover;
pub mod instance;
pub mod reader;
pub mod support;
