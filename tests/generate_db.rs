//! `runtime generate` writes `ioc.db` next to `ioc.subst`, byte for byte
//! what EPICS msi writes for it; in ibek's commands a failure only warns.

mod common;

use std::path::Path;
use std::process::Command;

fn tree() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let fixture = common::root().join("tests/runtime");
    let support = d.path().join("epics/support/tempsim");
    common::copy_dir(&fixture.join("tempsim/db"), &support.join("db"));
    fs_err::copy(
        fixture.join("tempsim/tempsim.ibek.support.yaml"),
        d.path().join("tempsim.ibek.support.yaml"),
    )
    .unwrap();
    fs_err::create_dir_all(d.path().join("config")).unwrap();
    fs_err::write(
        d.path().join("config/ioc.yaml"),
        "ioc_name: x\ndescription: d\nentities:\n  - type: tempsim.Sensor\n    P: \"A:\"\n    R: \"B:\"\n  - type: tempsim.Sensor\n    P: \"A:\"\n    R: \"C:\"\n    EGU: K\n",
    )
    .unwrap();
    d
}

fn generate(d: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(common::iocforge())
        .current_dir(d)
        .args([
            "runtime",
            "generate",
            "config/ioc.yaml",
            "tempsim.ibek.support.yaml",
            "-o",
            "out",
        ])
        .args(extra)
        .env("EPICS_ROOT", d.join("epics"))
        .env("TEMPSIM", d.join("epics/support/tempsim"))
        .env_remove("SUPPORT")
        .output()
        .unwrap()
}

#[test]
fn ioc_db_is_what_msi_writes() {
    let d = tree();
    let out = generate(d.path(), &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours = fs_err::read(d.path().join("out/ioc.db")).unwrap();
    let base = common::epics_root();
    let msi = Command::new(base.join("usr/bin/msi"))
        .current_dir(d.path())
        .arg(format!(
            "-I{}",
            d.path().join("epics/support/tempsim/db").display()
        ))
        .arg("-Sout/ioc.subst")
        .env("LD_LIBRARY_PATH", base.join("usr/lib"))
        .env("TEMPSIM", d.path().join("epics/support/tempsim"))
        .output()
        .unwrap();
    assert!(
        msi.status.success(),
        "{}",
        String::from_utf8_lossy(&msi.stderr)
    );
    assert!(
        ours == msi.stdout,
        "ioc.db differs from msi's\n{}",
        common::first_difference(&msi.stdout, &ours)
    );
    assert!(String::from_utf8_lossy(&ours).contains("record(ao, \"A:C:TEMP\")"));
}

#[test]
fn missing_template_only_warns_in_ibeks_command() {
    let d = tree();
    fs_err::remove_file(d.path().join("epics/support/tempsim/db/tempsim.template")).unwrap();
    let out = generate(d.path(), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("warning: ioc.db not written"), "{err}");
    assert!(err.contains("tempsim.template"), "{err}");
    assert!(d.path().join("out/st.cmd").exists());
    assert!(!d.path().join("out/ioc.db").exists());
}

#[test]
fn no_db_skips_the_expansion() {
    let d = tree();
    let out = generate(d.path(), &["--no-db"]);
    assert!(out.status.success());
    assert!(!d.path().join("out/ioc.db").exists());
    assert!(d.path().join("out/ioc.subst").exists());
}
