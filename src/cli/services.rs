//! `iocforge services ...`: commands over a whole services repository.
//!
//! Parses flags and prints; the work is in `crate::services`.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

use super::{printer, CmdResult, Failure};
use crate::build::docker::DockerEngine;
use crate::diag::EnvFailure;
use crate::layout::Environment;
use crate::services::changed::{changed_between, Status, Until};
use crate::services::check::{check_services, CheckOptions};
use crate::services::digest::digest_repo;
use crate::services::image_defs::ImageDefsSettings;
use crate::services::package::package_service;
use crate::services::publish::{
    publish as publish_services, OciTarget, Outcome, PublishError, PublishOptions,
};
use crate::services::repo::{load, Strictness};
use crate::services::ServicesError;

/// Commands over a services repository (one Helm chart per IOC instance)
#[derive(Debug, Subcommand)]
pub enum ServicesCommand {
    /// List every service: kind, image, chart and dependency versions
    #[command(after_long_help = "\
Exit codes: 0 listed, 1 invalid repository files, 2 usage or I/O error.

Examples:
  iocforge services list
  iocforge services list ../p47-services --format json")]
    List(ListArgs),
    /// The services whose deployment differs between two commits
    ///
    /// A service's inputs are everything that reaches what Kubernetes
    /// receives for it: its folder with symlinks followed, the shared
    /// services/values.yaml, its chart dependencies and their versions, its
    /// config files and its image. YAML values count by content, not by
    /// comments or layout. Commits are read with git, never checked out.
    /// A file that is not valid YAML is warned about and counts by its bytes.
    #[command(after_long_help = "\
Exit codes: 0 compared (whether or not anything changed), 1 invalid repository
files, 2 usage error, unknown revision or I/O error.

Examples:
  iocforge services changed --since origin/main
  iocforge services changed --since v1.0 --until v1.1 --format json")]
    Changed(ChangedArgs),
    /// Check each service as services CI does, in one process
    ///
    /// Per service: Chart.yaml and values.yaml are valid YAML (problems at
    /// file:line:col); the layered values match the chart's values.schema.json
    /// (or the local schema a `# yaml-language-server: $schema=` line names);
    /// config/ fits a ConfigMap (1 MiB, naming the largest
    /// files); config/ioc.yaml (and runtime.yaml) generate as `runtime
    /// generate2` generates them, against the definitions of --definitions,
    /// else those of the image the layered values name (its /epics/ibek-defs
    /// and /epics/pvi-defs, read through the Docker daemon without running
    /// a container, once per image ID, cached in
    /// $XDG_CACHE_HOME/iocforge/image-defs/; an image not present locally
    /// is skipped unless --pull), plus those the config folder carries;
    /// and an ioc.schema.json beside values.yaml must be the schema of those
    /// definitions; where the service folder (or its config/) has a
    /// runtime-lock.yaml, the vendored files match it (`pattern check`);
    /// and, when `helm` is on PATH, `helm lint` and `helm template` of a
    /// copy of the service folder (symlinks followed, `helm dependency
    /// build` first when it has dependencies but no charts/) with
    /// `--values services/values.yaml --values services/NAME/values.yaml`.
    /// One table (or JSON) at the end.
    #[command(after_long_help = "\
Exit codes: 0 every check passed, 1 a check failed, 2 usage or I/O error.

Examples:
  iocforge services check --all
  iocforge services check --all --definitions /path/to/ibek-defs
  iocforge services check --changed-since origin/main --format json")]
    Check(CheckArgs),
    /// Write one self-contained, byte-reproducible chart archive per service
    ///
    /// NAME-VERSION.tgz holds the service's chart renamed after its folder,
    /// the shared values layered under its own as values.yaml, its files
    /// (symlinks followed) and its dependencies under charts/: file://
    /// ones from the repository, others from --charts DIR/NAME-VERSION/.
    /// The same inputs give the same bytes on any machine.
    #[command(
        after_long_help = "\
Exit codes: 0 written, 1 invalid repository files, 2 usage error, a dependency
not at hand, or I/O error.

Examples:
  iocforge services package --version 2026.1.1 --out dist
  iocforge services package . bl01t-ea-ioc-01 --version 1.2.0 --charts ../charts",
        disable_version_flag = true
    )]
    Package(PackageArgs),
    /// Push each service's chart to an OCI registry, skipping unchanged content
    ///
    /// Each service is packaged as `services package` packages it and pushed
    /// as PATH/NAME:VERSION with Helm's media types, so `helm pull
    /// oci://HOST/PATH/NAME --version VERSION` fetches it. The manifest
    /// carries the service's content digest (the `services changed` digest,
    /// which does not depend on the version) as the annotation
    /// dev.iocforge.content-digest. A service is not pushed when any tag of
    /// PATH/NAME already carries the same digest (`unchanged (same content as
    /// TAG)`); a tag VERSION holding other content is a failure, never
    /// overwritten. Loopback registries (localhost, 127.0.0.0/8, ::1) are
    /// reached over plain HTTP, as Docker does, others over HTTPS unless
    /// --plain-http. Access is anonymous: no credentials are read.
    #[command(
        after_long_help = "\
Exit codes: 0 every service pushed or unchanged, 1 invalid repository files or
a service failed, 2 usage error or a bad --to address.

Examples:
  iocforge services publish --version 2026.1.1 --to oci://ghcr.io/example/bl01t-services
  iocforge services publish . bl01t-ea-ioc-01 --version 1.2.0 --to oci://localhost:5000/charts",
        disable_version_flag = true
    )]
    Publish(PublishArgs),
}

/// Arguments of `services publish`.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The services repository (the folder holding `services/`)
    #[arg(default_value = ".")]
    repo: PathBuf,
    /// The services to publish [default: all]
    services: Vec<String>,
    /// The chart version of every pushed chart (the OCI tag; `+` becomes `_`)
    #[arg(long)]
    version: String,
    /// Where to push: oci://HOST[:PORT]/PATH
    #[arg(long, value_name = "oci://HOST/PATH")]
    to: String,
    /// Use plain HTTP even for a registry that is not on loopback
    #[arg(long)]
    plain_http: bool,
    /// A folder of dependency charts as NAME-VERSION/ folders (for dependencies not given by file://)
    #[arg(long, value_name = "DIR")]
    charts: Option<PathBuf>,
    /// How to print the result
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// Arguments of `services package`.
#[derive(Debug, Args)]
pub struct PackageArgs {
    /// The services repository (the folder holding `services/`)
    #[arg(default_value = ".")]
    repo: PathBuf,
    /// The services to package [default: all]
    services: Vec<String>,
    /// The chart version of every archive
    #[arg(long)]
    version: String,
    /// Where to write NAME-VERSION.tgz
    #[arg(long, default_value = ".")]
    out: PathBuf,
    /// A folder of dependency charts as NAME-VERSION/ folders (for dependencies not given by file://)
    #[arg(long, value_name = "DIR")]
    charts: Option<PathBuf>,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for people
    Table,
    /// One JSON array on stdout
    Json,
}

/// Arguments of `services list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// The services repository (the folder holding `services/`)
    #[arg(default_value = ".")]
    repo: PathBuf,
    /// How to print the list
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// Arguments of `services changed`.
#[derive(Debug, Args)]
pub struct ChangedArgs {
    /// The services repository (the top of a git work tree holding `services/`)
    #[arg(default_value = ".")]
    repo: PathBuf,
    /// The earlier commit (a commit, tag or branch)
    #[arg(long, value_name = "REF")]
    since: String,
    /// The later commit [default: the work tree, as git would commit it]
    #[arg(long, value_name = "REF")]
    until: Option<String>,
    /// How to print the result
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// Arguments of `services check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The services repository (the folder holding `services/`)
    #[arg(default_value = ".")]
    repo: PathBuf,
    /// Check only the services changed or added since this commit (see `services changed`)
    #[arg(long, value_name = "REF", conflicts_with = "all")]
    changed_since: Option<String>,
    /// Check every service (the default)
    #[arg(long)]
    all: bool,
    /// Folder of support module definitions (`*.ibek.support.yaml`), e.g. a copy of an image's /epics/ibek-defs
    /// [default: each service's image's /epics/ibek-defs, through Docker]
    #[arg(long, value_name = "DIR")]
    definitions: Option<PathBuf>,
    /// Pull a service's image when it is not present locally (without --definitions)
    #[arg(long, conflicts_with = "definitions")]
    pull: bool,
    /// How to print the result
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// Runs a `services` command.
pub fn run(cmd: ServicesCommand, env: &Environment) -> CmdResult {
    match cmd {
        ServicesCommand::List(a) => list(&a),
        ServicesCommand::Changed(a) => changed(&a),
        ServicesCommand::Check(a) => check(&a, env),
        ServicesCommand::Package(a) => package(&a),
        ServicesCommand::Publish(a) => publish(&a),
    }
}

fn failure(e: ServicesError) -> Failure {
    match e {
        ServicesError::Invalid(d) => Failure::Invalid(d),
        ServicesError::NoServices(_) => Failure::Exit(
            1,
            EnvFailure::new(e.to_string())
                .with_hint("pass the folder that holds `services/` (the repository's top)"),
        ),
        other => Failure::env(other.to_string()),
    }
}

fn list(a: &ListArgs) -> CmdResult {
    let repo = load(&a.repo, None, Strictness::Strict).map_err(failure)?;
    let digests = digest_repo(&repo).map_err(failure)?;
    match a.format {
        Format::Json => {
            let items: Vec<_> = repo
                .services
                .iter()
                .map(|s| {
                    json!({
                        "name": s.name,
                        "kind": s.kind.as_str(),
                        "image": s.image,
                        "chart": {"name": s.chart_name, "version": s.chart_version},
                        "dependencies": s.dependencies.iter().map(|d| json!({
                            "name": d.name,
                            "version": d.version,
                            "repository": d.repository,
                            "alias": d.alias,
                        })).collect::<Vec<_>>(),
                        "digest": digests.get(&s.name).map(|d| d.digest.clone()),
                    })
                })
                .collect();
            printer::data(&format!("{}\n", pretty(&json!(items))));
        }
        Format::Table => {
            let mut rows = vec![[
                "NAME".to_string(),
                "KIND".into(),
                "IMAGE".into(),
                "CHART".into(),
                "DEPENDENCIES".into(),
            ]];
            for s in &repo.services {
                let deps: Vec<String> = s
                    .dependencies
                    .iter()
                    .map(|d| format!("{} {}", d.name, d.version.as_deref().unwrap_or("*")))
                    .collect();
                rows.push([
                    s.name.clone(),
                    s.kind.as_str().into(),
                    s.image.clone().unwrap_or_else(|| "-".into()),
                    format!(
                        "{} {}",
                        s.chart_name,
                        s.chart_version.as_deref().unwrap_or("")
                    ),
                    if deps.is_empty() {
                        "-".into()
                    } else {
                        deps.join(", ")
                    },
                ]);
            }
            printer::data(&table(&rows));
        }
    }
    Ok(())
}

fn changed(a: &ChangedArgs) -> CmdResult {
    let until = a.until.clone().map_or(Until::WorkTree, Until::Rev);
    let report = changed_between(&a.repo, &a.since, &until).map_err(failure)?;
    if !report.warnings.is_empty() {
        printer::diagnostics(&report.warnings);
    }
    let changes = report.changes;
    match a.format {
        Format::Json => {
            let items: Vec<_> = changes
                .iter()
                .map(|c| json!({"name": c.name, "status": c.status.as_str(), "reasons": c.reasons}))
                .collect();
            printer::data(&format!("{}\n", pretty(&json!(items))));
        }
        Format::Table => {
            if changes.is_empty() {
                printer::info("no service changed");
                return Ok(());
            }
            let mut rows = vec![["STATUS".to_string(), "NAME".into(), "REASONS".into()]];
            for c in &changes {
                rows.push([
                    c.status.as_str().into(),
                    c.name.clone(),
                    c.reasons.join("; "),
                ]);
            }
            printer::data(&table(&rows));
        }
    }
    Ok(())
}

fn check(a: &CheckArgs, env: &Environment) -> CmdResult {
    let only = match &a.changed_since {
        Some(rev) => {
            let report = changed_between(&a.repo, rev, &Until::WorkTree).map_err(failure)?;
            Some(
                report
                    .changes
                    .into_iter()
                    .filter(|c| c.status != Status::Removed)
                    .map(|c| c.name)
                    .collect(),
            )
        }
        None => None,
    };
    let opts = CheckOptions {
        definitions: a.definitions.clone(),
        only,
        helm: env.find_program("helm"),
        image_defs: image_cache_dir(env).map(|cache_dir| ImageDefsSettings {
            cache_dir,
            engine: DockerEngine::from_env(env),
            pull: a.pull,
        }),
    };
    let outcomes = check_services(&a.repo, &opts).map_err(failure)?;
    let failed = outcomes.iter().filter(|o| !o.passed()).count();
    match a.format {
        Format::Json => {
            let items: Vec<_> = outcomes
                .iter()
                .map(|o| {
                    json!({
                        "name": o.name,
                        "ok": o.passed(),
                        "checks": o.checks.iter().map(|c| json!({
                            "check": c.check,
                            "status": c.status.as_str(),
                            "detail": c.detail,
                            "problems": c.problems.0.iter().map(crate::diag::Diagnostic::to_json).collect::<Vec<_>>(),
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            printer::data(&format!("{}\n", pretty(&json!(items))));
        }
        Format::Table => {
            for o in &outcomes {
                for c in &o.checks {
                    if !c.problems.is_empty() {
                        printer::diagnostics(&c.problems);
                    }
                }
            }
            let mut rows = vec![[
                "SERVICE".to_string(),
                "RESULT".into(),
                "YAML".into(),
                "VALUES".into(),
                "CONFIG-SIZE".into(),
                "GENERATE".into(),
                "SCHEMA".into(),
                "PATTERN".into(),
                "HELM-LINT".into(),
                "HELM-TEMPLATE".into(),
            ]];
            for o in &outcomes {
                let status = |name: &str| {
                    o.checks
                        .iter()
                        .find(|c| c.check == name)
                        .map_or("-", |c| c.status.as_str())
                        .to_string()
                };
                rows.push([
                    o.name.clone(),
                    if o.passed() { "ok" } else { "FAILED" }.into(),
                    status("yaml"),
                    status("values"),
                    status("config-size"),
                    status("generate"),
                    status("schema"),
                    status("pattern"),
                    status("helm-lint"),
                    status("helm-template"),
                ]);
            }
            printer::data(&table(&rows));
        }
    }
    if failed > 0 {
        return Err(Failure::exit(
            1,
            format!("{failed} of {} services failed the checks", outcomes.len()),
        ));
    }
    Ok(())
}

/// `$XDG_CACHE_HOME/iocforge/image-defs`, else `$HOME/.cache/iocforge/image-defs`.
fn image_cache_dir(env: &Environment) -> Option<PathBuf> {
    let base = env
        .non_empty(crate::env::XDG_CACHE_HOME)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            env.non_empty(crate::env::HOME)
                .map(|h| PathBuf::from(h).join(".cache"))
        })?;
    Some(base.join("iocforge").join("image-defs"))
}

fn package(a: &PackageArgs) -> CmdResult {
    let repo = load(&a.repo, None, Strictness::Strict).map_err(failure)?;
    for wanted in &a.services {
        if !repo.services.iter().any(|s| &s.name == wanted) {
            return Err(Failure::exit(
                1,
                format!(
                    "no service `{wanted}` under `{}/services`",
                    a.repo.display()
                ),
            ));
        }
    }
    fs_err::create_dir_all(&a.out)
        .map_err(|e| Failure::env(format!("cannot create `{}`: {e}", a.out.display())))?;
    for service in &repo.services {
        if !a.services.is_empty() && !a.services.contains(&service.name) {
            continue;
        }
        let bytes =
            package_service(&repo, service, &a.version, a.charts.as_deref()).map_err(failure)?;
        let dest = a.out.join(format!("{}-{}.tgz", service.name, a.version));
        // written beside the destination, then renamed: never a half-written archive
        let write = || -> std::io::Result<()> {
            let mut tmp = tempfile::NamedTempFile::new_in(&a.out)?;
            std::io::Write::write_all(&mut tmp, &bytes)?;
            tmp.persist(&dest).map_err(|e| e.error)?;
            Ok(())
        };
        write().map_err(|e| Failure::env(format!("cannot write `{}`: {e}", dest.display())))?;
        printer::data(&format!("{}\n", dest.display()));
    }
    Ok(())
}

fn publish(a: &PublishArgs) -> CmdResult {
    let target = OciTarget::parse(&a.to).map_err(|e| {
        Failure::env_hint(
            e.to_string(),
            "write it as oci://HOST[:PORT]/PATH, e.g. oci://ghcr.io/example/charts",
        )
    })?;
    let repo = load(&a.repo, None, Strictness::Strict).map_err(failure)?;
    let opts = PublishOptions {
        version: a.version.clone(),
        target,
        plain_http: a.plain_http,
        charts: a.charts.clone(),
        services: a.services.clone(),
    };
    let results = match publish_services(&repo, &opts) {
        Ok(r) => r,
        Err(PublishError::Services(e)) => return Err(failure(e)),
        Err(e @ PublishError::UnknownService(_)) => {
            return Err(Failure::exit(
                1,
                format!("{e} (under `{}/services`)", a.repo.display()),
            ))
        }
        Err(e) => return Err(Failure::env(e.to_string())),
    };
    match a.format {
        Format::Json => {
            let items: Vec<_> = results
                .iter()
                .map(|p| {
                    let mut item = json!({
                        "name": p.name,
                        "status": p.outcome.status(),
                        "reference": p.reference,
                        "content_digest": p.content_digest,
                    });
                    match &p.outcome {
                        Outcome::Pushed { manifest_digest } => {
                            item["manifest_digest"] = json!(manifest_digest);
                        }
                        Outcome::Unchanged { tag } => item["same_as"] = json!(tag),
                        Outcome::Failed { reason } => item["reason"] = json!(reason),
                    }
                    item
                })
                .collect();
            printer::data(&format!("{}\n", pretty(&json!(items))));
        }
        Format::Table => {
            let mut rows = vec![["SERVICE".to_string(), "REFERENCE".into(), "RESULT".into()]];
            for p in &results {
                rows.push([p.name.clone(), p.reference.clone(), p.outcome.describe()]);
            }
            printer::data(&table(&rows));
        }
    }
    let failed = results
        .iter()
        .filter(|p| matches!(p.outcome, Outcome::Failed { .. }))
        .count();
    if failed > 0 {
        return Err(Failure::exit(
            1,
            format!("{failed} of {} services failed to publish", results.len()),
        ));
    }
    Ok(())
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// Left-aligned columns, two spaces apart; the last column is not padded.
fn table<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [0usize; N];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == N {
                out.push_str(cell);
            } else {
                let _ = write!(out, "{cell:<width$}  ", width = widths[i]);
            }
        }
        out.push('\n');
    }
    out
}
