//! Shared by the `schema_*` tests: the corpus cases, and running iocforge and the oracles.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common;

/// One `ioc generate-schema` case of the conformance corpus.
#[derive(Debug, Clone)]
pub struct Case {
    /// A short name for messages.
    pub name: String,
    /// Where the command runs.
    pub dir: PathBuf,
    /// The definition files, relative to `dir`, in order.
    pub definitions: Vec<String>,
    /// The schema ibek 4.8.2 wrote.
    pub expected: PathBuf,
}

/// The 11 instance schemas of the ibek sample corpus (`schemas.tsv`).
pub fn ibek_sample_cases() -> Vec<Case> {
    let root = common::shared().join("conformance/ibek-samples");
    let tsv = fs_err::read_to_string(root.join("schemas.tsv")).expect("read schemas.tsv");
    tsv.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split_once('\t'))
        .filter(|(file, _)| *file != "ibek.support.schema.json")
        .map(|(file, defs)| Case {
            name: file.to_string(),
            dir: root.clone(),
            definitions: defs
                .split_whitespace()
                .map(|d| format!("support/{d}.ibek.support.yaml"))
                .collect(),
            expected: root.join("schemas").join(file),
        })
        .collect()
}

/// The real-world cases: definitions as listed in each case's `cmd` file.
pub fn real_world_cases() -> Vec<Case> {
    let root = common::shared().join("conformance/real-world/cases");
    let mut dirs: Vec<PathBuf> = fs_err::read_dir(&root)
        .expect("list real-world cases")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.join("cmd").is_file())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .filter_map(|dir| {
            let cmd = fs_err::read_to_string(dir.join("cmd")).expect("read cmd");
            let line = cmd
                .lines()
                .find(|l| l.starts_with("ibek ioc generate-schema"))?;
            let mut definitions = Vec::new();
            let mut words = line.split_whitespace().skip(3);
            while let Some(w) = words.next() {
                if w == "--output" {
                    words.next();
                } else if !w.starts_with("--") {
                    definitions.push(w.to_string());
                }
            }
            Some(Case {
                name: dir.file_name()?.to_string_lossy().into_owned(),
                expected: dir.join("expected/ioc.schema.json"),
                dir,
                definitions,
            })
        })
        .collect()
}

/// Runs iocforge in `dir` with `args`.
pub fn iocforge(dir: &Path, args: &[&str], envs: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(common::iocforge());
    cmd.current_dir(dir).args(args).env_remove("EPICS_ROOT");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("run iocforge")
}

/// Runs the ibek 4.8.2 command line in `dir` with `args`.
pub fn ibek(dir: &Path, args: &[&str], envs: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(common::ibek());
    cmd.current_dir(dir).args(args).env_remove("EPICS_ROOT");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("run ibek")
}

/// `check-jsonschema` from the oracle's environment.
pub fn check_jsonschema() -> PathBuf {
    let p = common::tools().join("ibek/bin/check-jsonschema");
    assert!(
        p.exists(),
        "check-jsonschema not found at {}: run `.ci/setup` first",
        p.display()
    );
    p
}

/// The folder of this repository's schema test fixtures.
pub fn fixtures() -> PathBuf {
    common::root().join("tests/schema")
}

/// Runs iocforge's `ioc generate-schema --no-ibek-defs` for a case, returning the schema text.
pub fn iocforge_schema(case: &Case, out: &Path) -> Result<String, String> {
    let mut args = vec!["ioc", "generate-schema", "--no-ibek-defs"];
    args.extend(case.definitions.iter().map(String::as_str));
    let out_s = out.to_str().expect("utf-8 temp path");
    args.extend(["--output", out_s]);
    let o = iocforge(&case.dir, &args, &[]);
    if o.status.success() {
        Ok(fs_err::read_to_string(out).expect("read schema"))
    } else {
        Err(String::from_utf8_lossy(&o.stderr).into_owned())
    }
}

/// First differing line of two texts, for readable failures.
pub fn first_difference(want: &str, got: &str) -> String {
    for (i, (w, g)) in want.lines().zip(got.lines()).enumerate() {
        if w != g {
            return format!("line {}:\n  ibek:     {w}\n  iocforge: {g}", i + 1);
        }
    }
    format!(
        "texts differ in length ({} vs {} lines, trailing newline {} vs {})",
        want.lines().count(),
        got.lines().count(),
        want.ends_with('\n'),
        got.ends_with('\n')
    )
}
