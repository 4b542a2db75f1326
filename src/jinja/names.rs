//! The variable names a template reads, to name the undefined one in errors.
//!
//! minijinja reports "undefined value" without the name; Jinja2 says
//! "'port' is undefined". Walking the template's AST gives the names it
//! reads and the names it assigns itself; the caller compares them with
//! what the context holds.

use std::collections::BTreeSet;

use minijinja::machinery::ast::{CallArg, Expr, Stmt};
use minijinja::machinery::parse;
use minijinja::syntax::SyntaxConfig;

#[derive(Default)]
struct Names {
    read: Vec<String>,
    assigned: BTreeSet<String>,
}

impl Names {
    fn target(&mut self, e: &Expr<'_>) {
        match e {
            Expr::Var(v) => {
                self.assigned.insert(v.id.to_string());
            }
            Expr::Tuple(t) => t.items.iter().for_each(|i| self.target(i)),
            Expr::List(l) => l.items.iter().for_each(|i| self.target(i)),
            _ => {}
        }
    }

    fn args(&mut self, args: &[CallArg<'_>]) {
        for a in args {
            match a {
                CallArg::Pos(e)
                | CallArg::Kwarg(_, e)
                | CallArg::PosSplat(e)
                | CallArg::KwargSplat(e) => self.expr(e),
            }
        }
    }

    fn opt(&mut self, e: Option<&Expr<'_>>) {
        if let Some(e) = e {
            self.expr(e);
        }
    }

    fn expr(&mut self, e: &Expr<'_>) {
        match e {
            Expr::Var(v) => self.read.push(v.id.to_string()),
            Expr::Const(_) => {}
            Expr::Slice(s) => {
                self.expr(&s.expr);
                self.opt(s.start.as_ref());
                self.opt(s.stop.as_ref());
                self.opt(s.step.as_ref());
            }
            Expr::UnaryOp(u) => self.expr(&u.expr),
            Expr::BinOp(b) => {
                self.expr(&b.left);
                self.expr(&b.right);
            }
            Expr::Compare(c) => {
                self.expr(&c.expr);
                c.ops.iter().for_each(|o| self.expr(&o.expr));
            }
            Expr::IfExpr(i) => {
                self.expr(&i.test_expr);
                self.expr(&i.true_expr);
                self.opt(i.false_expr.as_ref());
            }
            Expr::Filter(f) => {
                self.opt(f.expr.as_ref());
                self.args(&f.args);
            }
            Expr::Test(t) => {
                // `x is defined` reads x without needing it
                if !matches!(t.name, "defined" | "undefined") {
                    self.expr(&t.expr);
                }
                self.args(&t.args);
            }
            Expr::GetAttr(g) => self.expr(&g.expr),
            Expr::GetItem(g) => {
                self.expr(&g.expr);
                self.expr(&g.subscript_expr);
            }
            Expr::Call(c) => {
                self.expr(&c.expr);
                self.args(&c.args);
            }
            Expr::List(l) => l.items.iter().for_each(|i| self.expr(i)),
            Expr::Tuple(t) => t.items.iter().for_each(|i| self.expr(i)),
            Expr::Map(m) => {
                m.keys.iter().for_each(|k| self.expr(k));
                m.values.iter().for_each(|v| self.expr(v));
            }
        }
    }

    fn stmts(&mut self, stmts: &[Stmt<'_>]) {
        for s in stmts {
            self.stmt(s);
        }
    }

    fn stmt(&mut self, s: &Stmt<'_>) {
        match s {
            Stmt::Template(t) => self.stmts(&t.children),
            Stmt::EmitExpr(e) => self.expr(&e.expr),
            Stmt::EmitRaw(_) => {}
            Stmt::ForLoop(f) => {
                self.target(&f.target);
                self.assigned.insert("loop".into());
                self.expr(&f.iter);
                self.opt(f.filter_expr.as_ref());
                self.stmts(&f.body);
                self.stmts(&f.else_body);
            }
            Stmt::IfCond(i) => {
                self.expr(&i.expr);
                self.stmts(&i.true_body);
                self.stmts(&i.false_body);
            }
            Stmt::WithBlock(w) => {
                for (t, v) in &w.assignments {
                    self.target(t);
                    self.expr(v);
                }
                self.stmts(&w.body);
            }
            Stmt::Set(s) => {
                self.target(&s.target);
                self.expr(&s.expr);
            }
            Stmt::SetBlock(s) => {
                self.target(&s.target);
                self.opt(s.filter.as_ref());
                self.stmts(&s.body);
            }
            Stmt::AutoEscape(a) => {
                self.expr(&a.enabled);
                self.stmts(&a.body);
            }
            Stmt::FilterBlock(f) => {
                self.expr(&f.filter);
                self.stmts(&f.body);
            }
            Stmt::Block(b) => self.stmts(&b.body),
            Stmt::Import(i) => {
                self.expr(&i.expr);
                self.target(&i.name);
            }
            Stmt::FromImport(i) => {
                self.expr(&i.expr);
                for (name, alias) in &i.names {
                    self.target(alias.as_ref().unwrap_or(name));
                }
            }
            Stmt::Extends(e) => self.expr(&e.name),
            Stmt::Include(i) => self.expr(&i.name),
            Stmt::Macro(m) => {
                self.assigned.insert(m.name.to_string());
                m.args.iter().for_each(|a| self.target(a));
                m.defaults.iter().for_each(|d| self.expr(d));
                self.stmts(&m.body);
            }
            Stmt::CallBlock(c) => {
                self.expr(&c.call.expr);
                self.args(&c.call.args);
                self.assigned.insert("caller".into());
                self.stmts(&c.macro_decl.body);
            }
            Stmt::Do(d) => {
                self.expr(&d.call.expr);
                self.args(&d.call.args);
            }
        }
    }
}

/// The names `source` reads but does not assign itself, in order of first use.
pub fn free_names(source: &str) -> Vec<String> {
    let Ok(ast) = parse(source, "<template>", SyntaxConfig::default()) else {
        return Vec::new();
    };
    let mut n = Names::default();
    n.stmt(&ast);
    let mut seen = BTreeSet::new();
    n.read
        .into_iter()
        .filter(|r| !n.assigned.contains(r) && seen.insert(r.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::free_names;

    #[test]
    fn finds_read_but_unassigned_names() {
        assert_eq!(
            free_names("{% set a = b %}{{ a }}{{ c.d }}{% for i in e %}{{ i }}{{ loop.index }}{% endfor %}{{ f is defined }}"),
            ["b", "c", "e"]
        );
    }
}
