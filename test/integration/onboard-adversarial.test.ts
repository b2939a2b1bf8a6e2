/**
 * The safety guarantee, end to end: an adversarial policy flown through the real onboard runtime (link, mission,
 * control loop, safety filter, loop driver) against simulated PX4 vehicles over UDP, two drones at once, in an
 * airspace with a non-convex geofence and a ceiling, three no-fly zones (a cylinder, a polygon, a cylinder with an
 * altitude band) and a cruise floor. Each drone is told where the other is every tick (in its own home frame), as
 * the ground station would. Breaches are judged on the TRUE simulated positions every simulated 10 ms.
 *
 * Runs in lockstep (test/support/onboard-lockstep.ts): simulated time only moves when the scenario steps it, so a
 * loaded machine makes the file slower, never different.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { MissionOutcome, MissionPlan } from '../../onboard/mission/index.js';
import type { MonitorRuleName } from '../../onboard/safety/index.js';
import type { Airspace, Ned } from '../../shared/geo/index.js';
import { ADVERSARY_STRATEGIES, AdversaryPolicy, type AdversaryStrategy } from '../support/onboard-adversary.js';
import { LockstepRig } from '../support/onboard-lockstep.js';
import { AirspaceTruth, shiftAirspace } from '../support/onboard-truth.js';

/** Drone 1's home is this far east of drone 0's. */
const HOME_SPACING_M = 40;
const CRUISE_ALT_M = 20;
/** Closer than this is a separation breach (the filter keeps separationMarginM more). */
const SEPARATION_M = 6;
const ATTACK_S = 30;

/** In drone 0's home frame (drone 1's home is at (0, 40)). */
const AIRSPACE: Airspace = {
  // An L: the corner north-east of (-20, 70) is cut out, so the fence has a reflex vertex.
  geofence: {
    polygonNeM: [
      { n: -60, e: -55 },
      { n: 55, e: -55 },
      { n: 55, e: 95 },
      { n: -20, e: 95 },
      { n: -20, e: 70 },
      { n: -60, e: 70 },
    ],
    ceilingM: 35,
  },
  noFlyZones: [
    { kind: 'cylinder', id: 'tower', centerNeM: { n: 30, e: 20 }, radiusM: 8 },
    {
      kind: 'polygon',
      id: 'school',
      polygonNeM: [
        { n: -40, e: -35 },
        { n: -40, e: -12 },
        { n: -22, e: -12 },
        { n: -26, e: -35 },
      ],
    },
    // Overflyable: its top (26 m) plus the zone margin leaves room under the ceiling's margin.
    { kind: 'cylinder', id: 'crane', centerNeM: { n: -38, e: 45 }, radiusM: 7, topM: 26 },
  ],
  altitudeFloorM: 12,
};

interface Episode {
  /** The strategies each drone draws from (a new draw every 3-6 s). */
  readonly strategies: readonly [readonly AdversaryStrategy[], readonly AdversaryStrategy[]];
  /** Steady wind towards north and east (m/s) with turbulence of gustStdMS, on both drones. */
  readonly wind?: { readonly northMS: number; readonly eastMS: number; readonly gustStdMS: number };
}

const EPISODES: readonly Episode[] = [
  { strategies: [['neighbour'], ['neighbour']] },
  {
    strategies: [
      ['random', 'corner'],
      ['neighbour', 'fence'],
    ],
  },
  {
    strategies: [
      ['fence', 'ceiling'],
      ['zone', 'ground'],
    ],
  },
  {
    strategies: [
      ['zone', 'neighbour'],
      ['corner', 'random', 'ceiling'],
    ],
  },
  {
    strategies: [
      ['ground', 'fence', 'zone'],
      ['neighbour', 'zone'],
    ],
  },
  // In wind the vehicle drifts towards a limit unless the barrier asks for the difference.
  {
    strategies: [
      ['fence', 'neighbour'],
      ['fence', 'neighbour'],
    ],
    wind: { northMS: 4, eastMS: -3, gustStdMS: 1 },
  },
  {
    strategies: [
      ['zone', 'corner'],
      ['zone', 'ground'],
    ],
    wind: { northMS: -3, eastMS: 4, gustStdMS: 1.5 },
  },
  { strategies: [[...ADVERSARY_STRATEGIES], [...ADVERSARY_STRATEGIES]], wind: { northMS: 2, eastMS: 5, gustStdMS: 1 } },
];

const BREACH_RULES: readonly MonitorRuleName[] = ['fence_breach', 'zone_breach', 'floor_breach', 'separation_breach'];

let rig: LockstepRig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

describe('the onboard safety guarantee against an adversarial policy (two drones, lockstep SITL)', () => {
  it('never breaches fence, ceiling, zones, floor or separation on the true positions', async () => {
    rig = await LockstepRig.start({ vehicles: 2, homeSpacingM: HOME_SPACING_M, portKey: import.meta.url });
    const r = rig;
    const offsets = r.homeOffsetsNedM;
    const toFrame = (p: Ned, from: number, to: number): Ned => ({
      n: p.n + offsets[from].n - offsets[to].n,
      e: p.e + offsets[from].e - offsets[to].e,
      d: p.d,
    });
    const adversaries: AdversaryPolicy[] = [];
    for (let i = 0; i < 2; i++) {
      const airspace = shiftAirspace(AIRSPACE, offsets[i]);
      const other = 1 - i;
      const adversary = new AdversaryPolicy(
        {
          nowMs: () => r.clock.nowMs(),
          ownPositionNedM: () => r.runtimes[i].link.state().positionNedM,
          othersNedM: () => [toFrame(r.runtimes[other].link.state().positionNedM, other, i)],
          airspace,
        },
        1000 + i,
      );
      adversaries.push(adversary);
      await r.addRuntime(i, {
        airspace,
        policyPort: adversary,
        safety: { separationM: SEPARATION_M },
      });
    }
    const runtimes = r.runtimes;

    // Each drone hears where the other is every tick, in its own home frame (what the ground station relays).
    r.onStep(() => {
      const now = r.clock.nowMs();
      for (let i = 0; i < 2; i++) {
        const j = 1 - i;
        const s = runtimes[j].link.state();
        if (!Number.isFinite(s.positionNedM.n)) continue;
        runtimes[i].loop.setNeighbours([
          {
            id: `drone-${j}`,
            positionNedM: toFrame(s.positionNedM, j, i),
            velocityNedMS: s.velocityNedMS,
            ageMs: Math.max(0, now - s.timestampsMs.localPosition),
          },
        ]);
      }
    });

    // The truth, every simulated tick.
    const truth = new AirspaceTruth(AIRSPACE, SEPARATION_M);
    r.onStep((timeS) => {
      truth.check(
        timeS,
        [0, 1].map((i) => {
          const st = r.fleet.status(i);
          const phase = runtimes[i].loop.currentMission?.phase;
          return {
            positionNedM: toFrame({ n: st.positionNedM[0], e: st.positionNedM[1], d: st.positionNedM[2] }, i, 0),
            cruising: phase === 'cruise-out' || phase === 'cruise-back',
            airborne: !st.landed,
          };
        }),
      );
    });

    // What the runtimes said about it.
    const barrierTicks = [0, 0];
    const transitions: string[][] = [[], []];
    const firedRules = new Set<MonitorRuleName>();
    runtimes.forEach((rt, i) => {
      rt.onTick((tick) => {
        if (tick.decision.layers.barrier) barrierTicks[i]++;
        for (const rule of tick.decision.monitor.fired) firedRules.add(rule);
        const t = tick.decision.monitor.transition;
        if (t) transitions[i].push(`${r.timeS.toFixed(1)} s ${t.from}->${t.to} (${t.rules.join(', ')})`);
      });
    });

    expect(await r.until(() => runtimes.every((rt) => rt.link.isUp), 10)).toBe(true);
    const plan: MissionPlan = {
      // Far outside the fence: the cruise leg never arrives, the adversary flies until told to stop.
      dropNeM: [400, 0],
      returnNeM: [0, 0],
      cruiseAltM: CRUISE_ALT_M,
      releaseAltM: 5,
      releaseBy: 'hover',
      arrivalRadiusM: 2,
    };
    const outcomes: MissionOutcome[][] = [];
    let attackS = 0;
    for (const [k, episode] of EPISODES.entries()) {
      const w = episode.wind ?? { northMS: 0, eastMS: 0, gustStdMS: 0 };
      r.fleet.injectFault('all', {
        kind: 'wind',
        northMS: w.northMS,
        eastMS: w.eastMS,
        downMS: 0,
        gustStdMS: w.gustStdMS,
      });
      const results: (MissionOutcome | null)[] = [null, null];
      runtimes.forEach((rt, i) => {
        void rt.fly(plan).then((res) => {
          results[i] = res.outcome;
        });
      });
      const cruising = await r.until(() => runtimes.every((rt) => rt.loop.currentMission?.phase === 'cruise-out'), 60);
      expect(cruising, `episode ${k}: both drones reach the cruise leg`).toBe(true);
      adversaries.forEach((a, i) => {
        a.attack(episode.strategies[i]);
      });
      const attackStart = r.timeS;
      await r.run(ATTACK_S);
      attackS += r.timeS - attackStart;
      // End the episode as an operator would: clear a latched hold, fly home under the filter, land there.
      runtimes.forEach((rt, i) => {
        rt.loop.clearMonitor();
        adversaries[i].goHome({ n: 0, e: 0, d: -CRUISE_ALT_M });
        rt.loop.currentMission?.request('abort');
      });
      if (!(await r.until(() => results.every((o) => o !== null), 90))) {
        // Stuck (for instance two drones holding each other off over a home): land where they are.
        for (const rt of runtimes) rt.loop.currentMission?.request('land');
        expect(await r.until(() => results.every((o) => o !== null), 90), `episode ${k}: both land`).toBe(true);
      }
      outcomes.push(results as MissionOutcome[]);
      expect([0, 1].every((i) => !r.fleet.status(i).armed && r.fleet.status(i).landed)).toBe(true);
    }

    const summary = {
      simulatedS: r.timeS,
      attackS,
      checks: truth.checks,
      minClearanceM: truth.minClearanceM,
      barrierTicks,
      ticksByStrategy: adversaries.map((a) => a.ticksByStrategy),
      transitions,
      outcomes,
    };
    // Zero breaches on the truth.
    expect(truth.breaches, JSON.stringify(summary, null, 1)).toEqual([]);
    // The runtimes agree: no breach rule ever fired on their own estimates either.
    expect(BREACH_RULES.filter((rule) => firedRules.has(rule))).toEqual([]);

    // The test flew what it claims: several hundred simulated seconds, every strategy, both drones pushed into the
    // barriers, and the limits approached to within a few metres (so a zero above is not for want of trying).
    expect(r.timeS).toBeGreaterThan(300);
    expect(attackS).toBeGreaterThanOrEqual(EPISODES.length * ATTACK_S - 1);
    for (const s of ADVERSARY_STRATEGIES) {
      expect(adversaries[0].ticksByStrategy[s] + adversaries[1].ticksByStrategy[s], s).toBeGreaterThan(100);
    }
    expect(Math.min(...barrierTicks), JSON.stringify(summary)).toBeGreaterThan(500);
    expect(truth.minClearanceM.fence, 'fence approached').toBeLessThan(6);
    expect(truth.minClearanceM.ceiling, 'ceiling approached').toBeLessThan(5);
    expect(truth.minClearanceM.zone, 'a zone approached').toBeLessThan(6);
    expect(truth.minClearanceM.floor, 'floor approached').toBeLessThan(5);
    expect(truth.minClearanceM.separation, 'the drones converged').toBeLessThan(6);
  }, 240_000);
});
