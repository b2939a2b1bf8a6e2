import { describe, expect, it } from 'vitest';
import { measureRollouts, rolloutBenchmark } from './bench.js';

describe('rollout benchmark', () => {
  it('names its figures and measures both goals on a small seeded run', () => {
    expect(rolloutBenchmark.figures).toContain('rollout.episodes_to_rollback');
    expect(rolloutBenchmark.figures).toContain('rollout.false_rollback_rate');
    const r = measureRollouts({ degradedRuns: 100, identicalRuns: 300, seed: 3 });
    expect(r).toEqual(measureRollouts({ degradedRuns: 100, identicalRuns: 300, seed: 3 }));
    expect(r.missedRollbacks).toBe(0);
    expect(r.meanEpisodesToRollback).toBeLessThanOrEqual(30);
    expect(r.falseRollbackRate).toBeLessThanOrEqual(0.01);
    expect(r.completedRate).toBeGreaterThan(0.9);
  });
});
