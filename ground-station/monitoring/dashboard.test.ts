import { describe, expect, it } from 'vitest';
import { AlertEngine } from './alert-engine.js';
import { threshold } from './alert-rules.js';
import { MetricsCollector } from './collector.js';
import { dashboardAlerts, dashboardOverview, dashboardSeries, SERIES_QUERY_SCHEMA } from './dashboard.js';

const T0 = 1_699_999_980_000;

function fleet(): MetricsCollector {
  const c = new MetricsCollector();
  for (let tS = 0; tS < 600; tS += 10) {
    for (const [id, version, ok] of [
      ['d1', 'v1', 1],
      ['d2', 'v2', 0],
    ] as const) {
      c.ingestTelemetry({ id, timeMs: T0 + tS * 1000, batteryRemaining: 1 - tS / 1200, policyVersion: version });
      c.ingestMetricsWindow({
        id,
        timeMs: T0 + tS * 1000,
        windowS: 10,
        episodes: 1,
        successes: ok,
        returnSum: ok ? 10 : -5,
        ticks: 100,
        policyTicks: 100,
        interventionsByLayer: { sanity: 0, box: 1, barrier: ok ? 0 : 3, shield: 0, monitor: 0 },
        violations: 0,
        policyFaults: ok ? 0 : 1,
        inferenceLatencyUs: { p50: ok ? 20 : 30, p99: ok ? 80 : 300 },
        policyVersion: version,
      });
    }
  }
  return c;
}

describe('dashboard views', () => {
  it('summarises the fleet, each policy and each drone per window', () => {
    const nowMs = T0 + 595_000;
    const o = dashboardOverview(fleet(), nowMs);
    expect(Object.keys(o.fleet)).toEqual(['1m', '5m', '60m']);
    expect(o.fleet['5m']).toMatchObject({
      episodes: 60,
      successes: 30,
      successRate: 0.5,
      violations: 0,
      policyFaults: 30,
    });
    expect(o.fleet['5m'].interventionsByLayer).toEqual({ sanity: 0, box: 60, barrier: 90, shield: 0, monitor: 0 });
    expect(o.fleet['5m'].interventionShare).toBeCloseTo(150 / 6000, 12);
    expect(o.fleet['5m'].latencyP99Us).toBe(300);
    expect(o.fleet['60m'].episodes).toBe(120);
    expect(o.policies.map((p) => [p.policyVersion, p.windows['1m'].successRate, p.windows['1m'].meanReturn])).toEqual([
      ['v1', 1, 10],
      ['v2', 0, -5],
    ]);
    expect(o.drones.map((d) => d.droneId)).toEqual(['d1', 'd2']);
    expect(Object.keys(o.drones[0].windows)).toEqual(['5m']);
    expect(o.drones[1].windows['5m'].batteryMin).toBeCloseTo(1 - 590 / 1200, 12);
  });

  it('serves chart points for a validated query', () => {
    const q = SERIES_QUERY_SCHEMA.parse({ metric: 'success_rate', scope: 'policy:v2', windowS: '60' });
    expect(q).toEqual({ metric: 'success_rate', scope: 'policy:v2', windowS: 60, agg: 'mean' });
    const v = dashboardSeries(fleet(), q, T0 + 595_000);
    expect(v.bucketS).toBe(10);
    expect(v.points.map((p) => p.value)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(SERIES_QUERY_SCHEMA.safeParse({ metric: 'episodes', scope: 'moon:1' }).success).toBe(false);
    expect(SERIES_QUERY_SCHEMA.safeParse({ metric: 'episodes', scope: 'fleet', extra: 1 }).success).toBe(false);
  });

  it('lists alerts by state, most severe first', () => {
    const c = fleet();
    const engine = new AlertEngine(c, [
      {
        name: 'faults',
        expr: threshold('policy_faults', 60, '>', 0, { agg: 'sum' }),
        scope: 'drone',
        forS: 0,
        severity: 'warning',
      },
      {
        name: 'bad-policy',
        expr: threshold('success_rate', 300, '<', 0.8),
        scope: 'policy',
        forS: 0,
        severity: 'critical',
      },
      {
        name: 'slow',
        expr: threshold('inference_latency_p99_us', 60, '>', 50, { agg: 'max' }),
        scope: 'drone',
        forS: 600,
        severity: 'info',
      },
    ]);
    engine.evaluate(T0 + 595_000);
    const view = dashboardAlerts(engine);
    expect(view.firing.map((a) => a.id)).toEqual([
      `bad-policy/policy:v2/${T0 + 595_000}`,
      `faults/drone:d2/${T0 + 595_000}`,
    ]);
    expect(view.pending.map((a) => a.rule)).toEqual(['slow', 'slow']);
    expect(view.resolved).toEqual([]);
  });
});
