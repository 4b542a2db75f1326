//! `iocforge ioc ...`: ibek's IOC commands.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use super::{printer, write_schema, CmdResult, Failure};
use crate::diag::Diagnostics;
use crate::layout::EpicsLayout;
use crate::model::discover::definitions_in;
use crate::runtime::generate::load_definitions;
use crate::schema::{ioc_schema, to_pretty};

/// The `ioc` subcommands.
#[derive(Debug, Subcommand)]
pub enum IocCommand {
    /// Create a JSON schema for IOC instance files from support module definitions
    ///
    /// The definitions are the files given, plus every *ibek.support.yaml directly
    /// in $EPICS_ROOT/ibek-defs unless --no-ibek-defs is given. The schema is the
    /// one ibek 4.8.2 writes, byte for byte.
    #[command(after_long_help = "Examples:\n  \
        iocforge ioc generate-schema --output /epics/ibek-defs/ioc.schema.json\n  \
        iocforge ioc generate-schema --no-ibek-defs asyn.ibek.support.yaml motorSim.ibek.support.yaml")]
    GenerateSchema(GenerateSchemaArgs),
    /// Check IOC instance files against their definitions and report every problem
    ///
    /// Instance files are merged as `runtime generate2` merges ioc.yaml and
    /// runtime.yaml; every template is rendered, so Jinja errors, undefined
    /// names, counters and database args are checked too.
    Validate(super::validate::ValidateArgs),
    /// Build the generic IOC from the support modules built before it (replaces `ansible.sh ioc`)
    Build(super::ioc_build::IocBuildArgs),
    /// Move the runtime assets of an EPICS installation into a new tree for the runtime stage
    ExtractRuntimeAssets(super::ioc_build::ExtractArgs),
    /// Write the multi-stage Dockerfile of a generic IOC manifest (ioc.manifest.yaml)
    Dockerfile(super::ioc_build::DockerfileArgs),
    /// Build a generic IOC image through the Docker Engine API
    BuildImage(super::ioc_build::BuildImageArgs),
    /// Produce the JSON schema of ioc.manifest.yaml files
    GenerateManifestSchema(super::ioc_build::ManifestSchemaArgs),
    /// Wait for the devices of wait_list.yaml to accept connections
    ///
    /// For each `ibek.wait_ip` entry, connects to `address` (host:port) until it
    /// answers, retrying while the connection is refused or the network is
    /// unreachable, for up to `timeout` seconds (0: forever). Then writes
    /// /tmp/doWait_completed.txt for other processes, as ibek does.
    DoWait(DoWaitArgs),
}

/// Arguments of `ioc do-wait`.
#[derive(Debug, Args)]
pub struct DoWaitArgs {
    /// The wait list [default: $EPICS_ROOT/runtime/wait_list.yaml]
    #[arg(long)]
    source: Option<PathBuf>,
}

/// Arguments of `ioc generate-schema`.
#[derive(Debug, Args)]
pub struct GenerateSchemaArgs {
    /// Support module definition files (*.ibek.support.yaml)
    definitions: Vec<PathBuf>,
    /// The file to write the schema to [default: stdout]
    #[arg(long)]
    output: Option<PathBuf>,
    /// Include the definitions in $EPICS_ROOT/ibek-defs (the default)
    #[arg(long, overrides_with = "no_ibek_defs")]
    ibek_defs: bool,
    /// Use only the definitions given
    #[arg(long = "no-ibek-defs", overrides_with = "ibek_defs")]
    no_ibek_defs: bool,
}

/// Runs an `ioc` subcommand.
pub fn run(cmd: IocCommand, layout: &EpicsLayout) -> CmdResult {
    match cmd {
        IocCommand::GenerateSchema(a) => generate_schema(&a, layout),
        IocCommand::Validate(a) => super::validate::run(a, layout),
        IocCommand::Build(a) => super::ioc_build::run_ioc_build(&a, layout),
        IocCommand::ExtractRuntimeAssets(a) => super::ioc_build::run_extract(&a, layout),
        IocCommand::Dockerfile(a) => super::ioc_build::run_dockerfile(&a),
        IocCommand::BuildImage(a) => super::ioc_build::run_build_image(&a, layout),
        IocCommand::GenerateManifestSchema(a) => super::ioc_build::run_manifest_schema(&a),
        IocCommand::DoWait(a) => do_wait(
            a.source
                .unwrap_or_else(|| layout.ibek_runtime().join("wait_list.yaml")),
        ),
    }
}

fn generate_schema(a: &GenerateSchemaArgs, layout: &EpicsLayout) -> CmdResult {
    // the flags override each other, so the last one given wins, as in ibek
    let use_ibek_defs = !a.no_ibek_defs;
    if a.definitions.is_empty() && !use_ibek_defs {
        return Err(Failure::exit(
            1,
            "One or more `definitions` required with `--no-ibek-defs`",
        ));
    }
    let mut definitions = a.definitions.clone();
    let ibek_defs = layout.ibek_defs();
    if use_ibek_defs {
        definitions.extend(definitions_in(&ibek_defs));
    }
    if definitions.is_empty() {
        return Err(Failure::exit(
            1,
            format!(
                "No `definitions` given and none found in {}",
                ibek_defs.display()
            ),
        ));
    }
    let modules = load_definitions(&definitions)?;
    let schema =
        ioc_schema(&modules).map_err(|e| Failure::Invalid(Diagnostics::from(e.to_diagnostic())))?;
    // the tree goes before the text is written: a hostile support file can make both huge
    let text = to_pretty(&schema);
    drop(schema);
    write_schema(&text, a.output.as_deref())
}

fn do_wait(source: PathBuf) -> CmdResult {
    use crate::runtime::wait::{do_wait, WaitError, DONE_FILE};
    let mut log = |line: String| printer::info(&line);
    match do_wait(&source, Path::new(DONE_FILE), &mut log) {
        Ok(Some(_)) => {
            printer::info("all 'wait' commands completed successfully");
            Ok(())
        }
        Ok(None) => {
            printer::info(&format!(
                "no wait list file found at {}, skipping wait commands",
                source.display()
            ));
            Ok(())
        }
        Err(e @ (WaitError::Timeout { .. } | WaitError::Fatal { .. })) => {
            Err(Failure::exit(1, e.to_string()))
        }
        Err(e) => Err(Failure::env(e.to_string())),
    }
}
