import { describe, expect, it } from 'vitest';
import { EventAggregator } from './events.js';
import { MetricsWindow } from './metrics.js';
import { quietTick } from './test-support.js';

const boxTick = (magnitudeMS: number) =>
  quietTick({
    decision: {
      layers: { sanity: false, box: true, barrier: false, shield: false, monitor: false },
      interventions: [{ layer: 'box', reason: 'axis_speed_limit', magnitudeMS }],
    },
  });

describe('EventAggregator', () => {
  it('aggregates interventions and faults into one event per window, on time passed in', () => {
    const agg = new EventAggregator(1000);
    for (let k = 0; k < 20; k++) {
      expect(agg.observe(boxTick(k / 10), 10_000 + k * 50, 'T')).toEqual([]);
      expect(agg.flush(10_000 + k * 50)).toEqual([]);
    }
    agg.observe(quietTick({ decision: { policyFault: true } }), 10_990, 'T');
    const out = agg.flush(11_000);
    expect(out).toEqual([
      {
        kind: 'intervention',
        windowMs: 1000,
        ticks: 21,
        interventionTicks: 20,
        byLayer: { sanity: 0, box: 20, barrier: 0, shield: 0, monitor: 0 },
        byReason: { 'box:axis_speed_limit': 20 },
        maxMagnitudeMS: 1.9,
      },
      { kind: 'fault', source: 'policy', code: 'policy-fault', count: 1, windowMs: 1000 },
    ]);
    // The next window starts empty.
    agg.observe(quietTick(), 11_100, null);
    expect(agg.flush(12_200)).toEqual([]);
  });

  it('sends mission events and monitor transitions at once, and caps a flapping monitor', () => {
    const agg = new EventAggregator(1000);
    const now = agg.observe(
      quietTick({ events: [{ kind: 'released', phase: 'release', timeMs: 5, detail: 'ok' }] }),
      0,
      'T9',
    );
    expect(now).toEqual([{ kind: 'mission', missionEvent: 'released', phase: 'release', taskId: 'T9', detail: 'ok' }]);
    const flap = (k: number) =>
      quietTick({
        decision: {
          monitor: { transition: { from: k % 2 ? 'warn' : 'none', to: k % 2 ? 'none' : 'warn', rules: [] } },
        },
      });
    let sent = 0;
    for (let k = 0; k < 30; k++) sent += agg.observe(flap(k), 10 + k, null).length;
    expect(sent).toBe(10);
    const tail = agg.flush(1010);
    expect(tail).toEqual([expect.objectContaining({ kind: 'alert', code: 'monitor-flapping', level: 'warning' })]);
    expect(String(tail[0].kind === 'alert' && tail[0].message)).toMatch(/^20 more/);
  });

  it('reports the filter surviving an internal error, with its first message', () => {
    const agg = new EventAggregator(500);
    agg.observe(quietTick({ decision: { error: 'boom 1' } }), 0, null);
    agg.observe(quietTick({ decision: { error: 'boom 2' } }), 10, null);
    expect(agg.flush(20, true)).toEqual([
      { kind: 'fault', source: 'filter', code: 'filter-internal-error', count: 2, windowMs: 20, message: 'boom 1' },
    ]);
  });
});

describe('MetricsWindow', () => {
  it('sums a window and starts the next from zero', () => {
    const w = new MetricsWindow(0);
    w.observe(quietTick({ policy: { ok: true, latencyUs: 10 } }));
    w.observe(quietTick({ policy: { ok: true, latencyUs: 30 } }));
    w.observe(quietTick({ policy: { ok: false, latencyUs: 5000 }, decision: { policyFault: true } }));
    w.observe(quietTick({ policy: null, decision: { barrier: { breached: ['fence'] } } }));
    w.observe(quietTick({ policy: null, events: [{ kind: 'outcome', phase: 'done', timeMs: 1, outcome: 'failed' }] }));
    w.addReward(2.5);
    w.addReward(Number.NaN);
    const m = w.close(10_000, 'v1');
    expect(m).toMatchObject({
      windowS: 10,
      ticks: 5,
      policyTicks: 3,
      policyFaults: 1,
      violations: 1,
      episodes: 1,
      successes: 0,
      returnSum: 2.5,
      inferenceLatencyUs: { p50: 10, p99: 30 },
      policyVersion: 'v1',
    });
    expect(w.close(12_000, 'v1')).toMatchObject({ windowS: 2, ticks: 0, inferenceLatencyUs: { p50: null, p99: null } });
  });
});
