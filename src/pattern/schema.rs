//! An instance's own `ioc.schema.json`, as `ibek pattern schema` writes it.
//!
//! The last step of `add` / `update` / `restore` and the whole of `schema`:
//! find the image pinned in the instance's `values.yaml` / `compose.yml`,
//! get that image's base schema (published as a GitHub release asset, cached
//! per image tag under `IBEK_SCHEMA_CACHE` and revalidated with
//! `If-None-Match` / `If-Modified-Since` on every run; or, beyond ibek, from
//! a file or from the image itself), graft in the entity types of the
//! instance's `config/*.ibek.support.yaml` (built by [`crate::schema`]),
//! and set `config/ioc.yaml`'s `# yaml-language-server` header. The written
//! files are returned for the caller's transaction; only the cache is
//! written here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use super::http::HttpSettings;
pub use super::published::DEFAULT_BASE_URL;
use super::published::{fetch_published, parse_json, BaseError};
use super::{io_error, PatternError, IOC_SCHEMA_NAME};
use crate::runtime::generate::load_definitions;
use crate::schema::{ioc_schema, to_pretty, Json};
use crate::source::{parse, Node, NodeKind};

/// Entity defs every generated schema has; never copied on merge.
const BUILTIN_DEFS: &[&str] = &["RepeatEntity", "Wait4IPEntity", "Wait4USBEntity"];
/// The files an instance pins its image in, in the order ibek looks.
pub const IMAGE_SOURCES: &[&str] = &["values.yaml", "compose.yml", "compose.yaml"];
/// Where the base schema comes from.
#[derive(Debug, Clone)]
pub enum BaseSource {
    /// ibek's published release asset, cached and revalidated.
    Published,
    /// A file (e.g. copied out of the image beforehand).
    File(PathBuf),
    /// Bytes already read (e.g. from the image through the Docker API).
    Bytes {
        /// Where they came from, for messages.
        label: String,
        /// The schema text.
        bytes: Vec<u8>,
    },
}

/// How `pattern schema` gets its base schema.
#[derive(Debug, Clone)]
pub struct SchemaSettings {
    /// The base schema's source.
    pub base: BaseSource,
    /// The cache root (`IBEK_SCHEMA_CACHE`, default `~/.cache/ibek/schemas`).
    pub cache_root: PathBuf,
    /// The release host (`https://github.com`; a test server in tests).
    pub base_url: String,
    /// Proxies and timeout.
    pub http: HttpSettings,
}

/// Files to write and lines to print.
#[derive(Debug, Default)]
pub struct SchemaOutput {
    /// `(path, text)` to write, in order.
    pub writes: Vec<(PathBuf, String)>,
    /// Informational lines ibek prints.
    pub notes: Vec<String>,
    /// Whether a schema was generated.
    pub written: bool,
}

/// A parsed image reference.
/// The instance's image file, if it has one (the definition of "is an instance").
pub fn image_source(dest: &Path) -> Option<PathBuf> {
    IMAGE_SOURCES
        .iter()
        .map(|n| dest.join(n))
        .find(|p| p.is_file())
}

/// Whether `dest` looks like an IOC instance.
pub fn is_instance(dest: &Path) -> bool {
    image_source(dest).is_some()
}

/// The image pinned in `values.yaml` / `compose.yml`: the first `image:`
/// string with a `/` and a `:` and no `REPLACE` placeholder.
pub fn find_image(dest: &Path) -> Result<Option<String>, PatternError> {
    let Some(source) = image_source(dest) else {
        return Ok(None);
    };
    let text = fs_err::read_to_string(&source).map_err(|e| io_error("read", &source, &e))?;
    let root = parse(&text).map_err(|e| {
        let (line, col) = e.span.line_col();
        PatternError::with_hint(
            format!(
                "{}:{line}:{col}: invalid YAML: {}",
                source.display(),
                e.message
            ),
            "fix the YAML",
        )
    })?;
    let mut found = Vec::new();
    walk_images(&root, &mut found);
    Ok(found
        .into_iter()
        .find(|i| i.contains('/') && i.contains(':') && !i.to_uppercase().contains("REPLACE")))
}

fn walk_images(node: &Node, found: &mut Vec<String>) {
    match &node.kind {
        NodeKind::Map(_) => {
            let entries = node.map_entries().unwrap_or_default();
            for (k, v) in entries {
                // map_entries keys are text; only a string key `image` counts
                match (&v.kind, k == "image") {
                    (NodeKind::Str(s), true) => found.push(s.clone()),
                    _ => walk_images(v, found),
                }
            }
        }
        NodeKind::Seq(items) => items.iter().for_each(|i| walk_images(i, found)),
        _ => {}
    }
}

fn union_path(schema: &Json) -> Result<Vec<String>, String> {
    let items = schema
        .get("properties")
        .and_then(|p| p.get("entities"))
        .and_then(|e| e.get("items"))
        .ok_or("the schema has no properties.entities.items")?;
    if let Some(r) = items.get("$ref") {
        let Json::Str(r) = r else {
            return Err("properties.entities.items.$ref is not a string".into());
        };
        let name = r.rsplit('/').next().unwrap_or("").to_string();
        if schema.get("$defs").and_then(|d| d.get(&name)).is_none() {
            return Err(format!("$defs has no {name}"));
        }
        return Ok(vec!["$defs".into(), name]);
    }
    Ok(vec!["properties".into(), "entities".into(), "items".into()])
}

fn at_mut<'a>(value: &'a mut Json, path: &[String]) -> Option<&'a mut Json> {
    let mut cur = value;
    for p in path {
        cur = cur.as_object_mut()?.get_mut(p)?;
    }
    Some(cur)
}

fn collect_refs(node: &Json, acc: &mut BTreeSet<String>) {
    match node {
        Json::Object(m) => {
            for (k, v) in m {
                match v {
                    Json::Str(s) if k == "$ref" => {
                        if s.contains("/$defs/") {
                            acc.insert(s.rsplit('/').next().unwrap_or("").to_string());
                        }
                    }
                    _ => collect_refs(v, acc),
                }
            }
        }
        Json::Array(items) => items.iter().for_each(|i| collect_refs(i, acc)),
        _ => {}
    }
}

fn last_segment(r: &Json) -> String {
    match r {
        Json::Str(s) => s.rsplit('/').next().unwrap_or("").to_string(),
        _ => String::new(),
    }
}

/// Grafts the entity types `extra` defines, and the `$defs` they need, into
/// `base` (ibek's `merge_entities`).
pub fn merge_entities(mut base: Json, extra: &Json) -> Result<Json, String> {
    let base_union = union_path(&base)?;
    let extra_union_path = union_path(extra)?;
    let mut extra_union = extra;
    for p in &extra_union_path {
        extra_union = extra_union.get(p).ok_or("bad extra schema")?;
    }
    let empty = IndexMap::new();
    let extra_defs = extra
        .get("$defs")
        .and_then(Json::as_object)
        .unwrap_or(&empty);
    if base.get("$defs").is_none() {
        base.insert("$defs", Json::empty_object());
    }
    let base_mapping: IndexMap<String, Json> = {
        let u = at_mut(&mut base, &base_union).ok_or("bad base schema")?;
        u.get("discriminator")
            .and_then(|d| d.get("mapping"))
            .and_then(Json::as_object)
            .cloned()
            .ok_or("the base schema's entity union has no discriminator mapping")?
    };
    let extra_mapping = extra_union
        .get("discriminator")
        .and_then(|d| d.get("mapping"))
        .and_then(Json::as_object)
        .ok_or("the generated schema has no discriminator mapping")?;
    let mut new_entities: IndexMap<String, String> = IndexMap::new();
    for (disc, r) in extra_mapping {
        let key = last_segment(r);
        if !BUILTIN_DEFS.contains(&key.as_str()) && !base_mapping.contains_key(disc) {
            new_entities.insert(disc.clone(), key);
        }
    }
    let base_def_names: BTreeSet<String> = base
        .get("$defs")
        .and_then(Json::as_object)
        .map(|d| d.keys().cloned().collect())
        .unwrap_or_default();
    let mut needed: BTreeSet<String> = new_entities.values().cloned().collect();
    let mut queue: Vec<String> = needed.iter().cloned().collect();
    while let Some(name) = queue.pop() {
        let Some(def) = extra_defs.get(&name) else {
            continue;
        };
        let mut refs = BTreeSet::new();
        collect_refs(def, &mut refs);
        for r in refs {
            if BUILTIN_DEFS.contains(&r.as_str())
                || base_def_names.contains(&r)
                || needed.contains(&r)
            {
                continue;
            }
            needed.insert(r.clone());
            queue.push(r);
        }
    }
    {
        let defs = base
            .as_object_mut()
            .and_then(|m| m.get_mut("$defs"))
            .and_then(Json::as_object_mut)
            .ok_or("the base schema's $defs is not an object")?;
        for name in &needed {
            if let Some(def) = extra_defs.get(name) {
                if !defs.contains_key(name) {
                    defs.insert(name.clone(), def.clone());
                }
            }
        }
    }
    let mut discs: Vec<&String> = new_entities.keys().collect();
    discs.sort();
    let union = at_mut(&mut base, &base_union).ok_or("bad base schema")?;
    for disc in discs {
        let target = Json::str(format!("#/$defs/{}", new_entities[disc]));
        match union.as_object_mut().and_then(|m| m.get_mut("oneOf")) {
            Some(Json::Array(items)) => items.push(Json::object([("$ref", target.clone())])),
            _ => return Err("the base schema's entity union has no oneOf list".into()),
        }
        if let Some(Json::Object(m)) = union
            .as_object_mut()
            .and_then(|m| m.get_mut("discriminator"))
            .and_then(|d| d.as_object_mut())
            .and_then(|d| d.get_mut("mapping"))
        {
            m.insert(disc.clone(), target);
        }
    }
    Ok(base)
}

/// The `ioc.yaml` header pointing at the sibling schema.
pub const SCHEMA_HEADER: &str = "# yaml-language-server: $schema=../ioc.schema.json";

/// Python's `str.splitlines()` after universal-newline reading.
fn py_splitlines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let bytes: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < bytes.len() {
        let (pos, c) = bytes[i];
        let is_break = matches!(
            c,
            '\n' | '\r'
                | '\u{b}'
                | '\u{c}'
                | '\u{1c}'
                | '\u{1d}'
                | '\u{1e}'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        );
        if is_break {
            lines.push(&text[start..pos]);
            let mut next = pos + c.len_utf8();
            if c == '\r' && text[next..].starts_with('\n') {
                next += 1;
                i += 1;
            }
            start = next;
        }
        i += 1;
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

/// `ioc.yaml` with its first line set to [`SCHEMA_HEADER`].
pub fn rewrite_header(text: &str) -> String {
    // read_text() turns \r\n and \r into \n before splitlines()
    let normalised = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut lines = py_splitlines(&normalised);
    if lines
        .first()
        .is_some_and(|l| l.starts_with("# yaml-language-server:"))
    {
        lines[0] = SCHEMA_HEADER;
    } else {
        lines.insert(0, SCHEMA_HEADER);
    }
    lines.join("\n") + "\n"
}

/// The instance's support definitions: `config/*.ibek.support.yaml`, sorted.
pub fn instance_support_yamls(dest: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs_err::read_dir(dest.join("config")) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .ends_with(".ibek.support.yaml")
        })
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

/// Builds the instance schema of `dest`; the caller writes [`SchemaOutput::writes`].
pub fn generate_instance_schema(
    dest: &Path,
    settings: &SchemaSettings,
) -> Result<SchemaOutput, PatternError> {
    let mut out = SchemaOutput::default();
    if !is_instance(dest) {
        return Ok(out);
    }
    let instance = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let schema_path = dest.join(IOC_SCHEMA_NAME);
    let base = match &settings.base {
        BaseSource::File(path) => {
            let bytes = fs_err::read(path).map_err(|e| io_error("read", path, &e))?;
            parse_json(&bytes).map_err(|e| {
                PatternError::with_hint(
                    format!("`{}` is not a JSON schema: {e}", path.display()),
                    "give the image's /epics/ibek-defs/ioc.schema.json",
                )
            })?
        }
        BaseSource::Bytes { label, bytes } => parse_json(bytes).map_err(|e| {
            PatternError::with_hint(
                format!("the base schema from {label} is not JSON: {e}"),
                "check that the image was built by ibek or iocforge",
            )
        })?,
        BaseSource::Published => {
            let Some(image) = find_image(dest)? else {
                out.notes.push(format!(
                    "Schema not found for {instance}: no published image pinned in values.yaml/compose.yml; skipping schema generation"
                ));
                return Ok(out);
            };
            match fetch_published(&image, settings, &mut out.notes) {
                Ok(b) => b,
                Err(BaseError::Fetch(e)) if schema_path.exists() => {
                    return Err(PatternError::with_hint(
                        format!(
                            "Cannot refresh {} (image {image}): {e}. The existing schema may be for a different image.",
                            schema_path.display()
                        ),
                        "run again with network access, or give the base schema with --base-schema FILE or --base-schema-from-image",
                    ));
                }
                Err(BaseError::Fetch(e) | BaseError::NotFound(e)) => {
                    out.notes.push(format!(
                        "Schema not found for {instance} (image {image}): {e}; skipping schema generation"
                    ));
                    return Ok(out);
                }
            }
        }
    };
    let supports = instance_support_yamls(dest);
    let merged = if supports.is_empty() {
        base
    } else {
        let modules = load_definitions(&supports)?;
        let extra = ioc_schema(&modules).map_err(|e| {
            PatternError::Diagnostics(crate::diag::Diagnostics::from(e.to_diagnostic()))
        })?;
        merge_entities(base, &extra).map_err(|e| {
            PatternError::with_hint(
                format!(
                    "cannot merge the instance's support definitions into the base schema: {e}"
                ),
                "check that the base schema is an ibek IOC schema",
            )
        })?
    };
    out.writes.push((schema_path, to_pretty(&merged) + "\n"));
    let ioc_yaml = dest.join("config").join("ioc.yaml");
    if ioc_yaml.exists() {
        let bytes = fs_err::read(&ioc_yaml).map_err(|e| io_error("read", &ioc_yaml, &e))?;
        let text = String::from_utf8_lossy(&bytes);
        out.writes.push((ioc_yaml, rewrite_header(&text)));
    }
    out.written = true;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_set_or_replaced() {
        assert_eq!(rewrite_header("a: 1\n"), format!("{SCHEMA_HEADER}\na: 1\n"));
        assert_eq!(
            rewrite_header("# yaml-language-server: $schema=x\r\nb\r\n"),
            format!("{SCHEMA_HEADER}\nb\n")
        );
        assert_eq!(rewrite_header(""), format!("{SCHEMA_HEADER}\n"));
    }
}
