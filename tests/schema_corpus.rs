//! The schemas of the conformance corpus come out of iocforge byte for byte:
//! the ibek sample schemas, the real-world cases' schemas, and the schema of
//! support files.

mod common;
#[path = "schema/helpers.rs"]
mod helpers;

use helpers::{first_difference, iocforge_schema, Case};
use iocforge::schema::{support_schema, to_pretty, Json};

fn check_cases(cases: &[Case]) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let want = fs_err::read_to_string(&case.expected).expect("read expected schema");
        match iocforge_schema(case, &tmp.path().join(format!("{i}.json"))) {
            Ok(got) if got == want => {}
            Ok(got) => failures.push(format!("{}: {}", case.name, first_difference(&want, &got))),
            Err(e) => failures.push(format!("{}: iocforge failed:\n{e}", case.name)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} schemas differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn ibek_sample_schemas_are_byte_identical() {
    let cases = helpers::ibek_sample_cases();
    assert_eq!(cases.len(), 11, "schemas.tsv lists 11 instance schemas");
    check_cases(&cases);
}

#[test]
fn real_world_schemas_are_byte_identical() {
    let cases = helpers::real_world_cases();
    assert!(cases.len() >= 16, "found {} real-world cases", cases.len());
    check_cases(&cases);
}

#[test]
fn support_schema_matches_ibek_4_8_2() {
    let here = common::root();
    let want = helpers::ibek(&here, &["support", "generate-schema"], &[]);
    assert!(want.status.success());
    let got = helpers::iocforge(&here, &["support", "generate-schema"], &[]);
    assert!(
        got.status.success(),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    let (want, got) = (
        String::from_utf8(want.stdout).unwrap(),
        String::from_utf8(got.stdout).unwrap(),
    );
    assert!(want == got, "{}", first_difference(&want, &got));
}

/// The corpus file predates ibek's `validate` field; everything else is the same.
#[test]
fn support_schema_is_the_corpus_schema_plus_validate() {
    let mut schema = support_schema();
    let defs = schema.as_object_mut().unwrap().get_mut("$defs").unwrap();
    defs.as_object_mut().unwrap().shift_remove("Validation");
    let props = defs
        .as_object_mut()
        .unwrap()
        .get_mut("EntityModel")
        .and_then(|m| m.as_object_mut())
        .and_then(|m| m.get_mut("properties"))
        .and_then(Json::as_object_mut)
        .unwrap();
    assert!(props.shift_remove("validate").is_some());
    let want = fs_err::read_to_string(
        common::shared().join("conformance/ibek-samples/schemas/ibek.support.schema.json"),
    )
    .unwrap();
    let got = to_pretty(&schema);
    assert!(want.trim_end() == got, "{}", first_difference(&want, &got));
}
