//! The container runtime: generating the IOC's boot files and starting it.

pub mod autosave;
pub mod dbexpand;
pub mod generate;
pub mod place;
pub mod release_shell;
pub mod start;
pub mod validate;
pub mod wait;
