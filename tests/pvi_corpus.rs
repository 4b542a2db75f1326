//! PVI conformance: with pvi on (ibek's default), `runtime generate` writes
//! byte for byte what ibek 4.8.2 + pvi 0.14.4 wrote for the shared corpora,
//! and nothing else: `st.cmd` and `ioc.subst` in `-o`, the
//! `*.pvi.template` files in `$EPICS_ROOT/runtime`, the screens and
//! `index.bob` in `$EPICS_ROOT/opi`.
//!
//! - `real-world/pvi/<case>/`: six real instances with ibek-support's
//!   `pvi-defs/` (areaDetector plugin chains, pmac, motorSim);
//! - `ibek-samples/` with `outputs-pvi-0.14.4/<case>/`.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn generate(cwd: &Path, args: &[String], root: &Path, out: &Path, env: &[(String, String)]) {
    let o = Command::new(common::iocforge())
        .current_dir(cwd)
        .args(["runtime", "generate"])
        .args(args)
        .arg("-o")
        .arg(out)
        .arg("--no-db")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("EPICS_ROOT", root)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}: iocforge failed\n{}",
        cwd.display(),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Compares two file sets; every difference and extra or missing file is reported.
fn compare(
    label: &str,
    expected: &BTreeMap<String, Vec<u8>>,
    got: &BTreeMap<String, Vec<u8>>,
    failures: &mut Vec<String>,
) {
    for (name, want) in expected {
        match got.get(name) {
            None => failures.push(format!("{label}: `{name}` not written")),
            Some(have) if have != want => failures.push(format!(
                "{label}: `{name}` differs\n{}",
                common::first_difference(want, have)
            )),
            Some(_) => {}
        }
    }
    for name in got.keys() {
        if !expected.contains_key(name) {
            failures.push(format!("{label}: extra file `{name}`"));
        }
    }
}

fn env_file(case: &Path) -> Vec<(String, String)> {
    fs_err::read_to_string(case.join("env"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains('=') && !l.starts_with("EPICS_ROOT"))
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn subset(files: BTreeMap<String, Vec<u8>>, names: &[&str]) -> BTreeMap<String, Vec<u8>> {
    files
        .into_iter()
        .filter(|(k, _)| names.contains(&k.as_str()))
        .collect()
}

#[test]
fn real_world_pvi_cases_are_byte_identical() {
    let base = common::shared().join("conformance/real-world/pvi");
    let mut cases: Vec<_> = fs_err::read_dir(&base)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("cmd").is_file())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 6, "the six real PVI cases");
    let mut failures = Vec::new();
    let mut screens = 0;
    for case in &cases {
        let label = case.file_name().unwrap().to_string_lossy().into_owned();
        let cmd = fs_err::read_to_string(case.join("cmd")).unwrap();
        let line = cmd.lines().find(|l| l.starts_with("ibek ")).unwrap();
        let args: Vec<String> = line
            .split_whitespace()
            .skip(3)
            .take_while(|a| *a != "-o")
            .map(str::to_string)
            .collect();
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("epics");
        common::copy_dir(&case.join("pvi-defs"), &root.join("pvi-defs"));
        fs_err::create_dir_all(root.join("runtime")).unwrap();
        fs_err::create_dir_all(root.join("opi")).unwrap();
        let out = tmp.path().join("out");
        generate(case, &args, &root, &out, &env_file(case));
        let expected = case.join("expected");
        compare(
            &format!("{label} -o"),
            &subset(common::read_files(&expected), &["st.cmd", "ioc.subst"]),
            // ibek writes wait_list.yaml here too; the corpus did not keep it
            &subset(common::read_files(&out), &["st.cmd", "ioc.subst"]),
            &mut failures,
        );
        let extra: Vec<String> = common::read_files(&out)
            .into_keys()
            .filter(|k| !["st.cmd", "ioc.subst", "wait_list.yaml"].contains(&k.as_str()))
            .collect();
        if !extra.is_empty() {
            failures.push(format!("{label} -o: extra files {extra:?}"));
        }
        let want_runtime = if expected.join("runtime").is_dir() {
            common::read_files(&expected.join("runtime"))
        } else {
            BTreeMap::new()
        };
        compare(
            &format!("{label} runtime/"),
            &want_runtime,
            &common::read_files(&root.join("runtime")),
            &mut failures,
        );
        let want_opi = common::read_files(&expected.join("opi"));
        screens += want_opi.len();
        compare(
            &format!("{label} opi/"),
            &want_opi,
            &common::read_files(&root.join("opi")),
            &mut failures,
        );
    }
    assert!(screens >= 40, "the cases hold many screens ({screens})");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn ibek_samples_with_pvi_are_byte_identical() {
    let samples = common::shared().join("conformance/ibek-samples");
    let tsv = fs_err::read_to_string(samples.join("cases.tsv")).unwrap();
    let mut failures = Vec::new();
    let mut cases = 0;
    for line in tsv
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        let (case, instance, defs) = (cols[0], cols[1], cols[2]);
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("epics");
        common::copy_dir(&samples.join("epics-root"), &root);
        fs_err::create_dir_all(root.join("runtime")).unwrap();
        fs_err::create_dir_all(root.join("opi")).unwrap();
        let out = tmp.path().join("out");
        let mut args = vec![instance.to_string()];
        args.extend(defs.split_whitespace().map(str::to_string));
        let env = [
            ("IOC_NAME", "TEST_IOC"),
            ("IOC", "/epics/ioc"),
            ("RUNTIME_DIR", "/epics/runtime"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        generate(&samples, &args, &root, &out, &env);
        compare(
            &format!("{case} -o"),
            &subset(
                common::read_files(&samples.join("outputs").join(case)),
                &["st.cmd", "ioc.subst", "wait_list.yaml"],
            ),
            &common::read_files(&out),
            &mut failures,
        );
        // the expected folder holds templates and screens together
        let mut got = common::read_files(&root.join("opi"));
        got.extend(common::read_files(&root.join("runtime")));
        let expected = samples.join("outputs-pvi-0.14.4").join(case);
        let want = if expected.is_dir() {
            common::read_files(&expected)
        } else {
            BTreeMap::new()
        };
        compare(&format!("{case} pvi"), &want, &got, &mut failures);
        cases += 1;
    }
    assert!(cases >= 13, "{cases} sample cases");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn no_pvi_writes_no_templates_or_screens() {
    let case = common::shared().join("conformance/real-world/pvi/p38-services__bl38p-di-dcam-01");
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("epics");
    common::copy_dir(&case.join("pvi-defs"), &root.join("pvi-defs"));
    let out = tmp.path().join("out");
    let o = Command::new(common::iocforge())
        .current_dir(&case)
        .args([
            "runtime",
            "generate",
            "instance/ioc.yaml",
            "defs/ADAravis.ibek.support.yaml",
            "defs/ADCore.ibek.support.yaml",
            "defs/epics.ibek.support.yaml",
            "defs/iocStats.ibek.support.yaml",
            "--no-pvi",
            "--no-db",
            "-o",
        ])
        .arg(&out)
        .env("EPICS_ROOT", &root)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!root.join("opi").exists(), "no screens");
    assert!(!root.join("runtime").exists(), "no templates");
    let subst = fs_err::read_to_string(out.join("ioc.subst")).unwrap();
    assert!(!subst.contains(".pvi.template"), "no PVI rows:\n{subst}");
}

#[test]
fn missing_device_file_names_entity_yaml_path_and_folders() {
    let case = common::shared().join("conformance/real-world/pvi/p38-services__bl38p-di-dcam-01");
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("epics");
    common::copy_dir(&case.join("pvi-defs"), &root.join("pvi-defs"));
    fs_err::remove_file(root.join("pvi-defs/NDStats.pvi.device.yaml")).unwrap();
    let out = tmp.path().join("out");
    let o = Command::new(common::iocforge())
        .current_dir(&case)
        .args([
            "runtime",
            "generate",
            "instance/ioc.yaml",
            "defs/ADAravis.ibek.support.yaml",
            "defs/ADCore.ibek.support.yaml",
            "defs/epics.ibek.support.yaml",
            "defs/iocStats.ibek.support.yaml",
            "-o",
        ])
        .arg(&out)
        .env("EPICS_ROOT", &root)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("ADCore.NDStats"), "names the entity: {err}");
    assert!(
        err.contains("pvi device file `NDStats.pvi.device.yaml` not found"),
        "{err}"
    );
    assert!(
        err.contains(
            &root
                .join("ioc/config/NDStats.pvi.device.yaml")
                .display()
                .to_string()
        ) && err.contains(
            &root
                .join("pvi-defs/NDStats.pvi.device.yaml")
                .display()
                .to_string()
        ),
        "names every place searched: {err}"
    );
    assert!(!out.exists(), "nothing half-written");
}

#[test]
fn generate2_writes_the_same_pvi_files() {
    let case = common::shared().join("conformance/real-world/pvi/p38-services__bl38p-di-dcam-01");
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("epics");
    common::copy_dir(&case.join("pvi-defs"), &root.join("pvi-defs"));
    let config = tmp.path().join("config");
    fs_err::create_dir_all(&config).unwrap();
    fs_err::copy(case.join("instance/ioc.yaml"), config.join("ioc.yaml")).unwrap();
    let out = tmp.path().join("out");
    let mut cmd = Command::new(common::iocforge());
    cmd.current_dir(&case)
        .args(["runtime", "generate2"])
        .arg(&config);
    for d in ["ADAravis", "ADCore", "epics", "iocStats"] {
        cmd.arg("--definitions")
            .arg(format!("defs/{d}.ibek.support.yaml"));
    }
    let o = cmd
        .arg("--no-db")
        .arg("-o")
        .arg(&out)
        .envs(env_file(&case))
        .env("EPICS_ROOT", &root)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut failures = Vec::new();
    compare(
        "generate2 opi/",
        &common::read_files(&case.join("expected/opi")),
        &common::read_files(&root.join("opi")),
        &mut failures,
    );
    compare(
        "generate2 runtime/",
        &common::read_files(&case.join("expected/runtime")),
        &common::read_files(&root.join("runtime")),
        &mut failures,
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
