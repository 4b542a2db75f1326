//! Hostile input (issue 11): nothing a file can say crashes iocforge, hangs
//! it or exhausts its memory, and the output folder is never lost.
//!
//! The whole-process tests run the release-like static binary the docker
//! test builds (`--profile e2e`, panic=abort, in `target/e2e-musl`): the
//! limits are about real run times, which a debug build would distort.
//!
//! - `replay_of_the_hostile_corpus_is_clean`: the probe's 199 inputs
//!   (`shared/conformance/hostile/replay.sh`) all end with exit 0-2 within
//!   20 s and 1 GiB;
//! - `fuzzed_inputs_end_cleanly_within_limits`: mutations of the shared
//!   samples, the real-world instances of the shared corpus and the
//!   project's fixtures (instances, support files, schemas,
//!   install files, msi templates and substitutions) for ~2 minutes (`HOSTILE_FUZZ_SECS`),
//!   reproducible from the printed seed (`HOSTILE_FUZZ_SEED`);
//! - `jinja_payloads_match_jinja2_or_fail_cleanly`: each payload class,
//!   differential against Jinja2 from the oracle venv;
//! - `killed_generate_leaves_old_or_new_output`: 200 kills of `runtime
//!   generate` on a 5,000-entity instance;
//! - symlinked and mounted output folders are written in place.
//!
//! `HOSTILE_BIN=path` runs them against another binary instead.

// seeds and figures go to the CI log
#![allow(clippy::print_stderr)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// The whole-process tests share two cores: one at a time, so timings hold.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The static release-like iocforge (built once; shared with tests/docker_e2e.rs).
#[allow(clippy::disallowed_methods)] // the test harness's own settings and the cargo running it
fn release_iocforge() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        // a binary built already (e.g. `target/release/iocforge`) skips the build
        if let Ok(bin) = std::env::var("HOSTILE_BIN") {
            return PathBuf::from(bin);
        }
        common::musl_iocforge()
    })
}

/// How one run ended.
#[derive(Debug)]
struct Ran {
    code: Option<i32>,
    seconds: f64,
    max_rss_kb: u64,
    stderr: String,
    stdout: String,
}

impl Ran {
    fn clean(&self) -> bool {
        matches!(self.code, Some(0..=2)) && self.seconds < 20.0 && self.max_rss_kb < 1024 * 1024
    }
}

/// Runs `bin args` in `dir` under GNU time, killed after 20 s.
fn run_measured(dir: &Path, bin: &Path, args: &[&str], envs: &[(&str, &str)]) -> Ran {
    let started = Instant::now();
    let mut cmd = Command::new("/usr/bin/time");
    cmd.current_dir(dir)
        .args(["-f", "MAXRSS %M", "timeout", "-s", "KILL", "20"])
        .arg(bin)
        .args(args)
        .env("EPICS_ROOT", dir.join("er"))
        .env("IOC_NAME", "HOSTILE")
        .stdin(Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("GNU time runs (.ci/setup installs it)");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    // the program's stderr may not end in a newline: take the last marker anywhere
    let max_rss_kb = stderr
        .rfind("MAXRSS ")
        .map(|i| &stderr[i + "MAXRSS ".len()..])
        .and_then(|v| {
            v.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .ok()
        })
        .unwrap_or(u64::MAX);
    Ran {
        // timeout's 124/137 and a signal's 128+n all count as not clean
        code: out.status.code(),
        seconds: started.elapsed().as_secs_f64(),
        max_rss_kb,
        stderr,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
    }
}

const SUPPORT: &str = "module: t
entity_models:
  - name: E
    description: test
    parameters:
      name:
        type: id
        description: id
      x:
        type: str
        description: x
        default: hello
    pre_init:
      - value: \"echo {{ x }}\"
";

fn instance(x: &str) -> String {
    format!(
        "ioc_name: h\ndescription: d\nentities:\n  - type: t.E\n    name: e1\n    x: {}\n",
        serde_json::to_string(x).unwrap()
    )
}

/// A work folder with the test support file and an empty EPICS root.
fn workdir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    fs_err::write(d.path().join("t.ibek.support.yaml"), SUPPORT).unwrap();
    fs_err::create_dir_all(d.path().join("er")).unwrap();
    d
}

fn generate(dir: &Path, bin: &Path, inst: &str, out: &str) -> Ran {
    run_measured(
        dir,
        bin,
        &[
            "runtime",
            "generate",
            inst,
            "t.ibek.support.yaml",
            "-o",
            out,
            "--no-db",
        ],
        &[],
    )
}

/// The `echo` line iocforge rendered for `x`, or None when it failed.
fn render_with_iocforge(bin: &Path, template: &str) -> (Ran, Option<String>) {
    let d = workdir();
    fs_err::write(d.path().join("i.yaml"), instance(template)).unwrap();
    let ran = generate(d.path(), bin, "i.yaml", "out");
    let text = fs_err::read_to_string(d.path().join("out/st.cmd")).ok();
    let line = text.filter(|_| ran.code == Some(0)).map(|t| {
        t.lines()
            .find_map(|l| l.strip_prefix("echo ").map(str::to_string))
            .unwrap_or_default()
    });
    (ran, line)
}

/// What Jinja2 (StrictUndefined, as ibek) renders, within 10 s and 1 GiB; None when it fails.
fn render_with_jinja2(template: &str) -> Option<String> {
    let script = "import sys, resource\n\
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n\
sys.setrecursionlimit(10000)\n\
from jinja2 import Environment, StrictUndefined\n\
t = sys.stdin.read()\n\
try:\n    out = Environment(undefined=StrictUndefined).from_string(t).render()\n\
except BaseException as e:\n    print('JINJA2-ERROR', type(e).__name__); sys.exit(3)\n\
sys.stdout.write(out)\n";
    let mut child = Command::new("timeout")
        .args(["-s", "KILL", "10"])
        .arg(common::ibek_python())
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the oracle venv's python runs");
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), template.as_bytes()).unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Payloads of every class the probe found, and neighbours of them.
const PAYLOADS: &[&str] = &[
    // repetition, padding, width and precision
    "{{ 'a' * 10**19 }}",
    "{{ [1] * 10**19 }}",
    "{{ (1,) * 10**8 }}",
    "{{ ('ab' * 1000) | length }}",
    "{{ 'x'.ljust(10**12) }}",
    "{{ 'x'.center(7, '*') }}",
    "{{ 'x'.zfill(10**12) }}",
    "{{ 'x' | indent(10**12) }}",
    "{{ {'a':1} | tojson(indent=10**12) }}",
    "{{ '%*d' % (10**12, 1) }}",
    "{{ '%010000000000d' % 1 }}",
    "{{ '{:>1000000000000}'.format(1) }}",
    "{{ '%.1000000000f' % 1.5 }}",
    "{{ ('%.65536f' % 1.5) | length }}",
    "{{ '%.70000f' % 0.1 }}",
    "{{ '{:.70000e}'.format(1.5) }}",
    "{{ '%.65536g' % 1.5 }}",
    "{{ '%.2000g' % 0.1 }}",
    "{{ 1.5 | round(65536) }}",
    "{{ 1e308 | round(10**9) }}",
    "{{ 1.5 | round(-10**9) }}",
    "{{ 'a\\tb'.expandtabs(10**12) }}",
    "{{ ('a' * 100000).replace('', 'b' * 100000) | length }}",
    "{{ [1,2,3] | slice(10**12) | list }}",
    // integer overflow
    "{{ (-170141183460469231731687303715884105727 - 1) // -1 }}",
    "{{ (-170141183460469231731687303715884105727 - 1) % -1 }}",
    "{{ -(-170141183460469231731687303715884105727 - 1) }}",
    "{{ 170141183460469231731687303715884105727 + 1 }}",
    "{{ 2 ** 10**6 }}",
    // self-containing containers
    "{% set l = [] %}{% set _ = l.append(l) %}{{ l }}",
    "{% set l = [1] %}{% set _ = l.append(l) %}{% set _ = l.append(2) %}{{ l }}",
    "{% set d = {} %}{% set _ = d.update({'a': d}) %}{{ d }}",
    "{% set l = [] %}{% set _ = l.append(l) %}{{ l | tojson }}",
    // work
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{% set a = 'x' %}{% for i in range(40) %}{% set a = a ~ a %}{% endfor %}{{ a | length }}",
    "{% macro m(n) %}{{ m(n+1) }}{% endmacro %}{{ m(0) }}",
    // depth
    "NOT_CHAIN",
    "PIPE_CHAIN",
    "PLUS_CHAIN",
    // the environment
    "{{ env }}",
    "{{ env | list | length > 0 }}",
];

fn expand(payload: &str) -> String {
    match payload {
        "NOT_CHAIN" => format!("{{{{ {}1 }}}}", "not ".repeat(100_000)),
        "PIPE_CHAIN" => format!("{{{{ 'a'{} }}}}", "|upper".repeat(100_000)),
        "PLUS_CHAIN" => format!("{{{{ 1{} }}}}", "+1".repeat(100_000)),
        p => p.to_string(),
    }
}

#[test]
fn jinja_payloads_match_jinja2_or_fail_cleanly() {
    let bin = release_iocforge();
    let _serial = serial();
    let mut problems = Vec::new();
    let mut matched = 0;
    for payload in PAYLOADS {
        let template = expand(payload);
        let (ran, ours) = render_with_iocforge(bin, &template);
        let short: String = payload.chars().take(80).collect();
        if !ran.clean() {
            problems.push(format!(
                "{short}: not clean: exit {:?}, {:.1} s, {} KB\n{}",
                ran.code, ran.seconds, ran.max_rss_kb, ran.stderr
            ));
            continue;
        }
        if ran.code == Some(1) && !ran.stderr.contains("error:") {
            problems.push(format!(
                "{short}: exit 1 without a diagnostic:\n{}",
                ran.stderr
            ));
        }
        let theirs = render_with_jinja2(&template);
        match (&ours, &theirs) {
            (Some(o), Some(t)) => {
                // st.cmd holds the rendered value on the echo line
                if o == t.trim_end_matches('\n') {
                    matched += 1;
                } else {
                    problems.push(format!(
                        "{short}: iocforge printed {:?}…, Jinja2 {:?}…",
                        o.chars().take(100).collect::<String>(),
                        t.chars().take(100).collect::<String>()
                    ));
                }
            }
            (Some(o), None) if payload.contains("env") => {
                problems.push(format!("{short}: printed the environment: {o:.100}"));
            }
            _ => {}
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    // the classes where Jinja2 gives a result are kept, not just refused
    assert!(matched >= 12, "only {matched} payloads matched Jinja2");
}

#[test]
fn python_results_are_kept_where_jinja2_gives_one() {
    let bin = release_iocforge();
    let _serial = serial();
    for (template, want) in [
        (
            "{% set l = [1] %}{% set _ = l.append(l) %}{{ l }}",
            "[1, [...]]".to_string(),
        ),
        ("{{ ('%.65536f' % 1.5) | length }}", "65538".to_string()),
        ("{{ 1.5 | round(65536) }}", "1.5".to_string()),
        (
            "{{ (-170141183460469231731687303715884105727 - 1) % -1 }}",
            "0".to_string(),
        ),
    ] {
        let (ran, ours) = render_with_iocforge(bin, template);
        assert_eq!(
            ours.as_deref(),
            Some(want.as_str()),
            "{template}: {}",
            ran.stderr
        );
    }
}

#[test]
fn one_mistake_in_a_repeat_is_one_error_with_a_count() {
    let bin = release_iocforge();
    let _serial = serial();
    let d = workdir();
    let values = "A".repeat(8000);
    let inst = format!(
        "# {}\nioc_name: r\ndescription: d\nentities:\n  - type: ibek.repeat\n    values: \"{values}\"\n    entity:\n      type: t.E\n      name: e{{{{ index }}}}\n      x: \"{{{{ 1000 + index }}}}\"\n",
        "x".repeat(2_000_000)
    );
    fs_err::write(d.path().join("flood.yaml"), inst).unwrap();
    let ran = generate(d.path(), bin, "flood.yaml", "out");
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    assert!(ran.seconds < 10.0, "took {:.1} s", ran.seconds);
    assert_eq!(
        ran.stderr.matches(": error:").count(),
        1,
        "{:.2000}",
        ran.stderr
    );
    assert!(
        ran.stderr.contains("recurs 7999 more times"),
        "{:.2000}",
        ran.stderr
    );
}

#[test]
fn alias_bombs_stop_with_an_error_naming_the_anchor() {
    let bin = release_iocforge();
    let _serial = serial();
    let d = workdir();
    let mut bomb =
        String::from("x-anchors:\n  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let p = i - 1;
        bomb.push_str(&format!(
            "  a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    fs_err::write(d.path().join("bomb.yaml"), bomb).unwrap();
    let ran = generate(d.path(), bin, "bomb.yaml", "out");
    assert!(ran.clean(), "{ran:?}");
    assert_eq!(ran.code, Some(1));
    assert!(
        ran.stderr.contains("alias `*a") && ran.stderr.contains("anchor `&a"),
        "{}",
        ran.stderr
    );
    assert!(ran.max_rss_kb < 300 * 1024, "{} KB", ran.max_rss_kb);
}

#[test]
fn msi_streams_an_include_loop_on_long_lines() {
    let bin = release_iocforge();
    let _serial = serial();
    let d = workdir();
    fs_err::write(d.path().join("a.db"), "a $(A)\ninclude \"b.db\"\n").unwrap();
    fs_err::write(
        d.path().join("b.db"),
        format!("{}\nb\ninclude \"a.db\"\n", "x".repeat(1_000_000)),
    )
    .unwrap();
    fs_err::write(d.path().join("ioc.subst"), "file a.db {\n {A=1}\n}\n").unwrap();
    let ran = run_measured(
        d.path(),
        bin,
        &["msi", "-S", "ioc.subst", "-o", "out.db"],
        &[],
    );
    assert!(ran.clean(), "{ran:?}");
    // held in memory this would be gigabytes; streamed it stays small
    assert!(ran.max_rss_kb < 100 * 1024, "{} KB", ran.max_rss_kb);
    assert!(ran.stderr.contains("output larger than"), "{}", ran.stderr);
}

#[test]
fn replay_of_the_hostile_corpus_is_clean() {
    let bin = release_iocforge();
    let _serial = serial();
    let script = common::shared().join("conformance/hostile/replay.sh");
    // replay.sh unpacks into the fixed /tmp/rel: a tmpfs on /tmp, in a mount
    // namespace of our own, keeps other runs on the machine out of it. The
    // binary and the corpus may live under /tmp themselves, so they are
    // opened before the mount and copied into the new /tmp
    let out = Command::new("unshare")
        .args([
            "-rm",
            "sh",
            "-c",
            "exec 3<\"$0\" 4<\"$1\" 5<\"$2\" && mount -t tmpfs none /tmp && mkdir /tmp/h \
             && cat <&3 >/tmp/h/replay.sh && cat <&4 >/tmp/h/corpus.tgz \
             && cat <&5 >/tmp/h/iocforge && chmod +x /tmp/h/iocforge \
             && exec bash /tmp/h/replay.sh /tmp/h/iocforge",
        ])
        .arg(&script)
        .arg(script.with_file_name("corpus.tgz"))
        .arg(bin)
        .output()
        .expect("replay.sh runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = stdout.lines().last().unwrap_or_default();
    let (pass, total) = last
        .split_whitespace()
        .next()
        .and_then(|f| f.split_once('/'))
        .expect("a pass/total line");
    assert_eq!(pass, total, "{stdout}");
    assert!(total.parse::<u32>().unwrap() >= 199, "{stdout}");
}

// ---------------------------------------------------------------------------
// the output folder

fn files_of(dir: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = walkdir::WalkDir::new(dir)
        .min_depth(1)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path()
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                fs_err::read_to_string(e.path()).unwrap_or_default(),
            )
        })
        .collect();
    out.sort();
    out
}

fn big_instance(tag: &str) -> String {
    let mut s = String::from("ioc_name: kt\ndescription: d\nentities:\n");
    for i in 0..5000 {
        s.push_str(&format!("  - type: t.E\n    name: e{i}\n    x: {tag}{i}\n"));
    }
    s
}

/// A small xorshift generator: reproducible from its seed, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[allow(clippy::disallowed_methods)] // the test harness's own setting
fn seed_from_env(name: &str) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1
        })
}

#[test]
fn killed_generate_leaves_old_or_new_output() {
    let bin = release_iocforge();
    let _serial = serial();
    let d = workdir();
    let dir = d.path();
    fs_err::write(dir.join("old.yaml"), big_instance("old")).unwrap();
    fs_err::write(dir.join("new.yaml"), big_instance("new")).unwrap();
    let full = generate(dir, bin, "old.yaml", "out");
    assert_eq!(full.code, Some(0), "{}", full.stderr);
    let old = files_of(&dir.join("out"));
    assert!(generate(dir, bin, "new.yaml", "out").code == Some(0));
    let new = files_of(&dir.join("out"));
    assert!(old.len() >= 2 && old != new);
    // how long a whole run takes: kills land anywhere in it
    let started = Instant::now();
    generate(dir, bin, "old.yaml", "out");
    let span = started.elapsed().as_micros().max(1000) as u64;
    let seed = seed_from_env("HOSTILE_KILL_SEED");
    eprintln!("[hostile] kill seed {seed} (HOSTILE_KILL_SEED), run takes {span} µs");
    let mut rng = Rng(seed);
    let mut outcomes = [0usize; 2];
    for i in 0..200 {
        let inst = if i % 2 == 0 { "new.yaml" } else { "old.yaml" };
        let mut child = Command::new(bin)
            .current_dir(dir)
            .args([
                "runtime",
                "generate",
                inst,
                "t.ibek.support.yaml",
                "-o",
                "out",
                "--no-db",
            ])
            .env("EPICS_ROOT", dir.join("er"))
            .env("IOC_NAME", "K")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_micros(rng.next() % (span * 12 / 10)));
        let _ = child.kill();
        let _ = child.wait();
        let now = files_of(&dir.join("out"));
        assert!(
            now == old || now == new,
            "kill {i} (seed {seed}) left a folder that is neither the old nor the new output: {:?}",
            now.iter().map(|(n, t)| (n, t.len())).collect::<Vec<_>>()
        );
        outcomes[usize::from(now == new)] += 1;
    }
    eprintln!(
        "[hostile] after the kills: {} old, {} new",
        outcomes[0], outcomes[1]
    );
    // the next run removes every temporary the kills left
    assert_eq!(generate(dir, bin, "new.yaml", "out").code, Some(0));
    let names: Vec<String> = fs_err::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("iocforge"))
        .collect();
    assert!(names.is_empty(), "temporaries survived: {names:?}");
    assert_eq!(files_of(&dir.join("out")), new);
}

#[test]
fn a_symlinked_output_folder_is_written_in_place() {
    let bin = release_iocforge();
    let _serial = serial();
    let d = workdir();
    let dir = d.path();
    fs_err::create_dir_all(dir.join("real")).unwrap();
    fs_err::write(dir.join("real/stale.txt"), "old").unwrap();
    std::os::unix::fs::symlink(dir.join("real"), dir.join("out")).unwrap();
    fs_err::write(dir.join("i.yaml"), instance("v")).unwrap();
    let ran = generate(dir, bin, "i.yaml", "out");
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert!(dir
        .join("out")
        .symlink_metadata()
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(fs_err::read_to_string(dir.join("real/st.cmd"))
        .unwrap()
        .contains("echo v"));
    assert!(!dir.join("real/stale.txt").exists());
}

#[test]
fn a_mount_point_output_folder_is_written_in_place() {
    let bin = release_iocforge();
    let _serial = serial();
    let d = workdir();
    let dir = d.path();
    fs_err::create_dir_all(dir.join("out")).unwrap();
    fs_err::write(dir.join("i.yaml"), instance("mounted")).unwrap();
    // a tmpfs on `out` in a user and mount namespace of our own, as Kubernetes mounts it
    let script = format!(
        "mount -t tmpfs none out && echo stale > out/stale.txt && \
         EPICS_ROOT=er IOC_NAME=M '{bin}' runtime generate i.yaml t.ibek.support.yaml -o out --no-db && \
         test ! -e out/stale.txt && grep -q 'echo mounted' out/st.cmd && \
         grep -q ' {out} ' /proc/self/mountinfo && ls -a . | grep -c iocforge | grep -qx 0",
        bin = bin.display(),
        out = dir.join("out").display()
    );
    let out = Command::new("unshare")
        .args(["-rm", "sh", "-c", &script])
        .current_dir(dir)
        .output()
        .expect("unshare runs");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---------------------------------------------------------------------------
// the fuzz harness

/// Jinja payloads spliced into values by the fuzzer.
const SPLICES: &[&str] = &[
    "{{ 'a' * 10**9 }}",
    "{{ [1] * 10**9 }}",
    "{{ '%.*f' % (10**6, 1.5) }}",
    "{{ x * 10**7 }}",
    "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}",
    "{% set l = [] %}{% set _ = l.append(l) %}{{ l }}",
    "{{ (-2**127) // -1 }}",
    "{{ '{:>99999999999}'.format(1) }}",
    "{{ range(10**9) | list }}",
    "{{ env }}",
    "{{ _global.set('x', 'y' * 10**6) }}",
    "{{ _global.incrementor('c', 0, 10**30) }}",
    "{{ undefined_name }}",
    "{{ 1 +",
    "{% if %}",
];

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let n = 1 + rng.below(3);
    for _ in 0..n {
        let at = rng.below(bytes.len() + 1);
        match rng.below(10) {
            0 => {
                if !bytes.is_empty() {
                    let i = rng.below(bytes.len());
                    bytes[i] ^= 1 << rng.below(8);
                }
            }
            1 => bytes.truncate(at),
            2 => {
                // a line repeated
                let line_start = bytes[..at]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |p| p + 1);
                let line_end = bytes[at..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(bytes.len(), |p| at + p + 1);
                let line = bytes[line_start..line_end].to_vec();
                for _ in 0..rng.below(50) {
                    bytes.splice(line_end..line_end, line.iter().copied());
                }
            }
            3..=5 => {
                // a Jinja payload in a value
                let p = SPLICES[rng.below(SPLICES.len())];
                let quoted = serde_json::to_string(p).unwrap();
                bytes.splice(at..at, quoted.bytes());
            }
            6 => {
                let long = "y".repeat(1 << (10 + rng.below(10)));
                bytes.splice(at..at, long.bytes());
            }
            7 => {
                let deep = "[".repeat(1 + rng.below(5000));
                bytes.splice(at..at, deep.bytes());
            }
            8 => {
                let bomb = "&b [*b, *b]";
                bytes.splice(at..at, bomb.bytes());
            }
            _ => {
                let nul = [
                    "\0",
                    "\u{feff}",
                    "é",
                    "\t",
                    ": ",
                    "- ",
                    "*",
                    "&",
                    "!!python/object ",
                ];
                bytes.splice(at..at, nul[rng.below(nul.len())].bytes());
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

struct Seed {
    kind: &'static str,
    text: String,
    /// Other files the command needs, copied beside the mutated one.
    context: Vec<(String, String)>,
}

/// One instance and its definitions: the instance as a seed, and each
/// definition file (as support for `runtime generate`, or for the schema).
fn push_case(seeds: &mut Vec<Seed>, inst: &str, defs: &[(String, String)]) {
    seeds.push(Seed {
        kind: "instance",
        text: inst.to_string(),
        context: defs.to_vec(),
    });
    for (i, (name, text)) in defs.iter().enumerate() {
        let mut context = defs.to_vec();
        context.remove(i);
        context.push(("instance.yaml".into(), inst.to_string()));
        seeds.push(Seed {
            kind: if i % 2 == 0 { "support" } else { "schema" },
            text: text.clone(),
            context: std::iter::once((format!("seed:{name}"), String::new()))
                .chain(context)
                .collect(),
        });
    }
}

/// The real instances of the shared corpus (`cases/NAME/instance`, `defs/`), with their definitions.
fn real_world_seeds(seeds: &mut Vec<Seed>) {
    let real = common::shared().join("conformance/real-world/cases");
    for case in walkdir::WalkDir::new(&real)
        .max_depth(1)
        .min_depth(1)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
    {
        let Ok(inst) = fs_err::read_to_string(case.path().join("instance/ioc.yaml")) else {
            continue;
        };
        let defs: Vec<(String, String)> = walkdir::WalkDir::new(case.path().join("defs"))
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .filter_map(|e| {
                let text = fs_err::read_to_string(e.path()).ok()?;
                Some((e.file_name().to_string_lossy().into_owned(), text))
            })
            .collect();
        push_case(seeds, &inst, &defs);
    }
}

fn fuzz_seeds() -> Vec<Seed> {
    let samples = common::shared().join("conformance/ibek-samples");
    let mut seeds = Vec::new();
    let cases = fs_err::read_to_string(samples.join("cases.tsv")).unwrap();
    for line in cases.lines().filter(|l| !l.starts_with('#')) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 3 {
            continue;
        }
        let Ok(inst) = fs_err::read_to_string(samples.join(cols[1])) else {
            continue;
        };
        let defs: Vec<(String, String)> = cols[2]
            .split_whitespace()
            .filter_map(|d| {
                let text = fs_err::read_to_string(samples.join(d)).ok()?;
                Some((
                    Path::new(d).file_name()?.to_string_lossy().into_owned(),
                    text,
                ))
            })
            .collect();
        push_case(&mut seeds, &inst, &defs);
    }
    real_world_seeds(&mut seeds);
    // install files of the project's fixtures (planned with `support build --dry-run`)
    let install_dirs = [
        common::root().join("tests/schema/install"),
        common::root().join("tests/build/ibek-support"),
    ];
    for dir in install_dirs {
        for entry in walkdir::WalkDir::new(dir)
            .into_iter()
            .filter_map(Result::ok)
        {
            let name = entry.file_name().to_string_lossy();
            if name.ends_with(".install.yml") {
                if let Ok(text) = fs_err::read_to_string(entry.path()) {
                    seeds.push(Seed {
                        kind: "install",
                        text,
                        context: Vec::new(),
                    });
                }
            }
        }
    }
    // substitution files and templates of the project's msi fixtures
    for case in walkdir::WalkDir::new(common::root().join("tests/msi/cases"))
        .max_depth(1)
        .min_depth(1)
        .into_iter()
        .filter_map(Result::ok)
    {
        let files: Vec<(String, String)> = fs_err::read_dir(case.path())
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter(|e| e.path().is_file())
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let text = fs_err::read_to_string(e.path()).ok()?;
                (name != "case").then_some((name, text))
            })
            .collect();
        for (i, (name, text)) in files.iter().enumerate() {
            if !(name.ends_with(".db")
                || name.ends_with(".template")
                || name.ends_with(".subst")
                || name.ends_with(".substitutions"))
            {
                continue;
            }
            let mut context = files.clone();
            context.remove(i);
            seeds.push(Seed {
                kind: "msi",
                text: text.clone(),
                context: std::iter::once((format!("seed:{name}"), String::new()))
                    .chain(context)
                    .collect(),
            });
        }
    }
    seeds
}

/// Runs one mutated input; returns the command line and how it ended.
fn fuzz_one(bin: &Path, dir: &Path, seed: &Seed, text: &str) -> (String, Ran) {
    fs_err::create_dir_all(dir.join("er")).unwrap();
    if seed.kind == "install" {
        let module = dir.join("ibek-support/widget");
        fs_err::create_dir_all(&module).unwrap();
        fs_err::write(module.join("widget.install.yml"), text).unwrap();
        let er = dir.join("er");
        let ran = run_measured(
            &dir.join("ibek-support"),
            bin,
            &["support", "build", "widget", "--dry-run"],
            &[("EPICS_ROOT", er.to_str().unwrap_or("er"))],
        );
        return (
            "support build widget --dry-run (in ibek-support)".into(),
            ran,
        );
    }
    let mut defs: Vec<String> = Vec::new();
    let mut name = "instance.yaml".to_string();
    for (n, t) in &seed.context {
        if let Some(original) = n.strip_prefix("seed:") {
            name = original.to_string();
            continue;
        }
        fs_err::write(dir.join(n), t).unwrap();
        if n.ends_with(".support.yaml") {
            defs.push(n.clone());
        }
    }
    fs_err::write(dir.join(&name), text).unwrap();
    let mut args: Vec<String> = match seed.kind {
        "instance" => ["runtime", "generate", &name].map(String::from).to_vec(),
        "support" => ["runtime", "generate", "instance.yaml", &name]
            .map(String::from)
            .to_vec(),
        "schema" => ["ioc", "generate-schema", "--no-ibek-defs", &name]
            .map(String::from)
            .to_vec(),
        _ if name.ends_with(".db") || name.ends_with(".template") => {
            ["msi", "-M", "A=1,B=2", &name].map(String::from).to_vec()
        }
        _ => ["msi", "-S", &name].map(String::from).to_vec(),
    };
    match seed.kind {
        "instance" | "support" => {
            args.extend(defs);
            args.extend(["-o", "out", "--no-db"].map(String::from));
        }
        "schema" => {
            args.extend(defs);
            args.extend(["--output", "schema.json"].map(String::from));
        }
        _ => {}
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let ran = run_measured(dir, bin, &refs, &[]);
    (args.join(" "), ran)
}

#[test]
#[allow(clippy::disallowed_methods)] // the test harness's own setting
fn fuzzed_inputs_end_cleanly_within_limits() {
    let bin = release_iocforge();
    let _serial = serial();
    let seed = seed_from_env("HOSTILE_FUZZ_SEED");
    let secs: u64 = std::env::var("HOSTILE_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(120);
    eprintln!("[hostile] fuzz seed {seed} for {secs} s (reproduce: HOSTILE_FUZZ_SEED={seed})");
    let seeds = fuzz_seeds();
    assert!(seeds.len() > 20, "too few seeds: {}", seeds.len());
    let mut rng = Rng(seed);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let failures_dir = common::root().join("target/hostile-fuzz");
    let mut runs = 0;
    let mut by_code = [0usize; 3];
    while Instant::now() < deadline {
        let s = &seeds[rng.below(seeds.len())];
        let text = mutate(&mut rng, &s.text);
        let work = tempfile::tempdir().unwrap();
        let (cmd, ran) = fuzz_one(bin, work.path(), s, &text);
        runs += 1;
        if !ran.clean() {
            let keep = failures_dir.join(format!("seed-{seed}-run-{runs}"));
            let _ = fs_err::remove_dir_all(&keep);
            common::copy_dir(work.path(), &keep);
            panic!(
                "run {runs} (seed {seed}) did not end cleanly: exit {:?}, {:.1} s, {} KB\n\
                 command (in {}): {cmd}\nstderr: {:.3000}",
                ran.code,
                ran.seconds,
                ran.max_rss_kb,
                keep.display(),
                ran.stderr
            );
        }
        if let Some(c @ 0..=2) = ran.code {
            by_code[c as usize] += 1;
        }
        let _ = &ran.stdout;
    }
    eprintln!(
        "[hostile] {runs} fuzzed runs: {} exit 0, {} exit 1, {} exit 2",
        by_code[0], by_code[1], by_code[2]
    );
    assert!(runs >= 50, "only {runs} runs in {secs} s");
}
