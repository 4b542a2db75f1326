//! Which services' deployments differ between two snapshots of a repository.
//!
//! Both sides are read and digested ([`digest`](super::digest)); a service
//! present on both sides with different inputs is `changed`, with the inputs
//! that differ as reasons; one present on one side only is `added` or
//! `removed` (a renamed folder is both). A service whose only difference is
//! the version of a chart dependency is reported with that reason alone:
//! judging whether the rendering differs would need the dependency charts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::digest::{digest_repo, Input, ServiceDigest};
use super::repo::{load, Strictness};
use super::snapshot::{at_commit, require_top, work_tree, Snapshot};
use super::ServicesError;
use crate::diag::Diagnostics;

/// How a service differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// On both sides, with different inputs.
    Changed,
    /// Only on the later side.
    Added,
    /// Only on the earlier side.
    Removed,
}

impl Status {
    /// The word used in listings and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Changed => "changed",
            Status::Added => "added",
            Status::Removed => "removed",
        }
    }
}

/// One service whose deployment differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The service (folder) name.
    pub name: String,
    /// Changed, added or removed.
    pub status: Status,
    /// The inputs that differ, readable.
    pub reasons: Vec<String>,
    /// True when the only differences are versions of chart dependencies.
    pub dependency_version_only: bool,
}

/// Where the later side of a comparison comes from.
#[derive(Debug, Clone)]
pub enum Until {
    /// The work tree as git would commit it.
    WorkTree,
    /// A commit, tag or branch.
    Rev(String),
}

/// The result of a comparison.
#[derive(Debug, Clone)]
pub struct ChangeReport {
    /// The services that differ, by name.
    pub changes: Vec<Change>,
    /// Files on either side that are not valid YAML and so counted by their bytes.
    pub warnings: Diagnostics,
}

/// The services that differ between `since` and `until` in the repository at `repo`.
pub fn changed_between(
    repo: &Path,
    since: &str,
    until: &Until,
) -> Result<ChangeReport, ServicesError> {
    require_top(repo)?;
    let before = at_commit(repo, since)?;
    let after = match until {
        Until::WorkTree => work_tree(repo)?,
        Until::Rev(rev) => at_commit(repo, rev)?,
    };
    let mut warnings = Diagnostics::default();
    let before = digest_snapshot(&before, &mut warnings)?;
    let after = digest_snapshot(&after, &mut warnings)?;
    Ok(ChangeReport {
        changes: compare(&before, &after),
        warnings,
    })
}

fn digest_snapshot(
    s: &Snapshot,
    warnings: &mut Diagnostics,
) -> Result<BTreeMap<String, ServiceDigest>, ServicesError> {
    let label = s.label.clone();
    let repo = match load(s.root(), Some(&label), Strictness::Lenient) {
        // a commit without `services/` has no services (e.g. before the first one)
        Err(ServicesError::NoServices(_)) => return Ok(BTreeMap::new()),
        other => other?,
    };
    warnings.0.extend(repo.warnings.0.iter().cloned());
    digest_repo(&repo)
}

/// Compares two digested snapshots.
pub fn compare(
    before: &BTreeMap<String, ServiceDigest>,
    after: &BTreeMap<String, ServiceDigest>,
) -> Vec<Change> {
    let names: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let mut out = Vec::new();
    for name in names {
        match (before.get(name), after.get(name)) {
            (Some(b), Some(a)) if b.digest != a.digest => {
                let (reasons, version_only) = reasons(&b.inputs, &a.inputs);
                out.push(Change {
                    name: name.clone(),
                    status: Status::Changed,
                    reasons,
                    dependency_version_only: version_only,
                });
            }
            (Some(_), None) => out.push(Change {
                name: name.clone(),
                status: Status::Removed,
                reasons: vec![format!("services/{name} removed")],
                dependency_version_only: false,
            }),
            (None, Some(_)) => out.push(Change {
                name: name.clone(),
                status: Status::Added,
                reasons: vec![format!("services/{name} added")],
                dependency_version_only: false,
            }),
            _ => {}
        }
    }
    out
}

/// The readable differences between two input maps, and whether all are dependency versions.
fn reasons(
    before: &BTreeMap<String, Input>,
    after: &BTreeMap<String, Input>,
) -> (Vec<String>, bool) {
    let keys: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let mut out = Vec::new();
    let mut version_only = true;
    for key in keys {
        let (b, a) = (before.get(key), after.get(key));
        if b == a {
            continue;
        }
        let what = describe(key);
        let reason = match (b, a) {
            (Some(b), Some(a)) if key.starts_with("dependency ") && b.base == a.base => {
                format!(
                    "{what} version {} → {}",
                    b.note.as_deref().unwrap_or("(none)"),
                    a.note.as_deref().unwrap_or("(none)")
                )
            }
            (Some(b), Some(a)) if key == "image" => {
                version_only = false;
                format!(
                    "image {} → {}",
                    b.note.as_deref().unwrap_or(""),
                    a.note.as_deref().unwrap_or("")
                )
            }
            (Some(_), Some(_)) => {
                version_only = false;
                what
            }
            (None, _) => {
                version_only = false;
                format!("{what} added")
            }
            (_, None) => {
                version_only = false;
                format!("{what} removed")
            }
        };
        out.push(reason);
    }
    let version_only = version_only && !out.is_empty();
    (out, version_only)
}

fn describe(key: &str) -> String {
    match key {
        "chart" => "Chart.yaml".into(),
        "values" => "values.yaml".into(),
        "shared-values" => "services/values.yaml".into(),
        "image" => "image".into(),
        _ => {
            if let Some(dep) = key.strip_prefix("dependency ") {
                format!("dependency `{dep}`")
            } else {
                key.strip_prefix("file ").unwrap_or(key).to_string()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(sha: &str, base: &str, note: Option<&str>) -> Input {
        Input {
            sha256: sha.into(),
            base: base.into(),
            note: note.map(str::to_string),
        }
    }

    fn service(inputs: &[(&str, Input)]) -> ServiceDigest {
        let inputs: BTreeMap<String, Input> = inputs
            .iter()
            .map(|(k, v)| ((*k).to_string(), v.clone()))
            .collect();
        let digest = inputs
            .iter()
            .flat_map(|(k, i)| [k.as_str(), "=", i.sha256.as_str(), ";"])
            .collect::<String>();
        ServiceDigest { inputs, digest }
    }

    #[test]
    fn a_version_only_change_is_marked_and_named() {
        let before = BTreeMap::from([(
            "a".to_string(),
            service(&[("dependency ioc-instance", input("1", "b", Some("5.3.2")))]),
        )]);
        let after = BTreeMap::from([(
            "a".to_string(),
            service(&[("dependency ioc-instance", input("2", "b", Some("5.5.0")))]),
        )]);
        let changes = compare(&before, &after);
        assert_eq!(changes.len(), 1);
        assert!(changes[0].dependency_version_only);
        assert_eq!(
            changes[0].reasons,
            ["dependency `ioc-instance` version 5.3.2 → 5.5.0"]
        );
    }

    #[test]
    fn files_added_and_removed_and_renames_are_two_entries() {
        let before = BTreeMap::from([
            (
                "old".to_string(),
                service(&[("file config/a", input("1", "1", None))]),
            ),
            (
                "keep".to_string(),
                service(&[("file config/a", input("1", "1", None))]),
            ),
        ]);
        let after = BTreeMap::from([
            (
                "new".to_string(),
                service(&[("file config/a", input("1", "1", None))]),
            ),
            (
                "keep".to_string(),
                service(&[("file config/b", input("1", "1", None))]),
            ),
        ]);
        let changes = compare(&before, &after);
        let got: Vec<(&str, Status)> = changes
            .iter()
            .map(|c| (c.name.as_str(), c.status))
            .collect();
        assert_eq!(
            got,
            [
                ("keep", Status::Changed),
                ("new", Status::Added),
                ("old", Status::Removed)
            ]
        );
        assert_eq!(changes[0].reasons, ["config/a removed", "config/b added"]);
        assert!(!changes[0].dependency_version_only);
    }
}
