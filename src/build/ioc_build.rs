//! `ioc build`: the generic IOC of an image, from the support modules built
//! before it (replaces ibek-support's `ansible.sh ioc`).
//!
//! The IOC folder (`$IOC`, `/epics/ioc`) gets iocforge's skeleton
//! (`ioc-templates/ioc/`) unless it already has a `Makefile` (a generic IOC
//! repository's own `ioc/` folder). Its `iocApp/src/Makefile` reads the
//! `dbd_list` and `lib_list` that `support build` records. Then:
//!
//! - when EPICS base has a build system (`$EPICS_BASE/configure/CONFIG`),
//!   `make` builds `bin/$EPICS_HOST_ARCH/ioc` and `dbd/ioc.dbd` ([`Mode::Make`]);
//! - otherwise base is prebuilt binaries only, and a db-only IOC (no
//!   libraries to link) is base's `softIoc`: [`build_launcher`] writes
//!   `bin/$EPICS_HOST_ARCH/ioc`, a script running `softIoc -S -D dbd/ioc.dbd`
//!   on the st.cmd it is given, and `dbd/ioc.dbd`, softIoc.dbd followed by
//!   the support dbds with their includes expanded ([`Mode::Launcher`]).

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::command::{quote, CommandSpec, Runner, SpawnError};
use crate::layout::{Environment, EpicsLayout};

/// The skeleton: path in the IOC folder and contents.
pub const SKELETON: &[(&str, &str)] = &[
    ("Makefile", include_str!("../../ioc-templates/ioc/Makefile")),
    (
        "configure/CONFIG",
        include_str!("../../ioc-templates/ioc/configure/CONFIG"),
    ),
    (
        "configure/CONFIG_SITE",
        include_str!("../../ioc-templates/ioc/configure/CONFIG_SITE"),
    ),
    (
        "configure/Makefile",
        include_str!("../../ioc-templates/ioc/configure/Makefile"),
    ),
    (
        "configure/RELEASE",
        include_str!("../../ioc-templates/ioc/configure/RELEASE"),
    ),
    (
        "configure/RULES",
        include_str!("../../ioc-templates/ioc/configure/RULES"),
    ),
    (
        "configure/RULES.ioc",
        include_str!("../../ioc-templates/ioc/configure/RULES.ioc"),
    ),
    (
        "configure/RULES_DIRS",
        include_str!("../../ioc-templates/ioc/configure/RULES_DIRS"),
    ),
    (
        "configure/RULES_TOP",
        include_str!("../../ioc-templates/ioc/configure/RULES_TOP"),
    ),
    (
        "iocApp/src/Makefile",
        include_str!("../../ioc-templates/ioc/iocApp/src/Makefile"),
    ),
    (
        "iocApp/src/iocMain.cpp",
        include_str!("../../ioc-templates/ioc/iocApp/src/iocMain.cpp"),
    ),
];

/// An IOC build that cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum IocBuildError {
    /// Libraries must be linked, and base cannot compile.
    #[error(
        "the generic IOC needs compiled support libraries ({}) but EPICS base at `{}` has no build system (no `configure/CONFIG`)",
        libs.join(", "),
        base.display()
    )]
    NeedsCompiler {
        /// The `lib_list` entries.
        libs: Vec<String>,
        /// `EPICS_BASE`.
        base: PathBuf,
    },
    /// A prebuilt base without `softIoc` or its dbd.
    #[error("EPICS base at `{}` has no `{}`", base.display(), what)]
    NoSoftIoc {
        /// `EPICS_BASE`.
        base: PathBuf,
        /// What is missing, relative to base.
        what: String,
    },
    /// A dbd of `dbd_list` (or one it includes) is nowhere on the search path.
    #[error("cannot find `{name}` in {}", searched.iter().map(|p| format!("`{}`", p.display())).collect::<Vec<_>>().join(", "))]
    MissingDbd {
        /// The dbd file name.
        name: String,
        /// The folders searched.
        searched: Vec<PathBuf>,
    },
    /// A file cannot be read or written.
    #[error("cannot {action} `{}`", path.display())]
    Io {
        /// What was being done (`read`, `write`, ...).
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

fn io<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> IocBuildError + 'a {
    move |source| IocBuildError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// The folders of an IOC build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IocEnv {
    /// `EPICS_ROOT`.
    pub epics_root: PathBuf,
    /// The IOC folder (`IOC`; may be a link to the source).
    pub ioc: PathBuf,
    /// `EPICS_BASE`.
    pub epics_base: PathBuf,
    /// `SUPPORT`.
    pub support: PathBuf,
    /// `EPICS_HOST_ARCH`.
    pub host_arch: String,
}

impl IocEnv {
    /// The defaults of epics-containers images, under `epics_root`.
    pub fn new(epics_root: &Path) -> IocEnv {
        let layout = EpicsLayout::new(
            &epics_root.components().collect::<PathBuf>(),
            Environment::default(),
        );
        IocEnv::from_layout(&layout)
    }

    /// The folders of `layout`: `$IOC`, `$EPICS_BASE`, `$EPICS_HOST_ARCH`,
    /// and the support tree of the support builds (`$EPICS_ROOT/support`).
    pub fn from_layout(layout: &EpicsLayout) -> IocEnv {
        IocEnv {
            epics_root: layout.root_clean(),
            ioc: layout.ioc().to_path_buf(),
            epics_base: layout.epics_base().to_path_buf(),
            support: layout.ibek_support(),
            host_arch: layout.host_arch().to_string(),
        }
    }

    /// `$SUPPORT/configure/<name>`.
    pub fn configure(&self, name: &str) -> PathBuf {
        self.support.join("configure").join(name)
    }

    /// The IOC binary (compiled, or the launcher).
    pub fn binary(&self) -> PathBuf {
        self.ioc.join("bin").join(&self.host_arch).join("ioc")
    }

    /// The IOC's expanded dbd.
    pub fn dbd(&self) -> PathBuf {
        self.ioc.join("dbd/ioc.dbd")
    }

    /// base's softIoc.
    pub fn soft_ioc(&self) -> PathBuf {
        self.epics_base
            .join("bin")
            .join(&self.host_arch)
            .join("softIoc")
    }
}

/// How the IOC is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// EPICS base's build system compiles and links the IOC.
    Make,
    /// A prebuilt base: the IOC is a launcher of `softIoc`.
    Launcher,
}

/// Make when base has `configure/CONFIG`, else the launcher.
pub fn mode(env: &IocEnv) -> Mode {
    if env.epics_base.join("configure/CONFIG").is_file() {
        Mode::Make
    } else {
        Mode::Launcher
    }
}

/// The non-empty lines of a list `support build` recorded (none when missing).
pub fn read_list(path: &Path) -> Result<Vec<String>, IocBuildError> {
    match fs_err::read_to_string(path) {
        Ok(text) => Ok(text
            .split_whitespace()
            .map(str::to_string)
            .collect::<Vec<_>>()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(io("read", path)(e)),
    }
}

/// The skeleton as it is written for `support`: the `SUPPORT=` line of
/// `configure/RELEASE` points at it.
pub fn skeleton_files(support: &Path) -> Vec<(&'static str, String)> {
    SKELETON
        .iter()
        .map(|(name, text)| {
            let text = if *name == "configure/RELEASE" {
                text.lines()
                    .map(|l| {
                        if l.starts_with("SUPPORT=") {
                            format!("SUPPORT={}\n", support.display())
                        } else {
                            format!("{l}\n")
                        }
                    })
                    .collect()
            } else {
                (*text).to_string()
            };
            (*name, text)
        })
        .collect()
}

/// Writes the skeleton into the IOC folder unless it has a `Makefile`
/// already; follows the folder's link, creating its target. Returns whether
/// it wrote.
pub fn instantiate_skeleton(env: &IocEnv) -> Result<bool, IocBuildError> {
    let dir = if env.ioc.is_symlink() {
        let target = fs_err::read_link(&env.ioc).map_err(io("read the link", &env.ioc))?;
        env.ioc.parent().unwrap_or(Path::new("/")).join(target)
    } else {
        env.ioc.clone()
    };
    if dir.join("Makefile").exists() {
        return Ok(false);
    }
    for (name, text) in skeleton_files(&env.support) {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            fs_err::create_dir_all(parent).map_err(io("create", parent))?;
        }
        fs_err::write(&path, text).map_err(io("write", &path))?;
    }
    Ok(true)
}

/// The commands of a make build (ibek-support's `build.yml` for the IOC:
/// clean, build without `-j`, clean again unless `skip_clean`).
pub fn make_commands(env: &IocEnv, skip_clean: bool) -> Vec<CommandSpec> {
    let mut out = vec![
        CommandSpec::new("make", ["clean"]).in_dir(&env.ioc),
        CommandSpec::new("make", Vec::<String>::new()).in_dir(&env.ioc),
    ];
    if !skip_clean {
        out.push(CommandSpec::new("make", ["clean"]).in_dir(&env.ioc));
    }
    for c in &mut out {
        c.env
            .push((crate::env::EPICS_HOST_ARCH.into(), env.host_arch.clone()));
    }
    out
}

/// The launcher script: softIoc with the IOC's dbd, on the script given.
pub fn launcher_script(soft_ioc: &Path, dbd: &Path) -> String {
    format!(
        "#!/bin/sh\n\
         # The generic IOC on a prebuilt EPICS base, written by `iocforge ioc build`:\n\
         # base's softIoc with this IOC's expanded dbd. -S: no interactive shell\n\
         # after the startup script; the IOC keeps running.\n\
         exec {} -S -D {} \"$@\"\n",
        quote(&soft_ioc.display().to_string()),
        quote(&dbd.display().to_string())
    )
}

/// The `NAME = path` macros of a RELEASE file, in order, with `$(NAME)`
/// references to earlier ones expanded; include lines are not followed.
pub fn release_macros(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.contains("include") {
            continue;
        }
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        let name = name.trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let mut value = value.trim().to_string();
        for (k, v) in &out {
            value = value
                .replace(&format!("$({k})"), v)
                .replace(&format!("${{{k}}}"), v);
        }
        out.retain(|(k, _)| k != name);
        out.push((name.to_string(), value));
    }
    out
}

/// Where dbds are looked for: `dbd/` of every module of the global RELEASE,
/// in its order, then base's.
pub fn dbd_search_path(env: &IocEnv) -> Result<Vec<PathBuf>, IocBuildError> {
    let release = env.configure("RELEASE");
    let text = match fs_err::read_to_string(&release) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(io("read", &release)(e)),
    };
    let mut dirs: Vec<PathBuf> = Vec::new();
    for (name, value) in release_macros(&text) {
        if name == "SUPPORT" || name == "EPICS_BASE" || value.is_empty() {
            continue;
        }
        let dir = PathBuf::from(value).join("dbd");
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    dirs.push(env.epics_base.join("dbd"));
    Ok(dirs)
}

/// Statements that need compiled code softIoc does not have.
const CODE_STATEMENTS: [&str; 7] = [
    "registrar(",
    "device(",
    "driver(",
    "function(",
    "variable(",
    "link(",
    "recordtype(",
];

/// An expanded dbd, and the statements in it that softIoc cannot serve.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExpandedDbd {
    /// The text.
    pub text: String,
    /// `(dbd file, statement)` pairs that need compiled code.
    pub needs_code: Vec<(String, String)>,
}

fn include_target(line: &str) -> Option<&str> {
    let rest = line.trim_start().strip_prefix("include")?;
    let rest = rest.trim();
    rest.strip_prefix('"')?.split('"').next()
}

fn expand_into(
    name: &str,
    dirs: &[PathBuf],
    seen: &mut HashSet<String>,
    out: &mut ExpandedDbd,
    support: bool,
) -> Result<(), IocBuildError> {
    if !seen.insert(name.to_string()) {
        return Ok(());
    }
    let Some(path) = dirs.iter().map(|d| d.join(name)).find(|p| p.is_file()) else {
        return Err(IocBuildError::MissingDbd {
            name: name.into(),
            searched: dirs.to_vec(),
        });
    };
    let text = fs_err::read_to_string(&path).map_err(io("read", &path))?;
    let _ = writeln!(out.text, "# {name} ({})", path.display());
    for line in text.lines() {
        if let Some(inc) = include_target(line) {
            expand_into(inc, dirs, seen, out, support)?;
            continue;
        }
        if support {
            let t = line.trim_start();
            if CODE_STATEMENTS.iter().any(|s| t.starts_with(s)) {
                out.needs_code.push((name.to_string(), t.to_string()));
            }
        }
        out.text.push_str(line);
        out.text.push('\n');
    }
    Ok(())
}

/// softIoc.dbd of base followed by each support dbd, includes expanded once
/// (base.dbd is in softIoc.dbd already).
pub fn expand_dbd(env: &IocEnv, support_dbds: &[String]) -> Result<ExpandedDbd, IocBuildError> {
    let base_dbd = env.epics_base.join("dbd");
    if !base_dbd.join("softIoc.dbd").is_file() {
        return Err(IocBuildError::NoSoftIoc {
            base: env.epics_base.clone(),
            what: "dbd/softIoc.dbd".into(),
        });
    }
    let mut out = ExpandedDbd {
        text: "# The generic IOC's dbd, expanded by `iocforge ioc build`\n".into(),
        needs_code: Vec::new(),
    };
    let mut seen: HashSet<String> = HashSet::new();
    expand_into("softIoc.dbd", &[base_dbd], &mut seen, &mut out, false)?;
    seen.insert("base.dbd".into());
    let dirs = dbd_search_path(env)?;
    for name in support_dbds {
        expand_into(name, &dirs, &mut seen, &mut out, true)?;
    }
    Ok(out)
}

/// What [`build_launcher`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LauncherBuilt {
    /// The launcher script.
    pub binary: PathBuf,
    /// The expanded dbd.
    pub dbd: PathBuf,
    /// Statements of the support dbds that need compiled code.
    pub needs_code: Vec<(String, String)>,
}

/// Builds a db-only IOC on a prebuilt base: the launcher and the expanded dbd.
pub fn build_launcher(env: &IocEnv) -> Result<LauncherBuilt, IocBuildError> {
    let libs = read_list(&env.configure("lib_list"))?;
    if !libs.is_empty() {
        return Err(IocBuildError::NeedsCompiler {
            libs,
            base: env.epics_base.clone(),
        });
    }
    let soft_ioc = env.soft_ioc();
    if !soft_ioc.is_file() {
        return Err(IocBuildError::NoSoftIoc {
            base: env.epics_base.clone(),
            what: format!("bin/{}/softIoc", env.host_arch),
        });
    }
    let dbds = read_list(&env.configure("dbd_list"))?;
    let expanded = expand_dbd(env, &dbds)?;
    let dbd = env.dbd();
    let binary = env.binary();
    for path in [&dbd, &binary] {
        if let Some(parent) = path.parent() {
            fs_err::create_dir_all(parent).map_err(io("create", parent))?;
        }
    }
    fs_err::write(&dbd, &expanded.text).map_err(io("write", &dbd))?;
    fs_err::write(&binary, launcher_script(&soft_ioc, &dbd)).map_err(io("write", &binary))?;
    set_mode(&binary, 0o755)?;
    Ok(LauncherBuilt {
        binary,
        dbd,
        needs_code: expanded.needs_code,
    })
}

fn set_mode(path: &Path, mode: u32) -> Result<(), IocBuildError> {
    use std::os::unix::fs::PermissionsExt;
    fs_err::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(io("set the permissions of", path))
}

/// Opens the EPICS root, autosave and IOC folders to every user, as
/// ibek-support does, so a non-root runtime user can create files there.
pub fn open_permissions(env: &IocEnv) -> Result<(), IocBuildError> {
    for dir in [
        env.epics_root.clone(),
        EpicsLayout::new(&env.epics_root, Environment::default()).autosave(),
        env.ioc.clone(),
    ] {
        if dir.is_dir() {
            set_mode(&dir, 0o777)?;
        }
    }
    Ok(())
}

/// Why the `make` of the generic IOC failed.
#[derive(Debug, thiserror::Error)]
pub enum MakeError {
    /// `make` could not be started.
    #[error("{error}: {}", error.source)]
    Spawn {
        /// The spawn failure.
        error: SpawnError,
    },
    /// A command exited with a failure.
    #[error("`{command}` failed with status {}", code.map_or_else(|| "?".into(), |c| c.to_string()))]
    Failed {
        /// The command line.
        command: String,
        /// Its exit code (`None` after a signal).
        code: Option<i32>,
        /// The last lines of its output.
        tail: Vec<String>,
    },
}

/// Runs the [`make_commands`] in order; `done` hears of each one that
/// succeeded and how long it took. The last `make clean` may fail, as
/// ibek-support ignores it.
pub fn run_make(
    runner: &mut dyn Runner,
    commands: &[CommandSpec],
    done: &mut dyn FnMut(&CommandSpec, std::time::Duration),
) -> Result<(), MakeError> {
    let last = commands.len().saturating_sub(1);
    for (i, c) in commands.iter().enumerate() {
        let started = std::time::Instant::now();
        let out = runner.run(c).map_err(|error| MakeError::Spawn { error })?;
        if out.success || (i == last && i > 1) {
            done(c, started.elapsed());
            continue;
        }
        return Err(MakeError::Failed {
            command: c.to_string(),
            code: out.code,
            tail: out.tail,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Tree {
        _dir: tempfile::TempDir,
        env: IocEnv,
    }

    impl Tree {
        fn new() -> Tree {
            let dir = tempfile::tempdir().unwrap();
            let root = fs_err::canonicalize(dir.path()).unwrap().join("epics");
            let env = IocEnv::new(&root);
            let t = Tree { _dir: dir, env };
            t.write(
                "epics-base/dbd/softIoc.dbd",
                "menu(menuYesNo) {\n}\nrecordtype(ai) {\n}\n",
            );
            t.write("epics-base/bin/linux-x86_64/softIoc", "");
            t
        }

        fn write(&self, rel: &str, text: &str) {
            let p = self.env.epics_root.join(rel);
            fs_err::create_dir_all(p.parent().unwrap()).unwrap();
            fs_err::write(p, text).unwrap();
        }

        fn read(&self, rel: &str) -> String {
            fs_err::read_to_string(self.env.epics_root.join(rel)).unwrap()
        }
    }

    #[test]
    fn skeleton_points_at_the_support_folder() {
        let files = skeleton_files(Path::new("/tmp/x/support"));
        let release = &files
            .iter()
            .find(|(n, _)| *n == "configure/RELEASE")
            .unwrap()
            .1;
        assert!(
            release.contains("\nSUPPORT=/tmp/x/support\ninclude $(SUPPORT)/configure/RELEASE\n")
        );
        let src = &files
            .iter()
            .find(|(n, _)| *n == "iocApp/src/Makefile")
            .unwrap()
            .1;
        assert!(src.contains("$(shell cat $(SUPPORT)/configure/dbd_list 2>/dev/null)"));
        assert!(src.contains("$(shell tac $(SUPPORT)/configure/lib_list 2>/dev/null)"));
    }

    #[test]
    fn skeleton_follows_the_ioc_link_and_keeps_an_existing_source() {
        let t = Tree::new();
        let source = t.env.epics_root.join("generic-source/ioc");
        std::os::unix::fs::symlink(&source, &t.env.ioc).unwrap();
        assert!(instantiate_skeleton(&t.env).unwrap());
        assert!(source.join("iocApp/src/iocMain.cpp").is_file());
        assert!(t.env.ioc.join("configure/RULES_TOP").is_file());
        fs_err::write(source.join("Makefile"), "# mine\n").unwrap();
        assert!(!instantiate_skeleton(&t.env).unwrap());
        assert_eq!(t.read("generic-source/ioc/Makefile"), "# mine\n");
    }

    #[test]
    fn mode_depends_on_base_build_system() {
        let t = Tree::new();
        assert_eq!(mode(&t.env), Mode::Launcher);
        t.write("epics-base/configure/CONFIG", "");
        assert_eq!(mode(&t.env), Mode::Make);
    }

    #[test]
    fn make_builds_once_without_jobs_and_cleans_around() {
        let t = Tree::new();
        let lines: Vec<String> = make_commands(&t.env, false)
            .iter()
            .map(CommandSpec::command_line)
            .collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[1].ends_with("make"), "{lines:?}");
        assert_eq!(make_commands(&t.env, true).len(), 2);
    }

    #[test]
    fn launcher_of_a_base_only_ioc_uses_soft_ioc_dbd() {
        let t = Tree::new();
        let built = build_launcher(&t.env).unwrap();
        let script = t.read("ioc/bin/linux-x86_64/ioc");
        let base = t.env.epics_base.display();
        let root = t.env.epics_root.display();
        assert_eq!(
            script.lines().last().unwrap(),
            format!("exec {base}/bin/linux-x86_64/softIoc -S -D {root}/ioc/dbd/ioc.dbd \"$@\"")
        );
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &fs_err::metadata(&built.binary).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o755);
        let dbd = t.read("ioc/dbd/ioc.dbd");
        assert!(dbd.contains("recordtype(ai) {"));
        assert!(built.needs_code.is_empty());
    }

    #[test]
    fn launcher_dbd_expands_support_dbds_in_release_order() {
        let t = Tree::new();
        let root = t.env.epics_root.display().to_string();
        t.write(
            "support/configure/RELEASE",
            &format!(
                "SUPPORT={root}/support\n-include $(TOP)/configure/SUPPORT.$(EPICS_HOST_ARCH)\n\
                 EPICS_BASE={root}/epics-base\nCOUNTER = $(SUPPORT)/counter\nCALC = {root}/support/calc\n"
            ),
        );
        t.write("support/configure/dbd_list", "counter.dbd\ncalc.dbd\n");
        t.write(
            "support/counter/dbd/counter.dbd",
            "include \"base.dbd\"\ninclude \"counterMenus.dbd\"\n",
        );
        t.write(
            "support/counter/dbd/counterMenus.dbd",
            "menu(counterMode) {\n}\n",
        );
        t.write(
            "support/calc/dbd/calc.dbd",
            "include \"counterMenus.dbd\"\nregistrar(calcRegister)\n",
        );
        let built = build_launcher(&t.env).unwrap();
        let dbd = t.read("ioc/dbd/ioc.dbd");
        let order: Vec<&str> = dbd.lines().filter(|l| l.starts_with("# ")).collect();
        assert_eq!(order.len(), 5, "{dbd}");
        assert!(order[1].starts_with("# softIoc.dbd"));
        assert!(order[2].starts_with("# counter.dbd"));
        assert!(order[3].starts_with("# counterMenus.dbd"));
        assert!(order[4].starts_with("# calc.dbd"));
        assert_eq!(dbd.matches("menu(counterMode)").count(), 1);
        assert!(!dbd.contains("include"));
        assert_eq!(
            built.needs_code,
            [(
                "calc.dbd".to_string(),
                "registrar(calcRegister)".to_string()
            )]
        );
    }

    #[test]
    fn libraries_need_a_compiling_base() {
        let t = Tree::new();
        t.write("support/configure/lib_list", "asyn\nmotor\n");
        let err = build_launcher(&t.env).unwrap_err();
        assert!(
            matches!(&err, IocBuildError::NeedsCompiler { libs, .. } if libs == &["asyn", "motor"])
        );
        assert!(err.to_string().starts_with(
            "the generic IOC needs compiled support libraries (asyn, motor) but EPICS base at"
        ));
    }

    #[test]
    fn missing_soft_ioc_and_dbds_are_named() {
        let t = Tree::new();
        t.write("support/configure/dbd_list", "nowhere.dbd\n");
        let err = build_launcher(&t.env).unwrap_err();
        assert!(
            err.to_string().starts_with("cannot find `nowhere.dbd` in"),
            "{err}"
        );
        fs_err::remove_file(t.env.soft_ioc()).unwrap();
        let err = build_launcher(&t.env).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("has no `bin/linux-x86_64/softIoc`"),
            "{err}"
        );
    }

    #[test]
    fn release_macros_expand_earlier_ones() {
        let m = release_macros(
            "# c\nSUPPORT=/e/support\ninclude $(TOP)/x\nA = $(SUPPORT)/a\nB=${A}/b\nA = /other\n",
        );
        assert_eq!(
            m,
            [
                ("SUPPORT".to_string(), "/e/support".to_string()),
                ("B".to_string(), "/e/support/a/b".to_string()),
                ("A".to_string(), "/other".to_string()),
            ]
        );
    }
}
