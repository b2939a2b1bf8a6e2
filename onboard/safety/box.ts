/**
 * Layer 2, box: speed limits per axis, on the horizontal norm (direction kept) and vertically (climb and descent
 * apart), then a rate limit on the change from the previous setpoint so the policy cannot slam the vehicle around.
 * The barriers (layer 3) may later change the setpoint faster than the rate limit: stopping in time outranks
 * smoothness, and PX4 still limits the vehicle's acceleration itself.
 */
import type { Ned } from '../../shared/geo/index.js';
import type { SafetyConfig } from './config.js';
import type { Intervention } from './types.js';
import { clamp, distNed, isFiniteNed, MAX_CHANGE_MS, ZERO_NED } from './vec.js';

const cap = (x: number): number => (x < MAX_CHANGE_MS ? x : MAX_CHANGE_MS);

export type SpeedLimits = Pick<
  SafetyConfig,
  'maxHorizontalSpeedMS' | 'maxAxisSpeedMS' | 'maxClimbSpeedMS' | 'maxDescentSpeedMS'
>;
export type RateLimits = Pick<SafetyConfig, 'maxHorizontalAccelMS2' | 'maxVerticalAccelMS2'>;

/** Relative slack for "within limits" checks on floating-point results. */
const LIMIT_TOLERANCE = 1e-9;

/** Whether a setpoint is finite and within every speed limit. */
export function withinSpeedLimits(v: Ned, limits: SpeedLimits): boolean {
  if (!isFiniteNed(v)) return false;
  const axis = limits.maxAxisSpeedMS * (1 + LIMIT_TOLERANCE);
  if (Math.abs(v.n) > axis || Math.abs(v.e) > axis) return false;
  if (Math.hypot(v.n, v.e) > limits.maxHorizontalSpeedMS * (1 + LIMIT_TOLERANCE)) return false;
  return (
    v.d >= -limits.maxClimbSpeedMS * (1 + LIMIT_TOLERANCE) && v.d <= limits.maxDescentSpeedMS * (1 + LIMIT_TOLERANCE)
  );
}

/** Clamp a setpoint into the speed limits; a non-finite one becomes hover. Reports each limit that bit to `out`. */
export function limitSpeed(v: Ned, limits: SpeedLimits, out?: Intervention[]): Ned {
  if (!isFiniteNed(v)) return ZERO_NED;
  return limitSpeedInto(v, limits, out, { n: 0, e: 0, d: 0 });
}

type MutableNed = { n: number; e: number; d: number };

/** limitSpeed of a finite `v` written into `into`. */
function limitSpeedInto(v: Ned, limits: SpeedLimits, out: Intervention[] | undefined, into: MutableNed): Ned {
  const axis = limits.maxAxisSpeedMS;
  let n = clamp(v.n, -axis, axis);
  let e = clamp(v.e, -axis, axis);
  if (n !== v.n || e !== v.e)
    out?.push({ layer: 'box', reason: 'axis_speed_limit', magnitudeMS: cap(Math.hypot(n - v.n, e - v.e)) });
  const h = Math.hypot(n, e);
  if (h > limits.maxHorizontalSpeedMS) {
    const k = limits.maxHorizontalSpeedMS / h;
    out?.push({ layer: 'box', reason: 'horizontal_speed_limit', magnitudeMS: cap(h - limits.maxHorizontalSpeedMS) });
    n *= k;
    e *= k;
  }
  let d = v.d;
  if (d < -limits.maxClimbSpeedMS) {
    out?.push({ layer: 'box', reason: 'climb_speed_limit', magnitudeMS: cap(-limits.maxClimbSpeedMS - d) });
    d = -limits.maxClimbSpeedMS;
  } else if (d > limits.maxDescentSpeedMS) {
    out?.push({ layer: 'box', reason: 'descent_speed_limit', magnitudeMS: cap(d - limits.maxDescentSpeedMS) });
    d = limits.maxDescentSpeedMS;
  }
  into.n = n;
  into.e = e;
  into.d = d;
  return into;
}

/**
 * Limit the change from `previous` to `target` over `dtS` seconds: the horizontal change by norm, the vertical
 * apart. Both ends inside the speed box keeps the result inside it (the box is horizontal set x vertical interval,
 * each convex, and each part moves along its own segment).
 */
export function limitRate(target: Ned, previous: Ned, dtS: number, limits: RateLimits, out?: Intervention[]): Ned {
  const maxH = limits.maxHorizontalAccelMS2 * dtS;
  const maxV = limits.maxVerticalAccelMS2 * dtS;
  let dn = target.n - previous.n;
  let de = target.e - previous.e;
  const dh = Math.hypot(dn, de);
  if (dh > maxH) {
    const k = maxH / dh;
    dn *= k;
    de *= k;
  }
  const dd = clamp(target.d - previous.d, -maxV, maxV);
  const result = { n: previous.n + dn, e: previous.e + de, d: previous.d + dd };
  const change = distNed(result, target);
  if (change > 0) out?.push({ layer: 'box', reason: 'rate_limit', magnitudeMS: cap(change) });
  return result;
}

/**
 * The whole box layer. `previous` is the setpoint sent last tick (clamped into the box first, in case the limits
 * changed); `rateLimit` false skips the rate limit (a brake-to-hover fallback is not smoothed). Interventions are
 * appended to `interventions` (the result's list).
 */
export function applyBox(
  v: Ned,
  previous: Ned,
  dtS: number,
  cfg: SpeedLimits & RateLimits,
  rateLimit: boolean,
  interventions: Intervention[] = [],
): { velocityNedMS: Ned; interventions: Intervention[] } {
  return { velocityNedMS: boxVelocity(v, previous, dtS, cfg, rateLimit, interventions), interventions };
}

/** Scratch for boxVelocity's intermediate vectors (synchronous, never returned). */
const LIMITED: MutableNed = { n: 0, e: 0, d: 0 };
const PREVIOUS_LIMITED: MutableNed = { n: 0, e: 0, d: 0 };

/** applyBox's velocity alone (the filter's call): a new object, with no wrapper or intermediate vectors made. */
export function boxVelocity(
  v: Ned,
  previous: Ned,
  dtS: number,
  cfg: SpeedLimits & RateLimits,
  rateLimit: boolean,
  interventions: Intervention[],
): Ned {
  if (!rateLimit) return limitSpeed(v, cfg, interventions);
  const limited = isFiniteNed(v) ? limitSpeedInto(v, cfg, interventions, LIMITED) : ZERO_NED;
  const base = isFiniteNed(previous) ? limitSpeedInto(previous, cfg, undefined, PREVIOUS_LIMITED) : ZERO_NED;
  return limitRate(limited, base, dtS, cfg, interventions);
}
