import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isAerieError } from '../../shared/errors.js';
import { Outbox, type OutboxItem } from './outbox.js';

const dirs: string[] = [];
const open: Outbox[] = [];
afterEach(() => {
  for (const o of open.splice(0)) o.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'aerie-outbox-'));
  dirs.push(d);
  return d;
}

function openOutbox(dir: string, maxBytes = 1 << 20, segmentBytes = 4096): Outbox {
  const o = Outbox.open(dir, { maxBytes, segmentBytes });
  open.push(o);
  return o;
}

function closeOutbox(o: Outbox): void {
  o.close();
  open.splice(open.indexOf(o), 1);
}

function drain(o: Outbox): OutboxItem[] {
  const out: OutboxItem[] = [];
  for (let item = o.next(); item; item = o.next()) out.push(item);
  return out;
}

const payload = (seq: number, pad = 0) => JSON.stringify({ seq, pad: 'x'.repeat(pad) });
const tick = () => new Promise((r) => setImmediate(r));

describe('Outbox', () => {
  it('sends in order, events first, and keeps unacknowledged records across a restart', async () => {
    const dir = tempDir();
    const a = openOutbox(dir);
    for (let i = 1; i <= 5; i++) a.enqueue('metrics', payload(i));
    for (let i = 1; i <= 5; i++) a.enqueue('events', payload(i));
    const sent = drain(a);
    expect(sent.map((s) => `${s.channel}:${JSON.parse(s.payload).seq}`)).toEqual([
      ...[1, 2, 3, 4, 5].map((i) => `events:${i}`),
      ...[1, 2, 3, 4, 5].map((i) => `metrics:${i}`),
    ]);
    // The broker acknowledged the first three events only, then the process stopped.
    for (const s of sent.slice(0, 3)) a.ack(s.channel, s.n);
    await tick();
    closeOutbox(a);

    const b = openOutbox(dir);
    expect(b.stats().byChannel).toEqual({ events: 2, metrics: 5, experience: 0 });
    const again = drain(b);
    expect(again.map((s) => `${s.channel}:${JSON.parse(s.payload).seq}`)).toEqual([
      'events:4',
      'events:5',
      ...[1, 2, 3, 4, 5].map((i) => `metrics:${i}`),
    ]);
    for (const s of again) b.ack(s.channel, s.n);
    await tick();
    expect(b.stats().queuedRecords).toBe(0);
    // Acknowledged segments are deleted from the disk.
    expect(readdirSync(join(dir, 'outbox', 'events')).filter((f) => f.endsWith('.seg'))).toEqual([]);
    b.enqueue('events', payload(6));
    closeOutbox(b);
    const c = openOutbox(dir);
    expect(drain(c).map((s) => JSON.parse(s.payload).seq)).toEqual([6]);
  });

  it('sends in-flight records again, in order, after a lost connection', () => {
    const o = openOutbox(tempDir());
    for (let i = 1; i <= 4; i++) o.enqueue('events', payload(i));
    const first = [o.next(), o.next()];
    o.ack('events', first[1]?.n ?? -1); // acknowledged out of order: record 1 still holds the cursor
    o.releaseAll();
    expect(drain(o).map((s) => JSON.parse(s.payload).seq)).toEqual([1, 3, 4]);
  });

  it('skips torn and corrupt lines left by a crash', () => {
    const dir = tempDir();
    const a = openOutbox(dir);
    a.enqueue('events', payload(1));
    a.enqueue('events', payload(2));
    closeOutbox(a);
    const segDir = join(dir, 'outbox', 'events');
    const seg = join(segDir, readdirSync(segDir).find((f) => f.endsWith('.seg')) as string);
    const lines = readFileSync(seg, 'utf8').split('\n');
    // Flip a byte in the payload of line 2 and leave half a line at the end.
    writeFileSync(seg, `${lines[0]}\n${lines[1].replace('"seq":2', '"seq":7')}\n`);
    appendFileSync(seg, '3\tdeadbeef\t{"seq":');
    const b = openOutbox(dir);
    expect(drain(b).map((s) => JSON.parse(s.payload).seq)).toEqual([1]);
    expect(b.stats().corruptLines).toBe(2);
    // Numbering goes on above anything seen, so nothing new is mistaken for old.
    b.enqueue('events', payload(3));
    expect(drain(b).map((s) => s.n)).toEqual([4]);
  });

  it('drops the oldest experience first, then metrics, never events, and counts drops until reported', () => {
    const dir = tempDir();
    const o = openOutbox(dir, 16 * 1024, 2048);
    for (let i = 1; i <= 20; i++) o.enqueue('experience', payload(i, 400));
    for (let i = 1; i <= 8; i++) o.enqueue('metrics', payload(i, 400));
    expect(o.stats().droppedTotal).toEqual({ experience: 0, metrics: 0 });
    // Events push the bound: experience goes first, oldest first.
    for (let i = 1; i <= 12; i++) o.enqueue('events', payload(i, 400));
    const s1 = o.stats();
    expect(s1.droppedTotal.experience).toBeGreaterThan(0);
    expect(s1.droppedTotal.metrics).toBe(0);
    expect(s1.queueBytes).toBeLessThanOrEqual(16 * 1024);
    // More events: experience is exhausted, then metrics go, events stay, past the bound if need be.
    for (let i = 13; i <= 60; i++) o.enqueue('events', payload(i, 400));
    const s2 = o.stats();
    expect(s2.droppedTotal).toEqual({ experience: 20, metrics: 8 });
    expect(s2.byChannel.events).toBe(60);
    expect(s2.overBound).toBe(true);
    // With only events queued, new experience and metrics are refused themselves.
    expect(o.enqueue('experience', payload(99, 10)).queued).toBe(false);
    expect(o.enqueue('metrics', payload(99, 10)).queued).toBe(false);
    const items = drain(o);
    expect(items.every((s) => s.channel === 'events')).toBe(true);
    expect(items.map((s) => JSON.parse(s.payload).seq)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    // The drop count survives a restart until a metrics message takes it.
    closeOutbox(o);
    const again = openOutbox(dir, 16 * 1024, 2048);
    expect(again.takeUnreportedDrops()).toEqual({ experience: 21, metrics: 9 });
    expect(again.takeUnreportedDrops()).toEqual({ experience: 0, metrics: 0 });
  });

  it('keeps the surviving experience in order after drops', () => {
    const o = openOutbox(tempDir(), 8 * 1024, 1024);
    for (let i = 1; i <= 40; i++) o.enqueue('experience', payload(i, 300));
    const seqs = drain(o).map((s) => JSON.parse(s.payload).seq as number);
    expect(seqs.length).toBeGreaterThan(5);
    expect(seqs.length).toBeLessThan(40);
    expect(seqs[seqs.length - 1]).toBe(40);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => 41 - seqs.length + i));
  });

  it('refuses a directory another outbox holds', () => {
    const dir = tempDir();
    openOutbox(dir);
    let caught: unknown;
    try {
      Outbox.open(dir, { maxBytes: 1 << 20, segmentBytes: 4096 });
    } catch (err) {
      caught = err;
    }
    expect(isAerieError(caught, 'UPLINK_QUEUE_UNAVAILABLE')).toBe(true);
  });

  it('takes over a lock left by a dead process', () => {
    const dir = tempDir();
    const a = openOutbox(dir);
    a.enqueue('events', payload(1));
    closeOutbox(a);
    // A crash leaves the lock behind with a pid that no longer runs.
    writeFileSync(join(dir, 'outbox', 'LOCK'), '999999999\n');
    const b = openOutbox(dir);
    expect(drain(b).length).toBe(1);
  });
});
