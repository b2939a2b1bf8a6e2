/**
 * Pack, sign, inspect and open policy bundles. `openBundle` is what a verifier runs (the drone before installing,
 * `aerie policy verify`, the station on upload); it never throws and checks, in this order:
 *
 *   1. format     the layout, the manifest's JSON and schema, canonical bytes, parts adding up   BUNDLE_MALFORMED
 *   2. signature  present                                                                        BUNDLE_UNSIGNED
 *                 made by a trusted key                                                          BUNDLE_UNTRUSTED_KEY
 *                 valid over the manifest's bytes                                                BUNDLE_SIGNATURE
 *   3. parts      each part's size and SHA-256 as the manifest says; version = policy hash      BUNDLE_HASH
 *   4. contract   the manifest's contract MAJOR is shared/policy's                               BUNDLE_CONTRACT
 *
 * The PX4 parameters are checked against the autopilot by the drone (checkPx4Params, BUNDLE_PX4_PARAMS).
 */
import { createHash, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { AerieError } from '../errors.js';
import { CONTRACT_VERSION, isCompatibleContractVersion } from '../policy/index.js';
import { policyVersionFromSha256 } from '../protocol/index.js';
import { type BundleContainer, decodeContainer, encodeContainer } from './container.js';
import { keyIdOf, parsePrivateKey, type TrustedKey } from './keys.js';
import {
  BUNDLE_FORMAT,
  BUNDLE_MANIFEST_SCHEMA,
  type BundleLineage,
  type BundleManifest,
  type BundlePart,
  type BundlePartName,
  canonicalManifestBytes,
  type Px4Params,
} from './manifest.js';

export type BundleErrorCode =
  | 'BUNDLE_MALFORMED'
  | 'BUNDLE_UNSIGNED'
  | 'BUNDLE_UNTRUSTED_KEY'
  | 'BUNDLE_SIGNATURE'
  | 'BUNDLE_HASH'
  | 'BUNDLE_CONTRACT'
  | 'BUNDLE_PX4_PARAMS';

export interface BundleRefusal {
  readonly ok: false;
  readonly code: BundleErrorCode;
  readonly reason: string;
}

/** A bundle that passed every check of openBundle. */
export interface OpenedBundle {
  readonly manifest: BundleManifest;
  /** The policy version drones report for it (bundleVersionOf). */
  readonly version: string;
  /** SHA-256 of the whole file (hex): what install-policy and the chunks name. */
  readonly sha256: string;
  readonly totalBytes: number;
  readonly keyId: string;
  readonly policy: Buffer;
  readonly shield?: Buffer;
  /** filter.json parsed (the onboard safety-filter configuration's shape); undefined when the bundle has none. */
  readonly filterConfig?: unknown;
  readonly px4Params: Px4Params;
}

export interface PackInput {
  /** The ONNX policy's bytes. */
  readonly policy: Uint8Array;
  readonly shield?: Uint8Array;
  /** The safety-filter configuration: an object (written as JSON) or the bytes of a JSON file. */
  readonly filterConfig?: unknown;
  readonly px4Params?: Px4Params;
  readonly lineage?: BundleLineage;
  readonly evalReport?: Record<string, unknown>;
  readonly label?: string;
  /** Default: shared/policy CONTRACT_VERSION (the CLI passes the model's own metadata value). */
  readonly contractVersion?: string;
  readonly createdAtMs?: number;
}

const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

function malformed(reason: string): BundleRefusal {
  return { ok: false, code: 'BUNDLE_MALFORMED', reason };
}

function orderedParts(input: PackInput): { name: BundlePartName; bytes: Buffer }[] {
  const parts: { name: BundlePartName; bytes: Buffer }[] = [{ name: 'policy.onnx', bytes: Buffer.from(input.policy) }];
  if (input.shield) parts.push({ name: 'shield.onnx', bytes: Buffer.from(input.shield) });
  if (input.filterConfig !== undefined) {
    const fc = input.filterConfig;
    const bytes = fc instanceof Uint8Array ? Buffer.from(fc) : Buffer.from(`${JSON.stringify(fc, null, 2)}\n`, 'utf8');
    try {
      JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      throw new AerieError('BUNDLE_MALFORMED', `filter configuration is not JSON: ${(err as Error).message}`);
    }
    parts.push({ name: 'filter.json', bytes });
  }
  return parts;
}

/**
 * An unsigned bundle of these parts. Throws BUNDLE_MALFORMED when the manifest would be invalid (names the field).
 */
export function packBundle(input: PackInput): Buffer {
  const parts = orderedParts(input);
  const entries: BundlePart[] = parts.map((p) => ({ name: p.name, sha256: sha256Hex(p.bytes), bytes: p.bytes.length }));
  const candidate = {
    format: BUNDLE_FORMAT,
    version: policyVersionFromSha256(entries[0].sha256),
    contractVersion: input.contractVersion ?? CONTRACT_VERSION,
    ...(input.label !== undefined ? { label: input.label } : {}),
    createdAtMs: input.createdAtMs ?? Date.now(),
    lineage: input.lineage ?? {},
    ...(input.evalReport !== undefined ? { evalReport: input.evalReport } : {}),
    parts: entries,
    px4Params: input.px4Params ?? {},
    keyId: null,
  };
  const parsed = BUNDLE_MANIFEST_SCHEMA.safeParse(candidate);
  if (!parsed.success) throw new AerieError('BUNDLE_MALFORMED', `manifest: ${issues(parsed.error.issues)}`);
  return encodeContainer({
    manifestBytes: canonicalManifestBytes(parsed.data),
    signature: Buffer.alloc(0),
    body: Buffer.concat(parts.map((p) => p.bytes)),
  });
}

function issues(list: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return list
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.map(String).join('.') : '(manifest)'}: ${i.message}`)
    .join('; ');
}

/** Layout, manifest JSON, schema, canonical form, and the parts adding up to the body. */
function readFormat(
  bytes: Uint8Array,
): { ok: true; container: BundleContainer; manifest: BundleManifest } | BundleRefusal {
  const c = decodeContainer(bytes);
  if (!c.ok) return malformed(c.reason);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(c.value.manifestBytes));
  } catch (err) {
    return malformed(`manifest is not JSON: ${(err as Error).message.slice(0, 120)}`);
  }
  const format = (json as { format?: unknown } | null)?.format;
  if (typeof json === 'object' && json !== null && format !== BUNDLE_FORMAT) {
    return malformed(
      `bundle format ${JSON.stringify(format)} is not ${BUNDLE_FORMAT} (this build reads format ${BUNDLE_FORMAT})`,
    );
  }
  const parsed = BUNDLE_MANIFEST_SCHEMA.safeParse(json);
  if (!parsed.success) return malformed(`manifest: ${issues(parsed.error.issues)}`);
  if (!canonicalManifestBytes(parsed.data).equals(c.value.manifestBytes)) {
    return malformed('manifest bytes are not canonical JSON (edited by hand?)');
  }
  const declared = parsed.data.parts.reduce((s, p) => s + p.bytes, 0);
  if (declared !== c.value.body.length) {
    return malformed(
      `the manifest's parts add up to ${declared} bytes but the file holds ${c.value.body.length} after the manifest` +
        (c.value.body.length < declared ? ' (truncated)' : ''),
    );
  }
  return { ok: true, container: c.value, manifest: parsed.data };
}

/** What a bundle says about itself, without checking its signature or hashes: for `aerie policy inspect`. */
export function inspectBundle(
  bytes: Uint8Array,
): { ok: true; manifest: BundleManifest; signed: boolean; sha256: string; totalBytes: number } | BundleRefusal {
  const r = readFormat(bytes);
  if (!r.ok) return r;
  return {
    ok: true,
    manifest: r.manifest,
    signed: r.container.signature.length > 0,
    sha256: sha256Hex(bytes),
    totalBytes: bytes.byteLength,
  };
}

/**
 * Sign (or re-sign) a bundle with a release key: the manifest's keyId becomes the key's id and the signature covers
 * the new manifest bytes. Parts are not touched. Throws BUNDLE_MALFORMED or BUNDLE_KEY_INVALID.
 */
export function signBundle(bytes: Uint8Array, privateKey: KeyObject | string): Buffer {
  const key = parsePrivateKey(privateKey);
  const r = readFormat(bytes);
  if (!r.ok) throw new AerieError('BUNDLE_MALFORMED', r.reason);
  const manifest: BundleManifest = { ...r.manifest, keyId: keyIdOf(createPublicKey(key)) };
  const manifestBytes = canonicalManifestBytes(manifest);
  return encodeContainer({ manifestBytes, signature: sign(null, manifestBytes, key), body: r.container.body });
}

export interface OpenOptions {
  readonly trustedKeys: readonly TrustedKey[];
  /** The contract version to check against (default shared/policy CONTRACT_VERSION). */
  readonly contractVersion?: string;
}

/** Verify a bundle and hand out its parts, or refuse it with a code and a reason. Never throws. */
export function openBundle(
  bytes: Uint8Array,
  options: OpenOptions,
): { ok: true; bundle: OpenedBundle } | BundleRefusal {
  try {
    return openChecked(bytes, options);
  } catch (err) {
    // Not expected (every check above reports a value); kept so a bug cannot crash a verifier.
    return malformed(`unreadable: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function openChecked(bytes: Uint8Array, options: OpenOptions): { ok: true; bundle: OpenedBundle } | BundleRefusal {
  const r = readFormat(bytes);
  if (!r.ok) return r;
  const { container, manifest } = r;

  if (container.signature.length === 0 || manifest.keyId === null) {
    return { ok: false, code: 'BUNDLE_UNSIGNED', reason: 'the bundle is not signed (run aerie policy sign)' };
  }
  const key = options.trustedKeys.find((k) => k.keyId === manifest.keyId);
  if (!key) {
    const known = options.trustedKeys.map((k) => k.keyId).join(', ') || 'none';
    return {
      ok: false,
      code: 'BUNDLE_UNTRUSTED_KEY',
      reason: `signed by key ${manifest.keyId}, which is not trusted here (trusted: ${known})`,
    };
  }
  if (!verify(null, container.manifestBytes, key.publicKey, container.signature)) {
    return {
      ok: false,
      code: 'BUNDLE_SIGNATURE',
      reason: `the signature does not verify with key ${key.keyId}: the manifest was changed after signing`,
    };
  }

  const parts = new Map<BundlePartName, Buffer>();
  let at = 0;
  for (const p of manifest.parts) {
    const data = container.body.subarray(at, at + p.bytes);
    at += p.bytes;
    const actual = sha256Hex(data);
    if (actual !== p.sha256) {
      return {
        ok: false,
        code: 'BUNDLE_HASH',
        reason: `part ${p.name}: SHA-256 ${actual.slice(0, 16)}… is not the manifest's ${p.sha256.slice(0, 16)}…`,
      };
    }
    parts.set(p.name, data);
  }
  const policySha = manifest.parts.find((p) => p.name === 'policy.onnx')?.sha256 ?? '';
  if (manifest.version !== policyVersionFromSha256(policySha)) {
    return {
      ok: false,
      code: 'BUNDLE_HASH',
      reason: `version ${manifest.version} is not the policy's hash version ${policyVersionFromSha256(policySha)}`,
    };
  }

  const ours = options.contractVersion ?? CONTRACT_VERSION;
  if (!isCompatibleContractVersion(manifest.contractVersion, ours)) {
    return {
      ok: false,
      code: 'BUNDLE_CONTRACT',
      reason: `built for policy contract ${manifest.contractVersion}; this side speaks ${ours} (MAJOR must match)`,
    };
  }

  let filterConfig: unknown;
  const filterBytes = parts.get('filter.json');
  if (filterBytes) {
    try {
      filterConfig = JSON.parse(filterBytes.toString('utf8'));
    } catch (err) {
      return malformed(`filter.json is not JSON: ${(err as Error).message.slice(0, 120)}`);
    }
  }
  const policy = parts.get('policy.onnx') as Buffer;
  const shield = parts.get('shield.onnx');
  return {
    ok: true,
    bundle: {
      manifest,
      version: manifest.version,
      sha256: sha256Hex(bytes),
      totalBytes: bytes.byteLength,
      keyId: key.keyId,
      policy,
      ...(shield ? { shield } : {}),
      ...(filterBytes ? { filterConfig } : {}),
      px4Params: manifest.px4Params,
    },
  };
}

/** The policy version drones report for a bundle: policyVersionFromSha256 of its policy part. */
export function bundleVersionOf(bundle: OpenedBundle | BundleManifest): string {
  const manifest = 'manifest' in bundle ? bundle.manifest : bundle;
  const policy = manifest.parts.find((p) => p.name === 'policy.onnx');
  if (!policy) throw new AerieError('BUNDLE_MALFORMED', 'the manifest has no policy.onnx part');
  return policyVersionFromSha256(policy.sha256);
}

export interface Px4ParamMismatch {
  readonly name: string;
  readonly expected: number;
  readonly tolerance: number;
  /** null when the autopilot did not report the parameter. */
  readonly actual: number | null;
}

/**
 * Compare the parameters a bundle expects with the autopilot's (PARAM_VALUE, float32). Exact means equal as float32
 * (PX4 stores every parameter as 4 bytes); otherwise |actual - expected| <= tolerance. Missing counts as a mismatch.
 */
export function checkPx4Params(
  expected: Px4Params,
  actual: Readonly<Record<string, number | null | undefined>>,
): { ok: true } | (BundleRefusal & { mismatches: Px4ParamMismatch[] }) {
  const mismatches: Px4ParamMismatch[] = [];
  for (const [name, e] of Object.entries(expected)) {
    const a = actual[name];
    const tolerance = e.tolerance ?? 0;
    const value = typeof a === 'number' && Number.isFinite(a) ? a : null;
    const fits =
      value !== null &&
      (tolerance === 0
        ? Math.fround(value) === Math.fround(e.value)
        : Math.abs(value - e.value) <= tolerance + Math.abs(Math.fround(e.value) - e.value));
    if (!fits) mismatches.push({ name, expected: e.value, tolerance, actual: value });
  }
  if (mismatches.length === 0) return { ok: true };
  const text = mismatches
    .map((m) => `${m.name} is ${m.actual ?? 'missing'}, expected ${m.expected}${m.tolerance ? ` ±${m.tolerance}` : ''}`)
    .join('; ');
  return { ok: false, code: 'BUNDLE_PX4_PARAMS', reason: `autopilot parameters differ: ${text}`, mismatches };
}
