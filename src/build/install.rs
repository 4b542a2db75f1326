//! The `MODULE.install.yml` model: ibek-support's build variables, as written.
//!
//! An install.yml is a file of Ansible variables for ibek-support's `support`
//! role; field names here are exactly those variables (`dbds`, `libs`,
//! `organization`, `git_repo`, `patch_lines`, ...). [`load_install`] reads
//! the file through the crate's YAML loader and keeps every string with its
//! span, because values are Jinja templates (`"{{ config_linux_host }}"`)
//! that are only rendered later, against the build's variables
//! (`vars.rs`); a template error then points at the line the user wrote.
//! Top-level keys that are not build fields are Ansible variables too (the
//! sscan file sets `is_rtems: false`) and are kept for templates.

use std::path::Path;
use std::sync::Arc;

use crate::diag::{closest, Diagnostic, Diagnostics};
use crate::model::reader::{MapReader, Sink};
use crate::source::{Node, NodeKind, SourceFile, Span};

/// A string as written, with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    /// The raw value (maybe a Jinja template).
    pub value: String,
    /// Where it is in the file.
    pub span: Span,
}

/// A boolean as written: a YAML bool, or a string Ansible evaluates
/// (`"{{ is_rtems }}"`, `is_linux`, `"yes"`).
#[derive(Debug, Clone, PartialEq)]
pub enum Flag {
    /// A YAML boolean.
    Bool(bool),
    /// A string to render and read as a boolean.
    Text(Text),
}

/// An item of `comment_out`.
#[derive(Debug, Clone, PartialEq)]
pub struct CommentOut {
    /// File relative to the module's clone.
    pub path: Text,
    /// Lines containing a match are commented out.
    pub regexp: Text,
    /// Condition (default true).
    pub when: Option<Flag>,
}

/// An item of `patch_lines` (Ansible `lineinfile`).
#[derive(Debug, Clone, PartialEq)]
pub struct PatchLine {
    /// File relative to the module's clone.
    pub path: Text,
    /// The last line matching this becomes `line`.
    pub regexp: Text,
    /// The line to have in the file.
    pub line: Text,
    /// Condition (default true).
    pub when: Option<Flag>,
    /// Apply after `make` instead of before.
    pub post_build: Option<Flag>,
}

/// An item of `patch_blocks` (Ansible `blockinfile`).
#[derive(Debug, Clone, PartialEq)]
pub struct PatchBlock {
    /// File relative to the module's clone.
    pub path: Text,
    /// The text between the markers.
    pub block: Text,
    /// Regexp of the line to insert after, or `EOF` (the default).
    pub insertafter: Option<Text>,
    /// Marker line template, `{mark}` becoming `BEGIN`/`END`.
    pub marker: Option<Text>,
    /// Condition (default true).
    pub when: Option<Flag>,
    /// Apply after `make` instead of before.
    pub post_build: Option<Flag>,
}

/// `patch_file`: a patch applied with `git apply` right after cloning.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchFile {
    /// Patch file relative to the module's ibek-support folder.
    pub path: Option<Text>,
    /// Commit to check out before applying.
    pub commit: Option<Text>,
    /// Condition (default **false**, as in ibek-support).
    pub when: Option<Flag>,
}

/// An item of `scripts`: a bash script of the ibek-support folder.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    /// Script relative to the module's ibek-support folder.
    pub path: Text,
    /// Run after `make` instead of before.
    pub post_build: Option<Flag>,
}

/// An item of `tasks`: an Ansible task file (run by `build::tasks`).
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// Task file relative to the module's ibek-support folder.
    pub path: Text,
    /// Run after `make` instead of before.
    pub post_build: Option<Flag>,
    /// Condition (default true).
    pub when: Option<Flag>,
}

/// An item of `bash`: a command run with `bash -c` in the clone.
#[derive(Debug, Clone, PartialEq)]
pub struct Bash {
    /// The command.
    pub cmd: Text,
    /// Condition (default true).
    pub when: Option<Flag>,
    /// Run after `make` instead of before.
    pub post_build: Option<Flag>,
}

/// An item of `download_extras`.
#[derive(Debug, Clone, PartialEq)]
pub struct DownloadExtra {
    /// Where to download from.
    pub url: Text,
    /// The file to write.
    pub dest: Text,
}

/// A `MODULE.install.yml` as written.
#[derive(Debug, Clone)]
pub struct InstallFile {
    /// The file, for diagnostics.
    pub source: Arc<SourceFile>,
    /// `module`: the support module's name (normally the repository name).
    pub module: Text,
    /// `version`: the tag, branch or commit to clone.
    pub version: Option<Text>,
    /// `dbds`: DBD files the IOC links.
    pub dbds: Vec<Text>,
    /// `libs`: libraries the IOC links.
    pub libs: Vec<Text>,
    /// `organization`: the git prefix of `git_repo`.
    pub organization: Option<Text>,
    /// `git_repo`: the repository to clone.
    pub git_repo: Option<Text>,
    /// `recursive`: clone submodules too.
    pub recursive: Option<Flag>,
    /// `protocol_files`: `StreamDevice` protocols to publish.
    pub protocol_files: Vec<Text>,
    /// `macro`: the module's name in RELEASE files.
    pub macro_name: Option<Text>,
    /// `remove_macros`: macros blanked in the global RELEASE unless built.
    pub remove_macros: Vec<Text>,
    /// `extra_release_macros`: more `NAME=value` lines for the global RELEASE.
    pub extra_release_macros: Vec<(Text, Text)>,
    /// `make_options`: arguments of `make`.
    pub make_options: Option<Text>,
    /// `apt_developer`: packages (or local `.deb` paths) for the build.
    pub apt_developer: Vec<Text>,
    /// `apt_runtime`: packages the runtime stage installs.
    pub apt_runtime: Vec<Text>,
    /// `download_extras`: files to fetch before the apt installs.
    pub download_extras: Vec<DownloadExtra>,
    /// `runtime_files`: extra files the runtime stage copies.
    pub runtime_files: Vec<Text>,
    /// `local_path`: where the module is cloned.
    pub local_path: Option<Text>,
    /// `comment_out`.
    pub comment_out: Vec<CommentOut>,
    /// `patch_lines`.
    pub patch_lines: Vec<PatchLine>,
    /// `patch_blocks`.
    pub patch_blocks: Vec<PatchBlock>,
    /// `patch_file`.
    pub patch_file: Option<PatchFile>,
    /// `scripts`.
    pub scripts: Vec<Script>,
    /// `tasks`.
    pub tasks: Vec<Task>,
    /// `bash`.
    pub bash: Vec<Bash>,
    /// `remove_files_prebuild`: files deleted from the clone before the build.
    pub remove_files_prebuild: Vec<Text>,
    /// Every top-level entry, build field or not: the Ansible variables templates see.
    pub variables: Vec<(String, Node)>,
    /// Problems worth reporting that do not stop the build.
    pub warnings: Diagnostics,
}

/// The build fields of an install.yml (ibek-support's `support` role variables).
pub const INSTALL_FIELDS: &[&str] = &[
    "module",
    "version",
    "dbds",
    "libs",
    "organization",
    "git_repo",
    "recursive",
    "protocol_files",
    "macro",
    "remove_macros",
    "extra_release_macros",
    "make_options",
    "apt_developer",
    "apt_runtime",
    "download_extras",
    "runtime_files",
    "local_path",
    "comment_out",
    "patch_lines",
    "patch_blocks",
    "patch_file",
    "scripts",
    "tasks",
    "bash",
    "remove_files_prebuild",
];

/// Reads and checks `MODULE.install.yml`; every problem found is reported at once.
pub fn load_install(path: &Path) -> Result<InstallFile, Diagnostics> {
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
    parse_install(&source)
}

/// Checks an install.yml already in memory.
pub fn parse_install(source: &Arc<SourceFile>) -> Result<InstallFile, Diagnostics> {
    let root = crate::source::parse_source(source).map_err(Diagnostics::from)?;
    let mut diags = Diagnostics::default();
    let file = read_install(&root, source, &mut diags);
    match file {
        Some(mut f) if !diags.has_errors() => {
            f.warnings = diags;
            Ok(f)
        }
        _ => Err(diags),
    }
}

fn read_install(
    root: &Node,
    src: &Arc<SourceFile>,
    diags: &mut Diagnostics,
) -> Option<InstallFile> {
    let mut sink = Sink { src, diags };
    let mut r = MapReader::new(root, "the install file", &mut sink)?;
    let module = r
        .req("module", &mut sink)
        .and_then(|n| text(n, "`module`", &mut sink));
    let version = opt_text(&mut r, "version", &mut sink);
    warn_near_misses(root, &mut sink);
    let file = InstallFile {
        source: src.clone(),
        version,
        dbds: texts(&mut r, "dbds", &mut sink),
        libs: texts(&mut r, "libs", &mut sink),
        organization: opt_text(&mut r, "organization", &mut sink),
        git_repo: opt_text(&mut r, "git_repo", &mut sink),
        recursive: r
            .opt("recursive")
            .and_then(|n| flag(n, "`recursive`", &mut sink)),
        protocol_files: texts(&mut r, "protocol_files", &mut sink),
        macro_name: opt_text(&mut r, "macro", &mut sink),
        remove_macros: texts(&mut r, "remove_macros", &mut sink),
        extra_release_macros: release_macros(&mut r, &mut sink),
        make_options: opt_text(&mut r, "make_options", &mut sink),
        apt_developer: texts(&mut r, "apt_developer", &mut sink),
        apt_runtime: texts(&mut r, "apt_runtime", &mut sink),
        download_extras: items(&mut r, "download_extras", &mut sink, |m, s| {
            Some(DownloadExtra {
                url: req_text(m, "url", s)?,
                dest: req_text(m, "dest", s)?,
            })
        }),
        runtime_files: texts(&mut r, "runtime_files", &mut sink),
        local_path: opt_text(&mut r, "local_path", &mut sink),
        comment_out: items(&mut r, "comment_out", &mut sink, |m, s| {
            Some(CommentOut {
                path: req_text(m, "path", s)?,
                regexp: req_text(m, "regexp", s)?,
                when: opt_flag(m, "when", s),
            })
        }),
        patch_lines: items(&mut r, "patch_lines", &mut sink, |m, s| {
            Some(PatchLine {
                path: req_text(m, "path", s)?,
                regexp: req_text(m, "regexp", s)?,
                line: req_text(m, "line", s)?,
                when: opt_flag(m, "when", s),
                post_build: opt_flag(m, "post_build", s),
            })
        }),
        patch_blocks: items(&mut r, "patch_blocks", &mut sink, |m, s| {
            Some(PatchBlock {
                path: req_text(m, "path", s)?,
                block: req_text(m, "block", s)?,
                insertafter: m
                    .opt("insertafter")
                    .and_then(|n| text(n, "`insertafter`", s)),
                marker: m.opt("marker").and_then(|n| text(n, "`marker`", s)),
                when: opt_flag(m, "when", s),
                post_build: opt_flag(m, "post_build", s),
            })
        }),
        patch_file: patch_file(&mut r, &mut sink),
        scripts: items(&mut r, "scripts", &mut sink, |m, s| {
            Some(Script {
                path: req_text(m, "path", s)?,
                post_build: opt_flag(m, "post_build", s),
            })
        }),
        tasks: items(&mut r, "tasks", &mut sink, |m, s| {
            Some(Task {
                path: req_text(m, "path", s)?,
                post_build: opt_flag(m, "post_build", s),
                when: opt_flag(m, "when", s),
            })
        }),
        bash: items(&mut r, "bash", &mut sink, |m, s| {
            Some(Bash {
                cmd: req_text(m, "cmd", s)?,
                when: opt_flag(m, "when", s),
                post_build: opt_flag(m, "post_build", s),
            })
        }),
        remove_files_prebuild: texts(&mut r, "remove_files_prebuild", &mut sink),
        variables: root
            .as_map()
            .unwrap_or_default()
            .iter()
            .map(|(k, v)| (k.key_text(), v.clone()))
            .collect(),
        warnings: Diagnostics::default(),
        module: module?,
    };
    Some(file)
}

/// Unknown top-level keys are Ansible variables, but one a letter away from a
/// build field is more likely a typo that would silently do nothing.
fn warn_near_misses(root: &Node, sink: &mut Sink<'_>) {
    for (k, _) in root.as_map().unwrap_or_default() {
        let name = k.key_text();
        if INSTALL_FIELDS.contains(&name.as_str()) {
            continue;
        }
        if let Some(c) = closest(&name, INSTALL_FIELDS.iter().copied()) {
            if strsim::levenshtein(&name, c) <= 2 {
                let d = Diagnostic::error(sink.src, k.span, format!("unknown field `{name}`"))
                    .with_hint(format!(
                        "did you mean `{c}`? (unknown keys are only variables for templates)"
                    ))
                    .warning();
                sink.diags.push(d);
            }
        }
    }
}

fn text(node: &Node, what: &str, sink: &mut Sink<'_>) -> Option<Text> {
    if let NodeKind::Str(s) = &node.kind {
        Some(Text {
            value: s.clone(),
            span: node.span,
        })
    } else {
        sink.error(
            node,
            format!("{what} expects a string, got {}", node.type_name()),
            Some("quote the value to make it a string".into()),
        );
        None
    }
}

fn opt_text(r: &mut MapReader<'_>, key: &str, sink: &mut Sink<'_>) -> Option<Text> {
    let node = r.opt(key)?;
    if node.kind == NodeKind::Null {
        return None;
    }
    text(node, &format!("`{key}`"), sink)
}

fn req_text(r: &mut MapReader<'_>, key: &str, sink: &mut Sink<'_>) -> Option<Text> {
    let node = r.req(key, sink)?;
    text(node, &format!("`{key}` of {}", r.what()), sink)
}

fn texts(r: &mut MapReader<'_>, key: &str, sink: &mut Sink<'_>) -> Vec<Text> {
    let Some(node) = r.opt(key) else {
        return Vec::new();
    };
    if node.kind == NodeKind::Null {
        return Vec::new();
    }
    let Some(items) = node.as_seq() else {
        sink.error(
            node,
            format!("`{key}` must be a list, got {}", node.type_name()),
            Some(format!("write `{key}:` followed by `- item` lines")),
        );
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|n| text(n, &format!("an item of `{key}`"), sink))
        .collect()
}

fn flag(node: &Node, what: &str, sink: &mut Sink<'_>) -> Option<Flag> {
    match &node.kind {
        NodeKind::Bool(b) => Some(Flag::Bool(*b)),
        NodeKind::Int(0) => Some(Flag::Bool(false)),
        NodeKind::Int(1) => Some(Flag::Bool(true)),
        NodeKind::Null => None,
        NodeKind::Str(s) => Some(Flag::Text(Text {
            value: s.clone(),
            span: node.span,
        })),
        _ => {
            sink.error(
                node,
                format!("{what} expects a boolean, got {}", node.type_name()),
                Some("write true, false, or a condition such as \"{{ is_linux }}\"".into()),
            );
            None
        }
    }
}

fn opt_flag(r: &mut MapReader<'_>, key: &str, sink: &mut Sink<'_>) -> Option<Flag> {
    let node = r.opt(key)?;
    flag(node, &format!("`{key}` of {}", r.what()), sink)
}

/// A list of mappings, each read by `read` and checked for unknown fields.
fn items<T>(
    r: &mut MapReader<'_>,
    key: &str,
    sink: &mut Sink<'_>,
    read: impl Fn(&mut MapReader<'_>, &mut Sink<'_>) -> Option<T>,
) -> Vec<T> {
    let Some(node) = r.opt(key) else {
        return Vec::new();
    };
    if node.kind == NodeKind::Null {
        return Vec::new();
    }
    let Some(list) = node.as_seq() else {
        sink.error(
            node,
            format!("`{key}` must be a list, got {}", node.type_name()),
            None,
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let Some(mut m) = MapReader::new(item, format!("item {} of `{key}`", i + 1), sink) else {
            continue;
        };
        let allowed = item_fields(key);
        if let Some(v) = read(&mut m, sink) {
            out.push(v);
        }
        m.finish(allowed, sink);
    }
    out
}

fn item_fields(key: &str) -> &'static [&'static str] {
    match key {
        "download_extras" => &["url", "dest"],
        "comment_out" => &["path", "regexp", "when"],
        "patch_lines" => &["path", "regexp", "line", "when", "post_build"],
        "patch_blocks" => &[
            "path",
            "block",
            "insertafter",
            "marker",
            "when",
            "post_build",
        ],
        "scripts" => &["path", "post_build"],
        "tasks" => &["path", "post_build", "when"],
        "bash" => &["cmd", "when", "post_build"],
        _ => &[],
    }
}

fn patch_file(r: &mut MapReader<'_>, sink: &mut Sink<'_>) -> Option<PatchFile> {
    let node = r.opt("patch_file")?;
    if node.kind == NodeKind::Null {
        return None;
    }
    let mut m = MapReader::new(node, "`patch_file`", sink)?;
    let out = PatchFile {
        path: opt_text(&mut m, "path", sink),
        commit: opt_text(&mut m, "commit", sink),
        when: opt_flag(&mut m, "when", sink),
    };
    m.finish(&["path", "commit", "when"], sink);
    Some(out)
}

fn release_macros(r: &mut MapReader<'_>, sink: &mut Sink<'_>) -> Vec<(Text, Text)> {
    let Some(node) = r.opt("extra_release_macros") else {
        return Vec::new();
    };
    if node.kind == NodeKind::Null {
        return Vec::new();
    }
    let Some(entries) = node.as_map() else {
        sink.error(
            node,
            format!(
                "`extra_release_macros` must be a mapping, got {}",
                node.type_name()
            ),
            Some("write `NAME: value` lines under it".into()),
        );
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|(k, v)| {
            let key = Text {
                value: k.key_text(),
                span: k.span,
            };
            let value = text(v, &format!("macro `{}`", key.value), sink)?;
            Some((key, value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<InstallFile, Diagnostics> {
        parse_install(&SourceFile::from_text("x.install.yml", text))
    }

    #[test]
    fn reads_an_asyn_like_file() {
        let f = load(
            "module: asyn\nversion: R4-45\ndbds: [asyn.dbd]\nlibs:\n  - asyn\n\
             patch_lines:\n  - path: \"{{ config_linux_host }}\"\n    regexp: TIRPC\n    line: TIRPC = YES\n\
             remove_macros: [SNCSEQ]\ncomment_out:\n  - path: Makefile\n    regexp: test|iocBoot\n",
        )
        .unwrap();
        assert_eq!(f.module.value, "asyn");
        assert_eq!(f.version.unwrap().value, "R4-45");
        assert_eq!(f.dbds[0].value, "asyn.dbd");
        assert_eq!(f.patch_lines[0].path.value, "{{ config_linux_host }}");
        assert_eq!(f.comment_out[0].regexp.value, "test|iocBoot");
        assert_eq!(f.remove_macros[0].value, "SNCSEQ");
    }

    #[test]
    fn keeps_unknown_top_level_keys_as_variables() {
        let f = load("module: sscan\nversion: R2-11-6\nis_rtems: false\n").unwrap();
        assert!(f.variables.iter().any(|(k, _)| k == "is_rtems"));
    }

    #[test]
    fn reports_every_problem_with_its_line() {
        let e = load("module: m\nversion: 1.5\ncomment_out:\n  - path: Makefile\n    regex: x\n")
            .unwrap_err();
        let text = e.render();
        assert!(
            text.contains("x.install.yml:2:10: error: `version` expects a string, got float"),
            "{text}"
        );
        assert!(
            text.contains("missing the required field `regexp`"),
            "{text}"
        );
        assert!(text.contains("unknown field `regex`"), "{text}");
        assert!(text.contains("did you mean `regexp`?"), "{text}");
    }

    #[test]
    fn warns_about_a_near_miss_of_a_field() {
        let f = load("module: m\nversion: '1'\nlib: [x]\n").unwrap();
        assert!(f.warnings.render().contains("did you mean `libs`?"));
    }

    #[test]
    fn flags_take_bools_and_templates() {
        let f = load(
            "module: m\nversion: v\nbash:\n  - cmd: ls\n    when: \"{{ is_linux }}\"\n    post_build: true\n",
        )
        .unwrap();
        assert!(matches!(&f.bash[0].when, Some(Flag::Text(t)) if t.value == "{{ is_linux }}"));
        assert_eq!(f.bash[0].post_build, Some(Flag::Bool(true)));
    }
}
