// Benchmark: page load to the first live update, on loopback, in headless chromium. Starts
// `$PAIRFLOW_BIN demo` paced at 60x (the default), opens the dashboard REPS times in fresh
// browser contexts and prints, per load, the milliseconds from navigation start to the first
// stream message (the snapshots) and to the first live update, with their median and max.
// Usage: PAIRFLOW_BIN=build/bin/pairflow node e2e/page_load.bench.mjs   (from web/)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const BIN = process.env.PAIRFLOW_BIN;
const REPS = Number(process.env.REPS ?? 5);
if (!BIN) {
  console.error('page_load.bench: set PAIRFLOW_BIN');
  process.exit(2);
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pairflow-pageload-'));
const info = path.join(tmp, 'ui.json');
const child = spawn(BIN, ['demo', '--port', '0', '--ui-info', info], { cwd: tmp, stdio: 'ignore' });
let browser;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  const deadline = Date.now() + 30_000;
  while (!fs.existsSync(info)) {
    if (Date.now() > deadline) throw new Error('the dashboard never wrote --ui-info');
    await new Promise((r) => setTimeout(r, 50));
  }
  const meta = JSON.parse(fs.readFileSync(info, 'utf8'));
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'], headless: true });
  const first = [];
  const update = [];
  for (let i = 0; i < REPS; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(meta.url + '#token=' + meta.viewer_token);
    await page.waitForFunction(() => window.pairflow?.stats?.firstUpdateMs != null, null, { timeout: 30_000 });
    const s = await page.evaluate(() => window.pairflow.stats);
    first.push(s.firstMessageMs);
    update.push(s.firstUpdateMs);
    await context.close();
  }
  const f = (xs) => xs.map((x) => Math.round(x)).join(' ');
  console.log(`page load -> first stream message (ms): ${f(first)}  median ${Math.round(median(first))}, max ${Math.round(Math.max(...first))}`);
  console.log(`page load -> first live update (ms):    ${f(update)}  median ${Math.round(median(update))}, max ${Math.round(Math.max(...update))}  (target <= 1000)`);
} finally {
  if (browser) await browser.close();
  child.kill('SIGTERM');
  fs.rmSync(tmp, { recursive: true, force: true });
}
