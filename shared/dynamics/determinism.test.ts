import { describe, expect, it } from 'vitest';
import { DEFAULT_MULTIROTOR, MultirotorFleet, vehicleSnapshot } from './index.js';

type Typed = Float64Array | Uint8Array | Uint32Array;

/** Every typed array of the fleet (state, environment, inputs, random streams), by name. */
function arraysOf(fleet: MultirotorFleet): Record<string, Typed> {
  const out: Record<string, Typed> = {};
  for (const [name, value] of Object.entries(fleet)) {
    if (value instanceof Float64Array || value instanceof Uint8Array || value instanceof Uint32Array) out[name] = value;
  }
  return out;
}

/** The raw bytes of vehicle i's slice of every array: equal bytes means bit-identical state. */
function vehicleBytes(fleet: MultirotorFleet, i: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, arr] of Object.entries(arraysOf(fleet))) {
    const per = arr.length / fleet.count;
    const slice = arr.subarray(i * per, (i + 1) * per);
    out[name] = Buffer.from(slice.buffer, slice.byteOffset, slice.byteLength).toString('hex');
  }
  return out;
}

/** A busy scripted flight for vehicle i: take-off, manoeuvres, yaw, wind with turbulence, gusts, faults. */
function drive(fleet: MultirotorFleet, i: number, globalIndex: number, stepIndex: number): void {
  const k = stepIndex;
  const sp = fleet.velocitySetpointNedMS;
  const phase = Math.floor(k / 150);
  if (k === 0) {
    fleet.motorsOn[i] = 1;
    fleet.setWind(i, [2 + globalIndex, -1, 0.2], 1.5 + 0.5 * globalIndex);
  }
  sp[3 * i] = phase % 3 === 1 ? 8 - globalIndex : -2;
  sp[3 * i + 1] = phase % 2 === 0 ? 3 : -5 + globalIndex;
  sp[3 * i + 2] = phase < 2 ? -2.5 : phase % 2 === 0 ? 1.5 : -1;
  fleet.yawSetpointRad[i] = phase % 2 === 0 ? Number.NaN : phase + globalIndex;
  if (k === 400) fleet.addGust(i, [0, 4 * globalIndex, -1]);
  if (k === 500 && globalIndex === 2) fleet.setBatteryRemaining(i, 0.3);
  if (k === 700 && globalIndex === 3) fleet.failBattery(i);
}

const STEPS = 1000;
const DT = 0.01;

describe('determinism', () => {
  it('gives bit-identical states for the same seed and inputs', () => {
    const a = new MultirotorFleet(4, DEFAULT_MULTIROTOR, 1234);
    const b = new MultirotorFleet(4, DEFAULT_MULTIROTOR, 1234);
    for (let k = 0; k < STEPS; k++) {
      for (const f of [a, b]) {
        for (let i = 0; i < 4; i++) drive(f, i, i, k);
        f.step(DT);
      }
    }
    for (let i = 0; i < 4; i++) expect(vehicleBytes(a, i)).toEqual(vehicleBytes(b, i));
    expect(a.timeS).toBe(b.timeS);
    // The script really did something: it flew, and one vehicle fell after its battery failed.
    expect(a.positionNedM[2]).toBeLessThan(-5);
    expect(a.hardImpactCount[3]).toBe(1);
  });

  it('differs for another seed when there is turbulence, and only through it', () => {
    const run = (seed: number, gustStdMS: number): MultirotorFleet => {
      const f = new MultirotorFleet(2, DEFAULT_MULTIROTOR, seed);
      for (let i = 0; i < 2; i++) f.resetVehicle(i, { positionNedM: [0, 0, -30] });
      f.setWindAll([3, 0, 0], gustStdMS);
      for (let k = 0; k < 300; k++) f.step(DT);
      return f;
    };
    expect(run(1, 2).positionNedM).not.toEqual(run(2, 2).positionNedM);
    expect(run(1, 2).windNedMS).not.toEqual(run(2, 2).windNedMS);
    expect(run(1, 0).positionNedM).toEqual(run(2, 0).positionNedM);
    // Vehicles of one fleet get their own turbulence.
    const f = run(1, 2);
    expect(f.windNedMS.subarray(0, 3)).not.toEqual(f.windNedMS.subarray(3, 6));
  });
});

describe('vectorised equals scalar', () => {
  it('steps N vehicles together exactly as each stepped alone', () => {
    const n = 4;
    const seed = 99;
    const together = new MultirotorFleet(n, DEFAULT_MULTIROTOR, seed);
    const alone = Array.from(
      { length: n },
      (_, i) => new MultirotorFleet(1, DEFAULT_MULTIROTOR, seed, { indexOffset: i }),
    );
    for (let k = 0; k < STEPS; k++) {
      for (let i = 0; i < n; i++) {
        drive(together, i, i, k);
        drive(alone[i], 0, i, k);
      }
      together.step(DT);
      for (const f of alone) f.step(DT);
    }
    for (let i = 0; i < n; i++) {
      expect(vehicleBytes(together, i)).toEqual(vehicleBytes(alone[i], 0));
      expect(vehicleSnapshot(together, i)).toEqual(vehicleSnapshot(alone[i], 0));
    }
    // Each vehicle flew its own way.
    expect(new Set(Array.from({ length: n }, (_, i) => together.positionNedM[3 * i])).size).toBe(n);
  });
});

describe('fleet edges', () => {
  it('refuses bad construction, steps, indices and fault requests with catalogue errors', () => {
    expect(() => new MultirotorFleet(0, DEFAULT_MULTIROTOR, 1)).toThrow(/CONFIG_INVALID_VALUE/);
    expect(() => new MultirotorFleet(1.5, DEFAULT_MULTIROTOR, 1)).toThrow(/CONFIG_INVALID_VALUE/);
    expect(() => new MultirotorFleet(1, DEFAULT_MULTIROTOR, Number.NaN)).toThrow(/CONFIG_INVALID_VALUE/);
    const fleet = new MultirotorFleet(2, DEFAULT_MULTIROTOR, 1);
    expect(() => fleet.step(-0.01)).toThrow(/CONFIG_INVALID_VALUE/);
    expect(() => fleet.step(Number.NaN)).toThrow(/CONFIG_INVALID_VALUE/);
    expect(() => fleet.setWind(2, [0, 0, 0], 0)).toThrow(/SITL_SCENARIO_INVALID/);
    expect(() => fleet.setWind(0, [0, Number.NaN, 0], 0)).toThrow(/SITL_SCENARIO_INVALID/);
    expect(() => fleet.setWind(0, [0, 0, 0], -1)).toThrow(/SITL_SCENARIO_INVALID/);
    expect(() => fleet.addGust(-1, [1, 0, 0])).toThrow(/SITL_SCENARIO_INVALID/);
    expect(() => fleet.resetVehicle(0, { positionNedM: [0, 0, 1] })).toThrow(/SITL_SCENARIO_INVALID/);
    expect(() => vehicleSnapshot(fleet, 2)).toThrow(/SITL_SCENARIO_INVALID/);
    fleet.step(0);
    expect(fleet.timeS).toBe(0);
  });

  it('resets a vehicle in the air hovering, without touching its neighbours', () => {
    const fleet = new MultirotorFleet(2, DEFAULT_MULTIROTOR, 1);
    fleet.motorsOn[1] = 1;
    fleet.velocitySetpointNedMS.set([0, 0, -2], 3);
    for (let k = 0; k < 200; k++) fleet.step(DT);
    const neighbour = vehicleBytes(fleet, 1);
    fleet.resetVehicle(0, { positionNedM: [10, 20, -40], yawRad: 7 });
    expect(vehicleBytes(fleet, 1)).toEqual(neighbour);
    for (let k = 0; k < 200; k++) fleet.step(DT);
    const s = vehicleSnapshot(fleet, 0);
    expect(s.motorsOn).toBe(true);
    expect(s.positionNedM[2]).toBeCloseTo(-40, 6);
    expect(s.yawRad).toBeCloseTo(7 - 2 * Math.PI, 12);
    expect(s.landed).toBe(false);
  });
});
