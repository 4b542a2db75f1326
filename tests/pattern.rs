//! `pattern` commands side by side with ibek 4.8.2: the same steps on two
//! copies of a destination, one per tool, must leave the same files (the
//! destination and the base-schema cache, byte for byte) and the same exit
//! codes after every step.
//!
//! The pattern libraries are git repositories this test creates; ibek's
//! default library URLs (and a third one) are pointed at them with git's
//! `url.<base>.insteadOf`, so both tools clone through the `git` program as
//! they would from GitHub. Published base schemas come from an HTTP server on
//! 127.0.0.1: iocforge takes its host from `IOCFORGE_SCHEMA_BASE_URL`, ibek
//! from `tests/pattern/ibek_oracle.py`, which patches its fixed github.com URL.
//!
//! Run with `IOCFORGE_TOOLS=/work/main/.tools cargo test --test pattern`.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

const STREAMDEVICE: &str = "https://github.com/epics-containers/ibek-runtime-streamdevice";
const SUPPORT: &str = "https://github.com/epics-containers/ibek-runtime-support";
const MYLIB: &str = "https://example.invalid/mylib";
const IMAGE: &str = "ghcr.io/epics-containers/ioc-test-runtime:2025.1.1";

fn fixture(name: &str) -> String {
    fs_err::read_to_string(common::root().join("tests/pattern").join(name)).unwrap()
}

// ---------------------------------------------------------------- libraries

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=test",
            "-c",
            "user.email=test@example.invalid",
        ])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn write(path: &Path, text: &str) {
    fs_err::create_dir_all(path.parent().unwrap()).unwrap();
    fs_err::write(path, text).unwrap();
}

fn commit_tag(repo: &Path, tag: &str) {
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-qm", tag]);
    git(repo, &["tag", tag]);
}

const TPG_MANIFEST: &str = r"version: 1
vendor:
  - src: '(.*)\.proto'
    dest: 'config/protocol/\1.proto'
  - src: '.*\.ibek\.support\.yaml'
    dest: config/
  - src: 'db/.*'
    dest: config
  - src: 'README\.md'
    dest: docs/tpg300.md
";

/// The libraries, built once per test process: `streamdevice`, `support`
/// and `mylib` are git repositories; `locallib` is a plain folder.
fn libraries() -> &'static Path {
    static LIBS: OnceLock<PathBuf> = OnceLock::new();
    LIBS.get_or_init(|| {
        let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        // earlier runs' libraries go (one test process builds them at a time)
        if let Ok(entries) = fs_err::read_dir(&tmp) {
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().starts_with("pattern-libs-") {
                    let _ = fs_err::remove_dir_all(e.path());
                }
            }
        }
        let root = tmp.join(format!("pattern-libs-{}", std::process::id()));
        // streamdevice: lakeshore340 (no manifest), tpg300 (manifest); 1.0.0 and 2.0.0
        let sd = root.join("streamdevice");
        fs_err::create_dir_all(&sd).unwrap();
        git(&sd, &["init", "-q"]);
        write(
            &sd.join("lakeshore340/lakeshore340.ibek.support.yaml"),
            &fixture("lakeshore340.ibek.support.yaml"),
        );
        write(&sd.join("lakeshore340/lakeshore340.proto"), "Terminator = CR LF;\n");
        write(&sd.join("lakeshore340/db/ls340.template"), "record(ai, \"$(P):T\") {}\n");
        write(&sd.join("tpg300/ibek.manifest.yaml"), TPG_MANIFEST);
        write(
            &sd.join("tpg300/tpg300.ibek.support.yaml"),
            &fixture("tpg300.ibek.support.yaml"),
        );
        write(&sd.join("tpg300/tpg300.proto"), "ReplyTimeout = 1000;\n");
        write(&sd.join("tpg300/db/tpg300.template"), "record(ai, \"$(P):P\") {}\n");
        write(&sd.join("tpg300/db/extra.template"), "record(bo, \"$(P):X\") {}\n");
        write(&sd.join("tpg300/README.md"), "# TPG300\n");
        write(&sd.join("tpg300/tests/test_tpg.py"), "assert True\n");
        commit_tag(&sd, "1.0.0");
        write(&sd.join("lakeshore340/lakeshore340.proto"), "Terminator = LF;\n");
        fs_err::remove_file(sd.join("lakeshore340/db/ls340.template")).unwrap();
        write(&sd.join("lakeshore340/db/ls340_new.template"), "record(ai, \"$(P):T2\") {}\n");
        write(&sd.join("tpg300/README.md"), "# TPG300 v2\n");
        commit_tag(&sd, "2.0.0");

        // support: a manifest with named-group substitutions and a file dest
        let su = root.join("support");
        fs_err::create_dir_all(&su).unwrap();
        git(&su, &["init", "-q"]);
        write(
            &su.join("detectorPlugins/ibek.manifest.yaml"),
            "version: 1\nvendor:\n  - src: '(?P<stem>[^/]+)\\.template'\n    dest: 'config/plugins/\\g<stem>.template'\n  - src: 'plugins\\.ibek\\.support\\.yaml'\n    dest: config/detectorPlugins.ibek.support.yaml\n  - src: 'extra/.*'\n    dest: config/extra/\n",
        );
        write(&su.join("detectorPlugins/stats.template"), "# stats\n");
        write(&su.join("detectorPlugins/roi.template"), "# roi\n");
        write(&su.join("detectorPlugins/extra/a.req"), "a\n");
        write(&su.join("detectorPlugins/extra/b.req"), "b\n");
        write(&su.join("detectorPlugins/notes.txt"), "not vendored\n");
        write(
            &su.join("detectorPlugins/plugins.ibek.support.yaml"),
            &fixture("tpg300.ibek.support.yaml").replace("tpg300", "plugins"),
        );
        commit_tag(&su, "1.0.0");

        // mylib: broken patterns, each the mistake its name says
        let my = root.join("mylib");
        fs_err::create_dir_all(&my).unwrap();
        git(&my, &["init", "-q"]);
        write(&my.join("badversion/ibek.manifest.yaml"), "version: 2\nvendor:\n  - src: '.*'\n    dest: config\n");
        write(&my.join("badversion/a.txt"), "a\n");
        write(&my.join("badregex/ibek.manifest.yaml"), "version: 1\nvendor:\n  - src: '(a'\n    dest: config\n");
        write(&my.join("badregex/a.txt"), "a\n");
        write(&my.join("collide/ibek.manifest.yaml"), "version: 1\nvendor:\n  - src: '.*\\.txt'\n    dest: config/one.txt\n");
        write(&my.join("collide/a.txt"), "a\n");
        write(&my.join("collide/b.txt"), "b\n");
        write(&my.join("nothing/ibek.manifest.yaml"), "version: 1\nvendor:\n  - src: 'nomatch'\n    dest: config\n");
        write(&my.join("nothing/a.txt"), "a\n");
        write(&my.join("escape/ibek.manifest.yaml"), "version: 1\nvendor:\n  - src: '(.*)'\n    dest: '../\\1'\n");
        write(&my.join("escape/a.txt"), "a\n");
        write(&my.join("misrouted/ibek.manifest.yaml"), "version: 1\nvendor:\n  - src: '.*'\n    dest: config/sub/\n");
        write(&my.join("misrouted/x.ibek.support.yaml"), "module: x\nentity_models: []\n");
        write(&my.join("good/a.txt"), "a\n");
        write(&my.join("good/sub/b.txt"), "b\n");
        write(&my.join("zgood/z.txt"), "z\n");
        commit_tag(&my, "0.1");

        let local = root.join("locallib/simple");
        write(&local.join("simple.db"), "record(ao, \"X\") {}\n");
        write(&local.join("sub/more.db"), "record(ao, \"Y\") {}\n");

        let cfg = format!(
            "[url \"file://{0}/streamdevice\"]\n\tinsteadOf = {STREAMDEVICE}\n[url \"file://{0}/support\"]\n\tinsteadOf = {SUPPORT}\n[url \"file://{0}/mylib\"]\n\tinsteadOf = {MYLIB}\n[protocol \"file\"]\n\tallow = always\n[advice]\n\tdetachedHead = false\n",
            root.display()
        );
        write(&root.join("gitconfig"), &cfg);
        root
    })
}

// ---------------------------------------------------------------- HTTP server

#[derive(Debug, Clone)]
enum Mode {
    Serve,
    Status(u16),
}

#[derive(Debug)]
struct ServerState {
    mode: Mode,
    body: Vec<u8>,
    etag: String,
    last_modified: String,
    /// `(path, If-None-Match, If-Modified-Since)` of every request
    requests: Vec<(String, Option<String>, Option<String>)>,
}

struct Server {
    url: String,
    state: Arc<Mutex<ServerState>>,
}

fn handle(stream: TcpStream, state: &Mutex<ServerState>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut path = line.split_whitespace().nth(1).unwrap_or("").to_string();
    if line.starts_with("CONNECT ") {
        // a proxy tunnel: accept it, then serve the request that follows
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                break;
            }
        }
        let mut s = stream.try_clone().unwrap();
        let _ = s.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
        let mut next = String::new();
        if reader.read_line(&mut next).is_err() {
            return;
        }
        path = format!(
            "CONNECT {path} {}",
            next.split_whitespace().nth(1).unwrap_or("")
        );
    }
    let mut inm = None;
    let mut ims = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.trim_end().split_once(':') {
            match k.to_ascii_lowercase().as_str() {
                "if-none-match" => inm = Some(v.trim().to_string()),
                "if-modified-since" => ims = Some(v.trim().to_string()),
                _ => {}
            }
        }
    }
    let mut st = state.lock().unwrap();
    st.requests.push((path, inm.clone(), ims));
    let (status, reason, body, validators) = match st.mode {
        Mode::Status(code) => (code, "Test Status", b"nope".to_vec(), false),
        Mode::Serve if inm.as_deref() == Some(st.etag.as_str()) => {
            (304, "Not Modified", Vec::new(), false)
        }
        Mode::Serve => (200, "OK", st.body.clone(), true),
    };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if validators {
        head.push_str(&format!(
            "ETag: {}\r\nLast-Modified: {}\r\nContent-Type: application/json\r\n",
            st.etag, st.last_modified
        ));
    }
    head.push_str("\r\n");
    drop(st);
    let mut stream = stream;
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
    let _ = stream.flush();
}

impl Server {
    fn start(body: Vec<u8>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(ServerState {
            mode: Mode::Serve,
            body,
            etag: "\"v1\"".into(),
            last_modified: "Wed, 01 Jan 2025 00:00:00 GMT".into(),
            requests: Vec::new(),
        }));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                handle(stream, &shared);
            }
        });
        Server { url, state }
    }

    fn set(&self, f: impl FnOnce(&mut ServerState)) {
        f(&mut self.state.lock().unwrap());
    }

    fn requests(&self) -> Vec<(String, Option<String>, Option<String>)> {
        self.state.lock().unwrap().requests.clone()
    }
}

/// A loopback URL nothing listens on: "no network".
fn dead_url() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    drop(l);
    url
}

/// The base schema the test image "publishes": ibek's schema for base.ibek.support.yaml.
fn base_schema(extra_module: bool) -> Vec<u8> {
    static BASES: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    let (a, b) = BASES.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("base.ibek.support.yaml");
        fs_err::write(&base, fixture("base.ibek.support.yaml")).unwrap();
        let tpg = dir.path().join("tpg300.ibek.support.yaml");
        fs_err::write(&tpg, fixture("tpg300.ibek.support.yaml")).unwrap();
        let gen = |files: &[&Path]| {
            let out = Command::new(common::ibek())
                .args(["ioc", "generate-schema", "--no-ibek-defs"])
                .args(files)
                .output()
                .unwrap();
            assert!(out.status.success());
            out.stdout
        };
        (gen(&[&base]), gen(&[&base, &tpg]))
    });
    if extra_module {
        b.clone()
    } else {
        a.clone()
    }
}

// ---------------------------------------------------------------- the two sides

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tool {
    Ibek,
    Iocforge,
}

struct Side {
    tool: Tool,
    dest: PathBuf,
    cache: PathBuf,
}

struct Case {
    _dir: tempfile::TempDir,
    root: PathBuf,
    sides: [Side; 2],
    base_url: String,
    env: Vec<(String, String)>,
}

/// What one run printed.
struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Case {
    /// Two empty destinations (`instance` adds values.yaml pinning IMAGE and config/ioc.yaml).
    fn new(instance: bool) -> Case {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let mk = |tool: Tool, name: &str| {
            let dest = root.join(name).join("bl01t-ea-ioc-01");
            fs_err::create_dir_all(&dest).unwrap();
            if instance {
                write(
                    &dest.join("values.yaml"),
                    &format!("ioc-instance:\n  image: {IMAGE}\n"),
                );
                write(
                    &dest.join("config/ioc.yaml"),
                    "# yaml-language-server: $schema=https://example.invalid/old.json\nioc_name: test\nentities: []\n",
                );
            }
            Side {
                tool,
                dest,
                cache: root.join(name).join("cache"),
            }
        };
        let sides = [mk(Tool::Ibek, "ibek"), mk(Tool::Iocforge, "iocforge")];
        Case {
            _dir: dir,
            root,
            sides,
            base_url: dead_url(),
            env: Vec::new(),
        }
    }

    fn env(mut self, k: &str, v: &str) -> Case {
        self.env.push((k.into(), v.into()));
        self
    }

    fn run_one(&self, side: &Side, args: &[&str], extra_env: &[(&str, &str)]) -> Outcome {
        let libs = libraries();
        let mut cmd = match side.tool {
            Tool::Ibek => {
                let mut c = Command::new(common::ibek_python());
                c.arg(common::root().join("tests/pattern/ibek_oracle.py"));
                c
            }
            Tool::Iocforge => Command::new(common::iocforge()),
        };
        let args: Vec<String> = args
            .iter()
            .map(|a| a.replace("DEST", &side.dest.display().to_string()))
            .collect();
        cmd.args(&args).current_dir(&self.root);
        for k in [
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
            "ALL_PROXY",
            "all_proxy",
            "NO_PROXY",
            "no_proxy",
            "IBEK_ALLOW_DIRTY",
            "IBEK_PATTERN_LIBRARIES",
        ] {
            cmd.env_remove(k);
        }
        cmd.env("GIT_CONFIG_GLOBAL", libs.join("gitconfig"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("HOME", self.root.join("home"))
            .env("IBEK_SCHEMA_CACHE", &side.cache)
            .env("PATTERN_TEST_BASE_URL", &self.base_url)
            .env("IOCFORGE_SCHEMA_BASE_URL", &self.base_url)
            .env(
                "IBEK_PATTERN_LIBRARIES",
                format!("mylib={MYLIB},local={}", libs.join("locallib").display()),
            )
            .env("NO_COLOR", "1");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        Outcome {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs a command on both sides; the exit codes and all files must agree.
    fn run(&self, args: &[&str]) -> [Outcome; 2] {
        self.run_env(args, &[])
    }

    fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> [Outcome; 2] {
        let a = self.run_one(&self.sides[0], args, env);
        let b = self.run_one(&self.sides[1], args, env);
        assert_eq!(
            a.code, b.code,
            "exit codes differ for {args:?}\n--- ibek stdout:\n{}\n--- ibek stderr:\n{}\n--- iocforge stderr:\n{}",
            a.stdout, a.stderr, b.stderr
        );
        self.same_files(args);
        [a, b]
    }

    fn same_files(&self, args: &[&str]) {
        for (what, x, y) in [
            ("destination", &self.sides[0].dest, &self.sides[1].dest),
            ("schema cache", &self.sides[0].cache, &self.sides[1].cache),
        ] {
            let fa = tree(x);
            let fb = tree(y);
            let ka: Vec<&String> = fa.keys().collect();
            let kb: Vec<&String> = fb.keys().collect();
            assert_eq!(ka, kb, "{what} files differ after {args:?}");
            for (k, va) in &fa {
                let vb = &fb[k];
                assert!(
                    va == vb,
                    "{what} file {k} differs after {args:?}: {}",
                    common::first_difference(va, vb)
                );
            }
        }
    }

    /// Applies the same change to both destinations.
    fn edit(&self, rel: &str, text: Option<&str>) {
        for s in &self.sides {
            let p = s.dest.join(rel);
            match text {
                Some(t) => write(&p, t),
                None => fs_err::remove_file(&p).unwrap(),
            }
        }
    }

    /// Replaces text in a file of both destinations.
    fn replace(&self, rel: &str, from: &str, to: &str) {
        for s in &self.sides {
            let p = s.dest.join(rel);
            let t = fs_err::read_to_string(&p).unwrap();
            assert!(t.contains(from), "{rel} has no {from:?}:\n{t}");
            fs_err::write(&p, t.replace(from, to)).unwrap();
        }
    }

    fn iocforge_dest(&self) -> &Path {
        &self.sides[1].dest
    }
}

/// Every file under `dir` (symlinks as their target text), by relative path.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    if !dir.exists() {
        return out;
    }
    for e in walkdir::WalkDir::new(dir).min_depth(1) {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
        if e.file_type().is_dir() {
            out.insert(format!("{rel}/"), Vec::new());
        } else {
            let mut bytes = Vec::new();
            fs_err::File::open(e.path())
                .unwrap()
                .read_to_end(&mut bytes)
                .unwrap();
            out.insert(rel, bytes);
        }
    }
    out
}

/// The `warning:` / `error:` lines of a `check` (ibek prints warnings on
/// stdout, iocforge on stderr; iocforge adds a summary error with a hint).
fn check_lines(o: &Outcome, tool: Tool) -> (Vec<String>, Vec<String>) {
    let text = match tool {
        Tool::Ibek => format!("{}{}", o.stdout, o.stderr),
        Tool::Iocforge => o.stderr.clone(),
    };
    let pick = |prefix: &str| {
        let mut v: Vec<String> = text
            .lines()
            .filter(|l| l.starts_with(prefix) && !l.contains("do not match the lock"))
            .map(str::to_string)
            .collect();
        v.sort();
        v
    };
    (pick("warning: "), pick("error: "))
}

fn same_check_lines(out: &[Outcome; 2]) {
    assert_eq!(
        check_lines(&out[0], Tool::Ibek),
        check_lines(&out[1], Tool::Iocforge)
    );
}

// ---------------------------------------------------------------- vendoring scenarios

#[test]
fn add_unqualified_probes_default_libraries_and_vendors_everything_into_config() {
    let c = Case::new(false);
    let out = c.run(&["pattern", "add", "lakeshore340@1.0.0", "DEST"]);
    assert_eq!(out[1].code, 0, "{}", out[1].stderr);
    let lock = fs_err::read_to_string(c.iocforge_dest().join("runtime-lock.yaml")).unwrap();
    assert!(lock.contains("source: github.com/epics-containers/ibek-runtime-streamdevice"));
    assert!(lock.contains("config/db/ls340.template: sha256:"));
    assert!(c
        .iocforge_dest()
        .join("config/lakeshore340.proto")
        .is_file());
    let out = c.run(&["pattern", "check", "DEST"]);
    assert_eq!(out[1].code, 0);
}

#[test]
fn add_with_manifest_substitutions_folder_and_file_dests() {
    let c = Case::new(false);
    let out = c.run(&[
        "pattern",
        "add",
        "ibek-runtime-streamdevice:tpg300@1.0.0",
        "DEST",
    ]);
    assert_eq!(out[1].code, 0, "{}", out[1].stderr);
    let d = c.iocforge_dest();
    assert!(d.join("config/protocol/tpg300.proto").is_file());
    assert!(d.join("docs/tpg300.md").is_file());
    assert!(d.join("config/db/extra.template").is_file());
    assert!(
        !d.join("config/tests").exists(),
        "an unmatched file was vendored"
    );
}

#[test]
fn add_with_named_groups_and_a_file_dest() {
    let c = Case::new(false);
    let out = c.run(&[
        "pattern",
        "add",
        "ibek-runtime-support:detectorPlugins@1.0.0",
        "DEST",
    ]);
    assert_eq!(out[1].code, 0, "{}", out[1].stderr);
    assert!(c
        .iocforge_dest()
        .join("config/plugins/roi.template")
        .is_file());
    assert!(c
        .iocforge_dest()
        .join("config/detectorPlugins.ibek.support.yaml")
        .is_file());
}

#[test]
fn include_and_exclude_write_a_version_2_lock_and_plain_add_goes_back_to_1() {
    let c = Case::new(false);
    let out = c.run(&[
        "pattern",
        "add",
        "ibek-runtime-streamdevice:tpg300@1.0.0",
        "DEST",
        "--include",
        "tests/(.*)\\.py=config/tests/\\1.py",
        "--include",
        "README\\.md=config/",
        "--exclude",
        "db/extra\\.template",
    ]);
    assert_eq!(out[1].code, 0, "{}", out[1].stderr);
    let lock = fs_err::read_to_string(c.iocforge_dest().join("runtime-lock.yaml")).unwrap();
    assert!(lock.starts_with("version: 2\n"), "{lock}");
    assert!(
        lock.contains("    select:\n      include:\n      - src:"),
        "{lock}"
    );
    assert!(!c.iocforge_dest().join("config/db/extra.template").exists());
    c.run(&["pattern", "update", "DEST"]);
    let out = c.run(&[
        "pattern",
        "add",
        "ibek-runtime-streamdevice:tpg300@1.0.0",
        "DEST",
    ]);
    assert_eq!(out[1].code, 0);
    let lock = fs_err::read_to_string(c.iocforge_dest().join("runtime-lock.yaml")).unwrap();
    assert!(lock.starts_with("version: 1\n"), "{lock}");
    assert!(!c.iocforge_dest().join("config/tests").exists());
}

#[test]
fn unused_selection_entries_are_errors() {
    let c = Case::new(false);
    let out = c.run(&[
        "pattern",
        "add",
        "ibek-runtime-streamdevice:tpg300@1.0.0",
        "DEST",
        "--exclude",
        "nothing-matches",
    ]);
    assert_eq!(out[1].code, 1);
    assert!(out[1].stderr.contains("drops no file"), "{}", out[1].stderr);
    let out = c.run(&[
        "pattern",
        "add",
        "tpg300@1.0.0",
        "DEST",
        "--include",
        "nothing",
    ]);
    assert_eq!(out[1].code, 1);
}

#[test]
fn update_to_a_new_version_prunes_dropped_files() {
    let c = Case::new(false);
    c.run(&[
        "pattern",
        "add",
        "ibek-runtime-streamdevice:lakeshore340@1.0.0",
        "DEST",
    ]);
    c.run(&[
        "pattern",
        "add",
        "ibek-runtime-streamdevice:tpg300@1.0.0",
        "DEST",
    ]);
    let out = c.run(&[
        "pattern",
        "update",
        "DEST",
        "-n",
        "lakeshore340",
        "-v",
        "2.0.0",
    ]);
    assert_eq!(out[1].code, 0, "{}", out[1].stderr);
    let d = c.iocforge_dest();
    assert!(!d.join("config/db/ls340.template").exists());
    assert!(d.join("config/db/ls340_new.template").is_file());
    let lock = fs_err::read_to_string(d.join("runtime-lock.yaml")).unwrap();
    assert!(lock.contains("version: 2.0.0"), "{lock}");
    // all patterns at once, each at its pinned version
    let out = c.run(&["pattern", "update", "DEST"]);
    assert_eq!(out[1].code, 0, "{}", out[1].stderr);
    c.run(&["pattern", "check", "DEST"]);
}

#[test]
fn update_with_a_source_override_and_errors_for_unknown_names() {
    let c = Case::new(false);
    c.run(&["pattern", "add", "local:simple", "DEST"]);
    let out = c.run(&["pattern", "update", "DEST", "-n", "nope"]);
    assert_eq!(out[1].code, 1);
    assert!(
        out[1].stderr.contains("'nope' not in lock"),
        "{}",
        out[1].stderr
    );
    let libs = libraries().join("locallib").display().to_string();
    let out = c.run(&["pattern", "update", "DEST", "-s", &libs]);
    assert_eq!(out[1].code, 0, "{}", out[1].stderr);
}

#[test]
fn update_and_restore_without_a_lock_fail() {
    let c = Case::new(false);
    let out = c.run(&["pattern", "update", "DEST"]);
    assert_eq!(out[1].code, 1);
    assert!(out[1].stderr.contains("no patterns to update"));
    let out = c.run(&["pattern", "restore", "DEST"]);
    assert_eq!(out[1].code, 1);
}

#[test]
fn check_reports_dirty_missing_and_ignores_extra_files() {
    let c = Case::new(false);
    c.run(&[
        "pattern",
        "add",
        "ibek-runtime-streamdevice:tpg300@1.0.0",
        "DEST",
    ]);
    c.edit("config/local.db", Some("mine\n"));
    let out = c.run(&["pattern", "check", "DEST"]);
    assert_eq!(out[1].code, 0, "an extra file fails the check");
    c.edit("config/protocol/tpg300.proto", Some("edited\n"));
    c.edit("docs/tpg300.md", None);
    let out = c.run(&["pattern", "check", "DEST"]);
    assert_eq!(out[1].code, 1);
    same_check_lines(&out);
    let out = c.run(&["pattern", "check", "DEST", "--allow-dirty"]);
    assert_eq!(out[1].code, 0);
    same_check_lines(&out);
    let out = c.run_env(&["pattern", "check", "DEST"], &[("IBEK_ALLOW_DIRTY", "1")]);
    assert_eq!(out[1].code, 0);
    let out = c.run_env(
        &["pattern", "check", "DEST"],
        &[("IBEK_ALLOW_DIRTY", "yes")],
    );
    assert_eq!(out[1].code, 1);
}

#[test]
fn dirty_markers_in_the_lock_are_warnings() {
    let c = Case::new(false);
    c.run(&[
        "pattern",
        "add",
        "ibek-runtime-streamdevice:tpg300@1.0.0",
        "DEST",
    ]);
    c.edit("config/protocol/tpg300.proto", Some("testing a fix\n"));
    let lock = fs_err::read_to_string(c.iocforge_dest().join("runtime-lock.yaml")).unwrap();
    let line = lock
        .lines()
        .find(|l| l.contains("config/protocol/tpg300.proto"))
        .unwrap()
        .to_string();
    c.replace(
        "runtime-lock.yaml",
        &line,
        "      config/protocol/tpg300.proto: 'DIRTY # testing on the beamline'",
    );
    let out = c.run(&["pattern", "check", "DEST"]);
    assert_eq!(out[1].code, 0, "{}", out[1].stderr);
    same_check_lines(&out);
    assert!(out[1]
        .stderr
        .contains("marked DIRTY (testing on the beamline)"));
    // update re-pins: the marker goes, the library's bytes come back
    c.run(&["pattern", "update", "DEST"]);
}

#[test]
fn restore_after_edits_puts_the_pinned_files_back() {
    let c = Case::new(false);
    c.run(&[
        "pattern",
        "add",
        "ibek-runtime-streamdevice:lakeshore340@1.0.0",
        "DEST",
    ]);
    c.run(&[
        "pattern",
        "add",
        "ibek-runtime-support:detectorPlugins@1.0.0",
        "DEST",
    ]);
    c.edit("config/lakeshore340.proto", Some("broken\n"));
    c.edit("config/plugins/stats.template", None);
    c.edit("config/extra/a.req", Some("changed\n"));
    c.run(&["pattern", "check", "DEST"]);
    let out = c.run(&["pattern", "restore", "DEST", "-n", "lakeshore340"]);
    assert_eq!(out[1].code, 0, "{}", out[1].stderr);
    let out = c.run(&["pattern", "check", "DEST"]);
    assert_eq!(out[1].code, 1);
    let out = c.run(&["pattern", "restore", "DEST"]);
    assert_eq!(out[1].code, 0, "{}", out[1].stderr);
    let out = c.run(&["pattern", "check", "DEST"]);
    assert_eq!(out[1].code, 0);
}

#[test]
fn references_and_libraries_errors() {
    let c = Case::new(false);
    for args in [
        &["pattern", "add", "nolib:x@1", "DEST"][..],
        &["pattern", "add", "a:b:c", "DEST"],
        &[
            "pattern",
            "add",
            "ibek-runtime-streamdevice:absent@1.0.0",
            "DEST",
        ],
        &[
            "pattern",
            "add",
            "ibek-runtime-streamdevice:tpg300@9.9.9",
            "DEST",
        ],
        &["pattern", "add", "absent@1.0.0", "DEST"],
        &[
            "pattern",
            "add",
            "x",
            "DEST",
            "-s",
            "https://example.invalid/unreachable",
        ],
        &["pattern", "add", "x", "DEST", "--include", "noequals"],
    ] {
        let out = c.run(args);
        assert_eq!(out[1].code, 1, "{args:?}: {}", out[1].stderr);
        assert!(
            out[1].stderr.contains("hint: "),
            "{args:?}: no hint in {}",
            out[1].stderr
        );
    }
    assert!(
        tree(c.iocforge_dest()).is_empty(),
        "a failed add wrote files"
    );
    let out = c.run(&["pattern", "check", "DEST/missing"]);
    assert_eq!(out[1].code, 2);
}

#[test]
fn bad_manifests_are_errors_and_change_nothing() {
    let c = Case::new(false);
    c.run(&["pattern", "add", "mylib:good@0.1", "DEST"]);
    for name in [
        "badversion",
        "badregex",
        "collide",
        "nothing",
        "escape",
        "misrouted",
    ] {
        let r = format!("mylib:{name}@0.1");
        let out = c.run(&["pattern", "add", &r, "DEST"]);
        assert_eq!(out[1].code, 1, "{name}: {}", out[1].stderr);
        assert!(
            out[1].stderr.contains("ibek.manifest.yaml") || out[1].stderr.contains(name),
            "{name}: {}",
            out[1].stderr
        );
    }
    c.run(&["pattern", "check", "DEST"]);
}

#[test]
fn bad_locks_are_errors() {
    let c = Case::new(false);
    c.run(&["pattern", "add", "mylib:good@0.1", "DEST"]);
    c.replace("runtime-lock.yaml", "version: 1\n", "version: 3\n");
    let out = c.run(&["pattern", "check", "DEST"]);
    assert_eq!(out[1].code, 1);
    let out = c.run(&["pattern", "check", "DEST", "--allow-dirty"]);
    assert_eq!(out[1].code, 1, "an unreadable lock was downgraded");
    let out = c.run(&["pattern", "update", "DEST"]);
    assert_eq!(out[1].code, 1);
    let out = c.run(&["pattern", "add", "mylib:good@0.1", "DEST"]);
    assert_eq!(out[1].code, 1);
    // a selection in a version 1 lock
    c.replace("runtime-lock.yaml", "version: 3\n", "version: 1\n");
    c.replace(
        "runtime-lock.yaml",
        "    files:\n",
        "    select:\n      exclude:\n      - a\\.txt\n    files:\n",
    );
    let out = c.run(&["pattern", "check", "DEST"]);
    assert_eq!(out[1].code, 1);
    // unknown keys, other shapes
    c.edit(
        "runtime-lock.yaml",
        Some("version: 1\npatterns: {}\nextra: 1\n"),
    );
    let out = c.run(&["pattern", "check", "DEST"]);
    assert_eq!(out[1].code, 1);
    c.edit("runtime-lock.yaml", Some("good:\n  version: 0.1\n"));
    let out = c.run(&["pattern", "check", "DEST"]);
    assert_eq!(out[1].code, 1);
    assert!(out[1].stderr.contains("convert"), "{}", out[1].stderr);
    c.edit("runtime-lock.yaml", Some("{}\n"));
    let out = c.run(&["pattern", "check", "DEST"]);
    assert_eq!(out[1].code, 0);
}

#[test]
fn readding_with_a_new_selection_replaces_files_and_folders() {
    let c = Case::new(false);
    c.run(&["pattern", "add", "mylib:good@0.1", "DEST"]);
    // sub/b.txt moves from config/sub/b.txt to a file named config/sub: the
    // folder held only this pattern's orphan, so it is replaced
    let out = c.run(&[
        "pattern",
        "add",
        "mylib:good@0.1",
        "DEST",
        "--include",
        "sub/b\\.txt=config/sub.txt",
    ]);
    assert_eq!(out[1].code, 0, "{}", out[1].stderr);
    c.edit("config/userdir.d/user.txt", Some("user file\n"));
    let out = c.run(&[
        "pattern",
        "add",
        "mylib:good@0.1",
        "DEST",
        "--include",
        "a\\.txt=config/userdir.d",
    ]);
    assert_eq!(out[1].code, 1, "a user's folder was replaced");
}

#[test]
fn local_library_folders_are_read_in_place() {
    let c = Case::new(false);
    let out = c.run(&["pattern", "add", "local:simple@7.7", "DEST"]);
    assert_eq!(out[1].code, 0, "{}", out[1].stderr);
    let lock = fs_err::read_to_string(c.iocforge_dest().join("runtime-lock.yaml")).unwrap();
    assert!(lock.contains("version: '7.7'"), "{lock}");
    c.run(&["pattern", "restore", "DEST"]);
    c.run(&["pattern", "check", "DEST"]);
}

// ---------------------------------------------------------------- schema scenarios

fn serving(c: &mut Case, body: Vec<u8>) -> Server {
    let s = Server::start(body);
    c.base_url.clone_from(&s.url);
    s
}

#[test]
fn schema_first_fetch_then_304_revalidation() {
    let mut c = Case::new(true);
    let server = serving(&mut c, base_schema(false));
    let out = c.run(&["pattern", "schema", "DEST"]);
    assert_eq!(out[1].code, 0, "{}", out[1].stderr);
    let d = c.iocforge_dest();
    assert!(d.join("ioc.schema.json").is_file());
    let ioc = fs_err::read_to_string(d.join("config/ioc.yaml")).unwrap();
    assert!(ioc.starts_with("# yaml-language-server: $schema=../ioc.schema.json\n"));
    let cache = c.sides[1]
        .cache
        .join("ghcr.io/epics-containers/ioc-test/2025.1.1.validators.json");
    assert!(cache.is_file(), "no validators cached");
    let out = c.run(&["pattern", "schema", "DEST"]);
    assert_eq!(out[1].code, 0);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 4);
    assert!(reqs[0]
        .0
        .ends_with("/epics-containers/ioc-test/releases/download/2025.1.1/ibek.ioc.schema.json"));
    for r in &reqs[2..] {
        assert_eq!(r.1.as_deref(), Some("\"v1\""), "not revalidated: {reqs:?}");
        assert!(r.2.is_some());
    }
}

#[test]
fn schema_changed_since_cached_refreshes_the_cache() {
    let mut c = Case::new(true);
    let server = serving(&mut c, base_schema(false));
    c.run(&["pattern", "schema", "DEST"]);
    server.set(|s| {
        s.body = base_schema(true);
        s.etag = "\"v2\"".into();
    });
    let out = c.run(&["pattern", "schema", "DEST"]);
    assert_eq!(out[1].code, 0, "{}", out[1].stderr);
    assert!(out[1].stderr.contains("changed since it was cached"));
    let schema = fs_err::read_to_string(c.iocforge_dest().join("ioc.schema.json")).unwrap();
    assert!(schema.contains("tpg300.tpg300"));
}

#[test]
fn schema_merges_vendored_definitions_into_the_base() {
    let mut c = Case::new(true);
    let _server = serving(&mut c, base_schema(false));
    let out = c.run(&[
        "pattern",
        "add",
        "ibek-runtime-streamdevice:lakeshore340@1.0.0",
        "DEST",
    ]);
    assert_eq!(out[1].code, 0, "{}", out[1].stderr);
    let schema = fs_err::read_to_string(c.iocforge_dest().join("ioc.schema.json")).unwrap();
    assert!(schema.contains("lakeshore340.lakeshore340") && schema.contains("basesup.Controller"));
    // a second pattern whose entity the base already has is not duplicated
    let out = c.run(&[
        "pattern",
        "add",
        "ibek-runtime-streamdevice:tpg300@1.0.0",
        "DEST",
    ]);
    assert_eq!(out[1].code, 0);
    c.edit(
        "config/local.ibek.support.yaml",
        Some(&fixture("tpg300.ibek.support.yaml").replace("tpg300", "local")),
    );
    c.run(&["pattern", "schema", "DEST"]);
    c.run(&[
        "pattern",
        "update",
        "DEST",
        "-n",
        "lakeshore340",
        "-v",
        "2.0.0",
    ]);
}

#[test]
fn schema_not_published_is_skipped_not_an_error() {
    let mut c = Case::new(true);
    let server = serving(&mut c, base_schema(false));
    server.set(|s| s.mode = Mode::Status(404));
    let out = c.run(&["pattern", "schema", "DEST"]);
    assert_eq!(out[1].code, 0);
    assert!(!c.iocforge_dest().join("ioc.schema.json").exists());
    // even over an existing schema: 404 proves nothing is published
    c.edit("ioc.schema.json", Some("{}\n"));
    let out = c.run(&["pattern", "schema", "DEST"]);
    assert_eq!(out[1].code, 0);
}

#[test]
fn schema_transient_error_uses_the_cache_and_says_so() {
    let mut c = Case::new(true);
    let server = serving(&mut c, base_schema(false));
    c.run(&["pattern", "schema", "DEST"]);
    server.set(|s| s.mode = Mode::Status(503));
    let out = c.run(&["pattern", "schema", "DEST"]);
    assert_eq!(out[1].code, 0);
    assert!(
        out[1].stderr.contains("Using cached schema"),
        "{}",
        out[1].stderr
    );
}

#[test]
fn schema_transient_error_without_cache_over_an_existing_schema_fails() {
    let mut c = Case::new(true);
    let server = serving(&mut c, base_schema(false));
    server.set(|s| s.mode = Mode::Status(503));
    c.edit("ioc.schema.json", Some("{\"old\": true}\n"));
    let out = c.run(&["pattern", "schema", "DEST"]);
    assert_eq!(out[1].code, 1);
    assert!(out[1].stderr.contains("may be for a different image"));
}

#[test]
fn schema_without_network() {
    // no cache, no schema: skipped
    let c = Case::new(true);
    let out = c.run(&["pattern", "schema", "DEST"]);
    assert_eq!(out[1].code, 0);
    assert!(!c.iocforge_dest().join("ioc.schema.json").exists());
    // an existing schema and nothing cached: refused, never silently stale
    c.edit("ioc.schema.json", Some("{}\n"));
    let out = c.run(&["pattern", "schema", "DEST"]);
    assert_eq!(out[1].code, 1);
    // with a cached copy (seeded by a run against a server): used, with a warning
    let mut c = Case::new(true);
    let server = serving(&mut c, base_schema(false));
    c.run(&["pattern", "schema", "DEST"]);
    drop(server);
    c.base_url = dead_url();
    let out = c.run(&["pattern", "schema", "DEST"]);
    assert_eq!(out[1].code, 0);
    assert!(
        out[1].stderr.contains("could not revalidate"),
        "{}",
        out[1].stderr
    );
}

#[test]
fn schema_image_placeholders_compose_files_and_non_instances() {
    let mut c = Case::new(true);
    let _server = serving(&mut c, base_schema(false));
    c.edit("values.yaml", Some("image: ghcr.io/org/REPLACE_ME:1.0\n"));
    let out = c.run(&["pattern", "schema", "DEST"]);
    assert_eq!(out[1].code, 0);
    assert!(!c.iocforge_dest().join("ioc.schema.json").exists());
    c.edit("values.yaml", None);
    c.edit(
        "compose.yml",
        Some(&format!("services:\n  ioc:\n    image: {IMAGE}\n")),
    );
    let out = c.run(&["pattern", "schema", "DEST"]);
    assert_eq!(out[1].code, 0, "{}", out[1].stderr);
    assert!(c.iocforge_dest().join("ioc.schema.json").is_file());
    let c = Case::new(false);
    let out = c.run(&["pattern", "schema", "DEST"]);
    assert_eq!(out[1].code, 0);
}

#[test]
fn schema_proxy_variables_are_honoured() {
    // the server acts as an HTTP proxy for a loopback port nothing listens on
    let mut c = Case::new(true);
    let server = serving(&mut c, base_schema(false));
    let proxy = server.url.clone();
    c.base_url = dead_url();
    let target = c.base_url.trim_start_matches("http://").to_string();
    let c = c.env("HTTP_PROXY", &proxy);
    let out = c.run(&["pattern", "schema", "DEST"]);
    assert_eq!(out[1].code, 0, "{}", out[1].stderr);
    assert!(c.iocforge_dest().join("ioc.schema.json").is_file());
    let reqs = server.requests();
    assert!(
        reqs.iter().all(|r| r.0.contains(&target)),
        "not sent through the proxy: {reqs:?}"
    );
    // NO_PROXY sends it direct, where nothing listens: the cached copy is
    // used, and said to be
    let before = server.requests().len();
    let c = c.env("NO_PROXY", "localhost,127.0.0.1");
    let out = c.run(&["pattern", "schema", "DEST"]);
    assert_eq!(out[1].code, 0);
    assert!(
        out[1].stderr.contains("could not revalidate"),
        "{}",
        out[1].stderr
    );
    assert_eq!(server.requests().len(), before, "NO_PROXY was ignored");
}

// ---------------------------------------------------------------- iocforge only

fn iocforge_in(c: &Case, args: &[&str]) -> Outcome {
    c.run_one(&c.sides[1], args, &[])
}

#[test]
fn failed_add_after_vendoring_leaves_the_destination_as_it_was() {
    // ibek vendors the files and writes the lock, then fails on the schema;
    // iocforge undoes everything
    let c = Case::new(true);
    c.edit("ioc.schema.json", Some("{}\n"));
    let before = tree(c.iocforge_dest());
    let out = iocforge_in(
        &c,
        &[
            "pattern",
            "add",
            "ibek-runtime-streamdevice:tpg300@1.0.0",
            "DEST",
        ],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(tree(c.iocforge_dest()), before);
}

#[test]
fn base_schema_from_a_file_works_offline() {
    let c = Case::new(true);
    let base = c.root.join("base.json");
    fs_err::write(&base, base_schema(false)).unwrap();
    let b = base.display().to_string();
    let out = iocforge_in(
        &c,
        &[
            "pattern",
            "add",
            "ibek-runtime-streamdevice:lakeshore340@1.0.0",
            "DEST",
            "--base-schema",
            &b,
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let schema = fs_err::read_to_string(c.iocforge_dest().join("ioc.schema.json")).unwrap();
    assert!(schema.contains("lakeshore340.lakeshore340"));
    fs_err::write(&base, "not json").unwrap();
    let out = iocforge_in(&c, &["pattern", "schema", "DEST", "--base-schema", &b]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("is not a JSON schema"),
        "{}",
        out.stderr
    );
}

#[test]
fn symlinks_in_the_destination_are_not_followed() {
    let c = Case::new(false);
    let outside = c.root.join("outside");
    fs_err::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, c.iocforge_dest().join("config")).unwrap();
    let out = iocforge_in(&c, &["pattern", "add", "mylib:good@0.1", "DEST"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("symlink"), "{}", out.stderr);
    assert!(tree(&outside).is_empty());
}

#[test]
fn an_unversioned_pin_can_be_restored_and_updated() {
    // ibek 4.8.2 records `HEAD` and then fails to clone a branch named HEAD
    let c = Case::new(false);
    let out = iocforge_in(
        &c,
        &["pattern", "add", "ibek-runtime-streamdevice:tpg300", "DEST"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lock = fs_err::read_to_string(c.iocforge_dest().join("runtime-lock.yaml")).unwrap();
    assert!(lock.contains("    version: HEAD\n"), "{lock}");
    fs_err::write(c.iocforge_dest().join("docs/tpg300.md"), "edited\n").unwrap();
    let out = iocforge_in(&c, &["pattern", "restore", "DEST"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        fs_err::read_to_string(c.iocforge_dest().join("docs/tpg300.md")).unwrap(),
        "# TPG300 v2\n"
    );
    let out = iocforge_in(&c, &["pattern", "update", "DEST"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn schema_rewrites_the_ioc_yaml_header_like_ibek() {
    let mut c = Case::new(true);
    let _server = serving(&mut c, base_schema(false));
    for text in [
        "ioc_name: a\nentities: []\n",
        "# yaml-language-server: $schema=/elsewhere.json\r\nioc_name: b\r\n",
        "# a comment first\nioc_name: c",
        "ioc_name: d\n\n\n",
        "ioc_name: \"e\u{2028}f\"\n",
        "",
    ] {
        c.edit("config/ioc.yaml", Some(text));
        let out = c.run(&["pattern", "schema", "DEST"]);
        assert_eq!(out[1].code, 0, "{}", out[1].stderr);
    }
}

#[test]
fn schema_base_json_round_trips_like_python() {
    // floats, big integers, non-ASCII text and duplicate keys in the published schema
    let mut body = String::from_utf8(base_schema(false)).unwrap();
    let at = body.rfind('}').unwrap();
    body.insert_str(
        at,
        ",\n\"x-extra\": {\"f\": 1.0, \"g\": 1e-07, \"h\": 2.5E+20, \"u\": \"\u{b5}\u{b0} \\u00e9\", \"big\": 12345678901234567890, \"neg\": -0, \"dup\": 1, \"dup\": 2}",
    );
    let mut c = Case::new(true);
    let _server = serving(&mut c, body.into_bytes());
    let out = c.run(&["pattern", "schema", "DEST"]);
    assert_eq!(out[1].code, 0, "{}", out[1].stderr);
    let schema = fs_err::read_to_string(c.iocforge_dest().join("ioc.schema.json")).unwrap();
    assert!(schema.contains("\"g\": 1e-07"), "{schema}");
}

#[test]
fn failed_update_of_a_later_pattern_undoes_the_earlier_ones() {
    // ibek rewrites lakeshore340's files at 2.0.0, then fails on zgood (no
    // 2.0.0 tag) and leaves them beside a lock that still pins 1.0.0
    let c = Case::new(false);
    c.run(&[
        "pattern",
        "add",
        "ibek-runtime-streamdevice:lakeshore340@1.0.0",
        "DEST",
    ]);
    c.run(&["pattern", "add", "mylib:zgood@0.1", "DEST"]);
    let before = tree(c.iocforge_dest());
    let out = iocforge_in(&c, &["pattern", "update", "DEST", "-v", "2.0.0"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("zgood"), "{}", out.stderr);
    assert_eq!(tree(c.iocforge_dest()), before);
    let out = iocforge_in(&c, &["pattern", "check", "DEST"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}
