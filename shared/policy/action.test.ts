import { describe, expect, it } from 'vitest';
import { actionToVelocityNedMS, type VelocityNedTuple, velocityNedMSToAction } from './index.js';

const limits = { maxHorizontalMS: 10, maxUpMS: 3, maxDownMS: 2 };

describe('actionToVelocityNedMS', () => {
  it('scales north/east by the horizontal limit, down by descent and up by climb speed', () => {
    expect(actionToVelocityNedMS([0.5, -0.2, 0.5], limits)).toEqual([5, -2, 1]);
    expect(actionToVelocityNedMS([0, 0, -1], limits)).toEqual([0, 0, -3]);
    expect(actionToVelocityNedMS([0, 0, 1], limits)).toEqual([0, 0, 2]);
  });

  it('limits the horizontal speed of a diagonal action and keeps its direction', () => {
    const [n, e] = actionToVelocityNedMS([1, 1, 0], limits);
    expect(Math.hypot(n, e)).toBeCloseTo(10, 9);
    expect(n).toBeCloseTo(e, 12);
  });

  it('clamps out-of-range components and reads NaN as zero', () => {
    expect(actionToVelocityNedMS([3, 0, -7], limits)).toEqual([10, 0, -3]);
    expect(actionToVelocityNedMS([Number.NaN, 0.1, Number.NaN], limits)).toEqual([0, 1, 0]);
  });

  it('writes into a given tuple without allocating a new one', () => {
    const out: VelocityNedTuple = [9, 9, 9];
    expect(actionToVelocityNedMS(new Float32Array([0.1, 0.2, 0]), limits, out)).toBe(out);
    expect(out[0]).toBeCloseTo(1, 6);
    expect(out[1]).toBeCloseTo(2, 6);
  });

  it('round-trips through velocityNedMSToAction within the limits', () => {
    for (const v of [
      [3, -4, 1.5],
      [0, 0, -2.5],
      [-7, 7, 0],
    ]) {
      const back = actionToVelocityNedMS(velocityNedMSToAction(v, limits), limits);
      for (let i = 0; i < 3; i++) expect(back[i]).toBeCloseTo(v[i], 5);
    }
    // Beyond the limit, the action saturates along the same direction.
    const a = velocityNedMSToAction([30, 40, 0], limits);
    expect(a[0]).toBeCloseTo(0.6, 6);
    expect(a[1]).toBeCloseTo(0.8, 6);
  });
});
