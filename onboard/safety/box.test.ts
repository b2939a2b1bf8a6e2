import { describe, expect, it } from 'vitest';
import { applyBox, limitRate, limitSpeed, withinSpeedLimits } from './box.js';
import { DEFAULT_SAFETY_CONFIG } from './config.js';
import { seededRandom } from './test-support.js';
import type { Intervention } from './types.js';

const cfg = {
  ...DEFAULT_SAFETY_CONFIG,
  maxAxisSpeedMS: 10,
  maxHorizontalSpeedMS: 12,
  maxClimbSpeedMS: 3,
  maxDescentSpeedMS: 2,
};

describe('box layer', () => {
  it('limits each axis, then the horizontal norm keeping its direction, then climb and descent apart', () => {
    const out: Intervention[] = [];
    expect(limitSpeed({ n: 11, e: 0, d: 0 }, cfg, out)).toEqual({ n: 10, e: 0, d: 0 });
    const diag = limitSpeed({ n: 10, e: 10, d: 0 }, cfg);
    expect(Math.hypot(diag.n, diag.e)).toBeCloseTo(12, 12);
    expect(diag.n).toBeCloseTo(diag.e, 12);
    expect(limitSpeed({ n: 0, e: 0, d: -5 }, cfg).d).toBe(-3);
    expect(limitSpeed({ n: 0, e: 0, d: 5 }, cfg).d).toBe(2);
    expect(limitSpeed({ n: Number.NaN, e: 0, d: 0 }, cfg)).toEqual({ n: 0, e: 0, d: 0 });
    expect(out.map((o) => o.reason)).toEqual(['axis_speed_limit']);
  });

  it('rate limits the horizontal change by norm and the vertical change apart', () => {
    const r = limitRate({ n: 10, e: 10, d: 2 }, { n: 0, e: 0, d: 0 }, 0.02, {
      maxHorizontalAccelMS2: 5,
      maxVerticalAccelMS2: 2,
    });
    expect(Math.hypot(r.n, r.e)).toBeCloseTo(0.1, 12);
    expect(r.d).toBeCloseTo(0.04, 12);
  });

  it('keeps random setpoints inside the limits and within the rate of the previous one', () => {
    const rand = seededRandom(3);
    let prev = { n: 0, e: 0, d: 0 };
    for (let k = 0; k < 2000; k++) {
      const v = { n: (rand() - 0.5) * 60, e: (rand() - 0.5) * 60, d: (rand() - 0.5) * 20 };
      const { velocityNedMS: out } = applyBox(v, prev, 0.02, cfg, true);
      expect(withinSpeedLimits(out, cfg)).toBe(true);
      expect(Math.hypot(out.n - prev.n, out.e - prev.e)).toBeLessThanOrEqual(cfg.maxHorizontalAccelMS2 * 0.02 + 1e-12);
      expect(Math.abs(out.d - prev.d)).toBeLessThanOrEqual(cfg.maxVerticalAccelMS2 * 0.02 + 1e-12);
      prev = out;
    }
  });

  it('skips the rate limit when asked (a brake is not smoothed)', () => {
    expect(applyBox({ n: 0, e: 0, d: 0 }, { n: 12, e: 0, d: 0 }, 0.02, cfg, false).velocityNedMS).toEqual({
      n: 0,
      e: 0,
      d: 0,
    });
  });
});
