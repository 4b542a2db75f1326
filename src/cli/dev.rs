//! `iocforge dev ...`: commands for working inside a generic IOC developer container.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{printer, CmdResult, Failure};
use crate::layout::EpicsLayout;

/// The `dev` subcommands.
#[derive(Debug, Subcommand)]
pub enum DevCommand {
    /// Symlink an IOC instance's config folder into $EPICS_ROOT/ioc/config
    ///
    /// e.g. `iocforge dev instance /workspaces/bl01t/services/bl01t-ea-test-01`
    /// links /epics/ioc/config to .../bl01t-ea-test-01/config, so that edits
    /// are live and stay under version control.
    Instance(InstanceArgs),
}

/// Arguments of `dev instance`.
#[derive(Debug, Args)]
pub struct InstanceArgs {
    /// The IOC instance folder (holding `config/`)
    instance: PathBuf,
}

/// Runs a `dev` subcommand.
pub fn run(cmd: DevCommand, layout: &EpicsLayout) -> CmdResult {
    match cmd {
        DevCommand::Instance(a) => instance(&a.instance, layout),
    }
}

fn instance(instance: &std::path::Path, layout: &EpicsLayout) -> CmdResult {
    if !instance.is_dir() {
        return Err(Failure::env(format!(
            "invalid value for INSTANCE: directory `{}` does not exist",
            instance.display()
        )));
    }
    let instance = fs_err::canonicalize(instance).map_err(|e| Failure::env(e.to_string()))?;
    let ioc = layout.ioc();
    if !ioc.is_dir() {
        return Err(Failure::exit(
            1,
            format!("could not find ioc folder {}", ioc.display()),
        ));
    }
    let link = ioc.join("config");
    let target = instance.join("config");
    if link
        .symlink_metadata()
        .is_ok_and(|m| m.file_type().is_symlink())
    {
        fs_err::remove_file(&link).map_err(|e| Failure::env(e.to_string()))?;
    } else if link.exists() {
        fs_err::remove_dir_all(&link).map_err(|e| Failure::env(e.to_string()))?;
    }
    printer::info(&format!(
        "symlinking {} to {}",
        target.display(),
        link.display()
    ));
    std::os::unix::fs::symlink(&target, &link)
        .map_err(|e| Failure::env(format!("cannot link {}: {e}", link.display())))
}
