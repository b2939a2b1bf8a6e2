import { describe, expect, it } from 'vitest';
import type { MetricsWindow } from './analysis/index.js';
import { nextAction } from './drone-actions.js';
import { createRollout, ingestWindow, shadowVerdict, targetCount, topUp } from './machine.js';
import { START_ROLLOUT_SCHEMA } from './rollout.js';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `d${i}`);
const start = (body: Record<string, unknown>, online = ids(10), nowMs = 1000) =>
  createRollout({
    id: 'ro_test',
    request: START_ROLLOUT_SCHEMA.parse({ candidate: 'c', ...body }),
    baseline: 'b',
    candidateSha256: null,
    online,
    nowMs,
  });
const w = (over: Partial<MetricsWindow>): MetricsWindow => ({
  droneId: 'd0',
  policyVersion: 'c',
  timeMs: 0,
  episodes: 1,
  successes: 1,
  returnSum: 5,
  ticks: 100,
  policyTicks: 100,
  interventions: 2,
  violations: 0,
  policyFaults: 0,
  ...over,
});

describe('rollout machine', () => {
  it('sizes the canary: at least one drone, one left on the baseline below 100 %', () => {
    expect(targetCount(0.1, 10)).toBe(1);
    expect(targetCount(0.01, 10)).toBe(1);
    expect(targetCount(0.5, 10)).toBe(5);
    expect(targetCount(0.99, 10)).toBe(9);
    expect(targetCount(1, 10)).toBe(10);
    expect(targetCount(0.5, 0)).toBe(0);
  });

  it('starts in shadow on the first share, spreads the alpha over the analysed steps', () => {
    const r = start({ steps: [0.2, 0.5, 1], shadowMinTicks: 100 });
    expect(r.state).toBe('shadow');
    expect(Object.values(r.drones).filter((a) => a === 'shadow')).toHaveLength(2);
    expect(r.analysisConfig.alpha).toBeCloseTo(0.005, 12);
    expect(start({ shadowMinTicks: 0 }).state).toBe('canary');
  });

  it('keeps its canaries as drones come and go, and only adds', () => {
    const r = start({ steps: [0.3, 1], shadowMinTicks: 0 });
    const first = Object.keys(r.drones).filter((d) => r.drones[d] === 'candidate');
    expect(first).toHaveLength(3);
    // Same id, same choice.
    expect(
      Object.keys(start({ steps: [0.3, 1], shadowMinTicks: 0 }).drones).filter((d) => r.drones[d] === 'candidate'),
    ).toEqual(first);
    // Two canaries go offline: they stay canaries, and one online drone joins so that 2 of 8 online fly it.
    const online = ids(10).filter((d) => d !== first[0] && d !== first[1]);
    const joined = topUp(r, online);
    expect(joined).toHaveLength(1);
    expect(topUp(r, online)).toEqual([]);
    // A bigger fleet: more canaries (6 of 20 counting the two offline ones back), the old ones kept.
    const added = topUp(r, ids(20));
    expect(added.length).toBe(2);
    for (const d of first) expect(r.drones[d]).toBe('candidate');
  });

  it('counts only the right windows: candidate from canaries, baseline from the others, none from before the step', () => {
    const r = start({ steps: [0.5, 1], shadowMinTicks: 0 }, ids(4), 1000);
    const canary = Object.keys(r.drones).find((d) => r.drones[d] === 'candidate') as string;
    const other = Object.keys(r.drones).find((d) => r.drones[d] === 'baseline') as string;
    expect(ingestWindow(r, w({ droneId: canary }), undefined, 999)).toBe(false);
    expect(ingestWindow(r, w({ droneId: canary }), undefined, 1000)).toBe(true);
    expect(ingestWindow(r, w({ droneId: canary, policyVersion: 'b' }), undefined, 1000)).toBe(false);
    expect(ingestWindow(r, w({ droneId: other, policyVersion: 'b' }), undefined, 1000)).toBe(true);
    expect(ingestWindow(r, w({ droneId: other, policyVersion: 'x' }), undefined, 1000)).toBe(false);
    expect(r.samples.candidate.episodes).toBe(1);
    expect(r.samples.baseline.episodes).toBe(1);
  });

  it('gates shadow on would-be interventions against the baseline', () => {
    const r = start({ steps: [0.5, 1], shadowMinTicks: 100 }, ids(4));
    const shadowDrone = Object.keys(r.drones).find((d) => r.drones[d] === 'shadow') as string;
    const win = w({ droneId: shadowDrone, policyVersion: 'b', interventions: 2, policyTicks: 100 });
    ingestWindow(r, win, { policyVersion: 'c', ticks: 100, wouldBeInterventionTicks: 5, divergenceMeanMps: 0.1 }, 2000);
    expect(shadowVerdict(r).ok).toBe(true);
    ingestWindow(
      r,
      win,
      { policyVersion: 'c', ticks: 100, wouldBeInterventionTicks: 40, divergenceMeanMps: 0.3 },
      2000,
    );
    const v = shadowVerdict(r);
    expect(v.ok).toBe(false);
    expect(v.reason).toMatch(/200 shadow ticks, would-be interventions 22.5 % against 2.0 %/);
    expect(r.shadow.divergenceMeanMps).toBeCloseTo(0.2, 12);
  });

  it('drone actions: install first, switch only landed and disarmed, leave other versions alone', () => {
    const d = { id: 'x', online: true, landedDisarmed: true, active: 'b', candidate: null, shadow: null };
    expect(nextAction('candidate', d, 'c')).toEqual({ kind: 'install' });
    expect(nextAction('candidate', { ...d, candidate: 'c' }, 'c')).toEqual({ kind: 'activate' });
    expect(nextAction('candidate', { ...d, candidate: 'c', landedDisarmed: false }, 'c')).toBe('wait');
    expect(nextAction('candidate', { ...d, active: 'c' }, 'c')).toBe('settled');
    expect(nextAction('shadow', { ...d, candidate: 'c' }, 'c')).toEqual({ kind: 'shadow-on' });
    expect(nextAction('baseline', { ...d, shadow: 'c' }, 'c')).toEqual({ kind: 'shadow-off' });
    expect(nextAction('baseline', { ...d, active: 'c', landedDisarmed: false }, 'c')).toBe('wait');
    expect(nextAction('baseline', { ...d, active: 'c' }, 'c')).toEqual({ kind: 'revert' });
    expect(nextAction('baseline', { ...d, active: 'z' }, 'c')).toBe('settled');
  });
});
