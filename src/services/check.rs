//! `services check`: what services CI does per service, in one process.
//!
//! Above [`repo`](super::repo) and beside the runtime: each service's YAML
//! is read strictly (problems at `file:line:col`), its `config/` folder must
//! fit a ConfigMap (1 MiB), and an IOC instance's `config/` is generated as
//! `runtime generate2` generates it (through `runtime::generate`, the same
//! library functions the command uses) against the definitions given. The
//! result is one outcome per service; nothing is written.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::repo::{load, Service, Strictness};
use super::ServicesError;
use crate::diag::{Diagnostic, Diagnostics, Severity};
use crate::model::support::SupportModule;
use crate::runtime::generate::{generate, load_definitions, GenerateOptions};

/// Kubernetes' limit on a ConfigMap's data (etcd's value limit).
pub const CONFIGMAP_LIMIT: u64 = 1024 * 1024;

/// What to check with.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// A folder of support module definitions (`*.ibek.support.yaml`), as the
    /// image's `/epics/ibek-defs` holds them; without it the generation is skipped.
    pub definitions: Option<PathBuf>,
    /// Only these services (all when `None`).
    pub only: Option<BTreeSet<String>>,
}

/// How one check went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckStatus {
    /// Passed.
    Pass,
    /// Failed: the problems say why.
    Fail,
    /// Not run: the detail says why.
    Skip,
}

impl CheckStatus {
    /// The word used in tables and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Fail => "fail",
            CheckStatus::Skip => "skip",
        }
    }
}

/// One check of one service.
#[derive(Debug, Clone)]
pub struct CheckResult {
    /// `yaml`, `config-size` or `generate`.
    pub check: &'static str,
    /// Pass, fail or skip.
    pub status: CheckStatus,
    /// A one-line summary.
    pub detail: String,
    /// Every problem, at `file:line:col` where there is one.
    pub problems: Diagnostics,
}

/// Every check of one service.
#[derive(Debug, Clone)]
pub struct ServiceOutcome {
    /// The service name (or `services/values.yaml` for the shared values).
    pub name: String,
    /// The checks, in the order run.
    pub checks: Vec<CheckResult>,
}

impl ServiceOutcome {
    /// True when no check failed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.status != CheckStatus::Fail)
    }
}

/// Checks the services of the repository at `root`.
pub fn check_services(
    root: &Path,
    opts: &CheckOptions,
) -> Result<Vec<ServiceOutcome>, ServicesError> {
    let repo = load(root, None, Strictness::Lenient)?;
    let shared_defs = match &opts.definitions {
        Some(dir) => {
            let files = find_files(dir, "ibek.support.yaml");
            if files.is_empty() {
                return Err(ServicesError::Read {
                    path: dir.clone(),
                    reason: "no `*.ibek.support.yaml` definitions found".into(),
                });
            }
            Some(load_definitions(&files))
        }
        None => None,
    };
    let shared_path = root.join("services").join("values.yaml");
    let mut outcomes = Vec::new();
    let shared_problems = problems_in(&repo.warnings, &shared_path);
    if !shared_problems.is_empty() {
        outcomes.push(ServiceOutcome {
            name: "services/values.yaml".into(),
            checks: vec![CheckResult {
                check: "yaml",
                status: CheckStatus::Fail,
                detail: "not valid YAML".into(),
                problems: shared_problems,
            }],
        });
    }
    for service in &repo.services {
        if opts
            .only
            .as_ref()
            .is_some_and(|o| !o.contains(&service.name))
        {
            continue;
        }
        let mut checks = Vec::new();
        let problems = problems_in(&repo.warnings, &service.dir);
        checks.push(CheckResult {
            check: "yaml",
            status: if problems.is_empty() {
                CheckStatus::Pass
            } else {
                CheckStatus::Fail
            },
            detail: if problems.is_empty() {
                "Chart.yaml and values.yaml read".into()
            } else {
                "not valid YAML".into()
            },
            problems,
        });
        checks.push(config_size(service)?);
        checks.push(generate_check(service, shared_defs.as_ref()));
        outcomes.push(ServiceOutcome {
            name: service.name.clone(),
            checks,
        });
    }
    Ok(outcomes)
}

/// The lenient loader's warnings about files under `dir`, as errors.
fn problems_in(warnings: &Diagnostics, dir: &Path) -> Diagnostics {
    let mut out = Diagnostics::default();
    for w in &warnings.0 {
        if w.source.as_ref().is_some_and(|s| s.path.starts_with(dir)) {
            let mut d = w.clone();
            d.severity = Severity::Error;
            d.notes.clear();
            out.push(d);
        }
    }
    out
}

/// The files of `config/` (symlinks followed) must fit one ConfigMap.
fn config_size(service: &Service) -> Result<CheckResult, ServicesError> {
    let config = service.dir.join("config");
    let mut sizes = Vec::new();
    let walk = config
        .exists()
        .then(|| walkdir::WalkDir::new(&config).follow_links(true));
    for entry in walk.into_iter().flatten() {
        let entry = entry.map_err(|e| ServicesError::Read {
            path: e.path().unwrap_or(&config).to_path_buf(),
            reason: e.to_string(),
        })?;
        if entry.file_type().is_file() {
            let len = entry.metadata().map_or(0, |m| m.len());
            let rel = entry
                .path()
                .strip_prefix(&service.dir)
                .unwrap_or(entry.path())
                .to_string_lossy()
                .into_owned();
            sizes.push((len, rel));
        }
    }
    let total: u64 = sizes.iter().map(|(l, _)| l).sum();
    if total <= CONFIGMAP_LIMIT {
        return Ok(CheckResult {
            check: "config-size",
            status: CheckStatus::Pass,
            detail: format!("config/ is {total} bytes"),
            problems: Diagnostics::default(),
        });
    }
    sizes.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let largest: Vec<String> = sizes
        .iter()
        .take(3)
        .map(|(l, p)| format!("`{p}` ({l} bytes)"))
        .collect();
    let message = format!(
        "service `{}`: config/ is {total} bytes, over the {CONFIGMAP_LIMIT}-byte ConfigMap limit; largest: {}",
        service.name,
        largest.join(", ")
    );
    let mut problems = Diagnostics::default();
    problems.push(Diagnostic::plain(None, message.clone()).with_hint(
        "move large files into the image, or generate them at start (e.g. database templates)",
    ));
    Ok(CheckResult {
        check: "config-size",
        status: CheckStatus::Fail,
        detail: format!("config/ is {total} bytes (limit {CONFIGMAP_LIMIT})"),
        problems,
    })
}

/// `runtime generate2 config/`: the instance files against the definitions.
fn generate_check(
    service: &Service,
    shared_defs: Option<&Result<Vec<SupportModule>, Diagnostics>>,
) -> CheckResult {
    let config = service.dir.join("config");
    let instances: Vec<PathBuf> = ["ioc.yaml", "runtime.yaml"]
        .iter()
        .map(|n| config.join(n))
        .filter(|p| p.is_file())
        .collect();
    let skip = |detail: &str| CheckResult {
        check: "generate",
        status: CheckStatus::Skip,
        detail: detail.into(),
        problems: Diagnostics::default(),
    };
    if instances.is_empty() {
        return skip("no config/ioc.yaml");
    }
    let Some(shared_defs) = shared_defs else {
        return skip("no --definitions given");
    };
    let fail = |problems: Diagnostics| CheckResult {
        check: "generate",
        status: CheckStatus::Fail,
        detail: format!("{} problem(s)", problems.0.len()),
        problems,
    };
    let mut modules = match shared_defs {
        Ok(m) => m.clone(),
        Err(d) => return fail(d.clone()),
    };
    // generate2 also reads the definitions the config folder carries
    let local = find_files(&config, ".ibek.support.yaml");
    if !local.is_empty() {
        match load_definitions(&local) {
            Ok(m) => modules.extend(m),
            Err(d) => return fail(d),
        }
    }
    let opts = GenerateOptions {
        pvi: true,
        ioc_dir: String::new(),
        runtime_dir: String::new(),
    };
    match generate(&instances, &modules, &opts) {
        Ok(g) => CheckResult {
            check: "generate",
            status: CheckStatus::Pass,
            detail: format!("st.cmd and ioc.subst for `{}`", g.ioc_name),
            problems: Diagnostics::default(),
        },
        Err(d) => fail(d),
    }
}

/// Files under `dir` (symlinks followed) whose name ends with `suffix`, sorted.
fn find_files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.file_name().to_string_lossy().ends_with(suffix))
        .map(walkdir::DirEntry::into_path)
        .collect();
    out.sort();
    out
}
