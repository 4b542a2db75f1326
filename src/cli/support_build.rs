//! `iocforge support build` and `iocforge support apt-install-runtime-packages`.
//!
//! `build` replaces `ansible.sh MODULE` in generic IOC Dockerfiles: it finds
//! `MODULE/MODULE.install.yml`, plans the build (`build::plan`) and runs it,
//! one log line per step on stderr. `--dry-run` prints the plan on stdout.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Args;

use super::{printer, CmdResult, Failure};
use crate::build::apt::runtime_install_commands;
use crate::build::command::{ProcessRunner, Runner};
use crate::build::executor::{
    describe_plan, execute, ExecError, ExecOptions, Outcome, StepFailed, StepLog, TaskContext,
};
use crate::build::stamp::{hash_folder, Freshness, Stamp};
use crate::build::tasks::{load_plan_tasks, TaskEvent};
use crate::build::vars::Variables;
use crate::build::{
    load_install, locate_module, plan, resolve_install, Apt, BuildEnv, Downloader, InstallSpec,
    Step,
};
use crate::diag::EnvFailure;
use crate::env;
use crate::layout::EpicsLayout;

const BUILD_HELP: &str = "\
Examples:
  cd /epics/generic-source/ibek-support && iocforge support build asyn
  iocforge support build StreamDevice -v 2.8.24 --dry-run

The module's folder is looked for in the current directory, then in sibling
../ibek-support*/ checkouts. A second build of the same version and inputs
does nothing; --force builds again (an existing clone is kept, as
ibek-support keeps it: delete it to clone afresh).

Exit codes: 0 built or up to date; 1 invalid install.yml; a failing command's
own exit code; 2 for other failures.";

/// Arguments of `support build`.
#[derive(Debug, Args)]
// `-v/--version` is ibek-support's `ansible.sh -v VERSION`, so this
// subcommand has no --version flag of its own
#[command(after_long_help = BUILD_HELP, disable_version_flag = true)]
pub struct BuildArgs {
    /// The support module: a folder of the ibek-support checkout holding MODULE.install.yml
    module: String,
    /// Build this version (tag, branch or commit) instead of the install.yml's
    #[arg(
        short = 'v',
        long = "version",
        id = "module_version",
        value_name = "VERSION"
    )]
    version: Option<String>,
    /// Skip apt installs (runtime packages are still recorded)
    #[arg(long)]
    skip_apt: bool,
    /// Skip the `make clean` after the build
    #[arg(long)]
    skip_clean: bool,
    /// Build even when this version was built already
    #[arg(long)]
    force: bool,
    /// Print the plan on stdout and change nothing
    #[arg(long)]
    dry_run: bool,
    /// Skip Ansible task files (`tasks:`); they are still checked
    #[arg(long)]
    skip_tasks: bool,
    /// Copy every command's output to stderr as it runs
    #[arg(long)]
    verbose: bool,
    /// Root of the EPICS tree; every /epics path of ibek-support is under it
    #[arg(long, env = env::EPICS_ROOT, default_value = env::DEFAULT_EPICS_ROOT)]
    epics_root: PathBuf,
}

/// Arguments of `support apt-install-runtime-packages`.
#[derive(Debug, Args)]
pub struct AptInstallArgs {
    /// Print the commands on stdout instead of running them
    #[arg(long)]
    dry_run: bool,
    /// Keep /var/lib/apt/lists (ibek empties it to keep the image small)
    #[arg(long)]
    keep_apt_lists: bool,
    /// Root of the EPICS tree (the list is `support/configure/runtime_debs` under it)
    #[arg(long, env = env::EPICS_ROOT, default_value = env::DEFAULT_EPICS_ROOT)]
    epics_root: PathBuf,
}

/// Prints one stderr line per step: `[asyn] build      cd ... && make -j4  (12.30s)`.
struct StderrLog<'a> {
    module: &'a str,
}

fn seconds(d: Duration) -> String {
    format!("{:.2}s", d.as_secs_f64())
}

impl StepLog for StderrLog<'_> {
    fn finished(&mut self, step: &Step, outcome: &Outcome, elapsed: Duration) {
        let status = match outcome {
            Outcome::Done(None) => seconds(elapsed),
            Outcome::Done(Some(detail)) => format!("{}: {detail}", seconds(elapsed)),
            Outcome::Skipped(why) => format!("skipped: {why}"),
            Outcome::Ignored(out) => format!(
                "failed with status {}, ignored, {}",
                out.code.map_or_else(|| "?".to_string(), |c| c.to_string()),
                seconds(elapsed)
            ),
        };
        printer::info(&format!("[{}] {step}  ({status})", self.module));
    }

    fn started(&mut self, step: &Step) {
        if let crate::build::step::Action::AnsibleTask {
            file,
            skipped_by: None,
        } = &step.action
        {
            printer::info(&format!(
                "[{}] {:<10} running the tasks of {}",
                self.module,
                step.phase.name(),
                file.display()
            ));
        }
    }

    fn task(&mut self, event: &TaskEvent) {
        printer::info(&format!(
            "[{}]            task `{}` ({})  ({})",
            self.module, event.name, event.location, event.status
        ));
    }

    fn failed(&mut self, step: &Step, elapsed: Duration) {
        printer::info(&format!(
            "[{}] {step}  (FAILED after {})",
            self.module,
            seconds(elapsed)
        ));
    }
}

fn step_failure(f: &StepFailed) -> Failure {
    let mut failure = EnvFailure::new(f.to_string());
    let tail = f.source.tail();
    if !tail.is_empty() {
        failure = failure.with_note(printer::output_tail(tail));
    }
    if let Some(dir) = &f.removed_clone {
        failure = failure.with_note(format!(
            "removed the fresh clone `{}`, so the next build starts again from git",
            dir.display()
        ));
    }
    if let ExecError::Spawn { source, .. } = &f.source {
        failure = failure.with_hint(format!("install `{}` or put it on PATH", source.program));
    }
    Failure::Exit(f.source.exit_code(), failure)
}

fn cwd() -> Result<PathBuf, Failure> {
    std::env::current_dir()
        .map_err(|e| Failure::env(format!("cannot read the current directory: {e}")))
}

/// The repository to clone, with what git's `insteadOf` rewrites it to.
fn describe_source(git_repo: &str) -> String {
    match crate::build::git::resolved_url(git_repo) {
        Some(url) if url != git_repo => format!("{git_repo} (git resolves it to {url})"),
        _ => git_repo.to_string(),
    }
}

/// True when the stamp shows this version already built (and no --force); an error
/// when the clone holds another version, which ibek-support would keep.
fn nothing_to_build(
    args: &BuildArgs,
    spec: &InstallSpec,
    freshness: &Freshness,
    stamp_path: &Path,
) -> Result<bool, Failure> {
    if let Freshness::OtherVersion { held } = freshness {
        return Err(Failure::env_hint(
            format!(
                "`{}` holds `{}` version {held}, not {}",
                spec.local_path.display(),
                args.module,
                spec.version,
            ),
            format!(
                "delete `{}` to clone {}, as ibek-support keeps an existing clone",
                spec.local_path.display(),
                spec.version
            ),
        ));
    }
    if *freshness == Freshness::UpToDate && !args.force {
        printer::info(&format!(
            "[{}] {} is up to date (stamp `{}`); use --force to build again",
            args.module,
            spec.version,
            stamp_path.display()
        ));
        return Ok(true);
    }
    Ok(false)
}

/// Runs `support build`.
pub fn run(args: BuildArgs, layout: &EpicsLayout) -> CmdResult {
    let started = Instant::now();
    let folder = locate_module(&args.module, &cwd()?).map_err(|e| {
        Failure::env_hint(
            e.to_string(),
            "run in the ibek-support checkout, which has a folder per module",
        )
    })?;
    let file = load_install(&folder.join(format!("{}.install.yml", args.module)))?;
    if !file.warnings.is_empty() {
        printer::diagnostics(&file.warnings);
    }
    let build_layout = EpicsLayout::new(&args.epics_root, layout.env().clone());
    let mut env = BuildEnv::detect(&build_layout, &folder);
    env.skip_apt = args.skip_apt;
    env.skip_clean = args.skip_clean;
    let spec = resolve_install(&file, &env, args.version.as_deref())?;
    let steps = plan(&spec, &env);
    // every task file is checked before the first step runs
    let tasks = TaskContext {
        files: load_plan_tasks(&steps)?,
        vars: Variables::for_install(&file, &env, args.version.as_deref()),
        downloader: env.downloader,
    };
    let source = describe_source(&spec.git_repo);

    let stamp_path = Stamp::path(&env.configure(), &args.module);
    let stamp = Stamp {
        module: args.module.clone(),
        version: spec.version.clone(),
        inputs: hash_folder(&folder)
            .map_err(|e| Failure::env(format!("cannot read `{}`: {e}", folder.display())))?,
    };
    let freshness = stamp.freshness(Stamp::read(&stamp_path).as_ref(), spec.local_path.exists());
    let up_to_date = freshness == Freshness::UpToDate;

    // rendering every task (as --dry-run does) finds an undefined variable
    // in a task file before the first step runs
    let listing =
        describe_plan(&steps, Some(&tasks)).map_err(|e| Failure::exit(1, e.to_string()))?;
    if args.dry_run {
        printer::info(&format!("[{}] {} from {source}", args.module, spec.version));
        printer::data(&listing);
        if up_to_date && !args.force {
            printer::info(&format!(
                "note: `{}` {} is up to date: a build would do nothing without --force",
                args.module, spec.version
            ));
        }
        return Ok(());
    }
    if nothing_to_build(&args, &spec, &freshness, &stamp_path)? {
        return Ok(());
    }
    printer::info(&format!(
        "[{}] building {} from {source} in {}",
        args.module,
        spec.version,
        spec.local_path.display()
    ));
    let mut runner = ProcessRunner {
        verbose: args.verbose,
        ..ProcessRunner::default()
    };
    let mut log = StderrLog {
        module: &args.module,
    };
    let options = ExecOptions {
        skip_tasks: args.skip_tasks,
        tasks: Some(tasks),
    };
    execute(&steps, &mut runner, &mut log, &options).map_err(|f| step_failure(&f))?;
    stamp
        .write(&stamp_path)
        .map_err(|e| Failure::env(format!("cannot write `{}`: {e}", stamp_path.display())))?;
    printer::info(&format!(
        "[{}] built {} in {}",
        args.module,
        spec.version,
        seconds(started.elapsed())
    ));
    Ok(())
}

/// Runs `support apt-install-runtime-packages`: installs the packages
/// recorded by support builds, as ibek does.
pub fn run_apt_install(args: AptInstallArgs, layout: &EpicsLayout) -> CmdResult {
    let env = BuildEnv::new(&args.epics_root, Path::new(""));
    let list = env.runtime_debs();
    if !list.exists() {
        printer::info(&format!(
            "no runtime packages recorded in `{}`",
            list.display()
        ));
        return Ok(());
    }
    let recorded = fs_err::read_to_string(&list).map_err(|e| Failure::env(e.to_string()))?;
    let commands = runtime_install_commands(
        &recorded,
        &Apt::detect(layout.env()),
        Downloader::detect(layout.env()),
        &std::env::temp_dir(),
        args.keep_apt_lists,
    );
    if commands.is_empty() {
        printer::info("no packages to install");
        return Ok(());
    }
    if args.dry_run {
        let mut out = String::new();
        for c in &commands {
            let _ = writeln!(out, "{c}");
        }
        printer::data(&out);
        return Ok(());
    }
    printer::info(&format!(
        "installing packages: {}",
        recorded.split_whitespace().collect::<Vec<_>>().join(" ")
    ));
    // the output goes to the container build log as it comes
    let mut runner = ProcessRunner {
        verbose: true,
        ..ProcessRunner::default()
    };
    for c in &commands {
        printer::info(&format!("+ {c}"));
        let out = runner.run(c).map_err(|e| {
            Failure::env_hint(format!("{e}: {}", e.source), "install it or put it on PATH")
        })?;
        if !out.success {
            let code = out
                .code
                .and_then(|c| u8::try_from(c).ok())
                .filter(|c| *c != 0);
            return Err(Failure::exit(
                code.unwrap_or(2),
                format!("`{c}` failed with status {}", code.map_or(-1, i32::from)),
            ));
        }
    }
    Ok(())
}
