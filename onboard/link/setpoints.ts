/**
 * Offboard setpoints: SET_POSITION_TARGET_LOCAL_NED in MAV_FRAME_LOCAL_NED, velocity or position, with the type
 * mask telling PX4 which fields to ignore. One message object is reused (the link serializes it at once), so the
 * 20-50 Hz stream allocates nothing but the frame bytes.
 */
import { common } from '../../shared/mavlink/index.js';
import type { Clock } from './clock.js';
import type { MavlinkSource } from './vehicle-state.js';

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
  private readonly message = new common.SetPositionTargetLocalNed();

  constructor(
    private readonly deps: {
      readonly clock: Clock;
      readonly send: (message: common.SetPositionTargetLocalNed) => void;
      readonly target: () => MavlinkSource | null;
      /** Clock time our time_boot_ms counts from. */
      readonly bootMs: number;
    },
  ) {
    this.message.coordinateFrame = MAV_FRAME_LOCAL_NED as common.MavFrame;
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
    m.x = 0;
    m.y = 0;
    m.z = 0;
    m.vx = v.n;
    m.vy = v.e;
    m.vz = v.d;
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
    m.x = p.n;
    m.y = p.e;
    m.z = p.d;
    m.vx = 0;
    m.vy = 0;
    m.vz = 0;
    this.deps.send(m);
    this.counters.position++;
    return true;
  }

  private prepare(
    typeMask: number,
    yaw: { readonly yawRad?: number; readonly yawRateRadS?: number },
  ): common.SetPositionTargetLocalNed | null {
    const target = this.deps.target();
    if (target === null) {
      this.counters.noTarget++;
      return null;
    }
    const now = this.deps.clock.nowMs();
    const m = this.message;
    m.timeBootMs = Math.floor(now - this.deps.bootMs) >>> 0;
    m.targetSystem = target.sysid;
    m.targetComponent = target.compid;
    m.typeMask = typeMask as common.PositionTargetTypemask;
    m.afx = 0;
    m.afy = 0;
    m.afz = 0;
    m.yaw = yaw.yawRad ?? 0;
    m.yawRate = yaw.yawRateRadS ?? 0;
    this.counters.lastSentMs = now;
    return m;
  }
}
