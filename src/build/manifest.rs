//! The generic IOC manifest (`ioc.manifest.yaml`): what goes into an IOC image.
//!
//! A generic IOC repository of epics-containers holds a hand-written
//! multi-stage Dockerfile that lists its support modules. iocforge keeps that
//! list as data instead: base images, support modules in build order (with
//! optional versions), extra apt packages, files to copy in, and the IOC
//! source folder. [`load_manifest`] reads it through the crate's YAML loader
//! (every problem reported at once, with its line), `dockerfile.rs` turns it
//! into the Dockerfile, and [`manifest_schema`] is its JSON schema (checked
//! in as `schemas/ioc.manifest.schema.json`).

use std::path::Path;
use std::sync::Arc;

use crate::diag::{Diagnostic, Diagnostics};
use crate::model::reader::{MapReader, Sink};
use crate::schema::Json;
use crate::source::{Node, NodeKind, SourceFile};

/// The file name `ioc build-image` and `ioc dockerfile` look for by default.
pub const MANIFEST_FILE: &str = "ioc.manifest.yaml";

/// Where the Dockerfile puts the iocforge binary (and where the runtime stage takes it from).
pub const IOCFORGE_IN_IMAGE: &str = "/usr/local/bin/iocforge";

/// One support module to build, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportItem {
    /// The folder of the ibek-support checkout holding `MODULE.install.yml`.
    pub module: String,
    /// A version (tag, branch, commit) overriding the install.yml's.
    pub version: Option<String>,
}

/// A file or folder of the build context copied into the developer stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyItem {
    /// Path in the build context.
    pub src: String,
    /// Absolute path in the image.
    pub dest: String,
}

/// A parsed, checked manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The image name (and tag) `build-image` gives the result, unless `--tag` is given.
    pub image: Option<String>,
    /// The developer base image (`ARG DEVELOPER`).
    pub developer: String,
    /// The runtime base image (`ARG RUNTIME`).
    pub runtime: String,
    /// Build arguments with their defaults, declared before the first stage.
    pub build_args: Vec<(String, String)>,
    /// Path in the context of an iocforge binary to copy into the developer stage.
    pub iocforge: Option<String>,
    /// Extra apt packages of the developer stage.
    pub apt_packages: Vec<String>,
    /// Extra apt packages of the runtime stage.
    pub runtime_apt_packages: Vec<String>,
    /// Context files copied in before the support modules are built.
    pub files: Vec<CopyItem>,
    /// The ibek-support checkout in the context.
    pub ibek_support: String,
    /// Link ibek-support's `_ansible/*.ibek.support.yaml` (`EpicsEnvSet`, `dbpf`, ...) into ibek-defs.
    pub global_defs: bool,
    /// Support modules, built in this order.
    pub support: Vec<SupportItem>,
    /// The IOC source folder in the context; `None` uses iocforge's built-in skeleton.
    pub ioc: Option<String>,
    /// Extra paths for `ioc extract-runtime-assets` (e.g. `/python`).
    pub runtime_extras: Vec<String>,
}

const FIELDS: &[&str] = &[
    "image",
    "images",
    "build_args",
    "iocforge",
    "apt_packages",
    "runtime_apt_packages",
    "files",
    "ibek_support",
    "global_defs",
    "support",
    "ioc",
    "runtime_extras",
];

/// Reads and checks a manifest file.
pub fn load_manifest(path: &Path) -> Result<Manifest, Diagnostics> {
    let source = SourceFile::read(path).map_err(|e| {
        Diagnostics::from(
            Diagnostic::plain(
                None,
                format!(
                    "cannot read `{}`: {}",
                    path.display(),
                    crate::source::io_reason(&e)
                ),
            )
            .io(),
        )
    })?;
    parse_manifest(&source)
}

/// Parses and checks manifest text.
pub fn parse_manifest(source: &Arc<SourceFile>) -> Result<Manifest, Diagnostics> {
    let root = crate::source::parse_source(source).map_err(Diagnostics::from)?;
    let mut diags = Diagnostics::default();
    let manifest = {
        let mut sink = Sink {
            src: source,
            diags: &mut diags,
        };
        read_manifest(&root, &mut sink)
    };
    match manifest {
        Some(m) if !diags.has_errors() => Ok(m),
        _ => Err(diags),
    }
}

/// What a string must look like where it lands in the Dockerfile.
#[derive(Clone, Copy)]
enum Shape {
    /// An image reference; `${ARG}` allowed.
    Image,
    /// A build argument name.
    ArgName,
    /// A Debian package name, optionally `=version`.
    Package,
    /// A support module folder name.
    Module,
    /// A version: tag, branch or commit.
    Version,
    /// A relative path inside the build context.
    ContextPath,
    /// An absolute path in the image.
    ImagePath,
    /// A build argument default value (any single line).
    Line,
}

impl Shape {
    fn check(self, s: &str) -> Result<(), String> {
        let ok_chars = |extra: &str| {
            s.chars()
                .all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
        };
        if s.contains(['\n', '\r']) {
            return Err("must be a single line".into());
        }
        match self {
            Shape::Line => Ok(()),
            _ if s.is_empty() => Err("must not be empty".into()),
            Shape::Image if ok_chars("_.-/:@${}") => Ok(()),
            Shape::Image => Err("is not an image reference".into()),
            Shape::ArgName if ok_chars("_") && !s.starts_with(|c: char| c.is_ascii_digit()) => {
                Ok(())
            }
            Shape::ArgName => Err("is not a build argument name (letters, digits, `_`)".into()),
            Shape::Package
                if ok_chars("+.-=:~_") && s.starts_with(|c: char| c.is_ascii_alphanumeric()) =>
            {
                Ok(())
            }
            Shape::Package => Err("is not a Debian package name".into()),
            Shape::Module if ok_chars("_.-") && s != "." && s != ".." => Ok(()),
            Shape::Module => Err("is not a support module folder name".into()),
            Shape::Version if ok_chars("_.-/+") && !s.starts_with('-') => Ok(()),
            Shape::Version => Err("is not a git tag, branch or commit".into()),
            Shape::ContextPath
                if !s.starts_with('/')
                    && !s.split('/').any(|p| p == "..")
                    && !s.contains(char::is_whitespace) =>
            {
                Ok(())
            }
            Shape::ContextPath => {
                Err("must be a path inside the build context (relative, no `..`, no spaces)".into())
            }
            Shape::ImagePath if s.starts_with('/') && !s.contains(char::is_whitespace) => Ok(()),
            Shape::ImagePath => Err("must be an absolute path without spaces".into()),
        }
    }
}

fn string(node: &Node, what: &str, shape: Shape, sink: &mut Sink<'_>) -> Option<String> {
    let Some(s) = node.as_str() else {
        sink.error(
            node,
            format!("{what} expects a string, got {}", node.type_name()),
            Some("quote the value to make it a string".into()),
        );
        return None;
    };
    match shape.check(s) {
        Ok(()) => Some(s.to_string()),
        Err(why) => {
            sink.error(node, format!("{what} `{s}` {why}"), None);
            None
        }
    }
}

fn opt_string(
    r: &mut MapReader<'_>,
    key: &str,
    shape: Shape,
    sink: &mut Sink<'_>,
) -> Option<String> {
    let node = r.opt(key)?;
    if node.kind == NodeKind::Null {
        return None;
    }
    string(node, &format!("`{key}`"), shape, sink)
}

fn strings(r: &mut MapReader<'_>, key: &str, shape: Shape, sink: &mut Sink<'_>) -> Vec<String> {
    match r.opt(key) {
        None => Vec::new(),
        Some(n) if n.kind == NodeKind::Null => Vec::new(),
        Some(n) => {
            if let Some(items) = n.as_seq() {
                items
                    .iter()
                    .filter_map(|i| string(i, &format!("an item of `{key}`"), shape, sink))
                    .collect()
            } else {
                sink.error(
                    n,
                    format!("`{key}` must be a list, got {}", n.type_name()),
                    Some(format!("write `{key}:` followed by `- item` lines")),
                );
                Vec::new()
            }
        }
    }
}

fn read_manifest(root: &Node, sink: &mut Sink<'_>) -> Option<Manifest> {
    let mut r = MapReader::new(root, "the manifest", sink)?;
    let image = opt_string(&mut r, "image", Shape::Image, sink);
    let images = r.req("images", sink).and_then(|n| read_images(n, sink));
    let build_args = r
        .opt_map("build_args", sink)
        .map(|entries| {
            entries
                .iter()
                .filter_map(|(k, v)| {
                    let name = string(k, "a build argument name", Shape::ArgName, sink)?;
                    let value = match &v.kind {
                        NodeKind::Null => String::new(),
                        NodeKind::Str(s) => {
                            Shape::Line.check(s).ok()?;
                            s.clone()
                        }
                        NodeKind::Int(i) => i.to_string(),
                        NodeKind::Bool(b) => b.to_string(),
                        _ => {
                            sink.error(
                                v,
                                format!("build argument `{name}` expects a string"),
                                None,
                            );
                            return None;
                        }
                    };
                    Some((name, value))
                })
                .collect()
        })
        .unwrap_or_default();
    let iocforge = opt_string(&mut r, "iocforge", Shape::ContextPath, sink);
    let apt_packages = strings(&mut r, "apt_packages", Shape::Package, sink);
    let runtime_apt_packages = strings(&mut r, "runtime_apt_packages", Shape::Package, sink);
    let files = r
        .opt_seq("files", sink)
        .map(|items| items.iter().filter_map(|i| read_copy(i, sink)).collect())
        .unwrap_or_default();
    let ibek_support = opt_string(&mut r, "ibek_support", Shape::ContextPath, sink)
        .unwrap_or_else(|| "ibek-support".into());
    let global_defs = r.opt_bool("global_defs", sink).flatten().unwrap_or(false);
    let support: Vec<SupportItem> = r
        .opt_seq("support", sink)
        .map(|items| items.iter().filter_map(|i| read_support(i, sink)).collect())
        .unwrap_or_default();
    let ioc = opt_string(&mut r, "ioc", Shape::ContextPath, sink);
    let runtime_extras = strings(&mut r, "runtime_extras", Shape::ImagePath, sink);
    let root_node = r.node();
    r.finish(FIELDS, sink);

    let mut seen: Vec<&str> = Vec::new();
    for s in &support {
        if seen.contains(&s.module.as_str()) {
            sink.error(
                root_node.get("support").unwrap_or(root_node),
                format!("support module `{}` is listed twice", s.module),
                Some("each module is built once; keep the first entry".into()),
            );
        }
        seen.push(&s.module);
    }
    let (developer, runtime) = images?;
    Some(Manifest {
        image,
        developer,
        runtime,
        build_args,
        iocforge,
        apt_packages,
        runtime_apt_packages,
        files,
        ibek_support,
        global_defs,
        support,
        ioc,
        runtime_extras,
    })
}

fn read_images(node: &Node, sink: &mut Sink<'_>) -> Option<(String, String)> {
    let mut r = MapReader::new(node, "`images`", sink)?;
    let developer = r
        .req("developer", sink)
        .and_then(|n| string(n, "`developer`", Shape::Image, sink));
    let runtime = r
        .req("runtime", sink)
        .and_then(|n| string(n, "`runtime`", Shape::Image, sink));
    r.finish(&["developer", "runtime"], sink);
    Some((developer?, runtime?))
}

fn read_copy(node: &Node, sink: &mut Sink<'_>) -> Option<CopyItem> {
    let mut r = MapReader::new(node, "an item of `files`", sink)?;
    let src = r
        .req("src", sink)
        .and_then(|n| string(n, "`src`", Shape::ContextPath, sink));
    let dest = r
        .req("dest", sink)
        .and_then(|n| string(n, "`dest`", Shape::ImagePath, sink));
    r.finish(&["src", "dest"], sink);
    Some(CopyItem {
        src: src?,
        dest: dest?,
    })
}

fn read_support(node: &Node, sink: &mut Sink<'_>) -> Option<SupportItem> {
    if node.as_str().is_some() {
        return Some(SupportItem {
            module: string(node, "a support module", Shape::Module, sink)?,
            version: None,
        });
    }
    let mut r = MapReader::new(node, "an item of `support`", sink)?;
    let module = r
        .req("module", sink)
        .and_then(|n| string(n, "`module`", Shape::Module, sink));
    let version = match r.opt("version") {
        None => None,
        Some(n) if n.kind == NodeKind::Null => None,
        // an unquoted `version: 2.8` is a float to YAML; take it as written
        Some(n) if matches!(n.kind, NodeKind::Int(_) | NodeKind::Float(_)) => {
            sink.error(
                n,
                "`version` expects a string, got a number".to_string(),
                Some("quote it: `version: \"2.8\"`".into()),
            );
            None
        }
        Some(n) => string(n, "`version`", Shape::Version, sink),
    };
    r.finish(&["module", "version"], sink);
    Some(SupportItem {
        module: module?,
        version,
    })
}

fn s(text: &str) -> Json {
    Json::str(text)
}

fn obj(pairs: Vec<(&str, Json)>) -> Json {
    Json::object(pairs)
}

fn typed(ty: &str, description: &str) -> Json {
    obj(vec![("type", s(ty)), ("description", s(description))])
}

fn string_list(description: &str) -> Json {
    obj(vec![
        ("type", s("array")),
        ("description", s(description)),
        ("items", obj(vec![("type", s("string"))])),
        ("default", Json::Array(vec![])),
    ])
}

fn closed(description: &str, props: Vec<(&str, Json)>, required: &[&str]) -> Json {
    obj(vec![
        ("type", s("object")),
        ("description", s(description)),
        ("properties", obj(props)),
        (
            "required",
            Json::Array(required.iter().map(|r| s(r)).collect()),
        ),
        ("additionalProperties", Json::Bool(false)),
    ])
}

/// The JSON schema of `ioc.manifest.yaml`.
pub fn manifest_schema() -> Json {
    obj(vec![
        ("$schema", s("https://json-schema.org/draft/2020-12/schema")),
        ("title", s("iocforge generic IOC manifest")),
        (
            "description",
            s(
                "What a generic IOC image is built from (`iocforge ioc dockerfile`, `iocforge ioc \
               build-image`).",
            ),
        ),
        ("type", s("object")),
        (
            "properties",
            obj(vec![
                (
                    "image",
                    typed(
                        "string",
                        "Name (and tag) of the built image, unless `build-image --tag` is given.",
                    ),
                ),
                ("images", images_field()),
                ("build_args", build_args_field()),
                (
                    "iocforge",
                    typed(
                        "string",
                        "Path in the build context of a (static) iocforge binary copied into the \
                         developer stage; unset, the developer image's own is used.",
                    ),
                ),
                (
                    "apt_packages",
                    string_list("Extra Debian packages installed in the developer stage."),
                ),
                (
                    "runtime_apt_packages",
                    string_list(
                        "Extra Debian packages installed in the runtime stage (those of the \
                         support modules' `apt_runtime` are installed anyway).",
                    ),
                ),
                ("files", files_field()),
                ("ibek_support", ibek_support_field()),
                ("global_defs", global_defs_field()),
                ("support", support_field()),
                (
                    "ioc",
                    typed(
                        "string",
                        "The IOC source folder in the build context, linked to $IOC; unset, \
                         `iocforge ioc build` writes its built-in generic IOC skeleton.",
                    ),
                ),
                (
                    "runtime_extras",
                    string_list(
                        "Extra absolute paths moved into the runtime stage by `iocforge ioc \
                         extract-runtime-assets`.",
                    ),
                ),
            ]),
        ),
        ("required", Json::Array(vec![s("images")])),
        ("additionalProperties", Json::Bool(false)),
    ])
}

/// `ibek_support`: the ibek-support checkout, `ibek-support` by default.
fn ibek_support_field() -> Json {
    let mut ibek_support = typed(
        "string",
        "The ibek-support checkout in the build context; each module's folder is copied from it.",
    );
    ibek_support.insert("default", s("ibek-support"));
    ibek_support
}

/// `global_defs`: whether to link the checkout's global definitions, off by default.
fn global_defs_field() -> Json {
    let mut global_defs = typed(
        "boolean",
        "Copy the checkout's `_ansible` folder and link its *.ibek.support.yaml (EpicsEnvSet, \
         dbpf, ...) into ibek-defs, as ibek-support's `ioc` role does.",
    );
    global_defs.insert("default", Json::Bool(false));
    global_defs
}

/// `images`: the developer and runtime base images.
fn images_field() -> Json {
    closed(
        "The base images; `${ARG}` references to `build_args` are allowed.",
        vec![
            (
                "developer",
                typed(
                    "string",
                    "Developer image: EPICS base with its build tools and \
                     iocforge (the `ARG DEVELOPER` default).",
                ),
            ),
            (
                "runtime",
                typed(
                    "string",
                    "Runtime image: EPICS base's runtime files (the `ARG RUNTIME` \
                     default).",
                ),
            ),
        ],
        &["developer", "runtime"],
    )
}

/// `build_args`: build arguments and their defaults.
fn build_args_field() -> Json {
    obj(vec![
        ("type", s("object")),
        (
            "description",
            s(
                "Build arguments and their defaults, declared before the first \
               stage and in the developer stage.",
            ),
        ),
        (
            "additionalProperties",
            obj(vec![(
                "type",
                Json::Array(vec![s("string"), s("integer"), s("boolean"), s("null")]),
            )]),
        ),
        (
            "propertyNames",
            obj(vec![("pattern", s("^[A-Za-z_][A-Za-z0-9_]*$"))]),
        ),
    ])
}

/// `files`: context files copied into the developer stage.
fn files_field() -> Json {
    obj(vec![
        ("type", s("array")),
        (
            "description",
            s(
                "Context files copied into the developer stage before the support \
               modules are built (local git repositories, tarballs).",
            ),
        ),
        (
            "items",
            closed(
                "One COPY.",
                vec![
                    ("src", typed("string", "Path in the build context.")),
                    ("dest", typed("string", "Absolute path in the image.")),
                ],
                &["src", "dest"],
            ),
        ),
        ("default", Json::Array(vec![])),
    ])
}

/// `support`: the support modules, in build order.
fn support_field() -> Json {
    obj(vec![
        ("type", s("array")),
        (
            "description",
            s(
                "Support modules, built in this order with `iocforge support \
               build`.",
            ),
        ),
        ("items", support_item()),
        ("default", Json::Array(vec![])),
    ])
}

/// One `support` item: a module folder name, or a module with a version.
fn support_item() -> Json {
    obj(vec![
        (
            "description",
            s("A support module: its folder name in the ibek-support checkout, or an object with \
               a version overriding the install.yml's."),
        ),
        (
            "anyOf",
            Json::Array(vec![
                typed("string", "The module folder (holding MODULE.install.yml)."),
                closed(
                    "A module and the version to build.",
                    vec![
                        (
                            "module",
                            typed("string", "The module folder (holding MODULE.install.yml)."),
                        ),
                        (
                            "version",
                            typed(
                                "string",
                                "Tag, branch or commit to build (`support build -v VERSION`).",
                            ),
                        ),
                    ],
                    &["module"],
                ),
            ]),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<Manifest, Diagnostics> {
        parse_manifest(&SourceFile::from_text("ioc.manifest.yaml", text))
    }

    fn errors(text: &str) -> Vec<String> {
        parse_text(text)
            .expect_err("the manifest is invalid")
            .0
            .iter()
            .map(|d| format!("{}: {}", d.location(), d.message))
            .collect()
    }

    const FULL: &str = "\
image: ghcr.io/example/ioc-counter:1.0
images:
  developer: ${REGISTRY}/epics-base-developer:7.0.8
  runtime: ${REGISTRY}/epics-base-runtime:7.0.8
build_args:
  REGISTRY: ghcr.io/epics-containers
  JOBS: 4
  EMPTY:
iocforge: bin/iocforge
apt_packages: [libusb-1.0-0-dev]
runtime_apt_packages: [libusb-1.0-0]
files:
  - src: repos
    dest: /epics/generic-source/repos
ibek_support: ibek-support
global_defs: true
support:
  - counter
  - module: asyn
    version: R4-44-2
ioc: ioc
runtime_extras: [/python]
";

    #[test]
    fn parses_every_field() {
        let m = parse_text(FULL).unwrap();
        assert_eq!(m.image.as_deref(), Some("ghcr.io/example/ioc-counter:1.0"));
        assert_eq!(m.developer, "${REGISTRY}/epics-base-developer:7.0.8");
        assert_eq!(
            m.build_args,
            vec![
                ("REGISTRY".into(), "ghcr.io/epics-containers".into()),
                ("JOBS".into(), "4".into()),
                ("EMPTY".into(), String::new()),
            ]
        );
        assert_eq!(m.iocforge.as_deref(), Some("bin/iocforge"));
        assert_eq!(m.files[0].dest, "/epics/generic-source/repos");
        assert!(m.global_defs);
        assert_eq!(
            m.support,
            vec![
                SupportItem {
                    module: "counter".into(),
                    version: None
                },
                SupportItem {
                    module: "asyn".into(),
                    version: Some("R4-44-2".into())
                },
            ]
        );
        assert_eq!(m.ioc.as_deref(), Some("ioc"));
        assert_eq!(m.runtime_extras, vec!["/python".to_string()]);
    }

    #[test]
    fn minimal_manifest_takes_the_defaults() {
        let m = parse_text("images: {developer: dev, runtime: run}\n").unwrap();
        assert_eq!(m.ibek_support, "ibek-support");
        assert!(!m.global_defs);
        assert!(m.support.is_empty() && m.ioc.is_none() && m.iocforge.is_none());
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let errs = errors(
            "\
images:
  developer: dev
  runtim: run
support:
  - asyn
  - module: motor
    version: 7.2
  - asyn
apt_packages: [\"bad name\"]
files:
  - src: ../outside
    dest: relative
suport: []
",
        );
        assert_eq!(
            errs,
            vec![
                "ioc.manifest.yaml:2:3: `images` is missing the required field `runtime`",
                "ioc.manifest.yaml:3:3: `images` has an unknown field `runtim`",
                "ioc.manifest.yaml:9:16: an item of `apt_packages` `bad name` is not a Debian package name",
                "ioc.manifest.yaml:11:10: `src` `../outside` must be a path inside the build context (relative, no `..`, no spaces)",
                "ioc.manifest.yaml:12:11: `dest` `relative` must be an absolute path without spaces",
                "ioc.manifest.yaml:7:14: `version` expects a string, got a number",
                "ioc.manifest.yaml:13:1: the manifest has an unknown field `suport`",
                "ioc.manifest.yaml:5:3: support module `asyn` is listed twice",
            ]
        );
    }

    #[test]
    fn missing_images_and_wrong_types_are_errors() {
        let errs = errors("support: asyn\nglobal_defs: maybe\n");
        assert!(
            errs.iter()
                .any(|e| e.contains("missing the required field `images`")),
            "{errs:?}"
        );
        assert!(
            errs.iter()
                .any(|e| e.contains("`support` of the manifest must be a list")),
            "{errs:?}"
        );
        assert!(errs.iter().any(|e| e.contains("global_defs")), "{errs:?}");
    }

    #[test]
    fn schema_lists_every_field() {
        let schema = manifest_schema();
        let props = schema.get("properties").and_then(Json::as_object).unwrap();
        let names: Vec<&str> = props.keys().map(String::as_str).collect();
        assert_eq!(names, FIELDS);
    }
}
