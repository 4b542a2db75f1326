//! `ioc validate`'s rules: every problem of an instance, not only the first.
//!
//! Validation is generation without writing: the instance files are read,
//! merged as `runtime generate2` merges `ioc.yaml` and `runtime.yaml`,
//! checked against the definitions with ibek's rules (types, required and
//! unknown parameters, enum values, object references, unique ids), and
//! every template is rendered (Jinja syntax, undefined names, counters,
//! database args). Values ibek accepts but the editors' JSON schema rejects
//! are warnings. The command in `cli/validate.rs` only prints the result.

use std::path::PathBuf;

use crate::diag::{Diagnostics, Severity};
use crate::layout::EpicsLayout;
use crate::runtime::generate::{
    generate_parsed, load_definitions, read_instances, GenerateOptions, ParsedInstance,
};

/// Every problem of `instances` against `definitions`, errors first.
pub fn validate(
    layout: &EpicsLayout,
    instances: &[PathBuf],
    definitions: &[PathBuf],
) -> Diagnostics {
    let mut diags = match load_definitions(definitions) {
        Err(d) => d,
        Ok(modules) => {
            // each file is read once, for the checks and for the schema
            let (parsed, stem) = read_instances(instances);
            let opts = GenerateOptions::new(layout, false);
            let mut diags = match generate_parsed(&parsed, &stem, &modules, &opts) {
                Ok(_) => Diagnostics::default(),
                Err(d) => d,
            };
            schema_warnings(&parsed, &modules, &mut diags);
            diags
        }
    };
    diags.0.sort_by_key(|d| d.severity == Severity::Warning);
    diags
}

/// What the editors' JSON schema rejects though ibek accepts it (warnings).
///
/// A file with errors gets none: the errors say more.
fn schema_warnings(
    instances: &[ParsedInstance],
    modules: &[crate::model::support::SupportModule],
    diags: &mut Diagnostics,
) {
    let Ok(schema) = crate::schema::ioc_schema(modules) else {
        return;
    };
    let Ok(checker) = crate::schema::check::SchemaChecker::new(&schema.to_serde()) else {
        return;
    };
    for (src, root) in instances.iter().flatten() {
        let has_errors = diags.0.iter().any(|d| {
            d.severity == crate::diag::Severity::Error
                && d.source.as_ref().is_some_and(|s| s.path == src.path)
        });
        if has_errors {
            continue;
        }
        for p in checker.check(root) {
            diags.push(
                crate::diag::Diagnostic::error(
                    src,
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
