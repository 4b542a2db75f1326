//! `iocforge runtime ...`: ibek's runtime commands.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use super::{printer, CmdResult, Failure};
use crate::layout::{Environment, EpicsLayout};
use crate::model::discover::runtime_definitions;
use crate::output::write_folder;
use crate::runtime::generate::{config_instances, generate_ioc, write_pvi, PviPlaced};

/// The `runtime` subcommands.
#[derive(Debug, Subcommand)]
pub enum RuntimeCommand {
    /// Generate st.cmd and ioc.subst from one instance file (ibek's LEGACY `generate`)
    #[command(
        after_long_help = "Example:\n  iocforge runtime generate config/ioc.yaml /epics/ibek-defs/*.ibek.support.yaml -o /epics/runtime"
    )]
    Generate(GenerateArgs),
    /// Generate st.cmd and ioc.subst from ioc.yaml plus runtime.yaml
    ///
    /// Instance files are the `-i` files followed by `CONFIG_FOLDER/ioc.yaml` and
    /// `CONFIG_FOLDER/runtime.yaml` where they exist. Without --definitions, all
    /// *ibek.support.yaml under $EPICS_ROOT/ibek-defs and `CONFIG_FOLDER` are used.
    #[command(after_long_help = "Example:\n  iocforge runtime generate2 /epics/ioc/config")]
    Generate2(Generate2Args),
    /// Start the IOC: generate its boot files, expand ioc.db, then exec the IOC
    ///
    /// The container entrypoint, in place of the generic IOC start.sh: reads
    /// $SUPPORT/configure/RELEASE.shell; hands over to $IOC/config/start.sh if it
    /// exists; copies hand-written st.cmd/ioc.subst/ioc.db; generates from
    /// $IOC/config/ioc.yaml (+ runtime.yaml); expands ioc.db natively; writes the
    /// autosave request files; copies protocol files; places the config folder's
    /// *.proto/*.protocol/*.db/*.template; waits for the devices of wait_list.yaml;
    /// then execs the IOC with $RUNTIME_DIR/st.cmd. Each step logs one line with
    /// its duration; a failure names the step, pauses, and exits 1.
    #[command(
        after_long_help = "Environment: EPICS_ROOT (/epics), IOC ($EPICS_ROOT/ioc), RUNTIME_DIR ($EPICS_ROOT/runtime),\n\
        SUPPORT ($EPICS_ROOT/support), EPICS_HOST_ARCH (linux-x86_64), IBEK_DO_WAIT_DISABLE,\n\
        IOCFORGE_IOC_COMMAND, IOCFORGE_FAILURE_PAUSE.\n\n\
        Example (a db-only IOC on EPICS base's softIoc):\n  \
        IOCFORGE_IOC_COMMAND=\"softIoc -S -D /epics/epics-base/dbd/softIoc.dbd\" iocforge runtime start"
    )]
    Start(StartArgs),
    /// Copy the config folder's protocol and database files to the runtime folder
    ///
    /// *.proto and *.protocol go to $EPICS_ROOT/runtime/protocol, *.db and
    /// *.template to $EPICS_ROOT/runtime/db.
    PlaceFiles(PlaceFilesArgs),
    /// Generate autosave request files from the substitution file
    ///
    /// Links every *.req of $EPICS_ROOT/support and $EPICS_ROOT/ioc/config into
    /// $EPICS_ROOT/autosave (config files override), then writes
    /// autosave_settings.req and autosave_positions.req (and their .subst) to
    /// $EPICS_ROOT/runtime for the templates that have X_settings.req /
    /// X_positions.req.
    GenerateAutosave(GenerateAutosaveArgs),
}

/// Arguments of `runtime start`.
#[derive(Debug, Args)]
pub struct StartArgs {
    /// The IOC command, without the st.cmd argument [default: $IOC/bin/$EPICS_HOST_ARCH/ioc]
    #[arg(long, env = crate::env::IOCFORGE_IOC_COMMAND)]
    ioc_command: Option<String>,
    /// Seconds to pause after a failure before exiting, to avoid restart storms
    #[arg(long, env = crate::env::IOCFORGE_FAILURE_PAUSE, default_value_t = 10.0)]
    failure_pause: f64,
    /// Write no PVI templates, screens or ioc.subst rows
    #[arg(long = "no-pvi")]
    no_pvi: bool,
}

/// Arguments of `runtime place-files`.
#[derive(Debug, Args)]
pub struct PlaceFilesArgs {
    /// The IOC instance config folder
    config_folder: PathBuf,
}

/// Arguments of `runtime generate-autosave`.
#[derive(Debug, Args)]
pub struct GenerateAutosaveArgs {
    /// The substitution file [default: $EPICS_ROOT/runtime/ioc.subst]
    subst_file: Option<PathBuf>,
}

/// The `--pvi/--no-pvi` pair.
#[derive(Debug, Args)]
pub struct PviFlags {
    /// Write PVI templates to $EPICS_ROOT/runtime and screens to $EPICS_ROOT/opi, with their ioc.subst rows (the default)
    #[arg(long, overrides_with = "no_pvi")]
    pvi: bool,
    /// Write no PVI templates, screens or rows
    #[arg(long = "no-pvi", overrides_with = "pvi")]
    no_pvi: bool,
}

impl PviFlags {
    fn enabled(&self) -> bool {
        // the flags override each other, so at most one is set: the last given wins
        !self.no_pvi
    }
}

/// Arguments of `runtime generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The IOC instance entity file
    instance: PathBuf,
    /// Support module definition files (*.ibek.support.yaml)
    #[arg(required = true)]
    definitions: Vec<PathBuf>,
    /// The folder to write st.cmd and ioc.subst to [default: $EPICS_ROOT/runtime]
    #[arg(short, long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    pvi: PviFlags,
    /// Do not expand ioc.subst into ioc.db
    #[arg(long)]
    no_db: bool,
}

/// Arguments of `runtime generate2`.
#[derive(Debug, Args)]
pub struct Generate2Args {
    /// The IOC instance config folder (holding ioc.yaml and/or runtime.yaml)
    config_folder: Option<PathBuf>,
    /// Additional IOC instance entity files
    #[arg(short = 'i', long = "instance")]
    instances: Vec<PathBuf>,
    /// Support module definition files (default: all under $EPICS_ROOT/ibek-defs and the config folder)
    #[arg(long)]
    definitions: Vec<PathBuf>,
    /// The folder to write st.cmd and ioc.subst to [default: $EPICS_ROOT/runtime]
    #[arg(short, long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    pvi: PviFlags,
    /// Do not expand ioc.subst into ioc.db
    #[arg(long)]
    no_db: bool,
}

/// Runs a `runtime` subcommand.
pub fn run(cmd: RuntimeCommand, layout: &EpicsLayout) -> CmdResult {
    match cmd {
        RuntimeCommand::Generate(a) => {
            let output = a.output.unwrap_or_else(|| layout.ibek_runtime());
            let config = a
                .instance
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            run_generate(
                layout,
                &[a.instance],
                &a.definitions,
                &output,
                a.pvi.enabled(),
                (!a.no_db).then_some(config),
            )
        }
        RuntimeCommand::Generate2(a) => {
            let output = a.output.clone().unwrap_or_else(|| layout.ibek_runtime());
            let (instances, definitions) = generate2_inputs(&a, layout)?;
            let config = a
                .config_folder
                .clone()
                .or_else(|| instances[0].parent().map(Path::to_path_buf))
                .unwrap_or_default();
            run_generate(
                layout,
                &instances,
                &definitions,
                &output,
                a.pvi.enabled(),
                (!a.no_db).then_some(config),
            )
        }
        RuntimeCommand::Start(a) => run_start(&a, layout),
        RuntimeCommand::PlaceFiles(a) => {
            if !a.config_folder.is_dir() {
                return Err(Failure::env(format!(
                    "invalid value for CONFIG_FOLDER: directory `{}` does not exist",
                    a.config_folder.display()
                )));
            }
            crate::runtime::place::place_files(&a.config_folder, &layout.ibek_runtime())
                .map(|_| ())
                .map_err(|e| Failure::env(format!("cannot place files: {e}")))
        }
        RuntimeCommand::GenerateAutosave(a) => run_generate_autosave(a.subst_file, layout),
    }
}

fn require_file(p: &Path, what: &str) -> Result<(), Failure> {
    if p.is_file() {
        Ok(())
    } else {
        Err(Failure::env(format!(
            "invalid value for {what}: file `{}` does not exist",
            p.display()
        )))
    }
}

/// ibek's `generate2` arguments checked, and its rules for finding instance
/// and definition files applied.
fn generate2_inputs(
    a: &Generate2Args,
    layout: &EpicsLayout,
) -> Result<(Vec<PathBuf>, Vec<PathBuf>), Failure> {
    if let Some(folder) = &a.config_folder {
        if !folder.is_dir() {
            return Err(Failure::env(format!(
                "invalid value for CONFIG_FOLDER: directory `{}` does not exist",
                folder.display()
            )));
        }
    }
    for i in &a.instances {
        require_file(i, "--instance")?;
    }
    for d in &a.definitions {
        require_file(d, "--definitions")?;
    }
    if a.instances.is_empty() && a.config_folder.is_none() {
        return Err(Failure::exit(
            1,
            "either instance folder or instance files must be provided",
        ));
    }
    let mut instances = a.instances.clone();
    if let Some(folder) = &a.config_folder {
        instances.extend(config_instances(folder));
    }
    if instances.is_empty() {
        return Err(Failure::exit(1, "no instance yaml files found"));
    }
    let mut definitions = a.definitions.clone();
    if definitions.is_empty() {
        definitions = runtime_definitions(layout, a.config_folder.as_deref());
    }
    Ok((instances, definitions))
}

fn run_generate(
    layout: &EpicsLayout,
    instances: &[PathBuf],
    definitions: &[PathBuf],
    output: &Path,
    pvi: bool,
    db_config: Option<PathBuf>,
) -> CmdResult {
    let mut generated = generate_ioc(layout, instances, definitions, pvi)?;
    let mut overlay = crate::runtime::dbexpand::Overlay::new(layout.env().clone());
    let mut pvi_runtime = Vec::new();
    if let Some(p) = generated.pvi_files.take() {
        let placed = write_pvi(layout, p, output, &mut generated.files, &mut overlay)
            .map_err(|(dir, e)| Failure::env(format!("cannot write `{}`: {e}", dir.display())))?;
        if let PviPlaced::Folder(dir) = placed {
            pvi_runtime.push(dir);
        }
    }
    if let Some(config) = db_config {
        // expanding ioc.db is iocforge's extra: in ibek's commands a failure only warns
        if let Some(subst) = generated.files.get("ioc.subst").map(str::to_string) {
            match crate::runtime::dbexpand::expand_ioc_db_with(
                layout,
                &config,
                output,
                &pvi_runtime,
                &subst,
                false,
                &mut overlay,
            ) {
                Ok(exp) => generated.files.insert("ioc.db", exp.text),
                Err(d) => printer::warning(&format!(
                    "ioc.db not written: {} (use --no-db to skip the expansion)",
                    d.message
                )),
            }
        }
    }
    write_folder(output, &generated.files)
        .map_err(|e| Failure::env(format!("cannot write `{}`: {e}", output.display())))
}

fn run_generate_autosave(subst: Option<PathBuf>, layout: &EpicsLayout) -> CmdResult {
    use crate::runtime::autosave::{request_files, AutosaveError};
    let runtime = layout.ibek_runtime();
    let subst = subst.unwrap_or_else(|| runtime.join("ioc.subst"));
    let text = fs_err::read_to_string(&subst)
        .map_err(|e| Failure::env(format!("cannot read `{}`: {e}", subst.display())))?;
    let files = request_files(layout, &text, &runtime).map_err(|e| match e {
        AutosaveError::Link(_) => Failure::env(e.to_string()),
        AutosaveError::Expand { .. } => Failure::exit(1, e.to_string()),
    })?;
    for (name, text) in files {
        let path = runtime.join(name);
        fs_err::create_dir_all(&runtime)
            .and_then(|()| fs_err::write(&path, text))
            .map_err(|e| Failure::env(e.to_string()))?;
    }
    Ok(())
}

fn run_start(a: &StartArgs, layout: &EpicsLayout) -> CmdResult {
    use crate::runtime::start::{run_steps, StartOutcome, StartSettings};
    let ioc_command = match &a.ioc_command {
        Some(cmd) => shell_words::split(cmd)
            .map_err(|e| Failure::env(format!("cannot parse the IOC command `{cmd}`: {e}")))?,
        None => vec![layout.ioc_binary().display().to_string()],
    };
    let settings = StartSettings {
        layout: layout.clone(),
        ioc_command,
        failure_pause: std::time::Duration::from_secs_f64(a.failure_pause.max(0.0)),
        do_wait: !layout.env().is_true(crate::env::IBEK_DO_WAIT_DISABLE),
        pvi: !a.no_pvi,
    };
    let started = std::time::Instant::now();
    let mut step = 0;
    let mut log = |name: &str, detail: &str, took: std::time::Duration| {
        step += 1;
        printer::info(&format!(
            "iocforge start [{step}] {name}: {detail} ({:.1} ms)",
            took.as_secs_f64() * 1000.0
        ));
    };
    match run_steps(&settings, &mut log) {
        Ok(StartOutcome::Exec { argv, cwd, env }) => {
            printer::info(&format!(
                "iocforge start: ready in {:.1} ms; exec {}",
                started.elapsed().as_secs_f64() * 1000.0,
                argv.iter()
                    .map(|a| a.to_string_lossy())
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
            let err = exec(&argv, &cwd, &env);
            printer::error(&format!(
                "runtime start failed in step `exec`: cannot run `{}`: {err}",
                argv[0].to_string_lossy()
            ));
            std::thread::sleep(settings.failure_pause);
            Err(Failure::exit(1, "the IOC did not start"))
        }
        Err(f) => {
            printer::error(&format!("runtime start failed in step `{}`", f.step));
            printer::diagnostics(&f.diags);
            if !settings.failure_pause.is_zero() {
                printer::info(&format!(
                    "pausing {:.0} s before exiting, to avoid a restart storm (IOCFORGE_FAILURE_PAUSE)",
                    settings.failure_pause.as_secs_f64()
                ));
                std::thread::sleep(settings.failure_pause);
            }
            Err(Failure::exit(
                1,
                format!("runtime start failed in step `{}`", f.step),
            ))
        }
    }
}

/// Replaces this process with `argv` in `env` (returns only on failure).
fn exec(argv: &[std::ffi::OsString], cwd: &Path, env: &Environment) -> std::io::Error {
    use std::os::unix::process::CommandExt;
    let mut cmd = std::process::Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .current_dir(cwd)
        .env_clear()
        .envs(env.iter());
    cmd.exec()
}
