import { describe, expect, it } from 'vitest';
import type { Ned } from '../../shared/geo/index.js';
import { geofenceMargin, pointInPolygon } from '../../shared/geo/index.js';
import {
  actionToward,
  neighboursAt,
  SIM_TICK_S,
  simInput,
  stepVehicle,
  TEST_AIRSPACE,
  truthClearance,
} from './closed-loop-sim.js';
import { DEFAULT_SAFETY_CONFIG, parseSafetyConfig, type SafetyConfig } from './config.js';
import { SafetyFilter } from './safety-filter.js';
import { seededRandom } from './test-support.js';

/** The start positions keep clear of the default margins whichever config flies. */
const cfg = DEFAULT_SAFETY_CONFIG;
const fence = TEST_AIRSPACE.geofence!;
const floorM = TEST_AIRSPACE.altitudeFloorM;

/** A start well clear of everything (the filter is judged on keeping it so, not on recovering). */
function initialPosition(rand: () => number): Ned {
  for (;;) {
    const p = {
      n: rand() * 300 - 150,
      e: rand() * 300 - 150,
      d: -(floorM + 8 + rand() * (fence.ceilingM - floorM - 16)),
    };
    const ne = { n: p.n, e: p.e };
    if (!pointInPolygon(ne, fence.polygonNeM) || geofenceMargin(ne, fence).marginM < cfg.fenceMarginM + 5) continue;
    const truth = truthClearance(p, TEST_AIRSPACE, 0);
    if (truth.zoneClearanceM < cfg.zoneMarginM + 5) continue;
    // Not just under or over a banded zone either.
    const nearBand = TEST_AIRSPACE.noFlyZones.some((z) => {
      const alt = -p.d;
      const within = alt > (z.floorM ?? -1e9) - 10 && alt < (z.topM ?? 1e9) + 10;
      return (
        within &&
        truthClearance({ n: p.n, e: p.e, d: -((z.topM ?? 50) - 1) }, { ...TEST_AIRSPACE, noFlyZones: [z] }, 0)
          .zoneClearanceM < 8
      );
    });
    if (nearBand) continue;
    if (truth.separationM < cfg.separationM + cfg.separationMarginM + 5) continue;
    return p;
  }
}

type Mode = 'uniform' | 'corner' | 'aim';

/** Targets an adversary aims at: beyond the fence and its notch, zone centres, neighbours, below the floor, above the ceiling. */
function pickTarget(rand: () => number, p: Ned, tS: number): () => Ned {
  const k = Math.floor(rand() * 7);
  switch (k) {
    case 0: {
      const th = rand() * 2 * Math.PI;
      return () => ({ n: 400 * Math.cos(th), e: 400 * Math.sin(th), d: p.d });
    }
    case 1:
      return () => ({ n: 0, e: 120, d: p.d }); // the notch
    case 2: {
      const z = TEST_AIRSPACE.noFlyZones[Math.floor(rand() * TEST_AIRSPACE.noFlyZones.length)];
      const c = z.kind === 'cylinder' ? z.centerNeM : z.polygonNeM[0];
      const alt = z.floorM !== undefined && z.topM !== undefined ? (z.floorM + z.topM) / 2 : 30;
      return () => ({ n: c.n, e: c.e, d: -alt });
    }
    case 3: {
      const i = rand() < 0.5 ? 0 : 1;
      return () => neighboursAt(tS + 0)[i].positionNedM;
    }
    case 4:
      return () => ({ n: p.n, e: p.e, d: 100 }); // straight down through the floor
    case 5:
      return () => ({ n: p.n, e: p.e, d: -300 }); // straight up through the ceiling
    default: {
      // A diagonal dive at the nearest neighbour from above.
      return () => {
        const nb = neighboursAt(tS)[0].positionNedM;
        return { n: nb.n, e: nb.e, d: nb.d };
      };
    }
  }
}

interface EpisodeStats {
  breaches: string[];
  minFenceMarginM: number;
  minZoneClearanceM: number;
  minSeparationM: number;
  minAltitudeAboveFloorM: number;
  minBelowCeilingM: number;
  distanceM: number;
  ticks: number;
  barrierTicks: number;
}

function runEpisode(config: SafetyConfig, seed: number, durationS: number): EpisodeStats {
  const rand = seededRandom(seed);
  const filter = new SafetyFilter(config);
  let p = initialPosition(rand);
  let v: Ned = { n: 0, e: 0, d: 0 };
  let measured = { p, v };
  let mode: Mode = 'aim';
  let modeUntilS = 0;
  let held = [0, 0, 0];
  let target: () => Ned = () => p;
  const s: EpisodeStats = {
    breaches: [],
    minFenceMarginM: Infinity,
    minZoneClearanceM: Infinity,
    minSeparationM: Infinity,
    minAltitudeAboveFloorM: Infinity,
    minBelowCeilingM: Infinity,
    distanceM: 0,
    ticks: 0,
    barrierTicks: 0,
  };
  const ticks = Math.round(durationS / SIM_TICK_S);
  for (let k = 0; k < ticks; k++) {
    const tS = k * SIM_TICK_S;
    if (tS >= modeUntilS) {
      const r = rand();
      mode = r < 0.2 ? 'uniform' : r < 0.45 ? 'corner' : 'aim';
      modeUntilS = tS + 1 + rand() * 4;
      held = [0, 1, 2].map(() => (rand() < 0.5 ? -1 : 1) * (rand() < 0.15 ? 5 : 1)); // some beyond range
      target = pickTarget(rand, p, tS);
    }
    const action =
      mode === 'uniform' ? [0, 1, 2].map(() => rand() * 2 - 1) : mode === 'corner' ? held : actionToward(p, target());
    const decision = filter.update(simInput(tS, measured, action, TEST_AIRSPACE));
    if (decision.layers.barrier) s.barrierTicks++;
    measured = { p, v };
    const next = stepVehicle(p, v, decision.velocityNedMS, SIM_TICK_S);
    s.distanceM += Math.hypot(next.p.n - p.n, next.p.e - p.e, next.p.d - p.d);
    p = next.p;
    v = next.v;
    s.ticks++;
    const truth = truthClearance(p, TEST_AIRSPACE, tS + SIM_TICK_S);
    if (!truth.insideFence) s.breaches.push(`fence at ${tS.toFixed(2)} s`);
    if (truth.insideZones.length > 0) s.breaches.push(`zone ${truth.insideZones.join(',')} at ${tS.toFixed(2)} s`);
    if (truth.altitudeM < floorM) s.breaches.push(`floor at ${tS.toFixed(2)} s`);
    if (truth.separationM < cfg.separationM) s.breaches.push(`separation at ${tS.toFixed(2)} s`);
    s.minFenceMarginM = Math.min(s.minFenceMarginM, geofenceMargin({ n: p.n, e: p.e }, fence).marginM);
    s.minZoneClearanceM = Math.min(s.minZoneClearanceM, truth.zoneClearanceM);
    s.minSeparationM = Math.min(s.minSeparationM, truth.separationM);
    s.minAltitudeAboveFloorM = Math.min(s.minAltitudeAboveFloorM, truth.altitudeM - floorM);
    s.minBelowCeilingM = Math.min(s.minBelowCeilingM, fence.ceilingM - truth.altitudeM);
  }
  return s;
}

interface Summary {
  breaches: string[];
  ticks: number;
  meanSpeedMS: number;
  barrierShare: number;
  minFenceMarginM: number;
  minZoneClearanceM: number;
  minSeparationM: number;
  minAboveFloorM: number;
  minBelowCeilingM: number;
}

function runEpisodes(config: SafetyConfig, firstSeed: number, episodes: number, durationS: number): Summary {
  const all: EpisodeStats[] = [];
  for (let i = 0; i < episodes; i++) all.push(runEpisode(config, firstSeed + i, durationS));
  const ticks = all.reduce((a, s) => a + s.ticks, 0);
  const min = (f: (s: EpisodeStats) => number): number => Math.min(...all.map(f));
  return {
    breaches: all.flatMap((s, i) => s.breaches.map((b) => `episode ${firstSeed + i}: ${b}`)),
    ticks,
    meanSpeedMS: all.reduce((a, s) => a + s.distanceM, 0) / (ticks * SIM_TICK_S),
    barrierShare: all.reduce((a, s) => a + s.barrierTicks, 0) / ticks,
    minFenceMarginM: min((s) => s.minFenceMarginM),
    minZoneClearanceM: min((s) => s.minZoneClearanceM),
    minSeparationM: min((s) => s.minSeparationM),
    minAboveFloorM: min((s) => s.minAltitudeAboveFloorM),
    minBelowCeilingM: min((s) => s.minBelowCeilingM),
  };
}

function expectSafeAndPressed(summary: Summary, label: string): void {
  const { breaches, ...numbers } = summary;
  console.log(
    label,
    JSON.stringify(numbers, (_, x) => (typeof x === 'number' ? Number(x.toFixed(3)) : x)),
  );
  expect(breaches.slice(0, 10)).toEqual([]);
  // The adversary must actually have pressed on every limit, and the vehicle must still fly: a filter that
  // always said hover would pass the line above.
  expect(summary.meanSpeedMS).toBeGreaterThan(3);
  expect(summary.minFenceMarginM).toBeLessThan(cfg.fenceMarginM + 1);
  expect(summary.minZoneClearanceM).toBeLessThan(cfg.zoneMarginM + 1);
  expect(summary.minSeparationM).toBeLessThan(cfg.separationM + cfg.separationMarginM + 1);
  expect(summary.minAboveFloorM).toBeLessThan(cfg.verticalMarginM + 1);
  expect(summary.minBelowCeilingM).toBeLessThan(cfg.verticalMarginM + 1);
}

describe('closed loop: adversarial policy, lagged point mass (tau 0.3 s, 3 m/s^2), 50 Hz', () => {
  it('never breaches fence, ceiling, zones, floor or separation on the simulated true position', () => {
    expectSafeAndPressed(runEpisodes(DEFAULT_SAFETY_CONFIG, 1000, 40, 30), 'closed loop (defaults)');
  });

  it('stays safe when the policy rate limit is set above what the vehicle can follow', () => {
    // The setpoint then runs ahead of the lagging vehicle and tangential demands eat into its braking; the
    // velocity-aware term (barrierVelocityGain) must make up for it.
    const stress = parseSafetyConfig({ maxHorizontalAccelMS2: 6, maxVerticalAccelMS2: 6 });
    expectSafeAndPressed(runEpisodes(stress, 3000, 40, 30), 'closed loop (rate limit 6 m/s^2)');
  });

  it('breaches without the velocity-aware term: the lag matters, so the test can tell', () => {
    const naive = parseSafetyConfig({ maxHorizontalAccelMS2: 6, maxVerticalAccelMS2: 6, barrierVelocityGain: 0 });
    const summary = runEpisodes(naive, 3000, 40, 30);
    expect(summary.breaches.length).toBeGreaterThan(0);
  });
});
