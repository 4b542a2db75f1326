//! `$SUPPORT/configure/RELEASE.shell`: the support module paths as shell exports.
//!
//! The start script sources this file so that the IOC (and msi, for file
//! names such as `$(ADCORE)/db/NDStats.template`) sees `ADCORE=...`.
//! iocforge reads the same lines without a shell: `export NAME=value` or
//! `NAME=value`, values optionally quoted, `$NAME`/`${NAME}` expanded from
//! the variables read so far and the environment, `#` comments ignored.

use std::collections::HashMap;

use crate::diag::Diagnostic;
use crate::layout::EpicsLayout;

/// The start step: reads `$SUPPORT/configure/RELEASE.shell` (when there is
/// one) into the layout's environment, where msi and the IOC find the
/// support module paths. Returns how many variables were set.
pub fn load_into(layout: &mut EpicsLayout) -> Result<Option<usize>, Diagnostic> {
    let release = layout.release_shell();
    if !release.is_file() {
        return Ok(None);
    }
    let text = fs_err::read_to_string(&release)
        .map_err(|e| Diagnostic::plain(None, format!("cannot read RELEASE.shell: {e}")).io())?;
    let env = layout.env().clone();
    let vars = parse(&text, &|n| env.get(n).map(str::to_string)).map_err(|e| {
        Diagnostic::plain(
            None,
            format!("{}:{}: {}", release.display(), e.line, e.message),
        )
    })?;
    for (k, v) in &vars {
        layout.env_mut().set(k, v);
    }
    Ok(Some(vars.len()))
}

/// A problem on one line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellLineError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn expand(
    value: &str,
    vars: &HashMap<String, String>,
    env: &dyn Fn(&str) -> Option<String>,
) -> String {
    let mut out = String::with_capacity(value.len());
    let chars: Vec<char> = value.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '$' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let (name, next) = if chars.get(i + 1) == Some(&'{') {
            match chars[i + 2..].iter().position(|c| *c == '}') {
                Some(end) => (
                    chars[i + 2..i + 2 + end].iter().collect::<String>(),
                    i + 3 + end,
                ),
                None => (String::new(), i + 1),
            }
        } else {
            let len = chars[i + 1..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                .count();
            (chars[i + 1..i + 1 + len].iter().collect(), i + 1 + len)
        };
        if name.is_empty() {
            out.push('$');
            i += 1;
            continue;
        }
        out.push_str(
            &vars
                .get(&name)
                .cloned()
                .or_else(|| env(&name))
                .unwrap_or_default(),
        );
        i = next;
    }
    out
}

/// Parses the exports of a RELEASE.shell text, in order.
pub fn parse(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<(String, String)>, ShellLineError> {
    let mut vars: HashMap<String, String> = HashMap::new();
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let body = line.strip_prefix("export ").map_or(line, str::trim_start);
        let Some((name, value)) = body.split_once('=') else {
            return Err(ShellLineError {
                line: i + 1,
                message: format!("expected `export NAME=value`, found `{line}`"),
            });
        };
        let name = name.trim();
        if !is_name(name) {
            return Err(ShellLineError {
                line: i + 1,
                message: format!("`{name}` is not a variable name"),
            });
        }
        let value = value.trim();
        let value = if let Some(v) = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
            v.to_string()
        } else if let Some(v) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
            expand(v, &vars, env)
        } else {
            // an unquoted value ends at a comment
            let v = value.split(" #").next().unwrap_or("").trim_end();
            expand(v, &vars, env)
        };
        vars.insert(name.to_string(), value.clone());
        out.push((name.to_string(), value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_exports_quotes_and_references() {
        let text = "# generated\nexport SUPPORT=\"/epics/support\"\nexport ASYN=\"${SUPPORT}/asyn\"\nMOTOR=$SUPPORT/motor # trailing\nexport RAW='$NOT'\nexport EPICS_DB_INCLUDE_PATH=\"$ASYN/db:$HOME/db\"\n";
        let vars = parse(text, &|n| (n == "HOME").then(|| "/root".to_string())).unwrap();
        assert_eq!(
            vars,
            [
                ("SUPPORT".to_string(), "/epics/support".to_string()),
                ("ASYN".into(), "/epics/support/asyn".into()),
                ("MOTOR".into(), "/epics/support/motor".into()),
                ("RAW".into(), "$NOT".into()),
                (
                    "EPICS_DB_INCLUDE_PATH".into(),
                    "/epics/support/asyn/db:/root/db".into()
                ),
            ]
        );
    }

    #[test]
    fn reports_the_bad_line() {
        let err = parse("export A=1\nnonsense here\n", &|_| None).unwrap_err();
        assert_eq!(err.line, 2);
    }
}
