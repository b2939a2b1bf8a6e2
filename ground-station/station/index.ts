/**
 * The parts startStation composes: message handlers, background work (rounds, tracked tasks), the monitoring glue,
 * the HTTP ports, the traffic message and the telemetry latency recorder. ground-station/station.ts is the face.
 */
export { type HandlerDeps, stationHandlers } from './handlers.js';
export { LatencyRecorder } from './latency.js';
export { ALERTS_STATE_KEY, parseWindow, type StationCounters, StationMonitoring } from './monitoring-port.js';
export { deliveriesPort, fleetPort } from './ports.js';
export { type SequencedChannel, SequenceTracker, type SequenceVerdict } from './sequences.js';
export { fleetTraffic } from './traffic.js';
export { RoundScheduler, TaskTracker } from './work.js';
