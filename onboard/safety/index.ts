/**
 * The onboard safety filter: sanity, box, control barrier functions, shield and runtime monitor, ordered by
 * SafetyFilter. Pure: no timers, sockets or ONNX sessions; time is passed in. See README.md for the layers, the rule
 * table and the configuration.
 *
 *   const filter = new SafetyFilter(parseSafetyConfig(raw));
 *   const decision = filter.update(input);   // every tick; never throws
 *   send(decision.velocityNedMS); if (decision.monitor.transition) log(...)
 *
 * The layers are exported too, for tools and tests that use one on its own; SafetyFilter is the normal entry.
 */

export {
  type BarrierConstraint,
  type BarrierStatus,
  type BarrierSummary,
  barrierConstraints,
  filterVelocity,
  marginOf,
  ruleFallback,
} from './barrier.js';
export { BARRIER_KINDS, type BarrierFunction, type BarrierKind, barrierGeometry } from './barrier-geometry.js';
export { allowedClosingSpeedMS, type BarrierShape, slackForSpeedM } from './barrier-shape.js';
export { applyBox, limitRate, limitSpeed, type RateLimits, type SpeedLimits, withinSpeedLimits } from './box.js';
export {
  DEFAULT_SAFETY_CONFIG,
  parseSafetyConfig,
  SAFETY_CONFIG_SCHEMA,
  type SafetyConfig,
  safetyConfigHelp,
} from './config.js';
export {
  LATCH_FROM,
  type MonitorCounters,
  type MonitorReport,
  type MonitorTransition,
  RuntimeMonitor,
} from './monitor.js';
export {
  type MonitorInput,
  type MonitorRule,
  type MonitorRuleName,
  type MonitorView,
  monitorRules,
} from './monitor-rules.js';
export type { LayerWindowStats, WindowStats } from './monitor-window.js';
export { type HalfSpace3, maxViolation, projectOntoHalfSpaces, type QpResult, type QpStatus } from './qp.js';
export { type BarrierReport, type SafetyDecision, SafetyFilter } from './safety-filter.js';
export { ACTION_LENGTH, applySanity, type SanityResult } from './sanity.js';
export { evaluateShield, type ShieldDecision } from './shield.js';
export { readState, type StateReading } from './state-reading.js';
export type {
  Intervention,
  InterventionReason,
  LinkHealth,
  MissionPhase,
  MonitorAction,
  Mutable,
  Neighbour,
  PolicyProposal,
  SafetyInput,
  SafetyLayer,
  SafetyVehicleState,
  ShieldVerdict,
} from './types.js';
export { actionSeverity, MONITOR_ACTIONS, SAFETY_LAYERS } from './types.js';
