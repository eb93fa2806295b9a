//! The JSONPath parser: text to a [`Path`] of segments, in the syntax Jayway JsonPath (which
//! Step Functions uses) reads.

use serde_json::{Number, Value};

pub use super::ast::{CmpOp, Filter, Function, Operand, Path, Root, Segment, Selector};

/// Why a path did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at position {position} in path {path}")]
pub struct ParseError {
    /// The text given.
    pub path: String,
    /// Byte offset of the problem.
    pub position: usize,
    /// What is wrong.
    pub message: String,
}

/// Parses a JSONPath (`$...`, `$$...` or `$name...`).
pub fn parse(text: &str) -> Result<Path, ParseError> {
    let mut p = Parser {
        text,
        b: text.as_bytes(),
        pos: 0,
        depth: 0,
    };
    let path = p.path(false)?;
    p.skip_ws();
    if p.pos != p.b.len() {
        return Err(p.err("unexpected character"));
    }
    Ok(path)
}

/// Deepest filter nesting the parser accepts (keeps the stack safe).
const MAX_NESTING: usize = 64;

struct Parser<'t> {
    text: &'t str,
    b: &'t [u8],
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn err(&self, message: &str) -> ParseError {
        ParseError {
            path: self.text.to_string(),
            position: self.pos,
            message: message.to_string(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_str(&mut self, s: &str) -> bool {
        if self.b[self.pos..].starts_with(s.as_bytes()) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    /// A path from its root. `in_filter` stops at filter punctuation.
    fn path(&mut self, in_filter: bool) -> Result<Path, ParseError> {
        let root = if self.eat(b'@') {
            if !in_filter {
                return Err(self.err("'@' is only allowed inside a filter"));
            }
            Root::Current
        } else if self.eat(b'$') {
            if self.eat(b'$') {
                Root::Context
            } else {
                let start = self.pos;
                let len: usize = self
                    .rest()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .map(char::len_utf8)
                    .sum();
                self.pos += len;
                if self.pos > start {
                    Root::Variable(self.text[start..self.pos].to_string())
                } else {
                    Root::Input
                }
            }
        } else {
            return Err(self.err("a path must start with '$'"));
        };
        let mut path = Path {
            root,
            segments: Vec::new(),
            function: None,
        };
        loop {
            match self.peek() {
                Some(b'.') if self.b.get(self.pos + 1) == Some(&b'.') => {
                    self.pos += 2;
                    let sel = if self.peek() == Some(b'[') {
                        self.bracket()?
                    } else {
                        self.dot_name(in_filter)?
                    };
                    path.segments.push(Segment::Descendant(sel));
                }
                Some(b'.') => {
                    self.pos += 1;
                    if let Some(f) = self.function()? {
                        path.function = Some(f);
                        return Ok(path);
                    }
                    let sel = self.dot_name(in_filter)?;
                    path.segments.push(Segment::Child(sel));
                }
                Some(b'[') => {
                    let sel = self.bracket()?;
                    path.segments.push(Segment::Child(sel));
                }
                _ => return Ok(path),
            }
        }
    }

    fn function(&mut self) -> Result<Option<Function>, ParseError> {
        const NAMES: [(&str, Function); 10] = [
            ("length()", Function::Length),
            ("size()", Function::Size),
            ("min()", Function::Min),
            ("max()", Function::Max),
            ("avg()", Function::Avg),
            ("sum()", Function::Sum),
            ("stddev()", Function::Stddev),
            ("keys()", Function::Keys),
            ("first()", Function::First),
            ("last()", Function::Last),
        ];
        for (name, f) in NAMES {
            if self.rest().starts_with(name) {
                let after = self.pos + name.len();
                let end = self.b.get(after);
                if end.is_none()
                    || matches!(
                        end,
                        Some(b' ' | b')' | b'&' | b'|' | b'=' | b'!' | b'<' | b'>')
                    )
                {
                    self.pos = after;
                    return Ok(Some(f));
                }
            }
        }
        Ok(None)
    }

    fn dot_name(&mut self, in_filter: bool) -> Result<Selector, ParseError> {
        if self.eat(b'*') {
            return Ok(Selector::Wildcard);
        }
        let start = self.pos;
        while let Some(c) = self.peek() {
            let stop = c == b'.'
                || c == b']'
                || c == b'['
                || (in_filter
                    && matches!(c, b' ' | b')' | b'=' | b'!' | b'<' | b'>' | b'&' | b'|'));
            if stop {
                break;
            }
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.err("expected a property name"));
        }
        Ok(Selector::Name(self.text[start..self.pos].to_string()))
    }

    fn bracket(&mut self) -> Result<Selector, ParseError> {
        self.pos += 1; // '['
        self.skip_ws();
        let sel = match self.peek() {
            Some(b'*') => {
                self.pos += 1;
                Selector::Wildcard
            }
            Some(b'?') => {
                self.pos += 1;
                self.skip_ws();
                if !self.eat(b'(') {
                    return Err(self.err("expected '(' after '?'"));
                }
                let f = self.filter_or()?;
                self.skip_ws();
                if !self.eat(b')') {
                    return Err(self.err("expected ')' to close the filter"));
                }
                Selector::Filter(Box::new(f))
            }
            Some(b'\'' | b'"') => {
                let mut names = vec![self.quoted()?];
                loop {
                    self.skip_ws();
                    if !self.eat(b',') {
                        break;
                    }
                    self.skip_ws();
                    names.push(self.quoted()?);
                }
                if names.len() == 1 {
                    Selector::Name(names.remove(0))
                } else {
                    Selector::Names(names)
                }
            }
            _ => self.index_or_slice()?,
        };
        self.skip_ws();
        if !self.eat(b']') {
            return Err(self.err("expected ']'"));
        }
        Ok(sel)
    }

    fn quoted(&mut self) -> Result<String, ParseError> {
        let Some(q @ (b'\'' | b'"')) = self.peek() else {
            return Err(self.err("expected a quoted name"));
        };
        self.pos += 1;
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            if c == '\\' {
                if let Some((_, n)) = chars.next() {
                    if n as u32 == u32::from(q) {
                        out.push(n);
                    } else {
                        out.push('\\');
                        out.push(n);
                    }
                    continue;
                }
            } else if c as u32 == u32::from(q) {
                self.pos += i + 1;
                return Ok(out);
            } else {
                out.push(c);
            }
        }
        Err(self.err("unterminated quoted name"))
    }

    fn int(&mut self) -> Result<Option<i64>, ParseError> {
        self.skip_ws();
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        let s = &self.text[start..self.pos];
        if s.is_empty() {
            return Ok(None);
        }
        s.parse()
            .map(Some)
            .map_err(|_| self.err("expected an integer"))
    }

    fn index_or_slice(&mut self) -> Result<Selector, ParseError> {
        let first = self.int()?;
        self.skip_ws();
        if self.eat(b':') {
            let end = self.int()?;
            self.skip_ws();
            let step = if self.eat(b':') { self.int()? } else { None };
            return Ok(Selector::Slice(first, end, step));
        }
        let Some(first) = first else {
            return Err(self.err("expected an index, a slice, '*', a quoted name or a filter"));
        };
        let mut all = vec![first];
        while self.eat(b',') {
            match self.int()? {
                Some(i) => all.push(i),
                None => return Err(self.err("expected an index")),
            }
            self.skip_ws();
        }
        Ok(if all.len() == 1 {
            Selector::Index(first)
        } else {
            Selector::Indices(all)
        })
    }

    fn filter_or(&mut self) -> Result<Filter, ParseError> {
        if self.depth >= MAX_NESTING {
            return Err(self.err("the filter nests too deeply"));
        }
        self.depth += 1;
        let r = self.filter_or_inner();
        self.depth -= 1;
        r
    }

    fn filter_or_inner(&mut self) -> Result<Filter, ParseError> {
        let mut left = self.filter_and()?;
        loop {
            self.skip_ws();
            if self.eat_str("||") {
                let right = self.filter_and()?;
                left = Filter::Or(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn filter_and(&mut self) -> Result<Filter, ParseError> {
        let mut left = self.filter_unary()?;
        loop {
            self.skip_ws();
            if self.eat_str("&&") {
                let right = self.filter_unary()?;
                left = Filter::And(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn filter_unary(&mut self) -> Result<Filter, ParseError> {
        self.skip_ws();
        if self.peek() == Some(b'!') && self.b.get(self.pos + 1) != Some(&b'=') {
            self.pos += 1;
            if self.depth >= MAX_NESTING {
                return Err(self.err("the filter nests too deeply"));
            }
            self.depth += 1;
            let inner = self.filter_unary();
            self.depth -= 1;
            return Ok(Filter::Not(Box::new(inner?)));
        }
        if self.eat(b'(') {
            let f = self.filter_or()?;
            self.skip_ws();
            if !self.eat(b')') {
                return Err(self.err("expected ')'"));
            }
            return Ok(f);
        }
        let left = self.operand()?;
        self.skip_ws();
        let ops: [(&str, CmpOp); 11] = [
            ("==", CmpOp::Eq),
            ("!=", CmpOp::Ne),
            ("<=", CmpOp::Le),
            (">=", CmpOp::Ge),
            ("<", CmpOp::Lt),
            (">", CmpOp::Gt),
            ("nin ", CmpOp::Nin),
            ("in ", CmpOp::In),
            ("size ", CmpOp::Size),
            ("empty ", CmpOp::Empty),
            ("contains ", CmpOp::Contains),
        ];
        for (s, op) in ops {
            if self.eat_str(s) {
                let right = self.operand()?;
                return Ok(Filter::Compare(left, op, right));
            }
        }
        Ok(Filter::Exists(left))
    }

    fn operand(&mut self) -> Result<Operand, ParseError> {
        self.skip_ws();
        match self.peek() {
            Some(b'@' | b'$') => Ok(Operand::Path(self.path(true)?)),
            Some(b'\'' | b'"') => Ok(Operand::Literal(Value::String(self.quoted()?))),
            Some(b'[' | b'{') => {
                let mut de = serde_json::Deserializer::from_str(self.rest()).into_iter::<Value>();
                match de.next() {
                    Some(Ok(v)) => {
                        self.pos += de.byte_offset();
                        Ok(Operand::Literal(v))
                    }
                    _ => Err(self.err("expected a JSON literal")),
                }
            }
            _ => {
                for (word, v) in [
                    ("true", Value::Bool(true)),
                    ("false", Value::Bool(false)),
                    ("null", Value::Null),
                ] {
                    if self.eat_str(word) {
                        return Ok(Operand::Literal(v));
                    }
                }
                let start = self.pos;
                while matches!(
                    self.peek(),
                    Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
                ) {
                    self.pos += 1;
                }
                let s = &self.text[start..self.pos];
                if let Ok(i) = s.parse::<i64>() {
                    return Ok(Operand::Literal(Value::Number(i.into())));
                }
                match s.parse::<f64>().ok().and_then(Number::from_f64) {
                    Some(n) => Ok(Operand::Literal(Value::Number(n))),
                    None => {
                        self.pos = start;
                        Err(self.err("expected a path, a literal or a number"))
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_step_functions_uses() {
        for (text, definite, rendered) in [
            ("$", true, "$"),
            ("$.a.b", true, "$['a']['b']"),
            ("$.delivery-partner", true, "$['delivery-partner']"),
            ("$.items[10]", true, "$['items'][10]"),
            ("$.items[*].v", false, "$['items'][*]['v']"),
            ("$.items[1:5]", false, "$['items'][1:5]"),
            ("$..x", false, "$..['x']"),
            ("$['a b']['c']", true, "$['a b']['c']"),
            ("$$.Execution.Input", true, "$$['Execution']['Input']"),
            ("$var.x[0]", true, "$var['x'][0]"),
            ("$.users[?(@.status == 0)]", false, "$['users'][?]"),
        ] {
            let p = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(p.is_definite(), definite, "{text}");
            assert_eq!(p.render(p.segments.len()), rendered, "{text}");
        }
        let p = parse("$.items.length()").unwrap();
        assert_eq!(p.function, Some(Function::Length));
        let p = parse("$['Test\\\"\"Name\"']").unwrap();
        assert_eq!(
            p.segments,
            vec![Segment::Child(Selector::Name("Test\\\"\"Name\"".into()))]
        );
    }

    #[test]
    fn bad_paths_are_errors() {
        for bad in ["", "a.b", "$.", "$[", "$['a'", "$[?(@.a == )]", "$.a]"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
