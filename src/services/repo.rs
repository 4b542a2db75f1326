//! Reading a services repository: which folders are services, their charts and values.
//!
//! A service is a folder `services/NAME/` (not starting with `.`, which the
//! templates `services/.ioc_template/` use) holding a `Chart.yaml`, usually
//! through a symlink into `.helm-shared/`. Its `values.yaml` layers over the
//! shared `services/values.yaml`, as `helm template --values services/values.yaml
//! --values services/NAME/values.yaml` and ArgoCD layer them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::ServicesError;
use crate::diag::{Diagnostic, Diagnostics};
use crate::source::{parse_source, Node, NodeKind, SourceFile};

/// The name of the library chart that makes a service an IOC instance.
pub const IOC_INSTANCE_CHART: &str = "ioc-instance";

/// A parsed YAML file and its text.
#[derive(Debug, Clone)]
pub struct YamlFile {
    /// The text, for diagnostics.
    pub source: Arc<SourceFile>,
    /// The loaded value; for a file that is not valid YAML (read leniently),
    /// its whole text as one string, so it still counts by its bytes.
    pub node: Node,
    /// True when the file was not valid YAML and `node` holds its text.
    pub raw: bool,
}

/// What a service deploys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceKind {
    /// A chart depending on the `ioc-instance` library chart.
    IocInstance,
    /// Any other chart.
    Chart,
}

impl ServiceKind {
    /// The word used in listings.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceKind::IocInstance => "ioc-instance",
            ServiceKind::Chart => "chart",
        }
    }
}

/// One entry of a chart's `dependencies:`.
#[derive(Debug, Clone)]
pub struct Dependency {
    /// The dependency chart's name.
    pub name: String,
    /// Its version constraint.
    pub version: Option<String>,
    /// Where it comes from (`oci://...`, `https://...`, `file://...`).
    pub repository: Option<String>,
    /// The name its values live under, when not `name`.
    pub alias: Option<String>,
    /// The whole entry (condition, tags, import-values count too).
    pub node: Node,
}

impl Dependency {
    /// The key its values live under in the parent's values.
    pub fn values_key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }

    /// The local folder of a `file://` dependency, relative to the chart folder.
    pub fn local_path(&self) -> Option<&str> {
        self.repository.as_deref()?.strip_prefix("file://")
    }
}

/// One service folder.
#[derive(Debug, Clone)]
pub struct Service {
    /// The folder name, which is the release name.
    pub name: String,
    /// The folder on disk.
    pub dir: PathBuf,
    /// `Chart.yaml`.
    pub chart: YamlFile,
    /// The chart's `name:`.
    pub chart_name: String,
    /// The chart's `version:`.
    pub chart_version: Option<String>,
    /// The chart's dependencies, in file order.
    pub dependencies: Vec<Dependency>,
    /// `values.yaml`, when there is one.
    pub values: Option<YamlFile>,
    /// IOC instance or other chart.
    pub kind: ServiceKind,
    /// The container image the layered values name, when one is found.
    pub image: Option<String>,
}

/// A services repository read from one folder (a work tree or a commit's copy).
#[derive(Debug, Clone)]
pub struct ServicesRepo {
    /// The repository folder.
    pub root: PathBuf,
    /// `services/values.yaml`, shared by every service.
    pub shared_values: Option<YamlFile>,
    /// The services, sorted by name.
    pub services: Vec<Service>,
    /// Files read leniently because they are not valid YAML.
    pub warnings: Diagnostics,
}

/// How to treat files that are not valid YAML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strictness {
    /// Fail with every problem at `file:line:col`.
    Strict,
    /// Warn, and count the file by its bytes (reading history, where a
    /// commit may hold conflict markers or keys ruamel rejects but Helm takes).
    Lenient,
}

/// Reads the repository at `root`. Diagnostics name files as `label` + the
/// path inside the repository when a label is given (e.g. `v1.2:`), else by
/// their path on disk.
pub fn load(
    root: &Path,
    label: Option<&str>,
    strictness: Strictness,
) -> Result<ServicesRepo, ServicesError> {
    let services_dir = root.join("services");
    if !services_dir.is_dir() {
        return Err(ServicesError::NoServices(root.to_path_buf()));
    }
    let shown = |rel: &str| -> PathBuf {
        match label {
            Some(l) => PathBuf::from(format!("{l}{rel}")),
            None => root.join(rel),
        }
    };
    let mut diags = Diagnostics::default();
    // YAML problems: errors when strict, warnings when lenient
    let mut yaml_problems = Diagnostics::default();
    let mut yaml = |path: &Path, shown: PathBuf| -> Result<Option<YamlFile>, ServicesError> {
        read_yaml(path, shown, strictness, &mut yaml_problems)
    };
    let shared_path = services_dir.join("values.yaml");
    let shared_values = if shared_path.is_file() {
        yaml(&shared_path, shown("services/values.yaml"))?
    } else {
        None
    };
    let mut names = Vec::new();
    let entries = fs_err::read_dir(&services_dir).map_err(|e| read_error(&services_dir, &e))?;
    for entry in entries {
        let entry = entry.map_err(|e| read_error(&services_dir, &e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        // `is_dir` follows symlinks: a linked service folder is a service
        if name.starts_with('.') || !entry.path().is_dir() {
            continue;
        }
        if entry.path().join("Chart.yaml").is_file() {
            names.push(name);
        }
    }
    names.sort();
    let mut services = Vec::new();
    for name in names {
        let dir = services_dir.join(&name);
        let Some(chart) = yaml(
            &dir.join("Chart.yaml"),
            shown(&format!("services/{name}/Chart.yaml")),
        )?
        else {
            continue;
        };
        let values = yaml(
            &dir.join("values.yaml"),
            shown(&format!("services/{name}/values.yaml")),
        )?;
        let fields = if chart.raw {
            Some((name.clone(), None, Vec::new()))
        } else {
            chart_fields(&chart, &mut diags)
        };
        let Some((chart_name, chart_version, dependencies)) = fields else {
            continue;
        };
        let kind = if dependencies.iter().any(|d| d.name == IOC_INSTANCE_CHART) {
            ServiceKind::IocInstance
        } else {
            ServiceKind::Chart
        };
        let image = find_image(
            values.as_ref().map(|v| &v.node),
            shared_values.as_ref().map(|v| &v.node),
            &dependencies,
            &chart_name,
        );
        services.push(Service {
            name,
            dir,
            chart,
            chart_name,
            chart_version,
            dependencies,
            values,
            kind,
            image,
        });
    }
    let mut warnings = Diagnostics::default();
    match strictness {
        Strictness::Strict => diags.0.extend(yaml_problems.0),
        Strictness::Lenient => warnings = yaml_problems,
    }
    if diags.has_errors() {
        return Err(ServicesError::Invalid(diags));
    }
    Ok(ServicesRepo {
        root: root.to_path_buf(),
        shared_values,
        services,
        warnings,
    })
}

fn read_error(path: &Path, e: &std::io::Error) -> ServicesError {
    ServicesError::Read {
        path: path.to_path_buf(),
        reason: crate::source::io_reason(e),
    }
}

/// Reads a YAML file if it exists; YAML errors become diagnostics (errors
/// when strict, else warnings, and the file is kept as its raw text).
fn read_yaml(
    path: &Path,
    shown: PathBuf,
    strictness: Strictness,
    diags: &mut Diagnostics,
) -> Result<Option<YamlFile>, ServicesError> {
    if !path.exists() {
        return Ok(None);
    }
    let bytes = fs_err::read(path).map_err(|e| read_error(path, &e))?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let source = SourceFile::from_text(shown, text);
    match parse_source(&source) {
        Ok(node) => Ok(Some(YamlFile {
            source,
            node,
            raw: false,
        })),
        Err(d) if strictness == Strictness::Lenient => {
            diags.push(
                d.warning()
                    .with_note("this file counts by its bytes, not by its YAML content"),
            );
            let node = Node {
                kind: NodeKind::Str(source.text.clone()),
                span: crate::source::Span::default(),
            };
            Ok(Some(YamlFile {
                source,
                node,
                raw: true,
            }))
        }
        Err(d) => {
            diags.push(d);
            Ok(None)
        }
    }
}

fn scalar_text(node: &Node) -> Option<String> {
    match &node.kind {
        NodeKind::Str(s) | NodeKind::Timestamp(s) => Some(s.clone()),
        NodeKind::Int(i) => Some(i.to_string()),
        NodeKind::Float(f) => Some(f.to_string()),
        _ => None,
    }
}

type ChartFields = (String, Option<String>, Vec<Dependency>);

/// The name, version and dependencies of a `Chart.yaml`.
fn chart_fields(chart: &YamlFile, diags: &mut Diagnostics) -> Option<ChartFields> {
    let root = &chart.node;
    if root.as_map().is_none() {
        diags.push(
            Diagnostic::error(&chart.source, root.span, "`Chart.yaml` is not a mapping")
                .with_hint("a chart needs at least `apiVersion`, `name` and `version`"),
        );
        return None;
    }
    let Some(name) = root.get("name").and_then(scalar_text) else {
        diags.push(
            Diagnostic::error(&chart.source, root.span, "`Chart.yaml` has no `name`")
                .with_hint("add `name: <chart name>`"),
        );
        return None;
    };
    let version = root.get("version").and_then(scalar_text);
    let mut dependencies = Vec::new();
    if let Some(deps) = root.get("dependencies") {
        let Some(items) = deps.as_seq() else {
            if !matches!(deps.kind, NodeKind::Null) {
                diags.push(
                    Diagnostic::error(&chart.source, deps.span, "`dependencies` is not a list")
                        .with_hint("write `dependencies:` as a list of `- name: ...` entries"),
                );
            }
            return Some((name, version, dependencies));
        };
        for item in items {
            let Some(dep_name) = item.get("name").and_then(scalar_text) else {
                diags.push(
                    Diagnostic::error(&chart.source, item.span, "a dependency has no `name`")
                        .with_hint(
                            "each entry of `dependencies` needs `name`, `version` and `repository`",
                        ),
                );
                continue;
            };
            dependencies.push(Dependency {
                name: dep_name,
                version: item.get("version").and_then(scalar_text),
                repository: item.get("repository").and_then(scalar_text),
                alias: item.get("alias").and_then(scalar_text),
                node: item.clone(),
            });
        }
    }
    Some((name, version, dependencies))
}

/// The image the layered values name: `<dependency>.image` or
/// `<chart name>.image` (the service's values over the shared ones), else a
/// top-level `image`. An image may be a string or `{repository, tag}`.
fn find_image(
    values: Option<&Node>,
    shared: Option<&Node>,
    deps: &[Dependency],
    chart_name: &str,
) -> Option<String> {
    let mut keys: Vec<&str> = deps.iter().map(Dependency::values_key).collect();
    keys.push(chart_name);
    let lookup = |root: Option<&Node>| -> Option<String> {
        let root = root?;
        keys.iter()
            .filter_map(|k| root.get(k).and_then(|v| v.get("image")))
            .chain(root.get("image"))
            .find_map(image_text)
    };
    lookup(values).or_else(|| lookup(shared))
}

fn image_text(node: &Node) -> Option<String> {
    if let Some(s) = scalar_text(node) {
        return (!s.is_empty()).then_some(s);
    }
    let repo = node.get("repository").and_then(scalar_text)?;
    match node.get("tag").and_then(scalar_text) {
        Some(tag) if !tag.is_empty() => Some(format!("{repo}:{tag}")),
        _ => Some(repo),
    }
}
