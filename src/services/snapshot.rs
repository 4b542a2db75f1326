//! A services repository as it was at a commit, or as the work tree is now.
//!
//! Commits are read through the `git` program (`git archive` streamed into a
//! temporary folder), so the user's work tree, index and HEAD are never
//! touched. The work tree is copied the same way, file by file, keeping only
//! what git would commit (`git ls-files --cached --others --exclude-standard`),
//! so ignored leftovers such as `charts/` from `helm dependency update` do not
//! count. Symlinks are copied as symlinks; the temporary folder is removed
//! when the snapshot is dropped.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::ServicesError;

/// A copy of the repository in a temporary folder.
#[derive(Debug)]
pub struct Snapshot {
    dir: tempfile::TempDir,
    /// How the snapshot is named in messages (`REF:` or empty for the work tree).
    pub label: String,
}

impl Snapshot {
    /// The folder holding the copy.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }
}

/// Runs git in `repo` and returns its stdout.
fn git(repo: &Path, args: &[&str]) -> Result<Vec<u8>, ServicesError> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| ServicesError::Git {
            args: args.join(" "),
            message: format!("cannot run git: {e}"),
        })?;
    if !out.status.success() {
        return Err(ServicesError::Git {
            args: args.join(" "),
            message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(out.stdout)
}

fn temp_dir() -> Result<tempfile::TempDir, ServicesError> {
    tempfile::Builder::new()
        .prefix("iocforge-services-")
        .tempdir()
        .map_err(|e| ServicesError::Write {
            path: PathBuf::from("<temporary folder>"),
            reason: e.to_string(),
        })
}

/// Checks that `repo` is the top of a git work tree (commits are read from the top).
pub fn require_top(repo: &Path) -> Result<(), ServicesError> {
    let prefix = git(repo, &["rev-parse", "--show-prefix"])?;
    let prefix = String::from_utf8_lossy(&prefix).trim().to_string();
    if prefix.is_empty() {
        Ok(())
    } else {
        Err(ServicesError::Git {
            args: "rev-parse --show-prefix".into(),
            message: format!(
                "`{}` is the folder `{prefix}` inside a git work tree; pass the top of the work tree",
                repo.display()
            ),
        })
    }
}

/// The commit a revision names, or a clear error.
pub fn resolve_commit(repo: &Path, rev: &str) -> Result<String, ServicesError> {
    let spec = format!("{rev}^{{commit}}");
    let out = git(repo, &["rev-parse", "--verify", "--quiet", &spec]).map_err(|e| match e {
        ServicesError::Git { args, message } if message.is_empty() => ServicesError::Git {
            args,
            message: format!("`{rev}` names no commit in `{}`", repo.display()),
        },
        other => other,
    })?;
    Ok(String::from_utf8_lossy(&out).trim().to_string())
}

/// The repository at commit `rev`.
pub fn at_commit(repo: &Path, rev: &str) -> Result<Snapshot, ServicesError> {
    let commit = resolve_commit(repo, rev)?;
    let dir = temp_dir()?;
    let args = ["archive", "--format=tar", commit.as_str()];
    let mut child = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| ServicesError::Git {
            args: args.join(" "),
            message: format!("cannot run git: {e}"),
        })?;
    let stdout = child.stdout.take().ok_or_else(|| ServicesError::Git {
        args: args.join(" "),
        message: "no output pipe".into(),
    })?;
    let mut archive = tar::Archive::new(stdout);
    archive.set_preserve_permissions(false);
    archive.set_preserve_mtime(false);
    let unpacked = archive.unpack(dir.path());
    // drain what is left so git can exit, then read its verdict
    let mut rest = archive.into_inner();
    let _ = std::io::copy(&mut rest, &mut std::io::sink());
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    let status = child.wait().map_err(|e| ServicesError::Git {
        args: args.join(" "),
        message: e.to_string(),
    })?;
    if !status.success() {
        return Err(ServicesError::Git {
            args: args.join(" "),
            message: stderr.trim().to_string(),
        });
    }
    unpacked.map_err(|e| ServicesError::Write {
        path: dir.path().to_path_buf(),
        reason: e.to_string(),
    })?;
    Ok(Snapshot {
        dir,
        label: format!("{rev}:"),
    })
}

/// The work tree as git would commit it now (tracked and untracked, not ignored).
pub fn work_tree(repo: &Path) -> Result<Snapshot, ServicesError> {
    let listing = git(
        repo,
        &[
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ],
    )?;
    let dir = temp_dir()?;
    let mut last = None;
    for raw in listing.split(|b| *b == 0).filter(|p| !p.is_empty()) {
        let rel = PathBuf::from(String::from_utf8_lossy(raw).into_owned());
        // a file both staged and deleted, or listed twice while in conflict
        if last.as_ref() == Some(&rel) {
            continue;
        }
        copy_entry(&repo.join(&rel), &dir.path().join(&rel))?;
        last = Some(rel);
    }
    Ok(Snapshot {
        dir,
        label: String::new(),
    })
}

fn copy_entry(from: &Path, to: &Path) -> Result<(), ServicesError> {
    let Ok(meta) = fs_err::symlink_metadata(from) else {
        // deleted in the work tree but still in the index: not there now
        return Ok(());
    };
    let write_err = |e: std::io::Error| ServicesError::Write {
        path: to.to_path_buf(),
        reason: crate::source::io_reason(&e),
    };
    if let Some(parent) = to.parent() {
        fs_err::create_dir_all(parent).map_err(write_err)?;
    }
    if meta.file_type().is_symlink() {
        let target = fs_err::read_link(from).map_err(|e| ServicesError::Read {
            path: from.to_path_buf(),
            reason: crate::source::io_reason(&e),
        })?;
        symlink(&target, to).map_err(write_err)?;
    } else if meta.is_file() {
        fs_err::copy(from, to).map_err(write_err)?;
    }
    // a folder here is a submodule, which `git archive` leaves out as well
    Ok(())
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    // without symlinks, a link becomes a text file holding its target, as git stores it
    fs_err::write(link, target.to_string_lossy().as_bytes())
}
