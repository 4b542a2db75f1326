//! `ioc validate` on 55 mutations of one instance (`tests/validate/cases/`):
//! the verdict agrees with ibek's, and the diagnostics are pinned.

mod common;

use std::path::Path;
use std::process::Command;

const DEFS: [&str; 2] = [
    "../defs/port.ibek.support.yaml",
    "../defs/motion.ibek.support.yaml",
];

fn validate(case: &Path) -> std::process::Output {
    let mut cmd = Command::new(common::iocforge());
    cmd.current_dir(case.parent().unwrap())
        .args(["ioc", "validate"])
        .arg(case.file_name().unwrap());
    for d in DEFS {
        cmd.args(["--definitions", d]);
    }
    cmd.env("IOC_NAME", "bl01-mo-ioc-01")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn diagnostics_are_pinned() {
    insta::glob!("validate/cases/*.yaml", |path| {
        let out = validate(path);
        let name = path.file_name().unwrap().to_string_lossy();
        let code = out.status.code().unwrap();
        assert_eq!(
            code == 0,
            name.starts_with("valid_"),
            "{name}: exit code {code}"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        if code != 0 {
            // every problem is located: the first line names file:line:col or the file
            let first = stderr.lines().next().unwrap_or("");
            assert!(
                first.starts_with(name.as_ref()) || first.starts_with("../defs/"),
                "{name}: {first}"
            );
        }
        insta::assert_snapshot!(format!("exit code: {code}\n{stderr}"));
    });
}

#[test]
fn verdicts_agree_with_ibek() {
    let dir = common::root().join("tests/validate/cases");
    let mut cases: Vec<_> = fs_err::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 40, "at least 40 cases");
    let mut disagreements = Vec::new();
    for case in &cases {
        let root = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(common::ibek());
        cmd.current_dir(&dir)
            .args(["runtime", "generate"])
            .arg(case.file_name().unwrap())
            .args(DEFS)
            .arg("-o")
            .arg(root.path().join("out"))
            .arg("--no-pvi")
            .env("EPICS_ROOT", root.path())
            .env("IOC_NAME", "bl01-mo-ioc-01");
        let ibek_ok = cmd.output().unwrap().status.success();
        let ours_ok = validate(case).status.success();
        if ibek_ok != ours_ok {
            disagreements.push(format!(
                "{}: ibek {ibek_ok}, iocforge {ours_ok}",
                case.display()
            ));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}
