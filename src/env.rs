//! Every environment variable iocforge reads, with ibek's meaning.
//!
//! ibek's names are kept so existing Dockerfiles and start scripts work
//! unchanged; variables that only iocforge reads carry the `IOCFORGE_` prefix.

/// Root of the EPICS tree in the container (`/epics` by default).
pub const EPICS_ROOT: &str = "EPICS_ROOT";
/// The generic IOC folder; `st.cmd` starts with `cd "$IOC"`.
pub const IOC: &str = "IOC";
/// The runtime folder; `st.cmd` loads `$RUNTIME_DIR/ioc.db`.
pub const RUNTIME_DIR: &str = "RUNTIME_DIR";
/// The IOC instance name.
pub const IOC_NAME: &str = "IOC_NAME";
/// Folder of support modules (`$EPICS_ROOT/support` by default).
pub const SUPPORT: &str = "SUPPORT";
/// Host architecture of the EPICS build (`linux-x86_64`).
pub const EPICS_HOST_ARCH: &str = "EPICS_HOST_ARCH";
/// Target architecture of support builds (`linux-x86_64`, `RTEMS-beatnik`);
/// ibek-support's `is_linux` / `is_rtems` come from it.
pub const EPICS_TARGET_ARCH: &str = "EPICS_TARGET_ARCH";
/// EPICS base (`$EPICS_ROOT/epics-base`); `ioc build` compiles against it
/// when it has a build system, else launches its softIoc.
pub const EPICS_BASE: &str = "EPICS_BASE";
/// The Docker daemon `ioc build-image` talks to (`unix:///var/run/docker.sock` by default).
pub const DOCKER_HOST: &str = "DOCKER_HOST";
/// Set to `true` to skip waiting for devices at start.
pub const IBEK_DO_WAIT_DISABLE: &str = "IBEK_DO_WAIT_DISABLE";
/// Template search path for database expansion (msi's `EPICS_DB_INCLUDE_PATH`).
pub const EPICS_DB_INCLUDE_PATH: &str = "EPICS_DB_INCLUDE_PATH";
/// Set (non-empty) to run apt-get without `sudo` even when not root, e.g. to
/// use a fake `apt-get` on `PATH` in tests.
pub const IOCFORGE_APT_NO_SUDO: &str = "IOCFORGE_APT_NO_SUDO";
/// Disable colour in diagnostics.
pub const NO_COLOR: &str = "NO_COLOR";
/// The IOC command `runtime start` execs, without the st.cmd argument.
pub const IOCFORGE_IOC_COMMAND: &str = "IOCFORGE_IOC_COMMAND";
/// Seconds `runtime start` pauses after a failure (default 10).
pub const IOCFORGE_FAILURE_PAUSE: &str = "IOCFORGE_FAILURE_PAUSE";
/// Hide progress bars.
pub const IOCFORGE_NO_PROGRESS: &str = "IOCFORGE_NO_PROGRESS";

/// Extra pattern libraries for `pattern`, `name=uri,...` (git URLs or folders).
pub const IBEK_PATTERN_LIBRARIES: &str = "IBEK_PATTERN_LIBRARIES";
/// `1` downgrades `pattern check` failures to warnings.
pub const IBEK_ALLOW_DIRTY: &str = "IBEK_ALLOW_DIRTY";
/// The cache of published base schemas (default `~/.cache/ibek/schemas`).
pub const IBEK_SCHEMA_CACHE: &str = "IBEK_SCHEMA_CACHE";
/// The host published base schemas are fetched from (default `https://github.com`).
pub const IOCFORGE_SCHEMA_BASE_URL: &str = "IOCFORGE_SCHEMA_BASE_URL";
/// The cache folder of `services check`'s image definitions (`$XDG_CACHE_HOME/iocforge/image-defs`;
/// `~/.cache` when unset).
pub const XDG_CACHE_HOME: &str = "XDG_CACHE_HOME";
/// The home folder (the schema cache's default parent).
pub const HOME: &str = "HOME";
/// Proxy for https URLs (`https_proxy` is read first, as Python's urllib does).
pub const HTTPS_PROXY: &str = "HTTPS_PROXY";
/// Proxy for http URLs (`http_proxy` first).
pub const HTTP_PROXY: &str = "HTTP_PROXY";
/// Hosts reached without a proxy (`no_proxy` first).
pub const NO_PROXY: &str = "NO_PROXY";

/// The default `EPICS_ROOT` when the variable is not set.
pub const DEFAULT_EPICS_ROOT: &str = "/epics/";
/// Raises iocforge's bounds on template work, string sizes and YAML alias
/// expansion: `key=value,...` or a factor for all (see `limits.rs`, README "Limits").
pub const IOCFORGE_LIMITS: &str = "IOCFORGE_LIMITS";
