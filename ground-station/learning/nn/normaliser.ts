/**
 * Running mean and variance of the observations (Chan et al.'s parallel update, in float64), whose mean and std the
 * networks subtract and divide by, and which the exported ONNX graph applies itself (shared/policy onnx-writer).
 * The std has a floor: a feature that barely varied in training must not be amplified without bound in flight.
 */
export class RunningNormaliser {
  readonly size: number;
  readonly stdFloor: number;
  count = 0;
  readonly mean: Float64Array;
  /** Sum of squared deviations from the mean. */
  readonly m2: Float64Array;

  constructor(size: number, stdFloor: number) {
    this.size = size;
    this.stdFloor = stdFloor;
    this.mean = new Float64Array(size);
    this.m2 = new Float64Array(size);
  }

  /** Add `rows` rows of `size` values. */
  update(data: ArrayLike<number>, rows: number): void {
    if (rows === 0) return;
    const n = this.size;
    const batchMean = new Float64Array(n);
    const batchM2 = new Float64Array(n);
    for (let r = 0; r < rows; r++) for (let k = 0; k < n; k++) batchMean[k] += data[r * n + k];
    for (let k = 0; k < n; k++) batchMean[k] /= rows;
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < n; k++) {
        const d = data[r * n + k] - batchMean[k];
        batchM2[k] += d * d;
      }
    }
    const total = this.count + rows;
    for (let k = 0; k < n; k++) {
      const delta = batchMean[k] - this.mean[k];
      this.mean[k] += (delta * rows) / total;
      this.m2[k] += batchM2[k] + (delta * delta * this.count * rows) / total;
    }
    this.count = total;
  }

  /** Mean as float32 (what the graph subtracts). */
  meanF32(): Float32Array {
    return Float32Array.from(this.mean);
  }

  /** Std with the floor, as float32 (what the graph divides by); 1 before any data (the contract's own scaling). */
  stdF32(): Float32Array {
    return Float32Array.from(this.m2, (m2) =>
      this.count > 1 ? Math.max(this.stdFloor, Math.sqrt(m2 / this.count)) : 1,
    );
  }

  toJSON(): { count: number; mean: number[]; m2: number[] } {
    return { count: this.count, mean: Array.from(this.mean), m2: Array.from(this.m2) };
  }

  load(s: { count: number; mean: readonly number[]; m2: readonly number[] }): void {
    if (s.mean.length !== this.size || s.m2.length !== this.size) throw new RangeError('normaliser size mismatch');
    this.count = s.count;
    this.mean.set(s.mean);
    this.m2.set(s.m2);
  }
}
