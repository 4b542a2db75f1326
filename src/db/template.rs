//! Template input for msi: the include path, the stack of open template
//! files, and the `include "FILE"` / `substitute "A=1"` directives.
//!
//! Behaviour follows EPICS base 7.0.8.1 `msi.cpp` (`inputData`):
//!
//! - `-I a:b` adds each directory in order; an empty entry means `.`;
//! - a name containing `/`, or any name when no `-I` was given, is opened
//!   as written; other names are tried in each directory of the path only;
//! - a directive is recognised loosely, as msi does: the line (after white
//!   space) starts with `i` or `s` and contains the word `include` or
//!   `substitute` anywhere; the quoted argument starts after as many bytes
//!   as the word is long and may only be followed by spaces;
//! - lines are read in `fgets` chunks of at most 4095 bytes.
//!
//! Files are read once through a [`FileReader`] and kept, where msi reopens
//! them for every row; the files are assumed not to change during a run.

use std::collections::HashMap;
use std::rc::Rc;

use super::subst::{c_str, LINE_BUFFER};
use super::FileReader;

/// A template directive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Directive {
    /// `include "FILE"`
    Include,
    /// `substitute "A=1,B=2"`
    Substitute,
}

/// Recognises a directive line, returning its argument as written (escapes kept).
pub fn directive(line: &[u8]) -> Option<(Directive, &[u8])> {
    let at = |i: usize| line.get(i).copied().unwrap_or(0);
    let mut p = 0;
    while super::macros::is_space(at(p)) {
        p += 1;
    }
    let command = p;
    if at(command) != b'i' && at(command) != b's' {
        return None;
    }
    let rest = &line[command..];
    let contains = |word: &[u8]| rest.windows(word.len()).any(|w| w == word);
    // msi tries both words and keeps the last that occurs anywhere in the line
    let (kind, word_len) = if contains(b"substitute") {
        (Directive::Substitute, "substitute".len())
    } else if contains(b"include") {
        (Directive::Include, "include".len())
    } else {
        return None;
    };
    p = command + word_len;
    while super::macros::is_space(at(p)) {
        p += 1;
    }
    if at(p) != b'"' {
        return None;
    }
    p += 1;
    let start = p;
    while at(p) != 0 && at(p) != b'"' {
        if at(p) == b'\\' && at(p + 1) == b'"' {
            p += 2;
            continue;
        }
        p += 1;
    }
    let end = p;
    if at(p) == 0 {
        return None;
    }
    p += 1;
    while at(p) == b' ' {
        p += 1;
    }
    if at(p) != b'\n' && at(p) != 0 {
        return None;
    }
    Some((kind, &line[start..end]))
}

/// Splits one `-I` argument into directories (`inputAddPath`).
pub fn split_path_list(list: &[u8]) -> Vec<Vec<u8>> {
    let mut dirs = Vec::new();
    let mut p = 0usize;
    let at = |i: usize| list.get(i).copied().unwrap_or(0);
    while p < list.len() && at(p) != 0 {
        let mut empty = at(p) == b':';
        if empty {
            p += 1;
        }
        let mut dir = Vec::new();
        if !empty {
            let colon = list[p..].iter().position(|&c| c == b':').map(|i| p + i);
            let end = colon.unwrap_or(list.len());
            if end > p {
                dir = list[p..end].to_vec();
                match colon {
                    // msi steps over the colon unless it ends the list
                    Some(c) if at(c + 1) != 0 => p = c + 1,
                    Some(c) => p = c,
                    None => p = list.len(),
                }
            } else {
                empty = true;
            }
        }
        if empty {
            dir = b".".to_vec();
        }
        dirs.push(dir);
    }
    dirs
}

/// One open template file.
#[derive(Debug)]
pub struct InputFile {
    /// The name msi reports: as opened, `dir/name` when found on the path,
    /// or `stdin`.
    pub name: Vec<u8>,
    stdin: bool,
    data: Rc<[u8]>,
    pos: usize,
    /// Lines (fgets chunks) read so far.
    pub line: u32,
}

/// The template files msi has open, innermost last, and the include path.
#[derive(Debug, Default)]
pub struct Inputs {
    stack: Vec<InputFile>,
    paths: Vec<Vec<u8>>,
    last_line: Option<Line>,
    cache: HashMap<Vec<u8>, Option<Rc<[u8]>>>,
    stdin: Option<Rc<[u8]>>,
    open_files: usize,
}

/// One line handed out by [`Inputs::next_line`].
#[derive(Debug, Clone)]
pub struct Line {
    data: Rc<[u8]>,
    start: usize,
    end: usize,
}

impl Line {
    /// The line as a C string (up to any NUL).
    pub fn text(&self) -> &[u8] {
        c_str(&self.data[self.start..self.end])
    }
}

impl Inputs {
    /// Adds one `-I` argument to the include path.
    pub fn add_path(&mut self, list: &[u8]) {
        self.paths.extend(split_path_list(list));
    }

    /// Closes every open file (`inputCloseAllFiles`).
    pub fn close_all(&mut self) {
        self.stack.clear();
        self.open_files = 0;
    }

    fn read(&mut self, path: &[u8], reader: &mut dyn FileReader) -> Option<Rc<[u8]>> {
        if let Some(hit) = self.cache.get(path) {
            return hit.clone();
        }
        let data: Option<Rc<[u8]>> = reader.read(path).map(Rc::from);
        self.cache.insert(path.to_vec(), data.clone());
        data
    }

    /// The open files, outermost first; the last one is being read.
    pub fn files(&self) -> &[InputFile] {
        &self.stack
    }

    /// Open template files that hold a file descriptor in msi (stdin does not).
    pub fn open_files(&self) -> usize {
        self.open_files
    }

    /// Opens a template (`None`: stdin) and makes it the one being read;
    /// returns the name msi reports for it, or `None` when it cannot be
    /// opened. `descriptors` is how many files msi could still open: past
    /// that, its `fopen` fails (an include loop ends this way).
    pub fn open(
        &mut self,
        name: Option<&[u8]>,
        reader: &mut dyn FileReader,
        descriptors: usize,
    ) -> Option<Vec<u8>> {
        if name.is_some() && descriptors == 0 {
            return None;
        }
        let (resolved, data) = match name {
            None => {
                let data = self
                    .stdin
                    .get_or_insert_with(|| Rc::from(reader.read_stdin()))
                    .clone();
                (b"stdin".to_vec(), data)
            }
            Some(n) if self.paths.is_empty() || n.contains(&b'/') => {
                (n.to_vec(), self.read(n, reader)?)
            }
            Some(n) => {
                let dirs = self.paths.clone();
                dirs.iter().find_map(|dir| {
                    let mut full = dir.clone();
                    full.push(b'/');
                    full.extend_from_slice(n);
                    let data = self.read(&full, reader)?;
                    Some((full, data))
                })?
            }
        };
        self.open_files += usize::from(name.is_some());
        self.stack.push(InputFile {
            name: resolved.clone(),
            stdin: name.is_none(),
            data,
            pos: 0,
            line: 0,
        });
        Some(resolved)
    }

    /// The next line of the innermost open file, closing files at their end
    /// (`inputNextLine`).
    pub fn next_line(&mut self) -> Option<Line> {
        while let Some(file) = self.stack.last_mut() {
            let rest = &file.data[file.pos..];
            if rest.is_empty() {
                if !file.stdin {
                    self.open_files -= 1;
                }
                self.stack.pop();
                continue;
            }
            let max = rest.len().min(LINE_BUFFER - 1);
            let len = rest[..max]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(max, |i| i + 1);
            let line = Line {
                data: Rc::clone(&file.data),
                start: file.pos,
                end: file.pos + len,
            };
            file.pos += len;
            file.line += 1;
            self.last_line = Some(line.clone());
            return Some(line);
        }
        None
    }

    /// msi's report of where it was reading (`inputErrPrint`).
    pub fn error_trace(&self) -> Vec<u8> {
        let mut m = b"input: '".to_vec();
        if let Some(line) = &self.last_line {
            m.extend_from_slice(line.text());
        }
        m.extend_from_slice(b"' at ");
        for (i, f) in self.stack.iter().rev().enumerate() {
            m.extend_from_slice(format!("line {} of ", f.line).as_bytes());
            if f.name.is_empty() {
                m.extend_from_slice(b"stdin:\n");
            } else {
                m.extend_from_slice(b" file ");
                m.extend_from_slice(&f.name);
                m.push(b'\n');
            }
            if i + 1 < self.stack.len() {
                m.extend_from_slice(b"  included from ");
            } else {
                m.push(b'\n');
            }
        }
        m.push(b'\n');
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dirs(s: &str) -> Vec<String> {
        split_path_list(s.as_bytes())
            .into_iter()
            .map(|d| String::from_utf8(d).unwrap())
            .collect()
    }

    #[test]
    fn empty_path_entries_mean_the_current_directory() {
        assert_eq!(dirs("a::b:"), vec!["a", ".", "b", "."]);
        assert_eq!(dirs(":a"), vec![".", "a"]);
        assert_eq!(dirs(""), Vec::<String>::new());
    }

    #[test]
    fn directives_are_recognised_loosely() {
        assert_eq!(
            directive(b"include \"a\"\n"),
            Some((Directive::Include, &b"a"[..]))
        );
        assert_eq!(
            directive(b"  substitute \"A=\\\"x\\\"\"  \n"),
            Some((Directive::Substitute, &br#"A=\"x\""#[..]))
        );
        assert_eq!(directive(b"include \"a\" #x\n"), None);
        assert_eq!(directive(b"include \"a\"\t\n"), None);
        assert_eq!(directive(b"includee \"a\"\n"), None);
        // the word may be anywhere: msi then skips seven bytes from the start
        assert_eq!(
            directive(b"ixxxxxx \"include\"\n"),
            Some((Directive::Include, &b"include"[..]))
        );
    }
}
