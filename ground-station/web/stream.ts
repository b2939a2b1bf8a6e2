/**
 * The dashboard's live stream (Server-Sent Events on GET /api/stream). The station batches: one fleet delta per
 * interval (default 400 ms) for all connections, computed only while someone watches, never one message per
 * telemetry packet; alerts when their JSON changes (checked every 2 s); rollout updates coalesced per rollout and
 * flushed with the next batch. A connection starts with a full frame; a slow connection whose socket buffer is full
 * skips batches and gets a full frame once it drains, so no delta is ever applied to the wrong base.
 *
 * Events: `setup` (origin, depots; once), `fleet` (FleetDelta), `alerts` (the /api/alerts shape), `rollout` (one
 * rollout in the /api/rollouts/:id shape), `estop` (a fleet emergency stop was sent), and `: ping` comments.
 */
import { bearerMatches } from './auth.js';
import { type DroneFrame, type FleetDelta, fleetDelta } from './stream-frame.js';

export interface StreamSource {
  /** Every drone's frame now. */
  fleet(nowMs: number): DroneFrame[];
  /** The alerts view (GET /api/alerts). */
  alerts(nowMs: number): unknown;
  /** Sent once per connection: the fleet origin, depots and anything else the map needs first. */
  setup(nowMs: number): unknown;
}

export interface StreamOptions {
  /** Batch interval of fleet deltas, ms (100..5000). */
  readonly intervalMs?: number;
  /** How often alerts are compared, ms. */
  readonly alertsEveryMs?: number;
  /** Comment line that keeps proxies from closing an idle stream, ms. */
  readonly heartbeatMs?: number;
  readonly clock?: () => number;
}

/** The part of an HTTP response the stream writes to (node's ServerResponse satisfies it). */
export interface StreamSink {
  write(chunk: string): boolean;
  end(): void;
  readonly writableNeedDrain: boolean;
  once(event: 'close', listener: () => void): unknown;
}

interface Client {
  readonly sink: StreamSink;
  needsFull: boolean;
}

export interface StreamStats {
  readonly clients: number;
  readonly batches: number;
  readonly bytesSent: number;
  readonly skipped: number;
}

const sse = (event: string, data: unknown): string => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

/** True when the URL's `access_token` query parameter is the token (EventSource cannot send headers). */
export function queryTokenMatches(url: string, token: string): boolean {
  const q = url.indexOf('?');
  if (q < 0) return false;
  const value = new URLSearchParams(url.slice(q + 1)).get('access_token');
  return value !== null && value.length > 0 && bearerMatches(`Bearer ${value}`, token);
}

export class DashboardStream {
  private readonly source: StreamSource;
  private readonly intervalMs: number;
  private readonly alertsEveryMs: number;
  private readonly heartbeatMs: number;
  private readonly clock: () => number;
  private readonly clients = new Set<Client>();
  private readonly previous = new Map<string, string>();
  private lastFrames: DroneFrame[] = [];
  private alertsText = '';
  private alertsAtMs = Number.NEGATIVE_INFINITY;
  private readonly pendingRollouts = new Map<string, unknown>();
  private timer: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private closed = false;
  private counters = { batches: 0, bytesSent: 0, skipped: 0 };

  constructor(source: StreamSource, options: StreamOptions = {}) {
    this.source = source;
    this.intervalMs = Math.min(5000, Math.max(100, options.intervalMs ?? 400));
    this.alertsEveryMs = options.alertsEveryMs ?? 2000;
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
    this.clock = options.clock ?? Date.now;
  }

  get stats(): StreamStats {
    return { clients: this.clients.size, ...this.counters };
  }

  /** Start streaming to a response whose SSE headers are written; returns the detach function. */
  attach(sink: StreamSink): () => void {
    if (this.closed) {
      sink.end();
      return () => undefined;
    }
    const client: Client = { sink, needsFull: false };
    const first = this.clients.size === 0;
    this.clients.add(client);
    const nowMs = this.clock();
    if (first) this.refresh(nowMs);
    this.send(client, sse('setup', this.source.setup(nowMs)));
    this.send(client, sse('fleet', { upsert: this.lastFrames, remove: [], full: true } satisfies FleetDelta));
    if (this.alertsText === '') this.refreshAlerts(nowMs);
    this.send(client, `event: alerts\ndata: ${this.alertsText}\n\n`);
    this.start();
    const detach = () => {
      if (!this.clients.delete(client)) return;
      if (this.clients.size === 0) this.stop();
    };
    sink.once('close', detach);
    return detach;
  }

  /** A rollout changed: sent with the next batch (several changes of one rollout in a batch send the last). */
  publishRollout(rollout: { id: string } & Record<string, unknown>): void {
    if (this.clients.size === 0) return;
    this.pendingRollouts.set(rollout.id, rollout);
  }

  /** Something every open page must see now (e.g. an emergency stop). */
  broadcast(event: string, data: unknown): void {
    const text = sse(event, data);
    for (const c of this.clients) this.send(c, text);
  }

  /** One batch now (the timer calls this; tests and benchmarks may too). */
  tick(): void {
    if (this.clients.size === 0) return;
    const nowMs = this.clock();
    const delta = this.refresh(nowMs);
    this.counters.batches++;
    const parts: string[] = [];
    if (delta.upsert.length > 0 || delta.remove.length > 0) parts.push(sse('fleet', delta));
    if (nowMs - this.alertsAtMs >= this.alertsEveryMs) {
      const before = this.alertsText;
      this.refreshAlerts(nowMs);
      if (this.alertsText !== before) parts.push(`event: alerts\ndata: ${this.alertsText}\n\n`);
    }
    for (const r of this.pendingRollouts.values()) parts.push(sse('rollout', r));
    this.pendingRollouts.clear();
    const text = parts.join('');
    let full: string | null = null;
    for (const c of this.clients) {
      if (c.sink.writableNeedDrain) {
        c.needsFull = true;
        this.counters.skipped++;
        continue;
      }
      if (c.needsFull) {
        full ??= sse('fleet', { upsert: this.lastFrames, remove: [], full: true } satisfies FleetDelta);
        c.needsFull = false;
        this.send(c, full + text.replace(/^event: fleet\ndata: .*\n\n/, ''));
      } else if (text !== '') {
        this.send(c, text);
      }
    }
  }

  /** End every stream and refuse new ones (the station is stopping). */
  close(): void {
    this.closed = true;
    this.stop();
    for (const c of this.clients) c.sink.end();
    this.clients.clear();
  }

  private refresh(nowMs: number): FleetDelta {
    const frames = this.source.fleet(nowMs);
    const delta = fleetDelta(this.previous, frames, false);
    this.lastFrames = frames;
    return delta;
  }

  private refreshAlerts(nowMs: number): void {
    this.alertsAtMs = nowMs;
    this.alertsText = JSON.stringify(this.source.alerts(nowMs));
  }

  private send(c: Client, text: string): void {
    if (text === '') return;
    c.sink.write(text);
    this.counters.bytesSent += text.length;
  }

  private start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.heartbeat = setInterval(() => {
      for (const c of this.clients) if (!c.sink.writableNeedDrain) this.send(c, ': ping\n\n');
    }, this.heartbeatMs);
    this.timer.unref();
    this.heartbeat.unref();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.timer = null;
    this.heartbeat = null;
    // Nobody watches: forget the shared base so the next first connection starts clean.
    this.previous.clear();
    this.lastFrames = [];
    this.alertsText = '';
    this.alertsAtMs = Number.NEGATIVE_INFINITY;
    this.pendingRollouts.clear();
  }
}
