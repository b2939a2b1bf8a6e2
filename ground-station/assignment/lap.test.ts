import { describe, expect, it } from 'vitest';
import { isAerieError } from '../../shared/errors.js';
import { createRng, type Rng } from '../../shared/random/index.js';
import { type LapSolution, solveAssignment } from './lap.js';

/** Exhaustive optimum: the most finite pairs, then the least cost (every partial injection of rows into columns). */
function bruteForce(cost: ArrayLike<number>, rows: number, cols: number): { assigned: number; totalCost: number } {
  let best = { assigned: 0, totalCost: 0 };
  const used = new Uint8Array(cols);
  const visit = (i: number, assigned: number, total: number): void => {
    if (i === rows) {
      if (assigned > best.assigned || (assigned === best.assigned && total < best.totalCost)) {
        best = { assigned, totalCost: total };
      }
      return;
    }
    visit(i + 1, assigned, total);
    for (let j = 0; j < cols; j++) {
      const c = cost[i * cols + j];
      if (used[j] || !Number.isFinite(c)) continue;
      used[j] = 1;
      visit(i + 1, assigned + 1, total + c);
      used[j] = 0;
    }
  };
  visit(0, 0, 0);
  return best;
}

/** Minimum over all permutations of a square fully finite matrix. */
function bestPermutation(cost: ArrayLike<number>, n: number): number {
  let best = Number.POSITIVE_INFINITY;
  const perm = Array.from({ length: n }, (_, k) => k);
  const permute = (k: number): void => {
    if (k === n) {
      let s = 0;
      for (let i = 0; i < n; i++) s += cost[i * n + perm[i]];
      best = Math.min(best, s);
      return;
    }
    for (let t = k; t < n; t++) {
      [perm[k], perm[t]] = [perm[t], perm[k]];
      permute(k + 1);
      [perm[k], perm[t]] = [perm[t], perm[k]];
    }
  };
  permute(0);
  return best;
}

/** Maximum bipartite matching size over finite entries (Kuhn), an independent check of cardinality. */
function maxMatching(cost: ArrayLike<number>, rows: number, cols: number): number {
  const owner = new Int32Array(cols).fill(-1);
  const tryRow = (i: number, seen: Uint8Array): boolean => {
    for (let j = 0; j < cols; j++) {
      if (seen[j] || !Number.isFinite(cost[i * cols + j])) continue;
      seen[j] = 1;
      if (owner[j] === -1 || tryRow(owner[j], seen)) {
        owner[j] = i;
        return true;
      }
    }
    return false;
  };
  let size = 0;
  for (let i = 0; i < rows; i++) if (tryRow(i, new Uint8Array(cols))) size++;
  return size;
}

/** The solution is a matching over finite entries and its reported total is the sum of those entries. */
function expectConsistent(sol: LapSolution, cost: ArrayLike<number>, rows: number, cols: number): void {
  let count = 0;
  let total = 0;
  for (let i = 0; i < rows; i++) {
    const j = sol.rowToCol[i];
    if (j === -1) continue;
    expect(sol.colToRow[j]).toBe(i);
    expect(Number.isFinite(cost[i * cols + j])).toBe(true);
    count++;
    total += cost[i * cols + j];
  }
  for (let j = 0; j < cols; j++) if (sol.colToRow[j] !== -1) expect(sol.rowToCol[sol.colToRow[j]]).toBe(j);
  expect(sol.assigned).toBe(count);
  expect(sol.totalCost).toBeCloseTo(total, 9);
}

function randomMatrix(rng: Rng, rows: number, cols: number, forbiddenShare: number, integer: boolean): Float64Array {
  const cost = new Float64Array(rows * cols);
  for (let k = 0; k < cost.length; k++) {
    if (rng.next() < forbiddenShare) cost[k] = Number.POSITIVE_INFINITY;
    else cost[k] = integer ? rng.int(21) - 5 : rng.next() * 1000;
  }
  return cost;
}

describe('solveAssignment', () => {
  it('matches all-permutations brute force on square finite matrices up to 7x7', () => {
    const rng = createRng(11);
    for (let t = 0; t < 150; t++) {
      const n = 1 + rng.int(7);
      const cost = randomMatrix(rng, n, n, 0, t % 2 === 0);
      const sol = solveAssignment(cost, n, n);
      expectConsistent(sol, cost, n, n);
      expect(sol.assigned).toBe(n);
      expect(sol.totalCost).toBeCloseTo(bestPermutation(cost, n), 6);
    }
  });

  it('matches brute force on rectangular matrices both ways with forbidden pairs', () => {
    const rng = createRng(12);
    let wide = 0;
    let tall = 0;
    let someLeftOut = 0;
    for (let t = 0; t < 500; t++) {
      const rows = 1 + rng.int(7);
      const cols = 1 + rng.int(7);
      if (rows < cols) wide++;
      if (rows > cols) tall++;
      const cost = randomMatrix(rng, rows, cols, rng.next() * 0.7, t % 3 === 0);
      const sol = solveAssignment(cost, rows, cols);
      expectConsistent(sol, cost, rows, cols);
      const best = bruteForce(cost, rows, cols);
      expect(sol.assigned).toBe(best.assigned);
      expect(sol.totalCost).toBeCloseTo(best.totalCost, 6);
      if (sol.assigned < Math.min(rows, cols)) someLeftOut++;
    }
    // The random cases did cover every shape and the forbidden-pair fallback.
    expect(wide).toBeGreaterThan(50);
    expect(tall).toBeGreaterThan(50);
    expect(someLeftOut).toBeGreaterThan(20);
  });

  it('prefers one more pair over a cheaper smaller assignment (cardinality first)', () => {
    // Row 0 may use only column 0 (cost 100); row 1 may use columns 0 (cost 1) or 1 (cost 50).
    const inf = Number.POSITIVE_INFINITY;
    const sol = solveAssignment([100, inf, 1, 50], 2, 2);
    expect(Array.from(sol.rowToCol)).toEqual([0, 1]);
    expect(sol.totalCost).toBe(150);
  });

  it('never assigns a forbidden pair and reaches maximum cardinality on a large sparse problem', () => {
    const rng = createRng(13);
    for (const [rows, cols] of [
      [120, 90],
      [90, 120],
      [100, 100],
    ]) {
      const cost = randomMatrix(rng, rows, cols, 0.985, false);
      const sol = solveAssignment(cost, rows, cols);
      expectConsistent(sol, cost, rows, cols);
      expect(sol.assigned).toBe(maxMatching(cost, rows, cols));
      expect(sol.assigned).toBeLessThan(Math.min(rows, cols));
    }
  });

  it('keeps the internal unassigned price out of results, whatever the cost scale', () => {
    const inf = Number.POSITIVE_INFINITY;
    // A row with nothing feasible among huge and tiny costs.
    const cost = [inf, inf, inf, 1e9, 2e9, inf, 1e-6, inf, 3e-6];
    const sol = solveAssignment(cost, 3, 3);
    expect(Array.from(sol.rowToCol)).toEqual([-1, 0, 2]);
    expect(sol.totalCost).toBe(1e9 + 3e-6);
  });

  it('is locally optimal on a mid-size rectangular problem: no swap or move to a free column helps', () => {
    const rng = createRng(14);
    const rows = 60;
    const cols = 45;
    const cost = randomMatrix(rng, rows, cols, 0.3, false);
    const sol = solveAssignment(cost, rows, cols);
    expectConsistent(sol, cost, rows, cols);
    const at = (i: number, j: number) => cost[i * cols + j];
    for (let a = 0; a < rows; a++) {
      const ja = sol.rowToCol[a];
      for (let b = 0; b < rows; b++) {
        const jb = sol.rowToCol[b];
        if (a === b || ja < 0 || jb < 0) continue;
        expect(at(a, jb) + at(b, ja)).toBeGreaterThanOrEqual(at(a, ja) + at(b, jb) - 1e-9);
      }
      for (let j = 0; j < cols; j++) {
        if (ja >= 0 && sol.colToRow[j] === -1) expect(at(a, j)).toBeGreaterThanOrEqual(at(a, ja) - 1e-9);
      }
    }
  });

  it('treats NaN as forbidden, refuses -Infinity and a wrong size, and handles empty sides', () => {
    const sol = solveAssignment([Number.NaN, 2, 3, Number.NaN], 2, 2);
    expect(Array.from(sol.rowToCol)).toEqual([1, 0]);
    expect(() => solveAssignment([1, Number.NEGATIVE_INFINITY], 1, 2)).toThrow(/-Infinity/);
    try {
      solveAssignment([1, 2, 3], 2, 2);
      expect.unreachable();
    } catch (err) {
      expect(isAerieError(err, 'ASSIGNMENT_INPUT_INVALID')).toBe(true);
    }
    expect(solveAssignment([], 0, 5).colToRow).toEqual(new Int32Array(5).fill(-1));
    expect(solveAssignment([], 3, 0).assigned).toBe(0);
    expect(solveAssignment([Number.POSITIVE_INFINITY, Number.NaN], 2, 1).assigned).toBe(0);
  });

  it('is deterministic, ties included', () => {
    const cost = new Float64Array(40 * 30).fill(1); // every assignment ties
    const a = solveAssignment(cost, 40, 30);
    const b = solveAssignment(Float64Array.from(cost), 40, 30);
    expect(Array.from(a.rowToCol)).toEqual(Array.from(b.rowToCol));
    expect(a.assigned).toBe(30);
  });
});
