//! Services repositories: one Helm chart per IOC instance or other service.
//!
//! This sits beside `runtime` and `build`, above `source`: a services
//! repository (`services/NAME/` folders with `Chart.yaml`, `values.yaml`,
//! `config/` and `templates/`, often symlinked into `.helm-shared/`, plus
//! the shared `services/values.yaml`) is read into a [`repo::ServicesRepo`];
//! [`digest`] turns each service into the inputs that reach Kubernetes, and
//! [`changed`] compares two snapshots of the repository ([`snapshot`] reads
//! commits through the `git` program, never touching the user's work tree).

pub mod canonical;
pub mod changed;
pub mod check;
pub mod digest;
pub mod helm;
pub mod image_defs;
pub mod package;
pub mod publish;
pub mod repo;
pub mod snapshot;

use std::path::PathBuf;

use crate::diag::Diagnostics;

/// Why a services command could not read a repository.
#[derive(Debug, thiserror::Error)]
pub enum ServicesError {
    /// The repository's files are invalid (YAML errors, a `Chart.yaml` without a name).
    #[error("invalid services repository")]
    Invalid(Diagnostics),
    /// A file or folder could not be read.
    #[error("cannot read `{path}`: {reason}")]
    Read {
        /// The path that failed.
        path: PathBuf,
        /// The operating system's reason.
        reason: String,
    },
    /// A temporary copy could not be written.
    #[error("cannot write the temporary copy `{path}`: {reason}")]
    Write {
        /// The path that failed.
        path: PathBuf,
        /// The operating system's reason.
        reason: String,
    },
    /// `git` failed or is missing.
    #[error("`git {args}` failed: {message}")]
    Git {
        /// The git arguments.
        args: String,
        /// git's own message, or why it could not run.
        message: String,
    },
    /// The folder holds no `services/` folder.
    #[error("`{0}` has no `services/` folder")]
    NoServices(PathBuf),
}

impl ServicesError {
    /// True when the user's files are at fault (exit 1) rather than the environment (exit 2).
    pub fn is_invalid_input(&self) -> bool {
        matches!(
            self,
            ServicesError::Invalid(_) | ServicesError::NoServices(_)
        )
    }
}

impl From<Diagnostics> for ServicesError {
    fn from(d: Diagnostics) -> Self {
        ServicesError::Invalid(d)
    }
}
