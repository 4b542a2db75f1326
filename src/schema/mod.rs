//! JSON schemas: for IOC instance files, support definitions and install files.
//!
//! Editors and CI validate YAML against these. Three documents come out of
//! here, each built from Rust code:
//!
//! - [`ioc_schema`]: the schema of IOC instance files for a set of support
//!   modules, identical to what `ibek ioc generate-schema` prints;
//! - [`support_schema`]: the schema of `*.ibek.support.yaml` files, identical
//!   to `ibek support generate-schema`;
//! - [`install_schema`]: the schema of ibek-support `*.install.yml` build
//!   definitions (the variables the support build reads).
//!
//! Schemas are [`Json`] values, which keep Python's number model; print them
//! with [`to_pretty`] to get `json.dumps(indent=2)` text, or convert them with
//! [`Json::to_serde`] to validate with a `serde_json` based validator.
//!
//! Where iocforge knowingly differs from ibek 4.8.2:
//!
//! - `ioc generate-schema` reads `$EPICS_ROOT/ibek-defs` in sorted order;
//!   ibek takes the file system's order. With several files there, the
//!   `oneOf` order and the numbering of clashing `$defs` names may differ,
//!   which changes no verdict, unless two files define the same
//!   entity type (`module.name`): the later file wins, and "later" differs.
//! - Definitions ibek crashes on while building its classes (a parameter
//!   named like a pydantic method, an enum value named `mro`, empty or
//!   `_sunder_`) are reported as [`SchemaError`]s at the definition; both
//!   tools exit 1.
//! - Titles use Rust's Unicode tables, newer than Python 3.11's, and a
//!   short list of case-ignorable characters for the Greek final sigma.

mod builtin;
pub mod check;
pub mod encode;
mod enums;
pub mod install;
pub mod ioc;
pub mod json;
pub mod names;
pub mod support;

use std::sync::Arc;

use crate::diag::Diagnostic;
use crate::source::{SourceFile, Span};

pub use install::install_schema;
pub use ioc::ioc_schema;
pub use json::{to_pretty, Json};
pub use support::support_schema;

/// Why ibek could not make a schema from otherwise valid definitions.
///
/// ibek crashes on these while creating its Python classes; iocforge
/// reports them against the definition that causes them.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SchemaError {
    /// A parameter name that pydantic reserves for its own methods.
    #[error("entity model `{entity}`: parameter name `{param}` is reserved by pydantic")]
    ReservedParameter {
        /// The entity model's `module.name`.
        entity: String,
        /// The parameter.
        param: String,
        /// The support file.
        file: Arc<SourceFile>,
        /// Where the parameter is defined.
        span: Span,
    },
    /// An enum value whose name Python's `Enum` refuses.
    #[error("entity model `{entity}`: enum parameter `{param}` has a value named `{member}`, which Python's Enum rejects")]
    EnumMember {
        /// The entity model's `module.name`.
        entity: String,
        /// The parameter.
        param: String,
        /// The value's name (`str()` of the key).
        member: String,
        /// The support file.
        file: Arc<SourceFile>,
        /// Where the key is written.
        span: Span,
    },
}

impl SchemaError {
    /// The error as a diagnostic pointing into the support file.
    pub fn to_diagnostic(&self) -> Diagnostic {
        match self {
            SchemaError::ReservedParameter { file, span, .. } => {
                Diagnostic::error(file, *span, self.to_string())
                    .with_hint("rename the parameter: ibek cannot build an entity class with it")
            }
            SchemaError::EnumMember { file, span, .. } => {
                Diagnostic::error(file, *span, self.to_string()).with_hint(
                    "rename the value: `mro`, empty names and `_names_` like this are reserved by Python",
                )
            }
        }
    }
}
