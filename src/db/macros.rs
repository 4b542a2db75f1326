//! macLib as msi uses it: macro definitions, scopes, and the expansion of
//! `$(A)`, `${A}`, `$(A=default)` and `$(A,B=scoped)` references.
//!
//! This is a behavioural clone of EPICS base 7.0.8.1 `macCore.c`, `macUtil.c`
//! and `macEnv.c`, kept byte-compatible on purpose, quirks included:
//!
//! - a macro value is expanded into a 256-byte buffer (`MAC_SIZE`) and cut
//!   there, and so is a macro name;
//! - expanded values are cached and recomputed for *every* macro whenever a
//!   definition changes (macLib's `dirty` flag); while the table is dirty a
//!   reference expands the raw value instead, with no length cut, and its
//!   warnings name the text being expanded rather than the macro;
//! - quotes and backslash escapes are removed from values (expansion level
//!   1 and deeper) but kept in the text of a template line (level 0);
//! - an escape only swallows the next character when the output buffer has
//!   room, so inside a default value's first (discarding) pass `\,` ends the
//!   default;
//! - `$(A,` at the very end of a string makes macLib loop forever; here the
//!   loop stops instead (the only deliberate divergence).

use std::rc::Rc;

/// macLib's buffer size for one expanded value or one name (`MAC_SIZE`).
pub const MAC_SIZE: usize = 256;

/// The largest message errlog prints whole (its default `maxMsgSize`).
const ERRLOG_MAX_MESSAGE: usize = 256;

/// What a table entry is; macLib prints these words in its warnings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Macro,
    Scope,
    Environment,
}

impl Kind {
    fn describe(self) -> &'static str {
        match self {
            Kind::Macro => "macro",
            Kind::Scope => "scope marker",
            Kind::Environment => "environment variable",
        }
    }
}

/// One macro definition (or scope marker) in the table.
#[derive(Debug)]
struct Entry {
    name: Rc<[u8]>,
    kind: Kind,
    raw: Option<Rc<[u8]>>,
    value: Vec<u8>,
    error: bool,
    visited: bool,
    special: bool,
    level: u32,
    problems: Vec<Problem>,
}

/// A reference that could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The macro name as referenced (after expanding macros in it).
    pub name: Vec<u8>,
    /// `true` when the macro refers to itself, `false` when it is undefined.
    pub recursive: bool,
}

/// The text being expanded: what macLib calls an entry's type and name, plus
/// what went wrong while expanding it.
struct Ctx<'a> {
    kind: &'static str,
    name: &'a [u8],
    error: bool,
    problems: Vec<Problem>,
}

impl<'a> Ctx<'a> {
    fn new(kind: &'static str, name: &'a [u8]) -> Self {
        Ctx {
            kind,
            name,
            error: false,
            problems: Vec::new(),
        }
    }
}

/// A bounded output buffer: writes past `limit` are dropped, as macLib's
/// `v < valend` checks drop them.
struct Out<'b> {
    buf: &'b mut Vec<u8>,
    limit: usize,
}

impl<'b> Out<'b> {
    /// Room for `capacity` more bytes after what `buf` already holds.
    fn new(buf: &'b mut Vec<u8>, capacity: usize) -> Self {
        let limit = buf.len() + capacity;
        Out { buf, limit }
    }

    fn has_room(&self) -> bool {
        self.buf.len() < self.limit
    }

    fn push(&mut self, c: u8) {
        if self.has_room() {
            self.buf.push(c);
        }
    }

    fn push_all(&mut self, s: &[u8]) {
        let room = self.limit.saturating_sub(self.buf.len());
        self.buf.extend_from_slice(&s[..s.len().min(room)]);
    }
}

/// The byte at `i`, or NUL past the end (C string semantics).
fn at(s: &[u8], i: usize) -> u8 {
    s.get(i).copied().unwrap_or(0)
}

/// Bytes that `trans` treats specially; all others are copied as they are.
fn is_special(c: u8) -> bool {
    matches!(c, 0 | b'$' | b'\\' | b'"' | b'\'')
}

/// C's `isspace` in the "C" locale.
pub fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// How one string expanded.
#[derive(Debug, Default)]
pub struct Expanded {
    /// Some reference was undefined or recursive (macLib's negative length).
    pub error: bool,
    /// Length of the expanded text.
    pub len: usize,
    /// Every undefined or recursive reference behind `error`.
    pub problems: Vec<Problem>,
}

impl Expanded {
    /// macLib's return value: the length, negated on error.
    pub fn status(&self) -> i64 {
        let n = i64::try_from(self.len).unwrap_or(i64::MAX);
        if self.error {
            -n
        } else {
            n
        }
    }
}

/// Reads an environment variable as bytes.
pub type EnvLookup<'e> = &'e dyn Fn(&[u8]) -> Option<Vec<u8>>;

/// A macro substitution context (macLib's `MAC_HANDLE`).
pub struct MacroTable<'e> {
    entries: Vec<Entry>,
    level: u32,
    dirty: bool,
    suppress: bool,
    env: Option<EnvLookup<'e>>,
    messages: Vec<Vec<u8>>,
    stuck: bool,
    // work done so far: nested defaults (`$(A=$(B=$(C=…`) unclosed make
    // macLib's algorithm exponential, and msi hangs on them
    steps: u64,
    max_steps: u64,
}

/// The expansion steps one table may take in its life (a real msi run takes
/// about one per macro reference or special character it expands).
pub const MAX_STEPS: u64 = 40_000_000;

impl Default for MacroTable<'_> {
    fn default() -> Self {
        MacroTable::new()
    }
}

impl<'e> MacroTable<'e> {
    /// An empty table that prints warnings.
    pub fn new() -> Self {
        MacroTable {
            entries: Vec::new(),
            level: 0,
            dirty: false,
            suppress: false,
            env: None,
            messages: Vec::new(),
            stuck: false,
            steps: 0,
            max_steps: MAX_STEPS,
        }
    }

    /// A table that falls back on environment variables (`macEnvExpand`).
    pub fn with_environment(env: EnvLookup<'e>) -> Self {
        let mut t = MacroTable::new();
        t.env = Some(env);
        t
    }

    /// Turns warnings (`macLib: macro X is undefined ...`) off or on.
    pub fn suppress_warnings(&mut self, suppress: bool) {
        self.suppress = suppress;
    }

    /// Whether warnings are off; undefined references then expand to `$(A)`
    /// rather than `$(A,undefined)`.
    pub fn warnings_suppressed(&self) -> bool {
        self.suppress
    }

    /// Whether an expansion met `$(A,` at the very end of a string, where
    /// macLib loops forever (this table stops instead).
    pub fn stuck(&self) -> bool {
        self.stuck
    }

    /// Sets the expansion step budget (default [`MAX_STEPS`]).
    pub fn set_step_budget(&mut self, max_steps: u64) {
        self.max_steps = max_steps;
    }

    /// Whether expansion stopped at its step budget: the output is cut short.
    pub fn overworked(&self) -> bool {
        self.steps > self.max_steps
    }

    /// The errlog messages printed since the last call, oldest first.
    pub fn take_messages(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.messages)
    }

    /// Parses `A=1,B=2` definitions and installs them (`macParseDefns` +
    /// `macInstallMacros`); a name without `=` deletes that macro.
    pub fn install(&mut self, definitions: &[u8]) {
        for (name, value) in parse_definitions(definitions) {
            self.put(&name, value.as_deref());
        }
    }

    /// Defines `name` at the current scope, or deletes it everywhere when
    /// `value` is `None` (`macPutValue`).
    pub fn put(&mut self, name: &[u8], value: Option<&[u8]>) {
        let Some(value) = value else {
            while let Some(idx) = self.lookup(name) {
                let done = self.entries[idx].kind == Kind::Environment;
                self.entries.remove(idx);
                self.dirty = true;
                if done {
                    break;
                }
            }
            return;
        };
        let idx = match self.lookup(name) {
            Some(idx) if self.entries[idx].level >= self.level => idx,
            _ => self.create(name, false, Kind::Macro),
        };
        self.entries[idx].raw = Some(Rc::from(value));
        self.dirty = true;
    }

    /// Starts a new scope (`macPushScope`).
    pub fn push_scope(&mut self) {
        self.level += 1;
        self.create(b"<scope>", true, Kind::Scope);
    }

    /// Drops every definition made since the matching [`push_scope`](Self::push_scope).
    pub fn pop_scope(&mut self) {
        let marker = if self.level == 0 {
            None
        } else {
            self.entries
                .iter()
                .rposition(|e| e.special && &*e.name == b"<scope>")
        };
        let Some(idx) = marker else {
            self.messages
                .push(b"macPopScope: no scope to pop\n".to_vec());
            return;
        };
        self.entries.truncate(idx);
        self.dirty = true;
        self.level -= 1;
    }

    /// Expands `src` into `dest` with room for `capacity - 1` bytes
    /// (`macExpandString`), returning what went wrong.
    pub fn expand_string(&mut self, src: &[u8], capacity: usize, dest: &mut Vec<u8>) -> Expanded {
        if capacity <= 1 {
            return Expanded {
                error: true,
                ..Expanded::default()
            };
        }
        self.refresh();
        let start = dest.len();
        let mut ctx = Ctx::new("string", src);
        let mut r = 0;
        self.trans(
            &mut ctx,
            0,
            b"",
            src,
            &mut r,
            &mut Out::new(dest, capacity - 1),
        );
        Expanded {
            error: ctx.error,
            len: dest.len() - start,
            problems: ctx.problems,
        }
    }

    fn create(&mut self, name: &[u8], special: bool, kind: Kind) -> usize {
        self.entries.push(Entry {
            name: Rc::from(name),
            kind,
            raw: None,
            value: Vec::new(),
            error: false,
            visited: false,
            special,
            level: self.level,
            problems: Vec::new(),
        });
        self.entries.len() - 1
    }

    /// The newest non-special entry called `name`; an environment table
    /// adds the variable as an entry on first use.
    fn lookup(&mut self, name: &[u8]) -> Option<usize> {
        if let Some(idx) = self
            .entries
            .iter()
            .rposition(|e| !e.special && &*e.name == name)
        {
            return Some(idx);
        }
        let env = self.env?;
        if name.is_empty() {
            return None;
        }
        let value = env(name)?;
        let idx = self.create(name, false, Kind::Environment);
        self.entries[idx].raw = Some(Rc::from(value));
        self.dirty = true;
        Some(idx)
    }

    /// Recomputes every cached value when a definition changed (`expand`).
    fn refresh(&mut self) {
        if !self.dirty {
            return;
        }
        // entries pushed while expanding (scoped macros) are popped again
        // before the next index is visited, so indices stay valid
        let mut i = 0;
        while i < self.entries.len() {
            let entry = &mut self.entries[i];
            let name = Rc::clone(&entry.name);
            let raw = entry.raw.clone();
            let kind = entry.kind;
            let mut value = std::mem::take(&mut entry.value);
            value.clear();
            let mut ctx = Ctx::new(kind.describe(), &name);
            if let Some(raw) = raw {
                let mut r = 0;
                self.trans(
                    &mut ctx,
                    1,
                    b"",
                    &raw,
                    &mut r,
                    &mut Out::new(&mut value, MAC_SIZE),
                );
            }
            if let Some(entry) = self.entries.get_mut(i) {
                entry.value = value;
                entry.error = ctx.error;
                entry.problems = ctx.problems;
            }
            i += 1;
        }
        self.dirty = false;
    }

    /// Copies `src` from `*pos` up to a byte of `term` (or the end),
    /// expanding references; at level 1 and deeper quotes and escapes are
    /// dropped. Leaves `*pos` on the terminator, or on the last byte at the
    /// end of the string (`trans`).
    fn trans(
        &mut self,
        ctx: &mut Ctx,
        level: u32,
        term: &[u8],
        src: &[u8],
        pos: &mut usize,
        out: &mut Out,
    ) {
        let discard = level > 0;
        let mut quote = 0u8;
        let mut r = *pos;
        loop {
            self.steps += 1;
            if self.steps > self.max_steps {
                break;
            }
            // copy a run of ordinary bytes in one go
            let run = src
                .get(r..)
                .unwrap_or_default()
                .iter()
                .position(|&c| is_special(c) || term.contains(&c))
                .unwrap_or(src.len().saturating_sub(r));
            if run > 0 {
                out.push_all(&src[r..r + run]);
                r += run;
            }
            let c = at(src, r);
            if c == 0 || term.contains(&c) {
                break;
            }
            if quote != 0 {
                if c == quote {
                    quote = 0;
                    if discard {
                        r += 1;
                        continue;
                    }
                }
            } else if c == b'"' || c == b'\'' {
                quote = c;
                if discard {
                    r += 1;
                    continue;
                }
            }
            let next = at(src, r + 1);
            if c == b'$' && (next == b'(' || next == b'{') && quote != b'\'' {
                self.refer(ctx, level, src, &mut r, out);
            } else if c == b'\\' && next != 0 {
                if !discard {
                    out.push(b'\\');
                }
                // macLib only steps over the escaped byte when it can store it
                if out.has_room() {
                    r += 1;
                    out.push(at(src, r));
                }
            } else {
                out.push(c);
            }
            r += 1;
        }
        *pos = if at(src, r) == 0 {
            r.saturating_sub(1)
        } else {
            r
        };
    }

    /// Expands the reference starting at the `$` at `*pos`, leaving `*pos`
    /// on its last byte (`refer`).
    fn refer(&mut self, ctx: &mut Ctx, level: u32, src: &[u8], pos: &mut usize, out: &mut Out) {
        let mut r = *pos + 1;
        let name_term: &'static [u8] = if at(src, r) == b'(' { b"=,)" } else { b"=,}" };
        let value_term = &name_term[1..];
        r += 1;

        let mut refname = Vec::new();
        self.trans(
            ctx,
            level + 1,
            name_term,
            src,
            &mut r,
            &mut Out::new(&mut refname, MAC_SIZE),
        );

        let default_at = if at(src, r) == b'=' {
            Some(self.skip_default(level, value_term, src, &mut r, &refname))
        } else {
            None
        };
        let pop = at(src, r) == b',';
        if pop {
            self.scoped_definitions(level, name_term, src, &mut r, &refname);
        }

        let errval: &[u8];
        match self.lookup(&refname) {
            Some(idx) if !self.entries[idx].visited => {
                self.expand_entry(ctx, level, idx, out);
                return self.finish_refer(pop, pos, r);
            }
            Some(idx) => {
                errval = b",recursive)";
                self.report_recursive(ctx, idx);
            }
            None => {
                if let Some(mut d) = default_at {
                    self.trans(ctx, level + 1, value_term, src, &mut d, out);
                    return self.finish_refer(pop, pos, r);
                }
                errval = b",undefined)";
                self.report_undefined(ctx, &refname);
            }
        }

        // a bad reference is written back as $(name) or $(name,<error>)
        out.push(b'$');
        out.push(b'(');
        out.push_all(&refname);
        if self.suppress {
            out.push(b')');
        } else {
            out.push_all(errval);
        }
        self.finish_refer(pop, pos, r);
    }

    /// Steps `*r` from the `=` of `$(name=default)` over the default,
    /// discarding its value, and returns where the default starts.
    fn skip_default(
        &mut self,
        level: u32,
        value_term: &[u8],
        src: &[u8],
        r: &mut usize,
        refname: &[u8],
    ) -> usize {
        let saved = self.suppress;
        self.suppress = true;
        *r += 1;
        let default_at = *r;
        let mut dflt = Ctx::new("default value", refname);
        let mut sink = Vec::new();
        self.trans(
            &mut dflt,
            level + 1,
            value_term,
            src,
            r,
            &mut Out::new(&mut sink, 0),
        );
        self.suppress = saved;
        default_at
    }

    /// Opens a scope and installs in it the `,A=1,B=2` definitions that
    /// follow a reference's name, stepping `*r` past them.
    fn scoped_definitions(
        &mut self,
        level: u32,
        name_term: &'static [u8],
        src: &[u8],
        r: &mut usize,
        refname: &[u8],
    ) {
        let value_term = &name_term[1..];
        let saved = self.suppress;
        self.suppress = true;
        self.push_scope();
        while at(src, *r) == b',' {
            let comma = *r;
            *r += 1;
            let mut subs = Ctx::new("scoped macro", refname);
            let mut sub_name = Vec::new();
            self.trans(
                &mut subs,
                level + 1,
                name_term,
                src,
                r,
                &mut Out::new(&mut sub_name, MAC_SIZE),
            );
            if at(src, *r) == b'=' {
                *r += 1;
                let mut sub_value = Vec::new();
                self.trans(
                    &mut subs,
                    level + 1,
                    value_term,
                    src,
                    r,
                    &mut Out::new(&mut sub_value, MAC_SIZE),
                );
                self.put(&sub_name, Some(&sub_value));
                self.dirty = true;
            }
            if *r == comma {
                // macLib spins here forever (`$(A,` ends the string)
                self.stuck = true;
                break;
            }
        }
        self.suppress = saved;
    }

    /// Writes the value of the defined macro `idx`, expanding its raw text
    /// again when definitions changed since it was last expanded.
    fn expand_entry(&mut self, ctx: &mut Ctx, level: u32, idx: usize, out: &mut Out) {
        if self.dirty {
            if let Some(raw) = self.entries[idx].raw.clone() {
                self.entries[idx].visited = true;
                let mut rv = 0;
                self.trans(ctx, level + 1, b"", &raw, &mut rv, out);
                if let Some(e) = self.entries.get_mut(idx) {
                    e.visited = false;
                }
            }
        } else {
            let e = &self.entries[idx];
            out.push_all(&e.value);
            if e.error {
                ctx.error = true;
                ctx.problems.extend(e.problems.iter().cloned());
            }
        }
    }

    /// Records that macro `idx` refers to itself while being expanded.
    fn report_recursive(&mut self, ctx: &mut Ctx, idx: usize) {
        ctx.error = true;
        let e = &self.entries[idx];
        ctx.problems.push(Problem {
            name: e.name.to_vec(),
            recursive: true,
        });
        if !self.suppress {
            self.messages.push(
                [
                    b"macLib: ",
                    ctx.kind.as_bytes(),
                    b" ",
                    ctx.name,
                    b" is recursive (expanding ",
                    e.kind.describe().as_bytes(),
                    b" ",
                    &e.name,
                    b")\n",
                ]
                .concat(),
            );
        }
    }

    /// Records a reference to `refname`, which has no definition nor default.
    fn report_undefined(&mut self, ctx: &mut Ctx, refname: &[u8]) {
        ctx.error = true;
        ctx.problems.push(Problem {
            name: refname.to_vec(),
            recursive: false,
        });
        if !self.suppress {
            self.messages.push(
                [
                    b"macLib: macro ",
                    refname,
                    b" is undefined (expanding ",
                    ctx.kind.as_bytes(),
                    b" ",
                    ctx.name,
                    b")\n",
                ]
                .concat(),
            );
        }
    }

    fn finish_refer(&mut self, pop: bool, pos: &mut usize, r: usize) {
        if pop {
            self.pop_scope();
        }
        *pos = r;
    }
}

/// Splits `A=1,B="x y"` into names and values (`macParseDefns`).
///
/// White space around names, values, `=` and `,` is dropped; quotes and
/// escapes protect `=` and `,`. Quotes and escapes are removed from names
/// only: values keep them until they are expanded. A name without `=` gets
/// no value, which deletes the macro when installed.
pub fn parse_definitions(defns: &[u8]) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        PreName,
        InName,
        PreValue,
        InValue,
    }
    // spans of names and values alternately, with "delete" marks on values
    let mut spans: Vec<(usize, usize, bool)> = Vec::new();
    let mut start = 0usize;
    let mut delete_value = false;
    let trimmed_end = |from: usize, mut to: usize| {
        while to > from && is_space(defns[to - 1]) {
            to -= 1;
        }
        to
    };
    let mut state = State::PreName;
    let mut quote = 0u8;
    let mut i = 0usize;
    let len = defns.iter().position(|&c| c == 0).unwrap_or(defns.len());
    while i < len {
        let c = defns[i];
        if quote != 0 {
            if c == quote {
                quote = 0;
            }
        } else if c == b'\'' || c == b'"' {
            quote = c;
        }
        let escape = c == b'\\' && at(&defns[..len], i + 1) != 0;
        let plain = quote == 0 && !escape;
        // macParseDefns' switch with fall-through, one state at a time
        let mut s = state;
        loop {
            match s {
                State::PreName => {
                    if plain && (is_space(c) || c == b',') {
                        break;
                    }
                    start = i;
                    state = State::InName;
                    s = State::InName;
                }
                State::InName => {
                    if !plain || (c != b'=' && c != b',') {
                        break;
                    }
                    spans.push((start, trimmed_end(start, i), false));
                    state = State::PreValue;
                    delete_value = false;
                    if c != b',' {
                        break;
                    }
                    delete_value = true;
                    s = State::PreValue;
                }
                State::PreValue => {
                    if plain && is_space(c) {
                        break;
                    }
                    start = i;
                    state = State::InValue;
                    s = State::InValue;
                }
                State::InValue => {
                    if !plain || c != b',' {
                        break;
                    }
                    spans.push((start, trimmed_end(start, i), delete_value));
                    delete_value = false;
                    state = State::PreName;
                    break;
                }
            }
        }
        if escape {
            i += 1;
        }
        i += 1;
    }
    match state {
        State::PreName => {}
        State::InName => {
            spans.push((start, trimmed_end(start, len), false));
            spans.push((len, len, true));
        }
        State::PreValue => spans.push((len, len, delete_value)),
        State::InValue => spans.push((start, trimmed_end(start, len), delete_value)),
    }
    spans
        .chunks_exact(2)
        .map(|pair| {
            let (ns, ne, _) = pair[0];
            let (vs, ve, del) = pair[1];
            let value = (!del).then(|| defns[vs..ve].to_vec());
            (unquote_name(&defns[ns..ne]), value)
        })
        .collect()
}

/// Removes quotes and escapes from a macro name.
fn unquote_name(name: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(name.len());
    let mut quote = 0u8;
    let mut i = 0;
    while i < name.len() {
        let c = name[i];
        if quote != 0 {
            if c == quote {
                quote = 0;
                i += 1;
                continue;
            }
        } else if c == b'\'' || c == b'"' {
            quote = c;
            i += 1;
            continue;
        }
        if c == b'\\' && i + 1 < name.len() {
            i += 1;
        }
        out.push(name[i]);
        i += 1;
    }
    out
}

/// What [`env_expand`] made of a string.
#[derive(Debug)]
pub struct EnvExpansion {
    /// The expanded text; `None` when a reference was undefined or recursive.
    pub value: Option<Vec<u8>>,
    /// The errlog messages macLib printed.
    pub messages: Vec<Vec<u8>>,
    /// Whether macLib would have looped forever (see [`MacroTable::stuck`]).
    pub stuck: bool,
}

/// Expands macros in `text` from the environment only (`macEnvExpand`),
/// as msi does for the template names in a substitution file.
pub fn env_expand(text: &[u8], env: EnvLookup<'_>) -> EnvExpansion {
    let mut table = MacroTable::with_environment(env);
    let mut capacity = 128usize;
    loop {
        capacity *= 2;
        let mut dest = Vec::new();
        let done = table.expand_string(text, capacity, &mut dest);
        let n = done.status();
        // a result that filled the buffer may have been cut: try a larger one
        if n >= i64::try_from(capacity - 1).unwrap_or(i64::MAX) {
            continue;
        }
        return EnvExpansion {
            value: (n >= 0).then_some(dest),
            messages: table.take_messages(),
            stuck: table.stuck(),
        };
    }
}

/// What errlog prints for `message`: cut to 255 bytes with a
/// `<<TRUNCATED>>` mark when longer, and with ANSI escapes removed unless
/// the console is a terminal.
pub fn errlog_text(message: &[u8], console_is_tty: bool) -> Vec<u8> {
    const MARK: &[u8] = b"<<TRUNCATED>>\n";
    let mut m = if message.len() >= ERRLOG_MAX_MESSAGE {
        let keep = ERRLOG_MAX_MESSAGE - 1 - MARK.len();
        let mut t = message[..keep].to_vec();
        t.extend_from_slice(MARK);
        t
    } else {
        message.to_vec()
    };
    if !console_is_tty {
        m = strip_ansi(&m);
    }
    m
}

/// errlog's in-place ANSI escape removal, replayed on a copy.
fn strip_ansi(msg: &[u8]) -> Vec<u8> {
    let mut m = msg.to_vec();
    m.push(0);
    let (mut pos, mut shift) = (0usize, 0usize);
    loop {
        let mut c = m[pos];
        if c == 0x1b {
            pos += 1;
            c = m[pos];
            shift += 1;
            if c == b'[' {
                pos += 1;
                shift += 1;
                while matches!(m[pos], b'?' | b';' | b'0'..=b'9') {
                    pos += 1;
                    shift += 1;
                }
                if m[pos].is_ascii_alphabetic() {
                    pos += 1;
                    shift += 1;
                }
            }
        }
        if shift > 0 {
            c = m[pos];
            m[pos - shift] = c;
        }
        if c == 0 {
            m.truncate(pos - shift);
            return m;
        }
        pos += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(table: &mut MacroTable, s: &str) -> (String, bool) {
        let mut out = Vec::new();
        let e = table.expand_string(s.as_bytes(), 4095, &mut out);
        (String::from_utf8(out).unwrap(), e.error)
    }

    #[test]
    fn plain_and_default_references() {
        let mut t = MacroTable::new();
        t.suppress_warnings(true);
        t.install(b"A=1,B=$(A)2");
        assert_eq!(
            expand(&mut t, "$(A) ${B} $(C=x$(A)) $(D)"),
            ("1 12 x1 $(D)".into(), true)
        );
    }

    #[test]
    fn undefined_is_marked_when_warnings_are_on() {
        let mut t = MacroTable::new();
        assert_eq!(expand(&mut t, "$(U)\n"), ("$(U,undefined)\n".into(), true));
        let msgs = t.take_messages();
        assert_eq!(
            msgs,
            vec![b"macLib: macro U is undefined (expanding string $(U)\n)\n".to_vec()]
        );
    }

    #[test]
    fn recursive_definitions_stop() {
        let mut t = MacroTable::new();
        t.suppress_warnings(true);
        t.install(b"A=$(B),B=$(A)");
        assert_eq!(expand(&mut t, "$(A)"), ("$(B)".into(), true));
    }

    #[test]
    fn scoped_macros_vanish_after_the_reference() {
        let mut t = MacroTable::new();
        t.suppress_warnings(true);
        t.install(b"A=$(B)");
        assert_eq!(
            expand(&mut t, "$(A,B=2) $(B=none)"),
            ("2 none".into(), false)
        );
    }

    #[test]
    fn values_lose_quotes_and_escapes_but_lines_keep_them() {
        let mut t = MacroTable::new();
        t.install(br#"A="x, y",B=a\,b"#);
        assert_eq!(
            expand(&mut t, r#"$(A)|$(B)|"q"\$(A)"#),
            (r#"x, y|a,b|"q"\$(A)"#.into(), false)
        );
    }

    #[test]
    fn values_are_cut_at_mac_size() {
        let mut t = MacroTable::new();
        let long = "x".repeat(300);
        t.install(format!("A={long}").as_bytes());
        assert_eq!(expand(&mut t, "$(A)").0.len(), MAC_SIZE);
    }

    #[test]
    fn definitions_parse_like_macparsedefns() {
        let d = parse_definitions(br#" A = 1 , "B C"="x,y" ,D, E= "#);
        assert_eq!(
            d,
            vec![
                (b"A".to_vec(), Some(b"1".to_vec())),
                (b"B C".to_vec(), Some(br#""x,y""#.to_vec())),
                (b"D".to_vec(), None),
                (b"E".to_vec(), Some(Vec::new())),
            ]
        );
    }

    #[test]
    fn unterminated_scoped_reference_does_not_hang() {
        let mut t = MacroTable::new();
        t.suppress_warnings(true);
        let _ = expand(&mut t, "$(A,");
        assert!(t.stuck());
        let mut t = MacroTable::new();
        let _ = expand(&mut t, "$(A,\n");
        assert!(!t.stuck());
    }

    #[test]
    fn nested_unclosed_defaults_stop_instead_of_hanging() {
        let mut t = MacroTable::new();
        t.suppress_warnings(true);
        // the budget, not the clock, ends it: a small one keeps the test quick
        t.set_step_budget(200_000);
        let line = "B=$(BA=$(A=gone) ".repeat(200);
        let mut out = Vec::new();
        t.expand_string(line.as_bytes(), 4095, &mut out);
        assert!(t.overworked());
    }

    #[test]
    fn errlog_cuts_long_messages() {
        let m = vec![b'a'; 300];
        let t = errlog_text(&m, false);
        assert_eq!(t.len(), 255);
        assert!(t.ends_with(b"a<<TRUNCATED>>\n"));
        assert_eq!(
            errlog_text(b"\x1b[31;1mERROR\x1b[0m x\n", false),
            b"ERROR x\n"
        );
    }
}
