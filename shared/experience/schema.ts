/**
 * The experience record: one control tick as the drone lived it (what it saw, what the policy asked, what the safety
 * filter let through, what it earned and cost), so the onboard runtime can record flights and the ground station can
 * store them and train from them. Defined once here; validated wherever it enters a process. Pure: no I/O.
 */
import { z } from 'zod';
import { AerieError, type Result } from '../errors.js';
import { ACTION_SIZE, OBSERVATION_SIZE } from '../policy/index.js';

/** Semver of the record and of the dataset file format. A reader refuses another MAJOR. */
export const EXPERIENCE_SCHEMA_VERSION = '1.0.0';
export const EXPERIENCE_SCHEMA_MAJOR = 1;

/** The safety layers whose interventions a record flags, in bit order (bit k = layer k). */
export const INTERVENTION_LAYERS = ['sanity', 'box', 'barrier', 'shield', 'monitor'] as const;
export type InterventionLayer = (typeof INTERVENTION_LAYERS)[number];
export type InterventionFlags = Readonly<Record<InterventionLayer, boolean>>;

/** Longest policy version string (bytes of UTF-8): a semver, a short hash or a registry id. */
export const MAX_POLICY_VERSION_BYTES = 64;

export interface ExperienceRecord {
  /** When the tick happened, microseconds (Unix epoch onboard; simulated time in the trainer). */
  readonly timestampUs: number;
  /** Flight (delivery) number on this recorder; episode boundaries for training. Unsigned 32-bit. */
  readonly episode: number;
  /** Tick number within the episode, from 0. Unsigned 32-bit. */
  readonly step: number;
  /** The contract observation (OBSERVATION_SIZE values, shared/policy), as fed to the policy. */
  readonly observation: readonly number[];
  /** The policy's action (ACTION_SIZE values, nominally in [-1, 1]). */
  readonly action: readonly number[];
  /** The action the safety filter let through, mapped back to action units (velocityNedMSToAction). */
  readonly filteredAction: readonly number[];
  /** Reward of this tick (the trainer's reward function; 0 where the recorder does not compute one). */
  readonly reward: number;
  /** Constraint cost of this tick (>= 0): breaches and safety interventions. */
  readonly cost: number;
  /** Which safety layers changed the setpoint this tick. */
  readonly interventions: InterventionFlags;
  /** The episode ended on this tick (arrival, crash, abort). */
  readonly done: boolean;
  /** The episode was cut on this tick for time or an operator, not by its own outcome (bootstrap from here). */
  readonly truncated: boolean;
  /** Which policy produced the action (contract-conforming model's version or hash). */
  readonly policyVersion: string;
}

const finite = z.number().finite();
const uint32 = z
  .number()
  .int()
  .min(0)
  .max(2 ** 32 - 1);

/** The record as JSON (e.g. an MQTT payload); the binary file carries the same fields. */
export const EXPERIENCE_RECORD_SCHEMA = z
  .object({
    timestampUs: finite.min(0),
    episode: uint32,
    step: uint32,
    observation: z.array(finite).length(OBSERVATION_SIZE),
    action: z.array(finite).length(ACTION_SIZE),
    filteredAction: z.array(finite).length(ACTION_SIZE),
    reward: finite,
    cost: finite.min(0),
    interventions: z.strictObject({
      sanity: z.boolean(),
      box: z.boolean(),
      barrier: z.boolean(),
      shield: z.boolean(),
      monitor: z.boolean(),
    }),
    done: z.boolean(),
    truncated: z.boolean(),
    policyVersion: z
      .string()
      .min(1)
      .refine((s) => Buffer.byteLength(s, 'utf8') <= MAX_POLICY_VERSION_BYTES, {
        message: `at most ${MAX_POLICY_VERSION_BYTES} bytes`,
      }),
  })
  .strict();

/** Check an untrusted value (parsed JSON) against the record schema; problems name the field. */
export function validateExperienceRecord(value: unknown): Result<ExperienceRecord, string[]> {
  const r = EXPERIENCE_RECORD_SCHEMA.safeParse(value);
  if (r.success) return { ok: true, value: r.data };
  return {
    ok: false,
    reason: r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(record)'}: ${i.message}`),
  };
}

/** validateExperienceRecord for an edge: throws EXPERIENCE_INVALID listing the problems. */
export function parseExperienceRecord(value: unknown, source = 'record'): ExperienceRecord {
  const r = validateExperienceRecord(value);
  if (!r.ok) {
    throw new AerieError('EXPERIENCE_INVALID', `${source}: ${r.reason.join('; ')}`, { source, problems: r.reason });
  }
  return r.value;
}

/** Interventions as a bit set (bit k = INTERVENTION_LAYERS[k]). */
export function interventionBits(flags: InterventionFlags): number {
  let bits = 0;
  INTERVENTION_LAYERS.forEach((layer, k) => {
    if (flags[layer]) bits |= 1 << k;
  });
  return bits;
}

export function interventionFlags(bits: number): InterventionFlags {
  const out = {} as Record<InterventionLayer, boolean>;
  INTERVENTION_LAYERS.forEach((layer, k) => {
    out[layer] = (bits & (1 << k)) !== 0;
  });
  return out;
}

export const NO_INTERVENTIONS: InterventionFlags = Object.freeze(interventionFlags(0));
