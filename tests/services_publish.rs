//! `services publish` against a real OCI registry and the real Helm engine.
//!
//! The test starts Debian's `docker-registry` (the CNCF distribution
//! registry, which `.ci/setup` installs) on 127.0.0.1 with a free port and a
//! storage folder of its own, publishes the services fixture repository
//! (tests/services/repo) to it, and checks: the first publish pushes every
//! service, the second none, and after one config edit exactly that
//! service; the manifests carry Helm's media types and the content digest
//! that `services list` reports; Helm (helm-python-sdk, driven by
//! tests/services/pull.py) pulls every pushed chart over plain HTTP and
//! renders it exactly as the layered service renders (tests/services/render.py).
#![allow(clippy::print_stderr)]

mod common;

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest as _, Sha256};

fn fixtures() -> PathBuf {
    common::root().join("tests/services")
}

fn helm_python() -> PathBuf {
    let p = common::tools().join("helm/bin/python");
    assert!(
        p.exists(),
        "helm-python-sdk venv not found at {}: run `.ci/setup` first",
        p.display()
    );
    p
}

/// A `docker-registry` on loopback, killed when dropped.
struct Registry {
    child: Child,
    port: u16,
}

impl Registry {
    fn start(dir: &Path) -> Registry {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = dir.join("config.yml");
        fs_err::create_dir_all(dir.join("storage")).unwrap();
        fs_err::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: iocforge-test\n",
                dir.join("storage").display()
            ),
        )
        .unwrap();
        let log = fs_err::File::create(dir.join("registry.log")).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(log.into_parts().0)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start `docker-registry` ({e}): run `.ci/setup`, which installs Debian's docker-registry")
            });
        let registry = Registry { child, port };
        let started = Instant::now();
        loop {
            if let Ok(r) = ureq::get(&format!("{}/v2/", registry.url())).call() {
                if r.status() == 200 {
                    break;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "docker-registry did not answer on port {port}: {}",
                fs_err::read_to_string(dir.join("registry.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        registry
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The manifest of `REPOSITORY:TAG`, asked for as an OCI manifest.
    fn manifest(&self, repository: &str, tag: &str) -> Value {
        serde_json::from_slice(&self.manifest_bytes(repository, tag)).unwrap()
    }

    fn manifest_bytes(&self, repository: &str, tag: &str) -> Vec<u8> {
        ureq::get(&format!("{}/v2/{repository}/manifests/{tag}", self.url()))
            .header("Accept", "application/vnd.oci.image.manifest.v1+json")
            .call()
            .unwrap()
            .body_mut()
            .read_to_vec()
            .unwrap()
    }

    fn blob(&self, repository: &str, digest: &str) -> Vec<u8> {
        ureq::get(&format!("{}/v2/{repository}/blobs/{digest}", self.url()))
            .call()
            .unwrap()
            .body_mut()
            .read_to_vec()
            .unwrap()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run_iocforge(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(common::iocforge())
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `services publish --format json` as name -> its JSON item, and the exit code.
fn publish(repo: &Path, version: &str, to: &str) -> (i32, BTreeMap<String, Value>, String) {
    let charts = fixtures().join("charts");
    let (code, stdout, stderr) = run_iocforge(&[
        "services",
        "publish",
        &repo.to_string_lossy(),
        "--version",
        version,
        "--to",
        to,
        "--charts",
        &charts.to_string_lossy(),
        "--format",
        "json",
    ]);
    let items: Vec<Value> = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("publish printed no JSON ({e}): {stdout}\n{stderr}"));
    let by_name = items
        .into_iter()
        .map(|i| (i["name"].as_str().unwrap().to_string(), i))
        .collect();
    (code, by_name, stderr)
}

fn statuses(items: &BTreeMap<String, Value>) -> BTreeMap<String, String> {
    items
        .iter()
        .map(|(k, v)| (k.clone(), v["status"].as_str().unwrap().to_string()))
        .collect()
}

/// Helm's rendering of every service of the repository as it is now, with layered values.
fn render_tree(repo: &Path) -> BTreeMap<String, Value> {
    let out = Command::new(helm_python())
        .arg(fixtures().join("render.py"))
        .arg(fixtures().join("charts"))
        .arg(repo)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "render.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut all: BTreeMap<String, BTreeMap<String, Value>> =
        serde_json::from_slice(&out.stdout).unwrap();
    all.remove(&repo.to_string_lossy().into_owned()).unwrap()
}

/// The manifests of a rendering, without the template paths (which carry the chart name).
fn texts(v: &Value) -> Vec<String> {
    let mut t: Vec<String> = v
        .as_object()
        .unwrap_or_else(|| panic!("not a rendering: {v}"))
        .values()
        .map(|m| m.as_str().unwrap().to_string())
        .collect();
    t.sort();
    t
}

fn content_digests(repo: &Path) -> BTreeMap<String, String> {
    let (code, stdout, stderr) = run_iocforge(&[
        "services",
        "list",
        &repo.to_string_lossy(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let items: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    items
        .iter()
        .map(|i| {
            (
                i["name"].as_str().unwrap().to_string(),
                i["digest"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
// one scenario against one registry: publish, republish, edit, pull and render
#[allow(clippy::too_many_lines)]
fn publish_pushes_what_changed_and_helm_pulls_and_renders_it() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    common::services_fixture(&repo);
    let registry = Registry::start(&tmp.path().join("registry"));
    let to = format!("oci://127.0.0.1:{}/charts/bl01t", registry.port);

    // first publish: every service is pushed
    let (code, first, stderr) = publish(&repo, "1.0.0", &to);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(first.len(), 8, "{first:?}");
    for (name, item) in &first {
        assert_eq!(item["status"], "pushed", "{name}: {item}");
        assert_eq!(
            item["reference"],
            format!("127.0.0.1:{}/charts/bl01t/{name}:1.0.0", registry.port)
        );
    }
    let rendered_before = render_tree(&repo);
    let digests_before = content_digests(&repo);

    // the manifests carry Helm's media types, the chart metadata and the content digest
    for name in first.keys() {
        let repository = format!("charts/bl01t/{name}");
        let bytes = registry.manifest_bytes(&repository, "1.0.0");
        let m: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            first[name]["manifest_digest"],
            format!("sha256:{:x}", Sha256::digest(&bytes)),
            "{name}: the reported manifest digest is not the stored manifest's"
        );
        assert_eq!(
            m["mediaType"], "application/vnd.oci.image.manifest.v1+json",
            "{m}"
        );
        assert_eq!(
            m["config"]["mediaType"], "application/vnd.cncf.helm.config.v1+json",
            "{m}"
        );
        let layers = m["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 1, "{m}");
        assert_eq!(
            layers[0]["mediaType"],
            "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
        );
        let annotations = &m["annotations"];
        assert_eq!(annotations["org.opencontainers.image.title"], name.as_str());
        assert_eq!(annotations["org.opencontainers.image.version"], "1.0.0");
        assert_eq!(
            annotations["dev.iocforge.content-digest"],
            digests_before[name].as_str(),
            "{name}: the annotation is not the `services list` digest"
        );
        let config: Value = serde_json::from_slice(
            &registry.blob(&repository, m["config"]["digest"].as_str().unwrap()),
        )
        .unwrap();
        assert_eq!(config["name"], name.as_str());
        assert_eq!(config["version"], "1.0.0");
        assert_eq!(config["apiVersion"], "v2");
    }

    // second publish of the same content: nothing is pushed
    let (code, second, stderr) = publish(&repo, "1.0.0", &to);
    assert_eq!(code, 0, "{stderr}");
    for (name, item) in &second {
        assert_eq!(item["status"], "unchanged", "{name}: {item}");
        assert_eq!(item["same_as"], "1.0.0", "{name}: {item}");
    }
    assert_eq!(second.len(), 8);

    // one config edit: exactly that service is pushed, under the new version
    let config = repo.join("services/ioc-02/config/ioc.yaml");
    let old = fs_err::read_to_string(&config).unwrap();
    fs_err::write(&config, format!("{old}# the beamline moved\n")).unwrap();
    let (code, third, stderr) = publish(&repo, "1.1.0", &to);
    assert_eq!(code, 0, "{stderr}");
    let pushed: Vec<&String> = third
        .iter()
        .filter(|(_, i)| i["status"] == "pushed")
        .map(|(n, _)| n)
        .collect();
    assert_eq!(pushed, ["ioc-02"], "{third:?}");
    for (name, item) in &third {
        if name != "ioc-02" {
            assert_eq!(item["status"], "unchanged", "{name}: {item}");
            assert_eq!(item["same_as"], "1.0.0", "{name}: {item}");
        }
    }
    let rendered_after = render_tree(&repo);

    // the table names each result
    let (code, stdout, stderr) = run_iocforge(&[
        "services",
        "publish",
        &repo.to_string_lossy(),
        "ioc-02",
        "ioc-03",
        "--version",
        "1.1.0",
        "--to",
        &to,
        "--charts",
        &fixtures().join("charts").to_string_lossy(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("unchanged (same content as 1.1.0)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("unchanged (same content as 1.0.0)"),
        "{stdout}"
    );
    assert_eq!(stdout.lines().count(), 3, "{stdout}");

    // another edit under a version that exists: a failure, the tag is not moved
    fs_err::write(&config, format!("{old}# moved again\n")).unwrap();
    let (code, fourth, _) = publish(&repo, "1.1.0", &to);
    assert_eq!(code, 1);
    assert_eq!(
        fourth["ioc-02"]["status"], "failed",
        "{:?}",
        fourth["ioc-02"]
    );
    assert!(
        fourth["ioc-02"]["reason"]
            .as_str()
            .unwrap()
            .contains("already holds other content"),
        "{:?}",
        fourth["ioc-02"]
    );
    let m = registry.manifest("charts/bl01t/ioc-02", "1.1.0");
    assert_ne!(
        m["annotations"]["dev.iocforge.content-digest"],
        content_digests(&repo)["ioc-02"].as_str(),
        "the existing tag was overwritten"
    );

    // Helm pulls every pushed chart and renders it like the layered service
    let mut refs = Vec::new();
    for name in first.keys() {
        refs.push((name.clone(), "1.0.0", &rendered_before));
    }
    refs.push(("ioc-02".to_string(), "1.1.0", &rendered_after));
    let args: Vec<String> = refs
        .iter()
        .map(|(name, version, _)| {
            format!(
                "{name}=oci://127.0.0.1:{}/charts/bl01t/{name}@{version}",
                registry.port
            )
        })
        .collect();
    let helm_home = tmp.path().join("helm-home");
    let out = Command::new(helm_python())
        .arg(fixtures().join("pull.py"))
        .arg(tmp.path().join("pulled"))
        .args(&args)
        .env("HELM_CONFIG_HOME", helm_home.join("config"))
        .env("HELM_CACHE_HOME", helm_home.join("cache"))
        .env("HELM_DATA_HOME", helm_home.join("data"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pull.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pulled: BTreeMap<String, Value> = serde_json::from_slice(&out.stdout).unwrap();
    for (name, version, rendered) in &refs {
        let got = &pulled[&format!("{name}@{version}")];
        assert!(got.get("error").is_none(), "{name}@{version}: {got}");
        assert_eq!(got["metadata"]["name"], name.as_str());
        assert_eq!(got["metadata"]["version"], *version);
        assert_eq!(
            texts(&got["manifests"]),
            texts(&rendered[name]),
            "{name}@{version}: the pulled chart renders differently from the layered service"
        );
    }
    assert_ne!(
        texts(&rendered_before["ioc-02"]),
        texts(&rendered_after["ioc-02"]),
        "the config edit does not reach the rendering, so the comparison proves nothing"
    );
}

#[test]
fn unreachable_registry_fails_each_service_and_bad_addresses_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    common::services_fixture(&repo);
    // a port nothing listens on
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (code, items, stderr) = publish(&repo, "1.0.0", &format!("oci://127.0.0.1:{port}/c"));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        statuses(&items).values().filter(|s| *s == "failed").count(),
        8
    );
    let reason = items["ioc-01"]["reason"].as_str().unwrap();
    assert!(reason.contains(&port.to_string()), "{reason}");
    assert!(stderr.contains("8 of 8 services failed"), "{stderr}");

    let (code, _, stderr) = run_iocforge(&[
        "services",
        "publish",
        &repo.to_string_lossy(),
        "--version",
        "1.0.0",
        "--to",
        "https://ghcr.io/example",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("oci://"), "{stderr}");

    let (code, _, stderr) = run_iocforge(&[
        "services",
        "publish",
        &repo.to_string_lossy(),
        "no-such-service",
        "--version",
        "1.0.0",
        "--to",
        "oci://127.0.0.1:1/c",
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("no-such-service"), "{stderr}");
}
