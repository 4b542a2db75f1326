//! The shared conformance corpus: ibek's own samples and real-world IOCs,
//! with the outputs ibek 4.8.2 produced for them.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn iocforge(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(common::iocforge());
    cmd.current_dir(cwd).args(args);
    for var in ["EPICS_ROOT", "IOC", "RUNTIME_DIR", "IOC_NAME"] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run iocforge")
}

fn assert_same_files(case: &str, expected_dir: &Path, out_dir: &Path, names: &[&str]) {
    for name in names {
        let want = expected_dir.join(name);
        if !want.exists() {
            continue;
        }
        let want = fs_err::read(&want).unwrap();
        let got = fs_err::read(out_dir.join(name))
            .unwrap_or_else(|_| panic!("{case}: {name} was not written"));
        assert!(
            want == got,
            "{case}: {name} differs from ibek's\n{}",
            common::first_difference(&want, &got)
        );
    }
}

/// The 13 cases of `ibek-samples/cases.tsv`, in the environment its README gives.
#[test]
fn ibek_samples_match_byte_for_byte() {
    let samples = common::shared().join("conformance/ibek-samples");
    let tsv = fs_err::read_to_string(samples.join("cases.tsv")).unwrap();
    let mut n = 0;
    for line in tsv
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        let (case, instance, defs) = (cols[0], cols[1], cols[2]);
        let root = tempfile::tempdir().unwrap();
        common::copy_dir(&samples.join("epics-root"), root.path());
        fs_err::create_dir_all(root.path().join("runtime")).unwrap();
        fs_err::create_dir_all(root.path().join("opi")).unwrap();
        let out = tempfile::tempdir().unwrap();
        let out_dir = out.path().join("out");
        let mut args = vec!["runtime", "generate", instance];
        args.extend(defs.split_whitespace());
        let out_s = out_dir.to_str().unwrap();
        args.extend(["-o", out_s]);
        let r = iocforge(
            &samples,
            &args,
            &[
                ("EPICS_ROOT", root.path().to_str().unwrap()),
                ("IOC", "/epics/ioc"),
                ("RUNTIME_DIR", "/epics/runtime"),
                ("IOC_NAME", "TEST_IOC"),
            ],
        );
        assert!(
            r.status.success(),
            "{case}: iocforge failed:\n{}",
            String::from_utf8_lossy(&r.stderr)
        );
        assert_same_files(
            case,
            &samples.join("outputs").join(case),
            &out_dir,
            &["st.cmd", "ioc.subst", "wait_list.yaml"],
        );
        n += 1;
    }
    assert_eq!(n, 13, "all 13 sample cases ran");
}

/// ibek's own error tests (the README of the samples lists them).
#[test]
fn ibek_sample_failures_are_reported() {
    let samples = common::shared().join("conformance/ibek-samples");
    let cases: &[(&str, &[&str], &str)] = &[
        (
            // the samples README lists ipac + epics, but the entity type is defined in utils
            "iocs/bad_counter2.ibek.ioc.yaml",
            &["support/utils.ibek.support.yaml"],
            "Counter InterruptVector exceeded maximum value of 194",
        ),
        (
            "iocs/bad_ref.ibek.ioc.yaml",
            &[
                "support/asyn.ibek.support.yaml",
                "support/motorSim.ibek.support.yaml",
            ],
            "object `controllerOnePort_BAD_REF` not found",
        ),
        (
            "iocs/bad_db.ibek.ioc.yaml",
            &["support/bad_db.ibek.support.yaml"],
            "'non-existant' in database template 'test.db' not found",
        ),
        (
            "iocs/bad_default.ibek.ioc.yaml",
            &["support/asyn.ibek.support.yaml"],
            "the required parameter `port` is missing",
        ),
    ];
    for (instance, defs, message) in cases {
        let out = tempfile::tempdir().unwrap();
        let mut args = vec!["runtime", "generate", instance];
        args.extend(defs.iter());
        let o = out.path().join("o");
        args.extend(["-o", o.to_str().unwrap(), "--no-pvi"]);
        let r = iocforge(&samples, &args, &[]);
        let stderr = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(1), "{instance}: exit code\n{stderr}");
        assert!(
            stderr.contains(message),
            "{instance}: expected {message:?} in\n{stderr}"
        );
        assert!(!o.exists(), "{instance}: no output folder is left behind");
    }
}

/// The environment of a case: its `env` file, or the `# env:` line of a bad variant's `cmd`.
fn env_of(case: &Path) -> Vec<(String, String)> {
    let pairs: Vec<String> = if let Ok(text) = fs_err::read_to_string(case.join("env")) {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::to_string)
            .collect()
    } else {
        let cmd = fs_err::read_to_string(case.join("cmd")).unwrap();
        let line = cmd.lines().find(|l| l.starts_with("# env:")).unwrap_or("");
        line.trim_start_matches("# env:")
            .split(';')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    pairs
        .iter()
        .filter(|l| l.contains('=') && !l.starts_with("EPICS_ROOT"))
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// Runs the `ibek runtime ...` lines of a case's `cmd` with iocforge; returns the exit status and output dir.
fn run_cmd_file(case: &Path, cmd_file: &Path) -> (Output, tempfile::TempDir) {
    let out = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let out_dir = out.path().join("out");
    fs_err::create_dir_all(&out_dir).unwrap();
    let text = fs_err::read_to_string(cmd_file).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("ibek runtime"))
        .expect("a runtime command");
    let line = line.replace("<OUT>", out_dir.to_str().unwrap());
    let args: Vec<&str> = line.split_whitespace().skip(1).collect();
    let env = env_of(case);
    let mut env_refs: Vec<(&str, &str)> =
        env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let root_s = root.path().to_str().unwrap().to_string();
    env_refs.push(("EPICS_ROOT", &root_s));
    let r = iocforge(case, &args, &env_refs);
    std::mem::forget(root);
    (r, out)
}

/// Every real-world case: the same files as ibek, or a failure where ibek failed.
#[test]
fn real_world_cases_match_ibek() {
    let cases = common::shared().join("conformance/real-world/cases");
    let mut n = 0;
    for entry in fs_err::read_dir(&cases).unwrap() {
        let case = entry.unwrap().path();
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let (r, out) = run_cmd_file(&case, &case.join("cmd"));
        let expected = case.join("expected");
        if expected.join("ERROR").exists() {
            assert_eq!(
                r.status.code(),
                Some(1),
                "{name}: ibek failed, iocforge must too"
            );
        } else {
            assert!(
                r.status.success(),
                "{name}: iocforge failed:\n{}",
                String::from_utf8_lossy(&r.stderr)
            );
            assert_same_files(
                &name,
                &expected,
                &out.path().join("out"),
                &["st.cmd", "ioc.subst", "wait_list.yaml"],
            );
        }
        n += 1;
    }
    assert!(n >= 16, "all real-world cases ran ({n})");
}

/// The broken variants: iocforge accepts exactly what ibek accepts.
#[test]
fn real_world_bad_variants_get_ibeks_verdict() {
    let bad = common::shared().join("conformance/real-world/bad");
    let mut n = 0;
    for entry in fs_err::read_dir(&bad).unwrap() {
        let case = entry.unwrap().path();
        if !case.is_dir() {
            continue;
        }
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let verdict = fs_err::read_to_string(case.join("verdict")).unwrap();
        let accepted = verdict.contains("accepted: yes");
        let (r, out) = run_cmd_file(&case, &case.join("cmd"));
        let stderr = String::from_utf8_lossy(&r.stderr);
        if accepted {
            assert!(
                r.status.success(),
                "{name}: ibek accepts it, iocforge must too:\n{stderr}"
            );
            assert_same_files(
                &name,
                &case.join("ibek_output"),
                &out.path().join("out"),
                &["st.cmd", "ioc.subst"],
            );
        } else {
            assert_eq!(
                r.status.code(),
                Some(1),
                "{name}: ibek rejects it, iocforge must too:\n{stderr}"
            );
            assert!(
                stderr.contains("instance/ioc.yaml"),
                "{name}: the message names the file:\n{stderr}"
            );
        }
        n += 1;
    }
    assert!(n >= 16, "all bad variants ran ({n})");
}
