/**
 * The pure tracker that builds the VehicleState from decoded MAVLink messages and the time they arrived. No I/O, no
 * timers: feed it messages and a time, read the state.
 *
 * Allocation: the tracker updates one state object in place (vectors included), so a 50 Hz stream of three
 * messages costs no garbage. `snapshot(nowMs, into)` copies into a caller-owned object for a stable per-tick view.
 */
import type { common, DecodedFields, LinkCounters, MavLinkData, minimal } from '../../shared/mavlink/index.js';
import { decodeCustomMode, MAV_MODE_FLAG, modeName } from '../../shared/mavlink/index.js';
import {
  copyVehicleState,
  LANDED_STATES,
  type MavlinkSource,
  type ModeState,
  newVehicleState,
  quaternionToEuler,
  STATE_CHANGE,
  TRACKED_MESSAGE_IDS,
  type VehicleState,
} from './vehicle-state.js';

/** MAV_AUTOPILOT_PX4. */
const MAV_AUTOPILOT_PX4 = 12;
/** MAV_TYPEs that send HEARTBEATs but are not a vehicle's flight controller. */
const NOT_AN_AUTOPILOT = new Set([
  6, // GCS
  18, // ONBOARD_CONTROLLER
  26, // GIMBAL
  27, // ADSB
  30, // CAMERA
  31, // CHARGING_STATION
  32, // FLARM
  33, // SERVO
  34, // ODID
  36, // BATTERY
  37, // PARACHUTE
  38, // LOG
  39, // OSD
  40, // IMU
  41, // GPS
  42, // WINCH
]);
const UINT16_UNKNOWN = 0xffff;

export interface TrackerOptions {
  /** Only follow this autopilot system id; 0 or absent = the first PX4 autopilot heard. */
  readonly autopilotSysid?: number;
  /** Counters of the link feeding the tracker, shown in the state. */
  readonly linkCounters?: LinkCounters;
}

/**
 * Builds the VehicleState from telemetry. Until an autopilot's HEARTBEAT has been heard, other messages are ignored
 * (and counted): a field is never filled from a system we have not identified as the PX4 we fly.
 */
export class VehicleStateTracker {
  readonly counters = { messages: 0, ignored: 0 };
  private readonly s: VehicleState = newVehicleState();
  private readonly wantedSysid: number;

  constructor(options: TrackerOptions = {}) {
    this.wantedSysid = options.autopilotSysid ?? 0;
    this.s.linkCounters = options.linkCounters ?? null;
  }

  /** The live state (updated in place as messages arrive). Do not write to it; use snapshot() for a stable copy. */
  get state(): Readonly<VehicleState> {
    return this.s;
  }

  get autopilot(): MavlinkSource | null {
    return this.s.autopilot;
  }

  /** The live state with heartbeatAgeMs brought up to `nowMs`. */
  read(nowMs: number): Readonly<VehicleState> {
    this.s.heartbeatAgeMs = nowMs - this.s.timestampsMs.heartbeat;
    return this.s;
  }

  /** A stable copy at `nowMs`, written into `into` when given (no allocation), else into a new object. */
  snapshot(nowMs: number, into: VehicleState = newVehicleState()): VehicleState {
    return copyVehicleState(this.read(nowMs), into);
  }

  /** Unbind from the autopilot (after link loss), so the next PX4 HEARTBEAT found binds again. Values are kept. */
  forgetAutopilot(): void {
    this.s.autopilot = null;
  }

  /** Feed one decoded message received at `nowMs` from `source`. Returns STATE_CHANGE bits. */
  feed(message: MavLinkData, source: MavlinkSource, nowMs: number): number {
    return this.feedFields((message.constructor as unknown as { MSG_ID: number }).MSG_ID, message, source, nowMs);
  }

  /**
   * Feed message `id`'s fields read in place (node-mavlink's names; at least TRACKED_FIELDS of it), as `feed` does
   * with the decoded message: the same state. The fields are read at once, not kept.
   */
  feedFields(id: number, message: MavLinkData | DecodedFields<string>, source: MavlinkSource, nowMs: number): number {
    if (id === TRACKED_MESSAGE_IDS.HEARTBEAT) return this.onHeartbeat(message as minimal.Heartbeat, source, nowMs);
    const ap = this.s.autopilot;
    if (ap === null || ap.sysid !== source.sysid || ap.compid !== source.compid) {
      this.counters.ignored++;
      return 0;
    }
    this.counters.messages++;
    const s = this.s;
    const t = s.timestampsMs;
    switch (id) {
      case TRACKED_MESSAGE_IDS.LOCAL_POSITION_NED: {
        const m = message as common.LocalPositionNed;
        s.positionNedM.n = m.x;
        s.positionNedM.e = m.y;
        s.positionNedM.d = m.z;
        s.velocityNedMS.n = m.vx;
        s.velocityNedMS.e = m.vy;
        s.velocityNedMS.d = m.vz;
        t.localPosition = nowMs;
        return STATE_CHANGE.LOCAL_POSITION;
      }
      case TRACKED_MESSAGE_IDS.ATTITUDE: {
        const m = message as common.Attitude;
        s.rollRad = m.roll;
        s.pitchRad = m.pitch;
        s.yawRad = m.yaw;
        s.attitudeSource = 'ATTITUDE';
        t.attitude = nowMs;
        return STATE_CHANGE.ATTITUDE;
      }
      case TRACKED_MESSAGE_IDS.ATTITUDE_QUATERNION: {
        const m = message as common.AttitudeQuaternion;
        const [roll, pitch, yaw] = quaternionToEuler(m.q1, m.q2, m.q3, m.q4);
        s.rollRad = roll;
        s.pitchRad = pitch;
        s.yawRad = yaw;
        s.attitudeSource = 'ATTITUDE_QUATERNION';
        t.attitude = nowMs;
        return STATE_CHANGE.ATTITUDE;
      }
      case TRACKED_MESSAGE_IDS.GLOBAL_POSITION_INT: {
        const m = message as common.GlobalPositionInt;
        s.globalPosition ??= { latDeg: 0, lonDeg: 0, altAmslM: 0 };
        s.globalPosition.latDeg = m.lat / 1e7;
        s.globalPosition.lonDeg = m.lon / 1e7;
        s.globalPosition.altAmslM = m.alt / 1000;
        s.relativeAltitudeM = m.relativeAlt / 1000;
        t.globalPosition = nowMs;
        return STATE_CHANGE.GLOBAL_POSITION;
      }
      case TRACKED_MESSAGE_IDS.CURRENT_MODE: {
        const m = message as common.CurrentMode;
        let changed = this.setMode(s.mode, m.customMode) ? STATE_CHANGE.MODE : 0;
        s.modeSource = 'CURRENT_MODE';
        t.mode = nowMs;
        if (this.setMode(s.intendedMode, m.intendedCustomMode)) changed |= STATE_CHANGE.MODE;
        t.intendedMode = nowMs;
        return changed;
      }
      case TRACKED_MESSAGE_IDS.EXTENDED_SYS_STATE: {
        const m = message as common.ExtendedSysState;
        const landed = LANDED_STATES[m.landedState] ?? 'unknown';
        const changed = landed !== s.landedState;
        s.landedState = landed;
        t.landedState = nowMs;
        return changed ? STATE_CHANGE.LANDED_STATE : 0;
      }
      case TRACKED_MESSAGE_IDS.BATTERY_STATUS: {
        const m = message as common.BatteryStatus;
        if (m.id !== 0) return 0; // the primary battery only
        s.batteryRemaining = m.batteryRemaining < 0 ? Number.NaN : m.batteryRemaining / 100;
        s.batteryVoltageV = batteryStatusVoltageV(m);
        t.battery = nowMs;
        return STATE_CHANGE.BATTERY;
      }
      case TRACKED_MESSAGE_IDS.SYS_STATUS: {
        const m = message as common.SysStatus;
        s.batteryRemaining = m.batteryRemaining < 0 ? Number.NaN : m.batteryRemaining / 100;
        s.batteryVoltageV = m.voltageBattery === UINT16_UNKNOWN ? Number.NaN : m.voltageBattery / 1000;
        t.battery = nowMs;
        return STATE_CHANGE.BATTERY;
      }
      case TRACKED_MESSAGE_IDS.GPS_RAW_INT: {
        const m = message as common.GpsRawInt;
        s.gpsFixType = m.fixType;
        s.satellites = m.satellitesVisible === 0xff ? Number.NaN : m.satellitesVisible;
        t.gps = nowMs;
        return STATE_CHANGE.GPS;
      }
      case TRACKED_MESSAGE_IDS.HOME_POSITION: {
        const m = message as common.HomePosition;
        const latDeg = m.latitude / 1e7;
        const lonDeg = m.longitude / 1e7;
        const altAmslM = m.altitude / 1000;
        const h = s.home;
        t.home = nowMs;
        if (h !== null && h.latDeg === latDeg && h.lonDeg === lonDeg && h.altAmslM === altAmslM) return 0;
        s.home = { latDeg, lonDeg, altAmslM };
        return STATE_CHANGE.HOME;
      }
      default:
        this.counters.messages--;
        this.counters.ignored++;
        return 0;
    }
  }

  private onHeartbeat(hb: minimal.Heartbeat, source: MavlinkSource, nowMs: number): number {
    const s = this.s;
    let changed = 0;
    if (s.autopilot === null) {
      if (!isPx4Autopilot(hb)) return 0;
      if (this.wantedSysid !== 0 && source.sysid !== this.wantedSysid) return 0;
      s.autopilot = { sysid: source.sysid, compid: source.compid };
      changed |= STATE_CHANGE.AUTOPILOT_FOUND;
    } else if (s.autopilot.sysid !== source.sysid || s.autopilot.compid !== source.compid) {
      this.counters.ignored++;
      return 0;
    }
    this.counters.messages++;
    const t = s.timestampsMs;
    changed |= STATE_CHANGE.HEARTBEAT;
    t.heartbeat = nowMs;
    const armed = (hb.baseMode & MAV_MODE_FLAG.SAFETY_ARMED) !== 0;
    if (armed !== s.armed || t.armed === -Infinity) changed |= STATE_CHANGE.ARMED;
    s.armed = armed;
    t.armed = nowMs;
    s.systemStatus = hb.systemStatus;
    if ((hb.baseMode & MAV_MODE_FLAG.CUSTOM_MODE_ENABLED) !== 0) {
      if (this.setMode(s.mode, hb.customMode)) changed |= STATE_CHANGE.MODE;
      s.modeSource = 'HEARTBEAT';
      t.mode = nowMs;
    }
    return changed;
  }

  /** Update `mode` from a custom_mode; true when it changed. The name is looked up only on change. */
  private setMode(mode: ModeState, customMode: number): boolean {
    if (mode.customMode === customMode && mode.name !== 'UNKNOWN') return false;
    const decoded = decodeCustomMode(customMode);
    mode.main = decoded.main;
    mode.sub = decoded.sub;
    mode.customMode = customMode;
    mode.name = modeName(decoded);
    return true;
  }
}

/** A HEARTBEAT from a PX4 flight controller (not a GCS, companion, camera, gimbal...). */
export function isPx4Autopilot(hb: minimal.Heartbeat): boolean {
  return hb.autopilot === MAV_AUTOPILOT_PX4 && !NOT_AN_AUTOPILOT.has(hb.type);
}

/**
 * Total voltage from BATTERY_STATUS: the sum of known cells (UINT16_MAX = unknown cell; PX4 puts the pack voltage
 * in cell 0 when cells are not measured), including the extension cells 11-14 (0 = unused).
 */
function batteryStatusVoltageV(m: common.BatteryStatus): number {
  let mv = 0;
  let known = 0;
  for (const v of m.voltages) {
    if (v !== UINT16_UNKNOWN) {
      mv += v;
      known++;
    }
  }
  for (const v of m.voltagesExt ?? []) {
    if (v !== 0 && v !== UINT16_UNKNOWN) {
      mv += v;
      known++;
    }
  }
  return known === 0 ? Number.NaN : mv / 1000;
}
