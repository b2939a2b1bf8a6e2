import { describe, expect, it } from 'vitest';
import { isAerieError } from '../../shared/errors.js';
import { examplePayloads } from '../../shared/protocol/index.js';
import { createRng } from '../../shared/random/index.js';
import { MetricsCollector } from './collector.js';
import { type MetricsWindowInput, parseCollectorConfig } from './collector-config.js';
import { droneScope, FLEET, policyScope } from './scope.js';

const T0 = 1_699_999_980_000; // a whole minute, so bucket edges fall on round offsets from T0

function metricsWindow(over: Partial<MetricsWindowInput> = {}): MetricsWindowInput {
  return {
    id: 'd1',
    timeMs: T0,
    windowS: 10,
    episodes: 2,
    successes: 1,
    returnSum: 3,
    ticks: 500,
    policyTicks: 400,
    interventionsByLayer: { sanity: 0, box: 4, barrier: 6, shield: 0, monitor: 0 },
    violations: 0,
    policyFaults: 0,
    inferenceLatencyUs: { p50: 20, p99: 90 },
    policyVersion: 'v1',
    ...over,
  };
}

describe('MetricsCollector windows', () => {
  it('rolls a sample off each window at its bucket boundary as time steps on', () => {
    const c = new MetricsCollector();
    const t = T0 + 5_000; // 5 s into a 10 s (and a 60 s) bucket
    c.ingest({ name: 'violations', value: 1, timeMs: t, droneId: 'd1' });
    const inWindow = (windowS: number, nowMs: number) =>
      (c.aggregate('violations', FLEET, windowS, nowMs)?.count ?? 0) === 1;
    // Stepped time, one second at a time through an hour and a bit.
    const leftAt: Record<number, number> = {};
    for (let now = t; now <= t + 3_700_000; now += 1000) {
      for (const w of [60, 300, 3600]) if (!inWindow(w, now) && leftAt[w] === undefined) leftAt[w] = now - t;
    }
    // 1 and 5 min use 10 s buckets; 60 min uses 60 s buckets: the sample leaves when its bucket leaves.
    expect(leftAt[60]).toBe(55_000);
    expect(leftAt[300]).toBe(295_000);
    expect(leftAt[3600]).toBe(3_595_000);
    // Once out, it stays out.
    expect(inWindow(60, t + 56_000)).toBe(false);
    expect(inWindow(3600, t + 3_600_000)).toBe(false);
  });

  it('reduces a window: count, sum, mean, min, max, last and rate', () => {
    const c = new MetricsCollector();
    const values = [4, 8, 1, 7];
    values.forEach((v, k) => {
      c.ingest({ name: 'battery_remaining', value: v, timeMs: T0 + k * 10_000, droneId: 'd1' });
    });
    const a = c.aggregate('battery_remaining', droneScope('d1'), 60, T0 + 35_000);
    expect(a).toMatchObject({ count: 4, sum: 20, mean: 5, min: 1, max: 8, last: 7, lastTimeMs: T0 + 30_000 });
    expect(a?.windowS).toBe(60);
    // 5 whole buckets plus 5 s of the current one.
    expect(a?.spanS).toBe(55);
    expect(a?.ratePerS).toBeCloseTo(20 / 55, 12);
  });

  it('measures a steady message rate over every window', () => {
    const c = new MetricsCollector();
    for (let t = 0; t < 3_600_000; t += 500) c.ingest({ name: 'messages', value: 1, timeMs: T0 + t, droneId: 'd1' });
    const now = T0 + 3_600_000 - 250;
    for (const w of [60, 300, 3600]) {
      expect(c.aggregate('messages', FLEET, w, now)?.ratePerS).toBeCloseTo(2, 1);
    }
  });

  it('aggregates per drone, per policy version and fleet-wide', () => {
    const c = new MetricsCollector();
    c.ingestMetricsWindow(metricsWindow({ id: 'd1', policyVersion: 'v1', episodes: 4, successes: 4 }));
    c.ingestMetricsWindow(metricsWindow({ id: 'd2', policyVersion: 'v2', episodes: 6, successes: 3 }));
    c.ingestMetricsWindow(metricsWindow({ id: 'd3', policyVersion: 'v2', episodes: 2, successes: 0 }));
    const now = T0 + 1000;
    expect(c.aggregate('episodes', FLEET, 300, now)?.sum).toBe(12);
    expect(c.aggregate('episodes', policyScope('v2'), 300, now)?.sum).toBe(8);
    expect(c.aggregate('episodes', droneScope('d3'), 300, now)?.sum).toBe(2);
    expect(c.ratio('success_rate', FLEET, 300, now)).toEqual({ value: 7 / 12, numerator: 7, denominator: 12 });
    expect(c.ratio('success_rate', policyScope('v2'), 300, now)?.value).toBeCloseTo(3 / 8, 12);
    expect(c.ratio('success_rate', 'policy:v1', 300, now)?.value).toBe(1);
    expect(c.scopeKeys('drone')).toEqual(['drone:d1', 'drone:d2', 'drone:d3']);
    expect(c.scopeKeys('policy')).toEqual(['policy:v1', 'policy:v2']);
    // A ratio's weight for minimum-count guards is its denominator.
    expect(c.value('success_rate', 'policy:v2', 300, now)).toEqual({ value: 3 / 8, weight: 8 });
  });

  it('unpacks a metrics window: interventions by layer and in total; latency only when the policy flew', () => {
    const c = new MetricsCollector();
    c.ingestMetricsWindow(metricsWindow());
    c.ingestMetricsWindow(
      metricsWindow({ timeMs: T0 + 10_000, policyTicks: 0, inferenceLatencyUs: { p50: 0, p99: 0 } }),
    );
    const now = T0 + 15_000;
    expect(c.aggregate('interventions_barrier', 'drone:d1', 60, now)?.sum).toBe(12);
    expect(c.aggregate('interventions', 'drone:d1', 60, now)?.sum).toBe(20);
    expect(c.ratio('intervention_share', 'drone:d1', 60, now)?.value).toBeCloseTo(20 / 400, 12);
    expect(c.aggregate('inference_latency_p99_us', 'drone:d1', 60, now)?.count).toBe(1);
    expect(c.aggregate('messages', 'drone:d1', 60, now)?.sum).toBe(2);
  });

  it('takes the protocol payloads as decoded (shared/protocol types fit the inputs)', () => {
    const c = new MetricsCollector();
    const { metrics, telemetry, events } = examplePayloads();
    c.ingestMetricsWindow(metrics);
    c.ingestTelemetry(telemetry);
    c.ingestEvent(events);
    c.ingestMetricsWindow({ ...metrics, timeMs: metrics.timeMs + 1, inferenceLatencyUs: { p50: null, p99: null } });
    const scope = `policy:${metrics.policyVersion}`;
    expect(c.aggregate('interventions', scope, 60, metrics.timeMs + 1)?.sum).toBe(30);
    expect(c.aggregate('inference_latency_p99_us', scope, 60, metrics.timeMs + 1)?.count).toBe(1);
    expect(c.lastValue('battery_remaining', droneScope(telemetry.id))?.value).toBe(telemetry.batteryRemaining);
    expect(c.aggregate(`events_${events.kind}`, 'fleet', 60, events.timeMs)?.sum).toBe(1);
    expect(c.aggregate('messages', 'fleet', 60, metrics.timeMs + 1)?.sum).toBe(4);
  });

  it('gives quantiles of distribution metrics within 1 % of the exact value', () => {
    const c = new MetricsCollector();
    const rng = createRng(31);
    const values: number[] = [];
    for (let k = 0; k < 2000; k++) {
      const v = Math.exp(3 + rng.normal()); // log-normal latencies around 20 us
      values.push(v);
      c.ingest({ name: 'inference_latency_p99_us', value: v, timeMs: T0 + k * 100, droneId: 'd1' });
    }
    values.sort((a, b) => a - b);
    const now = T0 + 200_000;
    for (const q of [0.5, 0.9, 0.99]) {
      const exact = values[Math.ceil(q * values.length) - 1];
      const got = c.quantile('inference_latency_p99_us', FLEET, 300, now, q) as number;
      expect(Math.abs(got - exact) / exact).toBeLessThanOrEqual(0.0101);
    }
    expect(c.quantile('inference_latency_p99_us', FLEET, 300, now, 1)).toBe(values[values.length - 1]);
    expect(c.value('inference_latency_p99_us', FLEET, 300, now, 'max').value).toBe(values[values.length - 1]);
    // Not a distribution: no quantile.
    c.ingest({ name: 'episodes', value: 1, timeMs: now });
    expect(c.quantile('episodes', FLEET, 300, now, 0.5)).toBeNull();
  });

  it('accepts late samples still inside the ring, drops older ones and malformed ones, and counts them', () => {
    const c = new MetricsCollector();
    const now = T0 + 4_000_000;
    expect(c.ingest({ name: 'episodes', value: 1, timeMs: now })).toBe(true);
    expect(c.ingest({ name: 'episodes', value: 1, timeMs: now - 30_000 })).toBe(true);
    expect(c.aggregate('episodes', FLEET, 60, now)?.sum).toBe(2);
    // 10 min late: too old for the 5-min ring, kept in the hour ring.
    expect(c.ingest({ name: 'episodes', value: 1, timeMs: now - 600_000 })).toBe(true);
    expect(c.aggregate('episodes', FLEET, 300, now)?.sum).toBe(2);
    expect(c.aggregate('episodes', FLEET, 3600, now)?.sum).toBe(3);
    expect(c.ingest({ name: 'episodes', value: 1, timeMs: now - 2 * 3_600_000 })).toBe(false);
    expect(c.ingest({ name: 'Bad-Name', value: 1, timeMs: now })).toBe(false);
    expect(c.ingest({ name: 'episodes', value: Number.NaN, timeMs: now })).toBe(false);
    expect(c.stats()).toEqual({ series: 1, samplesStored: 3, samplesDropped: 3 });
    // The newest value stays the newest even when a late one arrives after it.
    expect(c.lastValue('episodes', FLEET)?.timeMs).toBe(now);
  });

  it('stays within its series cap and forgets silent drones', () => {
    const c = new MetricsCollector(parseCollectorConfig({ maxSeries: 5 }));
    for (let d = 0; d < 10; d++) c.ingest({ name: 'telemetry', value: 1, timeMs: T0, droneId: `d${d}` });
    expect(c.stats().series).toBe(5);
    expect(c.stats().samplesDropped).toBe(6); // fleet + 4 drones fit; 6 drone series did not

    const p = new MetricsCollector();
    p.ingest({ name: 'telemetry', value: 1, timeMs: T0, droneId: 'old', policyVersion: 'v0' });
    p.ingest({ name: 'telemetry', value: 1, timeMs: T0 + 3_000_000, droneId: 'recent' });
    expect(p.prune(T0 + 3_599_000)).toBe(0);
    expect(p.prune(T0 + 3_601_000)).toBe(2); // drone:old and policy:v0
    expect(p.scopeKeys()).toEqual(['drone:recent', 'fleet']);
    expect(p.stats().series).toBe(2);
  });

  it('charts bucketed points with gaps, and ratios per bucket', () => {
    const c = new MetricsCollector();
    c.ingestMetricsWindow(metricsWindow({ timeMs: T0 + 1_000, episodes: 4, successes: 3 }));
    c.ingestMetricsWindow(metricsWindow({ timeMs: T0 + 21_000, episodes: 2, successes: 2 }));
    const now = T0 + 25_000;
    const s = c.timeSeries('episodes', 'drone:d1', 60, now, 'sum');
    expect(s.bucketS).toBe(10);
    expect(s.points.map((p) => p.value)).toEqual([0, 0, 0, 4, 0, 2]);
    expect(s.points[3].timeMs).toBe(T0);
    const mean = c.timeSeries('battery_remaining', 'drone:d1', 60, now);
    expect(mean.points).toEqual([]);
    const r = c.timeSeries('success_rate', 'drone:d1', 60, now);
    expect(r.points.map((p) => p.value)).toEqual([null, null, null, 0.75, null, 1]);
    expect(c.timeSeries('episodes', 'fleet', 3600, now).bucketS).toBe(60);
  });

  it('fits the slope of a draining battery', () => {
    const c = new MetricsCollector();
    for (let t = 0; t <= 300_000; t += 5_000) {
      c.ingestTelemetry({ id: 'd1', timeMs: T0 + t, batteryRemaining: 0.9 - (0.03 * t) / 60_000 });
    }
    expect(c.slopePerMin('battery_remaining', 'drone:d1', 300, T0 + 300_000)).toBeCloseTo(-0.03, 3);
    expect(c.slopePerMin('battery_remaining', 'drone:d1', 60, T0 + 3_000_000)).toBeNull();
  });

  it('refuses a layout whose windows are not whole buckets', () => {
    try {
      parseCollectorConfig({ fineBucketS: 7 });
      expect.unreachable();
    } catch (err) {
      expect(isAerieError(err, 'CONFIG_CONFLICT')).toBe(true);
    }
    expect(() => parseCollectorConfig({ fineWindowS: 600, coarseWindowS: 300, coarseBucketS: 60 })).toThrow(
      /coarseWindowS/,
    );
  });
});
