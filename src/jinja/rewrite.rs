//! Source rewrite that gives templates Python's operator semantics.
//!
//! minijinja evaluates `'%03d' % n` as a numeric modulo and builds list
//! literals as immutable sequences. Jinja2 on `CPython` formats the string and
//! builds a mutable `list`. Before compiling, the template is parsed with
//! minijinja's own parser and every arithmetic operator and list literal is
//! replaced by a call to a helper with Python semantics (`ops.rs`), using
//! the byte spans of the AST. Assignment targets are left alone. Line breaks
//! are never added or removed, so error line numbers still match the source.

use minijinja::machinery::ast::{self, BinOpKind, CallArg, Expr, Stmt};
use minijinja::machinery::{parse, Span};
use minijinja::syntax::SyntaxConfig;
use minijinja::{Error, ErrorKind};

/// Helper names the rewrite calls; registered as globals by the engine.
pub const HELPERS: &[&str] = &[
    "__ifg_add",
    "__ifg_sub",
    "__ifg_mul",
    "__ifg_div",
    "__ifg_floordiv",
    "__ifg_mod",
    "__ifg_pow",
    "__ifg_concat",
    "__ifg_list",
    "__ifg_dict",
    "__ifg_neg",
];

/// Jinja2 prints nothing for `a if b` when `b` is false, even under
/// `StrictUndefined`; minijinja would fail, so an explicit empty else is added.
const NO_ELSE: &str = " else \"\"";

struct Rewriter<'s> {
    src: &'s str,
}

struct Edit {
    start: usize,
    end: usize,
    text: String,
}

fn helper_for(op: BinOpKind) -> Option<&'static str> {
    Some(match op {
        BinOpKind::Add => "__ifg_add",
        BinOpKind::Sub => "__ifg_sub",
        BinOpKind::Mul => "__ifg_mul",
        BinOpKind::Div => "__ifg_div",
        BinOpKind::FloorDiv => "__ifg_floordiv",
        BinOpKind::Rem => "__ifg_mod",
        BinOpKind::Pow => "__ifg_pow",
        BinOpKind::Concat => "__ifg_concat",
        _ => return None,
    })
}

fn range(span: Span) -> (usize, usize) {
    (span.start_offset as usize, span.end_offset as usize)
}

/// How a comparison or logic operator is written in template source.
fn bin_op_symbol(op: BinOpKind) -> &'static str {
    match op {
        BinOpKind::Eq => "==",
        BinOpKind::Ne => "!=",
        BinOpKind::Lt => "<",
        BinOpKind::Lte => "<=",
        BinOpKind::Gt => ">",
        BinOpKind::Gte => ">=",
        BinOpKind::ScAnd => "and",
        BinOpKind::ScOr => "or",
        BinOpKind::In => "in",
        // arithmetic is always a replacement; see `replacement`
        _ => "+",
    }
}

/// How an operator of a comparison chain is written in template source.
fn compare_symbol(op: ast::CompareOpKind) -> &'static str {
    match op {
        ast::CompareOpKind::Eq => "==",
        ast::CompareOpKind::Ne => "!=",
        ast::CompareOpKind::Lt => "<",
        ast::CompareOpKind::Lte => "<=",
        ast::CompareOpKind::Gt => ">",
        ast::CompareOpKind::Gte => ">=",
        ast::CompareOpKind::In => "in",
        ast::CompareOpKind::NotIn => "not in",
    }
}

impl Rewriter<'_> {
    /// The text of a leaf token (a name or a literal), taken from the source.
    fn leaf(&self, span: Span) -> &str {
        let (start, end) = range(span);
        &self.src[start..end]
    }

    /// An expression printed back from the AST with the rewrites applied.
    ///
    /// minijinja's spans of postfix chains and filters start at the operator,
    /// not at the operand, so only leaves are sliced from the source; every
    /// compound node is printed in full, parenthesised so precedence holds.
    fn emit(&self, expr: &Expr<'_>) -> String {
        if let Some(text) = self.replacement(expr) {
            return text;
        }
        match expr {
            Expr::Var(v) => v.id.to_string(),
            Expr::Const(c) => self.leaf(c.span()).to_string(),
            Expr::Slice(s) => {
                let part = |e: Option<&Expr<'_>>| e.map(|e| self.emit(e)).unwrap_or_default();
                let mut out = format!(
                    "({})[{}:{}",
                    self.emit(&s.expr),
                    part(s.start.as_ref()),
                    part(s.stop.as_ref())
                );
                if let Some(step) = &s.step {
                    out.push(':');
                    out.push_str(&self.emit(step));
                }
                out.push(']');
                out
            }
            Expr::UnaryOp(u) => match u.op {
                ast::UnaryOpKind::Not => format!("not ({})", self.emit(&u.expr)),
                ast::UnaryOpKind::Neg => format!("-({})", self.emit(&u.expr)),
            },
            Expr::BinOp(b) => format!(
                "({}) {} ({})",
                self.emit(&b.left),
                bin_op_symbol(b.op),
                self.emit(&b.right)
            ),
            Expr::Compare(c) => {
                let mut out = format!("({})", self.emit(&c.expr));
                for op in &c.ops {
                    let sym = compare_symbol(op.op);
                    out.push_str(&format!(" {sym} ({})", self.emit(&op.expr)));
                }
                out
            }
            Expr::IfExpr(i) => {
                let mut out = format!(
                    "({}) if ({})",
                    self.emit(&i.true_expr),
                    self.emit(&i.test_expr)
                );
                match &i.false_expr {
                    Some(f) => out.push_str(&format!(" else ({})", self.emit(f))),
                    None => out.push_str(NO_ELSE),
                }
                out
            }
            Expr::Filter(f) => {
                let operand = f.expr.as_ref().map(|e| self.emit(e)).unwrap_or_default();
                format!("({operand}) | {}({})", f.name, self.emit_args(&f.args))
            }
            Expr::Test(t) => format!(
                "({}) is {}({})",
                self.emit(&t.expr),
                t.name,
                self.emit_args(&t.args)
            ),
            Expr::GetAttr(g) => format!("({}).{}", self.emit(&g.expr), g.name),
            Expr::GetItem(g) => {
                format!("({})[{}]", self.emit(&g.expr), self.emit(&g.subscript_expr))
            }
            Expr::Call(c) => format!("({})({})", self.emit(&c.expr), self.emit_args(&c.args)),
            Expr::List(_) => unreachable!("lists are always replaced"),
            Expr::Tuple(t) => {
                let items: Vec<String> = t.items.iter().map(|i| self.emit(i)).collect();
                match items.len() {
                    0 => "()".to_string(),
                    1 => format!("({},)", items[0]),
                    _ => format!("({})", items.join(", ")),
                }
            }
            Expr::Map(m) => {
                let items: Vec<String> = m
                    .keys
                    .iter()
                    .zip(&m.values)
                    .map(|(k, v)| format!("{}: {}", self.emit(k), self.emit(v)))
                    .collect();
                format!("{{{}}}", items.join(", "))
            }
        }
    }

    fn emit_args(&self, args: &[CallArg<'_>]) -> String {
        args.iter()
            .map(|a| match a {
                CallArg::Pos(e) => self.emit(e),
                CallArg::Kwarg(name, e) => format!("{name}={}", self.emit(e)),
                CallArg::PosSplat(e) => format!("*{}", self.emit(e)),
                CallArg::KwargSplat(e) => format!("**{}", self.emit(e)),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The replacement text when the node itself is rewritten.
    fn replacement(&self, expr: &Expr<'_>) -> Option<String> {
        match expr {
            Expr::BinOp(b) => {
                let helper = helper_for(b.op)?;
                Some(format!(
                    "{helper}({}, {})",
                    self.emit(&b.left),
                    self.emit(&b.right)
                ))
            }
            Expr::List(l) => {
                let items: Vec<String> = l.items.iter().map(|i| self.emit(i)).collect();
                Some(format!("__ifg_list({})", items.join(", ")))
            }
            // Python's unary minus also negates bools (to ints)
            Expr::UnaryOp(u)
                if matches!(u.op, ast::UnaryOpKind::Neg) && !matches!(u.expr, Expr::Const(_)) =>
            {
                Some(format!("__ifg_neg({})", self.emit(&u.expr)))
            }
            Expr::Map(m) => {
                let items: Vec<String> = m
                    .keys
                    .iter()
                    .zip(&m.values)
                    .map(|(k, v)| format!("{}, {}", self.emit(k), self.emit(v)))
                    .collect();
                Some(format!("__ifg_dict({})", items.join(", ")))
            }
            _ => None,
        }
    }

    fn expr(&self, expr: &Expr<'_>, edits: &mut Vec<Edit>) {
        if let Some(text) = self.replacement(expr) {
            let (start, end) = range(expr.span());
            edits.push(Edit { start, end, text });
        } else {
            self.children(expr, edits);
        }
    }

    fn opt(&self, expr: Option<&Expr<'_>>, edits: &mut Vec<Edit>) {
        if let Some(e) = expr {
            self.expr(e, edits);
        }
    }

    fn args(&self, args: &[CallArg<'_>], edits: &mut Vec<Edit>) {
        for a in args {
            match a {
                CallArg::Pos(e)
                | CallArg::Kwarg(_, e)
                | CallArg::PosSplat(e)
                | CallArg::KwargSplat(e) => {
                    self.expr(e, edits);
                }
            }
        }
    }

    fn children(&self, expr: &Expr<'_>, edits: &mut Vec<Edit>) {
        match expr {
            Expr::Var(_) | Expr::Const(_) => {}
            Expr::Slice(s) => {
                self.expr(&s.expr, edits);
                self.opt(s.start.as_ref(), edits);
                self.opt(s.stop.as_ref(), edits);
                self.opt(s.step.as_ref(), edits);
            }
            Expr::UnaryOp(u) => self.expr(&u.expr, edits),
            Expr::BinOp(b) => {
                self.expr(&b.left, edits);
                self.expr(&b.right, edits);
            }
            Expr::Compare(c) => {
                self.expr(&c.expr, edits);
                for op in &c.ops {
                    self.expr(&op.expr, edits);
                }
            }
            Expr::IfExpr(i) => {
                self.expr(&i.test_expr, edits);
                self.expr(&i.true_expr, edits);
                if let Some(f) = &i.false_expr {
                    self.expr(f, edits);
                } else {
                    // the span of an if-expression starts early, but its end is exact
                    let end = i.span().end_offset as usize;
                    edits.push(Edit {
                        start: end,
                        end,
                        text: NO_ELSE.to_string(),
                    });
                }
            }
            Expr::Filter(f) => {
                self.opt(f.expr.as_ref(), edits);
                self.args(&f.args, edits);
            }
            Expr::Test(t) => {
                self.expr(&t.expr, edits);
                self.args(&t.args, edits);
            }
            Expr::GetAttr(g) => self.expr(&g.expr, edits),
            Expr::GetItem(g) => {
                self.expr(&g.expr, edits);
                self.expr(&g.subscript_expr, edits);
            }
            Expr::Call(c) => {
                self.expr(&c.expr, edits);
                self.args(&c.args, edits);
            }
            Expr::List(l) => {
                for i in &l.items {
                    self.expr(i, edits);
                }
            }
            Expr::Tuple(t) => {
                for i in &t.items {
                    self.expr(i, edits);
                }
            }
            Expr::Map(m) => {
                for (k, v) in m.keys.iter().zip(&m.values) {
                    self.expr(k, edits);
                    self.expr(v, edits);
                }
            }
        }
    }

    fn stmts(&self, stmts: &[Stmt<'_>], edits: &mut Vec<Edit>) -> Result<(), Error> {
        for s in stmts {
            self.stmt(s, edits)?;
        }
        Ok(())
    }

    fn stmt(&self, stmt: &Stmt<'_>, edits: &mut Vec<Edit>) -> Result<(), Error> {
        match stmt {
            Stmt::Template(t) => self.stmts(&t.children, edits)?,
            Stmt::EmitExpr(e) => self.expr(&e.expr, edits),
            Stmt::EmitRaw(_) => {}
            Stmt::ForLoop(f) => {
                self.expr(&f.iter, edits);
                self.opt(f.filter_expr.as_ref(), edits);
                self.stmts(&f.body, edits)?;
                self.stmts(&f.else_body, edits)?;
            }
            Stmt::IfCond(i) => {
                self.expr(&i.expr, edits);
                self.stmts(&i.true_body, edits)?;
                self.stmts(&i.false_body, edits)?;
            }
            Stmt::WithBlock(w) => {
                for (_, value) in &w.assignments {
                    self.expr(value, edits);
                }
                self.stmts(&w.body, edits)?;
            }
            Stmt::Set(s) => self.expr(&s.expr, edits),
            Stmt::SetBlock(s) => {
                self.opt(s.filter.as_ref(), edits);
                self.stmts(&s.body, edits)?;
            }
            Stmt::AutoEscape(a) => {
                self.expr(&a.enabled, edits);
                self.stmts(&a.body, edits)?;
            }
            Stmt::FilterBlock(f) => {
                self.expr(&f.filter, edits);
                self.stmts(&f.body, edits)?;
            }
            Stmt::Block(b) => self.stmts(&b.body, edits)?,
            Stmt::Import(i) => self.expr(&i.expr, edits),
            Stmt::FromImport(i) => self.expr(&i.expr, edits),
            Stmt::Extends(e) => self.expr(&e.name, edits),
            Stmt::Include(i) => self.expr(&i.name, edits),
            Stmt::Macro(m) => {
                for d in &m.defaults {
                    self.expr(d, edits);
                }
                self.stmts(&m.body, edits)?;
            }
            Stmt::CallBlock(c) => {
                self.expr(&c.call.expr, edits);
                self.args(&c.call.args, edits);
                for d in &c.macro_decl.defaults {
                    self.expr(d, edits);
                }
                self.stmts(&c.macro_decl.body, edits)?;
            }
            Stmt::Do(d) => {
                // Jinja2 has `do` only with the `jinja2.ext.do` extension, which ibek does not load
                let span = d.span();
                return Err(Error::new(
                    ErrorKind::SyntaxError,
                    format!("Encountered unknown tag 'do' (line {})", span.start_line),
                ));
            }
        }
        Ok(())
    }
}

fn apply(src: &str, start: usize, end: usize, mut edits: Vec<Edit>) -> String {
    edits.sort_by_key(|e| e.start);
    let mut out = String::with_capacity(end - start + edits.len() * 16);
    let mut at = start;
    for e in edits {
        if e.start < at || e.end > end {
            continue;
        }
        out.push_str(&src[at..e.start]);
        out.push_str(&e.text);
        at = e.end;
    }
    out.push_str(&src[at..end]);
    out
}

/// Rewrites a template source for Python semantics; syntax errors come back
/// from minijinja's parser with their line numbers.
pub fn rewrite(source: &str) -> Result<String, Error> {
    let ast = parse(source, "<template>", SyntaxConfig::default())?;
    let rw = Rewriter { src: source };
    let mut edits = Vec::new();
    rw.stmt(&ast, &mut edits)?;
    if edits.is_empty() {
        return Ok(source.to_string());
    }
    Ok(apply(source, 0, source.len(), edits))
}

#[cfg(test)]
mod tests {
    use super::rewrite;

    #[test]
    fn operators_become_helper_calls() {
        assert_eq!(
            rewrite("{{ '%02d' % (n / 7 + 1) }}").unwrap(),
            "{{ __ifg_mod('%02d', __ifg_add(__ifg_div(n, 7), 1)) }}"
        );
        assert_eq!(
            rewrite("{{ \"ty_%02d_%d\" % (card.cardid, channel) }}").unwrap(),
            "{{ __ifg_mod(\"ty_%02d_%d\", ((card).cardid, channel)) }}"
        );
        assert_eq!(
            rewrite("{% set x = [] %}{{ x.append(a ~ b) }}").unwrap(),
            "{% set x = __ifg_list() %}{{ x.append(__ifg_concat(a, b)) }}"
        );
    }

    #[test]
    fn targets_and_plain_text_are_untouched() {
        let src = "a % b {% for a, b in [[1, 2]] %}{{ a }}{% endfor %}";
        assert_eq!(
            rewrite(src).unwrap(),
            "a % b {% for a, b in __ifg_list(__ifg_list(1, 2)) %}{{ a }}{% endfor %}"
        );
    }

    #[test]
    fn filters_keep_their_operands() {
        assert_eq!(
            rewrite("{{ (gaugeNum | int - 1) % 6 }}").unwrap(),
            "{{ __ifg_mod(__ifg_sub((gaugeNum) | int(), 1), 6) }}"
        );
        assert_eq!(
            rewrite("{{ 2**(gaugeNum | int) }}").unwrap(),
            "{{ __ifg_pow(2, (gaugeNum) | int()) }}"
        );
    }

    #[test]
    fn do_tag_is_rejected_like_jinja2() {
        assert!(rewrite("{% do x.append(1) %}").is_err());
    }
}
