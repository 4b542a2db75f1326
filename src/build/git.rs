//! What git makes of a module's upstream URL.
//!
//! Install files name upstream URLs (`https://github.com/epics-modules/asyn`).
//! A facility mirror or an offline build rewrites them with git's own
//! `url.<base>.insteadOf` configuration; `support build` prints the URL git
//! resolved, so the log shows where the source really came from.

use std::process::{Command, Stdio};

/// The URL git fetches `url` from after `url.<base>.insteadOf` rewriting
/// (`git ls-remote --get-url`, which contacts nothing); `None` when git is
/// missing or fails.
pub fn resolved_url(url: &str) -> Option<String> {
    let out = Command::new("git")
        .args(["ls-remote", "--get-url", url])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (!s.is_empty()).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unconfigured_url_resolves_to_itself() {
        // no insteadOf rule names this made-up host
        assert_eq!(
            resolved_url("https://iocforge.invalid/org/mod").as_deref(),
            Some("https://iocforge.invalid/org/mod")
        );
    }
}
