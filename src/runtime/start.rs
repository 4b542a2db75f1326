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
use crate::output::{write_folder, OutputSet};
use crate::runtime::generate::{generate, load_definitions, GenerateOptions};
use crate::runtime::{autosave, dbexpand, place, release_shell, wait};

/// Everything `runtime start` needs to know, resolved from flags and environment.
#[derive(Debug, Clone)]
pub struct StartSettings {
    /// `$EPICS_ROOT`.
    pub epics_root: PathBuf,
    /// `$IOC`: the generic IOC folder (the IOC runs from here).
    pub ioc_dir: PathBuf,
    /// `$IOC/config`: the instance's config folder.
    pub config_dir: PathBuf,
    /// `$RUNTIME_DIR`: where the boot files are written.
    pub runtime_dir: PathBuf,
    /// `$SUPPORT`: the support modules.
    pub support_dir: PathBuf,
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
    },
}

/// Whether two paths name the same folder (compared after resolving links when they exist).
pub fn same_dir(a: &Path, b: &Path) -> bool {
    let norm = |p: &Path| {
        fs_err::canonicalize(p)
            .or_else(|_| std::path::absolute(p))
            .unwrap_or_else(|_| p.to_path_buf())
            .components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
            .collect::<PathBuf>()
    };
    norm(a) == norm(b)
}

fn fail(step: &'static str, d: Diagnostic) -> StepFailure {
    StepFailure {
        step,
        diags: d.into(),
    }
}

fn io_fail(step: &'static str, what: &str, e: &std::io::Error) -> StepFailure {
    fail(step, Diagnostic::plain(None, format!("{what}: {e}")).io())
}

/// Runs the steps; `log` gets one line per step. Ends with what to exec.
pub fn run_steps(
    s: &StartSettings,
    log: &mut dyn FnMut(&str, &str, Duration),
) -> Result<StartOutcome, StepFailure> {
    // 1. support module paths into the environment, for msi and the IOC
    let t = Instant::now();
    let release = s.support_dir.join("configure/RELEASE.shell");
    if release.is_file() {
        let text = fs_err::read_to_string(&release)
            .map_err(|e| io_fail("release-shell", "cannot read RELEASE.shell", &e))?;
        let vars = release_shell::parse(&text, &|n| std::env::var(n).ok()).map_err(|e| {
            fail(
                "release-shell",
                Diagnostic::plain(
                    None,
                    format!("{}:{}: {}", release.display(), e.line, e.message),
                ),
            )
        })?;
        for (k, v) in &vars {
            std::env::set_var(k, v);
        }
        log(
            "release-shell",
            &format!("{} variables from {}", vars.len(), release.display()),
            t.elapsed(),
        );
    } else {
        log(
            "release-shell",
            &format!("no {}", release.display()),
            t.elapsed(),
        );
    }

    // 2. a custom start script takes over completely
    let custom = s.config_dir.join("start.sh");
    if custom.is_file() {
        log(
            "start.sh",
            &format!("handing over to {}", custom.display()),
            Duration::ZERO,
        );
        return Ok(StartOutcome::Exec {
            argv: vec!["bash".into(), custom.into_os_string()],
            cwd: s.ioc_dir.clone(),
        });
    }

    // 3. hand-written boot files
    let t = Instant::now();
    let mut files = OutputSet::default();
    let mut copied = Vec::new();
    for name in ["ioc.db", "ioc.subst", "st.cmd"] {
        let p = s.config_dir.join(name);
        if p.is_file() {
            let text = fs_err::read_to_string(&p)
                .map_err(|e| io_fail("copy", "cannot read a config file", &e))?;
            files.insert(name, text);
            copied.push(name);
        }
    }
    log(
        "copy",
        &if copied.is_empty() {
            "no hand-written files".to_string()
        } else {
            copied.join(", ")
        },
        t.elapsed(),
    );

    // 4. generate from ioc.yaml (+ runtime.yaml); this replaces the runtime folder as ibek does
    let mut pvi_files: Option<crate::pvi::PviFiles> = None;
    let ioc_yaml = s.config_dir.join("ioc.yaml");
    let generated = ioc_yaml.is_file();
    if generated {
        let t = Instant::now();
        let mut instances = vec![ioc_yaml];
        let runtime_yaml = s.config_dir.join("runtime.yaml");
        if runtime_yaml.is_file() {
            instances.push(runtime_yaml);
        }
        let mut defs = crate::cli::runtime::find_definitions(
            &s.epics_root.join("ibek-defs"),
            "ibek.support.yaml",
        );
        defs.extend(crate::cli::runtime::find_definitions(
            &s.config_dir,
            ".ibek.support.yaml",
        ));
        let modules = load_definitions(&defs).map_err(|d| StepFailure {
            step: "generate",
            diags: d,
        })?;
        let opts = GenerateOptions {
            pvi: s.pvi,
            ioc_dir: s.ioc_dir.display().to_string(),
            runtime_dir: s.runtime_dir.display().to_string(),
            // ibek looks for pvi device overrides in $EPICS_ROOT/ioc/config
            pvi_settings: s.pvi.then(|| crate::pvi::PviSettings {
                config_dir: s.epics_root.join("ioc").join("config"),
                pvi_defs: s.epics_root.join("pvi-defs"),
            }),
        };
        let g = generate(&instances, &modules, &opts).map_err(|d| StepFailure {
            step: "generate",
            diags: d,
        })?;
        files = g.files;
        pvi_files = g.pvi_files;
        log(
            "generate",
            &format!(
                "{} from {} ({} definition files)",
                files
                    .0
                    .keys()
                    .map(|k| k.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                instances
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(" + "),
                defs.len()
            ),
            t.elapsed(),
        );
    }

    // 4b. pvi screens to $EPICS_ROOT/opi, templates to $EPICS_ROOT/runtime (ibek's places)
    let mut overlay = dbexpand::Overlay::default();
    let mut pvi_runtime: Option<PathBuf> = None;
    if let Some(p) = &pvi_files {
        let t = Instant::now();
        let runtime = s.epics_root.join("runtime");
        if same_dir(&runtime, &s.runtime_dir) {
            for (name, text) in &p.templates.0 {
                files.0.insert(name.clone(), text.clone());
            }
            overlay.add(&s.runtime_dir, &p.templates);
        } else {
            crate::output::write_files(&runtime, &p.templates)
                .map_err(|e| io_fail("pvi", &format!("cannot write {}", runtime.display()), &e))?;
            pvi_runtime = Some(runtime);
        }
        let opi = s.epics_root.join("opi");
        write_folder(&opi, &p.screens)
            .map_err(|e| io_fail("pvi", &format!("cannot write {}", opi.display()), &e))?;
        log(
            "pvi",
            &format!(
                "{} templates, {} screens in {}",
                p.templates.0.len(),
                p.screens.0.len(),
                opi.display()
            ),
            t.elapsed(),
        );
    }

    // 5. ioc.db from ioc.subst
    if let Some(subst) = files.get("ioc.subst").map(str::to_string) {
        let t = Instant::now();
        let mut dirs = dbexpand::include_path(&s.config_dir, &s.support_dir, &s.runtime_dir);
        dirs.extend(pvi_runtime);
        let name = s.runtime_dir.join("ioc.subst").display().to_string();
        let exp = dbexpand::expand_db_with(&subst, &name, &dirs, true, &mut overlay)
            .map_err(|d| fail("expand-db", d))?;
        let lines = exp.text.lines().count();
        files.insert("ioc.db", exp.text);
        log("expand-db", &format!("ioc.db, {lines} lines"), t.elapsed());

        // 6. autosave request files
        if generated {
            let t = Instant::now();
            let autosave_dir = s.epics_root.join("autosave");
            autosave::link_req_files(&autosave_dir, &s.support_dir, &s.config_dir)
                .map_err(|e| io_fail("autosave", "cannot link autosave request files", &e))?;
            let subs =
                autosave::autosave_substitutions(&subst, &|req| autosave_dir.join(req).exists());
            let opts = crate::db::MsiOptions {
                include_path: vec![autosave_dir.display().to_string()],
                ..Default::default()
            };
            let mut made = Vec::new();
            for (suffix, text) in subs {
                let subst_name = format!("autosave_{suffix}.subst");
                let exp = crate::db::expand_substitutions(
                    &text,
                    &s.runtime_dir.join(&subst_name).display().to_string(),
                    &opts,
                )
                .map_err(|e| {
                    fail(
                        "autosave",
                        Diagnostic::plain(None, format!("cannot expand {subst_name}: {e}")),
                    )
                })?;
                files.insert(subst_name, text);
                files.insert(format!("autosave_{suffix}.req"), exp.text);
                made.push(format!("autosave_{suffix}.req"));
            }
            log(
                "autosave",
                &if made.is_empty() {
                    "no request templates".to_string()
                } else {
                    made.join(", ")
                },
                t.elapsed(),
            );
        }
    }

    let t = Instant::now();
    write_folder(&s.runtime_dir, &files).map_err(|e| {
        io_fail(
            "write",
            &format!("cannot write {}", s.runtime_dir.display()),
            &e,
        )
    })?;
    log(
        "write",
        &format!("{} files in {}", files.0.len(), s.runtime_dir.display()),
        t.elapsed(),
    );

    // 7. protocol files of support modules, then the config folder's own files
    let t = Instant::now();
    let protocols = s.support_dir.join("configure/protocol");
    let mut n = 0;
    if protocols.is_dir() {
        n += place::replace_dir(&protocols, &s.runtime_dir.join("protocol"))
            .map_err(|e| io_fail("place-files", "cannot copy protocol files", &e))?;
    }
    if s.config_dir.is_dir() {
        n += place::place_files(&s.config_dir, &s.runtime_dir)
            .map_err(|e| io_fail("place-files", "cannot place config files", &e))?;
    }
    log("place-files", &format!("{n} files"), t.elapsed());

    // 8. devices
    let t = Instant::now();
    let list = s.runtime_dir.join("wait_list.yaml");
    if !s.do_wait {
        log("do-wait", "disabled (IBEK_DO_WAIT_DISABLE)", t.elapsed());
    } else if list.is_file() {
        let entries = wait::read_wait_list(&list)
            .map_err(|e| fail("do-wait", Diagnostic::plain(None, e.to_string())))?;
        let mut lines = Vec::new();
        wait::wait_all(&entries, &mut |l| lines.push(l)).map_err(|e| {
            let mut d = Diagnostic::plain(None, e.to_string());
            for l in &lines {
                d = d.with_note(l.clone());
            }
            fail("do-wait", d)
        })?;
        let _ = fs_err::write(wait::DONE_FILE, "");
        log(
            "do-wait",
            &format!("{} devices answered", entries.len()),
            t.elapsed(),
        );
    } else {
        let _ = fs_err::write(wait::DONE_FILE, "");
        log("do-wait", "no wait_list.yaml", t.elapsed());
    }

    // 9. the IOC
    let st_cmd = s.runtime_dir.join("st.cmd");
    if !st_cmd.is_file() {
        return Err(fail(
            "exec",
            Diagnostic::plain(
                None,
                format!(
                    "no boot script: {} was not generated or copied",
                    st_cmd.display()
                ),
            )
            .with_hint(
                "mount an instance config folder holding ioc.yaml (or st.cmd) at $IOC/config",
            ),
        ));
    }
    let Some(program) = s.ioc_command.first() else {
        return Err(fail(
            "exec",
            Diagnostic::plain(None, "the IOC command is empty"),
        ));
    };
    if !program.contains('/') && which(program).is_none()
        || program.contains('/') && !Path::new(program).is_file()
    {
        return Err(fail(
            "exec",
            Diagnostic::plain(None, format!("IOC binary `{program}` not found"))
                .with_hint("build the generic IOC (`iocforge ioc build`), or set IOCFORGE_IOC_COMMAND / --ioc-command"),
        ));
    }
    let mut argv: Vec<OsString> = s.ioc_command.iter().map(OsString::from).collect();
    argv.push(st_cmd.into_os_string());
    Ok(StartOutcome::Exec {
        argv,
        cwd: s.ioc_dir.clone(),
    })
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(program))
            .find(|p| p.is_file())
    })
}
