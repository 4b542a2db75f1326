//! iocforge and ibek 4.8.2 write the same IOC instance schema for the same
//! definitions: this repository's fixtures (every parameter type, every kind
//! of default, enum and naming corner) and the corpus definitions, plus the
//! command line behaviour around them.

mod common;
#[path = "schema/helpers.rs"]
mod helpers;

use std::path::{Path, PathBuf};
use std::process::Command;

use helpers::{first_difference, iocforge_schema, Case};

/// Definition sets made of this repository's fixtures.
fn fixture_cases() -> Vec<Case> {
    let dir = helpers::fixtures().join("support");
    let sets: &[&[&str]] = &[
        &["types"],
        &["defaults"],
        &["enums"],
        &["names", "names_b"],
        &["names_b", "names"],
        &["types", "override"],
        &["types", "defaults", "enums", "names", "names_b", "override"],
        &["bad_reserved"],
        &["bad_enum"],
    ];
    sets.iter()
        .map(|set| Case {
            name: set.join("+"),
            dir: dir.clone(),
            definitions: set
                .iter()
                .map(|s| format!("{s}.ibek.support.yaml"))
                .collect(),
            expected: PathBuf::new(),
        })
        .collect()
}

/// Runs the ibek oracle on every case in one Python process; `Some(text)` per success.
fn oracle(cases: &[Case], out_dir: &Path) -> Vec<Option<String>> {
    let jobs: Vec<serde_json::Value> = cases
        .iter()
        .enumerate()
        .map(|(i, c)| {
            serde_json::json!({
                "definitions": c.definitions.iter().map(|d| c.dir.join(d)).collect::<Vec<_>>(),
                "output": out_dir.join(format!("ibek-{i}.json")),
            })
        })
        .collect();
    let jobs_file = out_dir.join("jobs.json");
    fs_err::write(&jobs_file, serde_json::to_string(&jobs).unwrap()).unwrap();
    let out = Command::new(common::ibek_python())
        .arg(helpers::fixtures().join("oracle.py"))
        .arg(&jobs_file)
        .output()
        .expect("run the ibek oracle");
    assert!(
        out.status.success(),
        "oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    results
        .iter()
        .enumerate()
        .map(|(i, r)| {
            r["ok"]
                .as_bool()
                .unwrap()
                .then(|| fs_err::read_to_string(out_dir.join(format!("ibek-{i}.json"))).unwrap())
        })
        .collect()
}

#[test]
fn fixtures_and_corpus_definitions_give_ibeks_schema() {
    let mut cases = fixture_cases();
    cases.extend(helpers::ibek_sample_cases());
    cases.extend(helpers::real_world_cases());
    let tmp = tempfile::tempdir().unwrap();
    let want = oracle(&cases, tmp.path());
    let mut failures = Vec::new();
    for (i, (case, want)) in cases.iter().zip(want).enumerate() {
        let got = iocforge_schema(case, &tmp.path().join(format!("iocforge-{i}.json")));
        match (want, got) {
            (Some(w), Ok(g)) if w == g => {}
            (Some(w), Ok(g)) => {
                failures.push(format!("{}: {}", case.name, first_difference(&w, &g)));
            }
            (None, Err(_)) => {}
            (Some(_), Err(e)) => failures.push(format!(
                "{}: ibek succeeds, iocforge fails:\n{e}",
                case.name
            )),
            (None, Ok(_)) => failures.push(format!("{}: ibek fails, iocforge succeeds", case.name)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

/// The fixtures reach the corners they are written for.
#[test]
fn fixtures_cover_every_type_and_default_kind() {
    let text: String = ["types", "defaults", "enums", "names"]
        .iter()
        .map(|f| {
            fs_err::read_to_string(
                helpers::fixtures().join(format!("support/{f}.ibek.support.yaml")),
            )
            .unwrap()
        })
        .collect();
    for t in [
        "str", "int", "float", "bool", "enum", "object", "id", "list", "dict",
    ] {
        assert!(
            text.contains(&format!("type: {t}")),
            "no parameter of type {t}"
        );
    }
    for needle in [
        "default: \"{{",
        "default: null",
        "default: ~",
        "default: [",
        "default: {",
        "description: |",
        "µm",
        "日本語",
        ".inf",
        ".nan",
    ] {
        assert!(text.contains(needle), "no fixture has {needle:?}");
    }
}

#[test]
fn ibek_defs_folder_is_read_like_ibek() {
    let root = tempfile::tempdir().unwrap();
    let defs = root.path().join("ibek-defs");
    fs_err::create_dir_all(defs.join("nested")).unwrap();
    let src = helpers::fixtures().join("support");
    fs_err::copy(
        src.join("types.ibek.support.yaml"),
        defs.join("types.ibek.support.yaml"),
    )
    .unwrap();
    // not read: in a subfolder, or not named *ibek.support.yaml
    fs_err::copy(
        src.join("enums.ibek.support.yaml"),
        defs.join("nested/enums.ibek.support.yaml"),
    )
    .unwrap();
    fs_err::copy(
        src.join("names.ibek.support.yaml"),
        defs.join("names.ibek.support.yml"),
    )
    .unwrap();
    let env = [("EPICS_ROOT", root.path())];
    let extra = src.join("defaults.ibek.support.yaml");
    let extra = extra.to_str().unwrap();
    for args in [
        vec!["ioc", "generate-schema"],
        vec!["ioc", "generate-schema", "--ibek-defs", extra],
    ] {
        let want = helpers::ibek(root.path(), &args, &env);
        let got = helpers::iocforge(root.path(), &args, &env);
        assert!(
            want.status.success() && got.status.success(),
            "{}",
            String::from_utf8_lossy(&got.stderr)
        );
        let (w, g) = (
            String::from_utf8(want.stdout).unwrap(),
            String::from_utf8(got.stdout).unwrap(),
        );
        assert!(w == g, "{args:?}: {}", first_difference(&w, &g));
    }
}

#[test]
fn stdout_and_output_file_hold_the_same_text() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = helpers::fixtures().join("support");
    let out = tmp.path().join("ioc.schema.json");
    let file = helpers::iocforge(
        &dir,
        &[
            "ioc",
            "generate-schema",
            "--no-ibek-defs",
            "types.ibek.support.yaml",
            "--output",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert!(file.status.success());
    assert!(file.stdout.is_empty(), "nothing on stdout with --output");
    let stdout = helpers::iocforge(
        &dir,
        &[
            "ioc",
            "generate-schema",
            "--no-ibek-defs",
            "types.ibek.support.yaml",
        ],
        &[],
    );
    let text = fs_err::read_to_string(&out).unwrap();
    assert!(text.ends_with("}\n"));
    assert_eq!(String::from_utf8(stdout.stdout).unwrap(), text);
}

#[test]
fn missing_definitions_fail_with_ibeks_messages() {
    let empty = tempfile::tempdir().unwrap();
    let env = [("EPICS_ROOT", empty.path())];
    let cases: [(&[&str], String); 2] = [
        (
            &["ioc", "generate-schema", "--no-ibek-defs"],
            "One or more `definitions` required with `--no-ibek-defs`".into(),
        ),
        (
            &["ioc", "generate-schema"],
            format!(
                "No `definitions` given and none found in {}/ibek-defs",
                empty.path().display()
            ),
        ),
    ];
    for (args, message) in cases {
        let want = helpers::ibek(empty.path(), args, &env);
        let got = helpers::iocforge(empty.path(), args, &env);
        assert_eq!(want.status.code(), Some(1));
        assert_eq!(got.status.code(), Some(1), "{args:?}");
        assert!(String::from_utf8_lossy(&want.stderr).contains(&message));
        let stderr = String::from_utf8_lossy(&got.stderr);
        assert!(stderr.contains(&message), "{args:?}: {stderr}");
        assert!(got.stdout.is_empty());
    }
}

#[test]
fn definitions_ibek_cannot_build_fail_at_the_definition() {
    let dir = helpers::fixtures().join("support");
    let got = helpers::iocforge(
        &dir,
        &[
            "ioc",
            "generate-schema",
            "--no-ibek-defs",
            "bad_enum.ibek.support.yaml",
        ],
        &[],
    );
    assert_eq!(got.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&got.stderr);
    assert!(stderr.contains("bad_enum.ibek.support.yaml:12:11: error: entity model `bad.Enum`: enum parameter `choice` has a value named `mro`"), "{stderr}");
    let got = helpers::iocforge(
        &dir,
        &[
            "ioc",
            "generate-schema",
            "--no-ibek-defs",
            "bad_reserved.ibek.support.yaml",
        ],
        &[],
    );
    assert_eq!(got.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&got.stderr)
        .contains("parameter name `model_dump` is reserved by pydantic"));
}

#[test]
fn the_last_ibek_defs_flag_wins() {
    let empty = tempfile::tempdir().unwrap();
    let env = [("EPICS_ROOT", empty.path())];
    for (last, message) in [
        ("--no-ibek-defs", "One or more `definitions` required"),
        ("--ibek-defs", "No `definitions` given and none found"),
    ] {
        let first = if last == "--ibek-defs" {
            "--no-ibek-defs"
        } else {
            "--ibek-defs"
        };
        let args = ["ioc", "generate-schema", first, last];
        for out in [
            helpers::ibek(empty.path(), &args, &env),
            helpers::iocforge(empty.path(), &args, &env),
        ] {
            assert_eq!(out.status.code(), Some(1), "{args:?}");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.contains(message), "{args:?}: {stderr}");
        }
    }
}
