/**
 * The PX4 emulation of one vehicle: commander (modes, arming and checks, auto-disarm), offboard monitor, failsafe,
 * navigator, parameters, telemetry streams, and the I/O shell that binds it to a MavlinkLink.
 */
export {
  Commander,
  type CommanderEvent,
  type CommanderOptions,
  type ControlOutput,
  LANDED_STATE,
  MAV_STATE,
  type VehicleSense,
} from './commander.js';
export { type BatteryWarning, batteryWarningFor, Failsafe, type FailsafeAction } from './failsafe.js';
export { type ShellCounters, VehicleLinkShell } from './link-shell.js';
export { baseModeOf, customModeOf, type NavState, navStateFromSetMode, standardModeOf } from './modes.js';
export { type Behaviour, landSpeedMS, Navigator } from './navigator.js';
export {
  decodePositionTarget,
  OffboardMonitor,
  type OffboardSetpoint,
  POSITION_ONLY_MASK,
  type RawPositionTarget,
  TYPE_MASK,
  VELOCITY_ONLY_MASK,
} from './offboard.js';
export {
  floatBitsAsInt32,
  int32AsFloatBits,
  MAV_PARAM_TYPE_INT32,
  MAV_PARAM_TYPE_REAL32,
  type ParamName,
  ParamStore,
  PX4_PARAMS,
} from './params.js';
export { DEFAULT_RATES_HZ, type LinkMode, MSG, StreamScheduler } from './streams.js';
export { TELEMETRY, type TelemetrySource } from './telemetry.js';
export { SimVehicle, type SimVehicleOptions } from './vehicle.js';
