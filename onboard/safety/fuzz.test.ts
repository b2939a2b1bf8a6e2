/**
 * Garbage in, a valid setpoint out: the filter is fed NaN and infinite states, empty and degenerate airspace,
 * malformed neighbours and actions, and time that jumps about. It must never throw, and every setpoint must be
 * finite and inside the speed limits. An internal error would be survived by the catch-all, so the fuzz also
 * demands that none happened: the layers themselves must cope.
 */
import { describe, expect, it } from 'vitest';
import type { Airspace, Ne, Ned, NoFlyZone } from '../../shared/geo/index.js';
import { EMPTY_AIRSPACE } from '../../shared/geo/index.js';
import { withinSpeedLimits } from './box.js';
import { DEFAULT_SAFETY_CONFIG } from './config.js';
import { SafetyFilter } from './safety-filter.js';
import { healthyInput, seededRandom } from './test-support.js';
import { MONITOR_ACTIONS, type SafetyInput } from './types.js';

type Rand = () => number;

const WILD = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0, 1e300, -1e300, 1e-300, 5e15, -7];

function num(r: Rand, sane: () => number): number {
  return r() < 0.25 ? WILD[Math.floor(r() * WILD.length)] : sane();
}

function vec(r: Rand, scale: number): Ned {
  return {
    n: num(r, () => (r() - 0.5) * scale),
    e: num(r, () => (r() - 0.5) * scale),
    d: num(r, () => (r() - 0.5) * scale),
  };
}

function polygon(r: Rand): Ne[] {
  const kind = r();
  if (kind < 0.1) return [];
  if (kind < 0.2) return [{ n: 1, e: 1 }];
  if (kind < 0.3)
    return [
      { n: 0, e: 0 },
      { n: 10, e: 0 },
    ];
  if (kind < 0.4)
    return [
      { n: 0, e: 0 },
      { n: 10, e: 0 },
      { n: 20, e: 0 },
    ]; // collinear
  if (kind < 0.5)
    return [
      { n: 5, e: 5 },
      { n: 5, e: 5 },
      { n: 5, e: 5 },
    ]; // one point
  const k = 3 + Math.floor(r() * 12);
  const out: Ne[] = [];
  for (let i = 0; i < k; i++) {
    const th = (2 * Math.PI * i) / k;
    const rad = num(r, () => 10 + r() * 200);
    out.push({ n: rad * Math.cos(th), e: rad * Math.sin(th) }); // may self-intersect when radii go wild
  }
  if (r() < 0.1) out.push(null as unknown as Ne);
  return out;
}

function zone(r: Rand, i: number): NoFlyZone {
  const band = {
    floorM: r() < 0.5 ? undefined : num(r, () => r() * 80),
    topM: r() < 0.5 ? undefined : num(r, () => r() * 120),
  };
  if (r() < 0.5)
    return {
      kind: 'cylinder',
      id: `c${i}`,
      centerNeM: { n: num(r, () => (r() - 0.5) * 300), e: num(r, () => (r() - 0.5) * 300) },
      radiusM: num(r, () => r() * 40 - 5),
      ...band,
    };
  return { kind: 'polygon', id: `p${i}`, polygonNeM: polygon(r), ...band };
}

function airspace(r: Rand): Airspace {
  const k = r();
  if (k < 0.1) return EMPTY_AIRSPACE;
  if (k < 0.15) return null as unknown as Airspace;
  if (k < 0.2) return { geofence: null, noFlyZones: null, altitudeFloorM: Number.NaN } as unknown as Airspace;
  const zones: NoFlyZone[] = [];
  const nz = Math.floor(r() * 5);
  for (let i = 0; i < nz; i++) zones.push(r() < 0.05 ? (null as unknown as NoFlyZone) : zone(r, i));
  return {
    geofence: r() < 0.2 ? null : { polygonNeM: polygon(r), ceilingM: num(r, () => 20 + r() * 100) },
    noFlyZones: zones,
    altitudeFloorM: num(r, () => r() * 30),
  };
}

function garbageInput(r: Rand, t: number): SafetyInput {
  const base = healthyInput(t);
  const p = vec(r, 400);
  const action =
    r() < 0.1
      ? null
      : r() < 0.1
        ? [1, 2]
        : r() < 0.05
          ? ('abc' as unknown as number[])
          : [num(r, () => r() * 4 - 2), num(r, () => r() * 4 - 2), num(r, () => r() * 4 - 2)];
  const neighbours = [];
  for (let i = 0, k = Math.floor(r() * 4); i < k; i++) {
    neighbours.push(
      r() < 0.1
        ? null
        : {
            id: r() < 0.1 ? undefined : `n${i}`,
            positionNedM: r() < 0.1 ? null : vec(r, 100),
            velocityNedMS: r() < 0.1 ? undefined : vec(r, 20),
            ageMs: num(r, () => r() * 5000),
          },
    );
  }
  return {
    timeUs: r() < 0.1 ? num(r, () => 0) : t,
    vehicle:
      r() < 0.03
        ? (null as unknown as SafetyInput['vehicle'])
        : {
            positionNedM: r() < 0.05 ? (undefined as unknown as Ned) : p,
            velocityNedMS: vec(r, 30),
            altitudeAboveHomeM: r() < 0.5 ? -p.d : num(r, () => r() * 100),
            armed: r() < 0.8,
            landed: r() < 0.2,
            batteryRemaining01: num(r, () => r()),
            batteryVoltageV: num(r, () => 10 + r() * 8),
            gpsFixOk: r() < 0.8,
            positionAgeMs: num(r, () => r() * 600),
            statusAgeMs: num(r, () => r() * 6000),
          },
    policy: {
      action,
      velocityNedMS: r() < 0.1 ? null : vec(r, 40),
      yawRad: r() < 0.5 ? undefined : num(r, () => r() * 20 - 10),
      fault: r() < 0.05,
    },
    airspace: airspace(r),
    neighbours: (r() < 0.05 ? null : neighbours) as SafetyInput['neighbours'],
    shield: r() < 0.3 ? null : { score: num(r, () => r()) },
    link:
      r() < 0.03
        ? (undefined as unknown as SafetyInput['link'])
        : { autopilotHeartbeatAgeMs: num(r, () => r() * 4000), groundLinkUp: r() < 0.9 },
    emergencyStop: r() < 0.02,
    phase: (['ground', 'takeoff', 'cruise', 'landing', 'bogus'] as const)[Math.floor(r() * 5)] as SafetyInput['phase'],
    operatorClear: r() < 0.05,
    ...(r() < 0.5 ? {} : { shield: base.shield }),
  };
}

describe('fuzz', () => {
  for (const shieldMode of ['off', 'enforce'] as const) {
    it(`never throws and always returns a finite setpoint inside the limits (shield ${shieldMode})`, () => {
      const r = seededRandom(shieldMode === 'off' ? 99 : 100);
      const cfg = { ...DEFAULT_SAFETY_CONFIG, shieldMode };
      const filter = new SafetyFilter(cfg);
      let t = 0;
      const errors: string[] = [];
      const statuses = new Set<string>();
      for (let k = 0; k < 6000; k++) {
        t += r() < 0.05 ? -5_000_000 : 20_000;
        if (k % 500 === 0) filter.reset();
        const d = filter.update(garbageInput(r, t));
        expect(withinSpeedLimits(d.velocityNedMS, cfg)).toBe(true);
        expect(MONITOR_ACTIONS).toContain(d.action);
        expect(d.yawRad === null || Number.isFinite(d.yawRad)).toBe(true);
        for (const iv of d.interventions) expect(Number.isFinite(iv.magnitudeMS)).toBe(true);
        expect(Number.isFinite(d.timeUs)).toBe(true);
        if (d.error) errors.push(d.error);
        statuses.add(d.barrier.status);
      }
      expect(errors.slice(0, 5)).toEqual([]);
      // The garbage reached every path of the barrier layer, not just the early exits.
      expect([...statuses].sort()).toEqual(['clear', 'fallback', 'no_state', 'projected']);
    });
  }

  it('survives an input that is not an object at all: hover, and hold when it could not even read it', () => {
    const filter = new SafetyFilter();
    for (const bad of [42, 'x', {}, []]) {
      const d = filter.update(bad as unknown as SafetyInput);
      expect(d.velocityNedMS).toEqual({ n: 0, e: 0, d: 0 });
      expect(d.barrier.status).toBe('no_state');
    }
    for (const bad of [null, undefined]) {
      const d = filter.update(bad as unknown as SafetyInput);
      expect(d.velocityNedMS).toEqual({ n: 0, e: 0, d: 0 });
      expect(d.action).toBe('hold');
      expect(d.error).toBeTruthy();
      expect(d.interventions).toEqual([{ layer: 'monitor', reason: 'internal_error', magnitudeMS: 0 }]);
    }
  });
});
