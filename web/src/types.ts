// Shapes of the pairflow HTTP/WebSocket API (see web/README.md). Timestamps are
// nanoseconds since the Unix epoch (UTC). Fields the server may omit are optional.

export type Role = 'viewer' | 'operator' | 'admin';
export type KillSwitch = 'none' | 'pause' | 'flatten' | 'halt';
export type TradingState = 'active' | 'reduce_only' | 'halted';

export interface Status {
  run: string;
  state: 'running' | 'finished' | string;
  ts: number;
  time: string;
  ticks: number;
  bars: number;
  slices: number;
  speed: number;
  kill_switch: KillSwitch | string;
  trading_state: TradingState | string;
  active_pairs: number;
  equity: number;
  net_pnl: number;
  role?: Role | string;
  read_only?: boolean;
  clients?: number;
}

export interface CurvePoint {
  ts: number;
  equity: number;
  drawdown: number;
}

export interface PnlResponse {
  net_pnl: number;
  gross_pnl: number;
  fees: number;
  equity: number;
  initial_capital: number;
  drawdown: number;
  max_drawdown: number;
  curve: CurvePoint[];
}

/** Data of the `pnl` stream (key "total"). */
export interface PnlTick {
  ts: number;
  equity: number;
  net_pnl: number;
  gross_pnl?: number;
  fees?: number;
  drawdown?: number;
}

export interface Pair {
  id: number;
  name: string;
  y: string;
  x: string;
  state: 'flat' | 'long' | 'short' | string;
  enabled: boolean;
  z: number | null;
  hedge_ratio: number;
  half_life: number;
  pvalue: number;
  entry_z: number;
  exit_z: number;
  stop_z: number;
  qty_y: number;
  qty_x: number;
  net_pnl: number;
  trades: number;
  ts?: number;
}

export interface PairHistoryPoint {
  ts: number;
  z: number | null;
  y: number | null;
  x: number | null;
}

export interface PairTrade {
  ts: number;
  action: 'enter_long' | 'enter_short' | 'exit' | 'stop' | string;
  z: number | null;
}

/** GET /api/pairs/{id}: the PAIR object, its last bars and its signals (entries and exits). */
export interface PairDetail extends Pair {
  signals?: PairTrade[];
  history?: PairHistoryPoint[];
}

export interface Candidate {
  name: string;
  y: string;
  x: string;
  pvalue: number;
  adj_pvalue: number;
  hedge_ratio: number;
  half_life: number;
  active: boolean;
}

export interface ScreenerResponse {
  tests: number;
  passing: number;
  candidates: Candidate[];
}

export interface Position {
  symbol: string;
  qty: number;
  price: number;
  value: number;
}

export interface Order {
  id: number;
  intent: number;
  pair: number;
  symbol: string;
  side: 'buy' | 'sell' | string;
  qty: number;
  filled: number;
  price: number;
  type: string;
  status: string;
  ts: number;
}

export interface Execution {
  ts: number;
  order: number;
  pair: number;
  symbol: string;
  side: string;
  qty: number;
  price: number;
  fee: number;
  status: string;
  reason: string;
  /** Stream key (the stream seq), filled in by the client for ordering. */
  _key?: number;
}

export interface Signal {
  ts: number;
  pair: number;
  name: string;
  action: string;
  z: number | null;
  hedge_ratio: number;
}

export interface AuditEntry {
  ts: number;
  action: string;
  mode: string;
  by: string;
  reason: string;
}

export interface Risk {
  kill_switch: string;
  trading_state: string;
  unhedged_notional: number;
  denials?: Record<string, number>;
  audit?: AuditEntry[];
  last_audit?: AuditEntry | null;
  limits?: Record<string, unknown>;
}

export interface Job {
  name: string;
  messages_in: number;
  messages_out: number;
  rate_in: number;
  lag: number;
  rejects?: Record<string, number>;
  dlq: number;
}

export interface ControlAnswer {
  ok: boolean;
  error?: string;
  kill_switch?: string;
  trading_state?: string;
}

/** Messages the server sends on /api/stream. */
export type ServerMessage =
  | { type: 'snapshot'; stream: string; seq: number; items: { key: string | number; data: unknown }[] }
  | { type: 'update'; stream: string; seq: number; key: string | number; data: unknown }
  | { type: 'pong' }
  | { type: 'error'; error: string };
