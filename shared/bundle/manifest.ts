/**
 * The bundle manifest: what a bundle holds (each part with its SHA-256 and size), the contract it was built for, its
 * lineage, its evaluation summary and the PX4 parameters the policy expects. Its canonical bytes are what the release
 * key signs. Pure: no I/O.
 */
import { z } from 'zod';

/** The bundle file format this build writes and reads. */
export const BUNDLE_FORMAT = 1;

/** Part names a bundle may hold; `policy.onnx` is required. */
export const BUNDLE_PART_NAMES = ['policy.onnx', 'shield.onnx', 'filter.json'] as const;
export type BundlePartName = (typeof BUNDLE_PART_NAMES)[number];

/** Largest bundle file accepted (bytes): models are a few hundred KiB, this leaves ample room. */
export const MAX_BUNDLE_BYTES = 64 * 1024 * 1024;
/** Largest manifest accepted (bytes). */
export const MAX_MANIFEST_BYTES = 256 * 1024;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits');
const finite = z.number().finite();

/** A PX4 parameter name: upper-case letters, digits and underscores, at most 16 characters (PX4's limit). */
export const PX4_PARAM_NAME = /^[A-Z][A-Z0-9_]{0,15}$/;

/**
 * One PX4 parameter the policy expects: the value, and how far the autopilot's value may be from it (0 = exact;
 * absent = exact).
 */
export const PX4_PARAM_EXPECTATION_SCHEMA = z.strictObject({
  value: finite,
  tolerance: finite.min(0).optional(),
});
export type Px4ParamExpectation = z.infer<typeof PX4_PARAM_EXPECTATION_SCHEMA>;

export const PX4_PARAMS_SCHEMA = z
  .record(
    z.string().regex(PX4_PARAM_NAME, 'expected a PX4 parameter name [A-Z][A-Z0-9_]{0,15}'),
    PX4_PARAM_EXPECTATION_SCHEMA,
  )
  .refine((r) => Object.keys(r).length <= 256, 'at most 256 parameters');
export type Px4Params = z.infer<typeof PX4_PARAMS_SCHEMA>;

export const BUNDLE_PART_SCHEMA = z.strictObject({
  name: z.enum(BUNDLE_PART_NAMES),
  sha256: sha256Hex,
  bytes: z.number().int().min(0).max(MAX_BUNDLE_BYTES),
});
export type BundlePart = z.infer<typeof BUNDLE_PART_SCHEMA>;

export const BUNDLE_LINEAGE_SCHEMA = z.strictObject({
  /** Hash of the training configuration (the ONNX metadata `aerie.training_config_hash`). */
  configHash: z.string().min(1).max(128).optional(),
  seed: z.number().int().optional(),
  /** The dataset or experience export it was trained or started from. */
  dataset: z.string().min(1).max(512).optional(),
  /** The version it was trained from (fine-tuning) or replaces. */
  parent: z.string().min(1).max(64).optional(),
});
export type BundleLineage = z.infer<typeof BUNDLE_LINEAGE_SCHEMA>;

export const BUNDLE_MANIFEST_SCHEMA = z
  .strictObject({
    format: z.literal(BUNDLE_FORMAT),
    /** The policy version drones report: policyVersionFromSha256 of the policy part (see bundleVersionOf). */
    version: z.string().min(1).max(64),
    /** The shared/policy CONTRACT_VERSION the models were built for (MAJOR.MINOR.PATCH). */
    contractVersion: z.string().regex(/^\d{1,6}\.\d{1,6}\.\d{1,6}$/, 'expected MAJOR.MINOR.PATCH'),
    /** A label people use ("2026-11-24-a"); informative, not an identity. */
    label: z.string().min(1).max(128).optional(),
    createdAtMs: z.number().int().min(0),
    lineage: BUNDLE_LINEAGE_SCHEMA,
    /** Summary of the `aerie eval --json` report of this policy (the evaluation gate reads it). */
    evalReport: z.record(z.string(), z.unknown()).optional(),
    parts: z.array(BUNDLE_PART_SCHEMA).min(1).max(BUNDLE_PART_NAMES.length),
    /** PX4 parameters the policy expects (name -> value and tolerance); {} when none. */
    px4Params: PX4_PARAMS_SCHEMA,
    /** Id of the signing key (keyIdOf its public key); null in an unsigned bundle. */
    keyId: z
      .string()
      .regex(/^[0-9a-f]{16}$/)
      .nullable(),
  })
  .superRefine((m, ctx) => {
    const names = m.parts.map((p) => p.name);
    if (!names.includes('policy.onnx'))
      ctx.addIssue({ code: 'custom', message: 'policy.onnx is missing', path: ['parts'] });
    if (new Set(names).size !== names.length)
      ctx.addIssue({ code: 'custom', message: 'a part is listed twice', path: ['parts'] });
  });
export type BundleManifest = z.infer<typeof BUNDLE_MANIFEST_SCHEMA>;

/**
 * Canonical JSON: object keys sorted (by UTF-16 code units), no whitespace, undefined members dropped. The same
 * value always gives the same bytes, so a signature over them does not depend on who wrote the object.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${value} is not a finite number`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new TypeError(`canonicalJson: cannot encode a ${typeof value}`);
}

/** The bytes the release key signs: the manifest's canonical JSON, UTF-8. */
export function canonicalManifestBytes(manifest: BundleManifest): Buffer {
  return Buffer.from(canonicalJson(manifest), 'utf8');
}
