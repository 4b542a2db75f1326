//! `ibek.manifest.yaml`: which files of a pattern are vendored, and where.
//!
//! Between [`super::fetch`] and [`super::vendor`]: the manifest is an ordered,
//! first-match allow-list of `src` regexes (matched against the whole
//! pattern-relative path, Python's `re.fullmatch`) and `dest`s, which are a
//! folder, a file, or a `\1` / `\g<name>` substitution producing the whole
//! path. A pattern without one vendors everything into `config/`. A
//! destination's `select:` (from the lock) adds `include` rules tried first
//! and `exclude` regexes dropping manifest files. [`plan_vendor`] returns the
//! fully validated plan before anything is written.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regex::{Captures, Regex};

use super::dest::{compile_full, expand, is_file_dest, is_substitution, PosixPath};
use super::lock::SelectRule;
use super::{py_repr, PatternError, RUNTIME_LOCK_NAME};
use crate::source::{parse, Node, NodeKind};

/// The manifest's name at the pattern folder root (never vendored itself).
pub const MANIFEST_NAME: &str = "ibek.manifest.yaml";
const SUPPORT_YAML_SUFFIX: &str = ".ibek.support.yaml";
const SUPPORT_YAML_DIR: &str = "config";

const MANIFEST_HINT: &str = "fix the pattern's ibek.manifest.yaml in its library";

/// One `vendor:` entry of a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorRule {
    /// The regex a pattern-relative path must match in full.
    pub src: String,
    /// Where matching files land, relative to the destination root.
    pub dest: String,
}

/// A compiled rule with the prefix its errors start with.
struct Compiled {
    regex: Regex,
    dest: String,
    prefix: String,
}

fn entry_prefix(where_: &str, index: usize, src: &str, dest: &str) -> String {
    format!(
        "{where_} {index} (src={}, dest={}): ",
        py_repr(src),
        py_repr(dest)
    )
}

fn manifest_error(message: String) -> PatternError {
    PatternError::with_hint(message, MANIFEST_HINT)
}

fn validate_rule(prefix: &str, src: &str, dest: &str) -> Result<Regex, PatternError> {
    let regex =
        compile_full(src).map_err(|e| manifest_error(format!("{prefix}invalid src regex: {e}")))?;
    let path = PosixPath::new(dest);
    if path.absolute {
        return Err(manifest_error(format!(
            "{prefix}dest must be relative to the destination root"
        )));
    }
    if !is_substitution(dest) && path.parts.contains(&"..") {
        return Err(manifest_error(format!(
            "{prefix}dest must not contain '..'"
        )));
    }
    Ok(regex)
}

fn symlink_message(pattern: &str, rel: &str) -> PatternError {
    PatternError::with_hint(
        format!(
            "{pattern}: {} is a symlink; symlinks in a pattern folder are refused - not followed, not vendored, not hashed",
            py_repr(rel)
        ),
        "replace the link in the library with the file it points at",
    )
}

fn folder_name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The manifest text ibek synthesises for a pattern without one.
pub const DEFAULT_MANIFEST_YAML: &str = "version: 1\nvendor:\n  - src: '.*'\n    dest: config\n";

/// Reads and validates a pattern folder's manifest (or the default one).
pub fn load_manifest(pattern_dir: &Path) -> Result<Vec<VendorRule>, PatternError> {
    let path = pattern_dir.join(MANIFEST_NAME);
    if path.is_symlink() {
        return Err(symlink_message(&folder_name(pattern_dir), MANIFEST_NAME));
    }
    let text = if path.is_file() {
        fs_err::read_to_string(&path).map_err(|e| {
            manifest_error(format!(
                "{MANIFEST_NAME}: cannot be read: {}",
                crate::source::io_reason(&e)
            ))
        })?
    } else {
        DEFAULT_MANIFEST_YAML.to_string()
    };
    parse_manifest(&text)
}

/// Validates manifest text.
pub fn parse_manifest(text: &str) -> Result<Vec<VendorRule>, PatternError> {
    let root = parse(text).map_err(|e| {
        let (line, col) = e.span.line_col();
        manifest_error(format!(
            "{MANIFEST_NAME}: invalid YAML: {} (line {line}, column {col})",
            e.message
        ))
    })?;
    let entries = match &root.kind {
        NodeKind::Map(m) => m.as_slice(),
        k if is_falsy(k) => &[],
        _ => {
            return Err(manifest_error(format!(
                "{MANIFEST_NAME}: expected a mapping at the top level"
            )))
        }
    };
    let get = |key: &str| entries.iter().rev().find(|(k, _)| k.as_str() == Some(key));
    let Some((_, version)) = get("version") else {
        return Err(manifest_error(format!(
            "{MANIFEST_NAME}: 'version' is required"
        )));
    };
    if !is_one(&version.kind) {
        return Err(PatternError::with_hint(
            format!(
                "{MANIFEST_NAME}: manifest version {} is not supported by this ibek (supported: 1); upgrade ibek to read it",
                py_scalar(version)
            ),
            "upgrade iocforge, or pin an older version of the pattern",
        ));
    }
    for (k, _) in entries {
        if !matches!(k.as_str(), Some("version" | "vendor")) {
            return Err(manifest_error(format!(
                "{MANIFEST_NAME}: {}: extra inputs are not permitted",
                k.key_text()
            )));
        }
    }
    let Some((_, vendor)) = get("vendor") else {
        return Err(manifest_error(format!(
            "{MANIFEST_NAME}: vendor: field required"
        )));
    };
    let Some(items) = vendor.as_seq() else {
        return Err(manifest_error(format!(
            "{MANIFEST_NAME}: vendor: input should be a valid list"
        )));
    };
    let mut rules = Vec::new();
    for (i, item) in items.iter().enumerate() {
        rules.push(
            src_dest(item)
                .map_err(|m| manifest_error(format!("{MANIFEST_NAME}: vendor.{i}: {m}")))?,
        );
    }
    if rules.is_empty() {
        return Err(manifest_error(format!(
            "{MANIFEST_NAME}: 'vendor' must list at least one entry"
        )));
    }
    for (i, r) in rules.iter().enumerate() {
        validate_rule(
            &entry_prefix(&format!("{MANIFEST_NAME} entry"), i, &r.src, &r.dest),
            &r.src,
            &r.dest,
        )?;
    }
    Ok(rules)
}

fn is_falsy(k: &NodeKind) -> bool {
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

fn is_one(k: &NodeKind) -> bool {
    // Python: `version in {1}` holds for 1, 1.0 and True
    match k {
        NodeKind::Int(i) => *i == 1,
        NodeKind::Float(f) => *f == 1.0,
        NodeKind::Bool(b) => *b,
        _ => false,
    }
}

fn py_scalar(n: &Node) -> String {
    match &n.kind {
        NodeKind::Str(s) | NodeKind::Timestamp(s) => py_repr(s),
        _ => n.key_text(),
    }
}

/// A `{src: str, dest: str}` mapping, with no other keys.
pub(crate) fn src_dest(item: &Node) -> Result<VendorRule, String> {
    let Some(entries) = item.as_map() else {
        return Err("input should be a mapping with src and dest".into());
    };
    let mut src = None;
    let mut dest = None;
    for (k, v) in entries {
        let slot = match k.as_str() {
            Some("src") => &mut src,
            Some("dest") => &mut dest,
            _ => return Err(format!("{}: extra inputs are not permitted", k.key_text())),
        };
        let Some(s) = v.as_str() else {
            return Err(format!("{}: input should be a valid string", k.key_text()));
        };
        *slot = Some(s.to_string());
    }
    match (src, dest) {
        (Some(src), Some(dest)) => Ok(VendorRule { src, dest }),
        (None, _) => Err("src: field required".into()),
        (_, None) => Err("dest: field required".into()),
    }
}

fn validate_key(prefix: &str, rel: &str, key: &str) -> Result<String, PatternError> {
    let empty = || manifest_error(format!("{prefix}{rel} produced an empty destination path"));
    if key.is_empty() {
        return Err(empty());
    }
    let path = PosixPath::new(key);
    let norm = path.as_posix();
    if norm == "." {
        return Err(empty());
    }
    if path.absolute {
        return Err(manifest_error(format!(
            "{prefix}{rel} -> {} must be relative to the destination root",
            py_repr(&norm)
        )));
    }
    if path.parts.contains(&"..") {
        return Err(manifest_error(format!(
            "{prefix}{rel} -> {} must not contain '..'",
            py_repr(&norm)
        )));
    }
    if path.name().ends_with(SUPPORT_YAML_SUFFIX) && path.parent() != SUPPORT_YAML_DIR {
        return Err(manifest_error(format!(
            "{prefix}{rel} -> {}: a vendored *{SUPPORT_YAML_SUFFIX} must land at the {SUPPORT_YAML_DIR}/ root; `ibek pattern schema` merges {SUPPORT_YAML_DIR}/*{SUPPORT_YAML_SUFFIX} non-recursively, so a misrouted one vendors cleanly, checks cleanly, and is then silently missing from the instance's schema",
            py_repr(&norm)
        )));
    }
    Ok(norm)
}

fn destination(rule: &Compiled, caps: &Captures, rel: &str) -> Result<String, PatternError> {
    let key = if is_substitution(&rule.dest) {
        expand(&rule.dest, caps, &rule.regex).map_err(|e| {
            manifest_error(format!(
                "{}{rel}: invalid dest substitution: {e}",
                rule.prefix
            ))
        })?
    } else if is_file_dest(&rule.dest) {
        rule.dest.clone()
    } else {
        let base = PosixPath::new(&rule.dest).as_posix();
        if base == "." {
            rel.to_string()
        } else {
            format!("{base}/{rel}")
        }
    };
    validate_key(&rule.prefix, rel, &key)
}

/// Every file of a pattern folder with its pattern-relative path, in the
/// order Python sorts `Path`s (part by part); any symlink is refused.
pub fn pattern_files(pattern_dir: &Path) -> Result<Vec<(PathBuf, String)>, PatternError> {
    let name = folder_name(pattern_dir);
    if pattern_dir.is_symlink() {
        return Err(symlink_message(&name, "."));
    }
    let mut all: Vec<(Vec<String>, PathBuf, bool)> = Vec::new();
    for entry in walkdir::WalkDir::new(pattern_dir).min_depth(1) {
        let entry = entry.map_err(|e| {
            PatternError::new(format!(
                "cannot read pattern folder `{}`: {e}",
                pattern_dir.display()
            ))
        })?;
        let rel = entry
            .path()
            .strip_prefix(pattern_dir)
            .unwrap_or(entry.path());
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let ft = entry.file_type();
        all.push((parts, entry.path().to_path_buf(), ft.is_symlink()));
    }
    all.sort_by(|a, b| a.0.cmp(&b.0));
    let mut files = Vec::new();
    for (parts, path, symlink) in all {
        let rel = parts.join("/");
        if symlink {
            return Err(symlink_message(&name, &rel));
        }
        if rel == MANIFEST_NAME || !path.is_file() {
            continue;
        }
        files.push((path, rel));
    }
    Ok(files)
}

/// One planned file: where it comes from and its destination-relative key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// The file in the pattern folder.
    pub source: PathBuf,
    /// The pattern-relative path.
    pub rel: String,
    /// Where it lands, relative to the destination root.
    pub key: String,
}

fn first_match<'r>(
    rules: &'r [Compiled],
    rel: &str,
) -> Result<Option<(usize, String, &'r Compiled)>, PatternError> {
    for (i, rule) in rules.iter().enumerate() {
        if let Some(caps) = rule.regex.captures(rel) {
            return Ok(Some((i, destination(rule, &caps, rel)?, rule)));
        }
    }
    Ok(None)
}

/// The complete plan for a pattern folder with a destination's selection,
/// sorted by destination key; nothing is written before this succeeds.
pub fn plan_vendor(
    pattern_dir: &Path,
    include: &[SelectRule],
    exclude: &[String],
) -> Result<Vec<Planned>, PatternError> {
    let name = folder_name(pattern_dir);
    let files = pattern_files(pattern_dir)?;
    let manifest = load_manifest(pattern_dir)?;
    let include_where = format!("{name}: {RUNTIME_LOCK_NAME} select.include entry");
    let include_rules = compile_includes(&include_where, include)?;
    let manifest_rules = compile_manifest(&manifest)?;
    let excludes = compile_excludes(&name, exclude)?;
    let mut used_includes = BTreeSet::new();
    let mut used_excludes = BTreeSet::new();
    let mut plan: BTreeMap<String, (PathBuf, String)> = BTreeMap::new();
    for (path, rel) in &files {
        let placed = if let Some((i, key, rule)) = first_match(&include_rules, rel)? {
            used_includes.insert(i);
            (key, rule)
        } else {
            let Some((_, key, rule)) = first_match(&manifest_rules, rel)? else {
                continue;
            };
            let dropped: Vec<usize> = excludes
                .iter()
                .enumerate()
                .filter(|(_, re)| re.is_match(rel))
                .map(|(i, _)| i)
                .collect();
            if !dropped.is_empty() {
                used_excludes.extend(dropped);
                continue;
            }
            (key, rule)
        };
        let (key, rule) = placed;
        if let Some((_, first)) = plan.get(&key) {
            return Err(collision(rule, rel, first, &key));
        }
        plan.insert(key, (path.clone(), rel.clone()));
    }
    check_selection_used(
        &name,
        &include_where,
        include,
        exclude,
        &used_includes,
        &used_excludes,
    )?;
    if plan.is_empty() {
        let select = if exclude.is_empty() {
            String::new()
        } else {
            format!(" once the {RUNTIME_LOCK_NAME} select is applied")
        };
        return Err(manifest_error(format!(
            "{name}: no file is matched by any {MANIFEST_NAME} entry{select}, so nothing would be vendored - a pattern that vendors nothing is a mistake, not a policy"
        )));
    }
    check_file_folder_clash(&plan)?;
    Ok(plan
        .into_iter()
        .map(|(key, (source, rel))| Planned { source, rel, key })
        .collect())
}

/// The runtime-lock's `select.include` rules, each checked like a manifest entry.
fn compile_includes(
    include_where: &str,
    include: &[SelectRule],
) -> Result<Vec<Compiled>, PatternError> {
    let mut include_rules = Vec::new();
    for (i, r) in include.iter().enumerate() {
        let prefix = entry_prefix(include_where, i, &r.src, &r.dest);
        let regex = validate_rule(&prefix, &r.src, &r.dest).map_err(|e| match e {
            PatternError::Message { message, .. } => PatternError::with_hint(
                message,
                "fix the rule in runtime-lock.yaml select.include, or re-add the pattern with another --include",
            ),
            other @ PatternError::Diagnostics(_) => other,
        })?;
        include_rules.push(Compiled {
            regex,
            dest: r.dest.clone(),
            prefix,
        });
    }
    Ok(include_rules)
}

/// The manifest's allow-list, in order (the first match wins).
fn compile_manifest(manifest: &[VendorRule]) -> Result<Vec<Compiled>, PatternError> {
    manifest
        .iter()
        .enumerate()
        .map(|(i, r)| {
            Ok(Compiled {
                regex: compile_full(&r.src).map_err(PatternError::new)?,
                dest: r.dest.clone(),
                prefix: entry_prefix(&format!("{MANIFEST_NAME} entry"), i, &r.src, &r.dest),
            })
        })
        .collect()
}

/// The runtime-lock's `select.exclude` regexes.
fn compile_excludes(name: &str, exclude: &[String]) -> Result<Vec<Regex>, PatternError> {
    let mut excludes = Vec::new();
    for text in exclude {
        excludes.push(compile_full(text).map_err(|e| {
            PatternError::with_hint(
                format!(
                    "{name}: {RUNTIME_LOCK_NAME} select.exclude {}: invalid regex: {e}",
                    py_repr(text)
                ),
                "fix the regex in runtime-lock.yaml select.exclude, or re-add the pattern with another --exclude",
            )
        })?);
    }
    Ok(excludes)
}

/// Two files of the pattern vendored to the same destination key.
fn collision(rule: &Compiled, rel: &str, first: &str, key: &str) -> PatternError {
    let hint = if is_file_dest(&rule.dest) {
        format!(
            "; dest {} names a single file - end it with '/' to place files in a folder of that name, or use a \\1 substitution",
            py_repr(&rule.dest)
        )
    } else {
        String::new()
    };
    manifest_error(format!(
        "{}{rel} and {first} both vendor to {}; one would silently overwrite the other{hint}",
        rule.prefix,
        py_repr(key)
    ))
}

/// Every include rule must select a file, every exclude must drop one.
fn check_selection_used(
    name: &str,
    include_where: &str,
    include: &[SelectRule],
    exclude: &[String],
    used_includes: &BTreeSet<usize>,
    used_excludes: &BTreeSet<usize>,
) -> Result<(), PatternError> {
    for (i, r) in include.iter().enumerate() {
        if !used_includes.contains(&i) {
            return Err(PatternError::with_hint(
                format!(
                    "{}selects no file of the pattern",
                    entry_prefix(include_where, i, &r.src, &r.dest)
                ),
                "remove the rule, or fix its regex",
            ));
        }
    }
    for (i, text) in exclude.iter().enumerate() {
        if !used_excludes.contains(&i) {
            return Err(PatternError::with_hint(
                format!(
                    "{name}: {RUNTIME_LOCK_NAME} select.exclude {} drops no file that {MANIFEST_NAME} vendors",
                    py_repr(text)
                ),
                "remove the exclude, or fix its regex",
            ));
        }
    }
    Ok(())
}

/// No destination may be both a file and the folder of another file.
fn check_file_folder_clash(plan: &BTreeMap<String, (PathBuf, String)>) -> Result<(), PatternError> {
    for key in plan.keys() {
        let path = PosixPath::new(key);
        for n in (1..path.parts.len()).rev() {
            let parent = path.parts[..n].join("/");
            if let Some((_, other)) = plan.get(&parent) {
                let source = &plan[key].1;
                return Err(manifest_error(format!(
                    "{MANIFEST_NAME}: {source} vendors to {} but {other} vendors to {}; one destination cannot be both a file and a folder",
                    py_repr(key),
                    py_repr(&parent)
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_are_validated() {
        assert!(parse_manifest("vendor: []").is_err());
        assert!(parse_manifest("version: 2\nvendor: [{src: a, dest: b}]").is_err());
        assert!(parse_manifest("version: 1\nvendor: []").is_err());
        assert!(parse_manifest("version: 1\nvendor: [{src: a, dest: /b}]").is_err());
        assert!(parse_manifest("version: 1\nvendor: [{src: a, dest: ../b}]").is_err());
        assert!(parse_manifest("version: 1\nvendor: [{src: '(', dest: b}]").is_err());
        assert!(parse_manifest("version: 1\nvendor: [{src: a, dest: b, x: 1}]").is_err());
        assert_eq!(parse_manifest(DEFAULT_MANIFEST_YAML).unwrap().len(), 1);
    }
}
