// End-to-end test of the web dashboard against a real `pairflow demo`.
//
//   PAIRFLOW_BIN=build/bin/pairflow ARTIFACT_DIR=/tmp/pairflow-e2e node web/e2e/dashboard.e2e.mjs
//
// Needs the dashboard built into the directory the server serves, chromium at /usr/bin/chromium
// (override with CHROMIUM_PATH) and playwright-core (web/node_modules). Exit 0 on pass; on
// failure one line "FAIL: reason" and a non-zero status. Screenshots and the server's output
// go to ARTIFACT_DIR.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const BIN = process.env.PAIRFLOW_BIN ? path.resolve(process.env.PAIRFLOW_BIN) : '';
const ART = path.resolve(process.env.ARTIFACT_DIR || '/tmp/pairflow-e2e');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const UI_INFO_TIMEOUT_MS = 60_000;
const LIVE_TIMEOUT_MS = 30_000;
const POSITION_TIMEOUT_MS = 90_000;
const FLATTEN_TIMEOUT_MS = 30_000;

const t0 = Date.now();
const log = (msg) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class Failure extends Error {}
const fail = (msg) => {
  throw new Failure(msg);
};

let child = null;
let childExit = null; // {code, signal} once exited
let browser = null;
let currentPage = null;
const serverLog = [];

async function waitForUiInfo(file) {
  const deadline = Date.now() + UI_INFO_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (childExit) fail(`pairflow exited (${childExit.code ?? childExit.signal}) before writing ${file}: ${lastServerLine()}`);
    try {
      const info = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (info.url && info.operator_token && info.viewer_token) return info;
    } catch {
      /* not there yet, or half written */
    }
    await sleep(200);
  }
  fail(`pairflow wrote no ${file} within ${UI_INFO_TIMEOUT_MS / 1000} s: ${lastServerLine()}`);
}

function lastServerLine() {
  const lines = serverLog.join('').trim().split('\n');
  return lines[lines.length - 1]?.slice(0, 300) || '(no output)';
}

async function shot(page, name) {
  try {
    await page.screenshot({ path: path.join(ART, name), fullPage: true });
    log(`screenshot ${path.join(ART, name)}`);
  } catch (e) {
    log(`screenshot ${name} failed: ${e.message.split('\n')[0]}`);
  }
}

async function text(page, sel) {
  return ((await page.locator(sel).first().textContent({ timeout: 5000 })) ?? '').trim();
}

/** page.waitForFunction with a readable failure message. */
async function waitIn(page, what, fn, arg, timeout) {
  try {
    return await page.waitForFunction(fn, arg, { timeout, polling: 250 });
  } catch (e) {
    if (e instanceof Failure) throw e;
    fail(`${what} (waited ${timeout / 1000} s)`);
  }
}

async function api(url, pathName, { token, method = 'GET', body } = {}) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(new URL(pathName, url), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let json = null;
  try {
    json = await res.json();
  } catch {
    /* not JSON */
  }
  return { status: res.status, json };
}

/** Quantities shown in the positions table (an empty table gives []). */
function uiQuantities(page) {
  return page.$$eval('#positions-table tr[data-symbol]', (rows) =>
    rows.map((r) => ({ symbol: r.getAttribute('data-symbol'), qty: Number((r.querySelector('td.qty')?.textContent ?? '').replace(/[,\s]/g, '')) })),
  );
}

async function openDashboard(info, token, label) {
  const context = await browser.newContext({ viewport: { width: 1600, height: 1100 } });
  const page = await context.newPage();
  currentPage = page;
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') log(`[${label} console] ${m.text().slice(0, 200)}`);
  });
  const start = Date.now();
  await page.goto(info.url + '#token=' + encodeURIComponent(token), { waitUntil: 'domcontentloaded', timeout: 30_000 });
  return { page, context, errors, start };
}

function checkPageErrors(errors, label) {
  if (errors.length) fail(`${label}: uncaught error in the page: ${errors[0].slice(0, 200)}`);
}

async function main() {
  if (!BIN) fail('PAIRFLOW_BIN is not set (path to the pairflow binary)');
  if (!fs.existsSync(BIN)) fail(`PAIRFLOW_BIN ${BIN} does not exist`);
  if (!fs.existsSync(CHROMIUM)) fail(`no chromium at ${CHROMIUM} (set CHROMIUM_PATH)`);
  fs.mkdirSync(ART, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pairflow-e2e-'));
  const uiInfo = path.join(tmp, 'ui.json');

  const args = ['demo', '--port', '0', '--speed', process.env.PAIRFLOW_SPEED ?? '2000', '--ui-info', uiInfo];
  log(`starting ${BIN} ${args.join(' ')}`);
  child = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: tmp });
  const logFile = fs.createWriteStream(path.join(ART, 'server.log'));
  for (const s of [child.stdout, child.stderr]) {
    s.on('data', (d) => {
      logFile.write(d);
      serverLog.push(d.toString());
      if (serverLog.length > 200) serverLog.shift();
    });
  }
  child.on('exit', (code, signal) => (childExit = { code, signal }));
  child.on('error', (e) => (childExit = { code: e.message, signal: null }));

  const info = await waitForUiInfo(uiInfo);
  log(`server up at ${info.url}`);

  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true });

  // ---- 1) viewer: live P&L over the WebSocket; controls refused --------------------------
  {
    const { page, context, errors, start } = await openDashboard(info, info.viewer_token, 'viewer');
    await waitIn(page, 'viewer: #conn never said "live"', () => document.querySelector('#conn')?.textContent?.trim() === 'live', null, LIVE_TIMEOUT_MS);
    await waitIn(page, 'viewer: no stream message arrived (#last-update)', () => Number(document.querySelector('#last-update')?.dataset.count ?? 0) >= 1, null, LIVE_TIMEOUT_MS);
    const firstWall = Date.now() - start;
    const inPage = await page.evaluate(() => window.pairflow?.stats?.firstMessageMs ?? null);
    const first = { count: Number(await page.locator('#last-update').getAttribute('data-count')), text: await text(page, '#last-update'), pnl: await text(page, '#net-pnl') };
    // Live: #last-update must move at least twice more (new messages), #net-pnl must show a number.
    const seen = new Set([first.text]);
    const deadline = Date.now() + LIVE_TIMEOUT_MS;
    let cur = first;
    while (Date.now() < deadline) {
      cur = { count: Number(await page.locator('#last-update').getAttribute('data-count')), text: await text(page, '#last-update'), pnl: await text(page, '#net-pnl') };
      seen.add(cur.text);
      if (cur.count >= first.count + 2 && seen.size >= 3) break;
      await sleep(100);
    }
    if (!(cur.count >= first.count + 2 && seen.size >= 3)) fail(`viewer: #last-update did not update twice in ${LIVE_TIMEOUT_MS / 1000} s (messages ${first.count} → ${cur.count})`);
    if (!/\d/.test(cur.pnl)) fail(`viewer: #net-pnl shows no number ("${cur.pnl}")`);
    const pnlChanged = cur.pnl !== first.pnl;
    log(`viewer: live; page load → first stream message ${inPage !== null ? Math.round(inPage) + ' ms (in page), ' : ''}${firstWall} ms (wall); net P&L ${first.pnl} → ${cur.pnl}${pnlChanged ? '' : ' (unchanged so far)'}; messages ${cur.count}`);
    await waitIn(page, 'viewer: the equity chart drew nothing', () => !!document.querySelector('#equity-chart canvas'), null, 10_000);
    await shot(page, '1-viewer-live.png');

    // The kill switch control is refused for a viewer: disabled, or the server's 403 shown.
    const flatten = page.locator('button[data-control=flatten]');
    await waitIn(page, 'viewer: role never resolved', () => !/checking/.test(document.querySelector('#controls-note')?.textContent ?? ''), null, 15_000);
    if (await flatten.isDisabled()) {
      log(`viewer: flatten button disabled ("${await text(page, '#controls-note')}")`);
    } else {
      await flatten.click();
      await page.locator('#confirm-dialog').waitFor({ state: 'visible', timeout: 5000 });
      await page.click('#confirm-ok');
      await waitIn(page, 'viewer: flatten was not refused with 403 in #control-result', () => /403|forbidden/i.test(document.querySelector('#control-result')?.textContent ?? ''), null, 10_000);
      log(`viewer: flatten refused: ${await text(page, '#control-result')}`);
    }
    if ((await text(page, '#kill-switch')) === 'flatten') fail('viewer: the kill switch went to flatten');
    checkPageErrors(errors, 'viewer');
    await context.close();
  }

  // Auth over plain HTTP: no token → 401, viewer → 403.
  {
    const anon = await api(info.url, 'api/control', { method: 'POST', body: { command: 'pause', reason: 'e2e: must be refused' } });
    if (anon.status !== 401) fail(`POST /api/control without token answered ${anon.status}, expected 401`);
    const viewer = await api(info.url, 'api/control', { token: info.viewer_token, method: 'POST', body: { command: 'pause', reason: 'e2e: must be refused' } });
    if (viewer.status !== 403) fail(`POST /api/control with the viewer token answered ${viewer.status}, expected 403`);
    if (viewer.json?.ok !== false || typeof viewer.json?.error !== 'string') fail(`403 body is not {"ok":false,"error":...}: ${JSON.stringify(viewer.json)}`);
    log('auth: POST /api/control → 401 without token, 403 for viewer');
  }

  // ---- 2) operator: positions appear, flatten closes them --------------------------------
  {
    const { page, context, errors } = await openDashboard(info, info.operator_token, 'operator');
    await waitIn(page, 'operator: #conn never said "live"', () => document.querySelector('#conn')?.textContent?.trim() === 'live', null, LIVE_TIMEOUT_MS);
    await waitIn(page, 'operator: the flatten control stayed disabled', () => document.querySelector('button[data-control=flatten]')?.disabled === false, null, 15_000);
    log(`operator: waiting up to ${POSITION_TIMEOUT_MS / 1000} s for a position (the demo trades after its warm-up)`);
    await waitIn(
      page,
      'operator: no non-zero position appeared in #positions-table',
      () => [...document.querySelectorAll('#positions-table tr[data-symbol] td.qty')].some((td) => Math.abs(Number((td.textContent ?? '').replace(/[,\s]/g, ''))) > 1e-9),
      null,
      POSITION_TIMEOUT_MS,
    );
    const open = (await uiQuantities(page)).filter((q) => q.qty !== 0);
    log(`operator: positions ${open.map((q) => `${q.symbol} ${q.qty}`).join(', ')}`);
    await shot(page, '2-operator-positions.png');

    // Pair panel: select the first pair row, its chart and controls appear.
    const row = page.locator('#pairs-table tbody tr[data-pair-id]').first();
    if ((await row.count()) > 0) {
      await row.click();
      await waitIn(page, 'operator: the pair panel did not open', () => !document.querySelector('#pair-body')?.hidden && !!document.querySelector('#pair-chart canvas'), null, 10_000);
      log(`operator: pair panel shows ${await text(page, '#pair-title')}`);
    } else fail('operator: #pairs-table has no pair rows');

    await page.click('button[data-control=flatten]');
    await page.locator('#confirm-dialog').waitFor({ state: 'visible', timeout: 5000 });
    await page.fill('#confirm-reason', 'e2e flatten');
    await shot(page, '3-operator-confirm.png');
    await page.click('#confirm-ok');
    await page.locator('#confirm-dialog').waitFor({ state: 'hidden', timeout: 5000 });
    await waitIn(page, 'operator: no answer to flatten in #control-result', () => /^(ok|error)/.test(document.querySelector('#control-result')?.textContent ?? ''), null, 15_000);
    const answer = await text(page, '#control-result');
    if (!answer.startsWith('ok')) fail(`operator: flatten answered "${answer}"`);
    log(`operator: flatten → ${answer}`);
    await waitIn(page, 'operator: #kill-switch never showed flatten', () => document.querySelector('#kill-switch')?.textContent?.trim() === 'flatten', null, 15_000);

    const deadline = Date.now() + FLATTEN_TIMEOUT_MS;
    let ui = [];
    let apiPos = [];
    for (;;) {
      ui = await uiQuantities(page);
      const r = await api(info.url, 'api/positions', { token: info.operator_token });
      if (r.status !== 200) fail(`GET /api/positions answered ${r.status}`);
      apiPos = r.json?.positions ?? [];
      const uiFlat = ui.every((q) => q.qty === 0);
      const apiFlat = apiPos.every((p) => Math.abs(Number(p.qty)) < 1e-9);
      if (uiFlat && apiFlat) break;
      if (Date.now() > deadline) {
        const left = (uiFlat ? apiPos.filter((p) => Math.abs(p.qty) >= 1e-9).map((p) => `${p.symbol} ${p.qty} (api)`) : ui.filter((q) => q.qty !== 0).map((q) => `${q.symbol} ${q.qty} (ui)`)).join(', ');
        fail(`operator: positions not flat ${FLATTEN_TIMEOUT_MS / 1000} s after flatten: ${left}`);
      }
      await sleep(500);
    }
    log(`operator: flat in the UI (${ui.length} rows) and in GET /api/positions (${apiPos.length} symbols)`);
    if ((await text(page, '#kill-switch')) !== 'flatten') fail(`operator: #kill-switch shows "${await text(page, '#kill-switch')}" after flattening, expected flatten`);
    await shot(page, '4-operator-flattened.png');
    checkPageErrors(errors, 'operator');
    await context.close();
  }
}

async function stopChild() {
  if (!child || childExit) return;
  child.kill('SIGTERM');
  const deadline = Date.now() + 10_000;
  while (!childExit && Date.now() < deadline) await sleep(100);
  if (!childExit) {
    log('pairflow ignored SIGTERM for 10 s: SIGKILL');
    child.kill('SIGKILL');
    await sleep(200);
  }
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (child && !childExit) child.kill('SIGTERM');
    process.exit(130);
  });
}

let code = 0;
try {
  await main();
  log('PASS');
} catch (e) {
  code = 1;
  if (currentPage) await shot(currentPage, 'failure.png');
  const msg = e instanceof Failure ? e.message : `unexpected: ${(e?.message ?? String(e)).split('\n')[0]}`;
  console.error(`FAIL: ${msg}`);
} finally {
  try {
    await browser?.close();
  } catch {
    /* already gone */
  }
  await stopChild();
}
process.exit(code);
