/**
 * The parts startStation composes: message handlers, background work (rounds, tracked tasks), the monitoring glue,
 * the fleet airspace, the HTTP ports, the traffic message and the telemetry latency recorder.
 * ground-station/station.ts is the face.
 */
export {
  AIRSPACE_REQUEST_SCHEMA,
  AIRSPACE_STATE_KEY,
  type AirspaceRequest,
  orderRefusal,
  parseAirspaceRequest,
  pointRefusal,
  readAirspaceFile,
  StationAirspace,
} from './airspace.js';
export { type HandlerDeps, stationHandlers } from './handlers.js';
export { LatencyRecorder } from './latency.js';
export { ALERTS_STATE_KEY, parseWindow, type StationCounters, StationMonitoring } from './monitoring-port.js';
export { airspacePort, deliveriesPort, fleetPort } from './ports.js';
export { type SequencedChannel, SequenceTracker, type SequenceVerdict } from './sequences.js';
export { fleetTraffic } from './traffic.js';
export { RoundScheduler, TaskTracker } from './work.js';
