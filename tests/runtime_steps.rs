//! `runtime start` and the standalone runtime commands are one implementation:
//! on two copies of the same `/epics` tree, `runtime start` and the commands
//! the epics-containers start.sh runs one by one (`runtime generate2`,
//! `runtime generate-autosave`, `runtime place-files`, `ioc do-wait`) write
//! the same runtime folder and the same autosave links. ibek 4.8.2 (with the
//! reference msi) runs the standalone `generate-autosave` and `place-files`
//! on a third copy and writes the same bytes.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

#[path = "runtime/tree.rs"]
mod tree;

use tree::Tree;

/// The runtime tests' tree, plus an instance config folder with an
/// overriding request template, a protocol and a template.
fn make_tree() -> Tree {
    let ioc_yaml = fs_err::read_to_string(common::root().join("tests/runtime/ioc.yaml")).unwrap();
    let tree = tree::make_tree(&ioc_yaml);
    let config = tree.root.join("ioc/config");
    fs_err::write(config.join("tempsim_positions.req"), "$(P)$(R)X\n").unwrap();
    fs_err::write(config.join("dev.proto"), "Terminator = LF;\n").unwrap();
    fs_err::write(config.join("extra.template"), "record(ai, \"$(P)X\") {}\n").unwrap();
    tree
}

/// The environment start.sh gives ibek: RELEASE.shell sourced, IOC and
/// RUNTIME_DIR exported.
fn standalone(tree: &Tree, program: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env("EPICS_ROOT", &tree.root)
        .env("IOC", tree.root.join("ioc"))
        .env("RUNTIME_DIR", tree.root.join("runtime"))
        .env("TEMPSIM", tree.root.join("support/tempsim"))
        .env("IOC_NAME", "iocforge-test")
        .env_remove("SUPPORT");
    cmd
}

fn run(mut cmd: Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every file under `dir` (following links) as relative path → text with
/// the tree's root replaced, and every symlink's target likewise.
fn snapshot(tree: &Tree, dir: &Path) -> BTreeMap<String, String> {
    let root = tree.root.display().to_string();
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(dir).min_depth(1).sort_by_file_name() {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
        if e.path_is_symlink() {
            let target = fs_err::read_link(e.path()).unwrap();
            out.insert(
                format!("{rel} ->"),
                target.display().to_string().replace(&root, "ROOT"),
            );
        } else if e.file_type().is_file() {
            let text = fs_err::read_to_string(e.path()).unwrap();
            out.insert(rel, text.replace(&root, "ROOT"));
        }
    }
    out
}

fn assert_same(what: &str, a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) {
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "{what}: different files"
    );
    for (name, text) in a {
        assert!(
            text == &b[name],
            "{what}: `{name}` differs: {}",
            common::first_difference(text.as_bytes(), b[name].as_bytes())
        );
    }
}

#[test]
fn start_steps_and_standalone_commands_write_the_same_files() {
    // runtime start, ending in `true ROOT/runtime/st.cmd`
    let started = make_tree();
    let out = Command::new(common::iocforge())
        .args(["runtime", "start"])
        .env("EPICS_ROOT", &started.root)
        .env("IOC_NAME", "iocforge-test")
        .env("IOCFORGE_IOC_COMMAND", "true")
        .env("IOCFORGE_FAILURE_PAUSE", "0")
        .env_remove("IOC")
        .env_remove("RUNTIME_DIR")
        .env_remove("SUPPORT")
        .env_remove("IBEK_DO_WAIT_DISABLE")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    for step in [
        "generate",
        "expand-db",
        "autosave",
        "place-files",
        "do-wait",
    ] {
        assert!(
            log.contains(&format!("] {step}: ")),
            "no {step} step:\n{log}"
        );
    }

    // the same steps as commands, as start.sh runs them
    let manual = make_tree();
    let config = manual.root.join("ioc/config");
    let config = config.to_str().unwrap();
    let iocforge = common::iocforge();
    run(standalone(
        &manual,
        iocforge,
        &["runtime", "generate2", config],
    ));
    run(standalone(
        &manual,
        iocforge,
        &["runtime", "generate-autosave"],
    ));
    run(standalone(
        &manual,
        iocforge,
        &["runtime", "place-files", config],
    ));
    run(standalone(&manual, iocforge, &["ioc", "do-wait"]));

    let runtime = snapshot(&started, &started.root.join("runtime"));
    assert!(runtime.contains_key("ioc.db"), "{:?}", runtime.keys());
    assert!(
        runtime.contains_key("autosave_settings.req")
            && runtime.contains_key("protocol/dev.proto")
            && runtime.contains_key("db/extra.template"),
        "{:?}",
        runtime.keys()
    );
    assert_same(
        "runtime folder",
        &runtime,
        &snapshot(&manual, &manual.root.join("runtime")),
    );
    let autosave = snapshot(&started, &started.root.join("autosave"));
    assert!(
        autosave.contains_key("tempsim_positions.req ->"),
        "{autosave:?}"
    );
    assert_same(
        "autosave links",
        &autosave,
        &snapshot(&manual, &manual.root.join("autosave")),
    );
}

#[test]
fn standalone_autosave_and_place_files_match_ibek() {
    let ours = make_tree();
    let theirs = make_tree();
    // both start from the same ioc.subst, the one iocforge generates
    for t in [&ours, &theirs] {
        let config = t.root.join("ioc/config");
        run(standalone(
            t,
            common::iocforge(),
            &["runtime", "generate2", config.to_str().unwrap(), "--no-db"],
        ));
    }
    let ours_config = ours.root.join("ioc/config");
    run(standalone(
        &ours,
        common::iocforge(),
        &["runtime", "generate-autosave"],
    ));
    run(standalone(
        &ours,
        common::iocforge(),
        &["runtime", "place-files", ours_config.to_str().unwrap()],
    ));

    // ibek runs the reference msi from PATH
    let msi_dir = common::epics_root().join("usr/bin");
    let path = format!("{}:/usr/bin:/bin", msi_dir.display());
    let theirs_config = theirs.root.join("ioc/config");
    for args in [
        vec!["runtime", "generate-autosave"],
        vec!["runtime", "place-files", theirs_config.to_str().unwrap()],
    ] {
        let mut cmd = standalone(&theirs, &common::ibek(), &args);
        cmd.env("PATH", &path)
            .env("LD_LIBRARY_PATH", common::epics_root().join("usr/lib"));
        run(cmd);
    }

    let ours_runtime = snapshot(&ours, &ours.root.join("runtime"));
    assert!(
        ours_runtime.contains_key("autosave_positions.req"),
        "{:?}",
        ours_runtime.keys()
    );
    assert_same(
        "runtime folder against ibek",
        &snapshot(&theirs, &theirs.root.join("runtime")),
        &ours_runtime,
    );
    assert_same(
        "autosave links against ibek",
        &snapshot(&theirs, &theirs.root.join("autosave")),
        &snapshot(&ours, &ours.root.join("autosave")),
    );
}
