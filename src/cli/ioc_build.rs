//! `iocforge ioc build`, `extract-runtime-assets`, `dockerfile`,
//! `build-image` and `generate-manifest-schema`: the image side of a
//! generic IOC.
//!
//! `build` and `extract-runtime-assets` run inside the image build (the
//! developer and `runtime_prep` stages); `dockerfile` and `build-image` run on
//! the developer's machine or in CI, from `ioc.manifest.yaml`.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Args;

use super::{printer, write_schema, CmdResult, Failure};
use crate::build::assets::{elf_files, extract, AssetEvent, ExtractOptions};
use crate::build::command::{find_program, CommandSpec, ProcessRunner};
use crate::build::context::{context_entries, write_context_tar, DockerIgnore};
use crate::build::docker::{DockerEngine, DockerError};
use crate::build::dockerfile::{context_sources, dockerfile, STAGES};
use crate::build::image::{run_build, BuildFailure, BuildRequest, Notice};
use crate::build::ioc_build::{
    build_launcher, instantiate_skeleton, make_commands, mode, open_permissions, run_make,
    IocBuildError, IocEnv, MakeError, Mode,
};
use crate::build::ioc_defs::{install_epics_defs, ioc_schema_text, link_global_defs, DefsError};
use crate::build::manifest::{load_manifest, manifest_schema, MANIFEST_FILE};
use crate::diag::EnvFailure;
use crate::env;
use crate::layout::EpicsLayout;
use crate::schema::to_pretty;

/// The name of the generated Dockerfile inside the context archive.
const DOCKERFILE_IN_CONTEXT: &str = ".iocforge.Dockerfile";

/// Arguments of `ioc extract-runtime-assets`.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Examples:
  iocforge ioc extract-runtime-assets /assets /python
  iocforge ioc extract-runtime-assets /tmp/assets --source /epics --dry-run

Moved, as ibek 4.8.2 moves them: support/configure, pvi-defs, ibek-defs, the
IOC folder (and the folder of its source when it is a link), /venv and
autosave (unless --no-defaults); then EXTRAS and every line of
support/configure/runtime_files_list; then bin, db, lib, */protocol and */Db
of every folder with a bin, lib or db one or two levels below the source.
ELF files of bin, lib and db folders are stripped when `strip` is installed.
This is destructive: run it in a throw-away stage (runtime_prep).

Exit codes: 0 done; 2 a file could not be moved.")]
pub struct ExtractArgs {
    /// The root folder to extract assets into
    destination: PathBuf,
    /// Further files or folders to move whole
    extras: Vec<PathBuf>,
    /// The root folder to extract assets from
    #[arg(long, default_value = "/epics")]
    source: PathBuf,
    /// Move the default assets (the default)
    #[arg(long, overrides_with = "no_defaults")]
    defaults: bool,
    /// Move only EXTRAS, runtime files and module outputs
    #[arg(long = "no-defaults", overrides_with = "defaults")]
    no_defaults: bool,
    /// Print what would be moved on stdout and change nothing
    #[arg(long)]
    dry_run: bool,
    /// Root of the EPICS tree; the default assets are under it
    #[arg(long, env = env::EPICS_ROOT, default_value = env::DEFAULT_EPICS_ROOT)]
    epics_root: PathBuf,
}

/// Arguments of `ioc build`.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Examples:
  iocforge ioc build
  iocforge ioc build --global-defs /epics/generic-source/ibek-support/_ansible

Writes $EPICS_ROOT/ibek-defs/ioc.schema.json from the definitions there, puts
iocforge's generic IOC skeleton in the IOC folder unless it has a Makefile,
then builds it: with `make` when EPICS base has a build system
($EPICS_BASE/configure/CONFIG), or, on a prebuilt base, as a launcher of
base's softIoc (bin/$EPICS_HOST_ARCH/ioc) with an expanded dbd/ioc.dbd, which
needs an empty lib_list.

Exit codes: 0 built; 1 invalid definitions; a failing make's own code; 2 for
other failures.")]
pub struct IocBuildArgs {
    /// Link the *.ibek.support.yaml of this folder into ibek-defs first (ibek-support's _ansible)
    #[arg(long, value_name = "DIR")]
    global_defs: Option<PathBuf>,
    /// Skip the `make clean` after the build
    #[arg(long)]
    skip_clean: bool,
    /// Copy make's output to stderr as it runs
    #[arg(long)]
    verbose: bool,
    /// Root of the EPICS tree
    #[arg(long, env = env::EPICS_ROOT, default_value = env::DEFAULT_EPICS_ROOT)]
    epics_root: PathBuf,
    #[arg(long, env = env::IOC, help = "The IOC folder [default: $EPICS_ROOT/ioc]")]
    ioc: Option<PathBuf>,
    #[arg(long, env = env::EPICS_BASE, help = "EPICS base [default: $EPICS_ROOT/epics-base]")]
    epics_base: Option<PathBuf>,
    /// Host architecture of the build
    #[arg(long, env = env::EPICS_HOST_ARCH, default_value = "linux-x86_64")]
    host_arch: String,
}

/// Arguments of `ioc dockerfile`.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Examples:
  iocforge ioc dockerfile > Dockerfile
  iocforge ioc dockerfile services/ioc.manifest.yaml --output Dockerfile

Exit codes: 0 written; 1 invalid manifest; 2 unreadable manifest or unwritable output.")]
pub struct DockerfileArgs {
    /// The generic IOC manifest
    #[arg(default_value = MANIFEST_FILE)]
    manifest: PathBuf,
    /// Write the Dockerfile to this file [default: stdout]
    #[arg(short, long)]
    output: Option<PathBuf>,
}

/// Arguments of `ioc build-image`.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Examples:
  iocforge ioc build-image --tag ghcr.io/me/ioc-counter:1.0
  iocforge ioc build-image ioc.manifest.yaml --target developer --network host
  iocforge ioc build-image --dockerfile Dockerfile.base --context ctx --build-arg BASE_IMAGE=debian:bookworm

The daemon is the one of DOCKER_HOST, else /var/run/docker.sock. The build
context is the manifest's folder (or --context) less what .dockerignore
excludes; the generated Dockerfile is sent inside it, never written to the
folder (--save-dockerfile writes a copy). The image ID is printed on stdout.
Progress goes to stderr, as a spinner on a terminal and as step lines
otherwise (IOCFORGE_NO_PROGRESS=1 forces lines).

Exit codes: 0 built; 1 invalid manifest, or a build step failed (the step
and the end of its output are printed); 2 the daemon is unreachable, or I/O.")]
pub struct BuildImageArgs {
    /// The generic IOC manifest [default: ioc.manifest.yaml]
    manifest: Option<PathBuf>,
    /// Build this Dockerfile instead of the manifest's
    #[arg(long, value_name = "FILE", conflicts_with = "manifest")]
    dockerfile: Option<PathBuf>,
    /// The build context [default: the manifest's folder, or the current one]
    #[arg(long, value_name = "DIR")]
    context: Option<PathBuf>,
    #[arg(
        long,
        value_name = "STAGE",
        help = "Stop at this stage (developer, runtime_prep or runtime for a manifest)"
    )]
    target: Option<String>,
    /// Tag the image (repeatable) [default: the manifest's `image`]
    #[arg(short, long = "tag", value_name = "TAG")]
    tags: Vec<String>,
    /// A build argument (repeatable)
    #[arg(long = "build-arg", value_name = "KEY=VALUE", value_parser = parse_build_arg)]
    build_args: Vec<(String, String)>,
    /// Network mode of RUN steps (e.g. host)
    #[arg(long, value_name = "MODE")]
    network: Option<String>,
    /// Build without the cache
    #[arg(long)]
    no_cache: bool,
    /// Also write the generated Dockerfile to this file
    #[arg(long, value_name = "FILE")]
    save_dockerfile: Option<PathBuf>,
    /// Print every line of build output
    #[arg(long)]
    verbose: bool,
}

/// Arguments of `ioc generate-manifest-schema`.
#[derive(Debug, Args)]
pub struct ManifestSchemaArgs {
    /// The file to write the schema to [default: stdout]
    #[arg(long)]
    output: Option<PathBuf>,
}

fn parse_build_arg(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("`{text}` is not KEY=VALUE")),
    }
}

fn env_failure(e: &dyn std::error::Error) -> Failure {
    Failure::Env(EnvFailure::from_error(e))
}

/// Runs `ioc extract-runtime-assets`.
pub fn run_extract(a: &ExtractArgs, layout: &EpicsLayout) -> CmdResult {
    let opts = ExtractOptions {
        source: a.source.clone(),
        destination: a.destination.clone(),
        epics_root: a.epics_root.components().collect(),
        extras: a.extras.clone(),
        defaults: !a.no_defaults,
    };
    let strip = find_program("strip", layout.env());
    let mut listing = String::new();
    let mut log = |e: AssetEvent| match e {
        AssetEvent::Missing(p) => {
            printer::warning(&format!("runtime asset `{}` missing", p.display()));
        }
        AssetEvent::Move { src, dest } if a.dry_run => {
            let _ = writeln!(listing, "{} -> {}", src.display(), dest.display());
        }
        AssetEvent::Move { src, dest } => {
            printer::info(&format!("moving {} to {}", src.display(), dest.display()));
        }
        AssetEvent::Link { src, dest } => {
            printer::info(&format!(
                "copying the link {} to {}",
                src.display(),
                dest.display()
            ));
        }
    };
    let mut strip_folder = |dir: &Path| {
        let Some(strip) = &strip else { return };
        let files = elf_files(dir);
        if files.is_empty() {
            return;
        }
        // like ibek, a file strip refuses is left as it is
        let _ = std::process::Command::new(strip)
            .args(&files)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    };
    extract(&opts, a.dry_run, &mut log, &mut strip_folder).map_err(|e| env_failure(&e))?;
    if a.dry_run {
        printer::data(&listing);
    }
    Ok(())
}

fn defs_failure(e: DefsError) -> Failure {
    match e {
        DefsError::Invalid(d) => Failure::Invalid(d),
        e @ DefsError::NoDefinitions { .. } => Failure::Exit(
            1,
            EnvFailure::new(e.to_string()).with_hint(
                "build a support module first, or pass --global-defs with ibek-support's _ansible folder",
            ),
        ),
        e @ DefsError::Io { .. } => Failure::env(e.to_string()),
    }
}

/// The definitions step of `ioc build`: global definitions linked, the
/// epics definitions installed, the IOC schema written.
fn prepare_definitions(global_defs: Option<&Path>, ibek_defs: &Path) -> CmdResult {
    if let Some(dir) = global_defs {
        for link in link_global_defs(dir, ibek_defs).map_err(defs_failure)? {
            printer::info(&format!("[ioc] linked {}", link.display()));
        }
    }
    if let Some(target) = install_epics_defs(ibek_defs).map_err(defs_failure)? {
        printer::info(&format!(
            "[ioc] installed iocforge's epics definitions as {}",
            target.display()
        ));
    }
    let (schema, count) = ioc_schema_text(ibek_defs).map_err(defs_failure)?;
    let output = ibek_defs.join("ioc.schema.json");
    write_schema(&schema, Some(&output))?;
    printer::info(&format!(
        "[ioc] wrote {} from {count} definition files",
        output.display(),
    ));
    Ok(())
}

fn ioc_build_failure(e: &IocBuildError) -> Failure {
    match e {
        IocBuildError::NeedsCompiler { .. } => Failure::env_hint(
            e.to_string(),
            "use a developer image whose EPICS base was built from source \
             (Dockerfile.base with an EPICS base source tree or EPICS_BASE_GIT), \
             or build only db-only support modules",
        ),
        IocBuildError::NoSoftIoc { .. } => Failure::env_hint(
            e.to_string(),
            "a prebuilt EPICS base needs bin/$EPICS_HOST_ARCH/softIoc and dbd/softIoc.dbd",
        ),
        _ => env_failure(e),
    }
}

fn make(commands: &[CommandSpec], verbose: bool) -> CmdResult {
    let mut runner = ProcessRunner {
        verbose,
        ..ProcessRunner::default()
    };
    let mut done = |c: &CommandSpec, took: Duration| {
        printer::info(&format!("[ioc] {c}  ({:.2}s)", took.as_secs_f64()));
    };
    run_make(&mut runner, commands, &mut done).map_err(|e| match e {
        MakeError::Spawn { .. } => Failure::env_hint(e.to_string(), "install make"),
        MakeError::Failed { code, ref tail, .. } => {
            let mut failure = EnvFailure::new(e.to_string());
            if !tail.is_empty() {
                failure = failure.with_note(printer::output_tail(tail));
            }
            let code = code
                .and_then(|c| u8::try_from(c).ok())
                .filter(|c| *c != 0)
                .unwrap_or(2);
            Failure::Exit(code, failure)
        }
    })
}

/// Runs `ioc build`.
pub fn run_ioc_build(a: &IocBuildArgs, layout: &EpicsLayout) -> CmdResult {
    let build_layout = EpicsLayout::new(&a.epics_root, layout.env().clone());
    let mut ioc_env = IocEnv::from_layout(&build_layout);
    if let Some(ioc) = &a.ioc {
        ioc_env.ioc.clone_from(ioc);
    }
    if let Some(base) = &a.epics_base {
        ioc_env.epics_base.clone_from(base);
    }
    ioc_env.host_arch.clone_from(&a.host_arch);
    prepare_definitions(a.global_defs.as_deref(), &build_layout.ibek_defs())?;
    if instantiate_skeleton(&ioc_env).map_err(|e| ioc_build_failure(&e))? {
        printer::info(&format!(
            "[ioc] wrote the generic IOC skeleton into {}",
            ioc_env.ioc.display()
        ));
    }
    match mode(&ioc_env) {
        Mode::Make => make(&make_commands(&ioc_env, a.skip_clean), a.verbose)?,
        Mode::Launcher => {
            let built = build_launcher(&ioc_env).map_err(|e| ioc_build_failure(&e))?;
            for (file, statement) in &built.needs_code {
                printer::warning(&format!(
                    "`{statement}` of `{file}` needs compiled code that softIoc does not have"
                ));
            }
            printer::info(&format!(
                "[ioc] EPICS base has no build system: {} runs softIoc with {}",
                built.binary.display(),
                built.dbd.display()
            ));
        }
    }
    open_permissions(&ioc_env).map_err(|e| ioc_build_failure(&e))?;
    printer::info(&format!("[ioc] built {}", ioc_env.binary().display()));
    Ok(())
}

/// Runs `ioc dockerfile`.
pub fn run_dockerfile(a: &DockerfileArgs) -> CmdResult {
    let m = load_manifest(&a.manifest)?;
    let text = dockerfile(&m, &manifest_name(&a.manifest));
    match &a.output {
        None => {
            printer::data(&text);
            Ok(())
        }
        Some(path) => fs_err::write(path, text).map_err(|e| env_failure(&e)),
    }
}

fn manifest_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Runs `ioc generate-manifest-schema`.
pub fn run_manifest_schema(a: &ManifestSchemaArgs) -> CmdResult {
    write_schema(&to_pretty(&manifest_schema()), a.output.as_deref())
}

/// The build's display: a spinner on a terminal, step lines otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    verbose: bool,
    step: String,
}

impl Progress {
    fn new(verbose: bool, no_progress: bool) -> Progress {
        let tty = std::io::stderr().is_terminal() && !no_progress;
        let bar = (tty && !verbose).then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
                    .expect("the template is valid"),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress {
            bar,
            verbose,
            step: String::new(),
        }
    }

    fn show(&mut self, notice: &Notice) {
        match notice {
            Notice::Step {
                index,
                total,
                instruction,
            } => {
                self.step = format!("[{index}/{total}] {instruction}");
                match &self.bar {
                    Some(bar) => {
                        bar.println(&self.step);
                        bar.set_message(self.step.clone());
                    }
                    None => printer::info(&self.step),
                }
            }
            Notice::Cached => match &self.bar {
                Some(bar) => bar.println("      (cached)"),
                None => printer::info("      (cached)"),
            },
            Notice::Line(line) => match &self.bar {
                Some(bar) => {
                    let mut short: String = line.chars().take(100).collect();
                    if short.len() < line.len() {
                        short.push('…');
                    }
                    bar.set_message(format!("{}\n      {short}", self.step));
                }
                None if self.verbose => printer::info(&format!("      {line}")),
                None => {}
            },
        }
    }

    fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn failure_message(f: &BuildFailure) -> String {
    let mut msg = match &f.step {
        Some(step) => format!("the image build failed at `{step}`: {}", f.message),
        None => format!("the image build failed: {}", f.message),
    };
    if !f.tail.is_empty() {
        let _ = write!(msg, "\n\nlast {} lines of its output:", f.tail.len());
        for line in &f.tail {
            let _ = write!(msg, "\n  | {line}");
        }
    }
    msg
}

/// What `build-image` sends: the Dockerfile, the context folder, default
/// tags, and the context paths the Dockerfile copies.
struct ImageSource {
    dockerfile: String,
    context: PathBuf,
    tags: Vec<String>,
    sources: Vec<String>,
}

fn image_source(a: &BuildImageArgs) -> Result<ImageSource, Failure> {
    if let Some(file) = &a.dockerfile {
        return Ok(ImageSource {
            dockerfile: fs_err::read_to_string(file).map_err(|e| env_failure(&e))?,
            context: a.context.clone().unwrap_or_else(|| PathBuf::from(".")),
            tags: Vec::new(),
            sources: Vec::new(),
        });
    }
    let path = a
        .manifest
        .clone()
        .unwrap_or_else(|| PathBuf::from(MANIFEST_FILE));
    let m = load_manifest(&path)?;
    if let Some(t) = &a.target {
        if !STAGES.contains(&t.as_str()) {
            return Err(Failure::env_hint(
                format!("the generated Dockerfile has no stage `{t}`"),
                format!("use one of {}", STAGES.join(", ")),
            ));
        }
    }
    let context = a.context.clone().unwrap_or_else(|| {
        path.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    });
    Ok(ImageSource {
        dockerfile: dockerfile(&m, &manifest_name(&path)),
        context,
        sources: context_sources(&m),
        tags: m.image.into_iter().collect(),
    })
}

/// Runs `ioc build-image`.
pub fn run_build_image(a: &BuildImageArgs, layout: &EpicsLayout) -> CmdResult {
    let started = Instant::now();
    let ImageSource {
        dockerfile: text,
        context,
        tags: default_tags,
        sources,
    } = image_source(a)?;
    if let Some(path) = &a.save_dockerfile {
        fs_err::write(path, &text).map_err(|e| env_failure(&e))?;
    }
    let ignore = DockerIgnore::load(&context).map_err(|e| env_failure(&e))?;
    let entries = context_entries(&context, &ignore).map_err(|e| env_failure(&e))?;
    let missing: Vec<&String> = sources
        .iter()
        .filter(|s| {
            !entries
                .iter()
                .any(|e| e.name == **s || e.name.starts_with(&format!("{s}/")))
        })
        .collect();
    if !missing.is_empty() {
        return Err(Failure::exit(
            1,
            format!(
                "the manifest copies {} from the build context `{}`, which has no such path (or .dockerignore excludes it)",
                missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                context.display()
            ),
        ));
    }
    let archive = write_context_tar(
        Vec::new(),
        &entries,
        &[(DOCKERFILE_IN_CONTEXT.to_string(), text.into_bytes())],
    )
    .map_err(|e| env_failure(&e))?;
    printer::info(&format!(
        "sending a build context of {} files ({:.1} MB) from {}",
        entries.len(),
        archive.len() as f64 / 1e6,
        context.display()
    ));
    let request = BuildRequest {
        dockerfile: DOCKERFILE_IN_CONTEXT.into(),
        target: a.target.clone(),
        tags: if a.tags.is_empty() {
            default_tags
        } else {
            a.tags.clone()
        },
        build_args: a.build_args.clone(),
        network: a.network.clone(),
        no_cache: a.no_cache,
    };
    let engine = DockerEngine::from_env(layout.env());
    let mut progress = Progress::new(
        a.verbose,
        layout.env().non_empty(env::IOCFORGE_NO_PROGRESS).is_some(),
    );
    let result = run_build(&engine, &request, archive, 30, &mut |n| progress.show(n));
    progress.done();
    let report = result.map_err(|e| match &e {
        DockerError::Unreachable { .. } => Failure::env_hint(
            e.to_string(),
            "start dockerd (`.ci/setup` does), or set DOCKER_HOST",
        ),
        _ => env_failure(&e),
    })?;
    if let Some(failure) = &report.failure {
        return Err(Failure::exit(1, failure_message(failure)));
    }
    let id = report.image_id.unwrap_or_default();
    printer::info(&format!(
        "built {} in {:.1}s ({} steps, {} from the cache){}",
        id,
        started.elapsed().as_secs_f64(),
        report.steps,
        report.cached,
        if request.tags.is_empty() {
            String::new()
        } else {
            format!(", tagged {}", request.tags.join(", "))
        }
    ));
    printer::data(&format!("{id}\n"));
    Ok(())
}
