/**
 * The multirotor model, written once in structure-of-arrays form over typed arrays: the PX4-like simulated
 * vehicles in sitl/ use it with one vehicle (or one per PX4 instance), the training environment steps thousands
 * together. Pure stepping, time passed in (step(dtS)); no I/O, no timers, no allocation in the step. Seeded:
 * the same seed and inputs give bit-identical states.
 *
 * Frames and units: NED metres from home, flat ground at d = 0; vectors at index i*3+k (k = 0 north, 1 east,
 * 2 down); radians; SI units in every name.
 */
export { cellOpenCircuitVoltageV, packCurrentA } from './battery.js';
export { type FleetOptions, MAX_FLEET_SIZE, MAX_SUBSTEP_S, MultirotorFleet, type VehicleInit } from './fleet.js';
export { GRAVITY_MS2, LANDED_THRUST_RATIO } from './kernel.js';
export {
  DEFAULT_MULTIROTOR,
  MULTIROTOR_PARAMS_SCHEMA,
  type MultirotorParams,
  multirotorParamsHelp,
  withParams,
} from './params.js';
export { type Vec3Tuple, type VehicleSnapshot, vehicleSnapshot } from './snapshot.js';
