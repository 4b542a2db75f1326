//! All-or-nothing changes to a destination folder.
//!
//! `add`, `update` and `restore` change many files (vendored files, the
//! lock, the schema, `ioc.yaml`'s header). Each change goes through a
//! [`Txn`], which remembers what stood there before; if any later step
//! fails, [`Txn::rollback`] puts every file and folder back, so a failed
//! command leaves the destination as it was. Files are written to a
//! temporary sibling and renamed over their target.

use std::path::{Path, PathBuf};

use super::{io_error, PatternError};

#[derive(Debug)]
enum Undo {
    /// A file that held these bytes (and permissions) before.
    Restore(PathBuf, Vec<u8>, std::fs::Permissions),
    /// A file that did not exist before.
    Remove(PathBuf),
    /// A folder this transaction created.
    RemoveDir(PathBuf),
    /// A folder this transaction removed.
    CreateDir(PathBuf),
}

/// A set of changes that can be undone until dropped.
#[derive(Debug, Default)]
pub struct Txn {
    undo: Vec<Undo>,
}

impl Txn {
    fn remember_file(&mut self, path: &Path) -> Result<(), PatternError> {
        match fs_err::symlink_metadata(path) {
            Ok(meta) if meta.is_file() => {
                let bytes = fs_err::read(path).map_err(|e| io_error("read", path, &e))?;
                self.undo
                    .push(Undo::Restore(path.to_path_buf(), bytes, meta.permissions()));
            }
            Ok(_) => {
                // a symlink: remember its target's bytes is wrong; refuse instead
                return Err(PatternError::with_hint(
                    format!("`{}` is not a regular file", path.display()),
                    "remove it and re-run",
                ));
            }
            Err(_) => self.undo.push(Undo::Remove(path.to_path_buf())),
        }
        Ok(())
    }

    fn create_dirs(&mut self, dir: &Path) -> Result<(), PatternError> {
        let mut missing = Vec::new();
        let mut cur = Some(dir);
        while let Some(d) = cur {
            if d.is_dir() {
                break;
            }
            missing.push(d.to_path_buf());
            cur = d.parent();
        }
        for d in missing.into_iter().rev() {
            fs_err::create_dir(&d).map_err(|e| io_error("create folder", &d, &e))?;
            self.undo.push(Undo::RemoveDir(d));
        }
        Ok(())
    }

    /// Writes `bytes` to `path` (temporary sibling, then rename).
    pub fn write(&mut self, path: &Path, bytes: &[u8]) -> Result<(), PatternError> {
        let parent = path.parent().unwrap_or(Path::new("."));
        self.create_dirs(parent)?;
        self.remember_file(path)?;
        let old_perms = fs_err::metadata(path).ok().map(|m| m.permissions());
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = parent.join(format!(".{name}.iocforge-tmp"));
        let result = (|| {
            fs_err::write(&tmp, bytes)?;
            if let Some(p) = old_perms {
                fs_err::set_permissions(&tmp, p)?;
            }
            fs_err::rename(&tmp, path)
        })();
        if let Err(e) = result {
            let _ = fs_err::remove_file(&tmp);
            return Err(io_error("write", path, &e));
        }
        Ok(())
    }

    /// Removes a file (or symlink).
    pub fn remove_file(&mut self, path: &Path) -> Result<(), PatternError> {
        if fs_err::symlink_metadata(path).is_err() {
            return Ok(());
        }
        if path.is_symlink() {
            return Err(PatternError::with_hint(
                format!("`{}` is a symlink", path.display()),
                "remove it and re-run",
            ));
        }
        self.remember_file(path)?;
        // the file now exists; the undo entry restores it
        fs_err::remove_file(path).map_err(|e| io_error("remove", path, &e))
    }

    /// Removes an empty folder.
    pub fn remove_empty_dir(&mut self, dir: &Path) -> Result<(), PatternError> {
        fs_err::remove_dir(dir).map_err(|e| io_error("remove folder", dir, &e))?;
        self.undo.push(Undo::CreateDir(dir.to_path_buf()));
        Ok(())
    }

    /// Removes a whole tree (files first, then folders, deepest first).
    pub fn remove_tree(&mut self, dir: &Path) -> Result<(), PatternError> {
        let mut entries: Vec<(PathBuf, bool)> = walkdir::WalkDir::new(dir)
            .contents_first(true)
            .into_iter()
            .filter_map(Result::ok)
            .map(|e| (e.path().to_path_buf(), e.file_type().is_dir()))
            .collect();
        entries.sort_by_key(|(p, _)| std::cmp::Reverse(p.components().count()));
        for (p, is_dir) in entries {
            if is_dir {
                self.remove_empty_dir(&p)?;
            } else {
                self.remove_file(&p)?;
            }
        }
        Ok(())
    }

    /// Undoes every change, newest first; best effort.
    pub fn rollback(mut self) {
        while let Some(u) = self.undo.pop() {
            match u {
                Undo::Restore(p, bytes, perms) => {
                    if let Some(parent) = p.parent() {
                        let _ = fs_err::create_dir_all(parent);
                    }
                    let _ = fs_err::write(&p, bytes);
                    let _ = fs_err::set_permissions(&p, perms);
                }
                Undo::Remove(p) => {
                    let _ = fs_err::remove_file(&p);
                }
                Undo::RemoveDir(p) => {
                    let _ = fs_err::remove_dir(&p);
                }
                Undo::CreateDir(p) => {
                    let _ = fs_err::create_dir(&p);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollback_restores_files_and_folders() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs_err::write(root.join("kept.txt"), "old").unwrap();
        fs_err::create_dir_all(root.join("tree/sub")).unwrap();
        fs_err::write(root.join("tree/sub/f"), "f").unwrap();
        let mut txn = Txn::default();
        txn.write(&root.join("kept.txt"), b"new").unwrap();
        txn.write(&root.join("a/b/new.txt"), b"x").unwrap();
        txn.remove_tree(&root.join("tree")).unwrap();
        assert_eq!(
            fs_err::read_to_string(root.join("kept.txt")).unwrap(),
            "new"
        );
        assert!(!root.join("tree").exists());
        txn.rollback();
        assert_eq!(
            fs_err::read_to_string(root.join("kept.txt")).unwrap(),
            "old"
        );
        assert!(!root.join("a").exists());
        assert_eq!(
            fs_err::read_to_string(root.join("tree/sub/f")).unwrap(),
            "f"
        );
    }

    #[test]
    fn writes_never_go_through_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs_err::write(root.join("target"), "t").unwrap();
        std::os::unix::fs::symlink(root.join("target"), root.join("link")).unwrap();
        let mut txn = Txn::default();
        assert!(txn.write(&root.join("link"), b"x").is_err());
        assert_eq!(fs_err::read_to_string(root.join("target")).unwrap(), "t");
    }
}
