//! JSONata tokens: numbers, strings, names (plain or in backticks), `$variables`, operators,
//! regular expression literals and the keywords `and`, `or`, `in`, `true`, `false`, `null`,
//! `function`. Comments `/* ... */` are skipped.

use super::JsonataError;

/// One token and where it starts (byte offset).
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// What it is.
    pub kind: Tok,
    /// Byte offset in the expression.
    pub pos: usize,
}

/// Token kinds.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A number literal.
    Num(f64),
    /// A string literal (escapes resolved).
    Str(String),
    /// A field name (plain or backtick-quoted).
    Name(String),
    /// `$name`; `$` alone is the empty name, `$$` is `"$"`.
    Var(String),
    /// A regular expression literal: pattern and flags.
    Regex(String, String),
    /// An operator or punctuation.
    Op(&'static str),
    /// The end of the expression.
    End,
}

const OPS: [&str; 31] = [
    "..", ":=", "!=", "<=", ">=", "~>", "**", ".", "[", "]", "{", "}", "(", ")", ",", ":", ";",
    "?", "+", "-", "*", "/", "%", "&", "=", "<", ">", "^", "|", "@", "#",
];

/// Splits `src` into tokens. A lexical error ends the tokens there (with an end token at its
/// position) and is returned beside them: the parser reports it only if it gets that far, as
/// the reference implementation, which reads tokens on demand, does.
pub fn tokenize(src: &str) -> (Vec<Token>, Option<JsonataError>) {
    let mut out = Vec::new();
    match tokens_into(src, &mut out) {
        Ok(()) => (out, None),
        Err(e) => {
            out.push(Token {
                kind: Tok::End,
                pos: e.position.unwrap_or(src.len()),
            });
            (out, Some(e))
        }
    }
}

fn tokens_into(src: &str, out: &mut Vec<Token>) -> Result<(), JsonataError> {
    let b = src.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if src[i..].starts_with("/*") {
            match src[i + 2..].find("*/") {
                Some(end) => i += end + 4,
                None => return Err(JsonataError::lex("S0106", i, "Comment has no closing tag")),
            }
            continue;
        }
        let start = i;
        if c == b'/' && regex_allowed(out.last()) {
            let (tok, next) = regex(src, i)?;
            out.push(Token {
                kind: tok,
                pos: start,
            });
            i = next;
            continue;
        }
        if c.is_ascii_digit()
            || (c == b'.'
                && b.get(i + 1).is_some_and(u8::is_ascii_digit)
                && !after_value(out.last()))
        {
            let mut j = i;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            if j < b.len() && b[j] == b'.' && b.get(j + 1).is_some_and(u8::is_ascii_digit) {
                j += 1;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
            }
            if j < b.len() && (b[j] == b'e' || b[j] == b'E') {
                let mut k = j + 1;
                if k < b.len() && (b[k] == b'+' || b[k] == b'-') {
                    k += 1;
                }
                if k < b.len() && b[k].is_ascii_digit() {
                    while k < b.len() && b[k].is_ascii_digit() {
                        k += 1;
                    }
                    j = k;
                }
            }
            let n: f64 = src[i..j]
                .parse()
                .ok()
                .filter(|n: &f64| n.is_finite())
                .ok_or_else(|| JsonataError::lex("S0102", i, "Number out of range"))?;
            out.push(Token {
                kind: Tok::Num(n),
                pos: start,
            });
            i = j;
            continue;
        }
        if c == b'"' || c == b'\'' {
            let (s, next) = string(src, i)?;
            out.push(Token {
                kind: Tok::Str(s),
                pos: start,
            });
            i = next;
            continue;
        }
        if c == b'`' {
            match src[i + 1..].find('`') {
                Some(end) => {
                    out.push(Token {
                        kind: Tok::Name(src[i + 1..i + 1 + end].to_string()),
                        pos: start,
                    });
                    i += end + 2;
                }
                None => {
                    return Err(JsonataError::lex(
                        "S0105",
                        i,
                        "Quoted property name must be terminated with a backquote (`)",
                    ))
                }
            }
            continue;
        }
        if c == b'$' {
            let mut j = i + 1;
            if b.get(j) == Some(&b'$') {
                out.push(Token {
                    kind: Tok::Var("$".into()),
                    pos: start,
                });
                i = j + 1;
                continue;
            }
            while j < b.len() && is_name_byte(src, j) {
                j += next_char_len(src, j);
            }
            out.push(Token {
                kind: Tok::Var(src[i + 1..j].to_string()),
                pos: start,
            });
            i = j;
            continue;
        }
        if let Some(op) = OPS.iter().find(|op| src[i..].starts_with(**op)) {
            out.push(Token {
                kind: Tok::Op(op),
                pos: start,
            });
            i += op.len();
            continue;
        }
        if is_name_byte(src, i) {
            let mut j = i;
            while j < b.len() && is_name_byte(src, j) {
                j += next_char_len(src, j);
            }
            let word = &src[i..j];
            let kind = match word {
                "and" => Tok::Op("and"),
                "or" => Tok::Op("or"),
                "in" => Tok::Op("in"),
                _ => Tok::Name(word.to_string()),
            };
            out.push(Token { kind, pos: start });
            i = j;
            continue;
        }
        let ch = src[i..].chars().next().unwrap_or('?');
        return Err(JsonataError::lex(
            "S0204",
            i,
            &format!("Unknown operator: \"{ch}\""),
        ));
    }
    out.push(Token {
        kind: Tok::End,
        pos: src.len(),
    });
    Ok(())
}

fn next_char_len(src: &str, i: usize) -> usize {
    src[i..].chars().next().map_or(1, char::len_utf8)
}

fn is_name_byte(src: &str, i: usize) -> bool {
    src[i..]
        .chars()
        .next()
        .is_some_and(|c| c.is_alphanumeric() || c == '_')
}

/// After a value, `/` divides; elsewhere it starts a regex.
fn regex_allowed(prev: Option<&Token>) -> bool {
    !after_value(prev)
}

fn after_value(prev: Option<&Token>) -> bool {
    match prev.map(|t| &t.kind) {
        None => false,
        Some(Tok::Num(_) | Tok::Str(_) | Tok::Name(_) | Tok::Var(_) | Tok::Regex(..)) => true,
        Some(Tok::Op(op)) => matches!(*op, ")" | "]" | "}" | "*"),
        Some(Tok::End) => false,
    }
}

fn regex(src: &str, start: usize) -> Result<(Tok, usize), JsonataError> {
    let mut pattern = String::new();
    let mut chars = src[start + 1..].char_indices();
    let mut in_class = false;
    while let Some((k, c)) = chars.next() {
        match c {
            '\\' => {
                pattern.push('\\');
                if let Some((_, n)) = chars.next() {
                    pattern.push(n);
                }
            }
            '[' => {
                in_class = true;
                pattern.push(c);
            }
            ']' => {
                in_class = false;
                pattern.push(c);
            }
            '/' if !in_class => {
                let mut j = start + 1 + k + 1;
                let flags_start = j;
                while j < src.len() && matches!(src.as_bytes()[j], b'i' | b'm') {
                    j += 1;
                }
                if pattern.is_empty() {
                    return Err(JsonataError::lex(
                        "S0301",
                        start,
                        "Empty regular expressions are not allowed",
                    ));
                }
                return Ok((Tok::Regex(pattern, src[flags_start..j].to_string()), j));
            }
            c => pattern.push(c),
        }
    }
    Err(JsonataError::lex(
        "S0302",
        start,
        "No terminating / in regular expression",
    ))
}

fn string(src: &str, start: usize) -> Result<(String, usize), JsonataError> {
    let quote = src.as_bytes()[start] as char;
    let mut out = String::new();
    let mut chars = src[start + 1..].char_indices();
    while let Some((k, c)) = chars.next() {
        if c == quote {
            return Ok((out, start + 1 + k + 1));
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some((_, e)) = chars.next() else { break };
        match e {
            '"' | '\\' | '/' | '\'' => out.push(e),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'u' => {
                let hex: String = (0..4)
                    .filter_map(|_| chars.next().map(|(_, h)| h))
                    .collect();
                let code = u32::from_str_radix(&hex, 16).map_err(|_| {
                    JsonataError::lex(
                        "S0104",
                        start + 1 + k,
                        "The escape sequence \\u must be followed by 4 hex digits",
                    )
                })?;
                // Surrogate pairs: combine with a following \uXXXX.
                if (0xD800..0xDC00).contains(&code) {
                    let rest = chars.as_str();
                    if let Some(low) = rest
                        .strip_prefix("\\u")
                        .and_then(|r| r.get(..4))
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .filter(|l| (0xDC00..0xE000).contains(l))
                    {
                        for _ in 0..6 {
                            chars.next();
                        }
                        let c = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                        out.push(char::from_u32(c).unwrap_or('\u{FFFD}'));
                        continue;
                    }
                }
                out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
            }
            _ => {
                return Err(JsonataError::lex(
                    "S0103",
                    start + 1 + k,
                    &format!("Unsupported escape sequence: \\{e}"),
                ))
            }
        }
    }
    Err(JsonataError::lex(
        "S0101",
        start,
        "String literal must be terminated by a matching quote",
    ))
}
