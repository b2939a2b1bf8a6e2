import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { buildGoToGoalModel } from '../../shared/policy/index.js';
import { main as evalMain } from './eval-cli.js';
import { evaluate, vectorisedSection } from './evaluate.js';
import { shortEnv } from './test-support.js';

const dir = mkdtempSync(join(tmpdir(), 'aerie-eval-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('evaluation', () => {
  it('flies the ONNX policy through the onboard loader and safety filter at 50 Hz and reports every figure', async () => {
    const env = shortEnv({ legs: 1, neighbourMaxCount: 0 });
    const report = await evaluate({
      policy: buildGoToGoalModel(),
      sections: [vectorisedSection({ env, episodes: 4, seed: 3, controlHz: 50, safety: 'apply' })],
    });
    const r = report.sections.vectorised;
    expect(r.episodes).toBe(4);
    expect(r.successRate).toBe(1);
    expect(r.timeToDeliverS?.mean).toBeGreaterThan(2);
    expect(r.ticks).toBeGreaterThan(4 * 100); // 50 Hz for several seconds each
    for (const share of Object.values(r.interventionShare)) expect(share).toBeGreaterThanOrEqual(0);
    // The go-to-goal setpoint jumps at the start: the box layer's rate limit shapes it.
    expect(r.interventionShare.box).toBeGreaterThan(0);
    expect(report.policy.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('aerie eval prints one JSON object and writes the plot', async () => {
    const policy = join(dir, 'go-to-goal.onnx');
    writeFileSync(policy, buildGoToGoalModel());
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({ env: { deliveryMinM: 20, deliveryMaxM: 30, legs: 1, zoneMaxCount: 0, neighbourMaxCount: 0 } }),
    );
    const plot = join(dir, 'eval.svg');
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    try {
      const code = await evalMain([
        policy,
        '--episodes',
        '3',
        '--json',
        '--plot',
        plot,
        '--control-hz',
        '25',
        '--no-sitl',
      ]);
      expect(code).toBe(0);
    } finally {
      spy.mockRestore();
    }
    const parsed = JSON.parse(out.join(''));
    expect(parsed.sections.vectorised.episodes).toBe(3);
    expect(parsed.sections.vectorised.controlHz).toBe(25);
    expect(parsed.sections.vectorised.successRate).toBe(1);
    // Without SITL the headline comes from the vectorised section; the raw policy's breaches from its own run.
    const off = parsed.sections['vectorised-filter-off'];
    expect(off.safety).toBe('off');
    expect(off.interventionShareAny).toBe(0);
    expect(parsed.summaryFrom).toBe('vectorised');
    expect(parsed.successRate).toBe(1);
    expect(parsed.interventionShare).toBe(parsed.sections.vectorised.interventionShareAny);
    expect(parsed.breachesFilterOn).toBe(parsed.sections.vectorised.breachEpisodes);
    expect(parsed.breachesFilterOff).toBe(off.breachEpisodes);
    const svg = readFileSync(plot, 'utf8');
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('success rate');
    expect(svg).toContain('Evaluation: vectorised-filter-off');
    await expect(evalMain([])).rejects.toThrow(/CLI_USAGE/);
    await expect(evalMain([policy, '--episods', '3'])).rejects.toThrow(/CONFIG_UNKNOWN_KEY/);
  });
});
