//! The command line: ibek's command tree, plus iocforge's own commands.
//!
//! `ln -s iocforge ibek` works: `runtime generate`, `runtime generate2`,
//! `ioc generate-schema`, ... take ibek's arguments and write ibek's files.
//! Exit codes: 0 success, 1 invalid input (YAML, definitions, templates),
//! 2 usage errors and environment failures (I/O, missing tools).

pub mod dev;
pub mod ioc;
pub mod ioc_build;
pub mod msi;
pub mod pattern;
pub mod printer;
pub mod runtime;
pub mod services;
pub mod support;
pub mod support_build;
pub mod validate;

use std::path::Path;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::diag::{Diagnostics, EnvFailure};
use crate::layout::{Environment, EpicsLayout};

/// How a command failed.
#[derive(Debug)]
pub enum Failure {
    /// The user's input is invalid (exit 1).
    Invalid(Diagnostics),
    /// Something else went wrong: I/O, environment, usage (exit 2).
    Env(EnvFailure),
    /// A failure with an explicit exit code (ibek-compatible failures, a
    /// child's status passed through), rendered like the others.
    Exit(u8, EnvFailure),
}

impl Failure {
    /// An environment failure with a message.
    pub fn env(message: impl Into<String>) -> Self {
        Failure::Env(EnvFailure::new(message))
    }

    /// A failure with an explicit exit code.
    pub fn exit(code: u8, message: impl Into<String>) -> Self {
        Failure::Exit(code, EnvFailure::new(message))
    }

    /// An environment failure with a message and what to do about it.
    pub fn env_hint(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Failure::Env(EnvFailure::new(message).with_hint(hint))
    }
}

impl From<EnvFailure> for Failure {
    fn from(f: EnvFailure) -> Self {
        Failure::Env(f)
    }
}

impl From<Diagnostics> for Failure {
    fn from(d: Diagnostics) -> Self {
        Failure::Invalid(d)
    }
}

/// What a command returns.
pub type CmdResult = Result<(), Failure>;

const AFTER_HELP: &str = "\
Exit codes:
  0  success
  1  invalid input (YAML, definitions, templates, instance)
  2  usage error, or an environment failure (I/O, missing tools)

Existing Dockerfiles and start scripts keep working after `ln -s iocforge ibek`.";

/// Build and boot EPICS IOCs in containers
///
/// One binary for what ibek, its Ansible roles, start.sh and msi do: schemas
/// for IOC instance YAML, support module builds, and IOC start-up.
#[derive(Debug, Parser)]
#[command(name = "iocforge", version, after_long_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Commands for building IOC instance startup files at container runtime
    #[command(subcommand)]
    Runtime(runtime::RuntimeCommand),
    /// Commands for working with IOC instances
    #[command(subcommand)]
    Ioc(ioc::IocCommand),
    /// Commands for working with support module definitions
    #[command(subcommand)]
    Support(support::SupportCommand),
    /// EPICS msi: expand macros, includes and substitution files, exactly as msi 7.0 does
    Msi(msi::MsiArgs),
    /// Commands for working inside generic IOC developer containers
    #[command(subcommand)]
    Dev(dev::DevCommand),
    /// Commands over a services repository: list, changed, check, package
    #[command(subcommand)]
    Services(services::ServicesCommand),
    /// Commands for vendoring runtime-support patterns into a services repo
    #[command(subcommand)]
    Pattern(pattern::PatternCommand),
}

/// Applies `IOCFORGE_LIMITS` (README, "Limits") over the default limits.
fn install_limits(env: &Environment) -> Result<(), String> {
    let mut limits = crate::limits::Limits::DEFAULT;
    if let Some(spec) = env.get(crate::env::IOCFORGE_LIMITS) {
        limits
            .apply(spec)
            .map_err(|e| format!("`{}`: {e}", crate::env::IOCFORGE_LIMITS))?;
    }
    crate::limits::set(limits);
    Ok(())
}

/// Parses the arguments and runs the command.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(2),
            };
        }
    };
    // the one read of the process environment; everything below gets the layout
    let layout = EpicsLayout::from_env(Environment::capture());
    if let Err(msg) = install_limits(layout.env()) {
        printer::error(&msg);
        return ExitCode::from(2);
    }
    let result = match cli.command {
        Command::Runtime(cmd) => runtime::run(cmd, &layout),
        Command::Ioc(cmd) => ioc::run(cmd, &layout),
        Command::Support(cmd) => support::run(cmd, &layout),
        Command::Msi(args) => return msi::run(args, layout.env()),
        Command::Dev(cmd) => dev::run(cmd, &layout),
        Command::Services(cmd) => services::run(cmd, layout.env()),
        Command::Pattern(cmd) => pattern::run(cmd, layout.env()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Invalid(d)) => {
            printer::diagnostics(&d);
            ExitCode::from(if d.only_io() { 2 } else { 1 })
        }
        Err(Failure::Env(f)) => {
            printer::diagnostics(&f.to_diagnostic().into());
            ExitCode::from(2)
        }
        Err(Failure::Exit(code, f)) => {
            printer::diagnostics(&f.to_diagnostic().into());
            ExitCode::from(code)
        }
    }
}

/// Writes schema text as ibek does: `typer.echo` to stdout, or the file plus a newline.
pub fn write_schema(text: &str, output: Option<&Path>) -> CmdResult {
    // no copy of the text: a hostile support file can make it hundreds of MB
    match output {
        None => {
            printer::data(text);
            printer::data("\n");
            Ok(())
        }
        Some(path) => {
            use std::io::Write as _;
            fs_err::File::create(path)
                .and_then(|mut f| {
                    f.write_all(text.as_bytes())?;
                    f.write_all(b"\n")
                })
                .map_err(|e| Failure::env(format!("cannot write `{}`: {e}", path.display())))
        }
    }
}
