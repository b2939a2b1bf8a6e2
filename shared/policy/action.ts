/**
 * The action half of the contract: ACTION_SIZE values in [-1, 1] -> a velocity setpoint NED. Pure.
 *
 * action[0], action[1]: north and east, scaled by the maximum horizontal speed; the horizontal vector is then
 * limited to that speed, so a diagonal action does not fly faster than a straight one (its direction is kept).
 * action[2]: down. Positive scales by the maximum descent speed, negative by the maximum climb speed, because
 * multirotors climb and descend at different safe rates.
 */
import { ACTION_SIZE } from './contract.js';

/** The vehicle's configured speed limits (m/s, all positive). */
export interface VelocityLimits {
  readonly maxHorizontalMS: number;
  readonly maxUpMS: number;
  readonly maxDownMS: number;
}

/** A velocity NED (m/s) as [north, east, down]. */
export type VelocityNedTuple = [number, number, number];

/** A value in [-1, 1]; NaN reads as 0 so a bad component never becomes a setpoint (the runner reports the fault). */
function unitClamp(x: number): number {
  if (x > 1) return 1;
  if (x < -1) return -1;
  return Number.isNaN(x) ? 0 : x;
}

/**
 * Map an action to a velocity setpoint NED (m/s). Writes into `out` when given (no allocation, for the trainer's
 * inner loop) and returns it.
 */
export function actionToVelocityNedMS(
  action: ArrayLike<number>,
  limits: VelocityLimits,
  out: VelocityNedTuple = [0, 0, 0],
): VelocityNedTuple {
  let n = unitClamp(action[0]) * limits.maxHorizontalMS;
  let e = unitClamp(action[1]) * limits.maxHorizontalMS;
  const speedMS = Math.sqrt(n * n + e * e);
  if (speedMS > limits.maxHorizontalMS && speedMS > 0) {
    const k = limits.maxHorizontalMS / speedMS;
    n *= k;
    e *= k;
  }
  const a2 = unitClamp(action[2]);
  out[0] = n;
  out[1] = e;
  out[2] = a2 >= 0 ? a2 * limits.maxDownMS : a2 * limits.maxUpMS;
  return out;
}

/**
 * The action that asks for `velocityNedMS` (the inverse of actionToVelocityNedMS within the limits; beyond them the
 * action saturates). For behaviour cloning and tests.
 */
export function velocityNedMSToAction(
  velocityNedMS: ArrayLike<number>,
  limits: VelocityLimits,
  out: Float32Array = new Float32Array(ACTION_SIZE),
): Float32Array {
  let n = velocityNedMS[0];
  let e = velocityNedMS[1];
  const speedMS = Math.sqrt(n * n + e * e);
  if (speedMS > limits.maxHorizontalMS) {
    const k = limits.maxHorizontalMS / speedMS;
    n *= k;
    e *= k;
  }
  const d = velocityNedMS[2];
  out[0] = unitClamp(n / limits.maxHorizontalMS);
  out[1] = unitClamp(e / limits.maxHorizontalMS);
  out[2] = unitClamp(d >= 0 ? d / limits.maxDownMS : d / limits.maxUpMS);
  return out;
}
