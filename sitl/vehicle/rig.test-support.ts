/**
 * Test rig for the PX4 emulation without sockets: one SimVehicle on its own dynamics, time stepped by the test.
 * Used by the unit tests beside this file only.
 */
import { DEFAULT_MULTIROTOR, MultirotorFleet } from '../../shared/dynamics/index.js';
import { MAV_CMD, PX4_MODES, type Px4ModeName, setModeParams } from '../../shared/mavlink/index.js';
import type { OffboardSetpoint } from './offboard.js';
import type { ParamName } from './params.js';
import { SimVehicle } from './vehicle.js';

export const TICK_S = 0.01;

export interface Rig {
  readonly v: SimVehicle;
  readonly t: number;
  /** Step `seconds` of simulated time; `each` runs before every tick (stream setpoints from it). */
  run(seconds: number, each?: (t: number) => void): void;
  /** Step until `until()` holds after a tick, for at most `maxS`; returns the time it held, or NaN. */
  runUntil(until: () => boolean, maxS: number, each?: (t: number) => void): number;
  cmd(command: number, ...params: number[]): number;
  setMode(name: Px4ModeName): number;
  arm(): number;
  altitudeM(): number;
  speedMS(): number;
}

export function velocitySetpoint(n: number, e: number, d: number): OffboardSetpoint {
  return {
    positionNedM: [Number.NaN, Number.NaN, Number.NaN],
    velocityNedMS: [n, e, d],
    accelerationNedMS2: [Number.NaN, Number.NaN, Number.NaN],
    yawRad: Number.NaN,
    yawRateRadS: Number.NaN,
  };
}

export function positionSetpoint(n: number, e: number, d: number): OffboardSetpoint {
  return { ...velocitySetpoint(Number.NaN, Number.NaN, Number.NaN), positionNedM: [n, e, d] };
}

export function makeRig(
  options: { estimatorReadyS?: number; params?: Partial<Record<ParamName, number>>; seed?: number } = {},
): Rig {
  let t = 0;
  const body = new MultirotorFleet(1, DEFAULT_MULTIROTOR, options.seed ?? 7);
  const v = new SimVehicle({
    index: 0,
    sysid: 1,
    home: { latDeg: 47.397742, lonDeg: 8.545594, altAmslM: 488 },
    body,
    estimatorReadyS: options.estimatorReadyS ?? 1,
    params: options.params,
    clock: () => t,
  });
  const tick = (each?: (t: number) => void): void => {
    each?.(t);
    v.step(t, TICK_S);
    t = Math.round((t + TICK_S) * 1e6) / 1e6;
  };
  const rig: Rig = {
    v,
    get t() {
      return t;
    },
    run(seconds, each) {
      const n = Math.round(seconds / TICK_S);
      for (let k = 0; k < n; k++) tick(each);
    },
    runUntil(until, maxS, each) {
      const end = t + maxS;
      // Tick first: a command takes effect on the next control tick, as in PX4.
      while (t < end) {
        tick(each);
        if (until()) return t;
      }
      return Number.NaN;
    },
    cmd(command, ...params) {
      return v.commander.handleCommand(command, params, t);
    },
    setMode(name) {
      return v.commander.handleCommand(MAV_CMD.DO_SET_MODE, setModeParams(PX4_MODES[name]), t);
    },
    arm() {
      return v.commander.handleCommand(MAV_CMD.COMPONENT_ARM_DISARM, [1], t);
    },
    altitudeM() {
      return -body.positionNedM[2];
    },
    speedMS() {
      return Math.hypot(body.velocityNedMS[0], body.velocityNedMS[1]);
    },
  };
  return rig;
}

/** A 20 Hz setpoint stream for `each`: sends on every fifth 10 ms tick. */
export function every50ms(send: () => void): (t: number) => void {
  let next = 0;
  return (t) => {
    if (t + 1e-9 >= next) {
      send();
      next = t + 0.05;
    }
  };
}
