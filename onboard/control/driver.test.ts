import { describe, expect, it } from 'vitest';
import { type Clock, ManualClock, type TimerHandle } from '../link/index.js';
import type { ControlLoop, TickReport } from './control-loop.js';
import { LoopDriver, type PreciseWait } from './driver.js';

/** The loop as the driver sees it: records each tick's time; a tick can be held open to force an overrun. */
function fakeLoop() {
  const ticksUs: number[] = [];
  let release: (() => void) | null = null;
  let hold = false;
  const loop = {
    tick(nowUs: number): Promise<TickReport> {
      ticksUs.push(nowUs);
      if (!hold) return Promise.resolve({} as TickReport);
      return new Promise((resolve) => {
        release = () => resolve({} as TickReport);
      });
    },
  };
  return {
    loop: loop as unknown as ControlLoop,
    ticksUs,
    holdTicks: (on: boolean) => {
      hold = on;
    },
    finish: () => release?.(),
  };
}

/** A clock whose timers fire when told, as early or as late as told (Node's timers are good to a millisecond). */
class SlackClock implements Pick<Clock, 'nowMs' | 'setTimer' | 'clearTimer'> {
  now = 0;
  readonly requestedDelaysMs: number[] = [];
  private timers: { dueMs: number; callback: () => void }[] = [];

  nowMs(): number {
    return this.now;
  }

  setTimer(callback: () => void, delayMs: number): TimerHandle {
    this.requestedDelaysMs.push(delayMs);
    const timer = { dueMs: this.now + delayMs, callback };
    this.timers.push(timer);
    return timer;
  }

  clearTimer(handle: TimerHandle | null | undefined): void {
    this.timers = this.timers.filter((t) => t !== handle);
  }

  /** Fire the next timer `earlyMs` before its due time (negative: late). */
  fireNext(earlyMs: number): void {
    this.timers.sort((a, b) => a.dueMs - b.dueMs);
    const t = this.timers.shift();
    if (!t) throw new Error('no timer armed');
    this.now = Math.max(this.now, t.dueMs - earlyMs);
    t.callback();
  }
}

const flush = () => new Promise((r) => setImmediate(r));

describe('LoopDriver', () => {
  it('ticks on an absolute schedule from a simulated clock: no drift, no lateness, no sleeping', async () => {
    const clock = new ManualClock(1000);
    const f = fakeLoop();
    const driver = new LoopDriver(f.loop, 50, () => {}, clock);
    driver.start();
    for (let i = 0; i < 10; i++) {
      clock.advance(20);
      await flush();
    }
    driver.stop();
    expect(f.ticksUs).toEqual(Array.from({ length: 10 }, (_, i) => (1000 + 20 * (i + 1)) * 1000));
    expect(driver.lateness.max()).toBe(0);
    expect(driver.counters).toEqual({ ticks: 10, overruns: 0, errors: 0 });
  });

  it('never overlaps two ticks: a tick still running when the next is due is an overrun', async () => {
    const clock = new ManualClock(0);
    const f = fakeLoop();
    const driver = new LoopDriver(f.loop, 50, () => {}, clock);
    driver.start();
    f.holdTicks(true);
    clock.advance(20);
    clock.advance(20);
    clock.advance(20);
    expect(f.ticksUs).toEqual([20_000]);
    expect(driver.counters.overruns).toBe(2);
    f.holdTicks(false);
    f.finish();
    await flush();
    clock.advance(20);
    driver.stop();
    expect(f.ticksUs).toEqual([20_000, 80_000]);
  });

  it('on the real clock, sets its timer early and sleeps out the rest: ticks start exactly on time', async () => {
    const clock = new SlackClock();
    const slept: number[] = [];
    const wait: PreciseWait = {
      leadMs: 1,
      sleepMs: (ms) => {
        slept.push(ms);
        clock.now += ms;
      },
    };
    const f = fakeLoop();
    const driver = new LoopDriver(f.loop, 50, () => {}, clock, 1, wait);
    driver.start();
    // Asked for 19 ms (20 less the lead), fired 0.75 ms early: 1.75 ms left to sleep.
    expect(clock.requestedDelaysMs).toEqual([19]);
    clock.fireNext(0.75);
    await flush();
    // On time to the timer's millisecond: the last millisecond is slept.
    clock.fireNext(0);
    await flush();
    // A timer that fires after the tick's time (half a millisecond late) is not slept; the lateness is recorded.
    clock.fireNext(-1.5);
    await flush();
    driver.stop();
    expect(f.ticksUs).toEqual([20_000, 40_000, 60_500]);
    expect(slept).toEqual([1.75, 1]);
    expect(driver.lateness.percentile(100)).toBe(0.5);
    expect(driver.lateness.percentile(50)).toBe(0);
  });

  it('sets its timer again rather than sleeping long when a timer fires far too early', async () => {
    const clock = new SlackClock();
    const slept: number[] = [];
    const wait: PreciseWait = {
      leadMs: 1,
      sleepMs: (ms) => {
        slept.push(ms);
        clock.now += ms;
      },
    };
    const f = fakeLoop();
    const driver = new LoopDriver(f.loop, 50, () => {}, clock, 1, wait);
    driver.start();
    clock.fireNext(5); // at 14 ms: 6 ms before the tick
    expect(f.ticksUs).toEqual([]);
    expect(clock.requestedDelaysMs).toEqual([19, 5]);
    clock.fireNext(0); // at 19 ms
    await flush();
    driver.stop();
    expect(f.ticksUs).toEqual([20_000]);
    expect(slept).toEqual([1]);
  });

  it('does not sleep while the last tick is still running (its inference finishes on this thread)', async () => {
    const clock = new SlackClock();
    const slept: number[] = [];
    const wait: PreciseWait = { leadMs: 1, sleepMs: (ms) => slept.push(ms) };
    const f = fakeLoop();
    const driver = new LoopDriver(f.loop, 50, () => {}, clock, 1, wait);
    driver.start();
    f.holdTicks(true);
    clock.fireNext(-2); // tick 1 starts late, at 21 ms, and stays open
    expect(f.ticksUs).toEqual([21_000]);
    clock.fireNext(0.5); // at 38.5 ms, 1.5 ms before tick 2's time
    expect(slept).toEqual([]);
    expect(driver.counters.overruns).toBe(1);
    driver.stop();
  });
});
