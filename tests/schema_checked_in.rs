//! The schemas committed under `schemas/` are what iocforge generates now.

mod common;

use iocforge::schema::{install_schema, support_schema, to_pretty, Json};

fn check(file: &str, schema: &Json, command: &str) {
    let path = common::root().join("schemas").join(file);
    let committed = fs_err::read_to_string(&path).unwrap_or_default();
    let fresh = format!("{}\n", to_pretty(schema));
    assert!(
        committed == fresh,
        "schemas/{file} is stale or missing; regenerate it with\n\n    cargo run -- {command} --output schemas/{file}\n"
    );
}

#[test]
fn support_schema_is_current() {
    check(
        "ibek.support.schema.json",
        &support_schema(),
        "support generate-schema",
    );
}

#[test]
fn install_schema_is_current() {
    check(
        "install.schema.json",
        &install_schema(),
        "support generate-install-schema",
    );
}

fn check_instance_schema(path: &str, defs: &[&str]) {
    let root = common::root();
    let paths: Vec<_> = defs.iter().map(|d| root.join(d)).collect();
    let modules = iocforge::runtime::generate::load_definitions(&paths).unwrap();
    let schema = iocforge::schema::ioc_schema(&modules).unwrap();
    let committed = fs_err::read_to_string(root.join(path)).unwrap_or_default();
    assert!(
        committed == format!("{}\n", to_pretty(&schema)),
        "{path} is stale or missing; regenerate it with\n\n    cargo run -- ioc generate-schema --no-ibek-defs {} --output {path}\n",
        defs.join(" ")
    );
}

#[test]
fn epics_module_schema_is_current() {
    check_instance_schema(
        "schemas/epics.ioc.schema.json",
        &["support-defs/epics.ibek.support.yaml"],
    );
}

#[test]
fn example_instance_schema_is_current() {
    check_instance_schema(
        "examples/motion/ioc.schema.json",
        &[
            "support-defs/epics.ibek.support.yaml",
            "examples/motion/ibek-defs/motorsim.ibek.support.yaml",
        ],
    );
}
