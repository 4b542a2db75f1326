//! Vendoring of runtime-support patterns: ibek 4.8.2's `pattern` command group.
//!
//! A pattern (StreamDevice protocol files, a plugin set, ...) lives in a
//! pattern library, a git repository or a local folder. It is copied into a
//! destination (an IOC instance folder) at a pinned version and recorded in
//! `runtime-lock.yaml` with one SHA-256 per file. This module sits beside
//! `runtime` and `build` under `cli`: [`reference`] names libraries and
//! patterns, [`fetch`] brings a pattern folder into a private temporary tree
//! (through the `git` program), [`manifest`] plans which files land where,
//! [`lock`] reads and writes the lock byte for byte as ibek does, [`vendor`]
//! applies a plan to the destination as one transaction, and [`schema`]
//! writes the instance's `ioc.schema.json` from the image's published base
//! schema (located and cached by [`published`], fetched by [`http`]) and the instance's own
//! support definitions. Nothing here reads the process environment: the
//! command line passes every setting in.

mod dest;
pub mod fetch;
pub mod http;
pub mod lock;
pub mod manifest;
pub mod published;
mod pyjson;
pub mod reference;
pub mod schema;
mod txn;
pub mod vendor;

use crate::diag::Diagnostics;

/// The lock file at a destination's root.
pub const RUNTIME_LOCK_NAME: &str = "runtime-lock.yaml";
/// The instance schema at a destination's root.
pub const IOC_SCHEMA_NAME: &str = "ioc.schema.json";

/// Why a pattern command failed; the command line exits 1 for every one.
#[derive(Debug, thiserror::Error)]
pub enum PatternError {
    /// A message naming the file or reference, and how to fix it.
    #[error("{message}")]
    Message {
        /// What went wrong, naming the file or reference.
        message: String,
        /// How to fix it.
        hint: Option<String>,
    },
    /// Problems in YAML files, pointing at their lines.
    #[error("{}", .0.render())]
    Diagnostics(Diagnostics),
}

impl PatternError {
    /// An error with a message and no hint.
    pub fn new(message: impl Into<String>) -> PatternError {
        PatternError::Message {
            message: message.into(),
            hint: None,
        }
    }

    /// An error with a message and a hint.
    pub fn with_hint(message: impl Into<String>, hint: impl Into<String>) -> PatternError {
        PatternError::Message {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    /// Prefixes the message (as ibek wraps errors in `could not resolve ...`).
    #[must_use]
    pub fn prefixed(self, prefix: &str) -> PatternError {
        match self {
            PatternError::Message { message, hint } => PatternError::Message {
                message: format!("{prefix}{message}"),
                hint,
            },
            other @ PatternError::Diagnostics(_) => other,
        }
    }
}

impl From<Diagnostics> for PatternError {
    fn from(d: Diagnostics) -> Self {
        PatternError::Diagnostics(d)
    }
}

/// An I/O failure on `path`, as a pattern error.
pub(crate) fn io_error(what: &str, path: &std::path::Path, e: &std::io::Error) -> PatternError {
    PatternError::with_hint(
        format!(
            "cannot {what} `{}`: {}",
            path.display(),
            crate::source::io_reason(e)
        ),
        "check the path and its permissions",
    )
}

/// Python's `repr()` of a string, as ibek's messages quote names (`'name'`).
pub(crate) fn py_repr(s: &str) -> String {
    crate::jinja::pyfmt::str_repr(s)
}

#[cfg(test)]
mod tests {
    use super::py_repr;

    #[test]
    fn repr_quotes_like_python() {
        assert_eq!(py_repr("abc"), "'abc'");
        assert_eq!(py_repr("it's"), "\"it's\"");
        assert_eq!(py_repr("a'\"b"), "'a\\'\"b'");
        assert_eq!(py_repr("a\\b"), "'a\\\\b'");
    }
}
