/**
 * N multirotors in structure-of-arrays form: every state is a typed array indexed by vehicle (vectors at i*3+k,
 * k = 0 north, 1 east, 2 down). The same class serves the PX4-like simulated vehicles in sitl/ (N = 1, or one
 * fleet with a vehicle per PX4 instance) and the vectorised training environment (thousands at once). Vehicles
 * are independent: vehicle i of a fleet evolves exactly as a one-vehicle fleet constructed with indexOffset = i.
 */
import { AerieError } from '../errors.js';
import { forkKeyInto, RNG_STATE_WORDS, seedKeyInto } from '../random/index.js';
import { cellOpenCircuitVoltageV } from './battery.js';
import { stepKernel } from './kernel.js';
import { type MultirotorParams, withParams } from './params.js';

/** Longest internal integration step, s; step() splits longer intervals into equal sub-steps no longer than this. */
export const MAX_SUBSTEP_S = 0.02;

/** Largest fleet one object holds (memory stays under ~2 GB). */
export const MAX_FLEET_SIZE = 1 << 22;

export interface FleetOptions {
  /**
   * Global index of vehicle 0 for random streams: vehicle i draws the stream of vehicle indexOffset + i of `seed`.
   * A fleet split across workers, or a single vehicle pulled out of a fleet, reproduces the same gusts. Default 0.
   */
  indexOffset?: number;
}

export interface VehicleInit {
  /** Start position, NED m from home; d <= 0 (0 is on the ground). Default [0, 0, 0]. */
  positionNedM?: readonly [number, number, number];
  /** Start heading, rad. Default 0 (north). */
  yawRad?: number;
  /** Start state of charge, 0..1. Default 1. */
  batteryRemaining?: number;
}

type Vec3 = readonly [number, number, number];

function scenarioError(message: string, details: Record<string, unknown>): AerieError {
  return new AerieError('SITL_SCENARIO_INVALID', message, details);
}

export class MultirotorFleet {
  readonly count: number;
  #params: MultirotorParams;
  #timeS = 0;

  // --- state: NED metres from home, ground at d = 0 ---
  readonly positionNedM: Float64Array;
  readonly velocityNedMS: Float64Array;
  /** Kinematic acceleration over the last sub-step, m/s^2 (includes the ground's stop on touchdown). */
  readonly accelerationNedMS2: Float64Array;
  readonly rollRad: Float64Array;
  readonly pitchRad: Float64Array;
  /** Heading, rad in (-pi, pi]. */
  readonly yawRad: Float64Array;
  readonly rollRateRadS: Float64Array;
  readonly pitchRateRadS: Float64Array;
  readonly yawRateRadS: Float64Array;
  /** Thrust over weight, 0..maxThrustToWeight (0 with motors off or no battery). */
  readonly thrustRatio: Float64Array;
  /** Wind at each vehicle, m/s NED: mean + turbulence + injected gust. */
  readonly windNedMS: Float64Array;
  /** PX4-like landed detector: 1 after landDetectTimeS on the ground with low thrust; 0 as soon as it leaves it. */
  readonly landed: Uint8Array;
  /** 1 while touching the ground (d = 0). */
  readonly groundContact: Uint8Array;
  /** Touchdowns at or above hardImpactSpeedMS (crashes) since construction or reset. */
  readonly hardImpactCount: Uint32Array;
  /** Speed at the last touchdown, m/s (0 until the first). */
  readonly touchdownSpeedMS: Float64Array;
  /** State of charge 0..1; never increases except by resetVehicle. */
  readonly batteryRemaining: Float64Array;
  /** Pack voltage under load, V (cells x 4.2 full .. 3.3 empty, minus sag; 0 after failBattery). */
  readonly batteryVoltageV: Float64Array;
  readonly batteryCurrentA: Float64Array;
  /** Electrical power delivered to the vehicle, W. */
  readonly batteryPowerW: Float64Array;
  /** Energy drawn from the pack (including its internal losses), Wh. */
  readonly energyUsedWh: Float64Array;
  /** 1 after failBattery: no voltage, no thrust, until resetVehicle. */
  readonly batteryFailed: Uint8Array;

  // --- environment ---
  /** Mean wind, m/s NED (setWind). */
  readonly windMeanNedMS: Float64Array;
  /** Horizontal turbulence intensity (standard deviation), m/s; vertical is verticalGustRatio times it. */
  readonly gustStdMS: Float64Array;
  /** Current turbulence (Ornstein-Uhlenbeck state), m/s NED. */
  readonly turbulenceNedMS: Float64Array;
  /** What is left of gusts injected with addGust, m/s NED. */
  readonly injectedGustNedMS: Float64Array;

  // --- controller internals, exposed for diagnostics and checkpoints ---
  /** The velocity loop's integral term: its estimate of the disturbance acceleration (drag), m/s^2 NED. */
  readonly disturbanceEstimateNedMS2: Float64Array;
  /** Time spent meeting the landed conditions, s. */
  readonly landedTimerS: Float64Array;
  /** xoshiro128** state, RNG_STATE_WORDS per vehicle. */
  readonly rngState: Uint32Array;

  // --- inputs, set by the caller before step ---
  /** What PX4's velocity controller is asked to track, m/s NED. NaN on an axis is taken as 0 (hold). */
  readonly velocitySetpointNedMS: Float64Array;
  /** Heading to turn to, rad; NaN holds the current heading. */
  readonly yawSetpointRad: Float64Array;
  /** 1 = armed and spinning; 0 = motors off (on the ground it stays, in the air it falls). */
  readonly motorsOn: Uint8Array;

  constructor(count: number, params: MultirotorParams, seed: number, options: FleetOptions = {}) {
    if (!Number.isInteger(count) || count < 1 || count > MAX_FLEET_SIZE) {
      throw new AerieError('CONFIG_INVALID_VALUE', `fleet count must be an integer in [1, ${MAX_FLEET_SIZE}]`, {
        count,
      });
    }
    if (typeof seed !== 'number' || !Number.isFinite(seed)) {
      throw new AerieError('CONFIG_INVALID_VALUE', 'fleet seed must be a finite number', { seed });
    }
    const indexOffset = options.indexOffset ?? 0;
    if (!Number.isSafeInteger(indexOffset) || indexOffset < 0) {
      throw new AerieError('CONFIG_INVALID_VALUE', 'indexOffset must be a non-negative integer', { indexOffset });
    }
    this.count = count;
    this.#params = withParams(params);
    const n = count;
    const n3 = 3 * n;
    this.positionNedM = new Float64Array(n3);
    this.velocityNedMS = new Float64Array(n3);
    this.accelerationNedMS2 = new Float64Array(n3);
    this.rollRad = new Float64Array(n);
    this.pitchRad = new Float64Array(n);
    this.yawRad = new Float64Array(n);
    this.rollRateRadS = new Float64Array(n);
    this.pitchRateRadS = new Float64Array(n);
    this.yawRateRadS = new Float64Array(n);
    this.thrustRatio = new Float64Array(n);
    this.windNedMS = new Float64Array(n3);
    this.landed = new Uint8Array(n);
    this.groundContact = new Uint8Array(n);
    this.hardImpactCount = new Uint32Array(n);
    this.touchdownSpeedMS = new Float64Array(n);
    this.batteryRemaining = new Float64Array(n);
    this.batteryVoltageV = new Float64Array(n);
    this.batteryCurrentA = new Float64Array(n);
    this.batteryPowerW = new Float64Array(n);
    this.energyUsedWh = new Float64Array(n);
    this.batteryFailed = new Uint8Array(n);
    this.windMeanNedMS = new Float64Array(n3);
    this.gustStdMS = new Float64Array(n);
    this.turbulenceNedMS = new Float64Array(n3);
    this.injectedGustNedMS = new Float64Array(n3);
    this.disturbanceEstimateNedMS2 = new Float64Array(n3);
    this.landedTimerS = new Float64Array(n);
    this.rngState = new Uint32Array(RNG_STATE_WORDS * n);
    this.velocitySetpointNedMS = new Float64Array(n3);
    this.yawSetpointRad = new Float64Array(n);
    this.motorsOn = new Uint8Array(n);

    const root = new Uint32Array(RNG_STATE_WORDS);
    seedKeyInto(seed, root, 0);
    for (let i = 0; i < n; i++) {
      forkKeyInto(root, 0, indexOffset + i, this.rngState, RNG_STATE_WORDS * i);
      this.resetVehicle(i);
    }
  }

  /** Fleet-wide parameters. Assigning validates and freezes a copy (PX4 PARAM_SET changes limits in flight). */
  get params(): MultirotorParams {
    return this.#params;
  }

  set params(value: MultirotorParams) {
    this.#params = withParams(value);
  }

  /** Simulated seconds since construction. */
  get timeS(): number {
    return this.#timeS;
  }

  /**
   * Advance every vehicle by dtS seconds (0 does nothing). Intervals longer than MAX_SUBSTEP_S are integrated in
   * equal sub-steps, so step(0.1) equals five step(0.02). Allocates nothing.
   */
  step(dtS: number): void {
    if (!(dtS >= 0) || dtS === Number.POSITIVE_INFINITY) {
      throw new AerieError('CONFIG_INVALID_VALUE', 'step: dtS must be a finite number >= 0', { dtS });
    }
    if (dtS === 0) return;
    const substeps = Math.ceil(dtS / MAX_SUBSTEP_S - 1e-9);
    const h = dtS / substeps;
    stepKernel(this, this.#params, h, substeps);
    for (let k = 0; k < substeps; k++) this.#timeS += h;
  }

  /**
   * Wind at vehicle i: the mean velocity of the air, m/s NED (where it blows to: [5, 0, 0] pushes north), and the
   * turbulence intensity, m/s standard deviation (0 = steady). Turbulence draws from the vehicle's own seeded stream.
   */
  setWind(i: number, meanNedMS: Vec3, gustStdMS: number): void {
    this.#checkIndex(i);
    checkVec('wind mean', meanNedMS);
    if (!Number.isFinite(gustStdMS) || gustStdMS < 0) throw scenarioError('gust std must be >= 0 m/s', { gustStdMS });
    const i3 = 3 * i;
    for (let k = 0; k < 3; k++) this.windMeanNedMS[i3 + k] = meanNedMS[k];
    this.gustStdMS[i] = gustStdMS;
    this.#refreshWind(i);
  }

  /** The same wind for every vehicle (each still gets its own turbulence). */
  setWindAll(meanNedMS: Vec3, gustStdMS: number): void {
    for (let i = 0; i < this.count; i++) this.setWind(i, meanNedMS, gustStdMS);
  }

  /** A sudden gust at vehicle i, m/s NED, that decays with gustDecayTimeConstantS. Adds to any gust still there. */
  addGust(i: number, gustNedMS: Vec3): void {
    this.#checkIndex(i);
    checkVec('gust', gustNedMS);
    const i3 = 3 * i;
    for (let k = 0; k < 3; k++) this.injectedGustNedMS[i3 + k] += gustNedMS[k];
    this.#refreshWind(i);
  }

  /** Low-battery fault: the state of charge drops to `remaining` (0..1). Never raises it. */
  setBatteryRemaining(i: number, remaining: number): void {
    this.#checkIndex(i);
    if (!(remaining >= 0 && remaining <= 1)) throw scenarioError('battery remaining must be in [0, 1]', { remaining });
    if (remaining < this.batteryRemaining[i]) {
      this.batteryRemaining[i] = remaining;
      if (this.batteryFailed[i] === 0) this.#refreshVoltage(i);
    }
  }

  /** Battery failure: voltage collapses, nothing left, motors stop producing thrust (in the air it falls). */
  failBattery(i: number): void {
    this.#checkIndex(i);
    this.batteryFailed[i] = 1;
    this.batteryRemaining[i] = 0;
    this.batteryVoltageV[i] = 0;
    this.batteryCurrentA[i] = 0;
    this.batteryPowerW[i] = 0;
  }

  /**
   * Put vehicle i back to a fresh start: at rest at `positionNedM` (default home, on the ground), level, heading
   * `yawRad`, charged to `batteryRemaining`, no faults, counters cleared. Inputs go to a safe hold: zero velocity
   * setpoint, hold heading, motors on only if it starts in the air (so it hovers there). Wind settings and the
   * random stream carry on: they belong to the environment, not the vehicle.
   */
  resetVehicle(i: number, init: VehicleInit = {}): void {
    this.#checkIndex(i);
    const pos = init.positionNedM ?? [0, 0, 0];
    checkVec('position', pos);
    if (pos[2] > 0) throw scenarioError('start position must not be below the ground (d <= 0)', { d: pos[2] });
    const yaw = init.yawRad ?? 0;
    if (!Number.isFinite(yaw)) throw scenarioError('start yaw must be finite', { yaw });
    const remaining = init.batteryRemaining ?? 1;
    if (!(remaining >= 0 && remaining <= 1)) throw scenarioError('battery remaining must be in [0, 1]', { remaining });
    const i3 = 3 * i;
    const onGround = pos[2] === 0;
    for (let k = 0; k < 3; k++) {
      this.positionNedM[i3 + k] = pos[k] === 0 ? 0 : pos[k]; // no -0 in state
      this.velocityNedMS[i3 + k] = 0;
      this.accelerationNedMS2[i3 + k] = 0;
      this.disturbanceEstimateNedMS2[i3 + k] = 0;
      this.velocitySetpointNedMS[i3 + k] = 0;
    }
    this.rollRad[i] = 0;
    this.pitchRad[i] = 0;
    this.yawRad[i] = Math.atan2(Math.sin(yaw), Math.cos(yaw));
    this.rollRateRadS[i] = 0;
    this.pitchRateRadS[i] = 0;
    this.yawRateRadS[i] = 0;
    this.landed[i] = onGround ? 1 : 0;
    this.groundContact[i] = onGround ? 1 : 0;
    this.landedTimerS[i] = 0;
    this.hardImpactCount[i] = 0;
    this.touchdownSpeedMS[i] = 0;
    this.batteryFailed[i] = 0;
    this.batteryRemaining[i] = remaining;
    this.batteryCurrentA[i] = 0;
    this.batteryPowerW[i] = 0;
    this.energyUsedWh[i] = 0;
    this.yawSetpointRad[i] = Number.NaN;
    this.motorsOn[i] = onGround ? 0 : 1;
    this.thrustRatio[i] = onGround ? 0 : 1;
    this.#refreshVoltage(i);
    this.#refreshWind(i);
  }

  #checkIndex(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.count) {
      throw scenarioError(`vehicle index must be an integer in [0, ${this.count - 1}]`, { index: i });
    }
  }

  #refreshWind(i: number): void {
    const i3 = 3 * i;
    for (let k = 0; k < 3; k++) {
      this.windNedMS[i3 + k] =
        this.windMeanNedMS[i3 + k] + this.turbulenceNedMS[i3 + k] + this.injectedGustNedMS[i3 + k];
    }
  }

  /** Voltage at the present state of charge and current (between steps, after a fault or reset). */
  #refreshVoltage(i: number): void {
    const p = this.#params;
    const ocv = p.batteryCellCount * cellOpenCircuitVoltageV(this.batteryRemaining[i]);
    this.batteryVoltageV[i] = ocv - this.batteryCurrentA[i] * p.batteryInternalResistanceOhm;
  }
}

function checkVec(what: string, v: Vec3): void {
  if (v == null || v.length !== 3 || ![v[0], v[1], v[2]].every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw scenarioError(`${what} must be three finite numbers (NED)`, { value: v });
  }
}
