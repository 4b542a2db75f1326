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
            fs_err::copy(entry.path(), &dest)?;
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
                fs_err::copy(f, target.join(f.file_name().unwrap_or_default()))?;
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
}
