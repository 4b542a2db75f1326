//! Differential test: ibek 4.8.2 and iocforge run on the same inputs and
//! must write the same files (or both fail).
//!
//! Inputs are the fixtures of `tests/differential/<case>/` (support files
//! and instances written for this project to cover every feature) and the
//! shared ibek samples. Each case folder holds `*.ibek.support.yaml`, and
//! `ioc.yaml` (with `runtime.yaml` the case runs through `generate2`), and/or
//! `ok_*.yaml` / `bad_*.yaml` instances run one by one; a `pvi-defs/`
//! folder turns PVI on.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

struct Run {
    ok: bool,
    files: std::collections::BTreeMap<String, Vec<u8>>,
    stderr: String,
}

fn run(program: &Path, cwd: &Path, epics_root: &Path, args: &[String]) -> Run {
    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().join("out");
    let mut cmd = Command::new(program);
    cmd.current_dir(cwd)
        .args(args)
        .arg("-o")
        .arg(&out_dir)
        .env("EPICS_ROOT", epics_root)
        .env("IOC", "/epics/ioc")
        .env("RUNTIME_DIR", "/epics/runtime")
        .env("IOC_NAME", "test-ioc");
    let o = cmd.output().expect("run generator");
    Run {
        ok: o.status.success(),
        files: common::read_files(&out_dir),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn compare(
    label: &str,
    args: &[String],
    cwd: &Path,
    pvi_defs: Option<&Path>,
    failures: &mut Vec<String>,
) -> bool {
    let root = tempfile::tempdir().unwrap();
    for sub in ["runtime", "opi"] {
        fs_err::create_dir_all(root.path().join(sub)).unwrap();
    }
    if let Some(p) = pvi_defs {
        common::copy_dir(p, &root.path().join("pvi-defs"));
    }
    let mut args = args.to_vec();
    if pvi_defs.is_none() {
        args.push("--no-pvi".into());
    }
    let ibek = run(&common::ibek(), cwd, root.path(), &args);
    let ours = run(common::iocforge(), cwd, root.path(), &args);
    if ibek.ok != ours.ok {
        failures.push(format!(
            "{label}: ibek {} but iocforge {}\n--- ibek stderr (tail):\n{}\n--- iocforge stderr:\n{}",
            if ibek.ok { "succeeds" } else { "fails" },
            if ours.ok { "succeeds" } else { "fails" },
            ibek.stderr.lines().rev().take(6).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n"),
            ours.stderr
        ));
        return ibek.ok;
    }
    if ibek.ok {
        for name in ["st.cmd", "ioc.subst", "wait_list.yaml"] {
            match (ibek.files.get(name), ours.files.get(name)) {
                (Some(a), Some(b)) if a != b => failures.push(format!(
                    "{label}: {name} differs\n{}",
                    common::first_difference(a, b)
                )),
                (Some(_), None) => failures.push(format!("{label}: iocforge did not write {name}")),
                (None, Some(_)) => {
                    failures.push(format!("{label}: iocforge wrote {name}, ibek did not"));
                }
                _ => {}
            }
        }
    }
    ibek.ok
}

fn sorted(dir: &Path, pred: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs_err::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && pred(&p.file_name().unwrap().to_string_lossy()))
        .collect();
    v.sort();
    v
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn own_fixtures_match_ibek() {
    let base = common::root().join("tests/differential");
    let mut failures = Vec::new();
    let mut instances = 0;
    let mut cases: Vec<PathBuf> = fs_err::read_dir(&base)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    for case in &cases {
        let case_name = name(case);
        let defs: Vec<String> = sorted(case, |n| n.ends_with(".ibek.support.yaml"))
            .iter()
            .map(|p| name(p))
            .collect();
        let pvi = case.join("pvi-defs");
        let pvi = pvi.exists().then_some(pvi.as_path());
        if case.join("runtime.yaml").exists() {
            let mut args = vec!["runtime".to_string(), "generate2".into(), ".".into()];
            for d in &defs {
                args.push("--definitions".into());
                args.push(d.clone());
            }
            compare(
                &format!("{case_name} (generate2)"),
                &args,
                case,
                pvi,
                &mut failures,
            );
            instances += 2;
        } else if case.join("ioc.yaml").exists() {
            let mut args = vec!["runtime".to_string(), "generate".into(), "ioc.yaml".into()];
            args.extend(defs.iter().cloned());
            let ok = compare(&case_name, &args, case, pvi, &mut failures);
            if !ok {
                failures.push(format!(
                    "{case_name}: the fixture is meant to be valid for ibek"
                ));
            }
            instances += 1;
        }
        for inst in sorted(case, |n| {
            (n.starts_with("ok_") || n.starts_with("bad_")) && n.ends_with(".yaml")
        }) {
            let inst_name = name(&inst);
            let mut args = vec!["runtime".to_string(), "generate".into(), inst_name.clone()];
            args.extend(defs.iter().cloned());
            let ok = compare(
                &format!("{case_name}/{inst_name}"),
                &args,
                case,
                pvi,
                &mut failures,
            );
            if ok != inst_name.starts_with("ok_") {
                failures.push(format!(
                    "{case_name}/{inst_name}: ibek's verdict is not what the file name says"
                ));
            }
            instances += 1;
        }
    }
    assert!(instances >= 15, "at least 15 instances ({instances})");
    assert!(
        failures.is_empty(),
        "{} differences:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn shared_samples_match_ibek_live() {
    let samples = common::shared().join("conformance/ibek-samples");
    let pvi = samples.join("epics-root/pvi-defs");
    let tsv = fs_err::read_to_string(samples.join("cases.tsv")).unwrap();
    let mut failures = Vec::new();
    for line in tsv
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        let mut args = vec!["runtime".to_string(), "generate".into(), cols[1].into()];
        args.extend(cols[2].split_whitespace().map(String::from));
        compare(cols[0], &args, &samples, Some(&pvi), &mut failures);
    }
    assert!(
        failures.is_empty(),
        "{} differences:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
