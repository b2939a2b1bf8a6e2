import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPolicy } from '../../onboard/policy/index.js';
import { isAerieError } from '../../shared/errors.js';
import { OBSERVATION_SIZE } from '../../shared/policy/index.js';
import { readCheckpoint } from './checkpoint.js';
import { tinyConfig } from './test-support.js';
import { configHash, parseTrainConfig } from './train-config.js';
import { Trainer } from './trainer.js';
import { type ValidationResult, validationScore } from './validate.js';

const dir = mkdtempSync(join(tmpdir(), 'aerie-train-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function trained(iterations: number, seed = 3, extra: Record<string, unknown> = {}) {
  const t = await Trainer.create({ config: tinyConfig({ iterations, seed, ...extra }) });
  const result = await t.run();
  const state = t.agent.state();
  const lambda = t.lambda;
  const best = t.best;
  t.dispose();
  return { result, state, lambda, best };
}

/** Validation on, and the smoothness loss and noise annealing that go with it in the shipped config. */
const VALIDATED = { validateEvery: 1, validateEpisodes: 3, smoothnessCoef: 0.5, finalMaxStd: 0.05 };

describe('Trainer', () => {
  it('is deterministic for a seed, and another seed trains differently', async () => {
    const a = await trained(2);
    const b = await trained(2);
    const c = await trained(2, 4);
    expect(b.state.actor).toEqual(a.state.actor);
    expect(b.state.shield).toEqual(a.state.shield);
    expect(b.result.history.map((r) => r.costRate)).toEqual(a.result.history.map((r) => r.costRate));
    expect(c.state.actor).not.toEqual(a.state.actor);
    expect(a.result.envSteps).toBe(2 * 8 * 16);
    expect(a.state.optimizer.step).toBe(2 * 2 * 2); // iterations x epochs x minibatches (128 samples / 64)
  });

  it('resumes from a checkpoint exactly where an uninterrupted run would be', async () => {
    const path = join(dir, 'checkpoint.json');
    // Stopped after 2 of 3 iterations (the learning-rate schedule depends on the planned iterations).
    const cfg = tinyConfig({ iterations: 3, seed: 5, ...VALIDATED });
    const first = await Trainer.create({ config: cfg, checkpointPath: path });
    first.iterate();
    first.iterate();
    await first.saveCheckpoint();
    first.dispose();
    const checkpoint = await readCheckpoint(path);
    expect(checkpoint.iteration).toBe(2);
    const resumed = await Trainer.create({ config: cfg, resume: checkpoint });
    const rest = await resumed.run();
    const after = resumed.agent.state();
    const best = resumed.best;
    resumed.dispose();
    const straight = await trained(3, 5, VALIDATED);
    expect(rest.iterations).toBe(3);
    expect(rest.history).toHaveLength(3);
    expect(after.actor).toEqual(straight.state.actor);
    expect(after.critic).toEqual(straight.state.critic);
    expect(after.normaliser).toEqual(straight.state.normaliser);
    expect(best).toEqual(straight.best);
    expect(rest.history.map((r) => r.validation)).toEqual(straight.result.history.map((r) => r.validation));

    // A checkpoint of another learning configuration is refused.
    const other = tinyConfig({ iterations: 3, seed: 5, ...VALIDATED, learningRate: 0.01 });
    await expect(Trainer.create({ config: other, resume: checkpoint })).rejects.toSatisfy((e: unknown) =>
      isAerieError(e, 'TRAIN_CHECKPOINT_INVALID'),
    );
  });

  it('validates the mean policy, anneals the noise, and exports the best validated weights', async () => {
    const config = tinyConfig({ iterations: 4, seed: 8, ...VALIDATED, initialStd: 0.3 });
    const t = await Trainer.create({ config });
    const r = await t.run();
    try {
      expect(r.history.every((h) => h.validation !== undefined && h.validation.episodes === 3)).toBe(true);
      const scores = r.history.map((h) =>
        validationScore(h.validation as ValidationResult, config.train.targetInterventionShare),
      );
      const best = t.best as NonNullable<typeof t.best>;
      expect(best.score).toBe(Math.max(...scores));
      expect(best.iteration).toBe(scores.indexOf(best.score) + 1);
      expect(r.best?.iteration).toBe(best.iteration);
      // The noise bound went down linearly from 2 x initialStd to finalMaxStd over the planned iterations.
      expect(t.agent.maxStd).toBeCloseTo(0.6 + (0.05 - 0.6) * (3 / 4), 9);
      expect(Math.max(...t.agent.std)).toBeLessThanOrEqual(t.agent.maxStd + 1e-6);
      // The exported ONNX policy computes the best snapshot's mean, and the agent keeps its own weights.
      const before = t.agent.state().actor;
      const models = t.exportModels({});
      expect(t.agent.state().actor).toEqual(before);
      const onnx = await loadPolicy(models.policy);
      const obs = Float32Array.from({ length: OBSERVATION_SIZE }, (_, k) => Math.sin(k + 1));
      const want = t.agent.withSnapshot(best.snapshot, () => t.agent.policyMean(obs, 1));
      const got = await onnx.run(obs);
      await onnx.release();
      for (let k = 0; k < 3; k++) expect(got[k]).toBeCloseTo(want[k], 5);
    } finally {
      t.dispose();
    }
  });

  it('starts kickstarted from the teacher, deterministically, and counts its steps', async () => {
    const kick = { teacherStartSteps: 12, teacherStartEpochs: 2, teacherCoef: 1, teacherDecay: 0.5 };
    const a = await trained(2, 6, kick);
    const b = await trained(2, 6, kick);
    expect(a.result.teacherStart?.samples).toBe(8 * 12);
    expect(Number.isFinite(a.result.teacherStart?.cloneLoss)).toBe(true);
    expect(a.result.envSteps).toBe(8 * 12 + 2 * 8 * 16);
    expect(b.state.actor).toEqual(a.state.actor);
    expect(a.state.actor).not.toEqual((await trained(2, 6)).state.actor);
  });

  it('stops on its wall-clock budget (clock injected)', async () => {
    let now = 0;
    const t = await Trainer.create({
      config: tinyConfig({ iterations: 50, maxWallS: 3 }),
      clock: () => (now += 0.5),
    });
    const r = await t.run();
    t.dispose();
    expect(r.stoppedBy).toBe('wall');
    expect(r.iterations).toBeLessThan(50);
    expect(r.wallS).toBeGreaterThanOrEqual(3);
    expect(r.wallSToTarget).toBeNull();
  });
});

describe('training configuration', () => {
  it('refuses unknown keys and sections and hashes content, not formatting', () => {
    expect(() => parseTrainConfig({ train: { learningRat: 1 } })).toThrow(/CONFIG_UNKNOWN_KEY.*learningRat/);
    expect(() => parseTrainConfig({ trian: {} })).toThrow(/CONFIG_UNKNOWN_KEY.*trian/);
    expect(() => parseTrainConfig({ train: { actorHidden: '64,x' } })).toThrow(/CONFIG_INVALID_VALUE/);
    expect(() => parseTrainConfig({ train: { minStd: 0.5, initialStd: 0.1 } })).toThrow(/CONFIG_CONFLICT/);
    const a = parseTrainConfig({ train: { seed: 2, envs: 16 } });
    const b = parseTrainConfig({ train: { envs: 16, seed: 2 }, env: {} });
    expect(configHash(a)).toBe(configHash(b));
    expect(configHash(a)).not.toBe(configHash(parseTrainConfig({ train: { seed: 3, envs: 16 } })));
  });
});
