//! Runtime files copied into place: protocol files and instance db/templates.
//!
//! ibek's `runtime place-files` copies the config folder's `*.proto` and
//! `*.protocol` into `runtime/protocol` (where `STREAM_PROTOCOL_PATH`
//! points) and its `*.db` and `*.template` into `runtime/db`; the start
//! script copies the protocol files support modules installed
//! (`$SUPPORT/configure/protocol`) to `runtime/protocol` first.

use std::io;
use std::path::Path;

use crate::layout::EpicsLayout;

fn outside(e: crate::contain::Outside) -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, e.to_string())
}

/// Copies `src` (which must lead inside `src_root`, links followed: a
/// Kubernetes ConfigMap's links stay inside it) to `dest` inside
/// `dest_root`, through a temporary renamed over `dest`, so a link already
/// at `dest` is replaced rather than written through.
fn copy_contained(src_root: &Path, src: &Path, dest_root: &Path, dest: &Path) -> io::Result<()> {
    crate::contain::within(src_root, src).map_err(outside)?;
    let dir = dest.parent().unwrap_or(dest_root);
    fs_err::create_dir_all(dir)?;
    crate::contain::within(dest_root, dir).map_err(outside)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".iocforge-place-")
        .tempfile_in(dir)?;
    io::copy(&mut fs_err::File::open(src)?, &mut tmp)?;
    tmp.persist(dest).map_err(|e| e.error)?;
    Ok(())
}

/// The start step: the support modules' protocol files
/// (`$SUPPORT/configure/protocol`) into `runtime/protocol`, then the config
/// folder's own files with [`place_files`]. Returns the count.
pub fn place_start_files(layout: &EpicsLayout, config_dir: &Path) -> io::Result<usize> {
    let protocols = layout.support_protocols();
    let mut n = 0;
    if protocols.is_dir() {
        n += replace_dir(&protocols, &layout.runtime().join("protocol"))?;
    }
    if config_dir.is_dir() {
        n += place_files(config_dir, layout.runtime())?;
    }
    Ok(n)
}

/// Copies a directory tree, replacing `to`.
pub fn replace_dir(from: &Path, to: &Path) -> io::Result<usize> {
    if to.exists() {
        fs_err::remove_dir_all(to)?;
    }
    let mut n = 0;
    for entry in walkdir::WalkDir::new(from).follow_links(true) {
        let entry = entry.map_err(io::Error::other)?;
        let rel = entry.path().strip_prefix(from).map_err(io::Error::other)?;
        let dest = to.join(rel);
        if entry.file_type().is_dir() {
            fs_err::create_dir_all(&dest)?;
        } else {
            copy_contained(from, entry.path(), to, &dest)?;
            n += 1;
        }
    }
    Ok(n)
}

/// ibek's `place_runtime_files`: copies config-folder protocol and database
/// files into `runtime_dir/protocol` and `runtime_dir/db`. Returns the count.
pub fn place_files(config_dir: &Path, runtime_dir: &Path) -> io::Result<usize> {
    let placements: [(&[&str], &str); 2] = [
        (&["proto", "protocol"], "protocol"),
        (&["db", "template"], "db"),
    ];
    let mut files: Vec<_> = fs_err::read_dir(config_dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let mut n = 0;
    for (exts, sub) in placements {
        for ext in exts {
            for f in files
                .iter()
                .filter(|p| p.extension().is_some_and(|e| e == *ext))
            {
                let target = runtime_dir.join(sub);
                fs_err::create_dir_all(&target)?;
                let dest = target.join(f.file_name().unwrap_or_default());
                copy_contained(config_dir, f, runtime_dir, &dest)?;
                n += 1;
            }
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_protocols_and_databases() {
        let d = tempfile::tempdir().unwrap();
        let cfg = d.path().join("config");
        fs_err::create_dir_all(&cfg).unwrap();
        for f in ["a.proto", "b.protocol", "c.db", "d.template", "ioc.yaml"] {
            fs_err::write(cfg.join(f), f).unwrap();
        }
        let rt = d.path().join("runtime");
        assert_eq!(place_files(&cfg, &rt).unwrap(), 4);
        assert!(rt.join("protocol/a.proto").exists());
        assert!(rt.join("protocol/b.protocol").exists());
        assert!(rt.join("db/c.db").exists());
        assert!(rt.join("db/d.template").exists());
        assert!(!rt.join("db/ioc.yaml").exists());
    }

    #[test]
    fn links_never_lead_outside_the_config_or_runtime_folders() {
        let d = tempfile::tempdir().unwrap();
        let cfg = d.path().join("config");
        let rt = d.path().join("runtime");
        let outside = d.path().join("outside");
        for dir in [&cfg, &rt.join("db"), &outside] {
            fs_err::create_dir_all(dir).unwrap();
        }
        fs_err::write(outside.join("secret.txt"), "secret").unwrap();
        // a ConfigMap-style link inside the folder is fine
        fs_err::create_dir_all(cfg.join("..data")).unwrap();
        fs_err::write(cfg.join("..data/ok.db"), "ok").unwrap();
        std::os::unix::fs::symlink("..data/ok.db", cfg.join("ok.db")).unwrap();
        // a link already in the destination is replaced, not written through
        std::os::unix::fs::symlink(outside.join("victim.db"), rt.join("db/ok.db")).unwrap();
        assert_eq!(place_files(&cfg, &rt).unwrap(), 1);
        assert_eq!(fs_err::read_to_string(rt.join("db/ok.db")).unwrap(), "ok");
        assert!(!outside.join("victim.db").exists());
        // a link to a file outside the config folder is refused, naming it
        std::os::unix::fs::symlink(outside.join("secret.txt"), cfg.join("leak.db")).unwrap();
        let err = place_files(&cfg, &rt).unwrap_err().to_string();
        assert!(err.contains("leak.db") && err.contains("outside"), "{err}");
        assert!(!rt.join("db/leak.db").exists());
    }
}
