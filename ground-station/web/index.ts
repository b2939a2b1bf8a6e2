/** The station's JSON HTTP API (the dashboard UI comes later and will sit beside it). */
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
