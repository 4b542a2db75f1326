//! The one writer of generated files: all or nothing.
//!
//! Renderers return an [`OutputSet`] (file name → text). [`write_folder`]
//! writes it into a fresh temporary folder beside the target and then swaps
//! it into place, so a failure never leaves a half-written output and an
//! earlier good output stays intact until the new one is complete. Like
//! ibek, the target folder holds only the generated files afterwards.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// Generated files by name relative to the output folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutputSet(pub BTreeMap<PathBuf, String>);

impl OutputSet {
    /// Adds a file.
    pub fn insert(&mut self, name: impl Into<PathBuf>, text: String) {
        self.0.insert(name.into(), text);
    }

    /// The text of a file, if generated.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(Path::new(name)).map(String::as_str)
    }
}

/// Replaces the contents of `folder` with exactly the files of `set`, atomically.
pub fn write_folder(folder: &Path, set: &OutputSet) -> io::Result<()> {
    let parent = match folder.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs_err::create_dir_all(&parent)?;
    let name = folder
        .file_name()
        .map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}.iocforge-new-"))
        .tempdir_in(&parent)?;
    for (rel, text) in &set.0 {
        let path = staging.path().join(rel);
        if let Some(dir) = path.parent() {
            fs_err::create_dir_all(dir)?;
        }
        fs_err::write(&path, text)?;
    }
    let staged = staging.keep();
    if folder.exists() {
        let old = tempfile::Builder::new()
            .prefix(&format!(".{name}.iocforge-old-"))
            .tempdir_in(&parent)?
            .keep();
        // rename over an empty directory is allowed on Linux
        if let Err(e) = fs_err::rename(folder, &old) {
            let _ = fs_err::remove_dir_all(&staged);
            return Err(e);
        }
        if let Err(e) = fs_err::rename(&staged, folder) {
            // put the previous output back before failing
            let _ = fs_err::rename(&old, folder);
            let _ = fs_err::remove_dir_all(&staged);
            return Err(e);
        }
        let _ = fs_err::remove_dir_all(&old);
    } else if let Err(e) = fs_err::rename(&staged, folder) {
        let _ = fs_err::remove_dir_all(&staged);
        return Err(e);
    }
    Ok(())
}

/// Writes each file of `set` into `folder` (created if missing), each one
/// atomically (temporary file, then rename); other files in `folder` stay.
pub fn write_files(folder: &Path, set: &OutputSet) -> io::Result<()> {
    fs_err::create_dir_all(folder)?;
    for (rel, text) in &set.0 {
        let path = folder.join(rel);
        let dir = path.parent().unwrap_or(folder);
        fs_err::create_dir_all(dir)?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        std::io::Write::write_all(&mut tmp, text.as_bytes())?;
        // as ibek writes them: readable by all (a temporary file starts private)
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            tmp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o644))?;
        }
        tmp.persist(&path).map_err(|e| e.error)?;
    }
    Ok(())
}

/// Whether two paths name the same folder (compared after resolving links when they exist).
pub fn same_dir(a: &Path, b: &Path) -> bool {
    let norm = |p: &Path| {
        fs_err::canonicalize(p)
            .or_else(|_| std::path::absolute(p))
            .unwrap_or_else(|_| p.to_path_buf())
            .components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
            .collect::<PathBuf>()
    };
    norm(a) == norm(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_folder_contents_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("runtime");
        fs_err::create_dir_all(&out).unwrap();
        fs_err::write(out.join("stale.txt"), "old").unwrap();
        let mut set = OutputSet::default();
        set.insert("st.cmd", "boot".into());
        write_folder(&out, &set).unwrap();
        assert_eq!(fs_err::read_to_string(out.join("st.cmd")).unwrap(), "boot");
        assert!(!out.join("stale.txt").exists());
        let leftovers: Vec<_> = fs_err::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no staging folders left behind");
    }
}
