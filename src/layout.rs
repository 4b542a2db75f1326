//! The `/epics` tree and the environment that places it: built once in `cli/`
//! and passed down, so no library module reads the process environment.
//!
//! [`Environment`] is a snapshot of the variables iocforge was started with
//! (templates' `_global.get_env`, msi's `$(VAR)` in template names, `PATH`);
//! [`EpicsLayout`] owns every path of the tree (`EPICS_ROOT`, `IOC`,
//! `RUNTIME_DIR`, `SUPPORT`, `ibek-defs`, `pvi-defs`, `opi`, `autosave`, ...).
//! ibek's commands use ibek's `GLOBALS` paths (everything under
//! `EPICS_ROOT`); the container start honours `$IOC`, `$RUNTIME_DIR` and
//! `$SUPPORT` as start.sh does. Both sets live here, named apart.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use crate::env;

/// A snapshot of environment variables, in name order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    vars: BTreeMap<OsString, OsString>,
}

impl Environment {
    /// The variables of this process; the one place iocforge reads them.
    #[allow(clippy::disallowed_methods)]
    pub fn capture() -> Self {
        Environment {
            vars: std::env::vars_os().collect(),
        }
    }

    /// An environment holding exactly `pairs` (tests, and callers that build one).
    pub fn from_pairs<K: Into<OsString>, V: Into<OsString>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Environment {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// A variable's value, when set and valid UTF-8.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(OsStr::new(name)).and_then(|v| v.to_str())
    }

    /// A variable's value as the OS holds it.
    pub fn get_os(&self, name: impl AsRef<OsStr>) -> Option<&OsStr> {
        self.vars.get(name.as_ref()).map(OsString::as_os_str)
    }

    /// A variable's value when set to a non-empty string.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// Whether a variable is set to `true` (any case), ibek's test for switches.
    pub fn is_true(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// Sets a variable in this snapshot (the process environment is untouched).
    pub fn set(&mut self, name: impl Into<OsString>, value: impl Into<OsString>) {
        self.vars.insert(name.into(), value.into());
    }

    /// The names and values, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&OsStr, &OsStr)> {
        self.vars
            .iter()
            .map(|(k, v)| (k.as_os_str(), v.as_os_str()))
    }

    /// The first directory of `PATH` holding an executable file `name`.
    pub fn find_program(&self, name: &str) -> Option<PathBuf> {
        use std::os::unix::fs::PermissionsExt;
        let path = self.get_os("PATH")?;
        std::env::split_paths(path)
            .map(|dir| dir.join(name))
            .find(|p| {
                fs_err::metadata(p)
                    .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            })
    }
}

/// Every path of the `/epics` tree, and the environment it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpicsLayout {
    root: PathBuf,
    ioc: PathBuf,
    runtime: PathBuf,
    support: PathBuf,
    epics_base: PathBuf,
    ioc_var: String,
    runtime_var: String,
    host_arch: String,
    target_arch: String,
    env: Environment,
}

/// The host architecture when `EPICS_HOST_ARCH` is not set.
pub const DEFAULT_ARCH: &str = "linux-x86_64";
/// The name of the instance config folder inside the IOC folder (ibek's `CONFIG_DIR_NAME`).
pub const CONFIG_DIR_NAME: &str = "config";

impl EpicsLayout {
    /// The tree under `$EPICS_ROOT` (`/epics/` when unset).
    pub fn from_env(env: Environment) -> Self {
        let root = PathBuf::from(env.get(env::EPICS_ROOT).unwrap_or(env::DEFAULT_EPICS_ROOT));
        EpicsLayout::new(&root, env)
    }

    /// The tree under `root` (a flag that overrides `$EPICS_ROOT`); `$IOC`,
    /// `$RUNTIME_DIR`, `$SUPPORT`, `$EPICS_BASE` override their folders.
    pub fn new(root: &Path, env: Environment) -> Self {
        let var = |name: &str, default: PathBuf| {
            env.get_os(name)
                .filter(|v| !v.is_empty())
                .map_or(default, PathBuf::from)
        };
        let ioc = var(env::IOC, root.join("ioc"));
        let runtime = var(env::RUNTIME_DIR, root.join("runtime"));
        let support = var(env::SUPPORT, root.join("support"));
        let epics_base = var(env::EPICS_BASE, root.join("epics-base"));
        let host_arch = env.non_empty(env::EPICS_HOST_ARCH).unwrap_or(DEFAULT_ARCH);
        let target_arch = env.non_empty(env::EPICS_TARGET_ARCH).unwrap_or(host_arch);
        EpicsLayout {
            root: root.to_path_buf(),
            ioc,
            runtime,
            support,
            epics_base,
            ioc_var: env.get(env::IOC).unwrap_or_default().to_string(),
            runtime_var: env.get(env::RUNTIME_DIR).unwrap_or_default().to_string(),
            host_arch: host_arch.to_string(),
            target_arch: target_arch.to_string(),
            env,
        }
    }

    /// The same tree with `$IOC` and `$RUNTIME_DIR` exported as their
    /// resolved folders, as start.sh exports them before it runs ibek.
    #[must_use]
    pub fn exported(&self) -> Self {
        let mut out = self.clone();
        out.ioc_var = self.ioc.display().to_string();
        out.runtime_var = self.runtime.display().to_string();
        out.env.set(env::IOC, self.ioc.as_os_str());
        out.env.set(env::RUNTIME_DIR, self.runtime.as_os_str());
        out
    }

    /// The environment this layout was read from.
    pub fn env(&self) -> &Environment {
        &self.env
    }

    /// The environment, to add variables (e.g. from `RELEASE.shell`).
    pub fn env_mut(&mut self) -> &mut Environment {
        &mut self.env
    }

    /// `$EPICS_ROOT` as given (ibek's `GLOBALS.EPICS_ROOT`, `/epics/` by default).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `$EPICS_ROOT` without a trailing `/` (the support build's spelling).
    pub fn root_clean(&self) -> PathBuf {
        self.root.components().collect()
    }

    /// `$IOC`, else `$EPICS_ROOT/ioc`: the generic IOC folder the IOC runs in.
    pub fn ioc(&self) -> &Path {
        &self.ioc
    }

    /// `$IOC/config`: the instance's config folder at container start.
    pub fn config(&self) -> PathBuf {
        self.ioc.join(CONFIG_DIR_NAME)
    }

    /// `$RUNTIME_DIR`, else `$EPICS_ROOT/runtime`: where the container start writes.
    pub fn runtime(&self) -> &Path {
        &self.runtime
    }

    /// `$SUPPORT`, else `$EPICS_ROOT/support`.
    pub fn support(&self) -> &Path {
        &self.support
    }

    /// `$EPICS_BASE`, else `$EPICS_ROOT/epics-base`.
    pub fn epics_base(&self) -> &Path {
        &self.epics_base
    }

    /// `$EPICS_HOST_ARCH`, else `linux-x86_64`.
    pub fn host_arch(&self) -> &str {
        &self.host_arch
    }

    /// `$EPICS_TARGET_ARCH`, else the host architecture.
    pub fn target_arch(&self) -> &str {
        &self.target_arch
    }

    /// `$IOC` as ibek reads it for `st.cmd` (empty when unset).
    pub fn ioc_var(&self) -> &str {
        &self.ioc_var
    }

    /// `$RUNTIME_DIR` as ibek reads it for `st.cmd` (empty when unset).
    pub fn runtime_var(&self) -> &str {
        &self.runtime_var
    }

    /// `$EPICS_ROOT/ibek-defs`: the support definitions of the image.
    pub fn ibek_defs(&self) -> PathBuf {
        self.root.join("ibek-defs")
    }

    /// `$EPICS_ROOT/pvi-defs`: the PVI device files of the image.
    pub fn pvi_defs(&self) -> PathBuf {
        self.root.join("pvi-defs")
    }

    /// `$EPICS_ROOT/opi`: generated screens.
    pub fn opi(&self) -> PathBuf {
        self.root.join("opi")
    }

    /// `$EPICS_ROOT/autosave`: links to every autosave request template.
    pub fn autosave(&self) -> PathBuf {
        self.root.join("autosave")
    }

    /// ibek's `GLOBALS.RUNTIME_OUTPUT`: `$EPICS_ROOT/runtime`, the default
    /// output of ibek's runtime commands (`$RUNTIME_DIR` is not read there).
    pub fn ibek_runtime(&self) -> PathBuf {
        self.root.join("runtime")
    }

    /// ibek's `GLOBALS.SUPPORT`: `$EPICS_ROOT/support`, whatever `$SUPPORT` says.
    pub fn ibek_support(&self) -> PathBuf {
        self.root.join("support")
    }

    /// ibek's `GLOBALS.IOC_FOLDER`: `$EPICS_ROOT/ioc`, whatever `$IOC` says.
    pub fn ibek_ioc(&self) -> PathBuf {
        self.root.join("ioc")
    }

    /// ibek's config folder: `$EPICS_ROOT/ioc/config`.
    pub fn ibek_config(&self) -> PathBuf {
        self.ibek_ioc().join(CONFIG_DIR_NAME)
    }

    /// `$EPICS_ROOT/support/configure`: what support builds record for the IOC build.
    pub fn ibek_configure(&self) -> PathBuf {
        self.ibek_support().join("configure")
    }

    /// `$SUPPORT/configure/RELEASE.shell`: support module paths for the shell.
    pub fn release_shell(&self) -> PathBuf {
        self.support.join("configure/RELEASE.shell")
    }

    /// `$SUPPORT/configure/protocol`: the protocol files of all support modules.
    pub fn support_protocols(&self) -> PathBuf {
        self.support.join("configure/protocol")
    }

    /// The IOC binary the generic IOC build makes: `$IOC/bin/$EPICS_HOST_ARCH/ioc`.
    pub fn ioc_binary(&self) -> PathBuf {
        self.ioc.join("bin").join(&self.host_arch).join("ioc")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_epics_root_and_variables_override() {
        let l = EpicsLayout::from_env(Environment::from_pairs([("EPICS_ROOT", "/x")]));
        assert_eq!(l.ioc(), Path::new("/x/ioc"));
        assert_eq!(l.runtime(), Path::new("/x/runtime"));
        assert_eq!(l.support(), Path::new("/x/support"));
        assert_eq!(l.ibek_defs(), Path::new("/x/ibek-defs"));
        assert_eq!(l.ioc_var(), "");
        assert_eq!(l.host_arch(), "linux-x86_64");
        let l = EpicsLayout::from_env(Environment::from_pairs([
            ("EPICS_ROOT", "/x"),
            ("IOC", "/i"),
            ("SUPPORT", "/s"),
            ("EPICS_HOST_ARCH", "a"),
        ]));
        assert_eq!(l.config(), Path::new("/i/config"));
        assert_eq!(l.ibek_config(), Path::new("/x/ioc/config"));
        assert_eq!(l.support(), Path::new("/s"));
        assert_eq!(l.ibek_support(), Path::new("/x/support"));
        assert_eq!(l.ioc_binary(), Path::new("/i/bin/a/ioc"));
        assert_eq!(l.target_arch(), "a");
        let e = l.exported();
        assert_eq!(e.runtime_var(), "/x/runtime");
        assert_eq!(e.env().get("RUNTIME_DIR"), Some("/x/runtime"));
    }

    #[test]
    fn default_root_is_ibeks() {
        let l = EpicsLayout::from_env(Environment::default());
        assert_eq!(l.root(), Path::new("/epics/"));
        assert_eq!(l.root_clean(), Path::new("/epics"));
    }
}
