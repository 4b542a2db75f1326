//! The install.yml schema accepts the valid fixtures in `tests/schema/install/`
//! and rejects each invalid one (checked with `check-jsonschema`).

mod common;
#[path = "schema/helpers.rs"]
mod helpers;

use std::process::Command;

use iocforge::schema::{install_schema, to_pretty};

#[test]
fn install_fixtures_are_accepted_and_rejected_as_named() {
    let tmp = tempfile::tempdir().unwrap();
    let schema = tmp.path().join("install.schema.json");
    fs_err::write(&schema, to_pretty(&install_schema())).unwrap();
    let mut files: Vec<_> = fs_err::read_dir(helpers::fixtures().join("install"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let (mut valid, mut invalid) = (0, 0);
    let mut failures = Vec::new();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let expect_valid = name.starts_with("valid_");
        assert!(
            expect_valid || name.starts_with("invalid_"),
            "fixture {name} must start with valid_ or invalid_"
        );
        let out = Command::new(helpers::check_jsonschema())
            .arg("--schemafile")
            .arg(&schema)
            .arg(file)
            .output()
            .expect("run check-jsonschema");
        let code = out.status.code();
        match (expect_valid, code) {
            (true, Some(0)) => valid += 1,
            (false, Some(1)) => invalid += 1,
            _ => failures.push(format!(
                "{name}: check-jsonschema exited {code:?}\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        valid >= 3 && invalid >= 5,
        "{valid} valid and {invalid} invalid fixtures"
    );
}

#[test]
fn install_schema_describes_every_variable() {
    let schema = install_schema();
    let props = schema
        .get("properties")
        .and_then(|p| p.as_object())
        .unwrap();
    for (name, prop) in props {
        assert!(
            prop.get("description").is_some(),
            "`{name}` has no description"
        );
    }
    let defs = schema.get("$defs").and_then(|d| d.as_object()).unwrap();
    for (def, body) in defs {
        for (name, prop) in body
            .get("properties")
            .and_then(|p| p.as_object())
            .into_iter()
            .flatten()
        {
            assert!(
                prop.get("description").is_some(),
                "`{def}.{name}` has no description"
            );
        }
    }
    // the variables of ibek-support's _ansible/roles/support/vars/main.yml
    for var in [
        "module",
        "version",
        "dbds",
        "libs",
        "organization",
        "git_repo",
        "protocol_files",
        "macro",
        "remove_macros",
        "extra_release_macros",
        "make_options",
        "apt_developer",
        "apt_runtime",
        "download_extras",
        "runtime_files",
        "local_path",
        "comment_out",
        "patch_lines",
        "patch_blocks",
        "patch_file",
        "scripts",
        "bash",
        "tasks",
        "skip_clean",
        "skip_apt",
        "remove_files_prebuild",
    ] {
        assert!(props.contains_key(var), "`{var}` is missing");
    }
}
