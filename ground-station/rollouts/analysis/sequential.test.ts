import { describe, expect, it } from 'vitest';
import { createRng } from '../../../shared/random/index.js';
import { addWindow, emptySample, type MetricsWindow, summarise, windowFromMetrics } from './sample.js';
import { analyse, DEFAULT_ANALYSIS_CONFIG } from './sequential.js';
import { BASELINE_MODEL, DEGRADED_MODEL, simulateCanary, simulatePlan, simulateWindow } from './simulate.js';

const window = (over: Partial<MetricsWindow> = {}): MetricsWindow => ({
  droneId: 'd1',
  policyVersion: 'v',
  timeMs: 1000,
  episodes: 1,
  successes: 1,
  returnSum: 10,
  ticks: 600,
  policyTicks: 600,
  interventions: 12,
  violations: 0,
  policyFaults: 0,
  ...over,
});

function samples(rngSeed: number, nCand: number, nBase: number, cand = BASELINE_MODEL, base = BASELINE_MODEL) {
  const rng = createRng(rngSeed);
  const c = emptySample();
  const b = emptySample();
  for (let k = 0; k < nCand; k++) addWindow(c, simulateWindow(rng, cand, `c${k % 2}`, 'c', k * 1000));
  for (let k = 0; k < nBase; k++) addWindow(b, simulateWindow(rng, base, `b${k % 8}`, 'b', k * 1000));
  return { c, b };
}

describe('version samples', () => {
  it('sum windows, keep per-episode moments and fault streaks per drone', () => {
    const s = emptySample();
    addWindow(s, window({ policyFaults: 1 }));
    addWindow(s, window({ droneId: 'd2', policyFaults: 1 }));
    addWindow(s, window({ policyFaults: 2, episodes: 0, successes: 0, returnSum: 0.5 }));
    addWindow(s, window({ droneId: 'd2', policyTicks: 0, interventions: 0 }));
    expect(s.faultStreaks).toEqual({ d1: 2, d2: 0 });
    expect(s.maxFaultStreak).toBe(2);
    // Spans ending with an episode: d1's first window, d2's first, d2's second (d1's second window is still open);
    // d2's second span flew no policy tick, so it has no intervention rate.
    expect(s.returnPerEpisode.n).toBe(3);
    expect(s.interventionsPerTick.n).toBe(2);
    expect(s.open).toEqual({ d1: { returnSum: 0.5, interventions: 12, policyTicks: 600 } });
    expect(summarise(s)).toEqual({
      episodes: 3,
      successRate: 1,
      meanReturn: 30.5 / 3,
      interventionsPerTick: 36 / 1800,
      violations: 0,
      policyFaults: 4,
    });
    expect(summarise(emptySample()).successRate).toBeNull();
  });

  it('sum an episode over the windows it spanned: its return and its intervention rate', () => {
    const s = emptySample();
    // One flight in three windows: rewards and ticks accrue, the episode ends in the last.
    addWindow(s, window({ episodes: 0, successes: 0, returnSum: 4, interventions: 30, policyTicks: 100 }));
    addWindow(s, window({ episodes: 0, successes: 0, returnSum: 5, interventions: 0, policyTicks: 100 }));
    addWindow(s, window({ episodes: 1, successes: 1, returnSum: 1, interventions: 0, policyTicks: 100 }));
    expect(s.returnPerEpisode).toEqual({ n: 1, sum: 10, sumSq: 100 });
    expect(s.interventionsPerTick).toEqual({ n: 1, sum: 0.1, sumSq: 0.1 * 0.1 });
    expect(s.open).toEqual({});
    expect(summarise(s).meanReturn).toBe(10);
  });

  it('fold a protocol metrics message, interventions summed over layers', () => {
    const w = windowFromMetrics({
      id: 'd9',
      timeMs: 5,
      episodes: 2,
      successes: 1,
      returnSum: 3,
      ticks: 100,
      policyTicks: 90,
      interventionsByLayer: { box: 2, barrier: 3 },
      violations: 0,
      policyFaults: 0,
      policyVersion: 'abc',
    });
    expect(w).toMatchObject({ droneId: 'd9', policyVersion: 'abc', interventions: 5, policyTicks: 90 });
  });
});

describe('canary analysis', () => {
  it('holds below the minimum sample count, even on a poor start', () => {
    const c = emptySample();
    const b = emptySample();
    for (let k = 0; k < 5; k++) addWindow(c, window({ successes: 0, returnSum: -5 }));
    for (let k = 0; k < 40; k++) addWindow(b, window({ droneId: `b${k}` }));
    const a = analyse(c, b);
    expect(a.decision).toBe('hold');
    expect(a.reasons[0]).toMatch(/minimum sample: 5\/10/);
  });

  it('rolls back at once on a violation-rate increase or a policy-fault streak', () => {
    const b = emptySample();
    for (let k = 0; k < 40; k++) addWindow(b, window({ droneId: `b${k}` }));
    const v = emptySample();
    addWindow(v, window({ violations: 1 }));
    expect(analyse(v, b)).toMatchObject({ decision: 'rollback' });
    expect(analyse(v, b).reasons[0]).toMatch(/violation rate up/);
    const f = emptySample();
    for (let k = 0; k < 3; k++) addWindow(f, window({ policyFaults: 1 }));
    expect(analyse(f, b).decision).toBe('rollback');
    expect(analyse(f, b).reasons[0]).toMatch(/3 consecutive windows/);
    // Faults spread over drones with clean windows between are not a streak.
    const g = emptySample();
    for (let k = 0; k < 3; k++) addWindow(g, window({ droneId: `g${k}`, policyFaults: 1 }));
    expect(analyse(g, b).decision).not.toBe('rollback');
  });

  it('rolls back a known degradation and says which metrics are worse', () => {
    const { c, b } = samples(3, 30, 120, DEGRADED_MODEL);
    const a = analyse(c, b);
    expect(a.decision).toBe('rollback');
    expect(a.tests.find((t) => t.metric === 'interventions_per_tick')?.worse).toBe(true);
    expect(a.reasons.join(' ')).toMatch(/interventions_per_tick worse/);
  });

  it('promotes an identical candidate once the sample is large enough, with effects around zero', () => {
    const { c, b } = samples(4, 200, 800);
    const a = analyse(c, b);
    expect(a.decision).toBe('promote');
    for (const e of a.effects) {
      expect(e.ci95[0]).toBeLessThan(0);
      expect(e.ci95[1]).toBeGreaterThan(0);
    }
    expect(a.effects.map((e) => e.metric).sort()).toEqual(['interventions_per_tick', 'mean_return', 'success_rate']);
  });

  it('promotes a better candidate (fewer interventions, more successes)', () => {
    const better = { ...BASELINE_MODEL, successRate: 0.99, interventionsPerTick: 0.01 };
    const { c, b } = samples(5, 60, 240, better);
    expect(analyse(c, b).decision).toBe('promote');
  });

  it('A/B effects: the 95 % interval of each metric holds the true difference', () => {
    const cand = { ...BASELINE_MODEL, successRate: 0.85, interventionsPerTick: 0.03 };
    const { c, b } = samples(6, 400, 400, cand);
    const a = analyse(c, b);
    const eff = Object.fromEntries(a.effects.map((e) => [e.metric, e.ci95]));
    expect(eff.success_rate[0]).toBeLessThan(-0.1);
    expect(eff.success_rate[1]).toBeGreaterThan(-0.1);
    expect(eff.interventions_per_tick[0]).toBeLessThan(0.01);
    expect(eff.interventions_per_tick[1]).toBeGreaterThan(0.01);
    // Mean return: 0.85 * 10 + 0.15 * -5 - (0.95 * 10 + 0.05 * -5) = -1.5.
    expect(eff.mean_return[0]).toBeLessThan(-1.5);
    expect(eff.mean_return[1]).toBeGreaterThan(-1.5);
  });

  it('error rates on seeded streams: a known degradation is caught within 30 episodes, an identical candidate is rarely rolled back', () => {
    const runs = 200;
    let caught = 0;
    let episodes = 0;
    for (let r = 0; r < runs; r++) {
      const run = simulateCanary(createRng(100 + r), {
        drones: 10,
        share: 0.2,
        baseline: BASELINE_MODEL,
        candidate: DEGRADED_MODEL,
        maxCandidateEpisodes: 200,
      });
      if (run.decision === 'rollback') {
        caught++;
        episodes += run.candidateEpisodes;
      }
    }
    expect(caught).toBe(runs);
    expect(episodes / caught).toBeLessThanOrEqual(30);
    expect(episodes / caught).toBeGreaterThanOrEqual(DEFAULT_ANALYSIS_CONFIG.minEpisodes);

    let falseRollbacks = 0;
    let completed = 0;
    for (let r = 0; r < 1000; r++) {
      const run = simulatePlan(createRng(10_000 + r), {
        drones: 10,
        steps: [0.2, 0.5, 1],
        baseline: BASELINE_MODEL,
        candidate: BASELINE_MODEL,
        maxCandidateEpisodes: 300,
      });
      if (run.outcome === 'rolled-back') falseRollbacks++;
      if (run.outcome === 'completed') completed++;
    }
    expect(falseRollbacks / 1000).toBeLessThanOrEqual(0.01);
    expect(completed / 1000).toBeGreaterThan(0.95);
  });

  it('a looser alpha rolls back identical candidates more often (the test is not blind to alpha)', () => {
    let strict = 0;
    let loose = 0;
    for (let r = 0; r < 400; r++) {
      const s = {
        drones: 10,
        share: 0.3,
        baseline: BASELINE_MODEL,
        candidate: BASELINE_MODEL,
        maxCandidateEpisodes: 150,
      };
      if (simulateCanary(createRng(r), s).decision === 'rollback') strict++;
      const cfg = { ...DEFAULT_ANALYSIS_CONFIG, alpha: 0.5, minEpisodes: 3, minWindows: 3, minBaselineEpisodes: 3 };
      if (simulateCanary(createRng(r), { ...s, config: cfg }).decision === 'rollback') loose++;
    }
    expect(loose).toBeGreaterThan(strict);
  });
});
