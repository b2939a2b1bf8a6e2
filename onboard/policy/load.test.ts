import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ErrorCode, isAerieError } from '../../shared/errors.js';
import { buildMlpModel, CONTRACT_VERSION, METADATA_KEYS, type OutputActivation } from '../../shared/policy/index.js';
import {
  linearModel,
  mlpForward,
  POLICY_METADATA,
  randomMlpLayers,
  seededRandom,
} from '../../shared/policy/test-models.js';
import { loadPolicy, loadShield } from './index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aerie-policy-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function expectRefusal(load: Promise<unknown>, code: ErrorCode, pattern: RegExp): Promise<void> {
  const err = await load.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, `expected ${code}`).not.toBeNull();
  expect(isAerieError(err, code), String(err)).toBe(true);
  expect((err as Error).message).toMatch(pattern);
}

describe('writer output in onnxruntime', () => {
  const cases: { name: string; sizes: number[]; hidden: 'tanh' | 'relu'; out: OutputActivation; normalise: boolean }[] =
    [
      { name: 'tanh MLP, tanh output', sizes: [32, 64, 64, 3], hidden: 'tanh', out: 'tanh', normalise: false },
      { name: 'tanh MLP with normalisation', sizes: [32, 64, 64, 3], hidden: 'tanh', out: 'tanh', normalise: true },
      {
        name: 'relu MLP with normalisation, clipped',
        sizes: [32, 48, 3],
        hidden: 'relu',
        out: 'clip',
        normalise: true,
      },
      { name: 'single linear layer', sizes: [32, 3], hidden: 'tanh', out: 'none', normalise: false },
    ];
  for (const c of cases) {
    it(`matches a plain JS forward pass within 1e-5: ${c.name}`, async () => {
      const random = seededRandom(c.sizes.length * 101 + (c.normalise ? 7 : 0) + c.out.length);
      const layers = randomMlpLayers(c.sizes, random, c.hidden);
      const obsMean = c.normalise ? Array.from({ length: 32 }, () => random() - 0.5) : undefined;
      const obsStd = c.normalise ? Array.from({ length: 32 }, () => 0.2 + random()) : undefined;
      const bytes = buildMlpModel({ layers, inputSize: 32, obsMean, obsStd, outputActivation: c.out });
      const policy = await loadPolicy(bytes, { label: c.name });
      try {
        if (c.normalise) expect(policy.info.obsStd?.[3]).toBeCloseTo(obsStd![3], 6);
        let maxError = 0;
        let maxAbs = 0;
        for (let k = 0; k < 25; k++) {
          const obs = Float32Array.from({ length: 32 }, () => (random() * 2 - 1) * 1.5);
          const got = await policy.run(obs);
          const want = mlpForward(layers, obs, c.out, obsMean, obsStd);
          for (let j = 0; j < 3; j++) {
            maxError = Math.max(maxError, Math.abs(got[j] - want[j]));
            maxAbs = Math.max(maxAbs, Math.abs(want[j]));
          }
        }
        expect(maxError).toBeLessThan(1e-5);
        expect(maxAbs).toBeGreaterThan(0.05); // the comparison is not between two zero vectors
      } finally {
        await policy.release();
      }
    });
  }
});

describe('loadPolicy', () => {
  it('loads a conforming model from a file and describes it', async () => {
    const path = join(dir, 'ok.onnx');
    await writeFile(path, linearModel({ metadata: { ...POLICY_METADATA, [METADATA_KEYS.name]: 'linear' } }));
    const policy = await loadPolicy(path);
    expect(policy.info).toMatchObject({
      kind: 'policy',
      source: path,
      contractVersion: CONTRACT_VERSION,
      name: 'linear',
      inputName: 'observation',
      outputSize: 3,
      obsMean: null,
    });
    expect(policy.info.sha256).toMatch(/^[0-9a-f]{64}$/);
    const action = await policy.run(new Float32Array(32).fill(1));
    expect(Array.from(action).map((x) => Number(x.toFixed(4)))).toEqual([3.2, 3.2, 3.2]);
    await policy.release();
  });

  it('refuses a missing file', async () => {
    const path = join(dir, 'nope.onnx');
    await expectRefusal(
      loadPolicy(path),
      'POLICY_LOAD_FAILED',
      new RegExp(`cannot read model file ${path}: no such file`),
    );
  });

  it('refuses corrupt and truncated bytes', async () => {
    await expectRefusal(
      loadPolicy(new TextEncoder().encode('#!/bin/sh\necho not a model\n'), { label: 'junk' }),
      'POLICY_LOAD_FAILED',
      /junk is not an ONNX model/,
    );
    const good = linearModel();
    await expectRefusal(
      loadPolicy(good.subarray(0, good.length - 40), { label: 'truncated' }),
      'POLICY_LOAD_FAILED',
      /truncated is not an ONNX model/,
    );
  });

  it('refuses a wrong input name, a wrong size, a wrong dtype and a wrong output', async () => {
    await expectRefusal(
      loadPolicy(linearModel({ inputName: 'obs' }), { label: 'm' }),
      'POLICY_CONTRACT_MISMATCH',
      /^POLICY_CONTRACT_MISMATCH: m does not fit the policy contract: input is named 'obs', expected 'observation'$/,
    );
    await expectRefusal(
      loadPolicy(linearModel({ inputSize: 24 })),
      'POLICY_CONTRACT_MISMATCH',
      /input 'observation' has shape \[batch, 24\], expected \[batch, 32\]/,
    );
    await expectRefusal(
      loadPolicy(linearModel({ inputElemType: 11 })),
      'POLICY_CONTRACT_MISMATCH',
      /input 'observation' is float64, expected float32/,
    );
    await expectRefusal(
      loadPolicy(linearModel({ outputName: 'velocity' })),
      'POLICY_CONTRACT_MISMATCH',
      /output is named 'velocity', expected 'action'/,
    );
  });

  it('refuses a model that declares [batch, 3] but answers 4 values (caught by the probe inference)', async () => {
    await expectRefusal(
      loadPolicy(linearModel({ outputSize: 4, declaredOutputSize: 3 }), { label: 'liar' }),
      'POLICY_CONTRACT_MISMATCH',
      /liar fails a probe inference on the neutral observation/,
    );
  });

  it('refuses another contract major, a missing version and the wrong kind', async () => {
    await expectRefusal(
      loadPolicy(linearModel({ metadata: { ...POLICY_METADATA, [METADATA_KEYS.contractVersion]: '2.1.0' } })),
      'POLICY_CONTRACT_MISMATCH',
      new RegExp(`contract version 2.1.0 has another major version than this runtime's ${CONTRACT_VERSION}`),
    );
    await expectRefusal(
      loadPolicy(linearModel({ metadata: { [METADATA_KEYS.kind]: 'policy' } })),
      'POLICY_CONTRACT_MISMATCH',
      /metadata aerie.contract_version is missing/,
    );
    await expectRefusal(
      loadPolicy(linearModel({ metadata: { [METADATA_KEYS.contractVersion]: CONTRACT_VERSION } })),
      'POLICY_CONTRACT_MISMATCH',
      /metadata aerie.kind is missing, expected 'policy'/,
    );
  });
});

describe('loadShield', () => {
  it('loads a cost critic over observation + action and refuses a policy', async () => {
    const random = seededRandom(9);
    const layers = randomMlpLayers([35, 16, 1], random);
    const shield = await loadShield(buildMlpModel({ kind: 'shield', layers, inputSize: 35, outputActivation: 'none' }));
    const obs = Float32Array.from({ length: 32 }, () => random() - 0.5);
    const action = [0.3, -0.6, 0.1];
    const cost = await shield.cost(obs, action);
    expect(cost).toBeCloseTo(mlpForward(layers, [...obs, ...action], 'none')[0], 5);
    const outcome = await shield.costWithDeadline(obs, action, 1000);
    expect(outcome.ok && outcome.cost).toBeCloseTo(cost, 6);
    await shield.release();

    await expectRefusal(
      loadShield(linearModel(), { label: 'a-policy' }),
      'POLICY_CONTRACT_MISMATCH',
      /a-policy does not fit the shield contract: input is named 'observation', expected 'observation_action'.*metadata aerie.kind is 'policy', expected 'shield'/,
    );
  });
});
