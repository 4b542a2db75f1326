//! `runtime-lock.yaml`: what each vendored pattern is pinned to, file by file.
//!
//! Read by every pattern command and written by `add` and `update`, in the
//! exact bytes ibek 4.8.2's ruamel.yaml writes: `version: 1`, or
//! `version: 2` when any pattern carries a `select:`; patterns in name order;
//! per pattern `version`, `source`, `select` (when set) and `files`, each
//! file a destination-relative key with `sha256:<hex>`, or a deliberate
//! `DIRTY # reason` left by hand.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use sha2::{Digest, Sha256};

use super::manifest::src_dest;
use super::{py_repr, PatternError};
use crate::source::emit::scalar;
use crate::source::{parse, Node, NodeKind};

/// The marker of a deliberately dirty file entry.
pub const DIRTY_MARKER: &str = "DIRTY";

const UNRECOGNISED_LOCK_HINT: &str = "lock format not recognised; convert it with 'uv run scripts/convert-runtime-lock.py <lock>' from an ibek checkout, or 'uv run https://raw.githubusercontent.com/epics-containers/ibek/main/scripts/convert-runtime-lock.py <lock>' from anywhere, including a services repo with no ibek checkout (see docs/how-to/vendor-runtime-patterns.md)";

/// `sha256:<hex>` of some bytes.
pub fn file_hash(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    let mut out = String::with_capacity(71);
    out.push_str("sha256:");
    for b in digest {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Whether a file entry is a deliberate `DIRTY` marker.
pub fn is_dirty(value: &str) -> bool {
    value.trim().starts_with(DIRTY_MARKER)
}

/// One `select.include` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectRule {
    /// The regex of pattern-relative paths.
    pub src: String,
    /// Where they land (a manifest-style dest).
    pub dest: String,
}

/// A destination's adjustment of a pattern's manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Rules tried before the manifest's.
    pub include: Vec<SelectRule>,
    /// Regexes dropping files the manifest vendors.
    pub exclude: Vec<String>,
}

impl Selection {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }
}

/// One pattern's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternEntry {
    /// The pinned version (tag, branch, or `HEAD`).
    pub version: String,
    /// The library's label.
    pub source: String,
    /// The destination's selection, if any.
    pub select: Option<Selection>,
    /// Destination-relative path to `sha256:<hex>` (or a `DIRTY` marker).
    pub files: IndexMap<String, String>,
}

/// A destination's lock.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuntimeLock {
    /// Where it lives.
    pub path: PathBuf,
    /// Patterns in file order.
    pub patterns: IndexMap<String, PatternEntry>,
}

fn lock_error(path: &Path, message: impl std::fmt::Display) -> PatternError {
    PatternError::with_hint(
        format!("{}: {message}", path.display()),
        "fix runtime-lock.yaml by hand, or restore it from version control and re-run `pattern update`",
    )
}

fn falsy(k: &NodeKind) -> bool {
    match k {
        NodeKind::Null => true,
        NodeKind::Bool(b) => !b,
        NodeKind::Int(i) => *i == 0,
        NodeKind::Float(f) => *f == 0.0,
        NodeKind::Str(s) => s.is_empty(),
        NodeKind::Seq(s) => s.is_empty(),
        NodeKind::Map(m) => m.is_empty(),
        NodeKind::Timestamp(_) => false,
    }
}

/// A lock version as Python compares it (`True == 1`, `2.0 == 2`).
fn as_version(k: &NodeKind) -> Option<i128> {
    match k {
        NodeKind::Int(i) => Some(*i),
        NodeKind::Bool(b) => Some(i128::from(*b)),
        NodeKind::Float(f) if f.fract() == 0.0 && f.is_finite() => Some(*f as i128),
        _ => None,
    }
}

fn string_field(entry: &Node, key: &str) -> Result<String, String> {
    match entry.get(key) {
        None => Err(format!("{key}: field required")),
        Some(v) => v
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("{key}: input should be a valid string")),
    }
}

fn read_select(node: &Node) -> Result<Option<Selection>, String> {
    if matches!(node.kind, NodeKind::Null) {
        return Ok(None);
    }
    let Some(entries) = node.as_map() else {
        return Err("select: input should be a valid mapping".into());
    };
    let mut sel = Selection::default();
    for (k, v) in entries {
        match k.as_str() {
            Some("include") => {
                let items = v
                    .as_seq()
                    .ok_or("select.include: input should be a valid list")?;
                sel.include = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        src_dest(item)
                            .map(|r| SelectRule {
                                src: r.src,
                                dest: r.dest,
                            })
                            .map_err(|e| format!("select.include.{i}: {e}"))
                    })
                    .collect::<Result<_, _>>()?;
            }
            Some("exclude") => {
                let items = v
                    .as_seq()
                    .ok_or("select.exclude: input should be a valid list")?;
                sel.exclude = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        item.as_str().map(str::to_string).ok_or_else(|| {
                            format!("select.exclude.{i}: input should be a valid string")
                        })
                    })
                    .collect::<Result<_, _>>()?;
            }
            _ => {
                return Err(format!(
                    "select.{}: extra inputs are not permitted",
                    k.key_text()
                ))
            }
        }
    }
    Ok(Some(sel))
}

fn read_entry(node: &Node) -> Result<PatternEntry, String> {
    let Some(entries) = node.as_map() else {
        return Err("an entry must be a mapping".into());
    };
    for (k, _) in entries {
        if !matches!(k.as_str(), Some("version" | "source" | "select" | "files")) {
            return Err(format!("{}: extra inputs are not permitted", k.key_text()));
        }
    }
    let version = string_field(node, "version")?;
    let source = string_field(node, "source")?;
    let select = match node.get("select") {
        Some(s) => read_select(s)?,
        None => None,
    };
    let Some(files_node) = node.get("files") else {
        return Err("files: field required".into());
    };
    let Some(file_entries) = files_node.as_map() else {
        return Err("files: input should be a valid dictionary".into());
    };
    let mut files = IndexMap::new();
    for (k, v) in file_entries {
        let Some(key) = k.as_str() else {
            return Err(format!(
                "files.{}: keys should be valid strings",
                k.key_text()
            ));
        };
        let Some(value) = v.as_str() else {
            return Err(format!("files.{key}: input should be a valid string"));
        };
        files.insert(key.to_string(), value.to_string());
    }
    Ok(PatternEntry {
        version,
        source,
        select,
        files,
    })
}

impl RuntimeLock {
    /// Reads the lock at `path`; a missing or empty file has no patterns.
    pub fn load(path: &Path) -> Result<RuntimeLock, PatternError> {
        let mut lock = RuntimeLock {
            path: path.to_path_buf(),
            patterns: IndexMap::new(),
        };
        if !path.exists() {
            return Ok(lock);
        }
        let text = fs_err::read_to_string(path).map_err(|e| super::io_error("read", path, &e))?;
        let root = parse(&text).map_err(|e| {
            let (line, col) = e.span.line_col();
            lock_error(
                path,
                format!("invalid YAML: {} (line {line}, column {col})", e.message),
            )
        })?;
        if falsy(&root.kind) {
            return Ok(lock);
        }
        let Some(entries) = root.as_map() else {
            return Err(lock_error(path, "expected a mapping at the top level"));
        };
        let version = root.get("version");
        let has_patterns = root.get("patterns").is_some();
        if !has_patterns
            && !version.is_some_and(|v| matches!(v.kind, NodeKind::Int(_) | NodeKind::Bool(_)))
        {
            return Err(PatternError::with_hint(
                format!("{}: {UNRECOGNISED_LOCK_HINT}", path.display()),
                "convert the lock, or remove it and re-add the patterns",
            ));
        }
        let version_num = version.and_then(|v| as_version(&v.kind));
        if !matches!(version_num, Some(1 | 2)) {
            let shown = match version {
                None => "None".to_string(),
                Some(v) => match &v.kind {
                    NodeKind::Str(s) | NodeKind::Timestamp(s) => py_repr(s),
                    _ => v.key_text(),
                },
            };
            return Err(PatternError::with_hint(
                format!(
                    "{}: unsupported lock version {shown} (this ibek reads: 1, 2)",
                    path.display()
                ),
                "upgrade iocforge, or write `version: 1` (2 when a pattern has a select)",
            ));
        }
        let mut unknown: Vec<String> = entries
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), Some("version" | "patterns")))
            .map(|(k, _)| k.key_text())
            .collect();
        unknown.sort();
        unknown.dedup();
        if !unknown.is_empty() {
            return Err(lock_error(
                path,
                format!(
                    "unknown top-level key(s) {} (a lock holds only version and patterns)",
                    unknown.join(", ")
                ),
            ));
        }
        let patterns = root.get("patterns");
        let pattern_entries: &[(Node, Node)] = match patterns {
            None => &[],
            Some(p) if falsy(&p.kind) => &[],
            Some(p) => p
                .as_map()
                .ok_or_else(|| lock_error(path, "'patterns' must be a mapping"))?,
        };
        for (k, v) in pattern_entries {
            let name = k.key_text();
            let entry = read_entry(v)
                .map_err(|e| lock_error(path, format!("invalid pattern entry: {name}: {e}")))?;
            lock.patterns.insert(name, entry);
        }
        let version_num = version_num.unwrap_or(1);
        for (name, entry) in &mut lock.patterns {
            if entry.select.as_ref().is_some_and(Selection::is_empty) {
                entry.select = None;
            }
            if entry.select.is_some() && version_num < 2 {
                return Err(lock_error(
                    path,
                    format!(
                        "pattern {} has a 'select' but the lock is version {version_num}; a lock with a selection is version 2, so that an ibek which cannot apply it refuses the lock",
                        py_repr(name)
                    ),
                ));
            }
        }
        Ok(lock)
    }

    /// Records a pattern (an empty selection is dropped).
    pub fn set_pattern(&mut self, name: &str, mut entry: PatternEntry) {
        if entry.select.as_ref().is_some_and(Selection::is_empty) {
            entry.select = None;
        }
        self.patterns.insert(name.to_string(), entry);
    }

    /// The lock's text as ibek writes it, or `None` when it has no patterns
    /// (ibek removes an empty lock rather than writing an empty document).
    pub fn to_yaml(&self) -> Option<String> {
        if self.patterns.is_empty() {
            return None;
        }
        let has_select = self.patterns.values().any(|e| e.select.is_some());
        let mut out = String::new();
        out.push_str(if has_select {
            "version: 2\n"
        } else {
            "version: 1\n"
        });
        out.push_str("patterns:\n");
        let mut names: Vec<&String> = self.patterns.keys().collect();
        names.sort();
        for name in names {
            let e = &self.patterns[name];
            key_line(&mut out, 2, name, None);
            key_line(&mut out, 4, "version", Some(&e.version));
            key_line(&mut out, 4, "source", Some(&e.source));
            if let Some(sel) = &e.select {
                key_line(&mut out, 4, "select", None);
                if !sel.include.is_empty() {
                    key_line(&mut out, 6, "include", None);
                    for r in &sel.include {
                        out.push_str(&" ".repeat(6));
                        out.push_str("- ");
                        out.push_str("src: ");
                        out.push_str(&scalar(&r.src));
                        out.push('\n');
                        key_line(&mut out, 8, "dest", Some(&r.dest));
                    }
                }
                if !sel.exclude.is_empty() {
                    key_line(&mut out, 6, "exclude", None);
                    for x in &sel.exclude {
                        out.push_str(&" ".repeat(6));
                        out.push_str("- ");
                        out.push_str(&scalar(x));
                        out.push('\n');
                    }
                }
            }
            key_line(&mut out, 4, "files", None);
            for (k, v) in &e.files {
                key_line(&mut out, 6, k, Some(v));
            }
        }
        Some(out)
    }
}

/// `key:` (then a nested block) or `key: value`, as ruamel's block emitter
/// writes them; keys of 128 characters or more become `? key` / `: value`.
fn key_line(out: &mut String, indent: usize, key: &str, value: Option<&str>) {
    let pad = " ".repeat(indent);
    let k = scalar(key);
    let simple = key.chars().count() < 128 && !k.contains('\n');
    if simple {
        out.push_str(&pad);
        out.push_str(&k);
        out.push(':');
    } else {
        out.push_str(&pad);
        out.push_str("? ");
        out.push_str(&k);
        out.push('\n');
        out.push_str(&pad);
        out.push(':');
    }
    if let Some(v) = value {
        out.push(' ');
        out.push_str(&scalar(v));
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_sha256_hex() {
        assert_eq!(
            file_hash(b"a\n"),
            "sha256:87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7"
        );
    }

    #[test]
    fn v2_lock_round_trips() {
        let text = "version: 2\npatterns:\n  p:\n    version: '1.0'\n    source: /lib\n    select:\n      include:\n      - src: a\\.proto\n        dest: config/x/\n      exclude:\n      - sub/b\\.db\n    files:\n      config/x/a.proto: sha256:00\n";
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runtime-lock.yaml");
        fs_err::write(&path, text).unwrap();
        let lock = RuntimeLock::load(&path).unwrap();
        assert_eq!(lock.to_yaml().unwrap(), text);
        fs_err::write(&path, text.replace("version: 2", "version: 1")).unwrap();
        assert!(RuntimeLock::load(&path).is_err());
        fs_err::write(&path, "- a\n").unwrap();
        assert!(RuntimeLock::load(&path).is_err());
        fs_err::write(&path, "{}\n").unwrap();
        assert!(RuntimeLock::load(&path).unwrap().patterns.is_empty());
    }
}
