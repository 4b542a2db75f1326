//! The steps of a support build as plain data: which part of ibek-support's
//! `support` role a [`Step`] belongs to ([`Phase`]), what it does
//! ([`Action`]) and how it prints in `--dry-run` listings and build logs.
//! `plan.rs` makes them, `executor.rs` carries them out.

use std::fmt;
use std::path::{Path, PathBuf};

use super::command::CommandSpec;
use super::patch::Insert;

/// The task file of ibek-support's `support` role a step comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// `system.yml`: apt installs and the runtime package record.
    System,
    /// `clone.yml`: git clone and `patch_file`.
    Clone,
    /// `pre_build.yml` (and pre-build `tasks`).
    PreBuild,
    /// `release.yml`: the global RELEASE and the module's link to it.
    Release,
    /// `build.yml`: make.
    Build,
    /// `post_build.yml` (and post-build `tasks`).
    PostBuild,
    /// `runtime.yml`: links and copies for IOC start.
    Runtime,
}

impl Phase {
    /// The phase's name as logs and plans print it.
    pub fn name(self) -> &'static str {
        match self {
            Phase::System => "system",
            Phase::Clone => "clone",
            Phase::PreBuild => "pre-build",
            Phase::Release => "release",
            Phase::Build => "build",
            Phase::PostBuild => "post-build",
            Phase::Runtime => "runtime",
        }
    }
}

/// When a command runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunIf {
    /// Always.
    Always,
    /// Only when this path does not exist (the clone is kept, as ibek-support does).
    Absent(PathBuf),
    /// Only when this build cloned the module (commit checkout, `patch_file`).
    FreshClone,
}

/// What a step does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Runs a command.
    Run {
        /// The command.
        command: CommandSpec,
        /// When it runs.
        when: RunIf,
        /// A failure is reported but does not stop the build.
        ignore_errors: bool,
    },
    /// `apt-get update` once per container build: skipped while `sentinel` exists.
    AptUpdate {
        /// The command.
        command: CommandSpec,
        /// Touched after a successful update.
        sentinel: PathBuf,
    },
    /// Makes sure each line is in `file` once (a list file of the support tree).
    RecordLines {
        /// The list file.
        file: PathBuf,
        /// The lines.
        lines: Vec<String>,
    },
    /// Deletes a file or folder if it exists.
    Remove {
        /// What to delete.
        path: PathBuf,
    },
    /// Comments out lines containing a match of `regexp`.
    CommentOut {
        /// The file.
        file: PathBuf,
        /// The regexp.
        regexp: String,
    },
    /// Ansible `lineinfile` (see `patch.rs`).
    LineInFile {
        /// The file (created when missing).
        file: PathBuf,
        /// The last matching line is replaced.
        regexp: Option<String>,
        /// The line to have.
        line: String,
        /// Where an unmatched line goes.
        insert: Insert,
    },
    /// Ansible `blockinfile` (see `patch.rs`).
    BlockInFile {
        /// The file (created when missing).
        file: PathBuf,
        /// The block text.
        block: String,
        /// Marker template with `{mark}`.
        marker: String,
        /// `EOF` or the regexp of the line to insert after.
        insert_after: String,
    },
    /// Writes `text` to `file` unless the file exists.
    CreateIfMissing {
        /// The file.
        file: PathBuf,
        /// Its first contents.
        text: String,
    },
    /// Makes `link` a symlink to `target`, replacing what is there.
    Symlink {
        /// What the link points at.
        target: PathBuf,
        /// The link.
        link: PathBuf,
    },
    /// `remove_macros`: blanks `name` in the global RELEASE unless it is set.
    BlankMacro {
        /// The global RELEASE.
        file: PathBuf,
        /// The macro to blank.
        name: String,
        /// This module's macro, before which the blank goes.
        module_macro: String,
    },
    /// Sets `EPICS_DB_INCLUDE_PATH` in `file` to every `support/*/db`.
    DbIncludePath {
        /// RELEASE.shell.
        file: PathBuf,
        /// The support folder.
        support: PathBuf,
    },
    /// `mkdir -p`.
    MakeDirs {
        /// The folders.
        dirs: Vec<PathBuf>,
    },
    /// Symlinks every file of `from` whose name ends with `suffix` into `into`.
    LinkMatching {
        /// The module's ibek-support folder.
        from: PathBuf,
        /// `.ibek.support.yaml`, `.pvi.device.yaml`, `.req`.
        suffix: String,
        /// The destination folder.
        into: PathBuf,
    },
    /// Copies a file into a folder.
    CopyInto {
        /// The file.
        file: PathBuf,
        /// The folder.
        dir: PathBuf,
    },
    /// An Ansible task file from `tasks`, run by `build::tasks`.
    AnsibleTask {
        /// The task file.
        file: PathBuf,
        /// The install.yml's `when` of the file, when it is false: the file
        /// is checked and listed but does not run.
        skipped_by: Option<String>,
    },
}

/// One step of a module's build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Which part of the role it belongs to.
    pub phase: Phase,
    /// What it does.
    pub action: Action,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = |p: &Path| p.display().to_string();
        match self {
            Action::Run {
                command,
                when,
                ignore_errors,
            } => {
                write!(f, "{command}")?;
                match when {
                    RunIf::Always => {}
                    RunIf::Absent(path) => write!(f, "  # unless {} exists", p(path))?,
                    RunIf::FreshClone => f.write_str("  # after a fresh clone")?,
                }
                if *ignore_errors {
                    f.write_str("  # errors ignored")?;
                }
                Ok(())
            }
            Action::AptUpdate { command, sentinel } => {
                write!(f, "{command}  # once, unless {} exists", p(sentinel))
            }
            Action::RecordLines { file, lines } => {
                write!(f, "record {} in {}", lines.join(" "), p(file))
            }
            Action::Remove { path } => write!(f, "rm -rf {}", p(path)),
            Action::CommentOut { file, regexp } => {
                write!(f, "comment out lines matching /{regexp}/ in {}", p(file))
            }
            Action::LineInFile {
                file,
                regexp,
                line,
                insert,
            } => {
                write!(f, "line `{line}` in {}", p(file))?;
                if let Some(r) = regexp {
                    write!(f, " replacing /{r}/")?;
                }
                match insert {
                    Insert::Eof => Ok(()),
                    Insert::Before(r) => write!(f, " before /{r}/"),
                    Insert::After(r) => write!(f, " after /{r}/"),
                }
            }
            Action::BlockInFile {
                file,
                block,
                marker,
                insert_after,
            } => {
                write!(
                    f,
                    "block `{}` ({} line{}) in {}",
                    marker.replace("{mark}", "BEGIN"),
                    block.lines().count(),
                    if block.lines().count() == 1 { "" } else { "s" },
                    p(file)
                )?;
                if insert_after != "EOF" {
                    write!(f, " after /{insert_after}/")?;
                }
                Ok(())
            }
            Action::CreateIfMissing { file, .. } => {
                write!(f, "create {} unless it exists", p(file))
            }
            Action::Symlink { target, link } => write!(f, "ln -sfn {} {}", p(target), p(link)),
            Action::BlankMacro { file, name, .. } => {
                write!(f, "blank `{name} =` in {} unless set", p(file))
            }
            Action::DbIncludePath { file, support } => write!(
                f,
                "EPICS_DB_INCLUDE_PATH of {}/*/db in {}",
                p(support),
                p(file)
            ),
            Action::MakeDirs { dirs } => {
                let all: Vec<String> = dirs.iter().map(|d| p(d)).collect();
                write!(f, "mkdir -p {}", all.join(" "))
            }
            Action::LinkMatching { from, suffix, into } => {
                write!(f, "link {}/*{suffix} into {}", p(from), p(into))
            }
            Action::CopyInto { file, dir } => write!(f, "cp {} {}/", p(file), p(dir)),
            Action::AnsibleTask { file, skipped_by } => {
                write!(f, "ansible tasks {}", p(file))?;
                if let Some(w) = skipped_by {
                    write!(f, "  # skipped: `when: {}` is false", w.trim())?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<10} {}", self.phase.name(), self.action)
    }
}
