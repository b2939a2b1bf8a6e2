/**
 * Cost of one SafetyFilter.update per tick (a measurement, not a test): `npx tsx onboard/safety/filter.bench.ts`.
 * Two cases: a crowded spot (about ten barrier half-spaces, the policy pushing into them so the QP runs every tick)
 * and the adversarial closed loop of the tests. Prints p50/p99/max in microseconds.
 */
import type { Airspace, Ne } from '../../shared/geo/index.js';
import { actionToward, SIM_TICK_S, simInput, stepVehicle, TEST_AIRSPACE } from './closed-loop-sim.js';
import { type SafetyDecision, SafetyFilter } from './safety-filter.js';
import { healthyInput, seededRandom, vehicleAt } from './test-support.js';
import type { SafetyInput } from './types.js';

function ring(cn: number, ce: number, r: number, k: number): Ne[] {
  return Array.from({ length: k }, (_, i) => ({
    n: cn + r * Math.cos((2 * Math.PI * i) / k),
    e: ce + r * Math.sin((2 * Math.PI * i) / k),
  }));
}

const crowded: Airspace = {
  geofence: { polygonNeM: ring(0, 0, 60, 16), ceilingM: 45 },
  noFlyZones: [
    { kind: 'polygon', id: 'tri', polygonNeM: ring(30, 22, 8, 3) },
    { kind: 'cylinder', id: 'mast', centerNeM: { n: 22, e: 40 }, radiusM: 4, topM: 40 },
  ],
  altitudeFloorM: 30,
};

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function report(label: string, samplesUs: number[], counts: number[]): void {
  const s = [...samplesUs].sort((a, b) => a - b);
  const c = [...counts].sort((a, b) => a - b);
  console.log(
    `${label}: ticks ${s.length}, constraints p50 ${percentile(c, 0.5)} max ${c.at(-1)}; ` +
      `update p50 ${percentile(s, 0.5).toFixed(1)} us, p99 ${percentile(s, 0.99).toFixed(1)} us, max ${s.at(-1)!.toFixed(1)} us`,
  );
}

/** Time `filter.update(make())` n times after a warm-up; `after` sees each decision (outside the timing). */
function timeUpdates(
  filter: SafetyFilter,
  make: () => SafetyInput,
  after: (d: SafetyDecision) => void,
  n: number,
  warmup: number,
): { samples: number[]; counts: number[]; statuses: Record<string, number> } {
  const samples: number[] = [];
  const counts: number[] = [];
  const statuses: Record<string, number> = {};
  for (let i = 0; i < n + warmup; i++) {
    const input = make();
    const t0 = process.hrtime.bigint();
    const d = filter.update(input);
    const dt = Number(process.hrtime.bigint() - t0) / 1000;
    after(d);
    if (i >= warmup) {
      samples.push(dt);
      counts.push(d.barrier.constraintCount);
      statuses[d.barrier.status] = (statuses[d.barrier.status] ?? 0) + 1;
    }
  }
  return { samples, counts, statuses };
}

// 1. Crowded: between the fence, two zones, the floor, the ceiling and a drone, pushed north-east.
{
  const filter = new SafetyFilter();
  const rand = seededRandom(1);
  let t = 0;
  const base = healthyInput(0, { n: 0, e: 0, d: 0 }, crowded);
  const make = (): SafetyInput => {
    t += 20_000;
    const v = { n: 6 + rand() * 6, e: 4 + rand() * 6, d: rand() * 2 - 1 };
    return {
      ...base,
      timeUs: t,
      vehicle: vehicleAt({ n: 28 + rand(), e: 33 + rand(), d: -37 }, { velocityNedMS: { n: 1, e: 1, d: 0 } }),
      policy: { action: [v.n / 12, v.e / 12, v.d / 3], velocityNedMS: v },
      neighbours: [
        { id: 'a', positionNedM: { n: 38, e: 30, d: -37 }, velocityNedMS: { n: 0, e: 0, d: 0 }, ageMs: 100 },
      ],
    };
  };
  const r = timeUpdates(filter, make, () => {}, 20_000, 2_000);
  report('crowded spot', r.samples, r.counts);
  console.log('  barrier status', JSON.stringify(r.statuses));
}

// 2. The adversarial closed loop of closed-loop.test.ts (aimed at random points, through every barrier).
{
  const filter = new SafetyFilter();
  const rand = seededRandom(2);
  let p = { n: -100, e: -100, d: -40 };
  let v = { n: 0, e: 0, d: 0 };
  let k = 0;
  let target = { n: 300, e: 0, d: -40 };
  const make = (): SafetyInput => {
    if (k % 150 === 0) target = { n: (rand() - 0.5) * 500, e: (rand() - 0.5) * 500, d: -rand() * 120 };
    return simInput(k * SIM_TICK_S, { p, v }, actionToward(p, target), TEST_AIRSPACE);
  };
  const step = (d: SafetyDecision): void => {
    const next = stepVehicle(p, v, d.velocityNedMS, SIM_TICK_S);
    p = next.p;
    v = next.v;
    k++;
  };
  const r = timeUpdates(filter, make, step, 50_000, 2_000);
  report('adversarial closed loop', r.samples, r.counts);
  console.log('  barrier status', JSON.stringify(r.statuses));
}
