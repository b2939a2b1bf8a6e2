import { describe, expect, it } from 'vitest';
import {
  type HalfSpace3,
  maxViolation,
  projectOntoHalfSpaceSets,
  projectOntoHalfSpaces,
  QP_FEASIBILITY_TOLERANCE,
} from './qp.js';
import { seededRandom } from './test-support.js';

type V3 = [number, number, number];

const dist = (a: readonly number[], b: readonly number[]): number => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

/** Normalise rows so violations compare in one unit. */
const unit = (h: HalfSpace3): HalfSpace3 => {
  const len = Math.hypot(h.n, h.e, h.d);
  return { n: h.n / len, e: h.e / len, d: h.d / len, b: h.b / len };
};

/** Solve a small dense system (Gaussian elimination with partial pivoting); null when singular. */
function solveDense(m: number[][], rhs: number[]): number[] | null {
  const k = rhs.length;
  const a = m.map((row, i) => [...row, rhs[i]]);
  for (let c = 0; c < k; c++) {
    let piv = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(a[r][c]) > Math.abs(a[piv][c])) piv = r;
    if (Math.abs(a[piv][c]) < 1e-10) return null;
    [a[c], a[piv]] = [a[piv], a[c]];
    for (let r = 0; r < k; r++) {
      if (r === c) continue;
      const f = a[r][c] / a[c][c];
      for (let j = c; j <= k; j++) a[r][j] -= f * a[c][j];
    }
  }
  return a.map((row, i) => row[k] / row[i]);
}

/**
 * Exact oracle by enumeration: the projection onto a polyhedron is the projection onto the affine hull of one of
 * its faces, and in R^3 every face is cut out by at most three of the constraints. Try every subset of size <= 3,
 * keep the feasible candidates, return the nearest (null when none is feasible: the problem is infeasible).
 */
function bruteForce(target: V3, cons: readonly HalfSpace3[]): V3 | null {
  const rows = cons.map(unit);
  let best: V3 | null = null;
  let bestD = Number.POSITIVE_INFINITY;
  const consider = (idx: number[]): void => {
    let x: V3 = [...target];
    if (idx.length > 0) {
      const gram = idx.map((i) =>
        idx.map((j) => rows[i].n * rows[j].n + rows[i].e * rows[j].e + rows[i].d * rows[j].d),
      );
      const rhs = idx.map((i) => rows[i].b - (rows[i].n * target[0] + rows[i].e * target[1] + rows[i].d * target[2]));
      const lam = solveDense(gram, rhs);
      if (!lam) return;
      x = [...target];
      idx.forEach((i, k) => {
        x[0] += lam[k] * rows[i].n;
        x[1] += lam[k] * rows[i].e;
        x[2] += lam[k] * rows[i].d;
      });
    }
    if (maxViolation(x, rows) > 1e-7) return;
    const dd = dist(x, target);
    if (dd < bestD) {
      bestD = dd;
      best = x;
    }
  };
  const m = rows.length;
  consider([]);
  for (let i = 0; i < m; i++) {
    consider([i]);
    for (let j = i + 1; j < m; j++) {
      consider([i, j]);
      for (let k = j + 1; k < m; k++) consider([i, j, k]);
    }
  }
  return best;
}

/** A random problem: a speed box plus random half-spaces, some passing near the target so they bind. */
function randomProblem(rand: () => number, count: number): { target: V3; cons: HalfSpace3[] } {
  const target: V3 = [(rand() - 0.5) * 30, (rand() - 0.5) * 30, (rand() - 0.5) * 8];
  const cons: HalfSpace3[] = [
    { n: 1, e: 0, d: 0, b: -12 },
    { n: -1, e: 0, d: 0, b: -12 },
    { n: 0, e: 1, d: 0, b: -12 },
    { n: 0, e: -1, d: 0, b: -12 },
    { n: 0, e: 0, d: 1, b: -3 },
    { n: 0, e: 0, d: -1, b: -2 },
  ];
  for (let i = 0; i < count; i++) {
    // Mostly horizontal normals, as the barriers are, with some vertical and some fully 3-D.
    const kind = rand();
    const th = rand() * 2 * Math.PI;
    const ph = kind < 0.5 ? 0 : kind < 0.7 ? (rand() < 0.5 ? -1 : 1) * (Math.PI / 2) : (rand() - 0.5) * Math.PI;
    const a = { n: Math.cos(th) * Math.cos(ph), e: Math.sin(th) * Math.cos(ph), d: Math.sin(ph) };
    const scale = 0.5 + rand() * 2; // unnormalised rows must work too
    const b = (rand() - 0.75) * 12;
    cons.push({ n: a.n * scale, e: a.e * scale, d: a.d * scale, b: b * scale });
  }
  return { target, cons };
}

describe('projectOntoHalfSpaces', () => {
  it('returns the target untouched when it is feasible', () => {
    const r = projectOntoHalfSpaces([1, 2, 3], [{ n: 1, e: 0, d: 0, b: 0 }]);
    expect(r.status).toBe('optimal');
    expect(r.x).toEqual([1, 2, 3]);
    expect(r.iterations).toBe(0);
  });

  it('projects onto one plane, an edge and a vertex exactly', () => {
    const one = projectOntoHalfSpaces([-2, 5, 0], [{ n: 1, e: 0, d: 0, b: 0 }]);
    expect(one.x).toEqual([0, 5, 0]);
    const edge = projectOntoHalfSpaces(
      [-2, -3, 1],
      [
        { n: 1, e: 0, d: 0, b: 0 },
        { n: 0, e: 1, d: 0, b: 0 },
      ],
    );
    expect(edge.x).toEqual([0, 0, 1]);
    const vertex = projectOntoHalfSpaces(
      [-1, -1, -1],
      [
        { n: 1, e: 0, d: 0, b: 1 },
        { n: 0, e: 1, d: 0, b: 2 },
        { n: 0, e: 0, d: 1, b: 3 },
      ],
    );
    expect(vertex.x).toEqual([1, 2, 3]);
    expect([...vertex.active].sort()).toEqual([0, 1, 2]);
  });

  it('drops a constraint that stops binding (the dual step)', () => {
    // The most violated plane first pulls x where the second is violated; the final answer has only one active.
    const cons: HalfSpace3[] = [
      { n: 1, e: 1, d: 0, b: 2 },
      { n: 1, e: 0, d: 0, b: 0.5 },
    ];
    const r = projectOntoHalfSpaces([-3, 0, 0], cons);
    const oracle = bruteForce([-3, 0, 0], cons)!;
    expect(r.status).toBe('optimal');
    expect(dist(r.x, oracle)).toBeLessThan(1e-9);
  });

  it('reports infeasibility for contradictory constraints and for zero rows with positive offsets', () => {
    expect(
      projectOntoHalfSpaces(
        [0, 0, 0],
        [
          { n: 1, e: 0, d: 0, b: 1 },
          { n: -1, e: 0, d: 0, b: 1 },
        ],
      ).status,
    ).toBe('infeasible');
    expect(projectOntoHalfSpaces([0, 0, 0], [{ n: 0, e: 0, d: 0, b: 1 }]).status).toBe('infeasible');
    expect(projectOntoHalfSpaces([0, 0, 0], [{ n: 0, e: 0, d: 0, b: -1 }]).status).toBe('optimal');
    expect(projectOntoHalfSpaces([Number.NaN, 0, 0], []).status).toBe('infeasible');
    expect(projectOntoHalfSpaces([0, 0, 0], [{ n: Number.NaN, e: 0, d: 0, b: 0 }]).status).toBe('infeasible');
  });

  it('matches brute-force enumeration on hundreds of random problems, and no sampled feasible point is closer', () => {
    const rand = seededRandom(20240611);
    let optimal = 0;
    let infeasible = 0;
    let binding = 0;
    for (let trial = 0; trial < 400; trial++) {
      const { target, cons } = randomProblem(rand, 2 + Math.floor(rand() * 13));
      const r = projectOntoHalfSpaces(target, cons);
      const oracle = bruteForce(target, cons);
      expect(r.status).not.toBe('iteration_limit');
      if (oracle === null) {
        expect(r.status).toBe('infeasible');
        infeasible++;
        continue;
      }
      expect(r.status).toBe('optimal');
      optimal++;
      if (r.active.length > 0) binding++;
      expect(maxViolation(r.x, cons.map(unit))).toBeLessThanOrEqual(QP_FEASIBILITY_TOLERANCE * 10);
      const dQp = dist(r.x, target);
      expect(Math.abs(dQp - dist(oracle, target))).toBeLessThan(1e-7);
      expect(dist(r.x, oracle)).toBeLessThan(1e-5);
      // Random sampling: near the solution and across the box; nothing feasible may be nearer than the solution.
      const rows = cons.map(unit);
      for (let s = 0; s < 300; s++) {
        const near = s < 200;
        const spread = near ? 0.5 * (1 + dQp) : 30;
        const c = near ? r.x : [0, 0, 0];
        const y: V3 = [c[0] + (rand() - 0.5) * spread, c[1] + (rand() - 0.5) * spread, c[2] + (rand() - 0.5) * spread];
        if (maxViolation(y, rows) <= 0) expect(dist(y, target)).toBeGreaterThanOrEqual(dQp - 1e-9);
      }
    }
    // The random problems must exercise every path, or the comparison proves little.
    expect(optimal).toBeGreaterThan(150);
    expect(infeasible).toBeGreaterThan(10);
    expect(binding).toBeGreaterThan(100);
  });

  it('handles duplicated and nearly parallel constraints (degenerate active sets)', () => {
    const rand = seededRandom(7);
    for (let trial = 0; trial < 200; trial++) {
      const base = { n: rand() - 0.5, e: rand() - 0.5, d: (rand() - 0.5) * 0.2 };
      const cons: HalfSpace3[] = [];
      for (let i = 0; i < 6; i++) {
        const jitter = i % 2 === 0 ? 0 : 1e-9;
        cons.push({ n: base.n + jitter, e: base.e - jitter, d: base.d, b: 1 + (i % 3) * 1e-12 });
        cons.push({ n: -base.e, e: base.n, d: 0.1 * i, b: 0.5 });
      }
      const target: V3 = [(rand() - 0.5) * 10, (rand() - 0.5) * 10, (rand() - 0.5) * 10];
      const r = projectOntoHalfSpaces(target, cons);
      const oracle = bruteForce(target, cons);
      if (oracle === null) {
        expect(r.status).not.toBe('optimal');
        continue;
      }
      expect(r.status).toBe('optimal');
      expect(Math.abs(dist(r.x, target) - dist(oracle, target))).toBeLessThan(1e-6);
    }
  });

  it('answers each problem alike whatever it solved before (its buffers are reused and grow past 64 rows)', () => {
    const rand = seededRandom(11);
    const problem = ([m, bMax]: [number, number]): { target: V3; cons: HalfSpace3[] } => ({
      target: [(rand() - 0.5) * 20, (rand() - 0.5) * 20, (rand() - 0.5) * 6],
      cons: Array.from({ length: m }, () => ({
        n: rand() - 0.5,
        e: rand() - 0.5,
        d: rand() - 0.5,
        b: rand() * (bMax + 1.2) - 1.2,
      })),
    });
    // Offsets up to bMax: above 0 many rows contradict each other (infeasible), below 0 the origin is feasible.
    const sizes: [number, number][] = [
      [3, 0.4],
      [150, 0.4],
      [0, 0],
      [70, -0.05],
      [7, 0.4],
      [300, 0.4],
      [12, 0.4],
    ];
    const problems = sizes.map(problem);
    // In the 70-row one, the rows the target violates most come last, beyond the first buffers' 64.
    const slackAt = (h: HalfSpace3, x: V3) => h.n * x[0] + h.e * x[1] + h.d * x[2] - h.b;
    problems[3].cons.sort((p, q) => slackAt(q, problems[3].target) - slackAt(p, problems[3].target));
    const first = problems.map((p) => projectOntoHalfSpaces(p.target, p.cons));
    // The one past the first buffers' 64 rows is right, not only repeatable.
    const oracle = bruteForce(problems[3].target, problems[3].cons);
    expect(first[3].status).toBe('optimal');
    expect(first[3].iterations).toBeGreaterThan(0);
    expect(oracle).not.toBeNull();
    const gap = Math.abs(dist(first[3].x, problems[3].target) - dist(oracle ?? [0, 0, 0], problems[3].target));
    expect(gap).toBeLessThan(1e-6);
    expect(maxViolation(first[3].x, problems[3].cons)).toBeLessThan(1e-9);
    // Again in reverse order (the big problems have grown the buffers, the small ones run after them), and split in
    // two sets at every other row: the same answers, bit for bit.
    for (let i = problems.length - 1; i >= 0; i--) {
      const { target, cons } = problems[i];
      expect(projectOntoHalfSpaces(target, cons)).toEqual(first[i]);
      const cut = Math.floor(cons.length / 2);
      expect(projectOntoHalfSpaceSets(target, cons.slice(0, cut), cons.slice(cut))).toEqual(first[i]);
    }
    expect(first.filter((r) => r.status === 'optimal').length).toBeGreaterThan(2);
    expect(first.filter((r) => r.status === 'infeasible').length).toBeGreaterThan(0);
  });
});
