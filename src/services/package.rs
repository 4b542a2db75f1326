//! `services package`: one self-contained, byte-reproducible chart per service.
//!
//! Beside [`digest`](super::digest), reading the same files: the archive
//! `NAME-VERSION.tgz` holds `NAME/Chart.yaml` (the service's chart renamed
//! after its folder, at the given version), `NAME/values.yaml` (the shared
//! values layered under the service's, as `helm template --values
//! services/values.yaml --values services/NAME/values.yaml` layers them),
//! every other file of the folder (symlinks followed), and each dependency
//! under `NAME/charts/DEP/`: a `file://` one from the repository, any other
//! from a folder of charts given as `NAME-VERSION/` (iocforge pulls nothing).
//! Entries are sorted, with fixed times, owners and modes, and the gzip
//! header carries no time or name, so the same inputs give the same bytes.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::digest::{canonical_root, walk};
use super::repo::{Service, ServicesRepo};
use super::ServicesError;
use crate::schema::check::node_to_json;

/// The modification time of every entry: 1980-01-01, as reproducible archives use.
const MTIME: u64 = 315_532_800;

/// Builds the chart archive of one service.
pub fn package_service(
    repo: &ServicesRepo,
    service: &Service,
    version: &str,
    charts: Option<&Path>,
) -> Result<Vec<u8>, ServicesError> {
    let root = canonical_root(&repo.root)?;
    let name = &service.name;
    // path in the archive -> bytes
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();

    let chart = chart_metadata(service, version);
    entries.push((format!("{name}/Chart.yaml"), json_text(&chart)));

    let mut values = Value::Object(Map::new());
    if let Some(shared) = repo.shared_values.as_ref().filter(|s| !s.raw) {
        layer(&mut values, node_to_json(&shared.node));
    }
    if let Some(own) = service.values.as_ref().filter(|v| !v.raw) {
        layer(&mut values, node_to_json(&own.node));
    }
    entries.push((format!("{name}/values.yaml"), json_text(&values)));

    for file in walk(&root, &service.dir)? {
        if file.rel == "Chart.yaml" || file.rel == "values.yaml" || file.rel.starts_with("charts/")
        {
            continue;
        }
        entries.push((
            format!("{name}/{}", file.rel),
            read(service, &file.rel, file.path)?,
        ));
    }

    for dep in &service.dependencies {
        let dir = match (dep.local_path(), charts) {
            (Some(local), _) => service.dir.join(local),
            (None, Some(charts)) => charts.join(format!(
                "{}-{}",
                dep.name,
                dep.version.as_deref().unwrap_or("")
            )),
            (None, None) => PathBuf::new(),
        };
        if !dir.is_dir() {
            return Err(ServicesError::Read {
                path: dir,
                reason: format!(
                    "dependency `{}` {} of service `{name}` is not at hand; pass --charts DIR \
                     holding `{}-{}/` (iocforge pulls no charts)",
                    dep.name,
                    dep.version.as_deref().unwrap_or(""),
                    dep.name,
                    dep.version.as_deref().unwrap_or("")
                ),
            });
        }
        let dep_root = canonical_root(&dir)?;
        for file in walk(&dep_root, &dir)? {
            entries.push((
                format!("{name}/charts/{}/{}", dep.values_key(), file.rel),
                read(service, &file.rel, file.path)?,
            ));
        }
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    archive(&entries)
}

/// The packaged `Chart.yaml`: the service's chart renamed after its folder, at `version`.
pub fn chart_metadata(service: &Service, version: &str) -> Value {
    let mut chart = node_to_json(&service.chart.node);
    if let Value::Object(m) = &mut chart {
        m.insert("name".into(), Value::String(service.name.clone()));
        m.insert("version".into(), Value::String(version.to_string()));
    }
    chart
}

fn read(service: &Service, rel: &str, path: Option<PathBuf>) -> Result<Vec<u8>, ServicesError> {
    let Some(path) = path else {
        return Err(ServicesError::Read {
            path: service.dir.join(rel),
            reason: "a symlink leaving the repository or pointing nowhere cannot be packaged"
                .into(),
        });
    };
    let mut bytes = Vec::new();
    fs_err::File::open(&path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|e| ServicesError::Read {
            path: path.clone(),
            reason: crate::source::io_reason(&e),
        })?;
    Ok(bytes)
}

/// Helm's layering of values files: maps merge, the later value wins.
pub fn layer(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(existing) if existing.is_object() && v.is_object() => layer(existing, v),
                    _ => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

/// Pretty JSON (valid YAML) with keys sorted, so the text does not depend on file order.
fn json_text(v: &Value) -> Vec<u8> {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                Value::Object(
                    keys.into_iter()
                        .map(|k| (k.clone(), sorted(&m[k])))
                        .collect(),
                )
            }
            Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    let mut text = serde_json::to_string_pretty(&sorted(v)).unwrap_or_default();
    text.push('\n');
    text.into_bytes()
}

fn archive(entries: &[(String, Vec<u8>)]) -> Result<Vec<u8>, ServicesError> {
    let write_err = |e: std::io::Error| ServicesError::Write {
        path: PathBuf::from("<chart archive>"),
        reason: e.to_string(),
    };
    let gz = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), flate2::Compression::best());
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    for (path, bytes) in entries {
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(MTIME);
        header.set_uid(0);
        header.set_gid(0);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, path, bytes.as_slice())
            .map_err(write_err)?;
    }
    let mut gz = tar.into_inner().map_err(write_err)?;
    gz.flush().map_err(write_err)?;
    gz.finish().map_err(write_err)
}
