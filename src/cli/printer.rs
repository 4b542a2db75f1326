//! The only place that writes to the terminal: data to stdout, everything else to stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;

use crate::diag::Diagnostics;

/// Writes data (schemas, listings) to stdout; a closed pipe is not an error.
pub fn data(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Writes diagnostics to stderr.
pub fn diagnostics(d: &Diagnostics) {
    eprint!("{}", d.render());
}

/// Writes an error line to stderr.
pub fn error(msg: &str) {
    eprintln!("error: {msg}");
}

/// Writes a warning line to stderr.
pub fn warning(msg: &str) {
    eprintln!("warning: {msg}");
}

/// Writes a progress or log line to stderr.
pub fn info(msg: &str) {
    eprintln!("{msg}");
}

/// The last lines of a failed command's output, as one note.
pub fn output_tail(lines: &[String]) -> String {
    let mut out = format!("last {} lines of its output:", lines.len());
    for line in lines {
        out.push_str("\n  | ");
        out.push_str(line);
    }
    out
}
