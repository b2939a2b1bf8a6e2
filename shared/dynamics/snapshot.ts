/** One vehicle's state copied out of a fleet as plain numbers and tuples: for tests, logs and the scalar use. */
import { AerieError } from '../errors.js';
import type { MultirotorFleet } from './fleet.js';

export type Vec3Tuple = [number, number, number];

/** Every state, environment and input field of one vehicle; units as on MultirotorFleet. */
export interface VehicleSnapshot {
  timeS: number;
  positionNedM: Vec3Tuple;
  velocityNedMS: Vec3Tuple;
  accelerationNedMS2: Vec3Tuple;
  rollRad: number;
  pitchRad: number;
  yawRad: number;
  rollRateRadS: number;
  pitchRateRadS: number;
  yawRateRadS: number;
  thrustRatio: number;
  windNedMS: Vec3Tuple;
  windMeanNedMS: Vec3Tuple;
  gustStdMS: number;
  turbulenceNedMS: Vec3Tuple;
  injectedGustNedMS: Vec3Tuple;
  landed: boolean;
  groundContact: boolean;
  hardImpactCount: number;
  touchdownSpeedMS: number;
  batteryRemaining: number;
  batteryVoltageV: number;
  batteryCurrentA: number;
  batteryPowerW: number;
  energyUsedWh: number;
  batteryFailed: boolean;
  disturbanceEstimateNedMS2: Vec3Tuple;
  landedTimerS: number;
  velocitySetpointNedMS: Vec3Tuple;
  yawSetpointRad: number;
  motorsOn: boolean;
}

const vec = (a: Float64Array, i: number): Vec3Tuple => [a[3 * i], a[3 * i + 1], a[3 * i + 2]];

/** Copy of vehicle i's state. Allocates: for tests, logs and telemetry, not for the training hot loop. */
export function vehicleSnapshot(fleet: MultirotorFleet, i: number): VehicleSnapshot {
  if (!Number.isInteger(i) || i < 0 || i >= fleet.count) {
    throw new AerieError('SITL_SCENARIO_INVALID', `vehicle index must be an integer in [0, ${fleet.count - 1}]`, {
      index: i,
    });
  }
  return {
    timeS: fleet.timeS,
    positionNedM: vec(fleet.positionNedM, i),
    velocityNedMS: vec(fleet.velocityNedMS, i),
    accelerationNedMS2: vec(fleet.accelerationNedMS2, i),
    rollRad: fleet.rollRad[i],
    pitchRad: fleet.pitchRad[i],
    yawRad: fleet.yawRad[i],
    rollRateRadS: fleet.rollRateRadS[i],
    pitchRateRadS: fleet.pitchRateRadS[i],
    yawRateRadS: fleet.yawRateRadS[i],
    thrustRatio: fleet.thrustRatio[i],
    windNedMS: vec(fleet.windNedMS, i),
    windMeanNedMS: vec(fleet.windMeanNedMS, i),
    gustStdMS: fleet.gustStdMS[i],
    turbulenceNedMS: vec(fleet.turbulenceNedMS, i),
    injectedGustNedMS: vec(fleet.injectedGustNedMS, i),
    landed: fleet.landed[i] === 1,
    groundContact: fleet.groundContact[i] === 1,
    hardImpactCount: fleet.hardImpactCount[i],
    touchdownSpeedMS: fleet.touchdownSpeedMS[i],
    batteryRemaining: fleet.batteryRemaining[i],
    batteryVoltageV: fleet.batteryVoltageV[i],
    batteryCurrentA: fleet.batteryCurrentA[i],
    batteryPowerW: fleet.batteryPowerW[i],
    energyUsedWh: fleet.energyUsedWh[i],
    batteryFailed: fleet.batteryFailed[i] === 1,
    disturbanceEstimateNedMS2: vec(fleet.disturbanceEstimateNedMS2, i),
    landedTimerS: fleet.landedTimerS[i],
    velocitySetpointNedMS: vec(fleet.velocitySetpointNedMS, i),
    yawSetpointRad: fleet.yawSetpointRad[i],
    motorsOn: fleet.motorsOn[i] === 1,
  };
}
