//! Bringing a pattern folder from its library into reach.
//!
//! A git source is cloned with the `git` program (shallow, at the pinned tag
//! or branch) into a private temporary folder, so users' credentials,
//! mirrors and `url.<base>.insteadOf` rules apply as they do for ibek's
//! GitPython. A local source is read in place: the planner refuses
//! symlinks, so nothing outside the pattern folder is followed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use tempfile::TempDir;

use super::reference::{is_local, local_path, source_label};
use super::{py_repr, PatternError};

/// A pattern folder ready to plan from; a clone lives as long as this value.
#[derive(Debug)]
pub struct PatternDir {
    /// The pattern's folder.
    pub dir: PathBuf,
    _clone: Option<TempDir>,
}

/// How to run git.
#[derive(Debug, Clone)]
pub struct GitSettings {
    /// The git program (`git` on `PATH` by default).
    pub program: PathBuf,
}

impl Default for GitSettings {
    fn default() -> Self {
        GitSettings {
            program: PathBuf::from("git"),
        }
    }
}

fn refuse_symlinked(dir: &Path, name: &str, uri: &str) -> Result<(), PatternError> {
    if dir.is_symlink() {
        return Err(PatternError::with_hint(
            format!(
                "pattern {} in {} is a symlink; symlinks in a pattern library are refused - not followed, not vendored, not hashed",
                py_repr(name),
                source_label(uri)
            ),
            "replace the link in the library with the folder itself",
        ));
    }
    Ok(())
}

/// Finds pattern `name` in the library at `uri`, at `version` for a git source.
pub fn fetch_pattern(
    uri: &str,
    name: &str,
    version: Option<&str>,
    git: &GitSettings,
) -> Result<PatternDir, PatternError> {
    if is_local(uri) {
        let dir = local_path(uri).join(name);
        refuse_symlinked(&dir, name, uri)?;
        if !dir.is_dir() {
            return Err(PatternError::with_hint(
                format!("pattern {} not found in local library {uri}", py_repr(name)),
                "check the pattern name, or the library's path in IBEK_PATTERN_LIBRARIES / --source",
            ));
        }
        return Ok(PatternDir { dir, _clone: None });
    }
    let tmp = tempfile::Builder::new()
        .prefix("iocforge-pattern-")
        .tempdir()
        .map_err(|e| PatternError::new(format!("cannot create a temporary folder: {e}")))?;
    let clone = tmp.path().join("clone");
    let mut cmd = Command::new(&git.program);
    cmd.args(["clone", "--depth", "1", "--quiet"]);
    // ibek records an unversioned clone as `HEAD` and then asks git for a
    // branch of that name, so such a pin can never be updated or restored;
    // iocforge clones the default branch for it instead
    if let Some(v) = version.filter(|v| *v != "HEAD") {
        cmd.args(["--branch", v]);
    }
    // `--` so a source beginning with `-` is never read as an option
    cmd.arg("--").arg(uri).arg(&clone);
    cmd.stdin(Stdio::null());
    let out = cmd.output().map_err(|e| {
        PatternError::with_hint(
            format!("cannot run `{}`: {e}", git.program.display()),
            "install git, or put it on PATH",
        )
    })?;
    let shown = version.unwrap_or("HEAD");
    if !out.status.success() {
        return Err(PatternError::with_hint(
            format!(
                "failed to clone {uri}@{shown}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            "check the library URL, that the version is a tag or branch of it, and your git credentials",
        ));
    }
    let dir = clone.join(name);
    refuse_symlinked(&dir, name, uri)?;
    if !dir.is_dir() {
        return Err(PatternError::with_hint(
            format!(
                "pattern {} not found in {}@{shown}",
                py_repr(name),
                source_label(uri)
            ),
            "check the pattern name and the version",
        ));
    }
    Ok(PatternDir {
        dir,
        _clone: Some(tmp),
    })
}
