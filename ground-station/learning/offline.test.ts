import { describe, expect, it } from 'vitest';
import {
  decodeExperienceFile,
  type ExperienceRecord,
  encodeExperienceFile,
  NO_INTERVENTIONS,
} from '../../shared/experience/index.js';
import { OBSERVATION_SIZE } from '../../shared/policy/index.js';
import { DeliveryEnv } from './env/delivery-env.js';
import { experienceColumns } from './offline.js';
import { goToGoalActions, shortEnv, tinyConfig } from './test-support.js';
import { Trainer } from './trainer.js';

/** Fly the go-to-goal controller and record every tick as the onboard runtime would. */
function recordFlights(envs: number, ticks: number, seed: number): ExperienceRecord[] {
  const env = new DeliveryEnv(envs, shortEnv(), seed);
  const obs = new Float32Array(envs * OBSERVATION_SIZE);
  const actions = new Float32Array(envs * 3);
  const perEnv: ExperienceRecord[][] = Array.from({ length: envs }, () => []);
  for (let t = 0; t < ticks; t++) {
    goToGoalActions(env, obs, actions);
    const episode = Array.from(env.state.episodeIndex);
    const step = Array.from(env.state.episodeTicks);
    env.step(actions);
    for (let i = 0; i < envs; i++) {
      const a = Array.from(actions.subarray(i * 3, i * 3 + 3));
      perEnv[i].push({
        timestampUs: t * 100_000,
        episode: episode[i] + 1000 * i,
        step: step[i],
        observation: Array.from(obs.subarray(i * OBSERVATION_SIZE, (i + 1) * OBSERVATION_SIZE)),
        action: a,
        filteredAction: a,
        reward: env.rewards[i],
        cost: env.costs[i],
        interventions: { ...NO_INTERVENTIONS, barrier: env.interventionMS[i] > 0 },
        done: env.dones[i] === 1,
        truncated: env.truncated[i] === 1,
        policyVersion: 'go-to-goal',
      });
    }
  }
  return perEnv.flat();
}

describe('starting from recorded experience', () => {
  it('clones the recorded behaviour from a dataset file before on-policy training', async () => {
    const records = decodeExperienceFile(encodeExperienceFile(recordFlights(8, 120, 21))).records;
    const cols = experienceColumns(records);
    expect(cols.size).toBe(960);
    expect(cols.episodes).toBeGreaterThanOrEqual(8);

    const config = tinyConfig({ iterations: 1, offlineEpochs: 60, learningRate: 0.003, actorHidden: '32,32' });
    const fresh = await Trainer.create({ config });
    const cloned = await Trainer.create({ config, dataset: records });
    try {
      expect(cloned.offline?.records).toBe(960);
      // Held-out flights: the cloned policy acts like the recorder, the fresh one does not.
      const test = recordFlights(4, 60, 22);
      const obs = Float32Array.from(test.flatMap((r) => r.observation));
      const target = test.flatMap((r) => r.action);
      const error = (t: Trainer) => {
        const a = t.agent.policyMean(obs, test.length);
        return a.reduce((s, x, k) => s + (x - target[k]) ** 2, 0) / a.length;
      };
      expect(error(cloned)).toBeLessThan(0.05);
      expect(error(cloned)).toBeLessThan(error(fresh) / 2);
      // And it trains on from there.
      const r = await cloned.run();
      expect(r.offline?.cloneLoss).toBeLessThan(0.05);
      expect(r.iterations).toBe(1);
    } finally {
      fresh.dispose();
      cloned.dispose();
    }
  });
});
