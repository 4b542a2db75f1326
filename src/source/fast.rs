//! A quick reader for the block YAML that definition and device files are
//! written in: block mappings and sequences, one-line plain and quoted
//! scalars, literal and folded block scalars, comments.
//!
//! It builds the same [`Node`] tree, spans included, that [`super::yaml`]
//! builds from `saphyr-parser`'s events, at a fraction of the cost (the
//! general parser spends ~140 instructions a byte; most of an IOC start's
//! YAML is areaDetector's large, plainly written files). Anything outside
//! that subset, and any document with an error, gives `None`, and the caller
//! reads it with the general parser, so every diagnostic still comes from
//! one place. Tests check the two agree on every YAML file of the corpus and
//! on generated documents.

use super::scalar::resolve_plain;
use super::yaml::build_mapping;
use super::{Node, NodeKind, Pos, Span};

/// Nesting beyond this goes to the general parser.
const MAX_DEPTH: usize = 64;

/// Longest plain key the general parser takes as an implicit key.
const MAX_KEY: usize = 1024;

#[derive(Clone, Copy)]
struct Line {
    /// Byte offset of the line's first character.
    start: usize,
    /// Byte offset of its `\n`.
    end: usize,
    /// Leading spaces.
    indent: usize,
    /// Holds something other than spaces and a comment.
    content: bool,
}

impl Line {
    fn len(self) -> usize {
        self.end - self.start
    }

    fn blank(self) -> bool {
        self.indent == self.len()
    }
}

/// Reads `text` when it is within the subset; `None` otherwise.
pub(super) fn parse(text: &str, budget: u64) -> Option<Node> {
    let b = text.as_bytes();
    if !text.is_ascii() || b.iter().any(|&c| c == b'\t' || c == b'\r') {
        return None;
    }
    let mut lines = Vec::with_capacity(b.len() / 24);
    let mut start = 0;
    let unterminated = !text.ends_with('\n');
    let ends = b
        .iter()
        .enumerate()
        .filter(|(_, &c)| c == b'\n')
        .map(|(i, _)| i);
    for i in ends.chain(unterminated.then_some(b.len())) {
        let s = &b[start..i];
        if s.starts_with(b"---") || s.starts_with(b"...") || s.starts_with(b"%") {
            return None;
        }
        let indent = s.iter().take_while(|&&c| c == b' ').count();
        let content = indent < s.len() && s[indent] != b'#';
        lines.push(Line {
            start,
            end: i,
            indent,
            content,
        });
        start = i + 1;
    }
    let eof = Pos {
        line: u32::try_from(lines.len() + 1).ok()?,
        col: 0,
        index: u32::try_from(b.len()).ok()?,
    };
    let r = Reader {
        text,
        b,
        lines,
        eof,
        budget,
        unterminated,
    };
    let first = r.next_content(0)?;
    if r.lines[first].indent != 0 {
        return None;
    }
    let (root, next) = if r.dash_at(first, 0) {
        r.seq(first, 0, false, 0)?
    } else {
        r.map(first, 0, 0)?
    };
    if r.next_content(next).is_some() {
        return None;
    }
    Some(root)
}

struct Reader<'a> {
    text: &'a str,
    b: &'a [u8],
    lines: Vec<Line>,
    eof: Pos,
    /// The alias budget, for the flow collections the general parser reads.
    budget: u64,
    /// The last line has no `\n` (the general parser ends a block scalar
    /// there differently).
    unterminated: bool,
}

impl Reader<'_> {
    fn pos(&self, li: usize, col: usize) -> Pos {
        let l = self.lines[li];
        // the text is at most u32::MAX bytes (checked with the end marker)
        Pos {
            line: (li + 1) as u32,
            col: col as u32,
            index: (l.start + col) as u32,
        }
    }

    fn span(&self, li: usize, from: usize, to: usize) -> Span {
        Span {
            start: self.pos(li, from),
            end: self.pos(li, to),
        }
    }

    /// The first line at or after `li` with content.
    fn next_content(&self, li: usize) -> Option<usize> {
        (li..self.lines.len()).find(|&i| self.lines[i].content)
    }

    /// Where the token after line `li - 1` starts: the general parser ends
    /// collections there.
    fn token_pos(&self, li: usize) -> Pos {
        match self.next_content(li) {
            Some(i) => self.pos(i, self.lines[i].indent),
            None => self.eof,
        }
    }

    /// The byte at column `col` of line `li`, if the line is that long.
    fn at(&self, li: usize, col: usize) -> Option<u8> {
        let l = self.lines[li];
        (col < l.len()).then(|| self.b[l.start + col])
    }

    /// A block sequence's `-` at column `col` of line `li`.
    fn dash_at(&self, li: usize, col: usize) -> bool {
        self.at(li, col) == Some(b'-') && matches!(self.at(li, col + 1), None | Some(b' '))
    }

    /// Line `li` from column `col` on.
    fn rest(&self, li: usize, col: usize) -> &[u8] {
        let l = self.lines[li];
        &self.b[(l.start + col).min(l.end)..l.end]
    }

    fn text(&self, li: usize, from: usize, to: usize) -> &str {
        let l = self.lines[li];
        // ASCII text: every byte offset is a char boundary
        std::str::from_utf8(&self.b[l.start + from..l.start + to]).unwrap_or_default()
    }

    /// Where an implicit key that starts at `col` ends (its `:`), if the
    /// line is a `key: …` entry.
    fn key_colon(&self, li: usize, col: usize) -> Option<usize> {
        let len = self.lines[li].len();
        let mut j = col;
        while j < len {
            match self.at(li, j) {
                Some(b':') if matches!(self.at(li, j + 1), None | Some(b' ')) => return Some(j),
                Some(b'#') if j > col && self.at(li, j - 1) == Some(b' ') => return None,
                _ => {}
            }
            j += 1;
        }
        None
    }

    /// The implicit key at column `col` of line `li` (plain or quoted, on
    /// one line) and the column of its `:`.
    fn key(&self, li: usize, col: usize) -> Option<(Node, usize)> {
        if let Some(q @ (b'"' | b'\'')) = self.at(li, col) {
            let (kind, end) = if q == b'"' {
                self.double_quoted(li, col)?
            } else {
                self.single_quoted(li, col)?
            };
            let mut colon = end;
            while self.at(li, colon) == Some(b' ') {
                colon += 1;
            }
            if self.at(li, colon) != Some(b':')
                || !matches!(self.at(li, colon + 1), None | Some(b' '))
                || end - col > MAX_KEY
            {
                return None;
            }
            // ended, as the general parser ends it, at the `:`
            let span = self.span(li, col, colon);
            return Some((Node { kind, span }, colon));
        }
        let colon = self.key_colon(li, col)?;
        let text = self.text(li, col, colon).trim_end_matches(' ');
        if text.is_empty() || text.len() > MAX_KEY || !plain_start(text.as_bytes()) {
            return None;
        }
        let key = Node {
            kind: resolve_plain(text),
            span: self.span(li, col, col + text.len()),
        };
        Some((key, colon))
    }

    /// A block mapping whose first key is at column `col` of line `li`; its
    /// entries sit at indentation `n` (= `col`).
    fn map(&self, li: usize, col: usize, depth: usize) -> Option<(Node, usize)> {
        if depth > MAX_DEPTH {
            return None;
        }
        let n = col;
        let start = self.pos(li, col);
        let mut entries = Vec::new();
        let (mut li, mut col) = (li, col);
        let next = loop {
            let (key, colon) = self.key(li, col)?;
            let mut v = colon + 1;
            while self.at(li, v) == Some(b' ') {
                v += 1;
            }
            let (value, after) = match self.at(li, v) {
                None | Some(b'#') => self.block_value(li, colon, n, depth)?,
                Some(_) => self.inline_value(li, v, n, true)?,
            };
            entries.push((key, value));
            match self.next_content(after) {
                Some(m) if self.lines[m].indent == n => {
                    if self.dash_at(m, n) {
                        return None;
                    }
                    (li, col) = (m, n);
                }
                Some(m) if self.lines[m].indent > n => return None,
                _ => break after,
            }
        };
        let node = Node {
            kind: NodeKind::Map(build_mapping(entries).ok()?),
            span: Span {
                start,
                end: self.token_pos(next),
            },
        };
        Some((node, next))
    }

    /// The value of a `key:` with nothing after it on line `li`: a nested
    /// collection on the lines below, or an empty value.
    fn block_value(
        &self,
        li: usize,
        colon: usize,
        n: usize,
        depth: usize,
    ) -> Option<(Node, usize)> {
        match self.next_content(li + 1) {
            Some(m) if self.lines[m].indent > n => {
                let i = self.lines[m].indent;
                if matches!(self.at(m, i), Some(b'[' | b'{')) {
                    self.flow(m, i, n)
                } else if self.dash_at(m, i) {
                    self.seq(m, i, false, depth + 1)
                } else {
                    self.map(m, i, depth + 1)
                }
            }
            Some(m) if self.lines[m].indent == n && self.dash_at(m, n) => {
                self.seq(m, n, true, depth + 1)
            }
            _ => Some((
                Node {
                    kind: NodeKind::Null,
                    span: self.span(li, colon, colon),
                },
                li + 1,
            )),
        }
    }

    /// A block sequence whose first `-` is at column `d` of line `li`.
    /// An indentless one (`key:` then `- …` at the key's indentation) starts
    /// where its first item does, as the general parser has it.
    fn seq(&self, li: usize, d: usize, indentless: bool, depth: usize) -> Option<(Node, usize)> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mut start = self.pos(li, d);
        let mut items = Vec::new();
        let mut li = li;
        let next = loop {
            let mut c = d + 1;
            while self.at(li, c) == Some(b' ') {
                c += 1;
            }
            let (item, after) = match self.at(li, c) {
                Some(b'#') => return None,
                None => {
                    if indentless && items.is_empty() {
                        return None;
                    }
                    match self.next_content(li + 1) {
                        Some(m) if self.lines[m].indent > d => return None,
                        _ => (
                            Node {
                                kind: NodeKind::Null,
                                span: self.span(li, d + 1, d + 1),
                            },
                            li + 1,
                        ),
                    }
                }
                Some(_) if self.dash_at(li, c) => return None,
                Some(_) if self.key(li, c).is_some() => self.map(li, c, depth + 1)?,
                Some(b'|' | b'>') if indentless && items.is_empty() => return None,
                Some(_) => self.inline_value(li, c, d, false)?,
            };
            if indentless && items.is_empty() {
                start = item.span.start;
            }
            items.push(item);
            match self.next_content(after) {
                Some(m) if self.lines[m].indent == d && self.dash_at(m, d) => li = m,
                Some(m) if self.lines[m].indent > d => return None,
                Some(m) if self.lines[m].indent == d && !indentless => return None,
                _ => break after,
            }
        };
        let node = Node {
            kind: NodeKind::Seq(items),
            span: Span {
                start,
                end: self.token_pos(next),
            },
        };
        Some((node, next))
    }

    /// A scalar that starts at column `v` of line `li`, in a collection
    /// whose entries sit at indentation `n`.
    fn inline_value(&self, li: usize, v: usize, n: usize, in_map: bool) -> Option<(Node, usize)> {
        let len = self.lines[li].len();
        let quoted = matches!(self.at(li, v), Some(b'"' | b'\''));
        let (kind, end) = match self.at(li, v)? {
            b'"' => self.double_quoted(li, v)?,
            b'\'' => self.single_quoted(li, v)?,
            b'|' | b'>' => return self.block_scalar(li, v, n, in_map),
            b'[' | b'{' => return self.flow(li, v, n),
            _ => {
                let rest = self.rest(li, v);
                let colon_start =
                    rest.len() > 1 && matches!(rest, [b':' | b'?', c, ..] if *c != b' ');
                if !plain_start(rest) && !colon_start {
                    return None;
                }
                let mut j = v;
                while j < len {
                    match self.at(li, j) {
                        Some(b':') if matches!(self.at(li, j + 1), None | Some(b' ')) => {
                            return None
                        }
                        Some(b'#') if self.at(li, j - 1) == Some(b' ') => break,
                        _ => {}
                    }
                    j += 1;
                }
                while j > v && self.at(li, j - 1) == Some(b' ') {
                    j -= 1;
                }
                (resolve_plain(self.text(li, v, j)), j)
            }
        };
        let mut rest = end;
        while self.at(li, rest) == Some(b' ') {
            rest += 1;
        }
        match self.at(li, rest) {
            None => {}
            Some(b'#') if rest > end => {}
            Some(_) => return None,
        }
        // a continuation line would make this a multi-line scalar
        if let Some(m) = self.next_content(li + 1) {
            if self.lines[m].indent > n {
                return None;
            }
        }
        Some((
            Node {
                kind,
                // the general parser ends a quoted scalar after the white
                // space and comment that follow it
                span: self.span(li, v, if quoted { len } else { end }),
            },
            li + 1,
        ))
    }

    /// A flow collection (`[…]` or `{…}`, over one line or several) opening
    /// at column `v` of line `li`, in a block collection at indentation `n`.
    /// The general parser reads it, from its opening bracket to the end of
    /// the line it closes on, and its spans are moved to where it stands: a
    /// flow collection is the same wherever it is, and its spans follow that
    /// parser's own rules.
    fn flow(&self, li: usize, v: usize, n: usize) -> Option<(Node, usize)> {
        let from = self.lines[li].start + v;
        let close = self.flow_close(from)?;
        let last = self.lines.partition_point(|l| l.start <= close) - 1;
        if self.lines[last].end == self.b.len() {
            return None;
        }
        // the rest of the closing line holds at most a comment, and every
        // line after the first is inside the block collection
        let mut rest = close + 1 - self.lines[last].start;
        while self.at(last, rest) == Some(b' ') {
            rest += 1;
        }
        match self.at(last, rest) {
            None => {}
            Some(b'#') if rest > close + 1 - self.lines[last].start => {}
            Some(_) => return None,
        }
        if self.lines[li + 1..=last]
            .iter()
            .any(|l| !l.blank() && l.indent <= n)
        {
            return None;
        }
        let mut node =
            super::yaml::parse_events(&self.text[from..=self.lines[last].end], self.budget).ok()?;
        if !matches!(node.kind, NodeKind::Map(_) | NodeKind::Seq(_)) {
            return None;
        }
        let shift = |p: &mut Pos| {
            if p.line == 1 {
                p.col += v as u32;
            }
            p.line += li as u32;
            p.index += from as u32;
        };
        move_spans(&mut node, &shift);
        if let Some(m) = self.next_content(last + 1) {
            if self.lines[m].indent > n {
                return None;
            }
        }
        Some((node, last + 1))
    }

    /// The offset of the bracket that closes the one at `from`, skipping
    /// quoted scalars and comments.
    fn flow_close(&self, from: usize) -> Option<usize> {
        let b = self.b;
        let mut depth = 0usize;
        // the last byte other than white space: a quote after one of these
        // opens a quoted scalar, elsewhere it is part of a plain one
        let mut last = b'[';
        let mut i = from;
        while i < b.len() {
            let c = b[i];
            match c {
                b'[' | b'{' => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return None;
                    }
                }
                b']' | b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                b'"' | b'\'' if matches!(last, b'[' | b'{' | b',' | b':') => {
                    i += 1;
                    while i < b.len() {
                        match b[i] {
                            b'\\' if c == b'"' => i += 1,
                            b'\'' if c == b'\'' && b.get(i + 1) == Some(&b'\'') => i += 1,
                            q if q == c => break,
                            _ => {}
                        }
                        i += 1;
                    }
                }
                b'#' if matches!(b[i - 1], b' ' | b'\n') => {
                    while i < b.len() && b[i] != b'\n' {
                        i += 1;
                    }
                    continue;
                }
                _ => {}
            }
            if !matches!(c, b' ' | b'\n') {
                last = c;
            }
            i += 1;
        }
        None
    }

    /// A one-line `"…"` scalar with the common escapes; its kind and the
    /// column after its closing quote.
    fn double_quoted(&self, li: usize, v: usize) -> Option<(NodeKind, usize)> {
        let len = self.lines[li].len();
        let mut out = String::new();
        let mut j = v + 1;
        loop {
            if j >= len {
                return None;
            }
            match self.at(li, j)? {
                b'"' => return Some((NodeKind::Str(out), j + 1)),
                b'\\' => {
                    out.push(match self.at(li, j + 1)? {
                        b'\\' => '\\',
                        b'"' => '"',
                        b'/' => '/',
                        b'n' => '\n',
                        b't' => '\t',
                        _ => return None,
                    });
                    j += 2;
                }
                c => {
                    out.push(char::from(c));
                    j += 1;
                }
            }
        }
    }

    /// A one-line `'…'` scalar; its kind and the column after its closing quote.
    fn single_quoted(&self, li: usize, v: usize) -> Option<(NodeKind, usize)> {
        let len = self.lines[li].len();
        let mut out = String::new();
        let mut j = v + 1;
        loop {
            if j >= len {
                return None;
            }
            match self.at(li, j)? {
                b'\'' if self.at(li, j + 1) == Some(b'\'') => {
                    out.push('\'');
                    j += 2;
                }
                b'\'' => return Some((NodeKind::Str(out), j + 1)),
                c => {
                    out.push(char::from(c));
                    j += 1;
                }
            }
        }
    }

    /// The value of a block scalar whose lines are `body` (its first and
    /// last not blank), indented by `i`; `chomp` is `-`, `+` or a space.
    fn block_text(&self, body: &[Line], i: usize, literal: bool, chomp: u8) -> String {
        let first = body.iter().position(|l| !l.blank()).unwrap_or(0);
        let last = body.iter().rposition(|l| !l.blank()).unwrap_or(0);
        let mut out = String::new();
        let mut blanks = 0;
        for (k, l) in body[..=last].iter().enumerate() {
            if l.blank() {
                blanks += 1;
                if literal || k < first {
                    out.push('\n');
                }
                continue;
            }
            let text = std::str::from_utf8(&self.b[l.start + i..l.end]).unwrap_or_default();
            if !literal && k > first {
                if blanks == 0 {
                    out.push(' ');
                } else {
                    out.extend(std::iter::repeat_n('\n', blanks));
                }
            }
            out.push_str(text);
            if literal {
                out.push('\n');
            }
            blanks = 0;
        }
        let trailing = body.len() - 1 - last;
        match (chomp, literal) {
            (b'-', true) => {
                out.pop();
            }
            (b'-', false) => {}
            (b'+', _) => {
                if !literal {
                    out.push('\n');
                }
                out.extend(std::iter::repeat_n('\n', trailing));
            }
            (_, false) => out.push('\n'),
            _ => {}
        }
        out
    }

    /// A `|` or `>` block scalar whose header is at column `v` of line `li`,
    /// its content indented more than `n`.
    fn block_scalar(&self, li: usize, v: usize, n: usize, in_map: bool) -> Option<(Node, usize)> {
        let literal = self.at(li, v)? == b'|';
        let mut h = v + 1;
        let mut chomp = b' ';
        let mut explicit = None;
        while let Some(c) = self.at(li, h) {
            match c {
                b'-' | b'+' if chomp == b' ' => chomp = c,
                b'1'..=b'9' if explicit.is_none() => explicit = Some(usize::from(c - b'0')),
                _ => break,
            }
            h += 1;
        }
        // an explicit indentation counts from the mapping's; elsewhere the
        // general parser's idea of the parent indentation is left to it
        if explicit.is_some() && !in_map {
            return None;
        }
        let mut rest = h;
        while self.at(li, rest) == Some(b' ') {
            rest += 1;
        }
        match self.at(li, rest) {
            None => {}
            Some(b'#') if rest > h => {}
            Some(_) => return None,
        }
        // the content lines: up to the first non-blank line indented less
        // than the first non-blank one
        let mut indent = explicit.map(|d| n + d);
        let mut longest_leading = 0;
        let mut term = self.lines.len();
        for k in li + 1..self.lines.len() {
            let l = self.lines[k];
            match indent {
                None if l.blank() => longest_leading = longest_leading.max(l.len()),
                None => {
                    if l.indent <= n {
                        return None;
                    }
                    indent = Some(l.indent);
                }
                Some(i) if l.blank() => {
                    if l.len() > i {
                        return None;
                    }
                }
                Some(i) if l.indent < i => {
                    term = k;
                    break;
                }
                Some(_) => {}
            }
        }
        let i = indent?;
        if longest_leading > i || (term == self.lines.len() && self.unterminated) {
            return None;
        }
        let body = &self.lines[li + 1..term];
        let first = body.iter().position(|l| !l.blank())?;
        if !literal && (first > 0 || body.iter().any(|l| !l.blank() && l.indent > i)) {
            return None;
        }
        let out = self.block_text(body, i, literal, chomp);
        let end = if term < self.lines.len() {
            self.pos(term, self.lines[term].indent)
        } else {
            self.eof
        };
        let node = Node {
            kind: NodeKind::Str(out),
            span: Span {
                start: self.pos(li + 1 + first, i),
                end,
            },
        };
        Some((node, term))
    }
}

/// Applies `shift` to every position in the tree.
fn move_spans(node: &mut Node, shift: &impl Fn(&mut Pos)) {
    shift(&mut node.span.start);
    shift(&mut node.span.end);
    match &mut node.kind {
        NodeKind::Seq(items) => items.iter_mut().for_each(|n| move_spans(n, shift)),
        NodeKind::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            move_spans(k, shift);
            move_spans(v, shift);
        }),
        _ => {}
    }
}

/// Whether a plain scalar may start with these bytes (in block context).
fn plain_start(s: &[u8]) -> bool {
    match s.first() {
        Some(b'-') => !matches!(s.get(1), None | Some(b' ')),
        None
        | Some(
            b'[' | b']' | b'{' | b'}' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\'' | b'"' | b'%'
            | b'@' | b'`' | b',' | b'?' | b':' | b'#',
        ) => false,
        Some(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::source::yaml::parse_events;

    /// The general parser's tree for `text`, when it reads it.
    fn general(text: &str) -> Option<Node> {
        parse_events(text, u64::MAX).ok()
    }

    /// Trees equal, spans included, NaN equal to NaN.
    fn same(a: &Node, b: &Node) -> bool {
        a.span == b.span
            && match (&a.kind, &b.kind) {
                (NodeKind::Float(x), NodeKind::Float(y)) => x.to_bits() == y.to_bits(),
                (NodeKind::Seq(x), NodeKind::Seq(y)) => {
                    x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
                }
                (NodeKind::Map(x), NodeKind::Map(y)) => {
                    x.len() == y.len()
                        && x.iter()
                            .zip(y)
                            .all(|((ka, va), (kb, vb))| same(ka, kb) && same(va, vb))
                }
                (x, y) => x == y,
            }
    }

    /// Checks the quick reader against the general parser; whether it read it.
    fn agrees(text: &str, what: &str) -> bool {
        let Some(quick) = parse(text, u64::MAX) else {
            return false;
        };
        let full = general(text);
        assert!(
            full.as_ref().is_some_and(|full| same(&quick, full)),
            "the quick reader differs from the general parser on {what}:\n{text}"
        );
        true
    }

    #[test]
    fn spans_and_values_match_the_general_parser() {
        let read = [
            "a: 1\nb:\n  - x\n  - y: 2\n    z: \"q\"\nc:\n- 3\n# c\nd: |\n  hi\n  there\n\ne: end  # comment\n",
            "a:\nb: 1\nc:\n  d: |\n    x\n\n  e: >-\n    f\n    g\n\n    h\n  k:\nl:\n  - m: 1\n    n:\n  - o\n  -\n  - p: \"a\\\"b\"\n    # c\nq: 'it''s'\nr: x y  \nz:\n",
            "# top\n\na: |+\n  x\n\n# c\n  # d\nb: |\n\n  y\n   z\nc: a:b  # cm\nd: -1\ne:\n  f:\n    g: 1\n# x\nh: \"$(P)\"\ni: |-\n  end\n",
            "a: >\n  one\n  two\n\n\n  three\nb: 2\n",
            "x:   # why\n  y: 1\nz:   \n",
            "a: 0x1F\nb: 1_000\nc: 1e3\nd: ~\ne: 2024-01-31\nf: True\ng: No\n1: int key\n",
            "a: b # c # d\nb: '# not'\n",
            "a: 1\nb:\n  c: x",
            "k: |2\n   x\n",
            "- a: |2\n\n     x\n    y\n  b: {c: [1, 2]}  # d\n- e:\n    [f,\n     g]\n",
            "a:\n  - |\n    lit\n  - >+\n    fold\n\nb: 1\n",
        ];
        for (i, d) in read.iter().enumerate() {
            assert!(agrees(d, &format!("document {i}")), "not read: {d}");
        }
        // flow collections, block scalars with an indentation indicator,
        // errors, multi-line scalars, nested sequences: the general parser's
        let declined = [
            "w: -\n",
            "a: 1\na: 2\n",
            "a:\n  b: 1\n c: 2\n",
            "a: b\n  c\n",
            "a: 'x\n  y'\n",
            "- - a\n",
            "a: &x 1\nb: *x\n",
            "---\na: 1\n",
        ];
        for d in declined {
            assert!(parse(d, u64::MAX).is_none(), "read: {d}");
        }
    }

    /// A small deterministic generator of block YAML documents, valid and
    /// not, in the styles definition files use.
    struct Gen(u64);

    impl Gen {
        fn next(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }

        fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
            from[self.next(from.len())]
        }

        fn filler(&mut self, out: &mut String, indent: usize) {
            match self.next(8) {
                0 => out.push('\n'),
                1 => {
                    let at = self.next(indent + 3);
                    out.push_str(&format!("{:at$}# note: x\n", ""));
                }
                2 => out.push_str("   \n"),
                _ => {}
            }
        }

        fn scalar(&mut self) -> &'static str {
            self.pick(&[
                "1",
                "-1",
                "x y",
                "a:b",
                "$(P)$(R)",
                "\"d\\\"q\"",
                "'it''s'",
                "~",
                ":INT1",
                "0x1F",
                "1e3",
                ".inf",
                "2024-01-31",
                "x # c",
                "[1, 2]",
                "{a: 1, b: [x]}",
                "[]",
                "{}",
                "\"{{ P }}\"",
                "true",
                "No",
                "a  b ",
                "'#'",
                "\"x\"  # y",
                "- x",
                "a: b",
                "&a 1",
                "*a",
                "!!str 1",
                "\"\\u0041\"",
                "'x",
                "{a: 1,\n      b: 2}",
                "1.5",
            ])
        }

        fn block(&mut self, out: &mut String, indent: usize) {
            let header = self.pick(&["|", "|-", "|+", ">", ">-", ">+", "|2", "|-2", "|1"]);
            out.push_str(header);
            out.push('\n');
            for _ in 0..=self.next(4) {
                let line = self.pick(&["text", " more", "", "# hash", "a: b", "  deep"]);
                if line.is_empty() {
                    out.push('\n');
                } else {
                    out.push_str(&format!("{:w$}{line}\n", "", w = indent + 2));
                }
            }
        }

        fn value(&mut self, out: &mut String, indent: usize, depth: usize) {
            match self.next(if depth > 3 { 3 } else { 7 }) {
                0 | 1 => {
                    out.push(' ');
                    out.push_str(self.scalar());
                    out.push('\n');
                }
                2 => {
                    out.push(' ');
                    self.block(out, indent);
                }
                3 => {
                    out.push('\n');
                    let step = self.pick(&["  ", "    "]).len();
                    self.map(out, indent + step, depth + 1);
                }
                4 => {
                    out.push('\n');
                    let step = self.pick(&["", "  "]).len();
                    self.seq(out, indent + step, depth + 1);
                }
                5 => out.push('\n'),
                _ => {
                    out.push_str(" # c\n");
                    self.map(out, indent + 2, depth + 1);
                }
            }
        }

        fn map(&mut self, out: &mut String, indent: usize, depth: usize) {
            for _ in 0..=self.next(3) {
                self.filler(out, indent);
                let key = self.pick(&["a", "b c", "type", "1", "\"q\"", "'s k'", "x ", "true"]);
                out.push_str(&format!("{:indent$}{key}:", ""));
                self.value(out, indent, depth);
            }
        }

        fn seq(&mut self, out: &mut String, indent: usize, depth: usize) {
            for _ in 0..=self.next(3) {
                self.filler(out, indent);
                out.push_str(&format!("{:indent$}-", ""));
                match self.next(4) {
                    0 => {
                        let key = self.pick(&["name", "value", "v"]);
                        out.push_str(&format!(" {key}:"));
                        self.value(out, indent + 2, depth + 1);
                        if self.next(2) == 0 {
                            out.push_str(&format!("{:w$}other: 2\n", "", w = indent + 2));
                        }
                    }
                    1 => out.push('\n'),
                    2 => {
                        out.push(' ');
                        self.block(out, indent);
                    }
                    _ => {
                        out.push(' ');
                        out.push_str(self.scalar());
                        out.push('\n');
                    }
                }
            }
        }
    }

    #[test]
    fn generated_documents_read_as_the_general_parser_reads_them() {
        let mut g = Gen(0x9E37_79B9_7F4A_7C15);
        let (mut read, total) = (0, 4000);
        for i in 0..total {
            let mut doc = String::new();
            if g.next(4) == 0 {
                g.seq(&mut doc, 0, 0);
            } else {
                g.map(&mut doc, 0, 0);
            }
            if g.next(5) == 0 {
                doc.pop();
            }
            if agrees(&doc, &format!("generated document {i}")) {
                read += 1;
            }
        }
        assert!(
            read * 5 > total,
            "the quick reader read only {read} of {total}"
        );
    }

    #[test]
    fn mutated_documents_read_as_the_general_parser_reads_them() {
        // one-byte edits of a real definition file, in the places the
        // quick reader's rules turn on: indentation, indicators, quotes
        let base = include_str!("../../support-defs/epics.ibek.support.yaml");
        let edits = [
            " ", "-", ":", "#", "'", "\"", "|", ">", "\n", "[", "{", "&", "x", "\\",
        ];
        let mut g = Gen(0x0123_4567_89AB_CDEF);
        let (mut read, total) = (0, 3000);
        for i in 0..total {
            let mut doc = base.to_string();
            for _ in 0..=g.next(3) {
                let at = g.next(doc.len());
                match g.next(3) {
                    0 => {
                        doc.remove(at);
                    }
                    _ => doc.insert_str(at, g.pick(&edits)),
                }
            }
            if agrees(&doc, &format!("mutated document {i}")) {
                read += 1;
            }
        }
        assert!(
            read * 10 > total,
            "the quick reader read only {read} of {total}"
        );
    }

    fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let files = walkdir::WalkDir::new(dir)
            .into_iter()
            .filter_entry(|e| e.file_name() != "target" && e.file_name() != ".git")
            .flatten()
            .map(walkdir::DirEntry::into_path)
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"));
        out.extend(files);
    }

    #[test]
    #[allow(clippy::disallowed_methods)] // the test's own setting
    fn every_corpus_file_reads_as_the_general_parser_reads_it() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let shared = [
            std::env::var_os("IOCFORGE_SHARED").map(PathBuf::from),
            Some(root.join("../shared")),
            Some(PathBuf::from("/work/shared")),
        ]
        .into_iter()
        .flatten()
        .find(|p| p.join("conformance").is_dir())
        .expect("the shared conformance corpus (../shared)");
        let mut files = Vec::new();
        for dir in ["support-defs", "tests", "ioc-templates"] {
            yaml_files(&root.join(dir), &mut files);
        }
        yaml_files(&shared.join("conformance"), &mut files);
        assert!(files.len() > 500, "only {} YAML files found", files.len());
        let (mut read, mut big) = (0, Vec::new());
        for f in &files {
            let Ok(text) = fs_err::read_to_string(f) else {
                continue;
            };
            if agrees(&text, &f.display().to_string()) {
                read += 1;
            } else if text.len() > 20_000
                && text.is_ascii()
                && f.to_string_lossy().contains(".pvi.device.")
            {
                big.push(f.display().to_string());
            }
        }
        // the speed-up is for the big generated files: they must not fall back
        assert!(
            big.is_empty(),
            "large device files not read quickly: {big:?}"
        );
        assert!(
            read * 2 > files.len(),
            "the quick reader read only {read} of {} files",
            files.len()
        );
    }
}
