//! The intrinsic call syntax: `States.Name(arg, ...)` where an argument is a string literal in
//! single quotes (`\'`, `\{`, `\}`, `\\` escaped), a number, `true`/`false`/`null`, a path
//! (`$...`, `$$...`, `$var...`) or another call.

use serde_json::{Number, Value};

/// One argument of a call.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// A literal: string, number, boolean or null.
    Literal(Value),
    /// A string literal's text as written between the quotes (escapes kept), for
    /// `States.Format`, which must tell `\{` from `{`; `Literal` holds the unescaped value.
    Template(String, Value),
    /// A path, as written.
    Path(String),
    /// A nested call.
    Call(Call),
}

/// A call `States.Name(args)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The function name, `States.` included.
    pub name: String,
    /// The arguments in order.
    pub args: Vec<Arg>,
}

/// Why an intrinsic expression did not parse: what and where (byte offset).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at position {position} in '{text}'")]
pub struct ParseError {
    /// The expression.
    pub text: String,
    /// Byte offset of the problem.
    pub position: usize,
    /// What is wrong.
    pub message: String,
}

/// Parses a whole intrinsic expression (one call, nothing after it but spaces).
pub fn parse(text: &str) -> Result<Call, ParseError> {
    let mut p = Parser {
        text,
        pos: 0,
        depth: 0,
    };
    p.ws();
    let call = p.call()?;
    p.ws();
    if p.pos != text.len() {
        return Err(p.err("unexpected text after the call"));
    }
    Ok(call)
}

/// Deepest call nesting the parser accepts (keeps the stack safe).
const MAX_NESTING: usize = 64;

struct Parser<'t> {
    text: &'t str,
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn err(&self, message: &str) -> ParseError {
        ParseError {
            text: self.text.to_string(),
            position: self.pos,
            message: message.to_string(),
        }
    }

    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn ws(&mut self) {
        let n = self.rest().len() - self.rest().trim_start().len();
        self.pos += n;
    }

    fn call(&mut self) -> Result<Call, ParseError> {
        let start = self.pos;
        let len: usize = self
            .rest()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '.' || *c == '_')
            .map(char::len_utf8)
            .sum();
        let name = &self.text[start..start + len];
        if !name.starts_with("States.") || name.len() == "States.".len() {
            return Err(self.err("expected an intrinsic function name like States.Format"));
        }
        self.pos += len;
        self.ws();
        if self.peek() != Some('(') {
            return Err(self.err("expected '(' after the function name"));
        }
        self.pos += 1;
        let mut args = Vec::new();
        self.ws();
        if self.peek() == Some(')') {
            self.pos += 1;
            return Ok(Call {
                name: name.to_string(),
                args,
            });
        }
        loop {
            self.ws();
            args.push(self.arg()?);
            self.ws();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(')') => {
                    self.pos += 1;
                    return Ok(Call {
                        name: name.to_string(),
                        args,
                    });
                }
                _ => return Err(self.err("expected ',' or ')' after an argument")),
            }
        }
    }

    fn arg(&mut self) -> Result<Arg, ParseError> {
        match self.peek() {
            Some('\'') => self.string(),
            Some('$') => Ok(Arg::Path(self.path())),
            Some(c) if c == '-' || c.is_ascii_digit() => self.number(),
            Some(_) if self.rest().starts_with("States.") => {
                if self.depth >= MAX_NESTING {
                    return Err(self.err("the calls nest too deeply"));
                }
                self.depth += 1;
                let call = self.call();
                self.depth -= 1;
                Ok(Arg::Call(call?))
            }
            _ => {
                for (word, v) in [
                    ("true", Value::Bool(true)),
                    ("false", Value::Bool(false)),
                    ("null", Value::Null),
                ] {
                    if let Some(after) = self.rest().strip_prefix(word) {
                        if !after.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
                            self.pos += word.len();
                            return Ok(Arg::Literal(v));
                        }
                    }
                }
                Err(self.err("expected a string, number, boolean, null, path or call"))
            }
        }
    }

    fn string(&mut self) -> Result<Arg, ParseError> {
        self.pos += 1;
        let start = self.pos;
        let mut value = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, n @ ('\'' | '{' | '}' | '\\'))) => value.push(n),
                    Some((_, n)) => {
                        value.push('\\');
                        value.push(n);
                    }
                    None => break,
                },
                '\'' => {
                    let raw = self.text[start..start + i].to_string();
                    self.pos = start + i + 1;
                    return Ok(Arg::Template(raw, Value::String(value)));
                }
                c => value.push(c),
            }
        }
        Err(self.err("unterminated string literal"))
    }

    /// A path runs to the next `,` or `)` outside brackets, parentheses and quotes.
    fn path(&mut self) -> String {
        let start = self.pos;
        let mut depth = 0i32;
        let mut quote: Option<char> = None;
        let mut escaped = false;
        for (i, c) in self.rest().char_indices() {
            if let Some(q) = quote {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
                continue;
            }
            match c {
                '\'' | '"' => quote = Some(c),
                '[' | '(' => depth += 1,
                ']' => depth -= 1,
                ')' if depth > 0 => depth -= 1,
                ')' | ',' if depth <= 0 => {
                    self.pos = start + i;
                    return self.text[start..self.pos].trim_end().to_string();
                }
                _ => {}
            }
        }
        self.pos = self.text.len();
        self.text[start..].trim_end().to_string()
    }

    fn number(&mut self) -> Result<Arg, ParseError> {
        let start = self.pos;
        let len = self
            .rest()
            .find(|c: char| !(c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E')))
            .unwrap_or(self.rest().len());
        let s = &self.text[start..start + len];
        let n = if let Ok(i) = s.parse::<i64>() {
            Number::from(i)
        } else {
            match s.parse::<f64>().ok().and_then(Number::from_f64) {
                Some(n) => n,
                None => return Err(self.err("malformed number")),
            }
        };
        self.pos += len;
        Ok(Arg::Literal(Value::Number(n)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_calls_literals_and_paths() {
        let c = parse("States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), -1)")
            .unwrap();
        assert_eq!(c.name, "States.ArrayGetItem");
        let Arg::Call(inner) = &c.args[0] else {
            panic!("{c:?}")
        };
        assert_eq!(inner.args[0], Arg::Path("$$.StateMachine.Name".into()));
        assert_eq!(c.args[1], Arg::Literal(json!(-1)));
        let c = parse(r"States.Format('a \{\} \'q\' {}', $.a[0,1], true, null, 1.5)").unwrap();
        assert_eq!(
            c.args[0],
            Arg::Template(r"a \{\} \'q\' {}".into(), json!("a {} 'q' {}"))
        );
        assert_eq!(c.args[1], Arg::Path("$.a[0,1]".into()));
        assert_eq!(c.args[4], Arg::Literal(json!(1.5)));
        assert_eq!(parse("States.UUID()").unwrap().args, vec![]);
    }

    #[test]
    fn malformed_calls_are_errors() {
        for bad in [
            "States.Format(",
            "States.Format('x'",
            "States.Format('x' 'y')",
            "Format('x')",
            "States.(1)",
            "States.Array(1) x",
            "States.Array(nope)",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
