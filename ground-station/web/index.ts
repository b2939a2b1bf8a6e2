/** The station's JSON HTTP API, the operator dashboard it serves at / and the dashboard's live stream. */
export { type AirspacePort, registerAirspaceRoutes } from './airspace-routes.js';
export { bearerMatches, generateToken } from './auth.js';
export {
  buildWebServer,
  type DeliveriesPort,
  type ExperiencePort,
  type FleetPort,
  type MonitoringPort,
  type WebDeps,
  type WebServer,
} from './server.js';
export { DashboardStream, type StreamSource } from './stream.js';
export type { DroneFrame, FleetDelta } from './stream-frame.js';
