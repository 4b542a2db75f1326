//! Runs the reference msi and `iocforge msi` on the same files and compares
//! everything they do: stdout, stderr, exit status, and the files left in
//! their working folders (so `-o` outputs and their deletion count too).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use iocforge::db::FileReader;

use super::common;

/// Which msi to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// EPICS base 7.0.8.1 msi.
    Reference,
    /// `iocforge msi`.
    Iocforge,
}

/// What one run did.
#[derive(Debug, Default)]
pub struct Run {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// `None` when killed after the time limit.
    pub status: Option<i32>,
    pub files: BTreeMap<String, Vec<u8>>,
}

/// One invocation: files to create, arguments, environment and stdin.
#[derive(Debug, Default, Clone)]
pub struct Invocation {
    pub files: Vec<(String, Vec<u8>)>,
    pub args: Vec<OsString>,
    pub env: Vec<(String, String)>,
    pub stdin: Vec<u8>,
}

pub fn write_files(dir: &Path, files: &[(String, Vec<u8>)]) {
    for (name, data) in files {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            fs_err::create_dir_all(parent).unwrap();
        }
        if name.ends_with('/') {
            fs_err::create_dir_all(&p).unwrap();
        } else {
            fs_err::write(&p, data).unwrap();
        }
    }
}

fn collect_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let e = e.unwrap();
        let rel = e
            .path()
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if e.file_type().is_file() {
            out.insert(rel, fs_err::read(e.path()).unwrap());
        } else if e.file_type().is_dir() && !rel.is_empty() {
            out.insert(format!("{rel}/"), Vec::new());
        }
    }
    out
}

/// Runs `tool` in a fresh folder holding `inv.files`.
pub fn run(tool: Tool, inv: &Invocation) -> Run {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &inv.files);
    let mut cmd = match tool {
        Tool::Reference => {
            let mut c = common::msi();
            c.env_clear();
            c.env("LD_LIBRARY_PATH", common::epics_root().join("usr/lib"));
            c
        }
        Tool::Iocforge => {
            let mut c = Command::new(common::iocforge());
            c.env_clear();
            c.arg("msi");
            c
        }
    };
    cmd.env("PATH", "/usr/bin:/bin");
    cmd.envs(inv.env.iter().map(|(k, v)| (k, v)));
    let mut child = cmd
        .args(&inv.args)
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = inv.stdin.clone();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out_pipe.read_to_end(&mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err_pipe.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_micros(300));
    };
    let _ = feeder.join();
    Run {
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
        status,
        files: collect_files(dir.path()),
    }
}

/// How to compare stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StderrCheck {
    /// Byte for byte; when msi's errlog thread and its own messages may
    /// race, the same lines in another order are accepted.
    Exact,
    /// Not compared.
    Ignore,
}

fn sorted_lines(b: &[u8]) -> Vec<&[u8]> {
    let mut v: Vec<&[u8]> = b.split(|&c| c == b'\n').collect();
    v.sort_unstable();
    v
}

fn show(b: &[u8]) -> String {
    if b.len() > 3000 {
        format!("{}...", String::from_utf8_lossy(&b[..3000]))
    } else {
        String::from_utf8_lossy(b).into_owned()
    }
}

/// Describes every difference between the runs, or `None` when they agree.
pub fn differences(msi: &Run, ours: &Run, stderr: StderrCheck) -> Option<String> {
    let mut d = Vec::new();
    if msi.status.is_none() {
        d.push("msi did not finish in time".to_string());
    }
    if msi.status != ours.status {
        d.push(format!(
            "exit status: msi {:?}, iocforge {:?}",
            msi.status, ours.status
        ));
    }
    if msi.stdout != ours.stdout {
        d.push(format!(
            "stdout:\n--- msi\n{}\n--- iocforge\n{}",
            show(&msi.stdout),
            show(&ours.stdout)
        ));
    }
    if stderr == StderrCheck::Exact
        && msi.stderr != ours.stderr
        && sorted_lines(&msi.stderr) != sorted_lines(&ours.stderr)
    {
        d.push(format!(
            "stderr:\n--- msi\n{}\n--- iocforge\n{}",
            show(&msi.stderr),
            show(&ours.stderr)
        ));
    }
    if msi.files != ours.files {
        let names = |r: &Run| r.files.keys().cloned().collect::<Vec<_>>();
        let changed: Vec<&String> = msi
            .files
            .iter()
            .filter(|(k, v)| ours.files.get(*k) != Some(v))
            .map(|(k, _)| k)
            .collect();
        d.push(format!(
            "files: msi {:?}, iocforge {:?}, differing {:?}",
            names(msi),
            names(ours),
            changed
        ));
    }
    (!d.is_empty()).then(|| d.join("\n"))
}

/// The folder of the differential fixtures.
pub fn cases_dir() -> PathBuf {
    common::root().join("tests/msi/cases")
}

/// Reads files relative to a folder, as msi would from inside it.
pub struct DirReader {
    pub dir: PathBuf,
    pub env: Vec<(String, String)>,
    pub stdin: Vec<u8>,
}

impl FileReader for DirReader {
    fn read(&mut self, path: &[u8]) -> Option<Vec<u8>> {
        let p = Path::new(std::str::from_utf8(path).ok()?);
        iocforge::db::DiskReader::default().read(self.dir.join(p).to_str()?.as_bytes())
    }

    fn read_stdin(&mut self) -> Vec<u8> {
        self.stdin.clone()
    }

    fn env(&self, name: &[u8]) -> Option<Vec<u8>> {
        self.env
            .iter()
            .find(|(k, _)| k.as_bytes() == name)
            .map(|(_, v)| v.clone().into_bytes())
    }
}

/// Whether msi would never finish on `inv`: iocforge notices the input
/// (`$(A,` ending a value) on which macLib loops forever.
pub fn msi_would_hang(inv: &Invocation) -> bool {
    let args: Vec<Vec<u8>> = inv
        .args
        .iter()
        .map(|a| a.to_str().unwrap().as_bytes().to_vec())
        .collect();
    let Ok(mut config) = iocforge::cli::msi::parse_args(&args) else {
        return false;
    };
    config.descriptors = Some(iocforge::db::msi::DEFAULT_DESCRIPTORS);
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &inv.files);
    let mut reader = DirReader {
        dir: dir.path().to_path_buf(),
        env: inv.env.clone(),
        stdin: inv.stdin.clone(),
    };
    iocforge::db::msi::run(&config, &mut reader).msi_would_hang
}
