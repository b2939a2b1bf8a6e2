/**
 * The onboard runtime's autopilot link: vehicle state from PX4 telemetry, the commander, setpoints, heartbeats,
 * link up/down. See README.md.
 */
export { AutopilotLink, type AutopilotLinkCounters, type AutopilotLinkOptions } from './autopilot-link.js';
export { type Clock, ManualClock, scaledClock, systemClock, type TimerHandle } from './clock.js';
export {
  type AckResultName,
  Commander,
  type CommanderCounters,
  type CommanderDeps,
  type CommandFailureReason,
  type CommandOptions,
  type CommandResult,
} from './commander.js';
export { LINK_CONFIG_SCHEMA, type LinkConfig, parseLinkConfig } from './config.js';
export { companionHeartbeat, HeartbeatSender, HeartbeatWatchdog } from './heartbeat.js';
export {
  type IntervalRequest,
  type IntervalState,
  type IntervalStatus,
  intervalRequestsFromConfig,
  MessageIntervals,
} from './message-intervals.js';
export {
  MAV_FRAME_LOCAL_NED,
  type PositionSetpoint,
  positionTypeMask,
  type SetpointCounters,
  SetpointSender,
  TYPE_MASK,
  type VelocitySetpoint,
  velocityTypeMask,
} from './setpoints.js';
export { isPx4Autopilot, type TrackerOptions, VehicleStateTracker } from './state-tracker.js';
export {
  copyVehicleState,
  fieldAgeMs,
  type GeoPosition,
  type LandedState,
  type MavlinkSource,
  type ModeState,
  type NedVector,
  newVehicleState,
  quaternionToEuler,
  STATE_CHANGE,
  type TimestampedField,
  TRACKED_MESSAGE_IDS,
  type VehicleState,
  type VehicleTimestampsMs,
} from './vehicle-state.js';
export { StateWaiters, type WaitResult } from './waiters.js';
