//! `iocforge ioc validate`: every problem of an instance, compiler style.
//!
//! The rules live in `runtime/validate.rs`; this file finds the definitions
//! and prints the problems as text or JSON.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{printer, CmdResult, Failure};
use crate::layout::EpicsLayout;
use crate::model::discover::{find_definitions, SUPPORT_SUFFIX};

/// Output format of `ioc validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `file:line:col: error: ...` with the source line underlined
    Human,
    /// One JSON document with every diagnostic (on stdout)
    Json,
}

/// Arguments of `ioc validate`.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Exit codes: 0 valid, 1 invalid, 2 usage or I/O error.

Examples:
  iocforge ioc validate config/ioc.yaml
  iocforge ioc validate config/ioc.yaml config/runtime.yaml --definitions defs/motor.ibek.support.yaml
  iocforge ioc validate config/ioc.yaml --format json")]
pub struct ValidateArgs {
    /// Instance files, merged in order (like ioc.yaml then runtime.yaml)
    #[arg(required = true)]
    instances: Vec<PathBuf>,
    /// Support module definition files [default: $EPICS_ROOT/ibek-defs/**/*ibek.support.yaml]
    #[arg(long)]
    definitions: Vec<PathBuf>,
    /// How to report problems
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

/// Runs `ioc validate`.
pub fn run(a: ValidateArgs, layout: &EpicsLayout) -> CmdResult {
    let mut definitions = a.definitions.clone();
    if definitions.is_empty() {
        let defs_dir = layout.ibek_defs();
        definitions = find_definitions(&defs_dir, SUPPORT_SUFFIX);
        if definitions.is_empty() {
            return Err(Failure::env(format!(
                "no definitions given and none found under `{}`; pass --definitions",
                defs_dir.display()
            )));
        }
    }
    let diags = crate::runtime::validate::validate(layout, &a.instances, &definitions);
    match a.format {
        Format::Json => {
            let doc = serde_json::json!({
                "valid": !diags.has_errors(),
                "diagnostics": diags.0.iter().map(crate::diag::Diagnostic::to_json).collect::<Vec<_>>(),
            });
            printer::data(&format!(
                "{}\n",
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            ));
            if diags.only_io() {
                Err(Failure::exit(2, "cannot read the input"))
            } else if diags.has_errors() {
                Err(Failure::exit(
                    1,
                    format!("{} problem(s) found", diags.0.len()),
                ))
            } else {
                Ok(())
            }
        }
        Format::Human => {
            if diags.has_errors() {
                let n = diags
                    .0
                    .iter()
                    .filter(|d| d.severity == crate::diag::Severity::Error)
                    .count();
                printer::diagnostics(&diags);
                let code = if diags.only_io() { 2 } else { 1 };
                Err(Failure::exit(
                    code,
                    format!(
                        "{} is invalid: {n} problem{} found",
                        a.instances
                            .iter()
                            .map(|p| crate::diag::display_path(p))
                            .collect::<Vec<_>>()
                            .join(" + "),
                        if n == 1 { "" } else { "s" }
                    ),
                ))
            } else {
                printer::diagnostics(&diags);
                printer::info(&format!(
                    "{}: valid",
                    a.instances
                        .iter()
                        .map(|p| crate::diag::display_path(p))
                        .collect::<Vec<_>>()
                        .join(" + ")
                ));
                Ok(())
            }
        }
    }
}
