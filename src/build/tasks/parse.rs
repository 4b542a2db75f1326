//! Reads an Ansible task file into [`Task`]s, checking the whole file first.
//!
//! Only the subset ibek-support's task files use is accepted: the modules of
//! [`Module`] (short or `ansible.builtin.` names) and the keywords `name`,
//! `when`, `loop`, `with_items`, `changed_when`, `block`, `args` and `tags`.
//! Anything else (a module, a keyword, an argument of a module, a `meta`
//! action) is an error at its `file:line:col`, reported with every other
//! problem of the file before any task runs.

use std::path::Path;
use std::sync::Arc;

use crate::diag::{closest, Diagnostic, Diagnostics};
use crate::source::{Node, NodeKind, SourceFile, Span};

/// The Ansible modules iocforge carries out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Module {
    /// `shell`: a script run by `executable` (default `/bin/sh`) `-c`.
    Shell,
    /// `command`: a program and its arguments, no shell.
    Command,
    /// `file`: `state: absent|directory|link|touch|file`.
    File,
    /// `lineinfile`: one line in a file.
    LineInFile,
    /// `copy`: a file (or `content`) to `dest`.
    Copy,
    /// `get_url`: a download to `dest`.
    GetUrl,
    /// `unarchive`: a tar archive extracted into `dest`.
    Unarchive,
    /// `set_fact`: variables for the rest of the build.
    SetFact,
    /// `debug`: a message in the build log.
    Debug,
    /// `meta: end_play`: the build stops here, successfully.
    Meta,
}

/// Every module name accepted, for suggestions.
const MODULE_NAMES: &[&str] = &[
    "shell",
    "command",
    "file",
    "lineinfile",
    "copy",
    "get_url",
    "unarchive",
    "set_fact",
    "debug",
    "meta",
];

/// Task keywords other than the module.
const KEYWORDS: &[&str] = &[
    "name",
    "when",
    "loop",
    "with_items",
    "changed_when",
    "block",
    "args",
    "tags",
];

impl Module {
    /// The module a task key names: `shell`, `ansible.builtin.shell`, `ansible.legacy.shell`.
    pub fn from_key(key: &str) -> Option<Module> {
        let short = key
            .strip_prefix("ansible.builtin.")
            .or_else(|| key.strip_prefix("ansible.legacy."))
            .unwrap_or(key);
        Some(match short {
            "shell" => Module::Shell,
            "command" => Module::Command,
            "file" => Module::File,
            "lineinfile" => Module::LineInFile,
            "copy" => Module::Copy,
            "get_url" => Module::GetUrl,
            "unarchive" => Module::Unarchive,
            "set_fact" => Module::SetFact,
            "debug" => Module::Debug,
            "meta" => Module::Meta,
            _ => return None,
        })
    }

    /// The module's short name.
    pub fn name(self) -> &'static str {
        match self {
            Module::Shell => "shell",
            Module::Command => "command",
            Module::File => "file",
            Module::LineInFile => "lineinfile",
            Module::Copy => "copy",
            Module::GetUrl => "get_url",
            Module::Unarchive => "unarchive",
            Module::SetFact => "set_fact",
            Module::Debug => "debug",
            Module::Meta => "meta",
        }
    }

    /// The arguments the module takes (`None`: any name, as `set_fact`'s).
    fn arguments(self) -> Option<&'static [&'static str]> {
        Some(match self {
            Module::Shell => &["cmd", "chdir", "creates", "executable"],
            Module::Command => &["cmd", "argv", "chdir", "creates"],
            Module::File => &["path", "dest", "name", "state", "mode", "src", "force"],
            Module::LineInFile => &[
                "path",
                "dest",
                "regexp",
                "line",
                "create",
                "mode",
                "insertafter",
                "insertbefore",
                "state",
            ],
            Module::Copy => &["src", "dest", "content", "mode", "force"],
            Module::GetUrl => &["url", "dest", "mode", "force"],
            Module::Unarchive => &["src", "dest", "creates", "remote_src"],
            Module::Debug => &["msg", "var"],
            Module::Meta => &[],
            Module::SetFact => return None,
        })
    }

    /// Whether the module takes a free-form string (`shell: make`).
    fn free_form(self) -> bool {
        matches!(self, Module::Shell | Module::Command | Module::Meta)
    }
}

/// A `when` or `changed_when` condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    /// A YAML boolean.
    Bool(bool),
    /// A Jinja expression (`is_rtems`, `not skip_clean`, `"{{ is_linux }}"`).
    Expr {
        /// The expression as written.
        text: String,
        /// Where.
        span: Span,
    },
}

/// What a task does: one module, or a block of tasks.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskBody {
    /// `block:` with its tasks (they inherit its `when`).
    Block(Vec<Task>),
    /// A module call.
    Module {
        /// Which module.
        module: Module,
        /// The free-form string (`shell: make -j4`, `meta: end_play`).
        free_form: Option<Node>,
        /// The named arguments (the module's mapping, then `args:`).
        args: Vec<(String, Node)>,
    },
}

/// One task (or block) of a task file.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// `name`, as written (may be a template).
    pub name: Option<String>,
    /// Where the task starts.
    pub span: Span,
    /// `when` conditions; all must hold.
    pub when: Vec<Cond>,
    /// `loop` / `with_items` and whether it flattens one level (`with_items`).
    pub loop_items: Option<(Node, bool)>,
    /// `changed_when`, only for the build log.
    pub changed_when: Option<Cond>,
    /// What it does.
    pub body: TaskBody,
}

/// A task file, checked.
#[derive(Debug, Clone)]
pub struct TaskFile {
    /// The file, for locations.
    pub source: Arc<SourceFile>,
    /// Its tasks in order.
    pub tasks: Vec<Task>,
}

impl TaskFile {
    /// `file:line:col` of a span in this file.
    pub fn location(&self, span: Span) -> String {
        let (line, col) = span.line_col();
        format!("{}:{line}:{col}", self.source.path.display())
    }
}

/// Reads and checks a task file.
pub fn load_task_file(path: &Path) -> Result<TaskFile, Diagnostics> {
    let source = SourceFile::read(path).map_err(|e| {
        Diagnostics::from(
            Diagnostic::plain(
                None,
                format!(
                    "cannot read the task file `{}`: {}",
                    path.display(),
                    crate::source::io_reason(&e)
                ),
            )
            .with_hint(
                "the `tasks:` items of the install.yml name files of its ibek-support folder",
            )
            .io(),
        )
    })?;
    parse_task_file(&source)
}

/// Checks a task file already in memory; every problem is reported at once.
pub fn parse_task_file(source: &Arc<SourceFile>) -> Result<TaskFile, Diagnostics> {
    let root = crate::source::parse_source(source).map_err(Diagnostics::from)?;
    let mut diags = Diagnostics::default();
    let tasks = match &root.kind {
        NodeKind::Null => Vec::new(),
        NodeKind::Seq(items) => tasks(items, source, &mut diags),
        _ => {
            diags.push(
                Diagnostic::error(
                    source,
                    root.span,
                    format!(
                        "a task file must be a list of tasks, got {}",
                        root.type_name()
                    ),
                )
                .with_hint("write each task as `- name: ...` followed by its module"),
            );
            Vec::new()
        }
    };
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(TaskFile {
            source: source.clone(),
            tasks,
        })
    }
}

fn tasks(items: &[Node], src: &Arc<SourceFile>, diags: &mut Diagnostics) -> Vec<Task> {
    items.iter().filter_map(|n| task(n, src, diags)).collect()
}

fn cond(node: &Node, src: &Arc<SourceFile>, diags: &mut Diagnostics) -> Option<Cond> {
    match &node.kind {
        NodeKind::Bool(b) => Some(Cond::Bool(*b)),
        NodeKind::Str(s) => Some(Cond::Expr {
            text: s.clone(),
            span: node.span,
        }),
        NodeKind::Int(i) => Some(Cond::Bool(*i != 0)),
        _ => {
            diags.push(
                Diagnostic::error(
                    src,
                    node.span,
                    format!(
                        "a condition must be a string or a boolean, got {}",
                        node.type_name()
                    ),
                )
                .with_hint("write a Jinja expression such as `is_linux` or `not skip_apt`"),
            );
            None
        }
    }
}

fn task(node: &Node, src: &Arc<SourceFile>, diags: &mut Diagnostics) -> Option<Task> {
    let Some(entries) = node.as_map() else {
        diags.push(Diagnostic::error(
            src,
            node.span,
            format!("a task must be a mapping, got {}", node.type_name()),
        ));
        return None;
    };
    let mut name = None;
    let mut when = Vec::new();
    let mut loop_items = None;
    let mut changed_when = None;
    let mut block = None;
    let mut extra_args: Vec<(String, Node)> = Vec::new();
    let mut module: Option<(Module, &Node, Span)> = None;
    let errors_before = diags.0.len();
    for (k, v) in entries {
        let key = k.key_text();
        match key.as_str() {
            "name" => match &v.kind {
                NodeKind::Str(s) => name = Some(s.clone()),
                NodeKind::Null => {}
                _ => name = Some(v.key_text()),
            },
            "when" => match &v.kind {
                NodeKind::Seq(list) => when.extend(list.iter().filter_map(|c| cond(c, src, diags))),
                _ => when.extend(cond(v, src, diags)),
            },
            "changed_when" => changed_when = cond(v, src, diags),
            "loop" | "with_items" => {
                if loop_items.is_some() {
                    diags.push(Diagnostic::error(
                        src,
                        k.span,
                        "a task takes one of `loop` and `with_items`",
                    ));
                }
                loop_items = Some((v.clone(), key == "with_items"));
            }
            "block" => match v.as_seq() {
                Some(items) => block = Some(tasks(items, src, diags)),
                None => diags.push(Diagnostic::error(
                    src,
                    v.span,
                    format!("`block` must be a list of tasks, got {}", v.type_name()),
                )),
            },
            "args" => match v.as_map() {
                Some(m) => extra_args.extend(m.iter().map(|(k, v)| (k.key_text(), v.clone()))),
                None => diags.push(Diagnostic::error(
                    src,
                    v.span,
                    format!("`args` must be a mapping, got {}", v.type_name()),
                )),
            },
            "tags" => {}
            other => {
                if let Some(m) = Module::from_key(other) {
                    if let Some((prev, _, _)) = module {
                        diags.push(Diagnostic::error(
                            src,
                            k.span,
                            format!(
                                "a task calls one module, and this one calls `{}` and `{}`",
                                prev.name(),
                                m.name()
                            ),
                        ));
                    }
                    module = Some((m, v, k.span));
                } else {
                    diags.push(unknown_key(src, k.span, other));
                }
            }
        }
    }
    let body = task_body(
        block,
        module,
        loop_items.is_some(),
        node.span,
        extra_args,
        src,
        diags,
    )?;
    if diags.0.len() > errors_before {
        return None;
    }
    Some(Task {
        name,
        span: node.span,
        when,
        loop_items,
        changed_when,
        body,
    })
}

/// What a task runs: its `block` or its one module, never both nor neither.
fn task_body(
    block: Option<Vec<Task>>,
    module: Option<(Module, &Node, Span)>,
    looping: bool,
    task_span: Span,
    extra_args: Vec<(String, Node)>,
    src: &Arc<SourceFile>,
    diags: &mut Diagnostics,
) -> Option<TaskBody> {
    let body = match (block, module) {
        (Some(_), Some((m, _, span))) => {
            diags.push(Diagnostic::error(
                src,
                span,
                format!(
                    "a task has either `block` or a module, and this one has `block` and `{}`",
                    m.name()
                ),
            ));
            return None;
        }
        (Some(b), None) => {
            if looping {
                diags.push(Diagnostic::error(src, task_span, "a `block` cannot loop"));
            }
            TaskBody::Block(b)
        }
        (None, Some((m, v, span))) => module_body(m, v, span, extra_args, src, diags)?,
        (None, None) => {
            diags.push(
                Diagnostic::error(src, task_span, "the task calls no module").with_hint(format!(
                    "iocforge runs these modules: {}",
                    MODULE_NAMES.join(", ")
                )),
            );
            return None;
        }
    };
    Some(body)
}

fn unknown_key(src: &Arc<SourceFile>, span: Span, key: &str) -> Diagnostic {
    let looks_like_module = key.contains('.');
    let all = MODULE_NAMES.iter().chain(KEYWORDS).copied();
    let short = key.rsplit('.').next().unwrap_or(key);
    let mut d = Diagnostic::error(
        src,
        span,
        if looks_like_module {
            format!("unknown Ansible module `{key}`")
        } else {
            format!("unknown task keyword or module `{key}`")
        },
    );
    let listing = format!(
        "iocforge runs the modules {} and the keywords {}",
        MODULE_NAMES.join(", "),
        KEYWORDS.join(", ")
    );
    d = match closest(short, all) {
        Some(c) if strsim::levenshtein(short, c) <= 2 => {
            d.with_hint(format!("did you mean `{c}`? {listing}"))
        }
        _ => d.with_hint(listing),
    };
    d
}

fn module_body(
    module: Module,
    value: &Node,
    key_span: Span,
    extra_args: Vec<(String, Node)>,
    src: &Arc<SourceFile>,
    diags: &mut Diagnostics,
) -> Option<TaskBody> {
    let mut free_form = None;
    let mut args: Vec<(String, Node)> = Vec::new();
    match &value.kind {
        NodeKind::Map(m) => args.extend(m.iter().map(|(k, v)| (k.key_text(), v.clone()))),
        NodeKind::Str(_) if module.free_form() => free_form = Some(value.clone()),
        NodeKind::Null if module == Module::Debug => {}
        _ => {
            diags.push(Diagnostic::error(
                src,
                value.span,
                format!(
                    "`{}` takes {}, got {}",
                    module.name(),
                    if module.free_form() {
                        "a command string or a mapping of arguments"
                    } else {
                        "a mapping of arguments"
                    },
                    value.type_name()
                ),
            ));
            return None;
        }
    }
    args.extend(extra_args);
    check_arguments(module, value, key_span, &args, src, diags);
    let has = |name: &str| args.iter().any(|(k, _)| k == name);
    let need = |ok: bool, what: &str, diags: &mut Diagnostics| {
        if !ok {
            diags.push(Diagnostic::error(
                src,
                key_span,
                format!("`{}` needs {what}", module.name()),
            ));
        }
    };
    match module {
        Module::Shell => need(
            free_form.is_some() || has("cmd"),
            "a command (`cmd`)",
            diags,
        ),
        Module::Command => need(
            free_form.is_some() || has("cmd") || has("argv"),
            "a command (`cmd` or `argv`)",
            diags,
        ),
        Module::File => need(has("path") || has("dest") || has("name"), "`path`", diags),
        Module::LineInFile => {
            need(has("path") || has("dest"), "`path`", diags);
            need(has("line"), "`line`", diags);
        }
        Module::Copy => {
            need(has("dest"), "`dest`", diags);
            need(has("src") || has("content"), "`src` or `content`", diags);
        }
        Module::GetUrl => {
            need(has("url"), "`url`", diags);
            need(has("dest"), "`dest`", diags);
        }
        Module::Unarchive => {
            need(has("src"), "`src`", diags);
            need(has("dest"), "`dest`", diags);
        }
        Module::Meta => match free_form.as_ref().and_then(Node::as_str) {
            Some("end_play") => {}
            Some(other) => diags.push(
                Diagnostic::error(
                    src,
                    value.span,
                    format!("unsupported `meta` action `{other}`"),
                )
                .with_hint("iocforge runs `meta: end_play` only"),
            ),
            None => need(false, "an action (`end_play`)", diags),
        },
        Module::SetFact | Module::Debug => {}
    }
    for (k, v) in &args {
        check_literal(module, k, v, src, diags);
    }
    Some(TaskBody::Module {
        module,
        free_form,
        args,
    })
}

/// Reports each argument the module does not take, with the closest one it does.
fn check_arguments(
    module: Module,
    value: &Node,
    key_span: Span,
    args: &[(String, Node)],
    src: &Arc<SourceFile>,
    diags: &mut Diagnostics,
) {
    if let Some(allowed) = module.arguments() {
        for (k, _) in args {
            if !allowed.contains(&k.as_str()) {
                let span = arg_span(value, k).unwrap_or(key_span);
                let mut d = Diagnostic::error(
                    src,
                    span,
                    format!("unknown argument `{k}` of the `{}` module", module.name()),
                );
                d = match closest(k, allowed.iter().copied()) {
                    Some(c) => d.with_hint(format!(
                        "did you mean `{c}`? it takes {}",
                        allowed.join(", ")
                    )),
                    None if allowed.is_empty() => d.with_hint("it takes no named arguments"),
                    None => d.with_hint(format!("it takes {}", allowed.join(", "))),
                };
                diags.push(d);
            }
        }
    }
}

/// Values that can be checked before templates are rendered.
fn check_literal(
    module: Module,
    key: &str,
    v: &Node,
    src: &Arc<SourceFile>,
    diags: &mut Diagnostics,
) {
    if key == "mode" {
        if let NodeKind::Int(_) = v.kind {
            diags.push(
                Diagnostic::error(
                    src,
                    v.span,
                    "an unquoted `mode` is read as a decimal number",
                )
                .with_hint("quote it, as ibek-support does: mode: \"0644\""),
            );
        }
    }
    if module == Module::File && key == "state" {
        if let Some(s) = v.as_str() {
            let known = ["absent", "directory", "link", "touch", "file"];
            if !crate::jinja::has_template_syntax(s) && !known.contains(&s) {
                diags.push(
                    Diagnostic::error(src, v.span, format!("unsupported `file` state `{s}`"))
                        .with_hint(format!("iocforge supports {}", known.join(", "))),
                );
            }
        }
    }
    if module == Module::LineInFile && key == "state" && v.as_str() != Some("present") {
        diags.push(
            Diagnostic::error(src, v.span, "unsupported `lineinfile` state")
                .with_hint("iocforge supports `state: present` (the default)"),
        );
    }
}

fn arg_span(module_value: &Node, key: &str) -> Option<Span> {
    module_value
        .as_map()?
        .iter()
        .find(|(k, _)| k.as_str() == Some(key))
        .map(|(k, _)| k.span)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<TaskFile, String> {
        parse_task_file(&SourceFile::from_text("t.yml", text)).map_err(|d| d.render())
    }

    #[test]
    fn reads_ibek_support_shapes() {
        let f = parse(
            "- block:\n    - name: end\n      debug:\n        msg: bye\n    - meta: end_play\n  when: is_rtems\n\
             - name: Remove\n  ansible.builtin.file:\n    path: \"{{ item }}\"\n    state: absent\n  with_items:\n    - /a\n\
             - ansible.builtin.shell:\n    cmd: make\n    chdir: /tmp\n  changed_when: false\n",
        )
        .unwrap();
        assert_eq!(f.tasks.len(), 3);
        let TaskBody::Block(inner) = &f.tasks[0].body else {
            panic!("a block")
        };
        assert_eq!(inner.len(), 2);
        assert_eq!(f.tasks[0].when.len(), 1);
        assert!(f.tasks[1]
            .loop_items
            .as_ref()
            .is_some_and(|(_, flat)| *flat));
        assert_eq!(f.location(f.tasks[2].span), "t.yml:13:3");
    }

    #[test]
    fn unknown_modules_keywords_and_arguments_are_errors_at_their_place() {
        let e = parse(
            "- name: a\n  ansible.builtin.apt:\n    name: x\n- name: b\n  shell: make\n  register: out\n\
             - name: c\n  file:\n    path: /x\n    stat: absent\n- meta: flush_handlers\n",
        )
        .unwrap_err();
        assert!(
            e.contains("t.yml:2:3: error: unknown Ansible module `ansible.builtin.apt`"),
            "{e}"
        );
        assert!(
            e.contains("t.yml:6:3: error: unknown task keyword or module `register`"),
            "{e}"
        );
        assert!(
            e.contains("t.yml:10:5: error: unknown argument `stat` of the `file` module"),
            "{e}"
        );
        assert!(e.contains("did you mean `state`?"), "{e}");
        assert!(
            e.contains("t.yml:11:9: error: unsupported `meta` action `flush_handlers`"),
            "{e}"
        );
    }

    #[test]
    fn unquoted_modes_and_missing_arguments_are_errors() {
        let e = parse(
            "- file:\n    path: /x\n    state: touch\n    mode: 0644\n- copy:\n    src: /a\n",
        )
        .unwrap_err();
        assert!(e.contains("t.yml:4:11: error: an unquoted `mode`"), "{e}");
        assert!(e.contains("t.yml:5:3: error: `copy` needs `dest`"), "{e}");
    }
}
