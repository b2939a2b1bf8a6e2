/**
 * `aerie rollout` against a station started in-process (its real HTTP API), fake drones on the real broker.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isAerieError } from '../../shared/errors.js';
import { FakeDrone, startTestStation, type TestStation, waitFor } from '../test-support.js';
import { registerCandidate } from './fake-drones/test-support.js';
import { main } from './rollout-cli.js';

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c) => {
    stdout += String(c);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c) => {
    stderr += String(c);
    return true;
  });
  try {
    return { code: await main(argv), stdout, stderr };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('aerie rollout', () => {
  let t: TestStation | null = null;
  const drones: FakeDrone[] = [];
  afterEach(async () => {
    for (const d of drones.splice(0)) await d.close().catch(() => undefined);
    await t?.close();
    t = null;
  });

  it('starts, shows, pauses, resumes, promotes and aborts through the API; refusals exit 1 with the reason', async () => {
    t = await startTestStation({ droneIds: ['a', 'b', 'c'] });
    for (const id of ['a', 'b', 'c']) {
      const full = `${t.prefix}${id}`;
      const d = await FakeDrone.connect(t.station.mqttUrl, full, { password: t.passwords[full] });
      drones.push(d);
      await d.birth({ policyVersion: 'base-1' });
    }
    const station = t.station;
    await waitFor(() => station.registry.onlineCount() === 3, 'drones online');
    const common = ['--station', station.httpUrl, '--token', 'test-token'];
    const cand = await registerCandidate(station, t.config.db, 'test-token');

    expect(await run(['status', ...common])).toMatchObject({ code: 0, stdout: 'no rollouts\n' });
    const started = await run(['start', ...common, '--candidate', cand, '--steps', '0.3,1', '--shadow-min-ticks', '0']);
    expect(started.code).toBe(0);
    expect(started.stdout).toContain(`staged  ${cand} over base-1`);
    expect(started.stdout).toMatch(/state canary, step 1\/2 \(30 % -> 100 %\), share 30 %/);
    expect(started.stdout).toMatch(/drones: 1 candidate, 0 shadow, 2 baseline/);
    const id = /^(ro_\S+)/.exec(started.stdout)?.[1] as string;

    const again = await run(['start', ...common, '--candidate', 'cand-3']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/refused \(HTTP 409\): rollout ro_\S+ is canary; abort it first/);

    const json = await run(['status', id, ...common, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ id, state: 'canary', candidate: cand, baseline: 'base-1' });
    expect((await run(['pause', id, ...common, '--by', 'bob'])).stdout).toBe(`${id}: paused (paused by bob)\n`);
    expect((await run(['resume', id, ...common])).stdout).toBe(`${id}: canary (resumed by operator)\n`);
    expect((await run(['promote', id, ...common])).stdout).toBe(`${id}: completed (promoted by operator)\n`);
    const late = await run(['abort', id, ...common]);
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(/HTTP 409.*is completed/);
    expect((await run(['status', ...common])).stdout).toMatch(/completed: promoted by operator/);
    expect((await run(['status', 'ro_nope', ...common])).code).toBe(1);
  });

  it('refuses usage errors with CLI_USAGE', async () => {
    await expect(run(['start', '--token', 'x', '--station', 'http://127.0.0.1:9'])).rejects.toSatisfy((e) =>
      isAerieError(e, 'CLI_USAGE'),
    );
    await expect(run(['pause', '--token', 'x'])).rejects.toSatisfy((e) => isAerieError(e, 'CLI_USAGE'));
    await expect(run(['bogus'])).rejects.toSatisfy((e) => isAerieError(e, 'CLI_USAGE'));
    const saved = process.env.AERIE_TOKEN;
    delete process.env.AERIE_TOKEN;
    try {
      await expect(run(['status'])).rejects.toThrow(/needs --token/);
    } finally {
      if (saved !== undefined) process.env.AERIE_TOKEN = saved;
    }
    expect((await run([])).code).toBe(2);
  });
});
