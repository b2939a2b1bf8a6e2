/**
 * The teacher for kickstarting (Schmitt et al. 2018): a smooth go-to-goal controller written over the contract
 * observation alone, so a network can copy it exactly. It flies a braking profile to the goal (speed sqrt(2 a d),
 * capped), holds the goal altitude, and leads the measured velocity by at most what the vehicle's lag turns into
 * `leadAccelMS2` of acceleration, so its own setpoint ramps instead of jumping. It keeps clear of the nearest no-fly
 * zone, the geofence and the two nearest drones with the onboard barrier layer's own closing-speed envelope
 * (onboard/safety allowedClosingSpeedMS) taken with a wider margin and a softer deceleration, sliding round a zone in
 * the way rather than stopping in front of it, so the filter has nothing to do. The student's distillation weight
 * falls to zero during training, after which only the constrained-RL objective shapes it.
 */
import { allowedClosingSpeedMS, type BarrierShape, DEFAULT_SAFETY_CONFIG } from '../../../onboard/safety/index.js';
import {
  OBSERVATION_SIZE,
  observationIndex,
  OBSERVATION_SCALES as S,
  type VelocityLimits,
} from '../../../shared/policy/index.js';

export interface TeacherParams {
  /** Cruise speed, m/s. */
  readonly cruiseMS: number;
  /** Deceleration of the braking profile, m/s^2. */
  readonly brakeMS2: number;
  /** How far ahead of the measured velocity the setpoint may be, as an acceleration (lead = this x lag), m/s^2. */
  readonly leadAccelMS2: number;
  /** Lead the speed along the wanted direction ('speed') or the whole velocity vector, turns included ('vector'). */
  readonly lead: 'speed' | 'vector';
  /** The velocity loop's lag, s (shared/dynamics velocityTimeConstantS). */
  readonly lagS: number;
  /** Vertical gain, 1/s, and the stop point short of the goal's centre, m. */
  readonly verticalGainPerS: number;
  readonly stopShortM: number;
  /** Extra clearance the teacher keeps beyond the filter's margins (zone, fence, separation), m. */
  readonly bufferM: number;
  /** The envelope it keeps to: the onboard barrier shape, softer than the filter's so the filter stays quiet. */
  readonly shape: BarrierShape;
  /** The filter's margins it adds its buffer to (onboard safety defaults), m. */
  readonly zoneMarginM: number;
  readonly fenceMarginM: number;
  readonly separationM: number;
}

export const DEFAULT_TEACHER: TeacherParams = Object.freeze({
  cruiseMS: 9,
  brakeMS2: 1.2,
  leadAccelMS2: 1.4,
  lead: 'speed',
  lagS: 0.3,
  verticalGainPerS: 0.8,
  stopShortM: 0.3,
  bufferM: 4,
  shape: { barrierAlphaPerS: 0.5, brakeAccelMS2: 1, trackingLagS: 0.6, recoverySpeedMS: 2 },
  zoneMarginM: DEFAULT_SAFETY_CONFIG.zoneMarginM,
  fenceMarginM: DEFAULT_SAFETY_CONFIG.fenceMarginM,
  separationM: DEFAULT_SAFETY_CONFIG.separationM + DEFAULT_SAFETY_CONFIG.separationMarginM,
});

const GOAL_N = observationIndex('goal_n');
const GOAL_E = observationIndex('goal_e');
const GOAL_D = observationIndex('goal_d');
const GOAL_DIST = observationIndex('goal_distance_h');
const VEL_N = observationIndex('velocity_n');
const VEL_E = observationIndex('velocity_e');
const VEL_D = observationIndex('velocity_d');
const ZONE_AWAY_N = observationIndex('zone_away_n');
const ZONE_AWAY_E = observationIndex('zone_away_e');
const ZONE_CLEARANCE = observationIndex('zone_clearance');
const FENCE_PUSH_N = observationIndex('fence_push_n');
const FENCE_PUSH_E = observationIndex('fence_push_e');
const NEIGHBOURS = [observationIndex('neighbour1_proximity_n'), observationIndex('neighbour2_proximity_n')];

const clamp = (x: number, lo: number, hi: number): number => (x < lo ? lo : x > hi ? hi : x);

const ZONE_FAR = Math.tanh(1);

/**
 * Per-sample weights of the distillation loss: `nearWeight` where a no-fly zone, the geofence's margin or the
 * nearest drone is within `nearM` (read back from the observation's fixed transforms), 1 elsewhere. Those states are
 * a few per cent of the flown ones, and the teacher's way round a zone is what the student most needs to copy.
 */
export function teacherSampleWeights(
  obs: Float32Array,
  n: number,
  nearWeight: number,
  nearM: number,
  out: Float32Array = new Float32Array(n),
): Float32Array {
  // Thresholds on the features themselves: zone clearance tanh(d / scale), fence repulsion 1 - tanh(margin / scale),
  // neighbour proximity exp(-d / scale); all three grow monotonically nearer (the zone's falls).
  const zoneBelow = Math.min(Math.tanh(nearM / S.zoneClearanceM), ZONE_FAR);
  const fenceAbove = 1 - Math.tanh(nearM / S.fenceMarginM);
  const neighbourAbove = Math.exp(-nearM / S.neighbourProximityM);
  for (let i = 0; i < n; i++) {
    const o = i * OBSERVATION_SIZE;
    const near =
      obs[o + ZONE_CLEARANCE] < zoneBelow ||
      Math.hypot(obs[o + FENCE_PUSH_N], obs[o + FENCE_PUSH_E]) > fenceAbove ||
      Math.hypot(obs[o + NEIGHBOURS[0]], obs[o + NEIGHBOURS[0] + 1], obs[o + NEIGHBOURS[0] + 2]) > neighbourAbove;
    out[i] = near ? nearWeight : 1;
  }
  return out;
}

/** The teacher's actions (in [-1, 1], the contract's action) for `n` observations. */
export function teacherActions(
  obs: Float32Array,
  n: number,
  limits: VelocityLimits,
  p: TeacherParams = DEFAULT_TEACHER,
  out: Float32Array = new Float32Array(n * 3),
): Float32Array {
  const leadMS = p.leadAccelMS2 * p.lagS;
  for (let i = 0; i < n; i++) {
    const o = i * OBSERVATION_SIZE;
    // Undo the observation's fixed transforms: horizontal distance, direction, vertical error, velocity.
    const distM = S.goalDistanceM * Math.expm1(obs[o + GOAL_DIST]);
    const gn = obs[o + GOAL_N];
    const ge = obs[o + GOAL_E];
    const g = Math.hypot(gn, ge);
    const dz = S.goalVerticalM * Math.atanh(clamp(obs[o + GOAL_D], -0.999, 0.999));
    const vn = obs[o + VEL_N] * S.horizontalSpeedMS;
    const ve = obs[o + VEL_E] * S.horizontalSpeedMS;
    const vd = obs[o + VEL_D] * S.verticalSpeedMS;
    const speed = Math.min(p.cruiseMS, Math.sqrt(2 * p.brakeMS2 * Math.max(distM - p.stopShortM, 0)));
    const want = { n: g > 1e-9 ? (gn / g) * speed : 0, e: g > 1e-9 ? (ge / g) * speed : 0 };
    keepClear(obs, o, want, { n: vn, e: ve }, p);
    let dn: number;
    let de: number;
    if (p.lead === 'speed') {
      // Lead the measured speed by at most leadMS, keeping the wanted direction: the setpoint's direction never
      // depends on the velocity, so an imperfect copy still points where the teacher does.
      const wantMS = Math.hypot(want.n, want.e);
      const spMS = Math.min(wantMS, Math.hypot(vn, ve) + leadMS);
      dn = wantMS > 1e-9 ? (want.n / wantMS) * spMS - vn : -vn;
      de = wantMS > 1e-9 ? (want.e / wantMS) * spMS - ve : -ve;
    } else {
      // Lead the measured velocity towards the wanted one by at most leadMS (by norm): turns are ramped too.
      dn = want.n - vn;
      de = want.e - ve;
      const dh = Math.hypot(dn, de);
      if (dh > leadMS) {
        dn *= leadMS / dh;
        de *= leadMS / dh;
      }
    }
    const wantD = clamp(p.verticalGainPerS * dz, -limits.maxUpMS, limits.maxDownMS);
    const spD = vd + clamp(wantD - vd, -leadMS, leadMS);
    out[3 * i] = clamp((vn + dn) / limits.maxHorizontalMS, -1, 1);
    out[3 * i + 1] = clamp((ve + de) / limits.maxHorizontalMS, -1, 1);
    out[3 * i + 2] = clamp(spD >= 0 ? spD / limits.maxDownMS : spD / limits.maxUpMS, -1, 1);
  }
  return out;
}

/**
 * Bend the wanted horizontal velocity so it closes on no barrier faster than the teacher's envelope allows: the
 * nearest zone (slide round it, keeping the speed, on the side the goal lies), the geofence (project), and the two
 * nearest drones (slide round them in their own frame).
 */
function keepClear(obs: Float32Array, o: number, want: { n: number; e: number }, v: Ned2, p: TeacherParams): void {
  const zc = obs[o + ZONE_CLEARANCE];
  if (zc < 0.999) {
    const clearanceM = S.zoneClearanceM * Math.atanh(Math.max(zc, -0.999));
    const away = { n: obs[o + ZONE_AWAY_N], e: obs[o + ZONE_AWAY_E] };
    slideRound(want, away, clearanceM - p.zoneMarginM - p.bufferM, p);
  }
  const fn = obs[o + FENCE_PUSH_N];
  const fe = obs[o + FENCE_PUSH_E];
  const push = Math.hypot(fn, fe);
  if (push > 1e-6 && push < 1) {
    const marginM = S.fenceMarginM * Math.atanh(1 - push);
    project(want, { n: fn / push, e: fe / push }, marginM - p.fenceMarginM - p.bufferM, 0, p);
  }
  for (const at of NEIGHBOURS) {
    const pn = obs[o + at];
    const pe = obs[o + at + 1];
    const pd = obs[o + at + 2];
    const prox = Math.hypot(pn, pe, pd);
    if (prox < 1e-9) continue;
    const distM = -S.neighbourProximityM * Math.log(prox);
    const h = Math.hypot(pn, pe);
    if (h < 1e-9) continue;
    // Away from the drone, horizontally; its own velocity (ours plus the relative one) moves the barrier.
    const away = { n: -pn / h, e: -pe / h };
    const k = S.neighbourRelativeSpeedMS;
    const theirN = v.n + obs[o + at + 3] * k;
    const theirE = v.e + obs[o + at + 4] * k;
    // In their frame a drone is a zone that comes to us: slide round it there (keeping the relative speed, so we
    // step aside rather than flee ahead of it along its track), then back to the ground frame.
    const rel = { n: want.n - theirN, e: want.e - theirE };
    slideRound(rel, away, distM - p.separationM - p.bufferM, p);
    want.n = rel.n + theirN;
    want.e = rel.e + theirE;
  }
}

interface Ned2 {
  n: number;
  e: number;
}

/** Limit the closing speed along -away to the envelope at `slackM` (the barrier itself moving away at `movingMS`). */
function project(want: Ned2, away: Ned2, slackM: number, movingMS: number, p: TeacherParams): void {
  const allowedMS = allowedClosingSpeedMS(slackM, p.shape) - movingMS;
  const closingMS = -(want.n * away.n + want.e * away.e);
  if (closingMS <= allowedMS) return;
  const k = closingMS - allowedMS;
  want.n += k * away.n;
  want.e += k * away.e;
}

/** As project, then turn the speed lost along the tangent (towards where the wanted velocity already leans). */
function slideRound(want: Ned2, away: Ned2, slackM: number, p: TeacherParams): void {
  const speed = Math.hypot(want.n, want.e);
  const allowedMS = allowedClosingSpeedMS(slackM, p.shape);
  const closingMS = -(want.n * away.n + want.e * away.e);
  if (closingMS <= allowedMS || speed < 1e-9) return;
  // Tangent: the wanted velocity's part across the away direction; straight at the zone, turn left of it.
  let tn = want.n + closingMS * away.n;
  let te = want.e + closingMS * away.e;
  let t = Math.hypot(tn, te);
  if (t < 1e-3 * speed) {
    tn = -away.e;
    te = away.n;
    t = 1;
  }
  const across = Math.sqrt(Math.max(0, speed * speed - allowedMS * allowedMS));
  want.n = -allowedMS * away.n + (tn / t) * across;
  want.e = -allowedMS * away.e + (te / t) * across;
}
