/**
 * sitl/: a fleet of simulated multicopters that speak MAVLink 2 over UDP as PX4 v1.15 SITL does toward a companion
 * computer and a GCS. The face for tests, the CLI, benchmarks and (later) the dashboard.
 */
export {
  FAULT_KINDS,
  type Fault,
  type FaultKind,
  type FaultRequest,
  FaultyTransport,
  type LinkSelector,
  NullTransport,
  parseFault,
  parseFaultLine,
  parseFaultSchedule,
  type ScheduledFault,
  type VehicleTarget,
} from './faults.js';
export {
  PX4_SITL_HOME,
  PX4_SITL_PORTS,
  SitlFleet,
  type SitlFleetOptions,
  type SitlPorts,
  type VehicleCounters,
  type VehicleEndpoint,
  type VehicleStatus,
} from './fleet.js';
export { type FlatOutResult, type RealtimeOptions, runFlatOut, runRealtime } from './runner.js';
export {
  Commander,
  DEFAULT_RATES_HZ,
  MSG,
  type NavState,
  type ParamName,
  ParamStore,
  PX4_PARAMS,
  SimVehicle,
} from './vehicle/index.js';
