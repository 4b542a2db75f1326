//! The published base schema of an image: where it is, and its cache.
//!
//! Below [`super::schema`]: an image reference such as
//! `ghcr.io/epics-containers/ioc-adsimdetector-runtime:2025.11.1` maps to the
//! GitHub release asset `ibek.ioc.schema.json` of
//! `epics-containers/ioc-adsimdetector` at tag `2025.11.1`, and to a cache
//! file under `IBEK_SCHEMA_CACHE` laid out as ibek lays it out (registry
//! host, image path, stripped name, `<tag>.json` plus
//! `<tag>.validators.json`). Every run revalidates the cached copy with
//! `If-None-Match` / `If-Modified-Since` through [`super::http`]; a server
//! that cannot be reached leaves the cached copy in use, with a note.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

use super::http::{self, FetchError, Response};
use super::schema::SchemaSettings;
use super::{io_error, py_repr, PatternError};
use crate::schema::{to_pretty, Json};

const PUBLISHED_SCHEMA_ASSET: &str = "ibek.ioc.schema.json";
const GITLAB_ISSUE: &str = "https://github.com/epics-containers/ibek/issues/375";
const DEFAULT_REGISTRY: &str = "docker.io";
/// ibek's host for published schemas.
pub const DEFAULT_BASE_URL: &str = "https://github.com";

static IMAGE_SUFFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(-linux|-rtems-beatnik)?(-developer|-runtime)$").expect("static regex")
});

/// Why no base schema was had.
#[derive(Debug)]
pub(crate) enum BaseError {
    /// None is published (or the image cannot be mapped to a release).
    NotFound(String),
    /// The server could not be asked; one may exist.
    Fetch(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// The registry host, if the reference names one.
    pub host: Option<String>,
    /// The path parts (`org`, ..., `name`).
    pub path: Vec<String>,
    /// The tag.
    pub tag: String,
}

/// Splits an image reference as Docker's grammar does (a digest is ignored).
pub fn parse_image_ref(image: &str) -> Result<ImageRef, String> {
    let r = image.trim();
    let r = r.split('@').next().unwrap_or("");
    let mut parts: Vec<&str> = r.split('/').collect();
    let mut host = None;
    if parts.len() > 1
        && (parts[0].contains('.') || parts[0].contains(':') || parts[0] == "localhost")
    {
        host = Some(parts.remove(0).to_string());
    }
    let last = parts.pop().unwrap_or("");
    let (name, tag) = last.split_once(':').unwrap_or((last, ""));
    if tag.is_empty() {
        return Err(format!("image {} has no tag", py_repr(image)));
    }
    let mut path: Vec<String> = parts.iter().map(|s| (*s).to_string()).collect();
    path.push(name.to_string());
    if path.iter().any(|p| p.is_empty() || p == "." || p == "..") {
        return Err(format!("cannot parse image path from {}", py_repr(image)));
    }
    Ok(ImageRef {
        host,
        path,
        tag: tag.to_string(),
    })
}

fn base_name(name: &str) -> String {
    IMAGE_SUFFIX.replace(name, "").into_owned()
}

/// The release-asset URL of an image's published schema under `base_url`.
pub fn published_schema_url(base_url: &str, image: &str) -> Result<String, String> {
    let r = parse_image_ref(image)?;
    if let Some(host) = &r.host {
        let hostname = host.split(':').next().unwrap_or("");
        if hostname.split('.').any(|p| p == "gitlab") {
            return Err(format!(
                "image {} is on GitLab registry {host}; ibek cannot yet locate schemas published on GitLab (see {GITLAB_ISSUE})",
                py_repr(image)
            ));
        }
    }
    if r.path.len() < 2 {
        return Err(format!(
            "cannot parse org/repo from image {}",
            py_repr(image)
        ));
    }
    let org = &r.path[0];
    let repo = base_name(&r.path[r.path.len() - 1]);
    Ok(format!(
        "{}/{org}/{repo}/releases/download/{}/{PUBLISHED_SCHEMA_ASSET}",
        base_url.trim_end_matches('/'),
        r.tag
    ))
}

/// The cache file of an image's base schema: host, path, stripped name, `<tag>.json`.
pub fn cache_path(cache_root: &Path, image: &str) -> Result<PathBuf, String> {
    let r = parse_image_ref(image)?;
    let host = r
        .host
        .as_deref()
        .unwrap_or(DEFAULT_REGISTRY)
        .replace(':', "_");
    let mut p = cache_root.join(host);
    let (name, parents) = r.path.split_last().ok_or("empty image path")?;
    for part in parents {
        p.push(part);
    }
    p.push(base_name(name));
    p.push(format!("{}.json", r.tag));
    Ok(p)
}

pub(crate) fn validators_path(cache: &Path) -> PathBuf {
    // Path.with_suffix(".validators.json") on `<tag>.json`
    let name = cache
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.strip_suffix(".json").unwrap_or(&name);
    cache.with_file_name(format!("{stem}.validators.json"))
}

pub(crate) fn parse_json(bytes: &[u8]) -> Result<Json, String> {
    super::pyjson::parse(bytes)
}

fn read_json_object(path: &Path) -> Option<Json> {
    let bytes = fs_err::read(path).ok()?;
    let v = parse_json(&bytes).ok()?;
    matches!(v, Json::Object(_)).then_some(v)
}

fn write_atomic(path: &Path, text: &str) -> Result<(), PatternError> {
    let parent = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(
            ".{}.",
            path.file_name().unwrap_or_default().to_string_lossy()
        ))
        .tempfile_in(parent)
        .map_err(|e| io_error("write", path, &e))?;
    std::io::Write::write_all(&mut tmp, text.as_bytes())
        .map_err(|e| io_error("write", path, &e))?;
    tmp.persist(path)
        .map_err(|e| io_error("write", path, &e.error))?;
    Ok(())
}

fn validators_json(validators: &[(String, String)]) -> String {
    // json.dumps(dict) with its default separators
    let mut out = String::from("{");
    for (i, (k, v)) in validators.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&to_pretty(&Json::str(k.clone())));
        out.push_str(": ");
        out.push_str(&to_pretty(&Json::str(v.clone())));
    }
    out.push('}');
    out
}

pub(crate) fn fetch_published(
    image: &str,
    settings: &SchemaSettings,
    notes: &mut Vec<String>,
) -> Result<Json, BaseError> {
    let cache = cache_path(&settings.cache_root, image).map_err(BaseError::NotFound)?;
    let vpath = validators_path(&cache);
    let cached = read_json_object(&cache);
    let mut headers = Vec::new();
    if cached.is_some() {
        if let Some(Json::Object(v)) = read_json_object(&vpath) {
            for (key, header) in [
                ("ETag", "If-None-Match"),
                ("Last-Modified", "If-Modified-Since"),
            ] {
                if let Some(Json::Str(s)) = v.get(key) {
                    headers.push((header, s.clone()));
                }
            }
        }
    }
    let url = published_schema_url(&settings.base_url, image).map_err(BaseError::NotFound)?;
    let fetched = match http::get(&url, &headers, &settings.http) {
        Ok(r) => r,
        Err(e @ FetchError::NotPublished { .. }) => return Err(BaseError::NotFound(e.to_string())),
        Err(e @ FetchError::Transient { .. }) => {
            let Some(cached) = cached else {
                return Err(BaseError::Fetch(e.to_string()));
            };
            notes.push(format!(
                "Using cached schema for {image}, could not revalidate it: {e}"
            ));
            return Ok(cached);
        }
    };
    let (body, validators) = match fetched {
        Response::NotModified => {
            return cached.ok_or_else(|| {
                BaseError::Fetch(format!("{url} returned 304 but nothing is cached"))
            })
        }
        Response::Body { body, validators } => (body, validators),
    };
    let schema = parse_json(&body)
        .map_err(|e| BaseError::NotFound(format!("{url} did not return JSON: {e}")))?;
    if cached.as_ref().is_some_and(|c| !c.py_eq(&schema)) {
        notes.push(format!(
            "Published schema for {image} changed since it was cached"
        ));
    }
    let store = || -> Result<(), PatternError> {
        if let Some(parent) = cache.parent() {
            fs_err::create_dir_all(parent).map_err(|e| io_error("create folder", parent, &e))?;
        }
        write_atomic(&cache, &to_pretty(&schema))?;
        write_atomic(&vpath, &validators_json(&validators))
    };
    if let Err(e) = store() {
        // a cache that cannot be written costs a download next time, nothing more
        notes.push(format!("warning: cannot cache the schema: {e}"));
    }
    Ok(schema)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_refs_map_to_release_assets_and_cache_paths() {
        let img = "ghcr.io/epics-containers/ioc-adsimdetector-runtime:2025.11.1";
        assert_eq!(
            published_schema_url(DEFAULT_BASE_URL, img).unwrap(),
            "https://github.com/epics-containers/ioc-adsimdetector/releases/download/2025.11.1/ibek.ioc.schema.json"
        );
        assert_eq!(
            cache_path(Path::new("/c"), img).unwrap(),
            Path::new("/c/ghcr.io/epics-containers/ioc-adsimdetector/2025.11.1.json")
        );
        assert_eq!(
            cache_path(Path::new("/c"), "localhost:5000/a/b-linux-runtime:1.0").unwrap(),
            Path::new("/c/localhost_5000/a/b/1.0.json")
        );
        assert_eq!(
            validators_path(Path::new("/c/x/1.0.json")),
            Path::new("/c/x/1.0.validators.json")
        );
        assert!(parse_image_ref("ghcr.io/a/b").is_err());
        assert!(published_schema_url(DEFAULT_BASE_URL, "gitlab.example.com/a/b:1").is_err());
        assert!(published_schema_url(DEFAULT_BASE_URL, "b:1").is_err());
    }

    #[test]
    fn validators_are_written_like_json_dumps() {
        assert_eq!(
            validators_json(&[("ETag".into(), "\"x\"".into())]),
            r#"{"ETag": "\"x\""}"#
        );
        assert_eq!(validators_json(&[]), "{}");
    }
}
