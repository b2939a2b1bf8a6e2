import { describe, expect, it } from 'vitest';
import { assignmentBenchmark, randomDenseCosts, timeSolverMs } from './bench.js';

describe('assignment benchmark', () => {
  it('uses a seeded matrix and names the figures the harness expects', () => {
    expect(randomDenseCosts(20, 30, 7)).toEqual(randomDenseCosts(20, 30, 7));
    expect(randomDenseCosts(20, 30, 7)).not.toEqual(randomDenseCosts(20, 30, 8));
    expect(assignmentBenchmark.figures).toEqual(['assignment.100x100_ms', 'assignment.1000x1000_ms']);
    const ms = timeSolverMs(50, 2);
    expect(Number.isFinite(ms) && ms > 0).toBe(true);
  });
});
