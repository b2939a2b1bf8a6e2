/**
 * Adam (Kingma and Ba) with global-norm gradient clipping, over TensorFlow.js variables. Written out rather than
 * taken from tf.train.adam so its whole state (moments and step count) saves and restores exactly: a resumed run
 * computes the same bias corrections as one that never stopped.
 */
import { tf } from './tf.js';

export class Adam {
  readonly variables: readonly tf.Variable[];
  learningRate: number;
  readonly beta1 = 0.9;
  readonly beta2 = 0.999;
  readonly epsilon = 1e-8;
  readonly maxGradNorm: number;
  step = 0;
  readonly #m: tf.Variable[];
  readonly #v: tf.Variable[];

  /** Clipping group of each variable: each group's gradient norm is clipped on its own. */
  readonly #groups: readonly number[];

  /**
   * `groups` (one id per variable, default all 0) clips each group's gradient on its own, so a large critic error
   * cannot scale the policy's step down to nothing when both train in one backward pass.
   */
  constructor(
    variables: readonly tf.Variable[],
    learningRate: number,
    maxGradNorm = Number.POSITIVE_INFINITY,
    groups: readonly number[] = variables.map(() => 0),
  ) {
    this.variables = variables;
    this.#groups = groups;
    this.learningRate = learningRate;
    this.maxGradNorm = maxGradNorm;
    this.#m = variables.map((x) => tf.variable(tf.zerosLike(x), false));
    this.#v = variables.map((x) => tf.variable(tf.zerosLike(x), false));
  }

  /** One step down the gradient of `loss` (a scalar built from the variables); returns the loss and gradient norm. */
  minimize(loss: () => tf.Scalar): { loss: number; gradNorm: number } {
    const { value, grads } = tf.variableGrads(loss, this.variables as tf.Variable[]);
    this.step++;
    const c1 = 1 - this.beta1 ** this.step;
    const c2 = 1 - this.beta2 ** this.step;
    const result = tf.tidy(() => {
      // A variable the loss does not reach (e.g. the policy's log std in behaviour cloning) has no gradient: skip it.
      const list = this.variables.map((x) => grads[x.name] ?? null);
      const ids = [...new Set(this.#groups)];
      const norms = tf
        .stack(
          ids.map((id) => {
            const members = list.filter((g, k): g is tf.Tensor => g !== null && this.#groups[k] === id);
            return members.length ? tf.sqrt(tf.addN(members.map((g) => tf.sum(tf.square(g))))) : tf.scalar(0);
          }),
        )
        .dataSync();
      const scales = new Map(ids.map((id, j) => [id, norms[j] > this.maxGradNorm ? this.maxGradNorm / norms[j] : 1]));
      const normValue = Math.hypot(...norms);
      const lr = (this.learningRate * Math.sqrt(c2)) / c1;
      this.variables.forEach((x, k) => {
        if (list[k] === null) return;
        const scale = scales.get(this.#groups[k]) ?? 1;
        const g = scale === 1 ? (list[k] as tf.Tensor) : tf.mul(list[k] as tf.Tensor, scale);
        const m = tf.add(tf.mul(this.#m[k], this.beta1), tf.mul(g, 1 - this.beta1));
        const v = tf.add(tf.mul(this.#v[k], this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        this.#m[k].assign(m);
        this.#v[k].assign(v);
        x.assign(tf.sub(x, tf.mul(tf.div(m, tf.add(tf.sqrt(v), this.epsilon * Math.sqrt(c2))), lr)));
      });
      return normValue;
    });
    const lossValue = value.dataSync()[0];
    value.dispose();
    tf.dispose(Object.values(grads));
    return { loss: lossValue, gradNorm: result };
  }

  /** Moments and step, for checkpoints. */
  state(): { step: number; m: Float32Array[]; v: Float32Array[] } {
    return {
      step: this.step,
      m: this.#m.map((t) => Float32Array.from(t.dataSync() as Float32Array)),
      v: this.#v.map((t) => Float32Array.from(t.dataSync() as Float32Array)),
    };
  }

  restore(s: { step: number; m: readonly Float32Array[]; v: readonly Float32Array[] }): void {
    if (s.m.length !== this.#m.length || s.v.length !== this.#v.length) {
      throw new RangeError(`optimizer state holds ${s.m.length} tensors, expected ${this.#m.length}`);
    }
    this.step = s.step;
    tf.tidy(() => {
      this.#m.forEach((t, k) => {
        t.assign(tf.tensor(s.m[k], t.shape));
      });
      this.#v.forEach((t, k) => {
        t.assign(tf.tensor(s.v[k], t.shape));
      });
    });
  }

  dispose(): void {
    tf.dispose([...this.#m, ...this.#v]);
  }
}
