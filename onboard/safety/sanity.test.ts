import { describe, expect, it } from 'vitest';
import { applySanity } from './sanity.js';

const prev = { n: 3, e: 4, d: 0 };

describe('sanity layer', () => {
  it('passes a finite in-range action and its velocity untouched', () => {
    const r = applySanity({ action: [0.5, -0.25, 0], velocityNedMS: { n: 6, e: -3, d: 0 }, yawRad: 1 }, prev);
    expect(r).toEqual({
      velocityNedMS: { n: 6, e: -3, d: 0 },
      actionClipped: [0.5, -0.25, 0],
      yawRad: 1,
      policyFault: false,
      faultReason: null,
      interventions: [],
    });
  });

  it.each([
    ['missing action', { action: null, velocityNedMS: { n: 1, e: 0, d: 0 } }, 'action_missing'],
    ['short action', { action: [1, 2], velocityNedMS: { n: 1, e: 0, d: 0 } }, 'action_shape'],
    ['NaN in action', { action: [0, Number.NaN, 0], velocityNedMS: { n: 1, e: 0, d: 0 } }, 'action_non_finite'],
    [
      'Infinity in action',
      { action: new Float32Array([0, 0, Number.POSITIVE_INFINITY]), velocityNedMS: { n: 1, e: 0, d: 0 } },
      'action_non_finite',
    ],
    ['NaN velocity', { action: [0, 0, 0], velocityNedMS: { n: Number.NaN, e: 0, d: 0 } }, 'velocity_non_finite'],
    [
      'reported fault',
      { action: [0, 0, 0], velocityNedMS: { n: 1, e: 0, d: 0 }, fault: true },
      'policy_fault_reported',
    ],
  ] as const)('a %s is a policy fault: hover, and the brake is sized', (_, policy, reason) => {
    const r = applySanity(policy, prev);
    expect(r.policyFault).toBe(true);
    expect(r.faultReason).toBe(reason);
    expect(r.velocityNedMS).toEqual({ n: 0, e: 0, d: 0 });
    expect(r.actionClipped).toBeNull();
    // The proposal's own size when it is finite, else the previous setpoint's.
    const expected = reason === 'velocity_non_finite' ? 5 : 1;
    expect(r.interventions).toEqual([{ layer: 'sanity', reason, magnitudeMS: expected }]);
  });

  it('clips an out-of-range action and flags it; wraps the yaw; drops a non-finite yaw', () => {
    const r = applySanity(
      { action: [1.5, -7, 0.2], velocityNedMS: { n: 12, e: -12, d: 0.4 }, yawRad: 3 * Math.PI },
      prev,
    );
    expect(r.actionClipped).toEqual([1, -1, 0.2]);
    expect(r.policyFault).toBe(false);
    expect(r.yawRad).toBeCloseTo(-Math.PI, 12);
    expect(r.interventions).toEqual([{ layer: 'sanity', reason: 'action_out_of_range', magnitudeMS: 0 }]);
    const y = applySanity({ action: [0, 0, 0], velocityNedMS: { n: 0, e: 0, d: 0 }, yawRad: Number.NaN }, prev);
    expect(y.yawRad).toBeNull();
    expect(y.interventions[0].reason).toBe('yaw_non_finite');
  });
});
