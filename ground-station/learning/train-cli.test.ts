import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { describeOnnxModel, METADATA_KEYS } from '../../shared/policy/index.js';
import { main } from './train-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'aerie-train-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ code: number; stdout: string }> {
  const out: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return { code: await main(argv), stdout: out.join('') };
  } finally {
    spy.mockRestore();
    err.mockRestore();
  }
}

describe('aerie train', () => {
  it('trains from a config file, exports, evaluates, writes the run, and resumes', async () => {
    const config = join(dir, 'tiny.json');
    writeFileSync(
      config,
      JSON.stringify({
        env: { deliveryMinM: 15, deliveryMaxM: 20, legs: 1, zoneMaxCount: 0, neighbourMaxCount: 0 },
        train: {
          envs: 4,
          rolloutSteps: 16,
          iterations: 2,
          minibatchSize: 32,
          epochs: 1,
          actorHidden: '8',
          criticHidden: '8',
          shieldHidden: '8',
          finalEvalEpisodes: 2,
          checkpointEvery: 1,
        },
      }),
    );
    const out = join(dir, 'run');
    const first = await run(['--config', config, '--out', out, '--json']);
    expect(first.code).toBe(0);
    const summary = JSON.parse(first.stdout);
    expect(summary.iterations).toBe(2);
    expect(summary.evaluation.sections.vectorised.episodes).toBe(2);
    for (const f of ['policy.onnx', 'shield.onnx', 'config.json', 'checkpoint.json', 'history.json', 'training.svg']) {
      expect(existsSync(join(out, f))).toBe(true);
    }
    const md = describeOnnxModel(readFileSync(join(out, 'policy.onnx'))).metadata;
    expect(md[METADATA_KEYS.trainingConfigHash]).toBe(summary.configHash);
    expect(JSON.parse(md[METADATA_KEYS.metrics]).eval_episodes).toBe(2);

    const resumed = await run(['--config', config, '--out', out, '--resume', 'auto', '--iterations', '3', '--json']);
    expect(JSON.parse(resumed.stdout).iterations).toBe(3);
  });

  it('refuses unknown options and config keys', async () => {
    await expect(run(['--itertions', '3'])).rejects.toThrow(/CONFIG_UNKNOWN_KEY/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ train: { seeed: 1 } }));
    await expect(run(['--config', bad, '--out', join(dir, 'bad')])).rejects.toThrow(/CONFIG_UNKNOWN_KEY.*seeed/);
    await expect(run(['--config', join(dir, 'missing.json')])).rejects.toThrow(/FILE_NOT_FOUND/);
  });
});
