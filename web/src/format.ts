// Number, time and HTML formatting helpers (kept allocation-light: they run per visible cell).

const money2 = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const int0 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

export function money(v: unknown): string {
  return isNum(v) ? money2.format(v) : '–';
}

export function int(v: unknown): string {
  return isNum(v) ? int0.format(v) : '–';
}

/** Quantities: no thousands separator so the text parses back with Number(). */
export function qty(v: unknown): string {
  if (!isNum(v)) return '–';
  if (Math.abs(v) < 1e-9) return '0';
  return Number.isInteger(v) ? String(v) : String(+v.toFixed(4));
}

export function fixed(v: unknown, digits = 2): string {
  return isNum(v) ? v.toFixed(digits) : '–';
}

export function pval(v: unknown): string {
  if (!isNum(v)) return '–';
  return v !== 0 && v < 1e-3 ? v.toExponential(2) : v.toFixed(4);
}

export function rate(v: unknown): string {
  if (!isNum(v)) return '–';
  return v >= 100 ? int0.format(v) : v.toFixed(1);
}

/** Nanoseconds → whole seconds (UTC), the time unit of the charts. */
export function nsToSec(ns: number): number {
  return Math.floor(ns / 1e9);
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** Event time as "2024-01-02 10:31:00" (UTC). */
export function nsDateTime(ns: unknown): string {
  if (!isNum(ns) || ns <= 0) return '–';
  const d = new Date(ns / 1e6);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** Event time of day "10:31:00.250" (UTC), for blotters. */
export function nsTime(ns: unknown): string {
  if (!isNum(ns) || ns <= 0) return '–';
  const d = new Date(ns / 1e6);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
}

/** Local wall-clock time with milliseconds, for "last update". */
export function wallTime(d = new Date()): string {
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function esc(v: unknown): string {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ESC[c]);
}

/** CSS class for a signed number. */
export function signCls(v: unknown): string {
  return isNum(v) ? (v > 0 ? 'pos' : v < 0 ? 'neg' : '') : '';
}

export function sumValues(r: Record<string, number> | undefined): number {
  if (!r) return 0;
  let s = 0;
  for (const k in r) if (isNum(r[k])) s += r[k];
  return s;
}

export function describeRecord(r: Record<string, number> | undefined): string {
  if (!r) return '';
  return Object.entries(r)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
}
