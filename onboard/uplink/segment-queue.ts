/**
 * One channel's store-and-forward queue on disk: append-only segment files of lines `N<TAB>CRC32<TAB>PAYLOAD\n`
 * (N = record number in this queue, CRC32 of the payload's UTF-8 bytes as 8 hex digits, PAYLOAD = the JSON message
 * as published) and a `cursor` file holding the highest N such that every record up to it is done (acknowledged or
 * dropped). A segment is deleted once every record in it is done. Records still pending are kept in memory too (the
 * queue is bounded by the outbox), so sending never reads the disk.
 */
import {
  closeSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from '../../shared/experience/index.js';

export interface QueuedRecord {
  readonly n: number;
  readonly payload: string;
  /** Bytes of its line on disk (0 when the write failed and it lives in memory only). */
  readonly bytes: number;
  readonly segment: Segment;
  state: 'queued' | 'inflight' | 'acked';
}

interface Segment {
  readonly firstN: number;
  readonly path: string;
  lastN: number;
  bytes: number;
  /** Open for appending: only the newest segment of this run. */
  fd: number | null;
}

const SEGMENT_FILE = /^(\d{16})\.seg$/;
const segmentName = (firstN: number) => `${String(firstN).padStart(16, '0')}.seg`;

/** A FIFO over an array with a moving head (no O(n) shifts). */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  at(i: number): T {
    return this.items[this.head + i];
  }
  push(item: T): void {
    this.items.push(item);
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
  *[Symbol.iterator](): Iterator<T> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i];
  }
}

export class SegmentQueue {
  /** Bytes of this queue's segment files. */
  bytes = 0;
  /** Lines skipped at load: torn by a crash mid-write, or failing their CRC. */
  corruptLines = 0;
  /** Appends that could not be written (the record is kept in memory only). */
  writeErrors = 0;
  private readonly segments: Segment[] = [];
  private readonly pending = new Fifo<QueuedRecord>();
  private readonly byN = new Map<number, QueuedRecord>();
  private cursor = 0;
  private nextN = 1;
  private cursorDirty = false;

  constructor(
    readonly dir: string,
    private readonly segmentBytes: number,
  ) {}

  /** Read what a previous run left: pending records in order; fully done segments are deleted. */
  load(): void {
    const cursorPath = join(this.dir, 'cursor');
    try {
      const value = Number(readFileSync(cursorPath, 'utf8').trim());
      if (Number.isSafeInteger(value) && value >= 0) this.cursor = value;
    } catch {
      this.cursor = 0;
    }
    let maxN = this.cursor;
    const files = readdirSync(this.dir)
      .filter((f) => SEGMENT_FILE.test(f))
      .sort();
    for (const file of files) {
      const path = join(this.dir, file);
      const firstN = Number(SEGMENT_FILE.exec(file)?.[1]);
      const segment: Segment = { firstN, path, lastN: firstN, bytes: statSync(path).size, fd: null };
      for (const line of readFileSync(path, 'utf8').split('\n')) {
        if (line === '') continue;
        const parsed = parseLine(line);
        // A corrupt line whose number is still readable keeps numbering above it.
        if (parsed.n > 0) {
          segment.lastN = Math.max(segment.lastN, parsed.n);
          maxN = Math.max(maxN, parsed.n);
        }
        if (parsed.payload === null) {
          this.corruptLines++;
          continue;
        }
        if (parsed.n <= this.cursor || this.byN.has(parsed.n)) continue;
        const record: QueuedRecord = { n: parsed.n, payload: parsed.payload, bytes: 0, segment, state: 'queued' };
        this.pending.push(record);
        this.byN.set(record.n, record);
      }
      if (segment.lastN <= this.cursor) rmSync(path, { force: true });
      else {
        this.segments.push(segment);
        this.bytes += segment.bytes;
      }
    }
    this.nextN = maxN + 1;
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /** Append a record (written before it is sent, so it survives a restart). */
  append(payload: string): QueuedRecord {
    const n = this.nextN++;
    const body = Buffer.from(payload, 'utf8');
    const line = Buffer.from(`${n}\t${crc32(body).toString(16).padStart(8, '0')}\t${payload}\n`, 'utf8');
    const segment = this.activeSegment(n);
    let bytes = 0;
    try {
      if (segment.fd === null) throw new Error('segment not open');
      writeSync(segment.fd, line);
      bytes = line.byteLength;
    } catch {
      this.writeErrors++;
    }
    segment.lastN = n;
    segment.bytes += bytes;
    this.bytes += bytes;
    const record: QueuedRecord = { n, payload, bytes, segment, state: 'queued' };
    this.pending.push(record);
    this.byN.set(n, record);
    return record;
  }

  /** The oldest record not yet sent on this connection, marked in flight; null when none. */
  takeNext(): QueuedRecord | null {
    for (const record of this.pending) {
      if (record.state === 'queued') {
        record.state = 'inflight';
        return record;
      }
    }
    return null;
  }

  /** The broker acknowledged record n. */
  ack(n: number): void {
    const record = this.byN.get(n);
    if (!record) return;
    record.state = 'acked';
    while (this.pending.length > 0 && this.pending.at(0).state === 'acked') {
      const done = this.pending.shift() as QueuedRecord;
      this.byN.delete(done.n);
      this.cursor = Math.max(this.cursor, done.n);
      this.cursorDirty = true;
    }
    if (this.pending.length === 0 && this.cursor < this.nextN - 1) {
      this.cursor = this.nextN - 1;
      this.cursorDirty = true;
    }
  }

  /** Record n was not acknowledged (connection lost, publish refused): send it again later. */
  release(n: number): void {
    const record = this.byN.get(n);
    if (record && record.state === 'inflight') record.state = 'queued';
  }

  /** The connection is gone: everything in flight goes again, in order, on the next one. */
  releaseAll(): void {
    for (const record of this.pending) if (record.state === 'inflight') record.state = 'queued';
  }

  /**
   * Drop the oldest segment whole, sent or not (the outbox's policy when the queue is full). Returns how many records
   * in it had not been acknowledged, and the bytes freed.
   */
  dropOldestSegment(): { records: number; bytes: number } {
    const segment = this.segments.shift();
    if (!segment) return { records: 0, bytes: 0 };
    let records = 0;
    while (this.pending.length > 0 && this.pending.at(0).n <= segment.lastN) {
      const record = this.pending.shift() as QueuedRecord;
      this.byN.delete(record.n);
      if (record.state !== 'acked') records++;
    }
    this.cursor = Math.max(this.cursor, segment.lastN);
    this.cursorDirty = true;
    this.closeSegment(segment);
    rmSync(segment.path, { force: true });
    this.bytes -= segment.bytes;
    // The file is gone: make the cursor durable now so a restart cannot number new records below it.
    this.flush();
    return { records, bytes: segment.bytes };
  }

  /** Persist the cursor (atomically) and delete the segments it has passed. */
  flush(): void {
    if (!this.cursorDirty) return;
    const path = join(this.dir, 'cursor');
    writeFileSync(`${path}.tmp`, `${this.cursor}\n`);
    renameSync(`${path}.tmp`, path);
    this.cursorDirty = false;
    while (this.segments.length > 0 && this.segments[0].lastN <= this.cursor) {
      const segment = this.segments.shift() as Segment;
      this.closeSegment(segment);
      rmSync(segment.path, { force: true });
      this.bytes -= segment.bytes;
    }
  }

  get needsFlush(): boolean {
    return this.cursorDirty;
  }

  close(): void {
    this.flush();
    for (const segment of this.segments) this.closeSegment(segment);
  }

  private activeSegment(n: number): Segment {
    const last = this.segments[this.segments.length - 1];
    if (last && last.fd !== null && last.bytes < this.segmentBytes) return last;
    if (last) this.closeSegment(last);
    const path = join(this.dir, segmentName(n));
    let fd: number | null = null;
    try {
      fd = openSync(path, 'a');
    } catch {
      fd = null;
    }
    const segment: Segment = { firstN: n, path, lastN: n, bytes: 0, fd };
    this.segments.push(segment);
    return segment;
  }

  private closeSegment(segment: Segment): void {
    if (segment.fd === null) return;
    try {
      closeSync(segment.fd);
    } catch {
      // Already closed or the disk went away: nothing left to do with it.
    }
    segment.fd = null;
  }
}

/** A line's record number (0 when unreadable) and payload (null when the line is torn or fails its CRC). */
function parseLine(line: string): { n: number; payload: string | null } {
  const a = line.indexOf('\t');
  const parsedN = a > 0 ? Number(line.slice(0, a)) : Number.NaN;
  const n = Number.isSafeInteger(parsedN) && parsedN >= 1 ? parsedN : 0;
  const b = a < 0 ? -1 : line.indexOf('\t', a + 1);
  if (n === 0 || b !== a + 9) return { n, payload: null };
  const crc = Number.parseInt(line.slice(a + 1, b), 16);
  const payload = line.slice(b + 1);
  if (!Number.isFinite(crc) || crc32(Buffer.from(payload, 'utf8')) !== crc) return { n, payload: null };
  return { n, payload };
}
