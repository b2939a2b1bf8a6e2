import { describe, expect, it } from 'vitest';
import type { Airspace, Ned } from '../../shared/geo/index.js';
import { geofenceMargin, zoneClearance } from '../../shared/geo/index.js';
import { barrierConstraints, filterVelocity, maxBoxSpeedMS, ruleFallback, summariseBarriers } from './barrier.js';
import { type BarrierGeometryOptions, barrierGeometry, polygonArea2 } from './barrier-geometry.js';
import { allowedClosingSpeedMS, slackForSpeedM } from './barrier-shape.js';
import { withinSpeedLimits } from './box.js';
import { DEFAULT_SAFETY_CONFIG } from './config.js';
import { maxViolation } from './qp.js';
import { seededRandom } from './test-support.js';

const cfg = DEFAULT_SAFETY_CONFIG;
const opts: BarrierGeometryOptions = {
  floorActive: true,
  separationM: 5,
  stateExtrapolationMaxMs: 500,
  neighbourStaleMs: 2000,
};
const ZERO: Ned = { n: 0, e: 0, d: 0 };

const lShape: Airspace = {
  geofence: {
    polygonNeM: [
      { n: 0, e: 0 },
      { n: 100, e: 0 },
      { n: 100, e: 40 },
      { n: 40, e: 40 },
      { n: 40, e: 100 },
      { n: 0, e: 100 },
    ],
    ceilingM: 50,
  },
  noFlyZones: [
    { kind: 'cylinder', id: 'c', centerNeM: { n: 20, e: 20 }, radiusM: 5, floorM: 10, topM: 30 },
    {
      kind: 'polygon',
      id: 'p',
      polygonNeM: [
        { n: 60, e: 10 },
        { n: 80, e: 10 },
        { n: 70, e: 30 },
      ],
    },
  ],
  altitudeFloorM: 5,
};

describe('barrier shape', () => {
  it('is zero at the margin, grows with slack, and never outruns the stopping distance', () => {
    expect(allowedClosingSpeedMS(0, cfg)).toBe(0);
    let prev = 0;
    for (let x = 0.01; x < 200; x *= 1.3) {
      const u = allowedClosingSpeedMS(x, cfg);
      expect(u).toBeGreaterThan(prev);
      // From u, reacting after the lag and braking at brakeAccel, the vehicle stops within x.
      expect((u * u) / (2 * cfg.brakeAccelMS2) + u * cfg.trackingLagS).toBeLessThanOrEqual(x + 1e-9);
      expect(u).toBeLessThanOrEqual(cfg.barrierAlphaPerS * x + 1e-12);
      expect(slackForSpeedM(u, cfg)).toBeCloseTo(x, 6);
      prev = u;
    }
  });

  it('asks for a retreat inside the margin, no faster than the recovery speed', () => {
    expect(allowedClosingSpeedMS(-1, cfg)).toBeCloseTo(-cfg.barrierAlphaPerS, 12);
    expect(allowedClosingSpeedMS(-100, cfg)).toBe(-cfg.recoverySpeedMS);
  });
});

describe('barrier geometry', () => {
  it('gives every fence edge its own barrier inside, the least being the geofence margin', () => {
    const p = { n: 90, e: 20, d: -20 };
    const g = barrierGeometry(p, 20, lShape, [], opts);
    const fence = g.barriers.filter((b) => b.kind === 'fence');
    expect(fence).toHaveLength(6);
    const least = fence.reduce((a, b) => (b.clearanceM < a.clearanceM ? b : a));
    expect(least.clearanceM).toBeCloseTo(geofenceMargin(p, lShape.geofence!).marginM, 12);
    expect(least.gradient.n).toBeCloseTo(-1, 12); // away from the north edge
    for (const b of g.barriers) expect(Math.hypot(b.gradient.n, b.gradient.e, b.gradient.d)).toBeCloseTo(1, 12);
  });

  it('outside the fence has one barrier pointing back in', () => {
    const g = barrierGeometry({ n: 70, e: 60, d: -20 }, 20, lShape, [], opts);
    const fence = g.barriers.filter((b) => b.kind === 'fence');
    expect(fence).toHaveLength(1);
    expect(fence[0].clearanceM).toBeCloseTo(-20, 12);
    expect(fence[0].gradient).toMatchObject({ n: expect.closeTo(0, 12), e: expect.closeTo(-1, 12), d: 0 });
  });

  it('measures a banded zone in 3-D: beside, over, inside, and under-able', () => {
    const c = (p: Ned, alt: number) =>
      barrierGeometry(p, alt, lShape, [], opts).barriers.filter((b) => b.sourceId === 'c');
    // Beside, within the band: horizontal distance.
    expect(c({ n: 20, e: 35, d: 0 }, 20)[0].clearanceM).toBeCloseTo(10, 12);
    // Over the top: vertical distance, gradient up (d negative).
    const over = c({ n: 20, e: 20, d: 0 }, 34)[0];
    expect(over.clearanceM).toBeCloseTo(4, 12);
    expect(over.gradient).toEqual({ n: 0, e: 0, d: -1 });
    // Diagonally off the top edge: Euclidean distance to the rim.
    const diag = c({ n: 20, e: 28, d: 0 }, 34)[0];
    expect(diag.clearanceM).toBeCloseTo(5, 12);
    expect(diag.gradient.e).toBeCloseTo(0.6, 12);
    expect(diag.gradient.d).toBeCloseTo(-0.8, 12);
    // Inside, nearer the floor than the side: out downward (the floor is at 10 m, above ground).
    const inside = c({ n: 20, e: 20, d: 0 }, 11)[0];
    expect(inside.clearanceM).toBeCloseTo(-1, 12);
    expect(inside.gradient).toEqual({ n: 0, e: 0, d: 1 });
  });

  it('a polygon zone: per-edge barriers outside agree with zoneClearance; one barrier inside', () => {
    const p = { n: 70, e: 0, d: -20 };
    const g = barrierGeometry(p, 20, lShape, [], opts).barriers.filter((b) => b.sourceId === 'p');
    expect(g).toHaveLength(3);
    expect(Math.min(...g.map((b) => b.clearanceM))).toBeCloseTo(zoneClearance(p, lShape.noFlyZones[1]).clearanceM, 12);
    const inside = barrierGeometry({ n: 70, e: 15, d: -20 }, 20, lShape, [], opts).barriers.filter(
      (b) => b.sourceId === 'p',
    );
    expect(inside).toHaveLength(1);
    expect(inside[0].clearanceM).toBeLessThan(0);
  });

  it('floor only when active; neighbours extrapolated over their age, closing speed never credited when receding', () => {
    const nb = (v: Ned) => [{ id: 'x', positionNedM: { n: 10, e: 0, d: -20 }, velocityNedMS: v, ageMs: 1000 }];
    const approaching = barrierGeometry({ n: 0, e: 50, d: -20 }, 20, lShape, nb({ n: -2, e: 0, d: 0 }), opts);
    const sep = approaching.barriers.find((b) => b.kind === 'separation')!;
    // Age 1000 ms is extrapolated over at most 500 ms: the neighbour is taken to be at n = 9.
    expect(sep.clearanceM).toBeCloseTo(Math.hypot(9, 50) - 5, 9);
    expect(sep.closingMS).toBeGreaterThan(0);
    const receding = barrierGeometry({ n: 0, e: 50, d: -20 }, 20, lShape, nb({ n: 2, e: 0, d: 0 }), opts);
    expect(receding.barriers.find((b) => b.kind === 'separation')!.closingMS).toBe(0);
    expect(
      barrierGeometry(ZERO, 20, lShape, [], { ...opts, floorActive: false }).barriers.some((b) => b.kind === 'floor'),
    ).toBe(false);
    expect(approaching.neighbourStale).toBe(false);
    expect(barrierGeometry(ZERO, 20, lShape, [{ ...nb(ZERO)[0], ageMs: 5000 }], opts).neighbourStale).toBe(true);
  });

  it('names and ignores malformed geometry', () => {
    const bad: Airspace = {
      geofence: {
        polygonNeM: [
          { n: 0, e: 0 },
          { n: 1, e: 1 },
        ],
        ceilingM: Number.NaN,
      },
      noFlyZones: [
        { kind: 'cylinder', id: 'neg', centerNeM: { n: 0, e: 0 }, radiusM: -3 },
        { kind: 'cylinder', id: 'band', centerNeM: { n: 0, e: 0 }, radiusM: 3, floorM: 50, topM: 20 },
        {
          kind: 'polygon',
          id: 'line',
          polygonNeM: [
            { n: 0, e: 0 },
            { n: 1, e: 0 },
            { n: 2, e: 0 },
          ],
        },
      ],
      altitudeFloorM: 0,
    };
    const g = barrierGeometry(ZERO, 10, bad, [], opts);
    expect(g.issues).toHaveLength(5);
    expect(g.barriers.filter((b) => b.kind !== 'floor')).toEqual([]);
    expect(
      polygonArea2([
        { n: 0, e: 0 },
        { n: Number.NaN, e: 1 },
        { n: 1, e: 0 },
      ]),
    ).toBe(0);
  });
});

describe('barrier constraints and the filter', () => {
  it('drops exactly the constraints no setpoint in the speed box can violate, and caps the count', () => {
    const g = barrierGeometry({ n: 50, e: 20, d: -20 }, 20, lShape, [], opts);
    const kept = barrierConstraints(g.barriers, ZERO, cfg);
    const vMax = maxBoxSpeedMS(cfg);
    for (const b of g.barriers) {
      const needed =
        -allowedClosingSpeedMS(b.clearanceM - (b.kind === 'zone' ? 3 : b.kind === 'fence' ? 3 : 2), cfg) > -vMax;
      expect(kept.some((c) => c.sourceId === b.sourceId && c.clearanceM === b.clearanceM)).toBe(needed);
    }
    expect(barrierConstraints(g.barriers, ZERO, { ...cfg, maxBarrierConstraints: 2 }).length).toBeLessThanOrEqual(2);
    const sorted = kept.map((c) => c.slackM);
    expect(sorted).toEqual([...sorted].sort((a, b) => a - b));
  });

  it('asks for extra braking when the vehicle already closes faster than allowed', () => {
    const g = barrierGeometry({ n: 90, e: 20, d: -20 }, 20, lShape, [], opts).barriers;
    const still = barrierConstraints(g, ZERO, cfg).find((c) => c.n < -0.99)!;
    const fast = barrierConstraints(g, { n: 8, e: 0, d: 0 }, cfg).find((c) => c.n < -0.99)!;
    const allowed = allowedClosingSpeedMS(still.slackM, cfg);
    expect(still.b).toBeCloseTo(-allowed, 12);
    expect(fast.b).toBeCloseTo(-allowed + cfg.barrierVelocityGain * (8 - allowed), 12);
  });

  it('returns a setpoint meeting every constraint on random positions, or the rule fallback when none can', () => {
    const r = seededRandom(5);
    let projected = 0;
    for (let k = 0; k < 500; k++) {
      const p = { n: r() * 110 - 5, e: r() * 110 - 5, d: -(r() * 60) };
      const v = { n: (r() - 0.5) * 30, e: (r() - 0.5) * 30, d: (r() - 0.5) * 6 };
      const g = barrierGeometry(
        p,
        -p.d,
        lShape,
        [{ id: 'n', positionNedM: { n: 50, e: 20, d: -20 }, velocityNedMS: ZERO, ageMs: 0 }],
        opts,
      );
      const cons = barrierConstraints(g.barriers, v, cfg);
      // What the box layer passes on: inside the speed limits.
      const desired = { n: (r() - 0.5) * 16, e: (r() - 0.5) * 16, d: (r() - 0.5) * 4 };
      const res = filterVelocity(desired, cons, cfg);
      expect(withinSpeedLimits(res.velocityNedMS, cfg)).toBe(true);
      const x: [number, number, number] = [res.velocityNedMS.n, res.velocityNedMS.e, res.velocityNedMS.d];
      if (res.status === 'fallback') expect(res.velocityNedMS).toEqual(ruleFallback(cons, cfg));
      else expect(maxViolation(x, cons)).toBeLessThanOrEqual(1e-6);
      if (res.status === 'projected') projected++;
    }
    expect(projected).toBeGreaterThan(50);
  });

  it('falls back along the gradients when boxed in: out of a zone, up from below the floor', () => {
    const inside = barrierGeometry({ n: 70, e: 15, d: -20 }, 20, lShape, [], opts).barriers;
    const v = ruleFallback(barrierConstraints(inside, ZERO, cfg), cfg);
    const exit = inside.find((b) => b.sourceId === 'p')!.gradient;
    expect(v.n * exit.n + v.e * exit.e).toBeGreaterThan(0.5);
    const low = barrierGeometry({ n: 50, e: 20, d: -2 }, 2, lShape, [], opts).barriers;
    expect(ruleFallback(barrierConstraints(low, ZERO, cfg), cfg).d).toBeLessThan(-1);
  });

  it('summarises breaches and near misses against the true limits', () => {
    const s = summariseBarriers(barrierGeometry({ n: 98, e: 20, d: -3 }, 3, lShape, [], opts).barriers, cfg);
    expect(s.breached).toEqual(['floor']);
    expect(s.nearMiss).toEqual(['fence']);
    expect(s.clearanceM.fence).toBeCloseTo(2, 12);
    expect(s.clearanceM.separation).toBe(Number.POSITIVE_INFINITY);
  });
});
