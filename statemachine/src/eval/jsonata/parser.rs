//! The JSONata parser: tokens to an [`Node`] tree by operator precedence (Pratt parsing), with
//! the binding powers of the JSONata reference implementation.

use std::rc::Rc;

use super::lexer::{tokenize, Tok, Token};
use super::JsonataError;

/// An expression tree.
#[derive(Debug, Clone)]
pub enum Node {
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
    /// A field name step.
    Name(String),
    /// `*`: every field value.
    Wildcard,
    /// `**`: every descendant.
    Descendants,
    /// `a.b.c`: steps evaluated left to right over sequences.
    Path(Vec<Node>, bool),
    /// `expr[predicate]`.
    Filter(Box<Node>, Box<Node>),
    /// `-expr`.
    Neg(Box<Node>),
    /// A binary operator: `+ - * / % & = != < <= > >= in`.
    Binary(&'static str, Box<Node>, Box<Node>),
    /// `a and b`.
    And(Box<Node>, Box<Node>),
    /// `a or b`.
    Or(Box<Node>, Box<Node>),
    /// `c ? a : b`.
    Cond(Box<Node>, Box<Node>, Option<Box<Node>>),
    /// `$x := expr`.
    Bind(String, Box<Node>),
    /// `(a; b; c)`.
    Block(Vec<Node>),
    /// `[a, b, c..d]`.
    Array(Vec<Node>),
    /// `a..b` inside an array constructor.
    Range(Box<Node>, Box<Node>),
    /// `{k: v, ...}`.
    Object(Vec<(Node, Node)>),
    /// `f(args)`.
    Call(Box<Node>, Vec<Node>),
    /// `function($a, $b) { body }`.
    Lambda(Rc<Lambda>),
    /// `a ~> f`.
    Chain(Box<Node>, Box<Node>),
}

/// A function literal.
#[derive(Debug)]
pub struct Lambda {
    /// Parameter names without `$`.
    pub params: Vec<String>,
    /// The body.
    pub body: Node,
}

/// Parses a whole expression.
pub fn parse(src: &str) -> Result<Node, JsonataError> {
    let tokens = tokenize(src)?;
    let mut p = Parser {
        tokens,
        at: 0,
        depth: 0,
    };
    let node = p.expression(0)?;
    let t = p.peek();
    if t.kind != Tok::End {
        return Err(JsonataError::syntax(
            t.pos,
            "unexpected token after the expression",
        ));
    }
    Ok(node)
}

/// Deepest nesting the parser accepts (keeps the stack safe).
const MAX_NESTING: usize = 100;

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
}

fn binding_power(op: &str) -> u8 {
    match op {
        "." => 75,
        "[" | "(" => 80,
        "{" => 70,
        "*" | "/" | "%" => 60,
        "+" | "-" | "&" => 50,
        "=" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "~>" => 40,
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
            Ok(())
        } else {
            Err(JsonataError::syntax(
                self.peek().pos,
                &format!("expected '{op}'"),
            ))
        }
    }

    fn expression(&mut self, rbp: u8) -> Result<Node, JsonataError> {
        if self.depth >= MAX_NESTING {
            return Err(JsonataError::syntax(
                self.peek().pos,
                "the expression nests too deeply",
            ));
        }
        self.depth += 1;
        let r = self.expression_inner(rbp);
        self.depth -= 1;
        r
    }

    fn expression_inner(&mut self, rbp: u8) -> Result<Node, JsonataError> {
        let t = self.next();
        let mut left = self.nud(t)?;
        while let Tok::Op(op) = self.peek().kind {
            let bp = binding_power(op);
            if bp <= rbp {
                break;
            }
            self.at += 1;
            left = self.led(op, left)?;
        }
        Ok(left)
    }

    fn nud(&mut self, t: Token) -> Result<Node, JsonataError> {
        Ok(match t.kind {
            Tok::Num(n) => Node::Num(n),
            Tok::Str(s) => Node::Str(s),
            Tok::Regex(p, f) => Node::Regex(p, f),
            Tok::Var(v) => Node::Var(v),
            Tok::Name(n) => match n.as_str() {
                "true" => Node::Bool(true),
                "false" => Node::Bool(false),
                "null" => Node::Null,
                "function" if self.is_op("(") => self.lambda()?,
                _ => Node::Name(n),
            },
            Tok::Op("-") => Node::Neg(Box::new(self.expression(70)?)),
            Tok::Op("*") => Node::Wildcard,
            Tok::Op("**") => Node::Descendants,
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
                Node::Block(items)
            }
            Tok::Op("[") => {
                let mut items = Vec::new();
                while !self.is_op("]") {
                    let item = self.expression(0)?;
                    if self.is_op("..") {
                        self.at += 1;
                        let end = self.expression(0)?;
                        items.push(Node::Range(Box::new(item), Box::new(end)));
                    } else {
                        items.push(item);
                    }
                    if !self.is_op(",") {
                        break;
                    }
                    self.at += 1;
                }
                self.expect("]")?;
                Node::Array(items)
            }
            Tok::Op("{") => Node::Object(self.object_body()?),
            Tok::Op(op) => {
                return Err(JsonataError::syntax(t.pos, &format!("unexpected '{op}'")));
            }
            Tok::End => return Err(JsonataError::syntax(t.pos, "unexpected end of expression")),
        })
    }

    fn object_body(&mut self) -> Result<Vec<(Node, Node)>, JsonataError> {
        let mut pairs = Vec::new();
        while !self.is_op("}") {
            let k = self.expression(0)?;
            self.expect(":")?;
            let v = self.expression(0)?;
            pairs.push((k, v));
            if !self.is_op(",") {
                break;
            }
            self.at += 1;
        }
        self.expect("}")?;
        Ok(pairs)
    }

    fn lambda(&mut self) -> Result<Node, JsonataError> {
        self.expect("(")?;
        let mut params = Vec::new();
        while !self.is_op(")") {
            let t = self.next();
            match t.kind {
                Tok::Var(v) => params.push(v),
                _ => return Err(JsonataError::syntax(t.pos, "expected a $parameter")),
            }
            if !self.is_op(",") {
                break;
            }
            self.at += 1;
        }
        self.expect(")")?;
        self.expect("{")?;
        let body = self.expression(0)?;
        self.expect("}")?;
        Ok(Node::Lambda(Rc::new(Lambda { params, body })))
    }

    fn led(&mut self, op: &'static str, left: Node) -> Result<Node, JsonataError> {
        Ok(match op {
            "." => {
                let right = self.expression(75)?;
                let mut steps = match left {
                    Node::Path(steps, _) => steps,
                    other => vec![other],
                };
                match right {
                    Node::Path(more, _) => steps.extend(more),
                    other => steps.push(other),
                }
                Node::Path(steps, false)
            }
            "[" => {
                if self.is_op("]") {
                    self.at += 1;
                    return Ok(match left {
                        Node::Path(steps, _) => Node::Path(steps, true),
                        other => Node::Path(vec![other], true),
                    });
                }
                let pred = self.expression(0)?;
                self.expect("]")?;
                // A predicate binds to the last step of a path.
                match left {
                    Node::Path(mut steps, keep) => {
                        if let Some(last) = steps.pop() {
                            steps.push(Node::Filter(Box::new(last), Box::new(pred)));
                        }
                        Node::Path(steps, keep)
                    }
                    other => Node::Filter(Box::new(other), Box::new(pred)),
                }
            }
            "(" => {
                let mut args = Vec::new();
                while !self.is_op(")") {
                    args.push(self.expression(0)?);
                    if !self.is_op(",") {
                        break;
                    }
                    self.at += 1;
                }
                self.expect(")")?;
                Node::Call(Box::new(left), args)
            }
            "?" => {
                let then = self.expression(0)?;
                let otherwise = if self.is_op(":") {
                    self.at += 1;
                    Some(Box::new(self.expression(0)?))
                } else {
                    None
                };
                Node::Cond(Box::new(left), Box::new(then), otherwise)
            }
            ":=" => {
                let Node::Var(name) = left else {
                    return Err(JsonataError::syntax(
                        self.peek().pos,
                        "the left side of := must be a $variable",
                    ));
                };
                // Right associative.
                Node::Bind(name, Box::new(self.expression(9)?))
            }
            "and" => Node::And(Box::new(left), Box::new(self.expression(30)?)),
            "or" => Node::Or(Box::new(left), Box::new(self.expression(25)?)),
            "~>" => Node::Chain(Box::new(left), Box::new(self.expression(40)?)),
            "{" => {
                return Err(JsonataError::syntax(
                    self.peek().pos,
                    "grouping with {...} after an expression is not supported",
                ));
            }
            _ => {
                let right = self.expression(binding_power(op))?;
                Node::Binary(op, Box::new(left), Box::new(right))
            }
        })
    }
}
