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

use std::path::PathBuf;

use harness::{differences, run, Invocation, StderrCheck, Tool};
use iocforge::db::{self, FileReader, MsiError, MsiOptions};

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

fn all_cases() -> Vec<PathBuf> {
    let mut cases: Vec<_> = fs_err::read_dir(harness::cases_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    cases
}

#[test]
fn iocforge_msi_matches_msi_on_every_case() {
    let cases = all_cases();
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

/// The library API (`expand_substitutions`, `expand_template`) gives msi's
/// text, and fails exactly when msi fails, on every case it can express.
#[test]
fn library_api_matches_msi_on_every_case() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for dir in all_cases() {
        let (inv, _) = load_case(&dir);
        let args: Vec<Vec<u8>> = inv
            .args
            .iter()
            .map(|a| a.to_str().unwrap().as_bytes().to_vec())
            .collect();
        let Ok(config) = iocforge::cli::msi::parse_args(&args) else {
            continue;
        };
        if config.dependencies || config.output.is_some() || !inv.stdin.is_empty() {
            continue;
        }
        let text = |b: &Vec<u8>| String::from_utf8(b.clone()).unwrap();
        let opts = MsiOptions {
            include_path: config.include_path.iter().map(text).collect(),
            macros: config.macros.iter().map(text).collect(),
            undefined_is_error: config.verbose,
            global_scope: config.global_scope,
            template: config.template.as_ref().map(text),
        };
        let msi = run(Tool::Reference, &inv);
        let tmp = tempfile::tempdir().unwrap();
        for (name, data) in &inv.files {
            let p = tmp.path().join(name);
            fs_err::create_dir_all(if name.ends_with('/') {
                &p
            } else {
                p.parent().unwrap()
            })
            .unwrap();
            if !name.ends_with('/') {
                fs_err::write(&p, data).unwrap();
            }
        }
        let mut reader = harness::DirReader {
            dir: tmp.path().to_path_buf(),
            env: inv.env.clone(),
            stdin: Vec::new(),
        };
        let result = match &config.substitutions {
            Some(s) => {
                let name = String::from_utf8(s.name.clone()).unwrap();
                let Some(subst) = reader.read(name.as_bytes()) else {
                    continue;
                };
                db::expand_substitutions_with(&subst, &name, &opts, &mut reader)
            }
            None => match &opts.template {
                Some(t) => db::expand_template_with(t, &opts, &mut reader),
                None => continue,
            },
        };
        checked += 1;
        let case = dir.file_name().unwrap().to_string_lossy().into_owned();
        let stdout = String::from_utf8_lossy(&msi.stdout).into_owned();
        match (msi.status, result) {
            (Some(0), Ok(e)) if e.text == stdout => {}
            (Some(2), Err(MsiError::Undefined { expansion, .. })) if expansion.text == stdout => {}
            (Some(1), Err(e)) if !matches!(e, MsiError::Undefined { .. }) => {}
            (status, r) => failures.push(format!("== {case}: msi {status:?}, library {r:?}")),
        }
    }
    assert!(checked >= 40, "only {checked} cases checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
