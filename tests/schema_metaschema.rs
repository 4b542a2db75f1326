//! Every schema iocforge writes is a valid JSON Schema (`check-jsonschema --check-metaschema`).

mod common;
#[path = "schema/helpers.rs"]
mod helpers;

use std::path::Path;
use std::process::Command;

fn check_metaschema(files: &[&Path]) -> std::process::Output {
    Command::new(helpers::check_jsonschema())
        .arg("--check-metaschema")
        .args(files)
        .output()
        .expect("run check-jsonschema")
}

#[test]
fn generated_schemas_pass_the_metaschema() {
    let tmp = tempfile::tempdir().unwrap();
    let support_dir = helpers::fixtures().join("support");
    let ioc = tmp.path().join("ioc.schema.json");
    let support = tmp.path().join("ibek.support.schema.json");
    let install = tmp.path().join("install.schema.json");
    let run = |args: &[&str]| {
        let o = helpers::iocforge(&support_dir, args, &[]);
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    let mut args = vec!["ioc", "generate-schema", "--no-ibek-defs"];
    args.extend([
        "types.ibek.support.yaml",
        "defaults.ibek.support.yaml",
        "enums.ibek.support.yaml",
        "names.ibek.support.yaml",
        "names_b.ibek.support.yaml",
    ]);
    args.extend(["--output", ioc.to_str().unwrap()]);
    run(&args);
    run(&[
        "support",
        "generate-schema",
        "--output",
        support.to_str().unwrap(),
    ]);
    run(&[
        "support",
        "generate-install-schema",
        "--output",
        install.to_str().unwrap(),
    ]);
    let out = check_metaschema(&[&ioc, &support, &install]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The check itself rejects a broken schema, so a pass above means something.
#[test]
fn metaschema_check_rejects_a_broken_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.schema.json");
    fs_err::write(&bad, r#"{"type": "objekt", "required": "name"}"#).unwrap();
    assert_eq!(check_metaschema(&[&bad]).status.code(), Some(1));
}
