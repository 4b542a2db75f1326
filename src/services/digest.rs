//! A service's inputs: everything that reaches what Kubernetes receives for it.
//!
//! Each service becomes a sorted map of named inputs, each with a SHA-256:
//!
//! - `chart`: `Chart.yaml`'s content without `dependencies` (canonical YAML);
//! - `dependency NAME`: the dependency entry (version, repository, alias, ...),
//!   and for a `file://` dependency the content of that chart folder too;
//! - `values`: the service's `values.yaml` (canonical YAML);
//! - `shared-values`: the shared `services/values.yaml`, restricted to the top-level
//!   keys this service can read: `global`, the names and aliases of its
//!   dependencies, the keys its own values set, and every key whose name
//!   appears in the text of its templates;
//! - `image`: the container image its layered values name;
//! - `file PATH`: every other file of the folder (symlinks followed, so a shared template
//!   counts for every service linking to it), by its exact bytes: config files
//!   and templates reach Kubernetes verbatim (the ConfigMap, the manifests).
//!
//! The service's digest is the SHA-256 of `name<TAB>sha256<LF>` lines in
//! byte order of the names. Nothing machine-specific enters: paths are
//! relative with `/`, file modes and times do not count, YAML is compared by
//! [`canonical`](super::canonical) text. A symlink leaving the repository
//! counts by its target's text, never by the file it reaches on this machine.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::canonical::{canonical, canonical_subset};
use super::repo::{Service, ServicesRepo};
use super::ServicesError;

/// One input of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// SHA-256 (hex) of the whole input.
    pub sha256: String,
    /// SHA-256 of the input without its `note`, to tell a version-only change.
    pub base: String,
    /// A short readable value (a dependency's version, the image), for reasons.
    pub note: Option<String>,
}

/// The inputs of one service and their combined digest.
#[derive(Debug, Clone)]
pub struct ServiceDigest {
    /// The inputs by name.
    pub inputs: BTreeMap<String, Input>,
    /// SHA-256 over all inputs.
    pub digest: String,
}

/// Digests every service of a repository.
pub fn digest_repo(repo: &ServicesRepo) -> Result<BTreeMap<String, ServiceDigest>, ServicesError> {
    let root = canonical_root(&repo.root)?;
    let mut out = BTreeMap::new();
    for service in &repo.services {
        out.insert(service.name.clone(), digest_service(repo, &root, service)?);
    }
    Ok(out)
}

pub(super) fn canonical_root(root: &Path) -> Result<PathBuf, ServicesError> {
    fs_err::canonicalize(root).map_err(|e| ServicesError::Read {
        path: root.to_path_buf(),
        reason: crate::source::io_reason(&e),
    })
}

fn sha(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(hash: &[u8]) -> String {
    let mut s = String::with_capacity(64);
    for b in hash {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn plain(text: &str) -> Input {
    let h = sha(text.as_bytes());
    Input {
        sha256: h.clone(),
        base: h,
        note: None,
    }
}

/// Digests one service.
pub fn digest_service(
    repo: &ServicesRepo,
    root: &Path,
    service: &Service,
) -> Result<ServiceDigest, ServicesError> {
    let mut inputs = BTreeMap::new();
    let chart_without_deps = canonical_subset(&service.chart.node, &|k| k != "dependencies");
    inputs.insert("chart".to_string(), plain(&chart_without_deps));

    let mut template_text = String::new();
    let files = walk(root, &service.dir)?;
    for file in &files {
        if file.rel == "Chart.yaml" || file.rel == "values.yaml" {
            continue;
        }
        if file.rel.starts_with("templates/") {
            template_text.push_str(&file.text);
        }
        inputs.insert(format!("file {}", file.rel), plain_sha(&file.sha256));
    }

    for dep in &service.dependencies {
        let entry = canonical_subset(&dep.node, &|k| k != "version");
        let mut base = entry;
        if let Some(local) = dep.local_path() {
            let dir = service.dir.join(local);
            if dir.is_dir() {
                base.push_str("\nlocal chart:");
                for file in walk(root, &dir)? {
                    if file.rel.starts_with("templates/") {
                        template_text.push_str(&file.text);
                    }
                    let _ = write!(base, "\n{}\t{}", file.rel, file.sha256);
                }
            } else {
                base.push_str("\nlocal chart missing");
            }
        }
        let version = dep.version.clone().unwrap_or_default();
        let base_sha = sha(base.as_bytes());
        inputs.insert(
            format!("dependency {}", dep.name),
            Input {
                sha256: sha(format!("{base_sha}\n{version}").as_bytes()),
                base: base_sha,
                note: Some(version),
            },
        );
    }

    let own_keys: Vec<String> = service
        .values
        .as_ref()
        .and_then(|v| v.node.as_map())
        .map(|m| m.iter().map(|(k, _)| k.key_text()).collect())
        .unwrap_or_default();
    if let Some(values) = &service.values {
        inputs.insert("values".to_string(), plain(&canonical(&values.node)));
    }
    if let Some(shared) = &repo.shared_values {
        let keep = |k: &str| {
            k == "global"
                || service.dependencies.iter().any(|d| d.values_key() == k)
                || own_keys.iter().any(|o| o == k)
                || template_text.contains(k)
        };
        inputs.insert(
            "shared-values".to_string(),
            plain(&canonical_subset(&shared.node, &keep)),
        );
    }
    if let Some(image) = &service.image {
        inputs.insert(
            "image".to_string(),
            Input {
                sha256: sha(image.as_bytes()),
                base: String::new(),
                note: Some(image.clone()),
            },
        );
    }
    let mut all = String::new();
    for (name, input) in &inputs {
        let _ = writeln!(all, "{name}\t{}", input.sha256);
    }
    Ok(ServiceDigest {
        digest: sha(all.as_bytes()),
        inputs,
    })
}

fn plain_sha(h: &str) -> Input {
    Input {
        sha256: h.to_string(),
        base: h.to_string(),
        note: None,
    }
}

/// A file found under a folder, symlinks followed.
pub(super) struct WalkedFile {
    /// Path below the folder, with `/`.
    pub(super) rel: String,
    /// The file to read, or `None` for a link leaving the repository or pointing nowhere.
    pub(super) path: Option<PathBuf>,
    /// SHA-256 of its bytes, or of the target text of a link leaving the
    /// repository or pointing nowhere.
    sha256: String,
    /// Its text, kept only for templates (whose text decides which shared keys count).
    text: String,
}

impl WalkedFile {
    fn link(dir: &Path, path: &Path, what: &str, target: &Path) -> WalkedFile {
        WalkedFile {
            rel: rel_of(dir, path),
            path: None,
            sha256: sha(format!("{what} {}", target.display()).as_bytes()),
            text: String::new(),
        }
    }
}

/// Every file under `dir`, following symlinks that stay inside `root`, sorted by path.
pub(super) fn walk(root: &Path, dir: &Path) -> Result<Vec<WalkedFile>, ServicesError> {
    let mut files = Vec::new();
    let mut it = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter();
    while let Some(entry) = it.next() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                // a dangling symlink: it counts by where it points
                if let Some(path) = e.path() {
                    if let Ok(target) = fs_err::read_link(path) {
                        files.push(WalkedFile::link(dir, path, "dangling symlink to", &target));
                        continue;
                    }
                }
                return Err(ServicesError::Read {
                    path: e.path().unwrap_or(dir).to_path_buf(),
                    reason: e.to_string(),
                });
            }
        };
        let path = entry.path();
        if entry.path_is_symlink() {
            let real = fs_err::canonicalize(path).map_err(|e| ServicesError::Read {
                path: path.to_path_buf(),
                reason: crate::source::io_reason(&e),
            })?;
            if !real.starts_with(root) {
                let target = fs_err::read_link(path).map_err(|e| ServicesError::Read {
                    path: path.to_path_buf(),
                    reason: crate::source::io_reason(&e),
                })?;
                files.push(WalkedFile::link(
                    dir,
                    path,
                    "symlink outside the repository to",
                    &target,
                ));
                if entry.file_type().is_dir() {
                    it.skip_current_dir();
                }
                continue;
            }
        }
        if !entry.file_type().is_file() {
            continue;
        }
        let read_err = |e: std::io::Error| ServicesError::Read {
            path: path.to_path_buf(),
            reason: crate::source::io_reason(&e),
        };
        let rel = rel_of(dir, path);
        let mut file = fs_err::File::open(path).map_err(read_err)?;
        let (sha256, text) = if rel.starts_with("templates/") {
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes).map_err(read_err)?;
            (sha(&bytes), String::from_utf8_lossy(&bytes).into_owned())
        } else {
            // streamed: a large file (a vendored chart archive) is never held whole
            let mut hasher = Sha256::new();
            std::io::copy(&mut file, &mut hasher).map_err(read_err)?;
            (hex(&hasher.finalize()), String::new())
        };
        files.push(WalkedFile {
            rel,
            path: Some(path.to_path_buf()),
            sha256,
            text,
        });
    }
    Ok(files)
}

fn rel_of(dir: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(dir).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}
