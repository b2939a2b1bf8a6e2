import { describe, expect, it } from 'vitest';
import { cellOpenCircuitVoltageV, packCurrentA } from './index.js';

describe('battery model', () => {
  it('spans 4.2 V full to 3.3 V empty per cell and never rises as charge falls', () => {
    expect(4 * cellOpenCircuitVoltageV(1)).toBeCloseTo(16.8, 12);
    expect(4 * cellOpenCircuitVoltageV(0)).toBeCloseTo(13.2, 12);
    expect(cellOpenCircuitVoltageV(1.5)).toBe(cellOpenCircuitVoltageV(1));
    expect(cellOpenCircuitVoltageV(-0.2)).toBe(cellOpenCircuitVoltageV(0));
    let prev = Number.POSITIVE_INFINITY;
    for (let soc = 1; soc >= 0; soc -= 0.001) {
      const v = cellOpenCircuitVoltageV(soc);
      expect(v).toBeLessThanOrEqual(prev);
      prev = v;
    }
    // The plateau: half charge sits around 3.8 V.
    expect(cellOpenCircuitVoltageV(0.5)).toBeGreaterThan(3.75);
    expect(cellOpenCircuitVoltageV(0.5)).toBeLessThan(3.85);
  });

  it('draws the current that delivers the power through the internal resistance', () => {
    const ocv = 16;
    const r = 0.03;
    for (const powerW of [1, 180, 400, 1500]) {
      const i = packCurrentA(ocv, r, powerW);
      expect((ocv - i * r) * i).toBeCloseTo(powerW, 6);
    }
    expect(packCurrentA(ocv, r, 0)).toBe(0);
    expect(packCurrentA(ocv, 0, 160)).toBe(10);
  });

  it('caps a demand beyond the pack at its maximum-power point', () => {
    const ocv = 16;
    const r = 0.5; // can deliver at most V^2 / 4R = 128 W
    expect(packCurrentA(ocv, r, 1000)).toBe(16);
    expect(packCurrentA(ocv, r, 127)).toBeLessThan(16);
  });
});
