//! `runtime start` with PVI: the generated `DEVICE.pvi.template` is part of
//! `ioc.db`, a real softIocPVA (EPICS 7.0.8.1) boots from it, serves the
//! device's records over CA and the PVI structure (`$(P)$(R)PVI`, made by
//! the template's `info(Q:group, ...)` tags) over PVA, and the screens are
//! in `$EPICS_ROOT/opi`. All traffic stays on 127.0.0.1.
//!
//! Fixtures: `tests/pvi/start/` (a db-only support module with a `pvi`
//! section, its device file with a parent, and the instance).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn base() -> PathBuf {
    common::epics_root()
}

/// Ports of this test process's own, so parallel runs do not meet.
fn ports() -> (String, String, String) {
    let n = 30000 + (std::process::id() % 10000) * 3;
    (n.to_string(), (n + 1).to_string(), (n + 2).to_string())
}

fn net_env(cmd: &mut Command) -> &mut Command {
    let (ca, pva, pva_bcast) = ports();
    cmd.env("LD_LIBRARY_PATH", base().join("usr/lib"))
        .env("EPICS_CAS_INTF_ADDR_LIST", "127.0.0.1")
        .env("EPICS_CAS_AUTO_BEACON_ADDR_LIST", "NO")
        .env("EPICS_CAS_BEACON_ADDR_LIST", "127.0.0.1")
        .env("EPICS_CA_ADDR_LIST", "127.0.0.1")
        .env("EPICS_CA_AUTO_ADDR_LIST", "NO")
        .env("EPICS_CA_SERVER_PORT", &ca)
        .env("EPICS_PVAS_INTF_ADDR_LIST", "127.0.0.1")
        .env("EPICS_PVA_ADDR_LIST", "127.0.0.1")
        .env("EPICS_PVA_AUTO_ADDR_LIST", "NO")
        .env("EPICS_PVA_SERVER_PORT", &pva)
        .env("EPICS_PVAS_SERVER_PORT", &pva)
        .env("EPICS_PVA_BROADCAST_PORT", &pva_bcast)
        .env("EPICS_PVAS_BROADCAST_PORT", &pva_bcast)
}

struct Ioc(Child);

impl Drop for Ioc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn tool(name: &str, args: &[&str]) -> Option<String> {
    let out = net_env(&mut Command::new(base().join("usr/bin").join(name)))
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// An EPICS root holding the fixture's support module, its PVI device files, the
/// instance and a stale screen in `opi/` that the start must clear.
fn lay_out_epics_root(root: &Path) {
    let fixture = common::root().join("tests/pvi/start");
    let defs = root.join("ibek-defs");
    fs_err::create_dir_all(&defs).unwrap();
    fs_err::copy(
        common::root().join("support-defs/epics.ibek.support.yaml"),
        defs.join("epics.ibek.support.yaml"),
    )
    .unwrap();
    fs_err::copy(
        fixture.join("pvisim.ibek.support.yaml"),
        defs.join("pvisim.ibek.support.yaml"),
    )
    .unwrap();
    common::copy_dir(&fixture.join("db"), &root.join("support/pvisim/db"));
    common::copy_dir(&fixture.join("pvi-defs"), &root.join("pvi-defs"));
    fs_err::create_dir_all(root.join("support/configure")).unwrap();
    fs_err::write(
        root.join("support/configure/RELEASE.shell"),
        format!("export PVISIM=\"{}/support/pvisim\"\n", root.display()),
    )
    .unwrap();
    let config = root.join("ioc/config");
    fs_err::create_dir_all(&config).unwrap();
    fs_err::copy(fixture.join("instance.yaml"), config.join("ioc.yaml")).unwrap();
    fs_err::create_dir_all(root.join("ioc/dbd")).unwrap();
    fs_err::copy(
        base().join("dbd/softIocPVA.dbd"),
        root.join("ioc/dbd/ioc.dbd"),
    )
    .unwrap();
    // a stale screen from an earlier start is cleared, as ibek clears opi/
    fs_err::create_dir_all(root.join("opi")).unwrap();
    fs_err::write(root.join("opi/stale.bob"), "old").unwrap();
}

/// `runtime start` in `root`, running softIocPVA; its stderr goes to the returned log.
fn spawn_start(root: &Path) -> (Ioc, PathBuf) {
    let ioc_command = format!(
        "{} -S -D {}",
        base().join("usr/bin/softIocPVA").display(),
        base().join("dbd/softIocPVA.dbd").display()
    );
    let err_log = root.join("start.err");
    let child = net_env(&mut Command::new(common::iocforge()))
        .args(["runtime", "start"])
        .env("EPICS_ROOT", root)
        .env("IOC_NAME", "iocforge-pvi")
        .env("IOCFORGE_IOC_COMMAND", ioc_command)
        .env("IOCFORGE_FAILURE_PAUSE", "0")
        .env_remove("IOC")
        .env_remove("RUNTIME_DIR")
        .env_remove("SUPPORT")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs_err::File::create(&err_log).unwrap().into_parts().0)
        .spawn()
        .unwrap();
    (Ioc(child), err_log)
}

#[test]
fn start_boots_with_pvi_templates_and_writes_screens() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("epics");
    lay_out_epics_root(&root);
    let (mut ioc, err_log) = spawn_start(&root);

    // records of the support module, through CA
    let t = Instant::now();
    let gain = loop {
        if let Some(v) = tool("caget", &["-t", "-w", "1", "IOCFORGE-PVI:SIM:GAIN_RBV"]) {
            break v;
        }
        if let Ok(Some(status)) = ioc.0.try_wait() {
            panic!(
                "the IOC exited ({status}):\n{}",
                fs_err::read_to_string(&err_log).unwrap_or_default()
            );
        }
        assert!(t.elapsed() < Duration::from_secs(30), "no CA within 30 s");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(gain, "3");
    assert_eq!(
        tool("caget", &["-t", "-w", "1", "IOCFORGE-PVI:SIM:TEMP"]).as_deref(),
        Some("21.5")
    );

    // the PVI structure the template's info tags build, through PVA
    let pvi =
        tool("pvget", &["-w", "5", "IOCFORGE-PVI:SIM:PVI"]).expect("the PVI PV is served over PVA");
    for name in [
        "IOCFORGE-PVI:SIM:GAIN",
        "IOCFORGE-PVI:SIM:GAIN_RBV",
        "IOCFORGE-PVI:SIM:TEMP",
        "IOCFORGE-PVI:SIM:RESET",
    ] {
        assert!(pvi.contains(name), "{name} in the PVI structure:\n{pvi}");
    }

    let runtime = root.join("runtime");
    let db = fs_err::read_to_string(runtime.join("ioc.db")).unwrap();
    assert!(
        db.contains("record(\"*\", \"IOCFORGE-PVI:SIM:TEMP\")")
            && db.contains("\"IOCFORGE-PVI:SIM:PVI\""),
        "ioc.db holds the expanded PVI template:\n{db}"
    );
    let template = fs_err::read_to_string(runtime.join("PviSim.pvi.template")).unwrap();
    assert!(template.contains("\"pvi.Temperature.r\""), "{template}");

    let opi = root.join("opi");
    let mut screens: Vec<String> = fs_err::read_dir(&opi)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    screens.sort();
    assert_eq!(screens, ["PviSim.pvi.bob", "index.bob"]);
    let screen = fs_err::read_to_string(opi.join("PviSim.pvi.bob")).unwrap();
    assert!(screen.contains("<name>PVI Simulator</name>"), "{screen}");
    assert!(
        screen.contains("<pv_name>$(P)$(R)TEMP</pv_name>"),
        "parent's signals: {screen}"
    );
    let index = fs_err::read_to_string(opi.join("index.bob")).unwrap();
    assert!(
        index.contains("<file>PviSim.pvi.bob</file>") && index.contains("<P>IOCFORGE-PVI:</P>"),
        "{index}"
    );
    let steps = fs_err::read_to_string(&err_log).unwrap();
    assert!(steps.contains("] pvi: 1 templates, 2 screens"), "{steps}");
}
