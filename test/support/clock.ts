/**
 * The time a scenario runs on. Against a simulated fleet in lockstep, time moves only while the scenario waits: the
 * clock steps the fleet one tick at a time and lets the sockets deliver between ticks, so "wait 1 s" is exactly one
 * simulated second however loaded the machine is. Against real PX4 (or a fleet running on its own), it is the wall
 * clock, optionally scaled by the fleet's speed factor.
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToIo } from 'node:timers/promises';
import type { SitlFleet } from '../../sitl/index.js';

export interface TestClock {
  readonly kind: 'lockstep' | 'wall';
  /** Seconds on this clock (simulated in lockstep) since it started. */
  nowS(): number;
  sleep(seconds: number): Promise<void>;
  /** Resolve true as soon as `predicate()` holds, false after `timeoutS` on this clock. */
  until(predicate: () => boolean, timeoutS: number): Promise<boolean>;
  /** Call `fn` every `periodS` on this clock (first call after one period) until the returned function is called. */
  every(periodS: number, fn: () => void): () => void;
}

interface Waiter {
  readonly predicate: () => boolean;
  readonly deadlineS: number;
  readonly resolve: (held: boolean) => void;
  readonly reject: (err: unknown) => void;
}

interface Periodic {
  readonly periodS: number;
  nextS: number;
  readonly fn: () => void;
  stopped: boolean;
}

/** Lockstep clock over a fleet: one pump steps the fleet while anyone waits. */
export class LockstepClock implements TestClock {
  readonly kind = 'lockstep' as const;
  private readonly waiters: Waiter[] = [];
  private readonly periodic: Periodic[] = [];
  private pumping = false;

  constructor(
    private readonly fleet: SitlFleet,
    /** Socket turns between ticks: enough for a datagram and its answer to cross loopback. */
    private readonly ioTurnsPerTick = 2,
  ) {}

  nowS(): number {
    return this.fleet.timeS;
  }

  sleep(seconds: number): Promise<void> {
    return this.until(() => false, seconds).then(() => undefined);
  }

  until(predicate: () => boolean, timeoutS: number): Promise<boolean> {
    if (predicate()) return Promise.resolve(true);
    return new Promise((resolve, reject) => {
      this.waiters.push({ predicate, deadlineS: this.fleet.timeS + timeoutS, resolve, reject });
      if (!this.pumping) void this.pump();
    });
  }

  every(periodS: number, fn: () => void): () => void {
    const task: Periodic = { periodS, nextS: this.fleet.timeS + periodS, fn, stopped: false };
    this.periodic.push(task);
    return () => {
      task.stopped = true;
      const i = this.periodic.indexOf(task);
      if (i >= 0) this.periodic.splice(i, 1);
    };
  }

  private settle(): void {
    const now = this.fleet.timeS;
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i];
      if (w.predicate()) {
        this.waiters.splice(i, 1);
        w.resolve(true);
      } else if (now >= w.deadlineS - 1e-9) {
        this.waiters.splice(i, 1);
        w.resolve(false);
      }
    }
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      for (;;) {
        // Let datagrams already sent arrive and be answered before deciding anything.
        for (let k = 0; k < this.ioTurnsPerTick; k++) await yieldToIo();
        this.settle();
        if (this.waiters.length === 0) return;
        this.fleet.stepLockstep(this.fleet.tickS);
        const now = this.fleet.timeS;
        for (const task of [...this.periodic]) {
          if (task.stopped || now + 1e-9 < task.nextS) continue;
          task.nextS += task.periodS;
          if (task.nextS <= now) task.nextS = now + task.periodS;
          task.fn();
        }
      }
    } catch (err) {
      // A periodic task or predicate threw: fail every waiter now rather than hang the scenario.
      for (const w of this.waiters.splice(0)) w.reject(err);
    } finally {
      this.pumping = false;
    }
  }
}

/** Wall clock, optionally scaled (a fleet running `speed` times faster than real time). */
export class WallClock implements TestClock {
  readonly kind = 'wall' as const;
  private readonly startMs = performance.now();

  constructor(private readonly speed = 1) {}

  nowS(): number {
    return ((performance.now() - this.startMs) / 1000) * this.speed;
  }

  sleep(seconds: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, (seconds * 1000) / this.speed));
  }

  until(predicate: () => boolean, timeoutS: number): Promise<boolean> {
    const deadline = this.nowS() + timeoutS;
    return new Promise((resolve) => {
      const check = (): void => {
        if (predicate()) resolve(true);
        else if (this.nowS() >= deadline) resolve(false);
        else setTimeout(check, 5);
      };
      check();
    });
  }

  every(periodS: number, fn: () => void): () => void {
    const timer = setInterval(fn, (periodS * 1000) / this.speed);
    return () => clearInterval(timer);
  }
}
