/**
 * The vehicle state the control loop reads every tick (built by VehicleStateTracker, state-tracker.ts), with the
 * helpers to copy it and to age its fields. Every field carries its unit; every group its timestamp.
 */
import type { GeoPoint } from '../../shared/geo/index.js';
import type { LinkCounters } from '../../shared/mavlink/index.js';

/** Where a MAVLink message came from. */
export interface MavlinkSource {
  readonly sysid: number;
  readonly compid: number;
}

/** MAV_LANDED_STATE as names. */
export type LandedState = 'unknown' | 'on-ground' | 'in-air' | 'takeoff' | 'landing';
export const LANDED_STATES: readonly LandedState[] = ['unknown', 'on-ground', 'in-air', 'takeoff', 'landing'];

/** A PX4 mode: main and sub mode as in HEARTBEAT.custom_mode, its operator name ('OFFBOARD', 'AUTO.LAND'...). */
export interface ModeState {
  main: number;
  sub: number;
  name: string;
  /** The raw custom_mode (bits 16-23 main, 24-31 sub); 0 when unknown. */
  customMode: number;
}

/** A mutable NED vector (metres or m/s, as the field using it says). */
export interface NedVector {
  n: number;
  e: number;
  d: number;
}

/** A mutable geodetic point: degrees, metres above mean sea level. */
export interface GeoPosition {
  latDeg: number;
  lonDeg: number;
  altAmslM: number;
}

/**
 * When each field was last updated, in the injected clock's ms. -Infinity when never, so an age computed as
 * `now - timestamp` is Infinity and every "is it fresh?" check fails closed.
 */
export interface VehicleTimestampsMs {
  heartbeat: number;
  localPosition: number;
  attitude: number;
  armed: number;
  mode: number;
  intendedMode: number;
  landedState: number;
  battery: number;
  gps: number;
  home: number;
  globalPosition: number;
}

export type TimestampedField = keyof VehicleTimestampsMs;

export interface VehicleState {
  /** The autopilot this state describes (null until its first HEARTBEAT). */
  autopilot: MavlinkSource | null;
  /** Local position, NED metres from the EKF origin (LOCAL_POSITION_NED). NaN until known. */
  positionNedM: NedVector;
  /** Velocity, NED m/s (LOCAL_POSITION_NED). NaN until known. */
  velocityNedMS: NedVector;
  /** Attitude, radians (roll/pitch in [-pi/2..pi/2]/[-pi..pi], yaw in [-pi..pi], 0 = north). NaN until known. */
  rollRad: number;
  pitchRad: number;
  yawRad: number;
  /** Which message last set the attitude. */
  attitudeSource: 'none' | 'ATTITUDE' | 'ATTITUDE_QUATERNION';
  /** HEARTBEAT base_mode SAFETY_ARMED. */
  armed: boolean;
  /** The mode PX4 is in: from HEARTBEAT.custom_mode or CURRENT_MODE, whichever arrived last. */
  mode: ModeState;
  modeSource: 'none' | 'HEARTBEAT' | 'CURRENT_MODE';
  /** The mode the user asked for (CURRENT_MODE.intended_custom_mode); differs from `mode` during a failsafe. */
  intendedMode: ModeState;
  /** HEARTBEAT system_status (MAV_STATE: 3 standby, 4 active, 5 critical, 6 emergency); NaN until known. */
  systemStatus: number;
  /** EXTENDED_SYS_STATE landed state. */
  landedState: LandedState;
  /** Battery charge left, 0..1; NaN when unknown (BATTERY_STATUS id 0 or SYS_STATUS, whichever arrived last). */
  batteryRemaining: number;
  /** Battery voltage, volts; NaN when unknown. */
  batteryVoltageV: number;
  /** GPS_RAW_INT fix type (GPS_FIX_TYPE: 0 no GPS, 1 no fix, 2 2D, 3 3D, 4 DGPS, 5 RTK float, 6 RTK fixed). */
  gpsFixType: number;
  /** Satellites visible; NaN when unknown. */
  satellites: number;
  /** Home (HOME_POSITION), null until known. A new object whenever home moves. */
  home: GeoPoint | null;
  /** Fused global position (GLOBAL_POSITION_INT), null until known. */
  globalPosition: GeoPosition | null;
  /** Height above home, metres (GLOBAL_POSITION_INT.relative_alt); NaN until known. */
  relativeAltitudeM: number;
  timestampsMs: VehicleTimestampsMs;
  /** Time since the autopilot's last HEARTBEAT at the last read/snapshot, ms (Infinity when never). */
  heartbeatAgeMs: number;
  /** The link's counters (live object, owned by the MavlinkLink), when a link feeds this tracker. */
  linkCounters: LinkCounters | null;
}

/** Bits returned by `feed`: what the message changed. */
export const STATE_CHANGE = {
  HEARTBEAT: 1 << 0,
  AUTOPILOT_FOUND: 1 << 1,
  ARMED: 1 << 2,
  MODE: 1 << 3,
  LANDED_STATE: 1 << 4,
  LOCAL_POSITION: 1 << 5,
  ATTITUDE: 1 << 6,
  BATTERY: 1 << 7,
  GPS: 1 << 8,
  HOME: 1 << 9,
  GLOBAL_POSITION: 1 << 10,
} as const;

/** Message ids the tracker reads (for registering listeners on a link). */
export const TRACKED_MESSAGE_IDS = {
  HEARTBEAT: 0,
  SYS_STATUS: 1,
  GPS_RAW_INT: 24,
  ATTITUDE: 30,
  ATTITUDE_QUATERNION: 31,
  LOCAL_POSITION_NED: 32,
  GLOBAL_POSITION_INT: 33,
  BATTERY_STATUS: 147,
  HOME_POSITION: 242,
  EXTENDED_SYS_STATE: 245,
  CURRENT_MODE: 436,
} as const;

/**
 * The fields the tracker reads of each tracked message (node-mavlink's names): what the link decodes in place.
 */
export const TRACKED_FIELDS: Readonly<Record<keyof typeof TRACKED_MESSAGE_IDS, readonly string[]>> = {
  HEARTBEAT: ['type', 'autopilot', 'baseMode', 'customMode', 'systemStatus'],
  SYS_STATUS: ['voltageBattery', 'batteryRemaining'],
  GPS_RAW_INT: ['fixType', 'satellitesVisible'],
  ATTITUDE: ['roll', 'pitch', 'yaw'],
  ATTITUDE_QUATERNION: ['q1', 'q2', 'q3', 'q4'],
  LOCAL_POSITION_NED: ['x', 'y', 'z', 'vx', 'vy', 'vz'],
  GLOBAL_POSITION_INT: ['lat', 'lon', 'alt', 'relativeAlt'],
  BATTERY_STATUS: ['id', 'batteryRemaining', 'voltages', 'voltagesExt'],
  HOME_POSITION: ['latitude', 'longitude', 'altitude'],
  EXTENDED_SYS_STATE: ['landedState'],
  CURRENT_MODE: ['customMode', 'intendedCustomMode'],
};

const newMode = (): ModeState => ({ main: 0, sub: 0, name: 'UNKNOWN', customMode: 0 });

export function newVehicleState(): VehicleState {
  return {
    autopilot: null,
    positionNedM: { n: Number.NaN, e: Number.NaN, d: Number.NaN },
    velocityNedMS: { n: Number.NaN, e: Number.NaN, d: Number.NaN },
    rollRad: Number.NaN,
    pitchRad: Number.NaN,
    yawRad: Number.NaN,
    attitudeSource: 'none',
    armed: false,
    mode: newMode(),
    modeSource: 'none',
    intendedMode: newMode(),
    systemStatus: Number.NaN,
    landedState: 'unknown',
    batteryRemaining: Number.NaN,
    batteryVoltageV: Number.NaN,
    gpsFixType: 0,
    satellites: Number.NaN,
    home: null,
    globalPosition: null,
    relativeAltitudeM: Number.NaN,
    timestampsMs: {
      heartbeat: -Infinity,
      localPosition: -Infinity,
      attitude: -Infinity,
      armed: -Infinity,
      mode: -Infinity,
      intendedMode: -Infinity,
      landedState: -Infinity,
      battery: -Infinity,
      gps: -Infinity,
      home: -Infinity,
      globalPosition: -Infinity,
    },
    heartbeatAgeMs: Number.POSITIVE_INFINITY,
    linkCounters: null,
  };
}

/** Age of one field at `nowMs`, ms (Infinity when never updated). */
export function fieldAgeMs(state: Pick<VehicleState, 'timestampsMs'>, field: TimestampedField, nowMs: number): number {
  return nowMs - state.timestampsMs[field];
}

/** Copy `src` into `dst` in place (vectors and modes too), so `dst` stays stable while `src` moves on. */
export function copyVehicleState(src: VehicleState, dst: VehicleState): VehicleState {
  dst.autopilot = src.autopilot;
  copyNed(src.positionNedM, dst.positionNedM);
  copyNed(src.velocityNedMS, dst.velocityNedMS);
  dst.rollRad = src.rollRad;
  dst.pitchRad = src.pitchRad;
  dst.yawRad = src.yawRad;
  dst.attitudeSource = src.attitudeSource;
  dst.armed = src.armed;
  copyMode(src.mode, dst.mode);
  dst.modeSource = src.modeSource;
  copyMode(src.intendedMode, dst.intendedMode);
  dst.systemStatus = src.systemStatus;
  dst.landedState = src.landedState;
  dst.batteryRemaining = src.batteryRemaining;
  dst.batteryVoltageV = src.batteryVoltageV;
  dst.gpsFixType = src.gpsFixType;
  dst.satellites = src.satellites;
  dst.home = src.home; // immutable: replaced, never written
  if (src.globalPosition === null) dst.globalPosition = null;
  else {
    dst.globalPosition ??= { latDeg: 0, lonDeg: 0, altAmslM: 0 };
    dst.globalPosition.latDeg = src.globalPosition.latDeg;
    dst.globalPosition.lonDeg = src.globalPosition.lonDeg;
    dst.globalPosition.altAmslM = src.globalPosition.altAmslM;
  }
  dst.relativeAltitudeM = src.relativeAltitudeM;
  Object.assign(dst.timestampsMs, src.timestampsMs);
  dst.heartbeatAgeMs = src.heartbeatAgeMs;
  dst.linkCounters = src.linkCounters;
  return dst;
}

function copyNed(src: NedVector, dst: NedVector): void {
  dst.n = src.n;
  dst.e = src.e;
  dst.d = src.d;
}

function copyMode(src: ModeState, dst: ModeState): void {
  dst.main = src.main;
  dst.sub = src.sub;
  dst.name = src.name;
  dst.customMode = src.customMode;
}

/** Euler angles (roll, pitch, yaw; radians, ZYX as PX4 uses) of a unit quaternion w, x, y, z. */
export function quaternionToEuler(w: number, x: number, y: number, z: number): [number, number, number] {
  const roll = Math.atan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y));
  const sinPitch = 2 * (w * y - z * x);
  const pitch = Math.asin(Math.max(-1, Math.min(1, sinPitch)));
  const yaw = Math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z));
  return [roll, pitch, yaw];
}
