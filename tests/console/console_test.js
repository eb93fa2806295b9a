// The web console of `feedpipe serve` in a real browser (Debian's chromium, driven by
// playwright-core): start the feed's run and see it succeed with every state it passed green;
// open a failed run, fix the feed, press Redrive and see it succeed. Screenshots go to OUT_DIR.
// Usage: node console_test.js ENDPOINT OUT_DIR FEED_FILE   (the feed file is absent at start;
// its content comes in FEEDPIPE_FEED_XML)
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

async function waitStatus(page, status) {
  await page.waitForFunction(
    (s) => document.querySelector('#exec-status') && document.querySelector('#exec-status').textContent === s,
    status, { timeout: 60000 });
}

async function main() {
  const [endpoint, outDir, feedFile] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.FEEDPIPE_CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('dialog', (d) => { console.error('dialog: ' + d.message()); d.dismiss(); });

  // A failed run first: the feed file does not exist yet.
  await page.goto(endpoint + '/');
  await page.waitForSelector('#executions');
  await page.fill('#start-input', '{"feed": "jobs"}');
  await page.click('#start');
  await page.waitForSelector('#exec-status');
  await waitStatus(page, 'FAILED');
  const failedState = await page.getAttribute('.state[data-state="CheckFeed"]', 'data-status');
  if (failedState !== 'Failed') throw new Error('CheckFeed should be red, is ' + failedState);
  await page.screenshot({ path: path.join(outDir, 'console-failed.png'), fullPage: true });

  // Fix the feed and redrive from the console.
  fs.writeFileSync(feedFile, process.env.FEEDPIPE_FEED_XML);
  await page.click('#redrive');
  await waitStatus(page, 'SUCCEEDED');
  const statuses = await page.$$eval('.state', (els) => els.map((e) => [e.dataset.state, e.dataset.status]));
  for (const [name, status] of statuses) {
    if (['CheckFeed', 'DiffFeed', 'Updated?', 'ConsumeFeed', 'Commit', 'Shape', 'Notify', 'Done'].includes(name)
        && status !== 'Succeeded') {
      throw new Error(name + ' should be green after the redrive, is ' + status);
    }
  }
  if (await page.$('.panel.error')) throw new Error('a redriven execution that succeeded shows no error');
  await page.screenshot({ path: path.join(outDir, 'console-redriven.png'), fullPage: true });

  // A new run of the unchanged feed: succeeds through NoChange; the list shows both.
  await page.goto(endpoint + '/#/');
  await page.waitForSelector('#executions');
  await page.fill('#start-input', '{"feed": "jobs"}');
  await page.click('#start');
  await waitStatus(page, 'SUCCEEDED');
  const noChange = await page.getAttribute('.state[data-state="NoChange"]', 'data-status');
  if (noChange !== 'Succeeded') throw new Error('NoChange should be green, is ' + noChange);
  await page.goto(endpoint + '/#/?status=SUCCEEDED&feed=');
  await page.waitForSelector('#executions');
  await page.waitForFunction(() => document.querySelectorAll('#executions tr').length === 3, null, { timeout: 10000 });
  await page.screenshot({ path: path.join(outDir, 'console-list.png'), fullPage: true });
  await browser.close();
  console.log('console test passed');
}

main().catch((e) => { console.error(e); process.exit(1); });
