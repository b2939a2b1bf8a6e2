/**
 * The policy-runner port of the control loop's driver: load ONNX policies and shields (refusing any that break the
 * contract), run them at batch 1 under a deadline with faults as values, and hold the current one in a slot that
 * swaps only to a model that validates.
 */
export {
  DEFAULT_POLICY_RELATIVE_PATH,
  DEFAULT_SHIELD_RELATIVE_PATH,
  defaultPolicyPath,
  defaultShieldPath,
  GO_TO_GOAL_RELATIVE_PATH,
  goToGoalPolicyPath,
  loadDefaultPolicy,
  loadGoToGoalPolicy,
  packageRoot,
  writeGoToGoalPolicyFile,
} from './default-policy.js';
export { type LoadOptions, loadPolicy, loadShield, type ModelSource, SESSION_OPTIONS } from './load.js';
export type { ModelInfo } from './model-info.js';
export {
  type InferenceCounters,
  type InferenceFault,
  type InferenceOutcome,
  type MicrosecondClock,
  ModelRunner,
  type PolicyFaultReason,
  type PolicyOutcome,
  PolicyRunner,
  performanceClock,
  type ShieldOutcome,
  ShieldRunner,
} from './runner.js';
export { ModelSlot, PolicySlot, ShieldSlot, type SwapOutcome, type SwapRefusal } from './slot.js';
