//! The Python wheel (issue 14): `pip install iocforge` and `uvx iocforge`
//! install the one static binary, the way services repositories install ibek.
//!
//! The wheel is built as a release is (README "Install"): maturin with
//! `bindings = "bin"` from `pyproject.toml`, the static musl binary, tagged for
//! glibc and musl systems (`--compatibility manylinux_2_17 musllinux_1_2`),
//! but with the quick `e2e` profile and the `target/e2e-musl` folder that
//! tests/docker_e2e.rs and tests/hostile.rs build in, so the three share one
//! incremental build. Then, in a fresh venv on this (glibc) machine,
//! `pip install --no-index` must take it, and the installed `iocforge` must be
//! the wheel's static binary and work. pre-commit validates
//! `.pre-commit-hooks.yaml`. maturin and pre-commit come from `.ci/setup`
//! (`.tools/maturin`).
#![allow(clippy::print_stderr)] // build times go to the CI log

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Instant;

use serde_json::Value;

/// A program of the venv `.ci/setup` makes for maturin and pre-commit.
fn tool(name: &str) -> PathBuf {
    let path = common::tools().join("maturin/bin").join(name);
    assert!(
        path.exists(),
        "{} not found: run `.ci/setup` (the README's test command does) first",
        path.display()
    );
    path
}

fn run(cmd: &mut Command) -> Output {
    let shown = format!("{cmd:?}");
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {shown}: {e}"));
    assert!(
        out.status.success(),
        "{shown} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The built wheel (once per test binary) in a folder of its own.
#[allow(clippy::disallowed_methods)] // the test harness's settings
fn wheel() -> &'static Path {
    static WHEEL: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &WHEEL
        .get_or_init(|| {
            let out = tempfile::tempdir().unwrap();
            let started = Instant::now();
            run(Command::new(tool("maturin"))
                .current_dir(common::root())
                .args([
                    "build",
                    "--locked",
                    "--profile",
                    "e2e",
                    "--target",
                    "x86_64-unknown-linux-musl",
                    "--compatibility",
                    "manylinux_2_17",
                    "musllinux_1_2",
                    "--target-dir",
                ])
                .arg(common::root().join("target/e2e-musl"))
                .arg("--out")
                .arg(out.path())
                .env_remove("RUSTFLAGS"));
            eprintln!("wheel built in {:.1}s", started.elapsed().as_secs_f64());
            let wheels: Vec<PathBuf> = fs_err::read_dir(out.path())
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "whl"))
                .collect();
            assert_eq!(wheels.len(), 1, "one wheel expected: {wheels:?}");
            let wheel = wheels[0].clone();
            (out, wheel)
        })
        .1
}

/// What the wheel holds: its file names, the tags and version its metadata
/// declare, and the bytes of its script `iocforge`, read with Python's own
/// zipfile (the module pip's installer builds on).
struct WheelContents {
    names: Vec<String>,
    tags: Vec<String>,
    version: String,
    binary: Vec<u8>,
}

fn read_wheel(wheel: &Path, scratch: &Path) -> WheelContents {
    const SCRIPT: &str = r#"
import json, sys, zipfile
wheel, extract = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    names = z.namelist()
    info = [n for n in names if n.endswith(".dist-info/WHEEL")][0]
    meta = [n for n in names if n.endswith(".dist-info/METADATA")][0]
    tags = [l.split(":", 1)[1].strip() for l in z.read(info).decode().splitlines() if l.startswith("Tag:")]
    version = [l.split(":", 1)[1].strip() for l in z.read(meta).decode().splitlines() if l.startswith("Version:")][0]
    script = [n for n in names if n.endswith(".data/scripts/iocforge")]
    if script:
        open(extract, "wb").write(z.read(script[0]))
json.dump({"names": names, "tags": tags, "version": version}, sys.stdout)
"#;
    let extract = scratch.join("iocforge-from-wheel");
    let out = run(Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .arg(wheel)
        .arg(&extract));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let strings = |key: &str| -> Vec<String> {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect()
    };
    WheelContents {
        names: strings("names"),
        tags: strings("tags"),
        version: v["version"].as_str().unwrap().to_owned(),
        binary: fs_err::read(&extract).unwrap_or_default(),
    }
}

/// The program header types of a 64-bit little-endian ELF executable, or why
/// the bytes are not one.
fn elf_program_header_types(elf: &[u8]) -> Result<Vec<u32>, String> {
    let u16_at = |o: usize| elf.get(o..o + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u32_at = |o: usize| {
        elf.get(o..o + 4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
    };
    let u64_at = |o: usize| {
        elf.get(o..o + 8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
    };
    if elf.get(..4) != Some(b"\x7fELF".as_slice()) {
        return Err("no ELF magic".into());
    }
    if elf[4] != 2 || elf[5] != 1 {
        return Err(format!(
            "not ELF64 little-endian (class {}, data {})",
            elf[4], elf[5]
        ));
    }
    // e_machine 62 = x86-64
    if u16_at(18) != Some(62) {
        return Err(format!("machine {:?}, not x86-64", u16_at(18)));
    }
    let phoff = u64_at(0x20).ok_or("short header")? as usize;
    let phentsize = u16_at(0x36).ok_or("short header")? as usize;
    let phnum = u16_at(0x38).ok_or("short header")? as usize;
    (0..phnum)
        .map(|i| u32_at(phoff + i * phentsize).ok_or_else(|| format!("program header {i} cut off")))
        .collect()
}

/// The `python3` interpreter the venvs are made from.
fn which_python3() -> PathBuf {
    let out = run(Command::new("python3").args(["-c", "import sys; print(sys.executable)"]));
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// `PT_INTERP`: the program header naming a dynamic loader.
const PT_INTERP: u32 = 3;

#[test]
fn wheel_carries_the_static_binary_and_pip_installs_it_into_a_fresh_venv() {
    let wheel = wheel();
    let scratch = tempfile::tempdir().unwrap();
    let contents = read_wheel(wheel, scratch.path());
    let version = env!("CARGO_PKG_VERSION");

    // the version is Cargo.toml's (pyproject.toml takes it as dynamic)
    assert_eq!(contents.version, version, "METADATA Version");
    // the binary, and nothing importable: a scripts entry, dist-info, no modules
    let script = format!("iocforge-{version}.data/scripts/iocforge");
    assert!(
        contents.names.contains(&script),
        "{script} missing from {}: {:?}",
        wheel.display(),
        contents.names
    );
    let stray: Vec<&String> = contents
        .names
        .iter()
        .filter(|n| *n != &script && !n.starts_with(&format!("iocforge-{version}.dist-info/")))
        .collect();
    assert!(
        stray.is_empty(),
        "files beyond the binary and its metadata: {stray:?}"
    );
    // tagged for any Python 3, no ABI, and both libc families (pip on glibc
    // takes manylinux, pip on Alpine takes musllinux)
    for tag in [
        "py3-none-manylinux_2_17_x86_64",
        "py3-none-musllinux_1_2_x86_64",
    ] {
        assert!(
            contents.tags.iter().any(|t| t == tag),
            "tag {tag} missing: {:?}",
            contents.tags
        );
    }
    // static: an x86-64 executable with no dynamic loader to ask for (the
    // check does see one in a dynamically linked program: this machine's python3)
    let python = fs_err::read(fs_err::canonicalize(which_python3()).unwrap()).unwrap();
    assert!(
        elf_program_header_types(&python)
            .unwrap()
            .contains(&PT_INTERP),
        "python3 shows no PT_INTERP: the ELF reading is wrong"
    );
    let headers = elf_program_header_types(&contents.binary)
        .unwrap_or_else(|e| panic!("the wheel's iocforge is not an x86-64 ELF executable: {e}"));
    assert!(!headers.is_empty(), "no program headers");
    assert!(
        !headers.contains(&PT_INTERP),
        "the wheel's iocforge names a dynamic loader (PT_INTERP): not the static musl build"
    );

    // a fresh venv on this glibc machine; pip must accept the tags offline
    let venv = scratch.path().join("venv");
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv));
    run(Command::new(venv.join("bin/pip"))
        .args([
            "install",
            "--no-index",
            "--disable-pip-version-check",
            "--quiet",
        ])
        .arg(wheel));
    let installed = venv.join("bin/iocforge");
    assert_eq!(
        fs_err::read(&installed).unwrap(),
        contents.binary,
        "the installed iocforge is not the wheel's binary"
    );
    let out = run(Command::new(&installed).arg("--version"));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("iocforge {version}")
    );

    // a real command: the installed binary lists a services repository as
    // the one cargo built for these tests does, and finds every service
    let repo = scratch.path().join("repo");
    common::services_fixture(&repo);
    let list = |bin: &Path| -> Value {
        let out = run(Command::new(bin)
            .args(["services", "list", "--format", "json"])
            .arg(&repo));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let from_wheel = list(&installed);
    assert_eq!(from_wheel, list(common::iocforge()));
    let mut names: Vec<&str> = from_wheel
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    let mut folders: Vec<String> = fs_err::read_dir(repo.join("services"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort_unstable();
    assert_eq!(names, folders, "services listed by the installed iocforge");
}

#[test]
fn pre_commit_accepts_the_hooks_manifest() {
    let manifest = common::root().join(".pre-commit-hooks.yaml");
    run(Command::new(tool("pre-commit"))
        .args(["validate-manifest"])
        .arg(&manifest));
    // the hooks services repositories name, each running an iocforge command
    let text = fs_err::read_to_string(&manifest).unwrap();
    for (id, command) in [
        ("iocforge-services-check", "iocforge services check"),
        ("iocforge-pattern-schema", "iocforge pattern schema"),
    ] {
        let at = text
            .find(&format!("- id: {id}\n"))
            .unwrap_or_else(|| panic!("hook {id} missing"));
        let hook = text[at + 2..].split("\n- id:").next().unwrap();
        assert!(hook.contains(command), "hook {id} does not run `{command}`");
        assert!(
            hook.contains("pass_filenames: false"),
            "hook {id} passes file names"
        );
    }
    // the validator does reject what pre-commit cannot run (a hook without
    // an entry), so its pass above means something
    let broken = tempfile::tempdir().unwrap();
    let broken = broken.path().join(".pre-commit-hooks.yaml");
    fs_err::write(&broken, "- id: x\n  name: x\n  language: python\n").unwrap();
    let out = Command::new(tool("pre-commit"))
        .args(["validate-manifest"])
        .arg(&broken)
        .output()
        .unwrap();
    assert!(!out.status.success(), "a hook without entry validated");
}

fn git(repo: &Path, args: &[&str]) {
    run(Command::new("git")
        .current_dir(repo)
        .args([
            "-c",
            "user.name=test",
            "-c",
            "user.email=test@example.invalid",
        ])
        .args(args));
}

/// `pre-commit try-repo` of this repository's `iocforge-services-check` hook
/// in a services repository: pre-commit installs iocforge from source as it
/// does for a services repo (`language: python`: pip builds the package with
/// maturin, offered offline from `.ci/setup`'s wheel folder). maturin builds with the test profile in `target/e2e-musl`, so
/// only iocforge itself compiles again (pre-commit's clone is a new path).
#[test]
#[allow(clippy::disallowed_methods)] // the test harness's settings
fn pre_commit_runs_the_services_check_hook_from_this_repository() {
    let scratch = tempfile::tempdir().unwrap();
    let repo = scratch.path().join("services-repo");
    common::services_fixture(&repo);
    // one service broken: the hook must fail on it, pointing at the file,
    // and pass the others (one run: try-repo's store is temporary, so each
    // call builds iocforge again)
    let values = repo.join("services/ioc-02/values.yaml");
    let mut broken = fs_err::read_to_string(&values).unwrap();
    broken.push_str("broken: [unclosed\n");
    fs_err::write(&values, broken).unwrap();
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "services"]);
    let (ok, text) = {
        let started = Instant::now();
        let out = Command::new(tool("pre-commit"))
            .current_dir(&repo)
            .args(["try-repo"])
            .arg(common::root())
            .args(["iocforge-services-check", "--all-files", "--verbose"])
            .env("PIP_NO_INDEX", "1")
            .env("PIP_FIND_LINKS", common::tools().join("maturin/wheels"))
            .env("CARGO_TARGET_DIR", common::root().join("target/e2e-musl"))
            .env(
                "MATURIN_PEP517_ARGS",
                "--locked --profile e2e --target x86_64-unknown-linux-musl \
                 --compatibility manylinux_2_17 musllinux_1_2",
            )
            .env_remove("RUSTFLAGS")
            .output()
            .unwrap();
        eprintln!(
            "pre-commit try-repo took {:.1}s",
            started.elapsed().as_secs_f64()
        );
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    assert!(!ok, "the hook passed a broken values.yaml:\n{text}");
    assert!(
        text.contains("services/ioc-02/values.yaml:"),
        "the failure does not point at the file:\n{text}"
    );
    let row = |service: &str, result: &str| {
        text.lines()
            .any(|l| l.starts_with(&format!("{service} ")) && l.contains(&format!(" {result} ")))
    };
    assert!(row("ioc-02", "fail"), "ioc-02 not failed:\n{text}");
    for service in ["ioc-01", "ioc-06", "legacy-01", "monitor"] {
        assert!(row(service, "ok"), "{service} not checked ok:\n{text}");
    }
}
