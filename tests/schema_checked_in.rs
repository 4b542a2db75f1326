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
