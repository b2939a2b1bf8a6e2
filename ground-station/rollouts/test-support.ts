/**
 * Test helpers for the registry, the policy CLI and distribution: a policy folder on disk (model, shield, config.json
 * and an evaluation report of that very model, passing or not) and a release key pair.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { METADATA_KEYS } from '../../shared/policy/index.js';
import { linearModel, POLICY_METADATA } from '../../shared/policy/test-models.js';

export interface EvalFigures {
  readonly successRate: number;
  readonly interventionShare: number;
  readonly breachesFilterOn: number;
  readonly deliveries?: number;
}

export const PASSING: EvalFigures = { successRate: 0.97, interventionShare: 0.03, breachesFilterOn: 0, deliveries: 20 };

/** What `aerie eval --json` prints, reduced to the fields the gate reads, for a model with this hash. */
export function evalReportJson(policySha256: string, f: EvalFigures, sitl = true): Record<string, unknown> {
  const deliveries = f.deliveries ?? 20;
  const vectorised = {
    section: 'vectorised',
    episodes: 200,
    successRate: 0.9,
    interventionShareAny: 0.08,
    breaches: { episodeShare: 0.01, tickShare: {} },
  };
  const sections: Record<string, unknown> = { vectorised };
  if (sitl) {
    sections.sitl = {
      section: 'sitl',
      episodes: deliveries,
      successRate: f.successRate,
      interventionShareAny: f.interventionShare,
      breachesFilterOn: f.breachesFilterOn,
      breaches: { episodeShare: f.breachesFilterOn / deliveries, tickShare: {} },
    };
  }
  return {
    summaryFrom: sitl ? 'sitl' : 'vectorised',
    successRate: sitl ? f.successRate : 0.9,
    policy: { source: 'policy.onnx', sha256: policySha256, metadata: {} },
    shield: null,
    sections,
  };
}

export interface PolicyFolder {
  readonly dir: string;
  readonly policyPath: string;
  readonly shieldPath: string;
  readonly policySha256: string;
  /** A different model each call (its bias), so versions differ. */
  readonly policy: Uint8Array;
}

let serial = 0;

/** A policy folder: policy.onnx (distinct per call), shield.onnx, config.json (train.seed), eval-report.json. */
export function policyFolder(figures: EvalFigures | null = PASSING, options: { seed?: number } = {}): PolicyFolder {
  const dir = mkdtempSync(join(tmpdir(), 'aerie-policy-'));
  serial++;
  const policy = linearModel({
    metadata: {
      ...POLICY_METADATA,
      [METADATA_KEYS.trainingConfigHash]: `sha256:${'c'.repeat(60)}${String(serial).padStart(4, '0')}`,
      [METADATA_KEYS.name]: `test-policy-${serial}-${process.pid}-${Date.now()}`,
    },
  });
  const shield = linearModel({
    inputName: 'observation_action',
    inputSize: 35,
    outputName: 'cost',
    outputSize: 1,
    metadata: { ...POLICY_METADATA, [METADATA_KEYS.kind]: 'shield' },
  });
  const policyPath = join(dir, 'policy.onnx');
  const shieldPath = join(dir, 'shield.onnx');
  writeFileSync(policyPath, policy);
  writeFileSync(shieldPath, shield);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ env: {}, train: { seed: options.seed ?? 11 } }));
  const policySha256 = createHash('sha256').update(policy).digest('hex');
  if (figures) writeFileSync(join(dir, 'eval-report.json'), JSON.stringify(evalReportJson(policySha256, figures)));
  return { dir, policyPath, shieldPath, policySha256, policy };
}
