/**
 * A multilayer perceptron as TensorFlow.js variables: Xavier-uniform weights drawn from our seeded stream (so a run is
 * reproducible bit for bit), tanh or relu hidden layers, a linear last layer. Weights are stored [in, out], the layout
 * shared/policy's ONNX writer takes, so export is a copy.
 */
import type { HiddenActivation, MlpLayer } from '../../../shared/policy/index.js';
import type { Rng } from '../../../shared/random/index.js';
import { tf } from './tf.js';

let instances = 0;

export class Mlp {
  readonly sizes: readonly number[];
  readonly activation: Exclude<HiddenActivation, 'none'>;
  readonly weights: tf.Variable[] = [];
  readonly biases: tf.Variable[] = [];

  /** `lastLayerScale` shrinks the output layer's initial weights (a policy starts near the zero action). */
  constructor(
    name: string,
    sizes: readonly number[],
    activation: Exclude<HiddenActivation, 'none'>,
    rng: Rng,
    lastLayerScale = 1,
  ) {
    this.sizes = sizes;
    this.activation = activation;
    const id = instances++;
    for (let k = 0; k + 1 < sizes.length; k++) {
      const [nIn, nOut] = [sizes[k], sizes[k + 1]];
      const limit = Math.sqrt(6 / (nIn + nOut)) * (k + 2 === sizes.length ? lastLayerScale : 1);
      const w = Float32Array.from({ length: nIn * nOut }, () => (rng.next() * 2 - 1) * limit);
      this.weights.push(tf.variable(tf.tensor2d(w, [nIn, nOut]), true, `${name}_${id}/w${k}`));
      this.biases.push(tf.variable(tf.zeros([nOut]), true, `${name}_${id}/b${k}`));
    }
  }

  get variables(): tf.Variable[] {
    return this.weights.flatMap((w, k) => [w, this.biases[k]]);
  }

  /** x [batch, sizes[0]] -> [batch, last size]. */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    let h: tf.Tensor2D = x;
    const last = this.weights.length - 1;
    this.weights.forEach((w, k) => {
      h = tf.add(tf.matMul(h, w), this.biases[k]) as tf.Tensor2D;
      if (k < last) h = this.activation === 'tanh' ? tf.tanh(h) : tf.relu(h);
    });
    return h;
  }

  /** The layers for shared/policy's buildMlpModel. */
  toLayers(): MlpLayer[] {
    const last = this.weights.length - 1;
    return this.weights.map((w, k) => ({
      weights: w.dataSync() as Float32Array,
      bias: this.biases[k].dataSync() as Float32Array,
      activation: k < last ? this.activation : 'none',
    }));
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}

/** Values of variables, for checkpoints. */
export function readVariables(vars: readonly tf.Variable[]): Float32Array[] {
  return vars.map((v) => Float32Array.from(v.dataSync() as Float32Array));
}

/** Assign saved values (same shapes) to variables. */
export function writeVariables(vars: readonly tf.Variable[], values: readonly Float32Array[]): void {
  if (values.length !== vars.length) throw new RangeError(`expected ${vars.length} tensors, got ${values.length}`);
  vars.forEach((v, k) => {
    if (values[k].length !== v.size)
      throw new RangeError(`tensor ${v.name}: ${values[k].length} values, expected ${v.size}`);
    tf.tidy(() => v.assign(tf.tensor(values[k], v.shape)));
  });
}
