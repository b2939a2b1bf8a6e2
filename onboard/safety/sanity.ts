/**
 * Layer 1, sanity: what the policy produced must be numbers the rest can reason about. A missing, misshapen or
 * non-finite action is a policy fault: this tick flies brake-to-hover (zero velocity; the barriers still shape it)
 * and the monitor counts the streak. Finite actions outside [-1, 1] are clipped and flagged.
 */
import type { Ned } from '../../shared/geo/index.js';
import { wrapPi } from '../../shared/geo/index.js';
import type { Intervention, InterventionReason, PolicyProposal } from './types.js';
import { changeMS, isFiniteNed, ZERO_NED } from './vec.js';

export const ACTION_LENGTH = 3;

export interface SanityResult {
  /** The velocity for the next layer (NED m/s): the proposal, or zero on a fault. */
  readonly velocityNedMS: Ned;
  /** The action clipped to [-1, 1]; null on a fault. */
  readonly actionClipped: readonly [number, number, number] | null;
  /** Yaw setpoint wrapped to [-pi, pi), or null. */
  readonly yawRad: number | null;
  readonly policyFault: boolean;
  readonly faultReason: InterventionReason | null;
  readonly interventions: readonly Intervention[];
}

function faultReasonOf(policy: PolicyProposal): InterventionReason | null {
  if (policy.fault === true) return 'policy_fault_reported';
  const action = policy.action;
  if (action == null) return 'action_missing';
  if (typeof action.length !== 'number' || action.length !== ACTION_LENGTH) return 'action_shape';
  for (let i = 0; i < ACTION_LENGTH; i++) {
    const a = action[i];
    if (typeof a !== 'number' || !Number.isFinite(a)) return 'action_non_finite';
  }
  if (!isFiniteNed(policy.velocityNedMS)) return 'velocity_non_finite';
  return null;
}

/**
 * Check the policy's output. `previousSetpointNedMS` only sizes the intervention when the proposal itself is not a
 * number (how big a change the brake is). Interventions are appended to `interventions` (the result's list).
 */
export function applySanity(
  policy: PolicyProposal,
  previousSetpointNedMS: Ned,
  interventions: Intervention[] = [],
): SanityResult {
  let yawRad: number | null = null;
  const yaw = policy.yawRad;
  if (typeof yaw === 'number') {
    if (Number.isFinite(yaw)) yawRad = wrapPi(yaw);
    else interventions.push({ layer: 'sanity', reason: 'yaw_non_finite', magnitudeMS: 0 });
  }
  const faultReason = faultReasonOf(policy);
  if (faultReason !== null) {
    const from = isFiniteNed(policy.velocityNedMS) ? policy.velocityNedMS : previousSetpointNedMS;
    interventions.push({ layer: 'sanity', reason: faultReason, magnitudeMS: changeMS(from, ZERO_NED) });
    // A faulted policy's yaw is not trusted either.
    return {
      velocityNedMS: ZERO_NED,
      actionClipped: null,
      yawRad: null,
      policyFault: true,
      faultReason,
      interventions,
    };
  }
  const action = policy.action as ArrayLike<number>;
  const clipped: [number, number, number] = [0, 0, 0];
  let outOfRange = false;
  for (let i = 0; i < ACTION_LENGTH; i++) {
    const a = action[i];
    clipped[i] = a > 1 ? 1 : a < -1 ? -1 : a;
    if (clipped[i] !== a) outOfRange = true;
  }
  // The velocity is left to the box layer, which bounds it whatever mapping the driver used.
  if (outOfRange) interventions.push({ layer: 'sanity', reason: 'action_out_of_range', magnitudeMS: 0 });
  return {
    velocityNedMS: policy.velocityNedMS as Ned,
    actionClipped: clipped,
    yawRad,
    policyFault: false,
    faultReason: null,
    interventions,
  };
}
