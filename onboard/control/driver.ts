/**
 * The loop driver: the only owner of the control loop's timer. Ticks at a fixed rate against an absolute schedule
 * (no drift), never overlaps two ticks, and records how late each tick started (jitter) and the overruns. Its time
 * and timers come from the runtime's clock, so a simulated clock (scaled, or stepped by hand in lockstep with a
 * simulator) drives it exactly as it drives the autopilot link.
 */
import { componentLogger, type Logger } from '../../shared/log/index.js';
import { type Clock, systemClock, type TimerHandle } from '../link/index.js';
import type { ControlLoop, TickReport } from './control-loop.js';
import { SampleRing } from './stats.js';

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
    const target = this.startMs + this.k * this.periodMs;
    // Node timers fire a fraction of a millisecond after the whole wall milliseconds asked for: ask for the floor.
    const wallDelayMs = Math.max(0, Math.floor((target - this.clock.nowMs()) / this.timeScale));
    this.timer = this.clock.setTimer(() => this.fire(target), wallDelayMs * this.timeScale);
  }

  private fire(target: number): void {
    const now = this.clock.nowMs();
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
