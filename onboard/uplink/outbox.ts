/**
 * The store-and-forward outbox: one SegmentQueue per QoS 1 channel the drone originates (events, metrics,
 * experience) under `<dataDir>/outbox/`, bounded in bytes. Every such message is written here first and sent from
 * here, oldest first, events before metrics before experience; it leaves the disk once the broker acknowledged it
 * (PUBACK). So a broken link, a dead broker or a restart of the process loses nothing that fits the bound.
 *
 * When the queue is full, the drop policy (docs/protocol.md) makes room:
 *   1. the oldest experience segment goes first, then
 *   2. the oldest metrics segment;
 *   3. events are never dropped: with only events left, a new experience or metrics message is itself dropped, and
 *      a new event is kept even past the bound.
 * Drops are counted by channel and reported in the next metrics message (`uplink.queueDrops`); the unreported count
 * is kept on disk so a restart does not lose it.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AerieError } from '../../shared/errors.js';
import { SegmentQueue } from './segment-queue.js';

export const QUEUED_CHANNELS = ['events', 'metrics', 'experience'] as const;
export type QueuedChannel = (typeof QUEUED_CHANNELS)[number];

/** Send order when several channels have records waiting. */
const SEND_PRIORITY: readonly QueuedChannel[] = ['events', 'metrics', 'experience'];
/** Eviction order when the queue is full (events never). */
const EVICTION_ORDER: readonly ('experience' | 'metrics')[] = ['experience', 'metrics'];

export interface DropCounts {
  experience: number;
  metrics: number;
}

export interface OutboxItem {
  readonly channel: QueuedChannel;
  readonly n: number;
  readonly payload: string;
}

export interface OutboxStats {
  readonly queuedRecords: number;
  readonly queueBytes: number;
  readonly byChannel: Readonly<Record<QueuedChannel, number>>;
  /** Dropped since this outbox was opened. */
  readonly droppedTotal: Readonly<DropCounts>;
  /** Events kept past the bound (never dropped). */
  readonly overBound: boolean;
  readonly corruptLines: number;
  readonly writeErrors: number;
}

export interface OutboxOptions {
  readonly maxBytes: number;
  readonly segmentBytes: number;
}

/** Directories held open by this process (a second Outbox on one of them would corrupt it). */
const OPEN_DIRS = new Set<string>();

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class Outbox {
  private readonly queues: Record<QueuedChannel, SegmentQueue>;
  private readonly dropped: DropCounts = { experience: 0, metrics: 0 };
  private unreported: DropCounts = { experience: 0, metrics: 0 };
  private flushScheduled = false;
  private closed = false;

  private constructor(
    readonly dir: string,
    private readonly options: OutboxOptions,
  ) {
    this.queues = {
      events: new SegmentQueue(join(dir, 'events'), options.segmentBytes),
      metrics: new SegmentQueue(join(dir, 'metrics'), options.segmentBytes),
      experience: new SegmentQueue(join(dir, 'experience'), options.segmentBytes),
    };
  }

  /** Open (creating) `<dataDir>/outbox`, take its lock and load what a previous run left. */
  static open(dataDir: string, options: OutboxOptions): Outbox {
    const dir = resolve(dataDir, 'outbox');
    if (OPEN_DIRS.has(dir)) {
      throw new AerieError('UPLINK_QUEUE_UNAVAILABLE', `${dir} is already open in this process`, { dir });
    }
    try {
      for (const c of QUEUED_CHANNELS) mkdirSync(join(dir, c), { recursive: true });
    } catch (err) {
      throw new AerieError('UPLINK_QUEUE_UNAVAILABLE', `cannot create ${dir}: ${(err as Error).message}`, { dir });
    }
    takeLock(dir);
    OPEN_DIRS.add(dir);
    const outbox = new Outbox(dir, options);
    try {
      for (const c of QUEUED_CHANNELS) outbox.queues[c].load();
      outbox.unreported = readDrops(dir);
    } catch (err) {
      OPEN_DIRS.delete(dir);
      rmSync(join(dir, 'LOCK'), { force: true });
      throw new AerieError('UPLINK_QUEUE_UNAVAILABLE', `cannot read ${dir}: ${(err as Error).message}`, { dir });
    }
    return outbox;
  }

  /**
   * Queue one message (already serialised). Applies the drop policy first; `queued` is false when the message itself
   * was dropped (a full queue of events, and this is experience or metrics).
   */
  enqueue(channel: QueuedChannel, payload: string): { queued: boolean; dropped: DropCounts } {
    const dropped: DropCounts = { experience: 0, metrics: 0 };
    if (this.closed) return { queued: false, dropped };
    const size = Buffer.byteLength(payload, 'utf8') + 32;
    for (const victim of EVICTION_ORDER) {
      while (this.totalBytes() + size > this.options.maxBytes && this.queues[victim].segmentCount > 0) {
        dropped[victim] += this.queues[victim].dropOldestSegment().records;
      }
    }
    let queued = true;
    if (this.totalBytes() + size > this.options.maxBytes && channel !== 'events') {
      dropped[channel]++;
      queued = false;
    } else {
      this.queues[channel].append(payload);
    }
    if (dropped.experience + dropped.metrics > 0) this.countDrops(dropped);
    return { queued, dropped };
  }

  /** The next message to send (marked in flight), by channel priority; null when nothing waits. */
  next(): OutboxItem | null {
    for (const channel of SEND_PRIORITY) {
      const record = this.queues[channel].takeNext();
      if (record) return { channel, n: record.n, payload: record.payload };
    }
    return null;
  }

  /** The broker acknowledged it: it leaves the disk (soon: the cursor is persisted once per event-loop turn). */
  ack(channel: QueuedChannel, n: number): void {
    this.queues[channel].ack(n);
    this.scheduleFlush();
  }

  release(channel: QueuedChannel, n: number): void {
    this.queues[channel].release(n);
  }

  /** The connection is lost: whatever was in flight is sent again, in order, on the next. */
  releaseAll(): void {
    for (const c of QUEUED_CHANNELS) this.queues[c].releaseAll();
  }

  /** Drops not yet reported in a metrics message; resets the count. */
  takeUnreportedDrops(): DropCounts {
    const out = this.unreported;
    this.unreported = { experience: 0, metrics: 0 };
    if (out.experience + out.metrics > 0) this.writeDrops();
    return out;
  }

  /** Give drops back when the metrics that carried them could not be queued. */
  restoreUnreportedDrops(drops: DropCounts): void {
    this.countDrops(drops, false);
  }

  stats(): OutboxStats {
    const byChannel = {
      events: this.queues.events.pendingCount,
      metrics: this.queues.metrics.pendingCount,
      experience: this.queues.experience.pendingCount,
    };
    return {
      queuedRecords: byChannel.events + byChannel.metrics + byChannel.experience,
      queueBytes: this.totalBytes(),
      byChannel,
      droppedTotal: { ...this.dropped },
      overBound: this.totalBytes() > this.options.maxBytes,
      corruptLines: QUEUED_CHANNELS.reduce((s, c) => s + this.queues[c].corruptLines, 0),
      writeErrors: QUEUED_CHANNELS.reduce((s, c) => s + this.queues[c].writeErrors, 0),
    };
  }

  /** Persist cursors, close files, release the lock. The queue stays on disk for the next run. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of QUEUED_CHANNELS) this.queues[c].close();
    this.writeDrops();
    rmSync(join(this.dir, 'LOCK'), { force: true });
    OPEN_DIRS.delete(this.dir);
  }

  private totalBytes(): number {
    return this.queues.events.bytes + this.queues.metrics.bytes + this.queues.experience.bytes;
  }

  private countDrops(d: DropCounts, total = true): void {
    if (total) {
      this.dropped.experience += d.experience;
      this.dropped.metrics += d.metrics;
    }
    this.unreported.experience += d.experience;
    this.unreported.metrics += d.metrics;
    this.writeDrops();
  }

  private writeDrops(): void {
    try {
      const path = join(this.dir, 'drops.json');
      writeFileSync(`${path}.tmp`, JSON.stringify(this.unreported));
      renameSync(`${path}.tmp`, path);
    } catch {
      // Counting drops must not stop the queue; the in-memory count still goes out in the next metrics.
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    // One cursor write per event-loop turn, however many PUBACKs arrived in it.
    setImmediate(() => {
      this.flushScheduled = false;
      if (this.closed) return;
      for (const c of QUEUED_CHANNELS) {
        try {
          this.queues[c].flush();
        } catch {
          this.queues[c].writeErrors++;
        }
      }
    });
  }
}

function takeLock(dir: string): void {
  const path = join(dir, 'LOCK');
  try {
    writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new AerieError('UPLINK_QUEUE_UNAVAILABLE', `cannot lock ${dir}: ${(err as Error).message}`, { dir });
    }
  }
  const holder = Number(readFileSync(path, 'utf8').trim());
  if (Number.isSafeInteger(holder) && holder > 0 && holder !== process.pid && pidAlive(holder)) {
    throw new AerieError('UPLINK_QUEUE_UNAVAILABLE', `${dir} is in use by process ${holder}`, { dir, pid: holder });
  }
  // A lock left by a process that died (or by this one, closed without releasing): take it over.
  writeFileSync(path, `${process.pid}\n`);
}

function readDrops(dir: string): DropCounts {
  try {
    const d = JSON.parse(readFileSync(join(dir, 'drops.json'), 'utf8')) as Partial<DropCounts>;
    const count = (x: unknown) => (Number.isSafeInteger(x) && (x as number) >= 0 ? (x as number) : 0);
    return { experience: count(d.experience), metrics: count(d.metrics) };
  } catch {
    return { experience: 0, metrics: 0 };
  }
}
