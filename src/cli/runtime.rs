//! `iocforge runtime ...`: ibek's runtime commands.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use super::{CmdResult, Failure};
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
    /// Add PVI PV template rows to ioc.subst (the default)
    #[arg(long, overrides_with = "no_pvi")]
    pvi: bool,
    /// Leave PVI rows out
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
    /// The folder to write st.cmd and ioc.subst to [default: $`EPICS_ROOT/runtime`]
    #[arg(short, long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    pvi: PviFlags,
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
    /// The folder to write st.cmd and ioc.subst to [default: $`EPICS_ROOT/runtime`]
    #[arg(short, long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    pvi: PviFlags,
}

/// Runs a `runtime` subcommand.
pub fn run(cmd: RuntimeCommand) -> CmdResult {
    match cmd {
        RuntimeCommand::Generate(a) => {
            let output = a.output.unwrap_or_else(default_runtime_dir);
            run_generate(&[a.instance], &a.definitions, &output, a.pvi.enabled())
        }
        RuntimeCommand::Generate2(a) => {
            let output = a.output.clone().unwrap_or_else(default_runtime_dir);
            let (instances, definitions) = generate2_inputs(&a)?;
            run_generate(&instances, &definitions, &output, a.pvi.enabled())
        }
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

fn run_generate(
    instances: &[PathBuf],
    definitions: &[PathBuf],
    output: &Path,
    pvi: bool,
) -> CmdResult {
    let modules = load_definitions(definitions)?;
    let generated = generate(instances, &modules, &GenerateOptions::from_env(pvi))?;
    write_folder(output, &generated.files)
        .map_err(|e| Failure::Env(format!("cannot write `{}`: {e}", output.display())))
}
