//! msi's main loop: macros from `-M`, then either one template or every set
//! of a substitution file, each row in its own macro scope.
//!
//! [`run`] returns what msi would print on stdout and stderr and its exit
//! status, byte for byte (EPICS base 7.0.8.1), plus the same events as
//! structured data for the library API. Fatal errors stop the run where
//! msi calls `exit`: stdout keeps what was written so far, and when msi
//! would delete its `-o` file [`Outcome::remove_output`] says so.

use super::macros::{env_expand, errlog_text, MacroTable, Problem};
use super::subst::{SubstParser, SyntaxError};
use super::template::{directive, Directive, Inputs};
use super::{Expansion, FileReader, Location, MsiError, MsiOptions, UndefinedMacro, Warning};

/// msi's usage text (`usageExit`).
pub const USAGE: &str = concat!(
    "Usage: msi [options] [template]\n",
    "  stdin is used if neither template nor substitution file is given\n",
    "  options:\n",
    "    -h        Print this help message\n",
    "    -D        Output file dependencies, not substitutions\n",
    "    -V        Undefined macros generate an error\n",
    "    -g        All macros have global scope\n",
    "    -o<FILE>  Send output to <FILE>\n",
    "    -I<DIR>   Add <DIR> to include file search path\n",
    "    -M<SUBST> Add <SUBST> to (global) macro definitions\n",
    "              (<SUBST> takes the form VAR=VALUE,...)\n",
    "    -S<FILE>  Expand the substitutions in FILE\n",
);

/// `ERROR` as EPICS prints it: bold red, whatever the terminal.
const ERL_ERROR: &[u8] = b"\x1b[31;1mERROR\x1b[0m";

/// msi's line buffer size, which bounds one expanded line to 4094 bytes.
const MAX_BUFFER_SIZE: usize = 4096;

/// Files a run may hold open when the real limit is unknown: a common 1024
/// limit less stdin, stdout and stderr. It bounds include loops.
pub const DEFAULT_DESCRIPTORS: usize = 1021;

/// The deepest include nesting iocforge follows (msi: as deep as file descriptors allow).
/// Per-line work never walks the nesting, so a deep loop costs linear time.
const MAX_INCLUDE_DEPTH: usize = 1 << 20;

/// How many dependencies msi remembers for `-D`.
const MAX_DEPS: usize = 1024;

/// The substitution file of a run.
#[derive(Debug, Clone, Default)]
pub struct Substitutions {
    /// The name msi opens and reports.
    pub name: Vec<u8>,
    /// Its text, when already read; otherwise it is read through the reader.
    pub text: Option<Vec<u8>>,
}

/// Everything msi's command line sets.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// `-I` arguments in order.
    pub include_path: Vec<Vec<u8>>,
    /// `-M` arguments in order.
    pub macros: Vec<Vec<u8>>,
    /// `-V`
    pub verbose: bool,
    /// `-g`
    pub global_scope: bool,
    /// `-D`: print dependencies instead of the expansion.
    pub dependencies: bool,
    /// `-o`: the output file (`-D` names it as the Makefile target).
    pub output: Option<Vec<u8>>,
    /// `-S`
    pub substitutions: Option<Substitutions>,
    /// The template argument.
    pub template: Option<Vec<u8>>,
    /// Whether stderr is a terminal (errlog then keeps ANSI colours).
    pub console_is_tty: bool,
    /// How many more files msi could open (its descriptor limit less the
    /// descriptors already open); `None` for no limit.
    pub descriptors: Option<usize>,
}

impl Config {
    /// The configuration of [`MsiOptions`].
    pub fn from_options(opts: &MsiOptions) -> Self {
        Config {
            include_path: opts
                .include_path
                .iter()
                .map(|s| s.as_bytes().to_vec())
                .collect(),
            macros: opts.macros.iter().map(|s| s.as_bytes().to_vec()).collect(),
            verbose: opts.undefined_is_error,
            global_scope: opts.global_scope,
            template: opts.template.as_ref().map(|s| s.as_bytes().to_vec()),
            descriptors: Some(DEFAULT_DESCRIPTORS),
            ..Config::default()
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// msi returned normally.
    Finished,
    /// `abortExit`: msi deletes its `-o` file.
    Aborted,
    /// `usageExit`: usage printed, output file kept.
    Usage,
}

/// What a run printed, and how it ended.
#[derive(Debug)]
pub struct Outcome {
    /// msi's stdout (or `-o` file) bytes.
    pub stdout: Vec<u8>,
    /// msi's stderr bytes.
    pub stderr: Vec<u8>,
    /// Exit status.
    pub status: u8,
    /// How the run ended.
    pub ending: Ending,
    /// Whether msi would delete the `-o` file now.
    pub remove_output: bool,
    /// Whether msi itself would never have finished: a reference such as
    /// `$(A,` ends a string, and macLib loops forever on it.
    pub msi_would_hang: bool,
    fatal: Option<MsiError>,
    warnings: Vec<Warning>,
    undefined: Vec<UndefinedMacro>,
}

impl Outcome {
    /// The library view: the expansion, or the error that stopped it.
    pub fn into_result(self) -> Result<Expansion, MsiError> {
        if let Some(e) = self.fatal {
            return Err(e);
        }
        let expansion = Expansion {
            text: match String::from_utf8(self.stdout) {
                Ok(s) => s,
                Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            },
            warnings: self.warnings,
            undefined: self.undefined,
        };
        // exit status 2: msi's own verdict that -V found undefined macros
        if self.status == 2 {
            return Err(MsiError::Undefined {
                undefined: expansion.undefined.clone(),
                expansion: Box::new(expansion),
            });
        }
        Ok(expansion)
    }
}

/// Where msi stops (`exit` from deep inside).
#[derive(Debug)]
enum Stop {
    Abort,
    Usage,
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `epicsStrHash`, with C's signed `char`.
fn str_hash(s: &[u8], seed: u32) -> u32 {
    let mut hash = seed;
    // C's `char` is signed: bytes above 0x7f count as negative numbers
    let mut it = s.iter().map(|&c| i32::from(c as i8) as u32);
    while let Some(c) = it.next() {
        hash ^= !((hash << 11) ^ c ^ (hash >> 5));
        let Some(c) = it.next() else { break };
        hash ^= (hash << 7) ^ c ^ (hash >> 3);
    }
    hash
}

/// Where a streaming run writes stdout and stderr as it goes.
struct Sinks<'w> {
    out: &'w mut dyn std::io::Write,
    err: &'w mut dyn std::io::Write,
    // a write failed (a closed pipe): the rest is dropped, as msi's is
    broken: bool,
}

/// Buffered output is handed to the sinks once it reaches this size.
const STREAM_CHUNK: usize = 64 * 1024;

/// Structured warnings and undefined macros kept for the library view; an
/// include loop can repeat the same ones a million times.
const MAX_RECORDED: usize = 1_000;

struct Msi<'c, 'r, 'w> {
    config: &'c Config,
    reader: &'r mut dyn FileReader,
    sinks: Option<Sinks<'w>>,
    macros: MacroTable<'static>,
    inputs: Inputs,
    verbose_state: u8,
    out: Vec<u8>,
    err: Vec<u8>,
    dep_hashes: Vec<u32>,
    fatal: Option<MsiError>,
    warnings: Vec<Warning>,
    undefined: Vec<UndefinedMacro>,
    row: Option<Location>,
    subst_descriptor: usize,
    stuck: bool,
    // bytes expanded so far, against `limits::msi_output`
    produced: u64,
    max_output: u64,
}

/// Runs msi with `config`, reading through `reader`; the output is held in
/// [`Outcome::stdout`] and [`Outcome::stderr`].
pub fn run(config: &Config, reader: &mut dyn FileReader) -> Outcome {
    run_with(config, reader, None)
}

/// Runs msi writing its output to `out` and `err` as it goes, as msi
/// does, so an include loop on long lines never holds gigabytes; the
/// returned [`Outcome`] has empty `stdout` and `stderr`. Write errors (a
/// closed pipe) drop the rest of the output.
pub fn run_streaming(
    config: &Config,
    reader: &mut dyn FileReader,
    out: &mut dyn std::io::Write,
    err: &mut dyn std::io::Write,
) -> Outcome {
    let mut outcome = run_with(
        config,
        reader,
        Some(Sinks {
            out,
            err,
            broken: false,
        }),
    );
    outcome.stdout.clear();
    outcome.stderr.clear();
    outcome
}

fn run_with(config: &Config, reader: &mut dyn FileReader, sinks: Option<Sinks<'_>>) -> Outcome {
    let mut m = Msi {
        config,
        reader,
        sinks,
        macros: MacroTable::new(),
        inputs: Inputs::default(),
        verbose_state: u8::from(config.verbose),
        out: Vec::new(),
        err: Vec::new(),
        dep_hashes: Vec::new(),
        fatal: None,
        warnings: Vec::new(),
        undefined: Vec::new(),
        row: None,
        subst_descriptor: 0,
        stuck: false,
        produced: 0,
        max_output: crate::limits::get().msi_output,
    };
    let ending = match m.main() {
        Ok(()) => Ending::Finished,
        Err(Stop::Abort) => Ending::Aborted,
        Err(Stop::Usage) => {
            m.err.extend_from_slice(USAGE.as_bytes());
            Ending::Usage
        }
    };
    if ending == Ending::Finished && config.dependencies {
        m.out.push(b'\n');
    }
    m.flush(true);
    let msi_would_hang = m.stuck || m.macros.stuck();
    if msi_would_hang {
        m.warnings.push(Warning {
            message: "a macro reference ends in `,` at the end of a value or line, \
                      where msi 7.0 loops forever; iocforge ends the reference there"
                .into(),
            at: None,
        });
    }
    Outcome {
        msi_would_hang,
        stdout: m.out,
        stderr: m.err,
        status: if ending == Ending::Finished {
            m.verbose_state & 2
        } else {
            1
        },
        ending,
        remove_output: ending == Ending::Aborted && config.output.is_some(),
        fatal: m.fatal,
        warnings: m.warnings,
        undefined: m.undefined,
    }
}

impl Msi<'_, '_, '_> {
    /// Hands buffered output to the sinks (all of it when `all`).
    fn flush(&mut self, all: bool) {
        let Some(sinks) = self.sinks.as_mut() else {
            return;
        };
        if !all && self.out.len() < STREAM_CHUNK && self.err.len() < STREAM_CHUNK {
            return;
        }
        if !sinks.broken {
            // stdout before stderr: msi's stdout is line buffered into a pipe or file
            let ok = sinks.out.write_all(&self.out).is_ok()
                && sinks.err.write_all(&self.err).is_ok()
                && (!all || (sinks.out.flush().is_ok() && sinks.err.flush().is_ok()));
            sinks.broken = !ok;
        }
        self.out.clear();
        self.err.clear();
    }

    fn main(&mut self) -> Result<(), Stop> {
        let config = self.config;
        for defs in &config.macros {
            self.macros.install(defs);
        }
        for dirs in &config.include_path {
            self.inputs.add_path(dirs);
        }
        if !config.verbose {
            self.macros.suppress_warnings(true);
        }
        if config.dependencies {
            self.out
                .extend_from_slice(config.output.as_deref().unwrap_or_default());
            self.out.push(b':');
        }
        let Some(subst) = &config.substitutions else {
            return self.make_substitutions(config.template.as_deref());
        };
        let name = &subst.name[..];
        let read;
        let text = if let Some(t) = &subst.text {
            &t[..]
        } else {
            read = if self.descriptors_left() > 0 {
                self.reader.read(name)
            } else {
                None
            };
            // the substitution file keeps a descriptor for the whole run
            self.subst_descriptor = 1;
            let Some(t) = &read else {
                self.err.extend_from_slice(ERL_ERROR);
                self.err.extend_from_slice(b" msi: Can't open file '");
                self.err.extend_from_slice(name);
                self.err.extend_from_slice(b"'\n");
                self.fatal = Some(MsiError::MissingSubstitutions { name: lossy(name) });
                return Err(Stop::Abort);
            };
            &t[..]
        };
        self.expand_substitutions(name, text)
    }

    /// Expands every template set of the substitution file `name`, whose
    /// content is `text`, row by row.
    fn expand_substitutions(&mut self, name: &[u8], text: &[u8]) -> Result<(), Stop> {
        let config = self.config;
        let mut parser = SubstParser::new(text).map_err(|e| self.syntax(name, &e))?;
        loop {
            if parser.global_set().map_err(|e| self.syntax(name, &e))? {
                let defs = parser
                    .global_definitions()
                    .map_err(|e| self.syntax(name, &e))?;
                if let Some(defs) = defs {
                    self.macros.install(&defs);
                }
                continue;
            }
            let mut unexpanded = None;
            let next = {
                let reader = &*self.reader;
                let err = &mut self.err;
                let stuck = &mut self.stuck;
                let mut expand_name = |written: &[u8]| {
                    let env = |n: &[u8]| reader.env(n);
                    let done = env_expand(written, &env);
                    for m in done.messages {
                        err.extend_from_slice(&errlog_text(&m, config.console_is_tty));
                    }
                    *stuck |= done.stuck;
                    if done.value.is_none() {
                        unexpanded = Some(written.to_vec());
                    }
                    done.value
                };
                parser.next_set(&mut expand_name)
            };
            if !next.map_err(|e| self.syntax(name, &e))? {
                return Ok(());
            }
            let filename = match (&config.template, &parser.filename) {
                (Some(t), _) | (None, Some(t)) => t.clone(),
                (None, None) => {
                    self.err.extend_from_slice(b"msi: No template file\n");
                    self.fatal = Some(MsiError::NoTemplate {
                        row: Some(self.location(name, parser.lexer.line_num)),
                        file_name: unexpanded.as_deref().map(lossy),
                    });
                    return Err(Stop::Usage);
                }
            };
            loop {
                let row = parser.row_definitions();
                self.subst_warnings(name, &mut parser);
                let Some(defs) = row.map_err(|e| self.syntax(name, &e))? else {
                    break;
                };
                self.row = Some(self.location(name, parser.row_line));
                if !config.global_scope {
                    self.macros.push_scope();
                }
                self.macros.install(&defs);
                self.make_substitutions(Some(&filename))?;
                if !config.global_scope {
                    self.macros.pop_scope();
                }
            }
            self.row = None;
        }
    }

    /// A substitution-file location from msi's line count (one past).
    fn location(&self, file: &[u8], msi_line: u32) -> Location {
        Location {
            file: lossy(file),
            line: msi_line.saturating_sub(1),
        }
    }

    fn subst_warnings(&mut self, file: &[u8], parser: &mut SubstParser) {
        for w in std::mem::take(&mut parser.warnings) {
            let text = self.subst_message(file, &w);
            if self.warnings.len() < MAX_RECORDED {
                self.warnings.push(Warning {
                    message: lossy(&text),
                    at: Some(self.location(file, w.msi_line)),
                });
            }
            self.err.extend_from_slice(&text);
        }
    }

    /// `subFileErrPrint`.
    fn subst_message(&self, file: &[u8], e: &SyntaxError) -> Vec<u8> {
        let mut m = format!("msi: {}\n  in substitution file '", e.message).into_bytes();
        m.extend_from_slice(file);
        m.extend_from_slice(format!("' at line {}:\n  ", e.msi_line).as_bytes());
        m.extend_from_slice(&e.text);
        m
    }

    fn syntax(&mut self, file: &[u8], e: &SyntaxError) -> Stop {
        let text = self.subst_message(file, e);
        self.err.extend_from_slice(&text);
        self.fatal = Some(MsiError::Syntax {
            at: self.location(file, e.msi_line),
            message: e.message.trim_end().to_string(),
        });
        Stop::Abort
    }

    /// Expands one template (`None`: stdin) into the output (`makeSubstitutions`).
    fn make_substitutions(&mut self, template: Option<&[u8]>) -> Result<(), Stop> {
        self.inputs.close_all();
        self.open(template)?;
        while let Some(line) = self.inputs.next_line() {
            let text = line.text();
            if let Some((kind, arg)) = directive(text) {
                match kind {
                    Directive::Include => self.open(Some(arg))?,
                    Directive::Substitute => self.macros.install(arg),
                }
                continue;
            }
            if self.config.dependencies {
                continue;
            }
            let before = self.out.len();
            let done = self
                .macros
                .expand_string(text, MAX_BUFFER_SIZE - 1, &mut self.out);
            self.produced += (self.out.len() - before) as u64;
            if self.macros.overworked() {
                // msi itself never finishes such a line (macLib is exponential in it)
                self.err.extend_from_slice(ERL_ERROR);
                self.err.extend_from_slice(
                    b" msi: macro references nested too deep to expand (unclosed `$(A=$(B=...` defaults?); iocforge stops here\n",
                );
                self.fatal = Some(MsiError::TooComplex);
                return Err(Stop::Abort);
            }
            if self.produced > self.max_output {
                // msi would go on (for hours, on an include loop of long lines)
                self.err.extend_from_slice(ERL_ERROR);
                self.err.extend_from_slice(
                    format!(
                        " msi: output larger than {} bytes; iocforge stops here \
                         (IOCFORGE_LIMITS=msi-output=N raises the limit)\n",
                        self.max_output
                    )
                    .as_bytes(),
                );
                self.fatal = Some(MsiError::OutputTooLarge {
                    limit: self.max_output,
                });
                return Err(Stop::Abort);
            }
            for m in self.macros.take_messages() {
                self.err
                    .extend_from_slice(&errlog_text(&m, self.config.console_is_tty));
            }
            if done.error {
                self.note_undefined(&done.problems);
            }
            if self.verbose_state == 1 && done.status() < 0 {
                self.err
                    .extend_from_slice(b"msi: Error - undefined macros present\n");
                self.verbose_state = 2;
            }
            self.flush(false);
        }
        Ok(())
    }

    fn template_stack(&self) -> Vec<Location> {
        self.inputs
            .files()
            .iter()
            .rev()
            .map(|f| Location {
                file: lossy(&f.name),
                line: f.line,
            })
            .collect()
    }

    fn note_undefined(&mut self, problems: &[Problem]) {
        if self.undefined.len() >= MAX_RECORDED {
            return;
        }
        let mut stack = self.template_stack().into_iter();
        let Some(template) = stack.next() else { return };
        let mut names: Vec<String> = Vec::new();
        for p in problems {
            let n = if p.recursive {
                format!("{} (recursive)", lossy(&p.name))
            } else {
                lossy(&p.name)
            };
            if !names.contains(&n) {
                names.push(n);
            }
        }
        self.undefined.push(UndefinedMacro {
            names,
            template,
            // the innermost includes tell where; a loop's thousands more do not
            included_from: stack.take(64).collect(),
            row: self.row.clone(),
        });
    }

    /// Opens a template or include file (`inputOpenFile`).
    fn open(&mut self, name: Option<&[u8]>) -> Result<(), Stop> {
        let left = self.descriptors_left();
        let Some(resolved) = self.inputs.open(name, &mut *self.reader, left) else {
            let name = name.unwrap_or_default();
            self.err.extend_from_slice(ERL_ERROR);
            self.err.extend_from_slice(b" msi: Can't open file '");
            self.err.extend_from_slice(name);
            self.err.extend_from_slice(b"'\n");
            self.err.extend_from_slice(&self.inputs.error_trace());
            self.fatal = Some(MsiError::MissingTemplate {
                name: lossy(name),
                row: self.row.clone(),
                included_from: self.template_stack(),
            });
            return Err(Stop::Abort);
        };
        if self.config.dependencies {
            self.note_dependency(&resolved);
        }
        Ok(())
    }

    fn descriptors_left(&self) -> usize {
        // an include loop ends when files run out, as in msi; the nesting is
        // capped for a limit of millions (each level holds a little memory)
        let d = self
            .config
            .descriptors
            .unwrap_or(usize::MAX)
            .min(MAX_INCLUDE_DEPTH);
        d.saturating_sub(self.inputs.open_files() + self.subst_descriptor)
    }

    fn note_dependency(&mut self, name: &[u8]) {
        let hash = str_hash(name, 12345);
        if self.dep_hashes.contains(&hash) {
            return;
        }
        if !self.dep_hashes.is_empty() {
            self.out.extend_from_slice(b" \\\n");
        }
        self.out.push(b' ');
        self.out.extend_from_slice(name);
        if self.dep_hashes.len() < MAX_DEPS {
            self.dep_hashes.push(hash);
        } else {
            self.err
                .extend_from_slice(format!("msi: More than {MAX_DEPS} dependencies!\n").as_bytes());
            self.dep_hashes[0] = hash;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::MemoryReader;

    #[test]
    fn hash_matches_epics() {
        // epicsStrHash("", 12345) is the seed; one byte flips per the first step
        assert_eq!(str_hash(b"", 12345), 12345);
        let h = str_hash(b"a", 0);
        assert_eq!(h, !u32::from(b'a'));
    }

    #[test]
    fn dependencies_list_each_file_once() {
        let mut r = MemoryReader::default()
            .file("t", "include \"i\"\ninclude \"i\"\n")
            .file("i", "x\n");
        let config = Config {
            dependencies: true,
            output: Some(b"out.db".to_vec()),
            template: Some(b"t".to_vec()),
            ..Config::default()
        };
        let o = run(&config, &mut r);
        assert_eq!(String::from_utf8(o.stdout).unwrap(), "out.db: t \\\n i\n");
    }
}
