/**
 * Offboard control as PX4's MAVLink receiver and commander see it: a SET_POSITION_TARGET_LOCAL_NED becomes a
 * setpoint with NaN for every ignored field (type mask), and a monitor decides from the arrival times whether the
 * stream is established (above 2 Hz for over 1 s: arming and switching into OFFBOARD allowed) or lost (nothing for
 * COM_OF_LOSS_T: failsafe).
 */

export const TYPE_MASK = {
  X_IGNORE: 1,
  Y_IGNORE: 2,
  Z_IGNORE: 4,
  VX_IGNORE: 8,
  VY_IGNORE: 16,
  VZ_IGNORE: 32,
  AX_IGNORE: 64,
  AY_IGNORE: 128,
  AZ_IGNORE: 256,
  FORCE_SET: 512,
  YAW_IGNORE: 1024,
  YAW_RATE_IGNORE: 2048,
} as const;

/** Type mask for a velocity-only setpoint with yaw and yaw rate ignored (what onboard/ sends): 3527. */
export const VELOCITY_ONLY_MASK = 0b1101_1100_0111;
/** Type mask for a position-only setpoint with yaw and yaw rate ignored: 3576. */
export const POSITION_ONLY_MASK = 0b1101_1111_1000;

const MAV_FRAME_LOCAL_NED = 1;
const MAV_FRAME_BODY_NED = 8;

/** A setpoint in the local NED frame; NaN = not controlled. Units: m, m/s, m/s^2, rad, rad/s. */
export interface OffboardSetpoint {
  readonly positionNedM: readonly [number, number, number];
  readonly velocityNedMS: readonly [number, number, number];
  readonly accelerationNedMS2: readonly [number, number, number];
  readonly yawRad: number;
  readonly yawRateRadS: number;
}

export interface RawPositionTarget {
  readonly coordinateFrame: number;
  readonly typeMask: number;
  readonly x: number;
  readonly y: number;
  readonly z: number;
  readonly vx: number;
  readonly vy: number;
  readonly vz: number;
  readonly afx: number;
  readonly afy: number;
  readonly afz: number;
  readonly yaw: number;
  readonly yawRate: number;
}

/** Garbage (inf, absurd magnitudes) is treated as "not given", so a corrupt setpoint never becomes a command. */
const field = (ignored: boolean, value: number, limit: number): number =>
  ignored || !Number.isFinite(value) || Math.abs(value) > limit ? Number.NaN : value;

const allNaN = (v: readonly number[]): boolean => Number.isNaN(v[0]) && Number.isNaN(v[1]) && Number.isNaN(v[2]);

export type DecodeResult =
  | { ok: true; setpoint: OffboardSetpoint }
  | { ok: false; reason: 'frame' | 'force' | 'empty' };

/**
 * Decode as PX4's handle_message_set_position_target_local_ned: LOCAL_NED as is; BODY_NED rotates velocity and
 * acceleration by the current yaw and ignores position; other frames are refused; FORCE with acceleration refused;
 * a setpoint with no position, velocity or acceleration is refused (none of these count as offboard signal).
 */
export function decodePositionTarget(msg: RawPositionTarget, currentYawRad: number): DecodeResult {
  const m = msg.typeMask;
  const has = (bit: number): boolean => (m & bit) !== 0;
  let position: [number, number, number];
  let velocity: [number, number, number];
  let acceleration: [number, number, number];
  if (msg.coordinateFrame === MAV_FRAME_LOCAL_NED) {
    position = [
      field(has(TYPE_MASK.X_IGNORE), msg.x, 1e6),
      field(has(TYPE_MASK.Y_IGNORE), msg.y, 1e6),
      field(has(TYPE_MASK.Z_IGNORE), msg.z, 1e6),
    ];
    velocity = [
      field(has(TYPE_MASK.VX_IGNORE), msg.vx, 1e3),
      field(has(TYPE_MASK.VY_IGNORE), msg.vy, 1e3),
      field(has(TYPE_MASK.VZ_IGNORE), msg.vz, 1e3),
    ];
    acceleration = [
      field(has(TYPE_MASK.AX_IGNORE), msg.afx, 1e3),
      field(has(TYPE_MASK.AY_IGNORE), msg.afy, 1e3),
      field(has(TYPE_MASK.AZ_IGNORE), msg.afz, 1e3),
    ];
  } else if (msg.coordinateFrame === MAV_FRAME_BODY_NED) {
    const c = Math.cos(currentYawRad);
    const s = Math.sin(currentYawRad);
    const rotate = (ignoreAny: boolean, bx: number, by: number, bz: number): [number, number, number] => {
      if (ignoreAny) return [Number.NaN, Number.NaN, Number.NaN];
      const x = Number.isFinite(bx) ? bx : 0;
      const y = Number.isFinite(by) ? by : 0;
      return [field(false, c * x - s * y, 1e3), field(false, s * x + c * y, 1e3), field(false, bz, 1e3)];
    };
    const vIgnore = has(TYPE_MASK.VX_IGNORE) || has(TYPE_MASK.VY_IGNORE) || has(TYPE_MASK.VZ_IGNORE);
    const aIgnore = has(TYPE_MASK.AX_IGNORE) || has(TYPE_MASK.AY_IGNORE) || has(TYPE_MASK.AZ_IGNORE);
    velocity = rotate(vIgnore, msg.vx, msg.vy, msg.vz);
    acceleration = rotate(aIgnore, msg.afx, msg.afy, msg.afz);
    position = [Number.NaN, Number.NaN, Number.NaN];
  } else {
    return { ok: false, reason: 'frame' };
  }
  const hasAcceleration = !allNaN(acceleration);
  if (hasAcceleration && has(TYPE_MASK.FORCE_SET)) return { ok: false, reason: 'force' };
  if (allNaN(position) && allNaN(velocity) && !hasAcceleration) return { ok: false, reason: 'empty' };
  return {
    ok: true,
    setpoint: {
      positionNedM: position,
      velocityNedMS: velocity,
      accelerationNedMS2: acceleration,
      yawRad: field(has(TYPE_MASK.YAW_IGNORE), msg.yaw, 100),
      yawRateRadS: field(has(TYPE_MASK.YAW_RATE_IGNORE), msg.yawRate, 100),
    },
  };
}

/** Gap that breaks a stream: PX4 wants setpoints faster than 2 Hz. */
export const STREAM_MAX_GAP_S = 0.5;
/** How long a stream must have run before arming or switching into OFFBOARD is allowed. */
export const STREAM_ESTABLISH_S = 1.0;

/** Arrival-time bookkeeping for the setpoint stream. Pure: time is passed in. */
export class OffboardMonitor {
  private lastS = Number.NEGATIVE_INFINITY;
  private streamStartS = Number.NEGATIVE_INFINITY;
  private latest: OffboardSetpoint | null = null;

  receive(setpoint: OffboardSetpoint, nowS: number): void {
    if (nowS - this.lastS > STREAM_MAX_GAP_S) this.streamStartS = nowS;
    this.lastS = nowS;
    this.latest = setpoint;
  }

  get setpoint(): OffboardSetpoint | null {
    return this.latest;
  }

  /** Seconds since the last setpoint (Infinity before the first). */
  ageS(nowS: number): number {
    return nowS - this.lastS;
  }

  /** Streaming above 2 Hz for more than 1 s: PX4 lets the vehicle arm in, or switch into, OFFBOARD. */
  established(nowS: number): boolean {
    return nowS - this.lastS <= STREAM_MAX_GAP_S && nowS - this.streamStartS > STREAM_ESTABLISH_S;
  }

  /** Nothing for longer than COM_OF_LOSS_T: the offboard signal is lost. */
  lost(nowS: number, lossTimeoutS: number): boolean {
    return nowS - this.lastS > lossTimeoutS;
  }
}
