//! The ibek-compatible template engine: minijinja plus `CPython`'s idioms.
//!
//! ibek renders every string of an entity with Jinja2 under
//! `StrictUndefined`, with the `_global` helper object (`get_env`, `set`,
//! `get`, `incrementor`), the variables made with `_global.set` spread into
//! the context, `ioc_name`, `ioc_yaml_file_name` and the read-only `env`
//! mapping. [`Engine`] does the same on minijinja: templates are rewritten
//! for Python operator semantics (`rewrite.rs`), values print as Python
//! prints them (`pyfmt.rs`), Python methods and Jinja2 filters are added
//! (`methods.rs`, `filters.rs`), and typed results are recovered with
//! `ast.literal_eval` (`literal.rs`) exactly where ibek does it.

pub mod bounds;
pub mod filters;
pub mod literal;
pub mod methods;
pub mod names;
pub mod objects;
pub mod ops;
pub mod percent;
pub mod pyfmt;
pub mod pyformat;
pub mod rewrite;

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use indexmap::IndexMap;
use minijinja::value::{Enumerator, Object, ObjectRepr, Rest, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State, UndefinedBehavior};
use regex::Regex;

pub use minijinja;
pub use objects::{PyDict, PyList, PyRange, Record};

/// A template that failed to compile or render.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    /// What went wrong, in the engine's words.
    pub message: String,
    /// The 1-based line of the template where it went wrong, when known.
    pub line: Option<usize>,
    /// Whether the template could not even be parsed.
    pub syntax: bool,
    /// What to do about it, when we can tell.
    pub hint: Option<String>,
}

impl TemplateError {
    fn from_minijinja(e: &Error) -> Self {
        let mut message = match e.detail() {
            Some(d) => d.to_string(),
            None => e.kind().to_string(),
        };
        for (helper, op) in [
            ("__ifg_mod", "%"),
            ("__ifg_add", "+"),
            ("__ifg_sub", "-"),
            ("__ifg_mul", "*"),
            ("__ifg_div", "/"),
            ("__ifg_floordiv", "//"),
            ("__ifg_pow", "**"),
            ("__ifg_concat", "~"),
        ] {
            message = message.replace(helper, &format!("operator `{op}`"));
        }
        let kind = e.kind();
        if kind == ErrorKind::UndefinedError && !message.contains('`') {
            message = "a variable used here is undefined".to_string();
        }
        TemplateError {
            message,
            line: e.line(),
            syntax: kind == ErrorKind::SyntaxError,
            hint: None,
        }
    }

    /// Adds the hint to a diagnostic built from this error.
    pub fn hint_into(&self, d: crate::diag::Diagnostic) -> crate::diag::Diagnostic {
        match &self.hint {
            Some(h) => d.with_hint(h.clone()),
            None => d,
        }
    }

    /// A failure that is not the engine's (a literal that does not evaluate, a counter past its stop).
    pub fn other(message: impl Into<String>) -> Self {
        TemplateError {
            message: message.into(),
            line: None,
            syntax: false,
            hint: None,
        }
    }
}

/// ibek's `UTILS` singleton: state shared by every render of one run.
#[derive(Debug)]
pub struct Globals {
    // copy-on-write: every render takes a snapshot, `set` rarely has to copy
    variables: Mutex<Arc<IndexMap<String, Value>>>,
    file_name: Mutex<Value>,
    ioc_name: Mutex<Value>,
    // the environment `get_env` reads: given by the caller, never the process's
    environment: Mutex<Arc<crate::layout::Environment>>,
}

impl Default for Globals {
    fn default() -> Self {
        // ibek starts with empty strings, not undefined names
        Globals {
            variables: Mutex::default(),
            file_name: Mutex::new(Value::from("")),
            ioc_name: Mutex::new(Value::from("")),
            environment: Mutex::default(),
        }
    }
}

use objects::lock;

impl Globals {
    /// Sets `ioc_yaml_file_name` (the stem of the first instance file).
    pub fn set_file_name(&self, stem: &str) {
        *lock(&self.file_name) = Value::from(stem);
    }

    /// Sets `ioc_name`.
    pub fn set_ioc_name(&self, name: &str) {
        *lock(&self.ioc_name) = Value::from(name);
    }

    /// The current `ioc_name`.
    pub fn ioc_name(&self) -> String {
        lock(&self.ioc_name)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Whether `_global.set` has made a variable of this name.
    pub fn has_variable(&self, name: &str) -> bool {
        lock(&self.variables).contains_key(name)
    }

    fn snapshot(&self) -> Arc<IndexMap<String, Value>> {
        lock(&self.variables).clone()
    }

    fn incrementor(&self, args: &[Value]) -> Result<Value, Error> {
        let (pos, kwargs) = methods::split_kwargs(args);
        let get = |i: usize, name: &str| -> Option<Value> {
            kwargs
                .as_ref()
                .and_then(|k| k.peek::<Value>(name).ok())
                .or_else(|| pos.get(i).cloned())
        };
        let name = get(0, "name").ok_or_else(|| {
            Error::new(
                ErrorKind::MissingArgument,
                "incrementor() missing 1 required positional argument: 'name'",
            )
        })?;
        let index = pyfmt::py_str(&name)?;
        let start = get(1, "start").unwrap_or(Value::from(0));
        let increment = get(2, "increment").unwrap_or(Value::from(1));
        let stop = get(3, "stop").filter(|s| !s.is_none());
        let mut guard = lock(&self.variables);
        let vars = Arc::make_mut(&mut guard);
        match vars.get(&index).cloned() {
            None => {
                vars.insert(index.clone(), start);
            }
            Some(v) if v.is_none() => {
                vars.insert(index.clone(), start);
            }
            Some(counter) => {
                if !matches!(pyfmt::as_num(&counter), Some(pyfmt::Num::Int(_))) {
                    return Err(Error::new(
                        ErrorKind::InvalidOperation,
                        format!("Variable {index} is not an integer"),
                    ));
                }
                let next = ops::add(&counter, &increment)?;
                vars.insert(index.clone(), next.clone());
                if let Some(stop) = stop {
                    let over = match (pyfmt::as_num(&next), pyfmt::as_num(&stop)) {
                        (Some(a), Some(b)) => num_gt(a, b),
                        _ => false,
                    };
                    if over {
                        return Err(Error::new(
                            ErrorKind::InvalidOperation,
                            format!(
                                "Counter {index} exceeded maximum value of {}",
                                pyfmt::py_str(&stop)?
                            ),
                        ));
                    }
                }
            }
        }
        Ok(vars.get(&index).cloned().unwrap_or_default())
    }
}

fn num_gt(a: pyfmt::Num, b: pyfmt::Num) -> bool {
    use pyfmt::Num;
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => x > y,
        (Num::Int(x), Num::Float(y)) => (x as f64) > y,
        (Num::Float(x), Num::Int(y)) => x > y as f64,
        (Num::Float(x), Num::Float(y)) => x > y,
    }
}

impl Object for Globals {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "variables" => Some(Value::from_pairs(self.snapshot().as_ref().clone())),
            "file_name" => Some(lock(&self.file_name).clone()),
            "ioc_name" => Some(lock(&self.ioc_name).clone()),
            _ => None,
        }
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let (pos, kwargs) = methods::split_kwargs(args);
        let arg = |i: usize, name: &str| -> Option<Value> {
            kwargs
                .as_ref()
                .and_then(|k| k.peek::<Value>(name).ok())
                .or_else(|| pos.get(i).cloned())
        };
        let missing = |name: &str| {
            Error::new(
                ErrorKind::MissingArgument,
                format!("{method}() missing 1 required positional argument: '{name}'"),
            )
        };
        match method {
            "get_env" => {
                let key = arg(0, "key").ok_or_else(|| missing("key"))?;
                let key = pyfmt::py_str(&key)?;
                let env = Arc::clone(&lock(&self.environment));
                Ok(Value::from(env.get(&key).unwrap_or_default()))
            }
            "set" => {
                let key = pyfmt::py_str(&arg(0, "key").ok_or_else(|| missing("key"))?)?;
                let value = arg(1, "value").ok_or_else(|| missing("value"))?;
                Arc::make_mut(&mut lock(&self.variables)).insert(key, value.clone());
                Ok(value)
            }
            "get" => {
                let key = pyfmt::py_str(&arg(0, "key").ok_or_else(|| missing("key"))?)?;
                let default = arg(1, "default").unwrap_or(Value::from(""));
                Ok(lock(&self.variables).get(&key).cloned().unwrap_or(default))
            }
            "incrementor" => self.incrementor(args),
            _ => Err(Error::new(
                ErrorKind::UnknownMethod,
                format!("'Utils' object has no attribute '{method}'"),
            )),
        }
    }
}

/// The caller's environment as Jinja2's read-only `env` mapping.
#[derive(Debug, Default)]
pub struct EnvMap(Arc<crate::layout::Environment>);

impl Object for EnvMap {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.0.get(key.as_str()?).map(Value::from)
    }

    // ibek passes `MappingProxyType(os.environ)`: `env.NAME` and `env['NAME']`
    // stay, but printing or iterating the whole mapping would copy every
    // secret of the container into st.cmd, so it is refused (README,
    // "Differences from ibek")
    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::NonEnumerable
    }
}

/// The variables a template sees besides ibek's keyword arguments.
#[derive(Debug, Clone, Default)]
pub enum Scope {
    /// Nothing (the `ioc_name` render).
    #[default]
    Empty,
    /// The attributes of an entity.
    Record(Arc<Record>),
    /// A plain mapping (sub-entity and repeat contexts).
    Map(Arc<IndexMap<String, Value>>),
}

impl Scope {
    fn get(&self, name: &str) -> Option<Value> {
        match self {
            Scope::Empty => None,
            Scope::Record(r) => r.get(name),
            Scope::Map(m) => m.get(name).cloned(),
        }
    }

    fn keys(&self) -> Vec<String> {
        match self {
            Scope::Empty => Vec::new(),
            Scope::Record(r) => r.fields().keys().cloned().collect(),
            Scope::Map(m) => m.keys().cloned().collect(),
        }
    }
}

/// `dict(context, _global=UTILS, **UTILS.variables, ioc_yaml_file_name=..., ioc_name=...)`.
#[derive(Debug)]
struct RenderContext {
    scope: Scope,
    globals: Arc<Globals>,
    variables: Arc<IndexMap<String, Value>>,
    file_name: Value,
    ioc_name: Value,
}

impl Object for RenderContext {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        match name {
            "ioc_name" => return Some(self.ioc_name.clone()),
            "ioc_yaml_file_name" => return Some(self.file_name.clone()),
            "_global" => return Some(Value::from_dyn_object(self.globals.clone())),
            _ => {}
        }
        if let Some(v) = self.variables.get(name) {
            return Some(v.clone());
        }
        self.scope.get(name)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let mut keys: Vec<Value> = self.scope.keys().into_iter().map(Value::from).collect();
        keys.extend(self.variables.keys().map(|k| Value::from(k.as_str())));
        for k in ["_global", "ioc_yaml_file_name", "ioc_name"] {
            keys.push(Value::from(k));
        }
        Enumerator::Values(keys)
    }
}

/// Matches ibek's `\| *([a-z]*) *}}`: a template whose first filter-before-close
/// is `int`, `float`, `bool`, `list` or `dict` has its result literal-evaluated.
static TYPE_SUFFIX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\| *([a-z]*) *\}\}").expect("static regex"));

const COERCIBLE: &[&str] = &["int", "float", "bool", "list", "dict"];

/// The type a template's result is coerced to when no type is given (ibek's suffix rule).
pub fn suffix_type(text: &str) -> Option<&str> {
    TYPE_SUFFIX
        .captures(text)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str())
        .filter(|t| COERCIBLE.contains(t))
}

/// Whether a string holds template syntax at all.
pub fn has_template_syntax(text: &str) -> bool {
    text.contains("{{") || text.contains("{%") || text.contains("{#")
}

fn normalize_newlines(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\r') {
        std::borrow::Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// The template engine with ibek's environment and one run's shared state.
pub struct Engine {
    env: Environment<'static>,
    compiled: HashMap<String, String>,
    globals: Arc<Globals>,
    limits: crate::limits::Limits,
    // fuel left for the rest of this run (every render together)
    run_fuel: u64,
}

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}

impl Engine {
    /// An engine with fresh `_global` state.
    pub fn new() -> Engine {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_debug(false);
        env.set_formatter(|out, _state, value| {
            let text = pyfmt::py_str(value)?;
            out.write_str(&text)
                .map_err(|_| Error::new(ErrorKind::WriteFailure, "failed to write output"))
        });
        env.set_unknown_method_callback(methods::unknown_method);
        filters::register(&mut env);
        env.add_function("__ifg_add", |a: Value, b: Value| ops::add(&a, &b));
        env.add_function("__ifg_sub", |a: Value, b: Value| ops::sub(&a, &b));
        env.add_function("__ifg_mul", |a: Value, b: Value| ops::mul(&a, &b));
        env.add_function("__ifg_div", |a: Value, b: Value| ops::truediv(&a, &b));
        env.add_function("__ifg_floordiv", |a: Value, b: Value| ops::floordiv(&a, &b));
        env.add_function("__ifg_mod", |a: Value, b: Value| ops::modulo(&a, &b));
        env.add_function("__ifg_pow", |a: Value, b: Value| ops::pow(&a, &b));
        env.add_function("__ifg_concat", |a: Value, b: Value| ops::concat(&a, &b));
        env.add_function("__ifg_neg", |a: Value| ops::neg(&a));
        env.add_function("__ifg_list", |items: Rest<Value>| {
            Ok::<_, Error>(PyList::new_value(items.0))
        });
        env.add_function("__ifg_dict", |items: Rest<Value>| {
            let pairs = items
                .0
                .chunks(2)
                .map(|kv| (kv[0].clone(), kv.get(1).cloned().unwrap_or_default()))
                .collect::<Vec<_>>();
            Ok::<_, Error>(literal::dict_from_pairs(pairs))
        });
        env.add_function("dict", py_dict);
        env.add_function("range", py_range);
        env.add_global("env", Value::from_object(EnvMap::default()));
        let limits = crate::limits::get();
        Engine {
            env,
            compiled: HashMap::new(),
            globals: Arc::new(Globals::default()),
            limits,
            run_fuel: limits.run_fuel,
        }
    }

    /// The environment templates see (`env`, `_global.get_env`); empty until set.
    pub fn set_environment(&mut self, environment: &crate::layout::Environment) {
        let environment = Arc::new(environment.clone());
        *lock(&self.globals.environment) = Arc::clone(&environment);
        self.env
            .add_global("env", Value::from_object(EnvMap(environment)));
    }

    /// The shared `_global` state.
    pub fn globals(&self) -> &Arc<Globals> {
        &self.globals
    }

    fn compile(&mut self, source: &str) -> Result<String, TemplateError> {
        if let Some(name) = self.compiled.get(source) {
            return Ok(name.clone());
        }
        bounds::check_expression_depth(source).map_err(|e| TemplateError::from_minijinja(&e))?;
        let rewritten = rewrite::rewrite(source).map_err(|e| TemplateError::from_minijinja(&e))?;
        let name = format!("t{}", self.compiled.len());
        self.env
            .add_template_owned(name.clone(), rewritten)
            .map_err(|e| TemplateError::from_minijinja(&e))?;
        self.compiled.insert(source.to_string(), name.clone());
        Ok(name)
    }

    /// Checks that a template parses, as Jinja2 would on first render.
    pub fn check_syntax(&mut self, text: &str) -> Result<(), TemplateError> {
        let text = normalize_newlines(text);
        if has_template_syntax(&text) {
            self.compile(&text)?;
        }
        Ok(())
    }

    /// Renders a template to text (Jinja2's `Template.render`).
    pub fn render_str(&mut self, text: &str, scope: &Scope) -> Result<String, TemplateError> {
        let text = normalize_newlines(text);
        if !has_template_syntax(&text) {
            // Jinja2 drops one trailing newline of the source (keep_trailing_newline=False)
            return Ok(text.strip_suffix('\n').unwrap_or(&text).to_string());
        }
        let name = self.compile(&text)?;
        let ctx = RenderContext {
            scope: scope.clone(),
            globals: self.globals.clone(),
            variables: self.globals.snapshot(),
            file_name: lock(&self.globals.file_name).clone(),
            ioc_name: lock(&self.globals.ioc_name).clone(),
        };
        let ctx = Arc::new(ctx);
        let fuel = self.limits.template_fuel.min(self.run_fuel);
        self.env.set_fuel(Some(fuel));
        let template = self
            .env
            .get_template(&name)
            .map_err(|e| TemplateError::from_minijinja(&e))?;
        let started = std::time::Instant::now();
        match template.render_captured(Value::from_dyn_object(ctx.clone())) {
            Ok(captured) => {
                let used = captured.state().fuel_levels().map_or(0, |(used, _)| used);
                self.run_fuel = self.run_fuel.saturating_sub(used);
                Ok(captured.into_output())
            }
            Err(e) => {
                // the state is gone with the error, and with it the fuel count:
                // charge the time it took instead, at 20 fuel a microsecond (a
                // fast machine's pace), so failing renders cannot loop unbounded
                let used = if e.kind() == ErrorKind::OutOfFuel {
                    fuel
                } else {
                    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                    micros.saturating_mul(20).min(fuel)
                };
                self.run_fuel = self.run_fuel.saturating_sub(used);
                let mut err = TemplateError::from_minijinja(&e);
                if e.kind() == ErrorKind::OutOfFuel {
                    err.message = self.out_of_fuel_message(fuel);
                } else if e.kind() == ErrorKind::UndefinedError {
                    self.name_undefined(&text, &ctx, &mut err);
                }
                Err(err)
            }
        }
    }

    fn out_of_fuel_message(&self, fuel: u64) -> String {
        if fuel < self.limits.template_fuel {
            format!(
                "the templates of this run did more work than iocforge allows for one run \
                 ({} fuel); raise it with IOCFORGE_LIMITS=run-fuel=N",
                self.limits.run_fuel
            )
        } else {
            format!(
                "the template did more work than iocforge allows for one render ({fuel} fuel: \
                 about that many steps, or 64 bytes of data each); raise it with \
                 IOCFORGE_LIMITS=template-fuel=N"
            )
        }
    }

    /// Replaces minijinja's "undefined value" with the name Jinja2 would give.
    fn name_undefined(&self, text: &str, ctx: &Arc<RenderContext>, err: &mut TemplateError) {
        let mut known: Vec<String> = ctx.scope.keys();
        known.extend(ctx.variables.keys().cloned());
        known.extend(["_global", "ioc_name", "ioc_yaml_file_name"].map(String::from));
        let globals: Vec<String> = self.env.globals().map(|(k, _)| k.to_string()).collect();
        let missing = names::free_names(text).into_iter().find(|n| {
            !known.contains(n)
                && !globals.contains(n)
                && ctx.get_value(&Value::from(n.as_str())).is_none()
        });
        match missing {
            Some(name) => {
                err.message = format!("'{name}' is undefined");
                let visible: Vec<&str> = known
                    .iter()
                    .map(String::as_str)
                    .filter(|k| !k.starts_with('_') || *k == "_global")
                    .collect();
                err.hint = Some(match crate::diag::closest(&name, visible.iter().copied()) {
                    Some(c) => format!("did you mean `{c}`?"),
                    None if name == "__utils__" => "ibek 4 calls the helper object `_global` (`_global.get_env(...)`), not `__utils__`".to_string(),
                    None => format!("the names available here are: {}", visible.join(", ")),
                });
            }
            None => {
                err.message = "an attribute or item used here is undefined".into();
            }
        }
    }

    /// ibek's `UTILS.render(context, value, typ)`: strings are rendered and
    /// then coerced to `typ` (or to the type named by a `| int }}` style
    /// suffix when no type is given); lists are rendered item by item;
    /// anything else is returned as it is.
    pub fn render_value(
        &mut self,
        value: &Value,
        scope: &Scope,
        typ: Option<&str>,
    ) -> Result<Value, TemplateError> {
        if let Some(list) = value.downcast_object_ref::<PyList>() {
            let items = list.snapshot();
            let mut out = Vec::with_capacity(items.len());
            for item in &items {
                out.push(self.render_value(item, scope, None)?);
            }
            return Ok(PyList::new_value(out));
        }
        let Some(text) = value.as_str() else {
            return Ok(value.clone());
        };
        let rendered = self.render_str(text, scope)?;
        let target = match typ {
            Some(t) => Some(t).filter(|t| COERCIBLE.contains(t)),
            None => suffix_type(text),
        };
        match target {
            Some(t) => literal::coerce(&rendered, t).map_err(|e| TemplateError::other(e.0)),
            None => Ok(Value::from(rendered)),
        }
    }
}

/// Jinja2's `dict(...)` global (Python's `dict`).
fn py_dict(args: Rest<Value>) -> Result<Value, Error> {
    let (pos, kwargs) = methods::split_kwargs(&args.0);
    let mut pairs = match pos.first() {
        Some(v) => literal::to_dict(v)
            .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.0))
            .and_then(|d| {
                d.downcast_object_ref::<PyDict>()
                    .map(PyDict::snapshot)
                    .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "dict() failed"))
            })?,
        None => Vec::new(),
    };
    if let Some(kw) = kwargs {
        for k in kw.args() {
            pairs.push((Value::from(k), kw.get::<Value>(k)?));
        }
    }
    Ok(literal::dict_from_pairs(pairs))
}

fn py_range(args: Rest<Value>) -> Result<Value, Error> {
    let ints: Vec<i64> = args
        .iter()
        .map(|v| match pyfmt::as_num(v) {
            Some(pyfmt::Num::Int(i)) => i64::try_from(i)
                .map_err(|_| Error::new(ErrorKind::InvalidOperation, "range() argument too large")),
            _ => Err(Error::new(
                ErrorKind::InvalidOperation,
                format!(
                    "'{}' object cannot be interpreted as an integer",
                    pyfmt::type_name(v)
                ),
            )),
        })
        .collect::<Result<_, _>>()?;
    let (start, stop, step) = match ints.as_slice() {
        [stop] => (0, *stop, 1),
        [start, stop] => (*start, *stop, 1),
        [start, stop, step] => (*start, *stop, *step),
        _ => {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("range expected at most 3 arguments, got {}", ints.len()),
            ))
        }
    };
    if step == 0 {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "range() arg 3 must not be zero",
        ));
    }
    let r = PyRange { start, stop, step };
    // Jinja2's sandbox-free range still refuses huge ranges (MAX_RANGE)
    if r.len() > 100_000 {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).",
        ));
    }
    Ok(Value::from_object(r))
}

/// Whether a value is a Python `str` (as opposed to a number, list, ...).
pub fn is_str(v: &Value) -> bool {
    v.kind() == ValueKind::String
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(t: &str) -> String {
        Engine::new().render_str(t, &Scope::Empty).unwrap()
    }

    #[test]
    fn prints_like_python() {
        assert_eq!(
            render("{{ 1.0 }} {{ true }} {{ none }} {{ 1e-5 }}"),
            "1.0 True None 1e-05"
        );
        assert_eq!(render("{{ [1.5, 'a', None] }}"), "[1.5, 'a', None]");
        assert_eq!(render("{{ {'a': 1e16} }}"), "{'a': 1e+16}");
        assert_eq!(
            render("{{ range(3) }}|{{ range(3) | list }}"),
            "range(0, 3)|[0, 1, 2]"
        );
    }

    #[test]
    fn python_idioms() {
        assert_eq!(render("{{ '%03d' % 7 }}"), "007");
        assert_eq!(render("{{ 'ty_%02d_%d' % (3, 4) }}"), "ty_03_4");
        assert_eq!(render("{{ 'axes_{}'.format('x') }}"), "axes_x");
        assert_eq!(render("{{ 'a\nb'.splitlines() }}"), "['a', 'b']");
        assert_eq!(
            render("{% set l = [] %}{{ l.append(1) }}{{ l }}"),
            "None[1]"
        );
        assert_eq!(
            render("{% set l = [] %}{% set _ = l.append(2) %}{{ l | length }}"),
            "1"
        );
        assert_eq!(render("{{ '%s' | format(2.0) }}"), "2.0");
        assert_eq!(
            render("{{ 'x' | int }} {{ '3.7' | int }} {{ 2 ** 3 }}"),
            "0 3 8"
        );
        assert_eq!(render("{{ 7 / 2 }} {{ 7 // 2 }} {{ -7 % 3 }}"), "3.5 3 2");
        assert_eq!(render("{{ 1 ~ 2.0 ~ true }}"), "12.0True");
        assert_eq!(render("{{ [1, 2] | map('string') | join(',') }}"), "1,2");
    }

    #[test]
    fn globals_keep_state_between_renders() {
        let mut e = Engine::new();
        let s = Scope::Empty;
        assert_eq!(
            e.render_str("{{ _global.incrementor('c', start=192, stop=194) }}", &s)
                .unwrap(),
            "192"
        );
        assert_eq!(
            e.render_str("{{ _global.incrementor('c', start=192, stop=194) }}", &s)
                .unwrap(),
            "193"
        );
        assert_eq!(
            e.render_str("{{ _global.set('m', 42) }}", &s).unwrap(),
            "42"
        );
        assert_eq!(
            e.render_str(
                "{{ m }} {{ _global.get('m') }} {{ _global.get('x', 'd') }}",
                &s
            )
            .unwrap(),
            "42 42 d"
        );
        let err = e
            .render_str("{{ _global.incrementor('c', start=192, stop=194) }}{{ _global.incrementor('c', stop=194) }}", &s)
            .unwrap_err();
        assert!(
            err.message.contains("exceeded maximum value of 194"),
            "{}",
            err.message
        );
    }

    #[test]
    fn templates_see_the_given_environment_only() {
        let mut e = Engine::new();
        let t = "{{ _global.get_env('IOCFORGE_T') }}/{{ env.IOCFORGE_T }}";
        assert!(e.render_str(t, &Scope::Empty).is_err(), "unset in env");
        e.set_environment(&crate::layout::Environment::from_pairs([(
            "IOCFORGE_T",
            "x",
        )]));
        assert_eq!(e.render_str(t, &Scope::Empty).unwrap(), "x/x");
    }

    #[test]
    fn set_variables_are_snapshotted_per_render() {
        let mut e = Engine::new();
        assert!(e
            .render_str("{{ _global.set('a', 1) }}{{ a }}", &Scope::Empty)
            .is_err());
        assert_eq!(e.render_str("{{ a }}", &Scope::Empty).unwrap(), "1");
    }

    #[test]
    fn strict_undefined_and_trailing_newline() {
        let mut e = Engine::new();
        assert!(e.render_str("{{ nope }}", &Scope::Empty).is_err());
        assert_eq!(e.render_str("plain\n", &Scope::Empty).unwrap(), "plain");
        assert_eq!(e.render_str("{{ 1 }}\n\n", &Scope::Empty).unwrap(), "1\n");
    }

    #[test]
    fn render_value_coerces() {
        let mut e = Engine::new();
        let v = e
            .render_value(&Value::from("{{ 1 + 1 }}"), &Scope::Empty, Some("int"))
            .unwrap();
        assert!(v.is_integer());
        let v = e
            .render_value(&Value::from("{{ 5 | float }}"), &Scope::Empty, None)
            .unwrap();
        assert_eq!(pyfmt::py_str(&v).unwrap(), "5.0");
        let v = e
            .render_value(&Value::from("{{ 'a' | upper }}"), &Scope::Empty, None)
            .unwrap();
        assert_eq!(v.as_str(), Some("A"));
        assert!(e
            .render_value(&Value::from("{{ 'x' }}"), &Scope::Empty, Some("int"))
            .is_err());
    }
}
