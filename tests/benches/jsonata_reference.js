// The reference side of `cargo bench -p feedpipe-tests --bench jsonata`: evaluates each
// expression with jsonata 2.0.6 (npm) on the same document, parse once, evaluate many, and
// prints one JSON line per expression: {"expr", "median_ms", "result"}.
// Usage: node jsonata_reference.js DOC.json EXPRESSIONS.json RUNS
'use strict';
const fs = require('fs');
const jsonata = require('jsonata');

async function main() {
  const [docPath, exprPath, runsArg] = process.argv.slice(2);
  const data = JSON.parse(fs.readFileSync(docPath, 'utf8'));
  const expressions = JSON.parse(fs.readFileSync(exprPath, 'utf8'));
  const runs = Number(runsArg || 20);
  for (const text of expressions) {
    const compiled = jsonata(text);
    let result = await compiled.evaluate(data);
    await compiled.evaluate(data);
    const times = [];
    for (let i = 0; i < runs; i++) {
      const t0 = process.hrtime.bigint();
      result = await compiled.evaluate(data);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    times.sort((a, b) => a - b);
    // Sequences carry a flag the JSON form does not need.
    const plain = result === undefined ? null : JSON.parse(JSON.stringify(result));
    console.log(JSON.stringify({ expr: text, median_ms: times[Math.floor(runs / 2)], result: plain }));
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
