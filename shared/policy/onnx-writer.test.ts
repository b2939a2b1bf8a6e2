import { describe, expect, it } from 'vitest';
import { isAerieError } from '../errors.js';
import {
  buildGoToGoalModel,
  buildMlpModel,
  CONTRACT_VERSION,
  contractProblems,
  describeOnnxModel,
  METADATA_KEYS,
  type ModelDescription,
  POLICY_INTERFACE,
  SHIELD_INTERFACE,
} from './index.js';
import { linearModel, POLICY_METADATA, randomMlpLayers, seededRandom } from './test-models.js';

function expectExportError(f: () => unknown, pattern: RegExp): void {
  try {
    f();
  } catch (err) {
    expect(isAerieError(err, 'POLICY_EXPORT_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(pattern);
    return;
  }
  throw new Error('expected POLICY_EXPORT_INVALID');
}

describe('buildMlpModel', () => {
  it('declares the contract interface and metadata, with normalisation copied to metadata', () => {
    const layers = randomMlpLayers([32, 8, 3], seededRandom(1));
    const mean = Array.from({ length: 32 }, (_, i) => i / 10);
    const std = Array.from({ length: 32 }, () => 2);
    const bytes = buildMlpModel({
      layers,
      inputSize: 32,
      obsMean: mean,
      obsStd: std,
      outputActivation: 'tanh',
      metadata: { [METADATA_KEYS.trainingConfigHash]: 'abc123' },
    });
    const desc = describeOnnxModel(bytes);
    expect(desc.opsets).toEqual([{ domain: '', version: 13 }]);
    expect(desc.inputs).toEqual([{ name: 'observation', elemType: 1, dims: ['batch', 32] }]);
    expect(desc.outputs).toEqual([{ name: 'action', elemType: 1, dims: ['batch', 3] }]);
    expect(desc.metadata[METADATA_KEYS.contractVersion]).toBe(CONTRACT_VERSION);
    expect(desc.metadata[METADATA_KEYS.kind]).toBe('policy');
    expect(desc.metadata[METADATA_KEYS.trainingConfigHash]).toBe('abc123');
    expect(JSON.parse(desc.metadata[METADATA_KEYS.obsMean])[5]).toBeCloseTo(0.5, 6);
    expect(contractProblems(desc, POLICY_INTERFACE)).toEqual([]);
  });

  it('writes shields with their own names and kind', () => {
    const bytes = buildMlpModel({
      kind: 'shield',
      layers: randomMlpLayers([35, 4, 1], seededRandom(2)),
      inputSize: 35,
      outputActivation: 'none',
    });
    const desc = describeOnnxModel(bytes);
    expect(contractProblems(desc, SHIELD_INTERFACE)).toEqual([]);
    expect(contractProblems(desc, POLICY_INTERFACE).join('; ')).toMatch(/expected 'observation'.*expected 'policy'/);
  });

  it('is deterministic: same spec, same bytes', () => {
    expect(Buffer.compare(buildGoToGoalModel(), buildGoToGoalModel())).toBe(0);
  });

  it('refuses malformed layers and normalisation', () => {
    const good = randomMlpLayers([32, 3], seededRandom(3));
    expectExportError(
      () => buildMlpModel({ layers: [], inputSize: 32, outputActivation: 'none' }),
      /at least one layer/,
    );
    expectExportError(
      () =>
        buildMlpModel({ layers: randomMlpLayers([31, 3], seededRandom(3)), inputSize: 32, outputActivation: 'none' }),
      /layer 0 weights have 93 values, expected 32 x 3/,
    );
    const nanWeights = {
      ...good[0],
      weights: Float32Array.from(good[0].weights, (w, i) => (i === 4 ? Number.NaN : w)),
    };
    expectExportError(
      () => buildMlpModel({ layers: [nanWeights], inputSize: 32, outputActivation: 'none' }),
      /weights\[4\] is NaN/,
    );
    const mean = new Array(32).fill(0);
    expectExportError(
      () => buildMlpModel({ layers: good, inputSize: 32, outputActivation: 'none', obsMean: mean, obsStd: [...mean] }),
      /obsStd\[0\] is 0: expected a finite positive number/,
    );
    expectExportError(
      () => buildMlpModel({ layers: good, inputSize: 32, outputActivation: 'none', obsMean: mean }),
      /come together/,
    );
  });
});

describe('describeOnnxModel and contractProblems', () => {
  const problems = (bytes: Uint8Array) => contractProblems(describeOnnxModel(bytes), POLICY_INTERFACE);

  it('accepts a conforming model and names each way a model can break the contract', () => {
    expect(problems(linearModel())).toEqual([]);
    expect(problems(linearModel({ inputName: 'obs' }))).toEqual(["input is named 'obs', expected 'observation'"]);
    expect(problems(linearModel({ inputSize: 31 }))).toEqual([
      "input 'observation' has shape [batch, 31], expected [batch, 32]",
    ]);
    expect(problems(linearModel({ outputSize: 4 }))).toEqual([
      "output 'action' has shape [batch, 4], expected [batch, 3]",
    ]);
    expect(problems(linearModel({ inputElemType: 11 }))).toEqual(["input 'observation' is float64, expected float32"]);
    expect(problems(linearModel({ metadata: { [METADATA_KEYS.kind]: 'policy' } }))).toEqual([
      'metadata aerie.contract_version is missing',
    ]);
    expect(
      problems(linearModel({ metadata: { ...POLICY_METADATA, [METADATA_KEYS.contractVersion]: '2.0.0' } })),
    ).toEqual([`contract version 2.0.0 has another major version than this runtime's ${CONTRACT_VERSION}`]);
    expect(problems(linearModel({ metadata: { ...POLICY_METADATA, [METADATA_KEYS.contractVersion]: 'v1' } }))).toEqual([
      "metadata aerie.contract_version 'v1' is not MAJOR.MINOR.PATCH",
    ]);
    expect(problems(linearModel({ metadata: { ...POLICY_METADATA, [METADATA_KEYS.kind]: 'shield' } }))).toEqual([
      "metadata aerie.kind is 'shield', expected 'policy'",
    ]);
    expect(problems(linearModel({ metadata: { ...POLICY_METADATA, [METADATA_KEYS.obsStd]: '[1,2]' } }))).toEqual([
      'metadata aerie.obs_std must be a JSON array of 32 numbers',
    ]);
  });

  it('checks batch and rank, and accepts a batch of 1', () => {
    const desc = describeOnnxModel(linearModel());
    const withInput = (dims: ModelDescription['inputs'][0]['dims']): ModelDescription => ({
      ...desc,
      inputs: [{ ...desc.inputs[0], dims }],
    });
    expect(contractProblems(withInput([1, 32]), POLICY_INTERFACE)).toEqual([]);
    expect(contractProblems(withInput([8, 32]), POLICY_INTERFACE)).toEqual([
      "input 'observation' has a fixed batch of 8, expected a symbolic batch or 1",
    ]);
    expect(contractProblems(withInput([32]), POLICY_INTERFACE)).toEqual([
      "input 'observation' has shape [32], expected [batch, 32]",
    ]);
    expect(
      contractProblems(
        { ...desc, inputs: [...desc.inputs, { name: 'extra', elemType: 1, dims: [1] }] },
        POLICY_INTERFACE,
      ),
    ).toEqual(["expected one input 'observation', the model has 2: 'observation', 'extra'"]);
  });

  it('refuses bytes that are not an ONNX model with POLICY_LOAD_FAILED', () => {
    for (const bytes of [new TextEncoder().encode('hello, this is not a model'), new Uint8Array(0)]) {
      try {
        describeOnnxModel(bytes, 'junk.onnx');
        throw new Error('expected a refusal');
      } catch (err) {
        expect(isAerieError(err, 'POLICY_LOAD_FAILED')).toBe(true);
        expect((err as Error).message).toMatch(/^POLICY_LOAD_FAILED: junk.onnx is not an ONNX model/);
      }
    }
  });
});
