/**
 * Build one contract observation from a drone's state. The same function runs onboard every tick and in the trainer
 * for thousands of simulated drones per step, so it writes into a caller-owned buffer, allocates no arrays, and
 * uses fixed slot offsets resolved once at module load.
 */
import type { Airspace, Ned } from '../geo/index.js';
import { geofenceMargin, zoneClearance } from '../geo/index.js';
import { OBSERVATION_SIZE } from './contract.js';
import {
  NEIGHBOUR_FADE_START_M,
  NEIGHBOUR_RANGE_M,
  observationIndex,
  OBSERVATION_SCALES as S,
  ZONE_VERTICAL_MARGIN_M,
} from './observation-layout.js';

/** Another drone as we know it, in the same local NED frame as ours. */
export interface NeighbourState {
  readonly positionNedM: Ned;
  readonly velocityNedMS: Ned;
}

/** Everything an observation is made of. Positions are NED metres from home; altitudes in Airspace are above home. */
export interface ObservationInput {
  readonly positionNedM: Ned;
  readonly velocityNedMS: Ned;
  /** Roll (rad), right wing down positive. */
  readonly rollRad: number;
  /** Pitch (rad), nose up positive. */
  readonly pitchRad: number;
  /** Yaw (rad), from north towards east. */
  readonly yawRad: number;
  /** Where the policy should fly to now (the current leg's target), NED metres. */
  readonly goalNedM: Ned;
  /** Height above the ground directly below (m); from a range finder or terrain data, else height above home. */
  readonly altitudeAboveGroundM: number;
  /** Estimated wind (air velocity over ground, m/s); null when the vehicle has no estimate. Only n and e are used. */
  readonly windEstimateNedMS: Ned | null;
  readonly airspace: Airspace;
  /** Other drones in any order; the nearest NEIGHBOUR_SLOTS within NEIGHBOUR_RANGE_M are observed. */
  readonly neighbours: readonly NeighbourState[];
  /** Remaining battery charge, 0 (empty) to 1 (full); clamped. */
  readonly batteryRemainingFraction: number;
}

const GOAL_N = observationIndex('goal_n');
const GOAL_E = observationIndex('goal_e');
const GOAL_D = observationIndex('goal_d');
const GOAL_DIST = observationIndex('goal_distance_h');
const VEL_N = observationIndex('velocity_n');
const VEL_E = observationIndex('velocity_e');
const VEL_D = observationIndex('velocity_d');
const ROLL = observationIndex('roll');
const PITCH = observationIndex('pitch');
const YAW_SIN = observationIndex('yaw_sin');
const YAW_COS = observationIndex('yaw_cos');
const AGL = observationIndex('altitude_above_ground');
const WIND_N = observationIndex('wind_n');
const WIND_E = observationIndex('wind_e');
const ZONE_AWAY_N = observationIndex('zone_away_n');
const ZONE_AWAY_E = observationIndex('zone_away_e');
const ZONE_CLEARANCE = observationIndex('zone_clearance');
const FENCE_PUSH_N = observationIndex('fence_push_n');
const FENCE_PUSH_E = observationIndex('fence_push_e');
const NB1 = observationIndex('neighbour1_proximity_n');
const NB2 = observationIndex('neighbour2_proximity_n');
const BATTERY = observationIndex('battery_remaining');

/**
 * Write one observation into `out[offset .. offset + OBSERVATION_SIZE)`. Returns whether every written feature is
 * finite: a false means an input was NaN or infinite, and the caller must not feed the result to a policy.
 */
export function buildObservation(input: ObservationInput, out: Float32Array, offset = 0): boolean {
  const o = offset;
  const p = input.positionNedM;
  const v = input.velocityNedMS;

  // Goal: horizontal vector with its length squashed and direction kept, so a policy linear in these two slots
  // flies straight at the goal; the distance slot keeps the range the squash hides.
  const gn = input.goalNedM.n - p.n;
  const ge = input.goalNedM.e - p.e;
  const goalDistM = Math.sqrt(gn * gn + ge * ge);
  const goalGain = goalDistM > 1e-9 ? Math.tanh(goalDistM / S.goalHorizontalM) / goalDistM : 0;
  out[o + GOAL_N] = gn * goalGain;
  out[o + GOAL_E] = ge * goalGain;
  out[o + GOAL_D] = Math.tanh((input.goalNedM.d - p.d) / S.goalVerticalM);
  out[o + GOAL_DIST] = Math.log1p(goalDistM / S.goalDistanceM);

  out[o + VEL_N] = v.n / S.horizontalSpeedMS;
  out[o + VEL_E] = v.e / S.horizontalSpeedMS;
  out[o + VEL_D] = v.d / S.verticalSpeedMS;

  out[o + ROLL] = input.rollRad / S.attitudeRad;
  out[o + PITCH] = input.pitchRad / S.attitudeRad;
  out[o + YAW_SIN] = Math.sin(input.yawRad);
  out[o + YAW_COS] = Math.cos(input.yawRad);

  out[o + AGL] = Math.tanh(input.altitudeAboveGroundM / S.altitudeAboveGroundM);

  const wind = input.windEstimateNedMS;
  out[o + WIND_N] = wind === null ? 0 : wind.n / S.windMS;
  out[o + WIND_E] = wind === null ? 0 : wind.e / S.windMS;

  writeAirspace(input, out, o);
  writeNeighbours(input, out, o);

  const battery = input.batteryRemainingFraction;
  out[o + BATTERY] = battery < 0 ? 0 : battery > 1 ? 1 : battery;

  for (let i = o; i < o + OBSERVATION_SIZE; i++) {
    if (!Number.isFinite(out[i])) return false;
  }
  return true;
}

function writeAirspace(input: ObservationInput, out: Float32Array, o: number): void {
  const here = input.positionNedM;
  const altitudeM = -here.d;
  const { noFlyZones, geofence } = input.airspace;

  let bestClearanceM = Number.POSITIVE_INFINITY;
  let awayN = 0;
  let awayE = 0;
  for (let i = 0; i < noFlyZones.length; i++) {
    const zone = noFlyZones[i];
    // A zone well above or below us is not in the way now; one within the margin soon could be.
    const floorM = zone.floorM ?? Number.NEGATIVE_INFINITY;
    const topM = zone.topM ?? Number.POSITIVE_INFINITY;
    if (altitudeM < floorM - ZONE_VERTICAL_MARGIN_M || altitudeM > topM + ZONE_VERTICAL_MARGIN_M) continue;
    const c = zoneClearance(here, zone);
    if (c.clearanceM < bestClearanceM) {
      bestClearanceM = c.clearanceM;
      awayN = c.awayNe.n;
      awayE = c.awayNe.e;
    }
  }
  out[o + ZONE_AWAY_N] = awayN;
  out[o + ZONE_AWAY_E] = awayE;
  // tanh(+inf) is 1: no zone reads as one infinitely far away.
  out[o + ZONE_CLEARANCE] = Math.tanh(bestClearanceM / S.zoneClearanceM);

  if (geofence === null || geofence.polygonNeM.length < 3) {
    out[o + FENCE_PUSH_N] = 0;
    out[o + FENCE_PUSH_E] = 0;
  } else {
    const m = geofenceMargin(here, geofence);
    const push = 1 - Math.tanh(m.marginM / S.fenceMarginM);
    out[o + FENCE_PUSH_N] = m.inwardNe.n * push;
    out[o + FENCE_PUSH_E] = m.inwardNe.e * push;
  }
}

function writeNeighbours(input: ObservationInput, out: Float32Array, o: number): void {
  const p = input.positionNedM;
  const list = input.neighbours;
  // The two nearest in range, found in one pass without sorting or allocating.
  let first = -1;
  let second = -1;
  let firstD2 = NEIGHBOUR_RANGE_M * NEIGHBOUR_RANGE_M;
  let secondD2 = firstD2;
  for (let i = 0; i < list.length; i++) {
    const q = list[i].positionNedM;
    const dn = q.n - p.n;
    const de = q.e - p.e;
    const dd = q.d - p.d;
    const d2 = dn * dn + de * de + dd * dd;
    // `<` also skips NaN positions: a neighbour we cannot place is not observed.
    if (d2 < firstD2) {
      second = first;
      secondD2 = firstD2;
      first = i;
      firstD2 = d2;
    } else if (d2 < secondD2) {
      second = i;
      secondD2 = d2;
    }
  }
  writeNeighbour(input, first, out, o + NB1);
  writeNeighbour(input, second, out, o + NB2);
}

/** Six slots: proximity n, e, d, then relative velocity n, e, d; zeros when `index` is -1 (absent). */
function writeNeighbour(input: ObservationInput, index: number, out: Float32Array, at: number): void {
  if (index < 0) {
    out.fill(0, at, at + 6);
    return;
  }
  const p = input.positionNedM;
  const v = input.velocityNedMS;
  const q = input.neighbours[index];
  const dn = q.positionNedM.n - p.n;
  const de = q.positionNedM.e - p.e;
  const dd = q.positionNedM.d - p.d;
  const distM = Math.sqrt(dn * dn + de * de + dd * dd);
  // Two drones at one point have no direction between them; the velocity slots still tell them apart.
  const gain = distM > 1e-9 ? Math.exp(-distM / S.neighbourProximityM) / distM : 0;
  out[at] = dn * gain;
  out[at + 1] = de * gain;
  out[at + 2] = dd * gain;
  // Fade the velocity out towards the range edge, so a neighbour leaving range does not make the features jump.
  const fade =
    distM <= NEIGHBOUR_FADE_START_M ? 1 : (NEIGHBOUR_RANGE_M - distM) / (NEIGHBOUR_RANGE_M - NEIGHBOUR_FADE_START_M);
  const k = fade / S.neighbourRelativeSpeedMS;
  out[at + 3] = (q.velocityNedMS.n - v.n) * k;
  out[at + 4] = (q.velocityNedMS.e - v.e) * k;
  out[at + 5] = (q.velocityNedMS.d - v.d) * k;
}
