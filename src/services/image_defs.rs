//! The definitions of an IOC image, for [`check`](super::check): its
//! `/epics/ibek-defs` (and `/epics/pvi-defs`), read through the Docker Engine
//! API without running a container, once per image ID.
//!
//! The image a service's layered values name is inspected (never pulled
//! unless asked); its ID (`sha256:...`) keys a cache folder
//! `CACHE/<hex>/{ibek-defs,pvi-defs}`. On a miss one container is created
//! (never started), both folders are downloaded (links followed inside the
//! image), unpacked into a temporary folder beside the cache entry (every
//! path kept inside it by [`crate::contain`]) and renamed into place, so an
//! entry is whole or absent. A hit costs one inspect. Within a run each
//! image is looked up once however many services name it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::build::docker::{DockerEngine, DockerError};

/// Where and how image definitions are found.
#[derive(Debug, Clone)]
pub struct ImageDefsSettings {
    /// The cache folder (e.g. `$XDG_CACHE_HOME/iocforge/image-defs`).
    pub cache_dir: PathBuf,
    /// The daemon to ask.
    pub engine: DockerEngine,
    /// Pull an image that is not present locally.
    pub pull: bool,
}

/// An image's definitions on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageDefs {
    /// The image ID (`sha256:...`).
    pub id: String,
    /// The copy of `/epics/ibek-defs`.
    pub ibek_defs: PathBuf,
    /// The copy of `/epics/pvi-defs`, when the image has one.
    pub pvi_defs: Option<PathBuf>,
}

/// Why an image's definitions are not at hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unavailable {
    /// Nothing to check against (image absent, daemon unreachable): the checks are skipped.
    Skip(String),
    /// The image could not be read: the checks fail.
    Fail(String),
}

/// The images looked up in one run.
#[derive(Debug)]
pub struct ImageDefsCache {
    settings: ImageDefsSettings,
    by_image: HashMap<String, Result<ImageDefs, Unavailable>>,
}

impl ImageDefsCache {
    /// A cache with nothing looked up yet.
    pub fn new(settings: ImageDefsSettings) -> Self {
        ImageDefsCache {
            settings,
            by_image: HashMap::new(),
        }
    }

    /// The definitions of `image`, extracted at most once per image ID.
    pub fn get(&mut self, image: &str) -> Result<ImageDefs, Unavailable> {
        if let Some(found) = self.by_image.get(image) {
            return found.clone();
        }
        let found = lookup(&self.settings, image);
        self.by_image.insert(image.to_string(), found.clone());
        found
    }
}

fn lookup(settings: &ImageDefsSettings, image: &str) -> Result<ImageDefs, Unavailable> {
    let engine = &settings.engine;
    let daemon = |e: DockerError| match e {
        DockerError::Unreachable { .. } => Unavailable::Skip(format!(
            "{e}; start Docker, or pass --definitions DIR (a copy of the image's /epics/ibek-defs)"
        )),
        other => Unavailable::Fail(format!("image `{image}`: {other}")),
    };
    let mut id = engine.image_id(image).map_err(daemon)?;
    if id.is_none() && settings.pull {
        engine.pull_image(image).map_err(daemon)?;
        id = engine.image_id(image).map_err(daemon)?;
    }
    let Some(id) = id else {
        return Err(Unavailable::Skip(format!(
            "image `{image}` is not present locally: `docker pull {image}` (or pass --pull), or pass --definitions DIR"
        )));
    };
    let entry = settings.cache_dir.join(key(&id));
    if !entry.is_dir() {
        extract(settings, image, &id, &entry).map_err(Unavailable::Fail)?;
    }
    let pvi = entry.join("pvi-defs");
    Ok(ImageDefs {
        ibek_defs: entry.join("ibek-defs"),
        pvi_defs: pvi.is_dir().then_some(pvi),
        id,
    })
}

/// The cache folder name of an image ID: its hex digest (or, for an ID
/// that is not one, a digest of it, so it is always a plain name).
fn key(id: &str) -> String {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    if !hex.is_empty() && hex.len() <= 128 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return hex.to_ascii_lowercase();
    }
    let digest = crate::pattern::lock::file_hash(id.as_bytes());
    digest.trim_start_matches("sha256:").to_string()
}

/// Reads the image's folders and renames their copy into `entry`.
fn extract(
    settings: &ImageDefsSettings,
    image: &str,
    id: &str,
    entry: &Path,
) -> Result<(), String> {
    let cache = &settings.cache_dir;
    fs_err::create_dir_all(cache).map_err(|e| {
        format!(
            "cannot create the cache folder `{}`: {}",
            cache.display(),
            crate::source::io_reason(&e)
        )
    })?;
    // by ID: the tag may move between the inspect and the container
    let dirs = settings
        .engine
        .read_image_dirs(id, &["/epics/ibek-defs", "/epics/pvi-defs"])
        .map_err(|e| format!("image `{image}`: {e}"))?;
    let staging = tempfile::Builder::new()
        .prefix(".extract-")
        .tempdir_in(cache)
        .map_err(|e| format!("cannot write in `{}`: {e}", cache.display()))?;
    for (name, files) in ["ibek-defs", "pvi-defs"].iter().zip(&dirs) {
        let Some(files) = files else {
            continue;
        };
        let dir = staging.path().join(name);
        fs_err::create_dir_all(&dir).map_err(|e| e.to_string())?;
        for (rel, bytes) in files {
            let dest = crate::contain::join_within(&dir, rel)
                .map_err(|e| format!("image `{image}`: /epics/{name}: {e}"))?;
            if let Some(parent) = dest.parent() {
                fs_err::create_dir_all(parent).map_err(|e| e.to_string())?;
            }
            fs_err::write(&dest, bytes).map_err(|e| e.to_string())?;
        }
    }
    let staged = staging.keep();
    if let Err(e) = fs_err::rename(&staged, entry) {
        let _ = fs_err::remove_dir_all(&staged);
        // another run extracted the same image meanwhile: its copy is as good
        if !entry.is_dir() {
            return Err(format!("cannot write `{}`: {e}", entry.display()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::key;

    #[test]
    fn cache_keys_are_plain_names() {
        assert_eq!(key("sha256:ABCdef01"), "abcdef01");
        let odd = key("sha256:../../etc");
        assert_eq!(odd.len(), 64);
        assert!(odd.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
