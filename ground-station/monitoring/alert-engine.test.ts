import { describe, expect, it } from 'vitest';
import { isAerieError } from '../../shared/errors.js';
import { AlertEngine, type AlertTransition } from './alert-engine.js';
import {
  type AlertRule,
  absence,
  DEFAULT_ALERT_RULES,
  parseAlertRules,
  rateOfChange,
  threshold,
} from './alert-rules.js';
import { MetricsCollector } from './collector.js';

const T0 = 1_699_999_980_000;
const brief = (ts: readonly AlertTransition[]) => ts.map((t) => `${t.rule}@${t.scopeKey}:${t.from}->${t.to}`);

const violations: AlertRule = {
  name: 'violations',
  expr: threshold('violations', 60, '>', 0, { agg: 'sum' }),
  scope: 'drone',
  forS: 30,
  severity: 'critical',
};
const batteryLow = (clearValue?: number): AlertRule => ({
  name: 'battery-low',
  expr: threshold('battery_remaining', 60, '<', 0.25, { agg: 'last', ...(clearValue ? { clearValue } : {}) }),
  scope: 'drone',
  forS: 0,
  severity: 'warning',
});

/** Run the engine every `stepS` seconds from `fromS` to `toS` (inclusive), collecting transitions. */
function run(engine: AlertEngine, fromS: number, toS: number, stepS: number, before?: (tS: number) => void) {
  const out: { tS: number; transitions: AlertTransition[] }[] = [];
  for (let tS = fromS; tS <= toS; tS += stepS) {
    before?.(tS);
    const transitions = engine.evaluate(T0 + tS * 1000);
    if (transitions.length > 0) out.push({ tS, transitions });
  }
  return out;
}

describe('AlertEngine state machine', () => {
  it('stays pending for forS, then fires, then resolves when the window clears', () => {
    const c = new MetricsCollector();
    const engine = new AlertEngine(c, [violations]);
    c.ingest({ name: 'violations', value: 0, timeMs: T0, droneId: 'd2' });
    c.ingest({ name: 'violations', value: 1, timeMs: T0, droneId: 'd1' });
    const log = run(engine, 0, 120, 5);
    expect(log.map((e) => [e.tS, brief(e.transitions)])).toEqual([
      [0, ['violations@drone:d1:inactive->pending']],
      [30, ['violations@drone:d1:pending->firing']],
      [60, ['violations@drone:d1:firing->resolved']], // the 1-min window no longer holds the violation
    ]);
    expect(engine.alerts()).toMatchObject([{ state: 'resolved', firedAtMs: T0 + 30_000, resolvedAtMs: T0 + 60_000 }]);
  });

  it('drops a pending alert whose condition does not last forS', () => {
    const c = new MetricsCollector();
    const rule = { ...violations, forS: 90 };
    const engine = new AlertEngine(c, [rule]);
    c.ingest({ name: 'violations', value: 1, timeMs: T0, droneId: 'd1' });
    const log = run(engine, 0, 120, 10);
    expect(log.map((e) => [e.tS, brief(e.transitions)])).toEqual([
      [0, ['violations@drone:d1:inactive->pending']],
      [60, ['violations@drone:d1:pending->inactive']],
    ]);
    expect(engine.alerts()).toEqual([]);
  });

  it('does not flap around the threshold with hysteresis, and does without it', () => {
    const battery = [0.2, 0.26, 0.24, 0.27, 0.24, 0.29, 0.24, 0.31, 0.32];
    const play = (rule: AlertRule) => {
      const c = new MetricsCollector();
      const engine = new AlertEngine(c, [rule]);
      return run(engine, 0, (battery.length - 1) * 10, 10, (tS) =>
        c.ingestTelemetry({ id: 'd1', timeMs: T0 + tS * 1000, batteryRemaining: battery[tS / 10] }),
      ).flatMap((e) => e.transitions.map((t) => `${e.tS}:${t.to}`));
    };
    expect(play(batteryLow(0.3))).toEqual(['0:firing', '70:resolved']);
    // Without a clear level the same readings flap.
    expect(play(batteryLow())).toEqual([
      '0:firing',
      '10:resolved',
      '20:firing',
      '30:resolved',
      '40:firing',
      '50:resolved',
      '60:firing',
      '70:resolved',
    ]);
  });

  it('keeps firing for keepFiringForS after the condition clears', () => {
    const c = new MetricsCollector();
    const engine = new AlertEngine(c, [{ ...violations, forS: 0, keepFiringForS: 120 }]);
    c.ingest({ name: 'violations', value: 1, timeMs: T0, droneId: 'd1' });
    const log = run(engine, 0, 240, 10);
    expect(log.map((e) => [e.tS, brief(e.transitions)])).toEqual([
      [0, ['violations@drone:d1:inactive->firing']],
      [180, ['violations@drone:d1:firing->resolved']], // clear from 60 s, held 120 s more
    ]);
  });

  it('raises absence for a silent drone, ignores drones the registry does not expect, and resolves on return', () => {
    const c = new MetricsCollector();
    const engine = new AlertEngine(c, [
      { name: 'drone-silent', expr: absence('telemetry', 30), scope: 'drone', forS: 0, severity: 'critical' },
    ]);
    const talking = new Set(['d1', 'd2']);
    const log: string[] = [];
    for (let tS = 0; tS <= 200; tS += 5) {
      if (tS === 50) talking.delete('d1'); // d1 goes quiet
      if (tS === 150) talking.add('d1'); // and comes back
      for (const id of talking) c.ingestTelemetry({ id, timeMs: T0 + tS * 1000, batteryRemaining: 0.9 });
      // d3 is online but has never sent telemetry; d2 shut down cleanly at 100 s (no longer expected).
      const expected = tS < 100 ? ['d1', 'd2', 'd3'] : ['d1', 'd3'];
      if (tS === 100) talking.delete('d2');
      for (const t of engine.evaluate(T0 + tS * 1000, { expectedDrones: expected }))
        log.push(`${tS}:${t.scopeKey}:${t.to}`);
    }
    expect(log).toEqual(['35:drone:d3:firing', '80:drone:d1:firing', '150:drone:d1:resolved']);
  });

  it('fires on rate of change: a battery draining too fast', () => {
    const c = new MetricsCollector();
    const engine = new AlertEngine(c, [
      {
        name: 'drain',
        expr: rateOfChange('battery_remaining', 300, '<', -0.05, -0.04),
        scope: 'drone',
        forS: 0,
        severity: 'warning',
      },
    ]);
    const log: string[] = [];
    let level = 0.95;
    for (let tS = 0; tS <= 900; tS += 10) {
      // Normal drain (2 %/min) for 5 min, a fast one (8 %/min) for 3 min, then charging stops the fall.
      level -= tS <= 300 ? 0.02 / 6 : tS <= 480 ? 0.08 / 6 : 0;
      c.ingestTelemetry({ id: 'd1', timeMs: T0 + tS * 1000, batteryRemaining: level });
      for (const t of engine.evaluate(T0 + tS * 1000)) log.push(`${t.to}`);
    }
    expect(log).toEqual(['firing', 'resolved']);
  });

  it('evaluates per policy version and waits for minCount before judging a ratio', () => {
    const c = new MetricsCollector();
    const rule: AlertRule = {
      name: 'success-low',
      expr: threshold('success_rate', 300, '<', 0.8, { minCount: 5 }),
      scope: 'policy',
      forS: 0,
      severity: 'critical',
    };
    const engine = new AlertEngine(c, [rule]);
    const put = (droneId: string, policyVersion: string, episodes: number, successes: number, tS: number) => {
      c.ingest({ name: 'episodes', value: episodes, timeMs: T0 + tS * 1000, droneId, policyVersion });
      c.ingest({ name: 'successes', value: successes, timeMs: T0 + tS * 1000, droneId, policyVersion });
    };
    put('d1', 'v1', 10, 10, 0);
    put('d2', 'v2', 2, 0, 0); // 0 % but only 2 episodes: no verdict yet
    expect(engine.evaluate(T0)).toEqual([]);
    put('d3', 'v2', 4, 3, 10); // v2 now 3 / 6 = 50 %
    expect(brief(engine.evaluate(T0 + 10_000))).toEqual(['success-low@policy:v2:inactive->firing']);
    expect(engine.firing()[0].value).toBeCloseTo(0.5, 12);
  });
});

describe('acknowledge, snapshot and restore', () => {
  it('acknowledges a live alert by id; a re-fire is a new episode without the acknowledgement', () => {
    const c = new MetricsCollector();
    const engine = new AlertEngine(c, [{ ...violations, forS: 0 }]);
    c.ingest({ name: 'violations', value: 1, timeMs: T0, droneId: 'd1' });
    const [fired] = engine.evaluate(T0);
    expect(engine.acknowledge(fired.alertId, 'alice', T0 + 1000)).toBe(true);
    expect(engine.acknowledge('violations/drone:d1/0', 'bob', T0)).toBe(false);
    expect(engine.firing()[0]).toMatchObject({ acknowledgedBy: 'alice', acknowledgedAtMs: T0 + 1000 });
    engine.evaluate(T0 + 60_000); // resolved
    expect(engine.acknowledge(fired.alertId, 'bob', T0 + 61_000)).toBe(false);
    c.ingest({ name: 'violations', value: 1, timeMs: T0 + 70_000, droneId: 'd1' });
    const [again] = engine.evaluate(T0 + 70_000);
    expect(again.alertId).not.toBe(fired.alertId);
    expect(engine.firing()[0].acknowledgedBy).toBeNull();
  });

  it('round-trips through JSON: a restored engine neither loses nor re-announces a firing alert', () => {
    const c = new MetricsCollector();
    const rules = [
      { ...violations, forS: 0 },
      { ...violations, name: 'slow', forS: 600 },
    ];
    const first = new AlertEngine(c, rules);
    c.ingest({ name: 'violations', value: 1, timeMs: T0, droneId: 'd1' });
    first.evaluate(T0);
    first.acknowledge(first.firing()[0].id, 'alice', T0);
    const saved = JSON.parse(JSON.stringify(first.snapshot()));

    const second = new AlertEngine(c, rules);
    second.restore(saved);
    expect(second.alerts()).toEqual(first.alerts());
    expect(second.snapshot()).toEqual(first.snapshot());
    // Still pending: no new pending; still firing: no new firing; both go on to resolve normally.
    expect(second.evaluate(T0 + 10_000)).toEqual([]);
    expect(brief(second.evaluate(T0 + 60_000))).toEqual([
      'violations@drone:d1:firing->resolved',
      'slow@drone:d1:pending->inactive',
    ]);
  });

  it('refuses a malformed or foreign snapshot and drops states of rules no longer configured', () => {
    const c = new MetricsCollector();
    const engine = new AlertEngine(c, [violations]);
    for (const bad of [
      null,
      { schema: 'aerie.alerts/2', states: [], watches: [] },
      { schema: 'aerie.alerts/1', states: [{}], watches: [] },
    ]) {
      try {
        engine.restore(bad);
        expect.unreachable();
      } catch (err) {
        expect(isAerieError(err, 'ALERT_STATE_INVALID')).toBe(true);
      }
    }
    const other = new AlertEngine(c, [{ ...violations, name: 'gone', forS: 0 }]);
    c.ingest({ name: 'violations', value: 1, timeMs: T0, droneId: 'd1' });
    other.evaluate(T0);
    engine.restore(other.snapshot());
    expect(engine.alerts()).toEqual([]);
  });

  it('forgets resolved alerts after the retention time', () => {
    const c = new MetricsCollector();
    const engine = new AlertEngine(c, [{ ...violations, forS: 0 }], { resolvedRetentionS: 600 });
    c.ingest({ name: 'violations', value: 1, timeMs: T0, droneId: 'd1' });
    engine.evaluate(T0);
    engine.evaluate(T0 + 60_000);
    engine.evaluate(T0 + 600_000);
    expect(engine.alerts().map((a) => a.state)).toEqual(['resolved']);
    engine.evaluate(T0 + 661_000);
    expect(engine.alerts()).toEqual([]);
  });
});

describe('rules', () => {
  it('refuses malformed rules with ALERT_RULE_INVALID', () => {
    const base = { name: 'r', expr: threshold('x', 60, '>', 1), scope: 'drone', forS: 0, severity: 'warning' };
    const cases: unknown[] = [
      [{ ...base, expr: { ...base.expr, op: '!=' } }],
      [{ ...base, expr: threshold('x', 60, '>', 1, { clearValue: 2 }) }], // clear level on the firing side
      [base, base],
      [{ ...base, scope: 'planet' }],
      [{ ...base, name: 'Bad Name' }],
      [{ ...base, forS: -1 }],
    ];
    for (const raw of cases) {
      try {
        parseAlertRules(raw);
        expect.unreachable();
      } catch (err) {
        expect(isAerieError(err, 'ALERT_RULE_INVALID')).toBe(true);
      }
    }
  });

  it('default rules: a healthy fleet stays quiet; a bad policy, a hot drone and a silent one are caught', () => {
    const c = new MetricsCollector();
    const engine = new AlertEngine(c, DEFAULT_ALERT_RULES);
    const fired = new Set<string>();
    for (let tS = 0; tS <= 900; tS += 10) {
      const timeMs = T0 + tS * 1000;
      for (const id of ['good1', 'good2', 'bad', 'silent']) {
        if (id === 'silent' && tS > 300) continue;
        const bad = id === 'bad' && tS >= 300;
        c.ingestTelemetry({ id, timeMs, batteryRemaining: 0.95 - tS / 60_000, policyVersion: bad ? 'v2' : 'v1' });
        c.ingestMetricsWindow({
          id,
          timeMs,
          windowS: 10,
          episodes: 1,
          successes: bad ? 0 : 1,
          returnSum: 1,
          ticks: 500,
          policyTicks: 500,
          interventionsByLayer: { sanity: 0, box: bad ? 150 : 2, barrier: 0, shield: 0, monitor: 0 },
          violations: 0,
          policyFaults: 0,
          inferenceLatencyUs: { p50: 20, p99: bad ? 25_000 : 120 },
          policyVersion: bad ? 'v2' : 'v1',
        });
      }
      const expected = ['good1', 'good2', 'bad', 'silent'];
      for (const t of engine.evaluate(timeMs, { expectedDrones: expected })) {
        if (t.to === 'firing') fired.add(`${t.rule}@${t.scopeKey}`);
      }
    }
    expect([...fired].sort()).toEqual([
      'drone-silent@drone:silent',
      'inference-latency-high@drone:bad',
      'intervention-share-high@policy:v2',
      'success-rate-low@policy:v2',
    ]);
  });
});
