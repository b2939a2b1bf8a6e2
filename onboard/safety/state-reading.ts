/**
 * The filter's view of the vehicle state: checked for numbers, and the position carried forward over its age so the
 * barriers judge where the vehicle is now, not where it was when LOCAL_POSITION_NED was sent.
 */
import type { Ned } from '../../shared/geo/index.js';
import type { SafetyVehicleState } from './types.js';
import { isFiniteNed, ZERO_NED } from './vec.js';

export interface StateReading {
  /** Position and altitude are finite: the barriers can be evaluated. */
  readonly valid: boolean;
  /** Position extrapolated over its age (NED m); meaningful only when valid. */
  readonly positionNedM: Ned;
  /** Altitude above home extrapolated over its age (m). */
  readonly altitudeM: number;
  /** Velocity estimate, or zero when not finite (NED m/s). */
  readonly velocityNedMS: Ned;
  readonly velocityValid: boolean;
}

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

export function readState(vehicle: SafetyVehicleState | null | undefined, extrapolationMaxMs: number): StateReading {
  return readStateInto(vehicle, extrapolationMaxMs, newStateReading());
}

/** A StateReading the caller owns, for readStateInto. */
export type StateReadingRecord = {
  valid: boolean;
  readonly positionNedM: { n: number; e: number; d: number };
  altitudeM: number;
  velocityNedMS: Ned;
  velocityValid: boolean;
};

export function newStateReading(): StateReadingRecord {
  return {
    valid: false,
    positionNedM: { n: 0, e: 0, d: 0 },
    altitudeM: Number.NaN,
    velocityNedMS: ZERO_NED,
    velocityValid: false,
  };
}

/**
 * readState into a caller-owned record (its position rewritten in place): the filter's call, which allocates
 * nothing. `velocityNedMS` is the vehicle's own object (or ZERO_NED).
 */
export function readStateInto(
  vehicle: SafetyVehicleState | null | undefined,
  extrapolationMaxMs: number,
  into: StateReadingRecord,
): StateReadingRecord {
  const p = vehicle?.positionNedM;
  const v = vehicle?.velocityNedMS;
  const velocityValid = isFiniteNed(v);
  const velocity = velocityValid ? v : ZERO_NED;
  const altitude = finite(vehicle?.altitudeAboveHomeM) ? vehicle.altitudeAboveHomeM : finite(p?.d) ? -p.d : Number.NaN;
  const valid = isFiniteNed(p) && Number.isFinite(altitude);
  into.valid = valid;
  into.velocityNedMS = velocity;
  into.velocityValid = velocityValid;
  const position = into.positionNedM;
  if (!valid) {
    position.n = 0;
    position.e = 0;
    position.d = 0;
    into.altitudeM = Number.NaN;
    return into;
  }
  const age = vehicle?.positionAgeMs;
  const ageS =
    (finite(age) && age > 0
      ? Math.min(age, extrapolationMaxMs)
      : age === Number.POSITIVE_INFINITY
        ? extrapolationMaxMs
        : 0) / 1000;
  position.n = p.n + velocity.n * ageS;
  position.e = p.e + velocity.e * ageS;
  position.d = p.d + velocity.d * ageS;
  into.altitudeM = altitude - velocity.d * ageS;
  return into;
}
