//! Path evaluation: steps over sequences (flattening, singleton collapse, kept arrays),
//! tuple streams for the `@` focus, `#` index and `%` parent bindings, predicates and index
//! stages, sorting `^(...)` and grouping `{...}`.

use std::rc::Rc;

use indexmap::IndexMap;

use super::ast::{Group, Kind as N, Node, Stage};
use super::eval::{Evaluator, R};
use super::value::{stringify, truthy, Frame, Kind, Tuple, V};
use super::JsonataError;

/// One group being collected: which key/value pair made it, and its items or tuples.
type GroupEntry = (usize, Vec<Option<V>>, Vec<Tuple>);

/// A frame binding a tuple's variables.
fn tuple_frame(frame: &Frame, t: &Tuple) -> Frame {
    let f = Frame::child(frame);
    for (k, v) in &t.vars {
        f.bind(k, v.clone());
    }
    f
}

impl Evaluator<'_> {
    /// Evaluates a path node.
    pub fn path(&mut self, node: &Node, ctx: Option<&V>, frame: &Frame) -> R {
        let N::Path(steps) = &node.kind else {
            return Ok(None);
        };
        let first_is_var = steps.first().is_some_and(|s| matches!(s.kind, N::Var(_)));
        let mut input: Vec<V> = match ctx {
            Some(V::Arr(a, _)) if !first_is_var => a.to_vec(),
            Some(V::Tuples(t)) if !first_is_var => t.iter().map(|x| x.at.clone()).collect(),
            Some(v) => vec![v.clone()],
            None => Vec::new(),
        };
        // `createSequence(undefined)` holds one undefined item: steps still run once.
        let undefined_input = ctx.is_none();
        let mut result: Vec<V> = Vec::new();
        let mut result_kind = Kind::Seq;
        let mut tuples: Option<Vec<Tuple>> = None;
        let mut is_tuple = false;
        for (i, step) in steps.iter().enumerate() {
            if step.tuple {
                is_tuple = true;
            }
            if i == 0 && step.cons_array {
                let v = self.eval(step, ctx_for(ctx, &input, undefined_input).as_ref(), frame)?;
                match v {
                    None => result = Vec::new(),
                    Some(V::Arr(a, k)) => {
                        result = a.to_vec();
                        result_kind = k;
                    }
                    Some(v) => result = vec![v],
                }
            } else if is_tuple {
                let t = self.tuple_step(
                    step,
                    &input,
                    undefined_input && i == 0,
                    tuples.take(),
                    frame,
                )?;
                tuples = Some(t);
            } else {
                let (r, k) = self.step(
                    step,
                    &input,
                    undefined_input && i == 0,
                    frame,
                    i + 1 == steps.len(),
                )?;
                result = r;
                result_kind = k;
            }
            if !is_tuple && result.is_empty() {
                break;
            }
            if step.focus.is_none() {
                if is_tuple {
                    if let Some(t) = &tuples {
                        input = t.iter().map(|x| x.at.clone()).collect();
                    }
                } else {
                    input = result.clone();
                }
            }
        }
        if is_tuple {
            let t = tuples.unwrap_or_default();
            if node.tuple {
                let v = V::Tuples(Rc::new(t));
                return self.path_group(node, Some(v), frame);
            }
            result = t.iter().map(|x| x.at.clone()).collect();
            result_kind = Kind::Seq;
            if node.group.is_some() {
                return self.path_group(node, Some(V::Tuples(Rc::new(t))), frame);
            }
        }
        let mut out = V::arr(result, result_kind);
        if node.keep_singleton_array {
            out = match out {
                V::Arr(a, Kind::Cons) => V::arr(vec![V::Arr(a, Kind::Cons)], Kind::SeqKeep),
                V::Arr(a, k) if k.is_seq() => V::Arr(a, Kind::SeqKeep),
                // A plain array result of the last step stays as it is.
                other => other,
            };
        }
        if node.group.is_some() {
            return self.path_group(node, Some(out), frame);
        }
        Ok(Some(out))
    }

    fn path_group(&mut self, node: &Node, v: Option<V>, frame: &Frame) -> R {
        match &node.group {
            Some(g) => self.group(g, v, frame),
            None => Ok(v),
        }
    }

    /// One step over every item of the input sequence.
    fn step(
        &mut self,
        step: &Node,
        input: &[V],
        undefined_input: bool,
        frame: &Frame,
        last: bool,
    ) -> Result<(Vec<V>, Kind), JsonataError> {
        if let N::Sort(_) = step.kind {
            let sorted = self.sort(step, input.to_vec(), frame)?;
            let mut r = Some(sorted);
            for stage in &step.stages {
                if let Stage::Filter(p) = stage {
                    r = Some(self.filter(p, r, frame)?);
                }
            }
            return Ok((r.map(|v| v.items()).unwrap_or_default(), Kind::Seq));
        }
        let mut results: Vec<V> = Vec::new();
        let items: Vec<Option<&V>> = if undefined_input {
            vec![None]
        } else {
            input.iter().map(Some).collect()
        };
        for item in items {
            let mut res = self.eval(step, item, frame)?;
            for stage in &step.stages {
                if let Stage::Filter(p) = stage {
                    res = Some(self.filter(p, res, frame)?);
                }
            }
            if let Some(r) = res {
                results.push(r);
            }
        }
        if last && results.len() == 1 {
            if let V::Arr(a, k) = &results[0] {
                if !k.is_seq() {
                    return Ok((a.to_vec(), *k));
                }
            }
        }
        let mut out = Vec::with_capacity(results.len());
        for r in results {
            match r {
                V::Arr(a, k) if k != Kind::Cons => out.extend(a.iter().cloned()),
                V::Tuples(_) => out.extend(r.items()),
                other => out.push(other),
            }
        }
        Ok((out, Kind::Seq))
    }

    /// One step of a tuple stream.
    fn tuple_step(
        &mut self,
        step: &Node,
        input: &[V],
        undefined_input: bool,
        tuples: Option<Vec<Tuple>>,
        frame: &Frame,
    ) -> Result<Vec<Tuple>, JsonataError> {
        if let N::Sort(_) = step.kind {
            let mut result = match tuples {
                Some(t) => match self.sort(step, vec![V::Tuples(Rc::new(t))], frame)? {
                    V::Tuples(t) => t.to_vec(),
                    other => other
                        .items()
                        .into_iter()
                        .map(|at| Tuple {
                            at,
                            vars: Vec::new(),
                        })
                        .collect(),
                },
                None => {
                    let sorted = self.sort(step, input.to_vec(), frame)?;
                    sorted
                        .items()
                        .into_iter()
                        .enumerate()
                        .map(|(i, at)| {
                            let mut t = Tuple {
                                at,
                                vars: Vec::new(),
                            };
                            if let Some(ix) = &step.index {
                                t.set(ix, V::Num(i as f64));
                            }
                            t
                        })
                        .collect()
                }
            };
            result = self.stages(&step.stages, result, frame)?;
            return Ok(result);
        }
        let bindings: Vec<Tuple> = match tuples {
            Some(t) => t,
            None if undefined_input => Vec::new(),
            None => input
                .iter()
                .map(|x| Tuple {
                    at: x.clone(),
                    vars: Vec::new(),
                })
                .collect(),
        };
        let mut result = Vec::new();
        for t in &bindings {
            let env = tuple_frame(frame, t);
            let res = self.eval(step, Some(&t.at), &env)?;
            let Some(res) = res else { continue };
            match res {
                V::Tuples(inner) => {
                    for x in inner.iter() {
                        let mut nt = t.clone();
                        nt.at = x.at.clone();
                        for (k, v) in &x.vars {
                            nt.set(k, v.clone());
                        }
                        result.push(nt);
                    }
                }
                other => {
                    let items = match other {
                        V::Arr(a, _) => a.to_vec(),
                        v => vec![v],
                    };
                    for (bb, v) in items.into_iter().enumerate() {
                        let mut nt = t.clone();
                        if let Some(f) = &step.focus {
                            nt.set(f, v);
                        } else {
                            nt.at = v;
                        }
                        if let Some(ix) = &step.index {
                            nt.set(ix, V::Num(bb as f64));
                        }
                        if let Some(anc) = &step.ancestor {
                            let label = anc.borrow().label.clone();
                            nt.set(&label, t.at.clone());
                        }
                        result.push(nt);
                    }
                }
            }
        }
        self.stages(&step.stages, result, frame)
    }

    fn stages(
        &mut self,
        stages: &[Stage],
        mut result: Vec<Tuple>,
        frame: &Frame,
    ) -> Result<Vec<Tuple>, JsonataError> {
        for stage in stages {
            match stage {
                Stage::Filter(p) => {
                    let v = self.filter(p, Some(V::Tuples(Rc::new(result))), frame)?;
                    result = match v {
                        V::Tuples(t) => t.to_vec(),
                        _ => Vec::new(),
                    };
                }
                Stage::Index(name) => {
                    for (i, t) in result.iter_mut().enumerate() {
                        t.set(name, V::Num(i as f64));
                    }
                }
            }
        }
        Ok(result)
    }

    /// `[predicate]` over a value (a sequence, array, tuple stream or single value).
    pub fn filter(
        &mut self,
        pred: &Node,
        input: Option<V>,
        frame: &Frame,
    ) -> Result<V, JsonataError> {
        if let Some(V::Tuples(t)) = &input {
            let len = t.len() as i64;
            let mut out = Vec::new();
            if let N::Num(n) = pred.kind {
                if let Some(i) = index_of(n, len) {
                    out.extend(t.get(i).cloned());
                }
                return Ok(V::Tuples(Rc::new(out)));
            }
            for (index, item) in t.iter().enumerate() {
                let env = tuple_frame(frame, item);
                let r = self.eval(pred, Some(&item.at), &env)?;
                if keep(&r, index, len) {
                    out.push(item.clone());
                }
            }
            return Ok(V::Tuples(Rc::new(out)));
        }
        let items: Vec<V> = match input {
            None => Vec::new(),
            Some(V::Arr(a, _)) => a.to_vec(),
            Some(v) => vec![v],
        };
        let len = items.len() as i64;
        if let N::Num(n) = pred.kind {
            return Ok(match index_of(n, len).and_then(|i| items.get(i)) {
                Some(V::Arr(a, k)) => V::Arr(a.clone(), *k),
                Some(v) => V::arr(vec![v.clone()], Kind::Seq),
                None => V::arr(Vec::new(), Kind::Seq),
            });
        }
        let mut out = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let r = self.eval(pred, Some(item), frame)?;
            if keep(&r, index, len) {
                out.push(item.clone());
            }
        }
        Ok(V::arr(out, Kind::Seq))
    }

    /// `^(terms)` over the input: a stable merge sort.
    pub fn sort(&mut self, node: &Node, input: Vec<V>, frame: &Frame) -> Result<V, JsonataError> {
        let N::Sort(terms) = &node.kind else {
            return Ok(V::arr(input, Kind::Seq));
        };
        let (items, tuples): (Vec<V>, bool) = match input.as_slice() {
            [V::Tuples(t)] => (
                t.iter()
                    .map(|x| V::Tuples(Rc::new(vec![x.clone()])))
                    .collect(),
                true,
            ),
            _ => (input, false),
        };
        // Sort keys per item and term, evaluated once.
        let mut keys: Vec<Vec<Option<V>>> = Vec::with_capacity(items.len());
        for item in &items {
            let mut k = Vec::with_capacity(terms.len());
            for term in terms {
                let v = match item {
                    V::Tuples(t) if tuples => {
                        let env = tuple_frame(frame, &t[0]);
                        self.eval(&term.expr, Some(&t[0].at), &env)?
                    }
                    _ => self.eval(&term.expr, Some(item), frame)?,
                };
                k.push(v);
            }
            keys.push(k);
        }
        let mut err = None;
        let mut order: Vec<usize> = (0..items.len()).collect();
        order.sort_by(|&a, &b| {
            use std::cmp::Ordering;
            for (t, term) in terms.iter().enumerate() {
                let (x, y) = (&keys[a][t], &keys[b][t]);
                let o = match (x, y) {
                    (None, None) => Ordering::Equal,
                    (None, _) => Ordering::Greater,
                    (_, None) => Ordering::Less,
                    (Some(V::Num(p)), Some(V::Num(q))) => p.partial_cmp(q).unwrap_or(Ordering::Equal),
                    (Some(V::Str(p)), Some(V::Str(q))) => p.encode_utf16().cmp(q.encode_utf16()),
                    (Some(p), Some(q)) => {
                        let ok = |v: &V| matches!(v, V::Num(_) | V::Str(_));
                        if err.is_none() {
                            err = Some(if !ok(p) || !ok(q) {
                                JsonataError::at(
                                    "T2008",
                                    node.pos,
                                    "The expressions within an order-by clause must evaluate to numeric or string values",
                                )
                            } else {
                                JsonataError::at(
                                    "T2007",
                                    node.pos,
                                    "Type mismatch within order-by clause. All values must be of the same type",
                                )
                            });
                        }
                        Ordering::Equal
                    }
                };
                let o = if term.descending && x.is_some() && y.is_some() {
                    o.reverse()
                } else {
                    o
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        });
        if let Some(e) = err {
            return Err(e);
        }
        if tuples {
            let out: Vec<Tuple> = order
                .into_iter()
                .filter_map(|i| match &items[i] {
                    V::Tuples(t) => t.first().cloned(),
                    _ => None,
                })
                .collect();
            return Ok(V::Tuples(Rc::new(out)));
        }
        Ok(V::arr(
            order.into_iter().map(|i| items[i].clone()).collect(),
            Kind::Seq,
        ))
    }

    /// `{key: value}` grouping of `input` (also the plain object constructor).
    pub fn group(&mut self, g: &Rc<Group>, input: Option<V>, frame: &Frame) -> R {
        let reduce = matches!(input, Some(V::Tuples(_)));
        enum Item {
            Plain(Option<V>),
            Tup(Tuple),
        }
        let items: Vec<Item> = match input {
            Some(V::Tuples(t)) => t.iter().cloned().map(Item::Tup).collect(),
            Some(V::Arr(a, _)) => a.iter().cloned().map(|v| Item::Plain(Some(v))).collect(),
            other => vec![Item::Plain(other)],
        };
        let items = if items.is_empty() {
            vec![Item::Plain(None)]
        } else {
            items
        };
        // key -> (pair index, data or tuples)
        let mut groups: IndexMap<String, GroupEntry> = IndexMap::new();
        for item in &items {
            for (pi, (k, _)) in g.pairs.iter().enumerate() {
                let key = match item {
                    Item::Tup(t) => {
                        let env = tuple_frame(frame, t);
                        self.eval(k, Some(&t.at), &env)?
                    }
                    Item::Plain(v) => self.eval(k, v.as_ref(), frame)?,
                };
                let key = match key {
                    None => continue,
                    Some(V::Str(s)) => s.to_string(),
                    Some(other) => {
                        return Err(JsonataError::at(
                            "T1003",
                            g.pos,
                            &format!(
                                "Key in object structure must evaluate to a string; got: {}",
                                stringify(&other)
                            ),
                        ))
                    }
                };
                match groups.get_mut(&key) {
                    Some(entry) => {
                        if entry.0 != pi {
                            return Err(JsonataError::at(
                                "D1009",
                                g.pos,
                                &format!("Multiple key definitions evaluate to same key: {key}"),
                            ));
                        }
                        match item {
                            Item::Tup(t) => entry.2.push(t.clone()),
                            Item::Plain(v) => entry.1.push(v.clone()),
                        }
                    }
                    None => {
                        let entry = match item {
                            Item::Tup(t) => (pi, Vec::new(), vec![t.clone()]),
                            Item::Plain(v) => (pi, vec![v.clone()], Vec::new()),
                        };
                        groups.insert(key, entry);
                    }
                }
            }
        }
        let mut out = IndexMap::new();
        for (key, (pi, data, tuples)) in groups {
            let value_expr = &g.pairs[pi].1;
            let v = if reduce {
                let (at, vars) = reduce_tuples(&tuples);
                let env = Frame::child(frame);
                for (k, v) in vars {
                    env.bind_opt(&k, v);
                }
                self.eval(value_expr, at.as_ref(), &env)?
            } else {
                let data = append_all(data);
                self.eval(value_expr, data.as_ref(), frame)?
            };
            if let Some(v) = v {
                out.insert(key, v);
            }
        }
        Ok(Some(V::obj(out)))
    }
}

/// `append` over many values in one pass: undefined ones skipped, one value as it is, several
/// concatenated (arrays spliced) into a plain array.
fn append_all(parts: Vec<Option<V>>) -> Option<V> {
    let mut defined: Vec<V> = parts.into_iter().flatten().collect();
    match defined.len() {
        0 => None,
        1 => defined.pop(),
        _ => {
            let mut items = Vec::new();
            for v in defined {
                match v {
                    V::Arr(a, _) => items.extend(a.iter().cloned()),
                    other => items.push(other),
                }
            }
            Some(V::arr(items, Kind::Plain))
        }
    }
}

/// Merges the tuples of one group: each variable's values appended in order.
fn reduce_tuples(tuples: &[Tuple]) -> (Option<V>, Vec<(String, Option<V>)>) {
    let at = append_all(tuples.iter().map(|t| Some(t.at.clone())).collect());
    let mut names: Vec<String> = Vec::new();
    let mut parts: Vec<Vec<Option<V>>> = Vec::new();
    for t in tuples {
        for (k, v) in &t.vars {
            match names.iter().position(|n| **n == **k) {
                Some(i) => parts[i].push(Some(v.clone())),
                None => {
                    names.push(k.to_string());
                    parts.push(vec![Some(v.clone())]);
                }
            }
        }
    }
    let vars = names
        .into_iter()
        .zip(parts)
        .map(|(n, p)| (n, append_all(p)))
        .collect();
    (at, vars)
}

fn ctx_for(ctx: Option<&V>, _input: &[V], _undefined: bool) -> Option<V> {
    ctx.cloned()
}

fn index_of(n: f64, len: i64) -> Option<usize> {
    let mut i = n.floor() as i64;
    if i < 0 {
        i = i.saturating_add(len);
    }
    usize::try_from(i).ok()
}

/// Whether a predicate result keeps the item at `index`.
fn keep(r: &Option<V>, index: usize, len: i64) -> bool {
    let matches = |n: f64| index_of(n, len) == Some(index);
    match r {
        Some(V::Num(n)) => matches(*n),
        Some(V::Arr(a, _)) if !a.is_empty() && a.iter().all(|x| matches!(x, V::Num(_))) => {
            a.iter().any(|x| matches!(x, V::Num(n) if matches(*n)))
        }
        other => truthy(other.as_ref()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_all_splices_arrays_and_keeps_a_single_value() {
        let arr = V::arr(vec![V::Num(2.0), V::Num(3.0)], Kind::Plain);
        let all = append_all(vec![Some(V::Num(1.0)), None, Some(arr.clone())]);
        assert_eq!(all.map(|v| v.items().len()), Some(3));
        let one = append_all(vec![None, Some(arr)]);
        assert!(matches!(one, Some(V::Arr(a, _)) if a.len() == 2));
        assert!(append_all(vec![None]).is_none());
    }
}
