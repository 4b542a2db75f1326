//! The container runtime: generating the IOC's boot files and starting it.

pub mod generate;
