import { describe, expect, it } from 'vitest';
import { computeGae, discountedCostRate } from './gae.js';

describe('computeGae', () => {
  it('matches a hand computation with an episode end, a time-limit cut and a rollout end', () => {
    // One environment, 4 steps: step 1 ends its episode (done), step 2 is cut (truncated), step 3 is the last.
    const gamma = 0.9;
    const lambda = 0.5;
    const rewards = [1, 2, 3, 4];
    const values = [0.5, 1, 1.5, 2];
    const adv = new Float32Array(4);
    const ret = new Float32Array(4);
    computeGae(
      {
        steps: 4,
        envs: 1,
        rewards,
        values,
        dones: [0, 1, 0, 0],
        truncated: [0, 0, 1, 0],
        truncatedValues: [0, 0, 10, 0],
        lastValues: [3],
        gamma,
        lambda,
      },
      adv,
      ret,
    );
    const d3 = 4 + gamma * 3 - 2;
    const d2 = 3 + gamma * 10 - 1.5;
    const d1 = 2 - 1;
    const d0 = 1 + gamma * 1 - 0.5;
    const expected = [d0 + gamma * lambda * d1, d1, d2, d3];
    expected.forEach((a, k) => {
      expect(adv[k]).toBeCloseTo(a, 5);
      expect(ret[k]).toBeCloseTo(a + values[k], 5);
    });
  });

  it('keeps environments apart in the step-major layout', () => {
    const adv = new Float32Array(4);
    const ret = new Float32Array(4);
    // index t * 2 + i: env 0 earns 1 then 0, env 1 earns 0 then 1.
    computeGae(
      {
        steps: 2,
        envs: 2,
        rewards: [1, 0, 0, 1],
        values: [0, 0, 0, 0],
        dones: [0, 0, 0, 0],
        truncated: [0, 0, 0, 0],
        truncatedValues: [0, 0, 0, 0],
        lastValues: [0, 0],
        gamma: 0.5,
        lambda: 1,
      },
      adv,
      ret,
    );
    expect(Array.from(adv)).toEqual([1, 0.5, 0, 1]);
  });
});

describe('discountedCostRate', () => {
  it('is the discounted share of cost ahead within the episode, masked near the rollout end', () => {
    const targets = new Float32Array(5);
    const mask = new Uint8Array(5);
    discountedCostRate(5, 1, [0, 1, 1, 0, 1], [0, 0, 1, 0, 0], 0.5, 1, targets, mask);
    // Episode ends at step 2: step 2 sees only itself.
    expect(targets[2]).toBeCloseTo(0.5, 6);
    expect(targets[1]).toBeCloseTo(0.5 + 0.5 * 0.5, 6);
    expect(targets[0]).toBeCloseTo(0.5 * targets[1], 6);
    expect(targets[4]).toBeCloseTo(0.5, 6);
    expect(Array.from(mask)).toEqual([1, 1, 1, 1, 0]);
  });
});
