// pairflow dashboard: wires the REST API, the /api/stream WebSocket, the tables and charts.
// All live data goes into Maps first; the DOM is re-rendered at most once per frame.

import './style.css';
import { ApiError, describeAnswer, getJson, getToken, initToken, postJson, setToken, streamUrl } from './api';
import { EquityCharts, PairChart, type TradeMarker } from './charts';
import { describeRecord, esc, fixed, int, isNum, money, nsDateTime, nsTime, pval, qty, rate, signCls, sumValues, wallTime } from './format';
import { confirmAction, initModal } from './modal';
import type {
  AuditEntry,
  Candidate,
  ControlAnswer,
  Execution,
  Job,
  Order,
  Pair,
  PairDetail,
  PnlResponse,
  PnlTick,
  Position,
  Risk,
  ScreenerResponse,
  Signal,
  Status,
} from './types';
import { VTable } from './vtable';
import { StreamClient, type ConnState } from './ws';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

const STREAMS = ['pnl', 'positions', 'pairs', 'signals', 'orders', 'executions', 'screener', 'risk', 'jobs'];
const EXEC_CAP = 500;
const AUDIT_CAP = 100;
const ORDER_CAP = 2000;
const STATUS_POLL_MS = 2000;
const SCREENER_POLL_MS = 15000;
const TERMINAL_ORDER = new Set(['filled', 'cancelled', 'canceled', 'rejected', 'expired', 'done', 'closed']);

// ---------------------------------------------------------------------------------------
// State

const pairs = new Map<string, Pair>();
const candidates = new Map<string, Candidate>();
const positions = new Map<string, Position>();
const orders = new Map<string, Order>();
const jobs = new Map<string, Job>();
let executions: Execution[] = [];
let audit: AuditEntry[] = [];
let risk: Risk | null = null;
let status: Status | null = null;
let lastPnl: PnlTick | null = null;
let screenerTotals: { tests: number; passing: number } | null = null;
/** Latest event time seen (ns), from P&L ticks, status, signals, orders, executions. */
let eventTs = 0;
/** Streams that already delivered a snapshot (REST answers must not overwrite them). */
const snapshotted = new Set<string>();
let selectedId: string | null = null;
let messageCount = 0;
/** Milliseconds from navigation start to the first stream message (for tests). */
let firstMessageMs: number | null = null;
/** Milliseconds from navigation start to the first live update (after the snapshots). */
let firstUpdateMs: number | null = null;
let lastMessageAt: Date | null = null;
let canControl = false;

function seeTs(ts: unknown): void {
  if (isNum(ts) && ts > eventTs) eventTs = ts;
}

// ---------------------------------------------------------------------------------------
// Frame-batched rendering of everything that is not a table

const dirty = new Set<'header' | 'risk' | 'pair' | 'last' | 'counts' | 'audit'>();
let uiFrame = 0;

function mark(what: 'header' | 'risk' | 'pair' | 'last' | 'counts' | 'audit'): void {
  dirty.add(what);
  if (!uiFrame) uiFrame = requestAnimationFrame(renderUi);
}

function renderUi(): void {
  uiFrame = 0;
  if (dirty.has('last')) renderLastUpdate();
  if (dirty.has('header')) renderHeader();
  if (dirty.has('risk')) renderRisk();
  if (dirty.has('audit')) renderAudit();
  if (dirty.has('pair')) renderPairStats();
  if (dirty.has('counts')) renderCounts();
  dirty.clear();
}

function setBadge(el: HTMLElement, text: string, kind: string): void {
  if (el.textContent !== text) el.textContent = text;
  el.dataset.kind = kind;
}

function killKind(mode: string): string {
  return mode === 'none' ? 'ok' : mode === 'pause' ? 'warn' : 'bad';
}

function tradingKind(st: string): string {
  return st === 'active' ? 'ok' : st === 'reduce_only' ? 'warn' : 'bad';
}

function renderHeader(): void {
  const s = status;
  if (s) {
    $('run-name').textContent = s.run ?? '–';
    setBadge($('run-state'), s.state ?? '–', s.state === 'running' ? 'ok' : 'muted');
    $('run-bars').textContent = `${int(s.bars)}`;
    $('run-bars').title = `ticks ${int(s.ticks)}, slices ${int(s.slices)}, clients ${int(s.clients)}`;
    $('run-speed').textContent = isNum(s.speed) ? `${s.speed}×` : '–';
    setBadge($('role'), String(s.role ?? '?') + (s.read_only ? ' (read-only)' : ''), s.read_only || s.role === 'viewer' ? 'warn' : 'ok');
  }
  const mode = risk?.kill_switch ?? s?.kill_switch;
  const trading = risk?.trading_state ?? s?.trading_state;
  if (mode) setBadge($('kill-switch'), mode, killKind(mode));
  if (trading) setBadge($('trading-state'), trading, tradingKind(trading));
  $('event-time').textContent = eventTs > 0 ? nsDateTime(eventTs) : (s?.time ?? '–');
  const net = lastPnl?.net_pnl ?? s?.net_pnl;
  const eq = lastPnl?.equity ?? s?.equity;
  const netEl = $('net-pnl');
  const netText = money(net);
  if (netEl.textContent !== netText) netEl.textContent = netText;
  netEl.className = 'big ' + signCls(net);
  $('equity').textContent = money(eq);
  if (lastPnl) {
    $('pnl-detail').textContent = `gross ${money(lastPnl.gross_pnl)} · fees ${money(lastPnl.fees)} · net ${money(lastPnl.net_pnl)}`;
    $('dd-detail').textContent = isNum(lastPnl.drawdown) ? money(lastPnl.drawdown) : '';
  }
  for (const b of document.querySelectorAll<HTMLButtonElement>('#global-controls button')) {
    b.classList.toggle('active', b.dataset.control === mode);
  }
}

function renderLastUpdate(): void {
  const el = $('last-update');
  if (lastMessageAt) el.textContent = wallTime(lastMessageAt);
  el.dataset.count = String(messageCount);
}

function renderRisk(): void {
  const r = risk;
  if (!r) return;
  setBadge($('risk-kill'), r.kill_switch, killKind(r.kill_switch));
  setBadge($('risk-trading'), r.trading_state, tradingKind(r.trading_state));
  $('risk-unhedged').textContent = money(r.unhedged_notional);
  const den = r.denials ?? {};
  const keys = Object.keys(den);
  $('risk-denials').innerHTML = keys.length
    ? keys.map((k) => `<span class="chip">${esc(k)} <b>${esc(den[k])}</b></span>`).join('')
    : 'none';
  const lim = r.limits ?? {};
  $('risk-limits').innerHTML = Object.keys(lim)
    .map((k) => {
      const v = lim[k];
      return `<span>${esc(k)}</span><span>${esc(isNum(v) ? (Number.isInteger(v) ? int(v) : fixed(v, 4)) : typeof v === 'object' ? JSON.stringify(v) : v)}</span>`;
    })
    .join('');
}

function renderAudit(): void {
  const tb = ($('audit-table') as HTMLTableElement).tBodies[0];
  if (!audit.length) {
    tb.innerHTML = '<tr class="empty"><td colspan="5">no audit entries</td></tr>';
    return;
  }
  tb.innerHTML = audit
    .slice(0, 50)
    .map((a) => `<tr><td>${esc(nsTime(a.ts))}</td><td>${esc(a.action)}</td><td>${esc(a.mode)}</td><td>${esc(a.by)}</td><td class="wrap">${esc(a.reason)}</td></tr>`)
    .join('');
}

function renderCounts(): void {
  const active = status?.active_pairs;
  $('pairs-count').textContent = `${pairs.size}${isNum(active) ? ` · ${active} active` : ''}`;
  $('risk-active').textContent = isNum(active) ? String(active) : '–';
  let open = 0;
  for (const p of positions.values()) if (isNum(p.qty) && Math.abs(p.qty) > 1e-9) open++;
  $('positions-count').textContent = `${open} open`;
  $('orders-count').textContent = `${ordersTable.size}`;
  $('exec-count').textContent = `${executions.length}${executions.length >= EXEC_CAP ? ' (latest)' : ''}`;
  $('screener-count').textContent = screenerTotals ? `${screenerTotals.passing} passing of ${screenerTotals.tests} tests · ${candidates.size} shown` : `${candidates.size}`;
}

// ---------------------------------------------------------------------------------------
// Tables

const pairsFilter = $<HTMLInputElement>('pairs-filter');
let filterText = '';

const pairsTable = new VTable<Pair>($('pairs-table') as HTMLTableElement, {
  virtual: true,
  rowHeight: 22,
  key: (p) => String(p.id),
  sortBy: 'pnl',
  sortDesc: true,
  empty: 'no pairs yet',
  filter: (p) => !filterText || p.name.toLowerCase().includes(filterText),
  rowAttrs: (p) => ({ 'data-pair-id': String(p.id) }),
  rowCls: (p) => `st-${p.state}${p.enabled ? '' : ' disabled'}`,
  onSelect: (p) => selectPair(String(p.id)),
  columns: [
    { id: 'name', label: 'pair', sort: (p) => p.name, text: (p) => String(p.name ?? ''), cls: 'name' },
    { id: 'state', label: 'state', sort: (p) => p.state, text: (p) => String(p.state ?? ''), cls: 'st' },
    {
      id: 'z',
      label: 'z',
      cls: 'num',
      sort: (p) => p.z,
      text: (p) => fixed(p.z, 2),
      cellCls: (p) => (isNum(p.z) && isNum(p.entry_z) && Math.abs(p.z) >= p.entry_z ? 'hot' : ''),
    },
    { id: 'hedge', label: 'hedge', cls: 'num', sort: (p) => p.hedge_ratio, text: (p) => fixed(p.hedge_ratio, 3) },
    { id: 'hl', label: 'half-life', cls: 'num', sort: (p) => p.half_life, text: (p) => fixed(p.half_life, 1) },
    { id: 'p', label: 'p-value', cls: 'num', sort: (p) => p.pvalue, text: (p) => pval(p.pvalue) },
    {
      id: 'pos',
      label: 'position y / x',
      cls: 'num',
      sort: (p) => Math.abs(p.qty_y ?? 0) + Math.abs(p.qty_x ?? 0),
      text: (p) => `${qty(p.qty_y)} / ${qty(p.qty_x)}`,
    },
    { id: 'pnl', label: 'P&L', cls: 'num', sort: (p) => p.net_pnl, text: (p) => money(p.net_pnl), cellCls: (p) => signCls(p.net_pnl) },
    { id: 'trades', label: 'trades', cls: 'num', sort: (p) => p.trades, text: (p) => int(p.trades) },
    { id: 'enabled', label: 'on', title: 'enabled', sort: (p) => p.enabled, text: (p) => (p.enabled ? '✓' : '✕'), cellCls: (p) => (p.enabled ? 'on' : 'off') },
  ],
});
pairsTable.setSource(() => pairs.values());
pairsFilter.addEventListener('input', () => {
  filterText = pairsFilter.value.trim().toLowerCase();
  pairsTable.invalidate();
});

const screenerTable = new VTable<Candidate>($('screener-table') as HTMLTableElement, {
  virtual: true,
  rowHeight: 22,
  key: (c) => c.name,
  sortBy: 'adj',
  empty: 'no candidates yet',
  rowCls: (c) => (c.active ? 'active' : ''),
  columns: [
    { id: 'name', label: 'candidate', sort: (c) => c.name, text: (c) => String(c.name ?? ''), cls: 'name' },
    { id: 'p', label: 'p-value', cls: 'num', sort: (c) => c.pvalue, text: (c) => pval(c.pvalue) },
    { id: 'adj', label: 'adj p', cls: 'num', sort: (c) => c.adj_pvalue, text: (c) => pval(c.adj_pvalue) },
    { id: 'hedge', label: 'hedge', cls: 'num', sort: (c) => c.hedge_ratio, text: (c) => fixed(c.hedge_ratio, 3) },
    { id: 'hl', label: 'half-life', cls: 'num', sort: (c) => c.half_life, text: (c) => fixed(c.half_life, 1) },
    { id: 'active', label: 'active', sort: (c) => c.active, text: (c) => (c.active ? '✓' : ''), cellCls: (c) => (c.active ? 'on' : '') },
  ],
});
screenerTable.setSource(() => candidates.values());

const positionsTable = new VTable<Position>($('positions-table') as HTMLTableElement, {
  key: (p) => p.symbol,
  sortBy: 'symbol',
  empty: 'no positions',
  rowAttrs: (p) => ({ 'data-symbol': p.symbol }),
  rowCls: (p) => (isNum(p.qty) && Math.abs(p.qty) > 1e-9 ? '' : 'zero'),
  columns: [
    { id: 'symbol', label: 'symbol', sort: (p) => p.symbol, text: (p) => String(p.symbol ?? ''), cls: 'name symbol' },
    { id: 'qty', label: 'qty', cls: 'num qty', sort: (p) => p.qty, text: (p) => qty(p.qty), cellCls: (p) => signCls(p.qty) },
    { id: 'price', label: 'price', cls: 'num price', sort: (p) => p.price, text: (p) => money(p.price) },
    { id: 'value', label: 'value', cls: 'num value', sort: (p) => p.value, text: (p) => money(p.value), cellCls: (p) => signCls(p.value) },
  ],
});
positionsTable.setSource(() => positions.values());

function isOpenOrder(o: Order): boolean {
  if (TERMINAL_ORDER.has(String(o.status).toLowerCase())) return false;
  return !(isNum(o.qty) && isNum(o.filled) && Math.abs(o.filled) >= Math.abs(o.qty) && o.qty !== 0);
}

const ordersTable = new VTable<Order>($('orders-table') as HTMLTableElement, {
  key: (o) => String(o.id),
  sortBy: 'ts',
  sortDesc: true,
  empty: 'no open orders',
  filter: isOpenOrder,
  rowAttrs: (o) => ({ 'data-order-id': String(o.id) }),
  columns: [
    { id: 'ts', label: 'time', sort: (o) => o.ts, text: (o) => nsTime(o.ts) },
    { id: 'id', label: 'id', cls: 'num', sort: (o) => o.id, text: (o) => String(o.id ?? '') },
    { id: 'pair', label: 'pair', cls: 'num', sort: (o) => o.pair, text: (o) => String(o.pair ?? '') },
    { id: 'symbol', label: 'symbol', sort: (o) => o.symbol, text: (o) => String(o.symbol ?? ''), cls: 'name' },
    { id: 'side', label: 'side', sort: (o) => o.side, text: (o) => String(o.side ?? ''), cellCls: (o) => (o.side === 'buy' ? 'pos' : 'neg') },
    { id: 'qty', label: 'qty', cls: 'num', sort: (o) => o.qty, text: (o) => qty(o.qty) },
    { id: 'filled', label: 'filled', cls: 'num', sort: (o) => o.filled, text: (o) => qty(o.filled) },
    { id: 'price', label: 'price', cls: 'num', sort: (o) => o.price, text: (o) => money(o.price) },
    { id: 'type', label: 'type', sort: (o) => o.type, text: (o) => String(o.type ?? '') },
    { id: 'status', label: 'status', sort: (o) => o.status, text: (o) => String(o.status ?? '') },
  ],
});
ordersTable.setSource(() => orders.values());

const executionsTable = new VTable<Execution>($('executions-table') as HTMLTableElement, {
  virtual: true,
  rowHeight: 22,
  key: (e) => String(e._key ?? `${e.ts}-${e.order}`),
  sortBy: 'seq',
  sortDesc: true,
  empty: 'no executions yet',
  rowCls: (e) => (e.status && !/fill/i.test(e.status) ? 'bad-row' : ''),
  columns: [
    { id: 'seq', label: 'time', sort: (e) => e._key ?? e.ts, text: (e) => nsTime(e.ts) },
    { id: 'order', label: 'order', cls: 'num', sort: (e) => e.order, text: (e) => String(e.order ?? '') },
    { id: 'pair', label: 'pair', cls: 'num', sort: (e) => e.pair, text: (e) => String(e.pair ?? '') },
    { id: 'symbol', label: 'symbol', sort: (e) => e.symbol, text: (e) => String(e.symbol ?? ''), cls: 'name' },
    { id: 'side', label: 'side', sort: (e) => e.side, text: (e) => String(e.side ?? ''), cellCls: (e) => (e.side === 'buy' ? 'pos' : 'neg') },
    { id: 'qty', label: 'qty', cls: 'num', sort: (e) => e.qty, text: (e) => qty(e.qty) },
    { id: 'price', label: 'price', cls: 'num', sort: (e) => e.price, text: (e) => money(e.price) },
    { id: 'fee', label: 'fee', cls: 'num', sort: (e) => e.fee, text: (e) => money(e.fee) },
    { id: 'status', label: 'status', sort: (e) => e.status, text: (e) => String(e.status ?? '') },
    { id: 'reason', label: 'reason', sort: (e) => e.reason, text: (e) => String(e.reason ?? ''), tip: (e) => String(e.reason ?? '') },
  ],
});
executionsTable.setSource(() => executions);

const jobsTable = new VTable<Job>($('jobs-table') as HTMLTableElement, {
  key: (j) => j.name,
  sortBy: 'name',
  empty: 'no jobs',
  rowCls: (j) => (j.dlq > 0 ? 'bad-row' : ''),
  columns: [
    { id: 'name', label: 'job', sort: (j) => j.name, text: (j) => String(j.name ?? ''), cls: 'name' },
    { id: 'in', label: 'in', cls: 'num', sort: (j) => j.messages_in, text: (j) => int(j.messages_in) },
    { id: 'out', label: 'out', cls: 'num', sort: (j) => j.messages_out, text: (j) => int(j.messages_out) },
    { id: 'rate', label: 'msg/s', cls: 'num', sort: (j) => j.rate_in, text: (j) => rate(j.rate_in) },
    { id: 'lag', label: 'lag', cls: 'num', sort: (j) => j.lag, text: (j) => int(j.lag), cellCls: (j) => (j.lag > 0 ? 'warn' : '') },
    {
      id: 'rejects',
      label: 'rejects',
      cls: 'num',
      sort: (j) => sumValues(j.rejects),
      text: (j) => int(sumValues(j.rejects)),
      tip: (j) => describeRecord(j.rejects),
      cellCls: (j) => (sumValues(j.rejects) > 0 ? 'warn' : ''),
    },
    { id: 'dlq', label: 'DLQ', cls: 'num', sort: (j) => j.dlq, text: (j) => int(j.dlq), cellCls: (j) => (j.dlq > 0 ? 'neg' : '') },
  ],
});
jobsTable.setSource(() => jobs.values());

// ---------------------------------------------------------------------------------------
// Applying data (REST answers and stream messages share these)

const equityCharts = new EquityCharts($('equity-chart'), $('drawdown-chart'));

function applyPnl(d: PnlTick): void {
  lastPnl = d;
  seeTs(d.ts);
  equityCharts.push(d);
  mark('header');
}

function applyRisk(r: Risk): void {
  risk = r;
  if (r.audit) audit = r.audit.slice().reverse().slice(0, AUDIT_CAP);
  if (r.last_audit) {
    const a = r.last_audit;
    if (!audit.some((b) => b.ts === a.ts && b.action === a.action && b.mode === a.mode && b.by === a.by)) {
      audit.unshift(a);
      if (audit.length > AUDIT_CAP) audit.length = AUDIT_CAP;
    }
  }
  mark('risk');
  mark('audit');
  mark('header');
}

function pruneOrders(): void {
  if (orders.size <= ORDER_CAP) return;
  for (const [k, o] of orders) {
    if (orders.size <= ORDER_CAP) break;
    if (!isOpenOrder(o)) orders.delete(k);
  }
}

function pushExecution(e: Execution): void {
  executions.push(e);
  if (executions.length > EXEC_CAP * 1.2) executions = executions.slice(-EXEC_CAP);
}

function fillMap<T>(map: Map<string, T>, items: { key: string; data: unknown }[], keyOf?: (d: T, k: string) => string): void {
  map.clear();
  for (const it of items) {
    if (it.data === null || it.data === undefined) continue;
    const d = it.data as T;
    map.set(keyOf ? keyOf(d, it.key) : it.key, d);
  }
}

const pairKey = (p: Pair, k: string) => (p && p.id !== undefined ? String(p.id) : k);

function onSnapshot(stream: string, items: { key: string; data: unknown }[]): void {
  snapshotted.add(stream);
  switch (stream) {
    case 'pnl': {
      const d = items.find((i) => i.data)?.data as PnlTick | undefined;
      // A snapshot on a reconnect means the server could not replay: reload the curve.
      if (client.opens > 1) void loadPnlCurve();
      if (d) applyPnl(d);
      break;
    }
    case 'pairs':
      fillMap(pairs, items, pairKey);
      pairsTable.invalidate();
      if (selectedId && pairs.has(selectedId)) onSelectedPairUpdate(pairs.get(selectedId)!);
      break;
    case 'screener':
      fillMap(candidates, items);
      screenerTable.invalidate();
      void loadScreenerTotals();
      break;
    case 'positions':
      fillMap(positions, items);
      positionsTable.invalidate();
      break;
    case 'orders':
      fillMap(orders, items);
      for (const o of orders.values()) seeTs(o.ts);
      ordersTable.invalidate();
      break;
    case 'executions':
      executions = items
        .filter((i) => i.data)
        .map((i) => ({ ...(i.data as Execution), _key: Number(i.key) }))
        .sort((a, b) => (a._key ?? 0) - (b._key ?? 0) || a.ts - b.ts)
        .slice(-EXEC_CAP);
      executionsTable.invalidate();
      break;
    case 'jobs':
      fillMap(jobs, items);
      jobsTable.invalidate();
      break;
    case 'risk': {
      const d = items.find((i) => i.data)?.data as Risk | undefined;
      if (d) applyRisk(d);
      break;
    }
    case 'signals':
      for (const i of items) if (i.data) seeTs((i.data as Signal).ts);
      break;
  }
  mark('counts');
}

function onUpdate(stream: string, key: string, data: unknown): void {
  switch (stream) {
    case 'pnl':
      if (data) applyPnl(data as PnlTick);
      break;
    case 'pairs': {
      const p = data as Pair | null;
      const k = p ? pairKey(p, key) : key;
      if (p) pairs.set(k, p);
      else pairs.delete(k);
      pairsTable.invalidate();
      if (p && k === selectedId) onSelectedPairUpdate(p);
      break;
    }
    case 'screener':
      if (data) candidates.set(key, data as Candidate);
      else candidates.delete(key);
      screenerTable.invalidate();
      scheduleScreenerTotals();
      break;
    case 'positions':
      if (data) positions.set(key, data as Position);
      else positions.delete(key);
      positionsTable.invalidate();
      break;
    case 'orders':
      if (data) {
        orders.set(key, data as Order);
        seeTs((data as Order).ts);
        pruneOrders();
      } else orders.delete(key);
      ordersTable.invalidate();
      break;
    case 'executions':
      if (data) {
        const e = { ...(data as Execution), _key: Number(key) };
        seeTs(e.ts);
        pushExecution(e);
        executionsTable.invalidate();
      }
      break;
    case 'jobs':
      if (data) jobs.set(key, data as Job);
      else jobs.delete(key);
      jobsTable.invalidate();
      break;
    case 'risk':
      if (data) applyRisk(data as Risk);
      break;
    case 'signals': {
      const s = data as Signal | null;
      if (!s) break;
      seeTs(s.ts);
      if (selectedId !== null && String(s.pair) === selectedId && pairChart) {
        pairChart.addTrade({ ts: s.ts, action: s.action, z: s.z });
      }
      break;
    }
  }
  mark('counts');
}

// ---------------------------------------------------------------------------------------
// Stream connection

const connEl = $('conn');

function onConnState(st: ConnState, detail: string): void {
  connEl.textContent = st;
  connEl.className = 'conn ' + st;
  connEl.title = detail;
}

const client = new StreamClient(() => streamUrl(getToken()), STREAMS, {
  snapshot: (stream, items) => onSnapshot(stream, items),
  update: (stream, key, data) => {
    if (firstUpdateMs === null) firstUpdateMs = performance.now();
    onUpdate(stream, key, data);
  },
  message: () => {
    if (messageCount === 0) firstMessageMs = performance.now();
    messageCount++;
    lastMessageAt = new Date();
    mark('last');
  },
  state: onConnState,
  error: (text) => showBanner(`stream: ${text}`, 'warn'),
});

// ---------------------------------------------------------------------------------------
// REST loading and polling

let bannerTimer = 0;

function showBanner(text: string, kind: 'warn' | 'bad' = 'bad', sticky = false): void {
  const b = $('banner');
  b.textContent = text;
  b.dataset.kind = kind;
  b.hidden = false;
  clearTimeout(bannerTimer);
  if (!sticky) bannerTimer = window.setTimeout(() => (b.hidden = true), 8000);
}

function hideBanner(): void {
  $('banner').hidden = true;
}

function reportLoadError(what: string, e: unknown): void {
  if (e instanceof ApiError && e.status === 401) {
    showBanner(
      getToken()
        ? 'unauthorized: the token is not accepted. Paste another in the token field (top right).'
        : 'no token: open the URL pairflow prints (…/#token=…) or paste a token in the token field (top right).',
      'bad',
      true,
    );
  } else if (e instanceof DOMException && e.name === 'AbortError') {
    /* superseded */
  } else {
    showBanner(`${what}: ${e instanceof Error ? e.message : String(e)}`, 'warn');
  }
}

async function loadPnlCurve(): Promise<void> {
  try {
    const p = await getJson<PnlResponse>('api/pnl');
    equityCharts.seed(p.curve ?? []);
    if (!lastPnl) applyPnl({ ts: p.curve?.length ? p.curve[p.curve.length - 1].ts : 0, equity: p.equity, net_pnl: p.net_pnl, gross_pnl: p.gross_pnl, fees: p.fees, drawdown: p.drawdown });
    $('dd-detail').title = `max drawdown ${money(p.max_drawdown)} on capital ${money(p.initial_capital)}`;
  } catch (e) {
    equityCharts.seed([]);
    reportLoadError('P&L', e);
  }
}

// A new screen changes the totals too: refetch them, at most once a second.
let screenerTotalsTimer: number | undefined;
function scheduleScreenerTotals(): void {
  if (screenerTotalsTimer !== undefined) return;
  screenerTotalsTimer = window.setTimeout(() => {
    screenerTotalsTimer = undefined;
    void loadScreenerTotals();
  }, 1000);
}

async function loadScreenerTotals(): Promise<void> {
  try {
    const s = await getJson<ScreenerResponse>('api/screener');
    screenerTotals = { tests: s.tests, passing: s.passing };
    if (!snapshotted.has('screener')) {
      for (const c of s.candidates ?? []) candidates.set(c.name, c);
      screenerTable.invalidate();
    }
    mark('counts');
  } catch (e) {
    reportLoadError('screener', e);
  }
}

async function pollStatus(): Promise<void> {
  try {
    status = await getJson<Status>('api/status');
    seeTs(status.ts);
    hideAuthBanner();
    updateControlsEnabled();
    mark('header');
    mark('counts');
  } catch (e) {
    status = null;
    updateControlsEnabled(e instanceof ApiError && e.status === 401 ? 'not authorized' : 'server unreachable');
    reportLoadError('status', e);
  }
}

function hideAuthBanner(): void {
  const b = $('banner');
  if (!b.hidden && /unauthorized|no token/.test(b.textContent ?? '')) hideBanner();
}

/** Fills the stores the stream has not delivered yet (the page is useful even without WS). */
async function loadInitial(): Promise<void> {
  const tasks: Promise<void>[] = [loadPnlCurve(), pollStatus(), loadScreenerTotals()];
  const load = async <T>(stream: string, path: string, apply: (v: T) => void) => {
    try {
      const v = await getJson<T>(path);
      if (!snapshotted.has(stream)) apply(v);
    } catch (e) {
      reportLoadError(stream, e);
    }
  };
  tasks.push(
    load<{ pairs: Pair[] }>('pairs', 'api/pairs', (v) => {
      for (const p of v.pairs ?? []) pairs.set(String(p.id), p);
      pairsTable.invalidate();
    }),
    load<{ positions: Position[] }>('positions', 'api/positions', (v) => {
      for (const p of v.positions ?? []) positions.set(p.symbol, p);
      positionsTable.invalidate();
    }),
    load<{ open: Order[]; recent: Order[] }>('orders', 'api/orders', (v) => {
      for (const o of [...(v.recent ?? []), ...(v.open ?? [])]) orders.set(String(o.id), o);
      ordersTable.invalidate();
    }),
    load<{ executions: Execution[] }>('executions', 'api/executions', (v) => {
      executions = (v.executions ?? []).slice(-EXEC_CAP).map((e, i) => ({ ...e, _key: -1e9 + i }));
      executionsTable.invalidate();
    }),
    load<{ jobs: Job[] }>('jobs', 'api/jobs', (v) => {
      for (const j of v.jobs ?? []) jobs.set(j.name, j);
      jobsTable.invalidate();
    }),
    // The risk answer carries the audit trail, which the stream only extends.
    (async () => {
      try {
        const r = await getJson<Risk>('api/risk');
        if (!snapshotted.has('risk') || !risk) applyRisk(r);
        else if (r.audit) {
          audit = r.audit.slice().reverse().slice(0, AUDIT_CAP);
          mark('audit');
        }
      } catch (e) {
        reportLoadError('risk', e);
      }
    })(),
  );
  await Promise.all(tasks);
  mark('counts');
}

async function refreshRisk(): Promise<void> {
  try {
    applyRisk(await getJson<Risk>('api/risk'));
  } catch (e) {
    reportLoadError('risk', e);
  }
}

// ---------------------------------------------------------------------------------------
// Controls (global kill switch and per pair)

const CONTROL_TEXT: Record<string, { title: string; body: string; danger?: boolean }> = {
  pause: { title: 'Pause trading?', body: 'No new entries; open positions are kept and managed.' },
  resume: { title: 'Resume trading?', body: 'Clears a pause: pairs may enter new positions again.' },
  flatten: { title: 'Flatten everything?', body: 'Every pair exits with hedged orders over the next bars and no new entries are allowed.', danger: true },
  halt: { title: 'Halt trading?', body: 'All order flow stops at once; open positions stay as they are until re-armed.', danger: true },
  rearm: { title: 'Re-arm?', body: 'Clears the kill switch and returns to normal trading.' },
};

function updateControlsEnabled(forcedReason?: string): void {
  let reason = forcedReason ?? '';
  if (!reason) {
    if (!status) reason = 'checking role…';
    else if (status.read_only) reason = 'read-only mode: the server accepts no control commands';
    else if (status.role !== 'operator' && status.role !== 'admin') reason = `role ${status.role ?? 'unknown'}: controls need operator or admin`;
  }
  canControl = !reason;
  for (const b of document.querySelectorAll<HTMLButtonElement>('#global-controls button, #pair-controls button')) {
    b.disabled = !canControl;
    b.title = reason;
  }
  for (const i of document.querySelectorAll<HTMLInputElement>('#pair-controls input')) i.disabled = !canControl;
  $('controls-note').textContent = reason ? `controls disabled — ${reason}` : '';
  $('controls-note').hidden = !reason;
}

function showResult(el: HTMLElement, text: string, ok: boolean): void {
  el.textContent = text;
  el.dataset.ok = String(ok);
}

async function runGlobalControl(command: string): Promise<void> {
  const t = CONTROL_TEXT[command] ?? { title: `${command}?`, body: '' };
  const c = await confirmAction({ title: t.title, body: t.body, action: command, danger: t.danger, askReason: true });
  if (!c.ok) return;
  const out = $('control-result');
  showResult(out, `${command}…`, true);
  try {
    const body: Record<string, string> = { command };
    if (c.reason) body.reason = c.reason;
    const { status: code, answer } = await postJson<ControlAnswer>('api/control', body);
    showResult(out, describeAnswer(code, answer, [answer.kill_switch, answer.trading_state].filter(Boolean).join(', ')), answer.ok);
    if (answer.ok && risk) {
      if (answer.kill_switch) risk = { ...risk, kill_switch: answer.kill_switch };
      if (answer.trading_state) risk = { ...risk, trading_state: answer.trading_state };
      mark('risk');
      mark('header');
    }
    void refreshRisk();
  } catch (e) {
    showResult(out, `error: ${e instanceof Error ? e.message : String(e)}`, false);
  }
}

for (const b of document.querySelectorAll<HTMLButtonElement>('#global-controls button')) {
  b.addEventListener('click', () => void runGlobalControl(b.dataset.control ?? ''));
}

async function runPairControl(body: Record<string, unknown>, title: string, text: string, danger = false): Promise<void> {
  const id = selectedId;
  if (id === null) return;
  const c = await confirmAction({ title, body: text, action: String(body.command), danger });
  if (!c.ok) return;
  const out = $('pair-control-result');
  showResult(out, `${body.command}…`, true);
  try {
    const { status: code, answer } = await postJson<ControlAnswer>(`api/pairs/${encodeURIComponent(id)}/control`, body);
    showResult(out, describeAnswer(code, answer), answer.ok);
  } catch (e) {
    showResult(out, `error: ${e instanceof Error ? e.message : String(e)}`, false);
  }
}

$('pair-toggle').addEventListener('click', () => {
  const p = selectedId !== null ? pairs.get(selectedId) : undefined;
  if (!p) return;
  const cmd = p.enabled ? 'disable' : 'enable';
  void runPairControl(
    { command: cmd },
    `${cmd === 'enable' ? 'Enable' : 'Disable'} ${p.name}?`,
    cmd === 'enable' ? 'The pair may enter positions again.' : 'The pair takes no new entries; an open position is still managed to its exit.',
  );
});

$('pair-flatten').addEventListener('click', () => {
  const p = selectedId !== null ? pairs.get(selectedId) : undefined;
  if (!p) return;
  void runPairControl({ command: 'flatten' }, `Flatten ${p.name}?`, 'Closes both legs of this pair with hedged orders.', true);
});

$('pair-thresholds').addEventListener('click', () => {
  const p = selectedId !== null ? pairs.get(selectedId) : undefined;
  if (!p) return;
  const entry = $<HTMLInputElement>('th-entry').valueAsNumber;
  const exit = $<HTMLInputElement>('th-exit').valueAsNumber;
  const stop = $<HTMLInputElement>('th-stop').valueAsNumber;
  if (![entry, exit, stop].every(Number.isFinite)) {
    showResult($('pair-control-result'), 'error: entry, exit and stop must be numbers', false);
    return;
  }
  void runPairControl(
    { command: 'thresholds', entry_z: entry, exit_z: exit, stop_z: stop },
    `Set thresholds of ${p.name}?`,
    `entry ±${entry}, exit ±${exit}, stop ±${stop} (now ±${fixed(p.entry_z)}, ±${fixed(p.exit_z)}, ±${fixed(p.stop_z)})`,
  );
});

// ---------------------------------------------------------------------------------------
// Pair panel

let pairChart: PairChart | null = null;
let detailAbort: AbortController | null = null;

function fillThresholdInputs(p: Pair): void {
  $<HTMLInputElement>('th-entry').value = isNum(p.entry_z) ? String(p.entry_z) : '';
  $<HTMLInputElement>('th-exit').value = isNum(p.exit_z) ? String(p.exit_z) : '';
  $<HTMLInputElement>('th-stop').value = isNum(p.stop_z) ? String(p.stop_z) : '';
}

async function selectPair(id: string): Promise<void> {
  selectedId = id;
  pairsTable.select(id);
  const p = pairs.get(id);
  $('pair-body').hidden = false;
  $('pair-hint').hidden = true;
  $('pair-title').textContent = p?.name ?? `#${id}`;
  $('pair-control-result').textContent = '–';
  if (!pairChart) pairChart = new PairChart($('pair-chart'));
  if (p) fillThresholdInputs(p);
  mark('pair');
  detailAbort?.abort();
  const ac = new AbortController();
  detailAbort = ac;
  try {
    const d = await getJson<PairDetail>(`api/pairs/${encodeURIComponent(id)}`, ac.signal);
    if (selectedId !== id) return;
    const trades: TradeMarker[] = d.signals ?? [];
    const pair: Pair = { ...d };
    if (!pairs.has(id)) pairs.set(id, pair);
    const live = pairs.get(id) ?? pair;
    pairChart.load(live, d.history ?? [], trades);
    fillThresholdInputs(live);
    $('pair-title').textContent = live.name;
    mark('pair');
  } catch (e) {
    if (!(e instanceof DOMException && e.name === 'AbortError')) {
      showResult($('pair-control-result'), `error loading pair: ${e instanceof Error ? e.message : String(e)}`, false);
    }
  }
}

function onSelectedPairUpdate(p: Pair): void {
  if (!pairChart) return;
  pairChart.setBands(p);
  pairChart.appendZ(isNum(p.ts) ? p.ts : eventTs, p.z);
  mark('pair');
}

function renderPairStats(): void {
  if (selectedId === null) return;
  const p = pairs.get(selectedId);
  if (!p) return;
  const st = $('pair-state');
  st.hidden = false;
  setBadge(st, p.state, p.state === 'flat' ? 'muted' : p.state === 'long' ? 'ok' : 'bad');
  const kv: [string, string][] = [
    ['legs', `${p.y} / ${p.x}`],
    ['z', fixed(p.z, 2)],
    ['hedge', fixed(p.hedge_ratio, 3)],
    ['half-life', fixed(p.half_life, 1)],
    ['p-value', pval(p.pvalue)],
    ['entry/exit/stop', `${fixed(p.entry_z, 2)} / ${fixed(p.exit_z, 2)} / ${fixed(p.stop_z, 2)}`],
    ['qty y/x', `${qty(p.qty_y)} / ${qty(p.qty_x)}`],
    ['P&L', money(p.net_pnl)],
    ['trades', int(p.trades)],
    ['enabled', p.enabled ? 'yes' : 'no'],
  ];
  $('pair-stats').innerHTML = kv.map(([k, v]) => `<span>${esc(k)}</span><span>${esc(v)}</span>`).join('');
  $('pair-toggle').textContent = p.enabled ? 'Disable' : 'Enable';
}

// ---------------------------------------------------------------------------------------
// Token field

$('token-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const input = $<HTMLInputElement>('token');
  const v = input.value.trim();
  if (!v) return;
  setToken(v);
  input.value = '';
  input.placeholder = 'token set (paste to change)';
  hideBanner();
  snapshotted.clear();
  client.restart();
  void loadInitial();
});

// ---------------------------------------------------------------------------------------
// Start

initModal();
const token = initToken();
if (token) $<HTMLInputElement>('token').placeholder = 'token set (paste to change)';
updateControlsEnabled();
mark('counts');
client.start();
void loadInitial();
window.setInterval(() => void pollStatus(), STATUS_POLL_MS);
window.setInterval(() => void loadScreenerTotals(), SCREENER_POLL_MS);

// Exposed for debugging from the console and for tests.
(window as unknown as { pairflow: unknown }).pairflow = {
  get stats() {
    return { messages: messageCount, firstMessageMs, firstUpdateMs, gaps: client.gaps, opens: client.opens, pairs: pairs.size, executions: executions.length };
  },
  seq: (s: string) => client.lastSeq(s),
};
