import { describe, expect, it } from 'vitest';
import { createRng } from '../../../shared/random/index.js';
import {
  addMoment,
  emptyMoments,
  mixtureHalfWidth,
  momentMean,
  momentVariance,
  normalQuantile,
  proportionDifferenceCi,
  tQuantile,
  welchCi,
} from './stats.js';

describe('quantiles', () => {
  it('match the tables', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0.01)).toBeCloseTo(-2.326348, 5);
    expect(normalQuantile(0.999)).toBeCloseTo(3.090232, 5);
    // Student t, two-sided 95 %: 12.706 (1), 4.303 (2), 3.182 (3), 2.571 (5), 2.228 (10), 2.042 (30).
    const table: [number, number][] = [
      [1, 12.706],
      [2, 4.303],
      [3, 3.182],
      [5, 2.571],
      [10, 2.228],
      [30, 2.042],
    ];
    for (const [df, t] of table) expect(Math.abs(tQuantile(0.975, df) - t) / t).toBeLessThan(0.005);
  });
});

describe('moments', () => {
  it('give the sample mean and unbiased variance', () => {
    const m = emptyMoments();
    for (const x of [2, 4, 4, 4, 5, 5, 7, 9]) addMoment(m, x);
    expect(momentMean(m)).toBe(5);
    expect(momentVariance(m)).toBeCloseTo(32 / 7, 12);
    expect(Number.isNaN(momentVariance({ n: 1, sum: 3, sumSq: 9 }))).toBe(true);
  });
});

describe('mixture confidence sequence', () => {
  it('narrows with the variance and widens as alpha shrinks', () => {
    expect(mixtureHalfWidth(0.01, 0.1, 0.01)).toBeGreaterThan(mixtureHalfWidth(0.001, 0.1, 0.01));
    expect(mixtureHalfWidth(0.01, 0.1, 0.001)).toBeGreaterThan(mixtureHalfWidth(0.01, 0.1, 0.01));
    expect(mixtureHalfWidth(0, 0.1, 0.01)).toBe(0);
    // Always wider than the fixed-sample interval at the same level.
    expect(mixtureHalfWidth(0.01, 0.1, 0.05)).toBeGreaterThan(1.96 * 0.1);
  });

  it('covers a running mean at every look with probability >= 1 - alpha (seeded streams)', () => {
    const rng = createRng(42);
    const runs = 2000;
    let escaped = 0;
    for (let r = 0; r < runs; r++) {
      let sum = 0;
      for (let n = 1; n <= 400; n++) {
        sum += rng.normal();
        if (Math.abs(sum / n) > mixtureHalfWidth(1 / n, 0.3, 0.05)) {
          escaped++;
          break;
        }
      }
    }
    expect(escaped / runs).toBeLessThan(0.05);
    // ...while looking at a fixed 95 % interval after every sample escapes far more often.
    let naive = 0;
    for (let r = 0; r < 500; r++) {
      let sum = 0;
      for (let n = 1; n <= 400; n++) {
        sum += rng.normal();
        if (Math.abs(sum / n) > 1.96 / Math.sqrt(n)) {
          naive++;
          break;
        }
      }
    }
    expect(naive / 500).toBeGreaterThan(0.2);
  });
});

describe('fixed-sample intervals', () => {
  it('cover the true difference of proportions about 95 % of the time', () => {
    const rng = createRng(7);
    let covered = 0;
    const runs = 2000;
    for (let r = 0; r < runs; r++) {
      let a = 0;
      let b = 0;
      for (let k = 0; k < 60; k++) if (rng.next() < 0.9) a++;
      for (let k = 0; k < 200; k++) if (rng.next() < 0.8) b++;
      const ci = proportionDifferenceCi(a, 60, b, 200);
      if (ci.lo <= 0.1 && 0.1 <= ci.hi) covered++;
    }
    expect(covered / runs).toBeGreaterThan(0.93);
    expect(covered / runs).toBeLessThan(0.975);
  });

  it('Welch covers the difference of means with unequal variances about 95 % of the time', () => {
    const rng = createRng(8);
    let covered = 0;
    const runs = 2000;
    for (let r = 0; r < runs; r++) {
      const a = emptyMoments();
      const b = emptyMoments();
      for (let k = 0; k < 8; k++) addMoment(a, 1 + 3 * rng.normal());
      for (let k = 0; k < 40; k++) addMoment(b, 0.5 * rng.normal());
      const ci = welchCi(a, b);
      if (ci && ci.lo <= 1 && 1 <= ci.hi) covered++;
    }
    expect(covered / runs).toBeGreaterThan(0.93);
    expect(covered / runs).toBeLessThan(0.97);
    expect(welchCi({ n: 1, sum: 1, sumSq: 1 }, emptyMoments())).toBeNull();
  });
});
