//! `iocforge support ...`: schemas of support module files.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{write_schema, CmdResult};
use crate::layout::EpicsLayout;
use crate::schema::{install_schema, support_schema, to_pretty};

/// The `support` subcommands.
#[derive(Debug, Subcommand)]
pub enum SupportCommand {
    /// Produce the JSON schema of *.ibek.support.yaml files
    ///
    /// The schema is the one ibek 4.8.2 writes, byte for byte.
    #[command(
        after_long_help = "Example:\n  iocforge support generate-schema --output ibek.support.schema.json"
    )]
    GenerateSchema(OutputArgs),
    /// Produce the JSON schema of ibek-support *.install.yml files
    ///
    /// Install files set the variables of ibek-support's `support` Ansible role,
    /// which clones, patches and builds one support module. ibek has no schema
    /// for them; this one is iocforge's.
    #[command(
        after_long_help = "Example:\n  iocforge support generate-install-schema --output install.schema.json\n\n\
        Then start each install file with:\n  # yaml-language-server: $schema=install.schema.json"
    )]
    GenerateInstallSchema(OutputArgs),
    /// Build a support module from ibek-support's MODULE.install.yml (replaces `ansible.sh MODULE`)
    Build(super::support_build::BuildArgs),
    /// Install the apt packages that support builds recorded for the runtime stage
    AptInstallRuntimePackages(super::support_build::AptInstallArgs),
}

/// The `--output` option of the schema commands.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// The file to write the schema to [default: stdout]
    #[arg(long)]
    output: Option<PathBuf>,
}

/// Runs a `support` subcommand.
pub fn run(cmd: SupportCommand, layout: &EpicsLayout) -> CmdResult {
    match cmd {
        SupportCommand::GenerateSchema(a) => {
            write_schema(&to_pretty(&support_schema()), a.output.as_deref())
        }
        SupportCommand::GenerateInstallSchema(a) => {
            write_schema(&to_pretty(&install_schema()), a.output.as_deref())
        }
        SupportCommand::Build(a) => super::support_build::run(a, layout),
        SupportCommand::AptInstallRuntimePackages(a) => {
            super::support_build::run_apt_install(a, layout)
        }
    }
}
