//! `iocforge msi ...`: EPICS msi's command line, output and exit status.
//!
//! The arguments are parsed by hand because msi's conventions (`-IDIR` or
//! `-I DIR`, options only before the template, `-h` for usage) do not fit
//! clap; the expansion itself is [`crate::db::msi::run`]. Output is written
//! as raw bytes, not through the text printer: templates need not be UTF-8.
//! Exit status as msi 7.0: 0 ok, 1 bad usage or an unreadable or invalid
//! input (the `-o` file is then deleted), 2 undefined macros with `-V`.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Args;

use crate::db::msi::{run_streaming, Config, Substitutions, DEFAULT_DESCRIPTORS, USAGE};
use crate::db::DiskReader;
use crate::layout::Environment;

/// Arguments of `iocforge msi`: exactly msi's.
#[derive(Debug, Args)]
#[command(disable_help_flag = true, disable_version_flag = true)]
pub struct MsiArgs {
    /// msi's options and template: -V -g -D -o FILE -I DIR -M A=1,B=2 -S FILE [template]
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    args: Vec<OsString>,
}

/// How argument parsing ended when it does not lead to a run.
#[derive(Debug, PartialEq, Eq)]
pub struct EarlyExit {
    /// What msi prints on stderr.
    pub stderr: Vec<u8>,
    /// Its exit status.
    pub status: u8,
}

fn usage(message: &[u8], status: u8) -> EarlyExit {
    let mut stderr = message.to_vec();
    stderr.extend_from_slice(USAGE.as_bytes());
    EarlyExit { stderr, status }
}

/// Parses msi's arguments (after the program name) into a run configuration.
pub fn parse_args(args: &[Vec<u8>]) -> Result<Config, EarlyExit> {
    let mut config = Config::default();
    let mut i = 0;
    while let Some(arg) = args.get(i).filter(|a| a.first() == Some(&b'-')) {
        // `-X` takes the next argument as its value, `-Xvalue` the rest
        let separate = arg.len() == 2;
        let value = if separate {
            args.get(i + 1).cloned()
        } else {
            arg.get(2..).map(<[u8]>::to_vec)
        };
        let mut step = if separate { 2 } else { 1 };
        let missing = |opt: &[u8]| {
            let mut m = b"msi: Option ".to_vec();
            m.extend_from_slice(opt);
            m.extend_from_slice(b" needs a value\n");
            usage(&m, 1)
        };
        if arg.starts_with(b"-I") {
            // msi ignores a missing directory
            config.include_path.extend(value);
        } else if arg == b"-D" {
            config.dependencies = true;
            step = 1;
        } else if arg.starts_with(b"-o") {
            config.output = Some(value.ok_or_else(|| missing(b"-o"))?);
        } else if arg.starts_with(b"-M") {
            config.macros.push(value.ok_or_else(|| missing(b"-M"))?);
        } else if arg.starts_with(b"-S") {
            config.substitutions = Some(Substitutions {
                name: value.ok_or_else(|| missing(b"-S"))?,
                text: None,
            });
        } else if arg == b"-V" {
            config.verbose = true;
            step = 1;
        } else if arg == b"-g" {
            config.global_scope = true;
            step = 1;
        } else if arg == b"-h" {
            return Err(usage(b"", 0));
        } else {
            let mut m = b"msi: Bad argument \"".to_vec();
            m.extend_from_slice(arg);
            m.extend_from_slice(b"\"\n");
            return Err(usage(&m, 1));
        }
        i += step;
    }
    let rest = args.get(i..).unwrap_or_default();
    if rest.len() > 1 {
        return Err(usage(b"msi: Too many arguments\n", 1));
    }
    if config.dependencies && config.output.is_none() {
        return Err(EarlyExit {
            stderr: b"msi: Option -D requires -o for Makefile target\n".to_vec(),
            status: 1,
        });
    }
    config.template = rest.first().cloned();
    Ok(config)
}

#[cfg(unix)]
fn arg_bytes(a: OsString) -> Vec<u8> {
    use std::os::unix::ffi::OsStringExt;
    a.into_vec()
}

#[cfg(not(unix))]
fn arg_bytes(a: OsString) -> Vec<u8> {
    a.to_string_lossy().into_owned().into_bytes()
}

#[cfg(unix)]
fn path_of(b: &[u8]) -> std::path::PathBuf {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::OsStr::from_bytes(b).into()
}

#[cfg(not(unix))]
fn path_of(b: &[u8]) -> std::path::PathBuf {
    String::from_utf8_lossy(b).into_owned().into()
}

/// The C library's text for an I/O error (`strerror`).
fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    // std renders OS errors as "<strerror> (os error N)"
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// How many files this process could still open: the soft descriptor limit
/// less the descriptors open now (Linux `/proc`). msi runs into the same
/// limit when a template includes itself.
fn descriptors_left() -> Option<usize> {
    let limits = fs_err::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft: usize = line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let mut open = 0usize;
    for entry in fs_err::read_dir("/proc/self/fd").ok()? {
        let n: usize = entry.ok()?.file_name().to_str()?.parse().ok()?;
        if n < soft {
            open += 1;
        }
    }
    // one of them is the listing itself
    Some(soft.saturating_sub(open.saturating_sub(1)))
}

fn write_stderr(bytes: &[u8]) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(bytes);
    let _ = err.flush();
}

/// Runs `iocforge msi`.
pub fn run(args: MsiArgs, env: &Environment) -> ExitCode {
    let args: Vec<Vec<u8>> = args.args.into_iter().map(arg_bytes).collect();
    let mut config = match parse_args(&args) {
        Ok(c) => c,
        Err(early) => {
            write_stderr(&early.stderr);
            return ExitCode::from(early.status);
        }
    };
    config.descriptors = Some(descriptors_left().unwrap_or(DEFAULT_DESCRIPTORS));
    config.console_is_tty = std::io::stderr().is_terminal() && env.non_empty("TERM").is_some();
    // msi opens its output (freopen) before reading anything
    let mut out_file = None;
    if let (Some(out), false) = (&config.output, config.dependencies) {
        let path = path_of(out);
        match std::fs::File::create(&path) {
            Ok(f) => out_file = Some((f, path)),
            Err(e) => {
                let mut m = b"msi: Can't open ".to_vec();
                m.extend_from_slice(out);
                m.extend_from_slice(format!(" for writing: {}\n", strerror(&e)).as_bytes());
                write_stderr(&m);
                return ExitCode::from(1);
            }
        }
    }
    // streamed as msi does: an include loop on long lines must not be held in memory
    let mut err = std::io::stderr().lock();
    let outcome = if let Some((f, path)) = out_file {
        let mut f = std::io::BufWriter::new(f);
        let outcome = run_streaming(&config, &mut DiskReader::new(env.clone()), &mut f, &mut err);
        drop(f);
        if outcome.remove_output {
            let _ = fs_err::remove_file(&path);
        }
        outcome
    } else {
        // a closed pipe is not an error, as for every iocforge command
        let mut out = std::io::stdout().lock();
        let outcome = run_streaming(
            &config,
            &mut DiskReader::new(env.clone()),
            &mut out,
            &mut err,
        );
        // with -D, msi deletes the target it was told about when it aborts
        if let (true, Some(target)) = (outcome.remove_output, &config.output) {
            let _ = fs_err::remove_file(path_of(target));
        }
        outcome
    };
    ExitCode::from(outcome.status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, EarlyExit> {
        let v: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
        parse_args(&v)
    }

    #[test]
    fn joined_and_separate_values() {
        let c = parse(&[
            "-I",
            "a",
            "-Ib:c",
            "-MA=1",
            "-M",
            "B=2",
            "-Sx.subst",
            "-o",
            "out",
            "-V",
            "-g",
            "t",
        ])
        .unwrap();
        assert_eq!(c.include_path, vec![b"a".to_vec(), b"b:c".to_vec()]);
        assert_eq!(c.macros, vec![b"A=1".to_vec(), b"B=2".to_vec()]);
        assert_eq!(c.substitutions.unwrap().name, b"x.subst");
        assert_eq!(c.output.as_deref(), Some(&b"out"[..]));
        assert!(c.verbose && c.global_scope);
        assert_eq!(c.template.as_deref(), Some(&b"t"[..]));
    }

    #[test]
    fn usage_errors() {
        let e = parse(&["-X"]).unwrap_err();
        assert_eq!(e.status, 1);
        assert!(e
            .stderr
            .starts_with(b"msi: Bad argument \"-X\"\nUsage: msi"));
        assert_eq!(parse(&["-h"]).unwrap_err().status, 0);
        assert!(parse(&["a", "b"])
            .unwrap_err()
            .stderr
            .starts_with(b"msi: Too many arguments\n"));
        assert_eq!(
            parse(&["-D"]).unwrap_err().stderr,
            b"msi: Option -D requires -o for Makefile target\n"
        );
        // options stop at the first non-option
        assert!(parse(&["t", "-V"]).is_err());
    }
}
