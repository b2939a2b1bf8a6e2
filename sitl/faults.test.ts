import { describe, expect, it } from 'vitest';
import { createRng } from '../shared/random/index.js';
import { FaultyTransport, NullTransport, parseFault, parseFaultLine, parseFaultSchedule } from './faults.js';

describe('fault requests', () => {
  it('parses JSON control lines with defaults, and explains what is wrong with bad ones', () => {
    expect(parseFaultLine('{"vehicle":0,"fault":"gust","northMS":8}', 2)).toEqual({
      ok: true,
      value: { vehicle: 0, fault: { kind: 'gust', northMS: 8, eastMS: 0, downMS: 0 } },
    });
    expect(parseFaultLine('{"vehicle":"all","fault":"link-drop","direction":"in","atS":3}', 2)).toEqual({
      ok: true,
      value: { vehicle: 'all', fault: { kind: 'link-drop', direction: 'in' }, atS: 3 },
    });
    expect(parseFaultLine('nope', 2)).toEqual({ ok: false, reason: 'not JSON' });
    expect(parseFaultLine('[1]', 2).ok).toBe(false);
    expect(parseFaultLine('{"vehicle":2,"fault":"die"}', 2)).toEqual({
      ok: false,
      reason: 'vehicle must be 0-1 or "all"',
    });
    const unknownField = parseFaultLine('{"vehicle":0,"fault":"die","loudly":true}', 2);
    expect(unknownField.ok).toBe(false);
    const badPercent = parseFaultLine('{"vehicle":0,"fault":"packet-loss","percent":-1}', 2);
    expect(badPercent.ok ? '' : badPercent.reason).toContain('percent');
    expect(parseFault({ kind: 'battery-low' })).toEqual({ ok: true, value: { kind: 'battery-low', remaining: 0.1 } });
  });

  it('parses a CLI schedule', () => {
    const r = parseFaultSchedule(
      '0:gps-loss@20s; all:gust@5.5s:northMS=8,eastMS=-2 ;1:packet-loss@0s:percent=30,durationS=10',
      2,
    );
    expect(r).toEqual({
      ok: true,
      value: [
        { vehicle: 0, fault: { kind: 'gps-loss' }, atS: 20 },
        { vehicle: 'all', fault: { kind: 'gust', northMS: 8, eastMS: -2, downMS: 0 }, atS: 5.5 },
        { vehicle: 1, fault: { kind: 'packet-loss', percent: 30, durationS: 10 }, atS: 0 },
      ],
    });
    expect(parseFaultSchedule('0:gps-loss', 2).ok).toBe(false);
    expect(parseFaultSchedule('0:gust@1s:north', 2).ok).toBe(false);
    expect(parseFaultSchedule('3:die@1s', 2).ok).toBe(false);
  });
});

describe('FaultyTransport', () => {
  function rig(seed = 1) {
    const inner = new NullTransport();
    const t = new FaultyTransport(inner, createRng(seed));
    const received: Buffer[] = [];
    t.onData((b) => received.push(b));
    return { inner, t, received };
  }

  it('passes traffic untouched without faults', () => {
    const { inner, t, received } = rig();
    t.send(Buffer.from([1, 2, 3]));
    inner.inject(Buffer.from([4, 5]));
    expect(inner.counters.bytesOut).toBe(3);
    expect(received).toEqual([Buffer.from([4, 5])]);
  });

  it('drops each direction on its own, loses a seeded share, and corrupts copies', () => {
    const { inner, t, received } = rig();
    t.faults.dropOut = true;
    t.send(Buffer.from([1]));
    inner.inject(Buffer.from([2]));
    expect(t.faultCounters).toMatchObject({ droppedOut: 1, droppedIn: 0 });
    expect(received).toHaveLength(1);
    t.clear();
    t.faults.lossPercent = 30;
    for (let k = 0; k < 1000; k++) inner.inject(Buffer.from([k & 0xff]));
    expect(t.faultCounters.droppedIn).toBeGreaterThan(250);
    expect(t.faultCounters.droppedIn).toBeLessThan(350);
    t.clear();
    t.faults.corruptPercent = 100;
    const original = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0]);
    inner.inject(original);
    expect(original.every((b) => b === 0)).toBe(true);
    expect(received[received.length - 1].some((b) => b !== 0)).toBe(true);
  });

  it('loses the same datagrams for the same seed', () => {
    const run = (seed: number): number[] => {
      const { inner, t, received } = rig(seed);
      t.faults.lossPercent = 50;
      for (let k = 0; k < 200; k++) inner.inject(Buffer.from([k]));
      return received.map((b) => b[0]);
    };
    expect(run(9)).toEqual(run(9));
    expect(run(9)).not.toEqual(run(10));
  });
});
