//! Function signatures (`<s-nn?:s>`): parsed into parameters and a pattern over the arguments'
//! type letters, then used to check a call's arguments (`T0410`, `T0411`, `T0412`), fill a
//! missing first argument from the context (`-`), and wrap single values where an array is
//! expected.

use std::rc::Rc;

use super::value::{Kind, V};
use super::JsonataError;

/// One declared parameter.
#[derive(Debug, Clone)]
struct Param {
    /// The pattern of letters it accepts (`[sm]`, `f`, ...), with `?`/`+` appended.
    regex: String,
    /// Its type letter or `(choice)`.
    kind: String,
    /// `-`: takes the context when missing.
    context: bool,
    /// The pattern the context must match.
    context_regex: Option<Rc<regress::Regex>>,
    /// `a<n>`: the type of the array's items.
    subtype: Option<String>,
}

/// A parsed signature.
#[derive(Debug, Clone)]
pub struct Signature {
    params: Vec<Param>,
    regex: Rc<regress::Regex>,
}

/// The type letter of a value: `s n b l a o f`, `m` for missing.
pub fn symbol(v: Option<&V>) -> char {
    match v {
        None => 'm',
        Some(v) => match v {
            V::Str(_) => 's',
            V::Num(_) => 'n',
            V::Bool(_) => 'b',
            V::Null => 'l',
            V::Arr(..) => 'a',
            V::Obj(_) => 'o',
            _ if v.is_function() => 'f',
            _ => 'o',
        },
    }
}

impl Signature {
    /// Parses `<...>` signature text.
    pub fn parse(sig: &str) -> Result<Signature, JsonataError> {
        let chars: Vec<char> = sig.chars().collect();
        let mut params: Vec<Param> = Vec::new();
        let mut pos = 1;
        let new = |regex: String, kind: String| Param {
            regex,
            kind,
            context: false,
            context_regex: None,
            subtype: None,
        };
        while pos < chars.len() {
            let c = chars[pos];
            if c == ':' {
                break;
            }
            match c {
                's' | 'n' | 'b' | 'l' | 'o' => params.push(new(format!("[{c}m]"), c.to_string())),
                'a' => params.push(new("[asnblfom]".into(), "a".into())),
                'f' => params.push(new("f".into(), "f".into())),
                'j' => params.push(new("[asnblom]".into(), "j".into())),
                'x' => params.push(new("[asnblfom]".into(), "x".into())),
                '-' => {
                    if let Some(p) = params.last_mut() {
                        p.context = true;
                        p.context_regex = regress::Regex::new(&format!("^{}$", p.regex))
                            .ok()
                            .map(Rc::new);
                        p.regex.push('?');
                    }
                }
                '?' | '+' => {
                    if let Some(p) = params.last_mut() {
                        p.regex.push(c);
                    }
                }
                '(' => {
                    let end = closing(&chars, pos, '(', ')');
                    let choice: String = chars[pos + 1..end].iter().collect();
                    if choice.contains('<') {
                        return Err(JsonataError::new(
                            "S0402",
                            "Choice groups containing parameterized types are not supported",
                        ));
                    }
                    params.push(new(format!("[{choice}m]"), format!("({choice})")));
                    pos = end;
                }
                '<' => {
                    let ok = params
                        .last()
                        .is_some_and(|p| p.kind == "a" || p.kind == "f");
                    if !ok {
                        return Err(JsonataError::new(
                            "S0401",
                            "Type parameters can only be applied to functions and arrays",
                        ));
                    }
                    let end = closing(&chars, pos, '<', '>');
                    let sub: String = chars[pos + 1..end].iter().collect();
                    if let Some(p) = params.last_mut() {
                        p.subtype = Some(sub);
                    }
                    pos = end;
                }
                _ => {}
            }
            pos += 1;
        }
        let pattern = format!(
            "^{}$",
            params
                .iter()
                .map(|p| format!("({})", p.regex))
                .collect::<String>()
        );
        let regex = regress::Regex::new(&pattern).map_err(|e| {
            JsonataError::new("S0401", &format!("Invalid function signature {sig}: {e}"))
        })?;
        Ok(Signature {
            params,
            regex: Rc::new(regex),
        })
    }

    /// How many parameters are neither optional nor filled from the context (what the
    /// reference implementation's functions declare, and so what `$map` passes them).
    pub fn required(&self) -> usize {
        self.params
            .iter()
            .filter(|p| p.context || !p.regex.ends_with('?'))
            .count()
            .max(1)
    }

    /// Checks `args` (with `context` for `-` parameters) and returns the arguments to call with.
    pub fn validate(
        &self,
        args: &[Option<V>],
        context: Option<&V>,
        name: &str,
    ) -> Result<Vec<Option<V>>, JsonataError> {
        let supplied: String = args.iter().map(|a| symbol(a.as_ref())).collect();
        let Some(m) = self.regex.find(&supplied) else {
            return Err(self.mismatch(args, &supplied, name));
        };
        let mut out = Vec::new();
        let mut at = 0;
        for (i, p) in self.params.iter().enumerate() {
            let matched = m.group(i + 1).map(|r| &supplied[r]).unwrap_or("");
            if matched.is_empty() {
                if p.context {
                    let t = symbol(context).to_string();
                    let ok = p
                        .context_regex
                        .as_ref()
                        .is_some_and(|r| r.find(&t).is_some());
                    if ok {
                        out.push(context.cloned());
                    } else {
                        return Err(JsonataError::new(
                            "T0411",
                            &format!(
                                "Context value is not a compatible type with argument {} of function \"{name}\"",
                                at + 1
                            ),
                        ));
                    }
                } else {
                    out.push(args.get(at).cloned().flatten());
                    at += 1;
                }
                continue;
            }
            for single in matched.chars() {
                let arg = args.get(at).cloned().flatten();
                if p.kind == "a" {
                    if single == 'm' {
                        out.push(None);
                        at += 1;
                        continue;
                    }
                    let mut ok = true;
                    if let Some(sub) = &p.subtype {
                        if single != 'a' && matched != sub {
                            ok = false;
                        } else if single == 'a' {
                            if let Some(V::Arr(items, _)) = &arg {
                                if let Some(first) = items.first() {
                                    let t = symbol(Some(first));
                                    ok = sub.starts_with(t)
                                        && items.iter().all(|x| symbol(Some(x)) == t);
                                }
                            }
                        }
                    }
                    if !ok {
                        let what = match p.subtype.as_deref() {
                            Some("n") => "numbers",
                            Some("s") => "strings",
                            Some("b") => "booleans",
                            Some("o") => "objects",
                            Some("a") => "arrays",
                            Some("f") => "functions",
                            _ => "values",
                        };
                        return Err(JsonataError::new(
                            "T0412",
                            &format!(
                                "Argument {} of function \"{name}\" must be an array of {what}",
                                at + 1
                            ),
                        ));
                    }
                    let arg = match (single, arg) {
                        ('a', a) => a,
                        (_, Some(v)) => Some(V::arr(vec![v], Kind::Plain)),
                        (_, None) => None,
                    };
                    out.push(arg);
                } else {
                    out.push(arg);
                }
                at += 1;
            }
        }
        Ok(out)
    }

    fn mismatch(&self, _args: &[Option<V>], supplied: &str, name: &str) -> JsonataError {
        let mut partial = String::from("^");
        let mut good = 0;
        for p in &self.params {
            partial.push('(');
            partial.push_str(&p.regex);
            partial.push(')');
            let m = regress::Regex::new(&partial)
                .ok()
                .and_then(|r| r.find(supplied).map(|m| m.end()));
            match m {
                None => break,
                Some(end) => good = end,
            }
        }
        JsonataError::new(
            "T0410",
            &format!(
                "Argument {} of function \"{name}\" does not match function signature",
                good + 1
            ),
        )
    }
}

fn closing(chars: &[char], start: usize, open: char, close: char) -> usize {
    let mut depth = 1;
    let mut pos = start;
    while pos + 1 < chars.len() {
        pos += 1;
        if chars[pos] == open {
            depth += 1;
        } else if chars[pos] == close {
            depth -= 1;
            if depth == 0 {
                break;
            }
        }
    }
    pos
}
