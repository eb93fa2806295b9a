//! JSONata benchmark (jsonata issue): a mixed set of expressions (paths, predicates, sorting,
//! grouping, string and numeric functions) over a ~1 MB document, evaluated by the engine's
//! evaluator (document converted once, each expression evaluated many times) and, in the same
//! run, by the reference implementation, `jsonata@2.0.6` from npm on Node (parse once,
//! evaluate many), which the test script installs into `.cache/node/`. Medians of
//! `JSONATA_BENCH_RUNS` (20) evaluations each; the two results are compared too.
//!
//! `cargo bench -p feedpipe-tests --bench jsonata` (after `./scripts/test` has installed the npm
//! tools once; `FEEDPIPE_NODE_MODULES` names another `node_modules`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::{json, Value};
use statemachine::eval::jsonata::{evaluate_prepared, DocumentOptions, Prepared};
use statemachine::eval::SeededRandom;

const EXPRESSIONS: &[&str] = &[
    "Account.Order.Product.Price",
    "$sum(Account.Order.Product.(Price * Quantity))",
    "Account.Order[OrderID = 'order1042'].Product.SKU",
    "Account.Order.Product[Price > 90 and Quantity >= 3].ProductID",
    "$count(Account.Order.Product[Description.Colour = 'Purple'])",
    "Account.Order^(>OrderID)[[0..9]].OrderID",
    "Account.Order.Product^(Price, >Quantity)[0].`Product Name`",
    "Account.Order.Product{`Product Name`: $sum(Price)}",
    "Account.Order.Product{Description.Colour: $count(ProductID)}",
    "$distinct(Account.Order.Product.Description.Colour) ~> $sort()",
    "$join(Account.Order[[0..19]].Product.$uppercase(`Product Name`), ', ')",
    "Account.Order.Product.$formatNumber(Price, '#,##0.00')",
    "$average(Account.Order.Product.Description.Weight)",
    "$max(Account.Order.Product.(Price * Quantity)) - $min(Account.Order.Product.Price)",
    "Account.Order.Product[$contains(SKU, '99')].$substring(SKU, 0, 4)",
    "$map(Account.Order[[0..49]], function($o) { $o.OrderID & ': ' & $string($sum($o.Product.Quantity)) })",
];

/// A deterministic document of orders and products, about 1 MB of JSON.
fn document() -> Value {
    let colours = ["Purple", "Orange", "Black", "White", "Green", "Blue"];
    let names = [
        "Bowler Hat",
        "Trilby hat",
        "Cloak",
        "Scarf",
        "Gloves",
        "Umbrella",
        "Cane",
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let orders: Vec<Value> = (0..1_700)
        .map(|o| {
            let products: Vec<Value> = (0..3)
                .map(|p| {
                    let id = 800 + next(400);
                    json!({
                        "Product Name": names[next(names.len() as u64) as usize],
                        "ProductID": id,
                        "SKU": format!("{:07}", next(10_000_000)),
                        "Description": {
                            "Colour": colours[next(colours.len() as u64) as usize],
                            "Width": 100 + next(300),
                            "Height": 50 + next(200),
                            "Depth": 10 + next(300),
                            "Weight": (next(5000) as f64) / 1000.0
                        },
                        "Price": (next(20_000) as f64) / 100.0,
                        "Quantity": 1 + next(6) + p,
                    })
                })
                .collect();
            json!({"OrderID": format!("order{}", 1000 + o), "Product": products})
        })
        .collect();
    json!({"Account": {"Account Name": "Firefly", "Order": orders}})
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn node_modules(root: &Path) -> PathBuf {
    std::env::var_os("FEEDPIPE_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".cache/node/node_modules"))
}

/// Numbers as f64, so 2 and 2.0 compare equal.
fn normalize(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64().unwrap_or(0.0)),
        Value::Array(a) => Value::Array(a.iter().map(normalize).collect()),
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), normalize(v))).collect())
        }
        other => other.clone(),
    }
}

fn main() {
    let runs: usize = std::env::var("JSONATA_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = root.join("target/bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    let doc = document();
    let doc_path = dir.join("jsonata-document.json");
    let doc_text = serde_json::to_string(&doc).unwrap();
    std::fs::write(&doc_path, &doc_text).unwrap();
    let expr_path = dir.join("jsonata-expressions.json");
    std::fs::write(&expr_path, serde_json::to_string(EXPRESSIONS).unwrap()).unwrap();
    println!(
        "document: {:.2} MB of JSON; {} expressions, median of {runs} evaluations each",
        doc_text.len() as f64 / 1e6,
        EXPRESSIONS.len()
    );

    let prepared = Prepared::new(Some(&doc));
    let bindings = serde_json::Map::new();
    let random = SeededRandom::new(7);
    let options = DocumentOptions {
        bindings: &bindings,
        now: "2026-12-02T12:00:00.000Z",
        random: &random,
        max_depth: 500,
        max_steps: u64::MAX / 2,
    };
    let mut ours = Vec::new();
    for expr in EXPRESSIONS {
        let result = evaluate_prepared(expr, &prepared, &options)
            .unwrap_or_else(|e| panic!("{expr}: {e:?}"));
        let _ = evaluate_prepared(expr, &prepared, &options);
        let times: Vec<f64> = (0..runs)
            .map(|_| {
                let t = Instant::now();
                let _ = evaluate_prepared(expr, &prepared, &options);
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        ours.push((median(times), result.unwrap_or(Value::Null)));
    }

    let reference = Command::new("node")
        .arg(root.join("tests/benches/jsonata_reference.js"))
        .arg(&doc_path)
        .arg(&expr_path)
        .arg(runs.to_string())
        .env("NODE_PATH", node_modules(&root))
        .output();
    let reference: Option<Vec<Value>> = match reference {
        Ok(out) if out.status.success() => Some(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect(),
        ),
        Ok(out) => {
            println!(
                "the reference did not run (install it with ./scripts/test once): {}",
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .next()
                    .unwrap_or("")
            );
            None
        }
        Err(e) => {
            println!("node did not start: {e}");
            None
        }
    };

    println!(
        "{:>9} {:>11} {:>7}  expression",
        "ours ms", "jsonata ms", "ratio"
    );
    let mut slower = 0;
    for (i, expr) in EXPRESSIONS.iter().enumerate() {
        let (ms, result) = &ours[i];
        match reference.as_ref().map(|r| &r[i]) {
            Some(r) => {
                let theirs = r["median_ms"].as_f64().unwrap_or(f64::NAN);
                let same = normalize(result) == normalize(&r["result"]);
                if *ms > theirs {
                    slower += 1;
                }
                println!(
                    "{ms:>9.3} {theirs:>11.3} {:>7.2}  {expr}{}",
                    theirs / ms,
                    if same { "" } else { "   (results differ)" }
                );
            }
            None => println!("{ms:>9.3} {:>11} {:>7}  {expr}", "-", "-"),
        }
    }
    if reference.is_some() {
        println!(
            "faster than the reference on {} of {} expressions (target: all)",
            EXPRESSIONS.len() - slower,
            EXPRESSIONS.len()
        );
    }
}
