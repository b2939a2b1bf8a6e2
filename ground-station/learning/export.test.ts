import { describe, expect, it } from 'vitest';
import { loadPolicy, loadShield } from '../../onboard/policy/index.js';
import { describeOnnxModel, METADATA_KEYS, OBSERVATION_SIZE } from '../../shared/policy/index.js';
import { createRng } from '../../shared/random/index.js';
import { tinyConfig } from './test-support.js';
import { Trainer } from './trainer.js';

describe('ONNX export', () => {
  it("equals the trainer's forward pass within 1e-5 on random observations, with the contract's metadata", async () => {
    const config = tinyConfig({ iterations: 2, actorHidden: '32,32', shieldHidden: '16,16' });
    const trainer = await Trainer.create({ config });
    try {
      await trainer.run();
      const { policy, shield } = trainer.exportModels({ eval_success_rate: 0.5 });
      const rng = createRng(99);
      const n = 64;
      const obs = Float32Array.from({ length: n * OBSERVATION_SIZE }, () => rng.normal() * 1.5);
      const actions = Float32Array.from({ length: n * 3 }, () => rng.next() * 2 - 1);
      const expected = trainer.agent.policyMean(obs, n);
      const expectedCost = trainer.agent.shieldCost(obs, actions, n);

      const runner = await loadPolicy(policy, { label: 'trained' });
      const shieldRunner = await loadShield(shield, { label: 'trained-shield' });
      let worst = 0;
      let worstCost = 0;
      for (let i = 0; i < n; i++) {
        const row = obs.subarray(i * OBSERVATION_SIZE, (i + 1) * OBSERVATION_SIZE);
        const a = await runner.run(row);
        for (let j = 0; j < 3; j++) worst = Math.max(worst, Math.abs(a[j] - expected[i * 3 + j]));
        const c = await shieldRunner.cost(row, actions.subarray(i * 3, i * 3 + 3));
        worstCost = Math.max(worstCost, Math.abs(c - expectedCost[i]));
      }
      await runner.release();
      await shieldRunner.release();
      expect(worst).toBeLessThan(1e-5);
      expect(worstCost).toBeLessThan(1e-5);
      // The policy is not trivially zero: the comparison above means something.
      expect(Math.max(...Array.from(expected, Math.abs))).toBeGreaterThan(1e-3);

      const md = describeOnnxModel(policy).metadata;
      expect(md[METADATA_KEYS.contractVersion]).toMatch(/^1\./);
      expect(md[METADATA_KEYS.trainingConfigHash]).toBe(trainer.configHash);
      expect(JSON.parse(md[METADATA_KEYS.metrics])).toEqual({ eval_success_rate: 0.5 });
      expect(JSON.parse(md[METADATA_KEYS.obsStd])).toHaveLength(OBSERVATION_SIZE);
      expect(describeOnnxModel(shield).metadata[METADATA_KEYS.kind]).toBe('shield');
    } finally {
      trainer.dispose();
    }
  });
});
