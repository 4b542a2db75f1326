//! `iocforge ioc validate`: every problem of an instance, compiler style.
//!
//! Validation is generation without writing: the instance files are read,
//! merged as `runtime generate2` merges `ioc.yaml` and `runtime.yaml`,
//! checked against the definitions with ibek's rules (types, required and
//! unknown parameters, enum values, object references, unique ids), and
//! every template is rendered (Jinja syntax, undefined names, counters,
//! database args). All problems are reported, not only the first.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::runtime::{epics_root, find_definitions};
use super::{printer, CmdResult, Failure};
use crate::diag::Diagnostics;
use crate::runtime::generate::{generate, load_definitions, GenerateOptions};

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
pub fn run(a: ValidateArgs) -> CmdResult {
    let mut definitions = a.definitions.clone();
    if definitions.is_empty() {
        let defs_dir = epics_root().join("ibek-defs");
        definitions = find_definitions(&defs_dir, "ibek.support.yaml");
        if definitions.is_empty() {
            return Err(Failure::Env(format!(
                "no definitions given and none found under `{}`; pass --definitions",
                defs_dir.display()
            )));
        }
    }
    let mut diags = match load_definitions(&definitions) {
        Err(d) => d,
        Ok(modules) => {
            let mut diags = match generate(&a.instances, &modules, &GenerateOptions::from_env(false)) {
                Ok(_) => Diagnostics::default(),
                Err(d) => d,
            };
            schema_warnings(&a.instances, &modules, &mut diags);
            diags
        }
    };
    diags.0.sort_by_key(|d| d.severity == crate::diag::Severity::Warning);
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
                Err(Failure::Exit(2, "cannot read the input".into()))
            } else if diags.has_errors() {
                Err(Failure::Exit(
                    1,
                    format!("{} problem(s) found", diags.0.len()),
                ))
            } else {
                Ok(())
            }
        }
        Format::Human => {
            if diags.has_errors() {
                let n = diags.0.iter().filter(|d| d.severity == crate::diag::Severity::Error).count();
                printer::diagnostics(&diags);
                let code = if diags.only_io() { 2 } else { 1 };
                Err(Failure::Exit(
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

/// What the editors' JSON schema rejects though ibek accepts it (warnings).
///
/// A file with errors gets none: the errors say more.
fn schema_warnings(
    instances: &[PathBuf],
    modules: &[crate::model::support::SupportModule],
    diags: &mut Diagnostics,
) {
    let Ok(schema) = crate::schema::ioc_schema(modules) else {
        return;
    };
    let Ok(checker) = crate::schema::check::SchemaChecker::new(&schema.to_serde()) else {
        return;
    };
    for path in instances {
        let has_errors = diags.0.iter().any(|d| {
            d.severity == crate::diag::Severity::Error
                && d.source.as_ref().is_some_and(|s| s.path == *path)
        });
        if has_errors {
            continue;
        }
        let Ok((src, root)) = crate::runtime::generate::load_yaml(path) else {
            continue;
        };
        for p in checker.check(&root) {
            diags.push(
                crate::diag::Diagnostic::error(
                    &src,
                    p.span,
                    format!(
                        "ibek accepts this, but the JSON schema that editors use rejects it: {}",
                        p.message
                    ),
                )
                .with_hint("write the value as the schema types it (e.g. 12, not \"12\" or true, for an int) so editors stop flagging it")
                .warning(),
            );
        }
    }
}
