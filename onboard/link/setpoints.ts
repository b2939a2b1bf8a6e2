/**
 * Offboard setpoints: SET_POSITION_TARGET_LOCAL_NED in MAV_FRAME_LOCAL_NED, velocity or position, with the type
 * mask telling PX4 which fields to ignore. The payload is written in place at its wire offsets (one InPlaceMessage,
 * reused), so the 20-50 Hz stream builds no message object and runs no generic serializer: the link frames the
 * payload into the bytes it sends.
 */
import { common, fieldOffsets, InPlaceMessage } from '../../shared/mavlink/index.js';
import type { Clock } from './clock.js';
import type { MavlinkSource } from './vehicle-state.js';

const SETPOINT = common.SetPositionTargetLocalNed;
/** Wire offsets of SET_POSITION_TARGET_LOCAL_NED's fields. */
const AT = fieldOffsets(SETPOINT, [
  'timeBootMs',
  'x',
  'y',
  'z',
  'vx',
  'vy',
  'vz',
  'afx',
  'afy',
  'afz',
  'yaw',
  'yawRate',
  'typeMask',
  'targetSystem',
  'targetComponent',
  'coordinateFrame',
]);
const LE = true;

/** MAV_FRAME_LOCAL_NED. */
export const MAV_FRAME_LOCAL_NED = 1;

/** POSITION_TARGET_TYPEMASK bits. */
export const TYPE_MASK = {
  POSITION_IGNORE: 1 | 2 | 4,
  VELOCITY_IGNORE: 8 | 16 | 32,
  ACCELERATION_IGNORE: 64 | 128 | 256,
  YAW_IGNORE: 1024,
  YAW_RATE_IGNORE: 2048,
} as const;

export interface NedInput {
  readonly n: number;
  readonly e: number;
  readonly d: number;
}

export interface VelocitySetpoint {
  /** Velocity in the local NED frame, m/s (d positive down: -1.5 climbs). */
  readonly velocityNedMS: NedInput;
  /** Heading to hold, radians from north; omitted = PX4 keeps its own yaw. */
  readonly yawRad?: number;
  /** Yaw rate, rad/s; omitted = not commanded. */
  readonly yawRateRadS?: number;
}

export interface PositionSetpoint {
  /** Position in the local NED frame, metres from the EKF origin. */
  readonly positionNedM: NedInput;
  readonly yawRad?: number;
  readonly yawRateRadS?: number;
}

export interface SetpointCounters {
  velocity: number;
  position: number;
  /** Not sent: no autopilot known (link down). */
  noTarget: number;
  /** Not sent: a non-finite value. */
  invalid: number;
  /** Clock time of the last setpoint sent, ms (-Infinity when none). */
  lastSentMs: number;
}

/** Type mask for a velocity setpoint (position and acceleration ignored; yaw/yaw rate unless given). */
export function velocityTypeMask(yawGiven: boolean, yawRateGiven: boolean): number {
  return (
    TYPE_MASK.POSITION_IGNORE |
    TYPE_MASK.ACCELERATION_IGNORE |
    (yawGiven ? 0 : TYPE_MASK.YAW_IGNORE) |
    (yawRateGiven ? 0 : TYPE_MASK.YAW_RATE_IGNORE)
  );
}

/** Type mask for a position setpoint (velocity and acceleration ignored; yaw/yaw rate unless given). */
export function positionTypeMask(yawGiven: boolean, yawRateGiven: boolean): number {
  return (
    TYPE_MASK.VELOCITY_IGNORE |
    TYPE_MASK.ACCELERATION_IGNORE |
    (yawGiven ? 0 : TYPE_MASK.YAW_IGNORE) |
    (yawRateGiven ? 0 : TYPE_MASK.YAW_RATE_IGNORE)
  );
}

const finite3 = (v: NedInput): boolean => Number.isFinite(v.n) && Number.isFinite(v.e) && Number.isFinite(v.d);
const optionalFinite = (x: number | undefined): boolean => x === undefined || Number.isFinite(x);

export class SetpointSender {
  readonly counters: SetpointCounters = { velocity: 0, position: 0, noTarget: 0, invalid: 0, lastSentMs: -Infinity };
  private readonly message = new InPlaceMessage(SETPOINT);

  constructor(
    private readonly deps: {
      readonly clock: Clock;
      /** Frame and send the message (MavlinkLink.sendInPlace). */
      readonly send: (message: InPlaceMessage) => void;
      readonly target: () => MavlinkSource | null;
      /** Clock time our time_boot_ms counts from. */
      readonly bootMs: number;
    },
  ) {
    this.message.payload.setUint8(AT.coordinateFrame, MAV_FRAME_LOCAL_NED);
  }

  /** Send a velocity setpoint now. False (and counted) when not sent: no autopilot, or a non-finite value. */
  sendVelocity(sp: VelocitySetpoint): boolean {
    const v = sp.velocityNedMS;
    // A NaN reaching PX4 would be read as "ignore this axis"; refuse it here instead.
    if (!finite3(v) || !optionalFinite(sp.yawRad) || !optionalFinite(sp.yawRateRadS)) {
      this.counters.invalid++;
      return false;
    }
    const m = this.prepare(velocityTypeMask(sp.yawRad !== undefined, sp.yawRateRadS !== undefined), sp);
    if (m === null) return false;
    const p = m.payload;
    p.setFloat32(AT.x, 0, LE);
    p.setFloat32(AT.y, 0, LE);
    p.setFloat32(AT.z, 0, LE);
    p.setFloat32(AT.vx, v.n, LE);
    p.setFloat32(AT.vy, v.e, LE);
    p.setFloat32(AT.vz, v.d, LE);
    this.deps.send(m);
    this.counters.velocity++;
    return true;
  }

  /** Send a position setpoint now. False (and counted) when not sent. */
  sendPosition(sp: PositionSetpoint): boolean {
    const p = sp.positionNedM;
    if (!finite3(p) || !optionalFinite(sp.yawRad) || !optionalFinite(sp.yawRateRadS)) {
      this.counters.invalid++;
      return false;
    }
    const m = this.prepare(positionTypeMask(sp.yawRad !== undefined, sp.yawRateRadS !== undefined), sp);
    if (m === null) return false;
    const w = m.payload;
    w.setFloat32(AT.x, p.n, LE);
    w.setFloat32(AT.y, p.e, LE);
    w.setFloat32(AT.z, p.d, LE);
    w.setFloat32(AT.vx, 0, LE);
    w.setFloat32(AT.vy, 0, LE);
    w.setFloat32(AT.vz, 0, LE);
    this.deps.send(m);
    this.counters.position++;
    return true;
  }

  private prepare(
    typeMask: number,
    yaw: { readonly yawRad?: number; readonly yawRateRadS?: number },
  ): InPlaceMessage | null {
    const target = this.deps.target();
    if (target === null) {
      this.counters.noTarget++;
      return null;
    }
    const now = this.deps.clock.nowMs();
    const m = this.message;
    const p = m.payload;
    p.setUint32(AT.timeBootMs, Math.floor(now - this.deps.bootMs) >>> 0, LE);
    p.setUint8(AT.targetSystem, target.sysid);
    p.setUint8(AT.targetComponent, target.compid);
    p.setUint16(AT.typeMask, typeMask, LE);
    p.setFloat32(AT.afx, 0, LE);
    p.setFloat32(AT.afy, 0, LE);
    p.setFloat32(AT.afz, 0, LE);
    p.setFloat32(AT.yaw, yaw.yawRad ?? 0, LE);
    p.setFloat32(AT.yawRate, yaw.yawRateRadS ?? 0, LE);
    this.counters.lastSentMs = now;
    return m;
  }
}
