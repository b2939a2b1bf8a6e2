/**
 * Telemetry messages built from the simulated vehicle, field by field as PX4 v1.15.4 fills them (values that a
 * simulator cannot know, such as sensor bits and accuracies, are copied from the recorded PX4 conversation).
 * Builders return null when PX4 would not send the message now (no global position before the estimator is ready).
 */
import type { MultirotorFleet } from '../../shared/dynamics/index.js';
import { type GeoPoint, nedToGeo, radToDeg } from '../../shared/geo/index.js';
import { common, type MavLinkData, minimal } from '../../shared/mavlink/index.js';
import type { Commander } from './commander.js';
import { baseModeOf, customModeOf, standardModeOf } from './modes.js';
import { MSG } from './streams.js';

/** What the builders read: one vehicle (index 0 of its own dynamics fleet) and its commander. */
export interface TelemetrySource {
  readonly sysid: number;
  /** Simulated seconds since boot. */
  readonly timeS: number;
  readonly body: MultirotorFleet;
  readonly commander: Commander;
  readonly home: GeoPoint;
  readonly gpsOk: boolean;
}

const MAV_TYPE_QUADROTOR = 2;
const MAV_AUTOPILOT_PX4 = 12;
/** SYS_STATUS sensor words as recorded: gyro, mag, baro, AHRS, battery present; GPS once the estimator uses it. */
const SENSORS_PRESENT = 0x0220000d;
const SENSOR_GPS = 0x20;
const SENSOR_RC = 0x10000;
const SENSOR_BATTERY = 0x2000000;
/** Health as recorded: the present sensors plus motor outputs (0x8000); PREARM_CHECK added when the checks pass. */
const SENSORS_HEALTHY = 0x2220803f;
const SENSOR_PREARM_CHECK = 0x10000000;

const timeBootMs = (s: TelemetrySource): number => Math.floor(s.timeS * 1000) >>> 0;
const timeBootUs = (s: TelemetrySource): bigint => BigInt(Math.floor(s.timeS * 1e6));
const int16 = (v: number): number => Math.max(-32768, Math.min(32767, Math.round(v)));
const uint16 = (v: number): number => Math.max(0, Math.min(65535, Math.round(v)));

function geo(s: TelemetrySource): GeoPoint {
  const p = s.body.positionNedM;
  return nedToGeo(s.home, { n: p[0], e: p[1], d: p[2] });
}

function headingDeg(s: TelemetrySource): number {
  return (radToDeg(s.body.yawRad[0]) + 360) % 360;
}

export function heartbeat(s: TelemetrySource): MavLinkData {
  const c = s.commander;
  const m = new minimal.Heartbeat();
  m.type = MAV_TYPE_QUADROTOR as minimal.MavType;
  m.autopilot = MAV_AUTOPILOT_PX4 as minimal.MavAutopilot;
  m.baseMode = baseModeOf(c.navState, c.armed) as minimal.MavModeFlag;
  m.customMode = customModeOf(c.navState);
  m.systemStatus = c.systemStatus as minimal.MavState;
  m.mavlinkVersion = 3;
  return m;
}

export function currentMode(s: TelemetrySource): MavLinkData {
  const c = s.commander;
  const m = new common.CurrentMode();
  m.standardMode = standardModeOf(c.userMode) as common.MavStandardMode;
  m.customMode = customModeOf(c.navState);
  m.intendedCustomMode = customModeOf(c.userMode);
  return m;
}

function batteryPercent(s: TelemetrySource): number {
  return s.body.batteryFailed[0] ? 0 : Math.round(s.body.batteryRemaining[0] * 100);
}

export function sysStatus(s: TelemetrySource): MavLinkData {
  const c = s.commander;
  const m = new common.SysStatus();
  const gpsUsed = c.estimatorReady ? SENSOR_GPS : 0;
  m.onboardControlSensorsPresent = (SENSORS_PRESENT | gpsUsed) as common.MavSysStatusSensor;
  m.onboardControlSensorsEnabled = (SENSORS_PRESENT | gpsUsed | SENSOR_RC) as common.MavSysStatusSensor;
  let health = SENSORS_HEALTHY;
  if (!s.gpsOk) health &= ~SENSOR_GPS;
  if (s.body.batteryFailed[0] || c.battery >= 2) health &= ~SENSOR_BATTERY;
  if (c.prearmOk) health |= SENSOR_PREARM_CHECK;
  m.onboardControlSensorsHealth = (health >>> 0) as common.MavSysStatusSensor;
  m.load = 250;
  m.voltageBattery = uint16(s.body.batteryVoltageV[0] * 1000);
  m.currentBattery = int16(s.body.batteryCurrentA[0] * 100);
  m.batteryRemaining = batteryPercent(s);
  m.onboardControlSensorsHealthExtended = 1 as common.MavSysStatusSensorExtended;
  return m;
}

export function extendedSysState(s: TelemetrySource): MavLinkData {
  const m = new common.ExtendedSysState();
  m.vtolState = 0 as common.MavVtolState;
  m.landedState = s.commander.landedState as common.MavLandedState;
  return m;
}

export function localPositionNed(s: TelemetrySource): MavLinkData {
  const p = s.body.positionNedM;
  const v = s.body.velocityNedMS;
  const m = new common.LocalPositionNed();
  m.timeBootMs = timeBootMs(s);
  m.x = p[0];
  m.y = p[1];
  m.z = p[2];
  m.vx = v[0];
  m.vy = v[1];
  m.vz = v[2];
  return m;
}

export function altitude(s: TelemetrySource): MavLinkData {
  const d = s.body.positionNedM[2];
  const m = new common.Altitude();
  m.timeUsec = timeBootUs(s);
  m.altitudeMonotonic = s.home.altAmslM - d;
  m.altitudeAmsl = s.home.altAmslM - d;
  m.altitudeLocal = -d;
  m.altitudeRelative = -d;
  m.altitudeTerrain = -d;
  m.bottomClearance = -d;
  return m;
}

export function vfrHud(s: TelemetrySource): MavLinkData {
  const v = s.body.velocityNedMS;
  const m = new common.VfrHud();
  m.airspeed = 0;
  m.groundspeed = Math.hypot(v[0], v[1]);
  m.heading = Math.round(headingDeg(s)) % 360;
  m.throttle = s.commander.armed ? Math.round(Math.min(1, s.body.thrustRatio[0] / 2) * 100) : 0;
  m.alt = s.home.altAmslM - s.body.positionNedM[2];
  m.climb = -v[2];
  return m;
}

export function positionTargetLocalNed(s: TelemetrySource): MavLinkData {
  const m = new common.PositionTargetLocalNed();
  m.timeBootMs = timeBootMs(s);
  m.coordinateFrame = 1 as common.MavFrame;
  const t = s.commander.target;
  if (!s.commander.armed || t === null || t.typeMask === 63) {
    // Disarmed PX4 reports an idle thrust target: positions and velocities NaN, afz 100 (recorded).
    m.typeMask = 63 as common.PositionTargetTypemask;
    m.x = m.y = m.z = m.vx = m.vy = m.vz = Number.NaN;
    m.afx = 0;
    m.afy = 0;
    m.afz = 100;
    m.yaw = s.body.yawRad[0];
    m.yawRate = 0;
    return m;
  }
  m.typeMask = t.typeMask as common.PositionTargetTypemask;
  [m.x, m.y, m.z] = t.positionNedM;
  [m.vx, m.vy, m.vz] = t.velocityNedMS;
  m.afx = 0;
  m.afy = 0;
  m.afz = 0;
  m.yaw = t.yawRad;
  m.yawRate = 0;
  return m;
}

export function gpsRawInt(s: TelemetrySource): MavLinkData {
  const g = geo(s);
  const v = s.body.velocityNedMS;
  const m = new common.GpsRawInt();
  m.timeUsec = timeBootUs(s);
  if (!s.gpsOk) {
    m.fixType = 1 as common.GpsFixType; // NO_FIX: the receiver is there, the position is not
    m.eph = 65535;
    m.epv = 65535;
    m.cog = 65535;
    return m;
  }
  m.fixType = 3 as common.GpsFixType;
  m.lat = Math.round(g.latDeg * 1e7);
  m.lon = Math.round(g.lonDeg * 1e7);
  m.alt = Math.round(g.altAmslM * 1000);
  m.eph = 70;
  m.epv = 110;
  m.vel = uint16(Math.hypot(v[0], v[1]) * 100);
  m.cog = uint16(((radToDeg(Math.atan2(v[1], v[0])) + 360) % 360) * 100) % 36000;
  m.satellitesVisible = 10;
  m.altEllipsoid = m.alt;
  m.hAcc = 900;
  m.vAcc = 1780;
  m.velAcc = 400;
  return m;
}

export function batteryStatus(s: TelemetrySource): MavLinkData {
  const m = new common.BatteryStatus();
  m.id = 0;
  m.batteryFunction = 1 as common.MavBatteryFunction;
  m.type = 1 as common.MavBatteryType;
  m.temperature = 32767;
  m.voltages = [
    uint16(s.body.batteryVoltageV[0] * 1000),
    65535,
    65535,
    65535,
    65535,
    65535,
    65535,
    65535,
    65535,
    65535,
  ];
  m.currentBattery = int16(s.body.batteryCurrentA[0] * 100);
  m.currentConsumed = 0;
  m.energyConsumed = Math.round(s.body.energyUsedWh[0] * 36); // hJ
  m.batteryRemaining = batteryPercent(s);
  m.timeRemaining = 0;
  // MAV_BATTERY_CHARGE_STATE: OK 1, LOW 2, CRITICAL 3, EMERGENCY 4, FAILED 5.
  m.chargeState = (s.body.batteryFailed[0] ? 5 : 1 + s.commander.battery) as common.MavBatteryChargeState;
  m.voltagesExt = [0, 0, 0, 0];
  m.mode = 0 as common.MavBatteryMode;
  m.faultBitmask = 0 as common.MavBatteryFault;
  return m;
}

export function homePosition(s: TelemetrySource): MavLinkData {
  const m = new common.HomePosition();
  m.latitude = Math.round(s.home.latDeg * 1e7);
  m.longitude = Math.round(s.home.lonDeg * 1e7);
  m.altitude = Math.round(s.home.altAmslM * 1000);
  m.x = 0;
  m.y = 0;
  m.z = 0;
  m.q = [1, 0, 0, 0];
  m.approachX = 0;
  m.approachY = 0;
  m.approachZ = 0;
  m.timeUsec = timeBootUs(s);
  return m;
}

export function attitude(s: TelemetrySource): MavLinkData {
  const b = s.body;
  const m = new common.Attitude();
  m.timeBootMs = timeBootMs(s);
  m.roll = b.rollRad[0];
  m.pitch = b.pitchRad[0];
  m.yaw = b.yawRad[0];
  m.rollspeed = b.rollRateRadS[0];
  m.pitchspeed = b.pitchRateRadS[0];
  m.yawspeed = b.yawRateRadS[0];
  return m;
}

export function attitudeQuaternion(s: TelemetrySource): MavLinkData {
  const b = s.body;
  const [cr, sr] = [Math.cos(b.rollRad[0] / 2), Math.sin(b.rollRad[0] / 2)];
  const [cp, sp] = [Math.cos(b.pitchRad[0] / 2), Math.sin(b.pitchRad[0] / 2)];
  const [cy, sy] = [Math.cos(b.yawRad[0] / 2), Math.sin(b.yawRad[0] / 2)];
  const m = new common.AttitudeQuaternion();
  m.timeBootMs = timeBootMs(s);
  m.q1 = cr * cp * cy + sr * sp * sy;
  m.q2 = sr * cp * cy - cr * sp * sy;
  m.q3 = cr * sp * cy + sr * cp * sy;
  m.q4 = cr * cp * sy - sr * sp * cy;
  m.rollspeed = b.rollRateRadS[0];
  m.pitchspeed = b.pitchRateRadS[0];
  m.yawspeed = b.yawRateRadS[0];
  m.reprOffsetQ = [0, 0, 0, 0];
  return m;
}

export function globalPositionInt(s: TelemetrySource): MavLinkData | null {
  if (!s.commander.positionValid) return null;
  const g = geo(s);
  const v = s.body.velocityNedMS;
  const m = new common.GlobalPositionInt();
  m.timeBootMs = timeBootMs(s);
  m.lat = Math.round(g.latDeg * 1e7);
  m.lon = Math.round(g.lonDeg * 1e7);
  m.alt = Math.round(g.altAmslM * 1000);
  m.relativeAlt = Math.round(-s.body.positionNedM[2] * 1000);
  m.vx = int16(v[0] * 100);
  m.vy = int16(v[1] * 100);
  m.vz = int16(v[2] * 100);
  m.hdg = uint16(headingDeg(s) * 100) % 36000;
  return m;
}

/** Builders by message id: the streams and what REQUEST_MESSAGE can ask for. */
export const TELEMETRY: ReadonlyMap<number, (s: TelemetrySource) => MavLinkData | null> = new Map<
  number,
  (s: TelemetrySource) => MavLinkData | null
>([
  [MSG.HEARTBEAT, heartbeat],
  [MSG.SYS_STATUS, sysStatus],
  [MSG.GPS_RAW_INT, gpsRawInt],
  [MSG.ATTITUDE, attitude],
  [MSG.ATTITUDE_QUATERNION, attitudeQuaternion],
  [MSG.LOCAL_POSITION_NED, localPositionNed],
  [MSG.GLOBAL_POSITION_INT, globalPositionInt],
  [MSG.VFR_HUD, vfrHud],
  [MSG.POSITION_TARGET_LOCAL_NED, positionTargetLocalNed],
  [MSG.ALTITUDE, altitude],
  [MSG.BATTERY_STATUS, batteryStatus],
  [MSG.HOME_POSITION, homePosition],
  [MSG.EXTENDED_SYS_STATE, extendedSysState],
  [MSG.CURRENT_MODE, currentMode],
]);
