/**
 * Packing a bundle from files on disk, as `aerie policy pack` and the station's baseline seed do: the policy (checked
 * against the contract, its lineage read from its ONNX metadata and the training config beside it), the optional
 * shield, safety-filter configuration (checked as the onboard filter would), PX4 parameters and evaluation report.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseSafetyConfig } from '../../onboard/safety/index.js';
import { type BundleLineage, PX4_PARAMS_SCHEMA, type Px4Params, packBundle } from '../../shared/bundle/index.js';
import { AerieError } from '../../shared/errors.js';
import {
  assertContract,
  describeOnnxModel,
  METADATA_KEYS,
  POLICY_INTERFACE,
  SHIELD_INTERFACE,
} from '../../shared/policy/index.js';
import { type EvalSummary, summariseEvalReport } from './registry-gate.js';

export interface PackFiles {
  readonly policyPath: string;
  readonly shieldPath?: string;
  readonly filterConfigPath?: string;
  readonly px4ParamsPath?: string;
  readonly evalReportPath?: string;
  readonly label?: string;
  /** Lineage given explicitly wins over what the model and its config.json say. */
  readonly lineage?: BundleLineage;
  readonly createdAtMs?: number;
}

async function readBytes(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new AerieError('FILE_NOT_FOUND', `${what} ${path} does not exist`, { path });
    throw new AerieError('CONFIG_INVALID_VALUE', `cannot read ${what} ${path}: ${code}`, { path });
  }
}

async function readJson(path: string, what: string): Promise<unknown> {
  const text = (await readBytes(path, what)).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AerieError('CONFIG_INVALID_VALUE', `${what} ${path} is not JSON: ${(err as Error).message}`, { path });
  }
}

/** `{"NAME": 12}` (exact) or `{"NAME": {"value": 12, "tolerance": 0.5}}`, validated. */
export function parsePx4ParamsFile(json: unknown, source = 'PX4 parameters'): Px4Params {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new AerieError('CONFIG_INVALID_VALUE', `${source}: expected a JSON object of NAME: value`);
  }
  const normalised = Object.fromEntries(
    Object.entries(json).map(([k, v]) => [k, typeof v === 'number' ? { value: v } : v]),
  );
  const r = PX4_PARAMS_SCHEMA.safeParse(normalised);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new AerieError('CONFIG_INVALID_VALUE', `${source}: ${i.path.join('.') || '(file)'}: ${i.message}`);
  }
  return r.data;
}

/**
 * A safety-filter configuration file as the onboard filter reads it (unknown keys and bad ranges refused now rather
 * than on the drone). The bundle keeps the keys as given; the drone fills in its defaults.
 */
export function onboardFilterConfig(json: unknown, source: string): Record<string, unknown> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new AerieError('CONFIG_INVALID_VALUE', `${source}: expected a JSON object of safety-filter settings`);
  }
  try {
    parseSafetyConfig(json as Record<string, unknown>);
  } catch (err) {
    throw new AerieError('CONFIG_INVALID_VALUE', `${source}: ${(err as Error).message}`, { source });
  }
  return json as Record<string, unknown>;
}

/** Lineage from the model's metadata and the training config saved beside it (config.json: train.seed). */
async function lineageOf(policyPath: string, metadata: Readonly<Record<string, string>>): Promise<BundleLineage> {
  const lineage: { configHash?: string; seed?: number; dataset?: string } = {};
  const hash = metadata[METADATA_KEYS.trainingConfigHash];
  if (hash) lineage.configHash = hash;
  const configPath = join(dirname(policyPath), 'config.json');
  if (existsSync(configPath)) {
    const config = (await readJson(configPath, 'training config')) as { train?: { seed?: unknown; dataset?: unknown } };
    if (Number.isInteger(config.train?.seed)) lineage.seed = config.train?.seed as number;
    if (typeof config.train?.dataset === 'string' && config.train.dataset) lineage.dataset = config.train.dataset;
  }
  return lineage;
}

export interface PackedFromFiles {
  readonly bytes: Buffer;
  readonly policySha256: string;
  readonly evalSummary: EvalSummary | null;
}

/** An unsigned bundle of these files. Throws from the catalogue naming the file at fault. */
export async function packFromFiles(files: PackFiles): Promise<PackedFromFiles> {
  const policy = await readBytes(files.policyPath, 'policy');
  const described = describeOnnxModel(policy, files.policyPath);
  assertContract(described, POLICY_INTERFACE, files.policyPath);
  const policySha256 = createHash('sha256').update(policy).digest('hex');

  let shield: Buffer | undefined;
  if (files.shieldPath) {
    shield = await readBytes(files.shieldPath, 'shield');
    assertContract(describeOnnxModel(shield, files.shieldPath), SHIELD_INTERFACE, files.shieldPath);
  }
  const filterConfig = files.filterConfigPath
    ? onboardFilterConfig(await readJson(files.filterConfigPath, 'filter configuration'), files.filterConfigPath)
    : undefined;
  const px4Params = files.px4ParamsPath
    ? parsePx4ParamsFile(await readJson(files.px4ParamsPath, 'PX4 parameters'), files.px4ParamsPath)
    : {};

  let evalSummary: EvalSummary | null = null;
  if (files.evalReportPath) {
    const s = summariseEvalReport(await readJson(files.evalReportPath, 'evaluation report'));
    if (!s.ok) throw new AerieError('CONFIG_INVALID_VALUE', `${files.evalReportPath}: ${s.reason}`);
    if (s.value.policySha256 !== policySha256) {
      throw new AerieError(
        'POLICY_EVAL_GATE',
        `${files.evalReportPath} evaluated another model (${s.value.policySha256.slice(0, 16)}…), not ` +
          `${files.policyPath} (${policySha256.slice(0, 16)}…)`,
      );
    }
    evalSummary = s.value;
  }

  const lineage = { ...(await lineageOf(files.policyPath, described.metadata)), ...(files.lineage ?? {}) };
  const bytes = packBundle({
    policy,
    shield,
    filterConfig,
    px4Params,
    lineage,
    ...(evalSummary ? { evalReport: evalSummary as unknown as Record<string, unknown> } : {}),
    ...(files.label ? { label: files.label } : {}),
    contractVersion: described.metadata[METADATA_KEYS.contractVersion],
    createdAtMs: files.createdAtMs,
  });
  return { bytes, policySha256, evalSummary };
}
