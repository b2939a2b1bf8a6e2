/**
 * The policy contract: what a policy model sees and what it answers, defined once for the onboard runtime, the
 * simulated fleet and the trainer. Pure: no I/O.
 *
 * Observation: OBSERVATION_SIZE float32 features in the order of OBSERVATION_LAYOUT, each a raw quantity (its unit
 * below) turned into a bounded, roughly unit-scale number by a FIXED transform of the contract (divide by a scale,
 * squash). Everything is in the local NED frame, so a policy is yaw-independent unless it chooses to read yaw.
 *
 * Normalisation: `buildObservation` produces exactly these fixed-scaled features and nothing else. A trained model
 * may also carry its own running mean/std (`aerie.obs_mean`, `aerie.obs_std`, JSON arrays of 32 numbers); the ONNX
 * graph applies them itself (Sub/Div nodes ahead of the first layer, see onnx-writer), so the runtime feeds the raw
 * contract observation to any model and never needs to know how a model was trained. The metadata copies are for
 * people and tools (registry, evaluation), not for the runtime.
 *
 * Action: ACTION_SIZE values in [-1, 1], mapped to a velocity setpoint NED by `actionToVelocityNedMS` with the
 * vehicle's configured maximum speeds.
 *
 * Versioning: CONTRACT_VERSION is semver. Any change to the layout, a transform, a scale or the action mapping bumps
 * MAJOR, and a model whose contract MAJOR differs is refused at load. MINOR/PATCH cover additions that old models
 * still satisfy (new optional metadata keys, documentation).
 */

export const CONTRACT_VERSION = '1.0.0';

export const OBSERVATION_SIZE = 32;
export const ACTION_SIZE = 3;

/** A model's tensor interface: one float32 input [batch, inputSize] and one float32 output [batch, outputSize]. */
export interface ModelInterface {
  readonly kind: ModelKind;
  readonly inputName: string;
  readonly inputSize: number;
  readonly outputName: string;
  readonly outputSize: number;
}

export type ModelKind = 'policy' | 'shield';

/** A policy: observation -> action. */
export const POLICY_INTERFACE: ModelInterface = Object.freeze({
  kind: 'policy',
  inputName: 'observation',
  inputSize: OBSERVATION_SIZE,
  outputName: 'action',
  outputSize: ACTION_SIZE,
});

/**
 * A shield (cost critic): the observation followed by a candidate action -> expected safety cost of taking it.
 * Larger is worse; the safety folder decides the threshold.
 */
export const SHIELD_INTERFACE: ModelInterface = Object.freeze({
  kind: 'shield',
  inputName: 'observation_action',
  inputSize: OBSERVATION_SIZE + ACTION_SIZE,
  outputName: 'cost',
  outputSize: 1,
});

/** The symbolic batch dimension the writer uses; a loader accepts it, any other symbol, or 1. */
export const BATCH_DIM = 'batch';

/** Keys of the ONNX `metadata_props` the contract defines. Values are strings (JSON where noted). */
export const METADATA_KEYS = Object.freeze({
  /** Required. The CONTRACT_VERSION the model was built for. */
  contractVersion: 'aerie.contract_version',
  /** Required. 'policy' or 'shield'. */
  kind: 'aerie.kind',
  /** Optional. JSON array of OBSERVATION_SIZE numbers: the mean the graph subtracts (informative). */
  obsMean: 'aerie.obs_mean',
  /** Optional. JSON array of OBSERVATION_SIZE positive numbers: the std the graph divides by (informative). */
  obsStd: 'aerie.obs_std',
  /** Optional. Hash of the training configuration that produced the model. */
  trainingConfigHash: 'aerie.training_config_hash',
  /** Optional. JSON object of evaluation metrics (name -> number). */
  metrics: 'aerie.metrics',
  /** Optional. Human name of the model, e.g. 'go-to-goal'. */
  name: 'aerie.name',
  /** Optional. One line on what the model is. */
  description: 'aerie.description',
});

export interface Semver {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}

/** Parse MAJOR.MINOR.PATCH (no pre-release tags: contract versions do not use them). */
export function parseSemver(text: string): Semver | null {
  const m = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/.exec(text.trim());
  if (!m) return null;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
}

/** Whether a model built for `modelVersion` may run under this contract: same MAJOR. */
export function isCompatibleContractVersion(modelVersion: string, ours: string = CONTRACT_VERSION): boolean {
  const theirs = parseSemver(modelVersion);
  const mine = parseSemver(ours);
  return theirs !== null && mine !== null && theirs.major === mine.major;
}
