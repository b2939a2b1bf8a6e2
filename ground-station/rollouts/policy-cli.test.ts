import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isAerieError } from '../../shared/errors.js';
import { main } from './policy-cli.js';
import { evalReportJson, PASSING, policyFolder } from './test-support.js';

/** Run the CLI in-process and capture what it prints. */
async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    stdout += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    stderr += String(s);
    return true;
  });
  try {
    const code = await main(argv);
    return { code, stdout, stderr };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

async function thrown(...argv: string[]): Promise<unknown> {
  try {
    await run(...argv);
  } catch (err) {
    return err;
  }
  return null;
}

afterEach(() => vi.restoreAllMocks());

describe('aerie policy', () => {
  const work = mkdtempSync(join(tmpdir(), 'aerie-policy-cli-'));
  const keys = join(work, 'keys');

  it('keygen writes a key pair once and refuses to overwrite it', async () => {
    const r = await run('keygen', '--out', keys);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/key [0-9a-f]{16}/);
    expect(isAerieError(await thrown('keygen', '--out', keys), 'BUNDLE_KEY_INVALID')).toBe(true);
  });

  it('packs with lineage from the model and its config, signs, verifies and inspects', async () => {
    const folder = policyFolder(PASSING, { seed: 42 });
    const filter = join(folder.dir, 'filter.json');
    writeFileSync(filter, JSON.stringify({ maxHorizontalSpeedMS: 8 }));
    const params = join(folder.dir, 'px4.json');
    writeFileSync(params, JSON.stringify({ COM_OF_LOSS_T: 1, MPC_XY_VEL_MAX: { value: 12, tolerance: 0.5 } }));
    const bundle = join(work, 'a.aerie-bundle');
    const packed = await run(
      'pack',
      '--policy',
      folder.policyPath,
      '--shield',
      folder.shieldPath,
      '--filter-config',
      filter,
      '--px4-params',
      params,
      '--eval-report',
      join(folder.dir, 'eval-report.json'),
      '--label',
      'nightly-1',
      '--parent',
      'sha256:0011223344556677',
      '--out',
      bundle,
    );
    expect(packed.code).toBe(0);
    expect(packed.stdout).toContain('unsigned');

    const unsigned = await run('verify', bundle, '--trusted-keys', keys);
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toContain('BUNDLE_UNSIGNED');

    expect((await run('sign', bundle, '--key', join(keys, 'release.key'))).code).toBe(0);
    const ok = await run('verify', bundle, '--trusted-keys', keys, '--json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, version: `sha256:${folder.policySha256.slice(0, 16)}` });

    const info = JSON.parse((await run('inspect', bundle, '--json')).stdout);
    expect(info.signed).toBe(true);
    expect(info.manifest.label).toBe('nightly-1');
    expect(info.manifest.lineage).toEqual({
      configHash: expect.stringMatching(/^sha256:c+\d{4}$/),
      seed: 42,
      parent: 'sha256:0011223344556677',
    });
    expect(info.manifest.px4Params).toEqual({
      COM_OF_LOSS_T: { value: 1 },
      MPC_XY_VEL_MAX: { value: 12, tolerance: 0.5 },
    });
    expect(info.manifest.evalReport).toMatchObject({
      summaryFrom: 'sitl',
      successRate: 0.97,
      policySha256: folder.policySha256,
    });
    expect(info.manifest.parts.map((p: { name: string }) => p.name)).toEqual([
      'policy.onnx',
      'shield.onnx',
      'filter.json',
    ]);
    const autopilot = join(folder.dir, 'autopilot.json');
    writeFileSync(autopilot, JSON.stringify({ COM_OF_LOSS_T: 1, MPC_XY_VEL_MAX: 12.3, NAV_RCL_ACT: 2 }));
    expect((await run('verify', bundle, '--trusted-keys', keys, '--autopilot-params', autopilot)).code).toBe(0);
    writeFileSync(autopilot, JSON.stringify({ COM_OF_LOSS_T: 1, MPC_XY_VEL_MAX: 8 }));
    const mismatch = await run('verify', bundle, '--trusted-keys', keys, '--autopilot-params', autopilot);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toContain(
      'BUNDLE_PX4_PARAMS: autopilot parameters differ: MPC_XY_VEL_MAX is 8, expected 12',
    );
    const text = await run('inspect', bundle);
    expect(text.stdout).toContain('MPC_XY_VEL_MAX=12±0.5');
    expect(text.stdout).toContain('success 97.0 %');
  });

  it('verify exits 1 with the reason for another key, a damaged part and garbage', async () => {
    const folder = policyFolder();
    const bundle = join(work, 'b.aerie-bundle');
    expect(
      (await run('pack', '--policy', folder.policyPath, '--key', join(keys, 'release.key'), '--out', bundle)).code,
    ).toBe(0);
    expect((await run('verify', bundle, '--trusted-keys', keys)).code).toBe(0);

    const otherKeys = join(work, 'other-keys');
    await run('keygen', '--out', otherKeys);
    const other = await run('verify', bundle, '--trusted-keys', otherKeys);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('BUNDLE_UNTRUSTED_KEY');

    const bytes = readFileSync(bundle);
    bytes[bytes.length - 5] ^= 0xff;
    const damaged = join(work, 'damaged.aerie-bundle');
    writeFileSync(damaged, bytes);
    const hash = await run('verify', damaged, '--trusted-keys', keys);
    expect(hash.code).toBe(1);
    expect(hash.stderr).toMatch(/BUNDLE_HASH: part policy\.onnx/);

    const garbage = join(work, 'garbage.aerie-bundle');
    writeFileSync(garbage, 'hello');
    const g = await run('verify', garbage, '--trusted-keys', keys);
    expect(g.code).toBe(1);
    expect(g.stderr).toContain('BUNDLE_MALFORMED');
    expect((await run('inspect', garbage)).code).toBe(1);
  });

  it('refuses to pack an evaluation of another model, a bad filter key or PX4 name, and missing flags', async () => {
    const folder = policyFolder();
    const foreign = join(folder.dir, 'foreign-eval.json');
    writeFileSync(foreign, JSON.stringify(evalReportJson('e'.repeat(64), PASSING)));
    const out = join(work, 'x.aerie-bundle');
    expect(
      isAerieError(
        await thrown('pack', '--policy', folder.policyPath, '--eval-report', foreign, '--out', out),
        'POLICY_EVAL_GATE',
      ),
    ).toBe(true);
    const badFilter = join(folder.dir, 'bad-filter.json');
    writeFileSync(badFilter, JSON.stringify({ maxSpeedWarp: 9 }));
    const err = await thrown('pack', '--policy', folder.policyPath, '--filter-config', badFilter, '--out', out);
    expect(isAerieError(err, 'CONFIG_INVALID_VALUE') && (err as Error).message).toContain('maxSpeedWarp');
    const badParams = join(folder.dir, 'bad-params.json');
    writeFileSync(badParams, JSON.stringify({ 'mpc-xy': 3 }));
    expect(
      isAerieError(
        await thrown('pack', '--policy', folder.policyPath, '--px4-params', badParams, '--out', out),
        'CONFIG_INVALID_VALUE',
      ),
    ).toBe(true);
    expect(isAerieError(await thrown('pack', '--out', out), 'CLI_USAGE')).toBe(true);
    expect(isAerieError(await thrown('verify', out), 'CLI_USAGE')).toBe(true);
    expect(isAerieError(await thrown('fly', out), 'CLI_USAGE')).toBe(true);
    // A shield where the policy should be breaks the contract.
    expect(
      isAerieError(await thrown('pack', '--policy', folder.shieldPath, '--out', out), 'POLICY_CONTRACT_MISMATCH'),
    ).toBe(true);
  });
});
