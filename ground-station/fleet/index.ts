/** The fleet registry (pure: payloads and receive times in, transitions out) and the API's view of a drone. */
export {
  DEFAULT_REGISTRY_OPTIONS,
  type DroneHealth,
  type DroneState,
  FleetRegistry,
  type HealthLevel,
  type RegistryOptions,
  type StatusChange,
  toRecord,
} from './registry.js';
export { type DroneView, droneView } from './view.js';
