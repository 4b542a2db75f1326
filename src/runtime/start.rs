//! `iocforge runtime start`: the container entrypoint, in place of start.sh.
//!
//! The steps of the epics-containers start script, in its order, each
//! logged with its duration: read `RELEASE.shell`; hand over to a
//! `config/start.sh` if there is one; copy hand-written `st.cmd`,
//! `ioc.subst`, `ioc.db`; generate from `ioc.yaml` (+ `runtime.yaml`);
//! expand `ioc.db`; make the autosave request files; copy protocol files;
//! place the config folder's protocols and templates; wait for devices;
//! then exec the IOC so that it becomes the container's process.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::diag::{Diagnostic, Diagnostics};
use crate::layout::{Environment, EpicsLayout};
use crate::model::discover::runtime_definitions;
use crate::output::{write_folder, OutputSet};
use crate::runtime::generate::{config_instances, generate_ioc, write_pvi, PviPlaced};
use crate::runtime::{autosave, dbexpand, place, release_shell, wait};

/// Everything `runtime start` needs to know, resolved from flags and environment.
#[derive(Debug, Clone)]
pub struct StartSettings {
    /// The `/epics` tree: `$IOC` (the IOC runs there, its `config` folder is
    /// the instance), `$RUNTIME_DIR` (the boot files), `$SUPPORT`.
    pub layout: EpicsLayout,
    /// The IOC command, without the st.cmd argument.
    pub ioc_command: Vec<String>,
    /// How long to pause after a failure before exiting.
    pub failure_pause: Duration,
    /// Whether to wait for the devices of `wait_list.yaml`.
    pub do_wait: bool,
    /// Whether to add PVI rows.
    pub pvi: bool,
}

/// A failed step.
#[derive(Debug)]
pub struct StepFailure {
    /// The step's name.
    pub step: &'static str,
    /// What went wrong.
    pub diags: Diagnostics,
}

/// What the start sequence ends with.
#[derive(Debug)]
pub enum StartOutcome {
    /// Replace this process with a program (the IOC, or a custom start.sh).
    Exec {
        /// Program and arguments.
        argv: Vec<OsString>,
        /// Working directory.
        cwd: PathBuf,
        /// Its whole environment: the caller's, with `RELEASE.shell`'s
        /// variables, `$IOC` and `$RUNTIME_DIR`, as start.sh exports them.
        env: Environment,
    },
}

/// The steps of `runtime start`, in order; each logs one line.
pub const STEPS: [&str; 11] = [
    "release-shell",
    "start.sh",
    "copy",
    "generate",
    "pvi",
    "expand-db",
    "autosave",
    "write",
    "place-files",
    "do-wait",
    "exec",
];

fn fail(step: &'static str, d: Diagnostic) -> StepFailure {
    StepFailure {
        step,
        diags: d.into(),
    }
}

fn io_fail(step: &'static str, what: &str, e: &std::io::Error) -> StepFailure {
    fail(step, Diagnostic::plain(None, format!("{what}: {e}")).io())
}

fn joined<T: std::fmt::Display>(items: impl IntoIterator<Item = T>, sep: &str) -> String {
    items
        .into_iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(sep)
}

/// Runs the steps in order; `log` gets one line per step. Ends with what to exec.
pub fn run_steps(
    s: &StartSettings,
    log: &mut dyn FnMut(&str, &str, Duration),
) -> Result<StartOutcome, StepFailure> {
    let mut run = Run {
        // start.sh exports IOC and RUNTIME_DIR before ibek reads them
        layout: s.layout.exported(),
        config: s.layout.config(),
        files: OutputSet::default(),
        generated: false,
        pvi_files: None,
        overlay: dbexpand::Overlay::new(s.layout.env().clone()),
        pvi_dirs: Vec::new(),
        log,
    };
    run.step("release-shell", Run::release_shell)?;
    if let Some(custom) = run.custom_start_script() {
        return Ok(custom);
    }
    run.step("copy", Run::copy)?;
    if run.config.join("ioc.yaml").is_file() {
        run.step("generate", |r| r.generate(s.pvi))?;
    }
    if run.pvi_files.is_some() {
        run.step("pvi", Run::pvi)?;
    }
    if let Some(subst) = run.files.get("ioc.subst").map(str::to_string) {
        run.step("expand-db", |r| r.expand_db(&subst))?;
        if run.generated {
            run.step("autosave", |r| r.autosave(&subst))?;
        }
    }
    run.step("write", Run::write)?;
    run.step("place-files", Run::place_files)?;
    run.step("do-wait", |r| r.do_wait(s.do_wait))?;
    let argv = ioc_argv(&run.layout, &s.ioc_command).map_err(|d| fail("exec", d))?;
    Ok(StartOutcome::Exec {
        argv,
        cwd: run.layout.ioc().to_path_buf(),
        env: run.layout.env().clone(),
    })
}

/// The state the steps share: the layout (its environment grows with
/// `RELEASE.shell`) and the files for the runtime folder.
struct Run<'a> {
    layout: EpicsLayout,
    config: PathBuf,
    files: OutputSet,
    generated: bool,
    /// PVI templates and screens from `generate`.
    pvi_files: Option<crate::pvi::PviFiles>,
    /// Templates not yet written, for `expand-db`.
    overlay: dbexpand::Overlay,
    /// Further template folders for `expand-db` (where PVI templates went).
    pvi_dirs: Vec<PathBuf>,
    log: &'a mut dyn FnMut(&str, &str, Duration),
}

type StepResult = Result<String, StepFailure>;

impl Run<'_> {
    /// Runs one step and logs its detail line and duration.
    fn step(
        &mut self,
        name: &str,
        f: impl FnOnce(&mut Self) -> StepResult,
    ) -> Result<(), StepFailure> {
        let t = Instant::now();
        let detail = f(self)?;
        (self.log)(name, &detail, t.elapsed());
        Ok(())
    }

    fn release_shell(&mut self) -> StepResult {
        let file = self.layout.release_shell();
        match release_shell::load_into(&mut self.layout) {
            Ok(Some(n)) => Ok(format!("{n} variables from {}", file.display())),
            Ok(None) => Ok(format!("no {}", file.display())),
            Err(d) => Err(fail("release-shell", d)),
        }
    }

    /// A custom `config/start.sh` takes over completely.
    fn custom_start_script(&mut self) -> Option<StartOutcome> {
        let custom = self.config.join("start.sh");
        if !custom.is_file() {
            return None;
        }
        let detail = format!("handing over to {}", custom.display());
        (self.log)("start.sh", &detail, Duration::ZERO);
        Some(StartOutcome::Exec {
            argv: vec!["bash".into(), custom.into_os_string()],
            cwd: self.layout.ioc().to_path_buf(),
            env: self.layout.env().clone(),
        })
    }

    fn copy(&mut self) -> StepResult {
        let (files, copied) = copy_boot_files(&self.config)?;
        self.files = files;
        Ok(if copied.is_empty() {
            "no hand-written files".to_string()
        } else {
            copied.join(", ")
        })
    }

    /// Generating replaces the runtime folder's boot files, as ibek does.
    fn generate(&mut self, pvi: bool) -> StepResult {
        let instances = config_instances(&self.config);
        let defs = runtime_definitions(&self.layout, Some(&self.config));
        let g = generate_ioc(&self.layout, &instances, &defs, pvi).map_err(|d| StepFailure {
            step: "generate",
            diags: d,
        })?;
        self.files = g.files;
        self.pvi_files = g.pvi_files;
        self.generated = true;
        Ok(format!(
            "{} from {} ({} definition files)",
            joined(self.files.0.keys().map(|k| k.display()), ", "),
            joined(instances.iter().map(|p| p.display()), " + "),
            defs.len()
        ))
    }

    /// PVI screens to `$EPICS_ROOT/opi` and templates to
    /// `$EPICS_ROOT/runtime`, where ibek writes them.
    fn pvi(&mut self) -> StepResult {
        let Some(p) = self.pvi_files.take() else {
            return Ok("none".to_string());
        };
        let (templates, screens) = (p.templates.0.len(), p.screens.0.len());
        let boot_dir = self.layout.runtime().to_path_buf();
        let placed = write_pvi(
            &self.layout,
            p,
            &boot_dir,
            &mut self.files,
            &mut self.overlay,
        )
        .map_err(|(dir, e)| io_fail("pvi", &format!("cannot write {}", dir.display()), &e))?;
        if let PviPlaced::Folder(dir) = placed {
            self.pvi_dirs.push(dir);
        }
        let opi = self.layout.opi();
        Ok(format!(
            "{templates} templates, {screens} screens in {}",
            opi.display()
        ))
    }

    fn expand_db(&mut self, subst: &str) -> StepResult {
        let runtime = self.layout.runtime().to_path_buf();
        // RELEASE.shell's variables name the templates' folders
        self.overlay.set_env(self.layout.env().clone());
        let exp = dbexpand::expand_ioc_db_with(
            &self.layout,
            &self.config,
            &runtime,
            &self.pvi_dirs,
            subst,
            true,
            &mut self.overlay,
        )
        .map_err(|d| fail("expand-db", d))?;
        let lines = exp.text.lines().count();
        self.files.insert("ioc.db", exp.text);
        Ok(format!("ioc.db, {lines} lines"))
    }

    fn autosave(&mut self, subst: &str) -> StepResult {
        let made = autosave::request_files(&self.layout, subst, self.layout.runtime())
            .map_err(|e| fail("autosave", autosave_diagnostic(&e)))?;
        let mut names = Vec::new();
        for (name, text) in made {
            if name.ends_with(".req") {
                names.push(name.clone());
            }
            self.files.insert(name, text);
        }
        Ok(if names.is_empty() {
            "no request templates".to_string()
        } else {
            names.join(", ")
        })
    }

    fn write(&mut self) -> StepResult {
        let runtime = self.layout.runtime();
        write_folder(runtime, &self.files)
            .map_err(|e| io_fail("write", &format!("cannot write {}", runtime.display()), &e))?;
        Ok(format!(
            "{} files in {}",
            self.files.0.len(),
            runtime.display()
        ))
    }

    fn place_files(&mut self) -> StepResult {
        let n = place::place_start_files(&self.layout, &self.config)
            .map_err(|e| io_fail("place-files", "cannot place files", &e))?;
        Ok(format!("{n} files"))
    }

    fn do_wait(&mut self, enabled: bool) -> StepResult {
        if !enabled {
            return Ok("disabled (IBEK_DO_WAIT_DISABLE)".to_string());
        }
        let mut lines = Vec::new();
        let list = self.layout.runtime().join("wait_list.yaml");
        match wait::do_wait(&list, Path::new(wait::DONE_FILE), &mut |l| lines.push(l)) {
            Ok(Some(n)) => Ok(format!("{n} devices answered")),
            Ok(None) => Ok("no wait_list.yaml".to_string()),
            Err(e) => {
                let d = lines.into_iter().fold(
                    Diagnostic::plain(None, e.to_string()),
                    Diagnostic::with_note,
                );
                Err(fail("do-wait", d))
            }
        }
    }
}

/// The start step for hand-written boot files: `ioc.db`, `ioc.subst` and
/// `st.cmd` of the config folder, and the names of those found.
pub fn copy_boot_files(config: &Path) -> Result<(OutputSet, Vec<&'static str>), StepFailure> {
    let mut files = OutputSet::default();
    let mut copied = Vec::new();
    for name in ["ioc.db", "ioc.subst", "st.cmd"] {
        let p = config.join(name);
        if p.is_file() {
            let text = fs_err::read_to_string(&p)
                .map_err(|e| io_fail("copy", "cannot read a config file", &e))?;
            files.insert(name, text);
            copied.push(name);
        }
    }
    Ok((files, copied))
}

/// An autosave failure as a diagnostic (a link failure is an I/O problem).
pub fn autosave_diagnostic(e: &autosave::AutosaveError) -> Diagnostic {
    let d = Diagnostic::plain(None, e.to_string());
    match e {
        autosave::AutosaveError::Link(_) => d.io(),
        autosave::AutosaveError::Expand { .. } => d,
    }
}

/// The command line that boots the IOC: `command` and `$RUNTIME_DIR/st.cmd`,
/// once both are known to exist (the program found on the layout's `PATH`).
pub fn ioc_argv(layout: &EpicsLayout, command: &[String]) -> Result<Vec<OsString>, Diagnostic> {
    let st_cmd = layout.runtime().join("st.cmd");
    if !st_cmd.is_file() {
        return Err(Diagnostic::plain(
            None,
            format!(
                "no boot script: {} was not generated or copied",
                st_cmd.display()
            ),
        )
        .with_hint("mount an instance config folder holding ioc.yaml (or st.cmd) at $IOC/config"));
    }
    let Some(program) = command.first() else {
        return Err(Diagnostic::plain(None, "the IOC command is empty"));
    };
    let found = if program.contains('/') {
        Path::new(program).is_file()
    } else {
        layout.env().find_program(program).is_some()
    };
    if !found {
        return Err(
            Diagnostic::plain(None, format!("IOC binary `{program}` not found")).with_hint(
                "build the generic IOC (`iocforge ioc build`), or set IOCFORGE_IOC_COMMAND / --ioc-command",
            ),
        );
    }
    let mut argv: Vec<OsString> = command.iter().map(OsString::from).collect();
    argv.push(st_cmd.into_os_string());
    Ok(argv)
}
