/**
 * Solver timings for the benchmark harness (test/bench): `assignment.100x100_ms` and `assignment.1000x1000_ms`, the
 * best of a few solves of a seeded random dense cost matrix (uniform in [0, 1)). Shaped as test/bench's
 * `Benchmark` so the harness can list it as is.
 */
import { createRng } from '../../shared/random/index.js';
import { solveAssignment } from './lap.js';

export interface AssignmentFigure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly note: string;
}

/** A seeded n x m matrix of uniform [0, 1) costs, row-major. */
export function randomDenseCosts(rows: number, cols: number, seed: number): Float64Array {
  const rng = createRng(seed);
  const cost = new Float64Array(rows * cols);
  for (let k = 0; k < cost.length; k++) cost[k] = rng.next();
  return cost;
}

/** Best-of-`repeats` wall time (ms) of solving one seeded random n x n problem, after one warm-up solve. */
export function timeSolverMs(n: number, repeats: number, seed = 1): number {
  const cost = randomDenseCosts(n, n, seed);
  solveAssignment(cost, n, n);
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < repeats; r++) {
    const t0 = process.hrtime.bigint();
    solveAssignment(cost, n, n);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return best;
}

export const assignmentBenchmark = {
  name: 'assignment',
  figures: ['assignment.100x100_ms', 'assignment.1000x1000_ms'] as const,
  async run(): Promise<AssignmentFigure[]> {
    return [
      {
        name: 'assignment.100x100_ms',
        value: timeSolverMs(100, 20),
        unit: 'ms',
        note: 'best of 20; dense uniform costs',
      },
      {
        name: 'assignment.1000x1000_ms',
        value: timeSolverMs(1000, 3),
        unit: 'ms',
        note: 'best of 3; dense uniform costs; goal well under 1000',
      },
    ];
  },
};
