//! Every case under `tests/msi/cases/` runs through the reference msi
//! 7.0.8.1 and `iocforge msi`; stdout, stderr, exit status and the files
//! left behind must be identical.
//!
//! A case is a folder of input files plus a `case` file of directives, one
//! per line: `arg X` (one command-line argument), `env NAME=VALUE`, `stdin
//! FILE` (fed to standard input), `dir NAME` (an empty folder to create),
//! `stderr ignore` (do not compare stderr); `#` starts a comment.

mod common;
#[path = "msi/harness.rs"]
mod harness;

use harness::{differences, run, Invocation, StderrCheck, Tool};

fn load_case(dir: &std::path::Path) -> (Invocation, StderrCheck) {
    let mut inv = Invocation::default();
    let mut check = StderrCheck::Exact;
    let spec = fs_err::read_to_string(dir.join("case")).unwrap();
    for line in spec.lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line.split_once(' ').unwrap_or((line, ""));
        match key {
            "arg" => inv.args.push(value.into()),
            "env" => {
                let (k, v) = value.split_once('=').expect("env NAME=VALUE");
                inv.env.push((k.into(), v.into()));
            }
            "stdin" => inv.stdin = fs_err::read(dir.join(value)).unwrap(),
            "dir" => inv.files.push((format!("{value}/"), Vec::new())),
            "stderr" if value == "ignore" => check = StderrCheck::Ignore,
            _ => panic!("{}: unknown directive `{line}`", dir.display()),
        }
    }
    for e in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let e = e.unwrap();
        let rel = e
            .path()
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if e.file_type().is_file() && rel != "case" {
            inv.files.push((rel, fs_err::read(e.path()).unwrap()));
        }
    }
    (inv, check)
}

#[test]
fn iocforge_msi_matches_msi_on_every_case() {
    let mut cases: Vec<_> = fs_err::read_dir(harness::cases_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 40, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for dir in &cases {
        let (inv, check) = load_case(dir);
        let msi = run(Tool::Reference, &inv);
        let ours = run(Tool::Iocforge, &inv);
        if let Some(d) = differences(&msi, &ours, check) {
            failures.push(format!(
                "== case {}\n{d}",
                dir.file_name().unwrap().to_string_lossy()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
