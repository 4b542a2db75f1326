//! The Ansible variable scope an install.yml is rendered in.
//!
//! ibek-support's roles see three layers of variables, later ones winning:
//! `group_vars/all.yml` (paths under `/epics`, `config_linux_host`,
//! `is_linux`, ...), the `support` role's `vars/main.yml` (defaults such as
//! `git_repo: "{{ organization.rstrip('/') }}/{{ module }}"`), and the
//! install.yml itself, loaded with `include_vars`; `-v VERSION` is an extra
//! var above them all. Values are Jinja templates rendered lazily, so a
//! default may refer to a variable the install.yml sets. [`Variables`] keeps
//! that model: each variable is rendered on first use, cycles are reported,
//! and every `/epics` path follows `EPICS_ROOT`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, MutexGuard};

use indexmap::IndexMap;
use minijinja::value::{Enumerator, Object, ObjectRepr, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior};

use super::install::{Flag, InstallFile};
use super::BuildEnv;
use crate::jinja::has_template_syntax;
use crate::model::convert::to_value;

/// The variables of one module's build, rendered on demand.
#[derive(Debug, Clone)]
pub struct Variables {
    scope: Arc<Scope>,
}

#[derive(Debug)]
struct Scope {
    env: Environment<'static>,
    raw: IndexMap<String, Value>,
    cache: Mutex<HashMap<String, Value>>,
    active: Mutex<Vec<String>>,
    failure: Mutex<Option<String>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Ansible's `bool` filter: `yes`, `on`, `1`, `true` (any case) are true.
pub fn ansible_bool(v: &Value) -> bool {
    match v.kind() {
        ValueKind::Bool => v.is_true(),
        ValueKind::String => matches!(
            v.as_str()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
                .as_str(),
            "yes" | "on" | "1" | "true" | "y" | "t"
        ),
        ValueKind::Number => v.as_i64() == Some(1),
        _ => false,
    }
}

/// Reads a rendered condition as Ansible does: a boolean word, or an error.
pub(crate) fn condition_word(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" | "y" | "t" => Some(true),
        "false" | "no" | "off" | "0" | "n" | "f" | "none" => Some(false),
        _ => None,
    }
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Ansible keeps a block's trailing newline
    if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .build()
    {
        env.set_syntax(syntax);
    }
    // values print as Python prints them: Ansible renders `{{ is_rtems }}` as `False`
    env.set_formatter(|out, _state, value| {
        let text = crate::jinja::pyfmt::py_str(value)?;
        out.write_str(&text)
            .map_err(|_| Error::new(ErrorKind::WriteFailure, "failed to write output"))
    });
    env.set_unknown_method_callback(crate::jinja::methods::unknown_method);
    // hostile install files end with an error, not a hang (README, "Limits")
    env.set_fuel(Some(crate::limits::get().template_fuel));
    crate::jinja::filters::register(&mut env);
    env.add_filter("bool", |v: Value| ansible_bool(&v));
    env.add_filter("basename", |s: String| {
        s.rsplit('/').next().unwrap_or_default().to_string()
    });
    env.add_filter("dirname", |s: String| match s.rfind('/') {
        Some(0) => "/".to_string(),
        Some(i) => s[..i].to_string(),
        None => String::new(),
    });
    env
}

impl Object for Scope {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        match self.resolve(name) {
            Ok(v) => v,
            Err(message) => {
                lock(&self.failure).get_or_insert(message);
                None
            }
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.raw.keys().map(|k| Value::from(k.as_str())).collect())
    }
}

impl Scope {
    fn resolve(self: &Arc<Self>, name: &str) -> Result<Option<Value>, String> {
        if let Some(v) = lock(&self.cache).get(name) {
            return Ok(Some(v.clone()));
        }
        let Some(raw) = self.raw.get(name) else {
            return Ok(None);
        };
        let value = match raw.as_str() {
            Some(text) if has_template_syntax(text) => {
                if lock(&self.active).iter().any(|n| n == name) {
                    return Err(format!("variable `{name}` refers to itself"));
                }
                lock(&self.active).push(name.to_string());
                let out = self.render(text);
                lock(&self.active).pop();
                Value::from(out.map_err(|e| format!("in variable `{name}`: {e}"))?)
            }
            _ => raw.clone(),
        };
        lock(&self.cache).insert(name.to_string(), value.clone());
        Ok(Some(value))
    }

    fn render(self: &Arc<Self>, text: &str) -> Result<String, String> {
        crate::jinja::bounds::check_expression_depth(text).map_err(|e| self.explain(text, &e))?;
        let ctx = Value::from_dyn_object(self.clone());
        self.env
            .render_str(text, ctx)
            .map_err(|e| self.explain(text, &e))
    }

    fn eval(self: &Arc<Self>, expr: &str) -> Result<Value, String> {
        let wrapped = format!("{{{{ {expr} }}}}");
        crate::jinja::bounds::check_expression_depth(&wrapped)
            .map_err(|e| self.explain(expr, &e))?;
        let ctx = Value::from_dyn_object(self.clone());
        let compiled = self
            .env
            .compile_expression(expr)
            .map_err(|e| self.explain(expr, &e))?;
        compiled.eval(ctx).map_err(|e| self.explain(expr, &e))
    }

    /// The message for a failed render: a failure inside a variable first,
    /// then an undefined name with a suggestion, then minijinja's words.
    fn explain(&self, text: &str, e: &Error) -> String {
        self.explain_with(text, e, &IndexMap::new())
    }

    /// [`Scope::explain`] knowing the task-time names too.
    fn explain_with(&self, text: &str, e: &Error, extra: &IndexMap<String, Value>) -> String {
        if let Some(inner) = lock(&self.failure).take() {
            return inner;
        }
        if e.kind() == ErrorKind::UndefinedError {
            let used = self
                .env
                .template_from_str(text)
                .map(|t| t.undeclared_variables(false))
                .or_else(|_| {
                    self.env
                        .compile_expression(text)
                        .map(|x| x.undeclared_variables(false))
                })
                .unwrap_or_default();
            let mut unknown: Vec<&String> = used
                .iter()
                .filter(|n| !self.raw.contains_key(*n) && !extra.contains_key(*n))
                .collect();
            unknown.sort();
            if let Some(name) = unknown.first() {
                let mut msg = format!("undefined variable `{name}`");
                if let Some(c) = crate::diag::closest(name, self.raw.keys().map(String::as_str)) {
                    let _ = write!(msg, " (did you mean `{c}`?)");
                }
                return msg;
            }
        }
        let mut msg = e.kind().to_string();
        if let Some(detail) = e.detail() {
            let _ = write!(msg, ": {detail}");
        }
        msg
    }
}

/// The role's scope under task-time names: facts of `set_fact` and the loop
/// `item` shadow the role's variables, as Ansible's precedence has it.
#[derive(Debug)]
struct Layered {
    extra: IndexMap<String, Value>,
    scope: Arc<Scope>,
}

impl Object for Layered {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        if let Some(v) = self.extra.get(name) {
            return Some(v.clone());
        }
        self.scope.get_value(key)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let mut keys: Vec<Value> = self.extra.keys().map(|k| Value::from(k.as_str())).collect();
        keys.extend(self.scope.raw.keys().map(|k| Value::from(k.as_str())));
        Enumerator::Values(keys)
    }
}

impl Variables {
    /// A scope over these raw values (strings may be templates).
    pub fn new(raw: IndexMap<String, Value>) -> Self {
        Variables {
            scope: Arc::new(Scope {
                env: environment(),
                raw,
                cache: Mutex::new(HashMap::new()),
                active: Mutex::new(Vec::new()),
                failure: Mutex::new(None),
            }),
        }
    }

    /// ibek-support's variables for one module: group vars, role defaults,
    /// the install.yml's own entries, then the `-v` version override.
    pub fn for_install(file: &InstallFile, env: &BuildEnv, version: Option<&str>) -> Self {
        let mut raw: IndexMap<String, Value> = IndexMap::new();
        group_vars(&mut raw, env);
        role_vars(&mut raw, env);
        // the install.yml (include_vars beats role vars)
        for (k, node) in &file.variables {
            raw.insert(k.clone(), to_value(node));
        }
        if let Some(v) = version {
            raw.insert("version".into(), Value::from(v));
        }
        Variables::new(raw)
    }

    /// The rendered value of a variable (`None` when there is no such variable).
    pub fn get(&self, name: &str) -> Result<Option<Value>, String> {
        lock(&self.scope.failure).take();
        self.scope.resolve(name)
    }

    /// A variable rendered to a string.
    pub fn get_str(&self, name: &str) -> Result<Option<String>, String> {
        Ok(self
            .get(name)?
            .map(|v| crate::jinja::pyfmt::py_str(&v).unwrap_or_else(|_| v.to_string())))
    }

    /// Renders a string; text without template syntax comes back unchanged.
    pub fn render(&self, text: &str) -> Result<String, String> {
        if !has_template_syntax(text) {
            return Ok(text.to_string());
        }
        lock(&self.scope.failure).take();
        self.scope.render(text)
    }

    /// Renders a string with task-time variables (`item`, facts) over the scope.
    pub fn render_with(
        &self,
        text: &str,
        extra: &IndexMap<String, Value>,
    ) -> Result<String, String> {
        if !has_template_syntax(text) {
            return Ok(text.to_string());
        }
        lock(&self.scope.failure).take();
        let ctx = self.layered(extra);
        self.scope
            .env
            .render_str(text, ctx)
            .map_err(|e| self.scope.explain_with(text, &e, extra))
    }

    /// Evaluates a Jinja expression (a `when:` condition) with task-time variables.
    pub fn eval_with(&self, expr: &str, extra: &IndexMap<String, Value>) -> Result<Value, String> {
        lock(&self.scope.failure).take();
        let ctx = self.layered(extra);
        let compiled = self
            .scope
            .env
            .compile_expression(expr)
            .map_err(|e| self.scope.explain_with(expr, &e, extra))?;
        compiled
            .eval(ctx)
            .map_err(|e| self.scope.explain_with(expr, &e, extra))
    }

    fn layered(&self, extra: &IndexMap<String, Value>) -> Value {
        Value::from_object(Layered {
            extra: extra.clone(),
            scope: self.scope.clone(),
        })
    }

    /// Evaluates a condition as ibek-support's roles do. A YAML bool is
    /// itself; a template is rendered and read as a boolean word; a bare
    /// expression (`is_linux`) is evaluated as Ansible's `when:` would; an
    /// empty string means no condition, so `default` applies.
    pub fn flag(&self, flag: Option<&Flag>, default: bool) -> Result<bool, String> {
        let text = match flag {
            None => return Ok(default),
            Some(Flag::Bool(b)) => return Ok(*b),
            Some(Flag::Text(t)) => t.value.as_str(),
        };
        if text.trim().is_empty() {
            return Ok(default);
        }
        if has_template_syntax(text) {
            let out = self.render(text)?;
            return condition_word(&out)
                .ok_or_else(|| format!("the condition renders to `{out}`, not true or false"));
        }
        if let Some(b) = condition_word(text) {
            return Ok(b);
        }
        lock(&self.scope.failure).take();
        let v = self.scope.eval(text)?;
        Ok(match v.as_str() {
            Some(s) => condition_word(s)
                .ok_or_else(|| format!("the condition gives `{s}`, not true or false"))?,
            None => v.is_true(),
        })
    }
}

/// ibek-support's `group_vars/all.yml`: the folders and files of the EPICS tree and
/// the target's flags.
fn group_vars(raw: &mut IndexMap<String, Value>, env: &BuildEnv) {
    let path = |p: &std::path::Path| Value::from(p.display().to_string());
    let ibek_support_root = env
        .ibek_support_folder
        .parent()
        .unwrap_or(&env.ibek_support_folder)
        .to_path_buf();
    let all_root = ibek_support_root
        .parent()
        .unwrap_or(&ibek_support_root)
        .to_path_buf();
    raw.insert("all_root".into(), path(&all_root));
    raw.insert("ibek_support_root".into(), path(&ibek_support_root));
    raw.insert("ibek_support_folder".into(), path(&env.ibek_support_folder));
    raw.insert(
        "ansible_root".into(),
        path(&ibek_support_root.join("_ansible")),
    );
    raw.insert("epics_folder".into(), path(&env.epics_root));
    raw.insert("support_folder".into(), path(&env.support()));
    raw.insert("configure_folder".into(), path(&env.configure()));
    raw.insert(
        "modules_file".into(),
        path(&env.configure().join("MODULES")),
    );
    raw.insert("release_file".into(), path(&env.release_file()));
    raw.insert("release_shell_file".into(), path(&env.release_shell_file()));
    raw.insert("runtime_files_file".into(), path(&env.runtime_files_list()));
    raw.insert("libs_list".into(), path(&env.lib_list()));
    raw.insert("dbds_list".into(), path(&env.dbd_list()));
    // ibek-support spells it this way
    raw.insert(
        "rutime_folder".into(),
        path(&env.epics_root.join("runtime")),
    );
    raw.insert("ibek_defs_folder".into(), path(&env.ibek_defs()));
    raw.insert("pvi_defs_folder".into(), path(&env.pvi_defs()));
    raw.insert("autosave_folder".into(), path(&env.autosave()));
    raw.insert("protocol_folder".into(), path(&env.protocol()));
    raw.insert(
        "config_linux_host".into(),
        Value::from("configure/CONFIG_SITE.linux-x86_64.Common"),
    );
    raw.insert(
        "config_linux_target".into(),
        Value::from("configure/CONFIG_SITE.Common.linux-x86_64"),
    );
    raw.insert("target_arch".into(), Value::from(env.target_arch.as_str()));
    raw.insert("is_rtems".into(), Value::from(env.is_rtems()));
    raw.insert("is_linux".into(), Value::from(env.is_linux()));
    raw.insert("force_build".into(), Value::from(false));
    raw.insert("force_clone".into(), Value::from(false));
}

/// ibek-support's `roles/support/vars/main.yml`: the role's defaults for every
/// install.yml entry.
fn role_vars(raw: &mut IndexMap<String, Value>, env: &BuildEnv) {
    raw.insert(
        "organization".into(),
        Value::from("https://github.com/epics-modules"),
    );
    raw.insert(
        "git_repo".into(),
        Value::from("{{ organization.rstrip('/') }}/{{ module }}"),
    );
    raw.insert(
        "macro".into(),
        Value::from("{{ module | replace('-', '_') | upper }}"),
    );
    raw.insert(
        "make_options".into(),
        Value::from("-j{{ ansible_processor_vcpus }}"),
    );
    raw.insert(
        "ansible_processor_vcpus".into(),
        Value::from(env.vcpus as u64),
    );
    raw.insert(
        "local_path".into(),
        Value::from("{{ support_folder }}/{{ module }}"),
    );
    for list in [
        "dbds",
        "libs",
        "protocol_files",
        "remove_macros",
        "apt_developer",
        "apt_runtime",
        "download_extras",
        "runtime_files",
        "comment_out",
        "patch_lines",
        "patch_blocks",
        "scripts",
        "tasks",
        "bash",
        "remove_files_prebuild",
    ] {
        raw.insert(list.into(), Value::from(Vec::<Value>::new()));
    }
    raw.insert(
        "extra_release_macros".into(),
        Value::from_pairs(Vec::<(String, Value)>::new()),
    );
    raw.insert("skip_clean".into(), Value::from(env.skip_clean));
    raw.insert("skip_apt".into(), Value::from(env.skip_apt));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Pos, Span};

    fn vars(pairs: &[(&str, Value)]) -> Variables {
        Variables::new(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_string(), v.clone()))
                .collect(),
        )
    }

    fn text(s: &str) -> Flag {
        let p = Pos {
            line: 1,
            col: 0,
            index: 0,
        };
        Flag::Text(super::super::install::Text {
            value: s.into(),
            span: Span { start: p, end: p },
        })
    }

    #[test]
    fn defaults_refer_to_later_layers() {
        let v = vars(&[
            ("organization", Value::from("https://github.com/org/")),
            (
                "git_repo",
                Value::from("{{ organization.rstrip('/') }}/{{ module }}"),
            ),
            (
                "macro",
                Value::from("{{ module | replace('-', '_') | upper }}"),
            ),
            ("module", Value::from("my-mod")),
        ]);
        assert_eq!(
            v.get_str("git_repo").unwrap().unwrap(),
            "https://github.com/org/my-mod"
        );
        assert_eq!(v.get_str("macro").unwrap().unwrap(), "MY_MOD");
    }

    #[test]
    fn cycles_and_undefined_names_are_reported() {
        let v = vars(&[("a", Value::from("{{ b }}")), ("b", Value::from("{{ a }}"))]);
        let e = v.get("a").unwrap_err();
        assert!(e.contains("refers to itself"), "{e}");
        let v = vars(&[("config_linux_host", Value::from("c"))]);
        let e = v.render("{{ config_linux_hots }}").unwrap_err();
        assert!(e.contains("undefined variable `config_linux_hots`"), "{e}");
        assert!(e.contains("did you mean `config_linux_host`?"), "{e}");
    }

    #[test]
    fn conditions_follow_ansible() {
        let v = vars(&[
            ("is_rtems", Value::from(false)),
            ("is_linux", Value::from(true)),
        ]);
        assert!(!v.flag(Some(&text("{{ is_rtems }}")), true).unwrap());
        assert!(!v.flag(Some(&text("{{ is_rtems | bool }}")), true).unwrap());
        assert!(v.flag(Some(&text("{{ is_linux }}")), false).unwrap());
        assert!(v.flag(Some(&text("is_linux")), false).unwrap());
        assert!(!v.flag(Some(&text("not is_linux")), true).unwrap());
        assert!(v.flag(Some(&text("yes")), false).unwrap());
        assert!(v.flag(Some(&text("")), true).unwrap());
        assert!(!v.flag(None, false).unwrap());
        assert!(v.flag(Some(&text("{{ 'maybe' }}")), true).is_err());
    }
}
