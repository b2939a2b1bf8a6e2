/**
 * Delivery assignment: each round, an exact optimal matching of open orders to available drones over flight time,
 * battery feasibility (reserve to return), deadlines, priority and risk. Pure: no MQTT, HTTP or database here.
 */
export { assignmentBenchmark, randomDenseCosts, timeSolverMs } from './bench.js';
export {
  ASSIGNMENT_CONFIG,
  type AssignableDrone,
  type AssignmentConfig,
  type BatteryModel,
  DEFAULT_ASSIGNMENT_CONFIG,
  type DeliveryOrder,
  dronePositionNeM,
  effectiveRiskAversion,
  evaluatePair,
  type Infeasibility,
  type NeM,
  type PairEvaluation,
  parseAssignmentConfig,
} from './cost-model.js';
export { type LapSolution, solveAssignment } from './lap.js';
export {
  type CommittedAssignment,
  type ExcludedDroneReason,
  type PlannedAssignment,
  planRound,
  type ReplanInput,
  type ReplanResult,
  type RoundInput,
  type RoundPlan,
  type RoundStats,
  replanRound,
  type UnassignedReason,
} from './plan.js';
