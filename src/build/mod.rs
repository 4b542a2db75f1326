//! Support module builds: ibek-support's `MODULE.install.yml`, without Ansible.
//!
//! A generic IOC Dockerfile builds each support module from the ibek-support
//! checkout. Here that is a pipeline of plain stages:
//! `install.rs` reads the file (strings kept as written, with spans) →
//! `spec.rs` renders it in ibek-support's variable scope (`vars.rs`) into an
//! [`InstallSpec`] → `plan.rs` turns spec and [`BuildEnv`] into [`Step`]s
//! (pure data, `step.rs`) → `executor.rs` runs them: commands (`command.rs`,
//! `apt.rs`), file edits (`patch.rs`, `release.rs`) and the Ansible task
//! files of `tasks:` (`tasks/`, checked before the first step); `stamp.rs`
//! records what was built and `git.rs` shows where `insteadOf` sends a clone.
//! Every `/epics/...` path of the roles is under [`BuildEnv::epics_root`], so
//! a whole build can run in a temporary tree.
//!
//! Images: `manifest.rs` reads `ioc.manifest.yaml`, `dockerfile.rs` makes the
//! generic IOC Dockerfile of it (pure), `context.rs` archives the build
//! context (`.dockerignore` honoured), `image.rs` reads a build's stream and
//! `docker.rs` talks to the daemon (bollard, the only async code).
//! `ioc_build.rs` builds the generic IOC inside the image and `assets.rs`
//! extracts its runtime files.

pub mod apt;
pub mod assets;
pub mod command;
pub mod context;
pub mod docker;
pub mod dockerfile;
pub mod executor;
pub mod git;
pub mod image;
pub mod install;
pub mod ioc_build;
pub mod ioc_defs;
pub mod manifest;
pub mod patch;
pub mod plan;
pub mod release;
pub mod spec;
pub mod stamp;
pub mod step;
pub mod tasks;
pub mod vars;

use std::path::{Path, PathBuf};

pub use apt::{Apt, Downloader};

use crate::layout::{Environment, EpicsLayout};
pub use install::{load_install, InstallFile};
pub use plan::plan;
pub use spec::{resolve_install, InstallSpec};
pub use step::{Phase, Step};

/// Where and for what a build runs: the `/epics` tree, the module's
/// ibek-support folder, the target architecture and the build switches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildEnv {
    /// `EPICS_ROOT` (`/epics`): every path of the support tree is under it.
    pub epics_root: PathBuf,
    /// The folder holding `MODULE.install.yml` (and its patches, scripts,
    /// `*.ibek.support.yaml`, `*.req`).
    pub ibek_support_folder: PathBuf,
    /// `EPICS_TARGET_ARCH` (`linux-x86_64`, `RTEMS-beatnik`, ...).
    pub target_arch: String,
    /// CPUs for the default `make -jN`.
    pub vcpus: usize,
    /// Skip apt installs (`skip_apt`).
    pub skip_apt: bool,
    /// Skip the `make clean` after the build (`skip_clean`).
    pub skip_clean: bool,
    /// The file whose presence means apt's cache was updated in this container.
    pub apt_sentinel: PathBuf,
    /// Run apt-get through sudo.
    pub sudo: bool,
    /// How `download_extras` are fetched.
    pub downloader: Downloader,
}

impl BuildEnv {
    /// A linux-x86_64 build with one CPU and nothing detected from the machine.
    pub fn new(epics_root: &Path, ibek_support_folder: &Path) -> Self {
        // components() drops a trailing `/` (EPICS_ROOT defaults to `/epics/`)
        let epics_root: PathBuf = epics_root.components().collect();
        BuildEnv {
            apt_sentinel: PathBuf::from("/tmp/.apt_cache_updated"),
            epics_root,
            ibek_support_folder: ibek_support_folder.to_path_buf(),
            target_arch: "linux-x86_64".into(),
            vcpus: 1,
            skip_apt: false,
            skip_clean: false,
            sudo: false,
            downloader: Downloader::Curl,
        }
    }

    /// A build for this machine in `layout`: its root and target
    /// architecture (`EPICS_TARGET_ARCH`, else `EPICS_HOST_ARCH`, else
    /// `linux-x86_64`), this machine's CPUs, the user, downloader and apt
    /// switches of the layout's environment; the apt sentinel in the
    /// temporary folder.
    pub fn detect(layout: &EpicsLayout, ibek_support_folder: &Path) -> Self {
        let mut env = BuildEnv::new(layout.root(), ibek_support_folder);
        env.target_arch = layout.target_arch().to_string();
        env.vcpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        env.apt_sentinel = std::env::temp_dir().join(".apt_cache_updated");
        env.sudo = Apt::detect(layout.env()).sudo;
        env.downloader = Downloader::detect(layout.env());
        env
    }

    /// Whether the target is Linux (`is_linux`).
    pub fn is_linux(&self) -> bool {
        self.target_arch.contains("linux")
    }

    /// Whether the target is RTEMS (`is_rtems`).
    pub fn is_rtems(&self) -> bool {
        self.target_arch.contains("RTEMS")
    }

    /// The `/epics` tree of the build: ibek's paths under [`BuildEnv::epics_root`].
    pub fn layout(&self) -> EpicsLayout {
        EpicsLayout::new(&self.epics_root, Environment::default())
    }

    /// `$EPICS_ROOT/support`.
    pub fn support(&self) -> PathBuf {
        self.layout().ibek_support()
    }

    /// `$EPICS_ROOT/support/configure`.
    pub fn configure(&self) -> PathBuf {
        self.layout().ibek_configure()
    }

    /// The global RELEASE every module links to.
    pub fn release_file(&self) -> PathBuf {
        self.configure().join("RELEASE")
    }

    /// `RELEASE.shell`: `export MACRO="path"` lines and `EPICS_DB_INCLUDE_PATH`.
    pub fn release_shell_file(&self) -> PathBuf {
        self.configure().join("RELEASE.shell")
    }

    /// `runtime_debs`: apt packages of the runtime stage (ibek's `RUNTIME_DEBS`).
    pub fn runtime_debs(&self) -> PathBuf {
        self.configure().join("runtime_debs")
    }

    /// `lib_list`: libraries the generic IOC links.
    pub fn lib_list(&self) -> PathBuf {
        self.configure().join("lib_list")
    }

    /// `dbd_list`: DBD files the generic IOC includes.
    pub fn dbd_list(&self) -> PathBuf {
        self.configure().join("dbd_list")
    }

    /// `runtime_files_list`: extra files of the runtime stage (ibek's `RUNTIME_FILES`).
    pub fn runtime_files_list(&self) -> PathBuf {
        self.configure().join("runtime_files_list")
    }

    /// `$EPICS_ROOT/ibek-defs`: `*.ibek.support.yaml` links.
    pub fn ibek_defs(&self) -> PathBuf {
        self.layout().ibek_defs()
    }

    /// `$EPICS_ROOT/pvi-defs`: `*.pvi.device.yaml` links.
    pub fn pvi_defs(&self) -> PathBuf {
        self.layout().pvi_defs()
    }

    /// `$EPICS_ROOT/autosave`: `*.req` links.
    pub fn autosave(&self) -> PathBuf {
        self.layout().autosave()
    }

    /// `$EPICS_ROOT/support/configure/protocol`: copied `protocol_files`.
    pub fn protocol(&self) -> PathBuf {
        self.configure().join("protocol")
    }
}

/// A module folder that could not be found.
#[derive(Debug, thiserror::Error)]
pub enum LocateError {
    /// The name cannot be a folder name.
    #[error("`{name}` is not a support module name")]
    BadName {
        /// The name given.
        name: String,
    },
    /// No folder holds `MODULE/MODULE.install.yml`.
    #[error("no `{name}/{name}.install.yml` in {}", searched.iter().map(|p| format!("`{}`", p.display())).collect::<Vec<_>>().join(", "))]
    NotFound {
        /// The module.
        name: String,
        /// The folders looked in.
        searched: Vec<PathBuf>,
    },
    /// Several ibek-support checkouts define the module.
    #[error("`{name}` is defined in more than one ibek-support folder: {}", found.iter().map(|p| format!("`{}`", p.display())).collect::<Vec<_>>().join(", "))]
    Ambiguous {
        /// The module.
        name: String,
        /// The folders that define it.
        found: Vec<PathBuf>,
    },
}

/// Finds the folder of `MODULE.install.yml`: `./MODULE/` of the current
/// directory (the ibek-support checkout a Dockerfile runs in), or
/// `../ibek-support*/MODULE/` (ibek-support-dls and friends beside it). Like
/// ibek-support's `find` role, more than one distinct match is an error.
pub fn locate_module(name: &str, cwd: &Path) -> Result<PathBuf, LocateError> {
    if name.is_empty() || name.contains('/') || name == "." || name == ".." {
        return Err(LocateError::BadName { name: name.into() });
    }
    let mut roots = vec![cwd.to_path_buf()];
    if let Some(parent) = cwd.parent() {
        if let Ok(entries) = fs_err::read_dir(parent) {
            let mut siblings: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with("ibek-support"))
                .map(|e| e.path())
                .collect();
            siblings.sort();
            roots.extend(siblings);
        }
    }
    let mut found: Vec<PathBuf> = Vec::new();
    for root in &roots {
        let folder = root.join(name);
        if folder.join(format!("{name}.install.yml")).is_file() {
            let real = fs_err::canonicalize(&folder).unwrap_or(folder);
            if !found.contains(&real) {
                found.push(real);
            }
        }
    }
    match found.len() {
        0 => Err(LocateError::NotFound {
            name: name.into(),
            searched: roots,
        }),
        1 => Ok(found.remove(0)),
        _ => Err(LocateError::Ambiguous {
            name: name.into(),
            found,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_epics_root() {
        let env = BuildEnv::new(Path::new("/tmp/e/"), Path::new("/x"));
        assert_eq!(env.epics_root, Path::new("/tmp/e"));
        assert_eq!(
            env.runtime_debs(),
            Path::new("/tmp/e/support/configure/runtime_debs")
        );
        assert_eq!(
            env.protocol(),
            Path::new("/tmp/e/support/configure/protocol")
        );
        assert_eq!(env.ibek_defs(), Path::new("/tmp/e/ibek-defs"));
    }

    #[test]
    fn locate_looks_here_and_in_sibling_checkouts() {
        let dir = tempfile::tempdir().unwrap();
        let here = dir.path().join("ibek-support");
        let dls = dir.path().join("ibek-support-dls");
        for (root, m) in [(&here, "asyn"), (&dls, "pmac"), (&dls, "asyn2")] {
            fs_err::create_dir_all(root.join(m)).unwrap();
            fs_err::write(root.join(m).join(format!("{m}.install.yml")), "").unwrap();
        }
        let asyn = locate_module("asyn", &here).unwrap();
        assert!(asyn.ends_with("ibek-support/asyn"));
        assert!(locate_module("pmac", &here)
            .unwrap()
            .ends_with("ibek-support-dls/pmac"));
        assert!(matches!(
            locate_module("motor", &here),
            Err(LocateError::NotFound { .. })
        ));
        assert!(matches!(
            locate_module("../x", &here),
            Err(LocateError::BadName { .. })
        ));
        fs_err::create_dir_all(dls.join("asyn")).unwrap();
        fs_err::write(dls.join("asyn/asyn.install.yml"), "").unwrap();
        assert!(matches!(
            locate_module("asyn", &here),
            Err(LocateError::Ambiguous { .. })
        ));
    }
}
