import { describe, expect, it } from 'vitest';
import type { Airspace } from '../../shared/geo/index.js';
import { EMPTY_AIRSPACE } from '../../shared/geo/index.js';
import {
  ABSENT_OBSERVATION,
  buildGoToGoalModel,
  OBSERVATION_SIZE,
  observationIndex,
} from '../../shared/policy/index.js';
import { linearModel, nanWhenFlyingSouthPolicyModel } from '../../shared/policy/test-models.js';
import { loadPolicy } from '../policy/index.js';
import { DEFAULT_SAFETY_CONFIG } from '../safety/index.js';
import { vehicleAt } from '../safety/test-support.js';
import { FlightCounter, TripWatch } from './probation.js';
import { ShadowFilter, ShadowRunner, ShadowStats, type ShadowTick } from './shadow.js';

const limits = { maxHorizontalMS: 12, maxUpMS: 3, maxDownMS: 1.5 };

function tick(timeUs: number, activeAction: number[] | null, airspace: Airspace = EMPTY_AIRSPACE): ShadowTick {
  const observation = new Float32Array(OBSERVATION_SIZE);
  observation.set(ABSENT_OBSERVATION);
  return {
    timeUs,
    observation,
    activeAction: activeAction ? Float32Array.from(activeAction) : null,
    vehicle: vehicleAt({ n: 0, e: 0, d: -30 }),
    airspace,
    neighbours: [],
    phase: 'cruise',
  };
}

describe('ShadowStats', () => {
  it('reports mean and p95 divergence, would-be interventions by layer, and resets per window', () => {
    const s = new ShadowStats();
    for (let i = 1; i <= 100; i++) s.observe(i / 100, new Set(i % 10 === 0 ? (['box'] as const) : []), false);
    s.observe(null, new Set(['sanity'] as const), true);
    s.skip();
    const w = s.close('sha256:aaaa');
    expect(w).toMatchObject({
      policyVersion: 'sha256:aaaa',
      ticks: 101,
      wouldBeInterventionTicks: 11,
      wouldBeInterventionsByLayer: { sanity: 1, box: 10, barrier: 0 },
      skippedTicks: 1,
      faults: 1,
    });
    expect(w?.divergenceMeanMps).toBeCloseTo(0.505, 9);
    expect(w?.divergenceP95Mps).toBeCloseTo(0.95, 9);
    expect(s.close('sha256:aaaa')).toBeNull();
    expect(s.totals.ticks).toBe(101);
  });
});

describe('ShadowFilter', () => {
  it('counts what the sanity, box and barrier layers would have changed, with no monitor', () => {
    const f = new ShadowFilter(DEFAULT_SAFETY_CONFIG);
    expect(f.evaluate(tick(0, null), null, null)).toEqual(new Set(['sanity']));
    f.reset();
    // From a hover, full speed north at once: the rate limit (box) shapes it.
    expect(f.evaluate(tick(0, null), Float32Array.from([1, 0, 0]), { n: 12, e: 0, d: 0 })).toEqual(new Set(['box']));
    f.reset();
    // Close to a fence edge, flying at it: the barrier.
    const fence: Airspace = {
      geofence: {
        polygonNeM: [
          { n: -100, e: -100 },
          { n: 3, e: -100 },
          { n: 3, e: 100 },
          { n: -100, e: 100 },
        ],
        ceilingM: 120,
      },
      noFlyZones: [],
      altitudeFloorM: 0,
    };
    const layers = f.evaluate(tick(0, null, fence), Float32Array.from([0.05, 0, 0]), { n: 0.6, e: 0, d: 0 });
    expect(layers.has('barrier')).toBe(true);
  });
});

describe('ShadowRunner', () => {
  async function divergenceOf(model: Uint8Array, activeAction: number[] | null): Promise<ShadowRunner> {
    const runner = await loadPolicy(model, { label: 'shadow' });
    const sh = new ShadowRunner({ runner, version: 'v', limits, safety: DEFAULT_SAFETY_CONFIG, deadlineMs: 200 });
    for (let i = 0; i < 5; i++) {
      sh.observe(tick(i * 20_000, activeAction));
      await sh.idle();
    }
    await sh.stop();
    return sh;
  }

  it('measures zero divergence for the same model and more for another; faults are counted, not thrown', async () => {
    const same = await loadPolicy(buildGoToGoalModel());
    const o = new Float32Array(OBSERVATION_SIZE);
    o.set(ABSENT_OBSERVATION);
    const action = Array.from(await same.run(o));
    await same.release();
    const a = await divergenceOf(buildGoToGoalModel(), action);
    expect(a.stats.totals.ticks).toBe(5);
    expect(a.stats.meanDivergenceMps).toBe(0);
    const b = await divergenceOf(linearModel(), action);
    expect(b.stats.meanDivergenceMps).toBeGreaterThan(0.1);
    // The active policy faulted: no divergence sample, but the candidate is still filtered and counted.
    const c = await divergenceOf(nanWhenFlyingSouthPolicyModel(), null);
    expect(c.stats.totals).toMatchObject({ ticks: 5, faults: 0, divergenceSamples: 0 });
  });

  it('counts a candidate that faults (NaN) as a would-be sanity intervention, without a divergence sample', async () => {
    const runner = await loadPolicy(nanWhenFlyingSouthPolicyModel());
    const sh = new ShadowRunner({ runner, version: 'v', limits, safety: DEFAULT_SAFETY_CONFIG, deadlineMs: 200 });
    const south = tick(0, [0, 0, 0]);
    south.observation[observationIndex('velocity_n')] = -0.5;
    sh.observe(south);
    await sh.idle();
    sh.observe(tick(20_000, [0, 0, 0]));
    await sh.idle();
    await sh.stop();
    expect(sh.stats.close('v')).toMatchObject({
      ticks: 2,
      faults: 1,
      wouldBeInterventionsByLayer: { sanity: 1 },
    });
    expect(sh.stats.totals.divergenceSamples).toBe(1);
  });

  it('skips a tick while the previous inference still runs (never queues behind the loop)', async () => {
    const runner = await loadPolicy(buildGoToGoalModel());
    const sh = new ShadowRunner({ runner, version: 'v', limits, safety: DEFAULT_SAFETY_CONFIG, deadlineMs: 200 });
    sh.observe(tick(0, [0, 0, 0]));
    sh.observe(tick(20_000, [0, 0, 0]));
    await sh.idle();
    await sh.stop();
    expect(sh.stats.close('v')).toMatchObject({ ticks: 1, skippedTicks: 1 });
  });
});

describe('probation watch', () => {
  const t = (fault: boolean, transition: { from: string; to: string; rules: string[] } | null = null) => ({
    policy: {},
    decision: { policyFault: fault, monitor: { transition } },
  });

  it('trips on a streak of policy faults and on a monitor escalation the policy is blamed for', () => {
    const w = new TripWatch({ faultStreakTicks: 3 });
    expect(w.observe(t(true))).toBeNull();
    expect(w.observe(t(false))).toBeNull();
    expect(w.observe(t(true))).toBeNull();
    expect(w.observe(t(true))).toBeNull();
    expect(w.observe(t(true))).toBe('3 policy faults in a row');
    w.reset();
    expect(w.observe(t(false, { from: 'none', to: 'warn', rules: ['near_miss'] }))).toBeNull();
    expect(w.observe(t(false, { from: 'warn', to: 'return', rules: ['battery_critical'] }))).toBeNull();
    expect(w.observe(t(false, { from: 'warn', to: 'hold', rules: ['fence_breach', 'gps_lost'] }))).toBe(
      'runtime monitor warn -> hold (fence_breach)',
    );
  });

  it('counts a flight from arm to disarm', () => {
    const f = new FlightCounter();
    expect(f.observe(false)).toEqual({ started: false, ended: false });
    expect(f.observe(true)).toEqual({ started: true, ended: false });
    expect(f.observe(true)).toEqual({ started: false, ended: false });
    expect(f.observe(false)).toEqual({ started: false, ended: true });
  });
});
