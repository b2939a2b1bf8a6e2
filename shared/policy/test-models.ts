/**
 * Models and helpers for tests across folders (onboard loop, safety, trainer export checks): a seeded random MLP, a
 * plain double-precision forward pass to compare onnxruntime against, and deliberately faulty models. Not exported
 * from index.ts: import it from tests only.
 */
import { ACTION_SIZE, BATCH_DIM, CONTRACT_VERSION, METADATA_KEYS, OBSERVATION_SIZE } from './contract.js';
import { observationIndex } from './observation-layout.js';
import { encodeModel, type HiddenActivation, type MlpLayer, type OutputActivation } from './onnx-writer.js';

/** mulberry32: a small seeded generator, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Layers of sizes[0] -> sizes[1] -> ... with Xavier-uniform weights and small biases. */
export function randomMlpLayers(
  sizes: readonly number[],
  random: () => number,
  hidden: HiddenActivation = 'tanh',
): MlpLayer[] {
  const layers: MlpLayer[] = [];
  for (let k = 0; k + 1 < sizes.length; k++) {
    const [nIn, nOut] = [sizes[k], sizes[k + 1]];
    const limit = Math.sqrt(6 / (nIn + nOut));
    const weights = Float32Array.from({ length: nIn * nOut }, () => (random() * 2 - 1) * limit);
    const bias = Float32Array.from({ length: nOut }, () => (random() * 2 - 1) * 0.1);
    layers.push({ weights, bias, activation: k + 2 < sizes.length ? hidden : 'none' });
  }
  return layers;
}

/** The MLP's answer computed in plain JavaScript (float64), as buildMlpModel's graph defines it. */
export function mlpForward(
  layers: readonly MlpLayer[],
  input: ArrayLike<number>,
  outputActivation: OutputActivation,
  obsMean?: ArrayLike<number>,
  obsStd?: ArrayLike<number>,
): number[] {
  let x = Array.from(input, (v, i) => (obsMean && obsStd ? (v - Math.fround(obsMean[i])) / Math.fround(obsStd[i]) : v));
  for (const layer of layers) {
    const nOut = layer.bias.length;
    const y: number[] = [];
    for (let j = 0; j < nOut; j++) {
      let sum = layer.bias[j];
      for (let i = 0; i < x.length; i++) sum += x[i] * layer.weights[i * nOut + j];
      y.push(layer.activation === 'tanh' ? Math.tanh(sum) : layer.activation === 'relu' ? Math.max(0, sum) : sum);
    }
    x = y;
  }
  if (outputActivation === 'tanh') return x.map(Math.tanh);
  if (outputActivation === 'clip') return x.map((v) => Math.max(-1, Math.min(1, v)));
  return x;
}

export interface LinearModelOptions {
  readonly inputName?: string;
  readonly inputSize?: number;
  readonly outputName?: string;
  readonly outputSize?: number;
  /** The complete metadata_props (no defaults are added, so a test can leave any key out). */
  readonly metadata?: Readonly<Record<string, string>>;
  readonly inputElemType?: number;
  /** The output's declared width (default outputSize), to declare one size and produce another. */
  readonly declaredOutputSize?: number | string;
}

/** The metadata a conforming policy carries. */
export const POLICY_METADATA: Readonly<Record<string, string>> = Object.freeze({
  [METADATA_KEYS.contractVersion]: CONTRACT_VERSION,
  [METADATA_KEYS.kind]: 'policy',
});

/**
 * A zero-weight linear model with any interface (output = 0.1 * sum of inputs, per output), to build models that
 * break the contract in exactly one way.
 */
export function linearModel(options: LinearModelOptions = {}): Uint8Array {
  const inputName = options.inputName ?? 'observation';
  const inputSize = options.inputSize ?? OBSERVATION_SIZE;
  const outputName = options.outputName ?? 'action';
  const outputSize = options.outputSize ?? ACTION_SIZE;
  const cast = options.inputElemType !== undefined && options.inputElemType !== 1;
  return encodeModel({
    name: 'test_linear',
    inputs: [{ name: inputName, dims: [BATCH_DIM, inputSize], elemType: options.inputElemType }],
    outputs: [{ name: outputName, dims: [BATCH_DIM, options.declaredOutputSize ?? outputSize] }],
    nodes: [
      ...(cast ? [{ op: 'Cast', inputs: [inputName], outputs: ['x'], intAttributes: { to: 1 } }] : []),
      { op: 'Gemm', inputs: [cast ? 'x' : inputName, 'w', 'b'], outputs: [outputName] },
    ],
    initializers: [
      { name: 'w', dims: [inputSize, outputSize], data: new Float32Array(inputSize * outputSize).fill(0.1) },
      { name: 'b', dims: [outputSize], data: new Float32Array(outputSize) },
    ],
    metadata: options.metadata ?? POLICY_METADATA,
  });
}

/**
 * A policy that answers NaN whenever velocity_n < 0 (action = sqrt(velocity_n feature) on every axis) and a finite
 * action otherwise, so it passes the load-time probe (velocity 0) and faults in flight.
 */
export function nanWhenFlyingSouthPolicyModel(): Uint8Array {
  const w = new Float32Array(OBSERVATION_SIZE * ACTION_SIZE);
  const row = observationIndex('velocity_n');
  for (let j = 0; j < ACTION_SIZE; j++) w[row * ACTION_SIZE + j] = 1;
  return encodeModel({
    name: 'test_nan_policy',
    inputs: [{ name: 'observation', dims: [BATCH_DIM, OBSERVATION_SIZE] }],
    outputs: [{ name: 'action', dims: [BATCH_DIM, ACTION_SIZE] }],
    nodes: [
      { op: 'Gemm', inputs: ['observation', 'w', 'b'], outputs: ['v'] },
      { op: 'Sqrt', inputs: ['v'], outputs: ['action'] },
    ],
    initializers: [
      { name: 'w', dims: [OBSERVATION_SIZE, ACTION_SIZE], data: w },
      { name: 'b', dims: [ACTION_SIZE], data: new Float32Array(ACTION_SIZE) },
    ],
    metadata: POLICY_METADATA,
  });
}
