//! `services check` against the definitions of the services' own images,
//! read through the Docker Engine API without running a container.
//!
//! Needs the Docker daemon and the debootstrap base image
//! `iocforge-test-bookworm` that `.ci/setup` makes. The test image holds
//! the shared samples' definitions as an IOC image does: the files under
//! `/epics/ibek-support/` and absolute symlinks to them in
//! `/epics/ibek-defs/` (as ibek-support's `_ansible` links them), plus a
//! file in `/epics/pvi-defs/`. Container creations are counted through
//! `docker events`, so a cache hit is seen to need no container.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

const BASE_OS: &str = "iocforge-test-bookworm";

fn docker(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .output()
        .expect("the docker CLI runs (`.ci/setup` installs docker.io)")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn require_docker() {
    let v = docker(&["version", "--format", "{{.Server.Version}}"]);
    assert!(
        v.status.success(),
        "the Docker daemon does not answer: {}\nrun `.ci/setup`, which starts dockerd",
        text(&v.stderr)
    );
    let base = docker(&["image", "inspect", "--format", "{{.Id}}", BASE_OS]);
    assert!(
        base.status.success(),
        "the base image `{BASE_OS}` is missing: run `.ci/setup`, which makes it with debootstrap"
    );
}

/// Removes the test image however the test ends.
struct Image(String);

impl Drop for Image {
    fn drop(&mut self) {
        let _ = docker(&["rmi", "-f", &self.0]);
    }
}

fn sample(name: &str) -> PathBuf {
    common::shared()
        .join("conformance/ibek-samples/support")
        .join(format!("{name}.ibek.support.yaml"))
}

/// Builds the test IOC image; returns it and its ID.
fn build_image(dir: &Path, tag: &str) -> (Image, String) {
    let ctx = dir.join("image");
    fs_err::create_dir_all(ctx.join("ibek-defs")).unwrap();
    fs_err::create_dir_all(ctx.join("pvi-defs")).unwrap();
    for name in ["epics", "asyn", "motorSim"] {
        let file = format!("{name}.ibek.support.yaml");
        let dest = ctx.join("ibek-support").join(name);
        fs_err::create_dir_all(&dest).unwrap();
        fs_err::copy(sample(name), dest.join(&file)).unwrap();
        std::os::unix::fs::symlink(
            format!("/epics/ibek-support/{name}/{file}"),
            ctx.join("ibek-defs").join(&file),
        )
        .unwrap();
    }
    fs_err::write(
        ctx.join("pvi-defs/simDetector.pvi.device.yaml"),
        "label: simDetector\nparent: ADDriver\nchildren: []\n",
    )
    .unwrap();
    fs_err::write(
        ctx.join("Dockerfile"),
        format!(
            "FROM {BASE_OS}\nCOPY ibek-support/ /epics/ibek-support/\nCOPY ibek-defs/ /epics/ibek-defs/\nCOPY pvi-defs/ /epics/pvi-defs/\n"
        ),
    )
    .unwrap();
    let out = Command::new("docker")
        .args(["build", "-q", "-t", tag])
        .arg(&ctx)
        .env("DOCKER_BUILDKIT", "0")
        .output()
        .unwrap();
    let image = Image(tag.to_string());
    assert!(out.status.success(), "docker build: {}", text(&out.stderr));
    let id = docker(&["image", "inspect", "--format", "{{.Id}}", tag]);
    assert!(id.status.success());
    (image, text(&id.stdout).trim().to_string())
}

fn link(target: &str, link: &Path) {
    let _ = fs_err::remove_file(link);
    std::os::unix::fs::symlink(target, link).unwrap();
}

/// The fixture repository (tests/services/repo) with `ioc-01` and `ioc-02`
/// on the test image; the others name images that are not present.
fn repo(dir: &Path, image: &str) -> PathBuf {
    let root = dir.join("repo");
    common::copy_dir(&common::root().join("tests/services/repo"), &root);
    for i in ["01", "02", "03", "04", "05", "06"] {
        let s = root.join(format!("services/ioc-{i}"));
        link("../../.helm-shared/Chart.yaml", &s.join("Chart.yaml"));
        link("../../.helm-shared/templates", &s.join("templates"));
    }
    link(
        "../../.helm-shared/LegacyChart.yaml",
        &root.join("services/legacy-01/Chart.yaml"),
    );
    for name in ["ioc-01", "ioc-02"] {
        fs_err::write(
            root.join("services").join(name).join("values.yaml"),
            format!("ioc-instance:\n  image: {image}\n"),
        )
        .unwrap();
    }
    root
}

fn now() -> String {
    let t = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    format!("{}.{:09}", t.as_secs(), t.subsec_nanos())
}

struct Run {
    code: i32,
    stderr: String,
    outcomes: Vec<Value>,
    /// Containers created from the image (by tag or ID) during the run.
    created: usize,
}

fn check(root: &Path, cache: &Path, image: &str, id: &str, env: &[(&str, &str)]) -> Run {
    let since = now();
    let mut cmd = Command::new(common::iocforge());
    cmd.args(["services", "check"])
        .arg(root)
        .args(["--all", "--format", "json"])
        .env("XDG_CACHE_HOME", cache);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let until = now();
    let events = docker(&[
        "events",
        "--since",
        &since,
        "--until",
        &until,
        "--filter",
        "type=container",
        "--filter",
        "event=create",
        "--format",
        "{{index .Actor.Attributes \"image\"}}",
    ]);
    assert!(events.status.success(), "{}", text(&events.stderr));
    let created = text(&events.stdout)
        .lines()
        .filter(|l| *l == image || *l == id)
        .count();
    Run {
        code: out.status.code().unwrap_or(-1),
        stderr: text(&out.stderr),
        outcomes: serde_json::from_slice(&out.stdout).unwrap_or_default(),
        created,
    }
}

fn find<'a>(r: &'a Run, name: &str, check: &str) -> &'a Value {
    r.outcomes
        .iter()
        .find(|o| o["name"] == name)
        .and_then(|o| o["checks"].as_array())
        .and_then(|c| c.iter().find(|k| k["check"] == check))
        .unwrap_or_else(|| panic!("no `{check}` of `{name}`: {:?}\n{}", r.outcomes, r.stderr))
}

fn status(r: &Run, name: &str, check: &str) -> String {
    find(r, name, check)["status"].as_str().unwrap().to_string()
}

fn detail(r: &Run, name: &str, check: &str) -> String {
    find(r, name, check)["detail"].as_str().unwrap().to_string()
}

#[test]
fn definitions_come_from_the_image_once_per_id_and_then_from_the_cache() {
    require_docker();
    let tmp = tempfile::tempdir().unwrap();
    let tag = format!("iocforge-check-defs:{}", std::process::id());
    let (_image, id) = build_image(tmp.path(), &tag);
    let root = repo(tmp.path(), &tag);
    let cache = tmp.path().join("cache");

    // first run: one container for both services, never started, then removed
    let r = check(&root, &cache, &tag, &id, &[]);
    assert_eq!(r.code, 0, "{}\n{:?}", r.stderr, r.outcomes);
    for name in ["ioc-01", "ioc-02"] {
        assert_eq!(status(&r, name, "generate"), "pass", "{name}");
        assert!(
            detail(&r, name, "generate").contains(&id),
            "{}",
            detail(&r, name, "generate")
        );
    }
    assert_eq!(r.created, 1, "containers created on a cache miss");
    let ps = docker(&["ps", "-a", "--filter", &format!("ancestor={tag}"), "-q"]);
    assert!(
        text(&ps.stdout).trim().is_empty(),
        "a container was left behind"
    );
    // an image that is not present locally: skipped, saying so
    assert_eq!(status(&r, "ioc-03", "generate"), "skip");
    assert!(
        detail(&r, "ioc-03", "generate").contains("not present locally"),
        "{}",
        detail(&r, "ioc-03", "generate")
    );

    // the cache entry: the definitions behind the image's links, and pvi-defs
    let entry = cache
        .join("iocforge/image-defs")
        .join(id.trim_start_matches("sha256:"));
    for name in ["epics", "asyn", "motorSim"] {
        let cached = entry.join(format!("ibek-defs/{name}.ibek.support.yaml"));
        assert_eq!(
            fs_err::read(&cached).unwrap(),
            fs_err::read(sample(name)).unwrap(),
            "{}",
            cached.display()
        );
    }
    assert!(entry.join("pvi-defs/simDetector.pvi.device.yaml").is_file());

    // second run: a cache hit, no container at all
    let r = check(&root, &cache, &tag, &id, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(status(&r, "ioc-01", "generate"), "pass");
    assert_eq!(r.created, 0, "containers created on a cache hit");

    // a broken instance fails against the image's definitions
    let ioc = root.join("services/ioc-01/config/ioc.yaml");
    let text_before = fs_err::read_to_string(&ioc).unwrap();
    fs_err::write(
        &ioc,
        format!(
            "{}\n  - type: epics.EpicsEnvSet\n    name: X\n    value: Y\n    nosuch: 1\n",
            text_before.trim_end()
        ),
    )
    .unwrap();
    let r = check(&root, &cache, &tag, &id, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(status(&r, "ioc-01", "generate"), "fail");
    assert_eq!(status(&r, "ioc-02", "generate"), "pass");
    let problems = find(&r, "ioc-01", "generate")["problems"].to_string();
    assert!(problems.contains("nosuch"), "{problems}");
    assert_eq!(r.created, 0);

    // no daemon: skipped with the reason, never a pass
    let r = check(
        &root,
        &cache,
        &tag,
        &id,
        &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")],
    );
    assert_eq!(status(&r, "ioc-02", "generate"), "skip");
    assert!(
        detail(&r, "ioc-02", "generate").contains("cannot reach the Docker daemon"),
        "{}",
        detail(&r, "ioc-02", "generate")
    );
}

/// Debian's `docker-registry` on a loopback port of its own, stopped on drop.
struct Registry {
    child: std::process::Child,
    host: String,
}

impl Registry {
    fn start(dir: &Path) -> Registry {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let host = format!("127.0.0.1:{port}");
        let config = dir.join("registry.yml");
        fs_err::write(
            &config,
            format!(
                "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {host}\n",
                dir.join("registry-data").display()
            ),
        )
        .unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("docker-registry runs (`.ci/setup` installs Debian's docker-registry)");
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(&host).is_err() {
            assert!(
                started.elapsed().as_secs() < 30,
                "docker-registry did not listen"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        Registry { child, host }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn pull_fetches_an_image_that_is_not_present_locally() {
    require_docker();
    let tmp = tempfile::tempdir().unwrap();
    let local = format!("iocforge-check-pull:{}", std::process::id());
    let (_image, _) = build_image(tmp.path(), &local);
    let registry = Registry::start(tmp.path());
    let remote = format!(
        "{}/iocforge-check-pull:{}",
        registry.host,
        std::process::id()
    );
    let pushed = Image(remote.clone());
    for args in [
        vec!["tag", local.as_str(), remote.as_str()],
        vec!["push", remote.as_str()],
        vec!["rmi", remote.as_str()],
    ] {
        let out = docker(&args);
        assert!(
            out.status.success(),
            "docker {args:?}: {}",
            text(&out.stderr)
        );
    }
    let root = repo(tmp.path(), &remote);
    let cache = tmp.path().join("cache");

    let r = check(&root, &cache, &remote, "-", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(status(&r, "ioc-01", "generate"), "skip");

    let out = Command::new(common::iocforge())
        .args(["services", "check"])
        .arg(&root)
        .args(["--all", "--pull", "--format", "json"])
        .env("XDG_CACHE_HOME", &cache)
        .output()
        .unwrap();
    let outcomes: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let r = Run {
        code: out.status.code().unwrap_or(-1),
        stderr: text(&out.stderr),
        outcomes,
        created: 0,
    };
    // the pulled image passes; one no registry serves fails (a pull was asked for)
    assert_eq!(status(&r, "ioc-01", "generate"), "pass", "{}", r.stderr);
    assert_eq!(status(&r, "ioc-02", "generate"), "pass");
    assert_eq!(
        status(&r, "ioc-03", "generate"),
        "fail",
        "no registry answers for it"
    );
    let present = docker(&["image", "inspect", &remote]);
    assert!(present.status.success(), "the image was not pulled");
    drop(pushed);
}
