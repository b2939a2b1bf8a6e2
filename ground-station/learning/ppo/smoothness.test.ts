import { describe, expect, it } from 'vitest';
import { initTf, tf } from '../nn/tf.js';
import { PREV_NONE, PREV_OBSERVATION, PREV_SETPOINT } from './buffer.js';
import { setpointOf, smoothnessLoss } from './update.js';

const spec = { coef: 1, teacherCoef: 0, limits: { maxHorizontalMS: 10, maxUpMS: 3, maxDownMS: 1.5 }, dtS: 0.1 };

describe('smoothness loss', () => {
  it('maps mean actions to setpoints as the contract does (norm-limited horizontally, asymmetric vertically)', async () => {
    await initTf();
    const { h, d } = tf.tidy(() => {
      const r = setpointOf(tf.tensor2d([0.3, -0.4, 0.5, 1, 1, -0.5], [2, 3]), spec.limits);
      return { h: Array.from(r.h.dataSync()), d: Array.from(r.d.dataSync()) };
    });
    expect(h[0]).toBeCloseTo(3, 5);
    expect(h[1]).toBeCloseTo(-4, 5);
    expect(Math.hypot(h[2], h[3])).toBeCloseTo(10, 4); // (1, 1) is limited to 10 m/s, direction kept
    expect(d[0]).toBeCloseTo(0.75, 5); // down 0.5 x 1.5 m/s
    expect(d[1]).toBeCloseTo(-1.5, 5); // up 0.5 x 3 m/s
  });

  it('charges only changes beyond the allowance, in units of it, against the previous mean or a fixed setpoint', async () => {
    await initTf();
    const accel = 1.5; // allowance 0.15 m/s per 0.1 s step
    const loss = tf.tidy(() => {
      const mu = tf.tensor2d([0.1, 0, 0, 0.01, 0, 0, 0, 0, 0.2, 0.5, 0, 0], [4, 3]);
      const prevMu = tf.tensor2d([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [4, 3]);
      const kinds = tf.tensor1d([PREV_OBSERVATION, PREV_OBSERVATION, PREV_SETPOINT, PREV_NONE]);
      // Row 2 starts a leg after the mission's 2 m/s climb; row 3 has nothing to compare with.
      const fixed = tf.tensor2d([0, 0, 0, 0, 0, 0, 0, 0, -2, 9, 9, 9], [4, 3]);
      return smoothnessLoss(mu, prevMu, kinds, fixed, spec, accel).dataSync()[0];
    });
    // Row 0: 1 m/s horizontal change, 0.85 over; row 1: 0.1 m/s, within; row 2: 0.3 down from -2 climb = 2.3 m/s,
    // 2.15 over. Averaged over the three rows that have a previous step, in units of 0.15 m/s.
    expect(loss).toBeCloseTo((0.85 + 0 + 2.15) / 3 / 0.15, 3);
  });
});
