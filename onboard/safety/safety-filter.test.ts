import { describe, expect, it } from 'vitest';
import type { Airspace, Ned } from '../../shared/geo/index.js';
import { allowedClosingSpeedMS } from './barrier-shape.js';
import { withinSpeedLimits } from './box.js';
import { DEFAULT_SAFETY_CONFIG, parseSafetyConfig } from './config.js';
import { SafetyFilter } from './safety-filter.js';
import { healthyInput, TICK_US, vehicleAt } from './test-support.js';
import type { SafetyInput } from './types.js';

const cfg = DEFAULT_SAFETY_CONFIG;

const square: Airspace = {
  geofence: {
    polygonNeM: [
      { n: -100, e: -100 },
      { n: 100, e: -100 },
      { n: 100, e: 100 },
      { n: -100, e: 100 },
    ],
    ceilingM: 60,
  },
  noFlyZones: [{ kind: 'cylinder', id: 'tower', centerNeM: { n: 0, e: 50 }, radiusM: 10, topM: 40 }],
  altitudeFloorM: 20,
};

/** A filter already flying at `velocity` (so the rate limit does not hide what a layer does). */
function flying(velocity: Ned, config = cfg): SafetyFilter {
  const f = new SafetyFilter(config);
  f.update({
    ...healthyInput(0, velocity),
    vehicle: vehicleAt({ n: 0, e: 0, d: -30 }, { velocityNedMS: velocity }),
    shield: { score: 0 },
  });
  return f;
}

/** A tick at p with the vehicle moving at `actual` and the policy asking for the same unless `extra` says otherwise. */
function at(
  t: number,
  p: Ned,
  actual: Ned,
  airspace: Airspace = square,
  extra: Partial<SafetyInput> = {},
): SafetyInput {
  return { ...healthyInput(t, actual, airspace), vehicle: vehicleAt(p, { velocityNedMS: actual }), ...extra };
}

const ask = (v: Ned): Partial<SafetyInput> => ({ policy: { action: [v.n / 12, v.e / 12, v.d / 3], velocityNedMS: v } });

describe('SafetyFilter', () => {
  it('passes a safe action through untouched, with no intervention', () => {
    const f = flying({ n: 5, e: -2, d: 0.5 });
    const d = f.update(at(TICK_US, { n: 0, e: 0, d: -30 }, { n: 5, e: -2, d: 0.5 }));
    expect(d.velocityNedMS).toEqual({ n: 5, e: -2, d: 0.5 });
    expect(d.interventions).toEqual([]);
    expect(d.layers).toEqual({ sanity: false, box: false, barrier: false, shield: false, monitor: false });
    expect(d.barrier.status).toBe('clear');
    expect(d.action).toBe('none');
    expect(d.actionClipped).toEqual([5 / 12, -2 / 12, 0.5 / 3]);
  });

  it('brakes to hover on a non-finite action, at once (no rate limit on the brake)', () => {
    const f = flying({ n: 10, e: 0, d: 0 });
    const d = f.update({
      ...at(TICK_US, { n: 0, e: 0, d: -30 }, { n: 10, e: 0, d: 0 }),
      policy: { action: [Number.POSITIVE_INFINITY, 0, 0], velocityNedMS: { n: 12, e: 0, d: 0 } },
    });
    expect(d.velocityNedMS).toEqual({ n: 0, e: 0, d: 0 });
    expect(d.policyFault).toBe(true);
    expect(d.interventions).toContainEqual({ layer: 'sanity', reason: 'action_non_finite', magnitudeMS: 12 });
    expect(d.actionClipped).toBeNull();
  });

  it('clips an out-of-range action and bounds its velocity with the box', () => {
    const f = flying({ n: 12, e: 0, d: 0 });
    const d = f.update({
      ...at(TICK_US, { n: 0, e: 0, d: -30 }, { n: 12, e: 0, d: 0 }),
      policy: { action: [3, 0, 0], velocityNedMS: { n: 36, e: 0, d: 0 } },
    });
    expect(d.actionClipped).toEqual([1, 0, 0]);
    expect(d.velocityNedMS).toEqual({ n: 12, e: 0, d: 0 });
    expect(d.interventions.map((i) => i.reason)).toEqual(['action_out_of_range', 'axis_speed_limit']);
  });

  it('rate limits the policy from the previous setpoint', () => {
    const f = flying({ n: 0, e: 0, d: 0 });
    const d = f.update(
      at(TICK_US, { n: 0, e: 0, d: -30 }, { n: 0, e: 0, d: 0 }, square, {
        policy: { action: [1, 0, 0], velocityNedMS: { n: 12, e: 0, d: 0 } },
      }),
    );
    expect(d.velocityNedMS.n).toBeCloseTo(cfg.maxHorizontalAccelMS2 * 0.02, 12);
    expect(d.layers.box).toBe(true);
  });

  it('trims the closing speed toward the fence and keeps the tangential part', () => {
    const v = { n: 8, e: 6, d: 0 };
    const f = flying(v);
    // 8 m inside the north edge: 5 m of slack beyond the 3 m margin.
    const d = f.update(
      at(TICK_US, { n: 92, e: 0, d: -30 }, { n: 0, e: 6, d: 0 }, square, {
        policy: { action: [8 / 12, 0.5, 0], velocityNedMS: v },
      }),
    );
    expect(d.barrier.status).toBe('projected');
    expect(d.velocityNedMS.n).toBeCloseTo(allowedClosingSpeedMS(8 - cfg.fenceMarginM, cfg), 9);
    expect(d.velocityNedMS.e).toBeCloseTo(6, 6);
    expect(d.interventions.at(-1)).toMatchObject({ layer: 'barrier', reason: 'barrier_projection' });
  });

  it('applies the altitude floor in cruise only', () => {
    const down = { n: 0, e: 0, d: 2 };
    const cruise = flying(down).update(at(TICK_US, { n: 0, e: 0, d: -23 }, down));
    expect(cruise.velocityNedMS.d).toBeLessThan(1);
    const landing = flying(down).update(at(TICK_US, { n: 0, e: 0, d: -23 }, down, square, { phase: 'landing' }));
    expect(landing.velocityNedMS.d).toBe(2);
    // Below the floor in cruise: climb even with a hover action.
    const below = flying({ n: 0, e: 0, d: 0 }).update(at(TICK_US, { n: 0, e: 0, d: -15 }, { n: 0, e: 0, d: 0 }));
    expect(below.velocityNedMS.d).toBeLessThan(-1);
    expect(below.barrier.breached).toEqual(['floor']);
  });

  it('lets the vehicle overfly a zone with a top, but not descend into it', () => {
    const down = { n: 0, e: 0, d: 2 };
    const hover = { n: 0, e: 0, d: 0 };
    // 4 m above the top: 1 m of slack beyond the margin.
    const over = flying(down).update(at(TICK_US, { n: 0, e: 50, d: -44 }, hover, square, ask(down)));
    expect(over.velocityNedMS.d).toBeCloseTo(allowedClosingSpeedMS(1, cfg), 9);
    // Already descending at 2 m/s there: ahead of the envelope, so it is told to climb.
    const fast = flying(down).update(at(TICK_US, { n: 0, e: 50, d: -44 }, down));
    expect(fast.velocityNedMS.d).toBeLessThan(0);
    const beside = flying(down).update(at(TICK_US, { n: 0, e: 20, d: -44 }, down));
    expect(beside.velocityNedMS.d).toBe(2);
  });

  it('moves out of a zone it finds itself in', () => {
    const d = flying({ n: 0, e: 0, d: 0 }).update(at(TICK_US, { n: 0, e: 45, d: -30 }, { n: 0, e: 0, d: 0 }));
    expect(d.barrier.breached).toContain('zone');
    expect(d.velocityNedMS.e).toBeLessThan(-0.5); // west, the nearest way out
  });

  it('gives way to a neighbour closing on it', () => {
    const hover = { n: 0, e: 0, d: 0 };
    const d = flying(hover).update(
      at(TICK_US, { n: 0, e: 0, d: -30 }, hover, square, {
        neighbours: [
          { id: 'b', positionNedM: { n: 12, e: 0, d: -30 }, velocityNedMS: { n: -4, e: 0, d: 0 }, ageMs: 0 },
        ],
      }),
    );
    expect(d.velocityNedMS.n).toBeLessThan(-0.5);
    expect(d.barrier.clearanceM.separation).toBeCloseTo(12 - cfg.separationM, 9);
  });

  it('extrapolates an old position over its age before judging the barriers', () => {
    const v = { n: 10, e: 0, d: 0 };
    const fresh = flying(v).update(at(TICK_US, { n: 80, e: 0, d: -30 }, v));
    const old = flying(v).update({
      ...at(TICK_US, { n: 80, e: 0, d: -30 }, v),
      vehicle: vehicleAt({ n: 80, e: 0, d: -30 }, { velocityNedMS: v, positionAgeMs: 200 }),
    });
    // 200 ms against the 10 ms of the fresh one, at 10 m/s toward the north edge.
    expect(old.barrier.clearanceM.fence).toBeCloseTo(fresh.barrier.clearanceM.fence - 1.9, 9);
  });

  it('brakes to hover without a valid position, and says why', () => {
    const d = flying({ n: 5, e: 0, d: 0 }).update({
      ...at(TICK_US, { n: 0, e: 0, d: -30 }, { n: 5, e: 0, d: 0 }),
      vehicle: vehicleAt({ n: Number.NaN, e: 0, d: -30 }, { altitudeAboveHomeM: Number.NaN }),
    });
    expect(d.velocityNedMS).toEqual({ n: 0, e: 0, d: 0 });
    expect(d.barrier.status).toBe('no_state');
    expect(d.interventions).toContainEqual({ layer: 'barrier', reason: 'state_invalid', magnitudeMS: 5 });
    expect(d.action).toBe('hold'); // state_stale
  });

  it('keeps time monotonic when the clock jumps back or is missing', () => {
    const f = new SafetyFilter();
    expect(f.update(healthyInput(1_000_000)).timeUs).toBe(1_000_000);
    expect(f.update(healthyInput(500_000)).timeUs).toBe(1_020_000);
    expect(f.update(healthyInput(Number.NaN)).timeUs).toBe(1_040_000);
    expect(f.update(healthyInput(2_000_000)).timeUs).toBe(2_000_000);
  });

  it('reset forgets the latch, the previous setpoint and the clock', () => {
    const f = new SafetyFilter();
    f.update({ ...healthyInput(0), emergencyStop: true });
    expect(f.action).toBe('land');
    f.reset();
    expect(f.action).toBe('none');
    expect(f.update(healthyInput(5)).timeUs).toBe(5);
  });
});

describe('shield veto path', () => {
  const enforce = parseSafetyConfig({ shieldMode: 'enforce', shieldThreshold: 0.5 });
  const v = { n: 6, e: 0, d: 0 };
  const tick = (f: SafetyFilter, t: number, shield: SafetyInput['shield'], p: Ned = { n: 0, e: 0, d: -30 }) =>
    f.update(at(t, p, v, square, { shield }));

  it('passes a scored action below the threshold', () => {
    const d = tick(flying(v, enforce), TICK_US, { score: 0.2 });
    expect(d.velocityNedMS).toEqual(v);
    expect(d.shield).toEqual({ veto: false, wouldVeto: false, reason: null, score: 0.2 });
  });

  it('vetoes above the threshold and flies the barrier-safe hover instead', () => {
    const d = tick(flying(v, enforce), TICK_US, { score: 0.9 });
    expect(d.velocityNedMS).toEqual({ n: 0, e: 0, d: 0 });
    expect(d.layers.shield).toBe(true);
    expect(d.interventions).toContainEqual({ layer: 'shield', reason: 'shield_veto', magnitudeMS: 6 });
    // Inside a zone, the safe fallback is not plain hover: it leaves the zone.
    const inZone = tick(flying(v, enforce), TICK_US, { score: 0.9 }, { n: 0, e: 45, d: -30 });
    expect(inZone.velocityNedMS.e).toBeLessThan(0);
  });

  it('fails closed on a missing or non-finite score when enforcing', () => {
    expect(tick(flying(v, enforce), TICK_US, null).shield.reason).toBe('shield_missing');
    expect(tick(flying(v, enforce), TICK_US, { score: Number.NaN }).shield).toMatchObject({
      veto: true,
      reason: 'shield_score_invalid',
    });
  });

  it('only reports in advisory mode, and is ignored when off', () => {
    const advisory = tick(flying(v, parseSafetyConfig({ shieldMode: 'advisory' })), TICK_US, { score: 0.9 });
    expect(advisory.velocityNedMS).toEqual(v);
    expect(advisory.shield).toMatchObject({ veto: false, wouldVeto: true, reason: 'shield_veto' });
    expect(tick(flying(v), TICK_US, { score: 99 }).shield.wouldVeto).toBe(false);
  });

  it('a long veto streak holds', () => {
    const f = flying(v, enforce);
    let d = tick(f, TICK_US, { score: 0.9 });
    for (let k = 2; k <= enforce.shieldVetoHoldTicks; k++) d = tick(f, k * TICK_US, { score: 0.9 });
    expect(d.action).toBe('hold');
    expect(d.monitor.activeRules).toContain('shield_veto_streak');
  });
});

describe('SafetyFilter output invariants', () => {
  it('every setpoint is finite and inside the speed limits under a stream of random healthy inputs', () => {
    const f = new SafetyFilter();
    let seed = 1;
    const rand = (): number => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    for (let k = 0; k < 2000; k++) {
      const v = { n: (rand() - 0.5) * 40, e: (rand() - 0.5) * 40, d: (rand() - 0.5) * 10 };
      const p = { n: (rand() - 0.5) * 220, e: (rand() - 0.5) * 220, d: -rand() * 80 };
      const d = f.update(
        at(k * TICK_US, p, { n: rand() * 10, e: 0, d: 0 }, square, {
          policy: { action: [v.n / 12, v.e / 12, v.d / 3], velocityNedMS: v },
        }),
      );
      expect(withinSpeedLimits(d.velocityNedMS, cfg)).toBe(true);
      expect(d.error).toBeNull();
    }
  });
});
