/**
 * The shipped default policy (onboard/policies/default) against the files beside it: the committed config is the
 * one it was trained with, and the evaluation report evaluated this very model, with the SITL part and its headline
 * figures. Its quality is measured by `aerie eval` (test/integration/eval-sitl.test.ts flies it); this checks that the
 * folder tells the truth about it.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultPolicyPath, loadPolicy } from '../../onboard/policy/index.js';
import { configHash, parseTrainConfig } from './train-config.js';

const folder = dirname(defaultPolicyPath());
interface SitlFigures {
  episodes: number;
  successRate: number;
  interventionShareAny: number;
  breachesFilterOn: number;
}
/** The parts of eval-report.json checked here. */
interface Report {
  configHash: string;
  summaryFrom: string;
  successRate: number;
  interventionShare: number;
  breachesFilterOn: number;
  evaluation: {
    policy: { sha256: string };
    sections: { sitl: SitlFigures; vectorised: { episodes: number } };
  };
}
const json = async (name: string): Promise<unknown> => JSON.parse(await readFile(join(folder, name), 'utf8'));
const sha256 = async (path: string): Promise<string> =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

describe('the committed default policy folder', () => {
  it('holds the config the policy was trained with (same hash as in the model and the report)', async () => {
    const config = parseTrainConfig(await json('config.json'));
    const policy = await loadPolicy(defaultPolicyPath());
    try {
      expect(policy.info.metadata['aerie.training_config_hash']).toBe(configHash(config));
    } finally {
      await policy.release();
    }
    expect(((await json('eval-report.json')) as Report).configHash).toBe(configHash(config));
  });

  it('holds an evaluation report of this very model, SITL included', async () => {
    const report = (await json('eval-report.json')) as Report;
    expect(report.evaluation.policy.sha256).toBe(await sha256(defaultPolicyPath()));
    expect(report.summaryFrom).toBe('sitl');
    const sitl = report.evaluation.sections.sitl;
    expect(sitl.episodes).toBeGreaterThanOrEqual(20);
    expect(report.successRate).toBe(sitl.successRate);
    expect(report.interventionShare).toBe(sitl.interventionShareAny);
    expect(report.breachesFilterOn).toBe(sitl.breachesFilterOn);
    expect(report.evaluation.sections.vectorised.episodes).toBeGreaterThanOrEqual(200);
  });
});
