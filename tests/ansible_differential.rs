//! iocforge's task-file executor against real Ansible (ansible-core, from
//! `.ci/setup`): each module of `tests/ansible/` runs through both, for a
//! linux and an RTEMS target, and both must leave the same tree (kinds,
//! modes, contents, link targets) and run the same commands in the same
//! order. Ansible runs `playbook.yml`, which includes the task files as
//! ibek-support's `support` role does; iocforge runs the task steps of its
//! own plan with a recording runner in place of the commands.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use iocforge::build::command::{CommandSpec, RunOutput, Runner, SpawnError};
use iocforge::build::executor::{execute, ExecOptions, Outcome, StepLog, TaskContext};
use iocforge::build::step::{Action, Step};
use iocforge::build::tasks::load_plan_tasks;
use iocforge::build::vars::Variables;
use iocforge::build::{load_install, plan, resolve_install, BuildEnv, Downloader};

const MODULES: &[&str] = &[
    "fileops", "lines", "transfer", "commands", "control", "targets", "pcre",
];
const TARGETS: &[&str] = &["linux-x86_64", "RTEMS-beatnik"];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ansible")
}

fn ansible_playbook() -> PathBuf {
    let p = common::tools().join("ansible/bin/ansible-playbook");
    assert!(
        p.exists(),
        "ansible-playbook not found at {}: run `.ci/setup` first",
        p.display()
    );
    p
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let dest = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            fs_err::create_dir_all(&dest).unwrap();
        } else {
            fs_err::copy(entry.path(), &dest).unwrap();
        }
    }
}

/// `root/` afresh: the module's ibek-support folder, its seed and the archive.
fn prepare(base: &Path, module: &str, archive: &Path) -> PathBuf {
    let root = base.join("root");
    if root.exists() {
        fs_err::remove_dir_all(&root).unwrap();
    }
    let folder = root.join("src/ibek-support").join(module);
    copy_dir(&fixtures().join(module), &folder);
    let seed = folder.join("seed");
    if seed.exists() {
        copy_dir(&seed, &root);
        fs_err::remove_dir_all(&seed).unwrap();
    }
    fs_err::create_dir_all(root.join("epics/support")).unwrap();
    fs_err::copy(archive, root.join("src/pkg-1.0.tar.gz")).unwrap();
    root
}

/// Every path under `root/epics`: kind, mode, contents or link target.
fn snapshot(root: &Path) -> String {
    let mut out = String::new();
    let epics = root.join("epics");
    let mut entries: Vec<_> = walkdir::WalkDir::new(&epics)
        .sort_by_file_name()
        .into_iter()
        .map(Result::unwrap)
        .collect();
    entries.sort_by(|a, b| a.path().cmp(b.path()));
    for e in entries {
        let rel = e.path().strip_prefix(&epics).unwrap().display().to_string();
        let meta = fs_err::symlink_metadata(e.path()).unwrap();
        let mode = meta.permissions().mode() & 0o7777;
        if meta.file_type().is_symlink() {
            let target = fs_err::read_link(e.path()).unwrap();
            let _ = writeln!(out, "{rel} -> {}", target.display());
        } else if meta.is_dir() {
            let _ = writeln!(out, "{rel}/ {mode:o}");
        } else {
            let text = String::from_utf8_lossy(&fs_err::read(e.path()).unwrap()).into_owned();
            let _ = writeln!(out, "{rel} {mode:o} {text:?}");
        }
    }
    out
}

#[allow(clippy::disallowed_methods)] // the test's own PATH, extended
fn run_ansible(base: &Path, root: &Path, module: &str, arch: &str) -> String {
    let bin = base.join("bin");
    fs_err::create_dir_all(&bin).unwrap();
    let record = bin.join("record");
    fs_err::write(
        &record,
        "#!/bin/sh\nprintf '%s|%s\\n' \"$(pwd -P)\" \"$*\" >> \"$RECORD_LOG\"\n",
    )
    .unwrap();
    fs_err::set_permissions(&record, std::fs::Permissions::from_mode(0o755)).unwrap();
    let log = base.join("ansible.log");
    let _ = fs_err::remove_file(&log);
    let playbook = ansible_playbook();
    let python = playbook.with_file_name("python");
    let path = format!(
        "{}:{}:{}",
        bin.display(),
        playbook.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let home = base.join("home");
    fs_err::create_dir_all(&home).unwrap();
    let out = Command::new(&playbook)
        .arg(fixtures().join("playbook.yml"))
        .args(["-i", "localhost,", "-c", "local"])
        .arg("-e")
        .arg(format!(
            "root={} module_name={module} ansible_python_interpreter={}",
            root.display(),
            python.display()
        ))
        .current_dir(root)
        .env("PATH", path)
        .env("HOME", &home)
        .env("RECORD_LOG", &log)
        .env("EPICS_TARGET_ARCH", arch)
        .env("ANSIBLE_LOCAL_TEMP", home.join("tmp"))
        .env("ANSIBLE_REMOTE_TEMP", home.join("tmp"))
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_LOCALHOST_WARNING", "false")
        .env("ANSIBLE_INVENTORY_UNPARSED_WARNING", "false")
        .env("ANSIBLE_RETRY_FILES_ENABLED", "false")
        .output()
        .expect("ansible-playbook runs");
    assert!(
        out.status.success(),
        "ansible failed on {module} {arch}:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    fs_err::read_to_string(&log).unwrap_or_default()
}

/// Writes `DIR|WORDS` for each `record WORDS` command, as the script does.
struct Recorder {
    cwd: PathBuf,
    lines: String,
}

impl Runner for Recorder {
    fn run(&mut self, cmd: &CommandSpec) -> Result<RunOutput, SpawnError> {
        let words: Vec<String> = if cmd.args.first().map(String::as_str) == Some("-c") {
            shell_words::split(&cmd.args[1]).expect("a fixture command splits into words")
        } else {
            std::iter::once(cmd.program.clone())
                .chain(cmd.args.iter().cloned())
                .collect()
        };
        assert_eq!(
            words[0], "record",
            "fixture commands are `record ...`: {cmd}"
        );
        let dir = cmd.cwd.clone().unwrap_or_else(|| self.cwd.clone());
        let _ = writeln!(self.lines, "{}|{}", dir.display(), words[1..].join(" "));
        Ok(RunOutput {
            success: true,
            code: Some(0),
            tail: Vec::new(),
        })
    }
}

struct Quiet;

impl StepLog for Quiet {
    fn finished(&mut self, _: &Step, _: &Outcome, _: std::time::Duration) {}
    fn failed(&mut self, _: &Step, _: std::time::Duration) {}
}

fn run_iocforge(root: &Path, module: &str, arch: &str) -> String {
    let folder = root.join("src/ibek-support").join(module);
    let file = load_install(&folder.join(format!("{module}.install.yml"))).unwrap();
    let mut env = BuildEnv::new(&root.join("epics"), &folder);
    env.target_arch = arch.to_string();
    let spec = resolve_install(&file, &env, None).unwrap();
    let steps: Vec<Step> = plan(&spec, &env)
        .into_iter()
        .filter(|s| matches!(s.action, Action::AnsibleTask { .. }))
        .collect();
    let options = ExecOptions {
        skip_tasks: false,
        tasks: Some(TaskContext {
            files: load_plan_tasks(&steps).unwrap(),
            vars: Variables::for_install(&file, &env, None),
            downloader: Downloader::Curl,
        }),
    };
    let mut recorder = Recorder {
        cwd: root.to_path_buf(),
        lines: String::new(),
    };
    execute(&steps, &mut recorder, &mut Quiet, &options)
        .unwrap_or_else(|e| panic!("iocforge failed on {module} {arch}: {e}"));
    recorder.lines
}

#[test]
fn iocforge_and_ansible_leave_the_same_trees_and_run_the_same_commands() {
    let dir = tempfile::tempdir().unwrap();
    let base = fs_err::canonicalize(dir.path()).unwrap();
    // one archive for both runs
    let archive = base.join("pkg-1.0.tar.gz");
    let tar = Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(fixtures().join("transfer/pkg"))
        .arg("pkg-1.0")
        .status()
        .unwrap();
    assert!(tar.success());

    let mut results: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut differences = Vec::new();
    for module in MODULES {
        for arch in TARGETS {
            let root = prepare(&base, module, &archive);
            let ansible_log = run_ansible(&base, &root, module, arch);
            let ansible_tree = snapshot(&root);
            let root = prepare(&base, module, &archive);
            let iocforge_log = run_iocforge(&root, module, arch);
            let iocforge_tree = snapshot(&root);
            if ansible_tree != iocforge_tree || ansible_log != iocforge_log {
                differences.push(format!(
                    "{module} {arch}:\n--- ansible tree\n{ansible_tree}--- iocforge tree\n{iocforge_tree}\
                     --- ansible commands\n{ansible_log}--- iocforge commands\n{iocforge_log}"
                ));
            }
            results.insert(format!("{module} {arch}"), (ansible_tree, ansible_log));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));

    // the runs did something worth comparing
    let (tree, log) = &results["control RTEMS-beatnik"];
    assert!(
        !tree.contains("post.flag"),
        "end_play stops the post-build file: {tree}"
    );
    assert!(!log.contains("after end_play"), "{log}");
    let (tree, log) = &results["control linux-x86_64"];
    assert!(
        tree.contains("post.flag") && log.contains("after end_play"),
        "{tree}{log}"
    );
    let (_, log) = &results["commands linux-x86_64"];
    assert!(
        log.contains("creates absent") && !log.contains("should not run"),
        "{log}"
    );
    let (tree, _) = &results["fileops linux-x86_64"];
    assert!(tree.contains("support/fileops/stale.txt -> "), "{tree}");
    let (tree, log) = &results["pcre RTEMS-beatnik"];
    assert!(
        tree.contains("RTEMS-beatnik/libpcre.a -> ") && tree.contains("RTEMS-beatnik.flag"),
        "{tree}"
    );
    assert!(
        !log.contains("configure") && log.contains("all hold 2"),
        "{log}"
    );
    let (tree, _) = &results["transfer linux-x86_64"];
    assert!(tree.contains("support/transfer/pkg-1.0/src/x.c"), "{tree}");
}
