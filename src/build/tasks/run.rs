//! Carries out (or, for `--dry-run`, describes) the tasks of a task file.
//!
//! Order and scoping follow Ansible: a task's loop is rendered first, then
//! its `when` (with the block's conditions before its own) is evaluated for
//! each `item`; `set_fact` values shadow the role's variables for the rest of
//! the build; `meta: end_play` ends the build successfully. Commands go
//! through the build's [`Runner`], so a recording runner can stand in for
//! them; file modules run in process (`files.rs`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use minijinja::value::{Value, ValueKind};

use super::files;
use super::parse::{Cond, Module, Task, TaskBody, TaskFile};
use crate::build::apt::Downloader;
use crate::build::command::{quote, split_words, CommandSpec, Runner};
use crate::build::patch::Insert;
use crate::build::vars::{ansible_bool, condition_word, Variables};
use crate::source::{Node, NodeKind};

/// Whether the build goes on after a task file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskFlow {
    /// Go on with the next step.
    Continue,
    /// `meta: end_play` ran: the build stops here, successfully.
    EndPlay,
}

/// One finished task, for the build log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskEvent {
    /// `file:line:col` of the task.
    pub location: String,
    /// The task's rendered name (or its module's).
    pub name: String,
    /// What happened: `ok`, `changed`, `skipped: ...`, a debug message.
    pub status: String,
}

/// Receives each finished task.
pub trait TaskLog {
    /// A task finished (or was skipped).
    fn task(&mut self, event: &TaskEvent);
}

/// A task that failed, at its place in the task file.
#[derive(Debug, thiserror::Error)]
#[error("{location}: task `{name}` failed: {message}")]
pub struct TaskError {
    /// `file:line:col`.
    pub location: String,
    /// The task's name.
    pub name: String,
    /// What went wrong.
    pub message: String,
    /// The exit code of a failed command.
    pub code: Option<i32>,
    /// The last lines of a failed command's output.
    pub tail: Vec<String>,
}

/// What the walker does with a module call.
enum Mode<'a> {
    Run {
        runner: &'a mut dyn Runner,
        log: &'a mut dyn TaskLog,
        downloader: Downloader,
    },
    Describe(Vec<String>),
}

struct Walker<'a> {
    file: &'a TaskFile,
    vars: &'a Variables,
    facts: &'a mut IndexMap<String, Value>,
    mode: Mode<'a>,
    ended: bool,
    /// Listing a file that does not run: a task that cannot be rendered is
    /// listed with the reason instead of stopping the listing.
    lenient: bool,
    /// `epics_folder` without its trailing `/` when it is not `/epics`: the
    /// root that literal `/epics` paths of the task files move to.
    epics_root: Option<String>,
}

/// Runs a task file. `facts` carries `set_fact` values from file to file.
pub fn run_tasks(
    file: &TaskFile,
    vars: &Variables,
    facts: &mut IndexMap<String, Value>,
    runner: &mut dyn Runner,
    log: &mut dyn TaskLog,
    downloader: Downloader,
) -> Result<TaskFlow, TaskError> {
    let mut w = Walker {
        file,
        vars,
        facts,
        mode: Mode::Run {
            runner,
            log,
            downloader,
        },
        ended: false,
        lenient: false,
        epics_root: moved_root(vars),
    };
    w.tasks(&file.tasks, &[], 0)?;
    Ok(if w.ended {
        TaskFlow::EndPlay
    } else {
        TaskFlow::Continue
    })
}

/// The `--dry-run` listing of a task file: one line per task (and per loop
/// item) with its resolved arguments, or why it would be skipped. `set_fact`
/// is applied, so later tasks see its values. Errors are those the run
/// would stop at (an undefined variable, say); with `lenient` (a file that
/// will not run) such a task is listed with its error instead.
pub fn describe_tasks(
    file: &TaskFile,
    vars: &Variables,
    facts: &mut IndexMap<String, Value>,
    lenient: bool,
) -> Result<(Vec<String>, TaskFlow), TaskError> {
    let mut w = Walker {
        file,
        vars,
        facts,
        mode: Mode::Describe(Vec::new()),
        ended: false,
        lenient,
        epics_root: moved_root(vars),
    };
    w.tasks(&file.tasks, &[], 0)?;
    let flow = if w.ended {
        TaskFlow::EndPlay
    } else {
        TaskFlow::Continue
    };
    let Mode::Describe(lines) = w.mode else {
        return Ok((Vec::new(), flow));
    };
    Ok((lines, flow))
}

/// The arguments that name a path on disk. ibek-support's task files spell
/// some of them out (`/epics/support/pmac/configure/...` in pmac-tasks.yml)
/// where the role's own files use `{{ support_folder }}`; so that every
/// `/epics` path follows `EPICS_ROOT`, such a literal path moves with it,
/// as `RELEASE.global`'s do. Command lines (`cmd`) are left as written.
const PATH_ARGS: &[&str] = &["path", "dest", "src", "name", "chdir", "creates"];

/// The root that literal `/epics` paths move to: `epics_folder` without its
/// trailing `/`, or `None` when it is `/epics` itself.
fn moved_root(vars: &Variables) -> Option<String> {
    let folder = vars.get_str("epics_folder").ok().flatten()?;
    let root = folder.trim_end_matches('/');
    (root != "/epics").then(|| root.to_string())
}

/// `text` with its leading `/epics` component (`/epics` or `/epics/...`)
/// replaced by `root`; `None` when it does not start with one.
fn under_root(text: &str, root: &str) -> Option<String> {
    let rest = text.strip_prefix("/epics")?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    let moved = format!("{root}{rest}");
    Some(if moved.is_empty() { "/".into() } else { moved })
}

/// A rendered argument value for printing: `word`, `'two words'`, or a
/// JSON-quoted string when it spans lines.
fn show(v: &Value) -> String {
    match v.as_str() {
        Some(s) if s.contains('\n') => serde_json::to_string(s).unwrap_or_default(),
        Some(s) => quote(s),
        None => crate::jinja::pyfmt::py_str(v).unwrap_or_else(|_| v.to_string()),
    }
}

/// The `file` module: brings `path` to its `state` (a file, folder, link, touched
/// or absent); true when something changed.
fn file_module(args: &IndexMap<String, Value>, mode: Option<u32>) -> Result<bool, files::Failed> {
    let s = |k: &str| args.get(k).map(text_of);
    let path = s("path")
        .or_else(|| s("dest"))
        .or_else(|| s("name"))
        .unwrap_or_default();
    let path = Path::new(&path);
    let state = s("state").unwrap_or_else(|| "file".into());
    match state.as_str() {
        "absent" => files::absent(path),
        "directory" => files::directory(path, mode),
        "touch" => files::touch(path, mode),
        "link" => match s("src") {
            Some(src) => {
                let force = args.get("force").is_some_and(ansible_bool);
                files::link(&src, path, force, mode)
            }
            None => Err("`state: link` needs `src`".into()),
        },
        "file" => files::existing(path, mode),
        other => Err(format!("unsupported `file` state `{other}`")),
    }
}

fn text_of(v: &Value) -> String {
    v.as_str().map_or_else(
        || crate::jinja::pyfmt::py_str(v).unwrap_or_else(|_| v.to_string()),
        str::to_string,
    )
}

/// The expression of a string that is one `{{ ... }}` and nothing else.
fn single_expression(text: &str) -> Option<&str> {
    let t = text.trim();
    let inner = t.strip_prefix("{{")?.strip_suffix("}}")?;
    (!inner.contains("{{") && !inner.contains("}}")).then_some(inner.trim())
}

impl Walker<'_> {
    fn err(&self, task: &Task, name: &str, message: String) -> TaskError {
        TaskError {
            location: self.file.location(task.span),
            name: name.to_string(),
            message,
            code: None,
            tail: Vec::new(),
        }
    }

    fn extra(&self, item: Option<&Value>) -> IndexMap<String, Value> {
        let mut extra = self.facts.clone();
        if let Some(i) = item {
            extra.insert("item".into(), i.clone());
        }
        extra
    }

    /// Renders a YAML value; `native` keeps the type of a lone `{{ expr }}`
    /// (a list for `loop`, a bool for `set_fact`), as Ansible does.
    fn render(
        &self,
        node: &Node,
        extra: &IndexMap<String, Value>,
        native: bool,
    ) -> Result<Value, String> {
        Ok(match &node.kind {
            NodeKind::Str(s) => {
                if native {
                    if let Some(expr) = single_expression(s) {
                        return self.vars.eval_with(expr, extra);
                    }
                }
                Value::from(self.vars.render_with(s, extra)?)
            }
            NodeKind::Seq(items) => Value::from(
                items
                    .iter()
                    .map(|n| self.render(n, extra, native))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            NodeKind::Map(entries) => {
                let mut pairs = Vec::new();
                for (k, v) in entries {
                    pairs.push((Value::from(k.key_text()), self.render(v, extra, native)?));
                }
                crate::jinja::literal::dict_from_pairs(pairs)
            }
            _ => crate::model::convert::to_value(node),
        })
    }

    fn condition(&self, c: &Cond, extra: &IndexMap<String, Value>) -> Result<bool, String> {
        let text = match c {
            Cond::Bool(b) => return Ok(*b),
            Cond::Expr { text, .. } => text,
        };
        // Ansible renders a templated condition, then evaluates what it gives
        let rendered = if crate::jinja::has_template_syntax(text) {
            self.vars.render_with(text, extra)?
        } else {
            text.clone()
        };
        if rendered.trim().is_empty() {
            return Ok(true);
        }
        if let Some(b) = condition_word(&rendered) {
            return Ok(b);
        }
        let v = self.vars.eval_with(&rendered, extra)?;
        Ok(match v.kind() {
            ValueKind::String => ansible_bool(&v),
            _ => v.is_true(),
        })
    }

    fn cond_text(c: &Cond) -> String {
        match c {
            Cond::Bool(b) => b.to_string(),
            Cond::Expr { text, .. } => text.trim().to_string(),
        }
    }

    fn emit(&mut self, task: &Task, depth: usize, name: &str, status: String) {
        match &mut self.mode {
            Mode::Describe(lines) => {
                lines.push(format!(
                    "{}task `{name}` ({}): {status}",
                    "  ".repeat(depth),
                    self.file.location(task.span)
                ));
            }
            Mode::Run { log, .. } => log.task(&TaskEvent {
                location: self.file.location(task.span),
                name: name.to_string(),
                status,
            }),
        }
    }

    fn tasks(&mut self, tasks: &[Task], inherited: &[Cond], depth: usize) -> Result<(), TaskError> {
        for task in tasks {
            if self.ended {
                if let Mode::Describe(lines) = &mut self.mode {
                    let name = task.name.clone().unwrap_or_else(|| "(unnamed)".into());
                    lines.push(format!(
                        "{}task `{name}` ({}): not reached after end_play",
                        "  ".repeat(depth),
                        self.file.location(task.span)
                    ));
                    continue;
                }
                return Ok(());
            }
            match self.task(task, inherited, depth) {
                Err(e) if self.lenient => {
                    if let Mode::Describe(lines) = &mut self.mode {
                        lines.push(format!(
                            "{}task `{}` ({}): cannot be listed: {}",
                            "  ".repeat(depth),
                            e.name,
                            e.location,
                            e.message
                        ));
                    }
                }
                other => other?,
            }
        }
        Ok(())
    }

    fn task(&mut self, task: &Task, inherited: &[Cond], depth: usize) -> Result<(), TaskError> {
        let base = self.extra(None);
        let raw_name = task.name.clone().unwrap_or_else(|| match &task.body {
            TaskBody::Block(_) => "block".into(),
            TaskBody::Module { module, .. } => module.name().into(),
        });
        let name = self.vars.render_with(&raw_name, &base).unwrap_or(raw_name);
        let mut conds: Vec<Cond> = inherited.to_vec();
        conds.extend(task.when.iter().cloned());
        if let TaskBody::Block(children) = &task.body {
            if let Mode::Describe(lines) = &mut self.mode {
                lines.push(format!(
                    "{}block `{name}` ({})",
                    "  ".repeat(depth),
                    self.file.location(task.span)
                ));
            }
            return self.tasks(children, &conds, depth + 1);
        }
        let items: Option<Vec<Value>> = match &task.loop_items {
            None => None,
            Some((node, flatten)) => {
                let v = self
                    .render(node, &base, true)
                    .map_err(|e| self.err(task, &name, format!("cannot render the loop: {e}")))?;
                let list: Vec<Value> = match v.kind() {
                    ValueKind::Seq | ValueKind::Iterable => {
                        v.try_iter().map(Iterator::collect).unwrap_or_default()
                    }
                    _ if *flatten => vec![v],
                    _ => {
                        return Err(self.err(
                            task,
                            &name,
                            format!("`loop` needs a list, got `{}`", text_of(&v)),
                        ))
                    }
                };
                let list = if *flatten {
                    list.into_iter()
                        .flat_map(|i| match i.kind() {
                            ValueKind::Seq => i
                                .try_iter()
                                .map(Iterator::collect::<Vec<_>>)
                                .unwrap_or_default(),
                            _ => vec![i],
                        })
                        .collect()
                } else {
                    list
                };
                Some(list)
            }
        };
        match items {
            None => self.one(task, &name, &conds, None, depth),
            Some(list) => {
                if list.is_empty() {
                    self.emit(task, depth, &name, "skipped: the loop is empty".into());
                }
                for item in &list {
                    self.one(task, &name, &conds, Some(item), depth)?;
                    if self.ended {
                        break;
                    }
                }
                Ok(())
            }
        }
    }

    fn one(
        &mut self,
        task: &Task,
        name: &str,
        conds: &[Cond],
        item: Option<&Value>,
        depth: usize,
    ) -> Result<(), TaskError> {
        let extra = self.extra(item);
        let name = match item {
            Some(i) => format!("{name} (item={})", text_of(i)),
            None => name.to_string(),
        };
        for c in conds {
            let holds = self.condition(c, &extra).map_err(|e| {
                self.err(
                    task,
                    &name,
                    format!("cannot evaluate `when: {}`: {e}", Self::cond_text(c)),
                )
            })?;
            if !holds {
                let why = format!("skipped: `when: {}` is false", Self::cond_text(c));
                self.emit(task, depth, &name, why);
                return Ok(());
            }
        }
        let TaskBody::Module {
            module,
            free_form,
            args,
        } = &task.body
        else {
            return Ok(());
        };
        let native = *module == Module::SetFact || *module == Module::Debug;
        let mut rendered: IndexMap<String, Value> = IndexMap::new();
        for (k, v) in args {
            let value = self
                .render(v, &extra, native)
                .map_err(|e| self.err(task, &name, format!("cannot render `{k}`: {e}")))?;
            let value = match (&self.epics_root, value.as_str()) {
                (Some(root), Some(text)) if !native && PATH_ARGS.contains(&k.as_str()) => {
                    under_root(text, root).map_or(value, Value::from)
                }
                _ => value,
            };
            rendered.insert(k.clone(), value);
        }
        let free = match free_form {
            Some(n) => Some(
                self.vars
                    .render_with(n.as_str().unwrap_or_default(), &extra)
                    .map_err(|e| {
                        self.err(task, &name, format!("cannot render the command: {e}"))
                    })?,
            ),
            None => None,
        };
        if let Mode::Describe(_) = self.mode {
            let mut line = module.name().to_string();
            if let Some(f) = &free {
                let _ = write!(line, " {}", show(&Value::from(f.as_str())));
            }
            for (k, v) in &rendered {
                let _ = write!(line, " {k}={}", show(v));
            }
            if *module == Module::SetFact {
                for (k, v) in &rendered {
                    self.facts.insert(k.clone(), v.clone());
                }
            }
            if *module == Module::Meta {
                line.push_str("  # the build ends here");
                self.ended = true;
            }
            self.emit(task, depth, &name, line);
            return Ok(());
        }
        let status = self.execute(task, &name, *module, free.as_deref(), &rendered, &extra)?;
        let status = match (&task.changed_when, status.as_str()) {
            (Some(c), "changed" | "ok") => {
                let changed = self.condition(c, &extra).map_err(|e| {
                    self.err(task, &name, format!("cannot evaluate `changed_when`: {e}"))
                })?;
                if changed { "changed" } else { "ok" }.to_string()
            }
            _ => status,
        };
        self.emit(task, depth, &name, status);
        Ok(())
    }

    fn execute(
        &mut self,
        task: &Task,
        name: &str,
        module: Module,
        free: Option<&str>,
        args: &IndexMap<String, Value>,
        extra: &IndexMap<String, Value>,
    ) -> Result<String, TaskError> {
        let s = |k: &str| args.get(k).map(text_of);
        let flag = |k: &str, default: bool| args.get(k).map_or(default, ansible_bool);
        let fail = |m: String| self.err(task, name, m);
        let mode = match s("mode") {
            Some(m) => Some(files::parse_mode(&m).map_err(&fail)?),
            None => None,
        };
        let changed = |b: bool| {
            if b {
                "changed".to_string()
            } else {
                "ok".to_string()
            }
        };
        match module {
            Module::Shell | Module::Command => self.command(task, name, module, free, args),
            Module::File => file_module(args, mode).map(changed).map_err(fail),
            Module::LineInFile => {
                let path = s("path").or_else(|| s("dest")).unwrap_or_default();
                let insert = match (s("insertafter"), s("insertbefore")) {
                    (Some(a), _) if a == "EOF" => Insert::Eof,
                    (Some(a), _) => Insert::After(a),
                    (None, Some(b)) if b == "BOF" => {
                        return Err(fail("`insertbefore: BOF` is not supported".into()))
                    }
                    (None, Some(b)) => Insert::Before(b),
                    (None, None) => Insert::Eof,
                };
                files::lineinfile(
                    Path::new(&path),
                    s("regexp").as_deref(),
                    &s("line").unwrap_or_default(),
                    &insert,
                    flag("create", false),
                    mode,
                )
                .map(changed)
                .map_err(fail)
            }
            Module::Copy => files::copy(
                s("src").as_deref(),
                s("content").as_deref(),
                &s("dest").unwrap_or_default(),
                flag("force", true),
                mode,
            )
            .map(changed)
            .map_err(fail),
            Module::GetUrl => {
                let Mode::Run { downloader, .. } = &self.mode else {
                    return Ok(String::new());
                };
                files::get_url(
                    &s("url").unwrap_or_default(),
                    &s("dest").unwrap_or_default(),
                    flag("force", false),
                    mode,
                    *downloader,
                )
                .map(changed)
                .map_err(fail)
            }
            Module::Unarchive => {
                let dest = PathBuf::from(s("dest").unwrap_or_default());
                if let Some(creates) = s("creates") {
                    if files::glob_matches(&creates) {
                        return Ok(format!("skipped: `{creates}` exists"));
                    }
                }
                files::unarchive(Path::new(&s("src").unwrap_or_default()), &dest)
                    .map(changed)
                    .map_err(fail)
            }
            Module::SetFact => {
                for (k, v) in args {
                    self.facts.insert(k.clone(), v.clone());
                }
                Ok("ok".into())
            }
            Module::Debug => Ok(match (args.get("msg"), s("var")) {
                (Some(m), _) => format!("debug: {}", text_of(m)),
                (None, Some(var)) => {
                    let v = self
                        .vars
                        .eval_with(&var, extra)
                        .map_err(|e| fail(format!("cannot evaluate `var: {var}`: {e}")))?;
                    format!("debug: {var} = {}", text_of(&v))
                }
                (None, None) => "debug: Hello world!".into(),
            }),
            Module::Meta => {
                self.ended = true;
                Ok("end_play: the build ends here".into())
            }
        }
    }

    /// The `shell` and `command` modules: one process, skipped when `creates:`
    /// matches; a dry run stops before running it.
    fn command(
        &mut self,
        task: &Task,
        name: &str,
        module: Module,
        free: Option<&str>,
        args: &IndexMap<String, Value>,
    ) -> Result<String, TaskError> {
        let s = |k: &str| args.get(k).map(text_of);
        let chdir = s("chdir").map(PathBuf::from);
        if let Some(creates) = s("creates") {
            // relative to `chdir`, as the command module changes directory first
            let p = match &chdir {
                Some(d) => d.join(&creates),
                None => PathBuf::from(&creates),
            };
            if files::glob_matches(&p.display().to_string()) {
                return Ok(format!("skipped: `{creates}` exists"));
            }
        }
        let script = free.map(str::to_string).or_else(|| s("cmd"));
        let mut cmd = if module == Module::Shell {
            let exe = s("executable").unwrap_or_else(|| "/bin/sh".into());
            CommandSpec::new(&exe, ["-c".to_string(), script.unwrap_or_default()])
        } else {
            let words: Vec<String> = match args.get("argv") {
                Some(v) if script.is_none() => v
                    .try_iter()
                    .map(|i| i.map(|w| text_of(&w)).collect())
                    .unwrap_or_default(),
                _ => split_words(&script.unwrap_or_default()),
            };
            let Some((program, rest)) = words.split_first() else {
                return Err(self.err(task, name, "the command is empty".into()));
            };
            CommandSpec::new(program, rest.iter().cloned())
        };
        if let Some(d) = &chdir {
            cmd = cmd.in_dir(d);
        }
        let Mode::Run { runner, .. } = &mut self.mode else {
            return Ok(String::new());
        };
        let out = runner.run(&cmd).map_err(|e| TaskError {
            location: self.file.location(task.span),
            name: name.to_string(),
            message: format!("{e}: {}", e.source),
            code: None,
            tail: Vec::new(),
        })?;
        if out.success {
            Ok("changed".into())
        } else {
            Err(TaskError {
                location: self.file.location(task.span),
                name: name.to_string(),
                message: format!(
                    "`{cmd}` exited with status {}",
                    out.code.map_or_else(|| "?".into(), |c| c.to_string())
                ),
                code: out.code,
                tail: out.tail,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::under_root;

    #[test]
    fn only_a_leading_epics_component_moves() {
        let root = "/tmp/x/epics";
        assert_eq!(
            under_root("/epics/support/pmac/configure/RELEASE", root).as_deref(),
            Some("/tmp/x/epics/support/pmac/configure/RELEASE")
        );
        assert_eq!(under_root("/epics", root).as_deref(), Some("/tmp/x/epics"));
        assert_eq!(under_root("/epicsfoo/bar", root), None);
        assert_eq!(under_root("/opt/epics/support", root), None);
        assert_eq!(under_root("epics/support", root), None);
        // EPICS_ROOT=/ moves `/epics/support` to `/support`, `/epics` to `/`
        assert_eq!(
            under_root("/epics/support", "").as_deref(),
            Some("/support")
        );
        assert_eq!(under_root("/epics", "").as_deref(), Some("/"));
    }
}
