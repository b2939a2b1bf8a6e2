/**
 * Parameters of the multirotor model, declared once (name, unit, range, meaning) through shared/config, so they are
 * validated the same way as every other configuration and can be listed with configHelp(). Defaults describe a
 * 1.5 kg delivery quadrotor on a 4S 5000 mAh pack flown by PX4 v1.15 with its default limits.
 */
import { type ConfigDecl, configHelp, declareConfig, parseConfig } from '../config/index.js';

/** What the model needs to know about one airframe and its PX4 tuning. Fleet-wide: one value per fleet. */
export interface MultirotorParams {
  /** Horizontal speed limit, m/s (PX4 MPC_XY_VEL_MAX). Setpoints above it are scaled down. */
  maxHorizontalSpeedMS: number;
  /** Climb speed limit, m/s (PX4 MPC_Z_VEL_MAX_UP). */
  maxClimbSpeedMS: number;
  /** Descent speed limit, m/s (PX4 MPC_Z_VEL_MAX_DN). */
  maxDescentSpeedMS: number;
  /** Horizontal acceleration limit of the velocity loop, m/s^2 (PX4 MPC_ACC_HOR). */
  maxHorizontalAccelMS2: number;
  /** Vertical acceleration limit, both directions, m/s^2 (PX4 MPC_ACC_UP_MAX / MPC_ACC_DOWN_MAX). */
  maxVerticalAccelMS2: number;
  /** Time constant of the closed velocity loop's first-order response, s. */
  velocityTimeConstantS: number;
  /** Yaw rate limit, rad/s (PX4 MPC_YAWRAUTO_MAX, 45 deg/s). */
  maxYawRateRadS: number;
  /** Take-off mass including payload, kg. */
  massKg: number;
  /** Linear aerodynamic drag on airspeed, kg/s: force = -c * (velocity - wind). */
  dragCoefficientKgS: number;
  /** Usable battery energy, Wh (4S 5000 mAh is about 74 Wh). */
  batteryCapacityWh: number;
  /** Electrical power in a steady hover at this mass, W. */
  hoverPowerW: number;
  /**
   * Time constant of the velocity loop's integral action, s: how fast it learns a steady disturbance (wind drag,
   * mass error). Smaller rejects gusts faster; the transient error in a gust scales with it.
   */
  windRejectionTimeConstantS: number;
  /** Time constant of yaw tracking before the rate limit, s (about 1 / PX4 MC_YAW_P). */
  yawTimeConstantS: number;
  /** Tilt limit, rad (PX4 MPC_TILTMAX_AIR, 45 deg): bounds the horizontal thrust. */
  maxTiltRad: number;
  /** Maximum total thrust over weight, dimensionless. Vertical thrust has priority when saturated, as in PX4. */
  maxThrustToWeight: number;
  /** Thrust over weight of spinning motors at idle (landed and armed) and the minimum in flight (PX4 MPC_THR_MIN). */
  idleThrustToWeight: number;
  /** Share of electrical power turned into climb work, dimensionless: climbing costs m*g*climbRate/efficiency extra. */
  propulsionEfficiency: number;
  /** Cells in series; the pack voltage is cells x the per-cell discharge curve (4.2 V full, 3.3 V empty). */
  batteryCellCount: number;
  /** Internal resistance of the whole pack, ohm: voltage sags by current x resistance. */
  batteryInternalResistanceOhm: number;
  /** Correlation time of the turbulence (Ornstein-Uhlenbeck gusts), s. */
  gustTimeConstantS: number;
  /** Vertical turbulence intensity as a fraction of horizontal, dimensionless (near the ground it is smaller). */
  verticalGustRatio: number;
  /** Decay time constant of a gust injected with addGust, s. */
  gustDecayTimeConstantS: number;
  /** How long a vehicle must sit on the ground with low thrust and speed before it is declared landed, s. */
  landDetectTimeS: number;
  /** Touchdown speed at or above which a ground contact counts as a hard impact (crash), m/s. */
  hardImpactSpeedMS: number;
}

const DEG = Math.PI / 180;

/** The declaration behind MultirotorParams: default, unit, range and meaning of each field. */
export const MULTIROTOR_PARAMS_SCHEMA = declareConfig({
  maxHorizontalSpeedMS: { type: 'number', default: 12, unit: 'm/s', min: 0, max: 50, doc: 'MPC_XY_VEL_MAX' },
  maxClimbSpeedMS: { type: 'number', default: 3, unit: 'm/s', min: 0, max: 20, doc: 'MPC_Z_VEL_MAX_UP' },
  maxDescentSpeedMS: { type: 'number', default: 1.5, unit: 'm/s', min: 0, max: 20, doc: 'MPC_Z_VEL_MAX_DN' },
  maxHorizontalAccelMS2: { type: 'number', default: 3, unit: 'm/s^2', min: 0.1, max: 30, doc: 'MPC_ACC_HOR' },
  maxVerticalAccelMS2: { type: 'number', default: 4, unit: 'm/s^2', min: 0.1, max: 30, doc: 'MPC_ACC_UP/DOWN_MAX' },
  velocityTimeConstantS: { type: 'number', default: 0.3, unit: 's', min: 0.02, max: 10, doc: 'Velocity loop lag.' },
  maxYawRateRadS: { type: 'number', default: 45 * DEG, unit: 'rad/s', min: 0.01, max: 20, doc: 'MPC_YAWRAUTO_MAX' },
  massKg: { type: 'number', default: 1.5, unit: 'kg', min: 0.05, max: 500, doc: 'Take-off mass with payload.' },
  dragCoefficientKgS: { type: 'number', default: 0.3, unit: 'kg/s', min: 0, max: 100, doc: 'Linear drag on airspeed.' },
  batteryCapacityWh: { type: 'number', default: 74, unit: 'Wh', min: 0.1, max: 100_000, doc: 'Usable pack energy.' },
  hoverPowerW: { type: 'number', default: 180, unit: 'W', min: 1, max: 1_000_000, doc: 'Electrical hover power.' },
  windRejectionTimeConstantS: {
    type: 'number',
    default: 1,
    unit: 's',
    min: 0.05,
    max: 60,
    doc: 'Integral action time constant.',
  },
  yawTimeConstantS: { type: 'number', default: 0.35, unit: 's', min: 0.01, max: 10, doc: 'Yaw tracking lag.' },
  maxTiltRad: { type: 'number', default: 45 * DEG, unit: 'rad', min: 0.05, max: 1.5, doc: 'MPC_TILTMAX_AIR' },
  maxThrustToWeight: { type: 'number', default: 2, min: 1.05, max: 20, doc: 'Thrust ceiling over weight.' },
  idleThrustToWeight: { type: 'number', default: 0.1, min: 0, max: 0.9, doc: 'Idle / minimum thrust over weight.' },
  propulsionEfficiency: { type: 'number', default: 0.7, min: 0.05, max: 1, doc: 'Climb-work efficiency.' },
  batteryCellCount: { type: 'integer', default: 4, min: 1, max: 24, doc: 'Cells in series.' },
  batteryInternalResistanceOhm: { type: 'number', default: 0.03, unit: 'ohm', min: 0, max: 10, doc: 'Pack sag.' },
  gustTimeConstantS: { type: 'number', default: 2, unit: 's', min: 0.05, max: 600, doc: 'Turbulence correlation.' },
  verticalGustRatio: { type: 'number', default: 0.5, min: 0, max: 1, doc: 'Vertical/horizontal turbulence.' },
  gustDecayTimeConstantS: { type: 'number', default: 2, unit: 's', min: 0.05, max: 600, doc: 'addGust decay.' },
  landDetectTimeS: { type: 'number', default: 1, unit: 's', min: 0, max: 30, doc: 'Landed detector delay.' },
  hardImpactSpeedMS: { type: 'number', default: 3, unit: 'm/s', min: 0.1, max: 1000, doc: 'Crash touchdown speed.' },
} satisfies Record<keyof MultirotorParams, ConfigDecl>);

/**
 * Validated, frozen parameters: defaults with `overrides` applied. Throws AerieError CONFIG_UNKNOWN_KEY for a field
 * the model does not have, CONFIG_INVALID_VALUE for a non-finite or out-of-range value (the message names the unit).
 */
export function withParams(overrides: Partial<MultirotorParams>): MultirotorParams {
  return parseConfig(MULTIROTOR_PARAMS_SCHEMA, { ...overrides });
}

/** The defaults (PX4 v1.15 limits, 1.5 kg quadrotor, 74 Wh 4S pack). */
export const DEFAULT_MULTIROTOR: Readonly<MultirotorParams> = withParams({});

/** The parameter table for --help output: flag, default, unit and range, meaning. */
export function multirotorParamsHelp(): string {
  return configHelp(MULTIROTOR_PARAMS_SCHEMA);
}
