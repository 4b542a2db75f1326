//! `pattern add`, `update`, `restore` and `check` on a destination folder.
//!
//! The top of the pattern pipeline: resolve a reference through the
//! registry ([`super::reference`]), fetch the pattern ([`super::fetch`]),
//! plan its files ([`super::manifest`]), then write the files, the lock
//! ([`super::lock`]) and the instance schema ([`super::schema`]) through one
//! transaction, undone if any step fails. `check` only reads: it hashes each
//! file the lock records and never needs the library.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use super::fetch::{fetch_pattern, GitSettings};
use super::lock::{file_hash, is_dirty, PatternEntry, RuntimeLock, Selection};
use super::manifest::plan_vendor;
use super::reference::{source_label, Libraries, PatternRef};
use super::schema::{generate_instance_schema, SchemaSettings};
use super::txn::Txn;
use super::{io_error, py_repr, PatternError, RUNTIME_LOCK_NAME};

/// Everything the vendoring commands need besides their arguments.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Library names and sources.
    pub libraries: Libraries,
    /// How to run git.
    pub git: GitSettings,
    /// Where the instance schema's base comes from.
    pub schema: SchemaSettings,
}

/// What a successful command has to say (ibek prints these lines).
#[derive(Debug, Default)]
pub struct Report {
    /// Informational lines, in order.
    pub notes: Vec<String>,
}

fn lock_path(dest: &Path) -> PathBuf {
    dest.join(RUNTIME_LOCK_NAME)
}

/// Refuses a key whose path passes through a symlink or leaves `dest`.
fn contained(dest: &Path, key: &str) -> Result<PathBuf, PatternError> {
    let mut cur = dest.to_path_buf();
    for c in Path::new(key).components() {
        match c {
            Component::Normal(part) => {
                cur.push(part);
                if cur.is_symlink() {
                    return Err(PatternError::with_hint(
                        format!(
                            "cannot vendor {}: `{}` is a symlink, and vendored files must stay inside the destination",
                            py_repr(key),
                            cur.display()
                        ),
                        "replace the link with a real folder or file, or remove it and re-run",
                    ));
                }
            }
            Component::CurDir => {}
            _ => {
                return Err(PatternError::new(format!(
                    "cannot vendor {}: the path leaves the destination",
                    py_repr(key)
                )))
            }
        }
    }
    Ok(cur)
}

/// Whether every file at or under `path` is one of `orphans`.
fn owned_by(path: &Path, dest: &Path, orphans: &BTreeSet<String>) -> bool {
    if path.is_symlink() || !path.is_dir() {
        let rel = path
            .strip_prefix(dest)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        return orphans.contains(&rel);
    }
    let Ok(entries) = fs_err::read_dir(path) else {
        return false;
    };
    entries
        .filter_map(Result::ok)
        .all(|e| owned_by(&e.path(), dest, orphans))
}

/// Paths standing where the plan writes, which hold only this pattern's
/// orphans (else an error naming the path).
fn blocking_paths(
    keys: &[String],
    dest: &Path,
    orphans: &BTreeSet<String>,
) -> Result<Vec<PathBuf>, PatternError> {
    let mut blocking: Vec<PathBuf> = Vec::new();
    for rel in keys {
        let parts: Vec<&str> = rel.split('/').collect();
        let mut found = false;
        for depth in 1..parts.len() {
            let parent = dest.join(parts[..depth].join("/"));
            if parent.exists() && !parent.is_dir() {
                if !owned_by(&parent, dest, orphans) {
                    return Err(PatternError::with_hint(
                        format!(
                            "cannot vendor {}: {} already exists and is not a directory; remove it and re-run",
                            py_repr(rel),
                            parent.display()
                        ),
                        "move the file out of the way",
                    ));
                }
                if !blocking.contains(&parent) {
                    blocking.push(parent);
                }
                found = true;
                break;
            }
        }
        if !found {
            let target = dest.join(rel);
            if target.is_dir() {
                if !owned_by(&target, dest, orphans) {
                    return Err(PatternError::with_hint(
                        format!(
                            "cannot vendor {}: {} already exists and is a directory; remove it and re-run",
                            py_repr(rel),
                            target.display()
                        ),
                        "move the folder out of the way",
                    ));
                }
                if !blocking.contains(&target) {
                    blocking.push(target);
                }
            }
        }
    }
    Ok(blocking)
}

fn prune_orphans(
    txn: &mut Txn,
    dest: &Path,
    orphans: &BTreeSet<String>,
) -> Result<(), PatternError> {
    for rel in orphans {
        let Ok(target) = contained(dest, rel) else {
            continue; // a key that leaves the destination is never touched
        };
        let Some(parent) = target.parent() else {
            continue;
        };
        if !parent.is_dir() || target.is_dir() {
            continue;
        }
        txn.remove_file(&target)?;
        let mut dir = parent.to_path_buf();
        while dir != dest && dir.starts_with(dest) && dir.is_dir() {
            let empty = fs_err::read_dir(&dir).is_ok_and(|mut d| d.next().is_none());
            if !empty {
                break;
            }
            txn.remove_empty_dir(&dir)?;
            if !dir.pop() {
                break;
            }
        }
    }
    Ok(())
}

/// Fetches `pattern` and writes its files into `dest`; returns the lock record.
#[allow(clippy::too_many_arguments)]
fn do_vendor(
    settings: &Settings,
    txn: &mut Txn,
    pattern: &PatternRef,
    dest: &Path,
    source_override: Option<&str>,
    select: Option<&Selection>,
    old_files: &BTreeSet<String>,
) -> Result<PatternEntry, PatternError> {
    let libs = &settings.libraries;
    let sources: Vec<String> = if let Some(s) = source_override {
        vec![libs.source_uri(s)]
    } else if let Some(lib) = &pattern.library {
        vec![libs.get(lib)?.to_string()]
    } else if libs.0.is_empty() {
        return Err(PatternError::with_hint(
            "no pattern libraries configured",
            "set IBEK_PATTERN_LIBRARIES=name=uri",
        ));
    } else {
        libs.0.values().cloned().collect()
    };
    let mut last_error = None;
    for uri in sources {
        let fetched = match fetch_pattern(
            &uri,
            &pattern.name,
            pattern.version.as_deref(),
            &settings.git,
        ) {
            Ok(f) => f,
            Err(e) => {
                last_error = Some(e);
                continue;
            }
        };
        let empty = Selection::default();
        let sel = select.unwrap_or(&empty);
        let plan = plan_vendor(&fetched.dir, &sel.include, &sel.exclude)?;
        let keys: Vec<String> = plan.iter().map(|p| p.key.clone()).collect();
        let new_keys: BTreeSet<&String> = keys.iter().collect();
        let orphans: BTreeSet<String> = old_files
            .iter()
            .filter(|k| !new_keys.contains(k))
            .cloned()
            .collect();
        for k in &keys {
            contained(dest, k)?;
        }
        for path in blocking_paths(&keys, dest, &orphans)? {
            if path.is_dir() && !path.is_symlink() {
                txn.remove_tree(&path)?;
            } else {
                txn.remove_file(&path)?;
            }
        }
        let mut files = indexmap::IndexMap::new();
        for p in &plan {
            let data = fs_err::read(&p.source).map_err(|e| io_error("read", &p.source, &e))?;
            txn.write(&dest.join(&p.key), &data)?;
            files.insert(p.key.clone(), file_hash(&data));
        }
        prune_orphans(txn, dest, &orphans)?;
        return Ok(PatternEntry {
            version: pattern.version.clone().unwrap_or_else(|| "HEAD".into()),
            source: source_label(&uri),
            select: select.cloned(),
            files,
        });
    }
    let reason = last_error.map_or_else(|| "no libraries".to_string(), |e| e.to_string());
    Err(PatternError::with_hint(
        format!(
            "could not resolve pattern {}: {reason}",
            py_repr(&pattern.name)
        ),
        "check the reference, IBEK_PATTERN_LIBRARIES and --source",
    ))
}

fn finish(
    settings: &Settings,
    mut txn: Txn,
    dest: &Path,
    lock: Option<&RuntimeLock>,
) -> Result<Report, PatternError> {
    let result = (|| {
        if let Some(lock) = lock {
            match lock.to_yaml() {
                Some(text) => txn.write(&lock.path, text.as_bytes())?,
                None => txn.remove_file(&lock.path)?,
            }
        }
        let out = generate_instance_schema(dest, &settings.schema)?;
        for (path, text) in &out.writes {
            txn.write(path, text.as_bytes())?;
        }
        Ok(Report { notes: out.notes })
    })();
    if result.is_err() {
        txn.rollback();
    }
    result
}

fn with_txn<T>(
    txn: Txn,
    work: impl FnOnce(&mut Txn) -> Result<T, PatternError>,
) -> Result<(Txn, T), PatternError> {
    let mut txn = txn;
    match work(&mut txn) {
        Ok(v) => Ok((txn, v)),
        Err(e) => {
            txn.rollback();
            Err(e)
        }
    }
}

/// `pattern add`: vendors a pattern and records it (with `select`, replacing
/// any recorded one), then writes the schema.
pub fn add(
    settings: &Settings,
    qualified: &str,
    dest: &Path,
    source_override: Option<&str>,
    select: Option<Selection>,
) -> Result<Report, PatternError> {
    let pattern = PatternRef::parse(qualified)?;
    let mut lock = RuntimeLock::load(&lock_path(dest))?;
    let old: BTreeSet<String> = lock
        .patterns
        .get(&pattern.name)
        .map(|e| e.files.keys().cloned().collect())
        .unwrap_or_default();
    let select = select.filter(|s| !s.is_empty());
    let (txn, entry) = with_txn(Txn::default(), |txn| {
        do_vendor(
            settings,
            txn,
            &pattern,
            dest,
            source_override,
            select.as_ref(),
            &old,
        )
    })?;
    lock.set_pattern(&pattern.name, entry);
    finish(settings, txn, dest, Some(&lock))
}

fn locked_names(
    lock: &RuntimeLock,
    name: Option<&str>,
    verb: &str,
    dest: &Path,
) -> Result<Vec<String>, PatternError> {
    if lock.patterns.is_empty() {
        return Err(PatternError::with_hint(
            format!("no patterns to {verb} in {}", dest.display()),
            "vendor one first with `pattern add`",
        ));
    }
    let names: Vec<String> = match name {
        Some(n) => vec![n.to_string()],
        None => lock.patterns.keys().cloned().collect(),
    };
    for n in &names {
        if !lock.patterns.contains_key(n) {
            let mut known: Vec<&str> = lock.patterns.keys().map(String::as_str).collect();
            known.sort_unstable();
            return Err(PatternError::with_hint(
                format!("pattern {} not in lock", py_repr(n)),
                format!(
                    "the lock at {} records: {}",
                    lock.path.display(),
                    known.join(", ")
                ),
            ));
        }
    }
    Ok(names)
}

/// `pattern update`: re-vendors one or all locked patterns, at `version`
/// when given, and rewrites the lock and the schema.
pub fn update(
    settings: &Settings,
    name: Option<&str>,
    dest: &Path,
    version: Option<&str>,
    source_override: Option<&str>,
) -> Result<Report, PatternError> {
    let mut lock = RuntimeLock::load(&lock_path(dest))?;
    let names = locked_names(&lock, name, "update", dest)?;
    let mut txn = Txn::default();
    for n in names {
        let existing = lock.patterns[&n].clone();
        let pattern = PatternRef {
            name: n.clone(),
            library: None,
            version: Some(version.map_or_else(|| existing.version.clone(), str::to_string)),
        };
        let old: BTreeSet<String> = existing.files.keys().cloned().collect();
        let source = source_override.unwrap_or(&existing.source).to_string();
        let (t, entry) = with_txn(txn, |txn| {
            do_vendor(
                settings,
                txn,
                &pattern,
                dest,
                Some(&source),
                existing.select.as_ref(),
                &old,
            )
        })?;
        txn = t;
        lock.set_pattern(&n, entry);
    }
    finish(settings, txn, dest, Some(&lock))
}

/// `pattern restore`: rewrites the vendored files of one or all locked
/// patterns at their pinned versions; the lock is left as it is.
pub fn restore(
    settings: &Settings,
    name: Option<&str>,
    dest: &Path,
) -> Result<Report, PatternError> {
    let lock = RuntimeLock::load(&lock_path(dest))?;
    let names = locked_names(&lock, name, "restore", dest)?;
    let mut txn = Txn::default();
    for n in names {
        let entry = &lock.patterns[&n];
        let pattern = PatternRef {
            name: n.clone(),
            library: None,
            version: Some(entry.version.clone()),
        };
        let old: BTreeSet<String> = entry.files.keys().cloned().collect();
        let (t, _) = with_txn(txn, |txn| {
            do_vendor(
                settings,
                txn,
                &pattern,
                dest,
                Some(&entry.source),
                entry.select.as_ref(),
                &old,
            )
        })?;
        txn = t;
    }
    finish(settings, txn, dest, None)
}

/// One problem `pattern check` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckProblem {
    /// The pattern and the destination-relative file of the lock entry the
    /// problem is about (none for a lock that cannot be read).
    pub entry: Option<(String, String)>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for CheckProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.entry {
            Some((pattern, file)) => write!(f, "{pattern}:{file} {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// The outcome of `pattern check`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CheckResult {
    /// Problems that fail the check.
    pub failures: Vec<CheckProblem>,
    /// Problems reported but allowed (DIRTY entries, or all with `--allow-dirty`).
    pub warnings: Vec<CheckProblem>,
}

impl CheckResult {
    /// Whether the check passes.
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
    }
}

/// `pattern check`: hashes every file the lock records.
pub fn check(dest: &Path, allow_dirty: bool) -> CheckResult {
    let mut result = CheckResult::default();
    let lock = match RuntimeLock::load(&lock_path(dest)) {
        Ok(l) => l,
        Err(e) => {
            // an unreadable lock verified nothing: never downgraded to a warning
            result.failures.push(CheckProblem {
                entry: None,
                message: e.to_string(),
            });
            return result;
        }
    };
    for (name, entry) in &lock.patterns {
        for (rel, expected) in &entry.files {
            let problem = |message: String| CheckProblem {
                entry: Some((name.clone(), rel.clone())),
                message,
            };
            if is_dirty(expected) {
                let reason = expected
                    .split_once('#')
                    .map(|(_, r)| r.trim())
                    .filter(|r| !r.is_empty())
                    .unwrap_or("no reason given");
                result
                    .warnings
                    .push(problem(format!("marked DIRTY ({reason})")));
                continue;
            }
            let escapes = Path::new(rel).components().any(|c| {
                matches!(
                    c,
                    Component::ParentDir | Component::RootDir | Component::Prefix(_)
                )
            });
            if escapes {
                result
                    .failures
                    .push(problem("lies outside the destination".into()));
                continue;
            }
            let target = dest.join(rel);
            if !target.is_file() {
                result
                    .failures
                    .push(problem("missing vendored file".into()));
                continue;
            }
            let actual = match fs_err::read(&target) {
                Ok(bytes) => file_hash(&bytes),
                Err(e) => {
                    result.failures.push(problem(format!(
                        "cannot be read: {}",
                        crate::source::io_reason(&e)
                    )));
                    continue;
                }
            };
            if &actual != expected {
                result.failures.push(problem(format!(
                    "hash mismatch (expected {expected}, got {actual})"
                )));
            }
        }
    }
    if allow_dirty {
        let failures = std::mem::take(&mut result.failures);
        result.warnings.extend(failures);
    }
    result
}

/// `pattern schema`: writes the instance schema and `ioc.yaml`'s header, both or neither.
pub fn write_schema(schema: &SchemaSettings, dest: &Path) -> Result<Report, PatternError> {
    let out = generate_instance_schema(dest, schema)?;
    let mut txn = Txn::default();
    for (path, text) in &out.writes {
        if let Err(e) = txn.write(path, text.as_bytes()) {
            txn.rollback();
            return Err(e);
        }
    }
    Ok(Report { notes: out.notes })
}
