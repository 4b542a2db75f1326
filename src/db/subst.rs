//! The substitution-file reader: `file NAME { ... }` blocks, `pattern { ... }`
//! rows, `{ A=1, B="x" }` sets and `global { ... }` blocks.
//!
//! A clone of the tokenizer and set parser in EPICS base 7.0.8.1 `msi.cpp`,
//! kept byte-compatible with its quirks:
//!
//! - lines are read in `fgets` chunks of at most 4095 bytes into one
//!   4096-byte buffer; a chunk starting with `#` is skipped whole, and `#`
//!   starts a comment only where a token would start without white space
//!   before it (`  # x` yields the words `#` and `x`);
//! - a word is anything up to white space or one of `",{}`; a word at the
//!   very end of the file (no newline) runs on into what an earlier, longer
//!   line left in the buffer, as msi's scan does;
//! - white space directly before a word is not a separator, so `{A=1 B=2}`
//!   is the single definition `A=1B=2` and `{ A = 1 }` is `A=1`;
//! - reported line numbers are one past the line (msi starts counting at 1
//!   before it reads the first line), and after the end of the file the
//!   quoted line is empty.

/// `fgets` buffer size used by msi for every line.
pub const LINE_BUFFER: usize = 4096;

/// One token of a substitution file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    /// `{`
    LBrace,
    /// `}`
    RBrace,
    /// A comma, or white space that ends a line or precedes a comma.
    Separator,
    /// A word or a quoted string (quotes kept).
    String,
    /// The end of the file.
    Eof,
}

/// A syntax error, with msi's message and the position it reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// msi's message, e.g. `Parse error, expecting '{'`.
    pub message: String,
    /// msi's line number (one past the real line).
    pub msi_line: u32,
    /// The line msi quotes (empty after the end of the file).
    pub text: Vec<u8>,
}

/// A parse message that does not stop the run (`Warning, too many values given`).
pub type SyntaxWarning = SyntaxError;

/// Reads `fgets` chunks from a byte slice.
#[derive(Debug)]
pub struct Chunks<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Chunks<'a> {
    /// Starts at the beginning of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Chunks { data, pos: 0 }
    }

    /// The next line (with its newline), cut at 4095 bytes like `fgets`.
    pub fn next_chunk(&mut self) -> Option<&'a [u8]> {
        let rest = &self.data[self.pos..];
        if rest.is_empty() {
            return None;
        }
        let max = rest.len().min(LINE_BUFFER - 1);
        let len = rest[..max]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(max, |i| i + 1);
        self.pos += len;
        Some(&rest[..len])
    }
}

/// The C string at the start of `s`: up to the first NUL.
pub fn c_str(s: &[u8]) -> &[u8] {
    s.iter().position(|&c| c == 0).map_or(s, |i| &s[..i])
}

/// msi's substitution-file tokenizer (`subFile`).
pub struct Lexer<'a> {
    chunks: Chunks<'a>,
    /// 1 before the first line is read, then one past the line in the buffer.
    pub line_num: u32,
    buffer: Box<[u8; LINE_BUFFER]>,
    next: Option<usize>,
    /// The current token.
    pub token: Token,
    /// The text of the current `String` token.
    pub string: Vec<u8>,
}

impl<'a> Lexer<'a> {
    /// Opens `text` and reads the first token (`substituteOpen`).
    pub fn new(text: &'a [u8]) -> Result<Self, SyntaxError> {
        let mut lexer = Lexer {
            chunks: Chunks::new(text),
            line_num: 1,
            buffer: Box::new([0; LINE_BUFFER]),
            next: Some(0),
            token: Token::Eof,
            string: Vec::new(),
        };
        lexer.next_token()?;
        Ok(lexer)
    }

    /// The line in the buffer, as msi quotes it.
    pub fn line_text(&self) -> &[u8] {
        c_str(&self.buffer[..])
    }

    /// A syntax error at the current position.
    pub fn error(&self, message: &str) -> SyntaxError {
        SyntaxError {
            message: message.to_string(),
            msi_line: self.line_num,
            text: self.line_text().to_vec(),
        }
    }

    fn byte(&self, i: usize) -> u8 {
        self.buffer.get(i).copied().unwrap_or(0)
    }

    /// Reads the next line that does not start with `#` (`subGetNextLine`).
    fn next_line(&mut self) -> bool {
        loop {
            let chunk = self.chunks.next_chunk();
            self.line_num += 1;
            match chunk {
                None => {
                    self.token = Token::Eof;
                    self.buffer[0] = 0;
                    self.next = None;
                    return false;
                }
                Some(c) => {
                    // fgets overwrites the start of the buffer; the rest keeps
                    // whatever longer lines left there
                    self.buffer[..c.len()].copy_from_slice(c);
                    self.buffer[c.len()] = 0;
                    if self.buffer[0] != b'#' {
                        self.next = Some(0);
                        return true;
                    }
                }
            }
        }
    }

    /// Reads the next token (`subGetNextToken`).
    pub fn next_token(&mut self) -> Result<Token, SyntaxError> {
        let Some(mut p) = self.next else {
            self.token = Token::Eof;
            return Ok(self.token);
        };
        let c = self.byte(p);
        if c == 0 || c == b'\n' || c == b'#' {
            self.token = if self.next_line() {
                Token::Separator
            } else {
                Token::Eof
            };
            return Ok(self.token);
        }
        while super::macros::is_space(self.byte(p)) {
            p += 1;
        }
        let c = self.byte(p);
        if c == b'{' || c == b'}' {
            self.token = if c == b'{' {
                Token::LBrace
            } else {
                Token::RBrace
            };
            self.next = Some(p + 1);
            return Ok(self.token);
        }
        if c == 0 || c == b',' {
            while super::macros::is_space(self.byte(p)) || self.byte(p) == b',' {
                p += 1;
            }
            self.token = Token::Separator;
            self.next = Some(p);
            return Ok(self.token);
        }
        self.string.clear();
        if c == b'"' {
            self.string.push(c);
            p += 1;
            while self.byte(p) != b'"' {
                let c = self.byte(p);
                if c == 0 || c == b'\n' {
                    return Err(self.error("Strings must be on single line\n"));
                }
                if c == b'\\' && self.byte(p + 1) == b'"' {
                    self.string.extend_from_slice(b"\\\"");
                    p += 2;
                    continue;
                }
                self.string.push(c);
                p += 1;
            }
            self.string.push(b'"');
            self.next = Some(p + 1);
            self.token = Token::String;
            return Ok(self.token);
        }
        // a word; msi's loop does not stop at NUL, so it may read on into
        // stale bytes (bounded here by the buffer)
        while p < LINE_BUFFER {
            let c = self.byte(p);
            if super::macros::is_space(c) || matches!(c, b'"' | b',' | b'{' | b'}') {
                break;
            }
            self.string.push(c);
            p += 1;
        }
        let len = c_str(&self.string).len();
        self.string.truncate(len);
        self.next = Some(p);
        self.token = Token::String;
        Ok(self.token)
    }

    /// Skips separators.
    fn skip_separators(&mut self) -> Result<(), SyntaxError> {
        while self.token == Token::Separator {
            self.next_token()?;
        }
        Ok(())
    }

    /// Reads tokens until one is not a separator.
    fn next_non_separator(&mut self) -> Result<Token, SyntaxError> {
        while self.next_token()? == Token::Separator {}
        Ok(self.token)
    }
}

/// msi's substitution-file state (`subInfo`): which file block and pattern
/// the rows belong to.
pub struct SubstParser<'a> {
    /// The tokenizer.
    pub lexer: Lexer<'a>,
    is_file: bool,
    /// The expanded template name of the current file block.
    pub filename: Option<Vec<u8>>,
    is_pattern: bool,
    patterns: Vec<Vec<u8>>,
    /// Warnings since the last call, in order.
    pub warnings: Vec<SyntaxWarning>,
    /// msi's line number at the `{` of the last set read.
    pub row_line: u32,
}

impl<'a> SubstParser<'a> {
    /// Opens a substitution file held in memory.
    pub fn new(text: &'a [u8]) -> Result<Self, SyntaxError> {
        Ok(SubstParser {
            lexer: Lexer::new(text)?,
            is_file: false,
            filename: None,
            is_pattern: false,
            patterns: Vec::new(),
            warnings: Vec::new(),
            row_line: 0,
        })
    }

    /// Reads a `global` keyword if one comes next (`substituteGetGlobalSet`).
    pub fn global_set(&mut self) -> Result<bool, SyntaxError> {
        self.lexer.skip_separators()?;
        if self.lexer.token == Token::String && self.lexer.string == b"global" {
            self.lexer.next_token()?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Reads up to the rows of the next set (`substituteGetNextSet`):
    /// an optional `file NAME {` header and an optional `pattern {...}`.
    ///
    /// `expand_name` turns the name as written into the template name
    /// (msi expands environment macros in it).
    pub fn next_set(
        &mut self,
        expand_name: &mut dyn FnMut(&[u8]) -> Option<Vec<u8>>,
    ) -> Result<bool, SyntaxError> {
        self.lexer.skip_separators()?;
        if self.lexer.token == Token::Eof {
            return Ok(false);
        }
        if self.lexer.token == Token::String && self.lexer.string == b"file" {
            self.is_file = true;
            if self.lexer.next_token()? != Token::String {
                return Err(self.lexer.error("Parse error, expecting a filename"));
            }
            self.free_pattern();
            let s = &self.lexer.string;
            let name = if s.len() >= 2 && s[0] == b'"' && s[s.len() - 1] == b'"' {
                &s[1..s.len() - 1]
            } else {
                &s[..]
            };
            let name = name.to_vec();
            self.filename = expand_name(&name);
            if self.lexer.next_non_separator()? != Token::LBrace {
                return Err(self.lexer.error("Parse error, expecting '{'"));
            }
            self.lexer.next_token()?;
        }
        self.lexer.skip_separators()?;
        match self.lexer.token {
            Token::LBrace => return Ok(true),
            Token::RBrace => return Err(self.lexer.error("Parse error, unexpected '}'")),
            Token::String if self.lexer.string == b"pattern" => {}
            _ => return Err(self.lexer.error("Parse error, expecting 'pattern'")),
        }
        self.free_pattern();
        self.is_pattern = true;
        if self.lexer.next_non_separator()? != Token::LBrace {
            return Err(self.lexer.error("Parse error, expecting '{'"));
        }
        loop {
            if self.lexer.next_non_separator()? != Token::String {
                break;
            }
            self.patterns.push(self.lexer.string.clone());
        }
        if self.lexer.token != Token::RBrace {
            return Err(self.lexer.error("Parse error, expecting '}'"));
        }
        self.lexer.next_token()?;
        Ok(true)
    }

    fn free_pattern(&mut self) {
        self.patterns.clear();
        self.is_pattern = false;
    }

    /// Ends a file block at its `}` when one is open.
    fn end_of_file_block(&mut self) -> Result<bool, SyntaxError> {
        if self.lexer.token == Token::RBrace && self.is_file {
            self.is_file = false;
            self.filename = None;
            self.free_pattern();
            self.lexer.next_token()?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Reads a `global` block's definitions (`substituteGetGlobalReplacements`).
    pub fn global_definitions(&mut self) -> Result<Option<Vec<u8>>, SyntaxError> {
        self.lexer.skip_separators()?;
        if self.end_of_file_block()? || self.lexer.token != Token::LBrace {
            return Ok(None);
        }
        self.row_line = self.lexer.line_num;
        self.plain_set().map(Some)
    }

    /// Reads the next row of definitions (`substituteGetReplacements`);
    /// `None` when the rows of this set are done.
    pub fn row_definitions(&mut self) -> Result<Option<Vec<u8>>, SyntaxError> {
        self.lexer.skip_separators()?;
        if self.end_of_file_block()? || self.lexer.token != Token::LBrace {
            return Ok(None);
        }
        self.row_line = self.lexer.line_num;
        if !self.is_pattern {
            return self.plain_set().map(Some);
        }
        let mut defs = Vec::new();
        let mut first = true;
        let mut names = 0usize;
        self.lexer.next_non_separator()?;
        loop {
            if self.lexer.token == Token::RBrace {
                self.lexer.next_token()?;
                return Ok(Some(defs));
            }
            if self.lexer.token != Token::String {
                return Err(self.lexer.error("Parse error, expecting macro value"));
            }
            if !first {
                defs.push(b',');
            }
            first = false;
            if let Some(name) = self.patterns.get(names) {
                defs.extend_from_slice(name);
                defs.push(b'=');
                defs.extend_from_slice(&self.lexer.string);
                names += 1;
            } else {
                let w = self.lexer.error("Warning, too many values given");
                self.warnings.push(w);
            }
            self.lexer.next_non_separator()?;
        }
    }

    /// `{ A=1, B=2 }`: the tokens joined, separators as commas.
    fn plain_set(&mut self) -> Result<Vec<u8>, SyntaxError> {
        let mut defs = Vec::new();
        loop {
            match self.lexer.next_token()? {
                Token::RBrace => {
                    self.lexer.next_token()?;
                    return Ok(defs);
                }
                Token::Separator => defs.push(b','),
                Token::String => defs.extend_from_slice(&self.lexer.string),
                Token::LBrace => return Err(self.lexer.error("Parse error, unexpected '{'")),
                Token::Eof => return Err(self.lexer.error("Parse error, incomplete file?")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<(Token, String)> {
        let mut l = Lexer::new(text.as_bytes()).unwrap();
        let mut out = Vec::new();
        loop {
            let s = String::from_utf8_lossy(&l.string).into_owned();
            out.push((
                l.token,
                if l.token == Token::String {
                    s
                } else {
                    String::new()
                },
            ));
            if l.token == Token::Eof {
                return out;
            }
            l.next_token().unwrap();
        }
    }

    #[test]
    fn space_before_a_word_is_not_a_separator() {
        use Token::*;
        let t: Vec<Token> = tokens("{A=1 B=2, C}\n").into_iter().map(|t| t.0).collect();
        assert_eq!(
            t,
            vec![Separator, LBrace, String, String, Separator, String, RBrace, Eof]
        );
    }

    #[test]
    fn comment_only_at_a_token_start() {
        let t = tokens("# whole line\n{a}# tail\n  # word\n");
        let words: Vec<_> = t
            .iter()
            .filter(|t| t.0 == Token::String)
            .map(|t| t.1.as_str())
            .collect();
        assert_eq!(words, vec!["a", "#", "word"]);
    }

    #[test]
    fn line_numbers_are_one_past() {
        let l = Lexer::new(b"\n\nx").unwrap();
        assert_eq!(l.line_num, 2);
    }

    #[test]
    fn quoted_strings_keep_quotes_and_escapes() {
        let t = tokens(r#"{"a \"b\" c"}"#);
        assert_eq!(t[2].1, r#""a \"b\" c""#);
    }

    #[test]
    fn chunks_split_long_lines() {
        let long = vec![b'x'; 5000];
        let mut c = Chunks::new(&long);
        assert_eq!(c.next_chunk().unwrap().len(), 4095);
        assert_eq!(c.next_chunk().unwrap().len(), 905);
        assert!(c.next_chunk().is_none());
    }
}
