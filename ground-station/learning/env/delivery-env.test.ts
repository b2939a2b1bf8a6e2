import { describe, expect, it } from 'vitest';
import { OBSERVATION_SIZE } from '../../../shared/policy/index.js';
import { goToGoalActions, shortEnv } from '../test-support.js';
import { DeliveryEnv, type EpisodeSummary } from './delivery-env.js';
import { parseEnvConfig } from './env-config.js';

function fly(env: DeliveryEnv, maxTicks: number, dtS?: number): EpisodeSummary[] {
  const obs = new Float32Array(env.count * OBSERVATION_SIZE);
  const actions = new Float32Array(env.count * 3);
  const done: EpisodeSummary[] = [];
  for (let t = 0; t < maxTicks && env.activeCount > 0; t++) {
    goToGoalActions(env, obs, actions);
    env.step(actions, dtS);
    done.push(...env.takeFinished());
  }
  return done;
}

describe('DeliveryEnv', () => {
  it('lets the go-to-goal controller deliver and come back, at 10 Hz and at 50 Hz alike', () => {
    const cfg = shortEnv({ zoneMaxCount: 0, neighbourMaxCount: 0 });
    const coarse = fly(new DeliveryEnv(6, cfg, 3, { autoReset: false }), 2000);
    const fine = fly(new DeliveryEnv(6, cfg, 3, { autoReset: false }), 10_000, 0.02);
    for (const run of [coarse, fine]) {
      expect(run).toHaveLength(6);
      expect(run.every((e) => e.success && e.deliverTimeS !== null && e.deliverTimeS < e.durationS)).toBe(true);
    }
    // Same scenarios (seeded per episode), rewards as rates: the returns agree whatever the step.
    coarse.sort((a, b) => a.env - b.env);
    fine.sort((a, b) => a.env - b.env);
    coarse.forEach((e, k) => {
      expect(fine[k].distanceM).toBe(e.distanceM);
      expect(Math.abs(fine[k].returnSum - e.returnSum)).toBeLessThan(0.1 * Math.abs(e.returnSum) + 0.5);
    });
  });

  it('counts no-fly zone breaches and would-be barrier interventions as cost', () => {
    const cfg = shortEnv({
      deliveryMinM: 150,
      deliveryMaxM: 200,
      zoneMaxCount: 1,
      zoneProbability: 1,
      zoneOnPathProbability: 1,
      zoneRadiusMinM: 20,
      zoneRadiusMaxM: 25,
      neighbourMaxCount: 0,
      legs: 1,
    });
    const env = new DeliveryEnv(8, cfg, 5, { autoReset: false });
    const episodes = fly(env, 3000);
    // Straight at the goal is straight through the zone.
    const zoneTicks = episodes.reduce((s, e) => s + e.breachTicks.zone, 0);
    expect(zoneTicks).toBeGreaterThan(0);
    expect(episodes.reduce((s, e) => s + e.interventionTicks, 0)).toBeGreaterThan(0);
    expect(episodes.every((e) => e.cost >= e.breachTicks.zone * cfg.breachCost)).toBe(true);
  });

  it('is deterministic for a seed and restores its state exactly', () => {
    const cfg = parseEnvConfig({});
    const a = new DeliveryEnv(4, cfg, 11);
    const b = new DeliveryEnv(4, cfg, 11);
    const obsA = new Float32Array(4 * OBSERVATION_SIZE);
    const obsB = new Float32Array(4 * OBSERVATION_SIZE);
    const act = new Float32Array(12);
    for (let t = 0; t < 30; t++) {
      goToGoalActions(a, obsA, act);
      a.step(act);
      b.step(act);
    }
    const saved = a.saveState();
    const c = new DeliveryEnv(4, cfg, 11);
    c.loadState(saved);
    for (let t = 0; t < 30; t++) {
      goToGoalActions(a, obsA, act);
      a.step(act);
      b.step(act);
      c.step(act);
    }
    a.observe(obsA);
    b.observe(obsB);
    const obsC = new Float32Array(4 * OBSERVATION_SIZE);
    c.observe(obsC);
    expect(Array.from(obsB)).toEqual(Array.from(obsA));
    expect(Array.from(obsC)).toEqual(Array.from(obsA));
    expect(Array.from(c.fleet.positionNedM)).toEqual(Array.from(a.fleet.positionNedM));
  });

  it('starts each leg as the mission hands it over, and flies the setpoint through the onboard box layer', () => {
    const cfg = shortEnv({ zoneMaxCount: 0, neighbourMaxCount: 0, handoverProbability: 1, rateLimit: true });
    const env = new DeliveryEnv(4, cfg, 9, { autoReset: false });
    const f = env.fleet;
    for (let i = 0; i < 4; i++) {
      // Half a metre under cruise altitude, still climbing, that climb the setpoint the rate limit starts from.
      expect(f.positionNedM[3 * i + 2]).toBeCloseTo(-(env.state.cruiseAltM[i] - cfg.handoverBelowM), 9);
      expect(f.velocityNedMS[3 * i + 2]).toBe(-cfg.handoverClimbMS);
      expect(Array.from(env.state.prevFlownNedMS.subarray(3 * i, 3 * i + 3))).toEqual([0, 0, -cfg.handoverClimbMS]);
      expect(env.legStart[i]).toBe(1);
    }
    const obs = new Float32Array(4 * OBSERVATION_SIZE);
    const actions = new Float32Array(12);
    const dtS = 0.1;
    const maxStepMS = 2.5 * dtS; // the onboard filter's default rate limit, 2.5 m/s^2
    const legStarts: number[] = [];
    let prev = Array.from(env.state.prevFlownNedMS);
    let limited = 0;
    const done: EpisodeSummary[] = [];
    for (let t = 0; t < 3000 && env.activeCount > 0; t++) {
      goToGoalActions(env, obs, actions);
      const active = Array.from(env.state.active);
      env.step(actions, dtS);
      const sp = env.fleet.velocitySetpointNedMS;
      for (let i = 0; i < 4; i++) {
        if (active[i] === 0) continue;
        const dh = Math.hypot(sp[3 * i] - prev[3 * i], sp[3 * i + 1] - prev[3 * i + 1]);
        if (env.legStart[i] === 0) {
          expect(dh).toBeLessThanOrEqual(maxStepMS + 1e-9);
          expect(Math.abs(sp[3 * i + 2] - prev[3 * i + 2])).toBeLessThanOrEqual(maxStepMS + 1e-9);
        } else {
          legStarts.push(t);
        }
        if (env.rateLimitMS[i] > 0) limited++;
      }
      prev = Array.from(env.state.prevFlownNedMS);
      done.push(...env.takeFinished());
    }
    expect(done).toHaveLength(4);
    expect(done.every((e) => e.success)).toBe(true);
    // The go-to-goal controller jumps its setpoint: the box layer shapes it, and each episode counts those ticks.
    expect(limited).toBeGreaterThan(0);
    expect(done.reduce((a, e) => a + e.rateLimitTicks, 0)).toBe(limited);
    // The return leg began with a handover too (after the drop point), climbing again.
    expect(legStarts.length).toBe(4);
  });

  it('refuses inconsistent configurations', () => {
    expect(() => parseEnvConfig({ deliveryMinM: 300, deliveryMaxM: 100 })).toThrow(/CONFIG_CONFLICT/);
    expect(() => parseEnvConfig({ windSpeed: 3 })).toThrow(/CONFIG_UNKNOWN_KEY/);
  });
});
