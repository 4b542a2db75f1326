//! `ioc.subst` → `ioc.db` with the native msi, as the start script ran msi.
//!
//! Templates are searched in the instance config folder, every
//! `$SUPPORT/*/db`, the runtime folder and its `db/` (where `place-files`
//! puts instance templates), in that order; file names such as
//! `$(ADCORE)/db/NDStats.template` take their macros from the environment
//! (`RELEASE.shell`). Failures name the substitution row and the template.

use std::path::{Path, PathBuf};

use crate::db::{expand_substitutions, Expansion, MsiError, MsiOptions};
use crate::diag::Diagnostic;
use crate::layout::{Environment, EpicsLayout};

/// The step: `ioc.subst` of `output_dir` → `ioc.db`, templates searched in
/// `config_dir`, `$SUPPORT/*/db` and `output_dir` ([`include_path`]), file
/// name macros from the layout's environment.
pub fn expand_ioc_db(
    layout: &EpicsLayout,
    config_dir: &Path,
    output_dir: &Path,
    subst_text: &str,
    strict: bool,
) -> Result<Expansion, Diagnostic> {
    let dirs = include_path(config_dir, layout.support(), output_dir);
    let name = output_dir.join("ioc.subst").display().to_string();
    expand_db(subst_text, &name, &dirs, strict, layout.env())
}

/// The template search path for an IOC's database.
pub fn include_path(config_dir: &Path, support_dir: &Path, runtime_dir: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if config_dir.is_dir() {
        dirs.push(config_dir.to_path_buf());
    }
    if let Ok(rd) = fs_err::read_dir(support_dir) {
        let mut dbs: Vec<PathBuf> = rd
            .filter_map(Result::ok)
            .map(|e| e.path().join("db"))
            .filter(|p| p.is_dir())
            .collect();
        dbs.sort();
        dirs.extend(dbs);
    }
    dirs.push(runtime_dir.to_path_buf());
    let placed = runtime_dir.join("db");
    if placed.is_dir() {
        dirs.push(placed);
    }
    dirs
}

/// Expands a substitution file; undefined macros are errors when `strict`.
pub fn expand_db(
    subst_text: &str,
    subst_name: &str,
    dirs: &[PathBuf],
    strict: bool,
    env: &Environment,
) -> Result<Expansion, Diagnostic> {
    let opts = MsiOptions {
        include_path: dirs.iter().map(|d| d.display().to_string()).collect(),
        ..MsiOptions::default()
    };
    let search = || {
        format!(
            "templates are searched in: {}",
            dirs.iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    match expand_substitutions(subst_text, subst_name, &opts, env) {
        Ok(exp) if strict && !exp.undefined.is_empty() => {
            let first = &exp.undefined[0];
            let mut d = Diagnostic::plain(None, format!("cannot expand the database: {first}"))
                .with_hint("give the macro a value in the entity's database args, or in the template with $(NAME=default)");
            for u in exp.undefined.iter().skip(1).take(9) {
                d = d.with_note(u.to_string());
            }
            if exp.undefined.len() > 10 {
                d = d.with_note(format!("and {} more lines", exp.undefined.len() - 10));
            }
            Err(d)
        }
        Ok(exp) => Ok(exp),
        Err(e @ MsiError::MissingTemplate { .. }) => Err(Diagnostic::plain(
            None,
            format!("cannot expand the database: {e}"),
        )
        .with_note(search())
        .with_hint("check the support module that provides the template is built into the image, or place the template in the config folder")),
        Err(e) => Err(Diagnostic::plain(None, format!("cannot expand the database: {e}"))),
    }
}
