import { describe, expect, it } from 'vitest';
import { OBSERVATION_SIZE } from '../../../shared/policy/index.js';
import { DeliveryEnv, type EpisodeSummary } from '../env/delivery-env.js';
import { parseEnvConfig } from '../env/env-config.js';
import { teacherActions } from './teacher.js';

function flyTeacher(env: DeliveryEnv, dtS: number): { episodes: EpisodeSummary[]; rateLimited: number; ticks: number } {
  const obs = new Float32Array(env.count * OBSERVATION_SIZE);
  const episodes: EpisodeSummary[] = [];
  let rateLimited = 0;
  let ticks = 0;
  while (env.activeCount > 0) {
    env.observe(obs);
    const active = Uint8Array.from(env.state.active);
    env.step(teacherActions(obs, env.count, env.limits), dtS);
    for (let i = 0; i < env.count; i++) {
      if (active[i] === 0) continue;
      ticks++;
      if (env.rateLimitMS[i] > 0) rateLimited++;
    }
    episodes.push(...env.takeFinished());
  }
  return { episodes, rateLimited, ticks };
}

describe('kickstarting teacher', () => {
  it('delivers from the observation alone, ramping its setpoint within the onboard rate limit', () => {
    const env = parseEnvConfig({ zoneMaxCount: 0, neighbourMaxCount: 0, deliveryMinM: 30, deliveryMaxM: 120 });
    const r = flyTeacher(new DeliveryEnv(16, { ...env, rateLimit: true }, 4, { autoReset: false }), 0.02);
    expect(r.episodes.every((e) => e.success)).toBe(true);
    // Only the first ticks after a handover from the climb are rate-limited.
    expect(r.rateLimited / r.ticks).toBeLessThan(0.03);
  });

  it('slides round a no-fly zone across its route instead of through it or the barrier', () => {
    const env = parseEnvConfig({
      neighbourMaxCount: 0,
      zoneMaxCount: 1,
      zoneProbability: 1,
      zoneOnPathProbability: 1,
      deliveryMinM: 120,
      deliveryMaxM: 160,
    });
    const r = flyTeacher(new DeliveryEnv(16, env, 5, { autoReset: false }), 0.1);
    expect(r.episodes.every((e) => e.success)).toBe(true);
    expect(r.episodes.every((e) => e.breachTicks.zone === 0)).toBe(true);
    // The barrier layer would barely have had to act on its setpoints.
    expect(r.episodes.reduce((a, e) => a + e.interventionTicks, 0) / r.ticks).toBeLessThan(0.01);
  });
});
