//! `iocforge ioc extract-runtime-assets` against ibek 4.8.2's own command on
//! copies of the same developer-stage tree: the moved tree and what is left
//! behind must match, file for file and link for link.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A developer stage's /epics, /venv and /python under one folder.
fn make_tree(root: &Path) {
    let files = [
        "epics/epics-base/bin/linux-x86_64/softIoc",
        "epics/epics-base/bin/linux-x86_64/caget",
        "epics/epics-base/lib/linux-x86_64/libCom.so.3.23.1",
        "epics/epics-base/db/softIocExit.db",
        "epics/epics-base/dbd/softIoc.dbd",
        "epics/epics-base/src/libCom/osi.c",
        "epics/support/configure/RELEASE",
        "epics/support/configure/RELEASE.shell",
        "epics/support/configure/runtime_debs",
        "epics/support/asyn/db/asynRecord.db",
        "epics/support/asyn/lib/linux-x86_64/libasyn.a",
        "epics/support/asyn/dbd/asyn.dbd",
        "epics/support/asyn/asynApp/src/asynRecord.c",
        "epics/support/stream/lib/linux-x86_64/libstream.a",
        "epics/support/stream/streamApp/protocol/a.proto",
        "epics/support/stream/exampleApp/Db/example.db",
        "epics/support/stream/docs/index.html",
        "epics/support/widget/db/widget.template",
        "epics/support/widget/extra/widget.cfg",
        "epics/ibek-defs/asyn.ibek.support.yaml",
        "epics/pvi-defs/asyn.pvi.device.yaml",
        "epics/autosave/asyn_settings.req",
        "epics/generic-source/ioc/bin/linux-x86_64/ioc",
        "epics/generic-source/ioc/dbd/ioc.dbd",
        "epics/generic-source/ioc/iocApp/src/Makefile",
        "epics/generic-source/ibek-support/asyn/asyn.install.yml",
        "venv/bin/python",
        "python/lib/site.py",
    ];
    for f in files {
        let p = root.join(f);
        fs_err::create_dir_all(p.parent().unwrap()).unwrap();
        fs_err::write(&p, f).unwrap();
    }
    fs_err::write(
        root.join("epics/support/configure/runtime_files_list"),
        format!(
            "{}\n",
            root.join("epics/support/widget/extra/widget.cfg").display()
        ),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        root.join("epics/generic-source/ioc"),
        root.join("epics/ioc"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        "libCom.so.3.23.1",
        root.join("epics/epics-base/lib/linux-x86_64/libCom.so"),
    )
    .unwrap();
}

/// Every path under `dir` (relative to `base`, with `base` itself replaced
/// by `ROOT` inside the assets tree) → file contents or link target.
fn snapshot(dir: &Path, base: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if !dir.exists() {
        return out;
    }
    let inner = base.strip_prefix("/").unwrap();
    for e in walkdir::WalkDir::new(dir).min_depth(1) {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(dir).unwrap();
        let rel = match rel.strip_prefix(inner) {
            Ok(r) => format!("ROOT/{}", r.display()),
            Err(_) => rel.display().to_string(),
        };
        let what = if e.path_is_symlink() {
            let target = fs_err::read_link(e.path()).unwrap();
            let target = target
                .strip_prefix(base)
                .map_or_else(|_| target.clone(), |t| Path::new("ROOT").join(t));
            format!("-> {}", target.display())
        } else if e.file_type().is_dir() {
            "dir".into()
        } else {
            fs_err::read_to_string(e.path())
                .unwrap()
                .replace(&base.display().to_string(), "ROOT")
        };
        out.insert(rel, what);
    }
    out
}

struct Run {
    base: PathBuf,
    output: Output,
}

fn run(tool: &Path, args_before: &[&str], extra: &[&str]) -> (tempfile::TempDir, Run) {
    let dir = tempfile::tempdir().unwrap();
    let base = fs_err::canonicalize(dir.path()).unwrap();
    make_tree(&base);
    let mut cmd = Command::new(tool);
    cmd.args(args_before)
        .arg(base.join("assets"))
        .arg(base.join("python"))
        .args(extra)
        .arg("--source")
        .arg(base.join("epics"))
        .env("EPICS_ROOT", base.join("epics"))
        // neither may strip: the fixture files are not binaries anyway
        .env("PATH", "/usr/bin:/bin");
    let output = cmd.output().unwrap();
    (dir, Run { base, output })
}

fn compare(extra: &[&str]) {
    let (_keep_a, ours) = run(
        common::iocforge(),
        &["ioc", "extract-runtime-assets"],
        extra,
    );
    let (_keep_b, theirs) = run(&common::ibek(), &["ioc", "extract-runtime-assets"], extra);
    assert!(
        ours.output.status.success(),
        "{}",
        String::from_utf8_lossy(&ours.output.stderr)
    );
    assert!(
        theirs.output.status.success(),
        "{}",
        String::from_utf8_lossy(&theirs.output.stderr)
    );
    for sub in ["assets", "epics", "venv", "python"] {
        let a = snapshot(&ours.base.join(sub), &ours.base);
        let b = snapshot(&theirs.base.join(sub), &theirs.base);
        assert_eq!(a, b, "`{sub}` differs from ibek's ({extra:?})");
    }
    // both report the missing ones (none here) and say nothing on stdout but ibek's echo
    assert!(ours.output.stdout.is_empty());
}

#[test]
fn same_tree_as_ibek_with_defaults() {
    compare(&[]);
}

#[test]
fn same_tree_as_ibek_without_defaults() {
    compare(&["--no-defaults"]);
}

#[test]
fn dry_run_lists_on_stdout_and_moves_nothing() {
    let (_keep, ours) = run(
        common::iocforge(),
        &["ioc", "extract-runtime-assets"],
        &["--dry-run"],
    );
    assert!(ours.output.status.success());
    let base = ours.base.display().to_string();
    let stdout = String::from_utf8_lossy(&ours.output.stdout)
        .replace(&format!("{base}/assets{base}"), "DEST")
        .replace(&base, "ROOT");
    assert!(
        stdout.contains("ROOT/epics/ioc -> DEST/epics/ioc\n"),
        "{stdout}"
    );
    assert!(stdout.contains("ROOT/epics/support/asyn/db -> DEST/epics/support/asyn/db\n"));
    assert!(stdout.contains("ROOT/python -> DEST/python\n"));
    assert!(!ours.base.join("assets").exists());
    assert!(ours
        .base
        .join("epics/support/asyn/db/asynRecord.db")
        .exists());
}

#[test]
fn missing_assets_are_warnings() {
    let (_keep, ours) = run(
        common::iocforge(),
        &["ioc", "extract-runtime-assets"],
        &["/nonexistent/extra"],
    );
    assert!(ours.output.status.success());
    let err = String::from_utf8_lossy(&ours.output.stderr);
    assert!(
        err.contains("warning: runtime asset `/nonexistent/extra` missing"),
        "{err}"
    );
}
