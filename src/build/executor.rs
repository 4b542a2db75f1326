//! Carries out a plan: commands through a [`Runner`], file edits in process.
//!
//! Each step is reported to a [`StepLog`] with how long it took and whether
//! it ran, was skipped (the clone exists, the apt cache is fresh) or failed
//! with its errors ignored (ibek-support ignores a failing final
//! `make clean`). The first real failure stops the build with a
//! [`StepFailed`] naming the step, the command and the tail of its output.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use minijinja::value::Value;

use super::command::{CommandSpec, RunOutput, Runner, SpawnError};
use super::patch::{block_in_file, comment_out, line_in_file, Insert};
use super::release::{blank_macro, db_folders, db_include_line};
use super::step::{Action, RunIf, Step};
use super::tasks::{describe_tasks, run_tasks, TaskError, TaskEvent, TaskFile, TaskFlow, TaskLog};
use super::vars::Variables;
use super::Downloader;

/// How a step ended, when it did not stop the build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It ran (with a detail worth logging, if any).
    Done(Option<String>),
    /// It had nothing to do, for this reason.
    Skipped(String),
    /// Its command failed, which this step tolerates.
    Ignored(RunOutput),
}

/// Receives each finished step; the CLI prints one line per step.
pub trait StepLog {
    /// A step ended without stopping the build.
    fn finished(&mut self, step: &Step, outcome: &Outcome, elapsed: Duration);
    /// A step failed; the build stops.
    fn failed(&mut self, step: &Step, elapsed: Duration);
    /// A step starts (the CLI heads the task lines of a task file with it).
    fn started(&mut self, _step: &Step) {}
    /// A task of an Ansible task file finished (within its step).
    fn task(&mut self, _event: &TaskEvent) {}
}

/// Why a step failed.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// A command exited with an error.
    #[error("`{command}` {}", describe_exit(*code))]
    Command {
        /// The command as a shell would take it.
        command: String,
        /// Its exit code (`None`: killed by a signal).
        code: Option<i32>,
        /// The last lines of its output.
        tail: Vec<String>,
    },
    /// A command could not be started.
    #[error("`{command}`: {source}")]
    Spawn {
        /// The command.
        command: String,
        /// Why.
        #[source]
        source: SpawnError,
    },
    /// A file could not be read, written, linked or copied (the source names the path).
    #[error("cannot {what}")]
    File {
        /// What was being done.
        what: String,
        /// The error, naming the path.
        #[source]
        source: io::Error,
    },
    /// A regexp of the install.yml is not valid.
    #[error("invalid regexp for `{}`", file.display())]
    Regex {
        /// The file being edited.
        file: PathBuf,
        /// The regexp error.
        #[source]
        source: regex::Error,
    },
    /// A file to edit does not exist.
    #[error("`{}` does not exist", file.display())]
    Missing {
        /// The file.
        file: PathBuf,
    },
    /// An Ansible task file that was not loaded before the build.
    #[error("the task file `{}` was not loaded and checked before the build", file.display())]
    AnsibleTask {
        /// The task file.
        file: PathBuf,
    },
    /// A task of a task file failed.
    #[error(transparent)]
    Task(Box<TaskError>),
}

fn describe_exit(code: Option<i32>) -> String {
    match code {
        Some(c) => format!("exited with status {c}"),
        None => "was killed by a signal".to_string(),
    }
}

impl ExecError {
    /// The exit code iocforge passes on: the child's, else 2.
    pub fn exit_code(&self) -> u8 {
        match self {
            ExecError::Command { code: Some(c), .. } => {
                u8::try_from(*c).ok().filter(|c| *c != 0).unwrap_or(2)
            }
            ExecError::Task(t) => t
                .code
                .and_then(|c| u8::try_from(c).ok())
                .filter(|c| *c != 0)
                .unwrap_or(2),
            _ => 2,
        }
    }

    /// The last output lines of a failed command (empty for other failures).
    pub fn tail(&self) -> &[String] {
        match self {
            ExecError::Command { tail, .. } => tail,
            ExecError::Task(t) => &t.tail,
            _ => &[],
        }
    }
}

/// A step that stopped the build.
#[derive(Debug, thiserror::Error)]
#[error("{} step `{}` failed: {source}", step.phase.name(), step.action)]
pub struct StepFailed {
    /// The step.
    pub step: Box<Step>,
    /// What went wrong.
    #[source]
    pub source: ExecError,
    /// The clone this build made and then deleted, because a step that only
    /// runs after a fresh clone (commit checkout, `patch_file`) failed: kept,
    /// the next build would skip that step and build unpatched source.
    pub removed_clone: Option<PathBuf>,
}

/// What Ansible task files run with: the files, checked before the build,
/// and the role's variables.
#[derive(Debug, Clone)]
pub struct TaskContext {
    /// The module's variables (`Variables::for_install`).
    pub vars: Variables,
    /// Every task file of the plan, by path (see `tasks::load_plan_tasks`).
    pub files: BTreeMap<PathBuf, TaskFile>,
    /// How `get_url` fetches other than `file://` URLs.
    pub downloader: Downloader,
}

/// Choices that change how steps run, not what they are.
#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    /// Skip Ansible task files.
    pub skip_tasks: bool,
    /// The task files and their variables (needed when the plan has any).
    pub tasks: Option<TaskContext>,
}

struct Executor<'a> {
    runner: &'a mut dyn Runner,
    options: &'a ExecOptions,
    /// The folder this build cloned, if it did.
    cloned: Option<PathBuf>,
    /// `set_fact` values, from task file to task file.
    facts: IndexMap<String, Value>,
    /// `meta: end_play` ran.
    ended: bool,
}

/// Hands the tasks of a task file to the build's [`StepLog`].
struct TaskLogAdapter<'a>(&'a mut dyn StepLog);

impl TaskLog for TaskLogAdapter<'_> {
    fn task(&mut self, event: &TaskEvent) {
        self.0.task(event);
    }
}

/// The `--dry-run` listing: each step, and under each task file its tasks
/// with resolved arguments (`set_fact` applied as it goes).
pub fn describe_plan(steps: &[Step], tasks: Option<&TaskContext>) -> Result<String, TaskError> {
    use std::fmt::Write as _;
    let mut out = String::new();
    let mut facts = IndexMap::new();
    let mut ended = false;
    for step in steps {
        let was_ended = ended;
        if ended {
            let _ = writeln!(out, "{step}  # not reached after end_play");
        } else {
            let _ = writeln!(out, "{step}");
        }
        if let (Action::AnsibleTask { file, skipped_by }, Some(ctx)) = (&step.action, tasks) {
            if let Some(tf) = ctx.files.get(file) {
                // a file that does not run is listed too, but its facts go nowhere
                let runs = skipped_by.is_none() && !was_ended;
                let mut own = facts.clone();
                let facts = if runs { &mut facts } else { &mut own };
                let (lines, flow) = describe_tasks(tf, &ctx.vars, facts, !runs)?;
                ended = ended || (runs && flow == TaskFlow::EndPlay);
                let note = if was_ended {
                    "  # not reached after end_play"
                } else if skipped_by.is_some() {
                    "  # not run: the file is skipped"
                } else {
                    ""
                };
                for line in lines {
                    let _ = writeln!(out, "{:<10}   {line}{note}", "");
                }
            }
        }
    }
    Ok(out)
}

/// Runs `steps` in order; stops at the first failure.
pub fn execute(
    steps: &[Step],
    runner: &mut dyn Runner,
    log: &mut dyn StepLog,
    options: &ExecOptions,
) -> Result<(), StepFailed> {
    let mut ex = Executor {
        runner,
        options,
        cloned: None,
        facts: IndexMap::new(),
        ended: false,
    };
    for step in steps {
        let start = Instant::now();
        log.started(step);
        match ex.step(&step.action, log) {
            Ok(outcome) => {
                log.finished(step, &outcome, start.elapsed());
                if ex.ended {
                    return Ok(());
                }
            }
            Err(source) => {
                log.failed(step, start.elapsed());
                let after_clone = matches!(
                    step.action,
                    Action::Run {
                        when: RunIf::FreshClone,
                        ..
                    }
                );
                let removed_clone = ex
                    .cloned
                    .take()
                    .filter(|dir| after_clone && fs_err::remove_dir_all(dir).is_ok());
                return Err(StepFailed {
                    step: Box::new(step.clone()),
                    source,
                    removed_clone,
                });
            }
        }
    }
    Ok(())
}

fn file_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> ExecError {
    let what = what.into();
    move |source| ExecError::File { what, source }
}

fn exists(p: &Path) -> bool {
    fs_err::symlink_metadata(p).is_ok()
}

fn read_optional(file: &Path) -> Result<Option<String>, ExecError> {
    if file.exists() {
        fs_err::read_to_string(file)
            .map(Some)
            .map_err(file_err("read a file to edit"))
    } else {
        Ok(None)
    }
}

/// Writes `new` when it differs from `old`; creates parent folders.
fn write_if_changed(file: &Path, old: Option<&str>, new: &str) -> Result<Outcome, ExecError> {
    if old == Some(new) {
        return Ok(Outcome::Skipped("already in place".into()));
    }
    if let Some(parent) = file.parent() {
        fs_err::create_dir_all(parent).map_err(file_err("create a folder"))?;
    }
    fs_err::write(file, new).map_err(file_err("write an edited file"))?;
    Ok(Outcome::Done(None))
}

fn regex_err(file: &Path) -> impl FnOnce(regex::Error) -> ExecError + '_ {
    move |source| ExecError::Regex {
        file: file.to_path_buf(),
        source,
    }
}

/// Replaces whatever is at `link` with a symlink to `target`.
fn symlink(target: &Path, link: &Path) -> Result<(), ExecError> {
    if let Ok(meta) = fs_err::symlink_metadata(link) {
        if meta.is_dir() {
            fs_err::remove_dir_all(link).map_err(file_err("replace a folder with a link"))?;
        } else {
            fs_err::remove_file(link).map_err(file_err("replace a file with a link"))?;
        }
    }
    if let Some(parent) = link.parent() {
        fs_err::create_dir_all(parent).map_err(file_err("create a folder"))?;
    }
    fs_err::os::unix::fs::symlink(target, link).map_err(file_err("make a link"))
}

impl Executor<'_> {
    fn run(&mut self, command: &CommandSpec) -> Result<RunOutput, ExecError> {
        self.runner.run(command).map_err(|source| ExecError::Spawn {
            command: command.to_string(),
            source,
        })
    }

    fn step(&mut self, action: &Action, log: &mut dyn StepLog) -> Result<Outcome, ExecError> {
        match action {
            Action::Run {
                command,
                when,
                ignore_errors,
            } => self.run_step(command, when, *ignore_errors),
            Action::AptUpdate { command, sentinel } => self.apt_update(command, sentinel),
            Action::RecordLines { file, lines } => record_lines(file, lines),
            Action::Remove { path } => remove(path),
            Action::CommentOut { file, regexp } => {
                let Some(old) = read_optional(file)? else {
                    return Err(ExecError::Missing { file: file.clone() });
                };
                let new = comment_out(&old, regexp).map_err(regex_err(file))?;
                write_if_changed(file, Some(&old), &new)
            }
            Action::LineInFile {
                file,
                regexp,
                line,
                insert,
            } => {
                let old = read_optional(file)?;
                let new = line_in_file(old.as_deref(), regexp.as_deref(), line, insert)
                    .map_err(regex_err(file))?;
                write_if_changed(file, old.as_deref(), &new)
            }
            Action::BlockInFile {
                file,
                block,
                marker,
                insert_after,
            } => {
                let old = read_optional(file)?;
                let new = block_in_file(old.as_deref(), block, marker, insert_after)
                    .map_err(regex_err(file))?;
                write_if_changed(file, old.as_deref(), &new)
            }
            Action::CreateIfMissing { file, text } => {
                if exists(file) {
                    return Ok(Outcome::Skipped("it exists".into()));
                }
                write_if_changed(file, None, text)
            }
            Action::Symlink { target, link } => {
                if fs_err::read_link(link).is_ok_and(|t| t == *target) {
                    return Ok(Outcome::Skipped("already in place".into()));
                }
                symlink(target, link)?;
                Ok(Outcome::Done(None))
            }
            Action::BlankMacro {
                file,
                name,
                module_macro,
            } => {
                let old = read_optional(file)?.unwrap_or_default();
                match blank_macro(&old, name, module_macro) {
                    Some(new) => write_if_changed(file, Some(&old), &new),
                    None => Ok(Outcome::Skipped(format!("`{name}` is set"))),
                }
            }
            Action::DbIncludePath { file, support } => db_include_path(file, support),
            Action::MakeDirs { dirs } => {
                for d in dirs {
                    fs_err::create_dir_all(d).map_err(file_err("create a folder"))?;
                }
                Ok(Outcome::Done(None))
            }
            Action::LinkMatching { from, suffix, into } => link_matching(from, suffix, into),
            Action::CopyInto { file, dir } => {
                let name = file.file_name().unwrap_or_default();
                fs_err::create_dir_all(dir).map_err(file_err("create a folder"))?;
                fs_err::copy(file, dir.join(name)).map_err(file_err("copy a protocol file"))?;
                Ok(Outcome::Done(None))
            }
            Action::AnsibleTask { file, skipped_by } => {
                if skipped_by.is_some() {
                    return Ok(Outcome::Skipped("its `when` is false".into()));
                }
                self.ansible_task(file, log)
            }
        }
    }

    /// A shell command, skipped when its `creates:` path exists or its clone was
    /// already there; a successful clone is remembered for later `FreshClone` steps.
    fn run_step(
        &mut self,
        command: &CommandSpec,
        when: &RunIf,
        ignore_errors: bool,
    ) -> Result<Outcome, ExecError> {
        let skip = match when {
            RunIf::Absent(p) if exists(p) => Some(format!("{} exists", p.display())),
            RunIf::FreshClone if self.cloned.is_none() => {
                Some("the clone was already there".to_string())
            }
            _ => None,
        };
        if let Some(why) = skip {
            return Ok(Outcome::Skipped(why));
        }
        let out = self.run(command)?;
        if out.success {
            if let RunIf::Absent(dir) = when {
                self.cloned = Some(dir.clone());
            }
            Ok(Outcome::Done(None))
        } else if ignore_errors {
            Ok(Outcome::Ignored(out))
        } else {
            Err(ExecError::Command {
                command: command.to_string(),
                code: out.code,
                tail: out.tail,
            })
        }
    }

    /// `apt-get update` once per build: the sentinel file marks it done.
    fn apt_update(&mut self, command: &CommandSpec, sentinel: &Path) -> Result<Outcome, ExecError> {
        if exists(sentinel) {
            return Ok(Outcome::Skipped(format!("{} exists", sentinel.display())));
        }
        let out = self.run(command)?;
        if !out.success {
            return Err(ExecError::Command {
                command: command.to_string(),
                code: out.code,
                tail: out.tail,
            });
        }
        if let Some(parent) = sentinel.parent() {
            fs_err::create_dir_all(parent).map_err(file_err("create a folder"))?;
        }
        fs_err::write(sentinel, "").map_err(file_err("write the apt sentinel"))?;
        Ok(Outcome::Done(None))
    }

    /// An included Ansible task file, run by the task interpreter; `meta: end_play`
    /// ends the whole build.
    fn ansible_task(&mut self, file: &Path, log: &mut dyn StepLog) -> Result<Outcome, ExecError> {
        if self.options.skip_tasks {
            return Ok(Outcome::Skipped("--skip-tasks".into()));
        }
        let Some((ctx, tf)) = self
            .options
            .tasks
            .as_ref()
            .and_then(|c| c.files.get(file).map(|f| (c, f)))
        else {
            return Err(ExecError::AnsibleTask {
                file: file.to_path_buf(),
            });
        };
        let flow = run_tasks(
            tf,
            &ctx.vars,
            &mut self.facts,
            &mut *self.runner,
            &mut TaskLogAdapter(log),
            ctx.downloader,
        )
        .map_err(|e| ExecError::Task(Box::new(e)))?;
        if flow == TaskFlow::EndPlay {
            self.ended = true;
            return Ok(Outcome::Done(Some(
                "`meta: end_play`: the build ends here".into(),
            )));
        }
        Ok(Outcome::Done(None))
    }
}

/// Appends each of `lines` to `file` unless that exact line is already there.
fn record_lines(file: &Path, lines: &[String]) -> Result<Outcome, ExecError> {
    let old = read_optional(file)?;
    let mut text = old.clone();
    for line in lines {
        let re = format!("^{}$", regex::escape(line));
        text = Some(
            line_in_file(text.as_deref(), Some(&re), line, &Insert::Eof)
                .map_err(regex_err(file))?,
        );
    }
    write_if_changed(file, old.as_deref(), text.as_deref().unwrap_or(""))
}

/// Removes a file, link or whole folder; skipped when nothing is there.
fn remove(path: &Path) -> Result<Outcome, ExecError> {
    match fs_err::symlink_metadata(path) {
        Err(_) => Ok(Outcome::Skipped("not there".into())),
        Ok(m) if m.is_dir() => {
            fs_err::remove_dir_all(path).map_err(file_err("remove a folder"))?;
            Ok(Outcome::Done(None))
        }
        Ok(_) => {
            fs_err::remove_file(path).map_err(file_err("remove a file"))?;
            Ok(Outcome::Done(None))
        }
    }
}

/// Sets `EPICS_DB_INCLUDE_PATH` in `file` to the support module's db folders.
fn db_include_path(file: &Path, support: &Path) -> Result<Outcome, ExecError> {
    let folders = db_folders(support).map_err(file_err("list the db folders"))?;
    if folders.is_empty() {
        return Ok(Outcome::Skipped("no db folders".into()));
    }
    let old = read_optional(file)?;
    let new = line_in_file(
        old.as_deref(),
        Some("export *EPICS_DB_INCLUDE_PATH.*$"),
        &db_include_line(&folders),
        &Insert::Eof,
    )
    .map_err(regex_err(file))?;
    write_if_changed(file, old.as_deref(), &new)
}

/// Links every visible file of `from` ending in `suffix` into `into`, in name order.
fn link_matching(from: &Path, suffix: &str, into: &Path) -> Result<Outcome, ExecError> {
    let mut names = Vec::new();
    for entry in fs_err::read_dir(from).map_err(file_err("list the ibek-support folder"))? {
        let entry = entry.map_err(file_err("list the ibek-support folder"))?;
        let name = entry.file_name().to_string_lossy().to_string();
        if !name.starts_with('.') && name.ends_with(suffix) && entry.path().is_file() {
            names.push(name);
        }
    }
    names.sort();
    for name in &names {
        symlink(&from.join(name), &into.join(name))?;
    }
    if names.is_empty() {
        Ok(Outcome::Skipped("no such files".into()))
    } else {
        Ok(Outcome::Done(Some(names.join(" "))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::step::Phase;

    /// Records commands; fails the ones whose line contains `fail`.
    #[derive(Default)]
    struct FakeRunner {
        ran: Vec<String>,
        fail: Option<String>,
    }

    impl Runner for FakeRunner {
        fn run(&mut self, cmd: &CommandSpec) -> Result<RunOutput, SpawnError> {
            let line = cmd.command_line();
            self.ran.push(line.clone());
            let failed = self
                .fail
                .as_ref()
                .is_some_and(|f| line.contains(f.as_str()));
            Ok(RunOutput {
                success: !failed,
                code: Some(if failed { 2 } else { 0 }),
                tail: vec!["last words".into()],
            })
        }
    }

    #[derive(Default)]
    struct Log(Vec<String>);

    impl StepLog for Log {
        fn finished(&mut self, step: &Step, outcome: &Outcome, _: Duration) {
            let what = match outcome {
                Outcome::Done(_) => "done".to_string(),
                Outcome::Skipped(why) => format!("skipped: {why}"),
                Outcome::Ignored(_) => "ignored".to_string(),
            };
            self.0.push(format!("{} {what}", step.phase.name()));
        }
        fn failed(&mut self, step: &Step, _: Duration) {
            self.0.push(format!("{} failed", step.phase.name()));
        }
    }

    fn run_step(phase: Phase, line: &str, when: RunIf, ignore_errors: bool) -> Step {
        let words: Vec<&str> = line.split(' ').collect();
        Step {
            phase,
            action: Action::Run {
                command: CommandSpec::new(words[0], words[1..].iter().copied()),
                when,
                ignore_errors,
            },
        }
    }

    #[test]
    fn fresh_clone_steps_follow_the_clone() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("m");
        let steps = [
            run_step(
                Phase::Clone,
                "git clone x",
                RunIf::Absent(dest.clone()),
                false,
            ),
            run_step(Phase::Clone, "git apply p", RunIf::FreshClone, false),
        ];
        let mut runner = FakeRunner::default();
        let mut log = Log::default();
        execute(&steps, &mut runner, &mut log, &ExecOptions::default()).unwrap();
        assert_eq!(runner.ran, ["git clone x", "git apply p"]);

        fs_err::create_dir(&dest).unwrap();
        let mut runner = FakeRunner::default();
        let mut log = Log::default();
        execute(&steps, &mut runner, &mut log, &ExecOptions::default()).unwrap();
        assert!(runner.ran.is_empty());
        assert_eq!(log.0[1], "clone skipped: the clone was already there");
    }

    /// "Clones" by making the folder.
    struct Cloner(PathBuf);
    impl Runner for Cloner {
        fn run(&mut self, cmd: &CommandSpec) -> Result<RunOutput, SpawnError> {
            let ok = cmd.program == "mkdir";
            if ok {
                fs_err::create_dir(&self.0).unwrap();
            }
            Ok(RunOutput {
                success: ok,
                code: Some(i32::from(!ok)),
                tail: Vec::new(),
            })
        }
    }

    #[test]
    fn a_failed_patch_removes_the_fresh_clone() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("m");
        let steps = [
            run_step(
                Phase::Clone,
                "mkdir CLONE",
                RunIf::Absent(dest.clone()),
                false,
            ),
            run_step(
                Phase::Clone,
                "git apply fail.patch",
                RunIf::FreshClone,
                false,
            ),
        ];
        let err = execute(
            &steps,
            &mut Cloner(dest.clone()),
            &mut Log::default(),
            &ExecOptions::default(),
        )
        .unwrap_err();
        assert_eq!(err.removed_clone.as_deref(), Some(dest.as_path()));
        assert!(!dest.exists());
    }

    #[test]
    fn a_failure_stops_unless_ignored() {
        let steps = [
            run_step(Phase::Build, "make fail", RunIf::Always, false),
            run_step(Phase::Build, "make clean", RunIf::Always, false),
        ];
        let mut runner = FakeRunner {
            fail: Some("fail".into()),
            ..FakeRunner::default()
        };
        let mut log = Log::default();
        let err = execute(&steps, &mut runner, &mut log, &ExecOptions::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "build step `make fail` failed: `make fail` exited with status 2"
        );
        assert_eq!(err.source.exit_code(), 2);
        assert_eq!(err.source.tail(), ["last words"]);
        assert_eq!(runner.ran, ["make fail"]);

        let ignored = [run_step(Phase::Build, "make fail", RunIf::Always, true)];
        let mut log = Log::default();
        execute(&ignored, &mut runner, &mut log, &ExecOptions::default()).unwrap();
        assert_eq!(log.0, ["build ignored"]);
    }

    #[test]
    fn file_edits_are_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("configure/lib_list");
        let release = dir.path().join("configure/RELEASE");
        let steps = [
            Step {
                phase: Phase::PostBuild,
                action: Action::RecordLines {
                    file: list.clone(),
                    lines: vec!["asyn".into(), "c++".into()],
                },
            },
            Step {
                phase: Phase::Release,
                action: Action::CreateIfMissing {
                    file: release.clone(),
                    text: "SUPPORT=/s\nASYN = /s/asyn\n".into(),
                },
            },
            Step {
                phase: Phase::Release,
                action: Action::BlankMacro {
                    file: release.clone(),
                    name: "SNCSEQ".into(),
                    module_macro: "ASYN".into(),
                },
            },
        ];
        let mut log = Log::default();
        execute(
            &steps,
            &mut FakeRunner::default(),
            &mut log,
            &ExecOptions::default(),
        )
        .unwrap();
        assert_eq!(fs_err::read_to_string(&list).unwrap(), "asyn\nc++\n");
        assert_eq!(
            fs_err::read_to_string(&release).unwrap(),
            "SUPPORT=/s\nSNCSEQ =\nASYN = /s/asyn\n"
        );
        let mut log = Log::default();
        execute(
            &steps,
            &mut FakeRunner::default(),
            &mut log,
            &ExecOptions::default(),
        )
        .unwrap();
        assert!(log.0.iter().all(|l| l.contains("skipped")), "{:?}", log.0);
    }

    #[test]
    fn task_files_run_through_the_runner_and_end_play_stops_the_build() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.yml");
        fs_err::write(
            &file,
            "- name: build {{ item }}\n  ansible.builtin.command: make {{ item }}\n  args:\n    chdir: /src\n  loop: [a, b]\n\
             - ansible.builtin.set_fact:\n    done: yes\n\
             - meta: end_play\n  when: done | bool\n- shell: never\n",
        )
        .unwrap();
        let steps = [
            Step {
                phase: Phase::PreBuild,
                action: Action::AnsibleTask {
                    file: file.clone(),
                    skipped_by: None,
                },
            },
            Step {
                phase: Phase::Build,
                action: Action::Run {
                    command: CommandSpec::new("make", ["all"]),
                    when: RunIf::Always,
                    ignore_errors: false,
                },
            },
        ];
        let files = crate::build::tasks::load_plan_tasks(&steps).unwrap();
        let options = ExecOptions {
            skip_tasks: false,
            tasks: Some(TaskContext {
                vars: Variables::new(IndexMap::new()),
                files,
                downloader: Downloader::Curl,
            }),
        };
        let mut runner = FakeRunner::default();
        execute(&steps, &mut runner, &mut Log::default(), &options).unwrap();
        assert_eq!(runner.ran, ["make a", "make b"]);

        let mut runner = FakeRunner::default();
        let skip = ExecOptions {
            skip_tasks: true,
            ..options.clone()
        };
        execute(&steps, &mut runner, &mut Log::default(), &skip).unwrap();
        assert_eq!(runner.ran, ["make all"]);

        let listing = describe_plan(&steps, options.tasks.as_ref()).unwrap();
        assert!(
            listing.contains("task `build {{ item }} (item=a)` (")
                && listing.contains("command 'make a' chdir=/src"),
            "{listing}"
        );
        assert!(
            listing.contains("meta end_play  # the build ends here"),
            "{listing}"
        );
        assert!(listing.contains("not reached after end_play"), "{listing}");
        assert!(
            listing.contains("make all  # not reached after end_play"),
            "{listing}"
        );
    }

    #[test]
    fn a_skipped_task_file_is_listed_even_when_it_cannot_be_rendered() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("rtems.yml");
        fs_err::write(
            &file,
            "- name: Cross build\n  shell: make CC={{ rtems_cc }}\n",
        )
        .unwrap();
        let step = |skipped_by: Option<String>| Step {
            phase: Phase::PreBuild,
            action: Action::AnsibleTask {
                file: file.clone(),
                skipped_by,
            },
        };
        let steps = [step(Some("{{ is_rtems }}".into()))];
        let ctx = TaskContext {
            vars: Variables::new(IndexMap::new()),
            files: crate::build::tasks::load_plan_tasks(&steps).unwrap(),
            downloader: Downloader::Curl,
        };
        let listing = describe_plan(&steps, Some(&ctx)).unwrap();
        assert!(
            listing.contains("task `Cross build` (")
                && listing.contains(
                    "cannot be listed: cannot render the command: undefined variable `rtems_cc`"
                ),
            "{listing}"
        );
        // the same file, run: the error stops the listing (and so the build)
        let err = describe_plan(&[step(None)], Some(&ctx)).unwrap_err();
        assert!(
            err.to_string()
                .contains("rtems.yml:1:3: task `Cross build` failed"),
            "{err}"
        );
    }
}
