//! The one writer of generated files: all or nothing.
//!
//! Renderers return an [`OutputSet`] (file name → text). [`write_folder`]
//! writes it into a fresh sibling folder (`.NAME.iocforge-new-*`) and then
//! swaps it into place with one `renameat2(RENAME_EXCHANGE)`, so the output
//! folder is at every instant either the old one or the new one, complete,
//! and a failure leaves the old one untouched. Where the filesystem cannot
//! exchange, two renames are used (old aside as `.NAME.iocforge-old-*`,
//! new in); a run killed between them leaves the folder missing until the
//! next run, which puts the old one back before anything else. Each run
//! removes the temporaries earlier runs left behind.
//!
//! A folder that is a mount point or a symlink (Kubernetes mounts the
//! runtime folder) cannot be renamed: its contents are replaced in place,
//! file by file, each file written to a temporary beside it and renamed
//! over the old one, as ibek writes into such folders. Like ibek, the
//! target folder holds only the generated files afterwards.
//!
//! Files whose bytes are already there are left alone: a folder that holds
//! exactly the set is not replaced, and a file written in place that already
//! has the text (and ibek's mode) is not rewritten. An IOC restarted onto a
//! persistent `opi` volume so costs no file churn, and screen servers
//! watching it see no change.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
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

const NEW_TAG: &str = ".iocforge-new-";
const OLD_TAG: &str = ".iocforge-old-";
const TMP_TAG: &str = ".iocforge-tmp-";

fn parent_and_name(folder: &Path) -> (PathBuf, String) {
    let parent = match folder.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = folder
        .file_name()
        .map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
    (parent, name)
}

/// Temporaries of earlier runs for `name` in `parent`: (old ones, new ones).
fn leftovers(parent: &Path, name: &str) -> io::Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let old_prefix = format!(".{name}{OLD_TAG}");
    let new_prefix = format!(".{name}{NEW_TAG}");
    let mut old = Vec::new();
    let mut new = Vec::new();
    for entry in fs_err::read_dir(parent)? {
        let entry = entry?;
        let file_name = entry.file_name();
        let Some(n) = file_name.to_str() else {
            continue;
        };
        if n.starts_with(&old_prefix) {
            old.push(entry.path());
        } else if n.starts_with(&new_prefix) {
            new.push(entry.path());
        }
    }
    old.sort();
    new.sort();
    Ok((old, new))
}

/// Finishes what an interrupted earlier run left: a missing folder gets
/// its old contents back, and every temporary is removed.
pub fn recover(folder: &Path) -> io::Result<()> {
    let (parent, name) = parent_and_name(folder);
    if !parent.is_dir() {
        return Ok(());
    }
    let (mut old, new) = leftovers(&parent, &name)?;
    if folder.symlink_metadata().is_err() {
        // killed between the two renames of the fallback: the old folder is whole
        if let Some(previous) = old.pop() {
            fs_err::rename(&previous, folder)?;
        }
    }
    for dir in old.into_iter().chain(new) {
        fs_err::remove_dir_all(&dir)?;
    }
    Ok(())
}

/// Writes `set` into a fresh staging folder (nobody else sees it yet).
fn write_staged(root: &Path, set: &OutputSet) -> io::Result<()> {
    let mut made: BTreeSet<PathBuf> = BTreeSet::new();
    for (rel, text) in &set.0 {
        let path = root.join(rel);
        if let Some(dir) = path.parent() {
            if made.insert(dir.to_path_buf()) {
                fs_err::create_dir_all(dir)?;
            }
        }
        fs_err::write(&path, text)?;
    }
    Ok(())
}

/// Whether the folder must be written in place: a symlink, or a mount point
/// (its device differs from its parent's).
fn written_in_place(folder: &Path, parent: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = folder.symlink_metadata() else {
        return false;
    };
    if meta.file_type().is_symlink() {
        return true;
    }
    match fs_err::metadata(parent) {
        Ok(p) => p.dev() != meta.dev() || p.ino() == meta.ino(),
        Err(_) => false,
    }
}

/// Replaces the contents of `folder` with exactly the files of `set`, atomically.
pub fn write_folder(folder: &Path, set: &OutputSet) -> io::Result<()> {
    let (parent, name) = parent_and_name(folder);
    fs_err::create_dir_all(&parent)?;
    recover(folder)?;
    if written_in_place(folder, &parent) {
        return write_in_place(folder, set);
    }
    if holds_exactly(folder, set) {
        return Ok(());
    }
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}{NEW_TAG}"))
        .tempdir_in(&parent)?;
    write_staged(staging.path(), set)?;
    if folder.symlink_metadata().is_err() {
        let staged = staging.keep();
        return fs_err::rename(&staged, folder).inspect_err(|_| {
            let _ = fs_err::remove_dir_all(&staged);
        });
    }
    match exchange(staging.path(), folder) {
        // the staging folder now holds the old output; dropping it removes it
        Ok(()) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc_ebusy()) => {
            // a mount point we did not recognise: write into it instead
            drop(staging);
            write_in_place(folder, set)
        }
        Err(_) => two_renames(staging.keep(), folder, &parent, &name),
    }
}

fn libc_ebusy() -> i32 {
    rustix::io::Errno::BUSY.raw_os_error()
}

/// Swaps two paths in one step (Linux 3.15+, on most local filesystems).
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    rustix::fs::renameat_with(
        rustix::fs::CWD,
        a,
        rustix::fs::CWD,
        b,
        rustix::fs::RenameFlags::EXCHANGE,
    )
    .map_err(io::Error::from)
}

/// The fallback swap: old aside, new in. A kill between the two leaves no
/// folder; [`recover`] on the next run restores the old one.
fn two_renames(staged: PathBuf, folder: &Path, parent: &Path, name: &str) -> io::Result<()> {
    let old = tempfile::Builder::new()
        .prefix(&format!(".{name}{OLD_TAG}"))
        .tempdir_in(parent)?
        .keep();
    // rename over an empty directory is allowed on Linux
    if let Err(e) = fs_err::rename(folder, &old) {
        let _ = fs_err::remove_dir_all(&old);
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
    Ok(())
}

/// Writes `set` into an existing folder that cannot be replaced: each file
/// goes to a temporary beside it and is renamed over the old one; entries
/// the set does not name are removed afterwards (symlinks are removed, not
/// followed).
fn write_in_place(folder: &Path, set: &OutputSet) -> io::Result<()> {
    let folder = &fs_err::canonicalize(folder)?;
    clean_in_place_temporaries(folder)?;
    let mut keep: BTreeSet<OsString> = BTreeSet::new();
    for rel in set.0.keys() {
        if let Some(first) = rel.components().next() {
            keep.insert(first.as_os_str().to_os_string());
        }
    }
    write_files(folder, set)?;
    for entry in fs_err::read_dir(folder)? {
        let entry = entry?;
        if keep.contains(&entry.file_name()) {
            continue;
        }
        if entry.file_type()?.is_dir() {
            fs_err::remove_dir_all(entry.path())?;
        } else {
            fs_err::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// Removes `.*.iocforge-tmp-*` files a killed in-place write left.
fn clean_in_place_temporaries(folder: &Path) -> io::Result<()> {
    for entry in walkdir::WalkDir::new(folder).follow_links(false) {
        let entry = entry.map_err(io::Error::other)?;
        let n = entry.file_name().to_string_lossy();
        if n.starts_with('.') && n.contains(TMP_TAG) && entry.file_type().is_file() {
            fs_err::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// Whether the regular file at `path` (not a symlink) holds exactly `text`.
fn file_holds(path: &Path, text: &str) -> bool {
    match path.symlink_metadata() {
        Ok(m) if m.file_type().is_file() && m.len() == text.len() as u64 => {
            same_bytes(path, text.as_bytes())
        }
        _ => false,
    }
}

/// Compares a file with `want` a block at a time, stopping at the first difference.
fn same_bytes(path: &Path, mut want: &[u8]) -> bool {
    use io::Read as _;
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let mut block = [0u8; 16 * 1024];
    loop {
        match file.read(&mut block) {
            Ok(0) => return want.is_empty(),
            Ok(n) => match want.split_at_checked(n) {
                Some((head, rest)) if same_slices(head, &block[..n]) => want = rest,
                _ => return false,
            },
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

/// Whether two equally long byte slices are equal. musl's `memcmp` (what
/// `==` on slices calls in the static build) goes a byte at a time; this
/// folds 64-byte chunks with XOR/OR, which the compiler turns into vector
/// instructions, about ten times fewer for the megabyte of screens a
/// restart compares.
fn same_slices(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && a.chunks(64)
            .zip(b.chunks(64))
            .all(|(x, y)| x.iter().zip(y).fold(0u8, |acc, (p, q)| acc | (p ^ q)) == 0)
}

/// Whether `folder` (a real folder) holds the files of `set` with their
/// bytes and nothing else: then replacing it would change nothing.
fn holds_exactly(folder: &Path, set: &OutputSet) -> bool {
    match folder.symlink_metadata() {
        Ok(m) if m.file_type().is_dir() => {}
        _ => return false,
    }
    let mut files = 0usize;
    for entry in walkdir::WalkDir::new(folder)
        .min_depth(1)
        .follow_links(false)
    {
        let Ok(entry) = entry else {
            return false;
        };
        let kind = entry.file_type();
        if kind.is_dir() {
            continue;
        }
        if !kind.is_file() {
            return false;
        }
        let Ok(rel) = entry.path().strip_prefix(folder) else {
            return false;
        };
        match set.0.get(rel) {
            Some(text) if file_holds(entry.path(), text) => files += 1,
            _ => return false,
        }
    }
    // a folder the set does not need (an empty one) would be left behind
    files == set.0.len() && dirs_needed(folder, set)
}

/// Whether every folder under `folder` holds some file of `set`.
fn dirs_needed(folder: &Path, set: &OutputSet) -> bool {
    let needed: BTreeSet<&Path> = set
        .0
        .keys()
        .flat_map(|rel| rel.ancestors().skip(1))
        .filter(|a| !a.as_os_str().is_empty())
        .collect();
    walkdir::WalkDir::new(folder)
        .min_depth(1)
        .follow_links(false)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_dir())
        .all(|e| {
            e.path()
                .strip_prefix(folder)
                .is_ok_and(|rel| needed.contains(rel))
        })
}

/// Writes each file of `set` into `folder` (created if missing), each one
/// atomically (temporary file, then rename); other files in `folder` stay.
/// A file that already holds its text with mode 0644 is not rewritten.
pub fn write_files(folder: &Path, set: &OutputSet) -> io::Result<()> {
    fs_err::create_dir_all(folder)?;
    let mut made: BTreeSet<PathBuf> = BTreeSet::new();
    for (rel, text) in &set.0 {
        let path = folder.join(rel);
        let dir = path.parent().unwrap_or(folder);
        if made.insert(dir.to_path_buf()) {
            fs_err::create_dir_all(dir)?;
        }
        if file_holds(&path, text) && mode_is(&path, 0o644) {
            continue;
        }
        let file_name = path
            .file_name()
            .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
        // named so that a killed run's leftovers are recognised and cleaned
        let mut tmp = tempfile::Builder::new()
            .prefix(&format!(".{file_name}{TMP_TAG}"))
            .tempfile_in(dir)?;
        io::Write::write_all(&mut tmp, text.as_bytes())?;
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

fn mode_is(path: &Path, mode: u32) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.symlink_metadata()
        .is_ok_and(|m| m.permissions().mode() & 0o7777 == mode)
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

    fn set(files: &[(&str, &str)]) -> OutputSet {
        let mut s = OutputSet::default();
        for (n, t) in files {
            s.insert(*n, (*t).to_string());
        }
        s
    }

    #[test]
    fn slices_compare_equal_only_when_every_byte_is() {
        let a: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        assert!(same_slices(&a, &a.clone()));
        assert!(same_slices(&[], &[]));
        assert!(!same_slices(&a, &a[..999]));
        // a difference anywhere, in a full chunk or in the short last one
        for at in [0, 63, 64, 500, 959, 960, 999] {
            let mut b = a.clone();
            b[at] ^= 0x80;
            assert!(!same_slices(&a, &b), "difference at {at}");
        }
    }

    #[test]
    fn replaces_folder_contents_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("runtime");
        fs_err::create_dir_all(&out).unwrap();
        fs_err::write(out.join("stale.txt"), "old").unwrap();
        write_folder(&out, &set(&[("st.cmd", "boot")])).unwrap();
        assert_eq!(fs_err::read_to_string(out.join("st.cmd")).unwrap(), "boot");
        assert!(!out.join("stale.txt").exists());
        let leftovers: Vec<_> = fs_err::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no staging folders left behind");
    }

    #[test]
    fn a_run_killed_between_renames_is_recovered_and_temporaries_go() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("runtime");
        // what the fallback leaves when killed between its renames
        let old = dir.path().join(".runtime.iocforge-old-abc");
        fs_err::create_dir_all(&old).unwrap();
        fs_err::write(old.join("st.cmd"), "previous").unwrap();
        let new = dir.path().join(".runtime.iocforge-new-def");
        fs_err::create_dir_all(&new).unwrap();
        recover(&out).unwrap();
        assert_eq!(
            fs_err::read_to_string(out.join("st.cmd")).unwrap(),
            "previous"
        );
        let names: Vec<_> = fs_err::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![OsString::from("runtime")]);
    }

    #[test]
    fn a_symlinked_folder_is_written_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        fs_err::create_dir_all(&real).unwrap();
        fs_err::write(real.join("stale.txt"), "old").unwrap();
        let link = dir.path().join("runtime");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_folder(&link, &set(&[("st.cmd", "boot"), ("sub/x.db", "db")])).unwrap();
        assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
        assert_eq!(fs_err::read_to_string(real.join("st.cmd")).unwrap(), "boot");
        assert_eq!(fs_err::read_to_string(real.join("sub/x.db")).unwrap(), "db");
        assert!(!real.join("stale.txt").exists());
    }

    fn inode(p: &Path) -> u64 {
        use std::os::unix::fs::MetadataExt;
        p.symlink_metadata().unwrap().ino()
    }

    #[test]
    fn a_folder_already_holding_the_set_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("opi");
        let files = set(&[("a.bob", "A"), ("sub/b.bob", "B")]);
        write_folder(&out, &files).unwrap();
        let (folder, file) = (inode(&out), inode(&out.join("sub/b.bob")));
        write_folder(&out, &files).unwrap();
        assert_eq!((inode(&out), inode(&out.join("sub/b.bob"))), (folder, file));
        // one changed byte, one extra file or one extra folder: replaced
        for change in ["text", "extra file", "extra folder"] {
            match change {
                "text" => fs_err::write(out.join("a.bob"), "a").unwrap(),
                "extra file" => fs_err::write(out.join("stale.bob"), "S").unwrap(),
                _ => fs_err::create_dir_all(out.join("empty")).unwrap(),
            }
            let before = inode(&out);
            write_folder(&out, &files).unwrap();
            assert_ne!(inode(&out), before, "{change}");
            assert_eq!(fs_err::read_to_string(out.join("a.bob")).unwrap(), "A");
            assert!(!out.join("stale.bob").exists() && !out.join("empty").exists());
        }
    }

    #[test]
    fn files_written_in_place_are_rewritten_only_when_they_differ() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let files = set(&[("x.template", "X"), ("y.template", "Y")]);
        write_files(dir.path(), &files).unwrap();
        let x = dir.path().join("x.template");
        let y = dir.path().join("y.template");
        let (x0, y0) = (inode(&x), inode(&y));
        fs_err::write(&y, "changed").unwrap();
        write_files(dir.path(), &files).unwrap();
        assert_eq!(inode(&x), x0, "unchanged file not rewritten");
        assert_ne!(inode(&y), y0);
        assert_eq!(fs_err::read_to_string(&y).unwrap(), "Y");
        // the right text with another mode is rewritten with ibek's mode
        fs_err::set_permissions(&x, std::fs::Permissions::from_mode(0o600)).unwrap();
        write_files(dir.path(), &files).unwrap();
        assert_eq!(x.metadata().unwrap().permissions().mode() & 0o777, 0o644);
    }
}
