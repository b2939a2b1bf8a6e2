import { describe, expect, it } from 'vitest';
import { createRng } from '../../shared/random/index.js';
import { RELATIVE_ACCURACY, type Sketch, sketchAdd, sketchMerge, sketchQuantile } from './sketch.js';

describe('quantile sketch', () => {
  it('keeps every quantile within the relative accuracy across signs and zero, merged or not', () => {
    const rng = createRng(41);
    const values: number[] = [];
    const a: Sketch = new Map();
    const b: Sketch = new Map();
    for (let k = 0; k < 3000; k++) {
      const v = k % 10 === 0 ? 0 : rng.normal() * 10 ** (rng.int(7) - 3);
      values.push(v);
      sketchAdd(k % 2 === 0 ? a : b, v);
    }
    sketchMerge(a, b);
    values.sort((x, y) => x - y);
    const min = values[0];
    const max = values[values.length - 1];
    for (let q = 0.01; q < 1; q += 0.01) {
      const exact = values[Math.ceil(q * values.length) - 1];
      const got = sketchQuantile(a, q, min, max) as number;
      expect(Math.abs(got - exact)).toBeLessThanOrEqual(Math.abs(exact) * RELATIVE_ACCURACY * 1.0001 + 1e-12);
    }
    expect(sketchQuantile(new Map(), 0.5, 0, 0)).toBeNull();
  });
});
