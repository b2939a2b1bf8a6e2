/**
 * How fast the vehicle may close on a barrier, as a function of the slack left (metres beyond the margin). This is
 * the class-K function of the control barrier condition dh/dt >= -U(h - margin), for a vehicle that only follows
 * velocity setpoints with a lag and a bounded deceleration:
 *
 *   U(x) = min( alpha * x,  a * (sqrt(tau^2 + 2x/a) - tau) )      for x >= 0
 *
 * The second term inverts the stopping distance x = u^2 / (2a) + u * tau: from closing speed u, a vehicle that
 * reacts after its tracking lag tau and brakes at a stops within x. Far from a barrier it is the binding term (a
 * linear CBF would let a 12 m/s vehicle run up to 15 m from the margin and then ask for 12 m/s^2); near it the linear
 * term makes the approach gentle. Inside the margin (x < 0), U is negative: the vehicle must move out at
 * alpha * |x|, at most the recovery speed, so the setpoint stays feasible inside the speed box.
 */
import type { SafetyConfig } from './config.js';

export type BarrierShape = Pick<
  SafetyConfig,
  'barrierAlphaPerS' | 'brakeAccelMS2' | 'trackingLagS' | 'recoverySpeedMS'
>;

/** The closing speed allowed at slack `slackM` (m/s; negative means "move away at least this fast"). */
export function allowedClosingSpeedMS(slackM: number, shape: BarrierShape): number {
  const alpha = shape.barrierAlphaPerS;
  if (!(slackM >= 0)) return Math.max(alpha * slackM, -shape.recoverySpeedMS);
  const a = shape.brakeAccelMS2;
  const tau = shape.trackingLagS;
  const stopping = a * (Math.sqrt(tau * tau + (2 * slackM) / a) - tau);
  return Math.min(alpha * slackM, stopping);
}

/** The slack beyond which U reaches `speedMS` (the inverse of allowedClosingSpeedMS for speeds >= 0). */
export function slackForSpeedM(speedMS: number, shape: BarrierShape): number {
  const s = Math.max(0, speedMS);
  const linear = s / shape.barrierAlphaPerS;
  const stopping = (s * s) / (2 * shape.brakeAccelMS2) + s * shape.trackingLagS;
  return Math.max(linear, stopping);
}
