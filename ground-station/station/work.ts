/**
 * The station's background work: assignment rounds run soon after a change (debounced, never two at once), and
 * async message handling tracked so shutdown and tests can wait for it, its failures counted rather than thrown.
 */
import type { Logger } from '../../shared/log/index.js';
import type { DropCounters } from '../broker/index.js';

/** Runs `round` on demand: a burst of kicks within `delayMs` makes one round; a kick during a round makes another. */
export class RoundScheduler {
  private readonly round: () => Promise<void>;
  private readonly delayMs: number;
  private readonly logger: Logger;
  private scheduled: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(round: () => Promise<void>, delayMs: number, logger: Logger) {
    this.round = round;
    this.delayMs = delayMs;
    this.logger = logger;
  }

  kick(): void {
    if (this.stopped || this.scheduled) return;
    this.scheduled = setTimeout(() => void this.runNow(), this.delayMs);
  }

  /** Run a round now (or, if one is running, once more after it) and wait for it. */
  async runNow(): Promise<void> {
    if (this.scheduled) clearTimeout(this.scheduled);
    this.scheduled = null;
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        await this.round();
      } catch (err) {
        this.logger.error({ err: (err as Error).message }, 'assignment round failed');
      } finally {
        this.running = null;
      }
    })();
    await this.running;
    if (this.again && !this.stopped) {
      this.again = false;
      this.kick();
    }
  }

  get busy(): boolean {
    return this.running !== null;
  }

  /** Wait for the round running now, if any. */
  async idle(): Promise<void> {
    if (this.running) await this.running;
  }

  /** No more rounds; waits for the one running. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.scheduled) clearTimeout(this.scheduled);
    this.scheduled = null;
    if (this.running) await this.running;
  }
}

/** Promises of message handlers in flight. */
export class TaskTracker {
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly drops: DropCounters;
  private readonly logger: Logger;

  constructor(drops: DropCounters, logger: Logger) {
    this.drops = drops;
    this.logger = logger;
  }

  track(channel: string, p: Promise<unknown>): void {
    const t = p.catch((err: unknown) => {
      this.drops.drop(`${channel}:handler-error`);
      this.logger.error({ channel, err: (err as Error).message }, 'handler failed');
    });
    this.inflight.add(t);
    void t.finally(() => this.inflight.delete(t));
  }

  get size(): number {
    return this.inflight.size;
  }

  /** Wait for everything tracked so far (and what it tracks in turn, a few rounds deep). */
  async settle(): Promise<void> {
    for (let i = 0; i < 10 && this.inflight.size > 0; i++) await Promise.allSettled([...this.inflight]);
  }
}
