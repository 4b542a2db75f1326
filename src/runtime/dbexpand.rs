//! `ioc.subst` → `ioc.db` with the native msi, as the start script ran msi.
//!
//! Templates are searched in the instance config folder, every
//! `$SUPPORT/*/db`, the runtime folder and its `db/` (where `place-files`
//! puts instance templates), in that order; file names such as
//! `$(ADCORE)/db/NDStats.template` take their macros from the environment
//! (`RELEASE.shell`). Failures name the substitution row and the template.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::db::{
    expand_substitutions_with, DiskReader, Expansion, FileReader, MsiError, MsiOptions,
};
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
    let mut overlay = Overlay::new(layout.env().clone());
    expand_ioc_db_with(
        layout,
        config_dir,
        output_dir,
        &[],
        subst_text,
        strict,
        &mut overlay,
    )
}

/// [`expand_ioc_db`] with further template folders after the usual ones,
/// and templates not yet written read from `overlay`.
pub fn expand_ioc_db_with(
    layout: &EpicsLayout,
    config_dir: &Path,
    output_dir: &Path,
    extra_dirs: &[PathBuf],
    subst_text: &str,
    strict: bool,
    overlay: &mut Overlay,
) -> Result<Expansion, Diagnostic> {
    let mut dirs = include_path(config_dir, layout.support(), output_dir);
    dirs.extend_from_slice(extra_dirs);
    let name = output_dir.join("ioc.subst").display().to_string();
    expand_db_with(subst_text, &name, &dirs, strict, overlay)
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

/// Templates not yet on disk (e.g. PVI templates about to be written), by
/// the path msi opens them at (`DIR/NAME`), read before the disk.
#[derive(Debug)]
pub struct Overlay {
    files: HashMap<Vec<u8>, Vec<u8>>,
    disk: DiskReader,
}

impl Overlay {
    /// No files yet; the disk and `env` behind them.
    pub fn new(env: Environment) -> Self {
        Overlay {
            files: HashMap::new(),
            disk: DiskReader::new(env),
        }
    }

    /// Reads template names' `$(VAR)` from `env` from now on.
    pub fn set_env(&mut self, env: Environment) {
        self.disk = DiskReader::new(env);
    }

    /// Adds the files of `set` as if they were in `dir`.
    pub fn add(&mut self, dir: &Path, set: &crate::output::OutputSet) {
        for (name, text) in &set.0 {
            let path = format!("{}/{}", dir.display(), name.display());
            self.files
                .insert(path.into_bytes(), text.as_bytes().to_vec());
        }
    }
}

impl FileReader for Overlay {
    fn read(&mut self, path: &[u8]) -> Option<Vec<u8>> {
        match self.files.get(path) {
            Some(t) => Some(t.clone()),
            None => self.disk.read(path),
        }
    }

    fn env(&self, name: &[u8]) -> Option<Vec<u8>> {
        self.disk.env(name)
    }
}

/// Expands a substitution file; undefined macros are errors when `strict`.
pub fn expand_db(
    subst_text: &str,
    subst_name: &str,
    dirs: &[PathBuf],
    strict: bool,
    env: &Environment,
) -> Result<Expansion, Diagnostic> {
    expand_db_with(
        subst_text,
        subst_name,
        dirs,
        strict,
        &mut Overlay::new(env.clone()),
    )
}

/// [`expand_db`] reading templates from `overlay` first.
pub fn expand_db_with(
    subst_text: &str,
    subst_name: &str,
    dirs: &[PathBuf],
    strict: bool,
    overlay: &mut Overlay,
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
    match expand_substitutions_with(subst_text.as_bytes(), subst_name, &opts, overlay) {
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
