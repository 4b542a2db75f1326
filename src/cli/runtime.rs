//! `iocforge runtime ...`: ibek's runtime commands.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use super::{printer, CmdResult, Failure};
use crate::output::write_folder;
use crate::runtime::generate::{generate, load_definitions, GenerateOptions};

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

/// Where `runtime` writes by default: `$EPICS_ROOT/runtime`.
pub fn default_runtime_dir() -> PathBuf {
    epics_root().join("runtime")
}

/// `$EPICS_ROOT`, `/epics/` when unset.
pub fn epics_root() -> PathBuf {
    PathBuf::from(
        std::env::var(crate::env::EPICS_ROOT)
            .unwrap_or_else(|_| crate::env::DEFAULT_EPICS_ROOT.into()),
    )
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
pub fn run(cmd: RuntimeCommand) -> CmdResult {
    match cmd {
        RuntimeCommand::Generate(a) => {
            let output = a.output.unwrap_or_else(default_runtime_dir);
            let config = a
                .instance
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            run_generate(
                &[a.instance],
                &a.definitions,
                &output,
                a.pvi.enabled(),
                (!a.no_db).then_some(config),
            )
        }
        RuntimeCommand::Generate2(a) => {
            let output = a.output.clone().unwrap_or_else(default_runtime_dir);
            let (instances, definitions) = generate2_inputs(&a)?;
            let config = a
                .config_folder
                .clone()
                .or_else(|| instances[0].parent().map(Path::to_path_buf))
                .unwrap_or_default();
            run_generate(
                &instances,
                &definitions,
                &output,
                a.pvi.enabled(),
                (!a.no_db).then_some(config),
            )
        }
        RuntimeCommand::Start(a) => run_start(&a),
        RuntimeCommand::PlaceFiles(a) => {
            if !a.config_folder.is_dir() {
                return Err(Failure::Env(format!(
                    "invalid value for CONFIG_FOLDER: directory `{}` does not exist",
                    a.config_folder.display()
                )));
            }
            crate::runtime::place::place_files(&a.config_folder, &default_runtime_dir())
                .map(|_| ())
                .map_err(|e| Failure::Env(format!("cannot place files: {e}")))
        }
        RuntimeCommand::GenerateAutosave(a) => run_generate_autosave(a.subst_file),
    }
}

fn require_file(p: &Path, what: &str) -> Result<(), Failure> {
    if p.is_file() {
        Ok(())
    } else {
        Err(Failure::Env(format!(
            "invalid value for {what}: file `{}` does not exist",
            p.display()
        )))
    }
}

/// ibek's `generate2` rules for finding instance and definition files.
fn generate2_inputs(a: &Generate2Args) -> Result<(Vec<PathBuf>, Vec<PathBuf>), Failure> {
    if let Some(folder) = &a.config_folder {
        if !folder.is_dir() {
            return Err(Failure::Env(format!(
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
        return Err(Failure::Exit(
            1,
            "either instance folder or instance files must be provided".into(),
        ));
    }
    let mut instances = a.instances.clone();
    if let Some(folder) = &a.config_folder {
        for name in ["ioc.yaml", "runtime.yaml"] {
            let p = folder.join(name);
            if p.exists() {
                instances.push(p);
            }
        }
    }
    if instances.is_empty() {
        return Err(Failure::Exit(1, "no instance yaml files found".into()));
    }
    let mut definitions = a.definitions.clone();
    if definitions.is_empty() {
        definitions.extend(find_definitions(
            &epics_root().join("ibek-defs"),
            "ibek.support.yaml",
        ));
        if let Some(folder) = &a.config_folder {
            definitions.extend(find_definitions(folder, ".ibek.support.yaml"));
        }
    }
    Ok((instances, definitions))
}

/// All files under `dir` (recursively, following links) whose name ends with `suffix`, sorted.
pub fn find_definitions(dir: &Path, suffix: &str) -> Vec<PathBuf> {
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

/// `$SUPPORT`, `$EPICS_ROOT/support` when unset.
pub fn support_dir() -> PathBuf {
    std::env::var_os(crate::env::SUPPORT)
        .map_or_else(|| epics_root().join("support"), PathBuf::from)
}

fn run_generate(
    instances: &[PathBuf],
    definitions: &[PathBuf],
    output: &Path,
    pvi: bool,
    db_config: Option<PathBuf>,
) -> CmdResult {
    let modules = load_definitions(definitions)?;
    let root = epics_root();
    let mut opts = GenerateOptions::from_env(pvi);
    // ibek reads pvi device overrides from $EPICS_ROOT/ioc/config, whatever folder is given
    opts.pvi_settings = pvi.then(|| crate::pvi::PviSettings {
        config_dir: root.join("ioc").join("config"),
        pvi_defs: root.join("pvi-defs"),
    });
    let mut generated = generate(instances, &modules, &opts)?;
    let mut overlay = crate::runtime::dbexpand::Overlay::default();
    let mut pvi_runtime = None;
    if let Some(p) = generated.pvi_files.take() {
        // ibek writes templates to $EPICS_ROOT/runtime and screens to $EPICS_ROOT/opi even with -o
        let runtime = root.join("runtime");
        if crate::runtime::start::same_dir(&runtime, output) {
            overlay.add(output, &p.templates);
            generated.files.0.extend(p.templates.0);
        } else {
            crate::output::write_files(&runtime, &p.templates)
                .map_err(|e| Failure::Env(format!("cannot write `{}`: {e}", runtime.display())))?;
            pvi_runtime = Some(runtime);
        }
        let opi = root.join("opi");
        write_folder(&opi, &p.screens)
            .map_err(|e| Failure::Env(format!("cannot write `{}`: {e}", opi.display())))?;
    }
    if let Some(config) = db_config {
        // expanding ioc.db is iocforge's extra: in ibek's commands a failure only warns
        if let Some(subst) = generated.files.get("ioc.subst").map(str::to_string) {
            let mut dirs = crate::runtime::dbexpand::include_path(&config, &support_dir(), output);
            dirs.extend(pvi_runtime);
            let name = output.join("ioc.subst").display().to_string();
            match crate::runtime::dbexpand::expand_db_with(
                &subst,
                &name,
                &dirs,
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
        .map_err(|e| Failure::Env(format!("cannot write `{}`: {e}", output.display())))
}

fn run_generate_autosave(subst: Option<PathBuf>) -> CmdResult {
    let root = epics_root();
    let runtime = root.join("runtime");
    let subst = subst.unwrap_or_else(|| runtime.join("ioc.subst"));
    let text = fs_err::read_to_string(&subst)
        .map_err(|e| Failure::Env(format!("cannot read `{}`: {e}", subst.display())))?;
    let autosave_dir = root.join("autosave");
    crate::runtime::autosave::link_req_files(
        &autosave_dir,
        &root.join("support"),
        &root.join("ioc/config"),
    )
    .map_err(|e| Failure::Env(format!("cannot link autosave request files: {e}")))?;
    let subs = crate::runtime::autosave::autosave_substitutions(&text, &|req| {
        autosave_dir.join(req).exists()
    });
    let opts = crate::db::MsiOptions {
        include_path: vec![autosave_dir.display().to_string()],
        ..Default::default()
    };
    for (suffix, text) in subs {
        let subst_path = runtime.join(format!("autosave_{suffix}.subst"));
        fs_err::create_dir_all(&runtime).map_err(|e| Failure::Env(e.to_string()))?;
        fs_err::write(&subst_path, &text).map_err(|e| Failure::Env(e.to_string()))?;
        let exp = crate::db::expand_substitutions(&text, &subst_path.display().to_string(), &opts)
            .map_err(|e| {
                Failure::Exit(1, format!("cannot expand `{}`: {e}", subst_path.display()))
            })?;
        fs_err::write(runtime.join(format!("autosave_{suffix}.req")), exp.text)
            .map_err(|e| Failure::Env(e.to_string()))?;
    }
    Ok(())
}

fn run_start(a: &StartArgs) -> CmdResult {
    use crate::runtime::start::{run_steps, StartOutcome, StartSettings};
    let root = epics_root();
    let ioc_dir = std::env::var_os(crate::env::IOC).map_or_else(|| root.join("ioc"), PathBuf::from);
    let runtime_dir = std::env::var_os(crate::env::RUNTIME_DIR)
        .map_or_else(|| root.join("runtime"), PathBuf::from);
    let arch = std::env::var(crate::env::EPICS_HOST_ARCH).unwrap_or_else(|_| "linux-x86_64".into());
    let ioc_command = match &a.ioc_command {
        Some(cmd) => shell_words::split(cmd)
            .map_err(|e| Failure::Env(format!("cannot parse the IOC command `{cmd}`: {e}")))?,
        None => vec![ioc_dir
            .join("bin")
            .join(&arch)
            .join("ioc")
            .display()
            .to_string()],
    };
    let settings = StartSettings {
        config_dir: ioc_dir.join("config"),
        epics_root: root,
        ioc_dir,
        runtime_dir: runtime_dir.clone(),
        support_dir: support_dir(),
        ioc_command,
        failure_pause: std::time::Duration::from_secs_f64(a.failure_pause.max(0.0)),
        do_wait: std::env::var(crate::env::IBEK_DO_WAIT_DISABLE)
            .map_or(true, |v| !v.eq_ignore_ascii_case("true")),
        pvi: !a.no_pvi,
    };
    // the environment the IOC and st.cmd expect, as start.sh exports it
    std::env::set_var(crate::env::RUNTIME_DIR, &settings.runtime_dir);
    std::env::set_var(crate::env::IOC, &settings.ioc_dir);
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
        Ok(StartOutcome::Exec { argv, cwd }) => {
            printer::info(&format!(
                "iocforge start: ready in {:.1} ms; exec {}",
                started.elapsed().as_secs_f64() * 1000.0,
                argv.iter()
                    .map(|a| a.to_string_lossy())
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
            let err = exec(&argv, &cwd);
            printer::error(&format!(
                "runtime start failed in step `exec`: cannot run `{}`: {err}",
                argv[0].to_string_lossy()
            ));
            std::thread::sleep(settings.failure_pause);
            Err(Failure::Exit(1, "the IOC did not start".into()))
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
            Err(Failure::Exit(
                1,
                format!("runtime start failed in step `{}`", f.step),
            ))
        }
    }
}

/// Replaces this process with `argv` (returns only on failure).
fn exec(argv: &[std::ffi::OsString], cwd: &Path) -> std::io::Error {
    use std::os::unix::process::CommandExt;
    let mut cmd = std::process::Command::new(&argv[0]);
    cmd.args(&argv[1..]).current_dir(cwd);
    cmd.exec()
}
