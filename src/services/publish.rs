//! `services publish`: push each service's chart to an OCI registry, unless
//! the registry already holds the same content.
//!
//! Beside [`package`](super::package), whose archive it pushes unchanged: the
//! chart becomes `PATH/NAME:VERSION` (a `+` in the version becomes `_`, as
//! Helm tags it) with Helm's media types — the config is the packaged
//! `Chart.yaml` as JSON in Helm's field order, the one layer is the archive,
//! and the manifest carries Helm's `org.opencontainers.image.*` annotations
//! (no `created` time, so the same content and version give the same
//! manifest) plus the service's [content digest](super::digest) under
//! [`CONTENT_DIGEST_ANNOTATION`].
//!
//! "Already in the registry" means: some tag of `PATH/NAME` (the requested
//! version first, then the others newest first) has a manifest carrying the
//! same content digest. That service is reported `unchanged` with the tag
//! that holds it, and nothing is pushed. A content digest does not depend on
//! the version, so publishing under a new version pushes only what changed.
//! When the requested tag exists with other content, that service fails
//! rather than moving a released version.
//!
//! The registry sits behind the [`Registry`] trait; [`OciRegistry`] is the
//! real one (the `oci-client` crate on a single-threaded tokio runtime, the
//! only async code besides `build/docker.rs`). Plain HTTP is used for
//! loopback registries (`localhost`, `127.0.0.0/8`, `::1`), as Docker does,
//! or when asked; HTTPS otherwise. Access is anonymous: credentials are not
//! read (a registry that needs a login answers `unauthorized`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Map, Value};

use super::digest::digest_repo;
use super::package::{chart_metadata, package_service};
use super::repo::ServicesRepo;
use super::ServicesError;

/// Media type of a Helm chart's config blob.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.cncf.helm.config.v1+json";
/// Media type of a Helm chart's archive layer.
pub const CHART_MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
/// Media type of the manifest.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// The manifest annotation holding the service's content digest.
pub const CONTENT_DIGEST_ANNOTATION: &str = "dev.iocforge.content-digest";

/// Why publishing could not start.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The `--to` address is not `oci://HOST[:PORT][/PATH]`.
    #[error("`{url}` is not an OCI address: {reason}")]
    BadTarget {
        /// The address given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A service asked for is not in the repository.
    #[error("no service `{0}` in the repository")]
    UnknownService(String),
    /// The repository could not be read.
    #[error(transparent)]
    Services(#[from] ServicesError),
    /// The HTTP client or its runtime could not be set up.
    #[error("cannot set up the registry client: {0}")]
    Client(String),
}

/// Where charts go: `oci://REGISTRY/PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciTarget {
    /// `HOST[:PORT]`.
    pub registry: String,
    /// The repository prefix, without slashes at either end; may be empty.
    pub path: String,
}

impl OciTarget {
    /// Parses `oci://HOST[:PORT][/PATH]`.
    pub fn parse(url: &str) -> Result<Self, PublishError> {
        let bad = |reason: &str| PublishError::BadTarget {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        let rest = url
            .strip_prefix("oci://")
            .ok_or_else(|| bad("it must start with `oci://`"))?;
        let (registry, path) = rest.split_once('/').unwrap_or((rest, ""));
        if registry.is_empty() {
            return Err(bad("the registry host is missing"));
        }
        if registry.contains(['@', '?', '#']) || path.contains(['@', '?', '#', ':']) {
            return Err(bad(
                "give the registry and repository path only (no credentials, tag or query)",
            ));
        }
        let path = path.trim_matches('/');
        if path.split('/').any(str::is_empty) && !path.is_empty() {
            return Err(bad("the repository path has an empty segment"));
        }
        Ok(OciTarget {
            registry: registry.to_string(),
            path: path.to_string(),
        })
    }

    /// The repository of one chart: `PATH/NAME`.
    pub fn repository(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_string()
        } else {
            format!("{}/{name}", self.path)
        }
    }

    /// True for `localhost`, `127.0.0.0/8` and `::1`, with or without a port.
    pub fn is_loopback(&self) -> bool {
        let host = if let Some(bracketed) = self.registry.strip_prefix('[') {
            bracketed.split(']').next().unwrap_or("")
        } else if self.registry.matches(':').count() > 1 {
            // a bare IPv6 address without a port
            self.registry.as_str()
        } else {
            self.registry.split(':').next().unwrap_or("")
        };
        if host.eq_ignore_ascii_case("localhost") {
            return true;
        }
        host.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
    }
}

/// What `services publish` is asked to do.
#[derive(Debug, Clone)]
pub struct PublishOptions {
    /// The chart version of every pushed chart.
    pub version: String,
    /// Where to push.
    pub target: OciTarget,
    /// Plain HTTP even for a registry that is not on loopback.
    pub plain_http: bool,
    /// Dependency charts as `NAME-VERSION/` folders (see `services package`).
    pub charts: Option<PathBuf>,
    /// The services to publish; empty means all.
    pub services: Vec<String>,
}

/// The result for one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The chart was pushed; the manifest's digest.
    Pushed {
        /// `sha256:...` of the pushed manifest.
        manifest_digest: String,
    },
    /// The registry already holds this content under `tag`.
    Unchanged {
        /// The tag whose manifest carries the same content digest.
        tag: String,
    },
    /// Packaging, the registry lookup or the push failed.
    Failed {
        /// Why.
        reason: String,
    },
}

impl Outcome {
    /// The word of `--format json`'s `status`.
    pub fn status(&self) -> &'static str {
        match self {
            Outcome::Pushed { .. } => "pushed",
            Outcome::Unchanged { .. } => "unchanged",
            Outcome::Failed { .. } => "failed",
        }
    }

    /// The sentence of the table: `pushed`, `unchanged (same content as TAG)`, `failed: REASON`.
    pub fn describe(&self) -> String {
        match self {
            Outcome::Pushed { .. } => "pushed".into(),
            Outcome::Unchanged { tag } => format!("unchanged (same content as {tag})"),
            Outcome::Failed { reason } => format!("failed: {reason}"),
        }
    }
}

/// One service's publication.
#[derive(Debug, Clone)]
pub struct Published {
    /// The service (and chart) name.
    pub name: String,
    /// `REGISTRY/PATH/NAME:TAG`.
    pub reference: String,
    /// The service's content digest (as `services list` shows it).
    pub content_digest: String,
    /// What happened.
    pub outcome: Outcome,
}

/// A chart ready to push: config blob, archive and manifest annotations.
#[derive(Debug, Clone)]
pub struct ChartArtifact {
    /// The config blob (`Chart.yaml` as Helm's JSON).
    pub config: Vec<u8>,
    /// The chart archive.
    pub archive: Vec<u8>,
    /// The manifest's annotations.
    pub annotations: BTreeMap<String, String>,
}

/// The registry operations publishing needs; errors are readable sentences.
pub trait Registry {
    /// Every tag of a repository (none when the repository does not exist yet).
    fn tags(&mut self, repository: &str) -> Result<Vec<String>, String>;
    /// The content digest annotation of the manifest at `repository:tag`, if any.
    fn content_digest(&mut self, repository: &str, tag: &str) -> Result<Option<String>, String>;
    /// Pushes a chart as `repository:tag`; returns the manifest's digest.
    fn push(
        &mut self,
        repository: &str,
        tag: &str,
        chart: &ChartArtifact,
    ) -> Result<String, String>;
}

/// Publishes the services of `repo` to the registry of `opts.target`.
pub fn publish(repo: &ServicesRepo, opts: &PublishOptions) -> Result<Vec<Published>, PublishError> {
    let plain_http = opts.plain_http || opts.target.is_loopback();
    let mut registry = OciRegistry::new(&opts.target.registry, plain_http)?;
    publish_to(repo, opts, &mut registry)
}

/// Publishes through any [`Registry`].
pub fn publish_to(
    repo: &ServicesRepo,
    opts: &PublishOptions,
    registry: &mut dyn Registry,
) -> Result<Vec<Published>, PublishError> {
    for wanted in &opts.services {
        if !repo.services.iter().any(|s| &s.name == wanted) {
            return Err(PublishError::UnknownService(wanted.clone()));
        }
    }
    let digests = digest_repo(repo)?;
    let tag = oci_tag(&opts.version);
    let mut out = Vec::new();
    for service in &repo.services {
        if !opts.services.is_empty() && !opts.services.contains(&service.name) {
            continue;
        }
        let repository = opts.target.repository(&service.name);
        let content_digest = digests
            .get(&service.name)
            .map(|d| d.digest.clone())
            .unwrap_or_default();
        let outcome = match package_service(repo, service, &opts.version, opts.charts.as_deref()) {
            Err(e) => Outcome::Failed {
                reason: e.to_string(),
            },
            Ok(archive) => {
                let metadata = chart_metadata(service, &opts.version);
                let chart = ChartArtifact {
                    config: helm_config_json(&metadata),
                    archive,
                    annotations: annotations(&metadata, &content_digest),
                };
                publish_one(registry, &repository, &tag, &content_digest, &chart)
            }
        };
        out.push(Published {
            name: service.name.clone(),
            reference: format!("{}/{repository}:{tag}", opts.target.registry),
            content_digest,
            outcome,
        });
    }
    Ok(out)
}

fn publish_one(
    registry: &mut dyn Registry,
    repository: &str,
    tag: &str,
    content_digest: &str,
    chart: &ChartArtifact,
) -> Outcome {
    let tags = match registry.tags(repository) {
        Ok(t) => t,
        Err(reason) => return Outcome::Failed { reason },
    };
    let requested_exists = tags.iter().any(|t| t == tag);
    for existing in search_order(&tags, tag) {
        match registry.content_digest(repository, existing) {
            Ok(Some(d)) if d == content_digest => {
                return Outcome::Unchanged {
                    tag: existing.to_string(),
                }
            }
            Ok(_) => {}
            Err(reason) => return Outcome::Failed { reason },
        }
    }
    if requested_exists {
        return Outcome::Failed {
            reason: format!(
                "tag `{tag}` already holds other content; publish the change under a new --version"
            ),
        };
    }
    match registry.push(repository, tag, chart) {
        Ok(manifest_digest) => Outcome::Pushed { manifest_digest },
        Err(reason) => Outcome::Failed { reason },
    }
}

/// The requested tag first, then the others newest first (by their numbers, then by text).
fn search_order<'a>(tags: &'a [String], requested: &str) -> Vec<&'a str> {
    let mut others: Vec<&str> = tags
        .iter()
        .map(String::as_str)
        .filter(|t| *t != requested)
        .collect();
    others.sort_by(|a, b| version_key(b).cmp(&version_key(a)).then(b.cmp(a)));
    let mut order: Vec<&str> = tags
        .iter()
        .map(String::as_str)
        .filter(|t| *t == requested)
        .take(1)
        .collect();
    order.extend(others);
    order
}

/// The numbers of a version's release part (`1.10.2-rc1` → `[1, 10, 2]`).
fn version_key(tag: &str) -> Vec<u64> {
    let release = tag.trim_start_matches('v');
    let release = release.split(['-', '_', '+']).next().unwrap_or("");
    release
        .split('.')
        .map_while(|n| n.parse::<u64>().ok())
        .collect()
}

/// Helm's OCI tag for a chart version: `+` is not allowed in tags.
pub fn oci_tag(version: &str) -> String {
    version.replace('+', "_")
}

/// The config blob as Helm writes it: `chart.Metadata` marshalled by Go's
/// `encoding/json` (its field order, empty fields left out, maps with
/// sorted keys, `<`, `>` and `&` escaped).
pub fn helm_config_json(metadata: &Value) -> Vec<u8> {
    const FIELDS: [(&str, Kind); 17] = [
        ("name", Kind::Str),
        ("home", Kind::Str),
        ("sources", Kind::Strs),
        ("version", Kind::Str),
        ("description", Kind::Str),
        ("keywords", Kind::Strs),
        ("maintainers", Kind::Maintainers),
        ("icon", Kind::Str),
        ("apiVersion", Kind::Str),
        ("condition", Kind::Str),
        ("tags", Kind::Str),
        ("appVersion", Kind::Str),
        ("deprecated", Kind::Bool),
        ("annotations", Kind::StrMap),
        ("kubeVersion", Kind::Str),
        ("dependencies", Kind::Dependencies),
        ("type", Kind::Str),
    ];
    let out = go_struct(metadata, &FIELDS);
    go_json(&Value::Object(out)).into_bytes()
}

#[derive(Clone, Copy)]
enum Kind {
    Str,
    /// A string Go writes even when empty (no `omitempty`).
    StrAlways,
    Strs,
    Bool,
    StrMap,
    Any,
    Maintainers,
    Dependencies,
}

fn go_struct(v: &Value, fields: &[(&str, Kind)]) -> Map<String, Value> {
    const MAINTAINER: [(&str, Kind); 3] = [
        ("name", Kind::Str),
        ("email", Kind::Str),
        ("url", Kind::Str),
    ];
    const DEPENDENCY: [(&str, Kind); 9] = [
        ("name", Kind::StrAlways),
        ("version", Kind::Str),
        ("repository", Kind::StrAlways),
        ("condition", Kind::Str),
        ("tags", Kind::Strs),
        ("enabled", Kind::Bool),
        ("import-values", Kind::Any),
        ("alias", Kind::Str),
        ("depends-on", Kind::Strs),
    ];
    let mut out = Map::new();
    for (key, kind) in fields {
        let field = v.get(*key).unwrap_or(&Value::Null);
        let value = match kind {
            Kind::Str => Some(go_string(field))
                .filter(|s| !s.is_empty())
                .map(Value::String),
            Kind::StrAlways => Some(Value::String(go_string(field))),
            Kind::Bool => (field == &Value::Bool(true)).then_some(Value::Bool(true)),
            Kind::Strs => field
                .as_array()
                .filter(|a| !a.is_empty())
                .map(|a| Value::Array(a.iter().map(|s| Value::String(go_string(s))).collect())),
            Kind::Any => field
                .as_array()
                .filter(|a| !a.is_empty())
                .map(|a| Value::Array(a.clone())),
            Kind::StrMap => field.as_object().filter(|m| !m.is_empty()).map(|m| {
                Value::Object(
                    m.iter()
                        .map(|(k, v)| (k.clone(), Value::String(go_string(v))))
                        .collect(),
                )
            }),
            Kind::Maintainers | Kind::Dependencies => {
                field.as_array().filter(|a| !a.is_empty()).map(|a| {
                    let inner: &[(&str, Kind)] = if matches!(kind, Kind::Maintainers) {
                        &MAINTAINER
                    } else {
                        &DEPENDENCY
                    };
                    Value::Array(
                        a.iter()
                            .map(|item| Value::Object(go_struct(item, inner)))
                            .collect(),
                    )
                })
            }
        };
        if let Some(value) = value {
            out.insert((*key).to_string(), value);
        }
    }
    out
}

/// A YAML scalar as the string Helm's loader reads it into.
fn go_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// Compact JSON as Go's `encoding/json` writes it: map keys sorted (struct
/// fields keep their order, which `go_struct` built), HTML characters escaped.
fn go_json(v: &Value) -> String {
    fn sort_maps(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut entries: Vec<(&String, &Value)> = m.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.clone(), sort_maps(v)))
                        .collect(),
                )
            }
            Value::Array(a) => Value::Array(a.iter().map(sort_maps).collect()),
            other => other.clone(),
        }
    }
    // struct objects (metadata, maintainers, dependencies) keep field order;
    // only `annotations` and values inside `import-values` are Go maps
    let mut root = v.clone();
    if let Value::Object(m) = &mut root {
        for (k, field) in m.iter_mut() {
            match k.as_str() {
                "annotations" => *field = sort_maps(field),
                "dependencies" => {
                    if let Value::Array(deps) = field {
                        for dep in deps {
                            if let Some(iv) = dep.get_mut("import-values") {
                                *iv = sort_maps(iv);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let text = serde_json::to_string(&root).unwrap_or_default();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// The manifest annotations Helm writes (without `created`) plus the content digest.
pub fn annotations(metadata: &Value, content_digest: &str) -> BTreeMap<String, String> {
    let text = |key: &str| metadata.get(key).map(go_string).unwrap_or_default();
    let mut out = BTreeMap::new();
    let mut set = |key: &str, value: String| {
        if !value.trim().is_empty() {
            out.insert(key.to_string(), value);
        }
    };
    set("org.opencontainers.image.description", text("description"));
    set("org.opencontainers.image.title", text("name"));
    set("org.opencontainers.image.version", text("version"));
    set("org.opencontainers.image.url", text("home"));
    if let Some(Value::Array(sources)) = metadata.get("sources") {
        if let Some(first) = sources.first() {
            set("org.opencontainers.image.source", go_string(first));
        }
    }
    if let Some(Value::Array(maintainers)) = metadata.get("maintainers") {
        let authors: Vec<String> = maintainers
            .iter()
            .map(|m| {
                let name = m.get("name").map(go_string).unwrap_or_default();
                let email = m.get("email").map(go_string).unwrap_or_default();
                if email.is_empty() {
                    name
                } else {
                    format!("{name} ({email})")
                }
            })
            .collect();
        set("org.opencontainers.image.authors", authors.join(", "));
    }
    // then the chart's own annotations, which may replace any key but title and version (as Helm)
    if let Some(Value::Object(chart_annotations)) = metadata.get("annotations") {
        for (k, v) in chart_annotations {
            if k != "org.opencontainers.image.title" && k != "org.opencontainers.image.version" {
                out.insert(k.clone(), go_string(v));
            }
        }
    }
    out.insert(
        CONTENT_DIGEST_ANNOTATION.to_string(),
        content_digest.to_string(),
    );
    out
}

/// A registry reached over the OCI distribution API.
pub struct OciRegistry {
    registry: String,
    client: oci_client::Client,
    runtime: tokio::runtime::Runtime,
}

impl OciRegistry {
    /// A client for `registry` (`HOST[:PORT]`), over plain HTTP or HTTPS.
    pub fn new(registry: &str, plain_http: bool) -> Result<Self, PublishError> {
        // reqwest is built without a bundled TLS provider: use the ring provider
        // that ureq already brings (an earlier install in this process is fine)
        let _ = rustls::crypto::ring::default_provider().install_default();
        let config = oci_client::client::ClientConfig {
            protocol: if plain_http {
                oci_client::client::ClientProtocol::Http
            } else {
                oci_client::client::ClientProtocol::Https
            },
            ..Default::default()
        };
        let client = oci_client::Client::try_from(config)
            .map_err(|e| PublishError::Client(error_chain(&e)))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| PublishError::Client(e.to_string()))?;
        Ok(OciRegistry {
            registry: registry.to_string(),
            client,
            runtime,
        })
    }

    fn reference(&self, repository: &str, tag: &str) -> oci_client::Reference {
        oci_client::Reference::with_tag(
            self.registry.clone(),
            repository.to_string(),
            tag.to_string(),
        )
    }
}

const PAGE: usize = 1000;

impl Registry for OciRegistry {
    fn tags(&mut self, repository: &str) -> Result<Vec<String>, String> {
        let reference = self.reference(repository, "latest");
        let auth = oci_client::secrets::RegistryAuth::Anonymous;
        let mut all: Vec<String> = Vec::new();
        loop {
            let last = all.last().cloned();
            let page = self.runtime.block_on(self.client.list_tags(
                &reference,
                &auth,
                Some(PAGE),
                last.as_deref(),
            ));
            match page {
                Ok(page) => {
                    let n = page.tags.len();
                    all.extend(page.tags);
                    if n < PAGE {
                        return Ok(all);
                    }
                }
                Err(e) if is_unknown_repository(&e) => return Ok(all),
                Err(e) => {
                    return Err(format!(
                        "cannot list the tags of `{}/{repository}`: {}",
                        self.registry,
                        error_chain(&e)
                    ))
                }
            }
        }
    }

    fn content_digest(&mut self, repository: &str, tag: &str) -> Result<Option<String>, String> {
        let reference = self.reference(repository, tag);
        let auth = oci_client::secrets::RegistryAuth::Anonymous;
        let pulled = self.runtime.block_on(self.client.pull_manifest_raw(
            &reference,
            &auth,
            &[MANIFEST_MEDIA_TYPE],
        ));
        let (body, _) = match pulled {
            Ok(found) => found,
            Err(e) if is_unknown_repository(&e) => return Ok(None),
            Err(e) => {
                return Err(format!(
                    "cannot read the manifest of `{reference}`: {}",
                    error_chain(&e)
                ))
            }
        };
        let manifest: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        Ok(manifest
            .get("annotations")
            .and_then(|a| a.get(CONTENT_DIGEST_ANNOTATION))
            .and_then(Value::as_str)
            .map(str::to_string))
    }

    fn push(
        &mut self,
        repository: &str,
        tag: &str,
        chart: &ChartArtifact,
    ) -> Result<String, String> {
        let reference = self.reference(repository, tag);
        let auth = oci_client::secrets::RegistryAuth::Anonymous;
        let manifest = manifest_json(chart);
        let digest = sha256_digest(&manifest);
        let pushed = self.runtime.block_on(async {
            self.client
                .store_auth_if_needed(&self.registry, &auth)
                .await;
            self.client
                .push_blob(
                    &reference,
                    chart.archive.clone(),
                    &sha256_digest(&chart.archive),
                )
                .await?;
            self.client
                .push_blob(
                    &reference,
                    chart.config.clone(),
                    &sha256_digest(&chart.config),
                )
                .await?;
            self.client
                .push_manifest_raw(
                    &reference,
                    manifest,
                    MANIFEST_MEDIA_TYPE
                        .parse()
                        .expect("the manifest media type is a valid header value"),
                )
                .await
        });
        pushed.map_err(|e| format!("cannot push `{reference}`: {}", error_chain(&e)))?;
        Ok(digest)
    }
}

/// The manifest's bytes, pushed as they are (so their digest is the one reported):
/// compact JSON in the field order of the OCI image spec's Go types, as Helm writes it.
fn manifest_json(chart: &ChartArtifact) -> Vec<u8> {
    let descriptor = |media_type: &str, bytes: &[u8]| {
        serde_json::json!({
            "mediaType": media_type,
            "digest": sha256_digest(bytes),
            "size": bytes.len(),
        })
    };
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": descriptor(CONFIG_MEDIA_TYPE, &chart.config),
        "layers": [descriptor(CHART_MEDIA_TYPE, &chart.archive)],
        "annotations": chart.annotations,
    });
    serde_json::to_vec(&manifest).unwrap_or_default()
}

fn sha256_digest(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    let hash = sha2::Sha256::digest(bytes);
    let mut s = String::from("sha256:");
    for b in hash {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn is_unknown_repository(e: &oci_client::errors::OciDistributionError) -> bool {
    use oci_client::errors::{OciDistributionError as E, OciErrorCode as C};
    match e {
        E::RegistryError { envelope, .. } => envelope
            .errors
            .iter()
            .any(|x| matches!(x.code, C::NameUnknown | C::ManifestUnknown | C::NotFound)),
        E::ImageManifestNotFoundError(_) => true,
        E::ServerError { code, .. } => *code == 404,
        _ => false,
    }
}

/// An error with its causes, as one line (`connection refused` is the cause of a send error).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_and_http_clients_build_without_network() {
        // reqwest has no bundled TLS provider: building an HTTPS client panics
        // unless the ring provider is installed first
        assert!(OciRegistry::new("registry.example.org", false).is_ok());
        assert!(OciRegistry::new("127.0.0.1:5000", true).is_ok());
    }

    #[test]
    fn targets_parse_and_know_loopback() {
        let t = OciTarget::parse("oci://127.0.0.1:5000/charts/bl01t/").unwrap();
        assert_eq!(t.registry, "127.0.0.1:5000");
        assert_eq!(t.path, "charts/bl01t");
        assert_eq!(t.repository("ioc-01"), "charts/bl01t/ioc-01");
        assert!(t.is_loopback());
        for (url, loopback) in [
            ("oci://localhost:5000", true),
            ("oci://[::1]:5000/x", true),
            ("oci://127.1.2.3/x", true),
            ("oci://ghcr.io/epics-containers", false),
            ("oci://10.0.0.1:5000/x", false),
            ("oci://localhost.example.com/x", false),
        ] {
            assert_eq!(
                OciTarget::parse(url).unwrap().is_loopback(),
                loopback,
                "{url}"
            );
        }
        assert_eq!(
            OciTarget::parse("oci://localhost:5000")
                .unwrap()
                .repository("a"),
            "a"
        );
        for bad in [
            "https://ghcr.io/x",
            "oci://",
            "oci:///x",
            "oci://ghcr.io/x:1.0",
            "oci://u:p@ghcr.io/x",
            "oci://ghcr.io/a//b",
        ] {
            assert!(OciTarget::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn config_json_follows_helm_field_order_and_go_escaping() {
        let meta = serde_json::json!({
            "version": "1.0.0",
            "type": "application",
            "name": "ioc-01",
            "apiVersion": "v2",
            "description": "a <b> & c",
            "appVersion": 1.5,
            "unknown": "dropped",
            "annotations": {"z": "1", "a": 2},
            "dependencies": [{"version": "1.1.0", "name": "ioc-instance", "repository": "oci://x"}],
            "deprecated": false,
        });
        let text = String::from_utf8(helm_config_json(&meta)).unwrap();
        assert_eq!(
            text,
            r#"{"name":"ioc-01","version":"1.0.0","description":"a \u003cb\u003e \u0026 c","apiVersion":"v2","appVersion":"1.5","annotations":{"a":"2","z":"1"},"dependencies":[{"name":"ioc-instance","version":"1.1.0","repository":"oci://x"}],"type":"application"}"#
        );
    }

    #[test]
    fn annotations_keep_title_and_version_and_carry_the_digest() {
        let meta = serde_json::json!({
            "name": "ioc-01",
            "version": "2.0.0",
            "description": "",
            "home": "https://example.org",
            "sources": ["https://git.example.org/a", "https://b"],
            "maintainers": [{"name": "A", "email": "a@x"}, {"name": "B"}],
            "annotations": {"org.opencontainers.image.title": "other", "team": "controls"},
        });
        let a = annotations(&meta, "abc");
        assert_eq!(a["org.opencontainers.image.title"], "ioc-01");
        assert_eq!(a["org.opencontainers.image.version"], "2.0.0");
        assert_eq!(a["org.opencontainers.image.url"], "https://example.org");
        assert_eq!(
            a["org.opencontainers.image.source"],
            "https://git.example.org/a"
        );
        assert_eq!(a["org.opencontainers.image.authors"], "A (a@x), B");
        assert_eq!(a["team"], "controls");
        assert_eq!(a[CONTENT_DIGEST_ANNOTATION], "abc");
        assert!(!a.contains_key("org.opencontainers.image.description"));
        assert!(!a.contains_key("org.opencontainers.image.created"));
    }

    #[derive(Default)]
    struct FakeRegistry {
        // repository -> tag -> content digest
        stored: BTreeMap<String, BTreeMap<String, Option<String>>>,
        manifest_reads: Vec<String>,
        pushes: Vec<String>,
    }

    impl Registry for FakeRegistry {
        fn tags(&mut self, repository: &str) -> Result<Vec<String>, String> {
            Ok(self
                .stored
                .get(repository)
                .map(|t| t.keys().cloned().collect())
                .unwrap_or_default())
        }
        fn content_digest(
            &mut self,
            repository: &str,
            tag: &str,
        ) -> Result<Option<String>, String> {
            self.manifest_reads.push(tag.to_string());
            Ok(self.stored[repository][tag].clone())
        }
        fn push(
            &mut self,
            repository: &str,
            tag: &str,
            chart: &ChartArtifact,
        ) -> Result<String, String> {
            self.pushes.push(format!("{repository}:{tag}"));
            self.stored.entry(repository.into()).or_default().insert(
                tag.into(),
                chart.annotations.get(CONTENT_DIGEST_ANNOTATION).cloned(),
            );
            Ok("sha256:0".into())
        }
    }

    fn artifact(digest: &str) -> ChartArtifact {
        ChartArtifact {
            config: Vec::new(),
            archive: Vec::new(),
            annotations: annotations(&serde_json::json!({}), digest),
        }
    }

    #[test]
    fn same_content_under_any_tag_is_not_pushed_again() {
        let mut reg = FakeRegistry::default();
        assert_eq!(
            publish_one(&mut reg, "c/a", "1.0.0", "d1", &artifact("d1")),
            Outcome::Pushed {
                manifest_digest: "sha256:0".into()
            }
        );
        // the same content under a new version: found under the old tag
        assert_eq!(
            publish_one(&mut reg, "c/a", "1.1.0", "d1", &artifact("d1")),
            Outcome::Unchanged {
                tag: "1.0.0".into()
            }
        );
        // new content under a new version is pushed
        assert!(matches!(
            publish_one(&mut reg, "c/a", "1.1.0", "d2", &artifact("d2")),
            Outcome::Pushed { .. }
        ));
        // new content under an existing version fails instead of moving the tag
        let failed = publish_one(&mut reg, "c/a", "1.1.0", "d3", &artifact("d3"));
        assert!(
            matches!(&failed, Outcome::Failed { reason } if reason.contains("new --version")),
            "{failed:?}"
        );
        assert_eq!(reg.pushes, ["c/a:1.0.0", "c/a:1.1.0"]);
    }

    #[test]
    fn the_requested_tag_is_read_first_then_the_newest() {
        let tags: Vec<String> = ["0.9.0", "1.10.0", "1.2.0", "latest", "1.9.1"]
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(
            search_order(&tags, "1.2.0"),
            ["1.2.0", "1.10.0", "1.9.1", "0.9.0", "latest"]
        );
        assert_eq!(oci_tag("1.0.0+build.5"), "1.0.0_build.5");
    }
}
