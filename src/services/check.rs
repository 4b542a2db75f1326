//! `services check`: what services CI does per service, in one process.
//!
//! Above [`repo`](super::repo) and beside the runtime: each service's YAML
//! is read strictly (problems at `file:line:col`), its layered values must
//! match the values schema when one is at hand, its `config/` folder must
//! fit a ConfigMap (1 MiB), and an IOC instance's `config/` is generated as
//! `runtime generate2` generates it (through `runtime::generate`, the same
//! library functions the command uses) against the definitions given or
//! those of its image ([`image_defs`](super::image_defs)), and its
//! `ioc.schema.json`, when it has one, must be that of the definitions; a
//! `runtime-lock.yaml` is checked as `pattern check` checks it, and `helm
//! lint`/`helm template` run through [`helm`](super::helm). The result is one
//! outcome per service; nothing is written but the image-definitions cache.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::image_defs::{ImageDefsCache, ImageDefsSettings, Unavailable};
use super::package::layer;
use super::repo::{load, Service, Strictness, YamlFile};
use super::ServicesError;
use crate::diag::{Diagnostic, Diagnostics, Severity};
use crate::layout::Environment;
use crate::model::support::SupportModule;
use crate::pattern::RUNTIME_LOCK_NAME;
use crate::runtime::generate::{generate, load_definitions, GenerateOptions};
use crate::schema::check::node_to_json;
use crate::schema::{ioc_schema, to_pretty};
use crate::source::{Node, NodeKind};

/// Kubernetes' limit on a ConfigMap's data (etcd's value limit).
pub const CONFIGMAP_LIMIT: u64 = 1024 * 1024;

/// What to check with.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// A folder of support module definitions (`*.ibek.support.yaml`), as the
    /// image's `/epics/ibek-defs` holds them; without it, those of the image
    /// each service's values name (through `image_defs`), else the
    /// generation is skipped.
    pub definitions: Option<PathBuf>,
    /// How to read images' definitions when `definitions` is not given.
    pub image_defs: Option<ImageDefsSettings>,
    /// Only these services (all when `None`).
    pub only: Option<BTreeSet<String>>,
    /// The `helm` program (found on `PATH` by the caller); without it the
    /// `helm-lint` and `helm-template` checks are skipped.
    pub helm: Option<PathBuf>,
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
    /// `yaml`, `values`, `config-size`, `generate`, `schema`, `pattern`,
    /// `helm-lint` or `helm-template` (`all` for a service that is skipped).
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
            let files = crate::model::discover::find_definitions(
                dir,
                crate::model::discover::SUPPORT_SUFFIX,
            );
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
    let mut images = opts.image_defs.clone().map(ImageDefsCache::new);
    let mut by_id = HashMap::new();
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
    // services CI's own opt-out list (p47-services' `ci_verify.sh` reads it too)
    let skip_list: BTreeSet<String> = fs_err::read_to_string(root.join(".ci_skip_checks"))
        .map(|t| {
            t.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    for service in &repo.services {
        if opts
            .only
            .as_ref()
            .is_some_and(|o| !o.contains(&service.name))
        {
            continue;
        }
        if skip_list.contains(&service.name) {
            outcomes.push(ServiceOutcome {
                name: service.name.clone(),
                checks: vec![result(
                    "all",
                    CheckStatus::Skip,
                    "listed in .ci_skip_checks".into(),
                    Diagnostics::default(),
                )],
            });
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
        checks.push(values_schema(service, repo.shared_values.as_ref()));
        checks.push(config_size(service)?);
        let defs = definitions_for(service, shared_defs.as_ref(), images.as_mut(), &mut by_id);
        checks.extend(generate_checks(service, defs));
        checks.push(pattern_check(service));
        checks.extend(super::helm::helm_checks(
            root,
            service,
            opts.helm.as_deref(),
        ));
        outcomes.push(ServiceOutcome {
            name: service.name.clone(),
            checks,
        });
    }
    Ok(outcomes)
}

/// The schema the service's values answer to: the chart's `values.schema.json`
/// (which Helm itself enforces), else the file a `# yaml-language-server:
/// $schema=PATH` line of `values.yaml` names, when it is a local file.
fn values_schema_path(service: &Service) -> Option<PathBuf> {
    let chart_schema = service.dir.join("values.schema.json");
    if chart_schema.is_file() {
        return Some(chart_schema);
    }
    let values = service.values.as_ref()?;
    values.source.text.lines().find_map(|line| {
        let rest = line.trim_start().strip_prefix('#')?.trim_start();
        let target = rest
            .strip_prefix("yaml-language-server:")?
            .trim_start()
            .strip_prefix("$schema=")?
            .trim();
        if target.contains("://") {
            return None;
        }
        let p = service.dir.join(target);
        p.is_file().then_some(p)
    })
}

/// The node a JSON pointer names, if the YAML has it.
fn node_at<'a>(root: &'a Node, pointer: &str) -> Option<&'a Node> {
    let mut node = root;
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        node = match &node.kind {
            NodeKind::Map(entries) => entries
                .iter()
                .rev()
                .find(|(k, _)| k.key_text() == seg)
                .map(|(_, v)| v)?,
            NodeKind::Seq(items) => items.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

/// The layered values (shared, then the service's) against the values schema.
fn values_schema(service: &Service, shared: Option<&YamlFile>) -> CheckResult {
    let Some(path) = values_schema_path(service) else {
        return result(
            "values",
            CheckStatus::Skip,
            "no values schema at hand".into(),
            Diagnostics::default(),
        );
    };
    let shown = path.display().to_string();
    let schema: Value = match fs_err::read_to_string(&path)
        .map_err(|e| crate::source::io_reason(&e))
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(v) => v,
        Err(e) => {
            return result(
                "values",
                CheckStatus::Fail,
                "values schema unreadable".into(),
                Diagnostics::from(Diagnostic::plain(
                    None,
                    format!("cannot read `{shown}`: {e}"),
                )),
            )
        }
    };
    let validator = match jsonschema::validator_for(&schema) {
        Ok(v) => v,
        // e.g. `$ref`s to URLs: iocforge never fetches them
        Err(e) => {
            return result(
                "values",
                CheckStatus::Skip,
                format!("`{shown}` cannot be used offline: {e}"),
                Diagnostics::default(),
            )
        }
    };
    let mut instance = Value::Object(serde_json::Map::new());
    if let Some(shared) = shared.filter(|s| !s.raw) {
        layer(&mut instance, node_to_json(&shared.node));
    }
    let own = service.values.as_ref().filter(|v| !v.raw);
    if let Some(values) = own {
        layer(&mut instance, node_to_json(&values.node));
    }
    let mut problems = Diagnostics::default();
    for e in validator.iter_errors(&instance).take(50) {
        let pointer = e.instance_path().to_string();
        let message = format!("the layered values do not match `{shown}`: {e}");
        let located = [own, shared]
            .into_iter()
            .flatten()
            .find_map(|f| node_at(&f.node, &pointer).map(|n| (f, n)));
        let d = match located {
            Some((f, n)) => Diagnostic::error(&f.source, n.span, message),
            None => Diagnostic::plain(None, format!("{message} (at `{pointer}`)")),
        };
        problems.push(d);
    }
    if problems.is_empty() {
        result(
            "values",
            CheckStatus::Pass,
            format!("layered values match `{shown}`"),
            problems,
        )
    } else {
        result(
            "values",
            CheckStatus::Fail,
            format!("{} problem(s)", problems.0.len()),
            problems,
        )
    }
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

/// `pattern check` where the service (or its `config/`) has a `runtime-lock.yaml`:
/// every vendored file must hash as the lock records; problems point at the
/// lock's entry for the file.
fn pattern_check(service: &Service) -> CheckResult {
    let Some(dest) = [service.dir.clone(), service.dir.join("config")]
        .into_iter()
        .find(|d| d.join(RUNTIME_LOCK_NAME).is_file())
    else {
        return result(
            "pattern",
            CheckStatus::Skip,
            format!("no {RUNTIME_LOCK_NAME}"),
            Diagnostics::default(),
        );
    };
    let lock_path = dest.join(RUNTIME_LOCK_NAME);
    let outcome = crate::pattern::vendor::check(&dest, false);
    if outcome.ok() {
        let dirty = outcome.warnings.len();
        let detail = if dirty == 0 {
            "vendored files match the lock".to_string()
        } else {
            format!("vendored files match the lock ({dirty} marked DIRTY)")
        };
        return result("pattern", CheckStatus::Pass, detail, Diagnostics::default());
    }
    // the lock read again, for the line of each entry (it parsed once already)
    let lock = crate::source::load_yaml(&lock_path).ok();
    let mut problems = Diagnostics::default();
    for failure in &outcome.failures {
        let d = match (&failure.entry, &lock) {
            (Some((pattern, file)), lock) => {
                let shown = dest.join(file);
                let message = format!(
                    "vendored file `{}` of pattern `{pattern}`: {}",
                    crate::diag::display_path(&shown),
                    failure.message
                );
                let key = lock.as_ref().and_then(|(src, root)| {
                    let files = root.get("patterns")?.get(pattern)?.get("files")?;
                    let (k, _) = files
                        .as_map()?
                        .iter()
                        .find(|(k, _)| k.as_str() == Some(file.as_str()))?;
                    Some((src, k.span))
                });
                match key {
                    Some((src, span)) => Diagnostic::error(src, span, message),
                    None => Diagnostic::plain(lock.as_ref().map(|(s, _)| s), message),
                }
            }
            (None, lock) => {
                Diagnostic::plain(lock.as_ref().map(|(s, _)| s), failure.message.clone())
            }
        };
        problems.push(d.with_hint(
            "`iocforge pattern restore` puts the pinned files back; `pattern update` re-pins; \
             a deliberate change can be marked `DIRTY # reason` in runtime-lock.yaml",
        ));
    }
    result(
        "pattern",
        CheckStatus::Fail,
        format!("{} vendored file problem(s)", problems.0.len()),
        problems,
    )
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

fn result(
    check: &'static str,
    status: CheckStatus,
    detail: String,
    problems: Diagnostics,
) -> CheckResult {
    CheckResult {
        check,
        status,
        detail,
        problems,
    }
}

/// The definitions a service's config is generated against: the shared ones
/// and those its config folder carries (as `runtime generate2` reads both).
fn service_modules(
    config: &Path,
    shared_defs: &Result<Vec<SupportModule>, Diagnostics>,
) -> Result<Vec<SupportModule>, Diagnostics> {
    let mut modules = shared_defs.clone()?;
    let local = crate::model::discover::find_definitions(config, ".ibek.support.yaml");
    if !local.is_empty() {
        modules.extend(load_definitions(&local)?);
    }
    Ok(modules)
}

/// The definitions a service is generated against, or why there are none.
enum Defs<'a> {
    /// Loaded (or failed to load, with the problems), and where they came from.
    Given(&'a Result<Vec<SupportModule>, Diagnostics>, String),
    /// None to check against: the generation is skipped.
    Skip(String),
    /// The image could not be read: the generation fails.
    Fail(String),
}

/// The config files `runtime generate2` reads.
fn instance_files(service: &Service) -> Vec<PathBuf> {
    let config = service.dir.join("config");
    ["ioc.yaml", "runtime.yaml"]
        .iter()
        .map(|n| config.join(n))
        .filter(|p| p.is_file())
        .collect()
}

/// The definitions of `--definitions`, else those of the image the
/// service's layered values name (loaded once per image ID).
fn definitions_for<'a>(
    service: &Service,
    given: Option<&'a Result<Vec<SupportModule>, Diagnostics>>,
    images: Option<&mut ImageDefsCache>,
    by_id: &'a mut HashMap<String, Result<Vec<SupportModule>, Diagnostics>>,
) -> Defs<'a> {
    if let Some(given) = given {
        return Defs::Given(given, "--definitions".into());
    }
    if instance_files(service).is_empty() {
        return Defs::Skip("no config/ioc.yaml".into());
    }
    let Some(images) = images else {
        return Defs::Skip(
            "no --definitions given and no cache folder for image definitions".into(),
        );
    };
    let Some(image) = service.image.as_deref() else {
        return Defs::Skip("no --definitions given and no `image` in the layered values".into());
    };
    let found = match images.get(image) {
        Ok(f) => f,
        Err(Unavailable::Skip(why)) => return Defs::Skip(why),
        Err(Unavailable::Fail(why)) => return Defs::Fail(why),
    };
    let label = format!("image `{image}` ({})", found.id);
    if !by_id.contains_key(&found.id) {
        let files = crate::model::discover::find_definitions(
            &found.ibek_defs,
            crate::model::discover::SUPPORT_SUFFIX,
        );
        if files.is_empty() {
            return Defs::Skip(format!(
                "image `{image}` has no `*.ibek.support.yaml` in /epics/ibek-defs"
            ));
        }
        by_id.insert(found.id.clone(), load_definitions(&files));
    }
    match by_id.get(&found.id) {
        Some(modules) => Defs::Given(modules, label),
        None => Defs::Skip(label),
    }
}

/// `runtime generate2 config/` and the freshness of `ioc.schema.json`.
fn generate_checks(service: &Service, defs: Defs<'_>) -> [CheckResult; 2] {
    let config = service.dir.join("config");
    let instances = instance_files(service);
    let skip = |check, detail: &str| {
        result(
            check,
            CheckStatus::Skip,
            detail.into(),
            Diagnostics::default(),
        )
    };
    let fail = |check, problems: Diagnostics| {
        result(
            check,
            CheckStatus::Fail,
            format!("{} problem(s)", problems.0.len()),
            problems,
        )
    };
    if instances.is_empty() {
        return [
            skip("generate", "no config/ioc.yaml"),
            skip("schema", "no config/ioc.yaml"),
        ];
    }
    let (shared_defs, source) = match defs {
        Defs::Given(d, source) => (d, source),
        Defs::Skip(why) => return [skip("generate", &why), skip("schema", &why)],
        Defs::Fail(why) => {
            return [
                result(
                    "generate",
                    CheckStatus::Fail,
                    "the image's definitions cannot be read".into(),
                    Diagnostics::from(Diagnostic::plain(None, why)),
                ),
                skip("schema", "no definitions"),
            ]
        }
    };
    let modules = match service_modules(&config, shared_defs) {
        Ok(m) => m,
        Err(d) => return [fail("generate", d), skip("schema", "definitions invalid")],
    };
    // in the cluster the IOC runs with its release (service) name as IOC_NAME
    let opts = GenerateOptions {
        pvi: false,
        ioc_dir: String::new(),
        runtime_dir: String::new(),
        env: Environment::from_pairs([("IOC_NAME", service.name.as_str())]),
        // no pvi screens: the check writes nothing
        pvi_settings: None,
    };
    let generated = match generate(&instances, &modules, &opts) {
        Ok(g) => result(
            "generate",
            CheckStatus::Pass,
            format!("st.cmd and ioc.subst for `{}` against {source}", g.ioc_name),
            Diagnostics::default(),
        ),
        Err(d) => fail("generate", d),
    };
    [generated, schema_check(service, &modules)]
}

/// `ioc.schema.json` beside the service's values, when there is one, must be
/// what `ioc generate-schema` writes for the definitions.
fn schema_check(service: &Service, modules: &[SupportModule]) -> CheckResult {
    let path = service.dir.join("ioc.schema.json");
    if !path.is_file() {
        return result(
            "schema",
            CheckStatus::Skip,
            "no ioc.schema.json".into(),
            Diagnostics::default(),
        );
    }
    let expected = match ioc_schema(modules) {
        Ok(schema) => format!("{}\n", to_pretty(&schema)),
        Err(e) => {
            return result(
                "schema",
                CheckStatus::Fail,
                "cannot build the schema".into(),
                Diagnostics::from(e.to_diagnostic()),
            )
        }
    };
    let actual = fs_err::read(&path).unwrap_or_default();
    if actual == expected.as_bytes() {
        return result(
            "schema",
            CheckStatus::Pass,
            "ioc.schema.json up to date".into(),
            Diagnostics::default(),
        );
    }
    let shown = format!("services/{}/ioc.schema.json", service.name);
    let d = Diagnostic::plain(
        None,
        format!("`{shown}` is not the schema of the definitions the service is checked against"),
    )
    .with_hint(format!(
        "regenerate it: `iocforge ioc generate-schema --no-ibek-defs DEFINITIONS... --output {shown}`"
    ));
    result(
        "schema",
        CheckStatus::Fail,
        "ioc.schema.json out of date".into(),
        Diagnostics::from(d),
    )
}
