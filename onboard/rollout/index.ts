/**
 * Onboard policy rollouts: signed bundles received (chunks on the drone's `bundle` channel, or HTTP from the
 * station), verified (signature, hashes, policy contract, the autopilot's PX4 parameters), kept in slots on disk with
 * an atomic switch, activated only while landed and disarmed, run in shadow beside the active policy, and reverted
 * on the drone when a fresh activation trips the monitor. See README.md.
 */
export { type BootFiles, bootFiles } from './boot.js';
export { RolloutManager } from './manager.js';
export { FlightCounter, POLICY_ATTRIBUTABLE_RULES, TripWatch } from './probation.js';
export { type ParamReadings, paramValueOf, readPx4Params } from './px4-params.js';
export { BundleReceiver, type ReceiverDeps } from './receiver.js';
export { ShadowFilter, ShadowRunner, ShadowStats, type ShadowTick, type ShadowWindow } from './shadow.js';
export {
  type BundleFiles,
  type CrashPoint,
  DEFAULT_SLOT,
  type Probation,
  SLOT_NAMES,
  type SlotInfo,
  type SlotName,
  type SlotState,
  SlotStore,
} from './slots.js';
export { type ChunkIn, ChunkTransfer, fetchBundle, MAX_CHUNK_BYTES, splitIntoChunks } from './transfer.js';
export type {
  PolicyAction,
  PolicyEvent,
  PolicyStatus,
  RolloutAnswer,
  RolloutCommand,
  RolloutHost,
  RolloutOptions,
  ShadowMetrics,
} from './types.js';
export { type VerifyResult, type VerifyStep, verifyBundle } from './verify.js';
