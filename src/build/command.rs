//! External commands of a support build (git, make, apt-get, bash, curl) as data.
//!
//! The plan holds [`CommandSpec`]s, never `std::process::Command`s, so a plan
//! can be printed (`--dry-run`), compared in unit tests and later turned into
//! Dockerfile `RUN` lines. [`Runner`] is the one seam where commands meet the
//! operating system: [`ProcessRunner`] runs them for real, keeping the tail of
//! their output for the failure report; tests can put a fake `apt-get` first
//! on `PATH`, because programs are looked up by name when they run.

use std::collections::VecDeque;
use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

/// One command: program, arguments, working directory and extra environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSpec {
    /// The program, looked up on `PATH` when it is a bare name.
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// The directory it runs in (the current one when `None`).
    pub cwd: Option<PathBuf>,
    /// Variables added to the inherited environment.
    pub env: Vec<(String, String)>,
}

impl CommandSpec {
    /// `program args...` in the current directory.
    pub fn new<I, S>(program: &str, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        CommandSpec {
            program: program.to_string(),
            args: args.into_iter().map(Into::into).collect(),
            cwd: None,
            env: Vec::new(),
        }
    }

    /// The same command run in `dir`.
    #[must_use]
    pub fn in_dir(mut self, dir: &Path) -> Self {
        self.cwd = Some(dir.to_path_buf());
        self
    }

    /// The same command with one more environment variable.
    #[must_use]
    pub fn with_env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_string(), value.to_string()));
        self
    }

    /// The command line alone, shell-quoted: `make -j4`.
    pub fn command_line(&self) -> String {
        let mut words = vec![quote(&self.program)];
        words.extend(self.args.iter().map(|a| quote(a)));
        words.join(" ")
    }
}

impl fmt::Display for CommandSpec {
    /// `cd DIR && VAR=value program args`, as a shell would take it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(dir) = &self.cwd {
            write!(f, "cd {} && ", quote(&dir.display().to_string()))?;
        }
        for (k, v) in &self.env {
            write!(f, "{k}={} ", quote(v))?;
        }
        f.write_str(&self.command_line())
    }
}

/// Quotes a word for a POSIX shell when it needs it.
pub fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%^".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Splits an option string into words as Ansible's `command` module does
/// (Python's `shlex.split`): whitespace separates, quotes group, `\` escapes.
pub fn split_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '"' => {
                in_word = true;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some(e @ ('"' | '\\' | '$' | '`')) => word.push(e),
                            Some(e) => {
                                word.push('\\');
                                word.push(e);
                            }
                            None => word.push('\\'),
                        },
                        _ => word.push(q),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(e) = chars.next() {
                    word.push(e);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// How a finished command went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutput {
    /// Whether it exited with status 0.
    pub success: bool,
    /// Its exit code (`None` when a signal ended it).
    pub code: Option<i32>,
    /// The last lines of its stdout and stderr, interleaved as they arrived.
    pub tail: Vec<String>,
}

/// A command that could not be started at all.
#[derive(Debug, thiserror::Error)]
#[error("cannot run `{program}`")]
pub struct SpawnError {
    /// The program that was asked for.
    pub program: String,
    /// Why the operating system refused.
    #[source]
    pub source: std::io::Error,
}

/// Runs commands; the executor's only way to start a process.
pub trait Runner {
    /// Runs `cmd` to completion.
    fn run(&mut self, cmd: &CommandSpec) -> Result<RunOutput, SpawnError>;
}

/// Runs commands as child processes.
#[derive(Debug, Clone)]
pub struct ProcessRunner {
    /// Copy each output line to stderr as it arrives.
    pub verbose: bool,
    /// How many output lines to keep for a failure report.
    pub tail_lines: usize,
}

impl Default for ProcessRunner {
    fn default() -> Self {
        ProcessRunner {
            verbose: false,
            tail_lines: 40,
        }
    }
}

/// The last lines of a command's output, shared by the two reader threads.
/// When full, the oldest stdout line goes first: the two streams are read by
/// racing threads, and an error on stderr must not be pushed out by
/// progress lines that were written before it but read after it.
struct Tail {
    lines: VecDeque<(bool, String)>,
    keep: usize,
}

impl Tail {
    fn push(&mut self, from_stderr: bool, line: String) {
        if self.lines.len() == self.keep {
            match self.lines.iter().position(|(err, _)| !err) {
                Some(oldest_out) => {
                    self.lines.remove(oldest_out);
                }
                None => {
                    self.lines.pop_front();
                }
            }
        }
        self.lines.push_back((from_stderr, line));
    }
}

fn drain(stream: impl Read, tail: &Arc<Mutex<Tail>>, from_stderr: bool, verbose: bool) {
    let mut reader = BufReader::new(stream);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let line = String::from_utf8_lossy(&buf)
                    .trim_end_matches(['\n', '\r'])
                    .to_string();
                if verbose {
                    let mut err = std::io::stderr().lock();
                    let _ = writeln!(err, "    {line}");
                }
                tail.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(from_stderr, line);
            }
        }
    }
}

impl Runner for ProcessRunner {
    fn run(&mut self, cmd: &CommandSpec) -> Result<RunOutput, SpawnError> {
        let mut command = Command::new(&cmd.program);
        command
            .args(&cmd.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(dir) = &cmd.cwd {
            command.current_dir(dir);
        }
        for (k, v) in &cmd.env {
            command.env(k, v);
        }
        let mut child = command.spawn().map_err(|source| SpawnError {
            program: cmd.program.clone(),
            source,
        })?;
        let tail = Arc::new(Mutex::new(Tail {
            lines: VecDeque::new(),
            keep: self.tail_lines.max(1),
        }));
        let out = child.stdout.take().map(|s| {
            let tail = tail.clone();
            let verbose = self.verbose;
            std::thread::spawn(move || drain(s, &tail, false, verbose))
        });
        let err = child.stderr.take().map(|s| {
            let tail = tail.clone();
            let verbose = self.verbose;
            std::thread::spawn(move || drain(s, &tail, true, verbose))
        });
        for reader in [out, err].into_iter().flatten() {
            let _ = reader.join();
        }
        let status = child.wait().map_err(|source| SpawnError {
            program: cmd.program.clone(),
            source,
        })?;
        let lines = std::mem::take(
            &mut tail
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .lines,
        );
        Ok(RunOutput {
            success: status.success(),
            code: status.code(),
            tail: lines.into_iter().map(|(_, l)| l).collect(),
        })
    }
}

/// The first directory of `env`'s `PATH` holding an executable `name`.
pub fn find_program(name: &str, env: &crate::layout::Environment) -> Option<PathBuf> {
    env.find_program(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_words_follows_shlex() {
        assert_eq!(split_words("-j4  CC=gcc"), ["-j4", "CC=gcc"]);
        assert_eq!(split_words(""), Vec::<String>::new());
        assert_eq!(
            split_words(r#"USR_CFLAGS="-O2 -g" X='a b' c\ d"#),
            ["USR_CFLAGS=-O2 -g", "X=a b", "c d"]
        );
        assert_eq!(split_words(r#"A="" B"#), ["A=", "B"]);
    }

    #[test]
    fn display_quotes_what_needs_quoting() {
        let c = CommandSpec::new("bash", ["-c", "rm -r x"])
            .in_dir(Path::new("/epics/support/a b"))
            .with_env("DEBIAN_FRONTEND", "noninteractive");
        assert_eq!(
            c.to_string(),
            "cd '/epics/support/a b' && DEBIAN_FRONTEND=noninteractive bash -c 'rm -r x'"
        );
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
    }

    #[test]
    fn process_runner_keeps_the_tail_and_the_code() {
        let mut r = ProcessRunner {
            verbose: false,
            tail_lines: 2,
        };
        let out = r
            .run(&CommandSpec::new(
                "sh",
                ["-c", "for i in 1 2 3 4 5; do echo line $i; done; exit 3"],
            ))
            .expect("sh runs");
        assert!(!out.success);
        assert_eq!(out.code, Some(3));
        assert_eq!(out.tail, ["line 4", "line 5"]);
    }

    #[test]
    fn the_tail_keeps_stderr_over_stdout() {
        let mut r = ProcessRunner {
            verbose: false,
            tail_lines: 2,
        };
        let out = r
            .run(&CommandSpec::new(
                "sh",
                [
                    "-c",
                    "for i in 1 2 3 4 5; do echo line $i; done; echo error >&2",
                ],
            ))
            .expect("sh runs");
        assert_eq!(out.tail.len(), 2);
        assert!(out.tail.contains(&"error".to_string()), "{:?}", out.tail);
    }

    #[test]
    fn process_runner_captures_stderr_too() {
        let out = ProcessRunner::default()
            .run(&CommandSpec::new("sh", ["-c", "echo oops >&2"]))
            .expect("sh runs");
        assert!(out.success);
        assert_eq!(out.tail, ["oops"]);
    }

    #[test]
    fn missing_program_is_a_spawn_error() {
        let err = ProcessRunner::default()
            .run(&CommandSpec::new("iocforge-no-such-program", [""; 0]))
            .unwrap_err();
        assert_eq!(err.program, "iocforge-no-such-program");
    }
}
