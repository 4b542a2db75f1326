//! PVI differential test: ibek 4.8.2 (with pvi 0.14.4, pvi on) and iocforge
//! run `runtime generate` on the same instance, definitions and device
//! files, each in an `EPICS_ROOT` of its own, and must write the same
//! files: `st.cmd` and `ioc.subst` in `-o`, every file of
//! `$EPICS_ROOT/runtime` and `$EPICS_ROOT/opi` — or both fail.
//!
//! Cases are the folders of `tests/pvi/`: `ioc.yaml`, `pvi-defs/` (copied
//! to `$EPICS_ROOT/pvi-defs`) and optionally `config/` (copied to
//! `$EPICS_ROOT/ioc/config`, whose device files override pvi-defs). All use
//! `tests/pvi/pvitest.ibek.support.yaml` and the project's
//! `support-defs/epics.ibek.support.yaml`. Folders named `error_*` must make
//! both tools fail.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

struct Run {
    ok: bool,
    out: BTreeMap<String, Vec<u8>>,
    runtime: BTreeMap<String, Vec<u8>>,
    opi: BTreeMap<String, Vec<u8>>,
    stderr: String,
}

fn run(program: &Path, case: &Path) -> Run {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("epics");
    for sub in ["runtime", "opi", "pvi-defs"] {
        fs_err::create_dir_all(root.join(sub)).unwrap();
    }
    if case.join("pvi-defs").is_dir() {
        common::copy_dir(&case.join("pvi-defs"), &root.join("pvi-defs"));
    }
    if case.join("config").is_dir() {
        common::copy_dir(&case.join("config"), &root.join("ioc/config"));
    }
    let out = tmp.path().join("out");
    let defs = common::root().join("tests/pvi/pvitest.ibek.support.yaml");
    let o = Command::new(program)
        .current_dir(case)
        .args(["runtime", "generate", "ioc.yaml"])
        .arg(&defs)
        .arg(common::root().join("support-defs/epics.ibek.support.yaml"))
        .arg("-o")
        .arg(&out)
        .env("EPICS_ROOT", &root)
        .env("IOC", "/epics/ioc")
        .env("RUNTIME_DIR", "/epics/runtime")
        .env("IOC_NAME", "pvi-test")
        .output()
        .expect("run generator");
    let read = |p: PathBuf| {
        if p.is_dir() {
            common::read_files(&p)
        } else {
            BTreeMap::new()
        }
    };
    Run {
        ok: o.status.success(),
        out: read(out)
            .into_iter()
            .filter(|(k, _)| k == "st.cmd" || k == "ioc.subst")
            .collect(),
        runtime: read(root.join("runtime")),
        opi: read(root.join("opi")),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn compare(
    label: &str,
    ibek: &BTreeMap<String, Vec<u8>>,
    ours: &BTreeMap<String, Vec<u8>>,
    failures: &mut Vec<String>,
) {
    for (name, want) in ibek {
        match ours.get(name) {
            None => failures.push(format!("{label}: iocforge did not write `{name}`")),
            Some(have) if have != want => failures.push(format!(
                "{label}: `{name}` differs\n{}",
                common::first_difference(want, have)
            )),
            Some(_) => {}
        }
    }
    for name in ours.keys().filter(|k| !ibek.contains_key(*k)) {
        failures.push(format!("{label}: iocforge wrote `{name}`, ibek did not"));
    }
}

#[test]
fn pvi_cases_match_ibek_with_pvi() {
    let base = common::root().join("tests/pvi");
    let mut cases: Vec<PathBuf> = fs_err::read_dir(&base)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("ioc.yaml").is_file())
        .collect();
    cases.sort();
    let mut failures = Vec::new();
    let mut succeeded = 0;
    let mut screens = 0;
    for case in &cases {
        let label = case.file_name().unwrap().to_string_lossy().into_owned();
        let ibek = run(&common::ibek(), case);
        let ours = run(common::iocforge(), case);
        let want_fail = label.starts_with("error_");
        if ibek.ok != ours.ok || ibek.ok == want_fail {
            failures.push(format!(
                "{label}: ibek {} but iocforge {}{}\n--- ibek stderr (tail):\n{}\n--- iocforge stderr:\n{}",
                if ibek.ok { "succeeds" } else { "fails" },
                if ours.ok { "succeeds" } else { "fails" },
                if want_fail { " (both should fail)" } else { "" },
                ibek.stderr.lines().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n"),
                ours.stderr
            ));
            continue;
        }
        if !ibek.ok {
            continue;
        }
        succeeded += 1;
        screens += ibek.opi.len();
        compare(&format!("{label} -o"), &ibek.out, &ours.out, &mut failures);
        compare(
            &format!("{label} runtime/"),
            &ibek.runtime,
            &ours.runtime,
            &mut failures,
        );
        compare(
            &format!("{label} opi/"),
            &ibek.opi,
            &ours.opi,
            &mut failures,
        );
    }
    assert!(
        failures.is_empty(),
        "{} differences:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(
        succeeded >= 15,
        "at least 15 instances generate ({succeeded} of {})",
        cases.len()
    );
    assert!(screens >= 40, "the cases make many screens ({screens})");
}

/// Every device file of ibek-support's `pvi-defs` (as in the shared real-world
/// corpus: areaDetector, pmac, motor) used by one entity each: the same
/// templates and screens as ibek.
#[test]
fn every_real_device_file_matches_ibek() {
    let defs =
        common::shared().join("conformance/real-world/pvi/p38-services__bl38p-di-dcam-01/pvi-defs");
    let mut names: Vec<String> = fs_err::read_dir(&defs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|n| n.strip_suffix(".pvi.device.yaml").map(str::to_string))
        .collect();
    names.sort();
    assert!(names.len() >= 50, "{} device files", names.len());
    let case = tempfile::tempdir().unwrap();
    let mut yaml =
        String::from("ioc_name: all-devices\ndescription: every device file\nentities:\n");
    for n in &names {
        yaml.push_str(&format!(
            "  - type: pvitest.Device\n    DEVICE: {n}\n    P: \"X:{n}\"\n"
        ));
    }
    fs_err::write(case.path().join("ioc.yaml"), yaml).unwrap();
    common::copy_dir(&defs, &case.path().join("pvi-defs"));
    let ibek = run(&common::ibek(), case.path());
    let ours = run(common::iocforge(), case.path());
    assert!(ibek.ok, "ibek: {}", ibek.stderr);
    assert!(ours.ok, "iocforge: {}", ours.stderr);
    let mut failures = Vec::new();
    compare("-o", &ibek.out, &ours.out, &mut failures);
    compare("runtime/", &ibek.runtime, &ours.runtime, &mut failures);
    compare("opi/", &ibek.opi, &ours.opi, &mut failures);
    assert_eq!(ours.runtime.len(), names.len(), "a template per device");
    assert!(ours.opi.len() > 100, "{} screens", ours.opi.len());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
