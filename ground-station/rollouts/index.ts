/**
 * Policy rollouts at the station: the canary analysis (analysis/), the rollout state machine and its drone actions,
 * and the manager that persists, resumes and runs them on the station's timer. The registry and bundle distribution
 * (registry*, bundle-distribution*) sit beside them.
 */
export * from './analysis/index.js';
export {
  type ActionPlan,
  type DroneAction,
  type DronePolicyView,
  nextAction,
  planDroneActions,
} from './drone-actions.js';
export {
  advance,
  type CreateInput,
  createRollout,
  evaluate,
  ingestWindow,
  type ManualAction,
  manual,
  rollBack,
  type ShadowWindow,
  shadowVerdict,
  targetCount,
  topUp,
} from './machine.js';
export {
  type AckInput,
  type FleetDrone,
  type MetricsInput,
  type PolicyEventInput,
  type RolloutDronePort,
  type RolloutError,
  RolloutManager,
  type RolloutManagerDeps,
  type RolloutPolicies,
} from './manager.js';
export {
  ANALYSIS_OVERRIDES_SCHEMA,
  DEFAULT_AB_SHARE,
  DEFAULT_STEPS,
  type DroneActionKind,
  type DroneArm,
  isTerminal,
  type PendingAction,
  ROLLOUT_MODES,
  ROLLOUT_STATES,
  type Rollout,
  type RolloutAnalysisView,
  type RolloutMode,
  type RolloutState,
  rolloutView,
  type ShadowTotals,
  START_ROLLOUT_SCHEMA,
  type StartRolloutRequest,
  TERMINAL_STATES,
  type Transition,
} from './rollout.js';
export { type StationDronesDeps, stationRolloutDrones } from './station-drones.js';
