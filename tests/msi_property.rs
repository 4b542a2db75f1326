//! Random substitution files and templates (fixed seed) run through the
//! reference msi 7.0.8.1 and `iocforge msi`: every run must agree in
//! stdout, stderr, exit status and files left behind.
//!
//! The generator mixes well-formed input with the odd bits msi handles in
//! its own way: quotes, escapes, defaults, scoped and nested references,
//! unterminated references, directives, comments, syntax errors, missing
//! files. It avoids the inputs msi cannot handle: definition lists that
//! overrun `macParseDefns`' tables (padded), and a reference cut off by the
//! end of a value right after a `,` (`$(A,`), on which macLib loops
//! forever; iocforge flags those and they are left out (a few in a
//! thousand).
//!
//! `MSI_PROPERTY_CASES` and `MSI_PROPERTY_SEED` override the defaults.

mod common;
#[path = "msi/harness.rs"]
mod harness;

use std::ffi::OsString;

use harness::{differences, msi_would_hang, run, Invocation, StderrCheck, Tool};

/// splitmix64: small, fast, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `percent` in 100.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const NAMES: &[&str] = &["A", "B", "C", "P", "R", "X1", "lo", "N"];
const WORDS: &[&str] = &[
    "x",
    "rec",
    "ai",
    "7",
    " ",
    "  ",
    "\t",
    ":",
    "-",
    "(",
    ")",
    "{",
    "}",
    "=",
    ",",
    "\"",
    "'",
    "\\",
    "$",
    "#",
    ".",
    "é",
    "\\$",
    "\\\\",
    "\\\"",
    "$$",
    "\\(",
    "include",
    "substitute",
];
/// Words safe inside a bare substitution-file value.
const BARE: &[&str] = &[
    "x", "rec", "7", ":", "-", ".", "=", "(", ")", "$", "é", "\\", "_",
];

struct Gen {
    rng: Rng,
}

impl Gen {
    fn name(&mut self) -> String {
        self.rng.pick(NAMES).to_string()
    }

    /// A macro reference; `line` allows unterminated ones.
    fn reference(&mut self, depth: usize, line: bool) -> String {
        let kinds = if depth == 0 {
            2
        } else if line {
            9
        } else {
            8
        };
        let (open, close) = if self.rng.chance(30) {
            ("${", "}")
        } else {
            ("$(", ")")
        };
        let n = self.name();
        match self.rng.below(kinds) {
            0 | 1 => format!("{open}{n}{close}"),
            2 | 3 => format!("{open}{n}={}{close}", self.text(depth - 1, false)),
            4 => format!(
                "{open}{n},{}={}{close}",
                self.name(),
                self.text(depth - 1, false)
            ),
            5 => format!("{open}{n},{}{close}", self.name()),
            6 => format!("{open}{}{close}", self.reference(depth - 1, false)),
            7 => format!(
                "{open}{n}={},{}=x{close}",
                self.text(depth - 1, false),
                self.name()
            ),
            _ => format!("{open}{n}"),
        }
    }

    /// Text with references; in a value (`line == false`) it never ends in
    /// a way that could leave a trailing escaped comma.
    fn text(&mut self, depth: usize, line: bool) -> String {
        let mut s = String::new();
        for _ in 0..self.rng.below(5) {
            match self.rng.below(20) {
                0..=10 => s.push_str(self.rng.pick(WORDS)),
                11..=17 => s.push_str(&self.reference(depth, line)),
                18 => s.push_str(&format!("\"{}\"", self.text(depth.saturating_sub(1), line))),
                _ => s.push_str(&format!("'{}'", self.text(depth.saturating_sub(1), line))),
            }
        }
        if !line {
            s = s.replace("\\,", "\\;");
            if s.ends_with('\\') {
                s.push('x');
            }
        }
        s
    }

    /// `A=1,B="x"` style definitions.
    fn definitions(&mut self) -> String {
        let mut parts = Vec::new();
        for _ in 0..=self.rng.below(4) {
            let n = self.name();
            parts.push(match self.rng.below(10) {
                0 => n,
                1 => format!("{n}=\"{}\"", self.text(2, false).replace('"', "")),
                2 => format!(" {n} = {} ", self.text(1, false)),
                _ => format!("{n}={}", self.text(2, false)),
            });
        }
        let sep = if self.rng.chance(50) { "," } else { ", " };
        let mut d = parts.join(sep);
        if d.ends_with('\\') {
            d.push('x');
        }
        d
    }

    /// msi's `macParseDefns` sizes its tables by the string's length and
    /// overruns them (heap corruption, then a crash or a hang) when there
    /// are too many definitions for it, e.g. `A,B,C`: pad those with spaces.
    fn padded(mut d: String) -> String {
        let pairs = iocforge::db::macros::parse_definitions(d.as_bytes()).len();
        while 2 * pairs + 1 > d.len().max(4) {
            d.push(' ');
        }
        d
    }

    fn template_line(&mut self, includes: &[&str]) -> String {
        match self.rng.below(200) {
            0..=6 if !includes.is_empty() => {
                format!("include \"{}\"\n", self.rng.pick(includes))
            }
            7..=12 => format!(
                "  substitute \"{}\"\n",
                Self::padded(self.definitions().replace('"', "\\\""))
            ),
            13 => "include \"missing.db\"\n".to_string(),
            14..=17 => format!("substitute \"{}\" x\n", self.definitions().replace('"', "")),
            18..=25 => "\n".to_string(),
            _ => format!("{}\n", self.text(3, true)),
        }
    }

    fn template(&mut self, includes: &[&str]) -> String {
        let mut t = String::new();
        for _ in 0..=self.rng.below(5) {
            t.push_str(&self.template_line(includes));
        }
        if self.rng.chance(10) {
            // a last line without its newline
            t.push_str(&self.text(2, false));
            t.push('x');
        }
        t
    }

    fn bare_value(&mut self) -> String {
        let mut v = String::new();
        for _ in 0..=self.rng.below(3) {
            if self.rng.chance(25) {
                v.push_str(&format!("$({})", self.name()));
            } else {
                v.push_str(self.rng.pick(BARE));
            }
        }
        if v.ends_with('\\') {
            v.push('x');
        }
        v
    }

    fn quoted_value(&mut self) -> String {
        let inner = self.text(2, false).replace('"', "\\\"").replace('\t', " ");
        let inner = inner
            .strip_suffix('\\')
            .map_or(inner.clone(), |s| format!("{s}x"));
        format!("\"{inner}\"")
    }

    fn value(&mut self) -> String {
        if self.rng.chance(50) {
            self.bare_value()
        } else {
            self.quoted_value()
        }
    }

    fn separator(&mut self) -> &'static str {
        ["", " ", ", ", ",", "\n    ", " ,", "\t"][self.rng.below(7)]
    }

    fn row(&mut self, pattern: Option<usize>) -> String {
        let mut r = String::from("{");
        r.push_str(self.separator());
        let n = match pattern {
            Some(n) if self.rng.chance(85) => n,
            Some(n) => n + 1 - self.rng.below(2).min(n),
            None => self.rng.below(4),
        };
        for i in 0..n {
            if i > 0 {
                r.push_str(if self.rng.chance(85) {
                    ", "
                } else {
                    self.separator()
                });
            }
            if pattern.is_some() {
                r.push_str(&self.value());
            } else {
                r.push_str(&format!("{}={}", self.name(), self.value()));
            }
        }
        r.push_str(self.separator());
        r.push('}');
        r
    }

    fn file_block(&mut self) -> String {
        let name = match self.rng.below(24) {
            6..=9 => "\"t2.db\"".to_string(),
            10 | 11 => "\"$(DIR)/t3.db\"".to_string(),
            12 if self.rng.chance(30) => "${DIR}/t3.db".to_string(),
            13 => "$(DIR)/t3.db".to_string(),
            14 => "t3.db".to_string(),
            15 if self.rng.chance(30) => "missing.db".to_string(),
            16 if self.rng.chance(30) => "\"$(NOPE)/t1.db\"".to_string(),
            _ => "t1.db".to_string(),
        };
        let mut b = format!("file {name} {{\n");
        let pattern = if self.rng.chance(60) {
            let n = 1 + self.rng.below(3);
            let names: Vec<String> = (0..n)
                .map(|_| {
                    let nm = self.name();
                    if self.rng.chance(15) {
                        format!("\"{nm}\"")
                    } else {
                        nm
                    }
                })
                .collect();
            b.push_str(&format!("  pattern {{ {} }}\n", names.join(", ")));
            Some(n)
        } else {
            None
        };
        let rows = if self.rng.chance(5) {
            0
        } else {
            1 + self.rng.below(3)
        };
        for _ in 0..rows {
            b.push_str("  ");
            b.push_str(&self.row(pattern));
            b.push_str(if self.rng.chance(10) {
                "# note\n"
            } else {
                "\n"
            });
        }
        if self.rng.chance(8) {
            b.push_str(&format!(
                "  global {}\n  {}\n",
                self.row(None),
                self.row(pattern)
            ));
        }
        b.push_str("}\n");
        b
    }

    fn substitutions(&mut self) -> String {
        let mut s = String::new();
        if self.rng.chance(20) {
            s.push_str("# generated\n");
        }
        for _ in 0..=self.rng.below(3) {
            match self.rng.below(40) {
                0..=3 => s.push_str(&format!("global {}\n", self.row(None))),
                // the padding pair keeps msi's definition tables large enough
                4 => s.push_str(&format!(
                    "global {{ {}, PAD=0123456789 }}\n",
                    self.definitions()
                )),
                5 => s.push_str(&format!("{}\n", self.row(None))),
                6 | 7 if self.rng.chance(40) => {
                    // a syntax error of some kind
                    s.push_str(
                        [
                            "}\n",
                            "file\n",
                            "file t1.db\n{\n",
                            "{ A=\"x\n",
                            "pattern\n",
                            "{ {",
                            "junk\n",
                        ][self.rng.below(7)],
                    );
                }
                _ => s.push_str(&self.file_block()),
            }
        }
        s
    }

    fn case(&mut self) -> Invocation {
        let mut inv = Invocation::default();
        let inc = self.template(&[]);
        inv.files.push(("inc.db".into(), inc.into_bytes()));
        let t1 = self.template(&["inc.db"]);
        let t2 = self.template(&["inc.db", "sub/t3.db"]);
        let t3 = self.template(&["inc.db"]);
        inv.files.push(("t1.db".into(), t1.into_bytes()));
        inv.files.push(("t2.db".into(), t2.into_bytes()));
        inv.files.push(("sub/t3.db".into(), t3.into_bytes()));
        inv.env.push(("DIR".into(), "sub".into()));
        let mut args: Vec<OsString> = Vec::new();
        if self.rng.chance(30) {
            args.push("-V".into());
        }
        if self.rng.chance(15) {
            args.push("-g".into());
        }
        if self.rng.chance(40) {
            args.push(["-I.:sub", "-I:sub", "-Isub:.", "-I.", "-Isub"][self.rng.below(5)].into());
        }
        for _ in 0..self.rng.below(3) {
            args.push("-M".into());
            args.push(Self::padded(self.definitions()).into());
        }
        if self.rng.chance(5) {
            args.push("-D".into());
            args.push("-oout.d".into());
        }
        let mode = self.rng.below(100);
        if mode < 85 {
            let subst = self.substitutions();
            inv.files.push(("x.subst".into(), subst.into_bytes()));
            args.push("-Sx.subst".into());
            if self.rng.chance(10) {
                args.push("t2.db".into());
            }
        } else if mode < 97 {
            args.push(["t1.db", "t2.db", "sub/t3.db", "t3.db"][self.rng.below(4)].into());
        } else {
            inv.stdin = self.template(&["inc.db"]).into_bytes();
        }
        inv.args = args;
        inv
    }
}

#[allow(clippy::disallowed_methods)] // the test's own knobs
fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn random_inputs_expand_as_msi_expands_them() {
    let count = env_number("MSI_PROPERTY_CASES", 1200);
    let seed = env_number("MSI_PROPERTY_SEED", 0x6d73_6937);
    let mut gen = Gen { rng: Rng(seed) };
    let cases: Vec<Invocation> = (0..count).map(|_| gen.case()).collect();
    let failures = std::sync::Mutex::new(Vec::new());
    // exit status 0, 1, 2 with output; anything else
    let tally = std::sync::Mutex::new([0usize; 4]);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let hangs = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(inv) = cases.get(i) else { break };
                if msi_would_hang(inv) {
                    hangs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    continue;
                }
                let msi = run(Tool::Reference, inv);
                let ours = run(Tool::Iocforge, inv);
                if let (Some(code @ 0..=2), false) = (msi.status, msi.stdout.is_empty()) {
                    tally.lock().unwrap()[code as usize] += 1;
                } else {
                    tally.lock().unwrap()[3] += 1;
                }
                if let Some(d) = differences(&msi, &ours, StderrCheck::Exact) {
                    let files: Vec<String> = inv
                        .files
                        .iter()
                        .map(|(n, b)| format!("--- {n}\n{}", String::from_utf8_lossy(b)))
                        .collect();
                    failures.lock().unwrap().push(format!(
                        "== case {i}: args {:?}\n{}\n{d}",
                        inv.args,
                        files.join("")
                    ));
                }
            });
        }
    });
    let tally = tally.into_inner().unwrap();
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    assert!(
        failures.is_empty(),
        "{} of {count} random cases differ (seed {seed}); first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    // the generator must keep producing every kind of input and outcome
    let n = usize::try_from(count).unwrap();
    let hangs = hangs.into_inner();
    assert!(
        hangs * 100 <= n,
        "{hangs} cases would make msi loop forever"
    );
    let substs = cases
        .iter()
        .filter(|c| c.files.iter().any(|(f, _)| f == "x.subst"))
        .count();
    assert!(
        count < 1200 || substs >= 1000,
        "only {substs} substitution files"
    );
    assert!(
        tally[0] * 3 > n && tally[1] * 20 > n && tally[2] * 20 > n,
        "too few outcomes of some kind (exit 0, 1, 2 with output; other): {tally:?}"
    );
}
