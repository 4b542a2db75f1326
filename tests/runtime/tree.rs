//! The `/epics` tree the runtime tests boot from (included by
//! `runtime_start.rs` and `runtime_steps.rs`).

use std::path::PathBuf;

pub struct Tree {
    _tmp: tempfile::TempDir,
    pub root: PathBuf,
}

/// An `/epics`-style tree: the project's epics definitions, a db-only support
/// module, RELEASE.shell, the instance config, and a dbd for softIoc.
pub fn make_tree(ioc_yaml: &str) -> Tree {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("epics");
    let defs = root.join("ibek-defs");
    fs_err::create_dir_all(&defs).unwrap();
    fs_err::copy(
        crate::common::root().join("support-defs/epics.ibek.support.yaml"),
        defs.join("epics.ibek.support.yaml"),
    )
    .unwrap();
    let fixture = crate::common::root().join("tests/runtime/tempsim");
    fs_err::copy(
        fixture.join("tempsim.ibek.support.yaml"),
        defs.join("tempsim.ibek.support.yaml"),
    )
    .unwrap();
    crate::common::copy_dir(&fixture.join("db"), &root.join("support/tempsim/db"));
    fs_err::create_dir_all(root.join("support/configure")).unwrap();
    fs_err::write(
        root.join("support/configure/RELEASE.shell"),
        format!("export TEMPSIM=\"{}/support/tempsim\"\n", root.display()),
    )
    .unwrap();
    let config = root.join("ioc/config");
    fs_err::create_dir_all(&config).unwrap();
    fs_err::write(config.join("ioc.yaml"), ioc_yaml).unwrap();
    fs_err::create_dir_all(root.join("ioc/dbd")).unwrap();
    fs_err::copy(
        crate::common::epics_root().join("dbd/softIoc.dbd"),
        root.join("ioc/dbd/ioc.dbd"),
    )
    .unwrap();
    Tree { _tmp: tmp, root }
}
