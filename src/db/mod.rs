//! Substitution and database expansion: a native, byte-compatible clone of
//! EPICS `msi` (base 7.0.8.1), the step that turns `ioc.subst` into `ioc.db`.
//!
//! [`expand_substitutions`] expands a substitution file, [`expand_template`]
//! one template with `-M` style macros; both return the text msi would
//! write, or an [`MsiError`] naming the substitution row and template line.
//! `iocforge msi` (in `cli/msi.rs`) drives the same engine, [`msi::run`],
//! with msi's exact command line, output, messages and exit status.
//!
//! Pieces, bottom up: `macros` is macLib (definitions, scopes, `$(A)`),
//! `subst` reads substitution files, `template` reads templates and their
//! `include`/`substitute` directives, and `msi` is msi's main loop.
//! Files are read through a [`FileReader`], so every stage can be tested
//! without a disk; [`DiskReader`] is the real one.

pub mod macros;
pub mod msi;
pub mod subst;
pub mod template;

use std::collections::HashMap;
use std::fmt;

use crate::layout::Environment;

/// How msi reads files and the environment.
pub trait FileReader {
    /// The contents of `path`, or `None` when msi's `fopen` would fail.
    fn read(&mut self, path: &[u8]) -> Option<Vec<u8>>;
    /// Standard input, for a template read from stdin.
    fn read_stdin(&mut self) -> Vec<u8> {
        Vec::new()
    }
    /// An environment variable, for macros in template names.
    fn env(&self, name: &[u8]) -> Option<Vec<u8>>;
}

/// Reads from the file system, and variables from the environment it holds
/// (the caller's snapshot: the library never reads the process environment).
#[derive(Debug, Default, Clone)]
pub struct DiskReader {
    /// The variables msi's `$(NAME)` in file names can use.
    pub env: Environment,
}

impl DiskReader {
    /// A reader whose template names see `env`.
    pub fn new(env: Environment) -> Self {
        DiskReader { env }
    }
}

#[cfg(unix)]
fn os_str(bytes: &[u8]) -> std::borrow::Cow<'_, std::ffi::OsStr> {
    use std::os::unix::ffi::OsStrExt;
    std::borrow::Cow::Borrowed(std::ffi::OsStr::from_bytes(bytes))
}

#[cfg(not(unix))]
fn os_str(bytes: &[u8]) -> std::borrow::Cow<'_, std::ffi::OsStr> {
    std::borrow::Cow::Owned(String::from_utf8_lossy(bytes).into_owned().into())
}

#[cfg(unix)]
fn os_bytes(s: std::ffi::OsString) -> Vec<u8> {
    use std::os::unix::ffi::OsStringExt;
    s.into_vec()
}

#[cfg(not(unix))]
fn os_bytes(s: std::ffi::OsString) -> Vec<u8> {
    s.to_string_lossy().into_owned().into_bytes()
}

impl FileReader for DiskReader {
    fn read(&mut self, path: &[u8]) -> Option<Vec<u8>> {
        use std::io::Read;
        // like fopen, opening a directory succeeds and reading it yields nothing
        let mut file = fs_err::File::open(std::path::Path::new(&*os_str(path))).ok()?;
        let mut data = Vec::new();
        if file.read_to_end(&mut data).is_err() {
            data.clear();
        }
        Some(data)
    }

    fn read_stdin(&mut self) -> Vec<u8> {
        use std::io::Read;
        let mut data = Vec::new();
        let _ = std::io::stdin().lock().read_to_end(&mut data);
        data
    }

    fn env(&self, name: &[u8]) -> Option<Vec<u8>> {
        self.env
            .get_os(&*os_str(name))
            .map(|v| os_bytes(v.to_os_string()))
    }
}

/// Files and environment held in memory, for tests and callers that have
/// the templates already.
#[derive(Debug, Default, Clone)]
pub struct MemoryReader {
    /// File contents by path, exactly as msi would open them.
    pub files: HashMap<Vec<u8>, Vec<u8>>,
    /// Environment variables.
    pub env: HashMap<Vec<u8>, Vec<u8>>,
    /// What standard input holds.
    pub stdin: Vec<u8>,
}

impl MemoryReader {
    /// Adds a file.
    #[must_use]
    pub fn file(mut self, path: &str, text: &str) -> Self {
        self.files
            .insert(path.as_bytes().to_vec(), text.as_bytes().to_vec());
        self
    }

    /// Sets an environment variable.
    #[must_use]
    pub fn var(mut self, name: &str, value: &str) -> Self {
        self.env
            .insert(name.as_bytes().to_vec(), value.as_bytes().to_vec());
        self
    }
}

impl FileReader for MemoryReader {
    fn read(&mut self, path: &[u8]) -> Option<Vec<u8>> {
        self.files.get(path).cloned()
    }

    fn read_stdin(&mut self) -> Vec<u8> {
        self.stdin.clone()
    }

    fn env(&self, name: &[u8]) -> Option<Vec<u8>> {
        self.env.get(name).cloned()
    }
}

/// What an msi run is given besides its input: msi's `-I`, `-M`, `-V`, `-g`
/// and template argument.
#[derive(Debug, Clone, Default)]
pub struct MsiOptions {
    /// `-I` arguments in order; each may be a `:`-separated list.
    pub include_path: Vec<String>,
    /// `-M` arguments in order, `A=1,B=2` each.
    pub macros: Vec<String>,
    /// `-V`: undefined macros are errors (and are written `$(A,undefined)`).
    pub undefined_is_error: bool,
    /// `-g`: macros from substitution rows keep their values for later rows.
    pub global_scope: bool,
    /// The template argument: used for every set instead of `file` names.
    pub template: Option<String>,
}

impl MsiOptions {
    /// Appends `$EPICS_DB_INCLUDE_PATH` of `env` (when set) to the include path.
    ///
    /// msi itself ignores this variable (only the IOC's `dbLoadRecords` and
    /// `dbLoadTemplate` read it), so `iocforge msi` does too; callers that
    /// want IOC-like template lookup opt in here.
    #[must_use]
    pub fn with_env_include_path(mut self, env: &Environment) -> Self {
        if let Some(p) = env.get(crate::env::EPICS_DB_INCLUDE_PATH) {
            self.include_path.push(p.to_string());
        }
        self
    }
}

/// A position in a substitution file or template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file as msi names it (`dir/name` when found on the include path).
    pub file: String,
    /// 1-based line.
    pub line: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// A template line whose expansion left a macro undefined (or recursive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndefinedMacro {
    /// The macros that could not be expanded; recursive ones end in ` (recursive)`.
    pub names: Vec<String>,
    /// The template line being expanded.
    pub template: Location,
    /// The templates that include it, innermost first.
    pub included_from: Vec<Location>,
    /// The substitution row (its `{`) the macros came from, if any.
    pub row: Option<Location>,
}

impl fmt::Display for UndefinedMacro {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.names.iter().map(|n| format!("`{n}`")).collect();
        write!(f, "{}: undefined macro {}", self.template, names.join(", "))?;
        if let Some(row) = &self.row {
            write!(f, " (substitution row at {row})")?;
        }
        Ok(())
    }
}

/// A message msi prints on stderr without failing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The message as msi prints it.
    pub message: String,
    /// Where it applies, when known.
    pub at: Option<Location>,
}

/// The result of a successful expansion.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expansion {
    /// The expanded text (invalid UTF-8 replaced).
    pub text: String,
    /// msi's warnings, in order.
    pub warnings: Vec<Warning>,
    /// Lines with macros left unexpanded (written as `$(A)`).
    pub undefined: Vec<UndefinedMacro>,
}

/// Why an expansion failed.
#[derive(Debug, thiserror::Error)]
pub enum MsiError {
    /// A template or included file could not be opened.
    #[error("cannot open template `{name}`{}", where_from(row.as_ref(), included_from))]
    MissingTemplate {
        /// The name as given.
        name: String,
        /// The substitution row that wanted it.
        row: Option<Location>,
        /// The `include` line and the templates around it, innermost first.
        included_from: Vec<Location>,
    },
    /// The expansion grew past iocforge's bound (an include loop on long lines).
    #[error(
        "the expansion is larger than {limit} bytes (an include loop?); raise the limit with \
         IOCFORGE_LIMITS=msi-output=N"
    )]
    OutputTooLarge {
        /// The bound, in bytes.
        limit: u64,
    },
    /// Macro references nest so that expanding them would take practically forever.
    #[error(
        "macro references nest too deep to expand (unclosed `$(A=$(B=...` defaults?); msi would hang on them"
    )]
    TooComplex,
    /// The substitution file could not be opened.
    #[error("cannot open substitution file `{name}`")]
    MissingSubstitutions {
        /// The name as given.
        name: String,
    },
    /// The substitution file does not parse.
    #[error("{at}: {message}")]
    Syntax {
        /// Where msi stopped.
        at: Location,
        /// msi's message, e.g. `Parse error, expecting '{'`.
        message: String,
    },
    /// A set has no template: no `file` block and no template argument, or
    /// its file name uses an undefined environment variable.
    #[error("{}", no_template(row.as_ref(), file_name.as_deref()))]
    NoTemplate {
        /// The set's first row.
        row: Option<Location>,
        /// The `file` name as written, when macros in it did not expand.
        file_name: Option<String>,
    },
    /// `undefined_is_error` is set and macros were left undefined.
    #[error("{}", undefined_summary(undefined))]
    Undefined {
        /// Each line with undefined macros.
        undefined: Vec<UndefinedMacro>,
        /// What msi wrote anyway (undefined macros as `$(A,undefined)`).
        expansion: Box<Expansion>,
    },
}

fn where_from(row: Option<&Location>, included_from: &[Location]) -> String {
    let mut s = String::new();
    if let Some(inc) = included_from.first() {
        s.push_str(&format!(" included at {inc}"));
    }
    if let Some(row) = row {
        s.push_str(&format!(" for the substitution row at {row}"));
    }
    s
}

fn no_template(row: Option<&Location>, file_name: Option<&str>) -> String {
    let at = row.map(|r| format!("{r}: ")).unwrap_or_default();
    match file_name {
        Some(name) => format!("{at}template name `{name}` uses an undefined environment variable"),
        None => format!("{at}no template file: the rows are outside a `file` block"),
    }
}

fn undefined_summary(undefined: &[UndefinedMacro]) -> String {
    match undefined {
        [] => "undefined macros present".into(),
        [one] => one.to_string(),
        [first, rest @ ..] => format!("{first} (and {} more lines)", rest.len()),
    }
}

/// Expands a substitution file's text as `msi -S NAME` would, reading
/// templates from disk and file-name macros from `env`.
pub fn expand_substitutions(
    subst_text: &str,
    subst_name: &str,
    opts: &MsiOptions,
    env: &Environment,
) -> Result<Expansion, MsiError> {
    let mut reader = DiskReader::new(env.clone());
    expand_substitutions_with(subst_text.as_bytes(), subst_name, opts, &mut reader)
}

/// [`expand_substitutions`] with templates and environment from `reader`.
pub fn expand_substitutions_with(
    subst_text: &[u8],
    subst_name: &str,
    opts: &MsiOptions,
    reader: &mut dyn FileReader,
) -> Result<Expansion, MsiError> {
    let mut config = msi::Config::from_options(opts);
    config.substitutions = Some(msi::Substitutions {
        name: subst_name.as_bytes().to_vec(),
        text: Some(subst_text.to_vec()),
    });
    msi::run(&config, reader).into_result()
}

/// Expands one template with `opts.macros`, as `msi -M... TEMPLATE` would,
/// reading from disk, file-name macros from `env`.
pub fn expand_template(
    template: &str,
    opts: &MsiOptions,
    env: &Environment,
) -> Result<Expansion, MsiError> {
    expand_template_with(template, opts, &mut DiskReader::new(env.clone()))
}

/// [`expand_template`] with files from `reader`.
pub fn expand_template_with(
    template: &str,
    opts: &MsiOptions,
    reader: &mut dyn FileReader,
) -> Result<Expansion, MsiError> {
    let mut config = msi::Config::from_options(opts);
    config.template = Some(template.as_bytes().to_vec());
    msi::run(&config, reader).into_result()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_rows_against_templates_in_memory() {
        let mut r = MemoryReader::default()
            .file(
                "t.db",
                "record(ai, \"$(P):X\") { field(DESC, \"$(D=none)\") }\n",
            )
            .var("TOP", "lib");
        let mut r2 = r.clone().file("lib/t.db", "$(P)\n");
        let subst = "file t.db {\n pattern { P, D }\n { A, \"d 1\" }\n { B }\n}\n";
        let e =
            expand_substitutions_with(subst.as_bytes(), "x.subst", &MsiOptions::default(), &mut r)
                .unwrap();
        assert_eq!(
            e.text,
            "record(ai, \"A:X\") { field(DESC, \"d 1\") }\nrecord(ai, \"B:X\") { field(DESC, \"none\") }\n"
        );
        let e = expand_substitutions_with(
            b"file \"$(TOP)/t.db\" { {P=1} }",
            "y",
            &MsiOptions::default(),
            &mut r2,
        )
        .unwrap();
        assert_eq!(e.text, "1\n");
    }

    #[test]
    fn missing_template_names_the_row() {
        let mut r = MemoryReader::default();
        let err = expand_substitutions_with(
            b"\nfile nope.db {\n  {P=1}\n}\n",
            "ioc.subst",
            &MsiOptions::default(),
            &mut r,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot open template `nope.db` for the substitution row at ioc.subst:3"
        );
    }

    #[test]
    fn undefined_macros_fail_with_v() {
        let mut r = MemoryReader::default().file("t.db", "a\n$(P) $(Q)\n");
        let opts = MsiOptions {
            undefined_is_error: true,
            ..MsiOptions::default()
        };
        let err =
            expand_substitutions_with(b"file t.db { {P=1} }", "s", &opts, &mut r).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.db:2: undefined macro `Q` (substitution row at s:1)"
        );
        let opts = MsiOptions::default();
        let ok = expand_substitutions_with(b"file t.db { {P=1} }", "s", &opts, &mut r).unwrap();
        assert_eq!(ok.text, "a\n1 $(Q)\n");
        assert_eq!(ok.undefined.len(), 1);
    }

    #[test]
    fn syntax_errors_point_at_the_real_line() {
        let mut r = MemoryReader::default();
        let err = expand_substitutions_with(
            b"file t.db {\n { A=1 \n",
            "s",
            &MsiOptions::default(),
            &mut r,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "s:3: Parse error, incomplete file?");
    }

    #[test]
    fn single_template_with_macros() {
        let mut r = MemoryReader::default().file("t", "substitute \"B=2\"\n$(A)$(B)\n");
        let opts = MsiOptions {
            macros: vec!["A=1".into()],
            ..MsiOptions::default()
        };
        assert_eq!(
            expand_template_with("t", &opts, &mut r).unwrap().text,
            "12\n"
        );
    }
}
