//! Bounds on what one template may make the engine do.
//!
//! minijinja's fuel bounds instructions and the data the engine itself
//! produces, but the Python-semantics helpers (`ops`, `pyfmt`, `filters`,
//! `methods`) build their results before the engine can charge for them.
//! Every helper that can be asked for a huge result (`'a' * 10**19`,
//! `'%.*f' % (10**9, x)`, `'x'.ljust(10**12)`) checks its size here first,
//! against [`crate::limits`], and fails with a clean template error. Before
//! a template is parsed, [`check_expression_depth`] refuses blocks with so
//! many operators that parsing or compiling them would recurse past the
//! stack (`not not not …` 100,000 times).

use minijinja::machinery::{tokenize, Token};
use minijinja::syntax::SyntaxConfig;
use minijinja::{Error, ErrorKind};

/// The size of a list slot, as counted against `max-len` (a value is 24 bytes).
pub const SLOT_BYTES: usize = 16;

fn too_large(what: &str, size: u128, limit: usize) -> Error {
    Error::new(
        ErrorKind::InvalidOperation,
        format!(
            "{what} would be {size} bytes, over iocforge's limit of {limit} \
             (raise it with IOCFORGE_LIMITS=max-len=N)"
        ),
    )
}

/// Checks that a string of `len` bytes may be built.
pub fn check_len(what: &str, len: u128) -> Result<usize, Error> {
    let limit = crate::limits::max_len();
    if len > limit as u128 {
        return Err(too_large(what, len, limit));
    }
    Ok(len as usize)
}

/// Checks that a list of `items` items may be built.
pub fn check_items(what: &str, items: u128) -> Result<usize, Error> {
    check_len(what, items.saturating_mul(SLOT_BYTES as u128))?;
    Ok(items as usize)
}

/// Checks a width or precision given in a format spec (it is the size of the padding).
pub fn check_width(what: &str, width: u128) -> Result<usize, Error> {
    check_len(what, width)
}

fn deepens(token: &Token<'_>) -> bool {
    match token {
        Token::Plus
        | Token::Minus
        | Token::Mul
        | Token::Div
        | Token::FloorDiv
        | Token::Pow
        | Token::Mod
        | Token::Dot
        | Token::Tilde
        | Token::Pipe
        | Token::Eq
        | Token::Ne
        | Token::Gt
        | Token::Gte
        | Token::Lt
        | Token::Lte
        | Token::BracketOpen
        | Token::ParenOpen
        | Token::BraceOpen => true,
        Token::Ident(name) => matches!(*name, "not" | "and" | "or" | "is" | "in" | "if"),
        _ => false,
    }
}

/// Refuses a template with a `{{ }}` or `{% %}` block holding more
/// operators than the limit: parsing, rewriting and compiling nest once per
/// operator, so such a block would overflow the stack. Lexer errors are left
/// for the parser to report with its line numbers.
pub fn check_expression_depth(source: &str) -> Result<(), Error> {
    let limit = crate::limits::get().max_expr_ops;
    let mut count: u64 = 0;
    let mut line = 1;
    for item in tokenize(source, false, SyntaxConfig::default()) {
        let Ok((token, span)) = item else {
            return Ok(());
        };
        match token {
            Token::VariableStart | Token::BlockStart => {
                count = 0;
                line = span.start_line;
            }
            t if deepens(&t) => {
                count += 1;
                if count > limit {
                    return Err(Error::new(
                        ErrorKind::InvalidOperation,
                        format!(
                            "the expression starting on template line {line} has more than \
                             {limit} operators; iocforge refuses it rather than recurse that deep \
                             (raise the limit with IOCFORGE_LIMITS=max-expr-ops=N)"
                        ),
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_operator_chains_are_refused_before_parsing() {
        let chain = format!("{{{{ {}1 }}}}", "not ".repeat(100_000));
        let err = check_expression_depth(&chain).unwrap_err();
        assert!(
            err.to_string().contains("more than 1000 operators"),
            "{err}"
        );
        let pipes = format!("{{{{ x{} }}}}", "|upper".repeat(2_000));
        assert!(check_expression_depth(&pipes).is_err());
        // many small blocks are fine: the count is per block
        let many = "{{ a + b }}".repeat(5_000);
        assert!(check_expression_depth(&many).is_ok());
    }

    #[test]
    fn sizes_over_the_limit_are_errors() {
        assert!(check_len("x", 10).is_ok());
        assert!(check_len("x", 10u128.pow(19)).is_err());
        assert!(check_items("x", 10u128.pow(9)).is_err());
    }
}
