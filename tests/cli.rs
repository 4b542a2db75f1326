//! Command-line behaviour: exit codes, atomic output, ibek's argument rules.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn run(cwd: &Path, args: &[&str]) -> Output {
    Command::new(common::iocforge())
        .current_dir(cwd)
        .args(args)
        .env_remove("EPICS_ROOT")
        .output()
        .unwrap()
}

fn write(dir: &Path, name: &str, text: &str) {
    fs_err::write(dir.join(name), text).unwrap();
}

const SUPPORT: &str = "module: m\nentity_models:\n  - name: E\n    description: e\n    parameters:\n      n: {type: int, description: n}\n    pre_init:\n      - value: e {{ n }}\n";

#[test]
fn failed_generate_keeps_the_previous_output() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "m.ibek.support.yaml", SUPPORT);
    write(
        d.path(),
        "good.yaml",
        "ioc_name: x\ndescription: d\nentities:\n  - type: m.E\n    n: 1\n",
    );
    write(
        d.path(),
        "bad.yaml",
        "ioc_name: x\ndescription: d\nentities:\n  - type: m.E\n    n: one\n",
    );
    let ok = run(
        d.path(),
        &[
            "runtime",
            "generate",
            "good.yaml",
            "m.ibek.support.yaml",
            "-o",
            "out",
        ],
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let before = fs_err::read_to_string(d.path().join("out/st.cmd")).unwrap();
    assert!(before.contains("e 1"));
    let bad = run(
        d.path(),
        &[
            "runtime",
            "generate",
            "bad.yaml",
            "m.ibek.support.yaml",
            "-o",
            "out",
        ],
    );
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.starts_with("bad.yaml:5:8: error: entity 0 (`m.E`): parameter `n` expects an int"),
        "{stderr}"
    );
    assert_eq!(
        fs_err::read_to_string(d.path().join("out/st.cmd")).unwrap(),
        before
    );
    let names: Vec<String> = fs_err::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.contains("iocforge")),
        "no staging folders left: {names:?}"
    );
}

#[test]
fn generate_replaces_stale_files_like_ibek() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "m.ibek.support.yaml", SUPPORT);
    write(
        d.path(),
        "ioc.yaml",
        "ioc_name: x\ndescription: d\nentities: []\n",
    );
    fs_err::create_dir_all(d.path().join("out")).unwrap();
    write(&d.path().join("out"), "stale.txt", "old");
    let ok = run(
        d.path(),
        &[
            "runtime",
            "generate",
            "ioc.yaml",
            "m.ibek.support.yaml",
            "-o",
            "out",
        ],
    );
    assert!(ok.status.success());
    assert!(!d.path().join("out/stale.txt").exists());
    assert!(d.path().join("out/ioc.subst").exists());
}

#[test]
fn generate2_needs_a_folder_or_instances() {
    let d = tempfile::tempdir().unwrap();
    let r = run(d.path(), &["runtime", "generate2"]);
    assert_eq!(r.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&r.stderr)
        .contains("either instance folder or instance files must be provided"));
    let r = run(d.path(), &["runtime", "generate2", "."]);
    assert_eq!(r.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&r.stderr).contains("no instance yaml files found"));
    let r = run(d.path(), &["runtime", "generate2", "missing-dir"]);
    assert_eq!(r.status.code(), Some(2));
}

#[test]
fn generate2_reads_ibek_defs_and_the_config_folder() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("epics");
    fs_err::create_dir_all(root.join("ibek-defs/m")).unwrap();
    write(&root.join("ibek-defs/m"), "m.ibek.support.yaml", SUPPORT);
    let cfg = d.path().join("config");
    fs_err::create_dir_all(&cfg).unwrap();
    write(
        &cfg,
        "ioc.yaml",
        "ioc_name: x\ndescription: d\nentities:\n  - type: m.E\n    n: 1\n",
    );
    write(
        &cfg,
        "runtime.yaml",
        "ioc_name: x\ndescription: d\nentities:\n  - type: m.E\n    n: 2\n",
    );
    let out = Command::new(common::iocforge())
        .current_dir(d.path())
        .args(["runtime", "generate2", "config", "-o", "out"])
        .env("EPICS_ROOT", &root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let st = fs_err::read_to_string(d.path().join("out/st.cmd")).unwrap();
    assert!(st.contains("e 1\ne 2\n"), "{st}");
}

#[test]
fn missing_files_are_environment_errors() {
    let d = tempfile::tempdir().unwrap();
    let r = run(
        d.path(),
        &[
            "runtime",
            "generate",
            "nope.yaml",
            "nope.ibek.support.yaml",
            "-o",
            "out",
        ],
    );
    assert_eq!(
        r.status.code(),
        Some(2),
        "an unreadable file is an environment error"
    );
    assert!(String::from_utf8_lossy(&r.stderr).contains("cannot read `nope.ibek.support.yaml`"));
    let r = run(d.path(), &["runtime", "generate"]);
    assert_eq!(r.status.code(), Some(2), "usage errors exit 2");
}
