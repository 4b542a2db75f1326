//! Ansible task files of ibek-support (`tasks:` of an install.yml), run natively.
//!
//! A few modules ship YAML task files that ibek-support's `support` role
//! includes before or after `make` (`pvxs-tasks.yml`, `pmac-tasks.yml`,
//! `arvlib_task.yml`, ...). iocforge reads them here (`parse.rs`: the
//! subset of Ansible they use, checked in full before anything runs, so an
//! unknown module or keyword is an error at its `file:line:col`), then
//! carries them out in the role's variable scope (`run.rs`, with the
//! file-system modules in `files.rs`): `when` and loops are Jinja through
//! `vars.rs`, commands go through the build's [`Runner`](super::command::Runner)
//! like every other command, and `--dry-run` lists each task with its
//! resolved arguments without touching the disk.

mod files;
mod parse;
mod run;

pub use parse::{load_task_file, parse_task_file, Module, Task, TaskBody, TaskFile};
pub use run::{describe_tasks, run_tasks, TaskError, TaskEvent, TaskFlow, TaskLog};

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::step::{Action, Step};
use crate::diag::Diagnostics;

/// Loads and checks every task file a plan names (those a `when` skips
/// too), so that a bad one fails the build before its first step.
pub fn load_plan_tasks(steps: &[Step]) -> Result<BTreeMap<PathBuf, TaskFile>, Diagnostics> {
    let mut files = BTreeMap::new();
    let mut diags = Diagnostics::default();
    for step in steps {
        if let Action::AnsibleTask { file, .. } = &step.action {
            if files.contains_key(file) {
                continue;
            }
            match load_task_file(file) {
                Ok(tf) => {
                    files.insert(file.clone(), tf);
                }
                Err(d) => diags.0.extend(d.0),
            }
        }
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(files)
    }
}
