/**
 * The one catalogue of Aerie's errors. Every error thrown at an edge (CLI, config, files, network input) is an
 * AerieError with a stable code from this table. In the control loop, failures are values, not exceptions.
 * docs/errors.md documents every code; a test keeps the two in step.
 */
export const ERROR_CATALOGUE = {
  CONFIG_UNKNOWN_KEY: 'A configuration key that Aerie does not declare was given.',
  CONFIG_INVALID_VALUE: 'A configuration value has the wrong type, is out of range, or cannot be parsed.',
  CONFIG_CONFLICT: 'Two configuration values contradict each other.',
  CLI_USAGE: 'A command line could not be understood.',
  MAVLINK_URL_INVALID: 'A MAVLink endpoint URL is not udp://HOST:PORT, udp://:PORT or serial:PATH:BAUD.',
  MAVLINK_LINK_CLOSED: 'A MAVLink link was used after it was closed.',
  MAVLINK_SIGNING_KEY_INVALID: 'A MAVLink signing key file is missing or not 32 bytes (raw or 64 hex characters).',
  PORT_IN_USE: 'A network port Aerie needs is already taken by another process.',
  POLICY_LOAD_FAILED: 'A policy model file could not be read or parsed.',
  POLICY_CONTRACT_MISMATCH: "A policy model's inputs, outputs or contract version do not match the policy contract.",
  FILE_NOT_FOUND: 'A file named on the command line or in configuration does not exist.',
  SITL_SCENARIO_INVALID: 'A simulation scenario or fault request is malformed.',
  POLICY_EXPORT_INVALID: 'A model to be written is malformed (layer sizes, non-finite weights, bad normalisation).',
  EXPERIENCE_INVALID: 'An experience record or dataset file is malformed, of another major version, or corrupt.',
  TRAIN_CHECKPOINT_INVALID: 'A training checkpoint cannot be read, is corrupt, or does not match the configuration.',
  ASSIGNMENT_INPUT_INVALID: 'An assignment problem is malformed (matrix size, -Infinity cost, duplicate ids).',
  ALERT_RULE_INVALID: 'An alert rule is malformed (bad operator, window, duration or metric).',
  ALERT_STATE_INVALID: 'A saved alert state cannot be restored: malformed or of another schema version.',
  STORAGE_FAILED: 'The station database could not be opened, migrated or written.',
  CREDENTIALS_INVALID: 'A broker credentials file is malformed, or an entry to add is invalid or already there.',
  MQTT_CONNECT_FAILED: 'The station could not connect to its MQTT broker, or the broker refused its credentials.',
  PROTOCOL_INVALID: 'A protocol value to be sent (drone id, topic, payload) is malformed.',
  MQTT_URL_INVALID: 'An MQTT broker URL is not mqtt://HOST:PORT, mqtts://HOST:PORT, ws:// or wss://.',
  UPLINK_QUEUE_UNAVAILABLE: "The uplink's store-and-forward directory cannot be created, locked, read or written.",
  BUNDLE_MALFORMED: 'A policy bundle is not a readable bundle: bad layout, manifest, format version or truncated.',
  BUNDLE_UNSIGNED: 'A policy bundle carries no signature.',
  BUNDLE_UNTRUSTED_KEY: 'A policy bundle is signed by a key that is not among the trusted keys.',
  BUNDLE_SIGNATURE: "A policy bundle's signature does not verify: its manifest was changed after signing.",
  BUNDLE_HASH: "A policy bundle's part does not match the SHA-256 or size its manifest lists.",
  BUNDLE_CONTRACT: 'A policy bundle was built for another policy contract major version.',
  BUNDLE_PX4_PARAMS: "The autopilot's parameters differ from those a policy bundle expects.",
  BUNDLE_KEY_INVALID: 'A release key file is not an Ed25519 PEM key, or a key would be overwritten.',
  BUNDLE_TRANSFER_FAILED: 'A policy bundle could not be delivered to a drone (timeout, refused, or disconnected).',
  POLICY_EVAL_GATE: 'A candidate policy was refused by the evaluation gate: no passing SITL evaluation report.',
  POLICY_UNKNOWN: 'No policy with this version is in the station registry.',
  POLICY_TRANSITION_INVALID: 'A policy cannot move from its current registry state to the one asked for.',
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** An error thrown at an edge of the system, with a stable code and, where useful, what was kept. */
export class AerieError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(`${code}: ${message}`);
    this.name = 'AerieError';
    this.code = code;
    this.details = Object.freeze({ ...details });
  }
}

export function isAerieError(err: unknown, code?: ErrorCode): err is AerieError {
  return err instanceof AerieError && (code === undefined || err.code === code);
}

/** A failure as a value, for the loop and other places where throwing is wrong. */
export type Result<T, R = string> = { ok: true; value: T } | { ok: false; reason: R };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const fail = <R>(reason: R): Result<never, R> => ({ ok: false, reason });
