//! What was built: one stamp file per module, so a second build is a no-op.
//!
//! The stamp lives in `$EPICS_ROOT/support/configure/iocforge/MODULE.stamp`
//! and records the module, the version cloned and a hash of the module's
//! ibek-support folder (the install.yml, and the patches and scripts it
//! uses). A build whose stamp matches, with the clone still in place, does
//! nothing unless forced; a stamp for another version with the clone in place
//! is an error, because ibek-support keeps an existing clone and would build
//! the old source under the new version's name.

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

/// The record of one module's build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// The module name (ibek-support folder name).
    pub module: String,
    /// The version that was cloned.
    pub version: String,
    /// `fnv1a64:` hash of the module's ibek-support folder.
    pub inputs: String,
}

/// 64-bit FNV-1a: stable across releases and platforms, unlike std's hasher.
pub fn fnv1a64(state: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(state, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// Hashes every file under `folder` (names and contents, in name order).
pub fn hash_folder(folder: &Path) -> io::Result<String> {
    let mut h = FNV_OFFSET;
    let mut files: Vec<PathBuf> = Vec::new();
    for entry in walkdir::WalkDir::new(folder).sort_by_file_name() {
        let entry = entry.map_err(io::Error::other)?;
        if entry.file_type().is_file() {
            files.push(entry.into_path());
        }
    }
    for f in files {
        let rel = f.strip_prefix(folder).unwrap_or(&f);
        h = fnv1a64(h, rel.to_string_lossy().as_bytes());
        h = fnv1a64(h, &[0]);
        h = fnv1a64(h, &fs_err::read(&f)?);
        h = fnv1a64(h, &[0]);
    }
    Ok(format!("fnv1a64:{h:016x}"))
}

impl Stamp {
    /// Where a module's stamp is kept.
    pub fn path(configure: &Path, module: &str) -> PathBuf {
        configure.join("iocforge").join(format!("{module}.stamp"))
    }

    /// The stamp file's text.
    pub fn to_text(&self) -> String {
        let mut out = String::from("# written by iocforge support build; delete to rebuild\n");
        let _ = writeln!(out, "module: {}", self.module);
        let _ = writeln!(out, "version: {}", self.version);
        let _ = writeln!(out, "inputs: {}", self.inputs);
        let _ = writeln!(out, "iocforge: {}", env!("CARGO_PKG_VERSION"));
        out
    }

    /// Reads a stamp; `None` when there is none or it is not readable as one.
    pub fn read(path: &Path) -> Option<Stamp> {
        let text = fs_err::read_to_string(path).ok()?;
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(": "))
                .map(str::to_string)
        };
        Some(Stamp {
            module: field("module")?,
            version: field("version")?,
            inputs: field("inputs")?,
        })
    }

    /// Writes the stamp, creating its folder.
    pub fn write(&self, path: &Path) -> io::Result<()> {
        if let Some(parent) = path.parent() {
            fs_err::create_dir_all(parent)?;
        }
        fs_err::write(path, self.to_text())
    }
}

/// What the recorded stamp says about a build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Freshness {
    /// Nothing recorded, or the inputs changed: build.
    Stale,
    /// The same version and inputs were built and the clone is in place.
    UpToDate,
    /// The clone in place holds another version (`held`), which ibek-support
    /// would keep and build under the new version's name.
    OtherVersion {
        /// The version the clone holds.
        held: String,
    },
}

impl Stamp {
    /// Compares this build's stamp with the one `previous` recorded;
    /// `clone_present` says whether the module's source clone exists.
    pub fn freshness(&self, previous: Option<&Stamp>, clone_present: bool) -> Freshness {
        match previous {
            Some(p) if clone_present && p == self => Freshness::UpToDate,
            Some(p) if clone_present && p.version != self.version => Freshness::OtherVersion {
                held: p.version.clone(),
            },
            _ => Freshness::Stale,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freshness_needs_the_clone_and_the_same_stamp() {
        let stamp = Stamp {
            module: "m".into(),
            version: "1".into(),
            inputs: "h".into(),
        };
        let changed = Stamp {
            inputs: "other".into(),
            ..stamp.clone()
        };
        let older = Stamp {
            version: "0".into(),
            ..stamp.clone()
        };
        assert_eq!(stamp.freshness(Some(&stamp), true), Freshness::UpToDate);
        assert_eq!(stamp.freshness(Some(&stamp), false), Freshness::Stale);
        assert_eq!(stamp.freshness(Some(&changed), true), Freshness::Stale);
        assert_eq!(stamp.freshness(None, true), Freshness::Stale);
        assert_eq!(
            stamp.freshness(Some(&older), true),
            Freshness::OtherVersion { held: "0".into() }
        );
    }

    #[test]
    fn fnv_matches_the_reference_vectors() {
        assert_eq!(fnv1a64(FNV_OFFSET, b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(FNV_OFFSET, b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(FNV_OFFSET, b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn stamps_round_trip_and_hashes_see_every_file() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::write(dir.path().join("m.install.yml"), "module: m\n").unwrap();
        let first = hash_folder(dir.path()).unwrap();
        fs_err::write(dir.path().join("m.patch"), "diff\n").unwrap();
        let second = hash_folder(dir.path()).unwrap();
        assert_ne!(first, second);
        let s = Stamp {
            module: "m".into(),
            version: "R1".into(),
            inputs: second,
        };
        let path = Stamp::path(dir.path(), "m");
        s.write(&path).unwrap();
        assert_eq!(Stamp::read(&path), Some(s));
    }
}
