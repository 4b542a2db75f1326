//! Path containment: nothing is read or written outside the roots a command was given.
//!
//! Install files, manifests, runtime file lists, config folders and entity
//! parameters name paths; `..`, absolute paths and symlinks in them could
//! reach anywhere (`/etc`, `/`). Commands resolve every such path through
//! [`within`] or [`join_within`] against the roots they were given, and a
//! violation is an [`Outside`] error naming the offending entry. Used by
//! `build::assets` (runtime assets), `runtime::place` (config files) and
//! open to the other commands that take paths from files.

use std::path::{Component, Path, PathBuf};

/// A path that leads outside the roots it must stay in.
#[derive(Debug, Clone, thiserror::Error)]
#[error("`{}` resolves to `{}`, outside `{}`", entry.display(), resolved.display(), root.display())]
pub struct Outside {
    /// The entry as written (or as found).
    pub entry: PathBuf,
    /// Where it actually leads (symlinks and `..` resolved).
    pub resolved: PathBuf,
    /// The root it had to stay in (the first, when there are several).
    pub root: PathBuf,
}

/// `path` with `.` removed and `..` applied, without touching the disk.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() && !path.is_absolute() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Where `path` leads: symlinks of its longest existing prefix followed
/// (every component when `follow_last`, else all but the last), the rest
/// applied lexically. Relative paths are taken from the current folder.
pub fn resolve(path: &Path, follow_last: bool) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .unwrap_or_else(|_| PathBuf::from("/"))
            .join(path)
    };
    let absolute = normalize(&absolute);
    if !follow_last {
        if let (Some(parent), Some(name)) = (absolute.parent(), absolute.file_name()) {
            return resolve(parent, true).join(name);
        }
    }
    let mut existing = absolute.clone();
    let mut rest: Vec<std::ffi::OsString> = Vec::new();
    loop {
        if let Ok(real) = fs_err::canonicalize(&existing) {
            let mut out = real;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return normalize(&out);
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent.to_path_buf();
            }
            _ => return absolute,
        }
    }
}

/// Checks that `path` leads inside one of `roots` (the roots resolved too),
/// following a symlink in its last component when `follow_last`.
pub fn within_any(roots: &[&Path], path: &Path, follow_last: bool) -> Result<PathBuf, Outside> {
    let resolved = resolve(path, follow_last);
    for root in roots {
        if resolved.starts_with(resolve(root, true)) {
            return Ok(resolved);
        }
    }
    Err(Outside {
        entry: path.to_path_buf(),
        resolved,
        root: roots.first().map(|r| r.to_path_buf()).unwrap_or_default(),
    })
}

/// Checks that `path` leads inside `root`, every symlink followed.
pub fn within(root: &Path, path: &Path) -> Result<PathBuf, Outside> {
    within_any(&[root], path, true)
}

/// `root` joined with an entry read from a file, which must stay inside
/// `root`: absolute entries, `..` and symlinks that climb out are refused.
pub fn join_within(root: &Path, entry: &Path) -> Result<PathBuf, Outside> {
    let joined = root.join(entry);
    within_any(&[root], &joined, true).map_err(|mut e| {
        e.entry = entry.to_path_buf();
        e
    })?;
    Ok(normalize(&joined))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_dot_and_links_that_climb_out_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("root");
        fs_err::create_dir_all(root.join("sub")).unwrap();
        fs_err::create_dir_all(d.path().join("outside")).unwrap();
        std::os::unix::fs::symlink(d.path().join("outside"), root.join("link")).unwrap();
        std::os::unix::fs::symlink("sub", root.join("inner")).unwrap();
        assert!(join_within(&root, Path::new("sub/x")).is_ok());
        assert!(join_within(&root, Path::new("inner/x")).is_ok());
        let e = join_within(&root, Path::new("../outside/x")).unwrap_err();
        assert_eq!(e.entry, Path::new("../outside/x"));
        assert!(e.to_string().contains("outside"), "{e}");
        assert!(join_within(&root, Path::new("link/x")).is_err());
        assert!(join_within(&root, Path::new("/etc/passwd")).is_err());
        // a link as the last component is fine when it is not followed
        assert!(within_any(&[&root], &root.join("link"), false).is_ok());
        assert!(within_any(&[&root], &root.join("link"), true).is_err());
    }

    #[test]
    fn normalize_applies_dot_dot_lexically() {
        assert_eq!(normalize(Path::new("/a/b/../c/./d")), Path::new("/a/c/d"));
        assert_eq!(normalize(Path::new("/../x")), Path::new("/x"));
        assert_eq!(normalize(Path::new("../x")), Path::new("../x"));
    }
}
