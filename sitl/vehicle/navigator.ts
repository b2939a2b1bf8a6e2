/**
 * What PX4's navigator, flight tasks and position controller would ask of the vehicle, reduced to a velocity
 * setpoint (the dynamics track velocity): hold a point, take off to MIS_TAKEOFF_ALT, land with PX4's speed profile,
 * return to launch in phases, follow offboard position/velocity/acceleration setpoints, or descend without sticks.
 * Pure: state, parameters and time are passed in.
 */
import type { OffboardSetpoint } from './offboard.js';
import type { ParamStore } from './params.js';

/** How the vehicle flies in a navigation state. */
export type Behaviour =
  | 'idle'
  | 'hold'
  | 'takeoff'
  | 'land'
  | 'descend'
  | 'rtl'
  | 'offboard'
  | 'no-stick-descend'
  | 'off';

export type RtlPhase = 'climb' | 'return' | 'descend' | 'wait' | 'land';

/** Vehicle state the navigator reads (NED metres from home, m/s, rad). */
export interface NavSense {
  readonly positionNedM: ArrayLike<number>;
  readonly velocityNedMS: ArrayLike<number>;
  readonly yawRad: number;
  readonly landed: boolean;
}

/** POSITION_TARGET_LOCAL_NED content: what the controller is tracking (NaN = not controlled). */
export interface NavTarget {
  typeMask: number;
  positionNedM: [number, number, number];
  velocityNedMS: [number, number, number];
  yawRad: number;
}

export interface NavOutput {
  readonly velocityNedMS: [number, number, number];
  /** NaN = hold the current heading. */
  yawRad: number;
  readonly target: NavTarget;
  /** Set on the tick a takeoff reaches its altitude (the commander then switches to AUTO.LOITER). */
  takeoffComplete: boolean;
}

/** Altitude error under which a takeoff counts as done, m. */
const TAKEOFF_ACCEPT_M = 0.3;
/** Horizontal distance under which RTL counts as over home, m. */
const RTL_HOME_ACCEPT_M = 1.0;
const ALT_ACCEPT_M = 0.5;
/** Time constant used to turn an acceleration setpoint into a velocity setpoint, s. */
const ACCEL_TO_VELOCITY_S = 0.5;

const clamp = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);

/** PX4's landing descent speed at a height above home: fast high up, MPC_LAND_SPEED near the ground. */
export function landSpeedMS(heightM: number, params: ParamStore): number {
  const fast = params.get('MPC_Z_VEL_MAX_DN');
  const slow = Math.min(params.get('MPC_LAND_SPEED'), fast);
  const alt1 = params.get('MPC_LAND_ALT1');
  const alt2 = Math.min(params.get('MPC_LAND_ALT2'), alt1);
  if (heightM >= alt1) return fast;
  if (heightM <= alt2 || alt1 === alt2) return slow;
  return slow + ((heightM - alt2) / (alt1 - alt2)) * (fast - slow);
}

export class Navigator {
  private readonly hold: [number, number, number] = [0, 0, 0];
  private takeoffDownM = 0;
  private rtlPhase: RtlPhase = 'climb';
  private rtlReturnDownM = 0;
  private rtlWaitUntilS = 0;
  private offboardYawRad = Number.NaN;
  /** The position of the tick being computed, for the helpers. */
  private position: ArrayLike<number> = [0, 0, 0];
  private readonly out: NavOutput = {
    velocityNedMS: [0, 0, 0],
    yawRad: Number.NaN,
    target: { typeMask: 0, positionNedM: [0, 0, 0], velocityNedMS: [0, 0, 0], yawRad: Number.NaN },
    takeoffComplete: false,
  };

  get phase(): RtlPhase {
    return this.rtlPhase;
  }

  /** Set up a behaviour from the current state (called whenever the effective behaviour changes). */
  enter(behaviour: Behaviour, sense: NavSense, params: ParamStore, takeoffAltM?: number): void {
    const p = sense.positionNedM;
    this.hold[0] = p[0];
    this.hold[1] = p[1];
    this.hold[2] = p[2];
    if (behaviour === 'takeoff') {
      const alt = takeoffAltM ?? params.get('MIS_TAKEOFF_ALT');
      // Already above the takeoff altitude: PX4 treats the takeoff as done where it is.
      this.takeoffDownM = Math.min(-alt, p[2]);
    } else if (behaviour === 'rtl') {
      this.rtlPhase = 'climb';
      this.rtlReturnDownM = Math.min(-params.get('RTL_RETURN_ALT'), p[2]);
    } else if (behaviour === 'offboard') {
      this.offboardYawRad = Number.NaN;
    }
  }

  /** Hold at a given point (after takeoff: the takeoff point, so the hover does not sag). */
  holdAt(positionNedM: ArrayLike<number>): void {
    this.hold[0] = positionNedM[0];
    this.hold[1] = positionNedM[1];
    this.hold[2] = positionNedM[2];
  }

  step(
    behaviour: Behaviour,
    sense: NavSense,
    params: ParamStore,
    nowS: number,
    dtS: number,
    setpoint: OffboardSetpoint | null,
  ): NavOutput {
    const out = this.out;
    const v = out.velocityNedMS;
    const t = out.target;
    out.takeoffComplete = false;
    out.yawRad = Number.NaN;
    t.yawRad = sense.yawRad;
    const p = sense.positionNedM;
    this.position = p;
    switch (behaviour) {
      case 'idle':
      case 'off':
        v[0] = 0;
        v[1] = 0;
        v[2] = 0;
        this.setTarget(63, Number.NaN, Number.NaN, Number.NaN);
        return out;
      case 'hold':
        this.toPoint(this.hold[0], this.hold[1], this.hold[2], params, params.get('MPC_XY_VEL_MAX'));
        break;
      case 'takeoff': {
        this.toPoint(this.hold[0], this.hold[1], this.takeoffDownM, params, params.get('MPC_XY_VEL_MAX'));
        v[2] = Math.max(v[2], -params.get('MPC_TKO_SPEED'));
        if (Math.abs(p[2] - this.takeoffDownM) < TAKEOFF_ACCEPT_M) {
          out.takeoffComplete = true;
          this.holdAt([this.hold[0], this.hold[1], this.takeoffDownM]);
        }
        break;
      }
      case 'land':
      case 'descend':
        this.land(behaviour === 'land', sense, params);
        break;
      case 'no-stick-descend':
        // PX4's manual flight tasks without sticks: descend at land speed, no horizontal position control.
        v[0] = 0;
        v[1] = 0;
        v[2] = params.get('MPC_LAND_SPEED');
        this.setTarget(31, Number.NaN, Number.NaN, Number.NaN);
        t.velocityNedMS[2] = v[2];
        break;
      case 'rtl':
        this.rtl(sense, params, nowS);
        break;
      case 'offboard':
        this.offboard(sense, params, dtS, setpoint);
        break;
    }
    this.limit(params);
    return out;
  }

  private land(withPosition: boolean, sense: NavSense, params: ParamStore): void {
    const v = this.out.velocityNedMS;
    if (withPosition) {
      this.toPoint(this.hold[0], this.hold[1], sense.positionNedM[2], params, params.get('MPC_XY_CRUISE'));
    } else {
      v[0] = 0;
      v[1] = 0;
      this.setTarget(31, Number.NaN, Number.NaN, Number.NaN);
    }
    v[2] = landSpeedMS(-sense.positionNedM[2], params);
    this.out.target.velocityNedMS[2] = v[2];
    this.out.target.positionNedM[2] = Number.NaN;
  }

  private rtl(sense: NavSense, params: ParamStore, nowS: number): void {
    const p = sense.positionNedM;
    const cruise = params.get('MPC_XY_CRUISE');
    const descendDownM = -params.get('RTL_DESCEND_ALT');
    if (this.rtlPhase === 'climb') {
      this.toPoint(this.hold[0], this.hold[1], this.rtlReturnDownM, params, cruise);
      if (p[2] <= this.rtlReturnDownM + ALT_ACCEPT_M) this.rtlPhase = 'return';
      return;
    }
    if (this.rtlPhase === 'return') {
      this.toPoint(0, 0, this.rtlReturnDownM, params, cruise);
      if (Math.hypot(p[0], p[1]) < RTL_HOME_ACCEPT_M) this.rtlPhase = 'descend';
      return;
    }
    if (this.rtlPhase === 'descend') {
      const targetDown = Math.max(descendDownM, p[2]);
      this.toPoint(0, 0, targetDown, params, cruise);
      if (p[2] >= descendDownM - ALT_ACCEPT_M) {
        this.rtlPhase = 'wait';
        const delay = params.get('RTL_LAND_DELAY');
        this.rtlWaitUntilS = delay < 0 ? Number.POSITIVE_INFINITY : nowS + delay;
        this.holdAt([0, 0, p[2]]);
      }
      return;
    }
    if (this.rtlPhase === 'wait') {
      this.toPoint(this.hold[0], this.hold[1], this.hold[2], params, cruise);
      if (nowS >= this.rtlWaitUntilS) this.rtlPhase = 'land';
      return;
    }
    this.holdAt([0, 0, p[2]]);
    this.land(true, sense, params);
  }

  private offboard(sense: NavSense, params: ParamStore, dtS: number, sp: OffboardSetpoint | null): void {
    const out = this.out;
    const v = out.velocityNedMS;
    const t = out.target;
    if (sp === null) {
      this.toPoint(this.hold[0], this.hold[1], this.hold[2], params, params.get('MPC_XY_VEL_MAX'));
      return;
    }
    let mask = 0;
    for (let k = 0; k < 3; k++) {
      const kp = k < 2 ? params.get('MPC_XY_P') : params.get('MPC_Z_P');
      const pos = sp.positionNedM[k];
      const vel = sp.velocityNedMS[k];
      const acc = sp.accelerationNedMS2[k];
      t.positionNedM[k] = pos;
      t.velocityNedMS[k] = vel;
      if (!Number.isNaN(pos)) {
        v[k] = kp * (pos - sense.positionNedM[k]) + (Number.isNaN(vel) ? 0 : vel);
      } else if (!Number.isNaN(vel)) {
        v[k] = vel;
      } else if (!Number.isNaN(acc)) {
        v[k] = sense.velocityNedMS[k] + acc * ACCEL_TO_VELOCITY_S;
      } else {
        v[k] = 0;
      }
      if (Number.isNaN(pos)) mask |= 1 << k;
      if (Number.isNaN(vel)) mask |= 8 << k;
    }
    t.typeMask = mask;
    if (!Number.isNaN(sp.yawRad)) {
      this.offboardYawRad = sp.yawRad;
    } else if (!Number.isNaN(sp.yawRateRadS)) {
      const from = Number.isNaN(this.offboardYawRad) ? sense.yawRad : this.offboardYawRad;
      this.offboardYawRad = wrapPi(from + sp.yawRateRadS * dtS);
    } else {
      this.offboardYawRad = Number.NaN;
    }
    out.yawRad = this.offboardYawRad;
    if (!Number.isNaN(out.yawRad)) t.yawRad = out.yawRad;
  }

  /** P control to a point with PX4's gains; horizontal speed capped at `maxHorizontalMS`. */
  private toPoint(n: number, e: number, d: number, params: ParamStore, maxHorizontalMS: number): void {
    const p = this.position;
    const v = this.out.velocityNedMS;
    const kxy = params.get('MPC_XY_P');
    v[0] = kxy * (n - p[0]);
    v[1] = kxy * (e - p[1]);
    v[2] = params.get('MPC_Z_P') * (d - p[2]);
    const h = Math.hypot(v[0], v[1]);
    if (h > maxHorizontalMS && h > 0) {
      v[0] *= maxHorizontalMS / h;
      v[1] *= maxHorizontalMS / h;
    }
    this.setTarget(0, n, e, d);
    this.out.target.velocityNedMS[0] = v[0];
    this.out.target.velocityNedMS[1] = v[1];
    this.out.target.velocityNedMS[2] = v[2];
  }

  private setTarget(typeMask: number, n: number, e: number, d: number): void {
    const t = this.out.target;
    t.typeMask = typeMask;
    t.positionNedM[0] = n;
    t.positionNedM[1] = e;
    t.positionNedM[2] = d;
    t.velocityNedMS[0] = Number.NaN;
    t.velocityNedMS[1] = Number.NaN;
    t.velocityNedMS[2] = Number.NaN;
  }

  /** PX4's velocity limits (MPC_XY_VEL_MAX, MPC_Z_VEL_MAX_UP/DN); a corrupt value can never escape as a command. */
  private limit(params: ParamStore): void {
    const v = this.out.velocityNedMS;
    for (let k = 0; k < 3; k++) if (!Number.isFinite(v[k])) v[k] = 0;
    const maxH = params.get('MPC_XY_VEL_MAX');
    const h = Math.hypot(v[0], v[1]);
    if (h > maxH && h > 0) {
      v[0] *= maxH / h;
      v[1] *= maxH / h;
    }
    v[2] = clamp(v[2], -params.get('MPC_Z_VEL_MAX_UP'), params.get('MPC_Z_VEL_MAX_DN'));
  }
}

export function wrapPi(a: number): number {
  let x = (a + Math.PI) % (2 * Math.PI);
  if (x < 0) x += 2 * Math.PI;
  return x - Math.PI;
}
