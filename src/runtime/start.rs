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
use crate::runtime::generate::{config_instances, generate_ioc};
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
pub const STEPS: [&str; 10] = [
    "release-shell",
    "start.sh",
    "copy",
    "generate",
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

/// Runs the steps; `log` gets one line per step. Ends with what to exec.
pub fn run_steps(
    s: &StartSettings,
    log: &mut dyn FnMut(&str, &str, Duration),
) -> Result<StartOutcome, StepFailure> {
    // start.sh exports IOC and RUNTIME_DIR before ibek reads them
    let mut layout = s.layout.exported();
    let config = layout.config();

    let t = Instant::now();
    let detail = match release_shell::load_into(&mut layout) {
        Ok(Some(n)) => format!("{n} variables from {}", layout.release_shell().display()),
        Ok(None) => format!("no {}", layout.release_shell().display()),
        Err(d) => return Err(fail("release-shell", d)),
    };
    log("release-shell", &detail, t.elapsed());

    // a custom start script takes over completely
    let custom = config.join("start.sh");
    if custom.is_file() {
        log(
            "start.sh",
            &format!("handing over to {}", custom.display()),
            Duration::ZERO,
        );
        return Ok(StartOutcome::Exec {
            argv: vec!["bash".into(), custom.into_os_string()],
            cwd: layout.ioc().to_path_buf(),
            env: layout.env().clone(),
        });
    }

    let t = Instant::now();
    let (mut files, copied) = copy_boot_files(&config)?;
    let detail = if copied.is_empty() {
        "no hand-written files".to_string()
    } else {
        copied.join(", ")
    };
    log("copy", &detail, t.elapsed());

    // generating replaces the runtime folder's boot files, as ibek does
    let generated = config.join("ioc.yaml").is_file();
    if generated {
        let t = Instant::now();
        let instances = config_instances(&config);
        let defs = runtime_definitions(&layout, Some(&config));
        let g = generate_ioc(&layout, &instances, &defs, s.pvi).map_err(|d| StepFailure {
            step: "generate",
            diags: d,
        })?;
        files = g.files;
        let detail = format!(
            "{} from {} ({} definition files)",
            joined(files.0.keys().map(|k| k.display()), ", "),
            joined(instances.iter().map(|p| p.display()), " + "),
            defs.len()
        );
        log("generate", &detail, t.elapsed());
    }

    if let Some(subst) = files.get("ioc.subst").map(str::to_string) {
        let t = Instant::now();
        let exp = dbexpand::expand_ioc_db(&layout, &config, layout.runtime(), &subst, true)
            .map_err(|d| fail("expand-db", d))?;
        let lines = exp.text.lines().count();
        files.insert("ioc.db", exp.text);
        log("expand-db", &format!("ioc.db, {lines} lines"), t.elapsed());

        if generated {
            let t = Instant::now();
            let made = autosave::request_files(&layout, &subst, layout.runtime())
                .map_err(|e| fail("autosave", autosave_diagnostic(&e)))?;
            let mut names = Vec::new();
            for (name, text) in made {
                if name.ends_with(".req") {
                    names.push(name.clone());
                }
                files.insert(name, text);
            }
            let detail = if names.is_empty() {
                "no request templates".to_string()
            } else {
                names.join(", ")
            };
            log("autosave", &detail, t.elapsed());
        }
    }

    let t = Instant::now();
    let runtime = layout.runtime();
    write_folder(runtime, &files)
        .map_err(|e| io_fail("write", &format!("cannot write {}", runtime.display()), &e))?;
    let detail = format!("{} files in {}", files.0.len(), runtime.display());
    log("write", &detail, t.elapsed());

    let t = Instant::now();
    let n = place::place_start_files(&layout, &config)
        .map_err(|e| io_fail("place-files", "cannot place files", &e))?;
    log("place-files", &format!("{n} files"), t.elapsed());

    let t = Instant::now();
    if s.do_wait {
        let mut lines = Vec::new();
        let list = runtime.join("wait_list.yaml");
        let detail = match wait::do_wait(&list, Path::new(wait::DONE_FILE), &mut |l| {
            lines.push(l);
        }) {
            Ok(Some(n)) => format!("{n} devices answered"),
            Ok(None) => "no wait_list.yaml".to_string(),
            Err(e) => {
                let d = lines.into_iter().fold(
                    Diagnostic::plain(None, e.to_string()),
                    Diagnostic::with_note,
                );
                return Err(fail("do-wait", d));
            }
        };
        log("do-wait", &detail, t.elapsed());
    } else {
        log("do-wait", "disabled (IBEK_DO_WAIT_DISABLE)", t.elapsed());
    }

    let argv = ioc_argv(&layout, &s.ioc_command).map_err(|d| fail("exec", d))?;
    Ok(StartOutcome::Exec {
        argv,
        cwd: layout.ioc().to_path_buf(),
        env: layout.env().clone(),
    })
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
