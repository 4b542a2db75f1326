//! Schema verdicts agree: an instance is valid or not the same way under
//! iocforge's schema checked by the `jsonschema` crate, under iocforge's
//! schema checked by check-jsonschema (PyPI), and under ibek's own schema
//! checked by check-jsonschema. `ioc validate` agrees with ibek's runtime.
//!
//! (The schema is stricter than ibek's runtime in three documented ways:
//! `"12"`, `12.0` and `true` for an int are accepted by ibek's pydantic but
//! not by the schema; `ioc validate` reports those as warnings.)

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use iocforge::schema::check::node_to_json;

fn check_jsonschema() -> PathBuf {
    let p = common::tools().join("ibek/bin/check-jsonschema");
    assert!(
        p.exists(),
        "check-jsonschema not found at {}: run .ci/setup",
        p.display()
    );
    p
}

/// Files check-jsonschema rejects, from one run over many instances.
fn rejected_by_check_jsonschema(schema: &Path, files: &[PathBuf]) -> Vec<PathBuf> {
    let out = Command::new(check_jsonschema())
        .arg("--schemafile")
        .arg(schema)
        .args(files)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    files
        .iter()
        .filter(|f| {
            let name = f.display().to_string();
            text.contains(&format!("{name}::"))
                || text
                    .lines()
                    .any(|l| l.contains(&name) && l.contains("Failed to parse"))
        })
        .cloned()
        .collect()
}

fn crate_verdict(schema: &serde_json::Value, file: &Path) -> bool {
    let text = fs_err::read_to_string(file).unwrap();
    match iocforge::source::parse(&text) {
        // a file that does not parse is invalid for every validator
        Err(_) => false,
        Ok(root) => jsonschema::validator_for(schema)
            .unwrap()
            .is_valid(&node_to_json(&root)),
    }
}

fn our_schema(defs: &[PathBuf], out: &Path) {
    let r = Command::new(common::iocforge())
        .args(["ioc", "generate-schema", "--no-ibek-defs"])
        .args(defs)
        .arg("--output")
        .arg(out)
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
}

fn verdicts(
    label: &str,
    defs: &[PathBuf],
    ibek_schema: &Path,
    files: &[PathBuf],
    mismatches: &mut Vec<String>,
) -> BTreeMap<PathBuf, bool> {
    let tmp = tempfile::tempdir().unwrap();
    let ours = tmp.path().join("ioc.schema.json");
    our_schema(defs, &ours);
    let schema: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(&ours).unwrap()).unwrap();
    let by_ours = rejected_by_check_jsonschema(&ours, files);
    let by_ibek = rejected_by_check_jsonschema(ibek_schema, files);
    let mut out = BTreeMap::new();
    for f in files {
        let a = crate_verdict(&schema, f);
        let b = !by_ours.contains(f);
        let c = !by_ibek.contains(f);
        if a != b || b != c {
            mismatches.push(format!(
                "{label} {}: jsonschema crate {a}, check-jsonschema with iocforge's schema {b}, with ibek's {c}",
                f.display()
            ));
        }
        out.insert(f.clone(), c);
    }
    out
}

#[test]
fn own_mutations_get_the_same_schema_verdict_everywhere() {
    let dir = common::root().join("tests/validate");
    let defs = vec![
        dir.join("defs/port.ibek.support.yaml"),
        dir.join("defs/motion.ibek.support.yaml"),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let ibek_schema = tmp.path().join("ibek.schema.json");
    let r = Command::new(common::ibek())
        .args(["ioc", "generate-schema", "--no-ibek-defs"])
        .args(&defs)
        .arg("--output")
        .arg(&ibek_schema)
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let mut files: Vec<PathBuf> = fs_err::read_dir(dir.join("cases"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 40);
    let mut mismatches = Vec::new();
    let v = verdicts("own", &defs, &ibek_schema, &files, &mut mismatches);
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    // the schema accepts some of the valid cases and rejects every bad one
    for (f, ok) in &v {
        if f.file_name().unwrap().to_string_lossy().starts_with("bad_") {
            let name = f.display().to_string();
            // what a schema cannot say: references, ids, counters, Jinja results
            let semantic = [
                "object",
                "duplicate_id",
                "counter",
                "jinja_syntax",
                "jinja_undefined",
                "jinja_int_result",
            ]
            .iter()
            .any(|k| name.contains(k));
            assert!(
                !ok || semantic,
                "{name}: the schema accepts a structurally bad instance"
            );
        }
    }
}

#[test]
fn corpus_instances_get_the_same_schema_verdict_everywhere() {
    let rw = common::shared().join("conformance/real-world");
    let mut mismatches = Vec::new();
    let mut n = 0;
    for group in ["cases", "bad"] {
        for entry in fs_err::read_dir(rw.join(group)).unwrap() {
            let case = entry.unwrap().path();
            if !case.is_dir() {
                continue;
            }
            let cmd = fs_err::read_to_string(case.join("cmd")).unwrap();
            let line = cmd.lines().find(|l| l.starts_with("ibek runtime")).unwrap();
            let defs: Vec<PathBuf> = line
                .split_whitespace()
                .filter(|w| w.ends_with(".ibek.support.yaml"))
                .map(|w| case.join(w))
                .collect();
            let ibek_schema = if group == "cases" {
                case.join("expected/ioc.schema.json")
            } else {
                case.join("ioc.schema.json")
            };
            let files: Vec<PathBuf> = ["instance/ioc.yaml", "instance/runtime.yaml"]
                .iter()
                .map(|f| case.join(f))
                .filter(|p| p.exists())
                .collect();
            let v = verdicts(group, &defs, &ibek_schema, &files, &mut mismatches);
            if group == "bad" {
                let recorded = fs_err::read_to_string(case.join("schema_verdict")).unwrap();
                let valid = recorded.contains("valid: yes");
                if v[&files[0]] != valid {
                    mismatches.push(format!(
                        "{}: recorded check-jsonschema verdict {valid}",
                        case.display()
                    ));
                }
            }
            n += 1;
        }
    }
    assert!(n >= 30, "{n} corpus instances");
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn ioc_validate_agrees_with_ibek_on_the_broken_corpus() {
    let bad = common::shared().join("conformance/real-world/bad");
    let mut mismatches = Vec::new();
    for entry in fs_err::read_dir(&bad).unwrap() {
        let case = entry.unwrap().path();
        if !case.is_dir() {
            continue;
        }
        let cmd = fs_err::read_to_string(case.join("cmd")).unwrap();
        let line = cmd.lines().find(|l| l.starts_with("ibek runtime")).unwrap();
        let mut c = Command::new(common::iocforge());
        c.current_dir(&case)
            .args(["ioc", "validate", "instance/ioc.yaml"]);
        for d in line
            .split_whitespace()
            .filter(|w| w.ends_with(".ibek.support.yaml"))
        {
            c.args(["--definitions", d]);
        }
        let out = c.env("IOC_NAME", "bl00t-ea-test-01").output().unwrap();
        let accepted = fs_err::read_to_string(case.join("verdict"))
            .unwrap()
            .contains("accepted: yes");
        if out.status.success() != accepted {
            mismatches.push(format!(
                "{}: ibek accepted {accepted}, ioc validate exit {:?}",
                case.display(),
                out.status.code()
            ));
        }
        // a lax form ibek accepts gets a warning exactly when the schema rejects it
        let schema_valid = fs_err::read_to_string(case.join("schema_verdict"))
            .unwrap()
            .contains("valid: yes");
        let warned = String::from_utf8_lossy(&out.stderr).contains("warning:");
        if accepted && warned == schema_valid {
            mismatches.push(format!(
                "{}: schema valid {schema_valid}, warned {warned}",
                case.display()
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
