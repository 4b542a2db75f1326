//! Pattern references (`[library:]name[@version]`) and the library registry.
//!
//! The first step of `pattern add`: a reference names a pattern, perhaps the
//! library it lives in and the version to pin; the registry maps library
//! names to sources (git URLs or local folders), starting from ibek's two
//! public libraries and extended by `IBEK_PATTERN_LIBRARIES`, which the
//! command line reads and hands over as text.

use std::path::{Component, Path};
use std::sync::LazyLock;

use indexmap::IndexMap;
use regex::Regex;

use super::{py_repr, PatternError};

/// ibek's built-in pattern libraries, in the order it probes them.
pub const DEFAULT_LIBRARIES: &[(&str, &str)] = &[
    (
        "ibek-runtime-streamdevice",
        "https://github.com/epics-containers/ibek-runtime-streamdevice",
    ),
    (
        "ibek-runtime-support",
        "https://github.com/epics-containers/ibek-runtime-support",
    ),
];

static QUALIFIED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:(?P<library>[^:@]+):)?(?P<name>[^:@]+)(?:@(?P<version>.+))?$")
        .expect("static regex")
});

static SCHEME: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[a-z]+://").expect("static regex"));

/// A parsed `[library:]name[@version]` reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternRef {
    /// The pattern's folder in its library.
    pub name: String,
    /// The library named in the reference.
    pub library: Option<String>,
    /// The tag or branch to pin.
    pub version: Option<String>,
}

impl PatternRef {
    /// Parses a reference as ibek does (surrounding white space ignored).
    pub fn parse(qualified: &str) -> Result<PatternRef, PatternError> {
        let text = qualified.trim();
        let caps = QUALIFIED.captures(text).ok_or_else(|| {
            PatternError::with_hint(
                format!("invalid pattern reference: {}", py_repr(qualified)),
                "write it as [library:]name[@version], e.g. ibek-runtime-streamdevice:lakeshore340@1.0.0",
            )
        })?;
        let name = caps["name"].to_string();
        check_name(&name)?;
        Ok(PatternRef {
            name,
            library: caps.name("library").map(|m| m.as_str().to_string()),
            version: caps.name("version").map(|m| m.as_str().to_string()),
        })
    }
}

/// Refuses a pattern name that would leave its library (`../x`, `/etc`).
///
/// ibek joins the name onto the library folder unchecked; iocforge keeps
/// every read inside the library.
pub fn check_name(name: &str) -> Result<(), PatternError> {
    let path = Path::new(name);
    let escapes = path.is_absolute()
        || path
            .components()
            .any(|c| matches!(c, Component::ParentDir | Component::RootDir));
    if escapes || name.is_empty() {
        return Err(PatternError::with_hint(
            format!(
                "pattern name {} is not a folder inside its library",
                py_repr(name)
            ),
            "name the pattern's folder relative to the library root, without `..`",
        ));
    }
    Ok(())
}

/// Library names and their sources, in probing order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Libraries(pub IndexMap<String, String>);

impl Libraries {
    /// ibek's defaults, overridden and extended by an `IBEK_PATTERN_LIBRARIES`
    /// value (`name=uri,name2=uri2`).
    pub fn new(env_value: Option<&str>) -> Libraries {
        let mut map: IndexMap<String, String> = DEFAULT_LIBRARIES
            .iter()
            .map(|(n, u)| ((*n).to_string(), (*u).to_string()))
            .collect();
        for item in env_value.unwrap_or("").split(',') {
            if item.trim().is_empty() {
                continue;
            }
            let (name, uri) = item.split_once('=').unwrap_or((item, ""));
            if !uri.is_empty() {
                map.insert(name.trim().to_string(), uri.trim().to_string());
            }
        }
        Libraries(map)
    }

    /// The source of a library named in a reference.
    pub fn get(&self, library: &str) -> Result<&str, PatternError> {
        self.0.get(library).map(String::as_str).ok_or_else(|| {
            let mut known: Vec<&str> = self.0.keys().map(String::as_str).collect();
            known.sort_unstable();
            let known = if known.is_empty() {
                "(none)".to_string()
            } else {
                known.join(", ")
            };
            PatternError::with_hint(
                format!("unknown library {}; known: {known}", py_repr(library)),
                format!(
                    "register it with IBEK_PATTERN_LIBRARIES={library}=<git URL or folder>, or pass --source"
                ),
            )
        })
    }

    /// Maps a source label recorded in a lock back to a fetchable URI.
    ///
    /// A registered library whose label matches wins; a `github.com/` label
    /// gets its `https://` back; anything else is used as written.
    pub fn source_uri(&self, source: &str) -> String {
        for uri in self.0.values() {
            if source_label(uri) == source {
                return uri.clone();
            }
        }
        if source.starts_with("github.com/") {
            return format!("https://{source}");
        }
        source.to_string()
    }
}

/// The stable label of a source recorded in the lock: no `http(s)://`, no
/// `.git`, no trailing `/`.
pub fn source_label(uri: &str) -> String {
    let s = uri
        .strip_prefix("https://")
        .or_else(|| uri.strip_prefix("http://"))
        .unwrap_or(uri);
    let s = s.strip_suffix(".git").unwrap_or(s);
    s.trim_end_matches('/').to_string()
}

/// Whether a source is a local folder (a `file://` URI, or an existing
/// path with no URL scheme) rather than something for `git clone`.
pub fn is_local(uri: &str) -> bool {
    if uri.starts_with("file://") {
        return true;
    }
    if SCHEME.is_match(uri) {
        return false;
    }
    // Python's Path("") is ".", which exists
    uri.is_empty() || Path::new(uri).exists()
}

/// The folder of a local source.
pub fn local_path(uri: &str) -> &Path {
    let p = uri.strip_prefix("file://").unwrap_or(uri);
    if p.is_empty() {
        Path::new(".")
    } else {
        Path::new(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_like_ibek() {
        let r = PatternRef::parse(" lib:name@1.0 ").unwrap();
        assert_eq!(r.library.as_deref(), Some("lib"));
        assert_eq!(r.name, "name");
        assert_eq!(r.version.as_deref(), Some("1.0"));
        let r = PatternRef::parse("name").unwrap();
        assert_eq!((r.library, r.version), (None, None));
        assert!(PatternRef::parse("a:b:c").is_err());
        assert!(PatternRef::parse("lib:../etc").is_err());
    }

    #[test]
    fn registry_overrides_and_extends_defaults() {
        let libs = Libraries::new(Some("x=/tmp/x, ibek-runtime-support = /y ,bad,"));
        let names: Vec<&String> = libs.0.keys().collect();
        assert_eq!(
            names,
            ["ibek-runtime-streamdevice", "ibek-runtime-support", "x"]
        );
        assert_eq!(libs.get("ibek-runtime-support").unwrap(), "/y");
        assert!(libs.get("nope").is_err());
    }

    #[test]
    fn labels_drop_scheme_and_git_suffix() {
        assert_eq!(
            source_label("https://github.com/o/r.git/"),
            "github.com/o/r.git"
        );
        assert_eq!(source_label("https://github.com/o/r.git"), "github.com/o/r");
        let libs = Libraries::new(None);
        assert_eq!(
            libs.source_uri("github.com/epics-containers/ibek-runtime-support"),
            "https://github.com/epics-containers/ibek-runtime-support"
        );
        assert_eq!(libs.source_uri("github.com/o/r"), "https://github.com/o/r");
        assert_eq!(libs.source_uri("/tmp/lib"), "/tmp/lib");
    }
}
