//! `services check` on a test services repository and ten broken variants,
//! with ibek 4.8.2's `runtime generate2` as the oracle for each config folder.
#![allow(clippy::print_stderr)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The definitions folder: the shared samples' epics, asyn and motorSim.
fn definitions(dir: &Path) -> PathBuf {
    let defs = dir.join("ibek-defs");
    fs_err::create_dir_all(&defs).unwrap();
    for name in ["epics", "asyn", "motorSim"] {
        let file = format!("{name}.ibek.support.yaml");
        fs_err::copy(
            common::shared()
                .join("conformance/ibek-samples/support")
                .join(&file),
            defs.join(&file),
        )
        .unwrap();
    }
    defs
}

fn link(target: &str, link: &Path) {
    let _ = fs_err::remove_file(link);
    std::os::unix::fs::symlink(target, link).unwrap();
}

/// The fixture repository (tests/services/repo) plus `motor-01`, a motorSim IOC.
fn repo(dir: &Path) -> PathBuf {
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
    let motor = root.join("services/motor-01");
    fs_err::create_dir_all(motor.join("config")).unwrap();
    fs_err::write(
        motor.join("values.yaml"),
        "ioc-instance:\n  image: ghcr.io/example/ioc-motorsim:1.0\n",
    )
    .unwrap();
    fs_err::copy(
        common::shared().join("conformance/ibek-samples/iocs/motorSim.ibek.ioc.yaml"),
        motor.join("config/ioc.yaml"),
    )
    .unwrap();
    link("../../.helm-shared/Chart.yaml", &motor.join("Chart.yaml"));
    link("../../.helm-shared/templates", &motor.join("templates"));
    fs_err::write(motor.join("ioc.schema.json"), ibek_schema(dir)).unwrap();
    root
}

/// The instance schema ibek 4.8.2 writes for the definitions (made once).
fn ibek_schema(scratch: &Path) -> String {
    static SCHEMA: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let defs = definitions(&scratch.join("schema-defs"));
            let mut files: Vec<PathBuf> = fs_err::read_dir(&defs)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            files.sort();
            let out = scratch.join("ioc.schema.json");
            let ok = Command::new(common::ibek())
                .args(["ioc", "generate-schema", "--no-ibek-defs"])
                .args(&files)
                .arg("--output")
                .arg(&out)
                .status()
                .unwrap()
                .success();
            assert!(ok, "ibek ioc generate-schema failed");
            fs_err::read_to_string(out).unwrap()
        })
        .clone()
}

/// Whether ibek 4.8.2 generates the config folder with the definitions.
/// (They are passed by name: without `--definitions`, ibek 4.8.2's
/// generate2 calls `Path.glob(recurse_symlinks=...)`, which needs Python 3.13.)
fn ibek_generates(config: &Path, defs: &Path, scratch: &Path) -> bool {
    let epics = scratch.join("epics-root");
    let _ = fs_err::remove_dir_all(&epics);
    fs_err::create_dir_all(&epics).unwrap();
    let mut files: Vec<PathBuf> = fs_err::read_dir(defs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut cmd = Command::new(common::ibek());
    cmd.args(["runtime", "generate2"]).arg(config);
    for f in &files {
        cmd.arg("--definitions").arg(f);
    }
    let out = cmd
        .arg("-o")
        .arg(epics.join("runtime"))
        .arg("--no-pvi")
        .env("EPICS_ROOT", &epics)
        .env("IOC", "/epics/ioc")
        .env("RUNTIME_DIR", "/epics/runtime")
        .env("IOC_NAME", "test-ioc")
        .output()
        .unwrap();
    out.status.success()
}

struct Checked {
    code: i32,
    stderr: String,
    outcomes: Vec<Value>,
}

fn check(root: &Path, defs: &Path) -> Checked {
    check_env(root, defs, &[])
}

/// `services check --all` with some environment variables set (e.g. `PATH`).
fn check_env(root: &Path, defs: &Path, env: &[(&str, &std::ffi::OsStr)]) -> Checked {
    let mut cmd = Command::new(common::iocforge());
    cmd.args(["services", "check"])
        .arg(root)
        .args(["--all", "--format", "json", "--definitions"])
        .arg(defs);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    Checked {
        code: out.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        outcomes: serde_json::from_str(&stdout).unwrap_or_default(),
    }
}

fn outcome<'a>(c: &'a Checked, name: &str) -> &'a Value {
    c.outcomes
        .iter()
        .find(|o| o["name"] == name)
        .unwrap_or_else(|| panic!("no outcome for `{name}`: {:?} {}", c.outcomes, c.stderr))
}

fn status(c: &Checked, name: &str, check: &str) -> String {
    outcome(c, name)["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["check"] == check)
        .map(|k| k["status"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

/// The service's problems as `file:line:col: message` lines, and the checks' details.
fn problems(c: &Checked, name: &str) -> String {
    let mut out = String::new();
    for check in outcome(c, name)["checks"].as_array().unwrap() {
        out.push_str(&format!("{}: {}\n", check["check"], check["detail"]));
        for p in check["problems"].as_array().unwrap() {
            let at = |k: &str| p[k].as_u64().map(|n| n.to_string()).unwrap_or_default();
            out.push_str(&format!(
                "{}:{}:{}: {}\n",
                p["file"].as_str().unwrap_or(""),
                at("line"),
                at("column"),
                p["message"].as_str().unwrap_or("")
            ));
        }
    }
    out
}

#[test]
fn check_all_passes_where_ibek_passes() {
    let tmp = tempfile::tempdir().unwrap();
    let defs = definitions(tmp.path());
    let root = repo(tmp.path());
    let c = check(&root, &defs);
    assert_eq!(c.code, 0, "{}\n{:?}", c.stderr, c.outcomes);
    for name in [
        "ioc-01", "ioc-02", "ioc-03", "ioc-04", "ioc-05", "ioc-06", "motor-01",
    ] {
        let config = root.join("services").join(name).join("config");
        assert!(
            ibek_generates(&config, &defs, tmp.path()),
            "ibek fails on {name}"
        );
        assert_eq!(status(&c, name, "generate"), "pass", "{name}");
        assert_eq!(status(&c, name, "config-size"), "pass", "{name}");
        assert_eq!(status(&c, name, "yaml"), "pass", "{name}");
    }
    assert_eq!(status(&c, "motor-01", "schema"), "pass");
    assert_eq!(status(&c, "ioc-01", "values"), "pass");
    assert_eq!(status(&c, "legacy-01", "values"), "skip");
    assert_eq!(status(&c, "ioc-01", "schema"), "skip");
    assert_eq!(status(&c, "monitor", "generate"), "skip");
    assert_eq!(status(&c, "legacy-01", "generate"), "skip");

    // the table form: one row per service, and nothing on stderr
    let out = Command::new(common::iocforge())
        .args(["services", "check"])
        .arg(&root)
        .arg("--definitions")
        .arg(&defs)
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(table.starts_with("SERVICE"), "{table}");
    assert_eq!(table.lines().count(), 10, "{table}");
    assert!(table.lines().skip(1).all(|l| l.contains(" ok ")), "{table}");
}

type Break = fn(&Path);

#[test]
// a table of twelve variants, each a break and the message it must give
#[allow(clippy::too_many_lines)]
fn twelve_broken_variants_fail_with_a_clear_message() {
    let variants: Vec<(&str, &str, Break, &str)> = vec![
        (
            "unknown parameter",
            "ioc-01",
            |r| {
                append(r, "services/ioc-01/config/ioc.yaml", "    spede: 3\n");
            },
            "spede",
        ),
        (
            "missing definition",
            "ioc-02",
            |r| {
                append(
                    r,
                    "services/ioc-02/config/ioc.yaml",
                    "  - type: nosuch.Thing\n    name: x\n",
                );
            },
            "nosuch",
        ),
        (
            "wrong parameter type",
            "motor-01",
            |r| {
                replace(
                    r,
                    "services/motor-01/config/ioc.yaml",
                    "numAxes: 4",
                    "numAxes: four",
                );
            },
            "numAxes",
        ),
        (
            "bad object reference",
            "motor-01",
            |r| {
                replace(
                    r,
                    "services/motor-01/config/ioc.yaml",
                    "controller: controllerOne\n    # Use ADDR",
                    "controller: noSuchController\n    # Use ADDR",
                );
            },
            "noSuchController",
        ),
        (
            "missing required parameter",
            "motor-01",
            |r| {
                replace(
                    r,
                    "services/motor-01/config/ioc.yaml",
                    "    port: controllerOnePort\n",
                    "",
                );
            },
            "port",
        ),
        (
            "ioc.yaml syntax error",
            "ioc-03",
            |r| {
                append(
                    r,
                    "services/ioc-03/config/ioc.yaml",
                    "  - type: [epics.EpicsEnvSet\n",
                );
            },
            "services/ioc-03/config/ioc.yaml:",
        ),
        (
            "oversized config",
            "ioc-04",
            |r| {
                let big = "record(ai, \"BIG\") {}\n".repeat(60_000);
                write(r, "services/ioc-04/config/big.db", &big);
            },
            "config/big.db",
        ),
        (
            "bad values YAML",
            "ioc-05",
            |r| {
                write(
                    r,
                    "services/ioc-05/values.yaml",
                    "ioc-instance:\n  image: [unclosed\n",
                );
            },
            "services/ioc-05/values.yaml:3:",
        ),
        (
            "bad Chart.yaml YAML",
            "monitor",
            |r| {
                write(
                    r,
                    "services/monitor/Chart.yaml",
                    "apiVersion: v2\nname: monitor\n  version: 1.0.0\n",
                );
            },
            "services/monitor/Chart.yaml:",
        ),
        (
            "stale instance schema",
            "motor-01",
            |r| {
                replace(
                    r,
                    "services/motor-01/ioc.schema.json",
                    "simMotorAxis",
                    "simMotorAxle",
                );
            },
            "ioc.schema.json` is not the schema",
        ),
        (
            "values against the values schema",
            "ioc-01",
            |r| {
                append(r, "services/ioc-01/values.yaml", "  replicas: two\n");
            },
            "services/ioc-01/values.yaml:4:",
        ),
        (
            "bad shared values",
            "services/values.yaml",
            |r| {
                append(r, "services/values.yaml", "global: {unclosed\n");
            },
            "services/values.yaml:",
        ),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let defs = definitions(tmp.path());
    let mut failures = Vec::new();
    for (i, (what, service, breaks, expect)) in variants.iter().enumerate() {
        let dir = tmp.path().join(format!("v{i}"));
        let root = repo(&dir);
        breaks(&root);
        let c = check(&root, &defs);
        if c.code != 1 {
            failures.push(format!("{what}: exit {} (want 1)\n{}", c.code, c.stderr));
            continue;
        }
        if outcome(&c, service)["ok"] != false {
            failures.push(format!(
                "{what}: `{service}` not failed: {}",
                problems(&c, service)
            ));
        }
        let failed: Vec<&str> = c
            .outcomes
            .iter()
            .filter(|o| o["ok"] == false)
            .map(|o| o["name"].as_str().unwrap())
            .collect();
        if failed != [*service] {
            failures.push(format!(
                "{what}: failed services {failed:?}, want only `{service}`"
            ));
        }
        if !problems(&c, service).contains(expect) {
            failures.push(format!(
                "{what}: `{expect}` not in {}",
                problems(&c, service)
            ));
        }
        // the generation verdict agrees with ibek 4.8.2 on the same folder
        let config = root.join("services").join(service).join("config");
        if config.join("ioc.yaml").exists() {
            let ours = status(&c, service, "generate") == "pass";
            let ibek = ibek_generates(&config, &defs, &dir);
            if ours != ibek {
                failures.push(format!(
                    "{what}: generate {ours}, ibek {ibek}: {}",
                    problems(&c, service)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_chart_without_a_name_fails_the_whole_check() {
    let tmp = tempfile::tempdir().unwrap();
    let defs = definitions(tmp.path());
    let root = repo(tmp.path());
    let chart = root.join("services/legacy-01/Chart.yaml");
    fs_err::remove_file(&chart).unwrap();
    fs_err::write(&chart, "apiVersion: v2\nversion: 1.0.0\n").unwrap();
    let c = check(&root, &defs);
    assert_eq!(c.code, 1, "{}", c.stderr);
    assert!(
        c.stderr.contains("services/legacy-01/Chart.yaml") && c.stderr.contains("has no `name`"),
        "{}",
        c.stderr
    );
}

fn write(root: &Path, rel: &str, text: &str) {
    fs_err::write(root.join(rel), text).unwrap();
}

fn append(root: &Path, rel: &str, text: &str) {
    let old = fs_err::read_to_string(root.join(rel)).unwrap();
    write(root, rel, &format!("{old}{text}"));
}

fn replace(root: &Path, rel: &str, from: &str, to: &str) {
    let old = fs_err::read_to_string(root.join(rel)).unwrap();
    assert!(old.contains(from), "`{from}` not in {rel}");
    write(root, rel, &old.replacen(from, to, 1));
}

#[test]
fn changed_since_checks_only_the_changed_services() {
    let tmp = tempfile::tempdir().unwrap();
    let defs = definitions(tmp.path());
    let root = repo(tmp.path());
    let git = |args: &[&str]| {
        let ok = Command::new("git")
            .arg("-C")
            .arg(&root)
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "test")
            .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
            .env("GIT_COMMITTER_NAME", "test")
            .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "initial"]);
    append(
        &root,
        "services/ioc-02/config/ioc.yaml",
        "  - type: nosuch.Thing\n",
    );
    let out = Command::new(common::iocforge())
        .args(["services", "check"])
        .arg(&root)
        .args([
            "--changed-since",
            "HEAD",
            "--format",
            "json",
            "--definitions",
        ])
        .arg(&defs)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let outcomes: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = outcomes
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ioc-02"]);
    assert_eq!(outcomes[0]["ok"], false);
}

#[test]
fn services_in_ci_skip_checks_are_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let defs = definitions(tmp.path());
    let root = repo(tmp.path());
    append(
        &root,
        "services/ioc-02/config/ioc.yaml",
        "  - type: nosuch.Thing\n",
    );
    write(&root, ".ci_skip_checks", "# known broken\nioc-02\n");
    let c = check(&root, &defs);
    assert_eq!(c.code, 0, "{}\n{:?}", c.stderr, c.outcomes);
    assert_eq!(status(&c, "ioc-02", "all"), "skip");
    assert_eq!(status(&c, "ioc-01", "generate"), "pass");
}

/// A loopback URL nothing listens on: `pattern add` finds no published schema.
fn dead_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    drop(l);
    url
}

#[test]
fn vendored_patterns_are_checked_against_their_lock() {
    let tmp = tempfile::tempdir().unwrap();
    let defs = definitions(tmp.path());
    let root = repo(tmp.path());
    // a local pattern library (a plain folder) vendored by `pattern add`
    let lib = tmp.path().join("lib");
    fs_err::create_dir_all(lib.join("simple/sub")).unwrap();
    fs_err::write(lib.join("simple/simple.db"), "record(ao, \"X\") {}\n").unwrap();
    fs_err::write(lib.join("simple/sub/more.db"), "record(ao, \"Y\") {}\n").unwrap();
    let dest = root.join("services/ioc-01");
    let out = Command::new(common::iocforge())
        .args(["pattern", "add", "local:simple@1.0"])
        .arg(&dest)
        .env("IBEK_PATTERN_LIBRARIES", format!("local={}", lib.display()))
        .env("IBEK_SCHEMA_CACHE", tmp.path().join("schema-cache"))
        .env("IOCFORGE_SCHEMA_BASE_URL", dead_url())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lock = fs_err::read_to_string(dest.join("runtime-lock.yaml")).unwrap();
    assert!(dest.join("config/simple.db").is_file(), "{lock}");

    let c = check(&root, &defs);
    assert_eq!(c.code, 0, "{}\n{:?}", c.stderr, c.outcomes);
    assert_eq!(status(&c, "ioc-01", "pattern"), "pass");
    assert_eq!(status(&c, "ioc-02", "pattern"), "skip");

    // an edited vendored file: the check fails, naming the file and the lock's entry
    append(&root, "services/ioc-01/config/simple.db", "# local edit\n");
    let c = check(&root, &defs);
    assert_eq!(c.code, 1, "{}", c.stderr);
    assert_eq!(status(&c, "ioc-01", "pattern"), "fail");
    assert_eq!(status(&c, "ioc-01", "generate"), "pass");
    let entry_line = lock
        .lines()
        .position(|l| l.trim_start().starts_with("config/simple.db:"))
        .expect("the lock records config/simple.db")
        + 1;
    let found = problems(&c, "ioc-01");
    let expected_at = format!("services/ioc-01/runtime-lock.yaml:{entry_line}:");
    assert!(
        found.contains(&expected_at),
        "`{expected_at}` not in {found}"
    );
    assert!(
        found.contains("services/ioc-01/config/simple.db") && found.contains("hash mismatch"),
        "{found}"
    );
    assert!(!found.contains("sub/more.db"), "{found}");
    let failed: Vec<&str> = c
        .outcomes
        .iter()
        .filter(|o| o["ok"] == false)
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["ioc-01"]);

    // a vendored file gone: fails too
    fs_err::remove_file(root.join("services/ioc-01/config/sub/more.db")).unwrap();
    let c = check(&root, &defs);
    let found = problems(&c, "ioc-01");
    assert!(
        found.contains("config/sub/more.db") && found.contains("missing vendored file"),
        "{found}"
    );
}

fn detail(c: &Checked, name: &str, check: &str) -> String {
    outcome(c, name)["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["check"] == check)
        .map(|k| k["detail"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

/// A folder holding `helm`: tests/services/helm.py on the real Helm engine
/// (helm-python-sdk), logging each call to `log`.
fn helm_on_path(dir: &Path, log: &Path) -> std::ffi::OsString {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("helm-bin");
    fs_err::create_dir_all(&bin).unwrap();
    let python = common::tools().join("helm/bin/python");
    assert!(
        python.exists(),
        "helm-python-sdk venv not found at {}: run `.ci/setup` first",
        python.display()
    );
    let script = format!(
        "#!/bin/sh\nHELM_SHIM_LOG='{}' exec '{}' '{}' \"$@\"\n",
        log.display(),
        python.display(),
        common::root().join("tests/services/helm.py").display()
    );
    let helm = bin.join("helm");
    fs_err::write(&helm, script).unwrap();
    fs_err::set_permissions(&helm, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin.into_os_string()
}

/// The fixture repository with its chart dependencies as `file://` charts
/// inside it (`.charts/NAME-VERSION`), so Helm builds them offline.
fn repo_with_local_charts(dir: &Path) -> PathBuf {
    let root = repo(dir);
    common::copy_dir(
        &common::root().join("tests/services/charts"),
        &root.join(".charts"),
    );
    replace(
        &root,
        ".helm-shared/Chart.yaml",
        "oci://charts.invalid/epics-containers",
        "file://../../.charts/ioc-instance-1.0.0",
    );
    replace(
        &root,
        ".helm-shared/LegacyChart.yaml",
        "oci://charts.invalid/diamond",
        "file://../../.charts/dev-c7-1.0.0",
    );
    root
}

#[test]
fn helm_lint_and_template_run_through_the_helm_on_path() {
    let tmp = tempfile::tempdir().unwrap();
    let defs = definitions(tmp.path());
    let root = repo_with_local_charts(tmp.path());
    let log = tmp.path().join("helm.log");
    let path = helm_on_path(tmp.path(), &log);
    let c = check_env(&root, &defs, &[("PATH", &path)]);
    assert_eq!(c.code, 0, "{}\n{:?}", c.stderr, c.outcomes);
    let charted = [
        "ioc-01",
        "ioc-02",
        "ioc-03",
        "ioc-04",
        "ioc-05",
        "ioc-06",
        "motor-01",
        "legacy-01",
        "monitor",
    ];
    for name in charted {
        assert_eq!(
            status(&c, name, "helm-lint"),
            "pass",
            "{name}: {}",
            problems(&c, name)
        );
        assert_eq!(
            status(&c, name, "helm-template"),
            "pass",
            "{name}: {}",
            problems(&c, name)
        );
    }
    // helm ran as services CI runs it: dependencies built, then the layered values
    let calls = fs_err::read_to_string(&log).unwrap();
    assert!(
        calls.contains("dependency build services/ioc-01\n"),
        "{calls}"
    );
    assert!(
        calls.contains(
            "template ioc-01 services/ioc-01 --values services/values.yaml --values services/ioc-01/values.yaml\n"
        ),
        "{calls}"
    );
    assert!(
        calls.contains(
            "lint services/monitor --values services/values.yaml --values services/monitor/values.yaml\n"
        ),
        "{calls}"
    );
    assert!(
        !calls.contains("dependency build services/monitor"),
        "{calls}"
    );
    // on a copy: the service folders get no charts/ or Chart.lock
    for name in charted {
        let dir = root.join("services").join(name);
        assert!(
            !dir.join("charts").exists() && !dir.join("Chart.lock").exists(),
            "{name}"
        );
    }

    // no helm on PATH: skipped, saying so
    let empty = tmp.path().join("empty-bin");
    fs_err::create_dir_all(&empty).unwrap();
    let c = check_env(&root, &defs, &[("PATH", empty.as_os_str())]);
    assert_eq!(c.code, 0, "{}", c.stderr);
    assert_eq!(status(&c, "ioc-01", "helm-lint"), "skip");
    assert_eq!(detail(&c, "ioc-01", "helm-template"), "helm not on PATH");
}

#[test]
fn helm_failures_carry_helms_message() {
    let tmp = tempfile::tempdir().unwrap();
    let defs = definitions(tmp.path());
    let root = repo_with_local_charts(tmp.path());
    let log = tmp.path().join("helm.log");
    let path = helm_on_path(tmp.path(), &log);
    // a broken template: that service fails with Helm's message
    append(
        &root,
        "services/monitor/templates/deployment.yaml",
        "          imagePullPolicy: {{ .Values.monitor.pull | quote }\n",
    );
    let c = check_env(&root, &defs, &[("PATH", &path)]);
    assert_eq!(c.code, 1, "{}", c.stderr);
    assert_eq!(status(&c, "monitor", "helm-lint"), "fail");
    assert_eq!(status(&c, "monitor", "helm-template"), "fail");
    let found = problems(&c, "monitor");
    assert!(
        found.contains("monitor/templates/deployment.yaml:") && found.contains("unexpected \"}\""),
        "{found}"
    );
    let failed: Vec<&str> = c
        .outcomes
        .iter()
        .filter(|o| o["ok"] == false)
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["monitor"]);

    // the shared values reach helm: a value only they give is required, then removed
    replace(
        &root,
        "services/monitor/templates/deployment.yaml",
        "          imagePullPolicy: {{ .Values.monitor.pull | quote }\n",
        "",
    );
    replace(
        &root,
        "services/monitor/templates/deployment.yaml",
        "{{ .Values.monitor.replicas }}",
        "{{ required \"monitor.replicas is required\" .Values.monitor.replicas }}",
    );
    let c = check_env(&root, &defs, &[("PATH", &path)]);
    assert_eq!(c.code, 0, "{}\n{:?}", c.stderr, c.outcomes);
    replace(&root, "services/values.yaml", "  replicas: 1\n", "");
    let c = check_env(&root, &defs, &[("PATH", &path)]);
    assert_eq!(c.code, 1, "{}", c.stderr);
    assert_eq!(status(&c, "monitor", "helm-template"), "fail");
    assert!(
        problems(&c, "monitor").contains("monitor.replicas is required"),
        "{}",
        problems(&c, "monitor")
    );
}
