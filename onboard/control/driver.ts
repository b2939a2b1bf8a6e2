/**
 * The loop driver: the only owner of the control loop's timer. Ticks at a fixed rate against an absolute schedule
 * (no drift), never overlaps two ticks, and records how late each tick started (jitter) and the overruns. Its time
 * and timers come from the runtime's clock, so a simulated clock (scaled, or stepped by hand in lockstep with a
 * simulator) drives it exactly as it drives the autopilot link.
 *
 * On the real clock a Node timer is only good to about a millisecond either way (libuv counts whole milliseconds
 * and may fire a timer before its time). The driver therefore sets its timer `leadMs` before each tick's time and
 * sleeps the rest (Atomics.wait: the thread sleeps, nothing spins), so a tick starts neither early nor a timer
 * granule late. The price is the event loop held for that sleep, about a millisecond and a half per tick at most;
 * what arrives meanwhile is handled right after the tick.
 */
import { componentLogger, type Logger } from '../../shared/log/index.js';
import { type Clock, systemClock, type TimerHandle } from '../link/index.js';
import type { ControlLoop, TickReport } from './control-loop.js';
import { SampleRing } from './stats.js';

/** How the driver waits out the last part of a period on the real clock. */
export interface PreciseWait {
  /** Set the timer this long before the tick's time (ms). */
  readonly leadMs: number;
  /** Block the thread for `ms` (fractional) without spinning. */
  sleepMs(ms: number): void;
}

const SLEEP_CELL = new Int32Array(new SharedArrayBuffer(4));

/** The default on the wall clock: a timer a millisecond early, then a futex sleep to the tick's time. */
export const THREAD_SLEEP_WAIT: PreciseWait = Object.freeze({
  leadMs: 1,
  sleepMs: (ms: number) => {
    Atomics.wait(SLEEP_CELL, 0, 0, ms);
  },
});

/** A timer that fires earlier than this before its tick is set again rather than slept out (ms). */
const MAX_SLEEP_MS = 3;

export interface DriverCounters {
  ticks: number;
  /** Scheduled ticks skipped because the previous one was still running. */
  overruns: number;
  /** Ticks that threw (a bug: the loop is meant to return failures as values). */
  errors: number;
}

export class LoopDriver {
  readonly counters: DriverCounters = { ticks: 0, overruns: 0, errors: 0 };
  /** Lateness of each tick's start against its schedule (ms). */
  readonly lateness = new SampleRing(8192);
  private timer: TimerHandle | null = null;
  private running = false;
  private inTick = false;
  private startMs = 0;
  private k = 0;
  private readonly periodMs: number;
  private readonly log: Logger;

  constructor(
    private readonly loop: ControlLoop,
    rateHz: number,
    private readonly onTick: (report: TickReport) => void = () => {},
    /** The same clock as the autopilot link's timestamps: its monotonic ms and its timers. */
    private readonly clock: Pick<Clock, 'nowMs' | 'setTimer' | 'clearTimer'> = systemClock,
    /** How much faster than the wall clock `clock` runs (simulation only; 1 for a clock stepped by hand). */
    private readonly timeScale = 1,
    /** Sleep out each period's end (the real clock only: a simulated clock's timers fire on time by construction). */
    private readonly wait: PreciseWait | null = clock === systemClock && timeScale === 1 ? THREAD_SLEEP_WAIT : null,
  ) {
    this.periodMs = 1000 / rateHz;
    this.log = componentLogger('loop-driver');
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.startMs = this.clock.nowMs();
    this.k = 0;
    this.log.info({ periodMs: this.periodMs }, 'control loop started');
    this.schedule();
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.clock.clearTimer(this.timer);
    this.timer = null;
    this.log.info(this.counters, 'control loop stopped');
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** A tick has started and not finished (it waits for its inference): what a lockstep simulation waits out. */
  get inTickNow(): boolean {
    return this.inTick;
  }

  private schedule(): void {
    if (!this.running) return;
    this.k++;
    this.arm(this.startMs + this.k * this.periodMs);
  }

  private arm(target: number): void {
    const leadMs = this.wait ? this.wait.leadMs : 0;
    // Node timers fire within about a millisecond of the whole wall milliseconds asked for: ask for the floor.
    const wallDelayMs = Math.max(0, Math.floor((target - leadMs - this.clock.nowMs()) / this.timeScale));
    this.timer = this.clock.setTimer(() => this.fire(target), wallDelayMs * this.timeScale);
  }

  private fire(target: number): void {
    let now = this.clock.nowMs();
    // (Not while the last tick still runs: its inference finishes on this thread, and an overrun is counted anyway.)
    if (this.wait && now < target && !this.inTick) {
      if (target - now > MAX_SLEEP_MS) {
        this.arm(target);
        return;
      }
      this.wait.sleepMs(target - now);
      now = this.clock.nowMs();
    }
    // After a long stall, re-anchor the schedule rather than firing a burst of catch-up ticks.
    if (now - target > 5 * this.periodMs) {
      this.startMs = now;
      this.k = 0;
    }
    this.lateness.push(Math.max(0, now - target));
    if (this.inTick) {
      this.counters.overruns++;
      this.schedule();
      return;
    }
    this.inTick = true;
    this.counters.ticks++;
    this.loop.tick(this.clock.nowMs() * 1000).then(
      (report) => {
        this.inTick = false;
        this.onTick(report);
      },
      (err: unknown) => {
        this.inTick = false;
        this.counters.errors++;
        this.log.error({ err }, 'control tick threw');
      },
    );
    this.schedule();
  }
}
