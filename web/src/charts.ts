// lightweight-charts (v5) views: the equity + underwater charts and the pair panel chart.

import {
  BaselineSeries,
  ColorType,
  CrosshairMode,
  createChart,
  createSeriesMarkers,
  LineSeries,
  LineStyle,
  type DeepPartial,
  type ChartOptions,
  type IChartApi,
  type IPriceLine,
  type ISeriesApi,
  type ISeriesMarkersPluginApi,
  type LineData,
  type LogicalRange,
  type SeriesMarker,
  type Time,
  type UTCTimestamp,
  type WhitespaceData,
} from 'lightweight-charts';
import type { CurvePoint, Pair, PairHistoryPoint, PairTrade, PnlTick } from './types';
import { isNum, nsToSec } from './format';

const COLORS = {
  text: '#9aa4b2',
  grid: '#1e2530',
  border: '#2a3240',
  equity: '#4da3ff',
  dd: '#ff5c5c',
  y: '#e0b44c',
  x: '#5ccfa0',
  z: '#c792ea',
  entry: '#e0b44c',
  exit: '#7f8ea3',
  stop: '#ff5c5c',
  long: '#3ecf8e',
  short: '#ff6b6b',
};

function baseOptions(): DeepPartial<ChartOptions> {
  return {
    autoSize: true,
    layout: {
      background: { type: ColorType.Solid, color: 'transparent' },
      textColor: COLORS.text,
      fontSize: 11,
      fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace',
      attributionLogo: false,
      panes: { separatorColor: COLORS.border },
    },
    grid: { vertLines: { color: COLORS.grid }, horzLines: { color: COLORS.grid } },
    rightPriceScale: { borderColor: COLORS.border },
    leftPriceScale: { borderColor: COLORS.border },
    timeScale: { borderColor: COLORS.border, timeVisible: true, secondsVisible: false, rightOffset: 2 },
    crosshair: { mode: CrosshairMode.Normal },
  };
}

const t = (s: number) => s as UTCTimestamp;

/** Keeps only the last point per second so times are strictly ascending. */
function dedupe<P extends { time: Time }>(pts: P[]): P[] {
  const out: P[] = [];
  for (const p of pts) {
    if (out.length && (out[out.length - 1].time as number) >= (p.time as number)) {
      if ((out[out.length - 1].time as number) === (p.time as number)) out[out.length - 1] = p;
      continue; // out of order: drop
    }
    out.push(p);
  }
  return out;
}

/** Equity line and underwater (drawdown ≤ 0) chart, seeded from /api/pnl, then live. */
export class EquityCharts {
  private readonly eq: IChartApi;
  private readonly dd: IChartApi;
  private readonly eqSeries: ISeriesApi<'Line'>;
  private readonly ddSeries: ISeriesApi<'Baseline'>;
  private lastTime = -Infinity;
  private seeded = false;
  private pending: PnlTick[] = [];
  private peak = -Infinity;

  constructor(eqEl: HTMLElement, ddEl: HTMLElement) {
    this.eq = createChart(eqEl, baseOptions());
    this.dd = createChart(ddEl, baseOptions());
    this.eqSeries = this.eq.addSeries(LineSeries, { color: COLORS.equity, lineWidth: 2, priceLineVisible: true, title: 'equity' });
    this.ddSeries = this.dd.addSeries(BaselineSeries, {
      baseValue: { type: 'price', price: 0 },
      topLineColor: COLORS.dd,
      topFillColor1: 'rgba(0,0,0,0)',
      topFillColor2: 'rgba(0,0,0,0)',
      bottomLineColor: COLORS.dd,
      bottomFillColor1: 'rgba(255,92,92,0.05)',
      bottomFillColor2: 'rgba(255,92,92,0.45)',
      lineWidth: 1,
      title: 'drawdown',
    });
    this.syncTimeScales();
  }

  private syncTimeScales(): void {
    let syncing = false;
    const link = (from: IChartApi, to: IChartApi) =>
      from.timeScale().subscribeVisibleLogicalRangeChange((r: LogicalRange | null) => {
        if (syncing || !r) return;
        syncing = true;
        to.timeScale().setVisibleLogicalRange(r);
        syncing = false;
      });
    link(this.eq, this.dd);
    link(this.dd, this.eq);
  }

  /** Replaces the whole curve (first load, or after a reconnect that lost history). */
  seed(curve: CurvePoint[]): void {
    const eq: LineData[] = [];
    const dd: LineData[] = [];
    this.peak = -Infinity;
    for (const p of curve) {
      if (!isNum(p.ts) || !isNum(p.equity)) continue;
      const time = t(nsToSec(p.ts));
      eq.push({ time, value: p.equity });
      this.peak = Math.max(this.peak, p.equity);
      dd.push({ time, value: isNum(p.drawdown) ? p.drawdown : p.equity - this.peak });
    }
    const e = dedupe(eq);
    const d = dedupe(dd);
    this.eqSeries.setData(e);
    this.ddSeries.setData(d);
    this.lastTime = e.length ? (e[e.length - 1].time as number) : -Infinity;
    this.seeded = true;
    const pend = this.pending;
    this.pending = [];
    for (const p of pend) this.push(p);
    this.eq.timeScale().fitContent();
    this.dd.timeScale().fitContent();
  }

  /** Appends one live P&L tick (buffered until the curve is seeded). */
  push(p: PnlTick): void {
    if (!isNum(p.ts) || !isNum(p.equity)) return;
    if (!this.seeded) {
      this.pending.push(p);
      if (this.pending.length > 5000) this.pending.shift();
      return;
    }
    const sec = nsToSec(p.ts);
    if (sec < this.lastTime) return;
    this.lastTime = sec;
    this.peak = Math.max(this.peak, p.equity);
    const dd = isNum(p.drawdown) ? p.drawdown : p.equity - this.peak;
    this.eqSeries.update({ time: t(sec), value: p.equity });
    this.ddSeries.update({ time: t(sec), value: dd });
  }
}

export interface TradeMarker {
  ts: number;
  action: string;
  z: number | null;
}

function markerFor(tr: TradeMarker): SeriesMarker<Time> {
  const time = t(nsToSec(tr.ts));
  const zt = isNum(tr.z) ? ` ${tr.z.toFixed(2)}` : '';
  switch (tr.action) {
    case 'enter_long':
      return { time, position: 'belowBar', shape: 'arrowUp', color: COLORS.long, text: 'L' + zt };
    case 'enter_short':
      return { time, position: 'aboveBar', shape: 'arrowDown', color: COLORS.short, text: 'S' + zt };
    case 'stop':
      return { time, position: 'inBar', shape: 'square', color: COLORS.stop, text: 'stop' + zt };
    default:
      return { time, position: 'inBar', shape: 'circle', color: COLORS.exit, text: 'X' + zt };
  }
}

/**
 * Pair panel chart: pane 0 has both legs' prices (y on the right scale, x on the left),
 * pane 1 the spread z-score with ±entry/±exit/±stop bands and trade markers.
 */
export class PairChart {
  private readonly chart: IChartApi;
  private readonly ySeries: ISeriesApi<'Line'>;
  private readonly xSeries: ISeriesApi<'Line'>;
  private readonly zSeries: ISeriesApi<'Line'>;
  private readonly markers: ISeriesMarkersPluginApi<Time>;
  private markerList: SeriesMarker<Time>[] = [];
  private bands: IPriceLine[] = [];
  private bandKey = '';
  private lastZTime = -Infinity;

  constructor(el: HTMLElement) {
    this.chart = createChart(el, {
      ...baseOptions(),
      leftPriceScale: { visible: true, borderColor: COLORS.border },
      rightPriceScale: { visible: true, borderColor: COLORS.border },
    });
    this.ySeries = this.chart.addSeries(LineSeries, { color: COLORS.y, lineWidth: 1, priceScaleId: 'right', title: 'y', priceLineVisible: false }, 0);
    this.xSeries = this.chart.addSeries(LineSeries, { color: COLORS.x, lineWidth: 1, priceScaleId: 'left', title: 'x', priceLineVisible: false }, 0);
    this.zSeries = this.chart.addSeries(LineSeries, { color: COLORS.z, lineWidth: 2, title: 'z', priceLineVisible: false }, 1);
    this.markers = createSeriesMarkers(this.zSeries, []);
    const panes = this.chart.panes();
    if (panes.length > 1) {
      panes[0].setStretchFactor(1);
      panes[1].setStretchFactor(1);
    }
  }

  /** Loads the history of a newly selected pair. */
  load(pair: Pair, history: PairHistoryPoint[], trades: TradeMarker[]): void {
    const ys: (LineData | WhitespaceData)[] = [];
    const xs: (LineData | WhitespaceData)[] = [];
    const zs: (LineData | WhitespaceData)[] = [];
    const sorted = history.filter((h) => isNum(h.ts)).sort((a, b) => a.ts - b.ts);
    for (const h of sorted) {
      const time = t(nsToSec(h.ts));
      ys.push(isNum(h.y) ? { time, value: h.y } : { time });
      xs.push(isNum(h.x) ? { time, value: h.x } : { time });
      zs.push(isNum(h.z) ? { time, value: h.z } : { time });
    }
    this.ySeries.applyOptions({ title: pair.y });
    this.xSeries.applyOptions({ title: pair.x });
    this.ySeries.setData(dedupe(ys));
    this.xSeries.setData(dedupe(xs));
    const z = dedupe(zs);
    this.zSeries.setData(z);
    this.lastZTime = z.length ? (z[z.length - 1].time as number) : -Infinity;
    this.markerList = trades
      .filter((tr) => isNum(tr.ts))
      .sort((a, b) => a.ts - b.ts)
      .map(markerFor);
    this.markers.setMarkers(this.markerList);
    this.bandKey = '';
    this.setBands(pair);
    this.chart.timeScale().fitContent();
  }

  /** Draws horizontal bands at ±entry, ±exit, ±stop (redrawn only when they change). */
  setBands(pair: Pair): void {
    const key = `${pair.entry_z}|${pair.exit_z}|${pair.stop_z}`;
    if (key === this.bandKey) return;
    this.bandKey = key;
    for (const l of this.bands) this.zSeries.removePriceLine(l);
    this.bands = [];
    const add = (v: number, color: string, style: LineStyle, title: string) => {
      if (!isNum(v)) return;
      this.bands.push(this.zSeries.createPriceLine({ price: v, color, lineWidth: 1, lineStyle: style, axisLabelVisible: true, title }));
    };
    add(0, COLORS.grid, LineStyle.Solid, '');
    for (const s of [1, -1]) {
      add(s * pair.entry_z, COLORS.entry, LineStyle.Dashed, s > 0 ? 'entry' : '');
      add(s * pair.exit_z, COLORS.exit, LineStyle.Dotted, s > 0 ? 'exit' : '');
      add(s * pair.stop_z, COLORS.stop, LineStyle.Solid, s > 0 ? 'stop' : '');
    }
  }

  /** Appends a live z value (at the given event time, ns). */
  appendZ(ts: number, z: number | null): void {
    if (!isNum(z) || !isNum(ts) || ts <= 0) return;
    const sec = nsToSec(ts);
    if (sec < this.lastZTime) return;
    this.lastZTime = sec;
    this.zSeries.update({ time: t(sec), value: z });
  }

  /** Adds a live trade marker (from the signals stream). */
  addTrade(tr: PairTrade): void {
    if (!isNum(tr.ts)) return;
    this.markerList.push(markerFor(tr));
    this.markerList.sort((a, b) => (a.time as number) - (b.time as number));
    if (this.markerList.length > 500) this.markerList.splice(0, this.markerList.length - 500);
    this.markers.setMarkers(this.markerList);
  }
}
