// WebSocket client of /api/stream: subscribes, tracks the last seq per stream, resumes
// with `since` after a reconnect (exponential back-off 0.5 s → 5 s) and resyncs a
// lossless stream from a fresh snapshot when it sees a gap.

import type { ServerMessage } from './types';

export type ConnState = 'connecting' | 'live' | 'reconnecting' | 'offline';

export interface StreamHandlers {
  /** A full state of one stream: replace what is held. */
  snapshot(stream: string, items: { key: string; data: unknown }[], seq: number): void;
  /** One changed key (data null = key removed). */
  update(stream: string, key: string, data: unknown, seq: number): void;
  /** Called for every message, pongs included (drives "last update"). */
  message(): void;
  state(state: ConnState, detail: string): void;
  error(text: string): void;
}

/** Streams on which the server keeps only the latest value per key for slow clients. */
const CONFLATED = new Set(['pnl', 'pairs', 'screener']);

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 5000;
const PING_MS = 15000;
const STALE_MS = 45000;

export class StreamClient {
  private ws: WebSocket | null = null;
  private readonly seqs = new Map<string, number>();
  private readonly resyncing = new Set<string>();
  private backoff = BACKOFF_MIN_MS;
  private retryTimer = 0;
  private pingTimer = 0;
  private lastMessage = 0;
  private stopped = true;
  /** Number of successful opens; > 1 means the current connection is a reconnect. */
  opens = 0;
  gaps = 0;

  constructor(
    private readonly url: () => string,
    private readonly streams: string[],
    private readonly on: StreamHandlers,
  ) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  /** Closes and reconnects at once (after a token change). Seqs are forgotten: full snapshots. */
  restart(): void {
    this.seqs.clear();
    this.resyncing.clear();
    this.stop();
    this.backoff = BACKOFF_MIN_MS;
    this.start();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.onopen = ws.onclose = ws.onerror = ws.onmessage = null;
      ws.close();
    }
  }

  lastSeq(stream: string): number | undefined {
    return this.seqs.get(stream);
  }

  private connect(): void {
    if (this.stopped) return;
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url());
    } catch (e) {
      this.on.error(String(e));
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    this.on.state(this.opens === 0 ? 'connecting' : 'reconnecting', '');
    ws.onopen = () => {
      this.opens++;
      this.backoff = BACKOFF_MIN_MS;
      this.lastMessage = Date.now();
      const since: Record<string, number> = {};
      for (const [s, q] of this.seqs) since[s] = q;
      const msg: Record<string, unknown> = { op: 'subscribe', streams: this.streams };
      if (Object.keys(since).length) msg.since = since;
      ws.send(JSON.stringify(msg));
      this.on.state('live', '');
      clearInterval(this.pingTimer);
      this.pingTimer = window.setInterval(() => this.keepAlive(), PING_MS);
    };
    ws.onmessage = (ev) => this.handle(ev.data);
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      clearInterval(this.pingTimer);
      this.on.state('reconnecting', ev.code === 1000 ? '' : `closed (${ev.code})`);
      this.scheduleRetry();
    };
    ws.onerror = () => {
      /* onclose follows and schedules the retry */
    };
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    const delay = this.backoff;
    this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
    this.retryTimer = window.setTimeout(() => this.connect(), delay);
  }

  private keepAlive(): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    if (Date.now() - this.lastMessage > STALE_MS) {
      // Nothing (not even a pong) for too long: the connection is dead, start over.
      ws.close();
      return;
    }
    ws.send(JSON.stringify({ op: 'ping' }));
  }

  private handle(raw: unknown): void {
    this.lastMessage = Date.now();
    if (typeof raw !== 'string') return;
    let parsed: ServerMessage | ServerMessage[];
    try {
      parsed = JSON.parse(raw) as ServerMessage | ServerMessage[];
    } catch {
      this.on.error('unparsable message');
      return;
    }
    // A frame is one message, or an array of them (what queued for this client since its last
    // frame, in order).
    for (const msg of Array.isArray(parsed) ? parsed : [parsed]) this.apply(msg);
  }

  private apply(msg: ServerMessage): void {
    this.on.message();
    switch (msg.type) {
      case 'snapshot': {
        this.seqs.set(msg.stream, msg.seq);
        this.resyncing.delete(msg.stream);
        const items = (msg.items ?? []).map((it) => ({ key: String(it.key), data: it.data }));
        this.on.snapshot(msg.stream, items, msg.seq);
        break;
      }
      case 'update': {
        const last = this.seqs.get(msg.stream);
        if (last !== undefined && msg.seq <= last) return; // replayed twice: already applied
        if (last !== undefined && msg.seq > last + 1 && !CONFLATED.has(msg.stream)) {
          this.gaps++;
          this.resync(msg.stream);
        }
        this.seqs.set(msg.stream, msg.seq);
        this.on.update(msg.stream, String(msg.key), msg.data, msg.seq);
        break;
      }
      case 'pong':
        break;
      case 'error':
        this.on.error(msg.error);
        break;
    }
  }

  /** Asks for a fresh snapshot of one stream (updates were lost on a lossless stream). */
  private resync(stream: string): void {
    if (this.resyncing.has(stream) || !this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    this.resyncing.add(stream);
    this.ws.send(JSON.stringify({ op: 'subscribe', streams: [stream] }));
  }
}
