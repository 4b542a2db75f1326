//! `ioc build`'s definitions step: the support definitions of the image in
//! `$EPICS_ROOT/ibek-defs`, and the IOC schema made of them.
//!
//! ibek-support's `_ansible` links its global definitions into `ibek-defs`;
//! iocforge adds its own `epics` module (support-defs/, built into the
//! binary) unless ibek-support provides one, then writes
//! `ibek-defs/ioc.schema.json` from every definition there.

use std::path::{Path, PathBuf};

use crate::diag::Diagnostics;
use crate::model::discover::definitions_in;
use crate::runtime::generate::load_definitions;
use crate::schema::{ioc_schema, to_pretty};

/// The project's own `epics` support module (support-defs/), built into the binary.
pub const EPICS_DEFS: &str = include_str!("../../support-defs/epics.ibek.support.yaml");

/// Why the definitions step failed.
#[derive(Debug, thiserror::Error)]
pub enum DefsError {
    /// A file or folder cannot be read or written.
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// There is nothing to make the schema of.
    #[error("no support definitions (*ibek.support.yaml) in `{}` to make the IOC schema of", dir.display())]
    NoDefinitions {
        /// `ibek-defs`.
        dir: PathBuf,
    },
    /// A definition file is invalid.
    #[error("invalid support definitions")]
    Invalid(Diagnostics),
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> DefsError + 'a {
    move |source| DefsError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// Links the `*ibek.support.yaml` directly in `dir` into `ibek_defs`
/// (replacing links of the same name); returns the links made.
pub fn link_global_defs(dir: &Path, ibek_defs: &Path) -> Result<Vec<PathBuf>, DefsError> {
    fs_err::create_dir_all(ibek_defs).map_err(io("create", ibek_defs))?;
    let dir = fs_err::canonicalize(dir).map_err(io("resolve", dir))?;
    let mut made = Vec::new();
    for def in definitions_in(&dir) {
        let Some(name) = def.file_name() else {
            continue;
        };
        let link = ibek_defs.join(name);
        if fs_err::symlink_metadata(&link).is_ok() {
            fs_err::remove_file(&link).map_err(io("remove", &link))?;
        }
        std::os::unix::fs::symlink(&def, &link).map_err(io("link", &link))?;
        made.push(link);
    }
    Ok(made)
}

/// Installs the built-in `epics` definitions unless `ibek_defs` already has
/// an `epics.ibek.support.yaml`; returns the file written, if any.
pub fn install_epics_defs(ibek_defs: &Path) -> Result<Option<PathBuf>, DefsError> {
    let target = ibek_defs.join("epics.ibek.support.yaml");
    if fs_err::symlink_metadata(&target).is_ok() {
        return Ok(None);
    }
    fs_err::create_dir_all(ibek_defs).map_err(io("create", ibek_defs))?;
    fs_err::write(&target, EPICS_DEFS).map_err(io("write", &target))?;
    Ok(Some(target))
}

/// The IOC schema (pretty JSON, as ibek writes it) of the definitions
/// directly in `ibek_defs`, and how many files it was made of.
pub fn ioc_schema_text(ibek_defs: &Path) -> Result<(String, usize), DefsError> {
    let definitions = definitions_in(ibek_defs);
    if definitions.is_empty() {
        return Err(DefsError::NoDefinitions {
            dir: ibek_defs.to_path_buf(),
        });
    }
    let modules = load_definitions(&definitions).map_err(DefsError::Invalid)?;
    let schema = ioc_schema(&modules)
        .map_err(|e| DefsError::Invalid(Diagnostics::from(e.to_diagnostic())))?;
    Ok((to_pretty(&schema), definitions.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epics_defs_are_installed_once_and_make_a_schema() {
        let d = tempfile::tempdir().unwrap();
        let defs = d.path().join("ibek-defs");
        assert!(matches!(
            ioc_schema_text(&defs),
            Err(DefsError::NoDefinitions { .. })
        ));
        assert!(install_epics_defs(&defs).unwrap().is_some());
        assert!(install_epics_defs(&defs).unwrap().is_none());
        let (schema, n) = ioc_schema_text(&defs).unwrap();
        assert_eq!(n, 1);
        assert!(schema.contains("epics.dbpf"));
    }
}
