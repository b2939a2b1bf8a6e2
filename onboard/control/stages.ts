/**
 * The pure stages of a control tick: vehicle state -> mission view, safety view and observation input. Time is
 * passed in; nothing here owns a timer, a socket or a session.
 */
import type { Airspace, Ned } from '../../shared/geo/index.js';
import type { ObservationInput } from '../../shared/policy/index.js';
import type { VehicleState } from '../link/index.js';
import type { MissionPhase, MissionVehicleView } from '../mission/index.js';
import type { Neighbour, MissionPhase as SafetyPhase, SafetyVehicleState } from '../safety/index.js';

/** Position and velocity older than this are not a valid estimate for the mission's checks (ms). */
export const POSITION_VALID_MAX_AGE_MS = 500;

/** GPS_FIX_TYPE_3D_FIX and better. */
const GPS_FIX_3D = 3;

export function ageMs(nowMs: number, timestampMs: number): number {
  return timestampMs === Number.NEGATIVE_INFINITY ? Number.POSITIVE_INFINITY : Math.max(0, nowMs - timestampMs);
}

export function missionView(state: VehicleState, nowMs: number): MissionVehicleView {
  const p = state.positionNedM;
  const v = state.velocityNedMS;
  const fresh = ageMs(nowMs, state.timestampsMs.localPosition) <= POSITION_VALID_MAX_AGE_MS;
  return {
    positionNedM: [p.n, p.e, p.d],
    velocityNedMS: [v.n, v.e, v.d],
    armed: state.armed,
    modeName: state.mode.name,
    landed: state.landedState === 'on-ground',
    batteryRemaining: state.batteryRemaining,
    positionValid: fresh && Number.isFinite(p.n) && Number.isFinite(p.d) && state.gpsFixType >= GPS_FIX_3D,
  };
}

/** A mission view the loop owns and fills in place each tick (the mission reads it during its step, keeps none of it). */
export type MutableMissionView = {
  -readonly [K in keyof MissionVehicleView]: K extends 'positionNedM' | 'velocityNedMS'
    ? [number, number, number]
    : MissionVehicleView[K];
};

export function newMissionView(): MutableMissionView {
  return {
    positionNedM: [Number.NaN, Number.NaN, Number.NaN],
    velocityNedMS: [Number.NaN, Number.NaN, Number.NaN],
    armed: false,
    modeName: '',
    landed: false,
    batteryRemaining: Number.NaN,
    positionValid: false,
  };
}

/** missionView written into `into`; returns it. */
export function missionViewInto(into: MutableMissionView, state: VehicleState, nowMs: number): MissionVehicleView {
  const p = state.positionNedM;
  const v = state.velocityNedMS;
  const fresh = ageMs(nowMs, state.timestampsMs.localPosition) <= POSITION_VALID_MAX_AGE_MS;
  const pos = into.positionNedM;
  pos[0] = p.n;
  pos[1] = p.e;
  pos[2] = p.d;
  const vel = into.velocityNedMS;
  vel[0] = v.n;
  vel[1] = v.e;
  vel[2] = v.d;
  into.armed = state.armed;
  into.modeName = state.mode.name;
  into.landed = state.landedState === 'on-ground';
  into.batteryRemaining = state.batteryRemaining;
  into.positionValid = fresh && Number.isFinite(p.n) && Number.isFinite(p.d) && state.gpsFixType >= GPS_FIX_3D;
  return into;
}

/** A SafetyVehicleState the loop owns and safetyVehicleInto rewrites every tick. */
export type MutableSafetyVehicle = {
  -readonly [K in keyof SafetyVehicleState]: SafetyVehicleState[K];
} & {
  readonly positionNedM: { n: number; e: number; d: number };
  readonly velocityNedMS: { n: number; e: number; d: number };
};

export function newSafetyVehicle(): MutableSafetyVehicle {
  return {
    positionNedM: { n: Number.NaN, e: Number.NaN, d: Number.NaN },
    velocityNedMS: { n: Number.NaN, e: Number.NaN, d: Number.NaN },
    altitudeAboveHomeM: Number.NaN,
    armed: false,
    landed: false,
    batteryRemaining01: Number.NaN,
    batteryVoltageV: Number.NaN,
    gpsFixOk: false,
    positionAgeMs: Number.POSITIVE_INFINITY,
    statusAgeMs: Number.POSITIVE_INFINITY,
  };
}

/** safetyVehicle written into `into` (its vectors in place): the loop's per-tick call, which allocates nothing. */
export function safetyVehicleInto(into: MutableSafetyVehicle, state: VehicleState, nowMs: number): SafetyVehicleState {
  const p = state.positionNedM;
  const position = into.positionNedM;
  if (Number.isFinite(p.n)) {
    position.n = p.n;
    position.e = p.e;
    position.d = p.d;
  } else {
    position.n = Number.NaN;
    position.e = Number.NaN;
    position.d = Number.NaN;
  }
  const velocity = into.velocityNedMS;
  velocity.n = state.velocityNedMS.n;
  velocity.e = state.velocityNedMS.e;
  velocity.d = state.velocityNedMS.d;
  into.altitudeAboveHomeM = -p.d;
  into.armed = state.armed;
  into.landed = state.landedState === 'on-ground';
  into.batteryRemaining01 = state.batteryRemaining;
  into.batteryVoltageV = state.batteryVoltageV;
  into.gpsFixOk = state.gpsFixType >= GPS_FIX_3D;
  into.positionAgeMs = ageMs(nowMs, state.timestampsMs.localPosition);
  into.statusAgeMs = ageMs(nowMs, state.timestampsMs.battery);
  return into;
}

/** The safety filter's view of the vehicle, as a new record (safetyVehicleInto for the loop's own). */
export function safetyVehicle(state: VehicleState, nowMs: number): SafetyVehicleState {
  return safetyVehicleInto(newSafetyVehicle(), state, nowMs);
}

/** The safety filter's coarser view of the mission: the altitude floor applies in cruise only. */
export function safetyPhase(phase: MissionPhase): SafetyPhase {
  switch (phase) {
    case 'cruise-out':
    case 'cruise-back':
      return 'cruise';
    case 'takeoff':
    case 'climb':
      return 'takeoff';
    case 'descend':
    case 'release':
    case 'landing':
    case 'failsafe':
      return 'landing';
    default:
      return 'ground';
  }
}

export type MutableObservationInput = { -readonly [K in keyof ObservationInput]: ObservationInput[K] };

export function observationInput(
  state: VehicleState,
  goalNedM: Ned,
  airspace: Airspace,
  neighbours: readonly Neighbour[],
  windEstimateNedMS: Ned | null,
): ObservationInput {
  return {
    positionNedM: state.positionNedM,
    velocityNedMS: state.velocityNedMS,
    rollRad: state.rollRad,
    pitchRad: state.pitchRad,
    yawRad: state.yawRad,
    goalNedM,
    altitudeAboveGroundM: -state.positionNedM.d,
    windEstimateNedMS,
    airspace,
    neighbours,
    batteryRemainingFraction: Number.isFinite(state.batteryRemaining) ? state.batteryRemaining : 0,
  };
}

/** observationInput written into `into` (the loop's own, reused every tick); returns it. */
export function observationInputInto(
  into: MutableObservationInput,
  state: VehicleState,
  goalNedM: Ned,
  airspace: Airspace,
  neighbours: readonly Neighbour[],
  windEstimateNedMS: Ned | null,
): ObservationInput {
  into.positionNedM = state.positionNedM;
  into.velocityNedMS = state.velocityNedMS;
  into.rollRad = state.rollRad;
  into.pitchRad = state.pitchRad;
  into.yawRad = state.yawRad;
  into.goalNedM = goalNedM;
  into.altitudeAboveGroundM = -state.positionNedM.d;
  into.windEstimateNedMS = windEstimateNedMS;
  into.airspace = airspace;
  into.neighbours = neighbours;
  into.batteryRemainingFraction = Number.isFinite(state.batteryRemaining) ? state.batteryRemaining : 0;
  return into;
}
