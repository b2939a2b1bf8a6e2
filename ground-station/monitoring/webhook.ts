/**
 * Webhook notifier: POSTs alert transitions as JSON to each configured URL, in order per URL, retrying with
 * exponential backoff and jitter. notify() only queues and returns, so the evaluation loop never waits on a slow or
 * dead receiver. The fetch function, sleep, clock and randomness are injected (ports), so tests drive it exactly.
 */
import { componentLogger } from '../../shared/log/index.js';
import type { AlertStateName, AlertTransition } from './alert-engine.js';

const log = componentLogger('alert-webhook');

export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string; signal: AbortSignal },
) => Promise<{ status: number; headers: { get(name: string): string | null } }>;

export interface WebhookOptions {
  readonly urls: readonly string[];
  readonly fetch?: FetchLike;
  /** Attempts per delivery, first included (default 6). */
  readonly maxAttempts?: number;
  /** First retry delay, ms (default 500); doubles per attempt. */
  readonly initialBackoffMs?: number;
  /** Longest retry delay, ms (default 60 000); also caps a receiver's Retry-After. */
  readonly maxBackoffMs?: number;
  /** One attempt's time limit, ms (default 5000). */
  readonly timeoutMs?: number;
  /** Deliveries waiting per URL before the oldest is dropped (default 1000). */
  readonly maxQueue?: number;
  /** Which transitions are sent (default firing and resolved; pending ones are noise for a pager). */
  readonly states?: readonly (AlertStateName | 'inactive')[];
  readonly headers?: Readonly<Record<string, string>>;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly nowMs?: () => number;
  /** Uniform [0, 1), for jitter. */
  readonly random?: () => number;
}

export interface WebhookStats {
  readonly delivered: number;
  /** Deliveries given up on (attempts exhausted, or a 4xx that retrying cannot fix). */
  readonly failed: number;
  readonly retries: number;
  /** Deliveries dropped because a queue was full. */
  readonly dropped: number;
  readonly queued: number;
}

/** The JSON body each POST carries. */
export interface WebhookPayload {
  readonly schema: '1.0';
  readonly kind: 'alert-transitions';
  readonly sentAtMs: number;
  readonly transitions: readonly AlertTransition[];
}

interface Queue {
  readonly url: string;
  readonly items: AlertTransition[][];
  running: boolean;
}

const retryable = (status: number): boolean => status === 408 || status === 425 || status === 429 || status >= 500;

export class WebhookNotifier {
  private readonly queues: Queue[];
  private readonly opts: Required<Omit<WebhookOptions, 'urls' | 'headers'>> & { headers: Record<string, string> };
  private readonly idleWaiters: (() => void)[] = [];
  private stopped = false;
  private wakeOnStop: () => void = () => {};
  private readonly stopping = new Promise<void>((resolve) => {
    this.wakeOnStop = resolve;
  });
  private counters = { delivered: 0, failed: 0, retries: 0, dropped: 0 };

  constructor(options: WebhookOptions) {
    this.queues = options.urls.map((url) => ({ url, items: [], running: false }));
    this.opts = {
      fetch: options.fetch ?? (globalThis.fetch as unknown as FetchLike),
      maxAttempts: options.maxAttempts ?? 6,
      initialBackoffMs: options.initialBackoffMs ?? 500,
      maxBackoffMs: options.maxBackoffMs ?? 60_000,
      timeoutMs: options.timeoutMs ?? 5000,
      maxQueue: options.maxQueue ?? 1000,
      states: options.states ?? ['firing', 'resolved'],
      headers: { 'content-type': 'application/json', ...options.headers },
      sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
      nowMs: options.nowMs ?? Date.now,
      random: options.random ?? Math.random,
    };
  }

  /** Queue the transitions worth sending for every URL and return at once. */
  notify(transitions: readonly AlertTransition[]): void {
    if (this.stopped) return;
    const wanted = transitions.filter((t) => this.opts.states.includes(t.to));
    if (wanted.length === 0) return;
    for (const q of this.queues) {
      if (q.items.length >= this.opts.maxQueue) {
        q.items.shift();
        this.counters.dropped++;
      }
      q.items.push(wanted);
      if (!q.running) void this.pump(q);
    }
  }

  private async pump(q: Queue): Promise<void> {
    q.running = true;
    try {
      // Taken off the queue before sending: a full queue drops the oldest waiting batch, never the one in flight.
      while (!this.stopped) {
        const batch = q.items.shift();
        if (!batch) break;
        await this.deliver(q.url, batch);
      }
    } finally {
      q.running = false;
      if (this.queues.every((x) => !x.running)) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  private async deliver(url: string, transitions: AlertTransition[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const body: WebhookPayload = {
        schema: '1.0',
        kind: 'alert-transitions',
        sentAtMs: this.opts.nowMs(),
        transitions,
      };
      let retryAfterMs: number | null = null;
      let outcome: 'ok' | 'retry' | 'give-up';
      let detail: string;
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), this.opts.timeoutMs);
      try {
        const res = await this.opts.fetch(url, {
          method: 'POST',
          headers: this.opts.headers,
          body: JSON.stringify(body),
          signal: abort.signal,
        });
        detail = `HTTP ${res.status}`;
        if (res.status >= 200 && res.status < 300) outcome = 'ok';
        else if (retryable(res.status)) {
          outcome = 'retry';
          const ra = Number(res.headers.get('retry-after'));
          if (Number.isFinite(ra) && ra >= 0) retryAfterMs = ra * 1000;
        } else outcome = 'give-up';
      } catch (err) {
        outcome = 'retry';
        detail = err instanceof Error ? err.message : String(err);
      } finally {
        clearTimeout(timer);
      }
      if (outcome === 'ok') {
        this.counters.delivered++;
        return;
      }
      if (outcome === 'give-up' || attempt >= this.opts.maxAttempts || this.stopped) {
        this.counters.failed++;
        log.warn({ url, attempts: attempt, detail, transitions: transitions.length }, 'alert webhook delivery failed');
        return;
      }
      this.counters.retries++;
      const base = Math.min(this.opts.maxBackoffMs, this.opts.initialBackoffMs * 2 ** (attempt - 1));
      // Jitter in [base/2, base) so many stations do not retry in step; a receiver's Retry-After wins if longer.
      const delay = Math.min(
        this.opts.maxBackoffMs,
        Math.max(retryAfterMs ?? 0, base * (0.5 + this.opts.random() / 2)),
      );
      // A stop() cuts the wait short instead of holding shutdown for up to maxBackoffMs.
      await Promise.race([this.opts.sleep(delay), this.stopping]);
      if (this.stopped) {
        this.counters.dropped++;
        return;
      }
    }
  }

  /** Resolves when every queue is empty (delivered or given up). */
  flush(): Promise<void> {
    if (this.queues.every((q) => !q.running)) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stop sending: nothing new is queued, retries end after the attempt in flight; resolves when idle. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeOnStop();
    await this.flush();
  }

  stats(): WebhookStats {
    return { ...this.counters, queued: this.queues.reduce((s, q) => s + q.items.length, 0) };
  }
}
