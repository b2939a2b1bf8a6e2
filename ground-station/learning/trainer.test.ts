import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isAerieError } from '../../shared/errors.js';
import { readCheckpoint } from './checkpoint.js';
import { tinyConfig } from './test-support.js';
import { configHash, parseTrainConfig } from './train-config.js';
import { Trainer } from './trainer.js';

const dir = mkdtempSync(join(tmpdir(), 'aerie-train-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function trained(iterations: number, seed = 3) {
  const t = await Trainer.create({ config: tinyConfig({ iterations, seed }) });
  const result = await t.run();
  const state = t.agent.state();
  const lambda = t.lambda;
  t.dispose();
  return { result, state, lambda };
}

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
    const first = await Trainer.create({ config: tinyConfig({ iterations: 3, seed: 5 }), checkpointPath: path });
    first.iterate();
    first.iterate();
    await first.saveCheckpoint();
    first.dispose();
    const checkpoint = await readCheckpoint(path);
    expect(checkpoint.iteration).toBe(2);
    const resumed = await Trainer.create({ config: tinyConfig({ iterations: 3, seed: 5 }), resume: checkpoint });
    const rest = await resumed.run();
    const after = resumed.agent.state();
    resumed.dispose();
    const straight = await trained(3, 5);
    expect(rest.iterations).toBe(3);
    expect(rest.history).toHaveLength(3);
    expect(after.actor).toEqual(straight.state.actor);
    expect(after.critic).toEqual(straight.state.critic);
    expect(after.normaliser).toEqual(straight.state.normaliser);

    // A checkpoint of another learning configuration is refused.
    const other = tinyConfig({ iterations: 3, seed: 5, learningRate: 0.01 });
    await expect(Trainer.create({ config: other, resume: checkpoint })).rejects.toSatisfy((e: unknown) =>
      isAerieError(e, 'TRAIN_CHECKPOINT_INVALID'),
    );
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
