/**
 * ONNX policies for the onboard fail-closed scenarios: models that fly sensibly and then fault in flight in a way
 * that persists, so the monitor's fault streaks build up the way they would with a broken model on a real vehicle.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ACTION_SIZE,
  BATCH_DIM,
  buildGoToGoalModel,
  encodeModel,
  OBSERVATION_SCALES,
  OBSERVATION_SIZE,
  observationIndex,
} from '../../shared/policy/index.js';
import { POLICY_METADATA } from '../../shared/policy/test-models.js';

export interface NanNearGoalOptions {
  /** Within this horizontal distance of the goal (m) every action is NaN. */
  readonly radiusM: number;
  /** Speed towards the goal as a fraction of the maximum horizontal speed (0..1), until then. */
  readonly speedFraction: number;
}

/**
 * A policy that flies towards its goal (action = speedFraction * the goal_n/goal_e features) and answers NaN on every
 * axis once within `radiusM` of it. The fault depends on position, not on speed, so braking to a hover (what the
 * safety filter does with a NaN) does not end it: the streak grows until the monitor acts. It passes the load-time
 * probe, whose neutral observation has no goal (goal distance feature 0 reads as "at the goal, exactly").
 *
 *   d = goal_distance_h feature = ln(1 + distance / scale)
 *   action = speedFraction * [goal_n, goal_e, 0] + 0 * sqrt((d - eps) * (d - dR))     dR = ln(1 + radius / scale)
 *
 * The square root is of a negative number (NaN, and 0 * NaN is NaN) exactly when eps < d < dR: inside the radius,
 * except the last centimetre (and the probe).
 */
export function nanNearGoalPolicyModel(options: NanNearGoalOptions): Uint8Array {
  const distance = observationIndex('goal_distance_h');
  const goalN = observationIndex('goal_n');
  const goalE = observationIndex('goal_e');
  const dR = Math.log1p(options.radiusM / OBSERVATION_SCALES.goalDistanceM);
  const eps = Math.log1p(0.01 / OBSERVATION_SCALES.goalDistanceM);

  // [N, 32] -> [N, 3]: the goal direction scaled to the cruise speed.
  const wAction = new Float32Array(OBSERVATION_SIZE * ACTION_SIZE);
  wAction[goalN * ACTION_SIZE + 0] = options.speedFraction;
  wAction[goalE * ACTION_SIZE + 1] = options.speedFraction;
  // [N, 32] -> [N, 1] twice: d - eps and d - dR.
  const wDist = new Float32Array(OBSERVATION_SIZE);
  wDist[distance] = 1;

  return encodeModel({
    name: 'test_nan_near_goal_policy',
    inputs: [{ name: 'observation', dims: [BATCH_DIM, OBSERVATION_SIZE] }],
    outputs: [{ name: 'action', dims: [BATCH_DIM, ACTION_SIZE] }],
    nodes: [
      { op: 'Gemm', inputs: ['observation', 'w_action', 'b_action'], outputs: ['towards_goal'] },
      { op: 'Gemm', inputs: ['observation', 'w_dist', 'b_eps'], outputs: ['above_eps'] },
      { op: 'Gemm', inputs: ['observation', 'w_dist', 'b_radius'], outputs: ['beyond_radius'] },
      { op: 'Mul', inputs: ['above_eps', 'beyond_radius'], outputs: ['product'] },
      { op: 'Sqrt', inputs: ['product'], outputs: ['root'] },
      { op: 'Mul', inputs: ['root', 'zero'], outputs: ['nan_or_zero'] },
      { op: 'Add', inputs: ['towards_goal', 'nan_or_zero'], outputs: ['action'] },
    ],
    initializers: [
      { name: 'w_action', dims: [OBSERVATION_SIZE, ACTION_SIZE], data: wAction },
      { name: 'b_action', dims: [ACTION_SIZE], data: new Float32Array(ACTION_SIZE) },
      { name: 'w_dist', dims: [OBSERVATION_SIZE, 1], data: wDist },
      { name: 'b_eps', dims: [1], data: new Float32Array([-eps]) },
      { name: 'b_radius', dims: [1], data: new Float32Array([-dR]) },
      { name: 'zero', dims: [], data: new Float32Array([0]) },
    ],
    metadata: POLICY_METADATA,
  });
}

/** Write model bytes to a fresh temporary file and return its path. */
export function writeTempModel(bytes: Uint8Array, name = 'policy.onnx'): string {
  const dir = mkdtempSync(join(tmpdir(), 'aerie-model-'));
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/**
 * The hand-written go-to-goal model (shared/policy) as a file: a simple, predictable policy for scenarios about
 * something else than the policy (crashes, stalls, links), so they do not change when the shipped default policy is
 * retrained.
 */
export function goToGoalModelFile(): string {
  return writeTempModel(buildGoToGoalModel(), 'go-to-goal.onnx');
}
