//! The JSONata parser: tokens to a raw tree by operator precedence (Pratt parsing, with the
//! binding powers of the reference implementation), then [`super::ast`] turns the raw tree into
//! the evaluated form (paths of steps with their stages, groups, focus and index bindings,
//! parent slots, tail calls).

use super::lexer::{tokenize, Tok, Token};
use super::JsonataError;

/// A raw expression tree, as parsed.
#[derive(Debug, Clone)]
pub enum Raw {
    /// A number literal.
    Num(f64),
    /// A string literal.
    Str(String),
    /// `true` / `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// A regular expression literal: pattern and flags.
    Regex(String, String),
    /// `$name` (`""` = the context `$`, `"$"` = the root `$$`).
    Var(String),
    /// A field name.
    Name(String),
    /// `*`.
    Wildcard,
    /// `**`.
    Descendants,
    /// `%`.
    Parent,
    /// `?` as a function argument: a partial application's placeholder.
    Placeholder,
    /// A binary operator (`.`, `+`, `=`, `and`, `..`, ...).
    Binary(&'static str, Box<RawNode>, Box<RawNode>),
    /// `expr[predicate]`.
    Filter(Box<RawNode>, Box<RawNode>),
    /// `expr{key: value, ...}`.
    Group(Box<RawNode>, Vec<(RawNode, RawNode)>),
    /// `expr^(<a, >b)`: terms and whether each is descending.
    Sort(Box<RawNode>, Vec<(RawNode, bool)>),
    /// `expr@$v`.
    Focus(Box<RawNode>, String),
    /// `expr#$i`.
    Index(Box<RawNode>, String),
    /// `$x := expr`.
    Bind(String, Box<RawNode>),
    /// `a ~> f`.
    Apply(Box<RawNode>, Box<RawNode>),
    /// `-expr`.
    Neg(Box<RawNode>),
    /// `[a, b, c..d]`.
    Array(Vec<RawNode>),
    /// `{k: v, ...}`.
    Object(Vec<(RawNode, RawNode)>),
    /// `(a; b; c)`.
    Block(Vec<RawNode>),
    /// `c ? a : b`.
    Cond(Box<RawNode>, Box<RawNode>, Option<Box<RawNode>>),
    /// `f(args)`; partial when an argument is `?`.
    Call(Box<RawNode>, Vec<RawNode>, bool),
    /// `function($a, $b)<sig> { body }`.
    Lambda(Vec<String>, Option<String>, Box<RawNode>),
    /// `| pattern | update, delete |`.
    Transform(Box<RawNode>, Box<RawNode>, Option<Box<RawNode>>),
}

/// A raw node: what it is, where it starts, and whether `[]` followed it.
#[derive(Debug, Clone)]
pub struct RawNode {
    /// The node.
    pub raw: Raw,
    /// Byte offset in the expression.
    pub pos: usize,
    /// `[]` followed it: keep singleton arrays.
    pub keep_array: bool,
}

fn node(raw: Raw, pos: usize) -> RawNode {
    RawNode {
        raw,
        pos,
        keep_array: false,
    }
}

/// Parses a whole expression into the raw tree.
pub fn parse(src: &str) -> Result<RawNode, JsonataError> {
    let (tokens, lex_error) = tokenize(src);
    let lex_at = lex_error.as_ref().and_then(|e| e.position);
    let mut p = Parser {
        tokens,
        at: 0,
        depth: 0,
    };
    let parsed = p.expression(0);
    if let Some(e) = lex_error {
        return match parsed {
            Err(pe) if pe.position.zip(lex_at).is_some_and(|(a, b)| a < b) => Err(pe),
            _ => Err(e),
        };
    }
    let n = parsed?;
    let t = p.peek();
    if t.kind != Tok::End {
        return Err(JsonataError::at(
            "S0201",
            t.pos,
            &format!("Syntax error: {}", show(&t.kind)),
        ));
    }
    Ok(n)
}

/// Deepest expression tree the parser builds (nesting plus operator chains; keeps every
/// recursive walk over the tree within the stack).
const MAX_NESTING: usize = 100;

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
}

fn show(t: &Tok) -> String {
    match t {
        Tok::Num(n) => format!("{n}"),
        Tok::Str(s) => format!("\"{s}\""),
        Tok::Name(n) => n.clone(),
        Tok::Var(v) => format!("${v}"),
        Tok::Regex(p, _) => format!("/{p}/"),
        Tok::Op(o) => (*o).to_string(),
        Tok::End => "(end)".into(),
    }
}

/// The left binding power of an infix operator (0: not infix).
fn binding_power(op: &str) -> u8 {
    match op {
        "." => 75,
        "[" | "(" | "@" | "#" => 80,
        "{" => 70,
        "*" | "/" | "%" => 60,
        "+" | "-" | "&" => 50,
        "=" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "~>" | "^" => 40,
        "and" => 30,
        "or" => 25,
        "?" => 20,
        ":=" => 10,
        _ => 0,
    }
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if self.at < self.tokens.len() {
            self.at += 1;
        }
        t
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(&self.peek().kind, Tok::Op(o) if *o == op)
    }

    fn expect(&mut self, op: &str) -> Result<(), JsonataError> {
        if self.is_op(op) {
            self.at += 1;
            return Ok(());
        }
        let t = self.peek();
        if t.kind == Tok::End {
            return Err(JsonataError::at(
                "S0203",
                t.pos,
                &format!("Expected \"{op}\" before end of expression"),
            ));
        }
        Err(JsonataError::at(
            "S0202",
            t.pos,
            &format!("Expected \"{op}\", got \"{}\"", show(&t.kind)),
        ))
    }

    fn expression(&mut self, rbp: u8) -> Result<RawNode, JsonataError> {
        if self.depth >= MAX_NESTING {
            return Err(JsonataError::at(
                "S0201",
                self.peek().pos,
                "Syntax error: the expression nests too deeply",
            ));
        }
        self.depth += 1;
        let r = self.expression_inner(rbp);
        self.depth -= 1;
        r
    }

    fn expression_inner(&mut self, rbp: u8) -> Result<RawNode, JsonataError> {
        let t = self.next();
        let mut left = self.nud(t)?;
        // Each operator applied here puts `left` one level deeper in the tree: counting it
        // bounds the tree's depth (and so every recursive walk over it), not just nesting.
        let base = self.depth;
        while let Tok::Op(op) = self.peek().kind {
            let pos = self.peek().pos;
            let bp = binding_power(op);
            if bp <= rbp {
                break;
            }
            self.depth += 1;
            if self.depth >= MAX_NESTING {
                return Err(JsonataError::at(
                    "S0201",
                    pos,
                    "Syntax error: the expression nests too deeply",
                ));
            }
            self.at += 1;
            left = self.led(op, pos, left)?;
        }
        self.depth = base;
        Ok(left)
    }

    fn nud(&mut self, t: Token) -> Result<RawNode, JsonataError> {
        let pos = t.pos;
        Ok(match t.kind {
            Tok::Num(n) => node(Raw::Num(n), pos),
            Tok::Str(s) => node(Raw::Str(s), pos),
            Tok::Regex(p, f) => node(Raw::Regex(p, f), pos),
            Tok::Var(v) => node(Raw::Var(v), pos),
            Tok::Name(n) => match n.as_str() {
                "true" => node(Raw::Bool(true), pos),
                "false" => node(Raw::Bool(false), pos),
                "null" => node(Raw::Null, pos),
                _ => node(Raw::Name(n), pos),
            },
            Tok::Op(op @ ("and" | "or" | "in")) => node(Raw::Name(op.to_string()), pos),
            Tok::Op("-") => node(Raw::Neg(Box::new(self.expression(70)?)), pos),
            Tok::Op("*") => node(Raw::Wildcard, pos),
            Tok::Op("**") => node(Raw::Descendants, pos),
            Tok::Op("%") => node(Raw::Parent, pos),
            Tok::Op("(") => {
                let mut items = Vec::new();
                while !self.is_op(")") {
                    items.push(self.expression(0)?);
                    if !self.is_op(";") {
                        break;
                    }
                    self.at += 1;
                }
                self.expect(")")?;
                node(Raw::Block(items), pos)
            }
            Tok::Op("[") => {
                let mut items = Vec::new();
                if !self.is_op("]") {
                    loop {
                        let mut item = self.expression(0)?;
                        if self.is_op("..") {
                            let rpos = self.peek().pos;
                            self.at += 1;
                            let end = self.expression(0)?;
                            item = node(Raw::Binary("..", Box::new(item), Box::new(end)), rpos);
                        }
                        items.push(item);
                        if !self.is_op(",") {
                            break;
                        }
                        self.at += 1;
                    }
                }
                self.expect("]")?;
                node(Raw::Array(items), pos)
            }
            Tok::Op("{") => node(Raw::Object(self.object_body()?), pos),
            Tok::Op("|") => {
                let pattern = self.expression(0)?;
                self.expect("|")?;
                let update = self.expression(0)?;
                let delete = if self.is_op(",") {
                    self.at += 1;
                    Some(Box::new(self.expression(0)?))
                } else {
                    None
                };
                self.expect("|")?;
                node(
                    Raw::Transform(Box::new(pattern), Box::new(update), delete),
                    pos,
                )
            }
            Tok::Op(op) => {
                return Err(JsonataError::at(
                    "S0211",
                    pos,
                    &format!("The symbol \"{op}\" cannot be used as a unary operator"),
                ));
            }
            Tok::End => {
                return Err(JsonataError::at(
                    "S0207",
                    pos,
                    "Unexpected end of expression",
                ))
            }
        })
    }

    fn object_body(&mut self) -> Result<Vec<(RawNode, RawNode)>, JsonataError> {
        let mut pairs = Vec::new();
        if !self.is_op("}") {
            loop {
                let k = self.expression(0)?;
                self.expect(":")?;
                let v = self.expression(0)?;
                pairs.push((k, v));
                if !self.is_op(",") {
                    break;
                }
                self.at += 1;
            }
        }
        self.expect("}")?;
        Ok(pairs)
    }

    /// A lambda after `function(`: parameters, optional signature, body.
    fn lambda(&mut self, pos: usize, args: Vec<RawNode>) -> Result<RawNode, JsonataError> {
        let mut params = Vec::new();
        for a in args {
            match a.raw {
                Raw::Var(v) => params.push(v),
                _ => {
                    return Err(JsonataError::at(
                        "S0208",
                        a.pos,
                        "Parameter of function definition must be a variable name (start with $)",
                    ))
                }
            }
        }
        let mut signature = None;
        if self.is_op("<") {
            // The signature's text runs to the matching '>'.
            let start = self.peek().pos;
            let mut depth = 0;
            let mut text = String::new();
            loop {
                let t = self.next();
                match &t.kind {
                    Tok::Op("<") => depth += 1,
                    Tok::Op(">") => depth -= 1,
                    Tok::End => {
                        return Err(JsonataError::at(
                            "S0203",
                            start,
                            "Expected \">\" before end of expression",
                        ))
                    }
                    _ => {}
                }
                text.push_str(&match &t.kind {
                    Tok::Name(n) => n.clone(),
                    Tok::Op(o) => (*o).to_string(),
                    other => show(other),
                });
                if depth == 0 {
                    break;
                }
            }
            super::signature::Signature::parse(&text).map_err(|mut e| {
                e.position = Some(start);
                e
            })?;
            signature = Some(text);
        }
        self.expect("{")?;
        let body = self.expression(0)?;
        self.expect("}")?;
        Ok(node(Raw::Lambda(params, signature, Box::new(body)), pos))
    }

    fn led(
        &mut self,
        op: &'static str,
        pos: usize,
        left: RawNode,
    ) -> Result<RawNode, JsonataError> {
        Ok(match op {
            "[" => {
                if self.is_op("]") {
                    self.at += 1;
                    let mut left = left;
                    mark_keep(&mut left);
                    return Ok(left);
                }
                let pred = self.expression(0)?;
                self.expect("]")?;
                node(Raw::Filter(Box::new(left), Box::new(pred)), pos)
            }
            "(" => {
                let mut args = Vec::new();
                let mut partial = false;
                if !self.is_op(")") {
                    loop {
                        if self.is_op("?") {
                            let p = self.peek().pos;
                            self.at += 1;
                            partial = true;
                            args.push(node(Raw::Placeholder, p));
                        } else {
                            args.push(self.expression(0)?);
                        }
                        if !self.is_op(",") {
                            break;
                        }
                        self.at += 1;
                    }
                }
                self.expect(")")?;
                if let Raw::Name(n) = &left.raw {
                    if n == "function" || n == "λ" {
                        return self.lambda(left.pos, args);
                    }
                }
                node(Raw::Call(Box::new(left), args, partial), pos)
            }
            "?" => {
                let then = self.expression(0)?;
                let otherwise = if self.is_op(":") {
                    self.at += 1;
                    Some(Box::new(self.expression(0)?))
                } else {
                    None
                };
                node(Raw::Cond(Box::new(left), Box::new(then), otherwise), pos)
            }
            ":=" => {
                let Raw::Var(name) = left.raw else {
                    return Err(JsonataError::at(
                        "S0212",
                        left.pos,
                        "The left side of := must be a variable name (start with $)",
                    ));
                };
                node(Raw::Bind(name, Box::new(self.expression(9)?)), pos)
            }
            "~>" => node(
                Raw::Apply(Box::new(left), Box::new(self.expression(40)?)),
                pos,
            ),
            "{" => {
                let pairs = self.object_body()?;
                node(Raw::Group(Box::new(left), pairs), pos)
            }
            "^" => {
                self.expect("(")?;
                let mut terms = Vec::new();
                loop {
                    let mut descending = false;
                    if self.is_op("<") {
                        self.at += 1;
                    } else if self.is_op(">") {
                        descending = true;
                        self.at += 1;
                    }
                    terms.push((self.expression(0)?, descending));
                    if !self.is_op(",") {
                        break;
                    }
                    self.at += 1;
                }
                self.expect(")")?;
                node(Raw::Sort(Box::new(left), terms), pos)
            }
            "@" | "#" => {
                let rhs = self.expression(80)?;
                let Raw::Var(name) = rhs.raw else {
                    return Err(JsonataError::at(
                        "S0214",
                        rhs.pos,
                        &format!("The right side of {op} must be a variable name (start with $)"),
                    ));
                };
                if op == "@" {
                    node(Raw::Focus(Box::new(left), name), pos)
                } else {
                    node(Raw::Index(Box::new(left), name), pos)
                }
            }
            _ => {
                let right = self.expression(binding_power(op))?;
                node(Raw::Binary(op, Box::new(left), Box::new(right)), pos)
            }
        })
    }
}

/// `expr[]`: the innermost step before any predicates keeps singleton arrays.
fn mark_keep(n: &mut RawNode) {
    match &mut n.raw {
        Raw::Filter(inner, _) => mark_keep(inner),
        _ => n.keep_array = true,
    }
}
