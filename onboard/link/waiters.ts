/**
 * Waits on the vehicle state: "until OFFBOARD", "until disarmed", "until landed". Each wait is a predicate checked
 * when the state changes, a timeout on the injected clock, and an early end when the link goes down or stops.
 */
import type { Clock, TimerHandle } from './clock.js';

export type WaitResult =
  | { readonly ok: true; readonly waitedMs: number }
  | { readonly ok: false; readonly reason: 'timeout' | 'link-down' | 'cancelled'; readonly waitedMs: number };

interface Waiter {
  readonly predicate: () => boolean;
  readonly startMs: number;
  timer: TimerHandle | null;
  readonly resolve: (result: WaitResult) => void;
}

export class StateWaiters {
  private readonly waiters = new Set<Waiter>();

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.waiters.size;
  }

  /** Resolve when `predicate` holds (at once if it already does), or after `timeoutMs` with 'timeout'. */
  wait(predicate: () => boolean, timeoutMs: number): Promise<WaitResult> {
    if (predicate()) return Promise.resolve({ ok: true, waitedMs: 0 });
    return new Promise((resolve) => {
      const w: Waiter = { predicate, startMs: this.clock.nowMs(), timer: null, resolve };
      w.timer = this.clock.setTimer(() => this.end(w, 'timeout'), timeoutMs);
      this.waiters.add(w);
    });
  }

  /** Re-check every wait (call after the state changed). */
  check(): void {
    if (this.waiters.size === 0) return;
    for (const w of [...this.waiters]) {
      if (w.predicate()) this.end(w, null);
    }
  }

  /** End every wait with `reason`. */
  failAll(reason: 'link-down' | 'cancelled'): void {
    for (const w of [...this.waiters]) this.end(w, reason);
  }

  private end(w: Waiter, reason: 'timeout' | 'link-down' | 'cancelled' | null): void {
    if (!this.waiters.delete(w)) return;
    this.clock.clearTimer(w.timer);
    const waitedMs = this.clock.nowMs() - w.startMs;
    w.resolve(reason === null ? { ok: true, waitedMs } : { ok: false, reason, waitedMs });
  }
}
