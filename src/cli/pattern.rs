//! `iocforge pattern ...`: ibek 4.8.2's `pattern` group (vendor runtime-support patterns).
//!
//! Parses flags, reads the environment variables the group honours, turns
//! them into [`crate::pattern`] settings and prints the outcome. Every
//! pattern error exits 1; a missing destination folder is a usage error (2).

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use super::{printer, CmdResult, Failure};
use crate::build::docker::DockerEngine;
use crate::diag::EnvFailure;
use crate::env::{
    HOME, HTTPS_PROXY, HTTP_PROXY, IBEK_ALLOW_DIRTY, IBEK_PATTERN_LIBRARIES, IBEK_SCHEMA_CACHE,
    IOCFORGE_SCHEMA_BASE_URL, NO_PROXY,
};
use crate::layout::Environment;
use crate::pattern::fetch::GitSettings;
use crate::pattern::http::HttpSettings;
use crate::pattern::lock::{SelectRule, Selection};
use crate::pattern::reference::Libraries;
use crate::pattern::schema::{self, BaseSource, SchemaSettings, DEFAULT_BASE_URL};
use crate::pattern::vendor::{self, Report, Settings};
use crate::pattern::PatternError;

const AFTER_HELP: &str = "\
Exit codes:
  0  success (check: vendored files match the lock)
  1  a pattern error: bad reference, unknown library, bad manifest or lock,
     hash mismatch, unreachable source; the destination is left as it was
  2  usage error (e.g. DEST is not a folder)

Environment:
  IBEK_PATTERN_LIBRARIES  extra libraries, name=uri,... (git URL or folder)
  IBEK_ALLOW_DIRTY=1      like check --allow-dirty
  IBEK_SCHEMA_CACHE       base schema cache [default: ~/.cache/ibek/schemas]
  HTTPS_PROXY, NO_PROXY   proxy for the base schema download";

/// The `pattern` subcommands.
#[derive(Debug, Subcommand)]
#[command(after_long_help = AFTER_HELP)]
pub enum PatternCommand {
    /// Vendor a pattern into a destination: files + runtime-lock.yaml + schema
    #[command(after_long_help = "Examples:\n  \
        iocforge pattern add ibek-runtime-streamdevice:lakeshore340@1.0.0 services/bl01t-ea-ioc-01\n  \
        iocforge pattern add mylib:plugins@2.1 . --include 'extra/(.*)\\.db=config/\\1.db' --exclude 'docs/.*'")]
    Add(AddArgs),
    /// Re-vendor a pattern to a new pinned version; refresh hashes + schema
    #[command(disable_version_flag = true)]
    Update(UpdateArgs),
    /// Verify vendored files match runtime-lock.yaml (vendor integrity)
    Check(CheckArgs),
    /// Revert vendored files to the version pinned in runtime-lock.yaml
    Restore(RestoreArgs),
    /// Generate the instance's ioc.schema.json and rewrite ioc.yaml's header
    ///
    /// The base schema of the image pinned in values.yaml / compose.yml is
    /// fetched from the image's GitHub release (cached, revalidated every run),
    /// or read from a file or from the image itself; the instance's
    /// config/*.ibek.support.yaml entities are merged into it.
    Schema(SchemaArgs),
}

/// Where the instance schema's base comes from.
#[derive(Debug, Args)]
pub struct SchemaOpts {
    /// Take the base schema from this file instead of the published release
    #[arg(long, value_name = "FILE")]
    base_schema: Option<PathBuf>,
    /// Take the base schema from the image (/epics/ibek-defs/ioc.schema.json)
    /// through the Docker Engine API, without running it; IMAGE defaults to the pinned one
    #[arg(long, value_name = "IMAGE", num_args = 0..=1, default_missing_value = "", conflicts_with = "base_schema")]
    base_schema_from_image: Option<String>,
    /// The host of published schemas, for mirrors and tests
    /// [env: IOCFORGE_SCHEMA_BASE_URL] [default: https://github.com]
    #[arg(long, value_name = "URL")]
    schema_base_url: Option<String>,
}

/// Arguments of `pattern add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// Pattern reference: [library:]name[@version], e.g. ibek-runtime-streamdevice:lakeshore340@1.0.0
    name: String,
    /// The destination folder to vendor into (an IOC instance root)
    #[arg(default_value = ".")]
    dest: PathBuf,
    /// Override the library source URI (git URL or local path)
    #[arg(short, long)]
    source: Option<String>,
    /// Also vendor pattern files matching the regex SRC, to DEST (a manifest-style
    /// dest); given as SRC=DEST; repeatable; recorded in runtime-lock.yaml
    #[arg(long, value_name = "SRC=DEST")]
    include: Vec<String>,
    /// Do not vendor manifest files matching this regex; repeatable; recorded in runtime-lock.yaml
    #[arg(long, value_name = "SRC")]
    exclude: Vec<String>,
    #[command(flatten)]
    schema: SchemaOpts,
}

/// Arguments of `pattern update`.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The destination folder (an IOC instance root)
    #[arg(default_value = ".")]
    dest: PathBuf,
    /// Restrict to a single pattern by name (default: all in the lock)
    #[arg(short, long)]
    name: Option<String>,
    /// New pinned version to vendor
    #[arg(short = 'v', long)]
    version: Option<String>,
    /// Override the library source URI (git URL or local path)
    #[arg(short, long)]
    source: Option<String>,
    #[command(flatten)]
    schema: SchemaOpts,
}

/// Arguments of `pattern check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The destination folder (an IOC instance root)
    #[arg(default_value = ".")]
    dest: PathBuf,
    /// Downgrade hash mismatches to warnings (also enabled by IBEK_ALLOW_DIRTY=1)
    #[arg(long)]
    allow_dirty: bool,
}

/// Arguments of `pattern restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The destination folder (an IOC instance root)
    #[arg(default_value = ".")]
    dest: PathBuf,
    /// Restrict to a single pattern by name (default: all in the lock)
    #[arg(short, long)]
    name: Option<String>,
    #[command(flatten)]
    schema: SchemaOpts,
}

/// Arguments of `pattern schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// The destination folder (an IOC instance root)
    #[arg(default_value = ".")]
    dest: PathBuf,
    #[command(flatten)]
    schema: SchemaOpts,
}

fn env_either(env: &Environment, upper: &str) -> Option<String> {
    // urllib prefers the lower-case spelling
    env.non_empty(&upper.to_ascii_lowercase())
        .or_else(|| env.non_empty(upper))
        .map(str::to_string)
}

fn exit(code: u8, message: String, hint: Option<String>) -> Failure {
    let f = EnvFailure::new(message);
    Failure::Exit(
        code,
        match hint {
            Some(h) => f.with_hint(h),
            None => f,
        },
    )
}

/// typer's `exists=True, file_okay=False, resolve_path=True`.
fn dest_dir(dest: &Path) -> Result<PathBuf, Failure> {
    if !dest.is_dir() {
        let what = if dest.exists() {
            "is a file"
        } else {
            "does not exist"
        };
        return Err(exit(
            2,
            format!(
                "Invalid value for '[DEST]': Directory '{}' {what}.",
                dest.display()
            ),
            Some("give an existing folder (an IOC instance root)".into()),
        ));
    }
    fs_err::canonicalize(dest).map_err(|e| Failure::env(e.to_string()))
}

fn schema_settings(
    opts: &SchemaOpts,
    dest: &Path,
    env: &Environment,
) -> Result<SchemaSettings, Failure> {
    let cache_root = env.get(IBEK_SCHEMA_CACHE).map_or_else(
        || {
            PathBuf::from(env.get(HOME).unwrap_or_default())
                .join(".cache")
                .join("ibek")
                .join("schemas")
        },
        PathBuf::from,
    );
    let base = if let Some(file) = &opts.base_schema {
        BaseSource::File(file.clone())
    } else if let Some(image) = &opts.base_schema_from_image {
        let image = if image.is_empty() {
            match schema::find_image(dest).map_err(pattern_failure)? {
                Some(i) => i,
                None => {
                    return Err(exit(
                        1,
                        format!(
                            "no image pinned in {}/values.yaml or compose.yml",
                            dest.display()
                        ),
                        Some("give the image: --base-schema-from-image IMAGE".into()),
                    ))
                }
            }
        } else {
            image.clone()
        };
        let path = "/epics/ibek-defs/ioc.schema.json";
        let bytes = DockerEngine::from_env(env)
            .read_image_file(&image, path)
            .map_err(|e| {
                exit(
                    1,
                    format!("cannot read {path} from image `{image}`: {e}"),
                    Some(format!(
                        "pull the image first (docker pull {image}), or use --base-schema FILE"
                    )),
                )
            })?;
        BaseSource::Bytes {
            label: format!("image `{image}`"),
            bytes,
        }
    } else {
        BaseSource::Published
    };
    Ok(SchemaSettings {
        base,
        cache_root,
        base_url: opts
            .schema_base_url
            .clone()
            .or_else(|| env.non_empty(IOCFORGE_SCHEMA_BASE_URL).map(str::to_string))
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_string()),
        http: HttpSettings {
            https_proxy: env_either(env, HTTPS_PROXY),
            http_proxy: env_either(env, HTTP_PROXY),
            no_proxy: env_either(env, NO_PROXY),
            timeout_secs: 10,
        },
    })
}

fn settings(opts: &SchemaOpts, dest: &Path, env: &Environment) -> Result<Settings, Failure> {
    Ok(Settings {
        libraries: Libraries::new(env.get(IBEK_PATTERN_LIBRARIES)),
        git: GitSettings::default(),
        schema: schema_settings(opts, dest, env)?,
    })
}

fn pattern_failure(e: PatternError) -> Failure {
    match e {
        PatternError::Message { message, hint } => exit(1, message, hint),
        // definitions the schema could not be built from: exit 1 with their diagnostics
        PatternError::Diagnostics(d) => Failure::Invalid(d),
    }
}

fn print_report(report: &Report) {
    for note in &report.notes {
        printer::info(note);
    }
}

/// `SRC=DEST` options and excludes as a selection (split at the last `=`:
/// a regex may contain `=`, a path does not).
fn selection(include: &[String], exclude: &[String]) -> Result<Option<Selection>, Failure> {
    let mut rules = Vec::new();
    for text in include {
        match text.rsplit_once('=') {
            Some((src, dest)) if !src.is_empty() && !dest.is_empty() => rules.push(SelectRule {
                src: src.into(),
                dest: dest.into(),
            }),
            _ => {
                return Err(exit(
                    1,
                    format!(
                        "--include {}: expected SRC=DEST",
                        crate::pattern::py_repr(text)
                    ),
                    Some("e.g. --include 'extra/(.*)\\.db=config/\\1.db'".into()),
                ))
            }
        }
    }
    if rules.is_empty() && exclude.is_empty() {
        return Ok(None);
    }
    Ok(Some(Selection {
        include: rules,
        exclude: exclude.to_vec(),
    }))
}

/// Runs a `pattern` subcommand.
pub fn run(cmd: PatternCommand, env: &Environment) -> CmdResult {
    match cmd {
        PatternCommand::Add(a) => {
            let dest = dest_dir(&a.dest)?;
            let select = selection(&a.include, &a.exclude)?;
            let s = settings(&a.schema, &dest, env)?;
            let report = vendor::add(&s, &a.name, &dest, a.source.as_deref(), select)
                .map_err(pattern_failure)?;
            print_report(&report);
            printer::info(&format!("vendored {} into {}", a.name, dest.display()));
            Ok(())
        }
        PatternCommand::Update(a) => {
            let dest = dest_dir(&a.dest)?;
            let s = settings(&a.schema, &dest, env)?;
            let report = vendor::update(
                &s,
                a.name.as_deref(),
                &dest,
                a.version.as_deref(),
                a.source.as_deref(),
            )
            .map_err(pattern_failure)?;
            print_report(&report);
            printer::info(&format!(
                "updated {} in {}",
                a.name.as_deref().unwrap_or("all patterns"),
                dest.display()
            ));
            Ok(())
        }
        PatternCommand::Check(a) => {
            let dest = dest_dir(&a.dest)?;
            let allow = a.allow_dirty || env.get(IBEK_ALLOW_DIRTY) == Some("1");
            let result = vendor::check(&dest, allow);
            for w in &result.warnings {
                printer::warning(&w.to_string());
            }
            for f in &result.failures {
                printer::error(&f.to_string());
            }
            if !result.ok() {
                return Err(exit(
                    1,
                    format!("{}: vendored files do not match the lock", dest.display()),
                    Some("`pattern restore` puts the pinned files back; `pattern update` re-pins; a deliberate change can be marked `DIRTY # reason` in runtime-lock.yaml".into()),
                ));
            }
            printer::info(&format!(
                "{}: vendored files match the lock",
                dest.display()
            ));
            Ok(())
        }
        PatternCommand::Restore(a) => {
            let dest = dest_dir(&a.dest)?;
            let s = settings(&a.schema, &dest, env)?;
            let report = vendor::restore(&s, a.name.as_deref(), &dest).map_err(pattern_failure)?;
            print_report(&report);
            printer::info(&format!(
                "restored {} in {}",
                a.name.as_deref().unwrap_or("all patterns"),
                dest.display()
            ));
            Ok(())
        }
        PatternCommand::Schema(a) => {
            let dest = dest_dir(&a.dest)?;
            if !schema::is_instance(&dest) {
                printer::info(&format!(
                    "{} is not an IOC instance: no values.yaml / compose.yml pinning an image, so there is no schema to generate",
                    dest.display()
                ));
                return Ok(());
            }
            let s = schema_settings(&a.schema, &dest, env)?;
            let report = vendor::write_schema(&s, &dest).map_err(pattern_failure)?;
            print_report(&report);
            Ok(())
        }
    }
}
