//! `helm lint` and `helm template` of one service, through the `helm` program.
//!
//! Part of [`check`](super::check). The service folder is copied with
//! symlinks followed (as services CI's `cp -L` does) into a private
//! temporary tree laid out like the repository (`services/values.yaml`,
//! `services/NAME/`, and each `file://` dependency chart at its own place),
//! so the user's folder is never written; when the chart has dependencies
//! and no `charts/` folder, `helm dependency build` fills it there first.
//! Then, from the tree's top, as services CI runs them:
//! `helm lint services/NAME --values services/values.yaml --values services/NAME/values.yaml`
//! and `helm template NAME services/NAME` with the same values. A failure
//! carries helm's own message.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::check::{CheckResult, CheckStatus};
use super::repo::Service;
use crate::diag::{Diagnostic, Diagnostics};

/// The `helm-lint` and `helm-template` checks of a service; `helm` is the
/// program to run, `None` when it is not on `PATH`.
pub fn helm_checks(root: &Path, service: &Service, helm: Option<&Path>) -> [CheckResult; 2] {
    let Some(helm) = helm else {
        return [
            skip("helm-lint", "helm not on PATH"),
            skip("helm-template", "helm not on PATH"),
        ];
    };
    let stage = match stage(root, service) {
        Ok(s) => s,
        Err(message) => {
            return [
                fail("helm-lint", "cannot copy the chart", message),
                skip("helm-template", "the chart could not be copied"),
            ]
        }
    };
    let top = stage.path();
    let chart = format!("services/{}", service.name);
    if !service.dependencies.is_empty() && !top.join(&chart).join("charts").exists() {
        if let Err(message) = run(helm, top, &["dependency", "build", &chart]) {
            return [
                fail(
                    "helm-lint",
                    "helm dependency build failed",
                    format!(
                        "service `{}`: `helm dependency build` failed: {message}",
                        service.name
                    ),
                ),
                skip("helm-template", "the dependencies could not be built"),
            ];
        }
    }
    let mut values: Vec<String> = Vec::new();
    for file in [
        "services/values.yaml".to_string(),
        format!("{chart}/values.yaml"),
    ] {
        if top.join(&file).is_file() {
            values.push("--values".into());
            values.push(file);
        }
    }
    let mut lint_args = vec!["lint", chart.as_str()];
    lint_args.extend(values.iter().map(String::as_str));
    let lint = match run(helm, top, &lint_args) {
        Ok(_) => pass("helm-lint", "helm lint passed"),
        Err(message) => fail(
            "helm-lint",
            "helm lint failed",
            format!("service `{}`: `helm lint` failed: {message}", service.name),
        ),
    };
    let mut template_args = vec!["template", service.name.as_str(), chart.as_str()];
    template_args.extend(values.iter().map(String::as_str));
    let template = match run(helm, top, &template_args) {
        Ok(out) => pass(
            "helm-template",
            &format!(
                "helm template rendered {} manifest line(s)",
                out.lines().count()
            ),
        ),
        Err(message) => fail(
            "helm-template",
            "helm template failed",
            format!(
                "service `{}`: `helm template` failed: {message}",
                service.name
            ),
        ),
    };
    [lint, template]
}

/// Runs helm in `dir`; its standard output, or its message on failure.
fn run(helm: &Path, dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new(helm)
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| {
            format!(
                "cannot run `{}`: {}",
                helm.display(),
                crate::source::io_reason(&e)
            )
        })?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.status.success() {
        return Ok(stdout.into_owned());
    }
    // `helm lint` reports its findings on stdout and a summary on stderr
    let mut message: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("[ERROR]") || l.starts_with("[WARNING]"))
        .collect();
    let stderr = String::from_utf8_lossy(&out.stderr);
    message.extend(stderr.lines().filter(|l| !l.trim().is_empty()));
    if message.is_empty() {
        message.push("no message");
    }
    let status = out
        .status
        .code()
        .map_or_else(|| "killed by a signal".to_string(), |c| format!("exit {c}"));
    Err(format!("{} ({status})", message.join("\n")))
}

/// The temporary tree: the shared values, the service folder and its
/// `file://` dependency charts, symlinks followed, at their repository paths.
fn stage(root: &Path, service: &Service) -> Result<tempfile::TempDir, String> {
    let root = fs_err::canonicalize(root).map_err(|e| e.to_string())?;
    let tmp = tempfile::Builder::new()
        .prefix("iocforge-helm-")
        .tempdir()
        .map_err(|e| format!("cannot make a temporary folder: {e}"))?;
    let shared = root.join("services/values.yaml");
    let services = tmp.path().join("services");
    fs_err::create_dir_all(&services).map_err(|e| e.to_string())?;
    if shared.is_file() {
        fs_err::copy(&shared, services.join("values.yaml")).map_err(|e| e.to_string())?;
    }
    let chart = services.join(&service.name);
    copy_tree(&service.dir, &chart)?;
    for dep in &service.dependencies {
        let Some(local) = dep.local_path() else {
            continue;
        };
        let from = crate::contain::normalize(&service.dir.join(local));
        // a dependency at its own place relative to the copied chart, so
        // `file://` resolves as in the repository; one outside the
        // repository cannot be placed and is left for helm to report
        let Ok(resolved) = fs_err::canonicalize(&from) else {
            continue;
        };
        let Ok(rel) = resolved.strip_prefix(&root) else {
            continue;
        };
        let to = crate::contain::normalize(&chart.join(local));
        if to.starts_with(tmp.path()) && !to.exists() && !rel.as_os_str().is_empty() {
            copy_tree(&resolved, &to)?;
        }
    }
    Ok(tmp)
}

/// Copies a folder, symlinks followed.
fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    for entry in walkdir::WalkDir::new(from).follow_links(true) {
        let entry = entry.map_err(|e| e.to_string())?;
        let rel = entry.path().strip_prefix(from).unwrap_or(entry.path());
        let dest: PathBuf = to.join(rel);
        if entry.file_type().is_dir() {
            fs_err::create_dir_all(&dest).map_err(|e| e.to_string())?;
        } else if entry.file_type().is_file() {
            fs_err::copy(entry.path(), &dest).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

fn pass(check: &'static str, detail: &str) -> CheckResult {
    CheckResult {
        check,
        status: CheckStatus::Pass,
        detail: detail.into(),
        problems: Diagnostics::default(),
    }
}

fn skip(check: &'static str, detail: &str) -> CheckResult {
    CheckResult {
        check,
        status: CheckStatus::Skip,
        detail: detail.into(),
        problems: Diagnostics::default(),
    }
}

fn fail(check: &'static str, detail: &str, message: String) -> CheckResult {
    CheckResult {
        check,
        status: CheckStatus::Fail,
        detail: detail.into(),
        problems: Diagnostics::from(Diagnostic::plain(None, message)),
    }
}
