//! `pattern schema --base-schema-from-image`: the base schema read from the
//! image through the Docker Engine API, without running a container.
//!
//! Needs the Docker daemon `.ci/setup` starts. The image is imported from a
//! tar holding only `/epics/ibek-defs/ioc.schema.json`, so it has nothing to
//! run: reading the file must not need to.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

fn sh(script: &str, dir: &Path) {
    let st = Command::new("sh")
        .args(["-c", script])
        .current_dir(dir)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success(), "{script}");
}

#[test]
fn base_schema_is_read_from_the_image_without_running_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let image = format!("iocforge-pattern-test:{}", std::process::id());
    let schema = "{\n  \"$defs\": {},\n  \"properties\": {\n    \"entities\": {\n      \"items\": {\n        \"discriminator\": {\n          \"mapping\": {},\n          \"propertyName\": \"type\"\n        },\n        \"oneOf\": []\n      }\n    }\n  },\n  \"title\": \"NewIOC\"\n}";
    fs_err::create_dir_all(root.join("img/epics/ibek-defs")).unwrap();
    fs_err::write(root.join("img/epics/ibek-defs/ioc.schema.json"), schema).unwrap();
    sh(&format!("tar -C img -c . | docker import - {image}"), root);

    let dest = root.join("inst");
    fs_err::create_dir_all(dest.join("config")).unwrap();
    fs_err::write(
        dest.join("values.yaml"),
        "image: ghcr.io/org/ioc-x-runtime:1.0\n",
    )
    .unwrap();
    fs_err::write(dest.join("config/ioc.yaml"), "ioc_name: x\n").unwrap();
    fs_err::write(
        dest.join("config/local.ibek.support.yaml"),
        "module: local\nentity_models:\n  - name: thing\n    description: a thing\n    parameters:\n      name:\n        type: id\n        description: its name\n",
    )
    .unwrap();
    let out = Command::new(common::iocforge())
        .args(["pattern", "schema"])
        .arg(&dest)
        .args(["--base-schema-from-image", &image])
        .env("IBEK_SCHEMA_CACHE", root.join("cache"))
        .output()
        .unwrap();
    let _ = Command::new("docker").args(["rmi", "-f", &image]).output();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = fs_err::read_to_string(dest.join("ioc.schema.json")).unwrap();
    assert!(
        written.contains("\"local.thing\": \"#/$defs/local_thing\""),
        "{written}"
    );
    assert!(!root.join("cache").exists(), "the network path was taken");
    let ioc = fs_err::read_to_string(dest.join("config/ioc.yaml")).unwrap();
    assert_eq!(
        ioc,
        "# yaml-language-server: $schema=../ioc.schema.json\nioc_name: x\n"
    );
    // no container is left behind
    let ps = Command::new("docker")
        .args(["ps", "-a", "--filter", &format!("ancestor={image}"), "-q"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&ps.stdout).trim().is_empty());

    // an image that does not exist: exit 1, a hint, nothing written
    fs_err::remove_file(dest.join("ioc.schema.json")).unwrap();
    let out = Command::new(common::iocforge())
        .args(["pattern", "schema"])
        .arg(&dest)
        .args(["--base-schema-from-image", "iocforge-no-such-image:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("hint: pull the image"));
    assert!(!dest.join("ioc.schema.json").exists());
}
