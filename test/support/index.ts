/**
 * Helpers for scenarios that fly vehicles over MAVLink: vehicle endpoints (a simulated fleet on its own ports, or
 * real PX4 SITL from AERIE_PX4_ENDPOINTS), the clock the scenario runs on, and a small MAVLink test client.
 */
export { LockstepClock, type TestClock, WallClock } from './clock.js';
export {
  type AckResult,
  type ClientOptions,
  MavlinkTestClient,
  positionTarget,
  type SetpointSpec,
  type SetpointStreamer,
} from './mavlink-client.js';
export {
  portsFrom,
  px4EndpointsFromEnv,
  type StartOptions,
  startTestVehicles,
  type TestVehicle,
  type TestVehicles,
} from './vehicles.js';
