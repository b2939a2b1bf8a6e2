/**
 * The clock and timers every part of the link uses, injected so tests and faster-than-real-time runs can step time
 * instead of waiting for it. `nowMs` is monotonic (ages and timeouts); `wallMs` is Unix time (MAVLink signing
 * timestamps only).
 */

/** Opaque handle of a scheduled callback. */
export type TimerHandle = object;

export interface Clock {
  /** Monotonic milliseconds (arbitrary origin); never goes backwards. */
  nowMs(): number;
  /** Unix wall time in milliseconds. */
  wallMs(): number;
  /** Run `callback` once after `delayMs`. */
  setTimer(callback: () => void, delayMs: number): TimerHandle;
  clearTimer(handle: TimerHandle | null | undefined): void;
}

/** The real clock: performance.now() for ages, Date.now() for signing, Node timers. */
export const systemClock: Clock = {
  nowMs: () => performance.now(),
  wallMs: () => Date.now(),
  setTimer: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimer: (handle) => {
    if (handle) clearTimeout(handle as NodeJS.Timeout);
  },
};

/**
 * Simulated time running `scale` times faster than the wall clock, for flying a simulator that runs faster than
 * real time (aerie sitl --speed F): every age, timeout and timer of the runtime is then in the simulator's seconds.
 * Never for a real vehicle.
 */
export function scaledClock(scale: number): Clock {
  if (scale === 1) return systemClock;
  const origin = performance.now();
  return {
    nowMs: () => origin + (performance.now() - origin) * scale,
    wallMs: () => Date.now(),
    setTimer: (callback, delayMs) => setTimeout(callback, delayMs / scale),
    clearTimer: (handle) => {
      if (handle) clearTimeout(handle as NodeJS.Timeout);
    },
  };
}

interface ManualTimer {
  readonly dueMs: number;
  readonly order: number;
  readonly callback: () => void;
}

/**
 * A clock advanced by hand: timers fire only inside `advance`/`advanceTo`, in due-time order, with `nowMs` set to
 * each timer's due time while it runs (so a periodic timer re-armed from its callback keeps an exact period).
 * Used by unit tests, tlog replays and simulations that run faster than real time.
 */
export class ManualClock implements Clock {
  private now: number;
  private order = 0;
  private readonly timers = new Set<ManualTimer>();

  constructor(
    startMs = 0,
    private readonly wallEpochMs = Date.now(),
  ) {
    this.now = startMs;
  }

  nowMs(): number {
    return this.now;
  }

  wallMs(): number {
    return this.wallEpochMs + this.now;
  }

  setTimer(callback: () => void, delayMs: number): TimerHandle {
    const timer: ManualTimer = { dueMs: this.now + Math.max(0, delayMs), order: this.order++, callback };
    this.timers.add(timer);
    return timer;
  }

  clearTimer(handle: TimerHandle | null | undefined): void {
    if (handle) this.timers.delete(handle as ManualTimer);
  }

  /** Timers scheduled and not yet fired or cleared. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Move time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    this.advanceTo(this.now + ms);
  }

  /** Move time forward to `targetMs` (never backwards), firing due timers in order. */
  advanceTo(targetMs: number): void {
    for (;;) {
      let next: ManualTimer | null = null;
      for (const t of this.timers) {
        if (
          t.dueMs <= targetMs &&
          (next === null || t.dueMs < next.dueMs || (t.dueMs === next.dueMs && t.order < next.order))
        ) {
          next = t;
        }
      }
      if (next === null) break;
      this.timers.delete(next);
      if (next.dueMs > this.now) this.now = next.dueMs;
      next.callback();
    }
    if (targetMs > this.now) this.now = targetMs;
  }
}
