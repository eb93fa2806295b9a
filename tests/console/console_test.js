// The web console of `feedpipe serve` in a real browser (Debian's chromium, driven by
// playwright-core): a failed run drawn as a graph with its failed state red and its job log
// shown; the feed fixed and the run redriven from the console to success, every state it passed
// green; then a run followed live (server-sent events) while its first job waits on the feed
// (a named pipe), on its page and on the executions list in a second tab; and both pages
// polling when server-sent events cannot be had. Screenshots go to OUT_DIR.
// Usage: node console_test.js ENDPOINT OUT_DIR FEED_FILE   (the feed file is absent at start;
// its content comes in FEEDPIPE_FEED_XML)
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const { chromium } = require('playwright-core');

// The fill of a state's box for each way it went ('' = not reached).
const FILL = {
  Succeeded: 'rgb(215, 240, 208)',
  Failed: 'rgb(251, 217, 211)',
  Running: 'rgb(211, 231, 247)',
  Caught: 'rgb(255, 230, 199)',
  '': 'rgb(242, 243, 243)',
};

function check(cond, message) {
  if (!cond) throw new Error(message);
}

async function waitStatus(page, status) {
  await page.waitForFunction(
    (s) => document.querySelector('#exec-status') && document.querySelector('#exec-status').textContent === s,
    status, { timeout: 60000 });
}

// The graph's states: name, status, fill and position.
async function graph(page) {
  return page.$$eval('#graph g.node', (nodes) => nodes.map((n) => {
    const m = n.getAttribute('transform').match(/translate\(([-\d.]+),([-\d.]+)\)/);
    return {
      name: n.dataset.state,
      status: n.dataset.status,
      fill: getComputedStyle(n.querySelector('rect.box')).fill,
      x: Number(m[1]),
      y: Number(m[2]),
    };
  }));
}

// A node per state of the definition, each coloured as `want` says (absent: not reached).
async function checkGraph(page, definition, want, what) {
  const nodes = await graph(page);
  const names = Object.keys(definition.States).sort();
  check(JSON.stringify(nodes.map((n) => n.name).sort()) === JSON.stringify(names),
    what + ': the graph should have a node per state, has ' + nodes.map((n) => n.name));
  for (const n of nodes) {
    const status = want[n.name] || '';
    check(n.status === status, what + ': ' + n.name + ' should be "' + status + '", is "' + n.status + '"');
    check(n.fill === FILL[status], what + ': ' + n.name + ' should be filled ' + FILL[status] + ', is ' + n.fill);
  }
  return Object.fromEntries(nodes.map((n) => [n.name, n]));
}

async function executionName(page) {
  return page.evaluate(() => decodeURIComponent(location.hash).match(/execution\/[^?]*:([^:?]+)/)[1]);
}

async function main() {
  const [endpoint, outDir, feedFile] = process.argv.slice(2);
  const xml = process.env.FEEDPIPE_FEED_XML;
  const project = path.dirname(feedFile);
  const browser = await chromium.launch({
    executablePath: process.env.FEEDPIPE_CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('dialog', (d) => { console.error('dialog: ' + d.message()); d.dismiss(); });

  // The list: a state machine selector filled from ListStateMachines, feedpipe chosen.
  await page.goto(endpoint + '/');
  await page.waitForSelector('#executions');
  const machines = await page.$$eval('#machine-select option', (os) => os.map((o) => [o.value, o.selected]));
  check(machines.some(([v, sel]) => v === 'feedpipe' && sel), 'feedpipe should be the chosen machine: ' + machines);
  const definition = await page.evaluate(async () => {
    const m = (await api('ListStateMachines', {})).stateMachines.find((x) => x.name === 'feedpipe');
    return JSON.parse((await api('DescribeStateMachine', { stateMachineArn: m.stateMachineArn })).definition);
  });

  // The layout of a machine with a cycle and a Catch: ranks by the longest path from StartAt
  // with the back-edge left out; a state whose failure was caught is orange.
  const drawn = await page.evaluate(() => {
    const def = {StartAt: 'A', States: {
      A: {Type: 'Task', Resource: 'r', Next: 'B', Catch: [{ErrorEquals: ['States.ALL'], Next: 'D'}]},
      B: {Type: 'Choice', Choices: [{Variable: '$.x', IsPresent: true, Next: 'A'}], Default: 'C'},
      C: {Type: 'Pass', Next: 'D'},
      D: {Type: 'Succeed'},
      Lone: {Type: 'Fail'}}};
    const g = layout(def);
    const edges = g.edges.map((e) => e.from + '>' + e.to + ':' + e.kind + (e.back ? ':back' : ''));
    const status = statesOf([
      {id: 1, type: 'TaskStateEntered', stateEnteredEventDetails: {name: 'A'}},
      {id: 2, type: 'TaskFailed', taskFailedEventDetails: {error: 'X'}},
      {id: 3, type: 'TaskStateExited', stateExitedEventDetails: {name: 'A'}},
      {id: 4, type: 'SucceedStateEntered', stateEnteredEventDetails: {name: 'D'}}]);
    return {ranks: Object.fromEntries(g.names.map((n) => [n, g.pos[n].rank])), edges, status};
  });
  check(JSON.stringify(drawn.ranks) === JSON.stringify({A: 0, B: 1, C: 2, D: 3, Lone: 0}), 'ranks: ' + JSON.stringify(drawn.ranks));
  check(JSON.stringify(drawn.edges.sort()) === JSON.stringify(
    ['A>B:next', 'A>D:catch', 'B>A:next:back', 'B>C:default', 'C>D:next']), 'edges: ' + drawn.edges);
  check(drawn.status.A === 'Caught' && drawn.status.D === 'Running', 'statuses: ' + JSON.stringify(drawn.status));

  // A failed run first: the feed file does not exist yet.
  await page.fill('#start-input', '{"feed": "jobs"}');
  await page.click('#start');
  await page.waitForSelector('#exec-status');
  await waitStatus(page, 'FAILED');
  const failedRun = await executionName(page);
  const at = await checkGraph(page, definition, { CheckFeed: 'Failed' }, 'after the failed run');
  // Top to bottom along the transitions; the Choice's Default drawn dashed.
  check(at.CheckFeed.y < at.DiffFeed.y && at.DiffFeed.y < at['Updated?'].y
    && at['Updated?'].y < at.ConsumeFeed.y && at['Updated?'].y < at.NoChange.y
    && at.ConsumeFeed.y < at.Commit.y && at.Notify.y < at.Done.y, 'the graph should go down by rank');
  check(await page.$('#graph path.edge.dashed[data-from="Updated?"][data-to="NoChange"]'),
    'the Default transition should be a dashed edge');
  check(await page.$('#graph path.edge[data-from="CheckFeed"][data-to="DiffFeed"]:not(.dashed)'),
    'CheckFeed → DiffFeed should be a solid edge');
  check(await page.$('#graph circle.start') && await page.$('#graph circle.end'), 'start and end markers');
  // Clicking a state shows its input.
  await page.click('#graph g.node[data-state="CheckFeed"]');
  await page.waitForFunction(() => document.querySelector('#state-detail h3').textContent === 'CheckFeed');
  const input = await page.textContent('#state-input');
  check(input.includes('"feed": "jobs"'), 'CheckFeed\'s input should show, is ' + input);
  // The job's log, as it is on disk.
  const logFile = path.join(project, '.feedpipe', 'logs', failedRun, 'CheckFeed-1.log');
  const onDisk = fs.readFileSync(logFile, 'utf8');
  await page.waitForFunction(() => {
    const pre = document.querySelector('#logs pre[data-stream="CheckFeed-1.log"]');
    return pre && pre.textContent !== 'loading…';
  }, null, { timeout: 10000 });
  const shown = await page.textContent('#logs pre[data-stream="CheckFeed-1.log"]');
  check(shown === (onDisk || '(empty)'), 'the log of CheckFeed should show as on disk:\n' + shown + '\n---\n' + onDisk);
  check(onDisk.length > 0, 'the failed job should have logged something');
  await page.screenshot({ path: path.join(outDir, 'console-failed.png'), fullPage: true });

  // Fix the feed and redrive from the console.
  fs.writeFileSync(feedFile, xml);
  await page.click('#redrive');
  await waitStatus(page, 'SUCCEEDED');
  const passed = ['CheckFeed', 'DiffFeed', 'Updated?', 'ConsumeFeed', 'Commit', 'Shape', 'Notify', 'Done'];
  await checkGraph(page, definition, Object.fromEntries(passed.map((n) => [n, 'Succeeded'])), 'after the redrive');
  if (await page.$('.panel.error')) throw new Error('a redriven execution that succeeded shows no error');
  await page.screenshot({ path: path.join(outDir, 'console-redriven.png'), fullPage: true });

  // A run followed live: its first job waits until the feed is written into the named pipe.
  const list = await browser.newPage({ viewport: { width: 1280, height: 700 } });
  await list.goto(endpoint + '/#/');
  await list.waitForSelector('#executions tr[data-name]');
  fs.unlinkSync(feedFile);
  execFileSync('mkfifo', [feedFile]);
  await page.goto(endpoint + '/#/');
  await page.waitForSelector('#executions');
  await page.fill('#start-input', '{"feed": "jobs"}');
  await page.click('#start');
  await page.waitForSelector('#graph g.node[data-state="CheckFeed"][data-status="Running"]', { timeout: 30000 });
  await checkGraph(page, definition, { CheckFeed: 'Running' }, 'while CheckFeed waits');
  check(await page.textContent('#exec-status') === 'RUNNING', 'the run should show RUNNING');
  check(await page.evaluate(() => window.feedpipeLive) === 'sse', 'the execution page should follow server-sent events');
  check(!(await page.isDisabled('#stop')), 'Stop should be enabled while it runs');
  // The list in the other tab shows it running without a reload.
  await list.waitForSelector('#executions td.status.RUNNING', { timeout: 10000 });
  check(await list.evaluate(() => window.feedpipeLive) === 'sse', 'the list should follow server-sent events');
  const rowsBefore = await page.$$eval('#events tr', (rs) => rs.length);
  await page.screenshot({ path: path.join(outDir, 'console-running.png'), fullPage: true });
  const writing = fs.promises.writeFile(feedFile, xml);
  await waitStatus(page, 'SUCCEEDED');
  await writing;
  const rowsAfter = await page.$$eval('#events tr', (rs) => rs.length);
  check(rowsAfter > rowsBefore, 'events should be appended live (' + rowsBefore + ' → ' + rowsAfter + ')');
  // The unchanged feed goes through NoChange.
  await checkGraph(page, definition,
    { CheckFeed: 'Succeeded', DiffFeed: 'Succeeded', 'Updated?': 'Succeeded', NoChange: 'Succeeded' }, 'after the live run');
  await list.waitForFunction(() => document.querySelectorAll('#executions td.status.SUCCEEDED').length === 2
    && !document.querySelector('#executions td.status.RUNNING'), null, { timeout: 10000 });
  await list.close();

  // The list's filters.
  await page.goto(endpoint + '/#/?status=SUCCEEDED&feed=');
  await page.waitForSelector('#executions');
  await page.waitForFunction(() => document.querySelectorAll('#executions tr').length === 3, null, { timeout: 10000 });
  await page.goto(endpoint + '/#/?status=FAILED');
  await page.waitForFunction(() => document.querySelector('#shown') && document.querySelector('#shown').textContent === '0 shown',
    null, { timeout: 10000 });
  await page.goto(endpoint + '/#/');
  await page.waitForFunction(() => document.querySelectorAll('#executions tr').length === 3, null, { timeout: 10000 });
  await page.screenshot({ path: path.join(outDir, 'console-list.png'), fullPage: true });

  // Without server-sent events (a proxy that drops them), both pages poll instead.
  const polled = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await polled.route('**/events*', (r) => r.abort());
  await polled.goto(endpoint + '/#/');
  await polled.waitForFunction(() => window.feedpipeLive === 'polling'
    && document.querySelectorAll('#executions tr[data-name]').length === 2, null, { timeout: 10000 });
  await polled.click('#executions tr[data-name="' + failedRun + '"] a');
  await waitStatus(polled, 'SUCCEEDED');
  await checkGraph(polled, definition, Object.fromEntries(passed.map((n) => [n, 'Succeeded'])), 'when polling');
  await polled.waitForFunction(() => window.feedpipeLive === 'polling', null, { timeout: 10000 });
  await polled.close();
  await browser.close();
  console.log('console test passed');
}

main().catch((e) => { console.error(e); process.exit(1); });
