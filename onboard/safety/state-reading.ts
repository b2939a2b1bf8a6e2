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
  const p = vehicle?.positionNedM;
  const v = vehicle?.velocityNedMS;
  const velocityValid = isFiniteNed(v);
  const velocity = velocityValid ? v : ZERO_NED;
  const altitude = finite(vehicle?.altitudeAboveHomeM) ? vehicle.altitudeAboveHomeM : finite(p?.d) ? -p.d : Number.NaN;
  const valid = isFiniteNed(p) && Number.isFinite(altitude);
  if (!valid) return { valid, positionNedM: ZERO_NED, altitudeM: Number.NaN, velocityNedMS: velocity, velocityValid };
  const age = vehicle?.positionAgeMs;
  const ageS =
    (finite(age) && age > 0
      ? Math.min(age, extrapolationMaxMs)
      : age === Number.POSITIVE_INFINITY
        ? extrapolationMaxMs
        : 0) / 1000;
  return {
    valid,
    positionNedM: { n: p.n + velocity.n * ageS, e: p.e + velocity.e * ageS, d: p.d + velocity.d * ageS },
    altitudeM: altitude - velocity.d * ageS,
    velocityNedMS: velocity,
    velocityValid,
  };
}
